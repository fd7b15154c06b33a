"""Rules about who leads and how many consortia a unit joins.

LEAD_COUNT is checked per consortium record. LEAD_SINGLE and MEMBER_CAP count
distinct bodies (records linked by ``recognized_from`` are one) across every
jurisdiction in the registry, and are reported under each jurisdiction whose
text carries the rule and in which the unit holds such a membership.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..codes import run_starts, unique_sorted
from ..findings import Finding
from ..schema import DATE_DTYPE
from .engine import Context, register
from .labels import listing
from .rulebook import Rule, Rulebook

__all__: list[str] = []


def _nonempty(s: pd.Series) -> np.ndarray:
    """Cells holding more than spaces. Only the non-empty cells (a few: exemptions
    are rare) are stripped to tell."""
    cells = s.to_numpy(dtype=object, na_value="")
    out = cells != ""
    idx = np.flatnonzero(out)
    if len(idx):
        out[idx] = [bool(str(v).strip()) for v in cells[idx]]
    return out


def _names_of(ctx: Context, codes: list[str]) -> list[str]:
    """The unit name of each code (the code itself for a unit not listed)."""
    units = ctx.registry.units
    pos = pd.Index(units["uscc"]).get_indexer(codes)
    names = units["name"].to_numpy(dtype=object)
    return [str(names[p]) if p >= 0 else c for p, c in zip(pos.tolist(), codes, strict=True)]


def _juris_label(ctx: Context, j: str) -> str:
    book = ctx.books.get(j)
    return book.name_zh if book else j


@register("LEAD_COUNT")
def lead_count(ctx: Context, scoped: list[tuple[Rulebook, Rule]]) -> list[Finding]:
    cons = ctx.in_force()
    m = ctx.members
    leads = m.loc[(m["role"] == "lead").to_numpy(), ["consortium_id", "uscc"]].drop_duplicates()
    counts = leads["consortium_id"].value_counts()
    out: list[Finding] = []
    for book, rule in scoped:
        lo, hi = int(rule.params.get("min", 1)), int(rule.params.get("max", 1))
        c = cons[(cons["jurisdiction"] == book.jurisdiction).to_numpy()]
        n = c["consortium_id"].map(counts).fillna(0).astype(np.int64).to_numpy()
        bad = (n < lo) | (n > hi)
        if not bad.any():
            continue
        c = c[bad]
        who = leads[leads["consortium_id"].isin(c["consortium_id"])].sort_values(["consortium_id", "uscc"])
        lists: dict[str, list[str]] = {}
        for cid, u in zip(who["consortium_id"].tolist(), who["uscc"].tolist(), strict=True):
            lists.setdefault(cid, []).append(u)
        codes = who["uscc"].tolist()
        label = dict(zip(codes, _names_of(ctx, codes), strict=True))
        allowed = f"exactly {lo}" if lo == hi else f"{lo} to {hi}"
        for cid, exemption, row, k in zip(c["consortium_id"].tolist(), c["exemption"].tolist(), c["_row"].tolist(),
                                          n[bad].tolist(), strict=True):
            who_ = lists.get(cid, [])
            listed = "; ".join(f"{label[u]} ({u})" for u in who_) or "none"
            out.append(Finding(
                "LEAD_COUNT", rule.severity,
                rule.in_principle and bool(str(exemption).strip()),
                book.jurisdiction, cid, None,
                f"Consortium {cid} has {k} lead unit(s) ({listed}); "
                f"the {book.name_en} text allows {allowed}.",
                rule.citation, ctx.location("consortia", int(row)),
                {"leads": who_, "min": lo, "max": hi},
            ))
    return out


def _codes(ctx: Context, column: str, sort: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """``ctx.members[column]`` as integer codes, with the values; computed once per run.
    With ``sort`` the codes are numbered in sorted order of the values (so sorting
    codes sorts values)."""
    key = f"membership:codes:{column}:{sort}"
    if key not in ctx.cache and column == "uscc" and not sort:
        pos = ctx.unit_positions()  # shared with the composition rules; any listed unit has one
        if (pos >= 0).all():
            ctx.cache[key] = (pos, ctx.registry.units["uscc"].to_numpy(dtype=object))
    if key not in ctx.cache:
        codes, uniques = pd.factorize(ctx.members[column].to_numpy(dtype=object), sort=sort)
        ctx.cache[key] = (codes.astype(np.int64), np.asarray(uniques, dtype=object))
    return ctx.cache[key]


_NAT = np.iinfo(np.int64).min
_END = np.iinfo(np.int64).max


def _earliest(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Per run beginning at ``starts``: the earliest date as int64 microseconds, NaT
    (the smallest int64, sorting first) when every date of the run is missing."""
    v = np.where(values == _NAT, _END, values)
    first = np.minimum.reduceat(v, starts)
    return np.where(first == _END, _NAT, first)


def _runs(keys: np.ndarray) -> np.ndarray:
    """Start of each run of equal values in sorted ``keys``, and the end of the last."""
    return np.r_[run_starts(keys), len(keys)]


