"""The rules over time (consortia/rules/lifecycle.py) and ``deadlines``, on hand-built registries.

Every deadline is pinned on three days: the day before, the day itself and the
day after, with the as-of date moved rather than the data.
"""

from __future__ import annotations

from dataclasses import replace
from functools import cache
from pathlib import Path

import pandas as pd
import pytest
from conftest import code, unit, write_csv

from consortia.loaders import load_registry
from consortia.rules.engine import run_checks
from consortia.rules.lifecycle import deadlines
from consortia.rules.rulebook import Rulebooks, load_rulebooks

CITY = {"guangxi": "南宁市", "nanning": "南宁市", "liuzhou": "柳州市", "liaoyang": "辽阳市", "nanjing": "南京市"}
ALL = tuple(CITY)
DAY = pd.Timedelta(days=1)


def books_with(rule: str) -> list[str]:
    return sorted(b.jurisdiction for b in load_rulebooks().with_rule(rule))


def cons(cid: str, j: str, **kw: str) -> dict[str, str]:
    return {"consortium_id": cid, "name": f"联合体{cid}", "jurisdiction": j, "status": "active",
            "recognized_on": "2024-05-01", "agreement_signed_on": "2024-04-01", "chief_expert": "张三", **kw}


def mem(cid: str, n: int, j: str, role: str = "core", **kw: str) -> dict[str, str]:
    return {"consortium_id": cid, "uscc": code(n, CITY[j]), "role": role, **kw}


def one(make_registry, j: str, units_extra: dict | None = None, mem_extra: dict | None = None, **cons_kw: str):
    """One consortium C-1 of ``j`` with a lead (unit 1) and a member (unit 2)."""
    units = [unit(1, CITY[j]), unit(2, CITY[j], "university", **(units_extra or {}))]
    return [cons("C-1", j, **cons_kw)], units, [mem("C-1", 1, j, "lead"), mem("C-1", 2, j, **(mem_extra or {}))]


def empty_csv(folder: Path, name: str, columns: list[str]) -> None:
    write_csv(folder / f"{name}.csv", [], columns=columns)


@cache
def only(rule: str) -> Rulebooks:
    """The five rulebooks with every rule but ``rule`` left out, so that the engine runs just that one."""
    full = load_rulebooks()
    books = {j: replace(b, rules={k: r for k, r in b.rules.items() if k == rule}) for j, b in full.items()}
    return Rulebooks(books, {})


def found(reg, rule: str, as_of, j: str | None = None, checkable: bool = True):
    """The findings of ``rule`` as of a date: breaches, or (checkable=False) the not-checkable ones."""
    fs = [f for f in run_checks(reg, only(rule), as_of=pd.Timestamp(as_of).date()) if f.rule == rule]
    fs = [f for f in fs if f.details.get("checkable", True) == checkable]
    return [f for f in fs if j is None or f.jurisdiction == j]


def around(reg, rule: str, day: str, j: str | None = None) -> tuple[int, int, int]:
    """How many breaches of ``rule`` the day before ``day``, on it and the day after."""
    d = pd.Timestamp(day)
    return tuple(len(found(reg, rule, x, j)) for x in (d - DAY, d, d + DAY))  # type: ignore[return-value]


# ---------------------------------------------------------------- which texts have which rule


def test_rules_are_in_the_texts_that_contain_them():
    assert books_with("AGREEMENT") == sorted(ALL)
    assert books_with("LEGAL_STATUS") == sorted(ALL)
    assert books_with("CHIEF_EXPERT") == ["liaoyang", "liuzhou"]
    assert books_with("TERM_ENDED") == ["liuzhou", "nanjing"]
    for rule in ("EVALUATION_DUE", "RECTIFICATION_OVERDUE", "REVOKE_GRADE", "CREDIT_SANCTION"):
        assert books_with(rule) == ["guangxi", "nanning"]
    assert books_with("LEAD_BAN") == ["liaoyang"]
    assert books_with("ANNUAL_REPORT_MISSING") == sorted(ALL)


# ---------------------------------------------------------------- AGREEMENT, CHIEF_EXPERT


@pytest.mark.parametrize("j", ALL)
def test_agreement_required_everywhere(make_registry, j):
    c, u, m = one(make_registry, j, agreement_signed_on="")
    c.append(cons("C-2", j))
    reg = load_registry(make_registry(u, c, [*m, mem("C-2", 1, j, "lead")]))
    (f,) = found(reg, "AGREEMENT", "2025-01-01")
    assert f.consortium_id == "C-1" and f.jurisdiction == j and f.severity == "error" and not f.waived
    assert "C-1" in f.message and "2024-05-01" in f.message and f.details["recognized_on"] == "2024-05-01"
    # Not yet recognised on the as-of date: nothing to check.
    assert found(reg, "AGREEMENT", "2024-04-30") == []


