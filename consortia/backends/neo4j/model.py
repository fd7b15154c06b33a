"""How a registry maps onto a property graph, declared once.

Every table of the interchange format (shared/data-model.md) has a place in
the graph, so that ``pull`` gives back the registry that ``push`` was given:

* rows keyed by an identifier become nodes: ``units`` → ``Unit``,
  ``consortia`` → ``Consortium``, ``chains`` → ``Segment``, ``evaluations`` →
  ``Evaluation``, ``annual_reports`` → ``AnnualReport``, ``projects`` →
  ``Project``, and a unit code listed twice keeps its later rows as
  ``DuplicateUnit`` (the ``DUPLICATE_UNIT`` finding needs them);
* rows that link two of those become relationships: ``memberships`` →
  ``(:Unit)-[:MEMBER_OF]->(:Consortium)`` (keyed by ``joined_on`` between the
  two, so a unit that left and rejoined keeps both rows), ``project_members``
  → ``(:Unit)-[:IN_PROJECT]->(:Project)``;
* references become relationships the queries walk, derived on every push
  and never pulled: ``RECOGNIZED_BY`` a ``Jurisdiction``, ``SAME_BODY``
  (``recognized_from``), ``ON_CHAIN`` and ``IN_CHAIN`` a ``Chain``,
  ``PART_OF`` and ``FEEDS`` between segments, ``EVALUATES``, ``REPORTS_ON``,
  ``PROJECT_OF`` and ``LEADS_PROJECT``.

Values keep their types (dates as dates, money as floats, lists as lists) so
Cypher can compare them; an empty cell is an absent property, as Cypher's
``null`` means. Properties whose name starts with ``_`` are bookkeeping
(``_gen`` the push that wrote it, ``_row`` the source row, ``_key`` a merge
key, ``_version`` the write lock of ``add-member``) and, like the registry's own ``_`` columns, are never exported.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ...registry import EXTRA_PREFIX, Registry
from ...schema import TABLES

__all__ = [
    "DERIVED",
    "GEN",
    "KEY",
    "META_LABEL",
    "META_NAME",
    "NODE_LABELS",
    "REL_TABLES",
    "REL_TYPES",
    "ROW",
    "VERSION",
    "Endpoints",
    "extra_columns",
    "graph_rows",
    "meta_tables",
    "registry_meta",
    "text_value",
]

#: Bookkeeping property names (never exported, never a registry column).
GEN, ROW, KEY, VERSION = "_gen", "_row", "_key", "_version"

#: The node holding what the registry is as a whole (tables present, extra
#: columns, source labels) and the state of the last push.
META_LABEL, META_NAME = "RegistryMeta", "registry"

#: Properties computed on push and not part of any table.
DERIVED: dict[str, tuple[str, ...]] = {"consortia": ("body_id",)}

#: Every label and relationship type a push writes (and so may sweep), with
#: the labels at both ends of each relationship type.
NODE_LABELS: tuple[str, ...] = ("Unit", "DuplicateUnit", "Consortium", "Jurisdiction", "Chain", "Segment",
                                "Evaluation", "AnnualReport", "Project")
REL_TYPES: dict[str, tuple[str, str]] = {
    "MEMBER_OF": ("Unit", "Consortium"),
    "IN_PROJECT": ("Unit", "Project"),
    "RECOGNIZED_BY": ("Consortium", "Jurisdiction"),
    "SAME_BODY": ("Consortium", "Consortium"),
    "ON_CHAIN": ("Consortium", "Chain"),
    "IN_CHAIN": ("Segment", "Chain"),
    "PART_OF": ("Segment", "Segment"),
    "FEEDS": ("Segment", "Segment"),
    "EVALUATES": ("Evaluation", "Consortium"),
    "REPORTS_ON": ("AnnualReport", "Consortium"),
    "PROJECT_OF": ("Project", "Consortium"),
    "LEADS_PROJECT": ("Unit", "Project"),
}


@dataclass(frozen=True)
class Endpoints:
    """For a table stored as relationships: the columns naming its two ends."""

    start_column: str
    end_column: str


#: Tables stored as relationships, and the columns that are their endpoints
#: (those columns are not repeated as relationship properties).
REL_TABLES: dict[str, Endpoints] = {
    "memberships": Endpoints("uscc", "consortium_id"),
    "project_members": Endpoints("uscc", "project_id"),
}


def extra_columns(frame: pd.DataFrame, table: str) -> list[str]:
    """Columns the source had beyond the declared ones, in their order."""
    declared = set(TABLES[table].column_by_name) | set(DERIVED.get(table, ()))
    return [c for c in frame.columns if c not in declared and not str(c).startswith(EXTRA_PREFIX)]


def _missing(v: Any) -> bool:
    if v is None or v is pd.NaT:
        return True
    if isinstance(v, float):
        return math.isnan(v)
    return isinstance(v, str) and v == ""


def _graph_values(values: pd.Series, kind: str) -> list[Any]:
    """A column as the values Cypher should hold (``None`` = no property)."""
    out: list[Any] = []
    if kind == "date":
        for v in values:
            out.append(None if _missing(v) or pd.isna(v) else pd.Timestamp(v).date())
    elif kind == "money":
        out = [None if _missing(v) else float(v) for v in values]
    elif kind == "int":
        # Whole numbers as integers; beyond 64 bits (never a real count) as floats.
        out = [None if _missing(v) else (int(v) if abs(v) < 2**63 else float(v)) for v in values]
    elif kind == "bool":
        out = [None if _missing(v) else bool(v) for v in values]
    elif kind == "list":
        out = [list(v) if isinstance(v, (tuple, list)) and len(v) else None for v in values]
    else:
        out = [None if _missing(v) else str(v) for v in values]
    return out


def graph_rows(frame: pd.DataFrame, table: str, *, drop: Sequence[str] = ()) -> list[dict[str, Any]]:
    """Each row as a property map: declared columns typed by their kind,
    extra columns as text, ``_row``, and derived columns; absent when empty."""
    t = TABLES[table]
    columns: dict[str, list[Any]] = {}
    for col in t.columns:
        if col.name not in drop:
            columns[col.name] = _graph_values(frame[col.name], col.kind)
    for name in DERIVED.get(table, ()):
        if name in frame:
            columns[name] = _graph_values(frame[name], "str")
    for name in extra_columns(frame, table):
        columns[name] = _graph_values(frame[name].astype(object), "str")
    if ROW in frame:
        columns[ROW] = [int(v) for v in frame[ROW]]
    names = list(columns)
    rows = []
    for values in zip(*columns.values(), strict=True):
        rows.append({k: v for k, v in zip(names, values, strict=True) if v is not None})
    if not names:
        rows = [{} for _ in range(len(frame))]
    return rows


def text_value(value: Any) -> str:
    """A property as the interchange format writes it (ISO dates, plain
    numbers, ``true``/``false``, ``;``-joined lists, ``''`` for none)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        if value.is_integer() and abs(value) < 1e16:
            return str(int(value))
        # Never an exponent: the loader reads 0.00001, not 1e-05.
        return np.format_float_positional(value, trim="-")
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)):
        return ";".join(text_value(v) for v in value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    iso = getattr(value, "iso_format", None)  # neo4j.time.Date / DateTime
    if callable(iso):
        return str(iso())
    return str(value)


def registry_meta(registry: Registry) -> dict[str, Any]:
    """What the registry is as a whole, for the meta node: the tables present,
    each table's extra columns in order, where each table came from (the
    findings' ``location`` names it) and which declared columns its source
    had, with their headers as written (a rule reports "not checkable" for a
    column the source lacks, which is not the same as empty cells)."""
    present = [name for name in TABLES if registry.has(name)]
    meta: dict[str, Any] = {"tables": present}
    for name in present:
        info = registry.sources[name]
        meta[f"columns_{name}"] = extra_columns(registry.tables[name], name)
        meta[f"source_{name}"] = info.label
        declared = [c.name for c in TABLES[name].columns if c.name in info.headers]
        meta[f"headers_{name}"] = declared
        meta[f"written_{name}"] = [str(info.headers[c]) for c in declared]
    return meta


def meta_tables(meta: Mapping[str, Any]) -> list[str]:
    """The tables a pushed registry had, in the data model's order."""
    have = set(meta.get("tables") or ())
    return [name for name in TABLES if name in have]
