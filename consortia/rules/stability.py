"""LEAD_CHANGE: a consortium keeps the lead it was formed with.

Nanjing 五（三） says the lead may not change while the consortium operates (a change
that is truly needed is made by a supplementary agreement and explained in the annual
report); Liuzhou 七（一） and Liaoyang 第二十三条 say it may not be changed while the
consortium carries out a municipal or higher project (Liaoyang: a change for objective
reasons is filed with the bureau). The registry holds neither agreements nor filings,
so the rulebooks make this a warning: the officer is told that a change happened and
what the text asks for it.

A change is read from the dates of a record's lead memberships: one that ended
(``left_on``) after the record was recognised and by the as-of date, or one that began
(``joined_on``) after recognition and by the as-of date while another lead membership
had begun before it (a first lead recorded a few days after recognition is no change).
A lead membership with no dates has not changed as far as the registry says. With
``during: projects`` a change counts only on or after the start of one of the record's
projects at the rule's ``levels``: projects carry no end date, so a project is taken
as under way from its start, and the finding says so.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..findings import Finding
from .engine import Context, finding, register, unchecked
from .labels import consortium_label, iso, listing, unit_label
from .rulebook import Rule, Rulebook

__all__: list[str] = []

Scoped = list[tuple[Rulebook, Rule]]
_LEVELS = ("municipal", "provincial", "national")


def _changes(ctx: Context, cons: pd.DataFrame) -> pd.DataFrame:
    """Lead changes of the records ``cons``: consortium_id, uscc, change (left or joined), on,
    and ``undated`` (the record has no recognized_on, so whether the change fell in its
    operation cannot be told). Sorted by record, date and unit."""
    m = ctx.registry.memberships
    leads = m.loc[(m["role"] == "lead").to_numpy(), ["consortium_id", "uscc", "joined_on", "left_on"]]
    leads = leads[leads["consortium_id"].isin(cons["consortium_id"]).to_numpy()]
    cols = ["consortium_id", "uscc", "change", "on", "undated"]
    if leads.empty:
        return pd.DataFrame(columns=cols)
    rec = leads["consortium_id"].map(cons.set_index("consortium_id")["recognized_on"])
    after_rec = lambda d: rec.isna() | (d > rec)  # noqa: E731 - undated records are sorted out below
    left = leads["left_on"].notna() & (leads["left_on"] <= ctx.as_of) & after_rec(leads["left_on"])
    # The earliest start of each record's leads, an undated lead counting as there from the start.
    start = leads["joined_on"].fillna(pd.Timestamp.min)
    earliest = start.groupby(leads["consortium_id"]).transform("min")
    joined = (leads["joined_on"].notna() & (leads["joined_on"] <= ctx.as_of) & after_rec(leads["joined_on"])
              & (earliest < leads["joined_on"]))
    parts = [leads[left.to_numpy()].assign(change="left", on=lambda f: f["left_on"]),
             leads[joined.to_numpy()].assign(change="joined", on=lambda f: f["joined_on"])]
    out = pd.concat(parts, ignore_index=True)
    out["undated"] = out["consortium_id"].map(cons.set_index("consortium_id")["recognized_on"]).isna().to_numpy()
    # On one day the lead that left is named before the one that came.
    out["_first"] = (out["change"] == "joined").to_numpy()
    return out.sort_values(["consortium_id", "on", "_first", "uscc"], kind="stable", ignore_index=True)[cols]


def _event(name: str, uscc: str, change: str, on: Any) -> str:
    who = unit_label(name, uscc)
    return f"{who} left as lead on {iso(on)}" if change == "left" else f"{who} became a lead on {iso(on)}"


@register("LEAD_CHANGE")
def lead_change(ctx: Context, scoped: Scoped) -> list[Finding]:
    out: list[Finding] = []
    names = ctx.registry.units.drop_duplicates("uscc").set_index("uscc")["name"]
    for book, rule in scoped:
        cons = ctx.in_force()
        cons = cons[(cons["jurisdiction"] == book.jurisdiction).to_numpy()]
        changes = _changes(ctx, cons)
        if changes.empty:
            continue
        during = rule.params.get("during", "operation")
        remedy = str(rule.params.get("remedy", "")).strip()
        by_id = cons.set_index("consortium_id")
        projects = _projects(ctx, rule, cons) if during == "projects" else None
        for cid, g in changes.groupby("consortium_id", sort=True):
            c = by_id.loc[cid]
            label = consortium_label(cid, c["name"])
            row = int(c["_row"])
            if bool(g["undated"].iloc[0]):
                out.append(unchecked(ctx, book, rule, f"consortium {label}'s lead changes", ["recognized_on"],
                                     consortium_id=cid, row=row))
                continue
            if projects is None:
                kept, under_way = g, None
            else:
                if isinstance(projects, list):  # the missing table, named
                    out.append(unchecked(ctx, book, rule, f"consortium {label}'s lead changes", projects,
                                         consortium_id=cid, row=row))
                    continue
                mine = projects[projects["consortium_id"] == cid]
                dated = mine[mine["started_on"].notna()]
                first = dated["started_on"].min() if len(dated) else pd.NaT
                kept = g[(g["on"] >= first).to_numpy()] if pd.notna(first) else g.iloc[:0]
                if kept.empty:
                    if len(mine) > len(dated):  # a project at the levels with no start date
                        out.append(unchecked(ctx, book, rule, f"consortium {label}'s lead changes",
                                             ["projects.started_on"], consortium_id=cid, row=row))
                    continue
                under_way = dated[dated["started_on"] <= kept["on"].max()].sort_values(["started_on", "project_id"])
            events = [_event(names.get(u, u), u, ch, on)
                      for u, ch, on in zip(kept["uscc"], kept["change"], kept["on"], strict=True)]
            details: dict[str, Any] = {
                "during": during,
                "changes": [{"uscc": u, "change": ch, "on": iso(on)}
                            for u, ch, on in zip(kept["uscc"], kept["change"], kept["on"], strict=True)],
                "recognized_on": iso(c["recognized_on"]),
            }
            if under_way is None:
                when = f"while it was in operation (recognised on {iso(c['recognized_on'])})"
                forbids = "does not allow its lead to change while it operates"
            else:
                p0 = under_way.iloc[0]
                when = (f"while it had a {p0['level']} project under way ({consortium_label(p0['project_id'], p0['name'])}, "
                        f"started {iso(p0['started_on'])}"
                        + (f"; {len(under_way)} such projects in all: {listing(list(under_way['project_id']))}"
                           if len(under_way) > 1 else "") + ")")
                forbids = ("does not allow the lead to be changed while the consortium carries out a municipal or "
                           "higher project (the registry records no project end dates: a project counts as under "
                           "way from its start)")
                details["projects"] = list(under_way["project_id"])
            out.append(finding(
                ctx, book, rule,
                f"Consortium {label}'s lead changed {when}: {'; '.join(events)}; the {book.name_en} text {forbids}"
                + (f". {remedy}" if remedy else "") + ".",
                consortium_id=cid, row=row, exemption=c.get("exemption", ""), details=details))
    return out


def _projects(ctx: Context, rule: Rule, cons: pd.DataFrame) -> pd.DataFrame | list[str]:
    """The records' projects at the rule's levels begun by the as-of date (or undated);
    the missing table, named, when the registry has none."""
    if not ctx.registry.has("projects"):
        return ["the projects table"]
    levels = tuple(rule.params.get("levels", _LEVELS))
    p = ctx.registry.table("projects")
    p = p[p["consortium_id"].isin(cons["consortium_id"]).to_numpy() & p["level"].isin(levels).to_numpy()]
    started = p["started_on"]
    return p[(started.isna() | (started <= ctx.as_of)).to_numpy()]
