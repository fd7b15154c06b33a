"""What a proposed membership change would do, before anyone signs: nothing is written.

The audit is run twice, before and after the change, on the part of the
registry the change can affect: the consortium changed (every record of its
body) and every consortium the unit is in, with all their memberships, units,
projects, evaluations and reports. Any finding outside that part is the same
before and after, so the difference is the difference a full audit would
show (a test checks this against full audits), at a fraction of the cost.
For an addition the answer also says whether ``add-member`` would refuse it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd

from ..enforce import Addition, decide
from ..errors import InputError, Problem, Refusal
from ..findings import Finding, sort_findings
from ..loaders.values import expected_for, parse_column
from ..registry import Registry
from ..rules.engine import run_checks
from ..rules.rulebook import Rulebooks
from ..state import LIVE_STATUSES, active_memberships, as_timestamp

__all__ = ["ACTIONS", "Change", "WhatIf", "whatif"]

ACTIONS = ("add-member", "remove-member", "move-tier")


@dataclass(frozen=True)
class Change:
    """A proposed change: add a unit, remove it, or move it to another tier."""

    action: str
    consortium_id: str
    uscc: str
    role: str = ""
    segments: tuple[str, ...] = ()
    exemption: str = ""


@dataclass
class WhatIf:
    """The answer: refusals ``add-member`` would give, and the findings that would come and go."""

    change: Change
    refusals: list[Refusal] = field(default_factory=list)
    appeared: list[Finding] = field(default_factory=list)
    disappeared: list[Finding] = field(default_factory=list)


def _role(raw: str) -> str:
    parsed, bad = parse_column(pd.Series([raw]), "enum:role")
    if bad.iloc[0] or not parsed.iloc[0]:
        raise InputError(Problem("--role", None, "role", raw, expected_for("enum:role")))
    return str(parsed.iloc[0])


def _affected(reg: Registry, cid: str, uscc: str) -> Registry:
    """The sub-registry a change of (cid, uscc) can affect (see the module docstring)."""
    c, m = reg.consortia, reg.memberships
    body_of = dict(zip(c["consortium_id"], c["body_id"], strict=True))
    bodies = {body_of[cid]} | {body_of[x] for x in m.loc[m["uscc"] == uscc, "consortium_id"] if x in body_of}
    return reg.part(bodies, {uscc})


def whatif(registry: Registry, books: Rulebooks, as_of: dt.date | str | None, change: Change) -> WhatIf:
    """Apply ``change`` in memory to a copy of the affected part and compare the audits."""
    ts = as_timestamp(as_of)
    if change.action not in ACTIONS:
        raise ValueError(f"unknown action {change.action!r}")
    cid = change.consortium_id.strip()
    code = change.uscc.strip().upper().replace(" ", "")
    cons = registry.consortia.set_index("consortium_id")
    problems = []
    if cid not in cons.index:
        problems.append(Problem(change.action, None, "consortium_id", cid, "a consortium in the registry"))
    if code not in set(registry.units["uscc"]):
        problems.append(Problem(change.action, None, "uscc", code, "a unit in the units table"))
    if problems:
        raise InputError(problems)
    live = active_memberships(registry, ts)
    current = live[(live["consortium_id"] == cid) & (live["uscc"] == code)]
    result = WhatIf(change)
    role = _role(change.role) if change.action != "remove-member" else ""
    if change.action == "add-member":
        if cons.at[cid, "status"] not in LIVE_STATUSES:
            raise InputError(Problem(change.action, None, "consortium_id", cid,
                                     f"a consortium in force (this one is {cons.at[cid, 'status']})"))
        if len(current):
            raise InputError(Problem(change.action, None, "uscc", code, f"a unit not already in {cid}"))
        mine = live[live["uscc"] == code]
        bodies: dict[str, set[str]] = {}
        led: dict[str, set[str]] = {}
        for b, j, r in zip(mine["body_id"], mine["jurisdiction"], mine["role"], strict=True):
            bodies.setdefault(b, set()).add(j)
            if r == "lead":
                led.setdefault(b, set()).add(j)
        leads = set(live.loc[(live["consortium_id"] == cid) & (live["role"] == "lead"), "uscc"])
        add = Addition(cid, cons.at[cid, "body_id"], cons.at[cid, "jurisdiction"], code, role, change.exemption)
        result.refusals = decide(books, add, unit_bodies=bodies, unit_led=led, consortium_leads=leads)
    elif current.empty:
        raise InputError(Problem(change.action, None, "uscc", code, f"a unit with a membership in {cid} in force on "
                                                                       f"{ts.date().isoformat()}"))
    before = _affected(registry, cid, code)
    after_tables = dict(before.tables)
    mem = before.memberships.copy()
    if change.action == "add-member":
        row = {c: pd.NA for c in mem.columns}
        row.update({"consortium_id": cid, "uscc": code, "role": role, "segments": tuple(change.segments),
                    "joined_on": ts, "left_on": pd.NaT, "exemption": change.exemption, "_row": -1})
        mem = pd.concat([mem, pd.DataFrame([row]).astype(mem.dtypes.to_dict(), errors="ignore")], ignore_index=True)
    else:
        live_rows = ((mem["consortium_id"] == cid) & (mem["uscc"] == code)
                     & (mem["left_on"].isna() | (mem["left_on"] > ts)) & (mem["joined_on"].isna() | (mem["joined_on"] <= ts)))
        if change.action == "remove-member":
            mem.loc[live_rows, "left_on"] = ts
        else:
            mem.loc[live_rows, "role"] = role
    after_tables["memberships"] = mem
    after = Registry(after_tables, before.sources, before.path, before.duplicate_units)
    old = run_checks(before, books, ts)
    new = run_checks(after, books, ts)
    old_keys, new_keys = {_key(f) for f in old}, {_key(f) for f in new}
    result.appeared = sort_findings([f for f in new if _key(f) not in old_keys])
    result.disappeared = sort_findings([f for f in old if _key(f) not in new_keys])
    return result


def _key(f: Finding) -> tuple[object, ...]:
    return (f.rule, f.severity, f.waived, f.jurisdiction, f.consortium_id, f.uscc, f.message)
