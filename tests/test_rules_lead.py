"""LEAD_TYPE, LEAD_LOCATION, LEAD_REVENUE, LEAD_RD_STAFF, LEAD_RD_SPEND, LEAD_PLATFORM and
LEAD_RD_DEDUCTION, on hand-built registries.

Each threshold is tried at the line (passes), just under (fails) and just over
(passes), in every jurisdiction whose text has the rule; each rule is shown
absent where the text lacks it, waived only where the text says 原则上, and
not checkable (info) where the registry lacks the value.
"""

from __future__ import annotations

from typing import Any

import pytest
from conftest import unit

from consortia.loaders import load_registry
from consortia.rules.engine import run_checks

AS_OF = "2026-06-30"
HOME = {"guangxi": "南宁市", "nanning": "南宁市", "liuzhou": "柳州市", "liaoyang": "辽阳市", "nanjing": "南京市"}
#: A lead that meets every threshold of every text; tests change one attribute at a time.
GOOD = {"sector": "manufacturing", "revenue": 200000, "rd_staff": 100, "rd_spend_3y": 30000, "sales_3y": 600000,
        "years_operating": 10, "platform_level": "national", "tech_enterprise": "true", "rd_deduction": "true"}
KNOWN = ("南宁市", "柳州市", "辽阳市", "南京市", "桂林市", "北京市")


class Reg:
    """A registry of one-lead consortia, each with a few ordinary members."""

    def __init__(self) -> None:
        self.units: list[dict[str, Any]] = []
        self.consortia: list[dict[str, Any]] = []
        self.memberships: list[dict[str, Any]] = []

    def unit(self, city: str, type_: str = "enterprise", **attrs: Any) -> str:
        row = {**unit(len(self.units) + 1, city if city in KNOWN else "南宁市", type_), "city": city, **attrs}
        self.units.append(row)
        return row["uscc"]

    def lead(self, cid: str, j: str, *, type_: str = "enterprise", city: str | None = None, exemption: str = "",
             status: str = "active", lead_kw: dict[str, Any] | None = None, **attrs: Any) -> str:
        """A consortium of ``j`` led by a unit with GOOD attributes overridden by ``attrs``; returns the lead's code."""
        self.consortia.append({"consortium_id": cid, "name": f"{cid}联合体", "jurisdiction": j, "status": status,
                               "recognized_on": "2024-01-01", "exemption": exemption})
        city = HOME[j] if city is None else city
        uscc = self.unit(city, type_, **{**GOOD, **attrs})
        self.memberships.append({"consortium_id": cid, "uscc": uscc, "role": "lead", **(lead_kw or {})})
        for t in ("university", "enterprise"):
            self.memberships.append({"consortium_id": cid, "uscc": self.unit(HOME[j], t), "role": "core"})
        return uscc

    def run(self, make_registry, rule: str, as_of: str = AS_OF) -> list:
        reg = load_registry(make_registry(self.units, self.consortia, self.memberships))
        return [f for f in run_checks(reg, as_of=as_of) if f.rule == rule]


def by_cid(findings: list) -> dict[str, Any]:
    out = {f.consortium_id: f for f in findings}
    assert len(out) == len(findings), "one finding per consortium"
    return out


def errors(findings: list) -> dict[str, Any]:
    return by_cid([f for f in findings if f.severity != "info"])


def infos(findings: list) -> dict[str, Any]:
    return by_cid([f for f in findings if f.severity == "info"])


# ---------------------------------------------------------------- LEAD_TYPE


def test_lead_type_guangxi_needs_a_tech_enterprise(make_registry):
    r = Reg()
    r.lead("OK", "guangxi")
    r.lead("NOTECH", "guangxi", tech_enterprise="false")
    r.lead("UNKNOWN", "guangxi", tech_enterprise="")
    r.lead("UNI", "guangxi", type_="university")
    r.lead("UNI2", "guangxi", type_="institute", tech_enterprise="", exemption="一事一议")
    fs = r.run(make_registry, "LEAD_TYPE")
    got = errors(fs)
    assert set(got) == {"NOTECH", "UNI", "UNI2"}
    assert "not flagged as a tech enterprise" in got["NOTECH"].message
    assert "is of type university" in got["UNI"].message and "Guangxi" in got["UNI"].message
    assert not got["UNI2"].waived  # not qualified by 原则上
    (info,) = infos(fs).values()
    assert info.consortium_id == "UNKNOWN" and info.details == {"checkable": False, "missing": ["tech_enterprise"]}
    assert info.location == "units.csv row 8"


