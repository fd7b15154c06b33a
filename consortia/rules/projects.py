"""Rules about projects carried out in a consortium's name.

A project is read as of its ``started_on`` (the date it was undertaken; the
as-of date when empty): who led the consortium and who was a member then.
Projects of consortium records in force on the as-of date are checked, at the
levels the rule names; a project starting after the as-of date has not been
undertaken yet and is skipped. A project whose level or lead is empty, or
whose units are not listed, is reported as not checkable.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..findings import Finding
from .engine import Context, finding, register, unchecked
from .labels import iso as _iso
from .labels import listing, unit_label
from .rulebook import Rule, Rulebook

__all__: list[str] = []


def _label(ident: str, name: object) -> str:
    return unit_label(name, ident)

Scoped = list[tuple[Rulebook, Rule]]
#: How many units a message names before it says "and N more".
NAMES_SHOWN = 5




def _absent(ctx: Context, book: Rulebook, rule: Rule, cons: pd.DataFrame, tables: tuple[str, ...]) -> list[Finding] | None:
    """One info finding per jurisdiction when a table the rule needs is absent (None when all are there)."""
    missing = [f"the {t} table" for t in tables if not ctx.registry.has(t)]
    if not missing:
        return None
    if cons.empty:
        return []
    n = len(cons)
    return [unchecked(ctx, book, rule, f"the {n} {book.name_en} consortium record{'s' if n != 1 else ''} in force", missing)]


def _projects(ctx: Context, book: Rulebook, rule: Rule, cons: pd.DataFrame) -> tuple[pd.DataFrame, list[Finding]]:
    """Projects of ``cons`` started by the as-of date at the rule's levels, with their
    consortium's name and exemption and ``on`` (the date they are read at); plus the
    not-checkable findings for projects without a level or a lead."""
    levels = tuple(rule.params.get("levels", ("municipal", "provincial", "national")))
    p = ctx.registry.table("projects")
    p = p[p["consortium_id"].isin(cons["consortium_id"])]
    p = p.assign(on=p["started_on"].fillna(ctx.as_of)).rename(columns={"_row": "src_row", "name": "project_name"})
    p = p[p["on"] <= ctx.as_of].join(cons.set_index("consortium_id")[["name", "exemption"]], on="consortium_id")
    no_level = p["level"].fillna("") == ""
    no_lead = p["lead_uscc"].fillna("") == ""
    out = []
    for r in p[no_level | no_lead].sort_values("project_id").itertuples(index=False):
        missing = (["projects.level"] if not r.level else []) + (["projects.lead_uscc"] if not r.lead_uscc else [])
        out.append(unchecked(ctx, book, rule, f"project {_label(r.project_id, r.project_name)} of consortium {r.consortium_id}",
                             missing, consortium_id=r.consortium_id, table="projects", row=int(r.src_row)))
    return p[~no_level & ~no_lead & p["level"].isin(levels)], out


def _live_on(j: pd.DataFrame) -> pd.Series:
    """Rows of a projects x memberships join whose membership counts on the project's date."""
    return (j["joined_on"].isna() | (j["joined_on"] <= j["on"])) & (j["left_on"].isna() | (j["left_on"] > j["on"]))


def _leads_on(ctx: Context, p: pd.DataFrame) -> pd.DataFrame:
    """(project_id, uscc): the leads of each project's consortium on the project's date.
    Only lead memberships are joined (a few per consortium), never every member."""
    m = ctx.registry.memberships
    m = m.loc[(m["role"] == "lead").to_numpy(), ["consortium_id", "uscc", "joined_on", "left_on"]]
    j = p[["project_id", "consortium_id", "on"]].merge(m, on="consortium_id")
    return j[_live_on(j)][["project_id", "uscc"]]


