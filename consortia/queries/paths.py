"""The shortest collaboration path between two units, with the consortia along it.

A hop is two units in one consortium body (a record and the records directly
recognised from it are one body, so a unit in a Nanning re-recognition
reaches a unit in the Guangxi original in one hop). Among several shortest
paths the answer is the one whose units and bodies, read from the start, have
the smallest codes: any backend computing it gets the same path.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import InputError, Problem
from .centrality import bipartite
from .network import Network

__all__ = ["PATH_COLUMNS", "path"]

PATH_COLUMNS = ("hop", "from_uscc", "from_name", "from_role", "consortium_id", "records", "consortium_name",
                "to_uscc", "to_name", "to_role")


def _code(net: Network, raw: str, what: str) -> str:
    code = str(raw).strip().upper().replace(" ", "")
    if net.unit_rows([code])["name"].isna().iloc[0]:
        raise InputError(Problem(what, None, "uscc", raw, "the credit code of a unit in the units table"))
    return code


def path(net: Network, a: str, b: str) -> pd.DataFrame:
    """Hops from unit ``a`` to unit ``b`` (empty when they are the same unit or
    unconnected on the as-of date; :func:`connected` tells the two apart)."""
    a, b = _code(net, a, "UNIT_A"), _code(net, b, "UNIT_B")
    g, units, bodies = bipartite(net)
    ia, ib = units.get_indexer([a])[0], units.get_indexer([b])[0]
    if a == b or ia < 0 or ib < 0:
        return pd.DataFrame(columns=list(PATH_COLUMNS))
    dist = np.asarray(g.distances(source=[ib])[0], dtype=float)
    if not np.isfinite(dist[ia]):
        return pd.DataFrame(columns=list(PATH_COLUMNS))
    names = np.concatenate([units.to_numpy(), bodies.to_numpy()])
    walk = [ia]
    v = ia
    while v != ib:
        step = [w for w in g.neighbors(v) if dist[w] == dist[v] - 1]
        v = min(step, key=lambda w: names[w])
        walk.append(v)
    roles = net.body_members.set_index(["body_id", "uscc"])["role"]
    bi = net.body_info
    ui = net.unit_rows([names[w] for w in walk[::2]])
    rows = []
    for hop, i in enumerate(range(0, len(walk) - 2, 2), start=1):
        u, body, w = names[walk[i]], names[walk[i + 1]], names[walk[i + 2]]
        rows.append({"hop": hop, "from_uscc": u, "from_name": ui.at[u, "name"], "from_role": roles[(body, u)],
                     "consortium_id": body, "records": bi.at[body, "records"], "consortium_name": bi.at[body, "name"],
                     "to_uscc": w, "to_name": ui.at[w, "name"], "to_role": roles[(body, w)]})
    return pd.DataFrame(rows, columns=list(PATH_COLUMNS))


def connected(net: Network, a: str) -> bool:
    """Whether unit ``a`` has any active membership on the as-of date."""
    return _code(net, a, "UNIT") in set(net.body_members["uscc"])
