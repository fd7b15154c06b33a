"""Industry-chain coverage and gaps: which segments each consortium or jurisdiction holds.

Semantics (hand-checked in the tests):

* A membership's ``segments`` are segment ids of its consortium's chain;
  ids the chain does not list are ignored.
* Segments nest (``parent``). A member covering a segment also covers every
  segment above it: a unit on 正极材料 covers 电池材料. Counts are of
  distinct units, each with its strongest tier in the scope, so a unit on
  two children of one parent counts once for the parent.
* Segments are shown in flow order: stage (upstream, midstream, downstream),
  then the order of the ``feeds`` graph (a segment feeding an earlier stage,
  such as recycling feeding materials, is left out of the ordering; other
  cycles are kept together), children right after their parent.
* Gaps, per scope (a consortium record, or a jurisdiction's records on that
  chain): ``uncovered`` (no member), ``general_only`` (members only in the
  general tier), ``flow_break`` (a covered segment whose supplying segment,
  one that ``feeds`` it, is uncovered).
* Candidates for a gap are units covering that segment (for a flow break,
  the supplying segment) in another consortium, not already members of the
  scope's consortium bodies (a unit listed on the Nanning record of a body is
  not suggested to its Guangxi record), and with room under every membership cap that would govern their
  joining (the same test ``add-member`` applies). Ranked by the tier they
  hold there (lead, core, close, general), then same city (or province, for
  a provincial scope) first, then fewest consortia, then code.
"""

from __future__ import annotations

from collections.abc import Collection
from functools import lru_cache
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from .. import geo
from ..codes import run_starts, unique_counts, unique_sorted
from ..errors import InputError, Problem
from .network import ROLES, Network, body_members_of

__all__ = ["COVERAGE_COLUMNS", "GAP_COLUMNS", "coverage", "coverage_frame", "coverage_grid", "gaps", "segment_order"]

STAGE_RANK = {"upstream": 0, "midstream": 1, "downstream": 2}
SEGMENT_COLUMNS = ("chain_id", "chain_name", "segment_id", "segment_name", "stage", "parent", "depth", "order")
COVERAGE_COLUMNS = (*SEGMENT_COLUMNS, "scope", *ROLES, "total")
#: Codes are packed into one int64 below this many combinations (else counted through a frame).
_PACKED_LIMIT = 2**62
GAP_COLUMNS = ("chain_id", "segment_id", "segment_name", "stage", "consortium_id", "jurisdiction", "kind",
               "supplier_segment_id", "candidates")


