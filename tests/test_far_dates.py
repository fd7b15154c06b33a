"""Dates past 2262-04-11, where pandas' nanosecond timestamps end.

Registries hold such dates in earnest: a sanction or an agreement "until 2300-01-01",
9999-12-31 for "no end". They are real dates: read, compared and reported as any other
(held to the microsecond), never a traceback and never called invalid.
"""

from __future__ import annotations

import json

import pandas as pd
from click.testing import CliRunner
from conftest import code, unit

from consortia.cli import main
from consortia.loaders import load_registry
from consortia.rules.engine import run_checks
from consortia.rules.lifecycle import deadlines
from consortia.rules.rulebook import load_rulebooks


def cons(cid: str, j: str = "nanning", **kw: str) -> dict[str, str]:
    return {"consortium_id": cid, "name": f"联合体{cid}", "jurisdiction": j, "status": "active",
            "recognized_on": "2024-05-01", "agreement_signed_on": "2024-04-01", **kw}


def six_members(make_registry, **units_kw):
    """NN-1 with six members (Nanning asks for six): unit 1 leads and is sanctioned until 2300-01-01,
    unit 2 leaves on 2300-01-01."""
    units = [unit(1, credit_blacklist_until="2300-01-01"), unit(2, type_="university"), *[unit(i) for i in range(3, 7)]]
    m = [{"consortium_id": "NN-1", "uscc": code(i), "role": "lead" if i == 1 else "core", "joined_on": "2024-05-01",
          "left_on": "2300-01-01" if i == 2 else ""} for i in range(1, 7)]
    return make_registry(units, [cons("NN-1")], m)


def _check(reg, as_of: str):
    r = CliRunner().invoke(main, ["check", str(reg), "--as-of", as_of, "--format", "json"])
    assert r.exit_code in (0, 1) and "Traceback" not in r.output, r.output
    return json.loads(r.stdout)


def test_the_loader_reads_them_as_dates(make_registry):
    reg = load_registry(six_members(make_registry))
    assert reg.memberships["left_on"].dtype == "datetime64[us]"
    assert reg.memberships["left_on"].max() == pd.Timestamp("2300-01-01")
    assert reg.units["credit_blacklist_until"].max() == pd.Timestamp("2300-01-01")


def test_check_on_a_registry_with_them(make_registry):
    reg = six_members(make_registry)
    now = _check(reg, "2026-06-30")
    sanction = [f for f in now if f["rule"] == "CREDIT_SANCTION"]
    assert [(f["uscc"], f["details"]["sanction_until"]) for f in sanction] == [(code(1), "2300-01-01")]
    assert "until 2300-01-01" in sanction[0]["message"]
    assert not [f for f in now if f["rule"] == "MIN_MEMBERS"]  # unit 2 is still a member: six
    # After unit 2 has left (and the sanction has run out), as of a date past 2262 itself.
    later = _check(reg, "2300-06-01")
    assert not [f for f in later if f["rule"] == "CREDIT_SANCTION"]
    short = [f for f in later if f["rule"] == "MIN_MEMBERS"]
    assert len(short) == 1 and "has 5 active member units" in short[0]["message"]


def test_no_end_and_the_last_day_of_the_calendar(make_registry):
    """9999-12-31 (the usual "no end") reads; a year 0 is no calendar date and is reported as bad input."""
    reg = make_registry([unit(1, credit_blacklist_until="9999-12-31"), unit(2)], [cons("NN-1")],
                        [{"consortium_id": "NN-1", "uscc": code(1), "role": "lead", "left_on": "9999-12-31"}])
    assert load_registry(reg).memberships["left_on"].iloc[0] == pd.Timestamp("9999-12-31")
    assert any(f["details"].get("sanction_until") == "9999-12-31" for f in _check(reg, "2026-06-30"))
    (reg / "memberships.csv").write_text(f"consortium_id,uscc,role,left_on\nNN-1,{code(1)},lead,0000-01-01\n",
                                         encoding="utf-8")
    r = CliRunner().invoke(main, ["check", str(reg)])
    assert r.exit_code == 2 and "row 2, column left_on: '0000-01-01': a date like" in r.stderr, r.output


def test_a_term_that_ends_past_2262(make_registry):
    """Liuzhou's five-year term, counted on past the nanosecond limit, is a deadline, then a finding."""
    reg = load_registry(make_registry(
        [unit(1, "柳州市")], [cons("LZ-1", "liuzhou", recognized_on="2260-01-01", chief_expert="张三")],
        [{"consortium_id": "LZ-1", "uscc": code(1, "柳州市"), "role": "lead"}]))
    books = load_rulebooks()
    due = [d for d in deadlines(reg, books, "2264-06-30", 365) if "term" in d["obligation"]]
    assert [(d["consortium_id"], d["due_on"]) for d in due] == [("LZ-1", "2265-01-01")]
    ended = [f for f in run_checks(reg, books, as_of=pd.Timestamp("2265-01-02").date()) if f.rule == "TERM_ENDED"]
    assert len(ended) == 1 and ended[0].details["term_ended_on"] == "2265-01-01"


def test_the_cap_counts_joining_order_across_2262(make_registry):
    """MEMBER_CAP names the memberships beyond the cap by joining date: dates on both sides of
    2262-04-11 keep their order (compared as microseconds, not wrapped around as nanoseconds)."""
    joins = {"NN-1": "2262-04-13", "NN-2": "2300-01-01", "NN-3": "1990-01-01", "NN-4": "2262-04-10"}
    reg = load_registry(make_registry(
        [unit(i) for i in range(1, 6)], [cons(c, recognized_on="1989-01-01") for c in joins],
        [{"consortium_id": c, "uscc": code(5), "role": "core", "joined_on": day} for c, day in joins.items()]))
    caps = [f for f in run_checks(reg, load_rulebooks(), as_of=pd.Timestamp("2300-02-01").date())
            if f.rule == "MEMBER_CAP"]
    assert len(caps) == 1 and caps[0].details["count"] == 4
    assert caps[0].details["bodies"] == ["NN-3", "NN-4", "NN-1", "NN-2"] and caps[0].details["excess"] == ["NN-2"]


def test_annual_reports_due_past_2262(make_registry):
    """Report years and their due dates past the nanosecond limit: Nanning's report on year Y is due by Y-12-31."""
    reg = load_registry(make_registry(
        [unit(1)], [cons("NN-1", recognized_on="2261-05-01")],
        [{"consortium_id": "NN-1", "uscc": code(1), "role": "lead"}],
        annual_reports=[{"consortium_id": "NN-1", "year": "2261", "submitted_on": "2261-12-01"}]))
    missing = [f for f in run_checks(reg, load_rulebooks(), as_of=pd.Timestamp("2264-06-30").date())
               if f.rule == "ANNUAL_REPORT_MISSING" and f.jurisdiction == "nanning"]
    assert sorted((f.details["year"], f.details["due_on"]) for f in missing) == [(2262, "2262-12-31"),
                                                                              (2263, "2263-12-31")]
