"""The registry as a networkx graph.

Node ids are namespaced by kind (``unit:…``, ``consortium:…``,
``jurisdiction:…``, ``chain:…``, ``segment:<chain>/<segment>``) so kinds never
collide. Edges carry ``kind``:

* ``member`` unit → consortium, one per membership row (a MultiDiGraph keeps
  a unit that left and rejoined), with role, segments, dates and ``active``;
* ``recognized_by`` consortium → jurisdiction;
* ``same_body`` consortium → the consortium it was directly recognised from;
* ``covers`` consortium → segment, with members by tier;
* ``part_of`` segment → parent segment, ``in_chain`` segment → chain, and
  ``feeds`` segment → segment it supplies.

Algorithms that need a simple graph take a view (e.g. only active member
edges); the unit–unit projection is never built whole.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from ..registry import Registry
from ..state import active_memberships, as_timestamp

__all__ = ["build_graph", "graph_edges", "graph_nodes", "node_id"]

#: An edge as the generators give it: source, target, key (unique per source and target) and attributes.
Edge = tuple[str, str, Any, dict[str, Any]]


def node_id(kind: str, key: str, chain: str | None = None) -> str:
    """The namespaced node id of a unit, consortium, jurisdiction, chain or segment."""
    if kind == "segment":
        return f"segment:{chain}/{key}"
    return f"{kind}:{key}"


def _attrs(frame: pd.DataFrame, drop: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """One dict per row of the columns that hold a value there (not missing, not empty text).

    Judged a column at a time on its array, not a cell at a time: pandas' records
    and ``isna`` on each of a national registry's thirty million cells took minutes."""
    cols = [c for c in frame.columns if c not in drop and not c.startswith("_")]
    recs: list[dict[str, Any]] = [{} for _ in range(len(frame))]
    for c in cols:
        s = frame[c]
        values = s.to_numpy(dtype=object)
        if s.dtype == object:  # tuples (segments, feeds) are kept even when empty; other cells as below
            present = np.fromiter((v is not None and (isinstance(v, tuple) or not (v == "" or pd.isna(v))) for v in values),
                                  dtype=bool, count=len(values))
        else:
            present = s.notna().to_numpy()
            if pd.api.types.is_string_dtype(s.dtype):
                present = present & (values != "")
        for i in np.flatnonzero(present).tolist():
            recs[i][c] = values[i]
    return recs


def graph_nodes(registry: Registry) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every node of the registry graph with its attributes, one at a time (what
    :func:`build_graph` adds, and what the exports write without holding a graph)."""
    units, cons = registry.units, registry.consortia
    for u, a in zip(units["uscc"].tolist(), _attrs(units), strict=True):
        yield node_id("unit", u), {"kind": "unit", **a}
    for c, a in zip(cons["consortium_id"].tolist(), _attrs(cons), strict=True):
        yield node_id("consortium", c), {"kind": "consortium", **a}
    for j in sorted(set(cons["jurisdiction"])):
        yield node_id("jurisdiction", j), {"kind": "jurisdiction", "jurisdiction": j}
    chains = registry.table("chains")
    for ch, name in chains[["chain_id", "chain_name"]].drop_duplicates("chain_id").itertuples(index=False):
        yield node_id("chain", ch), {"kind": "chain", "chain_id": ch, "chain_name": name}
    for r, a in zip(chains.itertuples(index=False), _attrs(chains), strict=True):
        yield node_id("segment", r.segment_id, r.chain_id), {"kind": "segment", **a}


def graph_edges(registry: Registry, as_of: dt.date | str | pd.Timestamp | None = None) -> Iterator[Edge]:
    """Every edge of the registry graph, one at a time; keys are what a MultiDiGraph
    would number them (a membership's row; 0, 1, … between the same two nodes)."""
    ts = as_timestamp(as_of)
    cons, m = registry.consortia, registry.memberships
    for c, j in zip(cons["consortium_id"].tolist(), cons["jurisdiction"].tolist(), strict=True):
        yield node_id("consortium", c), node_id("jurisdiction", j), 0, {"kind": "recognized_by"}
    src = cons[cons["recognized_from"] != ""]
    for c, f in zip(src["consortium_id"], src["recognized_from"], strict=True):
        yield node_id("consortium", c), node_id("consortium", f), 0, {"kind": "same_body"}
    live = active_memberships(registry, ts).set_index(["consortium_id", "uscc", "joined_on"]).index
    active = pd.MultiIndex.from_frame(m[["consortium_id", "uscc", "joined_on"]]).isin(live)
    for i, u, c, a, attrs in zip(m.index.tolist(), m["uscc"].tolist(), m["consortium_id"].tolist(), active.tolist(),
                                 _attrs(m, ("uscc", "consortium_id")), strict=True):
        yield node_id("unit", u), node_id("consortium", c), i, {"kind": "member", "active": a, **attrs}
    chains = registry.table("chains")
    for r in chains.itertuples(index=False):
        seg = node_id("segment", r.segment_id, r.chain_id)
        targets = [(node_id("chain", r.chain_id), "in_chain")]
        if r.parent:
            targets.append((node_id("segment", r.parent, r.chain_id), "part_of"))
        targets += [(node_id("segment", f, r.chain_id), "feeds") for f in r.feeds]
        seen: dict[str, int] = {}
        for target, kind in targets:
            seen[target] = seen.get(target, -1) + 1
            yield seg, target, seen[target], {"kind": kind}
    chain_of = dict(zip(cons["consortium_id"], cons["chain_id"], strict=True))
    cover: dict[tuple[str, str], dict[str, int]] = {}
    for c, role, segs, a in zip(m["consortium_id"].tolist(), m["role"].tolist(), m["segments"].tolist(), active.tolist(),
                                strict=True):
        if not a:
            continue
        for s in segs:
            tiers = cover.setdefault((c, s), {})
            tiers[role] = tiers.get(role, 0) + 1
    for (c, s), tiers in cover.items():
        yield node_id("consortium", c), node_id("segment", s, chain_of.get(c) or None), 0, {"kind": "covers", **tiers}


def build_graph(registry: Registry, as_of: dt.date | str | None = None) -> nx.MultiDiGraph:
    """Build the graph once; member edges say whether they are ``active`` on ``as_of``."""
    ts = as_timestamp(as_of)
    g = nx.MultiDiGraph(as_of=ts.date().isoformat())
    g.add_nodes_from(graph_nodes(registry))
    g.add_edges_from(graph_edges(registry, ts))
    return g
