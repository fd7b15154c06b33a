"""The network queries answered by the shared database: :class:`Neo4jNetwork`.

The query modules (:mod:`consortia.queries`) read four *facts* through the
:class:`~consortia.queries.network.Network` interface; this backend supplies
them with Cypher, each filtered on the server as the query asks (the
memberships of these units, of these bodies, on these chains), so a chain
question never pulls the registry. Where a question fits Cypher, the server
also does the aggregation and only the answer crosses the wire:

==================  ===============================================================
``cross_units``     units in two or more bodies spanning two or more jurisdictions
                    (:data:`CROSS_UNITS`); only those units' memberships and names
                    are then fetched to write the rows
``projection``      shared members per pair of bodies (:data:`PAIR_COUNTS`, with the
                    pair filters applied on the server); ``shared_pairs`` and
                    ``near_duplicates`` build on it, and ask for the shared units of
                    the pairs they return only (:data:`SHARED_UNITS`)
``same_body``       members, members in every record and the drifted units of each
                    body recorded more than once (:data:`SAME_BODY_COUNTS`)
``coverage``        distinct units per chain, scope, segment and tier
                    (:data:`COVERAGE_COUNTS`; the segment tree comes as a parameter)
==================  ===============================================================

``gaps`` reads the facts of the chains concerned (it needs every covering
unit to rank candidates). ``brokers``, ``components`` and ``path`` need the
whole unit–body graph: betweenness, articulation points and components do
not fit plain Cypher without the Graph Data Science library, and ``path``
must pick, among shortest paths, the one with the smallest codes (what
every backend agrees on), so they fetch the (body, unit, strongest tier)
pairs (:data:`BODY_MEMBERS`, one row per edge of that graph, nothing else)
and run the same igraph code as the embedded backend.

The rows and their order are the embedded backend's, because everything
after the Cypher (naming, formatting, ordering, ties) is the same Python:
the query modules' row-building halves (``overlaps.cross_unit_rows``,
``overlaps.same_body_rows``, ``chains.coverage_grid``). Ordering is never
left to the server: Neo4j and ArcadeDB order nulls and strings each in their
own way, so rows are sorted in Python.

Every statement is a module constant whose values arrive as parameters
(the date as a Cypher date, the live statuses, the roles, the filters, the
segment tree); nothing from the registry is ever formatted into Cypher.
Each statement runs in a read transaction that first and last checks the
meta node: reads refuse while a push is pending, and a network answers
from one push (its ``generation``) or says the database changed.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Collection, Iterable
from functools import cached_property
from types import TracebackType
from typing import Any

import numpy as np
import pandas as pd

from ... import geo
from ...queries import chains as _chains
from ...queries import overlaps as _overlaps
from ...queries.network import ROLE_RANK, ROLES, Network, _one_row_per_member
from ...rules.rulebook import Rulebooks
from ...schema import TABLES
from ...state import LIVE_STATUSES, as_timestamp
from .pull import require_complete
from .settings import Neo4jSettings
from .store import Neo4jStore

__all__ = [
    "BODY_MEMBERS",
    "BODY_SIZES",
    "CONSORTIA",
    "COVERAGE_COUNTS",
    "CROSS_UNITS",
    "MEMBERS",
    "MEMBERS_OF_BODIES",
    "MEMBERS_OF_UNITS",
    "MEMBERS_ON_CHAINS",
    "PAIR_COUNTS",
    "SAME_BODY_COUNTS",
    "SEGMENTS",
    "SEGMENTS_OF_CHAIN",
    "SHARED_UNITS",
    "UNITS",
    "UNITS_BY_CODE",
    "Neo4jNetwork",
]

# ---- the semantics of consortia.state, as Cypher fragments (fixed text, no values) -------------------------------

#: A consortium record in force: status active, rectifying or empty, recognised on or before the date.
_RECORD_IN_FORCE = "coalesce(c.status, '') IN $live AND (c.recognized_on IS NULL OR c.recognized_on <= $as_of)"
#: A membership in force: joined on or before the date, not yet left on it.
_MEMBERSHIP_IN_FORCE = "(m.joined_on IS NULL OR m.joined_on <= $as_of) AND (m.left_on IS NULL OR m.left_on > $as_of)"
#: A membership's tier as its index in ``$roles`` (strongest first); an unknown role ranks after all.
_RANK = "coalesce(head([i IN range(0, size($roles) - 1) WHERE $roles[i] = m.role]), size($roles))"
_MEMBER_COLUMNS = """
RETURN c.consortium_id AS consortium_id, c.body_id AS body_id, c.jurisdiction AS jurisdiction,
       coalesce(c.chain_id, '') AS chain_id, u.uscc AS uscc, m.role AS role,
       coalesce(m.segments, []) AS segments, m._row AS _row, m._key AS _key
