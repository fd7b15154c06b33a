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


def _changes(ctx: Context) -> pd.DataFrame:
    """Lead changes of the records in force: consortium_id, uscc, change (left or joined) and
    on (a record with no recognized_on has every dated change: whether it fell in the
    record's operation cannot be told, and is said so). Sorted by record, date and unit;
    computed once per run, as the three texts share it."""
    if "lead_changes" not in ctx.cache:
        ctx.cache["lead_changes"] = _find_changes(ctx, ctx.in_force())
    return ctx.cache["lead_changes"]


def _find_changes(ctx: Context, cons: pd.DataFrame) -> pd.DataFrame:
    m = ctx.registry.memberships
    leads = m.loc[(m["role"] == "lead").to_numpy(), ["consortium_id", "uscc", "joined_on", "left_on"]]
    leads = leads[leads["consortium_id"].isin(cons["consortium_id"]).to_numpy()]
    cols = ["consortium_id", "uscc", "change", "on"]
    if leads.empty:
        return pd.DataFrame(columns=cols)
    rec = leads["consortium_id"].map(cons.set_index("consortium_id")["recognized_on"])
    after_rec = lambda d: rec.isna() | (d > rec)  # noqa: E731 - undated records: see lead_change
    left = leads["left_on"].notna() & (leads["left_on"] <= ctx.as_of) & after_rec(leads["left_on"])
    # Another lead was there first: one joined earlier, or one undated (there from the start).
    by_record = leads["joined_on"].groupby(leads["consortium_id"])
    earlier = (by_record.transform("min") < leads["joined_on"]) | leads["joined_on"].isna().groupby(
        leads["consortium_id"]).transform("any")
    joined = (leads["joined_on"].notna() & (leads["joined_on"] <= ctx.as_of) & after_rec(leads["joined_on"])
              & earlier)
    parts = [leads[left.to_numpy()].assign(change="left", on=lambda f: f["left_on"]),
             leads[joined.to_numpy()].assign(change="joined", on=lambda f: f["joined_on"])]
    out = pd.concat(parts, ignore_index=True)
    # On one day the lead that left is named before the one that came.
    out["_first"] = (out["change"] == "joined").to_numpy()
    return out.sort_values(["consortium_id", "on", "_first", "uscc"], kind="stable", ignore_index=True)[cols]


def _event(name: str, uscc: str, change: str, on: Any) -> str:
    who = unit_label(name, uscc)
    return f"{who} left as lead on {iso(on)}" if change == "left" else f"{who} became a lead on {iso(on)}"


