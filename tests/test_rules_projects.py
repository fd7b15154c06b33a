"""PROJECT_LEAD and PROJECT_MEMBER_SHARE (Liuzhou 六（一）), on hand-built registries."""

from __future__ import annotations

from dataclasses import replace
from functools import cache

import pandas as pd
import pytest
from conftest import code, unit, write_csv

from consortia.loaders import load_registry
from consortia.rules.engine import run_checks
from consortia.rules.rulebook import Rulebooks, load_rulebooks

CITY = {"guangxi": "南宁市", "nanning": "南宁市", "liuzhou": "柳州市", "liaoyang": "辽阳市", "nanjing": "南京市"}
DAY = pd.Timedelta(days=1)


@cache
def only(rule: str) -> Rulebooks:
    """The five rulebooks with every rule but ``rule`` left out, so that the engine runs just that one."""
    full = load_rulebooks()
    return Rulebooks({j: replace(b, rules={k: r for k, r in b.rules.items() if k == rule}) for j, b in full.items()}, {})


def found(reg, rule: str, as_of: str = "2025-06-30", checkable: bool = True):
    fs = [f for f in run_checks(reg, only(rule), as_of=pd.Timestamp(as_of).date()) if f.rule == rule]
    return [f for f in fs if f.details.get("checkable", True) == checkable]


def cons(cid: str, j: str = "liuzhou", **kw: str) -> dict[str, str]:
    return {"consortium_id": cid, "name": f"联合体{cid}", "jurisdiction": j, "status": "active",
            "recognized_on": "2023-01-01", **kw}


def mem(cid: str, n: int, role: str = "core", j: str = "liuzhou", **kw: str) -> dict[str, str]:
    return {"consortium_id": cid, "uscc": code(n, CITY[j]), "role": role, **kw}


def project(pid: str, lead: int | None, cid: str = "C-1", level: str = "municipal", started: str = "2024-03-01",
            j: str = "liuzhou") -> dict[str, str]:
    return {"project_id": pid, "consortium_id": cid, "lead_uscc": code(lead, CITY[j]) if lead else "",
            "name": f"项目{pid}", "level": level, "started_on": started}


def pmem(pid: str, *ns: int, j: str = "liuzhou") -> list[dict[str, str]]:
    return [{"project_id": pid, "uscc": code(n, CITY[j])} for n in ns]


def registry(make_registry, memberships, projects, project_members=None, j: str = "liuzhou", n_units: int = 12, **extra):
    units = [unit(i, CITY[j]) for i in range(1, n_units + 1)]
    tables = {"projects": projects, **extra}
    if project_members is not None:
        tables["project_members"] = project_members
    return load_registry(make_registry(units, [cons("C-1", j)], memberships, **tables))


BASE = [mem("C-1", 1, "lead"), mem("C-1", 2), mem("C-1", 3), mem("C-1", 4)]


# ---------------------------------------------------------------- PROJECT_LEAD


def test_project_lead_must_be_a_consortium_lead(make_registry):
    ps = [project("P1", 1), project("P2", 2, level="provincial"), project("P3", 9, level="national")]
    reg = registry(make_registry, BASE, ps)
    got = {f.details["project_id"]: f for f in found(reg, "PROJECT_LEAD")}
    assert set(got) == {"P2", "P3"}
    f = got["P2"]
    assert f.consortium_id == "C-1" and f.uscc == code(2, "柳州市") and f.severity == "error" and not f.waived
    assert f.details["consortium_leads"] == [code(1, "柳州市")] and f.location == "projects.csv row 3"
    assert "P2" in f.message and code(1, "柳州市") in f.message and "2024-03-01" in f.message
    assert "六（一）" in f.citation


def test_project_lead_either_of_two_leads_and_lead_on_the_start_date(make_registry):
    m = [*BASE, mem("C-1", 5, "lead", joined_on="2024-03-01")]
    ps = [project("P1", 5, started="2024-03-01"), project("P2", 5, started="2024-02-29"), project("P3", 1)]
    reg = registry(make_registry, m, ps)
    # Unit 5 became a lead on 2024-03-01: it may lead P1 (started that day), not P2 (started the day before).
    assert [f.details["project_id"] for f in found(reg, "PROJECT_LEAD")] == ["P2"]


def test_project_lead_not_checked_before_the_project_starts_or_outside_liuzhou(make_registry):
    reg = registry(make_registry, BASE, [project("P1", 2, started="2025-07-01")])
    assert found(reg, "PROJECT_LEAD", "2025-06-30") == []
    assert len(found(reg, "PROJECT_LEAD", "2025-07-01")) == 1
    for j in ("guangxi", "nanning", "liaoyang", "nanjing"):
        m = [mem("C-1", 1, "lead", j), mem("C-1", 2, "core", j)]
        reg = registry(make_registry, m, [project("P1", 2, j=j)], pmem("P1", 2, j=j), j=j)
        for rule in ("PROJECT_LEAD", "PROJECT_MEMBER_SHARE"):
            assert found(reg, rule) == [] and found(reg, rule, checkable=False) == []


def test_project_without_level_or_lead_is_unchecked(make_registry):
    ps = [project("P1", None), project("P2", 2, level="")]
    reg = registry(make_registry, BASE, ps)
    assert found(reg, "PROJECT_LEAD") == []
    got = {f.message: f for f in found(reg, "PROJECT_LEAD", checkable=False)}
    assert len(got) == 2 and all(f.consortium_id == "C-1" for f in got.values())
    assert any("lead_uscc" in m for m in got) and any("level" in m for m in got)