"""

# ---- the four facts ---------------------------------------------------------------------------------------------

CONSORTIA = f"""
MATCH (c:Consortium)
WHERE {_RECORD_IN_FORCE}
RETURN c.consortium_id AS consortium_id, coalesce(c.name, '') AS name, c.jurisdiction AS jurisdiction,
       coalesce(c.chain_id, '') AS chain_id, c.body_id AS body_id,
       coalesce(c.recognized_from, '') AS recognized_from, c._row AS _row
"""

#: Every membership in force (only :meth:`Neo4jNetwork.fetch_members` without a
#: filter runs it; no query of this module asks for it).
MEMBERS = f"""
MATCH (u:Unit)-[m:MEMBER_OF]->(c:Consortium)
WHERE {_RECORD_IN_FORCE} AND {_MEMBERSHIP_IN_FORCE}
{_MEMBER_COLUMNS}
"""

#: The memberships of the units ``$units`` (looked up by the unique code),
#: optionally only on ``$chains`` and in ``$bodies`` (``null``: any).
MEMBERS_OF_UNITS = f"""
UNWIND $units AS code
MATCH (u:Unit {{uscc: code}})-[m:MEMBER_OF]->(c:Consortium)
WHERE {_RECORD_IN_FORCE} AND {_MEMBERSHIP_IN_FORCE}
  AND ($chains IS NULL OR coalesce(c.chain_id, '') IN $chains)
  AND ($bodies IS NULL OR c.body_id IN $bodies)
{_MEMBER_COLUMNS}
"""

#: The memberships of the bodies ``$bodies`` (through the body index), optionally only on ``$chains``.
MEMBERS_OF_BODIES = f"""
UNWIND $bodies AS body
MATCH (c:Consortium {{body_id: body}})
WHERE {_RECORD_IN_FORCE} AND ($chains IS NULL OR coalesce(c.chain_id, '') IN $chains)
MATCH (u:Unit)-[m:MEMBER_OF]->(c)
WHERE {_MEMBERSHIP_IN_FORCE}
{_MEMBER_COLUMNS}
"""

#: The memberships of the records on the chains ``$chains``.
MEMBERS_ON_CHAINS = f"""
MATCH (c:Consortium)
WHERE coalesce(c.chain_id, '') IN $chains AND {_RECORD_IN_FORCE}
MATCH (u:Unit)-[m:MEMBER_OF]->(c)
WHERE {_MEMBERSHIP_IN_FORCE}
{_MEMBER_COLUMNS}
"""

_UNIT_COLUMNS = """
RETURN u.uscc AS uscc, coalesce(u.name, '') AS name, coalesce(u.type, '') AS type, coalesce(u.city, '') AS city,
       u._row AS _row
