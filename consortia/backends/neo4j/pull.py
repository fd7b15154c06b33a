"""Reading the registry back out of the database: the interchange format again.

``pull`` writes the folder of CSV files that ``push`` was given (the data
model's columns in its order, then the source's extra columns in theirs,
values in the canonical written form), so that ``load_registry`` on the
result gives the same tables: the round trip is the test of the mapping in
:mod:`.model`. Rows come back in their source order (``_row``); a
membership added with ``add-member`` has none and comes after the others.

Reads check the meta node before and after: a database whose push did not
finish, or that a push changed while it was being read, is not exported.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import neo4j
import pandas as pd

from ...errors import BackendError, InputError, Problem
from ...io import atomic_write_bytes, check_writable
from ...loaders import load_registry
from ...loaders.text import norm_header
from ...registry import Registry, SourceInfo
from ...rules.rulebook import Rulebooks
from ...schema import TABLES
from .model import META_NAME, REL_TABLES, ROW, meta_tables, text_value
from .push import READ_META

__all__ = ["pull", "read_meta", "read_registry", "read_tables", "require_complete"]

READ_NODES: dict[str, str] = {
    "units": "MATCH (n:Unit) RETURN properties(n) AS p",
    "duplicate_units": "MATCH (n:DuplicateUnit) RETURN properties(n) AS p",
    "consortia": "MATCH (n:Consortium) RETURN properties(n) AS p",
    "chains": "MATCH (n:Segment) RETURN properties(n) AS p",
    "evaluations": "MATCH (n:Evaluation) RETURN properties(n) AS p",
    "annual_reports": "MATCH (n:AnnualReport) RETURN properties(n) AS p",
    "projects": "MATCH (n:Project) RETURN properties(n) AS p",
}
READ_RELATIONSHIPS: dict[str, str] = {
    "memberships": "MATCH (a:Unit)-[r:MEMBER_OF]->(b:Consortium) "
                   "RETURN a.uscc AS start, b.consortium_id AS end, properties(r) AS p",
    "project_members": "MATCH (a:Unit)-[r:IN_PROJECT]->(b:Project) "
                       "RETURN a.uscc AS start, b.project_id AS end, properties(r) AS p",
}


def read_meta(driver: neo4j.Driver, database: str | None) -> dict[str, Any] | None:
    """The meta node's properties, or ``None`` when no registry was ever pushed."""
    records = driver.execute_query(READ_META, {"name": META_NAME}, database_=database,
                                   routing_=neo4j.RoutingControl.READ).records
    return dict(records[0]["meta"]) if records else None


def require_complete(meta: Mapping[str, Any] | None) -> Mapping[str, Any]:
    """The meta of a completely pushed registry, or a :class:`BackendError` saying what to do."""
    if meta is None or (not meta.get("generation") and not meta.get("pending")):
        raise BackendError("this database holds no registry: run `consortia neo4j push PATH` first")
    if meta.get("pending"):
        raise BackendError(
            f"a push into this database did not finish ({meta.get('pending_done', 0)} batches were written): it holds "
            "part of the new registry and part of the old. Run the same `consortia neo4j push` again to resume it, "
            "or push another registry.")
    return meta