@pytest.mark.parametrize("j", ["nanning", "liuzhou", "liaoyang"])
def test_lead_type_enterprise_only_elsewhere(make_registry, j):
    r = Reg()
    r.lead("OK", j, tech_enterprise="false")  # 科技型 is not required outside Guangxi
    r.lead("INST", j, type_="institute")
    got = by_cid(r.run(make_registry, "LEAD_TYPE"))
    assert set(got) == {"INST"}
    f = got["INST"]
    assert f.severity == "error" and f.uscc == r.units[3]["uscc"] and f.details["value"] == "institute"
    assert f.location == "units.csv row 5"


def test_lead_type_absent_in_nanjing(make_registry):
    r = Reg()
    r.lead("LAB", "nanjing", type_="institute")  # a 省实验室 may lead there
    assert r.run(make_registry, "LEAD_TYPE") == []


def test_lead_type_checks_each_of_two_liuzhou_leads(make_registry):
    r = Reg()
    r.lead("LZ", "liuzhou")
    second = r.unit("柳州市", "university", **GOOD)
    r.memberships.append({"consortium_id": "LZ", "uscc": second, "role": "lead"})
    (f,) = r.run(make_registry, "LEAD_TYPE")
    assert f.uscc == second and f.consortium_id == "LZ"


# ---------------------------------------------------------------- LEAD_LOCATION


def test_lead_location_guangxi_main_business_anywhere_in_the_region(make_registry):
    r = Reg()
    r.lead("LZ", "guangxi", city="柳州市")
    r.lead("MOVED", "guangxi", city="北京市", ops_city="南宁")  # registered elsewhere, operating in Guangxi
    r.lead("AWAY", "guangxi", city="南宁市", ops_city="深圳市")  # registered in Guangxi, operating elsewhere
    r.lead("NOCITY", "guangxi", city="")
    r.lead("MARS", "guangxi", city="火星市", exemption="一事一议")
    fs = r.run(make_registry, "LEAD_LOCATION")
    got = errors(fs)
    assert set(got) == {"AWAY"}
    assert got["AWAY"].details == {"value": "深圳市", "threshold": "广西壮族自治区", "basis": "ops_city"}
    assert not got["AWAY"].waived
    unk = infos(fs)
    assert set(unk) == {"NOCITY", "MARS"}
    assert unk["NOCITY"].details["missing"] == ["ops_city", "city"]
    assert "火星市" in unk["MARS"].message and unk["MARS"].details["checkable"] is False


def test_lead_location_nanning_main_business_liuzhou_registration(make_registry):
    r = Reg()
    r.lead("NN-OK", "nanning", city="桂林市", ops_city="南宁市")
    r.lead("NN-BAD", "nanning", city="南宁市", ops_city="柳州市")
    r.lead("NN-DEF", "nanning", city="南宁市")  # ops_city defaults to city
    r.lead("LZ-OK", "liuzhou", city="柳州市", ops_city="南宁市")
    r.lead("LZ-BAD", "liuzhou", city="南宁市", ops_city="柳州市", exemption="一事一议")
    got = by_cid(r.run(make_registry, "LEAD_LOCATION"))
    assert set(got) == {"NN-BAD", "LZ-BAD"}
    assert "has its main business in 柳州市" in got["NN-BAD"].message
    assert "is registered in 南宁市" in got["LZ-BAD"].message and not got["LZ-BAD"].waived


