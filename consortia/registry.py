"""The registry as loaded: typed tables, where each came from, and derived identity.

Tables keep the canonical column names of :mod:`consortia.schema` (every
declared column is present, empty where the source lacked it), any unknown
columns under their original headers, and ``_row``: the row the user sees in
the source (header = 1), so every finding can point back at a cell.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

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
