"""The demo: every rule shows in the showcase, the command writes its reports, and it is deterministic."""

from __future__ import annotations

import json

from click.testing import CliRunner

from consortia.cli import main
from consortia.demo import AS_OF, _showcase, demo_tables
from consortia.generate import write_csv
from consortia.loaders import load_registry
from consortia.rules.engine import run_checks
from consortia.rules.rulebook import RULE_IDS
from consortia.rules.validity import RULE_ID as TEXT_NOT_IN_FORCE


def test_every_rule_has_a_checkable_showcase_finding(tmp_path):
    write_csv(demo_tables(), tmp_path)
    findings = run_checks(load_registry(tmp_path), as_of=AS_OF)
    showcase_units = set(_showcase()["units"]["uscc"])
    shown = {f.rule for f in findings
             if f.details.get("checkable", True) is not False
             and ((f.consortium_id or "").startswith("DEMO-") or f.uscc in showcase_units)}
    assert sorted(set(RULE_IDS) - shown) == []


def _run(out):
    result = CliRunner().invoke(main, ["demo", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return result


def test_demo_command_writes_reports(tmp_path):
    result = _run(tmp_path)
    findings = json.loads((tmp_path / "findings.json").read_text(encoding="utf-8"))
    assert isinstance(findings, list) and findings
    assert (tmp_path / "findings.xlsx").is_file()
    assert (tmp_path / "registry" / "units.csv").is_file()
    near = json.loads((tmp_path / "near_duplicates.json").read_text(encoding="utf-8"))
    assert [(r["consortium_a"], r["consortium_b"]) for r in near] == [("DEMO-GX11", "DEMO-LZ6")]
    gaps = json.loads((tmp_path / "gaps.json").read_text(encoding="utf-8"))
    assert {"uncovered", "general_only", "flow_break"} <= {g["kind"] for g in gaps}
    assert (tmp_path / "network.graphml").stat().st_size > 0
    assert "Possible double funding: DEMO-GX11" in result.output


def test_demo_refuses_a_folder_with_a_registry_or_its_reports_unless_forced(tmp_path):
    (tmp_path / "registry").mkdir()
    (tmp_path / "registry" / "units.csv").write_text("their units\n", encoding="utf-8")
    (tmp_path / "findings.json").write_text("[] kept\n", encoding="utf-8")
    r = CliRunner().invoke(main, ["demo", "--out", str(tmp_path)])
    assert r.exit_code == 2 and isinstance(r.exception, SystemExit)
    assert r.stderr == (f"Error: cannot write {tmp_path}: it already holds a registry or the demo's reports (registry/ with "
                        "1 registry files, findings.json); use --force to replace it, or --out an empty or new folder\n")
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")) == [
        "findings.json", "registry", "registry/units.csv"]
    assert (tmp_path / "findings.json").read_text(encoding="utf-8") == "[] kept\n"
    r = CliRunner().invoke(main, ["demo", "--out", str(tmp_path), "--force"])
    assert r.exit_code == 0, r.stderr
    assert json.loads((tmp_path / "findings.json").read_text(encoding="utf-8"))


def test_demo_is_deterministic(tmp_path):
    _run(tmp_path / "a")
    _run(tmp_path / "b")
    assert (tmp_path / "a" / "findings.json").read_bytes() == (tmp_path / "b" / "findings.json").read_bytes()


def test_show_audits_the_part_around_a_record_and_finds_what_a_full_audit_finds(tmp_path, monkeypatch):
    """``show`` audits only the part of the registry around the record; on the demo, whose
    findings cover every rule, each consortium and each unit with a finding is described
    exactly as a whole-registry audit describes it."""
    import consortia.show as show
    from consortia.rules.rulebook import load_rulebooks

    write_csv(demo_tables(), tmp_path)
    books = load_rulebooks()
    reg = load_registry(tmp_path, books)
    full = run_checks(reg, books, AS_OF)
    real_run, real_part = show.run_checks, show._part_for

    def whole(kind, ident):
        with monkeypatch.context() as mp:  # the whole registry, its audit run once
            mp.setattr(show, "run_checks", lambda r, b, t: full if r is reg else real_run(r, b, t))
            mp.setattr(show, "_part_for", lambda r, k, key: r)
            return show.describe(reg, books, kind, ident, AS_OF)

    looked: dict[tuple[str, str], None] = {}
    for rule in sorted({f.rule for f in full}):  # the first two consortia and units each rule names
        named = [f for f in full if f.rule == rule]
        looked.update(dict.fromkeys([("consortium", f.consortium_id) for f in named if f.consortium_id][:2]))
        looked.update(dict.fromkeys([("unit", f.uscc) for f in named if f.uscc][:2]))
    looked.update(dict.fromkeys(("consortium", c) for c in reg.consortia["consortium_id"].iloc[::6]))
    rules = set()
    for kind, ident in looked:
        expected = whole(kind, ident)
        assert show.describe(reg, books, kind, ident, AS_OF) == expected, (kind, ident)
        rules |= {f["rule"] for f in expected["findings"]}
    # Every rule that found something was compared (the lapsed-text warning names no record).
    assert rules == {f.rule for f in full} - {TEXT_NOT_IN_FORCE}
    sizes = [len(real_part(reg, kind, ident).memberships) for kind, ident in looked]
    assert max(sizes) <= len(reg.memberships) and min(sizes) < len(reg.memberships) / 4