def test_agreement_signed_after_the_as_of_date_was_not_yet_signed(make_registry):
    c, u, m = one(make_registry, "liuzhou", agreement_signed_on="2025-03-01")
    reg = load_registry(make_registry(u, c, m))
    assert around(reg, "AGREEMENT", "2025-03-01") == (1, 0, 0)
    (f,) = found(reg, "AGREEMENT", "2025-01-01")
    assert "agreement_signed_on is 2025-03-01, after the as-of date 2025-01-01" in f.message
    assert f.details["agreement_signed_on"] == "2025-03-01" and f.severity == "error"
    # A Nanning record relies on the agreement of the Guangxi record it was recognised from, once signed.
    u = [unit(1), unit(2)]
    c = [cons("GX-1", "guangxi", agreement_signed_on="2025-03-01"),
         cons("NN-1", "nanning", agreement_signed_on="", recognized_from="GX-1")]
    reg = load_registry(make_registry(u, c, [mem("GX-1", 1, "guangxi", "lead"), mem("NN-1", 1, "nanning", "lead")]))
    assert sorted(f.consortium_id for f in found(reg, "AGREEMENT", "2025-01-01")) == ["GX-1", "NN-1"]
    assert found(reg, "AGREEMENT", "2025-03-01") == []


def test_agreement_not_waived_by_exemption_and_not_checked_when_revoked(make_registry):
    c, u, m = one(make_registry, "nanjing", agreement_signed_on="", exemption="一事一议")
    c.append(cons("C-2", "nanjing", agreement_signed_on="", status="revoked"))
    reg = load_registry(make_registry(u, c, m))
    (f,) = found(reg, "AGREEMENT", "2025-01-01")
    assert f.consortium_id == "C-1" and not f.waived


def test_nanning_record_recognised_from_guangxi_relies_on_its_agreement(make_registry):
    u = [unit(1), unit(2)]
    c = [cons("GX-1", "guangxi"), cons("NN-1", "nanning", agreement_signed_on="", chief_expert="", recognized_from="GX-1")]
    reg = load_registry(make_registry(u, c, [mem("GX-1", 1, "guangxi", "lead"), mem("NN-1", 1, "nanning", "lead")]))
    assert found(reg, "AGREEMENT", "2025-01-01") == []
    c[0]["agreement_signed_on"] = ""
    reg = load_registry(make_registry(u, c, [mem("GX-1", 1, "guangxi", "lead"), mem("NN-1", 1, "nanning", "lead")]))
    assert sorted(f.consortium_id for f in found(reg, "AGREEMENT", "2025-01-01")) == ["GX-1", "NN-1"]


def test_agreement_column_absent_is_one_unchecked_per_jurisdiction(make_registry):
    u = [unit(1), unit(2, "柳州市")]
    c = [{"consortium_id": f"NN-{i}", "jurisdiction": "nanning"} for i in range(3)]
    c.append({"consortium_id": "LZ-1", "jurisdiction": "liuzhou"})
    reg = load_registry(make_registry(u, c, [mem("NN-0", 1, "nanning", "lead")]))
    assert found(reg, "AGREEMENT", "2025-01-01") == []
    fs = found(reg, "AGREEMENT", "2025-01-01", checkable=False)
    assert sorted(f.jurisdiction for f in fs) == ["liuzhou", "nanning"]
    assert all(f.severity == "info" and f.consortium_id is None for f in fs)
    assert "agreement_signed_on" in fs[0].message
    # Without a recognized_on column the term cannot be dated: one finding for Liuzhou, not one per record.
    (f,) = found(reg, "TERM_ENDED", "2025-01-01", checkable=False)
    assert f.jurisdiction == "liuzhou" and f.consortium_id is None and "recognized_on" in f.message


@pytest.mark.parametrize("j", ALL)
def test_chief_expert_only_where_the_text_asks(make_registry, j):
    c, u, m = one(make_registry, j, chief_expert="")
    reg = load_registry(make_registry(u, c, m))
    fs = found(reg, "CHIEF_EXPERT", "2025-01-01")
    if j in ("liaoyang", "liuzhou"):
        assert [f.consortium_id for f in fs] == ["C-1"] and fs[0].severity == "error"
        assert "chief expert" in fs[0].message
    else:
        assert fs == []


