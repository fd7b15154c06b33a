"""Rules about who may lead: type, location, revenue, R&D staff and spending, platform, R&D deduction.

Every rule here is checked for each unit with an active ``lead`` membership
(``ctx.members``) in each consortium record in force on the as-of date whose
jurisdiction's text carries it; where a text allows two leads (Liuzhou) each is
checked. A finding names the lead and its consortium and points at the lead's
row of the units table, since that is where the value is recorded. A recorded
一事一议 exemption of the consortium waives the rules the text qualifies with
原则上.

Thresholds are inclusive (以上, 不低于). A value the check needs but the
registry lacks gives an info finding that says what is missing, never a
guess.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from .. import geo
from ..findings import Finding
from .composition import EPS, consortium_label, member_view, unit_label
from .engine import Context, finding, register, unchecked
from .rulebook import Rule, Rulebook

__all__: list[str] = []

#: Innovation platform levels, lowest first.
PLATFORM_ORDER = {"none": 0, "municipal": 1, "provincial": 2, "national": 3}
PLATFORM_ZH = {"none": "none", "municipal": "municipal (市级)", "provincial": "provincial (省部级)",
               "national": "national (国家级)"}
#: Years the R&D average is taken over (近三个会计年度).
RD_YEARS = 3

_UNIT_COLUMNS = ["uscc", "name", "type", "city", "ops_city", "sector", "revenue", "rd_staff", "rd_spend_3y",
                 "sales_3y", "years_operating", "platform_level", "tech_enterprise", "rd_deduction", "_row"]


def _leads(ctx: Context, book: Rulebook) -> tuple[pd.DataFrame, np.ndarray]:
    """One row per distinct (consortium record, lead unit) of ``book``'s
    jurisdiction: the unit's attributes with the consortium's id, name and
    exemption; and the units' positions in the units table, for the city view.

    Built once per jurisdiction and run, and shared by the seven lead rules
    (callers must not modify it)."""
    key = f"lead:leads:{book.jurisdiction}"
    if key not in ctx.cache:
        ctx.cache[key] = _build_leads(ctx, book)
    return ctx.cache[key]


def _build_leads(ctx: Context, book: Rulebook) -> tuple[pd.DataFrame, np.ndarray]:
    view = member_view(ctx)
    in_j = (view.cons["jurisdiction"] == book.jurisdiction).to_numpy()[view.lc] & (view.lu >= 0)
    lc, lu = view.lc[in_j], view.lu[in_j]
    units = view.units
    leads = units.iloc[lu][[c for c in _UNIT_COLUMNS if c in units.columns]].reset_index(drop=True)
    cons = view.cons.iloc[lc]
    leads["consortium_id"] = cons["consortium_id"].to_numpy()
    leads["consortium_name"] = cons["name"].to_numpy()
    leads["exemption"] = cons["exemption"].to_numpy()
    return leads.rename(columns={"_row": "unit_row"}), lu


def _rows(leads: pd.DataFrame, mask: pd.Series | np.ndarray) -> Iterable[tuple[int, Any]]:
    """(position, row) of the selected leads; positions index the per-lead arrays."""
    pos = np.flatnonzero(np.asarray(mask, dtype=bool))
    return zip(pos.tolist(), leads.iloc[pos].itertuples(index=False), strict=True)


def _who(row: Any) -> str:
    return (f"Lead {unit_label(row.name, row.uscc)} of consortium "
            f"{consortium_label(row.consortium_id, row.consortium_name)}")


def _lfinding(ctx: Context, book: Rulebook, rule: Rule, row: Any, message: str, details: dict[str, Any]) -> Finding:
    row_no = None if pd.isna(row.unit_row) else int(row.unit_row)
    return finding(ctx, book, rule, message, consortium_id=row.consortium_id, uscc=row.uscc, table="units",
                   row=row_no, exemption=row.exemption, details=details)


def _lunchecked(ctx: Context, book: Rulebook, rule: Rule, row: Any, missing: list[str]) -> Finding:
    row_no = None if pd.isna(row.unit_row) else int(row.unit_row)
    what = (f"lead {unit_label(row.name, row.uscc)} of consortium "
            f"{consortium_label(row.consortium_id, row.consortium_name)}")
    return unchecked(ctx, book, rule, what, missing, consortium_id=row.consortium_id, uscc=row.uscc,
                     table="units", row=row_no)


def _num(x: float) -> str:
    """12000 -> "12000", 1234.5 -> "1234.5", for messages."""
    return f"{x:.2f}".rstrip("0").rstrip(".")


def _wan(x: float) -> str:
    return f"{_num(x)}万元"


def _pct(x: float) -> str:
    return f"{x * 100:.2f}".rstrip("0").rstrip(".") + "%"


# ---------------------------------------------------------------- the rules


@register("LEAD_TYPE")
def lead_type(ctx: Context, scoped: list[tuple[Rulebook, Rule]]) -> list[Finding]:
    """The lead's type is one of ``types``; with ``require_tech_enterprise`` it
    must also be flagged a 科技型企业 (tech_enterprise)."""
    out: list[Finding] = []
    for book, rule in scoped:
        types = [str(t) for t in rule.params.get("types", ["enterprise"])]
        need_tech = bool(rule.params.get("require_tech_enterprise", False))
        leads, _ = _leads(ctx, book)
        typ = leads["type"].fillna("").astype(str)
        type_missing = typ.str.strip() == ""
        type_bad = ~type_missing & ~typ.isin(types)
        tech = leads["tech_enterprise"]
        tech_false = (tech.notna() & tech.eq(False)) if need_tech else pd.Series(False, index=leads.index)
        tech_missing = tech.isna() if need_tech else pd.Series(False, index=leads.index)
        wanted = "of type " + " or ".join(types) + (" and flagged as a tech enterprise (科技型企业)" if need_tech else "")
        fail = type_bad | (~type_missing & tech_false)
        for _, row in _rows(leads, fail):
            reasons = []
            if row.type not in types:
                reasons.append(f"is of type {row.type}")
            if need_tech and not pd.isna(row.tech_enterprise) and not bool(row.tech_enterprise):
                reasons.append("is not flagged as a tech enterprise")
            out.append(_lfinding(
                ctx, book, rule, row,
                f"{_who(row)} {' and '.join(reasons)}; the {book.name_en} text requires the lead to be {wanted}.",
                {"value": row.type, "threshold": types, "tech_enterprise": row.tech_enterprise,
                 "require_tech_enterprise": need_tech},
            ))
        undecided = ~fail & (type_missing | (tech_missing & ~type_bad))
        for _, row in _rows(leads, undecided):
            missing = []
            if not str(row.type or "").strip():
                missing.append("type")
            if need_tech and pd.isna(row.tech_enterprise):
                missing.append("tech_enterprise")
            out.append(_lunchecked(ctx, book, rule, row, missing))
    return out


@register("LEAD_LOCATION")
def lead_location(ctx: Context, scoped: list[tuple[Rulebook, Rule]]) -> list[Finding]:
    """The lead's ``basis`` city (``city``: registration; ``ops_city``: main
    business, defaulting to city) is ``place``, or lies in ``province``."""
    out: list[Finding] = []
    for book, rule in scoped:
        basis = str(rule.params.get("basis", "city"))
        leads, lu = _leads(ctx, book)
        raw, canon = member_view(ctx).city(basis)
        where = pd.Series(raw[lu], index=leads.index, dtype=object)
        city = pd.Series(canon[lu], index=leads.index, dtype=object)
        if "place" in rule.params:
            target = geo.normalize_city(rule.params["place"]) or str(rule.params["place"])
            ok = city == target
        else:
            target = geo.normalize_province(rule.params["province"]) or str(rule.params["province"])
            province = {c: geo.province_of(c) for c in city.dropna().unique()}
            ok = city.map(province) == target
        column = "ops_city (or city)" if basis == "ops_city" else "city"
        what = "has its main business in" if basis == "ops_city" else "is registered in"
        known = city.notna()
        for i, row in _rows(leads, known & ~ok):
            out.append(_lfinding(
                ctx, book, rule, row,
                f"{_who(row)} {what} {city.iloc[i]}; the {book.name_en} text requires {target}.",
                {"value": city.iloc[i], "threshold": target, "basis": basis},
            ))
        for i, row in _rows(leads, ~known):
            raw = where.iloc[i].strip()
            missing = [f"a recognisable {column} (got {raw!r})"] if raw else (
                ["ops_city", "city"] if basis == "ops_city" else ["city"])
            out.append(_lunchecked(ctx, book, rule, row, missing))
    return out


@register("LEAD_REVENUE")
def lead_revenue(ctx: Context, scoped: list[tuple[Rulebook, Rule]]) -> list[Finding]:
    """Last year's main-business revenue (万元) at least ``min``, or at least the
    threshold of the lead's sector in ``by_sector``."""
    out: list[Finding] = []
    for book, rule in scoped:
        leads, _ = _leads(ctx, book)
        by_sector = {str(k): float(v) for k, v in (rule.params.get("by_sector") or {}).items()}
        if by_sector:
            threshold = leads["sector"].fillna("").astype(str).map(by_sector).astype(float)
        else:
            threshold = pd.Series(float(rule.params["min"]), index=leads.index)
        revenue = leads["revenue"].astype(float)
        known = revenue.notna() & threshold.notna()
        fail = known & (revenue < threshold)
        for i, row in _rows(leads, fail):
            t = float(threshold.iloc[i])
            sector = f" ({row.sector} sector)" if by_sector else ""
            out.append(_lfinding(
                ctx, book, rule, row,
                f"{_who(row)} had main-business revenue of {_wan(float(row.revenue))} last year; the "
                f"{book.name_en} text requires at least {_wan(t)}{sector}.",
                {"value": float(row.revenue), "threshold": t, **({"sector": row.sector} if by_sector else {})},
            ))
        for i, row in _rows(leads, ~known):
            missing = []
            if pd.isna(row.revenue):
                missing.append("revenue")
            if pd.isna(threshold.iloc[i]):
                sector = str(row.sector or "").strip()
                missing.append(f"a threshold for sector {sector!r} (the text sets one only for "
                               f"{' and '.join(by_sector)})" if sector else "sector")
            out.append(_lunchecked(ctx, book, rule, row, missing))
    return out