def test_lead_location_liaoyang_registration_waivable(make_registry):
    r = Reg()
    r.lead("DISTRICT", "liaoyang", city="辽阳市白塔区")  # a district of Liaoyang counts
    r.lead("AWAY", "liaoyang", city="北京市")
    r.lead("EX", "liaoyang", city="北京市", exemption="市政府一事一议")
    got = by_cid(r.run(make_registry, "LEAD_LOCATION"))
    assert set(got) == {"AWAY", "EX"}
    assert not got["AWAY"].waived and got["EX"].waived  # 原则上应为注册在辽阳


def test_lead_location_absent_in_nanjing(make_registry):
    r = Reg()
    r.lead("NJ", "nanjing", city="北京市")
    assert r.run(make_registry, "LEAD_LOCATION") == []


# ---------------------------------------------------------------- LEAD_REVENUE


@pytest.mark.parametrize(("j", "lo", "waivable"), [("guangxi", 100000, True), ("nanning", 60000, False)])
def test_lead_revenue_threshold_inclusive(make_registry, j, lo, waivable):
    r = Reg()
    r.lead("AT", j, revenue=lo)
    r.lead("UNDER", j, revenue=lo - 1)
    r.lead("OVER", j, revenue=lo + 1)
    r.lead("EX", j, revenue=lo - 1, exemption="一事一议")
    got = by_cid(r.run(make_registry, "LEAD_REVENUE"))
    assert set(got) == {"UNDER", "EX"}
    f = got["UNDER"]
    assert f.severity == "error" and not f.waived and f.details == {"value": lo - 1, "threshold": lo}
    assert f"{lo - 1}万元" in f.message and f"at least {lo}万元" in f.message
    assert "单位" in f.message and f.uscc in f.message and "consortium UNDER (UNDER联合体)" in f.message
    assert got["EX"].waived is waivable


def test_lead_revenue_accepts_yi_in_the_cell(make_registry):
    r = Reg()
    r.lead("YI", "guangxi", revenue="10亿")
    r.lead("UNDER", "guangxi", revenue="9.9999亿")
    assert set(by_cid(r.run(make_registry, "LEAD_REVENUE"))) == {"UNDER"}


@pytest.mark.parametrize(("sector", "lo"), [("manufacturing", 50000), ("tech_services", 10000)])
def test_lead_revenue_liuzhou_by_sector(make_registry, sector, lo):
    r = Reg()
    r.lead("AT", "liuzhou", sector=sector, revenue=lo)
    r.lead("UNDER", "liuzhou", sector=sector, revenue=lo - 1)
    r.lead("OVER", "liuzhou", sector=sector, revenue=lo + 1)
    r.lead("EX", "liuzhou", sector=sector, revenue=lo - 1, exemption="一事一议")
    got = by_cid(r.run(make_registry, "LEAD_REVENUE"))
    assert set(got) == {"UNDER", "EX"}
    assert got["UNDER"].details == {"value": lo - 1, "threshold": lo, "sector": sector}
    assert sector in got["UNDER"].message and not got["UNDER"].waived and got["EX"].waived


def test_lead_revenue_liuzhou_sector_decides_not_the_bigger_number(make_registry):
    r = Reg()
    r.lead("TECH", "liuzhou", sector="tech_services", revenue=20000)  # enough for services ...
    r.lead("MANU", "liuzhou", sector="manufacturing", revenue=20000)  # ... not for manufacturing
    assert set(by_cid(r.run(make_registry, "LEAD_REVENUE"))) == {"MANU"}


def test_lead_revenue_missing_data_is_not_checkable(make_registry):
    r = Reg()
    r.lead("NOREV", "guangxi", revenue="")
    r.lead("OTHER", "liuzhou", sector="other", revenue=1)
    r.lead("NOSECTOR", "liuzhou", sector="", revenue="")
    got = by_cid(r.run(make_registry, "LEAD_REVENUE"))
    assert set(got) == {"NOREV", "OTHER", "NOSECTOR"}
    assert all(f.severity == "info" and f.details["checkable"] is False and not f.waived for f in got.values())
    assert got["NOREV"].details["missing"] == ["revenue"]
    assert "sector 'other'" in got["OTHER"].message
    assert got["NOSECTOR"].details["missing"] == ["revenue", "sector"]


