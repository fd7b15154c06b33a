"""Rules about how a consortium is composed: member counts, local shares, enterprise counts, unit types.

Every rule here is checked once per consortium record in force on the as-of
date (:func:`~consortia.state.active_consortia`) whose jurisdiction's text
carries it, counting the distinct units with an active membership in that
record (``ctx.members``), the lead included. A unit listed twice in one record
counts once. Findings point at the consortium's row of the consortia table.

Where the data a rule needs is missing (a member with no city, so that the
local share could only be reached by guessing), the rule reports that it could
not be checked, as info, naming what is missing.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .. import geo
from ..findings import Finding
from .engine import Context, finding, register, unchecked
from .labels import consortium_label, listing, unit_label
from .rulebook import Rule, Rulebook

__all__ = ["MemberView", "member_view", "resolve_cities"]

#: Shares are compared with this tolerance, so 3 of 10 is 30% however the float rounds.
EPS = 1e-9
#: How many units a finding names before it says "and N more".
MAX_NAMED = 10
#: Where the shared member view is kept on the engine's context.
_VIEW_ATTR = "_composition_member_view"


# ---------------------------------------------------------------- shared helpers


@functools.cache
def _city_pattern() -> re.Pattern[str]:
    names = sorted(geo.cities_table()["name_zh"], key=len, reverse=True)
    return re.compile("|".join(map(re.escape, names)))


def _city_with_district(text: str) -> str | None:
    """"辽阳市白塔区", "广西南宁市青秀区": the full name of a prefecture-level city
    followed by a district or county, optionally after the country and province.
    Only the full name with its suffix (市, 州, 盟, 地区) is accepted, so "辽阳县"
    stays unknown rather than being guessed."""
    key = re.sub(r"[\s\W_]+", "", unicodedata.normalize("NFKC", text))
    m = _city_pattern().search(key)
    if m is None or m.end() == len(key):  # a bare city name is normalize_city's job
        return None
    head = key[: m.start()].removeprefix("中华人民共和国").removeprefix("中国")
    if head and geo.normalize_province(head) is None:
        return None
    return m.group(0)


def resolve_cities(values: pd.Series) -> pd.Series:
    """Canonical city ("南宁市") of each cell; None where empty or not recognised.

    Adds to :func:`consortia.geo.normalize_city` the districts and counties
    of a city written after its full name ("辽阳市灯塔市" is in 辽阳市). Each
    distinct spelling is resolved once.
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    canon = [geo.normalize_city(u) or (_city_with_district(u) if isinstance(u, str) and u.strip() else None)
             for u in uniques]
    table = np.array([*canon, None], dtype=object)
    return pd.Series(table[codes], index=values.index, name=values.name, dtype=object)




def _listing(labels: Iterable[str]) -> str:
    return listing(labels, MAX_NAMED, "; ")


def _pct(x: float) -> str:
    return f"{x * 100:.1f}%".replace(".0%", "%")


@dataclass
class MemberView:
    """The active memberships reduced to integer positions, computed once per
    run and shared by the composition and lead rules: looking a million unit
    codes up is the costly step, the counting after it is numpy arithmetic.

    ``cons`` holds the consortium records in force; ``mc``/``mu`` give, for
    each distinct (record, unit) with an active membership, the position of
    the record in ``cons`` and of the unit in ``units`` (-1 when the unit is
    not listed); ``lc``/``lu`` the same for distinct active leads.
    """

    cons: pd.DataFrame
    units: pd.DataFrame
    mc: np.ndarray
    mu: np.ndarray
    lc: np.ndarray
    lu: np.ndarray
    cache: dict[str, np.ndarray] = field(default_factory=dict)

    def column(self, name: str, positions: np.ndarray, missing: object = None) -> np.ndarray:
        """``units[name]`` at ``positions`` as an object array; ``missing`` where the position is -1."""
        out = np.full(len(positions), missing, dtype=object)
        known = positions >= 0
        out[known] = self.units[name].iloc[positions[known]].to_numpy(dtype=object, na_value=missing)
        return out

    def is_in(self, name: str, values: Iterable[str], positions: np.ndarray) -> np.ndarray:
        """Whether ``units[name]`` at ``positions`` is one of ``values`` (False at -1).
        The column is factorised once, so a test over millions of members is integer work."""
        key = f"codes:{name}"
        if key not in self.cache:
            codes, uniques = pd.factorize(self.units[name].fillna("").astype(str))
            self.cache[key] = np.append(codes, -1)
            self.cache[f"uniques:{name}"] = np.asarray(uniques, dtype=object)
        uniques = self.cache[f"uniques:{name}"]
        wanted = np.flatnonzero(np.isin(uniques, list(values)))
        return np.isin(self.cache[key][positions], wanted)

    def city(self, basis: str) -> np.ndarray:
        """Per unit: the text the ``basis`` names (``ops_city`` falls back to
        ``city``) and its canonical city (None when empty or unrecognised),
        stacked as a 2 x n object array with a trailing empty slot for -1."""
        if basis not in self.cache:
            where = self.units["city"].fillna("").astype(object)
            if basis == "ops_city":  # the loader strips cells, so empty is ""
                ops = self.units["ops_city"].fillna("").astype(object)
                where = ops.where(ops != "", where)
            canon = resolve_cities(where)
            raw = np.append(where.to_numpy(dtype=object), "")
            self.cache[basis] = np.vstack([raw, np.append(canon.to_numpy(dtype=object), None)])
        return self.cache[basis]