# ---------------------------------------------------------------- TERM_ENDED


@pytest.mark.parametrize(("j", "end"), [("liuzhou", "2025-03-15"), ("nanjing", "2023-03-15")])
def test_term_ends_on_the_anniversary(make_registry, j, end):
    c, u, m = one(make_registry, j, recognized_on="2020-03-15")
    reg = load_registry(make_registry(u, c, m))
    assert around(reg, "TERM_ENDED", end) == (0, 1, 1)
    (f,) = found(reg, "TERM_ENDED", end)
    assert f.details["term_ended_on"] == end and end in f.message and "C-1" in f.message


def test_liuzhou_five_years_nanjing_three(make_registry):
    u = [unit(1, "柳州市"), unit(2, "南京市")]
    c = [cons("LZ-1", "liuzhou", recognized_on="2020-03-15"), cons("NJ-1", "nanjing", recognized_on="2020-03-15"),
         cons("NN-1", "nanning", recognized_on="2010-01-01"), cons("LY-1", "liaoyang", recognized_on="2010-01-01")]
    m = [mem("LZ-1", 1, "liuzhou", "lead"), {"consortium_id": "NJ-1", "uscc": code(2, "南京市"), "role": "lead"}]
    reg = load_registry(make_registry(u, c, m))
    assert [f.consortium_id for f in found(reg, "TERM_ENDED", "2024-01-01")] == ["NJ-1"]
    assert sorted(f.consortium_id for f in found(reg, "TERM_ENDED", "2025-03-15")) == ["LZ-1", "NJ-1"]


def test_term_ended_waiver_and_status(make_registry):
    u = [unit(1, "柳州市"), unit(2, "南京市")]
    c = [cons("LZ-1", "liuzhou", recognized_on="2018-01-01", exemption="延期批复"),
         cons("NJ-1", "nanjing", recognized_on="2018-01-01", exemption="延期批复"),
         cons("NJ-2", "nanjing", recognized_on="2018-01-01", status="terminated"),
         cons("NJ-3", "nanjing", recognized_on="2018-01-01", status="rectifying"),
         cons("NJ-4", "nanjing", recognized_on="")]
    reg = load_registry(make_registry(u, c, []))
    got = {f.consortium_id: f for f in found(reg, "TERM_ENDED", "2024-01-01")}
    assert set(got) == {"LZ-1", "NJ-1", "NJ-3"}
    assert got["NJ-1"].waived and not got["LZ-1"].waived  # Nanjing says 原则上, Liuzhou does not
    (f,) = found(reg, "TERM_ENDED", "2024-01-01", checkable=False)
    assert f.consortium_id == "NJ-4" and f.details["missing"] == ["recognized_on"]


# ---------------------------------------------------------------- evaluations


def evaluation(cid: str, on: str, grade: str, passed: str = "") -> dict[str, str]:
    return {"consortium_id": cid, "evaluated_on": on, "grade": grade, "rectification_passed_on": passed}


@pytest.mark.parametrize("j", ALL)
def test_first_evaluation_due_at_three_years(make_registry, j):
    c, u, m = one(make_registry, j, recognized_on="2021-06-10")
    c.append(cons("C-9", j, recognized_on="2024-01-01"))
    reg = load_registry(make_registry(u, c, m, evaluations=[evaluation("C-9", "2024-02-01", "good")]))
    if j in ("guangxi", "nanning"):
        assert around(reg, "EVALUATION_DUE", "2024-06-10") == (0, 1, 1)
        (f,) = found(reg, "EVALUATION_DUE", "2024-06-10")
        assert f.consortium_id == "C-1" and f.severity == "warning"
        assert f.details["due_on"] == "2024-06-10" and "2021-06-10" in f.message and "2024-06-10" in f.message
    else:
        assert found(reg, "EVALUATION_DUE", "2030-01-01") == []


@pytest.mark.parametrize("j", ["guangxi", "nanning"])
def test_evaluation_cycle_restarts_at_each_evaluation(make_registry, j):
    c, u, m = one(make_registry, j, recognized_on="2021-06-10")
    reg = load_registry(make_registry(u, c, m, evaluations=[evaluation("C-1", "2024-07-01", "pass")]))
    # Due from 2024-06-10; the evaluation of 2024-07-01 has not happened yet the day before it.
    assert around(reg, "EVALUATION_DUE", "2024-07-01") == (1, 0, 0)
    assert around(reg, "EVALUATION_DUE", "2027-07-01") == (0, 1, 1)
    (f,) = found(reg, "EVALUATION_DUE", "2027-07-01")
    assert f.details["last_evaluated_on"] == "2024-07-01" and f.details["due_on"] == "2027-07-01"
    assert "2024-07-01" in f.message and "2027-07-01" in f.message


