"""Pushing a registry into the database: idempotent, and resumable after a failure.

How it goes, and why:

1. The schema (constraints, indexes) is created first, so every ``MERGE``
   below is an index lookup.
2. The registry is turned into *steps* (one per kind of node or
   relationship) and each step into batches of ``batch_size`` rows, written
   with one parameterised ``UNWIND`` statement per batch, each batch in its
   own managed write transaction (a transient failure retries that batch
   alone, which is safe because every statement ``MERGE``\\ s on a
   constrained key and ``SET``\\ s whole property maps).
3. Everything written carries ``_gen``: a fingerprint of the registry's
   content. Pushing the same registry again writes the same values, so the
   database ends exactly as it was; a changed registry has a new fingerprint.
4. When every batch is in, a sweep deletes what this push did not write
   (``_gen`` missing or different: removed memberships, units, links, and any
   membership added with ``add-member`` since), then the meta node records
   the new generation.

**A failure part-way** (a lost connection, a crash, Ctrl-C) leaves the
database *marked incomplete*, neither the old registry nor the new one: the
meta node keeps ``pending`` (the fingerprint being pushed) and
``pending_done`` (batches committed; each batch commits its checkpoint in the
same transaction as its rows, so the count is exact). While a push is
pending, reads and ``add-member`` refuse with a message saying so. Running
the same push again *resumes*: it skips the committed batches and finishes;
pushing any other registry instead also converges, because the sweep removes
whatever that registry does not hold. Two pushes at once do not mix: each
batch checks that its push is still the pending one, and the one that has
been overtaken stops with an error.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import neo4j
from tqdm import tqdm

from ...errors import BackendError
from ...registry import Registry
from .model import KEY, META_NAME, NODE_LABELS, REL_TYPES, ROW, graph_rows, registry_meta, text_value
from .schema import ensure_schema

__all__ = ["DEFAULT_BATCH_SIZE", "FORMAT", "PushReport", "Step", "fingerprint", "plan", "push"]

#: Rows per transaction; measured on ArcadeDB (see the issue note): larger
#: batches gained nothing and cost memory on both ends.
DEFAULT_BATCH_SIZE = 5_000

#: The graph layout's version, kept on the meta node.
FORMAT = 1

MERGE_UNITS = """
UNWIND $rows AS r
MERGE (n:Unit {uscc: r.key})
SET n = r.props, n._gen = $gen
"""

MERGE_DUPLICATE_UNITS = """
UNWIND $rows AS r
MERGE (n:DuplicateUnit {_row: r.key})
SET n = r.props, n._gen = $gen
"""

MERGE_CONSORTIA = """
UNWIND $rows AS r
MERGE (c:Consortium {consortium_id: r.key})
SET c = r.props, c._gen = $gen
MERGE (j:Jurisdiction {jurisdiction: r.jurisdiction})
SET j._gen = $gen
MERGE (c)-[x:RECOGNIZED_BY]->(j)
SET x._gen = $gen
"""

MERGE_CHAINS = """
UNWIND $rows AS r
MERGE (h:Chain {chain_id: r.key})
SET h = r.props, h._gen = $gen
"""

MERGE_SEGMENTS = """
UNWIND $rows AS r
MERGE (s:Segment {chain_id: r.chain_id, segment_id: r.segment_id})
SET s = r.props, s._gen = $gen
WITH s, r
MATCH (h:Chain {chain_id: r.chain_id})
MERGE (s)-[x:IN_CHAIN]->(h)
SET x._gen = $gen
"""

LINK_PART_OF = """
UNWIND $rows AS r
MATCH (a:Segment {chain_id: r.chain_id, segment_id: r.start})
MATCH (b:Segment {chain_id: r.chain_id, segment_id: r.end})
MERGE (a)-[x:PART_OF]->(b)
SET x._gen = $gen
"""

LINK_FEEDS = """
UNWIND $rows AS r
MATCH (a:Segment {chain_id: r.chain_id, segment_id: r.start})
MATCH (b:Segment {chain_id: r.chain_id, segment_id: r.end})
MERGE (a)-[x:FEEDS]->(b)
SET x._gen = $gen
"""

LINK_SAME_BODY = """
UNWIND $rows AS r
MATCH (a:Consortium {consortium_id: r.start})
MATCH (b:Consortium {consortium_id: r.end})
MERGE (a)-[x:SAME_BODY]->(b)
SET x._gen = $gen
"""

LINK_ON_CHAIN = """
UNWIND $rows AS r
MATCH (a:Consortium {consortium_id: r.start})
MATCH (b:Chain {chain_id: r.end})
MERGE (a)-[x:ON_CHAIN]->(b)
SET x._gen = $gen
"""

MERGE_MEMBERSHIPS = """
UNWIND $rows AS r
MATCH (u:Unit {uscc: r.start})
MATCH (c:Consortium {consortium_id: r.end})
MERGE (u)-[m:MEMBER_OF {_key: r.key}]->(c)
SET m = r.props, m._gen = $gen
"""

MERGE_EVALUATIONS = """
UNWIND $rows AS r
MERGE (e:Evaluation {consortium_id: r.consortium_id, evaluated_on: r.evaluated_on})
SET e = r.props, e._gen = $gen
WITH e, r
MATCH (c:Consortium {consortium_id: r.consortium_id})
MERGE (e)-[x:EVALUATES]->(c)
SET x._gen = $gen
"""

MERGE_ANNUAL_REPORTS = """
UNWIND $rows AS r
MERGE (a:AnnualReport {consortium_id: r.consortium_id, year: r.year})
SET a = r.props, a._gen = $gen
WITH a, r
MATCH (c:Consortium {consortium_id: r.consortium_id})
MERGE (a)-[x:REPORTS_ON]->(c)
SET x._gen = $gen
"""

MERGE_PROJECTS = """
UNWIND $rows AS r
MERGE (p:Project {project_id: r.key})
SET p = r.props, p._gen = $gen
"""

LINK_PROJECT_OF = """
UNWIND $rows AS r
MATCH (a:Project {project_id: r.start})
MATCH (b:Consortium {consortium_id: r.end})
MERGE (a)-[x:PROJECT_OF]->(b)
SET x._gen = $gen
"""

LINK_LEADS_PROJECT = """
UNWIND $rows AS r
MATCH (a:Unit {uscc: r.start})
MATCH (b:Project {project_id: r.end})
MERGE (a)-[x:LEADS_PROJECT]->(b)
SET x._gen = $gen
"""

MERGE_PROJECT_MEMBERS = """
UNWIND $rows AS r
MATCH (u:Unit {uscc: r.start})
MATCH (p:Project {project_id: r.end})
MERGE (u)-[m:IN_PROJECT]->(p)
SET m = r.props, m._gen = $gen
"""

#: Delete, a chunk at a time, what the finishing push did not write. Built
#: from the fixed labels and types of the model, never from data.
SWEEP_RELATIONSHIPS: dict[str, str] = {
    t: f"MATCH (:{a})-[r:{t}]->(:{b}) WHERE r._gen IS NULL OR r._gen <> $gen "
       "WITH r LIMIT $limit DELETE r RETURN count(*) AS n"
    for t, (a, b) in REL_TYPES.items()
}
SWEEP_NODES: dict[str, str] = {
    label: f"MATCH (n:{label}) WHERE n._gen IS NULL OR n._gen <> $gen "
           "WITH n LIMIT $limit DETACH DELETE n RETURN count(*) AS n"
    for label in NODE_LABELS
}

READ_META = "MATCH (m:RegistryMeta {name: $name}) RETURN properties(m) AS meta"

BEGIN_PUSH = """
MERGE (m:RegistryMeta {name: $name})
SET m.pending = $gen, m.pending_batch_size = $batch_size, m.pending_done = $done
"""

CHECKPOINT = """
MATCH (m:RegistryMeta {name: $name})
WHERE m.pending = $gen
SET m.pending_done = $done
RETURN m.pending_done AS done
"""

FINISH_PUSH = """
MATCH (m:RegistryMeta {name: $name})
WHERE m.pending = $gen
SET m = $meta
RETURN m.generation AS generation
"""


@dataclass
class Step:
    """One kind of node or relationship to write: the statement and its rows
    (``table``: the registry table whose rows these are; none for links)."""

    name: str
    cypher: str
    rows: list[dict[str, Any]]
    table: str | None = None


@dataclass
class PushReport:
    """What a push did: rows per step, batches written and skipped (resumed),
    items swept away, and how long each part took."""

    generation: str
    rows: dict[str, int]
    tables: dict[str, int]
    batch_size: int
    batches: int = 0
    resumed_batches: int = 0
    removed: int = 0
    seconds: float = 0.0
    step_seconds: dict[str, float] = field(default_factory=dict)

    @property
    def memberships_per_second(self) -> float:
        """Memberships pushed per second of the whole push (schema, all
        tables, sweep and all), the figure the issue asks for."""
        return self.tables.get("memberships", 0) / self.seconds if self.seconds else 0.0


class _Bar(tqdm):
    """tqdm without its monitor thread (the bar is redrawn after every batch anyway): that
    thread outlives the bar, and while another thread runs, a later ``check`` in the same
    process keeps its rules in one process rather than fork (:mod:`consortia.rules.parallel`)."""

    monitor_interval = 0


def _keyed(props: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    return [{"key": p[key], "props": p} for p in props]


def _links(starts: Any, ends: Any) -> list[dict[str, Any]]:
    return [{"start": a, "end": b} for a, b in zip(starts, ends, strict=True) if a and b]


def plan(registry: Registry) -> list[Step]:
    """The steps that write ``registry``, in an order where every
    relationship's ends are written before it."""
    steps = [Step("units", MERGE_UNITS, _keyed(graph_rows(registry.units, "units"), "uscc"), "units")]
    if len(registry.duplicate_units):
        steps.append(Step("duplicate units", MERGE_DUPLICATE_UNITS,
                          _keyed(graph_rows(registry.duplicate_units, "units"), ROW), "units"))
    cons = registry.consortia
    steps.append(Step("consortia", MERGE_CONSORTIA,
                      [{"key": p["consortium_id"], "jurisdiction": p["jurisdiction"], "props": p}
                       for p in graph_rows(cons, "consortia")], "consortia"))
    if registry.has("chains"):
        chains = registry.tables["chains"]
        firsts = chains.drop_duplicates("chain_id")
        steps.append(Step("chains", MERGE_CHAINS, [
            {"key": c, "props": {"chain_id": c, **({"chain_name": n} if n else {})}}
            for c, n in zip(firsts["chain_id"], firsts["chain_name"], strict=True)]))
        steps.append(Step("segments", MERGE_SEGMENTS, [
            {"chain_id": p["chain_id"], "segment_id": p["segment_id"], "props": p}
            for p in graph_rows(chains, "chains")], "chains"))
        steps.append(Step("segment parents", LINK_PART_OF, [
            {"chain_id": c, "start": s, "end": p}
            for c, s, p in zip(chains["chain_id"], chains["segment_id"], chains["parent"], strict=True) if p]))
        steps.append(Step("segment flows", LINK_FEEDS, [
            {"chain_id": c, "start": s, "end": f}
            for c, s, fs in zip(chains["chain_id"], chains["segment_id"], chains["feeds"], strict=True) for f in fs]))
        steps.append(Step("consortium chains", LINK_ON_CHAIN, _links(cons["consortium_id"], cons["chain_id"])))
    steps.append(Step("same bodies", LINK_SAME_BODY, _links(cons["consortium_id"], cons["recognized_from"])))
    m = registry.memberships
    props = graph_rows(m, "memberships", drop=("uscc", "consortium_id"))
    rows = []
    for p, u, c in zip(props, m["uscc"], m["consortium_id"], strict=True):
        p[KEY] = text_value(p.get("joined_on"))
        rows.append({"start": u, "end": c, "key": p[KEY], "props": p})
    steps.append(Step("memberships", MERGE_MEMBERSHIPS, rows, "memberships"))
    if registry.has("evaluations"):
        steps.append(Step("evaluations", MERGE_EVALUATIONS, [
            {"consortium_id": p["consortium_id"], "evaluated_on": p["evaluated_on"], "props": p}
            for p in graph_rows(registry.tables["evaluations"], "evaluations")], "evaluations"))
    if registry.has("annual_reports"):
        steps.append(Step("annual reports", MERGE_ANNUAL_REPORTS, [
            {"consortium_id": p["consortium_id"], "year": p["year"], "props": p}
            for p in graph_rows(registry.tables["annual_reports"], "annual_reports")], "annual_reports"))
    if registry.has("projects"):
        pr = registry.tables["projects"]
        steps.append(Step("projects", MERGE_PROJECTS, _keyed(graph_rows(pr, "projects"), "project_id"), "projects"))
        steps.append(Step("project consortia", LINK_PROJECT_OF, _links(pr["project_id"], pr["consortium_id"])))
        steps.append(Step("project leads", LINK_LEADS_PROJECT, _links(pr["lead_uscc"], pr["project_id"])))
    if registry.has("project_members"):
        pm = registry.tables["project_members"]
        steps.append(Step("project members", MERGE_PROJECT_MEMBERS, [
            {"start": u, "end": p, "props": props}
            for props, u, p in zip(graph_rows(pm, "project_members", drop=("uscc", "project_id")),
                                   pm["uscc"], pm["project_id"], strict=True)], "project_members"))
    return [s for s in steps if s.rows]