def segment_order(chains: pd.DataFrame) -> pd.DataFrame:
    """Every segment of every chain in display order, with ``depth`` and ``order``.

    Also ``ancestors``: the segment and every segment it nests under (a
    tuple), used to roll coverage up the tree.
    """
    out = []
    for chain_id, seg in chains.groupby("chain_id", sort=True):
        seg = seg.drop_duplicates("segment_id")
        ids = list(seg["segment_id"])
        known = set(ids)
        stage = dict(zip(seg["segment_id"], seg["stage"], strict=True))
        flow = nx.DiGraph()
        flow.add_nodes_from(ids)
        # A segment feeding an earlier stage (recycling feeding raw materials) closes a loop; for
        # the display order it is ignored, so the chain still reads upstream to downstream.
        flow.add_edges_from((s, t) for s, fs in zip(seg["segment_id"], seg["feeds"], strict=True)
                            for t in fs if t in known and t != s
                            and STAGE_RANK.get(stage[t], 3) >= STAGE_RANK.get(stage[s], 3))
        cond = nx.condensation(flow)
        comp_order = list(nx.lexicographical_topological_sort(cond, key=lambda c: min(cond.nodes[c]["members"])))
        flow_rank = {s: i for i, c in enumerate(comp_order) for s in cond.nodes[c]["members"]}
        parent = {s: (p if p in known and p != s else "") for s, p in zip(seg["segment_id"], seg["parent"], strict=True)}
        children: dict[str, list[str]] = {}
        for s in ids:
            children.setdefault(parent[s], []).append(s)

        def key(s: str, stage: dict[str, str] = stage, flow_rank: dict[str, int] = flow_rank) -> tuple[int, int, str]:
            return (STAGE_RANK.get(stage[s], 3), flow_rank[s], s)

        ordered: list[tuple[str, int, tuple[str, ...]]] = []
        seen: set[str] = set()
        stack = [(s, 0, (s,)) for s in sorted(children.get("", []), key=key, reverse=True)]
        while stack:
            s, depth, anc = stack.pop()
            if s in seen:
                continue
            seen.add(s)
            ordered.append((s, depth, anc))
            stack.extend((c, depth + 1, (c, *anc)) for c in sorted(children.get(s, []), key=key, reverse=True))
        for s in sorted(set(ids) - seen, key=key):  # parent cycles: shown at the top level
            ordered.append((s, 0, (s,)))
        info = seg.set_index("segment_id")
        for i, (s, depth, anc) in enumerate(ordered):
            out.append({"chain_id": chain_id, "chain_name": info.at[s, "chain_name"], "segment_id": s,
                        "segment_name": info.at[s, "segment_name"], "stage": stage[s], "parent": parent[s],
                        "depth": depth, "order": i, "ancestors": anc, "feeds": tuple(info.at[s, "feeds"])})
    cols = [*SEGMENT_COLUMNS, "ancestors", "feeds"]
    return pd.DataFrame(out, columns=cols)


def _chains_or_error(net: Network, chain: str | None) -> pd.DataFrame:
    chains = net.chain_rows()
    if chains.empty:
        raise InputError(Problem(net.source_label("chains"), None, None, None,
                                 "a chains table (产业链) listing segments; this registry has none"))
    if chain is not None:
        if chain not in set(chains["chain_id"]):
            known = ", ".join(sorted(set(chains["chain_id"]))[:20])
            raise InputError(Problem("--chain", None, "chain_id", chain, f"a chain in the chains table ({known})"))
        chains = chains[chains["chain_id"] == chain]
    return chains


class _Facts:
    """The coverage facts, one per (record, unit, covered segment incl. ancestors), as
    integer positions: ``row`` into ``members`` (the memberships of the chains with
    segments; one row per record and unit) and ``seg`` into the segment order.

    Kept as codes because a national registry has millions of them: the matrix counts
    them as integers, and only the facts a gap's candidates need are spelled out as text
    (:meth:`frame`)."""

    def __init__(self, members: pd.DataFrame, segs: pd.DataFrame, row: np.ndarray, seg: np.ndarray) -> None:
        self.members, self.segs, self.row, self.seg = members, segs, row, seg

    def frame(self, keep: np.ndarray | None = None) -> pd.DataFrame:
        """The facts (those where ``keep``) as ``consortium_id, body_id, jurisdiction,
        chain_id, uscc, rank, segment_id``."""
        row, seg = (self.row, self.seg) if keep is None else (self.row[keep], self.seg[keep])
        m = self.members
        out = {c: m[c].to_numpy(dtype=object)[row] for c in ("consortium_id", "body_id", "jurisdiction", "chain_id",
                                                              "uscc")}
        out["rank"] = m["rank"].to_numpy(dtype=np.int64)[row]
        out["segment_id"] = self.segs["segment_id"].to_numpy(dtype=object)[seg]
        return pd.DataFrame(out)