def _count_rule(ctx: Context, scoped: list[tuple[Rulebook, Rule]], rule_id: str, mask: np.ndarray,
                what: str) -> list[Finding]:
    """Shared by LEAD_SINGLE and MEMBER_CAP: too many distinct bodies per unit,
    counting the active memberships selected by ``mask``.

    The counting is integer work on codes of units and bodies (distinct pairs, then
    per unit); Python only spells out the findings, one over-cap unit at a time.
    Each unit's bodies are listed in joining order: first joined, then recognised,
    then body id, undated first; those beyond the cap must each be exempted.
    """
    if not mask.any():
        return []
    m = ctx.members
    smallest = min(int(r.params.get("max", 1)) for _, r in scoped)
    u_all, units = _codes(ctx, "uscc", sort=False)  # a million codes: sorted below, only those over the cap
    b_all, bodies = _codes(ctx, "body_id")
    nb = max(len(bodies), 1)
    rows = np.flatnonzero(mask)
    key = u_all[rows] * nb + b_all[rows]
    pairs = unique_sorted(key)
    counts = np.bincount(pairs // nb, minlength=len(units))
    over = counts > smallest
    if not over.any():
        return []
    rows = rows[over[u_all[rows]]]
    # Number the over-cap units in the order of their codes, so that units come out sorted.
    over_units = np.flatnonzero(over)
    rank = np.full(len(units), -1, dtype=np.int64)
    rank[over_units[np.argsort(units[over_units], kind="stable")]] = np.arange(len(over_units))
    units = units[over_units[np.argsort(units[over_units], kind="stable")]]
    u_all = rank[u_all]
    # One entry per (unit, body) of the over-cap units, in (unit, body) order.
    key = u_all[rows] * nb + b_all[rows]
    order = np.argsort(key, kind="stable")
    rows, key = rows[order], key[order]
    starts = _runs(key)[:-1]
    joined = m["joined_on"].to_numpy(dtype=DATE_DTYPE).view(np.int64)[rows]
    recognized = m["recognized_on"].to_numpy(dtype=DATE_DTYPE).view(np.int64)[rows]
    exempt = (_nonempty(m["exemption"].iloc[rows]) | _nonempty(m["consortium_exemption"].iloc[rows])).astype(np.int8)
    g_unit, g_body = key[starts] // nb, key[starts] % nb
    g_join, g_rec = _earliest(joined, starts), _earliest(recognized, starts)
    g_exempt = np.maximum.reduceat(exempt, starts).astype(bool)
    # Within each unit: joining order (body codes are numbered in the order of their ids).
    order = np.lexsort((g_body, g_rec, g_join, g_unit))
    g_unit, b_body, b_exempt = g_unit[order], bodies[g_body[order]].tolist(), g_exempt[order].tolist()
    body_runs = _runs(g_unit)
    # The records each unit holds, by jurisdiction (a record has one jurisdiction).
    j_all, jurs = _codes(ctx, "jurisdiction")
    c_all, cids = _codes(ctx, "consortium_id")
    nj, nc = max(len(jurs), 1), max(len(cids), 1)
    recs = unique_sorted((u_all[rows] * nj + j_all[rows]) * nc + c_all[rows])
    r_cid = cids[recs % nc].tolist()
    # Runs of (unit, jurisdiction) in the sorted records, then the runs of each unit among them.
    uj = recs // nc
    uj_runs = _runs(uj)
    uj_first = uj[uj_runs[:-1]]
    uj_jur = jurs[uj_first % nj].tolist()
    uj_from, uj_to = uj_runs[:-1].tolist(), uj_runs[1:].tolist()
    unit_runs = _runs(uj_first // nj)
    codes = units[g_unit[body_runs[:-1]]].tolist()
    name_of = dict(zip(codes, _names_of(ctx, codes), strict=True))
    labels = {j: _juris_label(ctx, j) for j in set(uj_jur)}
    rules = [(book, rule, int(rule.params.get("max", 1))) for book, rule in scoped]
    out: list[Finding] = []
    for uscc, b0, b1, k0, k1 in zip(codes, body_runs[:-1].tolist(), body_runs[1:].tolist(),
                                    unit_runs[:-1].tolist(), unit_runs[1:].tolist(), strict=True):
        uscc = str(uscc)
        n = b1 - b0
        by_j = {uj_jur[k]: r_cid[uj_from[k]:uj_to[k]] for k in range(k0, k1)}
        # Each jurisdiction's consortia as the other rules list things (the first few and how
        # many more): a hub in hundreds stays one readable line; details keep every id.
        breakdown = ", ".join(f"{labels[j]} {len(cs)} ({listing(cs)})" for j, cs in by_j.items())
        name = name_of[uscc]
        for book, rule, cap in rules:
            if n <= cap or book.jurisdiction not in by_j:
                continue
            exempted = b_exempt[b0 + cap:b1]
            out.append(Finding(
                rule_id, rule.severity, rule.in_principle and all(exempted), book.jurisdiction, None, uscc,
                f"{name} ({uscc}) {what} {n} distinct consortia: {breakdown}; "
                f"the {book.name_en} text allows at most {cap}.",
                rule.citation, "",
                {"count": n, "max": cap, "by_jurisdiction": by_j,
                 "bodies": b_body[b0:b1], "excess": b_body[b0 + cap:b1], "exempted": exempted},
            ))
    return out


@register("LEAD_SINGLE")
def lead_single(ctx: Context, scoped: list[tuple[Rulebook, Rule]]) -> list[Finding]:
    return _count_rule(ctx, scoped, "LEAD_SINGLE", (ctx.members["role"] == "lead").to_numpy(), "leads")


@register("MEMBER_CAP")
def member_cap(ctx: Context, scoped: list[tuple[Rulebook, Rule]]) -> list[Finding]:
    return _count_rule(ctx, scoped, "MEMBER_CAP", np.ones(len(ctx.members), dtype=bool), "takes part in")