def _records(tx: neo4j.ManagedTransaction, tables: list[str]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for name in (*tables, "duplicate_units"):
        if name == "duplicate_units" and "units" not in tables:
            continue
        if name in READ_NODES:
            out[name] = [dict(rec["p"]) for rec in tx.run(READ_NODES[name])]
        else:
            ends = REL_TABLES[name]
            out[name] = [{**dict(rec["p"]), ends.start_column: rec["start"], ends.end_column: rec["end"]}
                         for rec in tx.run(READ_RELATIONSHIPS[name])]
    return out


def _frame(table: str, records: list[dict[str, Any]], extras: list[str], headers: list[str] | None) -> pd.DataFrame:
    """Rows as text in source order (``_row``; rows without one last, by key).

    The declared columns are those the source had (``headers``; all when not
    known) and any other that holds a value (an exemption written by
    ``add-member`` into a registry that had no such column), then the extras."""
    key = TABLES[table].key

    def order(r: dict[str, Any]) -> tuple[Any, ...]:
        row = r.get(ROW)
        return (row is None, row if row is not None else 0, *(text_value(r.get(k)) for k in key))

    records = sorted(records, key=order)
    had = set(headers) if headers is not None else None
    declared = [c.name for c in TABLES[table].columns
                if had is None or c.name in had or any(r.get(c.name) not in (None, "") for r in records)]
    cols = declared + list(extras)
    frame = pd.DataFrame({c: [text_value(r.get(c)) for r in records] for c in cols}, columns=cols, dtype=object)
    frame[ROW] = pd.array([r.get(ROW) for r in records], dtype="Int64")
    return frame


def read_tables(driver: neo4j.Driver, database: str | None) -> tuple[dict[str, pd.DataFrame], Mapping[str, Any]]:
    """Every table the pushed registry had, as text frames (with ``_row``),
    and the meta node they were read under."""
    meta = require_complete(read_meta(driver, database))
    tables = meta_tables(meta)
    with driver.session(database=database, default_access_mode=neo4j.READ_ACCESS) as session:
        records = session.execute_read(_records, tables)
    if read_meta(driver, database) != meta:
        raise BackendError("the database changed (a push ran) while it was being read; try again")
    if "duplicate_units" in records:
        records["units"] = records["units"] + records.pop("duplicate_units")
    frames = {}
    for name in tables:
        headers = meta.get(f"headers_{name}")
        frames[name] = _frame(name, records[name], list(meta.get(f"columns_{name}") or ()),
                              None if headers is None else list(headers))
    return frames, meta


def _table_of(stem: str) -> str | None:
    key = norm_header(stem)[0]
    for t in TABLES.values():
        if key in {norm_header(n)[0] for n in (t.name, *t.aliases)}:
            return t.name
    return None


def write_tables(tables: Mapping[str, pd.DataFrame], out: str | Path) -> None:
    """Write each table to ``out/<table>.csv`` (UTF-8), each file atomically.

    Refuses, before writing anything, when the folder already holds another
    file for one of the registry's tables (a ``成员.csv`` next to the
    ``memberships.csv`` written here, or a ``chains.csv`` the database does
    not have): the folder would no longer load as the registry pulled.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InputError(Problem(str(out), None, None, None, "a folder to write the registry into (this is a file)"))
    if out.is_dir():
        clashes = [p.name for p in sorted(out.iterdir())
                   if p.is_file() and p.suffix.lower() in (".csv", ".txt") and (t := _table_of(p.stem)) is not None
                   and (t not in tables or p.name != f"{t}.csv")]
        if clashes:
            raise InputError(Problem(str(out), None, None, ", ".join(clashes),
                                     "a folder without other registry files: these would load as part of the "
                                     "pulled registry (pull into an empty folder, or remove them)"))
    check_writable(folders=[out])  # a folder that cannot be made or written: one line, exit 2
    out.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        buf = io.StringIO()
        frame.drop(columns=[ROW]).to_csv(buf, index=False, lineterminator="\n")
        atomic_write_bytes(out / f"{name}.csv", buf.getvalue().encode("utf-8"))


def pull(driver: neo4j.Driver, database: str | None, out: str | Path) -> dict[str, int]:
    """Export the database's registry to the CSV folder ``out``; rows per table."""
    tables, _ = read_tables(driver, database)
    write_tables(tables, out)
    return {name: len(frame) for name, frame in tables.items()}


def read_registry(driver: neo4j.Driver, database: str | None, books: Rulebooks | None = None) -> Registry:
    """The database's registry loaded as :func:`~consortia.loaders.load_registry`
    loads a folder, with each row's source row and each table's source label
    as they were pushed, so findings point where the embedded backend's do."""
    tables, meta = read_tables(driver, database)
    with tempfile.TemporaryDirectory(prefix="consortia-pull-") as tmp:
        write_tables(tables, tmp)
        reg = load_registry(tmp, books)
    originals = {name: frame[ROW].tolist() for name, frame in tables.items()}

    def restore(frame: pd.DataFrame, name: str) -> None:
        rows = originals[name]
        frame[ROW] = pd.Series([(-1 if pd.isna(rows[r - 2]) else int(rows[r - 2])) for r in frame[ROW]],
                               index=frame.index, dtype="int64")

    for name in tables:
        restore(reg.tables[name], name)
    restore(reg.duplicate_units, "units")
    sources = {}
    for name in tables:
        had, written = meta.get(f"headers_{name}"), meta.get(f"written_{name}")
        headers = dict(zip(had, written, strict=True)) if had and written else dict(reg.sources[name].headers)
        sources[name] = SourceInfo(str(meta.get(f"source_{name}") or name), headers=headers)
    return Registry(reg.tables, sources, None, reg.duplicate_units)