def test_nanning_record_takes_guangxi_evaluations(make_registry):
    u = [unit(1)]
    c = [cons("GX-1", "guangxi", recognized_on="2020-01-01"),
         cons("NN-1", "nanning", recognized_on="2021-01-01", recognized_from="GX-1"),
         cons("NN-2", "nanning", recognized_on="2021-01-01")]
    ev = [evaluation("GX-1", "2023-01-01", "good")]
    reg = load_registry(make_registry(u, c, [mem("GX-1", 1, "guangxi", "lead")], evaluations=ev))
    # NN-1 sees GX-1's evaluation of 2023 (next due 2026); NN-2, on its own, was due 2024-01-01.
    assert [f.consortium_id for f in found(reg, "EVALUATION_DUE", "2024-06-01")] == ["NN-2"]
    got = {f.consortium_id for f in found(reg, "EVALUATION_DUE", "2026-01-01")}
    assert got == {"GX-1", "NN-1", "NN-2"}
    # A Nanning evaluation does not count for the Guangxi record.
    ev2 = [*ev, evaluation("NN-1", "2025-06-01", "good")]
    reg = load_registry(make_registry(u, c, [mem("GX-1", 1, "guangxi", "lead")], evaluations=ev2))
    assert {f.consortium_id for f in found(reg, "EVALUATION_DUE", "2026-01-01")} == {"GX-1", "NN-2"}


@pytest.mark.parametrize("j", ["guangxi", "nanning"])
def test_rectification_without_acceptance_is_overdue_after_one_year(make_registry, j):
    c, u, m = one(make_registry, j, recognized_on="2020-01-01")
    c.append(cons("C-2", j, recognized_on="2020-01-01"))
    ev = [evaluation("C-1", "2023-04-20", "rectify"), evaluation("C-2", "2023-04-20", "rectify", passed="2024-03-01")]
    reg = load_registry(make_registry(u, c, m, evaluations=ev))
    assert around(reg, "RECTIFICATION_OVERDUE", "2024-04-20") == (0, 0, 1)
    (f,) = found(reg, "RECTIFICATION_OVERDUE", "2024-04-21")
    assert f.consortium_id == "C-1" and f.severity == "warning" and f.jurisdiction == j
    assert f.details["period_ended_on"] == "2024-04-20" and "2023-04-20" in f.message and "2024-04-20" in f.message
    assert f.location == "evaluations.csv row 2"


def test_rectification_pass_after_the_period_and_later_better_grade(make_registry):
    c, u, m = one(make_registry, "guangxi", recognized_on="2020-01-01")
    c += [cons("C-2", "guangxi", recognized_on="2020-01-01"), cons("C-3", "guangxi", recognized_on="2020-01-01"),
          cons("C-4", "guangxi", recognized_on="2020-01-01", status="revoked")]
    ev = [evaluation("C-1", "2023-04-20", "rectify", passed="2024-06-01"),
          evaluation("C-2", "2023-04-20", "rectify"), evaluation("C-2", "2024-03-01", "pass"),
          evaluation("C-3", "2023-04-20", "rectify"), evaluation("C-3", "2024-03-01", "rectify"),
          evaluation("C-4", "2023-04-20", "rectify")]
    reg = load_registry(make_registry(u, c, m, evaluations=ev))
    # Before the late pass C-1 is overdue; the pass then counts. C-2 was closed by a better grade,
    # C-3's second rectify grade does not close the first; C-4 is revoked.
    assert sorted(f.consortium_id for f in found(reg, "RECTIFICATION_OVERDUE", "2024-05-31")) == ["C-1", "C-3"]
    assert [f.consortium_id for f in found(reg, "RECTIFICATION_OVERDUE", "2024-06-01")] == ["C-3"]
    assert len(found(reg, "RECTIFICATION_OVERDUE", "2025-03-02")) == 2  # both of C-3's grades are overdue


def test_rectification_absent_where_the_text_lacks_it(make_registry):
    for j in ("liuzhou", "liaoyang", "nanjing"):
        c, u, m = one(make_registry, j, recognized_on="2020-01-01")
        reg = load_registry(make_registry(u, c, m, evaluations=[evaluation("C-1", "2021-01-01", "rectify"),
                                                                  evaluation("C-1", "2022-01-01", "revoke")]))
        for rule in ("RECTIFICATION_OVERDUE", "REVOKE_GRADE", "EVALUATION_DUE"):
            assert found(reg, rule, "2025-01-01") == [] and found(reg, rule, "2025-01-01", checkable=False) == []