def _distinct(c: np.ndarray, u: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    key = c.astype(np.int64) * (width + 1) + (u.astype(np.int64) + 1)
    keep = ~pd.Series(key).duplicated().to_numpy()
    return c[keep], u[keep]


def member_view(ctx: Context) -> MemberView:
    """The :class:`MemberView` of ``ctx``, built on first use and kept on the context."""
    if _VIEW_ATTR in ctx.cache:
        return ctx.cache[_VIEW_ATTR]
    cons = ctx.in_force().reset_index(drop=True)
    units = ctx.registry.units.reset_index(drop=True)
    m = ctx.members
    c = pd.Index(cons["consortium_id"]).get_indexer(m["consortium_id"])
    u = ctx.unit_positions()
    found = c >= 0  # ctx.members holds only consortia in force; kept safe all the same
    lead = (m["role"] == "lead").to_numpy() & found
    mc, mu = _distinct(c[found], u[found], len(units))
    lc, lu = _distinct(c[lead], u[lead], len(units))
    view = MemberView(cons, units, mc, mu, lc, lu)
    ctx.cache[_VIEW_ATTR] = view
    return view


@dataclass
class _Scope:
    """One jurisdiction's share of the view: its consortium records and members."""

    view: MemberView
    cons: pd.DataFrame  # the records of the jurisdiction, positions 0..k-1
    c: np.ndarray  # per member: position in ``cons``
    u: np.ndarray  # per member: position in the units table

    def count(self, mask: np.ndarray | None = None) -> np.ndarray:
        """Per consortium: members (selected by ``mask``)."""
        c = self.c if mask is None else self.c[mask]
        return np.bincount(c, minlength=len(self.cons))

    def names(self, mask: np.ndarray, which: np.ndarray) -> dict[int, list[str]]:
        """For the consortia at positions ``which``: labels of their members selected by ``mask``."""
        wanted = np.zeros(len(self.cons), dtype=bool)
        wanted[which] = True
        sel = mask & wanted[self.c]
        out: dict[int, list[str]] = {}
        names = self.view.column("name", self.u[sel], "")
        codes = self.view.column("uscc", self.u[sel], "")
        for ci, n, code_ in zip(self.c[sel], names, codes, strict=True):
            out.setdefault(int(ci), []).append(unit_label(n, code_))
        return out


def _scope(ctx: Context, book: Rulebook) -> _Scope:
    view = member_view(ctx)
    in_j = (view.cons["jurisdiction"] == book.jurisdiction).to_numpy()
    pos = np.flatnonzero(in_j)
    renum = np.full(len(view.cons), -1, dtype=np.int64)
    renum[pos] = np.arange(len(pos))
    sel = in_j[view.mc]
    return _Scope(view, view.cons.iloc[pos].reset_index(drop=True), renum[view.mc[sel]], view.mu[sel])


def _rows(cons: pd.DataFrame, mask: np.ndarray) -> Iterable[tuple[int, Any]]:
    """(position, row) of the selected consortia; rows are named tuples with
    ``consortium_id``, ``name``, ``exemption`` and ``row`` (the source row)."""
    pos = np.flatnonzero(mask)
    sub = cons.iloc[pos][["consortium_id", "name", "exemption", "_row"]].rename(columns={"_row": "row"})
    return zip(pos.tolist(), sub.itertuples(index=False), strict=True)


def _cfinding(ctx: Context, book: Rulebook, rule: Rule, row: Any, message: str, details: dict[str, Any]) -> Finding:
    return finding(ctx, book, rule, message, consortium_id=row.consortium_id, table="consortia", row=int(row.row),
                   exemption=row.exemption, details=details)


def _cunchecked(ctx: Context, book: Rulebook, rule: Rule, row: Any, missing: list[str],
                details: dict[str, Any] | None = None) -> Finding:
    f = unchecked(ctx, book, rule, f"consortium {consortium_label(row.consortium_id, row.name)}", missing,
                  consortium_id=row.consortium_id, table="consortia", row=int(row.row))
    f.details.update(details or {})
    return f


_NO_MEMBERS = ["active members (none on the as-of date)"]


# ---------------------------------------------------------------- the rules


@register("MIN_MEMBERS")
def min_members(ctx: Context, scoped: list[tuple[Rulebook, Rule]]) -> list[Finding]:
    """At least ``min`` active member units, the lead included."""
    out: list[Finding] = []
    for book, rule in scoped:
        lo = int(rule.params["min"])
        sc = _scope(ctx, book)
        n = sc.count()
        for i, row in _rows(sc.cons, n < lo):
            out.append(_cfinding(
                ctx, book, rule, row,
                f"Consortium {consortium_label(row.consortium_id, row.name)} has {n[i]} active member units, "
                f"the lead included; the {book.name_en} text requires at least {lo}.",
                {"value": int(n[i]), "threshold": lo},
            ))
    return out


@register("LOCAL_SHARE")
def local_share(ctx: Context, scoped: list[tuple[Rulebook, Rule]]) -> list[Finding]:
    """At least ``min_share`` of active members in ``place``, judged by ``basis``
    (``city``: registration; ``ops_city``: main business, defaulting to city).

    Members whose city is empty or not recognised are not counted as local;
    when the share would reach the threshold only by counting them, the rule
    is reported as not checkable, naming them.
    """
    out: list[Finding] = []
    for book, rule in scoped:
        share_min = float(rule.params["min_share"])
        basis = str(rule.params.get("basis", "city"))
        place = geo.normalize_city(rule.params["place"]) or str(rule.params["place"])
        sc = _scope(ctx, book)
        canon = sc.view.city(basis)[1][sc.u]
        local_mask = canon == place
        unknown_mask = pd.isna(canon)
        n, local, unknown = sc.count(), sc.count(local_mask), sc.count(unknown_mask)
        total = np.maximum(n, 1)
        share = local / total
        upper = (local + unknown) / total
        empty = n == 0
        fail = ~empty & (upper < share_min - EPS)
        undecided = ~empty & (share < share_min - EPS) & ~fail
        unknown_names = sc.names(unknown_mask, np.flatnonzero(fail | undecided))
        column = "ops_city (or city)" if basis == "ops_city" else "city"
        what = "have their main business in" if basis == "ops_city" else "are registered in"
        for _, row in _rows(sc.cons, empty):
            out.append(_cunchecked(ctx, book, rule, row, _NO_MEMBERS))
        for i, row in _rows(sc.cons, undecided | fail):
            names = unknown_names.get(i, [])
            details = {"value": float(share[i]), "threshold": share_min, "local": int(local[i]), "members": int(n[i]),
                       "unknown": int(unknown[i]), "unknown_units": names, "basis": basis, "place": place}
            if undecided[i]:
                out.append(_cunchecked(ctx, book, rule, row, [f"a recognisable {column} for {_listing(names)}"],
                                       details))
                continue
            extra = (f" ({unknown[i]} member(s) with no recognisable {column} were not counted as local: "
                     f"{_listing(names)})") if unknown[i] else ""
            out.append(_cfinding(
                ctx, book, rule, row,
                f"Consortium {consortium_label(row.consortium_id, row.name)}: {local[i]} of {n[i]} active member "
                f"units ({_pct(share[i])}) {what} {place}{extra}; the {book.name_en} text requires at least "
                f"{_pct(share_min)}.",
                details,
            ))
    return out


@register("MIN_ENTERPRISES")
def min_enterprises(ctx: Context, scoped: list[tuple[Rulebook, Rule]]) -> list[Finding]:
    """At least ``min_count`` enterprises, or enterprises making up at least
    ``min_share`` of active members (the lead included)."""
    out: list[Finding] = []
    for book, rule in scoped:
        sc = _scope(ctx, book)
        n = sc.count()
        ent = sc.count(sc.view.is_in("type", ["enterprise"], sc.u))
        if "min_count" in rule.params:
            lo = int(rule.params["min_count"])
            for i, row in _rows(sc.cons, ent < lo):
                out.append(_cfinding(
                    ctx, book, rule, row,
                    f"Consortium {consortium_label(row.consortium_id, row.name)} has {ent[i]} enterprise(s) among "
                    f"its {n[i]} active member units; the {book.name_en} text requires at least {lo}.",
                    {"value": int(ent[i]), "threshold": lo, "members": int(n[i])},
                ))
        if "min_share" in rule.params:
            share_min = float(rule.params["min_share"])
            share = ent / np.maximum(n, 1)
            empty = n == 0
            for _, row in _rows(sc.cons, empty):
                out.append(_cunchecked(ctx, book, rule, row, _NO_MEMBERS))
            for i, row in _rows(sc.cons, ~empty & (share < share_min - EPS)):
                out.append(_cfinding(
                    ctx, book, rule, row,
                    f"Consortium {consortium_label(row.consortium_id, row.name)}: {ent[i]} of {n[i]} active member "
                    f"units ({_pct(share[i])}) are enterprises; the {book.name_en} text requires at least "
                    f"{_pct(share_min)}.",
                    {"value": float(share[i]), "threshold": share_min, "enterprises": int(ent[i]), "members": int(n[i])},
                ))
    return out


@register("UNIT_TYPES")
def unit_types(ctx: Context, scoped: list[tuple[Rulebook, Rule]]) -> list[Finding]:
    """Active members span at least ``min_types`` of the text's categories
    (``groups`` maps each category to unit types). A member whose type is
    missing is not counted and is named in the finding."""
    out: list[Finding] = []
    for book, rule in scoped:
        lo = int(rule.params["min_types"])
        groups = {str(k): [str(t) for t in v] for k, v in rule.params["groups"].items()}
        sc = _scope(ctx, book)
        present = np.zeros((len(groups), len(sc.cons)), dtype=bool)
        for gi, members in enumerate(groups.values()):
            present[gi] = sc.count(sc.view.is_in("type", members, sc.u)) > 0
        k = present.sum(axis=0)
        bad = k < lo
        typed = sc.view.is_in("type", [t for ts in groups.values() for t in ts], sc.u)
        untyped = sc.names(~typed, np.flatnonzero(bad))
        group_names = list(groups)
        for i, row in _rows(sc.cons, bad):
            found = [g for gi, g in enumerate(group_names) if present[gi, i]]
            names = untyped.get(i, [])
            extra = f"; not counted, type missing: {_listing(names)}" if names else ""
            out.append(_cfinding(
                ctx, book, rule, row,
                f"Consortium {consortium_label(row.consortium_id, row.name)}: its active members are of {k[i]} "
                f"type(s) ({', '.join(found) or 'none'}){extra}; the {book.name_en} text requires at least {lo} "
                f"of {', '.join(group_names)}.",
                {"value": int(k[i]), "threshold": lo, "types": found, "untyped_units": names},
            ))
    return out


@register("ACADEMIC_MEMBER")
def academic_member(ctx: Context, scoped: list[tuple[Rulebook, Rule]]) -> list[Finding]:
    """At least one active member of the ``types`` given (university, institute)."""
    out: list[Finding] = []
    for book, rule in scoped:
        types = [str(t) for t in rule.params["types"]]
        sc = _scope(ctx, book)
        n = sc.count()
        acad = sc.count(sc.view.is_in("type", types, sc.u))
        for i, row in _rows(sc.cons, acad < 1):
            out.append(_cfinding(
                ctx, book, rule, row,
                f"Consortium {consortium_label(row.consortium_id, row.name)} has no {' or '.join(types)} among its "
                f"{n[i]} active member units; the {book.name_en} text requires at least 1.",
                {"value": 0, "threshold": 1, "types": types, "members": int(n[i])},
            ))
    return out
