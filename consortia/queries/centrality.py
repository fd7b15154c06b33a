"""Who holds the network together: brokers and connected components.

Both work on the bipartite graph of units and consortium bodies (an edge per
active membership), never on the unit–unit projection, which at 100,000
memberships already has millions of pairs. The graph is handed to igraph
(C code): components and cut vertices are linear in its size; betweenness
is O(nodes × edges), so above :data:`EXACT_BUDGET` edge visits it is
estimated from a seeded sample of source nodes (Brandes–Pich), and every row
says which was done.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .igraph_import import load_igraph
from .network import Network, jurisdictions_of, unit_jurisdictions

if TYPE_CHECKING:
    import igraph as ig
else:
    ig = load_igraph()

__all__ = ["BROKER_COLUMNS", "COMPONENT_COLUMNS", "EXACT_BUDGET", "bipartite", "brokers", "components"]

#: Exact betweenness costs about nodes × edges; beyond this many we sample sources.
EXACT_BUDGET = 6_000_000
BROKER_COLUMNS = ("rank", "uscc", "name", "city", "betweenness", "bodies", "jurisdictions", "bridges_jurisdictions",
                  "cut_vertex", "component", "method")
COMPONENT_COLUMNS = ("component", "units", "consortia", "jurisdictions", "largest_consortia")


def bipartite(net: Network) -> tuple[ig.Graph, pd.Index, pd.Index]:
    """The unit–body graph: vertices 0..U-1 are units (sorted codes), U.. are bodies (sorted ids)."""
    inc = net.incidence
    coo = inc.matrix.tocoo()
    n_units = len(inc.units)
    # A list of pairs: igraph reads it twice as fast as a (k, 2) array.
    edges = list(zip(coo.col.tolist(), (coo.row + n_units).tolist(), strict=True))
    g = ig.Graph(n=n_units + len(inc.bodies), edges=edges, directed=False)
    return g, inc.units, inc.bodies


def _component_ids(g: ig.Graph, units: pd.Index, bodies: pd.Index) -> np.ndarray:
    """Component of each vertex, numbered 1.. by size (units) then by smallest member."""
    membership = np.asarray(g.connected_components().membership)
    n_units = len(units)
    frame = pd.DataFrame({"c": membership[:n_units]})
    size = frame.groupby("c").size()
    first = pd.Series(np.arange(n_units)).groupby(membership[:n_units]).min()
    body_only = sorted(set(membership[n_units:]) - set(size.index))
    order = sorted(size.index, key=lambda c: (-size[c], first[c])) + body_only
    renum = np.empty(membership.max() + 1 if len(membership) else 0, dtype=np.int64)
    renum[order] = np.arange(1, len(order) + 1)
    return renum[membership]


def brokers(net: Network, top: int | None = 50, sample: int | None = None, seed: int = 0) -> pd.DataFrame:
    """Units ranked by betweenness in the unit–body graph (normalised to [0, 1]).

    ``sample`` fixes the number of source vertices (``None``: exact when the
    graph is small enough, else as many as :data:`EXACT_BUDGET` allows). Each
    row also says how many bodies the unit is in, whether they span several
    jurisdictions (a cross-city bridge), whether removing the unit would split
    its component (a cut vertex) and which component it is in.
    """
    g, units, bodies = bipartite(net)
    n, m = g.vcount(), g.ecount()
    if n == 0 or len(units) == 0:
        return pd.DataFrame(columns=list(BROKER_COLUMNS))
    k = n if sample is None and n * max(m, 1) <= EXACT_BUDGET else (sample or max(1, EXACT_BUDGET // max(m, 1)))
    k = min(k, n)
    if k >= n:
        raw = np.asarray(g.betweenness(directed=False))
        method = "exact"
    else:
        rng = np.random.default_rng(seed)
        sources = np.sort(rng.choice(n, size=k, replace=False))
        raw = np.asarray(g.betweenness(directed=False, sources=sources.tolist())) * (n / k)
        method = f"sampled: {k:,} of {n:,} source vertices (seed {seed}); pass --sample to change"
    pairs = (n - 1) * (n - 2) / 2
    score = raw[: len(units)] / pairs if pairs > 0 else np.zeros(len(units))
    cut = np.zeros(n, dtype=bool)
    cut[g.articulation_points()] = True
    comp = _component_ids(g, units, bodies)
    score = np.round(score, 8)
    n_bodies = net.incidence.matrix.getnnz(axis=0)  # bodies per unit (units are the columns)
    # Ranked by betweenness, then bodies, then code (units are in code order); only the
    # rows kept are spelled out (names, jurisdictions), not the hundred thousand others.
    order = np.lexsort((np.arange(len(units)), -n_bodies, -score))
    if top is not None:
        order = order[:top]
    chosen = units[order]
    uj, names = unit_jurisdictions(net)
    info = net.unit_rows(chosen)
    out = pd.DataFrame({
        "uscc": chosen.to_numpy(), "name": info["name"].fillna("").to_numpy(),
        "city": info["city"].fillna("").to_numpy(), "betweenness": score[order],
        "bodies": n_bodies[order].astype(np.int64),
        "jurisdictions": jurisdictions_of(uj, names, order),
        "cut_vertex": cut[order], "component": comp[order], "method": method,
    })
    # As in overlaps.cross_units: two bodies at least, across two jurisdictions at least (one body
    # recorded at two levels bridges nothing by itself).
    out["bridges_jurisdictions"] = (out["jurisdictions"].map(len) > 1) & (out["bodies"] > 1)
    out["rank"] = np.arange(1, len(out) + 1)
    return out[list(BROKER_COLUMNS)]


def components(net: Network) -> pd.DataFrame:
    """Connected components of the collaboration network, largest first.

    Two units are connected when a chain of shared consortia links them.
    Each row: the component number (as in :func:`brokers`), its units and
    consortium bodies, the jurisdictions it reaches, and its three largest
    consortia by name.
    """
    g, units, bodies = bipartite(net)
    if g.vcount() == 0:
        return pd.DataFrame(columns=list(COMPONENT_COLUMNS))
    comp = _component_ids(g, units, bodies)
    n_units = len(units)
    ucomp = pd.Series(comp[:n_units]).value_counts()
    bcomp = pd.Series(comp[n_units:], index=bodies)
    bi = net.body_info.reindex(bodies)
    sizes = pd.Series(np.asarray(net.incidence.matrix.sum(axis=1)).ravel(), index=bodies)
    frame = pd.DataFrame({"component": bcomp.to_numpy(), "body": bodies, "size": sizes.to_numpy(),
                          "name": bi["name"].to_numpy(), "jurisdictions": bi["jurisdictions"].to_numpy()})
    frame = frame.sort_values(["component", "size", "body"], ascending=[True, False, True], kind="stable")
    grouped = frame.groupby("component", sort=True)
    out = pd.DataFrame({
        "consortia": grouped.size(),
        "jurisdictions": grouped["jurisdictions"].agg(lambda s: tuple(sorted({j for js in s for j in js}))),
        "largest_consortia": grouped.apply(lambda f: tuple(f"{b} {n}" for b, n in zip(f["body"].head(3),
                                                                                    f["name"].head(3), strict=True)),
                                           include_groups=False),
    })
    out["units"] = ucomp.reindex(out.index).fillna(0).astype(int)
    out = out.reset_index(names="component").sort_values("component").reset_index(drop=True)
    return out[list(COMPONENT_COLUMNS)]
