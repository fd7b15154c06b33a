"""Data-quality rules about unit identity: valid codes, regions, duplicates.

These hold whatever the jurisdiction, so they cite GB 32100-2015 and carry no
jurisdiction; ``details['jurisdictions']`` names the jurisdictions whose
consortia the unit is in, so an officer can filter to their own.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from .. import geo
from ..findings import Finding
from ..loaders.text import norm
from ..uscc import FOREIGN_PREFIX, validate_codes
from .engine import Context, register
from .rulebook import Rule

__all__: list[str] = []

_INVISIBLE = "\ufeff\u200b\u200c\u200d\u2060\u00ad"
_SPACE = re.compile(r"\s+")


def _unit_jurisdictions(ctx: Context, codes: Iterable[str]) -> dict[str, list[str]]:
    """For the units ``codes`` only (the few with findings): the jurisdictions of their consortia."""
    reg = ctx.registry
    codes = list(codes)
    mu = reg.link("memberships", "uscc", "units")
    mc = reg.link("memberships", "consortium_id", "consortia")
    pos = ctx.unit_index().get_indexer(codes) if mu is not None and mc is not None else None
    if pos is None or (pos < 0).any() or (mu < 0).any() or (mc < 0).any():
        m = reg.memberships
        m = m[m["uscc"].isin(codes)][["consortium_id", "uscc"]].merge(
            reg.consortia[["consortium_id", "jurisdiction"]], on="consortium_id")
        return m.groupby("uscc")["jurisdiction"].agg(lambda s: sorted(set(s))).to_dict()
    # The loader's links: the memberships of these units found by position, not by
    # hashing three million codes again (a quarter of a second per rule at national scale).
    wanted = np.zeros(len(reg.units), dtype=bool)
    wanted[pos] = True
    rows = np.flatnonzero(wanted[mu])
    pairs = pd.DataFrame({"uscc": reg.units["uscc"].to_numpy(dtype=object)[mu[rows]],
                          "jurisdiction": reg.consortia["jurisdiction"].to_numpy(dtype=object)[mc[rows]]})
    return pairs.groupby("uscc")["jurisdiction"].agg(lambda s: sorted(set(s))).to_dict()


def _reasons(ctx: Context) -> np.ndarray:
    """Why each code of the units table is invalid ('' when valid), computed once per run."""
    if "uscc_reasons" not in ctx.cache:
        ctx.cache["uscc_reasons"] = validate_codes(ctx.registry.units["uscc"].to_numpy())
    return ctx.cache["uscc_reasons"]


@register("USCC_INVALID", common=True)
def uscc_invalid(ctx: Context, rule: Rule) -> list[Finding]:
    units, dups = ctx.registry.units, ctx.registry.duplicate_units
    reasons = np.concatenate([_reasons(ctx), validate_codes(dups["uscc"].to_numpy())])
    bad = np.flatnonzero(reasons != "")
    if not len(bad):
        return []

    def column(name: str) -> list[Any]:
        # The units table, then the repeated rows set aside by the loader, at the bad positions only.
        return np.concatenate([units[name].to_numpy(dtype=object), dups[name].to_numpy(dtype=object)])[bad].tolist()

    codes = column("uscc")
    juris = _unit_jurisdictions(ctx, codes)
    out = []
    for uscc, name, row, reason in zip(codes, column("name"), column("_row"), reasons[bad].tolist(), strict=True):
        out.append(Finding(
            "USCC_INVALID", rule.severity, False, None, None, uscc,
            f"{name}: unified social credit code {uscc!r} is invalid: {reason}.",
            rule.citation, ctx.location("units", int(row)),
            {"reason": reason, "jurisdictions": juris.get(uscc, [])},
        ))
    return out


@register("USCC_REGION_MISMATCH", common=True)
def uscc_region(ctx: Context, rule: Rule) -> list[Finding]:
    units = ctx.registry.units
    codes = units["uscc"].to_numpy(dtype=object)  # text: the column is required
    checkable = np.fromiter((len(c) == 18 and not c.startswith(FOREIGN_PREFIX) for c in codes), dtype=bool,
                            count=len(codes)) & (units["city"] != "").to_numpy()
    u = units[checkable]
    if u.empty:
        return []
    city = geo.normalize_cities(u["city"])
    code4 = np.array([c[2:6] for c in codes[checkable]], dtype=object)
    valid = _reasons(ctx)[checkable] == ""
    # Judged once per distinct (city, division prefix): a registry holds a few thousand.
    c_codes, c_uniques = pd.factorize(city, use_na_sentinel=True)
    p_codes, p_uniques = pd.factorize(code4)
    width = max(len(p_uniques), 1)
    pairs, inverse = np.unique((c_codes.astype(np.int64) + 1) * width + p_codes, return_inverse=True)
    prefixes = [(), *[geo.city_prefixes(c) if c else () for c in c_uniques]]
    judged = np.array([bool(p) and c4 not in p
                       for p, c4 in zip([prefixes[i] for i in pairs // width], p_uniques[pairs % width], strict=True)],
                      dtype=bool)
    hits = np.flatnonzero(judged[inverse] & valid)
    if not len(hits):
        return []
    juris = _unit_jurisdictions(ctx, u["uscc"].iloc[hits])
    out = []
    for uscc, name, declared, row in zip(u["uscc"].iloc[hits], u["name"].iloc[hits], city.iloc[hits],
                                         u["_row"].iloc[hits], strict=True):
        coded = geo.city_of_division(uscc[2:8]) or f"division {uscc[2:8]}"
        out.append(Finding(
            "USCC_REGION_MISMATCH", rule.severity, False, None, None, uscc,
            f"{name} declares registration in {declared} but its code {uscc} was issued in {coded}.",
            rule.citation, ctx.location("units", int(row)),
            {"declared_city": declared, "code_city": coded, "jurisdictions": juris.get(uscc, [])},
        ))
    return out


def name_keys(names: pd.Series) -> np.ndarray:
    """Each name as compared for duplicates: :func:`~consortia.loaders.text.norm` with
    every space removed. The column is normalised as one string (NFKC, case folding
    and the removals act character by character), not one call per unit."""
    cells = names.astype(str).to_numpy(dtype=object)
    joined = "\x00".join(cells)
    if len(cells) and joined.count("\x00") == len(cells) - 1:
        text = unicodedata.normalize("NFKC", joined)
        for ch in _INVISIBLE:
            if ch in text:
                text = text.replace(ch, "")
        text = _SPACE.sub("", text.casefold())
        return np.array(text.split("\x00"), dtype=object)
    return np.array(["".join(norm(str(v)).split()) for v in cells], dtype=object)


@register("DUPLICATE_UNIT", common=True)
def duplicate_unit(ctx: Context, rule: Rule) -> list[Finding]:
    units = ctx.registry.units
    out = []
    dups = ctx.registry.duplicate_units
    first = units["_row"].to_numpy()[pd.Index(units["uscc"]).get_indexer(dups["uscc"])] if len(dups) else []
    first_row = dict(zip(dups["uscc"], first, strict=True))
    for _, row in dups.iterrows():
        out.append(Finding(
            "DUPLICATE_UNIT", rule.severity, False, None, None, row["uscc"],
            f"Code {row['uscc']} is listed twice in the units table (rows {first_row[row['uscc']]} and "
            f"{row['_row']}); row {first_row[row['uscc']]} is used.",
            rule.citation, ctx.location("units", int(row["_row"])),
            {"rows": [int(first_row[row["uscc"]]), int(row["_row"])]},
        ))
    key = pd.Series(name_keys(units["name"]), index=units.index, dtype=object)
    dup_name = ((key != "") & key.duplicated(keep=False)).to_numpy()
    multi = units[dup_name].assign(_key=key.to_numpy()[dup_name])
    for _, g in multi.groupby("_key", sort=True):
        codes = list(g["uscc"])
        out.append(Finding(
            "DUPLICATE_UNIT", rule.severity, False, None, None, codes[0],
            f"The name {g['name'].iloc[0]} appears under {len(codes)} codes: {', '.join(codes)}.",
            rule.citation, ctx.location("units", int(g["_row"].iloc[0])),
            {"codes": codes, "rows": [int(r) for r in g["_row"]]},
        ))
    return out