@pytest.mark.parametrize("j", ["liaoyang", "nanjing"])
def test_lead_revenue_absent_where_the_text_lacks_it(make_registry, j):
    r = Reg()
    r.lead("SMALL", j, revenue=1)
    assert r.run(make_registry, "LEAD_REVENUE") == []


# ---------------------------------------------------------------- LEAD_RD_STAFF


@pytest.mark.parametrize(("j", "lo"), [("guangxi", 30), ("nanning", 20), ("liuzhou", 20)])
def test_lead_rd_staff_threshold_inclusive(make_registry, j, lo):
    r = Reg()
    r.lead("AT", j, rd_staff=lo)
    r.lead("UNDER", j, rd_staff=lo - 1)
    r.lead("OVER", j, rd_staff=lo + 1)
    r.lead("EX", j, rd_staff=lo - 1, exemption="一事一议")
    r.lead("NONE", j, rd_staff="")
    fs = r.run(make_registry, "LEAD_RD_STAFF")
    got = errors(fs)
    assert set(got) == {"UNDER", "EX"}
    assert got["UNDER"].details == {"value": lo - 1, "threshold": lo} and not got["UNDER"].waived
    assert got["EX"].waived  # 原则上 in every text that has it
    assert f"has {lo - 1} full-time R&D staff" in got["UNDER"].message
    assert set(infos(fs)) == {"NONE"}


@pytest.mark.parametrize("j", ["liaoyang", "nanjing"])
def test_lead_rd_staff_absent_where_the_text_lacks_it(make_registry, j):
    r = Reg()
    r.lead("FEW", j, rd_staff=0)
    assert r.run(make_registry, "LEAD_RD_STAFF") == []


# ---------------------------------------------------------------- LEAD_PLATFORM


@pytest.mark.parametrize(("j", "lowest_ok"), [("guangxi", "provincial"), ("nanning", "municipal"),
                                               ("liuzhou", "municipal"), ("liaoyang", "provincial")])
def test_lead_platform_levels_are_ordered(make_registry, j, lowest_ok):
    r = Reg()
    levels = ["none", "municipal", "provincial", "national"]
    for level in levels:
        r.lead(level.upper(), j, platform_level=level)
    r.lead("ZH", j, platform_level="省部级")
    r.lead("EX", j, platform_level="none", exemption="一事一议")
    r.lead("EMPTY", j, platform_level="")
    fs = r.run(make_registry, "LEAD_PLATFORM")
    got = errors(fs)
    failing = {lv.upper() for lv in levels[: levels.index(lowest_ok)]}
    assert set(got) == failing | {"EX"}
    assert not got["EX"].waived  # no text qualifies the platform with 原则上
    details = {k: v for k, v in got["NONE"].details.items() if k != "text_in_force"}  # see test_rules_validity
    assert details == {"value": "none", "threshold": lowest_ok}
    assert set(infos(fs)) == {"EMPTY"}


def test_lead_platform_absent_in_nanjing(make_registry):
    r = Reg()
    r.lead("NJ", "nanjing", platform_level="none")
    assert r.run(make_registry, "LEAD_PLATFORM") == []


# ---------------------------------------------------------------- LEAD_RD_SPEND


@pytest.mark.parametrize(("j", "avg"), [("guangxi", 3000), ("nanning", 1800)])
def test_lead_rd_spend_average_threshold_inclusive(make_registry, j, avg):
    low_share = {"sales_3y": 10_000_000}  # far below 3% whatever the spend: only the average can pass
    r = Reg()
    r.lead("AT", j, rd_spend_3y=3 * avg, **low_share)
    r.lead("UNDER", j, rd_spend_3y=3 * avg - 0.03, **low_share)  # average 0.01万元 short
    r.lead("OVER", j, rd_spend_3y=3 * avg + 0.03, **low_share)
    got = by_cid(r.run(make_registry, "LEAD_RD_SPEND"))
    assert set(got) == {"UNDER"}
    f = got["UNDER"]
    assert f.severity == "error" and f.details["average"] == pytest.approx(avg - 0.01)
    assert f.details["threshold"] == {"min_avg": avg, "min_share": 0.03}
    assert f"at least {avg}万元" in f.message and "or at least 3% of sales" in f.message