@pytest.mark.parametrize("j", ["guangxi", "nanning"])
def test_revoke_grade_while_status_not_revoked(make_registry, j):
    c, u, m = one(make_registry, j, recognized_on="2020-01-01", exemption="一事一议")
    c += [cons("C-2", j, status="revoked"), cons("C-3", j, status="terminated"), cons("C-4", j, status="rectifying")]
    ev = [evaluation(x, "2024-02-01", "revoke") for x in ("C-1", "C-2", "C-3", "C-4")]
    reg = load_registry(make_registry(u, c, m, evaluations=ev))
    assert around(reg, "REVOKE_GRADE", "2024-02-01") == (0, 2, 2)
    fs = found(reg, "REVOKE_GRADE", "2024-02-01")
    assert sorted(f.consortium_id for f in fs) == ["C-1", "C-4"]
    assert all(f.severity == "error" and not f.waived for f in fs)
    assert "2024-02-01" in fs[0].message and fs[0].details["evaluated_on"] == "2024-02-01"


def test_evaluations_table_absent_is_one_unchecked_per_jurisdiction(make_registry):
    u = [unit(1)]
    c = [cons(f"GX-{i}", "guangxi") for i in range(3)] + [cons(f"NN-{i}", "nanning") for i in range(2)]
    c.append(cons("NJ-1", "nanjing"))
    reg = load_registry(make_registry(u, c, []))
    for rule in ("EVALUATION_DUE", "RECTIFICATION_OVERDUE", "REVOKE_GRADE"):
        assert found(reg, rule, "2030-01-01") == []
        fs = found(reg, rule, "2030-01-01", checkable=False)
        assert sorted(f.jurisdiction for f in fs) == ["guangxi", "nanning"]
        assert all(f.severity == "info" and "evaluations table" in f.message for f in fs)
    # With the table present but empty, each consortium is checked.
    folder = make_registry(u, c, [])
    empty_csv(folder, "evaluations", ["consortium_id", "evaluated_on", "grade"])
    reg = load_registry(folder)
    assert len(found(reg, "EVALUATION_DUE", "2030-01-01")) == 5
    assert found(reg, "EVALUATION_DUE", "2030-01-01", checkable=False) == []


def test_evaluation_without_recognition_date_is_unchecked_for_that_consortium(make_registry):
    c, u, m = one(make_registry, "nanning", recognized_on="")
    c.append(cons("C-2", "nanning", recognized_on=""))
    reg = load_registry(make_registry(u, c, m, evaluations=[evaluation("C-2", "2020-01-01", "good")]))
    assert [f.consortium_id for f in found(reg, "EVALUATION_DUE", "2024-01-01", checkable=False)] == ["C-1"]
    assert [f.consortium_id for f in found(reg, "EVALUATION_DUE", "2024-01-01")] == ["C-2"]


# ---------------------------------------------------------------- ANNUAL_REPORT_MISSING

# The report on 2024 of a consortium recognised 2024-05-01 is due, per text, on:
REPORT_DUE = {"guangxi": "2024-12-31", "nanning": "2024-12-31", "liuzhou": "2024-12-31",
              "liaoyang": "2025-03-31",  # 每年3月…报送上年度运行报告
              "nanjing": "2025-12-31"}  # 年底前…报送上年度运行情况总结报告


def report(cid: str, year: int, on: str) -> dict[str, str]:
    return {"consortium_id": cid, "year": str(year), "submitted_on": on}


@pytest.mark.parametrize("j", ALL)
def test_annual_report_due_date_per_text(make_registry, j):
    due = REPORT_DUE[j]
    c, u, m = one(make_registry, j)
    c += [cons("C-2", j, status="revoked"), cons("C-3", j)]
    reg = load_registry(make_registry(u, c, m, annual_reports=[report("C-3", 2024, "2024-12-01")]))
    # The day after the due date the 2024 report is missing; on the due date it is not yet late.
    assert around(reg, "ANNUAL_REPORT_MISSING", pd.Timestamp(due) + DAY) == (0, 1, 1)
    (f,) = found(reg, "ANNUAL_REPORT_MISSING", pd.Timestamp(due) + DAY)
    assert f.consortium_id == "C-1" and f.severity == "warning" and f.jurisdiction == j
    details = {k: v for k, v in f.details.items() if k != "text_in_force"}  # see test_rules_validity
    assert details == {"year": 2024, "due_on": due, "submitted_on": None, "late": False,
                       "as_of": (pd.Timestamp(due) + DAY).date().isoformat()}
    assert due in f.message and "2024" in f.message


