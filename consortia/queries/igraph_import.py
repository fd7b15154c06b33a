"""Import igraph without matplotlib.

``import igraph`` imports ``matplotlib.pyplot`` whenever matplotlib is
installed (for igraph's own plotting, which we never use): about 0.8 s of
the 1 s it takes, on every ``brokers``, ``components``, ``path`` and network
page (igraph/python-igraph#762 asks for a lazy import; its maintainers suggest
mocking matplotlib). We hide matplotlib while igraph is first imported, then
let it be imported normally again for our own charts.
"""

from __future__ import annotations

import sys
from types import ModuleType

__all__ = ["load_igraph"]


def load_igraph() -> ModuleType:
    """The ``igraph`` module, imported without matplotlib when it is not loaded yet."""
    if "igraph" in sys.modules or "matplotlib" in sys.modules:
        import igraph

        return igraph
    sys.modules["matplotlib"] = None  # type: ignore[assignment]  # "import matplotlib" raises ImportError
    try:
        import igraph
    finally:
        del sys.modules["matplotlib"]
    return igraph
