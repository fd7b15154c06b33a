"""``consortia show``: one unit or one consortium, as an officer would look it up."""

from __future__ import annotations

import datetime as dt
import io
import json
from typing import Any

import numpy as np
import pandas as pd

from .errors import InputError, Problem
from .findings import Finding
from .loaders.text import clean
from .output import to_jsonable
from .registry import Registry
from .rules.engine import run_checks
from .rules.identity import name_keys
from .rules.rulebook import Rulebooks
from .rules.validity import RULE_ID as TEXT_NOT_IN_FORCE
from .rules.validity import period_label
from .state import active_memberships, as_timestamp

__all__ = ["describe", "render"]

_HIDDEN = ("_row", "body_id")


def _record(row: Any) -> dict[str, Any]:
    return {k: to_jsonable(v) for k, v in row.items()
            if k not in _HIDDEN and to_jsonable(v) not in (None, "", [], ())}


def _part_for(registry: Registry, kind: str, key: str) -> Registry:
    """The part of the registry (:meth:`Registry.part`) that every finding naming this
    consortium or unit comes from: a consortium's body and every body its members are in
    (their caps and leads count there); a unit's bodies, those of the projects it leads or
    works on, and the units registered under the same name."""
    c, m = registry.consortia, registry.memberships
    if kind == "consortium":
        body = c.loc[c["consortium_id"] == key, "body_id"].iloc[0]
        records = c.loc[c["body_id"] == body, "consortium_id"]
        codes = pd.Index(m.loc[m["consortium_id"].isin(records), "uscc"].unique())
        cids = [records, m.loc[m["uscc"].isin(codes), "consortium_id"]]
    else:
        # A name under several codes is a finding on the first of them: those units come too.
        names = name_keys(registry.units["name"])
        own = names[(registry.units["uscc"] == key).to_numpy()]
        same = (names == own[0]) if len(own) and own[0] else np.zeros(len(names), dtype=bool)
        codes = pd.Index([key, *registry.units.loc[same, "uscc"]]).unique()
        cids = [m.loc[m["uscc"] == key, "consortium_id"]]
        projects = registry.table("projects")
        named = projects["lead_uscc"] == key
        pm = registry.table("project_members")
        named |= projects["project_id"].isin(pm.loc[pm["uscc"] == key, "project_id"])
        cids.append(projects.loc[named, "consortium_id"])
    bodies = c.loc[c["consortium_id"].isin(pd.concat(cids, ignore_index=True)), "body_id"].unique()
    return registry.part(bodies, codes)