def _members_among(ctx: Context, p: pd.DataFrame, units: pd.DataFrame) -> pd.Series:
    """For each (project_id, uscc) row of ``units``: whether the unit was a member of
    the project's consortium on the project's date. The pairs are joined to the
    memberships by (consortium, unit), so the work follows the project units, not the
    size of the consortia."""
    q = units.reset_index(drop=True).merge(p[["project_id", "consortium_id", "on"]], on="project_id", how="left")
    q["_i"] = np.arange(len(q))
    keys = _pair_keys(ctx, q)
    if keys is None:  # no loader links to go by: join on the codes themselves
        m = ctx.registry.memberships[["consortium_id", "uscc", "joined_on", "left_on"]]
        j = q.merge(m, on=["consortium_id", "uscc"])
    else:
        # Only the memberships of the pairs asked about are joined, on one integer each:
        # joining three million memberships on two text columns took 1.4 s at national scale.
        mine, asked = keys
        m = ctx.registry.memberships
        sub = np.flatnonzero(pd.Series(mine).isin(asked).to_numpy())
        j = pd.DataFrame({"_k": asked, "_i": q["_i"].to_numpy(), "on": q["on"].to_numpy()}).merge(
            pd.DataFrame({"_k": mine[sub], "joined_on": m["joined_on"].to_numpy()[sub],
                          "left_on": m["left_on"].to_numpy()[sub]}), on="_k")
    hit = np.zeros(len(q), dtype=bool)
    hit[j.loc[_live_on(j).to_numpy(), "_i"].to_numpy()] = True
    return pd.Series(hit, index=units.index)


def _pair_keys(ctx: Context, q: pd.DataFrame) -> tuple[np.ndarray, np.ndarray] | None:
    """One integer per (consortium, unit) pair: for every membership, and for each row of
    ``q`` (its ``consortium_id`` and ``uscc``); equal pairs, equal integers. Read from the
    loader's links (:meth:`~consortia.registry.Registry.link`); None without them, or when
    a code names no row (two unknown codes would then share an integer)."""
    reg = ctx.registry
    if "pair_keys" not in ctx.cache:
        mc = reg.link("memberships", "consortium_id", "consortia")
        mu = reg.link("memberships", "uscc", "units")
        ok = mc is not None and mu is not None and (mc >= 0).all() and (mu >= 0).all()
        ctx.cache["pair_keys"] = mc.astype(np.int64) * len(reg.units) + mu if ok else None
    mine = ctx.cache["pair_keys"]
    if mine is None:
        return None
    qc = pd.Index(reg.consortia["consortium_id"]).get_indexer(q["consortium_id"])
    qu = ctx.unit_index().get_indexer(q["uscc"])
    if (qc < 0).any() or (qu < 0).any():
        return None
    return mine, qc.astype(np.int64) * len(reg.units) + qu


def _scope(ctx: Context, book: Rulebook) -> pd.DataFrame:
    cons = ctx.in_force()
    return cons[cons["jurisdiction"] == book.jurisdiction]


@register("PROJECT_LEAD")
def project_lead(ctx: Context, scoped: Scoped) -> list[Finding]:
    out: list[Finding] = []
    names = ctx.registry.units.set_index("uscc")["name"]
    for book, rule in scoped:
        cons = _scope(ctx, book)
        absent = _absent(ctx, book, rule, cons, ("projects",))
        if absent is not None:
            out.extend(absent)
            continue
        p, skipped = _projects(ctx, book, rule, cons)
        out.extend(skipped)
        if p.empty:
            continue
        lead_pairs = _leads_on(ctx, p).drop_duplicates()
        ok = pd.MultiIndex.from_frame(p[["project_id", "lead_uscc"]]).isin(
            pd.MultiIndex.from_frame(lead_pairs))
        bad = p[~ok]
        # The leads of the failing projects only, each list sorted.
        mine = lead_pairs[lead_pairs["project_id"].isin(bad["project_id"]).to_numpy()].sort_values(["project_id", "uscc"])
        leads: dict[str, list[str]] = {}
        for pid, u in zip(mine["project_id"].tolist(), mine["uscc"].tolist(), strict=True):
            leads.setdefault(pid, []).append(u)
        bad = bad.assign(leads=[leads.get(pid) for pid in bad["project_id"].tolist()])
        for r in bad.sort_values("project_id").itertuples(index=False):
            ls = r.leads if isinstance(r.leads, list) else []
            held = "; ".join(_label(u, names.get(u)) for u in ls) or "none recorded"
            out.append(finding(
                ctx, book, rule,
                f"Project {_label(r.project_id, r.project_name)} "
                f"({r.level}, started {_iso(r.started_on) or 'on an unrecorded date'}) "
                f"of consortium {_label(r.consortium_id, r.name)} is led by {_label(r.lead_uscc, names.get(r.lead_uscc))}, "
                f"not by a lead of the consortium on {_iso(r.on)} ({held}).",
                consortium_id=r.consortium_id, uscc=r.lead_uscc, table="projects", row=int(r.src_row),
                exemption=r.exemption,
                details={"project_id": r.project_id, "level": r.level, "project_lead": r.lead_uscc,
                         "consortium_leads": ls, "started_on": _iso(r.started_on), "read_on": _iso(r.on)},
            ))
    return out