def test_liaoyang_report_due_in_march_of_the_next_year(make_registry):
    c, u, m = one(make_registry, "liaoyang")
    reg = load_registry(make_registry(u, c, m, annual_reports=[report("C-1", 2024, "2025-03-31")]))
    assert found(reg, "ANNUAL_REPORT_MISSING", "2025-01-01") == []
    assert found(reg, "ANNUAL_REPORT_MISSING", "2026-03-31") == []
    (f,) = found(reg, "ANNUAL_REPORT_MISSING", "2026-04-01")
    assert f.details["year"] == 2025 and f.details["due_on"] == "2026-03-31"


@pytest.mark.parametrize("j", ["guangxi", "nanjing"])
def test_annual_report_late_and_missing_years(make_registry, j):
    due = pd.Timestamp(REPORT_DUE[j])
    late = (due + pd.Timedelta(days=5)).date().isoformat()
    c, u, m = one(make_registry, j, recognized_on="2022-05-01")
    reps = [report("C-1", 2023, "2023-01-01"), report("C-1", 2024, late)]
    reg = load_registry(make_registry(u, c, m, annual_reports=reps))
    # Before the late submission the 2024 report is missing; afterwards it is late. 2022 is missing throughout.
    before = found(reg, "ANNUAL_REPORT_MISSING", due + 2 * DAY)
    assert sorted((f.details["year"], f.details["late"]) for f in before) == [(2022, False), (2024, False)]
    after = found(reg, "ANNUAL_REPORT_MISSING", due + 10 * DAY)
    assert sorted((f.details["year"], f.details["late"]) for f in after) == [(2022, False), (2024, True)]
    lf = next(f for f in after if f.details["late"])
    assert lf.details["submitted_on"] == late and late in lf.message and lf.location == "annual_reports.csv row 3"


def test_annual_report_row_without_date_is_unchecked(make_registry):
    c, u, m = one(make_registry, "nanning")
    reg = load_registry(make_registry(u, c, m, annual_reports=[report("C-1", 2024, "")]))
    assert found(reg, "ANNUAL_REPORT_MISSING", "2025-06-01") == []
    (f,) = found(reg, "ANNUAL_REPORT_MISSING", "2025-06-01", checkable=False)
    assert f.consortium_id == "C-1" and "submitted_on" in f.message


def test_annual_reports_table_absent(make_registry):
    u = [unit(1)]
    c = [cons(f"NN-{i}", "nanning") for i in range(4)]
    reg = load_registry(make_registry(u, c, []))
    assert found(reg, "ANNUAL_REPORT_MISSING", "2030-01-01") == []
    (f,) = found(reg, "ANNUAL_REPORT_MISSING", "2030-01-01", checkable=False)
    assert f.jurisdiction == "nanning" and f.consortium_id is None and "annual_reports table" in f.message


# ---------------------------------------------------------------- members: sanctions, legal status


@pytest.mark.parametrize("j", ALL)
def test_credit_sanction_in_force_on_the_as_of_date(make_registry, j):
    c, u, m = one(make_registry, j, units_extra={"credit_blacklist_until": "2025-06-30"})
    reg = load_registry(make_registry(u, c, m))
    if j in ("guangxi", "nanning"):
        # Still within the 惩戒期 through its end date (至 includes the day), free the day after.
        assert around(reg, "CREDIT_SANCTION", "2025-06-30") == (1, 1, 0)
        (f,) = found(reg, "CREDIT_SANCTION", "2025-01-01")
        assert f.uscc == code(2, CITY[j]) and f.consortium_id == "C-1" and f.severity == "error"
        assert "2025-06-30" in f.message and f.details["sanction_until"] == "2025-06-30"
    else:
        assert found(reg, "CREDIT_SANCTION", "2025-01-01") == []


def test_credit_sanction_ignores_members_who_left(make_registry):
    c, u, m = one(make_registry, "nanning", units_extra={"credit_blacklist_until": "2026-01-01"},
                  mem_extra={"left_on": "2025-03-01"})
    reg = load_registry(make_registry(u, c, m))
    assert around(reg, "CREDIT_SANCTION", "2025-03-01") == (1, 0, 0)