@register("LEAD_CHANGE")
def lead_change(ctx: Context, scoped: Scoped) -> list[Finding]:
    out: list[Finding] = []
    every = _changes(ctx)
    if every.empty:
        return out
    # Plain records from here: a change is rare (about one record in a hundred), and each is
    # spelled out on its own.
    changed = ctx.in_force()
    changed = changed[changed["consortium_id"].isin(every["consortium_id"]).to_numpy()]
    record = changed.set_index("consortium_id")[["name", "_row", "recognized_on", "exemption", "jurisdiction"]]
    record = record.to_dict("index")
    units = ctx.registry.units  # the loader keeps one row per code
    named = units[units["uscc"].isin(every["uscc"].unique()).to_numpy()]
    names = dict(zip(named["uscc"].tolist(), named["name"].tolist(), strict=True))
    by_record: dict[str, list[tuple[str, str, Any]]] = {}
    for cid, u, ch, on in zip(every["consortium_id"], every["uscc"], every["change"], every["on"], strict=True):
        by_record.setdefault(cid, []).append((u, ch, on))

    for book, rule in scoped:
        mine = [cid for cid in sorted(by_record) if record[cid]["jurisdiction"] == book.jurisdiction]
        if not mine:
            continue
        during = rule.params.get("during", "operation")
        remedy = str(rule.params.get("remedy", "")).strip()
        projects = _project_starts(ctx, rule, mine) if during == "projects" else None
        for cid in mine:
            c = record[cid]
            label, row = consortium_label(cid, c["name"]), int(c["_row"])
            events = by_record[cid]

            def not_checkable(missing: list[str], book: Rulebook = book, rule: Rule = rule, cid: str = cid,
                              label: str = label, row: int = row) -> None:
                out.append(unchecked(ctx, book, rule, f"consortium {label}'s lead changes", missing,
                                     consortium_id=cid, row=row))

            if pd.isna(c["recognized_on"]):
                not_checkable(["recognized_on"])
                continue
            under_way: list[tuple[Any, str, str, str]] = []
            if isinstance(projects, list):  # the missing table, named
                not_checkable(projects)
                continue
            if projects is not None:
                dated, undated = projects.get(cid, ([], False))
                events = [e for e in events if dated and e[2] >= dated[0][0]]
                if not events:
                    if undated:  # a project at the levels with no start date
                        not_checkable(["projects.started_on"])
                    continue
                under_way = [p for p in dated if p[0] <= events[-1][2]]
            details: dict[str, Any] = {
                "during": during,
                "changes": [{"uscc": u, "change": ch, "on": iso(on)} for u, ch, on in events],
                "recognized_on": iso(c["recognized_on"]),
            }
            if not under_way:
                when = f"while it was in operation (recognised on {iso(c['recognized_on'])})"
                forbids = "does not allow its lead to change while it operates"
            else:
                started, pid, pname, level = under_way[0]
                more = (f"; {len(under_way)} such projects in all: {listing([p[1] for p in under_way])}"
                        if len(under_way) > 1 else "")
                when = (f"while it had a {level} project under way ({consortium_label(pid, pname)}, "
                        f"started {iso(started)}{more})")
                forbids = ("does not allow the lead to be changed while the consortium carries out a municipal or "
                           "higher project (the registry records no project end dates: a project counts as under "
                           "way from its start)")
                details["projects"] = [p[1] for p in under_way]
            said = "; ".join(_event(names.get(u, ""), u, ch, on) for u, ch, on in events)
            out.append(finding(
                ctx, book, rule,
                f"Consortium {label}'s lead changed {when}: {said}; the {book.name_en} text {forbids}"
                + (f". {remedy}" if remedy else "") + ".",
                consortium_id=cid, row=row, exemption=c.get("exemption", ""), details=details))
    return out


Starts = dict[str, tuple[list[tuple[Any, str, str, str]], bool]]


def _project_starts(ctx: Context, rule: Rule, ids: list[str]) -> Starts | list[str]:
    """For each record of ``ids``: its projects at the rule's levels begun by the as-of date,
    as (started_on, project_id, name, level) from the first, and whether any such project has
    no start date; the missing table, named, when the registry has none."""
    p = _projects(ctx, rule, ids)
    if isinstance(p, list):
        return p
    p = p.sort_values(["consortium_id", "started_on", "project_id"], kind="stable")
    out: Starts = {}
    for cid, started, pid, name, level in zip(p["consortium_id"], p["started_on"], p["project_id"], p["name"],
                                              p["level"], strict=True):
        dated, undated = out.get(cid, ([], False))
        if pd.isna(started):
            undated = True
        else:
            dated.append((started, pid, name, level))
        out[cid] = (dated, undated)
    return out


def _projects(ctx: Context, rule: Rule, ids: list[str]) -> pd.DataFrame | list[str]:
    """The projects of the records ``ids`` at the rule's levels begun by the as-of date (or
    undated); the missing table, named, when the registry has none."""
    if not ctx.registry.has("projects"):
        return ["the projects table"]
    levels = tuple(rule.params.get("levels", _LEVELS))
    p = ctx.registry.table("projects")
    p = p[p["consortium_id"].isin(ids).to_numpy() & p["level"].isin(levels).to_numpy()]
    started = p["started_on"]
    return p[(started.isna() | (started <= ctx.as_of)).to_numpy()]
