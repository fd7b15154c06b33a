"""A rulebook's parameters are checked when it is read: every problem with its key
and line, exit 2, never a traceback in the middle of an audit."""

from __future__ import annotations

from importlib import resources

import pytest
from click.testing import CliRunner
from conftest import code, unit

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
    ("in_force_from: 2025-05-30", "in_force_from: 2025-02-30",
     "document.in_force_from: '2025-02-30': a date that exists, as YYYY-MM-DD"),
    ("enterprise: [enterprise]", "enterprise: [company]", "params.groups"),
])
def test_a_bad_parameter_is_named_with_its_line(old, new, says):
    assert old in NANNING
    found = problems(NANNING.replace(old, new, 1))
    assert any(says in p for p in found), found
    line = NANNING.split(old)[0].count("\n") + 1
    assert any(f"row {line}," in p for p in found if says in p), (line, found)


@pytest.mark.parametrize(("old", "new", "says"), [
    # terms in years: 1 to 100
    ("every_years: 3", "every_years: 0", "rules.EVALUATION_DUE.params.every_years: '0': a whole number of years, 1 to 100"),
    ("every_years: 3", "every_years: 101", "rules.EVALUATION_DUE.params.every_years: '101': a whole number of years"),
    ("first_after_years: 3", "first_after_years: 5000", "rules.EVALUATION_DUE.params.first_after_years: '5000'"),
    ("period_years: 1", "period_years: 250", "rules.RECTIFICATION_OVERDUE.params.period_years: '250'"),
    ("year_offset: 0", "year_offset: 101", "rules.ANNUAL_REPORT_MISSING.params.year_offset: '101': a whole number of "
                                           "years, 0 to 100"),
    # due dates that do not exist every year
    ("due_month: 12, due_day: 31", "due_month: 2, due_day: 30",
     "rules.ANNUAL_REPORT_MISSING.params.due_day: '30': a day that exists in month 2 every year (at most 28)"),
    ("due_month: 12, due_day: 31", "due_month: 2, due_day: 29", "02-29 is not a date in a common year"),
    ("due_month: 12, due_day: 31", "due_month: 4, due_day: 31",
     "rules.ANNUAL_REPORT_MISSING.params.due_day: '31': a day that exists in month 4 every year (at most 30)"),
    # the day left out is 31 (the rule's default): the problem is on the params key
    ("due_month: 12, due_day: 31", "due_month: 6", "rules.ANNUAL_REPORT_MISSING.params: a day that exists in month 6"),
    # contradictory parameters
    ("params: {min: 1, max: 1}", "params: {min: 2, max: 1}",
     "rules.LEAD_COUNT.params.min: '2': at most max (1): no consortium can have at least 2 leads and at most 1"),
    ("params: {min: 1, max: 1}", "params: {min: 2}", "rules.LEAD_COUNT.params.min: '2': at most max (1)"),  # max: 1 by default
    ("min_types: 2", "min_types: 6", "rules.UNIT_TYPES.params.min_types: '6': at most the number of groups (5)"),
    # document dates: real dates, in order
    ("valid_until: 2030-05-29", "valid_until: 2024-05-29",
     "document.valid_until: '2024-05-29': a date on or after in_force_from (2025-05-30)"),
    ("valid_until: 2030-05-29", "valid_until: 2030-13-01", "document.valid_until: '2030-13-01': a date that exists"),
    ("valid_until: 2030-05-29", "valid_until: 2030/05/29", "document.valid_until: '2030/05/29': a date, as YYYY-MM-DD"),
    ("valid_until: 2030-05-29", "valid_until: '2030-02-30'", "document.valid_until: '2030-02-30': a date that exists"),
    ("in_force_from: 2025-05-30", "in_force_from: soon", "document.in_force_from: 'soon': a date, as YYYY-MM-DD"),
    # items of lists and mappings are named by their path
    ("other: [service, other]", "other: [service, company]",
     "rules.UNIT_TYPES.params.groups.other[1]: 'company': a unit type (enterprise"),
    ("other: [service, other]", "other: []", "rules.UNIT_TYPES.params.groups.other: '[]': a list of unit types"),
    ("params: {types: [enterprise]}", "params: {types: [enterprise, university, firm]}",
     "rules.LEAD_TYPE.params.types[2]: 'firm': a unit type"),
    ("aliases: [南宁, 南宁市,", "aliases: [南宁, {a: 1},", "aliases[1]: \"{'a': 1}\": a name (text)"),
    ("severity: error\n    in_principle: true\n    params: {min: 6}", "severity: fatal\n    in_principle: true\n"
                                                                   "    params: {min: 6}",
     "rules.MIN_MEMBERS.severity: 'fatal'"),
    ("- id: MIN_MEMBERS", "- id: MIN_MEMBER", "rules[1].id: 'MIN_MEMBER': a known rule id"),
])
def test_a_problem_is_named_by_its_key_path_with_its_line(old, new, says):
    assert old in NANNING
    found = problems(NANNING.replace(old, new, 1))
    assert any(says in p for p in found), found
    line = NANNING.split(old)[0].count("\n") + 1
    assert any(f"row {line}," in p for p in found if says in p), (line, found)


