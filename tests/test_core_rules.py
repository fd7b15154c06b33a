"""LEAD_COUNT, LEAD_SINGLE, MEMBER_CAP and the identity rules, on hand-built registries."""

from __future__ import annotations

from conftest import code, unit

from consortia.loaders import load_registry
from consortia.rules.engine import run_checks

AS_OF = "2026-06-30"


def cons(cid: str, j: str, **kw: str) -> dict[str, str]:
    return {"consortium_id": cid, "jurisdiction": j, "status": "active", "recognized_on": "2024-01-01", **kw}


def mem(cid: str, n: int, role: str = "core", city: str = "南宁市", **kw: str) -> dict[str, str]:
    return {"consortium_id": cid, "uscc": code(n, city), "role": role, **kw}


def findings(path, rule: str | None = None, as_of: str = AS_OF):
    fs = run_checks(load_registry(path), as_of=as_of)
    return [f for f in fs if rule is None or f.rule == rule]


def test_lead_count_per_jurisdiction(make_registry):
    units = [unit(i, "柳州市" if i >= 10 else "南宁市") for i in range(1, 14)]
    consortia = [cons("NN-0", "nanning"), cons("NN-1", "nanning"), cons("NN-2", "nanning"),
                 cons("LZ-2", "liuzhou"), cons("LZ-3", "liuzhou")]
    m = [mem("NN-1", 1, "lead"), mem("NN-2", 2, "lead"), mem("NN-2", 3, "lead"), mem("NN-0", 4),
         mem("LZ-2", 10, "lead", "柳州市"), mem("LZ-2", 11, "lead", "柳州市"),
         mem("LZ-3", 12, "lead", "柳州市"), mem("LZ-3", 13, "lead", "柳州市"), mem("LZ-3", 10, "lead", "柳州市")]
    got = {f.consortium_id: f for f in findings(make_registry(units, consortia, m), "LEAD_COUNT")}
    # No lead, and two leads, breach Nanning's single lead; Liuzhou allows two but not three.
    assert set(got) == {"NN-0", "NN-2", "LZ-3"}
    assert got["NN-2"].details["leads"] == sorted([code(2), code(3)])
    assert got["LZ-3"].details["max"] == 2 and not got["LZ-3"].waived
    assert "第五条（一）" in got["NN-2"].citation


def test_member_cap_counts_bodies_across_jurisdictions_and_reports_where_cap_applies(make_registry):
    units = [unit(1), *(unit(i) for i in range(10, 20))]
    consortia = [cons("GX-1", "guangxi"), cons("NN-1", "nanning", recognized_from="GX-1"),
                 cons("NN-2", "nanning"), cons("NJ-1", "nanjing"), cons("LY-1", "liaoyang")]
    m = [mem("GX-1", 1), mem("NN-1", 1), mem("NN-2", 1), mem("NJ-1", 1)]
    # GX-1 and NN-1 are one body: three bodies, no breach.
    assert findings(make_registry(units, consortia, m), "MEMBER_CAP") == []
    m.append(mem("LY-1", 1, "general"))
    fs = findings(make_registry(units, consortia, m), "MEMBER_CAP")
    # Four bodies: reported under Guangxi and Nanning (texts with the cap, unit holds a membership),
    # not under Nanjing or Liaoyang whose texts have no cap.
    assert sorted(f.jurisdiction for f in fs) == ["guangxi", "nanning"]
    f = fs[0]
    assert f.details["count"] == 4 and f.details["max"] == 3
    assert f.details["by_jurisdiction"] == {"guangxi": ["GX-1"], "liaoyang": ["LY-1"], "nanjing": ["NJ-1"],
                                            "nanning": ["NN-1", "NN-2"]}
    assert "南宁市 2 (NN-1, NN-2)" in f.message


def test_member_cap_only_where_the_unit_holds_a_capped_membership(make_registry):
    units = [unit(1)]
    consortia = [cons("NJ-1", "nanjing"), cons("NJ-2", "nanjing"), cons("LY-1", "liaoyang"),
                 cons("LY-2", "liaoyang"), cons("LZ-1", "liuzhou")]
    m = [mem(c, 1) for c in ("NJ-1", "NJ-2", "LY-1", "LY-2", "LZ-1")]
    assert findings(make_registry(units, consortia, m), "MEMBER_CAP") == []


def test_cap_ignores_left_revoked_and_future_memberships(make_registry):
    units = [unit(1)]
    consortia = [cons("NN-1", "nanning"), cons("NN-2", "nanning"), cons("NN-3", "nanning"),
                 cons("NN-4", "nanning", status="revoked"), cons("NN-5", "nanning"), cons("NN-6", "nanning")]
    m = [mem("NN-1", 1), mem("NN-2", 1), mem("NN-3", 1), mem("NN-4", 1),
         mem("NN-5", 1, left_on="2026-06-30"),  # left on the as-of date: no longer counts
         mem("NN-6", 1, joined_on="2026-07-01")]  # joins after the as-of date
    path = make_registry(units, consortia, m)
    assert findings(path, "MEMBER_CAP") == []
    # A day earlier NN-5 still counts: four bodies.
    assert len(findings(path, "MEMBER_CAP", as_of="2026-06-29")) == 1
    # Later, NN-6 has joined: four bodies again.
    assert len(findings(path, "MEMBER_CAP", as_of="2026-07-01")) == 1


