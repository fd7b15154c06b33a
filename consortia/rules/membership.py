"""Rules about who leads and how many consortia a unit joins.

LEAD_COUNT is checked per consortium record. LEAD_SINGLE and MEMBER_CAP count
distinct bodies (records linked by ``recognized_from`` are one) across every
jurisdiction in the registry, and are reported under each jurisdiction whose
text carries the rule and in which the unit holds such a membership.
"""

from __future__ import annotations

import pandas as pd

from ..findings import Finding
from ..state import active_consortia
from .engine import Context, register
from .rulebook import Rule, Rulebook

__all__: list[str] = []


def _nonempty(s: pd.Series) -> pd.Series:
    return s.fillna("").astype(str).str.strip() != ""


def _names(ctx: Context) -> pd.Series:
    return ctx.registry.units.set_index("uscc")["name"]


def _juris_label(ctx: Context, j: str) -> str:
    book = ctx.books.get(j)
    return book.name_zh if book else j


@register("LEAD_COUNT")
def lead_count(ctx: Context, scoped: list[tuple[Rulebook, Rule]]) -> list[Finding]:
    cons = active_consortia(ctx.registry, ctx.as_of)
    m = ctx.members
    leads = m[m["role"] == "lead"].groupby("consortium_id")["uscc"].agg(lambda s: sorted(set(s)))
    names = _names(ctx)
    out: list[Finding] = []
    for book, rule in scoped:
        lo, hi = int(rule.params.get("min", 1)), int(rule.params.get("max", 1))
        c = cons[cons["jurisdiction"] == book.jurisdiction]
        lists = c["consortium_id"].map(leads)
        counts = lists.map(lambda x: len(x) if isinstance(x, list) else 0)
        bad = (counts < lo) | (counts > hi)
        for (_, row), who, n in zip(c[bad].iterrows(), lists[bad], counts[bad], strict=True):
            who = who if isinstance(who, list) else []
            allowed = f"exactly {lo}" if lo == hi else f"{lo} to {hi}"
            listed = "; ".join(f"{names.get(u, u)} ({u})" for u in who) or "none"
            out.append(Finding(
                "LEAD_COUNT", rule.severity,
                rule.in_principle and bool(str(row["exemption"]).strip()),
                book.jurisdiction, row["consortium_id"], None,
                f"Consortium {row['consortium_id']} has {n} lead unit(s) ({listed}); "
                f"the {book.name_en} text allows {allowed}.",
                rule.citation, ctx.location("consortia", int(row["_row"])),
                {"leads": who, "min": lo, "max": hi},
            ))
    return out


def _per_body(m: pd.DataFrame) -> pd.DataFrame:
    """One row per (unit, body): when it was first joined, its records and
    jurisdictions, and whether a recorded exemption covers it."""
    m = m.assign(_exempt=_nonempty(m["exemption"]) | _nonempty(m["consortium_exemption"]))
    g = m.groupby(["uscc", "body_id"], sort=False)
    return pd.DataFrame({
        "first_join": g["joined_on"].min(),
        "recognized": g["recognized_on"].min(),
        "records": g["consortium_id"].agg(lambda s: sorted(set(s))),
        "jurisdictions": g["jurisdiction"].agg(lambda s: sorted(set(s))),
        "exempt": g["_exempt"].any(),
    }).reset_index()


def _count_rule(ctx: Context, scoped: list[tuple[Rulebook, Rule]], rule_id: str, m: pd.DataFrame,
                what: str) -> list[Finding]:
    """Shared by LEAD_SINGLE and MEMBER_CAP: too many distinct bodies per unit."""
    if m.empty:
        return []
    smallest = min(int(r.params.get("max", 1)) for _, r in scoped)
    counts = m.groupby("uscc")["body_id"].nunique()
    over = counts[counts > smallest].index
    if over.empty:
        return []
    bodies = _per_body(m[m["uscc"].isin(over)])
    names = _names(ctx)
    cons = ctx.registry.consortia
    jur_of = dict(zip(cons["consortium_id"], cons["jurisdiction"], strict=True))
    out: list[Finding] = []
    for uscc, b in bodies.groupby("uscc", sort=True):
        b = b.sort_values(["first_join", "recognized", "body_id"], na_position="first")
        held = sorted({j for js in b["jurisdictions"] for j in js})
        by_j = {j: sorted({c for cs in b["records"] for c in cs if jur_of[c] == j}) for j in held}
        breakdown = ", ".join(f"{_juris_label(ctx, j)} {len(cs)} ({', '.join(cs)})" for j, cs in by_j.items())
        for book, rule in scoped:
            cap = int(rule.params.get("max", 1))
            if len(b) <= cap or book.jurisdiction not in held:
                continue
            excess = b.iloc[cap:]
            waived = rule.in_principle and bool(excess["exempt"].all())
            out.append(Finding(
                rule_id, rule.severity, waived, book.jurisdiction, None, str(uscc),
                f"{names.get(uscc, uscc)} ({uscc}) {what} {len(b)} distinct consortia: {breakdown}; "
                f"the {book.name_en} text allows at most {cap}.",
                rule.citation, "",
                {"count": len(b), "max": cap, "by_jurisdiction": by_j,
                 "bodies": list(b["body_id"]), "excess": list(excess["body_id"]),
                 "exempted": [bool(x) for x in excess["exempt"]]},
            ))
    return out


@register("LEAD_SINGLE")
def lead_single(ctx: Context, scoped: list[tuple[Rulebook, Rule]]) -> list[Finding]:
    m = ctx.members
    return _count_rule(ctx, scoped, "LEAD_SINGLE", m[m["role"] == "lead"], "leads")


@register("MEMBER_CAP")
def member_cap(ctx: Context, scoped: list[tuple[Rulebook, Rule]]) -> list[Finding]:
    return _count_rule(ctx, scoped, "MEMBER_CAP", ctx.members, "takes part in")