def _json(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return text_value(value)


def fingerprint(steps: list[Step], meta: dict[str, Any]) -> str:
    """A digest of everything a push writes: the same registry always gives
    the same one, so it can stamp every item without making a second push
    of that registry differ from the first. (Hashed in slices of 10,000 rows:
    one ``json.dumps`` per slice is twice as fast as one per row, and a
    slice of a million-row table stays small.)"""
    h = hashlib.blake2b(digest_size=12)
    h.update(json.dumps({"format": FORMAT, "meta": meta}, sort_keys=True, default=_json).encode())
    for step in steps:
        h.update(step.name.encode())
        for i in range(0, len(step.rows), 10_000):
            h.update(json.dumps(step.rows[i:i + 10_000], sort_keys=True, default=_json, ensure_ascii=False,
                                check_circular=False).encode())
    return h.hexdigest()


def _batches(steps: list[Step], size: int) -> Iterator[tuple[Step, list[dict[str, Any]]]]:
    for step in steps:
        for i in range(0, len(step.rows), size):
            yield step, step.rows[i:i + size]


def _begin(tx: neo4j.ManagedTransaction, gen: str, batch_size: int) -> int:
    """Mark the push pending; resume where the same push stopped, if it did."""
    rec = tx.run(READ_META, name=META_NAME).single()
    meta = rec["meta"] if rec else {}
    done = 0
    if meta.get("pending") == gen and meta.get("pending_batch_size") == batch_size:
        done = int(meta.get("pending_done") or 0)
    tx.run(BEGIN_PUSH, name=META_NAME, gen=gen, batch_size=batch_size, done=done).consume()
    return done


def _write_batch(tx: neo4j.ManagedTransaction, cypher: str, rows: list[dict[str, Any]], gen: str, done: int) -> None:
    """One batch and its checkpoint, in one transaction."""
    tx.run(cypher, rows=rows, gen=gen).consume()
    if tx.run(CHECKPOINT, name=META_NAME, gen=gen, done=done).single() is None:
        raise BackendError("another push of a different registry started while this one ran; this one stopped "
                           "(the database is marked incomplete until one push finishes)")


def _sweep_chunk(tx: neo4j.ManagedTransaction, cypher: str, gen: str, limit: int) -> int:
    rec = tx.run(cypher, gen=gen, limit=limit).single()
    return int(rec["n"]) if rec else 0


def _finish(tx: neo4j.ManagedTransaction, gen: str, meta: dict[str, Any]) -> None:
    if tx.run(FINISH_PUSH, name=META_NAME, gen=gen, meta=meta).single() is None:
        raise BackendError("another push started while this one was finishing; this one stopped")


def push(driver: neo4j.Driver, database: str | None, registry: Registry, *,
         batch_size: int = DEFAULT_BATCH_SIZE, progress: bool = False) -> PushReport:
    """Make the database hold ``registry``: exactly it, nothing of before.

    Resumes an interrupted push of the same registry (same content and batch
    size). ``progress`` shows a progress bar on standard error.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    t0 = time.perf_counter()
    steps = plan(registry)
    meta = registry_meta(registry)
    gen = fingerprint(steps, meta)
    tables: dict[str, int] = {}
    for s in steps:
        if s.table:
            tables[s.table] = tables.get(s.table, 0) + len(s.rows)
    report = PushReport(gen, {s.name: len(s.rows) for s in steps}, tables, batch_size)
    ensure_schema(driver, database)
    with driver.session(database=database) as session:
        done = session.execute_write(_begin, gen, batch_size)
        total = sum(len(s.rows) for s in steps)
        with _Bar(total=total, unit="row", desc="push", disable=not progress, leave=False) as bar:
            for n, (step, rows) in enumerate(_batches(steps, batch_size)):
                bar.set_postfix_str(step.name, refresh=False)
                if n < done:
                    report.resumed_batches += 1
                else:
                    t = time.perf_counter()
                    session.execute_write(_write_batch, step.cypher, rows, gen, n + 1)
                    report.step_seconds[step.name] = report.step_seconds.get(step.name, 0.0) + time.perf_counter() - t
                report.batches += 1
                bar.update(len(rows))
        t = time.perf_counter()
        for cypher in (*SWEEP_RELATIONSHIPS.values(), *SWEEP_NODES.values()):
            while True:
                n = session.execute_write(_sweep_chunk, cypher, gen, batch_size)
                report.removed += n
                if n < batch_size:
                    break
        report.step_seconds["sweep"] = time.perf_counter() - t
        final = {k: v for k, v in meta.items() if v != []}
        session.execute_write(_finish, gen, {"name": META_NAME, "format": FORMAT, "generation": gen, **final})
    report.seconds = time.perf_counter() - t0
    return report

