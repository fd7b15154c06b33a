"""The embedded store: a registry in memory with enforced membership writes.

It keeps an index of who is in which body and who leads what, so that each
``add_member`` is checked in O(1) (a bureau adding members one by one, or a
bulk import of tens of thousands, never rescans the registry). Accepted
additions are held until :meth:`EmbeddedStore.save` writes them back to the
registry's own files atomically.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from ..enforce import Addition, decide
from ..errors import InputError, Problem
from ..loaders import load_registry
from ..loaders.text import clean
from ..loaders.values import expected_for, parse_enum, parse_list
from ..registry import Registry
from ..rules.rulebook import Rulebooks, load_rulebooks
from ..state import LIVE_STATUSES, active_memberships, as_timestamp

__all__ = ["EmbeddedStore"]


class EmbeddedStore:
    """A registry held in memory, the default backend.

    ``as_of`` fixes the date on which memberships are counted (default today).
    """

    def __init__(self, registry: Registry, books: Rulebooks | None = None,
                 as_of: dt.date | str | None = None) -> None:
        self.registry = registry
        self.books = books or load_rulebooks()
        self.as_of = as_timestamp(as_of)
        self.pending: list[dict[str, Any]] = []
        c = registry.consortia
        # Columns as lists first: iterating pandas text columns cell by cell is slow.
        self._consortium = {
            cid: (body, jur, status, rec)
            for cid, body, jur, status, rec in zip(c["consortium_id"].tolist(), c["body_id"].tolist(),
                                                   c["jurisdiction"].tolist(), c["status"].tolist(),
                                                   list(c["recognized_on"]), strict=True)
        }
        self._units = set(registry.units["uscc"].tolist())
        # Plain dicts of tuples of text, not sets: Python's collector stops tracking those
        # after one look, so a bulk import is not slowed by full collections walking a
        # hundred thousand sets (a third of the time of 50,000 additions on an M registry).
        self._bodies: dict[str, dict[str, tuple[str, ...]]] = {}  # unit -> body -> its records' jurisdictions
        self._led: dict[str, dict[str, tuple[str, ...]]] = {}  # the same, for the bodies the unit leads
        self._leads: dict[str, tuple[str, ...]] = {}  # record -> its lead units
        self._members: set[tuple[str, str]] = set()
        m = active_memberships(registry, self.as_of)
        for cid, uscc, role, body, jur in zip(m["consortium_id"].tolist(), m["uscc"].tolist(), m["role"].tolist(),
                                              m["body_id"].tolist(), m["jurisdiction"].tolist(), strict=True):
            self._index(cid, uscc, role, body, jur)

    @classmethod
    def open(cls, path: str | Path, books: Rulebooks | None = None,
             as_of: dt.date | str | None = None) -> EmbeddedStore:
        """Load the registry at ``path`` and index it."""
        books = books or load_rulebooks()
        return cls(load_registry(path, books), books, as_of)

    def _index(self, cid: str, uscc: str, role: str, body: str, jur: str) -> None:
        _add(self._bodies, uscc, body, jur)
        self._members.add((cid, uscc))
        if role == "lead":
            _add(self._led, uscc, body, jur)
            leads = self._leads.get(cid, ())
            if uscc not in leads:
                self._leads[cid] = (*leads, uscc)

    def unit_bodies(self, uscc: str) -> dict[str, set[str]]:
        """The bodies the unit is in on the as-of date, each with its records' jurisdictions."""
        return {body: set(js) for body, js in self._bodies.get(uscc, {}).items()}

    def add_member(self, consortium_id: str, uscc: str, role: str, *, segments: Iterable[str] = (),
                   joined_on: dt.date | str | None = None, exemption: str = "") -> dict[str, Any]:
        """Add one membership if the lead and cap rules allow it.

        Raises the :class:`~consortia.errors.Refusal` subclass of the first
        rule it breaks, or :class:`~consortia.errors.InputError` when the unit,
        consortium or role is unknown or the unit is already a member. With a
        non-empty ``exemption`` (一事一议) a rule the text qualifies with 原则上
        is waived and the exemption is recorded on the membership.
        """
        # Plain dict and string work only: a bulk import checks tens of thousands a second.
        cid, code = clean(str(consortium_id)), clean(str(uscc)).upper().replace(" ", "")
        parsed = parse_enum(str(role), "role")
        if not parsed or cid not in self._consortium or code not in self._units:
            problems = []
            if not parsed:
                problems.append(Problem("add-member", None, "role", str(role), expected_for("enum:role")))
            if cid not in self._consortium:
                problems.append(Problem("add-member", None, "consortium_id", cid, "a consortium in the registry"))
            if code not in self._units:
                problems.append(Problem("add-member", None, "uscc", code,
                                        "a unit in the units table (add the unit first)"))
            raise InputError(problems)
        role = parsed
        body, jur, status, _ = self._consortium[cid]
        if status not in LIVE_STATUSES:
            raise InputError(Problem("add-member", None, "consortium_id", cid,
                                     f"a consortium in force (this one is {status})"))
        if (cid, code) in self._members:
            raise InputError(Problem("add-member", None, "uscc", code,
                                     f"a unit not already in {cid} (it is a member; move its tier instead)"))
        when = as_timestamp(joined_on) if joined_on is not None else self.as_of
        add = Addition(cid, body, jur, code, role, exemption.strip())
        refusals = decide(self.books, add, unit_bodies=self._bodies.get(code, {}),
                          unit_led=self._led.get(code, {}), consortium_leads=self._leads.get(cid, ()))
        if refusals:
            raise refusals[0]
        segs = parse_list(";".join(segments).strip()) if segments else ()
        row = {"consortium_id": cid, "uscc": code, "role": role, "segments": segs,
               "joined_on": when, "left_on": pd.NaT, "exemption": add.exemption}
        self.pending.append(row)
        self._index(cid, code, role, body, jur)
        return row

    def save(self) -> None:
        """Write accepted additions back to the registry's files, atomically."""
        from ..writeback import append_memberships

        if not self.pending:
            return
        append_memberships(self.registry, self.pending)
        new = pd.DataFrame(self.pending)
        new["_row"] = -1
        self.registry.tables["memberships"] = pd.concat([self.registry.memberships, new], ignore_index=True)
        self.pending = []


def _add(index: dict[str, dict[str, tuple[str, ...]]], uscc: str, body: str, jur: str) -> None:
    """Record that ``uscc`` is in ``body`` through a record of ``jur``."""
    bodies = index.get(uscc)
    if bodies is None:
        index[uscc] = {body: (jur,)}
        return
    js = bodies.get(body, ())
    if jur not in js:
        bodies[body] = (*js, jur)
