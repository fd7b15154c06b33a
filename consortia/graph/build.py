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

import networkx as nx
import pandas as pd

from ..registry import Registry
from ..state import active_memberships, as_timestamp

__all__ = ["build_graph", "node_id"]


def node_id(kind: str, key: str, chain: str | None = None) -> str:
    """The namespaced node id of a unit, consortium, jurisdiction, chain or segment."""
    if kind == "segment":
        return f"segment:{chain}/{key}"
    return f"{kind}:{key}"


def _attrs(frame: pd.DataFrame, drop: tuple[str, ...] = ()) -> list[dict[str, object]]:
    cols = [c for c in frame.columns if c not in drop and not c.startswith("_")]
    recs = frame[cols].to_dict("records")
    return [{k: v for k, v in r.items() if not (v is None or v == "" or (not isinstance(v, tuple) and pd.isna(v)))}
            for r in recs]


def build_graph(registry: Registry, as_of: dt.date | str | None = None) -> nx.MultiDiGraph:
    """Build the graph once; member edges say whether they are ``active`` on ``as_of``."""
    ts = as_timestamp(as_of)
    g = nx.MultiDiGraph(as_of=ts.date().isoformat())
    units, cons, m = registry.units, registry.consortia, registry.memberships
    g.add_nodes_from((node_id("unit", u), {"kind": "unit", **a})
                     for u, a in zip(units["uscc"], _attrs(units), strict=True))
    g.add_nodes_from((node_id("consortium", c), {"kind": "consortium", **a})
                     for c, a in zip(cons["consortium_id"], _attrs(cons), strict=True))
    for j in sorted(set(cons["jurisdiction"])):
        g.add_node(node_id("jurisdiction", j), kind="jurisdiction", jurisdiction=j)
    g.add_edges_from((node_id("consortium", c), node_id("jurisdiction", j), {"kind": "recognized_by"})
                     for c, j in zip(cons["consortium_id"], cons["jurisdiction"], strict=True))
    src = cons[cons["recognized_from"] != ""]
    g.add_edges_from((node_id("consortium", c), node_id("consortium", f), {"kind": "same_body"})
                     for c, f in zip(src["consortium_id"], src["recognized_from"], strict=True))
    live = active_memberships(registry, ts).set_index(["consortium_id", "uscc", "joined_on"]).index
    key = pd.MultiIndex.from_frame(m[["consortium_id", "uscc", "joined_on"]])
    active = key.isin(live)
    g.add_edges_from(
        (node_id("unit", u), node_id("consortium", c), i, {"kind": "member", "active": bool(a), **attrs})
        for i, u, c, a, attrs in zip(m.index, m["uscc"], m["consortium_id"], active,
                                     _attrs(m, ("uscc", "consortium_id")), strict=True)
    )
    chains = registry.table("chains")
    for ch, name in chains[["chain_id", "chain_name"]].drop_duplicates("chain_id").itertuples(index=False):
        g.add_node(node_id("chain", ch), kind="chain", chain_id=ch, chain_name=name)
    for r, a in zip(chains.itertuples(index=False), _attrs(chains), strict=True):
        seg = node_id("segment", r.segment_id, r.chain_id)
        g.add_node(seg, kind="segment", **a)
        g.add_edge(seg, node_id("chain", r.chain_id), kind="in_chain")
        if r.parent:
            g.add_edge(seg, node_id("segment", r.parent, r.chain_id), kind="part_of")
        for f in r.feeds:
            g.add_edge(seg, node_id("segment", f, r.chain_id), kind="feeds")
    chain_of = dict(zip(cons["consortium_id"], cons["chain_id"], strict=True))
    cover: dict[tuple[str, str], dict[str, int]] = {}
    for c, role, segs, a in zip(m["consortium_id"], m["role"], m["segments"], active, strict=True):
        if not a:
            continue
        for s in segs:
            tiers = cover.setdefault((c, s), {})
            tiers[role] = tiers.get(role, 0) + 1
    for (c, s), tiers in cover.items():
        g.add_edge(node_id("consortium", c), node_id("segment", s, chain_of.get(c) or None), kind="covers", **tiers)
    return g
