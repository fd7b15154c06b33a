"""LEAD_CHANGE (Nanjing 五（三）, Liuzhou 七（一）, Liaoyang 第二十三条), on hand-built registries."""

from __future__ import annotations

from dataclasses import replace
from functools import cache

import pandas as pd
import pytest
from conftest import code, unit

from consortia.errors import InputError
from consortia.loaders import load_registry
from consortia.rules.engine import run_checks
from consortia.rules.rulebook import Rulebooks, load_rulebooks, parse_rulebook

CITY = {"liuzhou": "柳州市", "liaoyang": "辽阳市", "nanjing": "南京市"}


@cache
def only() -> Rulebooks:
    full = load_rulebooks()
    return Rulebooks({j: replace(b, rules={k: r for k, r in b.rules.items() if k == "LEAD_CHANGE"})
                      for j, b in full.items()}, {})


def found(reg, as_of: str = "2026-06-30", checkable: bool = True):
    fs = [f for f in run_checks(reg, only(), as_of=pd.Timestamp(as_of).date()) if f.rule == "LEAD_CHANGE"]
    return [f for f in fs if f.details.get("checkable", True) == checkable]


def lead(n: int, j: str, **dates: str) -> dict[str, str]:
    return {"consortium_id": "C-1", "uscc": code(n, CITY[j]), "role": "lead", **dates}


def registry(make_registry, j: str, leads, recognized_on: str = "2024-01-01", status: str = "active", **tables):
    units = [unit(i, CITY[j]) for i in range(1, 6)]
    cons = [{"consortium_id": "C-1", "name": "示范联合体", "jurisdiction": j, "status": status,
             "recognized_on": recognized_on}]
    members = [*leads, {"consortium_id": "C-1", "uscc": code(5, CITY[j]), "role": "core"}]
    return load_registry(make_registry(units, cons, members, **tables))


def test_nanjing_a_lead_handed_over_in_operation_is_reported_with_both_dates(make_registry):
    reg = registry(make_registry, "nanjing", [lead(1, "nanjing", left_on="2025-05-01"),
                                              lead(2, "nanjing", joined_on="2025-05-01")])
    [f] = found(reg)
    assert f.severity == "warning" and f.jurisdiction == "nanjing" and f.consortium_id == "C-1" and not f.waived
    assert "五（三）" in f.citation and f.location == "consortia.csv row 2"
    assert f.details["changes"] == [{"uscc": code(1, "南京市"), "change": "left", "on": "2025-05-01"},
                                    {"uscc": code(2, "南京市"), "change": "joined", "on": "2025-05-01"}]
    assert "left as lead on 2025-05-01" in f.message and "became a lead on 2025-05-01" in f.message
    assert "单位1有限公司" in f.message and "补充协议" in f.message


@pytest.mark.parametrize("leads", [
    [lead(1, "nanjing")],  # no dates: no change on record
    [lead(1, "nanjing", joined_on="2024-01-20")],  # the first lead recorded after recognition
    [lead(1, "nanjing", left_on="2023-12-01"), lead(2, "nanjing", joined_on="2023-12-01")],  # before recognition
    [lead(1, "nanjing", left_on="2026-07-01"), lead(2, "nanjing", joined_on="2026-07-01")],  # after the as-of date
])
def test_nanjing_no_change_in_operation_is_no_finding(make_registry, leads):
    assert found(registry(make_registry, "nanjing", leads)) == []


def test_nanjing_a_second_lead_joining_is_a_change_and_a_lead_leaving_alone_is_too(make_registry):
    added = registry(make_registry, "nanjing", [lead(1, "nanjing"), lead(2, "nanjing", joined_on="2025-02-01")])
    assert [f.details["changes"] for f in found(added)] == [[{"uscc": code(2, "南京市"), "change": "joined",
                                                              "on": "2025-02-01"}]]
    gone = registry(make_registry, "nanjing", [lead(1, "nanjing", left_on="2025-02-01")])
    assert [c["change"] for f in found(gone) for c in f.details["changes"]] == ["left"]


def test_records_not_in_force_and_undated_records(make_registry):
    change = [lead(1, "nanjing", left_on="2025-05-01"), lead(2, "nanjing", joined_on="2025-05-01")]
    assert found(registry(make_registry, "nanjing", change, status="revoked")) == []
    undated = registry(make_registry, "nanjing", change, recognized_on="")
    assert found(undated) == []
    [u] = found(undated, checkable=False)
    assert u.severity == "info" and u.details["missing"] == ["recognized_on"] and u.consortium_id == "C-1"


def project(started: str, level: str = "municipal", pid: str = "P1") -> dict[str, str]:
    return {"project_id": pid, "consortium_id": "C-1", "lead_uscc": code(1, "柳州市"), "name": "攻关项目",
            "level": level, "started_on": started}


HANDOVER = [lead(1, "liuzhou", left_on="2025-05-01"), lead(2, "liuzhou", joined_on="2025-05-01")]


def test_liuzhou_only_a_change_during_a_project_counts(make_registry):
    before = registry(make_registry, "liuzhou", HANDOVER, projects=[project("2025-06-01")])
    assert found(before) == [] and found(before, checkable=False) == []
    during = registry(make_registry, "liuzhou", HANDOVER,
                      projects=[project("2025-06-01", pid="P2"), project("2024-09-01", "provincial")])
    [f] = found(during)
    assert f.severity == "warning" and "七（一）" in f.citation and f.details["projects"] == ["P1"]
    assert "provincial project under way (P1 (攻关项目), started 2024-09-01)" in f.message
    assert "no project end dates" in f.message


def test_liuzhou_without_projects_or_their_dates_is_not_checkable(make_registry):
    none = registry(make_registry, "liuzhou", HANDOVER)
    [u] = found(none, checkable=False)
    assert u.details["missing"] == ["the projects table"] and found(none) == []
    undated = registry(make_registry, "liuzhou", HANDOVER, projects=[project("")])
    [u] = found(undated, checkable=False)
    assert u.details["missing"] == ["projects.started_on"]
    # No change, nothing to say, whatever the projects.
    assert found(registry(make_registry, "liuzhou", [lead(1, "liuzhou")]), checkable=False) == []


def test_liaoyang_names_the_filing_it_asks_for(make_registry):
    reg = registry(make_registry, "liaoyang", [lead(1, "liaoyang", left_on="2025-05-01"),
                                               lead(2, "liaoyang", joined_on="2025-05-01")],
                   projects=[{**project("2024-09-01"), "lead_uscc": code(1, "辽阳市")}])
    [f] = found(reg)
    assert "第二十三条" in f.citation and "报市科技局备案" in f.message


def test_the_rule_is_only_in_the_texts_that_say_it():
    books = load_rulebooks()
    assert {j for j, b in books.items() if "LEAD_CHANGE" in b.rules} == {"nanjing", "liuzhou", "liaoyang"}


def test_a_rulebook_must_say_when_the_lead_may_not_change():
    text = (
        "jurisdiction: x\nname_zh: 某市\nname_en: X\nlevel: city\nparent: null\n"
        "document: {title: t, source: s}\nrules:\n"
        "  - id: LEAD_CHANGE\n    severity: warning\n    in_principle: false\n    params: {during: sometimes}\n"
        "    citation: {article: 一, quote: q}\n")
    with pytest.raises(InputError) as exc:
        parse_rulebook(text, "x.yaml")
    [p] = [p for p in exc.value.problems if p.column == "rules.LEAD_CHANGE.params.during"]
    assert p.value == "sometimes" and "operation" in p.expected