"""
UNITS = "MATCH (u:Unit)" + _UNIT_COLUMNS
UNITS_BY_CODE = "UNWIND $codes AS code MATCH (u:Unit {uscc: code})" + _UNIT_COLUMNS

SEGMENTS = "MATCH (s:Segment) RETURN properties(s) AS p"
SEGMENTS_OF_CHAIN = "MATCH (s:Segment) WHERE s.chain_id = $chain RETURN properties(s) AS p"

# ---- questions answered on the server ---------------------------------------------------------------------------

#: Units in at least two bodies whose records in force span at least two jurisdictions.
CROSS_UNITS = f"""
MATCH (u:Unit)-[m:MEMBER_OF]->(c:Consortium)
WHERE {_RECORD_IN_FORCE} AND {_MEMBERSHIP_IN_FORCE}
WITH u, collect(DISTINCT c.body_id) AS bodies
WHERE size(bodies) >= 2
UNWIND bodies AS body
MATCH (c:Consortium {{body_id: body}})
WHERE {_RECORD_IN_FORCE}
WITH u, size(bodies) AS n, collect(DISTINCT c.jurisdiction) AS jurisdictions
WHERE size(jurisdictions) >= 2
RETURN u.uscc AS uscc, n AS bodies, jurisdictions
"""

#: Distinct members of every body.
BODY_SIZES = f"""
MATCH (u:Unit)-[m:MEMBER_OF]->(c:Consortium)
WHERE {_RECORD_IN_FORCE} AND {_MEMBERSHIP_IN_FORCE}
RETURN c.body_id AS body, count(DISTINCT u) AS n
"""

#: Members shared by each pair of bodies: every unit's bodies, paired. At least
#: ``$min_shared``, and a Jaccard index (``$sizes``: members per body) of at
#: least ``$min_jaccard`` (a slightly lower bound than asked: the exact,
#: rounded test is applied in Python, as the embedded backend applies it).
PAIR_COUNTS = f"""
MATCH (u:Unit)-[m:MEMBER_OF]->(c:Consortium)
WHERE {_RECORD_IN_FORCE} AND {_MEMBERSHIP_IN_FORCE}
WITH DISTINCT u.uscc AS uscc, c.body_id AS body
WITH uscc, collect(body) AS bodies
WHERE size(bodies) >= 2
UNWIND bodies AS a
UNWIND bodies AS b
WITH a, b
WHERE a < b
WITH a, b, count(*) AS shared
WHERE shared >= $min_shared
WITH a, b, shared, $sizes[a] AS na, $sizes[b] AS nb
WHERE toFloat(shared) / (na + nb - shared) >= $min_jaccard
RETURN a, b, shared
"""

#: The units each pair ``$pairs`` (maps with ``a`` and ``b``) shares.
SHARED_UNITS = f"""
UNWIND $pairs AS p
MATCH (c:Consortium {{body_id: p.a}})
WHERE {_RECORD_IN_FORCE}
MATCH (u:Unit)-[m:MEMBER_OF]->(c)
WHERE {_MEMBERSHIP_IN_FORCE}
WITH DISTINCT p.a AS a, p.b AS b, u
MATCH (u)-[m:MEMBER_OF]->(c:Consortium {{body_id: b}})
WHERE {_RECORD_IN_FORCE} AND {_MEMBERSHIP_IN_FORCE}
RETURN a, b, collect(DISTINCT u.uscc) AS shared
"""

#: For each body of ``$bodies``: its distinct members, those listed on every
#: record in force, and the codes of those listed on only some.
SAME_BODY_COUNTS = f"""
UNWIND $bodies AS body
MATCH (c:Consortium {{body_id: body}})
WHERE {_RECORD_IN_FORCE}
WITH body, count(c) AS records
MATCH (u:Unit)-[m:MEMBER_OF]->(c:Consortium {{body_id: body}})
WHERE {_RECORD_IN_FORCE} AND {_MEMBERSHIP_IN_FORCE}
WITH body, records, u.uscc AS uscc, count(DISTINCT c) AS n
RETURN body AS body_id, count(*) AS members, sum(CASE WHEN n = records THEN 1 ELSE 0 END) AS in_every_record,
       collect(CASE WHEN n < records THEN uscc END) AS in_some_records
"""

#: Distinct units per (chain, scope, segment) with their strongest tier in the
#: scope. A unit listed twice on a record counts with its strongest tier and
#: all its segments (as the facts collapse it); a segment counts for itself
#: and every segment above it (``$ancestors``: chain → segment → the segment
#: and its ancestors, as :func:`~consortia.queries.chains.segment_order`
#: computed them; ids the chain does not list are ignored). The scope is the
#: record or its jurisdiction (``$by``).
COVERAGE_COUNTS = f"""
MATCH (c:Consortium)
WHERE coalesce(c.chain_id, '') IN $chains AND {_RECORD_IN_FORCE}
MATCH (u:Unit)-[m:MEMBER_OF]->(c)
WHERE {_MEMBERSHIP_IN_FORCE}
WITH c, u, min({_RANK}) AS rank, collect(coalesce(m.segments, [])) AS lists
UNWIND reduce(s = [], l IN lists | s + l) AS direct
WITH c, u, rank, $ancestors[c.chain_id][direct] AS above
WHERE above IS NOT NULL
UNWIND above AS segment
WITH c.chain_id AS chain_id, CASE $by WHEN 'consortium' THEN c.consortium_id ELSE c.jurisdiction END AS scope,
     segment, u, min(rank) AS rank
