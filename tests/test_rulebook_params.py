"""A rulebook's parameters are checked when it is read: every problem with its key
and line, exit 2, never a traceback in the middle of an audit."""

from __future__ import annotations

from importlib import resources

import pytest
from click.testing import CliRunner

from consortia.cli import main
from consortia.errors import InputError
from consortia.rules.params import PARAMS
from consortia.rules.rulebook import RULE_IDS, load_rulebooks, parse_rulebook

NANNING = resources.files("consortia.rules").joinpath("books", "nanning.yaml").read_text(encoding="utf-8")


def problems(text: str) -> list[str]:
    with pytest.raises(InputError) as exc:
        parse_rulebook(text, "r.yaml")
    return [str(p) for p in exc.value.problems]


def test_the_builtin_rulebooks_pass_their_own_checks():
    books = load_rulebooks()
    assert {r for b in books.values() for r in b.rules} <= set(RULE_IDS)
    assert set(PARAMS) <= set(RULE_IDS)


@pytest.mark.parametrize(("old", "new", "says"), [
    ("min_types: 2", "min_types: two", "params.min_types: 'two': a whole number, 1 or more"),
    ("min_types: 2", "min_types: -1", "params.min_types: '-1'"),
    ("max: 3", "max: null", "params.max: a whole number, 1 or more"),
    ("max: 3", "max: 3.5", "params.max: '3.5'"),
    ("max: 3", "maxx: 3", "params.maxx: '3': a parameter MEMBER_CAP reads (allowed: max)"),
    ("in_force_from: 2025-05-30", "in_force_from: 2025-02-30", "in_force_from: '2025-02-30': a valid value"),
    ("enterprise: [enterprise]", "enterprise: [company]", "params.groups"),
])
def test_a_bad_parameter_is_named_with_its_line(old, new, says):
    assert old in NANNING
    found = problems(NANNING.replace(old, new, 1))
    assert any(says in p for p in found), found
    line = NANNING.split(old)[0].count("\n") + 1
    assert any(f"row {line}," in p for p in found if says in p), (line, found)


def test_a_missing_required_parameter_is_reported():
    text = NANNING.replace("min_types: 2", "", 1)
    assert any("UNIT_TYPES needs the parameter 'min_types'" in p for p in problems(text))


def test_check_with_a_bad_rulebook_exits_2_listing_every_problem(tmp_path):
    bad = tmp_path / "r.yaml"
    bad.write_text(NANNING.replace("min_types: 2", "min_types: two").replace("max: 3", "max: null"), encoding="utf-8")
    r = CliRunner().invoke(main, ["rules", "--rules", str(bad)])
    assert r.exit_code == 2 and "params.min_types" in r.stderr and "params.max" in r.stderr, r.output
    assert "Traceback" not in r.output


def test_rules_ids_lists_every_rule_id_with_its_parameters():
    r = CliRunner().invoke(main, ["rules", "--ids"])
    assert r.exit_code == 0
    lines = dict(line.split("\t") for line in r.stdout.splitlines())
    assert list(lines) == list(RULE_IDS)
    assert lines["MEMBER_CAP"] == "max" and lines["USCC_INVALID"] == "-"


def test_deadlines_window_past_a_century_is_a_usage_error(tmp_path):
    r = CliRunner().invoke(main, ["deadlines", str(tmp_path), "--within", "8000y"])
    assert r.exit_code == 2 and "100y" in r.stderr and "Traceback" not in r.output