@pytest.mark.parametrize("j", ["guangxi", "nanning", "liuzhou", "liaoyang"])
def test_lead_rd_spend_share_threshold_inclusive(make_registry, j):
    r = Reg()
    # Spend of 300 over three years is far below any average: only the share can pass.
    r.lead("AT", j, rd_spend_3y=300, sales_3y=10000)  # 3% exactly
    r.lead("UNDER", j, rd_spend_3y=299, sales_3y=10000)  # 2.99%
    r.lead("OVER", j, rd_spend_3y=301, sales_3y=10000)  # 3.01%
    got = by_cid(r.run(make_registry, "LEAD_RD_SPEND"))
    assert set(got) == {"UNDER"}
    f = got["UNDER"]
    assert f.details["share"] == pytest.approx(0.0299) and "2.99% of sales" in f.message
    assert f.severity == ("warning" if j == "liaoyang" else "error")  # Liaoyang's 3-year totals are a proxy


def test_lead_rd_spend_either_alternative_suffices(make_registry):
    r = Reg()
    r.lead("AVG", "guangxi", rd_spend_3y=9000, sales_3y=1_000_000)  # average 3000, share 0.9%
    r.lead("SHARE", "guangxi", rd_spend_3y=600, sales_3y=20000)  # average 200, share 3%
    r.lead("NEITHER", "guangxi", rd_spend_3y=600, sales_3y=30000)  # average 200, share 2%
    r.lead("AVG-NOSALES", "guangxi", rd_spend_3y=9000, sales_3y="")  # the average alone decides
    r.lead("LOW-NOSALES", "guangxi", rd_spend_3y=600, sales_3y="")  # the share could still pass: not checkable
    r.lead("LOW-ZEROSALES", "guangxi", rd_spend_3y=600, sales_3y=0)
    r.lead("NORD", "guangxi", rd_spend_3y="")
    fs = r.run(make_registry, "LEAD_RD_SPEND")
    assert set(errors(fs)) == {"NEITHER"}
    unk = infos(fs)
    assert set(unk) == {"LOW-NOSALES", "LOW-ZEROSALES", "NORD"}
    assert unk["NORD"].details["missing"] == ["rd_spend_3y"]
    assert unk["LOW-NOSALES"].details["missing"] == ["sales_3y (empty or zero)"]


def test_lead_rd_spend_average_over_years_operated(make_registry):
    r = Reg()
    low = {"sales_3y": 10_000_000}
    r.lead("Y2-AT", "guangxi", rd_spend_3y=6000, years_operating=2, **low)  # 3000 a year over 2 years
    r.lead("Y2-UNDER", "guangxi", rd_spend_3y=5999, years_operating=2, **low)
    r.lead("Y1", "nanning", rd_spend_3y=1800, years_operating=1, **low)  # 1800 in its single year
    r.lead("Y5", "guangxi", rd_spend_3y=6000, years_operating=5, **low)  # over 3 years: 2000
    r.lead("YNONE", "guangxi", rd_spend_3y=6000, years_operating="", **low)  # unknown: 3 years
    r.lead("Y0-OK", "nanning", rd_spend_3y=1800, years_operating=0, **low)  # under a year: at least 1800 a year
    r.lead("Y0-LOW", "nanning", rd_spend_3y=1000, years_operating=0, **low)  # rate over part of a year unknown
    fs = r.run(make_registry, "LEAD_RD_SPEND")
    got = errors(fs)
    assert set(got) == {"Y2-UNDER", "Y5", "YNONE"}
    assert got["Y2-UNDER"].details["years_covered"] == 2 and got["Y2-UNDER"].details["average"] == 2999.5
    assert "over 2 year(s)" in got["Y2-UNDER"].message
    assert got["Y5"].details["average"] == 2000 and got["YNONE"].details["years_covered"] == 3
    assert set(infos(fs)) == {"Y0-LOW"}