@pytest.mark.parametrize("j", ALL)
def test_deregistered_member(make_registry, j):
    c, u, m = one(make_registry, j, units_extra={"legal_status": "注销"}, mem_extra={"left_on": "2025-03-01"})
    u[0]["legal_status"] = "active"
    reg = load_registry(make_registry(u, c, m))
    assert around(reg, "LEGAL_STATUS", "2025-03-01") == (1, 0, 0)
    (f,) = found(reg, "LEGAL_STATUS", "2025-01-01")
    assert f.uscc == code(2, CITY[j]) and "deregistered" in f.message and f.details["legal_status"] == "deregistered"
    assert f.severity == ("error" if j in ("guangxi", "nanning") else "warning")


def test_legal_status_revoked_lead_and_unknown(make_registry):
    c, u, m = one(make_registry, "liuzhou")
    u[0]["legal_status"] = "吊销"
    u[1]["legal_status"] = ""
    reg = load_registry(make_registry(u, c, m))
    (f,) = found(reg, "LEGAL_STATUS", "2025-01-01")
    assert f.uscc == code(1, "柳州市") and "revoked" in f.message and f.details["role"] == "lead"
    (g,) = found(reg, "LEGAL_STATUS", "2025-01-01", checkable=False)
    assert g.consortium_id == "C-1" and code(2, "柳州市") in g.message


def test_member_columns_absent_one_unchecked_per_jurisdiction(make_registry):
    u = [unit(1), unit(2)]
    c = [cons("NN-1", "nanning"), cons("NN-2", "nanning"), cons("GX-1", "guangxi")]
    m = [mem("NN-1", 1, "nanning", "lead"), mem("NN-2", 2, "nanning", "lead"), mem("GX-1", 1, "guangxi", "lead")]
    reg = load_registry(make_registry(u, c, m))
    for rule, column in (("CREDIT_SANCTION", "credit_blacklist_until"), ("LEGAL_STATUS", "legal_status")):
        fs = found(reg, rule, "2025-01-01", checkable=False)
        assert sorted(f.jurisdiction for f in fs) == ["guangxi", "nanning"] and column in fs[0].message


# ---------------------------------------------------------------- LEAD_BAN


def ban_registry(make_registry, recognized: str, j: str = "liaoyang", **revoked: str):
    u = [unit(1, CITY[j]), unit(2, CITY[j])]
    old = cons("OLD", j, status="revoked", recognized_on="2020-01-01", revoked_on="2022-05-10",
               revoked_reason="牵头单位组织不力,未按协议履约")
    old.update(revoked)
    c = [old, cons("NEW", j, recognized_on=recognized)]
    m = [mem("OLD", 1, j, "lead"), mem("OLD", 2, j), mem("NEW", 1, j, "lead")]
    return load_registry(make_registry(u, c, m))


@pytest.mark.parametrize(("recognized", "banned"), [
    ("2022-05-09", False),  # formed before the revocation
    ("2022-05-10", True),  # the day of the revocation
    ("2025-05-09", True),  # the day before the third anniversary
    ("2025-05-10", False),  # on the anniversary it may lead again
    ("2025-05-11", False),
])
def test_liaoyang_lead_ban_for_three_years(make_registry, recognized, banned):
    reg = ban_registry(make_registry, recognized)
    fs = found(reg, "LEAD_BAN", "2026-01-01")
    assert len(fs) == int(banned)
    if banned:
        (f,) = fs
        assert f.consortium_id == "NEW" and f.uscc == code(1, "辽阳市") and f.severity == "error"
        assert f.details["ban_ends_on"] == "2025-05-10" and f.details["revoked_consortium"] == "OLD"
        assert "2022-05-10" in f.message and "未按协议履约" in f.message


def test_lead_ban_only_in_liaoyang_and_only_once_revoked(make_registry):
    for j in ("guangxi", "nanning", "liuzhou", "nanjing"):
        assert found(ban_registry(make_registry, "2023-01-01", j), "LEAD_BAN", "2024-01-01") == []
    # A revocation dated after the as-of date has not happened yet.
    reg = ban_registry(make_registry, "2022-01-01", revoked_on="2022-05-10")
    assert found(reg, "LEAD_BAN", "2022-03-01") == []
    reg = ban_registry(make_registry, "2023-01-01")
    assert found(reg, "LEAD_BAN", "2022-12-31") == []  # NEW not yet recognised
    assert len(found(reg, "LEAD_BAN", "2023-01-01")) == 1


def test_lead_ban_without_revocation_date_is_unchecked(make_registry):
    reg = ban_registry(make_registry, "2023-01-01", revoked_on="")
    assert found(reg, "LEAD_BAN", "2024-01-01") == []
    (f,) = found(reg, "LEAD_BAN", "2024-01-01", checkable=False)
    assert f.consortium_id == "NEW" and "revoked_on of OLD" in f.message


