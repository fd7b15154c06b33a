"""The registry as a graph: the networkx view and the embedded store with enforced writes."""

from .build import build_graph, node_id
from .store import EmbeddedStore

__all__ = ["EmbeddedStore", "build_graph", "node_id"]
