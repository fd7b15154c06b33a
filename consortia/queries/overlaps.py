"""Where cities and levels overlap: shared units, shared members, bodies recorded twice.

All four questions work on bodies (a record plus the records directly
recognised from it, see :mod:`.network`): a unit in a Guangxi consortium and
in its Nanning re-recognition is in one consortium, not two, and the two
records of one body are reported by :func:`same_body`, never as a pair.

Pair questions are answered with the body × unit incidence matrix (``M @ M.T``
counts shared members for every pair at once); the shared units of each
pair come from one self-join of the membership table restricted to the pairs
kept, so the unit–unit projection is never built.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from .network import Network, grouped_tuples, jurisdictions_of, sorted_factorize, unit_jurisdictions

__all__ = ["CROSS_UNIT_COLUMNS", "PAIR_COLUMNS", "SAME_BODY_COLUMNS", "PairCounts", "cross_unit_rows", "cross_units",
           "incidence_pairs", "jaccard", "multi_record_bodies", "near_duplicates", "projection", "same_body",
           "same_body_rows", "shared_pairs", "shared_units"]

CROSS_UNIT_COLUMNS = ("uscc", "name", "city", "bodies", "jurisdictions", "levels", "places", "consortia")
PAIR_COLUMNS = ("consortium_a", "consortium_b", "name_a", "name_b", "jurisdictions_a", "jurisdictions_b",
                "chain_a", "chain_b", "members_a", "members_b", "shared", "jaccard", "shared_units")
SAME_BODY_COLUMNS = ("body_id", "name", "records", "jurisdictions", "levels", "members", "in_every_record",
                     "in_some_records")


def cross_units(net: Network) -> pd.DataFrame:
    """Units in consortia of two or more cities or levels.

    A unit qualifies when it is in at least two distinct bodies and those
    bodies' records span at least two jurisdictions (Guangxi and Nanning are
    two levels; Nanning and Liuzhou two cities). Rows: the unit, how many
    bodies, the jurisdictions with their levels and places, and every record
    with the unit's role there (``GX-2020-0001:core``). Most bodies first.
    """
    uj, names = unit_jurisdictions(net)
    n_bodies = net.incidence.matrix.getnnz(axis=0)  # bodies per unit (units are the columns)
    keep = np.flatnonzero((n_bodies >= 2) & (uj.getnnz(axis=1) >= 2))
    counts = pd.DataFrame({"uscc": net.incidence.units.to_numpy()[keep], "bodies": n_bodies[keep].astype(np.int64),
                           "jurisdictions": pd.Series(jurisdictions_of(uj, names, keep), dtype=object).to_numpy()})
    return cross_unit_rows(net, counts)


def cross_unit_rows(net: Network, counts: pd.DataFrame) -> pd.DataFrame:
    """The rows of :func:`cross_units` for the units chosen (``counts``: ``uscc``,
    ``bodies`` and ``jurisdictions``, a sorted tuple), named, placed and ordered.

    Split from the counting so that a backend counting on its server gives
    the same rows: only the chosen units' memberships and names are asked for.
    """
    if len(counts) == 0:
        return pd.DataFrame(columns=list(CROSS_UNIT_COLUMNS))
    chosen = pd.Index(counts["uscc"])
    meta = {j: net.jurisdiction_meta(j) for js in counts["jurisdictions"] for j in js}
    m = net.members_where(units=chosen)
    recs = grouped_tuples(m["uscc"], m["consortium_id"] + ":" + m["role"])
    info = net.unit_rows(chosen)
    out = pd.DataFrame({
        "uscc": chosen.to_numpy(),
        "name": info["name"].fillna("").to_numpy(),
        "city": info["city"].fillna("").to_numpy(),
        "bodies": counts["bodies"].to_numpy().astype(int),
        "jurisdictions": counts["jurisdictions"].to_numpy(),
    })
    out["levels"] = [tuple(sorted({meta[j]["level"] for j in js})) for js in out["jurisdictions"]]
    out["places"] = [tuple(dict.fromkeys(meta[j]["city"] or meta[j]["province"] or j for j in js))
                     for js in out["jurisdictions"]]
    out["consortia"] = recs.reindex(chosen).to_numpy()
    out["_nj"] = out["jurisdictions"].map(len)
    out = out.sort_values(["bodies", "_nj", "uscc"], ascending=[False, False, True], kind="stable")
    return out.drop(columns="_nj").reset_index(drop=True)[list(CROSS_UNIT_COLUMNS)]


#: Bodies multiplied at a time by :func:`incidence_pairs`.
PAIR_BLOCK = 4096


class PairCounts(NamedTuple):
    """The consortium projection as numbers: ``bodies`` (their ids, sorted) and, per pair
    of bodies sharing members in ``(a, b)`` order, the positions ``a < b`` of the two in
    ``bodies``, the members they share and each one's member count.

    A national registry's bodies form tens of millions of pairs, of which a page
    shows thirty: ordering and filtering them as integers and naming only the rows
    kept is what keeps :func:`shared_pairs` from building tens of millions of strings."""

    bodies: np.ndarray
    a: np.ndarray
    b: np.ndarray
    shared: np.ndarray
    members_a: np.ndarray
    members_b: np.ndarray

    @classmethod
    def of_frame(cls, p: pd.DataFrame) -> PairCounts:
        """The numbers of projection rows (``a, b, shared, members_a, members_b``), for a
        backend that answers :meth:`Network.projection` on its own server."""
        n = len(p)
        codes, bodies = sorted_factorize(np.concatenate([p["a"].to_numpy(dtype=object), p["b"].to_numpy(dtype=object)]))
        return cls(bodies, codes[:n], codes[n:], *(p[c].to_numpy(dtype=np.int64)
                                                   for c in ("shared", "members_a", "members_b")))

    def jaccard(self) -> np.ndarray:
        """:func:`jaccard` of every pair."""
        return np.round(self.shared / (self.members_a + self.members_b - self.shared), 4)

    def take(self, rows: np.ndarray) -> PairCounts:
        """These pairs only (positions or a mask), in the order given."""
        return PairCounts(self.bodies, self.a[rows], self.b[rows], self.shared[rows], self.members_a[rows],
                          self.members_b[rows])

    def frame(self) -> pd.DataFrame:
        """The rows of :func:`projection`: bodies by id."""
        return pd.DataFrame({"a": self.bodies[self.a], "b": self.bodies[self.b], "shared": self.shared.astype(int),
                             "members_a": self.members_a.astype(int), "members_b": self.members_b.astype(int)})


def incidence_pairs(net: Network, min_shared: int = 1) -> PairCounts:
    """:class:`PairCounts` from the incidence matrix (``M @ M.T``): what the embedded network
    and every backend that does not count pairs on its own server answer with."""
    inc = net.incidence
    m = inc.matrix
    mt = m.T.tocsr()
    floor = max(min_shared, 1)
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    # A block of bodies at a time: the whole product holds every pair twice (a national
    # registry: 116 million entries and 4 GB at its peak), a block only its own rows.
    for start in range(0, m.shape[0], PAIR_BLOCK):
        block = (m[start:start + PAIR_BLOCK] @ mt).tocsr()
        # Rows in order and each row's columns sorted: the upper triangle read row by row is in
        # (a, b) order (body positions follow the sorted ids), with no sort of the pairs themselves.
        block.sort_indices()
        rows = np.repeat(np.arange(start, start + block.shape[0], dtype=np.int32), np.diff(block.indptr))
        keep = (block.indices > rows) & (block.data >= floor)
        parts.append((rows[keep], block.indices[keep].astype(np.int32), block.data[keep].astype(np.int32)))
    a, b, shared = (np.concatenate([p[i] for p in parts]) if parts else np.zeros(0, dtype=np.int32) for i in range(3))
    sizes = np.asarray(m.sum(axis=1)).ravel().astype(np.int32)
    return PairCounts(inc.bodies.to_numpy(), a, b, shared, sizes[a], sizes[b])


def projection(net: Network, min_shared: int = 1, min_jaccard: float = 0.0) -> pd.DataFrame:
    """The consortium projection: every pair of bodies sharing members, with the count.

    Columns ``a, b, shared, members_a, members_b`` (``a < b``), in ``(a, b)``
    order, so that every backend lists them alike. ``min_jaccard`` keeps only
    pairs whose :func:`jaccard` reaches it (what :func:`near_duplicates` asks,
    so a database backend can filter on its server). This is the weighted
    consortium–consortium graph that the unit–unit projection would be too
    large to give; :meth:`Network.pair_counts` gives it as numbers.
    """
    pairs = net.pair_counts(min_shared)
    if min_jaccard > 0:
        pairs = pairs.take(pairs.jaccard() >= min_jaccard - 1e-12)
    return pairs.frame()


def jaccard(p: pd.DataFrame) -> pd.Series:
    """Shared members over members of either body, rounded to 4 decimals (projection rows)."""
    return (p["shared"] / (p["members_a"] + p["members_b"] - p["shared"])).round(4)


def shared_units(net: Network, pairs: pd.DataFrame) -> pd.Series:
    """The sorted shared unit codes of each (a, b) pair, from one self-join
    (the default of :meth:`Network.shared_units`)."""
    bm = net.body_members[["body_id", "uscc"]]
    wanted = pd.Index(pd.concat([pairs["a"], pairs["b"]]).unique())
    bm = bm[bm["body_id"].isin(wanted)]
    j = bm.merge(bm, on="uscc", suffixes=("_a", "_b"))
    j = j[j["body_id_a"] < j["body_id_b"]]
    key = pd.MultiIndex.from_frame(pairs[["a", "b"]])
    jk = pd.MultiIndex.from_arrays([j["body_id_a"], j["body_id_b"]])
    j = j[jk.isin(key)]
    lists = grouped_tuples(j["body_id_a"] + "\x1f" + j["body_id_b"], j["uscc"])
    return lists.reindex(pairs["a"] + "\x1f" + pairs["b"]).reset_index(drop=True)


def shared_pairs(net: Network, min_shared: int = 1, top: int | None = None, *,
                 across_jurisdictions: bool = False, pairs: PairCounts | None = None) -> pd.DataFrame:
    """Pairs of consortium bodies that share at least ``min_shared`` members.

    ``jaccard`` is shared / members of either (4 decimals). A body is named by
    its root record (``consortium_a``); ``jurisdictions_*`` lists all its
    records' jurisdictions. Most shared first, then highest Jaccard, then ids;
    ``top`` keeps the first rows (the shared units are listed only for those:
    a province's bodies form a million pairs). ``across_jurisdictions`` keeps
    only pairs whose bodies' jurisdictions differ, chosen before ``top``. ``pairs``
    is ``net.pair_counts(min_shared)`` when the caller counted them already.
    """
    p = net.pair_counts(min_shared) if pairs is None else pairs
    idx = np.flatnonzero(_across(net, p)) if across_jurisdictions else np.arange(len(p.a))
    if top is not None and 0 < top < len(idx):
        # Only pairs sharing at least as many as the top-th can be among the first ``top``.
        shared = p.shared[idx]
        idx = idx[shared >= np.partition(shared, len(idx) - top)[len(idx) - top]]
    p = p.take(idx)
    jac = p.jaccard()
    # Most shared first, then highest Jaccard, then ids: the pairs come in (a, b) order and
    # lexsort is stable, so ties keep that order without comparing millions of id strings.
    order = np.lexsort((-jac, -p.shared))
    if top is not None:
        order = order[:top]
    rows = p.take(order).frame().assign(jaccard=jac[order])
    return _pair_rows(net, rows)


def _across(net: Network, p: PairCounts) -> np.ndarray:
    """For each pair, whether its two bodies' sets of jurisdictions differ: each body's
    set is numbered once, so tens of millions of pairs compare as integers."""
    js = net.body_info["jurisdictions"].reindex(p.bodies).to_numpy(dtype=object)
    code = pd.factorize(js)[0]  # a body missing from body_info (-1) differs from every other
    ja, jb = code[p.a], code[p.b]
    return (ja != jb) | (ja < 0)


def _pair_rows(net: Network, p: pd.DataFrame) -> pd.DataFrame:
    """Name the bodies of projection rows and list their shared units."""
    p = p.reset_index(drop=True)
    if p.empty:
        return pd.DataFrame(columns=list(PAIR_COLUMNS))
    bi = net.body_info
    ia, ib = bi.reindex(p["a"]), bi.reindex(p["b"])
    out = pd.DataFrame({
        "consortium_a": p["a"].to_numpy(), "consortium_b": p["b"].to_numpy(),
        "name_a": ia["name"].to_numpy(), "name_b": ib["name"].to_numpy(),
        "jurisdictions_a": ia["jurisdictions"].to_numpy(), "jurisdictions_b": ib["jurisdictions"].to_numpy(),
        "chain_a": ia["chain_id"].to_numpy(), "chain_b": ib["chain_id"].to_numpy(),
        "members_a": p["members_a"].to_numpy(), "members_b": p["members_b"].to_numpy(),
        "shared": p["shared"].to_numpy(), "jaccard": p["jaccard"].to_numpy(),
    })
    out["shared_units"] = net.shared_units(p[["a", "b"]]).to_numpy()
    return out[list(PAIR_COLUMNS)]


def near_duplicates(net: Network, threshold: float = 0.5, top: int | None = None) -> pd.DataFrame:
    """Possible double funding: bodies on the same chain, recognised by different
    jurisdictions, whose members overlap by at least ``threshold`` (Jaccard).

    "Different jurisdictions" means the two bodies' sets of recording
    jurisdictions differ (two Nanning consortia are a local matter; a Guangxi
    and a Nanning consortium on one chain with the same members are the
    signal). Same columns as :func:`shared_pairs`.
    """
    if not 0 < threshold <= 1:
        raise ValueError("threshold must be in (0, 1]")
    p = net.projection(1, min_jaccard=threshold)
    p["jaccard"] = jaccard(p)
    bi = net.body_info
    ca, cb = bi["chain_id"].reindex(p["a"]).to_numpy(), bi["chain_id"].reindex(p["b"]).to_numpy()
    ja, jb = bi["jurisdictions"].reindex(p["a"]).to_numpy(), bi["jurisdictions"].reindex(p["b"]).to_numpy()
    keep = (ca == cb) & (ca != "") & np.array([x != y for x, y in zip(ja, jb, strict=True)], dtype=bool)
    p = p[keep].sort_values(["jaccard", "shared", "a", "b"], ascending=[False, False, True, True], kind="stable")
    return _pair_rows(net, p.head(top) if top is not None else p)


def same_body(net: Network) -> pd.DataFrame:
    """Bodies recorded at two levels (or more): a record and those directly recognised from it.

    For each body with more than one record in force: its records, their
    jurisdictions and levels, the distinct members over all records, how many
    are listed in every record, and the units listed in only some (a roster
    that drifted between the province's and the city's books).
    """
    multi = multi_record_bodies(net)
    if multi.empty:
        return pd.DataFrame(columns=list(SAME_BODY_COLUMNS))
    m = net.members_where(bodies=multi.index)
    per_unit = m.groupby(["body_id", "uscc"]).size().rename("n").reset_index()
    per_unit["records"] = per_unit["body_id"].map(multi["records"].map(len))
    every = per_unit[per_unit["n"] == per_unit["records"]].groupby("body_id").size()
    some = per_unit[per_unit["n"] < per_unit["records"]]
    counts = pd.DataFrame({"members": per_unit.groupby("body_id").size(), "in_every_record": every,
                           "in_some_records": grouped_tuples(some["body_id"], some["uscc"])})
    return same_body_rows(net, multi, counts)


def multi_record_bodies(net: Network) -> pd.DataFrame:
    """The rows of :attr:`Network.body_info` with more than one record in force."""
    bi = net.body_info
    return bi[bi["records"].map(len) > 1]


def same_body_rows(net: Network, multi: pd.DataFrame, counts: pd.DataFrame) -> pd.DataFrame:
    """The rows of :func:`same_body` from the bodies (:func:`multi_record_bodies`) and,
    indexed by body, ``members``, ``in_every_record`` and ``in_some_records``
    (a sorted tuple); split so that a backend counting on its server gives the same rows."""
    if multi.empty:
        return pd.DataFrame(columns=list(SAME_BODY_COLUMNS))
    out = pd.DataFrame({
        "body_id": multi.index.to_numpy(), "name": multi["name"].to_numpy(),
        "records": multi["records"].to_numpy(), "jurisdictions": multi["jurisdictions"].to_numpy(),
    })
    out["levels"] = [tuple(sorted({net.jurisdiction_meta(j)["level"] for j in js})) for js in out["jurisdictions"]]
    counts = counts.reindex(multi.index)
    out["members"] = counts["members"].fillna(0).astype(int).to_numpy()
    out["in_every_record"] = counts["in_every_record"].fillna(0).astype(int).to_numpy()
    out["in_some_records"] = [x if isinstance(x, tuple) else () for x in counts["in_some_records"]]
    return out[list(SAME_BODY_COLUMNS)]