def test_member_cap_waived_only_when_every_excess_membership_is_exempted(make_registry):
    units = [unit(1)]
    consortia = [cons(f"NN-{i}", "nanning") for i in range(1, 6)]
    base = [mem("NN-1", 1, joined_on="2024-01-01"), mem("NN-2", 1, joined_on="2024-02-01"),
            mem("NN-3", 1, joined_on="2024-03-01")]
    one = [*base, mem("NN-4", 1, joined_on="2024-04-01", exemption="一事一议 2024-7")]
    (f,) = findings(make_registry(units, consortia, one), "MEMBER_CAP")
    assert f.waived and f.severity == "error"
    two = [*one, mem("NN-5", 1, joined_on="2024-05-01")]
    (f,) = findings(make_registry(units, consortia, two), "MEMBER_CAP")
    assert not f.waived and f.details["excess"] == ["NN-4", "NN-5"] and f.details["exempted"] == [True, False]


def test_lead_single_same_body_counts_once(make_registry):
    units = [unit(1), unit(2)]
    consortia = [cons("GX-1", "guangxi"), cons("NN-1", "nanning", recognized_from="GX-1"), cons("NN-2", "nanning"),
                 cons("NJ-1", "nanjing")]
    m = [mem("GX-1", 1, "lead"), mem("NN-1", 1, "lead")]
    assert findings(make_registry(units, consortia, m), "LEAD_SINGLE") == []
    m2 = [*m, mem("NN-2", 1, "lead")]
    fs = findings(make_registry(units, consortia, m2), "LEAD_SINGLE")
    assert sorted(f.jurisdiction for f in fs) == ["guangxi", "nanning"]
    assert all(f.details["count"] == 2 for f in fs)
    # Nanjing's text has no single-lead rule: a unit leading one Nanjing and one Nanning body is
    # reported under Nanning only.
    m3 = [mem("NN-2", 2, "lead"), mem("NJ-1", 2, "lead")]
    fs = findings(make_registry(units, consortia, m3), "LEAD_SINGLE")
    assert [f.jurisdiction for f in fs] == ["nanning"]


def test_lead_single_waived_by_consortium_exemption(make_registry):
    units = [unit(1)]
    consortia = [cons("NN-1", "nanning"), cons("NN-2", "nanning", exemption="市科技局一事一议")]
    m = [mem("NN-1", 1, "lead", joined_on="2024-01-01"), mem("NN-2", 1, "lead", joined_on="2024-06-01")]
    (f,) = findings(make_registry(units, consortia, m), "LEAD_SINGLE")
    assert f.waived


def test_lead_count_not_waivable_by_exemption(make_registry):
    units = [unit(1), unit(2)]
    consortia = [cons("NN-1", "nanning", exemption="一事一议")]
    m = [mem("NN-1", 1, "lead"), mem("NN-1", 2, "lead")]
    (f,) = findings(make_registry(units, consortia, m), "LEAD_COUNT")
    assert not f.waived  # the text does not say 原则上 for the single lead


def test_identity_rules(make_registry):
    good = unit(1)
    bad = unit(2)
    bad["uscc"] = bad["uscc"][:-1] + ("1" if bad["uscc"][-1] != "1" else "2")
    moved = unit(3, "北京市")
    moved["city"] = "南宁"
    twin = unit(4)
    twin["name"] = good["name"]
    repeated = dict(unit(5), name="重复行公司")
    foreign = {"uscc": "X-DE-0001", "name": "Fraunhofer IWS", "type": "institute", "city": ""}
    units = [good, bad, moved, twin, unit(5), repeated, foreign]
    consortia = [cons("NN-1", "nanning")]
    m = [mem("NN-1", 1, "lead"), {"consortium_id": "NN-1", "uscc": bad["uscc"], "role": "core"}]
    fs = findings(make_registry(units, consortia, m))
    inv = [f for f in fs if f.rule == "USCC_INVALID"]
    assert [f.uscc for f in inv] == [bad["uscc"]]
    assert inv[0].details["jurisdictions"] == ["nanning"] and inv[0].location == "units.csv row 3"
    reg = [f for f in fs if f.rule == "USCC_REGION_MISMATCH"]
    assert [f.uscc for f in reg] == [moved["uscc"]] and reg[0].severity == "info"
    assert reg[0].details["code_city"] == "北京市"
    dup = [f for f in fs if f.rule == "DUPLICATE_UNIT"]
    assert len(dup) == 2
    assert any(f.details.get("codes") == [good["uscc"], twin["uscc"]] for f in dup)
    assert any(f.details.get("rows") == [6, 7] for f in dup)


def test_run_checks_on_chosen_rules_gives_those_rules_findings_of_a_full_run(tmp_path):
    """The network pages run only the rules they draw: the same findings as a full run, no others."""
    from consortia.generate import generate, write_csv

    folder = tmp_path / "gen"
    write_csv(generate(60, seed=3), folder)
    registry = load_registry(folder)
    every = run_checks(registry, as_of=AS_OF)
    chosen = {"MEMBER_CAP", "LEAD_SINGLE", "LEAD_COUNT", "USCC_INVALID"}
    got = run_checks(registry, as_of=AS_OF, rules=chosen)
    assert got == [f for f in every if f.rule in chosen]
    assert {"MEMBER_CAP", "USCC_INVALID"} <= {f.rule for f in got} < {f.rule for f in every}
    assert run_checks(registry, as_of=AS_OF, rules=()) == []
