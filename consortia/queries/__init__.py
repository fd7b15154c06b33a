"""Network queries for planners: overlaps, chain coverage and gaps, brokers, paths, what-if.

Every query is a method of :class:`Network` (``net.gaps(...)``), answered by
the embedded implementation in this package's modules or natively by another
backend; the results have the same columns and order either way. Build the
embedded network with ``EmbeddedNetwork(registry, books, as_of)``.

Modules: :mod:`.network` (the interface and the embedded tables),
:mod:`.overlaps`, :mod:`.chains`, :mod:`.centrality`, :mod:`.paths`,
:mod:`.whatif`; :mod:`.igraph_import` loads igraph without matplotlib.
"""

from .network import ROLES, EmbeddedNetwork, Network

__all__ = ["ROLES", "EmbeddedNetwork", "Network"]
