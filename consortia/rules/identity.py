"""Data-quality rules about unit identity: valid codes, regions, duplicates.

These hold whatever the jurisdiction, so they cite GB 32100-2015 and carry no
jurisdiction; ``details['jurisdictions']`` names the jurisdictions whose
consortia the unit is in, so an officer can filter to their own.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from .. import geo
from ..findings import Finding
from ..loaders.text import norm
from ..uscc import FOREIGN_PREFIX, validate_codes
from .engine import Context, register
from .rulebook import Rule

__all__: list[str] = []


def _unit_jurisdictions(ctx: Context, codes: Iterable[str]) -> dict[str, list[str]]:
    """For the units ``codes`` only (the few with findings): the jurisdictions of their consortia."""
    m = ctx.registry.memberships
    m = m[m["uscc"].isin(list(codes))][["consortium_id", "uscc"]].merge(
        ctx.registry.consortia[["consortium_id", "jurisdiction"]], on="consortium_id")
    return m.groupby("uscc")["jurisdiction"].agg(lambda s: sorted(set(s))).to_dict()


@register("USCC_INVALID", common=True)
def uscc_invalid(ctx: Context, rule: Rule) -> list[Finding]:
    units = pd.concat([ctx.registry.units, ctx.registry.duplicate_units], ignore_index=True)
    reasons = validate_codes(units["uscc"].to_numpy())
    bad = np.flatnonzero(reasons != "")
    if not len(bad):
        return []
    juris = _unit_jurisdictions(ctx, units["uscc"].iloc[bad])
    out = []
    for i in bad:
        row = units.iloc[i]
        out.append(Finding(
            "USCC_INVALID", rule.severity, False, None, None, row["uscc"],
            f"{row['name']}: unified social credit code {row['uscc']!r} is invalid: {reasons[i]}.",
            rule.citation, ctx.location("units", int(row["_row"])),
            {"reason": reasons[i], "jurisdictions": juris.get(row["uscc"], [])},
        ))
    return out


@register("USCC_REGION_MISMATCH", common=True)
def uscc_region(ctx: Context, rule: Rule) -> list[Finding]:
    units = ctx.registry.units
    codes = units["uscc"].astype(str)
    checkable = (codes.str.len() == 18) & ~codes.str.startswith(FOREIGN_PREFIX) & (units["city"] != "")
    u = units[checkable]
    if u.empty:
        return []
    city = geo.normalize_cities(u["city"])
    prefixes = city.map(lambda c: geo.city_prefixes(c) if c else ())
    code4 = u["uscc"].str.slice(2, 6)
    valid = validate_codes(u["uscc"].to_numpy()) == ""
    mismatch = pd.Series([bool(p) and c not in p for p, c in zip(prefixes, code4, strict=True)],
                         index=u.index) & valid
    hits = u.index[mismatch.to_numpy()]
    juris = _unit_jurisdictions(ctx, u.loc[hits, "uscc"])
    out = []
    for idx in hits:
        row = u.loc[idx]
        coded = geo.city_of_division(row["uscc"][2:8]) or f"division {row['uscc'][2:8]}"
        out.append(Finding(
            "USCC_REGION_MISMATCH", rule.severity, False, None, None, row["uscc"],
            f"{row['name']} declares registration in {city[idx]} but its code {row['uscc']} "
            f"was issued in {coded}.",
            rule.citation, ctx.location("units", int(row["_row"])),
            {"declared_city": city[idx], "code_city": coded, "jurisdictions": juris.get(row["uscc"], [])},
        ))
    return out


@register("DUPLICATE_UNIT", common=True)
def duplicate_unit(ctx: Context, rule: Rule) -> list[Finding]:
    units = ctx.registry.units
    out = []
    first_row = dict(zip(units["uscc"], units["_row"], strict=True))
    for _, row in ctx.registry.duplicate_units.iterrows():
        out.append(Finding(
            "DUPLICATE_UNIT", rule.severity, False, None, None, row["uscc"],
            f"Code {row['uscc']} is listed twice in the units table (rows {first_row[row['uscc']]} and "
            f"{row['_row']}); row {first_row[row['uscc']]} is used.",
            rule.citation, ctx.location("units", int(row["_row"])),
            {"rows": [int(first_row[row["uscc"]]), int(row["_row"])]},
        ))
    key = units["name"].map(lambda s: "".join(norm(str(s)).split()))
    named = units.assign(_key=key)[key != ""]
    multi = named[named.duplicated("_key", keep=False)]
    for _, g in multi.groupby("_key", sort=True):
        codes = list(g["uscc"])
        out.append(Finding(
            "DUPLICATE_UNIT", rule.severity, False, None, None, codes[0],
            f"The name {g['name'].iloc[0]} appears under {len(codes)} codes: {', '.join(codes)}.",
            rule.citation, ctx.location("units", int(g["_row"].iloc[0])),
            {"codes": codes, "rows": [int(r) for r in g["_row"]]},
        ))
    return out
