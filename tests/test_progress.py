"""The status line a long command keeps on a terminal, and only there."""

from __future__ import annotations

import io
import json

from click.testing import CliRunner

from consortia import progress
from consortia.cli import main
from consortia.demo import AS_OF, demo_tables
from consortia.generate import write_csv
from consortia.loaders import load_registry
from consortia.rules.engine import COMMON, RULES, run_checks
from consortia.rules.rulebook import load_rulebooks

WIPE = "\r\x1b[K"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_one_line_rewritten_per_step_and_wiped_at_the_end(monkeypatch):
    monkeypatch.delenv("CONSORTIA_NO_PROGRESS", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    term = _Terminal()
    with progress.on_terminal(term):
        progress.step("reading units.csv")
        progress.step("rule " + "X" * 200)  # longer than the terminal (80 when it does not say)
        progress.clear()
        progress.clear()  # nothing shown: nothing to wipe
        progress.step("writing")
    assert term.getvalue() == (WIPE + "… reading units.csv" + WIPE + ("… rule " + "X" * 200)[:79] + WIPE
                               + WIPE + "… writing" + WIPE)
    progress.step("after the block")  # nobody listens any more
    assert term.getvalue().endswith("… writing" + WIPE)


def test_pipes_files_and_opted_out_terminals_see_nothing(monkeypatch):
    pipe = io.StringIO()
    with progress.on_terminal(pipe):
        progress.step("reading units.csv")
    assert pipe.getvalue() == ""
    monkeypatch.setenv("CONSORTIA_NO_PROGRESS", "1")
    term = _Terminal()
    with progress.on_terminal(term):
        progress.step("reading units.csv")
    assert term.getvalue() == ""


def test_loading_and_checking_report_each_file_and_rule_then_clear(tmp_path):
    write_csv(demo_tables(), tmp_path)
    books = load_rulebooks()
    seen: list[str | None] = []
    with progress.reporting(seen.append):
        registry = load_registry(tmp_path, books)
        loaded = len(seen)
        run_checks(registry, books, AS_OF)
    load_steps, rule_steps = seen[:loaded], seen[loaded:]
    assert [s for s in load_steps if s and s.startswith("reading ")] == [
        f"reading {p.name} ({p.stat().st_size / 1e6:,.1f} MB)" for p in sorted(tmp_path.glob("*.csv"))]
    assert load_steps[-1] is None  # wiped when loading ends, before anything is printed
    ran = [s.split()[1] for s in rule_steps if s and s.startswith("rule ")]
    assert ran == ([r for r in RULES if any(r in b.rules for b in books.values())]
                   + [r for r in COMMON if r in books.common])
    assert len(ran) == len(set(ran)) >= 30
    assert rule_steps[0] == f"rule {ran[0]} (1/{len(ran)})" and rule_steps[-3] == f"rule {ran[-1]} ({len(ran)}/{len(ran)})"
    assert rule_steps[-1] is None and rule_steps[-2].startswith("sorting ")


def test_the_command_line_writes_no_status_when_stderr_is_not_a_terminal(tmp_path):
    write_csv(demo_tables(), tmp_path / "reg")
    r = CliRunner().invoke(main, ["check", str(tmp_path / "reg"), "--as-of", AS_OF, "--format", "json"])
    assert r.exit_code in (0, 1), r.stderr
    assert "\x1b" not in r.stderr and "\x1b" not in r.stdout
    assert json.loads(r.stdout)


def test_writing_names_the_file_and_wipes_the_line_for_the_terminal(monkeypatch):
    monkeypatch.delenv("CONSORTIA_NO_PROGRESS", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    term = _Terminal()
    with progress.on_terminal(term):
        with progress.writing(1234, "out/findings.json"):
            pass
        progress.step("rule X")
        with progress.writing(5, None):  # to the terminal: the line goes first
            assert term.getvalue().endswith("… rule X" + WIPE)
    assert term.getvalue() == WIPE + "… writing 1,234 rows to findings.json" + WIPE + WIPE + "… rule X" + WIPE