def test_project_started_on_empty_reads_membership_now(make_registry):
    m = [*BASE, mem("C-1", 5, "lead", joined_on="2025-01-01")]
    reg = registry(make_registry, m, [project("P1", 5, started="")])
    assert found(reg, "PROJECT_LEAD", "2024-12-31") != [] and found(reg, "PROJECT_LEAD", "2025-01-01") == []


# ---------------------------------------------------------------- PROJECT_MEMBER_SHARE


def test_member_share_exactly_half_passes_just_under_fails(make_registry):
    ps = [project("HALF", 1), project("UNDER", 1)]
    pm = pmem("HALF", 1, 2, 10, 11) + pmem("UNDER", 1, 2, 10, 11, 12)  # 2 of 4, 2 of 5
    reg = registry(make_registry, BASE, ps, pm)
    (f,) = found(reg, "PROJECT_MEMBER_SHARE")
    assert f.details["project_id"] == "UNDER" and f.details["members"] == 2 and f.details["units"] == 5
    assert f.details["non_members"] == sorted(code(n, "柳州市") for n in (10, 11, 12))
    assert "40%" in f.message and "50%" in f.message and f.severity == "error"


def test_member_share_at_scale_half_versus_just_under(make_registry):
    n = 200
    m = [mem("C-1", 1, "lead"), *(mem("C-1", i) for i in range(2, 101))]  # units 1..100 are members
    ps = [project("EQ", 1), project("LT", 1)]
    pm = pmem("EQ", *range(1, 201)) + pmem("LT", *range(3, 201))  # 100/200; the lead + 3..200: 99/199
    reg = registry(make_registry, m, ps, pm, n_units=n)
    (f,) = found(reg, "PROJECT_MEMBER_SHARE")
    assert f.details["project_id"] == "LT" and f.details["members"] == 99 and f.details["units"] == 199


def test_member_share_counts_the_lead_and_membership_on_the_start_date(make_registry):
    m = [*BASE, mem("C-1", 10, joined_on="2024-03-01"), mem("C-1", 11, left_on="2024-03-01")]
    # The project lead (unit 1) counts though unlisted. Unit 10 joined on 2024-03-01, unit 11 left that day.
    ps = [project("JOIN-ON", 1, started="2024-03-01"), project("JOIN-BEFORE", 1, started="2024-02-29"),
          project("LEFT-ON", 1, started="2024-03-01"), project("LEFT-BEFORE", 1, started="2024-02-29")]
    pm = [*pmem("JOIN-ON", 10, 12, 13), *pmem("JOIN-BEFORE", 10, 12, 13),
          *pmem("LEFT-ON", 11, 12, 13), *pmem("LEFT-BEFORE", 11, 12, 13)]
    reg = registry(make_registry, m, ps, pm, n_units=13)
    got = {f.details["project_id"]: f for f in found(reg, "PROJECT_MEMBER_SHARE")}
    assert set(got) == {"JOIN-BEFORE", "LEFT-ON"}  # 1 of 4; the other two have 2 of 4
    f = got["LEFT-ON"]
    assert f.details["members"] == 1 and f.details["units"] == 4 and f.details["read_on"] == "2024-03-01"
    assert f.details["non_members"] == sorted(code(n, "柳州市") for n in (11, 12, 13))


def test_project_without_listed_members_is_unchecked(make_registry):
    reg = registry(make_registry, BASE, [project("P1", 1), project("P2", 1)], pmem("P2", 1, 2))
    assert found(reg, "PROJECT_MEMBER_SHARE") == []
    (f,) = found(reg, "PROJECT_MEMBER_SHARE", checkable=False)
    assert "P1" in f.message and "project_members" in f.message


def test_absent_project_tables_one_unchecked_per_jurisdiction(make_registry, tmp_path):
    units = [unit(1, "柳州市")]
    c = [cons("C-1"), cons("C-2"), cons("C-3")]
    reg = load_registry(make_registry(units, c, [mem("C-1", 1, "lead")]))
    for rule in ("PROJECT_LEAD", "PROJECT_MEMBER_SHARE"):
        assert found(reg, rule) == []
        (f,) = found(reg, rule, checkable=False)
        assert f.jurisdiction == "liuzhou" and f.consortium_id is None and "projects table" in f.message
    # Projects present, project_members absent: only the share rule is not checkable.
    reg = registry(make_registry, BASE, [project("P1", 2)])
    assert len(found(reg, "PROJECT_LEAD")) == 1
    (f,) = found(reg, "PROJECT_MEMBER_SHARE", checkable=False)
    assert "project_members table" in f.message and "the projects table" not in f.message
    # Both present but empty: nothing to report.
    folder = make_registry(units, c, [mem("C-1", 1, "lead")])
    write_csv(folder / "projects.csv", [], columns=["project_id", "consortium_id", "lead_uscc", "level", "started_on"])
    write_csv(folder / "project_members.csv", [], columns=["project_id", "uscc"])
    reg = load_registry(folder)
    for rule in ("PROJECT_LEAD", "PROJECT_MEMBER_SHARE"):
        assert found(reg, rule) == [] and found(reg, rule, checkable=False) == []


@pytest.mark.parametrize("status", ["revoked", "terminated"])
def test_projects_of_ended_consortia_are_not_checked(make_registry, status):
    units = [unit(i, "柳州市") for i in range(1, 5)]
    reg = load_registry(make_registry(units, [cons("C-1", status=status)], BASE,
                                      projects=[project("P1", 2)], project_members=pmem("P1", 3, 4)))
    assert found(reg, "PROJECT_LEAD") == [] and found(reg, "PROJECT_MEMBER_SHARE") == []
