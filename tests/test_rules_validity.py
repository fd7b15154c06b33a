"""TEXT_NOT_IN_FORCE: a text checked as of a date outside its period of validity
(Nanning 第十五条, Liaoyang 第二十七条) is still applied, and the report says so."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import code, unit

from consortia.loaders import load_registry
from consortia.rules.engine import run_checks


def _registry(make_registry, *jurisdictions: str):
    city = {"liaoyang": "辽阳市", "nanning": "南宁市", "nanjing": "南京市"}
    units, cons, mem = [], [], []
    for k, j in enumerate(jurisdictions):
        cid = f"{j.upper()}-1"
        cons.append({"consortium_id": cid, "name": f"{j}联合体", "jurisdiction": j, "status": "active",
                     "recognized_on": "2020-01-01"})
        n = 10 * k + 1
        units.append(unit(n, city[j]))
        mem.append({"consortium_id": cid, "uscc": code(n, city[j]), "role": "lead"})  # too few members: findings
    return load_registry(make_registry(units, cons, mem))


def _check(reg, as_of: str):
    return run_checks(reg, as_of=pd.Timestamp(as_of).date(), workers=1)


def test_a_lapsed_text_is_applied_and_the_report_says_it_lapsed(make_registry):
    reg = _registry(make_registry, "liaoyang", "nanjing")
    fs = _check(reg, "2026-12-02")
    [w] = [f for f in fs if f.rule == "TEXT_NOT_IN_FORCE"]
    assert w.jurisdiction == "liaoyang" and w.severity == "warning" and not w.blocking
    assert "第二十七条" in w.citation and "有效期三年" in w.citation
    assert w.details == {"in_force_from": "2023-05-23", "valid_until": "2026-05-22", "as_of": "2026-12-02",
                         "state": "lapsed", "records": 1}
    assert "2026-05-22" in w.message and "has lapsed" in w.message
    liaoyang = [f for f in fs if f.jurisdiction == "liaoyang" and f.rule != "TEXT_NOT_IN_FORCE"]
    assert liaoyang and all(f.details["text_in_force"] is False for f in liaoyang)
    assert {f.rule for f in liaoyang} >= {"MIN_MEMBERS"}  # still applied
    assert all("text_in_force" not in f.details for f in fs if f.jurisdiction == "nanjing")


@pytest.mark.parametrize(("as_of", "state"), [("2026-05-22", None), ("2026-05-23", "lapsed"),
                                              ("2023-05-22", "not_yet"), ("2023-05-23", None)])
def test_the_period_includes_its_first_and_last_day(make_registry, as_of, state):
    fs = _check(_registry(make_registry, "liaoyang"), as_of)
    assert [f.details["state"] for f in fs if f.rule == "TEXT_NOT_IN_FORCE"] == ([state] if state else [])


def test_nanning_before_its_measures_took_effect(make_registry):
    fs = _check(_registry(make_registry, "nanning"), "2025-05-29")
    [w] = [f for f in fs if f.rule == "TEXT_NOT_IN_FORCE"]
    assert w.details["state"] == "not_yet" and "第十五条" in w.citation and "not yet in force" in w.message
    assert not [f for f in _check(_registry(make_registry, "nanning"), "2025-05-30") if f.rule == "TEXT_NOT_IN_FORCE"]


def test_no_records_under_the_text_no_warning_and_partial_runs_add_none(make_registry):
    assert not [f for f in _check(_registry(make_registry, "nanjing"), "2026-12-02") if f.rule == "TEXT_NOT_IN_FORCE"]
    reg = _registry(make_registry, "liaoyang")
    part = run_checks(reg, as_of=pd.Timestamp("2026-12-02").date(), rules={"MIN_MEMBERS"}, workers=1)
    assert part and not [f for f in part if f.rule == "TEXT_NOT_IN_FORCE"]
    assert all("text_in_force" not in f.details for f in part)