def test_lead_rd_spend_waiver_follows_the_text(make_registry):
    r = Reg()
    low = {"rd_spend_3y": 600, "sales_3y": 30000}  # average 200, share 2%
    r.lead("GX", "guangxi", exemption="一事一议", **low)  # 原则上 qualifies the share: waived
    r.lead("NN", "nanning", exemption="一事一议", **low)  # neither alternative says 原则上
    r.lead("LZ", "liuzhou", exemption="一事一议", **low)
    r.lead("LY", "liaoyang", exemption="一事一议", **low)
    r.lead("GX-NOEX", "guangxi", **low)
    got = by_cid(r.run(make_registry, "LEAD_RD_SPEND"))
    assert {c: f.waived for c, f in got.items()} == {"GX": True, "NN": False, "LZ": True, "LY": True, "GX-NOEX": False}
    assert "covers the share alternative" in got["GX"].message


def test_lead_rd_spend_absent_in_nanjing(make_registry):
    r = Reg()
    r.lead("NJ", "nanjing", rd_spend_3y=0, sales_3y=100000)
    assert r.run(make_registry, "LEAD_RD_SPEND") == []


# ---------------------------------------------------------------- LEAD_RD_DEDUCTION


def test_lead_rd_deduction_in_liuzhou(make_registry):
    r = Reg()
    r.lead("YES", "liuzhou", rd_deduction="是")
    r.lead("NO", "liuzhou", rd_deduction="否", exemption="一事一议")
    r.lead("EMPTY", "liuzhou", rd_deduction="")
    fs = r.run(make_registry, "LEAD_RD_DEDUCTION")
    got = errors(fs)
    assert set(got) == {"NO"} and not got["NO"].waived and got["NO"].details == {"value": False, "threshold": True}
    assert "super-deduction" in got["NO"].message
    (info,) = infos(fs).values()
    assert info.consortium_id == "EMPTY" and info.details["missing"] == ["rd_deduction"]


@pytest.mark.parametrize("j", ["guangxi", "nanning", "liaoyang", "nanjing"])
def test_lead_rd_deduction_absent_where_the_text_lacks_it(make_registry, j):
    r = Reg()
    r.lead("NO", j, rd_deduction="false")
    assert r.run(make_registry, "LEAD_RD_DEDUCTION") == []


# ---------------------------------------------------------------- who is a lead


def test_only_active_leads_of_active_consortia_are_checked(make_registry):
    r = Reg()
    r.lead("GONE", "nanning", revenue=1, lead_kw={"left_on": "2026-06-30"})  # left on the as-of date
    r.lead("REVOKED", "nanning", revenue=1, status="revoked")
    r.lead("ENDED", "nanning", revenue=1, status="terminated")
    r.lead("LATER", "nanning", revenue=1, lead_kw={"joined_on": "2026-07-01"})
    r.lead("STAYS", "nanning", revenue=1, lead_kw={"left_on": "2026-07-01"})  # still the lead on the date
    r.lead("CORE", "nanning")
    r.memberships.append({"consortium_id": "CORE", "uscc": r.unit("南宁市", revenue=1), "role": "core"})  # not a lead
    got = by_cid(r.run(make_registry, "LEAD_REVENUE"))
    assert set(got) == {"STAYS"}
    assert set(by_cid(r.run(make_registry, "LEAD_REVENUE", as_of="2026-06-29"))) == {"GONE", "STAYS"}


def test_lead_finding_points_at_the_units_row(make_registry):
    r = Reg()
    r.lead("A", "nanning")
    lead = r.lead("B", "nanning", rd_staff=5)
    (f,) = r.run(make_registry, "LEAD_RD_STAFF")
    assert (f.consortium_id, f.uscc, f.jurisdiction) == ("B", lead, "nanning")
    assert f.location == "units.csv row 5"  # header, then A's three units, then B's lead
    assert "南宁市创新联合体管理办法" in f.citation and "第五条（二）2" in f.citation