def _covering(net: Network, segs: pd.DataFrame) -> _Facts:
    """Every coverage fact of the chains in ``segs`` (see :class:`_Facts`).

    A record's members hold a few thousand distinct (chain, segments) pairs however
    many members there are, so each pair's covered segments (the listed ones the chain
    knows, and every segment they nest under, once each) are worked out once and then
    repeated for the members holding that pair."""
    m = net.members_where(chains=set(segs["chain_id"]))
    m = m[np.fromiter(map(len, m["segments"].to_numpy(dtype=object)), dtype=np.int64, count=len(m)) > 0]
    m = m.reset_index(drop=True)
    position = {(c, s): i for i, (c, s) in enumerate(zip(segs["chain_id"], segs["segment_id"], strict=True))}
    above = [tuple(position[(c, a)] for a in anc)
             for c, anc in zip(segs["chain_id"], segs["ancestors"], strict=True)]
    chain_codes, chain_ids = pd.factorize(m["chain_id"].to_numpy(dtype=object))
    tuple_codes, tuples = pd.factorize(m["segments"].to_numpy(dtype=object))
    pair_codes, pairs = pd.factorize(chain_codes.astype(np.int64) * max(len(tuples), 1) + tuple_codes)
    width = max(len(tuples), 1)
    covered = []
    for p in pairs.tolist():
        chain_id, listed = chain_ids[p // width], tuples[p % width]
        covered.append(sorted({a for s in listed if (chain_id, s) in position for a in above[position[(chain_id, s)]]}))
    sizes = np.array([len(c) for c in covered], dtype=np.int64)
    flat = np.fromiter((i for c in covered for i in c), dtype=np.int64, count=int(sizes.sum()))
    starts = np.cumsum(sizes) - sizes
    per_row = sizes[pair_codes] if len(pair_codes) else np.zeros(0, dtype=np.int64)
    row = np.repeat(np.arange(len(m), dtype=np.int64), per_row)
    # Position of each fact within its row's list, plus where that list starts in ``flat``.
    offset = np.arange(len(row), dtype=np.int64) - np.repeat(np.cumsum(per_row) - per_row, per_row)
    seg = flat[np.repeat(starts[pair_codes], per_row) + offset] if len(row) else np.zeros(0, dtype=np.int64)
    return _Facts(m, segs, row, seg)


def _scopes(net: Network, segs: pd.DataFrame, by: str, consortium: str | None) -> pd.DataFrame:
    """The (chain, scope) pairs the matrix has columns for."""
    cons = net.consortia[net.consortia["chain_id"].isin(set(segs["chain_id"]))]
    if consortium is not None:
        cons = cons[cons["consortium_id"] == consortium]
    if by == "consortium":
        sc = cons[["chain_id", "consortium_id", "jurisdiction"]].rename(columns={"consortium_id": "scope"})
    else:
        sc = cons[["chain_id", "jurisdiction"]].drop_duplicates().assign(scope=lambda f: f["jurisdiction"])
    return sc.sort_values(["chain_id", "scope"]).reset_index(drop=True)


def coverage_frame(net: Network, chain: str | None, by: str, consortium: str | None = None
                   ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The segments in display order (:func:`segment_order`) and the scopes: the
    rows and columns of the coverage matrix, before anything is counted."""
    if by not in ("consortium", "jurisdiction"):
        raise ValueError("by must be 'consortium' or 'jurisdiction'")
    segs = segment_order(_chains_or_error(net, chain))
    return segs, _scopes(net, segs, by, consortium)


def _tier_counts(facts: _Facts, col: str, scopes: Collection[str]) -> pd.DataFrame:
    """Distinct units per (chain, scope, segment) and strongest tier in the scope:
    ``chain_id, scope, segment_id, rank, n``, counted from the coverage ``facts`` of the
    scopes named (the values of ``col``, ``consortium_id`` or ``jurisdiction``)."""
    m = facts.members
    scope_codes, scope_ids = pd.factorize(m[col].to_numpy(dtype=object))
    unit_codes, unit_ids = pd.factorize(m["uscc"].to_numpy(dtype=object))
    wanted = np.flatnonzero(pd.Index(scope_ids, dtype=object).isin(list(scopes)))
    rows = np.flatnonzero(np.isin(scope_codes[facts.row], wanted)) if len(facts.row) else np.zeros(0, dtype=np.int64)
    row, seg = facts.row[rows], facts.seg[rows]
    ns, nu, nr = max(len(facts.segs), 1), max(len(unit_ids), 1), len(ROLES)
    scope, unit = scope_codes[row].astype(np.int64), unit_codes[row].astype(np.int64)
    rank = m["rank"].to_numpy(dtype=np.int64)[row]
    cell = scope * ns + seg  # (scope, segment); the chain is the segment's
    if max(len(scope_ids), 1) * ns * nu * nr < _PACKED_LIMIT:
        # Sorting (cell, unit, rank) as one integer puts each unit's strongest tier first.
        key = unique_sorted((cell * nu + unit) * nr + rank)
        best = key[run_starts(key // nr)]
        cells, counts = unique_counts((best // nr // nu) * nr + best % nr)
    else:  # too many codes for one integer: the same through a frame
        best = pd.DataFrame({"cell": cell, "unit": unit, "rank": rank}).sort_values("rank", kind="stable")
        best = best.drop_duplicates(["cell", "unit"])
        grouped = best.groupby(["cell", "rank"]).size()
        cells = grouped.index.get_level_values(0).to_numpy() * nr + grouped.index.get_level_values(1).to_numpy()
        counts = grouped.to_numpy()
    cell, rank = cells // nr, cells % nr
    seg = cell % ns
    return pd.DataFrame({"chain_id": facts.segs["chain_id"].to_numpy(dtype=object)[seg],
                         "scope": scope_ids[cell // ns] if len(cell) else np.zeros(0, dtype=object),
                         "segment_id": facts.segs["segment_id"].to_numpy(dtype=object)[seg],
                         "rank": rank.astype(np.int64), "n": counts.astype(np.int64)})


def coverage_grid(segs: pd.DataFrame, scopes: pd.DataFrame, counts: pd.DataFrame) -> pd.DataFrame:
    """The long coverage matrix: one row per segment and scope, a column per tier.

    ``counts`` (``chain_id, scope, segment_id, rank, n``: distinct units per cell and
    strongest tier in the scope) may be counted here (:func:`_tier_counts`) or by a
    database backend on its server; the matrix is laid out the same for every backend.
    Counts repeated for one cell are added; counts for cells outside the matrix are ignored.
    """
    # Laid out on positions: chain by chain, each segment in order with every scope of the
    # chain after it (the order the matrix is read in), then the counts added at their cells.
    segs = segs.sort_values(["chain_id", "order"], kind="stable").reset_index(drop=True)
    scopes = scopes.sort_values(["chain_id", "scope"], kind="stable").reset_index(drop=True)
    seg_chain, scope_chain = segs["chain_id"].to_numpy(dtype=object), scopes["chain_id"].to_numpy(dtype=object)
    seg_blocks, scope_blocks = _blocks(seg_chain), _blocks(scope_chain)
    seg_rows, scope_rows = [], []
    for chain_id in sorted(seg_blocks.keys() & scope_blocks.keys()):
        ss, cs = np.arange(*seg_blocks[chain_id]), np.arange(*scope_blocks[chain_id])
        seg_rows.append(np.repeat(ss, len(cs)))
        scope_rows.append(np.tile(cs, len(ss)))
    seg_row = np.concatenate(seg_rows) if seg_rows else np.zeros(0, dtype=np.int64)
    scope_row = np.concatenate(scope_rows) if scope_rows else np.zeros(0, dtype=np.int64)
    tiers = np.zeros((len(seg_row), len(ROLES)), dtype=np.int64)
    if len(counts) and len(seg_row):
        cell = pd.Index(seg_row * len(scopes) + scope_row)  # increasing: one block per chain
        at_seg = pd.MultiIndex.from_frame(segs[["chain_id", "segment_id"]]).get_indexer(
            pd.MultiIndex.from_arrays([counts["chain_id"], counts["segment_id"]]))
        at_scope = pd.MultiIndex.from_frame(scopes[["chain_id", "scope"]]).get_indexer(
            pd.MultiIndex.from_arrays([counts["chain_id"], counts["scope"]]))
        known = (at_seg >= 0) & (at_scope >= 0)
        rows = cell.get_indexer(at_seg[known] * len(scopes) + at_scope[known])
        rank = counts["rank"].to_numpy(dtype=np.int64)[known]
        n = counts["n"].to_numpy(dtype=np.int64)[known]
        ok = (rows >= 0) & (rank >= 0) & (rank < len(ROLES))
        np.add.at(tiers, (rows[ok], rank[ok]), n[ok])
    grid = pd.DataFrame({"chain_id": seg_chain[seg_row], "scope": scopes["scope"].to_numpy(dtype=object)[scope_row]})
    for col in segs.columns:
        if col != "chain_id":
            grid[col] = segs[col].to_numpy()[seg_row]
    for i, role in enumerate(ROLES):
        grid[role] = tiers[:, i]
    grid["total"] = tiers.sum(axis=1)
    return grid


def _blocks(values: np.ndarray) -> dict[Any, tuple[int, int]]:
    """Where each value's run starts and ends in ``values``, sorted so that equal values are together."""
    if not len(values):
        return {}
    starts = run_starts(values)
    ends = np.r_[starts[1:], len(values)]
    return {values[s]: (int(s), int(e)) for s, e in zip(starts.tolist(), ends.tolist(), strict=True)}


def _matrix(net: Network, chain: str | None, by: str, consortium: str | None = None
            ) -> tuple[pd.DataFrame, pd.DataFrame, _Facts]:
    segs, scopes = coverage_frame(net, chain, by, consortium)
    everywhere = _covering(net, segs)
    col = "consortium_id" if by == "consortium" else "jurisdiction"
    return coverage_grid(segs, scopes, _tier_counts(everywhere, col, set(scopes["scope"]))), scopes, everywhere


def coverage(net: Network, chain: str | None = None, by: str = "consortium") -> pd.DataFrame:
    """The segment × scope matrix of members by tier, in long form.

    One row per segment of each chain (or of ``chain``) and per scope: every
    active consortium record working on that chain (``by="consortium"``) or
    every jurisdiction with one (``by="jurisdiction"``), named in ``scope``.
    Tier columns count distinct units covering the segment or one nested
    under it; ``total`` is their sum.
    """
    grid, _, _ = _matrix(net, chain, by)
    return grid[list(COVERAGE_COLUMNS)]


def gaps(net: Network, chain: str | None = None, consortium: str | None = None, by: str = "jurisdiction",
         candidates: int = 3) -> pd.DataFrame:
    """Segments a scope leaves uncovered, holds only in the general tier, or whose
    supplier is uncovered; each with up to ``candidates`` units that could fill it.

    ``consortium`` restricts to one record (and implies ``by="consortium"``).
    Rows carry ``consortium_id`` (empty for a jurisdiction scope) and
    ``jurisdiction`` (always: the scope's, or the record's).
    """
    if consortium is not None:
        by = "consortium"
        if consortium not in set(net.consortia["consortium_id"]):
            raise InputError(Problem("--consortium", None, "consortium_id", consortium,
                                     "a consortium in force in the registry on the as-of date"))
        row = net.consortia[net.consortia["consortium_id"] == consortium].iloc[0]
        if chain is not None and row["chain_id"] != chain:
            raise InputError(Problem("--chain", None, "chain_id", chain,
                                     f"the chain of {consortium} ({row['chain_id'] or 'none'})"))
        chain = row["chain_id"] or None
        if chain is None:
            raise InputError(Problem("--consortium", None, "chain_id", consortium, "a consortium with a chain_id"))
    grid, scopes, everywhere = _matrix(net, chain, by, consortium)
    jur_of = dict(zip(scopes["scope"], scopes["jurisdiction"], strict=True))
    rows: list[pd.DataFrame] = []
    unc = grid[grid["total"] == 0].assign(kind="uncovered", supplier_segment_id="")
    gen = grid[(grid["total"] > 0) & (grid["general"] == grid["total"])].assign(kind="general_only",
                                                                                 supplier_segment_id="")
    rows += [unc, gen]
    feeds = grid[["chain_id", "scope", "segment_id", "feeds", "total"]].explode("feeds").dropna(subset=["feeds"])
    feeds = feeds[feeds["total"] == 0]  # uncovered suppliers
    feeds = feeds.rename(columns={"segment_id": "supplier_segment_id", "feeds": "segment_id"}).drop(columns="total")
    brk = grid[grid["total"] > 0].merge(feeds, on=["chain_id", "scope", "segment_id"])
    rows.append(brk.assign(kind="flow_break"))
    kind_rank = {"uncovered": 0, "general_only": 1, "flow_break": 2}
    out = pd.concat(rows, ignore_index=True)
    out["_k"] = out["kind"].map(kind_rank)
    out = out.sort_values(["chain_id", "scope", "order", "_k", "supplier_segment_id"], kind="stable")
    out = out.reset_index(drop=True)
    out["jurisdiction"] = out["scope"].map(jur_of)
    out["consortium_id"] = out["scope"] if by == "consortium" else ""
    target = out["supplier_segment_id"].where(out["kind"] == "flow_break", out["segment_id"])
    out["candidates"] = _candidates(net, out.assign(target=target), everywhere, by, candidates)
    return out[list(GAP_COLUMNS)]


def _candidates(net: Network, gaps_: pd.DataFrame, facts: _Facts, by: str, k: int
                ) -> list[list[dict[str, Any]]]:
    """Up to ``k`` ranked candidate units for each gap row (see the module docstring);
    ``facts`` are every coverage fact of the chains concerned, in any scope."""
    if k <= 0 or gaps_.empty:
        return [[] for _ in range(len(gaps_))]
    targets = pd.MultiIndex.from_frame(gaps_[["chain_id", "target"]].drop_duplicates())
    wanted = np.flatnonzero(pd.MultiIndex.from_arrays([facts.segs["chain_id"], facts.segs["segment_id"]])
                            .isin(targets))
    pool = facts.frame(np.isin(facts.seg, wanted))
    pool = pool.sort_values(["chain_id", "segment_id", "uscc", "rank", "consortium_id"], kind="stable")
    pool = pool.drop_duplicates(["chain_id", "segment_id", "uscc"])  # the tier held, and where
    # Room under the caps: bodies now, and the tightest cap over the jurisdictions of those bodies.
    bi = net.body_info
    caps = {j: net.member_cap(j) for j in set(bi["jurisdictions"].explode().dropna()) | set(gaps_["jurisdiction"])}
    body_cap = bi["jurisdictions"].map(lambda js: min((caps[j] for j in js), default=float("inf")))
    bm = body_members_of(net.members_where(units=pool["uscc"].unique()))
    n_bodies = bm.groupby("uscc").size()
    unit_cap = pd.Series(body_cap.reindex(bm["body_id"]).to_numpy(), index=bm["uscc"]).groupby(level=0).min()
    pool["bodies"] = pool["uscc"].map(n_bodies).fillna(0).astype(int).to_numpy()
    pool["unit_cap"] = pool["uscc"].map(unit_cap).fillna(float("inf")).to_numpy()
    info = net.unit_rows(pool["uscc"].unique())
    pool["city"] = pool["uscc"].map(info["city"]).fillna("")
    pool["province"] = _provinces(pool["city"])
    pool["name"] = pool["uscc"].map(info["name"]).fillna("")
    # Who is already in each scope, as (scope key, unit) pairs.
    if by == "consortium":
        body_of = dict(zip(net.consortia["consortium_id"], net.consortia["body_id"], strict=True))
        wanted_bodies = {body_of[c] for c in set(gaps_["consortium_id"])}
        bmem = body_members_of(net.members_where(bodies=wanted_bodies))
        in_scope = set(zip(bmem["body_id"], bmem["uscc"], strict=True))
        scope_key = [body_of[c] for c in gaps_["consortium_id"]]
    else:
        # A unit already in a body with a record of the jurisdiction on the chain is in scope,
        # even when it is listed on another level's record of that body.
        recs = net.consortia[net.consortia["jurisdiction"].isin(set(gaps_["jurisdiction"]))]
        recs = recs[["jurisdiction", "chain_id", "body_id"]].drop_duplicates()
        scope_bm = body_members_of(net.members_where(bodies=set(recs["body_id"])))
        mm = recs.merge(scope_bm[["body_id", "uscc"]], on="body_id")
        in_scope = set(zip(mm["jurisdiction"] + "\x1f" + mm["chain_id"], mm["uscc"], strict=True))
        scope_key = (gaps_["jurisdiction"] + "\x1f" + gaps_["chain_id"]).tolist()
    # One sort for every segment's pool: tier, then fewest bodies, then code; the
    # same-place preference is applied per jurisdiction by a stable re-sort.
    pool = pool.sort_values(["chain_id", "segment_id", "rank", "bodies", "uscc"], kind="stable").reset_index(drop=True)
    seg_key = (pool["chain_id"] + "\x1f" + pool["segment_id"]).to_numpy()
    span = _blocks(seg_key)
    rank, bodies, ucap = pool["rank"].to_numpy(), pool["bodies"].to_numpy(), pool["unit_cap"].to_numpy()
    city, prov = pool["city"].to_numpy(dtype=object), pool["province"].to_numpy(dtype=object)
    cols = {c: pool[c].tolist() for c in ("uscc", "name", "city", "consortium_id")}

    def ranked(chain_id: str, target: str, jur: str) -> np.ndarray:
        s_, e_ = span.get(f"{chain_id}\x1f{target}", (0, 0))
        idx = np.arange(s_, e_)
        idx = idx[bodies[idx] + 1 <= np.minimum(ucap[idx], caps[jur])]
        meta = net.jurisdiction_meta(jur)
        if meta["level"] == "city" and meta["city"]:
            other = city[idx] != meta["city"]
        elif meta["province"]:
            other = prov[idx] != meta["province"]
        else:
            other = np.zeros(len(idx), dtype=bool)
        return idx[np.lexsort((np.arange(len(idx)), other, rank[idx]))]

    out: list[list[dict[str, Any]]] = []
    ordered: dict[tuple[str, str, str], np.ndarray] = {}
    for chain_id, target, jur, sk in zip(gaps_["chain_id"], gaps_["target"], gaps_["jurisdiction"], scope_key,
                                         strict=True):
        key = (chain_id, target, jur)
        if key not in ordered:
            ordered[key] = ranked(chain_id, target, jur)
        picked: list[dict[str, Any]] = []
        for i in ordered[key]:
            if (sk, cols["uscc"][i]) in in_scope:
                continue
            picked.append({"uscc": cols["uscc"][i], "name": cols["name"][i], "city": cols["city"][i],
                           "tier": ROLES[rank[i]], "consortium_id": cols["consortium_id"][i], "bodies": int(bodies[i])})
            if len(picked) == k:
                break
        out.append(picked)
    return out


def _provinces(cities: pd.Series) -> pd.Series:
    codes, uniques = pd.factorize(cities)
    prov = np.array([_province(c) for c in uniques] + [""], dtype=object)
    return pd.Series(prov[codes], index=cities.index)


@lru_cache(maxsize=4096)
def _province(city: str) -> str:
    return geo.province_of(city) or ""
