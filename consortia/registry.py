"""The registry as loaded: typed tables, where each came from, and derived identity.

Tables keep the canonical column names of :mod:`consortia.schema` (every
declared column is present, empty where the source lacked it), any unknown
columns under their original headers, and ``_row``: the row the user sees in
the source (header = 1), so every finding can point back at a cell.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .schema import TABLES

__all__ = ["EXTRA_PREFIX", "Registry", "SourceInfo", "empty_table", "gc_paused"]

#: Internal bookkeeping columns start with an underscore and are never exported.
EXTRA_PREFIX = "_"


@dataclass
class SourceInfo:
    """Where a table came from, enough to write a row back in the same form."""

    label: str
    path: Path | None = None
    sheet: str | None = None
    encoding: str | None = None
    headers: dict[str, str] = field(default_factory=dict)  # canonical -> header as written


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for a bulk step (loading, checking, writing).

    Those steps allocate millions of objects that live on (cells, findings) and form no
    reference cycles, so each automatic collection would only walk everything alive
    again: a tenth of the time of a national registry. Reference counting still frees
    what is dropped; the collector resumes, as it was, when the step ends."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def empty_table(name: str) -> pd.DataFrame:
    """An empty table with the declared columns, for optional tables that are absent."""
    cols = [c.name for c in TABLES[name].columns]
    return pd.DataFrame({c: pd.Series(dtype=object) for c in [*cols, "_row"]})


@dataclass
class Registry:
    """A loaded registry. Consortia carry ``body_id``: the consortium a record
    was directly recognised from (followed to its root), or itself, so that
    the same body recorded at two levels is never counted twice."""

    tables: dict[str, pd.DataFrame]
    sources: dict[str, SourceInfo] = field(default_factory=dict)
    path: Path | None = None
    duplicate_units: pd.DataFrame = field(default_factory=lambda: empty_table("units"))
    #: (table, column, target) -> (the table, the target, positions): see :meth:`link`.
    links: dict[tuple[str, str, str], tuple[pd.DataFrame, pd.DataFrame, np.ndarray]] = field(
        default_factory=dict, repr=False, compare=False)

    def link(self, table: str, column: str, target: str) -> np.ndarray | None:
        """For each row of ``table``, the row of ``target`` its ``column`` names (-1: none), as
        the loader found it while checking references; None when it did not, or when either
        table has been replaced since (an added membership, a part of the registry).

        Looking three million membership codes up among a million unit codes takes over a
        second at national scale; the loader has done it once, and the rules need not again."""
        hit = self.links.get((table, column, target))
        if hit is None or self.tables.get(table) is not hit[0] or self.tables.get(target) is not hit[1]:
            return None
        return hit[2]

    def keep_link(self, table: str, column: str, target: str, positions: np.ndarray) -> None:
        """Record :meth:`link`'s answer for the tables as they are now."""
        self.links[(table, column, target)] = (self.tables[table], self.tables[target], positions)

    def has(self, name: str) -> bool:
        """True when the source had this table (optional tables may be absent)."""
        return name in self.sources

    def table(self, name: str) -> pd.DataFrame:
        return self.tables[name] if name in self.tables else empty_table(name)

    @property
    def units(self) -> pd.DataFrame:
        return self.tables["units"]

    @property
    def consortia(self) -> pd.DataFrame:
        return self.tables["consortia"]

    @property
    def memberships(self) -> pd.DataFrame:
        return self.tables["memberships"]

    def source_of(self, name: str) -> str:
        info = self.sources.get(name)
        return info.label if info else name

    def part(self, bodies: Collection[str], codes: Collection[str] = ()) -> Registry:
        """The part of the registry about these consortium bodies: every record of them with
        all its memberships, evaluations, reports and projects (with their members), and
        the units any of those name (and ``codes``), duplicates included.

        A rule judges a consortium from its own rows and a unit from its memberships, so
        a consortium's findings come out of the part holding its body, and a unit's out
        of the part holding every body it is in (``consortia show`` and ``whatif`` audit
        such a part rather than the whole registry; tests compare the two)."""
        c, m = self.consortia, self.memberships
        cons = c[c["body_id"].isin(pd.Index(list(bodies)))]
        ids = pd.Index(cons["consortium_id"].unique())
        mem = m[m["consortium_id"].isin(ids)]
        tables = dict(self.tables)
        tables["consortia"], tables["memberships"] = cons, mem
        for name in ("evaluations", "annual_reports", "projects"):
            if name in tables:
                tables[name] = tables[name][tables[name]["consortium_id"].isin(ids)]
        named = [mem["uscc"], pd.Series(list(codes), dtype=object)]
        if "projects" in tables:
            named.append(tables["projects"]["lead_uscc"])
            if "project_members" in tables:
                pm = tables["project_members"]
                tables["project_members"] = pm[pm["project_id"].isin(pd.Index(tables["projects"]["project_id"]))]
                named.append(tables["project_members"]["uscc"])
        wanted = pd.Index(pd.concat(named, ignore_index=True).astype(object).unique())
        tables["units"] = self.units[self.units["uscc"].isin(wanted)]
        dups = self.duplicate_units
        return Registry(tables, self.sources, self.path, dups[dups["uscc"].isin(wanted)] if len(dups) else dups)