@register("PROJECT_MEMBER_SHARE")
def project_member_share(ctx: Context, scoped: Scoped) -> list[Finding]:
    out: list[Finding] = []
    for book, rule in scoped:
        cons = _scope(ctx, book)
        absent = _absent(ctx, book, rule, cons, ("projects", "project_members"))
        if absent is not None:
            out.extend(absent)
            continue
        need = float(rule.params.get("min_share", 0.5))
        p, skipped = _projects(ctx, book, rule, cons)
        out.extend(skipped)
        if p.empty:
            continue
        pm = ctx.registry.table("project_members")
        pm = pm[pm["project_id"].isin(p["project_id"])][["project_id", "uscc"]]
        listed = p["project_id"].isin(pm["project_id"])
        for r in p[~listed].sort_values("project_id").itertuples(index=False):
            what = f"project {_label(r.project_id, r.project_name)} of consortium {r.consortium_id}"
            out.append(unchecked(ctx, book, rule, what, ["its rows in project_members"],
                                 consortium_id=r.consortium_id, table="projects", row=int(r.src_row)))
        p = p[listed]
        if p.empty:
            continue
        units = pd.concat([pm, p[["project_id", "lead_uscc"]].rename(columns={"lead_uscc": "uscc"})],
                          ignore_index=True).drop_duplicates()
        units = units.assign(member=_members_among(ctx, p, units))
        total = units.groupby("project_id").size()
        inside = units.groupby("project_id")["member"].sum()
        p = p.assign(total=p["project_id"].map(total), inside=p["project_id"].map(inside).astype(int))
        # 以上 is inclusive; compare counts so that exactly half is never lost to rounding.
        bad = p[p["inside"] < need * p["total"] - 1e-9]
        out_rows = units[(~units["member"] & units["project_id"].isin(bad["project_id"])).to_numpy()].sort_values("uscc")
        outsiders: dict[str, list[str]] = {}
        for pid, u in zip(out_rows["project_id"].tolist(), out_rows["uscc"].tolist(), strict=True):
            outsiders.setdefault(pid, []).append(u)
        for r in bad.sort_values("project_id").itertuples(index=False):
            share = r.inside / r.total
            others = outsiders.get(r.project_id, [])
            out.append(finding(
                ctx, book, rule,
                f"Project {_label(r.project_id, r.project_name)} ({r.level}) of consortium {_label(r.consortium_id, r.name)}: "
                f"{r.inside} of its {r.total} units ({share:.0%}) were members of the consortium on {_iso(r.on)}; "
                f"the {book.name_en} text requires at least {need:.0%}. Not members: {listing(others)}.",
                consortium_id=r.consortium_id, table="projects", row=int(r.src_row), exemption=r.exemption,
                details={"project_id": r.project_id, "members": int(r.inside), "units": int(r.total),
                         "share": round(share, 4), "min_share": need, "non_members": others,
                         "started_on": _iso(r.started_on), "read_on": _iso(r.on)},
            ))
    return out