def test_lead_ban_skips_a_lead_who_had_left_before_the_revocation(make_registry):
    u = [unit(1, "辽阳市"), unit(2, "辽阳市")]
    c = [cons("OLD", "liaoyang", status="revoked", revoked_on="2022-05-10"), cons("NEW", "liaoyang", recognized_on="2023-01-01")]
    m = [mem("OLD", 1, "liaoyang", "lead", left_on="2021-01-01"), mem("OLD", 2, "liaoyang", "lead", joined_on="2021-01-01"),
         mem("NEW", 1, "liaoyang", "lead")]
    assert found(load_registry(make_registry(u, c, m)), "LEAD_BAN", "2024-01-01") == []


# ---------------------------------------------------------------- deadlines


def test_deadlines_order_and_window(make_registry):
    u = [unit(1), unit(2, "柳州市"), unit(3, "南京市")]
    c = [cons("NN-1", "nanning", recognized_on="2022-01-10"),  # evaluation due 2025-01-10
         cons("LZ-1", "liuzhou", recognized_on="2020-01-20"),  # term ends 2025-01-20
         cons("NJ-1", "nanjing", recognized_on="2022-02-01"),  # term ends 2025-02-01 (outside 45 days)
         cons("GX-1", "guangxi", recognized_on="2020-01-01"),
         cons("GX-2", "guangxi", recognized_on="2020-01-01", status="revoked")]
    ev = [evaluation("GX-1", "2024-01-05", "rectify"),  # acceptance due 2025-01-05
          evaluation("GX-2", "2024-01-02", "rectify")]
    reps = [report("NN-1", 2024, "2024-12-01")]  # NN-1 has reported on 2024 already
    reg = load_registry(make_registry(u, c, [], evaluations=ev, annual_reports=reps))
    books = load_rulebooks()
    rows = deadlines(reg, books, "2024-12-10", 45)
    got = [(r["consortium_id"], r["obligation"], r["due_on"], r["days_left"]) for r in rows]
    assert got == [
        ("GX-1", "annual report on 2024", "2024-12-31", 21),
        ("LZ-1", "annual report on 2024", "2024-12-31", 21),
        ("NJ-1", "annual report on 2023", "2024-12-31", 21),  # 上年度: the 2023 report, due at the end of 2024
        ("GX-1", "rectification acceptance (graded rectify on 2024-01-05)", "2025-01-05", 26),
        ("NN-1", "first evaluation", "2025-01-10", 31),
        ("LZ-1", "end of the 5-year term", "2025-01-20", 41),
    ]
    assert {r["jurisdiction"] for r in rows} == {"guangxi", "liuzhou", "nanjing", "nanning"}
    assert "第十二条" in rows[0]["citation"] and "四（五）" in rows[-1]["citation"]
    assert [r["due_on"] for r in rows] == sorted(r["due_on"] for r in rows)
    # A narrower window keeps only the nearest; a wider one reaches Nanjing's term end and GX-1's evaluation.
    assert [r["days_left"] for r in deadlines(reg, books, "2024-12-10", 21)] == [21, 21, 21]
    assert deadlines(reg, books, "2024-12-10", 20) == []
    wide = deadlines(reg, None, "2024-12-10", 60)
    assert ("NJ-1", "end of the 3-year term", "2025-02-01") in [(r["consortium_id"], r["obligation"], r["due_on"]) for r in wide]


def test_deadlines_exclude_what_is_already_a_finding(make_registry):
    u = [unit(1)]
    c = [cons("NN-1", "nanning", recognized_on="2022-01-10")]
    folder = make_registry(u, c, [])
    empty_csv(folder, "evaluations", ["consortium_id", "evaluated_on", "grade"])
    empty_csv(folder, "annual_reports", ["consortium_id", "year", "submitted_on"])
    reg = load_registry(folder)
    # On the due date a report is still to come (days_left 0); an evaluation due that day is already a finding.
    rows = deadlines(reg, None, "2024-12-31", 0)
    assert [(r["obligation"], r["days_left"]) for r in rows] == [("annual report on 2024", 0)]
    assert [(r["obligation"], r["days_left"]) for r in deadlines(reg, None, "2025-01-09", 1)] == [("first evaluation", 1)]
    assert deadlines(reg, None, "2025-01-10", 0) == []
    assert len(found(reg, "EVALUATION_DUE", "2025-01-10")) == 1
    with pytest.raises(ValueError):
        deadlines(reg, None, "2025-01-10", -1)