@register("LEAD_RD_STAFF")
def lead_rd_staff(ctx: Context, scoped: list[tuple[Rulebook, Rule]]) -> list[Finding]:
    """At least ``min`` full-time R&D staff."""
    out: list[Finding] = []
    for book, rule in scoped:
        lo = int(rule.params["min"])
        leads, _ = _leads(ctx, book)
        staff = leads["rd_staff"].astype(float)
        for _, row in _rows(leads, staff.notna() & (staff < lo)):
            out.append(_lfinding(
                ctx, book, rule, row,
                f"{_who(row)} has {int(row.rd_staff)} full-time R&D staff; the {book.name_en} text requires "
                f"at least {lo}.",
                {"value": int(row.rd_staff), "threshold": lo},
            ))
        for _, row in _rows(leads, staff.isna()):
            out.append(_lunchecked(ctx, book, rule, row, ["rd_staff"]))
    return out


@register("LEAD_PLATFORM")
def lead_platform(ctx: Context, scoped: list[tuple[Rulebook, Rule]]) -> list[Finding]:
    """An innovation platform of level ``min_level`` or higher
    (none < municipal < provincial < national)."""
    out: list[Finding] = []
    for book, rule in scoped:
        lo = str(rule.params["min_level"])
        leads, _ = _leads(ctx, book)
        level = leads["platform_level"].fillna("").astype(str).map(PLATFORM_ORDER)
        fail = level.notna() & (level < PLATFORM_ORDER[lo])
        for _, row in _rows(leads, fail):
            out.append(_lfinding(
                ctx, book, rule, row,
                f"{_who(row)} holds an innovation platform of level {PLATFORM_ZH[row.platform_level]}; the "
                f"{book.name_en} text requires {PLATFORM_ZH[lo]} or higher.",
                {"value": row.platform_level, "threshold": lo},
            ))
        for _, row in _rows(leads, level.isna()):
            out.append(_lunchecked(ctx, book, rule, row, ["platform_level"]))
    return out


