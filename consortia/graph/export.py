"""The registry graph as GraphML or GEXF, for Gephi, Cytoscape, igraph and friends.

The graph's attributes are Python values (tuples of segments, timestamps,
numpy numbers, missing values) that other tools' readers do not know. Every
attribute is turned into one of the types both formats declare (string,
double, boolean) with one type per attribute name, so a reader sees the same
key on every element: lists become ``;``-joined text, dates ISO text,
missing values are left out. Nodes get a ``label`` (the name) for Gephi.

The files are written as a stream, element by element, from the graph's node
and edge generators (:mod:`.build`), in two passes (the first learns each
attribute's type, which both formats declare before the elements). networkx's
writers hold the graph and the whole document as an element tree: a national
registry's export grew past 11 GB and did not finish. Characters XML 1.0
cannot carry (control characters) are written as U+FFFD.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any, NamedTuple
from xml.sax.saxutils import escape

import numpy as np
import pandas as pd

from .. import progress
from ..io import atomic_path
from ..registry import Registry
from ..state import as_timestamp
from .build import graph_edges, graph_nodes

__all__ = ["EXPORT_FORMATS", "Exported", "export_graph"]

EXPORT_FORMATS = ("graphml", "gexf")


class Exported(NamedTuple):
    """What :func:`export_graph` wrote."""

    nodes: int
    edges: int


def _plain(value: Any) -> Any:
    """A value both formats can carry, or None to leave it out."""
    kind = type(value)
    if kind is str or kind is bool or kind is int:  # most cells: nothing to do
        return value
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


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_SPECIAL = re.compile("[&<>\"\n\r\t\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_ENTITIES = {'"': "&quot;", "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"}


def _xml(value: str) -> str:
    """Text for an XML attribute or element: escaped, with what XML 1.0 cannot hold replaced
    (one search decides: nearly every name, code and date needs neither)."""
    if _SPECIAL.search(value) is None:
        return value
    return escape(_NOT_XML.sub("\ufffd", value), _ENTITIES)


_TYPES = {bool: "boolean", float: "double", str: "string"}


def _boolean(value: Any) -> str:
    return "true" if value else "false"


def _double(value: Any) -> str:
    return repr(float(value))


def _string(value: Any) -> str:
    return _xml(value if type(value) is str else str(value))


def _kind(value: Any) -> type:
    return bool if isinstance(value, bool) else float if isinstance(value, (int, float)) else str


class _Schema:
    """Per element kind (``node``, ``edge``), each attribute's one type, as the first pass
    finds it: booleans stay, numbers become doubles, anything mixed becomes text."""

    def __init__(self) -> None:
        self.kinds: dict[str, dict[str, set[type]]] = {"node": {}, "edge": {}}
        self._writers: dict[tuple[str, str], Callable[[Any], str]] = {}

    def see(self, scope: str, attrs: dict[str, Any]) -> None:
        kinds = self.kinds[scope]
        for k, v in attrs.items():
            kinds.setdefault(k, set()).add(_kind(v))

    def attributes(self, scope: str) -> list[tuple[str, str]]:
        """``(name, type)`` in the order first seen."""
        return [(k, _TYPES[next(iter(ks))] if len(ks) == 1 else "string") for k, ks in self.kinds[scope].items()]

    def text(self, scope: str, name: str, value: Any) -> str:
        """The value as the declared type writes it."""
        key = (scope, name)
        if key not in self._writers:
            kinds = self.kinds[scope][name]
            self._writers[key] = _boolean if kinds == {bool} else _double if kinds == {float} else _string
        return self._writers[key](value)


def _portable(attrs: dict[str, Any]) -> dict[str, Any]:
    return {k: p for k, v in attrs.items() if (p := _plain(v)) is not None}


def _nodes(registry: Registry) -> Iterator[tuple[str, dict[str, Any]]]:
    for n, a in graph_nodes(registry):
        attrs = _portable(a)
        attrs.setdefault("label", str(a.get("name") or a.get("chain_name") or a.get("segment_name") or n))
        yield n, attrs


def _edges(registry: Registry, ts: pd.Timestamp) -> Iterator[tuple[str, str, str, dict[str, Any]]]:
    for u, v, k, a in graph_edges(registry, ts):
        yield u, v, str(k), _portable(a)


def _survey(registry: Registry, ts: pd.Timestamp) -> tuple[_Schema, list[str], int, int]:
    """The first pass: the schema, the nodes edges name without declaring them, the counts."""
    schema = _Schema()
    ids: set[str] = set()
    for n, attrs in _nodes(registry):
        ids.add(n)
        schema.see("node", attrs)
    implicit: dict[str, None] = {}
    edges = 0
    for u, v, _, attrs in _edges(registry, ts):
        edges += 1
        schema.see("edge", attrs)
        for end in (u, v):
            if end not in ids:
                implicit[end] = None
    for n in implicit:
        schema.see("node", {"label": n})
    return schema, list(implicit), len(ids) + len(implicit), edges


def _graphml(fh: IO[str], registry: Registry, ts: pd.Timestamp, schema: _Schema, implicit: Iterable[str]) -> None:
    fh.write("<?xml version='1.0' encoding='utf-8'?>\n"
             '<graphml xmlns="http://graphml.graphdrawing.org/xmlns" '
             'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
             'xsi:schemaLocation="http://graphml.graphdrawing.org/xmlns '
             'http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd">\n')
    ids: dict[tuple[str, str], str] = {}
    for scope, attrs in (("graph", [("as_of", "string")]), ("node", schema.attributes("node")),
                         ("edge", schema.attributes("edge"))):
        for name, typ in attrs:
            # Key ids are the names (as networkx's named_key_ids), unique: a name on nodes and edges
            # is ``edge_<name>`` on edges.
            kid = name if name not in ids.values() else f"{scope}_{name}"
            ids[(scope, name)] = kid
            fh.write(f'  <key id="{_xml(kid)}" for="{scope}" attr.name="{_xml(name)}" attr.type="{typ}" />\n')
    fh.write(f'  <graph edgedefault="directed">\n    <data key="{_xml(ids[("graph", "as_of")])}">'
             f"{ts.date().isoformat()}</data>\n")

    def data(scope: str, attrs: dict[str, Any]) -> str:
        return "".join(f'\n      <data key="{_xml(ids[(scope, k)])}">{schema.text(scope, k, v)}</data>'
                       for k, v in attrs.items())

    progress.step("writing the nodes")
    for n, attrs in _nodes(registry):
        fh.write(f'    <node id="{_xml(n)}">{data("node", attrs)}\n    </node>\n')
    for n in implicit:
        fh.write(f'    <node id="{_xml(n)}">{data("node", {"label": n})}\n    </node>\n')
    progress.step("writing the edges")
    for u, v, k, attrs in _edges(registry, ts):
        fh.write(f'    <edge source="{_xml(u)}" target="{_xml(v)}" id="{_xml(k)}">{data("edge", attrs)}\n    </edge>\n')
    fh.write("  </graph>\n</graphml>\n")


def _gexf(fh: IO[str], registry: Registry, ts: pd.Timestamp, schema: _Schema, implicit: Iterable[str]) -> None:
    fh.write("<?xml version='1.0' encoding='utf-8'?>\n"
             '<gexf xmlns="http://www.gexf.net/1.2draft" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
             'xsi:schemaLocation="http://www.gexf.net/1.2draft http://www.gexf.net/1.2draft/gexf.xsd" version="1.2">\n'
             f'  <meta lastmodifieddate="{dt.date.today().isoformat()}">\n    <creator>consortia</creator>\n'
             f"    <description>The registry as of {ts.date().isoformat()}</description>\n  </meta>\n"
             '  <graph defaultedgetype="directed" mode="static" name="">\n')
    ids: dict[tuple[str, str], str] = {}
    # The label is the node's own attribute in GEXF; an edge's key is kept as networkx_key (networkx reads it back).
    schema.see("edge", {"networkx_key": ""})
    declared = {"node": [a for a in schema.attributes("node") if a[0] != "label"], "edge": schema.attributes("edge")}
    for scope in ("edge", "node"):
        fh.write(f'    <attributes mode="static" class="{scope}">\n')
        for name, typ in declared[scope]:
            ids[(scope, name)] = str(len(ids))
            fh.write(f'      <attribute id="{ids[(scope, name)]}" title="{_xml(name)}" type="{typ}" />\n')
        fh.write("    </attributes>\n")

    def values(scope: str, attrs: dict[str, Any]) -> str:
        cells = "".join(f'\n          <attvalue for="{ids[(scope, k)]}" value="{schema.text(scope, k, v)}" />'
                        for k, v in attrs.items())
        return f"\n        <attvalues>{cells}\n        </attvalues>" if cells else ""

    progress.step("writing the nodes")
    fh.write("    <nodes>\n")
    for n, attrs in itertools.chain(_nodes(registry), ((n, {"label": n}) for n in implicit)):
        label = attrs.pop("label")
        fh.write(f'      <node id="{_xml(n)}" label="{_xml(str(label))}">{values("node", attrs)}\n      </node>\n')
    fh.write("    </nodes>\n    <edges>\n")
    progress.step("writing the edges")
    for i, (u, v, k, attrs) in enumerate(_edges(registry, ts)):
        fh.write(f'      <edge source="{_xml(u)}" target="{_xml(v)}" id="{i}">'
                 f'{values("edge", {**attrs, "networkx_key": k})}\n      </edge>\n')
    fh.write("    </edges>\n  </graph>\n</gexf>\n")


def export_graph(registry: Registry, path: str | Path, fmt: str, as_of: dt.date | str | None = None) -> Exported:
    """Write the graph to ``path`` as GraphML or GEXF (atomically, streamed); returns the counts written."""
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; choose from {', '.join(EXPORT_FORMATS)}")
    ts = as_timestamp(as_of)
    with progress.wiped_after():
        progress.step("reading the graph's attributes")
        schema, implicit, n_nodes, n_edges = _survey(registry, ts)
        with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8", newline="\n") as fh:
            (_graphml if fmt == "graphml" else _gexf)(fh, registry, ts, schema, implicit)
    return Exported(n_nodes, n_edges)