def describe(registry: Registry, books: Rulebooks, kind: str, ident: str,
             as_of: dt.date | str | None = None) -> dict[str, Any]:
    """A unit or consortium record with its memberships (active on ``as_of``
    marked) and the findings that name it."""
    ts = as_timestamp(as_of)
    key = clean(ident).upper().replace(" ", "") if kind == "unit" else clean(ident)
    table, column = ("units", "uscc") if kind == "unit" else ("consortia", "consortium_id")
    frame = registry.tables[table]
    hit = frame[frame[column] == key]
    if hit.empty and kind == "consortium":
        hit = frame[frame["consortium_id"].str.upper() == key.upper()]
    if hit.empty:
        raise InputError(Problem(registry.source_of(table), None, column, ident, f"a {kind} in the registry"))
    record = _record(hit.iloc[0])
    key = hit.iloc[0][column]
    # Everything below, the audit included, needs only the part of the registry around the record:
    # a national registry's full audit took most of a minute for one consortium's findings.
    registry = _part_for(registry, kind, key)
    live = active_memberships(registry, ts)
    live_keys = set(zip(live["consortium_id"], live["uscc"], live["joined_on"], strict=True))
    m = registry.memberships[registry.memberships[column] == key]
    other = registry.units if kind == "consortium" else registry.consortia
    other_key = "uscc" if kind == "consortium" else "consortium_id"
    names = dict(zip(other[other_key], other["name"], strict=True))
    cons = registry.consortia.set_index("consortium_id")
    members = []
    order = {"lead": 0, "core": 1, "close": 2, "general": 3}
    for r in sorted(m.itertuples(index=False), key=lambda r: (order.get(r.role, 9), str(getattr(r, other_key)))):
        oid = getattr(r, other_key)
        members.append({
            other_key: oid, "name": names.get(oid, ""), "role": r.role,
            "jurisdiction": cons.at[r.consortium_id, "jurisdiction"],
            "joined_on": to_jsonable(r.joined_on), "left_on": to_jsonable(r.left_on),
            "active": (r.consortium_id, r.uscc, r.joined_on) in live_keys,
            "segments": list(r.segments),
        })
    info: dict[str, Any] = {"kind": kind, "record": record, "as_of": ts.date().isoformat(),
                            "memberships": members}
    if kind == "unit":
        bodies = live[live["uscc"] == key]["body_id"].nunique()
        info["active_consortia"] = int(bodies)
    else:
        body = hit.iloc[0]["body_id"]
        info["same_body_as"] = sorted(set(registry.consortia[registry.consortia["body_id"] == body]["consortium_id"])
                                      - {key})
        info["active_members"] = sum(1 for x in members if x["active"])
    findings = run_checks(registry, books, ts)

    def names_it(f: Finding) -> bool:
        if kind == "unit":
            return f.uscc == key
        records = {c for cs in f.details.get("by_jurisdiction", {}).values() for c in cs}
        return f.consortium_id == key or key in records

    info["findings"] = [f.to_dict() for f in findings if names_it(f)]
    # A text not in force on the date (TEXT_NOT_IN_FORCE names no record): said for the
    # jurisdictions the record's memberships are in, without the registry-wide count.
    mine = {m.get("jurisdiction") for m in members}
    info["texts_not_in_force"] = [
        {k: f.details[k] for k in ("state", "in_force_from", "valid_until")} | {"jurisdiction": f.jurisdiction}
        for f in findings if f.rule == TEXT_NOT_IN_FORCE and f.jurisdiction in mine]
    return info


def render(info: dict[str, Any], fmt: str) -> str:
    """The description as JSON or as terminal tables."""
    if fmt == "json":
        return json.dumps(to_jsonable(info), ensure_ascii=False, indent=2) + "\n"
    from rich.console import Console
    from rich.table import Table

    console = Console(file=io.StringIO(), width=160, color_system=None, highlight=False, markup=False)
    rec = Table(title=f"{info['kind']} {info['record'].get('uscc') or info['record'].get('consortium_id')}",
                show_header=False)
    rec.add_column("field")
    rec.add_column("value", overflow="fold")
    for k, v in info["record"].items():
        rec.add_row(k, "; ".join(map(str, v)) if isinstance(v, list) else str(v))
    for k in ("active_consortia", "active_members", "same_body_as"):
        if k in info:
            rec.add_row(k, ", ".join(info[k]) if isinstance(info[k], list) else str(info[k]))
    for t in info.get("texts_not_in_force", []):
        period = period_label(t["in_force_from"], t["valid_until"])
        state = "lapsed" if t["state"] == "lapsed" else "not yet in force"
        rec.add_row("text not in force", f"{t['jurisdiction']}: {state} as of {info['as_of']} (in force {period}); "
                                          "its findings are marked text_in_force: false")
    console.print(rec)
    mem = Table(title=f"memberships (active as of {info['as_of']})")
    cols = [c for c in ("consortium_id", "uscc", "name", "role", "jurisdiction", "joined_on", "left_on", "active")
            if any(c in m for m in info["memberships"])]
    for c in cols:
        mem.add_column(c, overflow="fold")
    for m in info["memberships"]:
        mem.add_row(*["" if m.get(c) is None else str(m.get(c)) for c in cols])
    console.print(mem)
    fnd = Table(title=f"{len(info['findings'])} findings")
    for c in ("rule", "severity", "waived", "jurisdiction", "message"):
        fnd.add_column(c, overflow="fold")
    for f in info["findings"]:
        fnd.add_row(f["rule"], f["severity"], str(f["waived"]), str(f["jurisdiction"] or ""), f["message"])
    console.print(fnd)
    return console.file.getvalue()  # type: ignore[attr-defined]