RETURN chain_id, scope, segment AS segment_id, rank, count(*) AS n
"""

#: The edges of the unit–body graph: each unit in each body, with its strongest tier there.
BODY_MEMBERS = f"""
MATCH (u:Unit)-[m:MEMBER_OF]->(c:Consortium)
WHERE {_RECORD_IN_FORCE} AND {_MEMBERSHIP_IN_FORCE}
RETURN c.body_id AS body_id, u.uscc AS uscc, min({_RANK}) AS rank
"""

_MEMBER_FRAME = ("consortium_id", "body_id", "jurisdiction", "chain_id", "uscc", "role", "rank", "segments")


def _strings(values: Iterable[Any]) -> list[str]:
    """A filter as a list of distinct strings (what the driver sends as a Cypher list)."""
    return [str(v) for v in dict.fromkeys(values)]


def _tuples(values: Iterable[Any]) -> list[tuple[Any, ...]]:
    return [tuple(v) if v is not None else () for v in values]


class Neo4jNetwork(Network):
    """The registry's network on ``as_of``, answered by a Neo4j (or Bolt/Cypher) database.

    Built from a :class:`Neo4jStore` (sharing its connection) or from
    :class:`Neo4jSettings` (opening one, closed by :meth:`close` or the
    ``with`` block). The database must hold a completely pushed registry;
    every statement checks that it still holds the same push.

    ``statements`` records each statement run (its text, rows returned and
    seconds), so a caller or a test can see what crossed the wire.
    """

    def __init__(self, store: Neo4jStore | Neo4jSettings, books: Rulebooks | None = None,
                 as_of: dt.date | str | pd.Timestamp | None = None) -> None:
        self._owns_store = isinstance(store, Neo4jSettings)
        self.store = Neo4jStore(store, books) if isinstance(store, Neo4jSettings) else store
        try:
            self.books = books or self.store.books
            self.as_of = as_timestamp(as_of)
            meta = require_complete(self.store.meta())
            self.generation: str = str(meta["generation"])
            self._sources = {k[len("source_"):]: str(v) for k, v in meta.items() if k.startswith("source_") and v}
        except BaseException:
            self.close()
            raise
        self.statements: list[tuple[str, int, float]] = []
        self._pairs: dict[tuple[int, float], pd.DataFrame] = {}

    def __enter__(self) -> Neo4jNetwork:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection if this network opened it (a shared store stays open)."""
        if self._owns_store:
            self.store.close()

    # ---- running statements ------------------------------------------------------------------------------------------
    def _frame(self, query: str, **params: Any) -> pd.DataFrame:
        """One statement with the date, the live statuses and the roles as parameters, as an object frame."""
        t = time.perf_counter()
        frame = self.store.frame(query, {"as_of": self.as_of.date(), "live": list(LIVE_STATUSES),
                                         "roles": list(ROLES), **params}, generation=self.generation)
        self.statements.append((query, len(frame), time.perf_counter() - t))
        return frame

    # ---- the four facts ----------------------------------------------------------------------------------------------
    def fetch_consortia(self) -> pd.DataFrame:
        f = self._frame(CONSORTIA)
        cols = ["consortium_id", "name", "jurisdiction", "chain_id", "body_id", "recognized_from"]
        if f.empty:
            return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
        f = f.sort_values(["_row", "consortium_id"], kind="stable", na_position="last")
        return f[cols].reset_index(drop=True).astype(object)

    def fetch_members(self, *, chains: Collection[str] | None = None, units: Collection[str] | None = None,
                      bodies: Collection[str] | None = None) -> pd.DataFrame:
        """Memberships in force, filtered on the server: anchored on the unit codes when
        given (the unique index), else on the bodies (the body index), else on the chains."""
        params = {"chains": None if chains is None else _strings(chains),
                  "units": None if units is None else _strings(units),
                  "bodies": None if bodies is None else _strings(bodies)}
        if units is not None:
            query = MEMBERS_OF_UNITS
        elif bodies is not None:
            query = MEMBERS_OF_BODIES
        elif chains is not None:
            query = MEMBERS_ON_CHAINS
        else:
            query = MEMBERS
        return self._members_frame(self._frame(query, **params))

    @staticmethod
    def _members_frame(f: pd.DataFrame) -> pd.DataFrame:
        """Rows as the embedded backend derives them: in source order (``_row``; a
        membership added in the database, which has none, last), then collapsed to one
        row per (record, unit) by the same function."""
        if f.empty:
            out = pd.DataFrame({c: pd.Series(dtype=object) for c in _MEMBER_FRAME})
            out["rank"] = out["rank"].astype(np.int8)
            return out
        f = f.sort_values(["_row", "_key"], kind="stable", na_position="last").reset_index(drop=True)
        m = pd.DataFrame({
            "consortium_id": f["consortium_id"], "body_id": f["body_id"], "jurisdiction": f["jurisdiction"],
            "chain_id": f["chain_id"], "uscc": f["uscc"], "role": f["role"],
            "rank": f["role"].map(ROLE_RANK).fillna(len(ROLES)).astype(np.int8),
            "segments": pd.Series(_tuples(f["segments"]), dtype=object),
        })
        return _one_row_per_member(m)

    def fetch_units(self, codes: Collection[str] | None = None) -> pd.DataFrame:
        f = self._frame(UNITS) if codes is None else self._frame(UNITS_BY_CODE, codes=_strings(codes))
        if f.empty:
            return pd.DataFrame({c: pd.Series(dtype=object) for c in ("uscc", "name", "type", "city")})
        f = f.sort_values(["_row", "uscc"], kind="stable", na_position="last").reset_index(drop=True)
        city = geo.normalize_cities(f["city"])
        return pd.DataFrame({
            "uscc": f["uscc"].to_numpy(dtype=object), "name": f["name"].to_numpy(dtype=object),
            "type": f["type"].to_numpy(dtype=object),
            "city": city.where(city.notna(), f["city"]).to_numpy(dtype=object),
        })

    def fetch_chains(self, chain: str | None = None) -> pd.DataFrame:
        """The chains table's declared columns (text, ``feeds`` a tuple) and ``_row``, in source order."""
        f = self._frame(SEGMENTS) if chain is None else self._frame(SEGMENTS_OF_CHAIN, chain=str(chain))
        props = f["p"].tolist() if len(f) else []
        props.sort(key=lambda p: (p.get("_row") is None, p.get("_row") or 0, p.get("chain_id", ""),
                                  p.get("segment_id", "")))
        out: dict[str, list[Any]] = {}
        for col in TABLES["chains"].columns:
            if col.kind == "list":
                out[col.name] = [tuple(p.get(col.name) or ()) for p in props]
            else:
                out[col.name] = ["" if p.get(col.name) is None else str(p[col.name]) for p in props]
        frame = pd.DataFrame(out, columns=list(out), dtype=object)
        frame["_row"] = pd.Series([int(p.get("_row") or -1) for p in props], dtype="int64")
        return frame

    def source_label(self, table: str) -> str:
        return self._sources.get(table, table)

    # ---- the graph, for brokers, components and path -----------------------------------------------------------------
    @cached_property
    def body_members(self) -> pd.DataFrame:
        """Every (body, unit) pair with the unit's strongest tier: the unit–body graph.

        The one fetch here that grows with the whole registry (one row per
        edge, three columns): ``brokers``, ``components`` and ``path`` need
        the graph whole, and betweenness, cut vertices and components do not
        fit plain Cypher (see the module docstring)."""
        f = self._frame(BODY_MEMBERS)
        if f.empty:
            return pd.DataFrame({"body_id": pd.Series(dtype=object), "uscc": pd.Series(dtype=object),
                                 "role": pd.Series(dtype=object), "rank": pd.Series(dtype=np.int8)})
        f = f.sort_values(["body_id", "uscc"], kind="stable").reset_index(drop=True)
        rank = f["rank"].astype(np.int64).to_numpy()
        roles = np.array([*ROLES, ""], dtype=object)
        return pd.DataFrame({"body_id": f["body_id"], "uscc": f["uscc"],
                             "role": roles[np.minimum(rank, len(ROLES))], "rank": rank.astype(np.int8)})

    # ---- questions answered on the server ----------------------------------------------------------------------------
    def cross_units(self) -> pd.DataFrame:
        """Counted by :data:`CROSS_UNITS`; the chosen units' records and names fetched for the rows."""
        f = self._frame(CROSS_UNITS)
        if f.empty:
            return _overlaps.cross_unit_rows(self, pd.DataFrame(columns=["uscc", "bodies", "jurisdictions"]))
        f["jurisdictions"] = [tuple(sorted(js)) for js in f["jurisdictions"]]
        f = f.sort_values("uscc", kind="stable").reset_index(drop=True)
        return _overlaps.cross_unit_rows(self, f)

    def projection(self, min_shared: int = 1, min_jaccard: float = 0.0) -> pd.DataFrame:
        """Pair counts by :data:`PAIR_COUNTS` (the filters applied on the server), in ``(a, b)`` order.

        Cypher compares strings as Java does (UTF-16 units) and Python by code
        points, so each pair is oriented again here; the Jaccard bound sent
        is lower than asked by more than the rounding can move a value, and
        the exact test is the embedded one. Remembered per filter: the
        ``overlaps`` command asks for the pair count and then the pairs."""
        key = (max(int(min_shared), 1), float(min_jaccard))
        if key in self._pairs:
            return self._pairs[key].copy()
        sizes_frame = self._frame(BODY_SIZES)
        sizes = {str(b): int(n) for b, n in zip(sizes_frame.get("body", []), sizes_frame.get("n", []), strict=True)}
        bound = min_jaccard - 1e-3 if min_jaccard > 0 else -math.inf
        f = self._frame(PAIR_COUNTS, min_shared=key[0], sizes=sizes, min_jaccard=bound if math.isfinite(bound) else -1.0)
        cols = ["a", "b", "shared", "members_a", "members_b"]
        if f.empty:
            out = pd.DataFrame({c: pd.Series(dtype=object if c in "ab" else np.int64) for c in cols})
        else:
            a, b = f["a"].astype(str).to_numpy(dtype=object), f["b"].astype(str).to_numpy(dtype=object)
            swap = np.array([x > y for x, y in zip(a, b, strict=True)], dtype=bool)
            a, b = np.where(swap, b, a), np.where(swap, a, b)
            out = pd.DataFrame({"a": a, "b": b, "shared": f["shared"].astype(np.int64).to_numpy()})
            out["members_a"] = out["a"].map(sizes).astype(np.int64)
            out["members_b"] = out["b"].map(sizes).astype(np.int64)
            out = out.sort_values(["a", "b"], kind="stable").reset_index(drop=True)
            if min_jaccard > 0:
                out = out[(_overlaps.jaccard(out) >= min_jaccard - 1e-12).to_numpy()].reset_index(drop=True)
        self._pairs[key] = out
        return out.copy()

    def pair_counts(self, min_shared: int = 1) -> _overlaps.PairCounts:
        """The pairs counted on the server (:meth:`projection`), numbered."""
        return _overlaps.PairCounts.of_frame(self.projection(min_shared))

    def shared_units(self, pairs: pd.DataFrame) -> pd.Series:
        """The shared units of these pairs only (:data:`SHARED_UNITS`), sorted codes."""
        if len(pairs) == 0:
            return pd.Series([], dtype=object)
        wanted = [{"a": str(a), "b": str(b)} for a, b in dict.fromkeys(zip(pairs["a"], pairs["b"], strict=True))]
        f = self._frame(SHARED_UNITS, pairs=wanted)
        lists = {(a, b): tuple(sorted(s)) for a, b, s in zip(f.get("a", []), f.get("b", []), f.get("shared", []),
                                                             strict=True)}
        return pd.Series([lists.get((a, b), ()) for a, b in zip(pairs["a"], pairs["b"], strict=True)], dtype=object)

    def same_body(self) -> pd.DataFrame:
        """Counted per body by :data:`SAME_BODY_COUNTS`; the bodies come from the records in force."""
        multi = _overlaps.multi_record_bodies(self)
        if multi.empty:
            return _overlaps.same_body_rows(self, multi, pd.DataFrame())
        f = self._frame(SAME_BODY_COUNTS, bodies=_strings(multi.index))
        counts = pd.DataFrame({
            "members": f["members"].astype(np.int64).to_numpy() if len(f) else [],
            "in_every_record": f["in_every_record"].astype(np.int64).to_numpy() if len(f) else [],
            "in_some_records": [tuple(sorted(x)) for x in f["in_some_records"]] if len(f) else [],
        }, index=pd.Index(f["body_id"] if len(f) else [], dtype=object))
        return _overlaps.same_body_rows(self, multi, counts)

    def coverage(self, chain: str | None = None, by: str = "consortium") -> pd.DataFrame:
        """Tier counts by :data:`COVERAGE_COUNTS`; the matrix laid out by the embedded code."""
        segs, scopes = _chains.coverage_frame(self, chain, by)
        ancestors: dict[str, dict[str, list[str]]] = {}
        for chain_id, seg, above in zip(segs["chain_id"], segs["segment_id"], segs["ancestors"], strict=True):
            ancestors.setdefault(str(chain_id), {})[str(seg)] = [str(s) for s in above]
        counts = self._frame(COVERAGE_COUNTS, chains=sorted(ancestors), ancestors=ancestors, by=by)
        if counts.empty:
            counts = pd.DataFrame(columns=["chain_id", "scope", "segment_id", "rank", "n"])
        grid = _chains.coverage_grid(segs, scopes, counts)
        return grid[list(_chains.COVERAGE_COLUMNS)]
