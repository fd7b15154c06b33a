"""MIN_MEMBERS, LOCAL_SHARE, MIN_ENTERPRISES, UNIT_TYPES and ACADEMIC_MEMBER, on hand-built registries.

Each threshold is tried at the line (passes), just under (fails) and just over
(passes), in every jurisdiction whose text has the rule, and the rule is shown
absent where the text lacks it.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from conftest import unit

from consortia.loaders import load_registry
from consortia.rules.composition import resolve_cities
from consortia.rules.engine import run_checks

AS_OF = "2026-06-30"
HOME = {"guangxi": "南宁市", "nanning": "南宁市", "liuzhou": "柳州市", "liaoyang": "辽阳市", "nanjing": "南京市"}


class Reg:
    """A registry under construction: units, consortia and memberships as rows."""

    def __init__(self) -> None:
        self.units: list[dict[str, Any]] = []
        self.consortia: list[dict[str, Any]] = []
        self.memberships: list[dict[str, Any]] = []

    def unit(self, city: str = "南宁市", type_: str = "enterprise", **attrs: Any) -> str:
        """Add a unit; its code is issued in ``city`` when the fixtures know it (else in Nanning)."""
        code_city = city if city in ("南宁市", "柳州市", "辽阳市", "南京市", "桂林市", "北京市") else "南宁市"
        row = {**unit(len(self.units) + 1, code_city, type_), "city": city, **attrs}
        self.units.append(row)
        return row["uscc"]

    def consortium(self, cid: str, j: str, **kw: Any) -> str:
        self.consortia.append({"consortium_id": cid, "name": f"{cid}联合体", "jurisdiction": j, "status": "active",
                               "recognized_on": "2024-01-01", "agreement_signed_on": "2024-01-01", **kw})
        return cid

    def member(self, cid: str, uscc: str, role: str = "core", **kw: Any) -> None:
        self.memberships.append({"consortium_id": cid, "uscc": uscc, "role": role, **kw})

    def build(self, cid: str, j: str, types: list[str], cities: list[str] | None = None,
              exemption: str = "", **kw: Any) -> str:
        """A consortium whose first member leads, with one member per entry of ``types``."""
        self.consortium(cid, j, exemption=exemption, **kw)
        cities = cities or [HOME[j]] * len(types)
        for i, (t, c) in enumerate(zip(types, cities, strict=True)):
            self.member(cid, self.unit(c, t), "lead" if i == 0 else "core")
        return cid

    def run(self, make_registry, rule: str, as_of: str = AS_OF, mutate=None) -> list:
        reg = load_registry(make_registry(self.units, self.consortia, self.memberships))
        if mutate:
            mutate(reg)
        return [f for f in run_checks(reg, as_of=as_of) if f.rule == rule]


def ent(n: int) -> list[str]:
    return ["enterprise"] * n


def by_cid(findings: list) -> dict[str, Any]:
    out = {f.consortium_id: f for f in findings}
    assert len(out) == len(findings), "one finding per consortium"
    return out


# ---------------------------------------------------------------- MIN_MEMBERS


@pytest.mark.parametrize(("j", "lo"), [("nanning", 6), ("liuzhou", 8), ("liaoyang", 8)])
def test_min_members_threshold_inclusive(make_registry, j, lo):
    r = Reg()
    r.build("AT", j, ["enterprise", "university", *ent(lo - 2)])
    r.build("UNDER", j, ["enterprise", "university", *ent(lo - 3)])
    r.build("OVER", j, ["enterprise", "university", *ent(lo - 1)])
    got = by_cid(r.run(make_registry, "MIN_MEMBERS"))
    assert set(got) == {"UNDER"}
    f = got["UNDER"]
    assert f.severity == "error" and not f.waived and f.jurisdiction == j and f.uscc is None
    assert f.details["value"] == lo - 1 and f.details["threshold"] == lo
    assert f"{lo - 1} active member units" in f.message and f"at least {lo}" in f.message
    assert "UNDER (UNDER联合体)" in f.message
    assert f.location == "consortia.csv row 3"


@pytest.mark.parametrize("j", ["guangxi", "nanjing"])
def test_min_members_absent_where_the_text_lacks_it(make_registry, j):
    r = Reg()
    r.build("TWO", j, ["enterprise", "university"])
    assert r.run(make_registry, "MIN_MEMBERS") == []


def test_min_members_waived_by_exemption_as_in_principle(make_registry):
    r = Reg()
    r.build("EX", "nanning", ["enterprise", "university", *ent(2)], exemption="市科技局一事一议 2025-3")
    r.build("NOEX", "liaoyang", ["enterprise", "university", *ent(2)])
    got = by_cid(r.run(make_registry, "MIN_MEMBERS"))
    assert got["EX"].waived and got["EX"].severity == "error"  # stays in the report
    assert not got["NOEX"].waived


def test_min_members_counts_only_active_members_of_active_consortia(make_registry):
    r = Reg()
    five = ["enterprise", "university", *ent(3)]
    r.build("NN-1", "nanning", five)
    r.member("NN-1", r.unit(), left_on=AS_OF)  # left on the as-of date: gone
    r.build("NN-2", "nanning", five)
    r.member("NN-2", r.unit(), left_on="2026-07-01")  # leaves after the as-of date: still a member
    r.build("NN-3", "nanning", five)
    r.member("NN-3", r.unit(), joined_on="2026-07-01")  # joins after the as-of date: not yet
    r.build("NN-4", "nanning", ["enterprise"], status="revoked")  # revoked and terminated: neither counted nor checked
    r.build("NN-5", "nanning", ["enterprise"], status="terminated", revoked_on="2025-01-01")
    r.build("NN-6", "nanning", ["enterprise"], recognized_on="2026-12-01")  # not yet recognised
    r.build("NN-7", "nanning", ["enterprise"], status="rectifying")  # rectifying is still in force
    assert set(by_cid(r.run(make_registry, "MIN_MEMBERS"))) == {"NN-1", "NN-3", "NN-7"}
    assert by_cid(r.run(make_registry, "MIN_MEMBERS"))["NN-1"].details["value"] == 5
    assert set(by_cid(r.run(make_registry, "MIN_MEMBERS", as_of="2026-06-29"))) == {"NN-3", "NN-7"}
    assert set(by_cid(r.run(make_registry, "MIN_MEMBERS", as_of="2026-07-01"))) == {"NN-1", "NN-2", "NN-7"}


def test_min_members_counts_a_unit_listed_twice_once(make_registry):
    r = Reg()
    r.build("NN-1", "nanning", ["enterprise", "university", *ent(3)])
    again = r.memberships[-1]
    r.member("NN-1", again["uscc"], "core", joined_on="2025-01-01")  # a second row for the same unit
    (f,) = r.run(make_registry, "MIN_MEMBERS")
    assert f.details["value"] == 5


def test_consortium_without_members_breaches_counts(make_registry):
    r = Reg()
    r.consortium("EMPTY", "nanning")
    got = {f.rule: f for f in (*r.run(make_registry, "MIN_MEMBERS"), *r.run(make_registry, "LOCAL_SHARE"))}
    assert got["MIN_MEMBERS"].details["value"] == 0
    assert got["LOCAL_SHARE"].severity == "info" and got["LOCAL_SHARE"].details["checkable"] is False


# ---------------------------------------------------------------- LOCAL_SHARE


def local_mix(r: Reg, cid: str, j: str, local: int, total: int, place: str, other: str = "桂林市", **kw: Any) -> None:
    r.build(cid, j, ["enterprise", "university", *ent(total - 2)], [place] * local + [other] * (total - local), **kw)


@pytest.mark.parametrize(("j", "place"), [("nanning", "南宁市"), ("liuzhou", "柳州市")])
def test_local_share_threshold_inclusive(make_registry, j, place):
    r = Reg()
    local_mix(r, "AT", j, 3, 10, place)  # 30% exactly
    local_mix(r, "UNDER", j, 5, 17, place)  # 29.4%
    local_mix(r, "OVER", j, 9, 29, place)  # 31.0%
    local_mix(r, "SIX", j, 6, 20, place)  # 30% again, a float that does not divide evenly in binary
    got = by_cid(r.run(make_registry, "LOCAL_SHARE"))
    assert set(got) == {"UNDER"}
    f = got["UNDER"]
    assert f.severity == "error" and not f.waived
    assert f.details["local"] == 5 and f.details["members"] == 17 and f.details["threshold"] == 0.3
    assert f.details["value"] == pytest.approx(5 / 17)
    assert "5 of 17" in f.message and "29.4%" in f.message and "30%" in f.message and place in f.message


@pytest.mark.parametrize("j", ["guangxi", "liaoyang", "nanjing"])
def test_local_share_absent_where_the_text_lacks_it(make_registry, j):
    r = Reg()
    local_mix(r, "FAR", j, 0, 8, "北京市")
    assert r.run(make_registry, "LOCAL_SHARE") == []


def test_local_share_basis_main_business_in_nanning_registration_in_liuzhou(make_registry):
    r = Reg()
    # Nanning counts 主要经营活动 (ops_city, defaulting to city): registered in Guilin, operating in Nanning is local.
    r.consortium("NN", "nanning")
    for i in range(10):
        ops = "南宁" if i < 3 else ""
        r.member("NN", r.unit("桂林市", ops_city=ops), "lead" if i == 0 else "core")
    # ... and registered in Nanning but operating in Guilin is not.
    r.consortium("NN-B", "nanning")
    for i in range(10):
        r.member("NN-B", r.unit("南宁市", ops_city="桂林市" if i < 8 else ""), "lead" if i == 0 else "core")
    # Liuzhou counts registration (注册): operating in Liuzhou does not make a unit local.
    r.consortium("LZ", "liuzhou")
    for i in range(10):
        r.member("LZ", r.unit("桂林市", ops_city="柳州市"), "lead" if i == 0 else "core")
    got = by_cid(r.run(make_registry, "LOCAL_SHARE"))
    assert set(got) == {"NN-B", "LZ"}
    assert got["NN-B"].details["local"] == 2 and got["LZ"].details["local"] == 0
    assert "main business in 南宁市" in got["NN-B"].message and "registered in 柳州市" in got["LZ"].message


def test_local_share_reads_city_spellings_and_districts(make_registry):
    r = Reg()
    cities = ["Nanning", "南宁市青秀区", "广西南宁市", "桂林市", "桂林市", "桂林市", "桂林市", "桂林市", "桂林市", "桂林市"]
    r.build("NN", "nanning", ["enterprise", "university", *ent(8)], cities)
    assert r.run(make_registry, "LOCAL_SHARE") == []  # three of ten are in Nanning
    assert list(resolve_cities(pd.Series(["南宁市青秀区", "辽阳市灯塔市", "辽阳县", "", "火星市"]))) == [
        "南宁市", "辽阳市", None, None, None]


def test_local_share_not_waived_by_exemption(make_registry):
    r = Reg()
    local_mix(r, "NN", "nanning", 1, 10, "南宁市", exemption="一事一议")
    (f,) = r.run(make_registry, "LOCAL_SHARE")
    assert not f.waived  # the 原则上 of the sentence governs only the member count


def test_local_share_unknown_cities_not_checkable_only_when_they_could_decide(make_registry):
    r = Reg()
    # Two local, two with no city at all: 20% known, 40% if both were local -> not checkable.
    r.build("MAYBE", "nanning", ["enterprise", "university", *ent(8)],
            ["南宁市", "南宁市", "", "火星市", *["桂林市"] * 6])
    # One local, one unknown: at most 20% -> a breach whatever the unknown city is.
    r.build("NO", "nanning", ["enterprise", "university", *ent(8)], ["南宁市", "", *["桂林市"] * 8])
    # Three local already: the unknown city does not matter.
    r.build("YES", "nanning", ["enterprise", "university", *ent(8)], ["南宁市"] * 3 + [""] + ["桂林市"] * 6)
    got = by_cid(r.run(make_registry, "LOCAL_SHARE"))
    assert set(got) == {"MAYBE", "NO"}
    maybe = got["MAYBE"]
    assert maybe.severity == "info" and not maybe.waived and maybe.details["checkable"] is False
    assert maybe.details["unknown"] == 2 and len(maybe.details["unknown_units"]) == 2
    assert "Could not check LOCAL_SHARE" in maybe.message and "单位3有限公司" in maybe.message
    no = got["NO"]
    assert no.severity == "error" and no.details["unknown"] == 1 and "not counted as local" in no.message


# ---------------------------------------------------------------- MIN_ENTERPRISES


def test_min_enterprises_count_in_nanning(make_registry):
    r = Reg()
    r.build("AT", "nanning", ["enterprise", "enterprise", "university", "institute", "service", "other"])
    r.build("UNDER", "nanning", ["enterprise", "university", "university", "institute", "service", "other"])
    r.build("OVER", "nanning", ["enterprise", "enterprise", "enterprise", "institute", "service", "other"])
    r.build("EX", "nanning", ["university", "institute"], exemption="一事一议")
    got = by_cid(r.run(make_registry, "MIN_ENTERPRISES"))
    assert set(got) == {"UNDER", "EX"}
    assert got["UNDER"].details == {"value": 1, "threshold": 2, "members": 6}
    assert "1 enterprise(s) among its 6" in got["UNDER"].message
    assert not got["EX"].waived  # the clause has no 原则上


def test_min_enterprises_share_in_liuzhou(make_registry):
    r = Reg()
    r.build("AT", "liuzhou", [*ent(3), *["university"] * 7])  # 30%
    r.build("UNDER", "liuzhou", [*ent(5), *["institute"] * 12])  # 29.4%
    r.build("OVER", "liuzhou", [*ent(4), *["service"] * 9])  # 30.8%
    got = by_cid(r.run(make_registry, "MIN_ENTERPRISES"))
    assert set(got) == {"UNDER"}
    assert got["UNDER"].details["value"] == pytest.approx(5 / 17) and got["UNDER"].details["threshold"] == 0.3
    assert "5 of 17" in got["UNDER"].message


@pytest.mark.parametrize("j", ["guangxi", "liaoyang", "nanjing"])
def test_min_enterprises_absent_where_the_text_lacks_it(make_registry, j):
    r = Reg()
    r.build("ACAD", j, ["university", "institute"])
    assert r.run(make_registry, "MIN_ENTERPRISES") == []


def test_min_enterprises_ignores_a_member_who_left(make_registry):
    r = Reg()
    r.build("NN", "nanning", ["enterprise", "enterprise", "university"])
    r.memberships[1]["left_on"] = "2026-01-01"
    (f,) = r.run(make_registry, "MIN_ENTERPRISES")
    assert f.details["value"] == 1 and f.details["members"] == 2


# ---------------------------------------------------------------- UNIT_TYPES


@pytest.mark.parametrize("j", ["guangxi", "nanning"])
def test_unit_types_threshold_inclusive(make_registry, j):
    r = Reg()
    r.build("AT", j, ["enterprise", "university"])
    r.build("UNDER", j, ["enterprise", "enterprise", "enterprise"])
    r.build("OVER", j, ["enterprise", "university", "tech_transfer"])
    r.build("ACAD", j, ["university", "institute"])  # named separately in the text: two types
    r.build("OTHER", j, ["service", "other"])  # both fall under 其他组织机构: one type
    got = by_cid(r.run(make_registry, "UNIT_TYPES"))
    assert set(got) == {"UNDER", "OTHER"}
    assert got["UNDER"].details["value"] == 1 and got["UNDER"].details["threshold"] == 2
    assert got["OTHER"].details["types"] == ["other"]
    assert not got["UNDER"].waived


@pytest.mark.parametrize("j", ["liuzhou", "liaoyang", "nanjing"])
def test_unit_types_absent_where_the_text_lacks_it(make_registry, j):
    r = Reg()
    r.build("ONE", j, ent(3))
    assert r.run(make_registry, "UNIT_TYPES") == []


def test_unit_types_not_waivable_and_names_members_without_type(make_registry):
    r = Reg()
    r.build("GX", "guangxi", ["enterprise", "university"], exemption="一事一议")
    untyped = r.memberships[1]["uscc"]

    def drop_type(reg):
        reg.units.loc[reg.units["uscc"] == untyped, "type"] = ""

    (f,) = r.run(make_registry, "UNIT_TYPES", mutate=drop_type)
    assert not f.waived and f.details["value"] == 1
    assert f.details["untyped_units"] == [f"机构2 ({untyped})"] and "type missing" in f.message


def test_unit_types_revoked_consortium_and_left_member(make_registry):
    r = Reg()
    r.build("GONE", "guangxi", ent(2), status="revoked")
    r.build("LEFT", "guangxi", ["enterprise", "university"])
    r.memberships[-1]["left_on"] = "2026-06-30"
    got = by_cid(r.run(make_registry, "UNIT_TYPES"))
    assert set(got) == {"LEFT"}


# ---------------------------------------------------------------- ACADEMIC_MEMBER


def test_academic_member_in_nanjing(make_registry):
    r = Reg()
    r.build("AT", "nanjing", ["enterprise", "university", "enterprise"])  # one: the threshold
    r.build("UNDER", "nanjing", ["enterprise", "service", "tech_transfer", "other"])  # none
    r.build("OVER", "nanjing", ["enterprise", "university", "institute"])  # two
    r.build("INST", "nanjing", ["enterprise", "institute"])
    r.build("LEADS", "nanjing", ["university", "enterprise"])  # the lead itself counts
    r.build("EX", "nanjing", ent(3), exemption="市科技局同意")
    got = by_cid(r.run(make_registry, "ACADEMIC_MEMBER"))
    assert set(got) == {"UNDER", "EX"}
    f = got["UNDER"]
    assert f.severity == "error" and not f.waived and f.details["value"] == 0 and f.details["threshold"] == 1
    assert "no university or institute among its 4 active member units" in f.message and "Nanjing" in f.message
    assert got["EX"].waived  # 原则上应包含: a recorded exemption waives it


@pytest.mark.parametrize("j", ["guangxi", "nanning", "liuzhou", "liaoyang"])
def test_academic_member_absent_where_the_text_lacks_it(make_registry, j):
    r = Reg()
    r.build("ENT", j, ent(3))
    assert r.run(make_registry, "ACADEMIC_MEMBER") == []


def test_academic_member_who_left_does_not_count(make_registry):
    r = Reg()
    r.build("NJ", "nanjing", ["enterprise", "enterprise", "university"])
    r.memberships[-1]["left_on"] = "2026-03-01"
    (f,) = r.run(make_registry, "ACADEMIC_MEMBER")
    assert f.consortium_id == "NJ"
    assert r.run(make_registry, "ACADEMIC_MEMBER", as_of="2026-02-28") == []