def test_the_builtin_values_at_the_edges_pass():
    """1 and 100 years, 02-28 and 12-31, min equal to max, quoted ISO dates: all accepted."""
    text = (NANNING.replace("every_years: 3", "every_years: 100").replace("period_years: 1", "period_years: 1")
            .replace("due_month: 12, due_day: 31, year_offset: 0", "due_month: 2, due_day: 28, year_offset: 100")
            .replace("valid_until: 2030-05-29", "valid_until: '2025-05-30'")
            .replace("min_types: 2", "min_types: 5"))
    book = parse_rulebook(text, "r.yaml")
    assert book.rules["EVALUATION_DUE"].params["every_years"] == 100


def test_an_item_on_its_own_line_is_reported_on_that_line():
    text = NANNING.replace("params: {types: [enterprise]}", "params:\n      types:\n        - enterprise\n        - firm", 1)
    found = problems(text)
    line = text.split("- firm")[0].count("\n") + 1
    assert f"r.yaml, row {line}, column rules.LEAD_TYPE.params.types[1]: 'firm': a unit type" in found[0], found


def test_a_due_date_that_never_exists_is_exit_2_for_check_not_a_traceback(tmp_path, make_registry):
    """It was read, then failed in the annual-report rule (date(2020, 2, 30): a ValueError traceback, exit 1)."""
    bad = tmp_path / "r.yaml"
    bad.write_text(NANNING.replace("due_month: 12, due_day: 31", "due_month: 2, due_day: 30"), encoding="utf-8")
    reg = make_registry([unit(1)], [{"consortium_id": "NN-1", "jurisdiction": "nanning", "status": "active",
                                     "recognized_on": "2020-01-01"}],
                        [{"consortium_id": "NN-1", "uscc": code(1), "role": "lead"}],
                        annual_reports=[{"consortium_id": "NN-1", "year": "2020", "submitted_on": "2020-12-01"}])
    r = CliRunner().invoke(main, ["check", str(reg), "--as-of", "2026-06-30", "--rules", str(bad)])
    assert r.exit_code == 2 and "due_day" in r.stderr and "Traceback" not in r.output, r.output
    assert r.exception is None or isinstance(r.exception, SystemExit)


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


@pytest.mark.parametrize(("new", "says"), [
    ("by_sector: {manufacturing: 50000, retail: 10000}", "rules.LEAD_REVENUE.params.by_sector.retail: 'retail': a sector"),
    ("by_sector: {manufacturing: -5, tech_services: 10000}",
     "rules.LEAD_REVENUE.params.by_sector.manufacturing: '-5': an amount in 万元, 0 or more"),
])
def test_a_bad_entry_of_a_mapping_is_named_by_its_key(new, says):
    liuzhou = resources.files("consortia.rules").joinpath("books", "liuzhou.yaml").read_text(encoding="utf-8")
    old = "by_sector: {manufacturing: 50000, tech_services: 10000}"
    assert old in liuzhou
    found = problems(liuzhou.replace(old, new))
    line = liuzhou.split(old)[0].count("\n") + 1
    assert any(says in p and f"row {line}," in p for p in found), found


@pytest.mark.parametrize(("written", "suggested"), [
    ("MIN_MEMBER", "MIN_MEMBERS"), ("member_cap", "MEMBER_CAP"), ("LEAD_SINGEL", "LEAD_SINGLE"),
    ("USCC_INVALD", "USCC_INVALID"), ("TOTALLY_NEW", None),
])
def test_an_unknown_rule_id_suggests_the_closest_known_one(tmp_path, written, suggested):
    bad = tmp_path / "r.yaml"
    bad.write_text(NANNING.replace("- id: MIN_MEMBERS", f"- id: {written}", 1), encoding="utf-8")
    line = NANNING.split("- id: MIN_MEMBERS")[0].count("\n") + 1
    for args in (["rules", "--rules", str(bad)], ["check", str(tmp_path), "--rules", str(bad)]):
        r = CliRunner().invoke(main, args)
        assert r.exit_code == 2 and "Traceback" not in r.output, r.output
        said = next(ln for ln in r.stderr.splitlines() if f"'{written}'" in ln)
        assert f"row {line}, column rules[1].id: '{written}': a known rule id" in said
        if suggested:
            assert f"did you mean {suggested}?" in said
        else:
            assert "did you mean" not in said


def test_rules_ids_help_says_what_it_prints():
    r = CliRunner().invoke(main, ["rules", "--help"])
    text = " ".join(r.stdout.split())
    assert "the id, a tab, then the parameters it takes, comma-separated ('-' for none)" in text
