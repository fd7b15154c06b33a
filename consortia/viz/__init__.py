"""Briefing visuals (offline network page, chain maps, overlap view); they arrive with issue #5."""
