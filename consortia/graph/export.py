"""The registry graph as GraphML or GEXF, for Gephi, Cytoscape, igraph and friends.

The in-memory graph carries Python values (tuples of segments, timestamps,
numpy numbers, missing values) that other tools' readers do not know. Every
attribute is turned into one of the types both formats declare (string,
double, boolean) with one type per attribute name, so a reader sees the same
key on every element: lists become ``;``-joined text, dates ISO text,
missing values are left out. Nodes get a ``label`` (the name) for Gephi.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from ..io import atomic_path
from ..registry import Registry
from .build import build_graph

__all__ = ["EXPORT_FORMATS", "export_graph", "portable_graph"]

EXPORT_FORMATS = ("graphml", "gexf")


def _plain(value: Any) -> Any:
    """A value both formats can carry, or None to leave it out."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, (pd.Timestamp, dt.date)):
        return value.date().isoformat() if isinstance(value, pd.Timestamp) else value.isoformat()
    if isinstance(value, (list, tuple, set, frozenset)):
        return ";".join(str(v) for v in value)
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if value is pd.NA:
        return None
    if isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def _unify(items: list[dict[str, Any]]) -> None:
    """One type per attribute name: booleans stay, numbers become doubles, anything mixed becomes text."""
    kinds: dict[str, set[type]] = {}
    for attrs in items:
        for k, v in attrs.items():
            kinds.setdefault(k, set()).add(bool if isinstance(v, bool) else float if isinstance(v, (int, float)) else str)
    for attrs in items:
        for k, v in list(attrs.items()):
            kind = kinds[k]
            if kind == {float}:
                attrs[k] = float(v)
            elif kind != {bool}:
                attrs[k] = str(v)


def portable_graph(registry: Registry, as_of: dt.date | str | None = None) -> nx.MultiDiGraph:
    """The registry graph (see :mod:`.build`) with every attribute in a portable type."""
    g = build_graph(registry, as_of)
    out = nx.MultiDiGraph()
    nodes = []
    for n, a in g.nodes(data=True):
        attrs = {k: p for k, v in a.items() if (p := _plain(v)) is not None}
        attrs.setdefault("label", str(a.get("name") or a.get("chain_name") or a.get("segment_name") or n))
        nodes.append((n, attrs))
    edges = []
    for u, v, k, a in g.edges(keys=True, data=True):
        edges.append((u, v, str(k), {key: p for key, val in a.items() if (p := _plain(val)) is not None}))
    _unify([a for _, a in nodes])
    _unify([a for *_, a in edges])
    out.add_nodes_from(nodes)
    out.add_edges_from(edges)
    out.graph["as_of"] = g.graph["as_of"]
    return out


def export_graph(registry: Registry, path: str | Path, fmt: str, as_of: dt.date | str | None = None) -> nx.MultiDiGraph:
    """Write the graph to ``path`` as GraphML or GEXF (atomically); returns what was written."""
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; choose from {', '.join(EXPORT_FORMATS)}")
    g = portable_graph(registry, as_of)
    with atomic_path(path) as tmp:
        if fmt == "graphml":
            nx.write_graphml(g, tmp, encoding="utf-8", named_key_ids=True)
        else:
            nx.write_gexf(g, tmp, encoding="utf-8")
    return g