@register("LEAD_RD_SPEND")
def lead_rd_spend(ctx: Context, scoped: list[tuple[Rulebook, Rule]]) -> list[Finding]:
    """R&D spending: an annual average of at least ``min_avg`` 万元 or a share of
    sales of at least ``min_share``; either suffices where both are given.

    The average divides ``rd_spend_3y`` by the years it covers: ``years_operating``
    when under three, else three (three when unknown). A firm in its first year
    (``years_operating`` 0) spent at least ``rd_spend_3y`` a year, so it passes
    when that meets the amount, and otherwise the average cannot be judged.
    """
    out: list[Finding] = []
    for book, rule in scoped:
        min_avg = rule.params.get("min_avg")
        min_share = rule.params.get("min_share")
        leads, _ = _leads(ctx, book)
        rd = leads["rd_spend_3y"].astype(float)
        sales = leads["sales_3y"].astype(float)
        years = leads["years_operating"].astype(float)
        covered = years.where(years.notna() & (years < RD_YEARS), RD_YEARS)
        no_rd = rd.isna()
        passed = pd.Series(False, index=leads.index)
        failed_all = ~no_rd  # every alternative given was checked and failed
        avg = pd.Series(np.nan, index=leads.index)
        share = pd.Series(np.nan, index=leads.index)
        share_known = pd.Series(False, index=leads.index)
        avg_known = pd.Series(False, index=leads.index)
        if min_avg is not None:
            avg = rd / covered.clip(lower=1)  # exact, or a lower bound in the first year
            avg_pass = avg >= float(min_avg) - EPS
            avg_known = ~no_rd & ((covered > 0) | avg_pass)
            passed |= avg_known & avg_pass
            failed_all &= avg_known & ~avg_pass
        if min_share is not None:
            share_known = ~no_rd & sales.notna() & (sales > 0)
            share = rd / sales.where(share_known)
            share_pass = share >= float(min_share) - EPS
            passed |= share_known & share_pass
            failed_all &= share_known & ~share_pass
        fail = failed_all & ~passed
        undecided = ~passed & ~fail
        alt = []
        if min_avg is not None:
            alt.append(f"an annual average of at least {_wan(float(min_avg))}")
        if min_share is not None:
            alt.append(f"at least {_pct(float(min_share))} of sales over the same years")
        wanted = " or ".join(alt)
        share_only_waivable = bool(rule.params.get("share_in_principle_only"))
        for i, row in _rows(leads, fail):
            found = []
            details: dict[str, Any] = {"rd_spend_3y": float(row.rd_spend_3y), "years_covered": float(covered.iloc[i]),
                                       "threshold": {}}
            if min_avg is not None:
                found.append(f"an annual average of {_wan(float(avg.iloc[i]))} "
                             f"({_wan(float(row.rd_spend_3y))} over {_num(float(covered.iloc[i]))} year(s))")
                details["average"] = float(avg.iloc[i])
                details["threshold"]["min_avg"] = float(min_avg)
            if min_share is not None:
                found.append(f"{_pct(float(share.iloc[i]))} of sales ({_wan(float(row.rd_spend_3y))} of "
                             f"{_wan(float(row.sales_3y))})")
                details["share"] = float(share.iloc[i])
                details["sales_3y"] = float(row.sales_3y)
                details["threshold"]["min_share"] = float(min_share)
            details["value"] = details.get("average", details.get("share"))
            note = ""
            if share_only_waivable and rule.in_principle and str(row.exemption or "").strip():
                note = " (the recorded exemption covers the share alternative, which the text qualifies with 原则上)"
            out.append(_lfinding(
                ctx, book, rule, row,
                f"{_who(row)} spent on R&D {' and '.join(found)}; the {book.name_en} text requires {wanted}{note}.",
                details,
            ))
        for i, row in _rows(leads, undecided):
            if no_rd.iloc[i]:
                missing = ["rd_spend_3y"]
            else:
                missing = []
                if min_share is not None and not share_known.iloc[i]:
                    missing.append("sales_3y (empty or zero)")
                if min_avg is not None and not avg_known.iloc[i]:
                    missing.append("the annual average (years_operating is 0: under one year of spending)")
            out.append(_lunchecked(ctx, book, rule, row, missing))
    return out


@register("LEAD_RD_DEDUCTION")
def lead_rd_deduction(ctx: Context, scoped: list[tuple[Rulebook, Rule]]) -> list[Finding]:
    """The lead enjoys the R&D super-deduction (rd_deduction true)."""
    out: list[Finding] = []
    for book, rule in scoped:
        leads, _ = _leads(ctx, book)
        flag = leads["rd_deduction"]
        missing = flag.isna()
        fail = ~missing & ~flag.fillna(True).astype(bool)
        for _, row in _rows(leads, fail):
            out.append(_lfinding(
                ctx, book, rule, row,
                f"{_who(row)} is recorded as not enjoying the R&D super-deduction (研发费用加计扣除); the "
                f"{book.name_en} text requires the lead to enjoy it.",
                {"value": False, "threshold": True},
            ))
        for _, row in _rows(leads, missing):
            out.append(_lunchecked(ctx, book, rule, row, ["rd_deduction"]))
    return out
