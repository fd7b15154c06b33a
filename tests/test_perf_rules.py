"""The vectorised cap and lead counting keeps the documented order and lists.

MEMBER_CAP and LEAD_SINGLE count on integer codes now; these pin the order in
which a unit's bodies are listed (undated joins first, then by joining date,
then by recognition date, then by body id), which decides the ``excess`` an
exemption must cover, and the per-jurisdiction lists the message spells out.
"""

from __future__ import annotations

from conftest import code, unit

from consortia.loaders import load_registry
from consortia.rules.engine import run_checks

AS_OF = "2026-06-30"


def cons(cid: str, j: str, **kw: str) -> dict[str, str]:
    return {"consortium_id": cid, "jurisdiction": j, "status": "active", "recognized_on": "2024-01-01", **kw}


def mem(cid: str, n: int, role: str = "core", **kw: str) -> dict[str, str]:
    return {"consortium_id": cid, "uscc": code(n), "role": role, **kw}


def rule(path, rule_id: str):
    return [f for f in run_checks(load_registry(path), as_of=AS_OF) if f.rule == rule_id]


def test_bodies_in_joining_order_with_undated_first(make_registry):
    units = [unit(1), unit(2)]
    consortia = [cons("NN-1", "nanning", recognized_on="2023-05-01"), cons("NN-2", "nanning", recognized_on="2022-01-01"),
                 cons("NN-3", "nanning"), cons("GX-9", "guangxi"), cons("NN-9", "nanning", recognized_from="GX-9"),
                 cons("NJ-1", "nanjing")]
    m = [mem("NN-1", 1, joined_on="2024-03-01"), mem("NN-2", 1, joined_on="2024-03-01"),  # same day: recognised first
         mem("NN-3", 1), mem("NJ-1", 1, joined_on="2020-01-01"),  # undated sorts first
         mem("GX-9", 1, joined_on="2025-01-01"), mem("NN-9", 1, joined_on="2021-06-01",  # one body, joined in 2021
                                                     exemption="一事一议"),
         mem("NN-1", 2)]
    fs = {f.jurisdiction: f for f in rule(make_registry(units, consortia, m), "MEMBER_CAP")}
    assert set(fs) == {"guangxi", "nanning"}
    f = fs["nanning"]
    assert f.uscc == code(1) and f.details["count"] == 5
    assert f.details["bodies"] == ["NN-3", "NJ-1", "GX-9", "NN-2", "NN-1"]
    assert f.details["excess"] == ["NN-2", "NN-1"] and f.details["exempted"] == [False, False] and not f.waived
    assert f.details["by_jurisdiction"] == {"guangxi": ["GX-9"], "nanjing": ["NJ-1"],
                                            "nanning": ["NN-1", "NN-2", "NN-3", "NN-9"]}
    assert "南宁市 4 (NN-1, NN-2, NN-3, NN-9)" in f.message and "5 distinct consortia" in f.message


def test_a_hub_message_lists_a_few_and_details_list_all(make_registry):
    """A unit in dozens of consortia: the message names the first five of each
    jurisdiction and how many more; ``by_jurisdiction`` keeps every id."""
    ids = [f"NN-{i:02d}" for i in range(1, 13)]
    fs = rule(make_registry([unit(1)], [cons(c, "nanning") for c in ids], [mem(c, 1) for c in ids]), "MEMBER_CAP")
    assert len(fs) == 1 and fs[0].details["by_jurisdiction"] == {"nanning": ids}
    assert "南宁市 12 (NN-01, NN-02, NN-03, NN-04, NN-05 and 7 more)" in fs[0].message
    assert "NN-06" not in fs[0].message


def test_lead_single_and_lead_count_name_the_leads(make_registry):
    units = [unit(1), unit(2), unit(3)]
    consortia = [cons("NN-1", "nanning"), cons("NN-2", "nanning"), cons("NN-3", "nanning")]
    m = [mem("NN-1", 1, "lead"), mem("NN-2", 1, "lead"), mem("NN-2", 3, "lead"), mem("NN-3", 2)]
    path = make_registry(units, consortia, m)
    single = rule(path, "LEAD_SINGLE")
    assert [f.uscc for f in single] == [code(1)] and single[0].details["bodies"] == ["NN-1", "NN-2"]
    counts = {f.consortium_id: f for f in rule(path, "LEAD_COUNT")}
    assert set(counts) == {"NN-2", "NN-3"}
    assert counts["NN-2"].details["leads"] == sorted([code(1), code(3)]) and "has 2 lead unit(s)" in counts["NN-2"].message
    assert counts["NN-3"].details["leads"] == [] and "(none)" in counts["NN-3"].message
