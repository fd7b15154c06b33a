"""The network every query reads, and the interface a backend answers through.

Queries are questions about who is in which consortium on one date, so they
all start from the same few tables: the consortium records in force, the
memberships in force (one row per unit and record, with the unit's strongest
role there), the units and the chains. :class:`EmbeddedNetwork` derives them
once from a loaded registry; the query functions in this package take it as
their first argument (``f(net, ...)``, as networkx algorithms take ``G``).

A backend that keeps the registry elsewhere (Neo4j) subclasses
:class:`Network` and overrides the query methods it can answer on its own
server; every method's result has the same columns and order, so the two can
be compared row for row.

Two levels of identity matter here:

* a *record* is one row of the consortia table (``consortium_id``); coverage
  and gaps are per record, because each jurisdiction judges its own record;
* a *body* (``body_id``) is a record and every record directly recognised
  from it: a Guangxi consortium recognised again by Nanning is one body with
  two records. Overlaps, paths, components and brokers work on bodies, so a
  body recorded twice is never its own overlap and connects its members once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from functools import cached_property
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .. import geo
from ..codes import grouped_tuples
from ..registry import Registry
from ..rules.rulebook import Rulebooks, load_rulebooks
from ..state import active_consortia, active_memberships, as_timestamp

if TYPE_CHECKING:
    from .overlaps import PairCounts

__all__ = ["NETWORK_TABLES", "ROLES", "ROLE_RANK", "EmbeddedNetwork", "Incidence", "Network", "body_members_of",
           "grouped_tuples", "jurisdictions_of", "sorted_factorize", "unit_jurisdictions"]

#: The tables the network queries read (besides them, a registry holds projects,
#: evaluations and reports, which only the audit looks at).
NETWORK_TABLES: tuple[str, ...] = ("units", "consortia", "memberships", "chains")

#: Roles from strongest to weakest; a unit listed twice in one record counts with the strongest.
ROLES = ("lead", "core", "close", "general")
ROLE_RANK = {r: i for i, r in enumerate(ROLES)}


class Incidence:
    """The body × unit incidence matrix of active memberships (CSR, int8 ones).

    Products of it answer pair questions without building the unit–unit
    projection: ``M @ M.T`` counts members shared by two bodies.
    """

    def __init__(self, body_members: pd.DataFrame, codes: PairCodes | None = None) -> None:
        if codes is None:
            rows, bodies = sorted_factorize(body_members["body_id"].to_numpy(dtype=object))
            cols, units = sorted_factorize(body_members["uscc"].to_numpy(dtype=object))
        else:  # numbered already, when the pairs were collapsed (body_members_coded)
            rows, bodies, cols, units = codes
        self.bodies, self.units = pd.Index(bodies, dtype=object), pd.Index(units, dtype=object)
        self.matrix = sp.csr_matrix((np.ones(len(rows), dtype=np.int32), (rows, cols)),
                                    shape=(len(self.bodies), len(self.units)))


class Network:
    """What every backend answers. The embedded implementation is the reference:
    a backend must return the same rows in the same order.

    A backend supplies four *facts*, each filtered where the query allows, so
    a database backend can filter on its server and send only what is asked:
    :meth:`fetch_consortia`, :meth:`fetch_members`, :meth:`fetch_units` and
    :meth:`fetch_chains` (columns as documented on :class:`EmbeddedNetwork`).
    Everything else here (bodies, the incidence matrix, the queries) is
    derived from those in Python, the same code for every backend; a backend
    may still override a query method (or :meth:`shared_units`, or the
    ``body_members`` pairs) to answer it natively, and reuse the row-building
    halves of the query modules (``overlaps.cross_unit_rows``,
    ``overlaps.same_body_rows``, ``chains.coverage_grid``) so the rows agree.
    """

    as_of: pd.Timestamp
    books: Rulebooks

    # ---- facts: what a backend supplies -------------------------------------------------------------------------
    def fetch_consortia(self) -> pd.DataFrame:
        """Consortium records in force: ``consortium_id, name, jurisdiction, chain_id, body_id, recognized_from``."""
        raise NotImplementedError

    def fetch_members(self, *, chains: Collection[str] | None = None, units: Collection[str] | None = None,
                      bodies: Collection[str] | None = None) -> pd.DataFrame:
        """Memberships in force, one row per (record, unit), optionally only on these chains, of these
        units or in these bodies: ``consortium_id, body_id, jurisdiction, chain_id, uscc, role, rank, segments``."""
        raise NotImplementedError

    def fetch_units(self, codes: Collection[str] | None = None) -> pd.DataFrame:
        """Units (one row per code): ``uscc, name, type, city`` (city canonical where known)."""
        raise NotImplementedError

    def fetch_chains(self, chain: str | None = None) -> pd.DataFrame:
        """The chains table (one row per segment), or one chain's rows."""
        raise NotImplementedError

    def source_label(self, table: str) -> str:
        """Where a table came from, for error messages."""
        return table

    # ---- derived views, the same for every backend ----------------------------------------------------------------
    @cached_property
    def consortia(self) -> pd.DataFrame:
        return self.fetch_consortia()

    @cached_property
    def members(self) -> pd.DataFrame:
        """Every membership in force (what brokers, components and pair counts need whole)."""
        return self.fetch_members()

    def members_where(self, *, chains: Collection[str] | None = None, units: Collection[str] | None = None,
                      bodies: Collection[str] | None = None) -> pd.DataFrame:
        """Memberships in force restricted as asked (from memory when already fetched whole)."""
        if "members" not in self.__dict__:
            return self.fetch_members(chains=chains, units=units, bodies=bodies)
        m = self.members
        keep = np.ones(len(m), dtype=bool)
        for col, values in (("chain_id", chains), ("uscc", units), ("body_id", bodies)):
            if values is not None:
                keep &= m[col].isin(set(values)).to_numpy()
        return m[keep].reset_index(drop=True)

    @cached_property
    def body_members(self) -> pd.DataFrame:
        """One row per (body, unit) with the unit's strongest role in the body: ``body_id, uscc, role, rank``."""
        bm, self._body_member_codes = body_members_coded(self.members)
        return bm

    @cached_property
    def incidence(self) -> Incidence:
        """The body × unit incidence matrix (built on first use), on the codes the body
        members were numbered with when they were collapsed here (a backend that supplies
        its own ``body_members`` has them numbered again)."""
        bm = self.body_members
        return Incidence(bm, self.__dict__.get("_body_member_codes"))

    def unit_rows(self, codes: Collection[str]) -> pd.DataFrame:
        """The units with these codes, indexed by code, in the order given (missing codes give empty rows)."""
        codes = list(codes)
        if "units" in self.__dict__:
            frame = self.__dict__["units"]
        else:
            frame = self.fetch_units(codes)
        out = frame.set_index("uscc").reindex(codes)
        out.index.name = "uscc"
        return out

    @cached_property
    def units(self) -> pd.DataFrame:
        return self.fetch_units()

    def chain_rows(self, chain: str | None = None) -> pd.DataFrame:
        return self.fetch_chains(chain)

    @cached_property
    def body_info(self) -> pd.DataFrame:
        """One row per body: its root record's name and jurisdiction, and all its records.

        ``records`` and ``jurisdictions`` are tuples sorted by id; the root is
        the record whose id is the body id.
        """
        c = self.consortia
        records = grouped_tuples(c["body_id"], c["consortium_id"])
        jd = c[["body_id", "jurisdiction"]].drop_duplicates()
        out = pd.DataFrame({"records": records, "jurisdictions": grouped_tuples(jd["body_id"], jd["jurisdiction"])})
        out.index.name = "body_id"
        # The body's own record (its id) names it; a body whose root is not in force takes its first record.
        first = c.sort_values("consortium_id").drop_duplicates("body_id").set_index("body_id")
        root = c.set_index("consortium_id")
        for col in ("name", "jurisdiction"):
            own = root[col].reindex(out.index)
            out[col] = own.where(own.notna(), first[col].reindex(out.index)).fillna("")
        chains = c[c["chain_id"].fillna("") != ""].sort_values("consortium_id").drop_duplicates("body_id")
        out["chain_id"] = chains.set_index("body_id")["chain_id"].reindex(out.index).fillna("")
        return out

    def jurisdiction_meta(self, jid: str) -> dict[str, Any]:
        """Level, city and province of a jurisdiction from its rulebook (empty when unknown)."""
        book = self.books.get(jid)
        if book is None:
            return {"level": "", "city": "", "province": "", "name": jid}
        return {"level": book.level, "city": book.city or "", "province": book.province or "",
                "name": book.name_zh}

    def member_cap(self, jid: str) -> float:
        """The MEMBER_CAP limit a jurisdiction's text sets (infinity where it sets none)."""
        book = self.books.get(jid)
        rule = book.rule("MEMBER_CAP") if book else None
        return float(rule.params.get("max", 1)) if rule is not None else float("inf")

    # ---- the queries ---------------------------------------------------------------------------------------------
    def cross_units(self) -> pd.DataFrame:
        from .overlaps import cross_units

        return cross_units(self)

    def shared_pairs(self, min_shared: int = 1, top: int | None = None, *, pairs: PairCounts | None = None) -> pd.DataFrame:
        """``pairs``: this network's :meth:`pair_counts` at ``min_shared``, when the caller has them already."""
        from .overlaps import shared_pairs

        return shared_pairs(self, min_shared, top, pairs=pairs)

    def same_body(self) -> pd.DataFrame:
        from .overlaps import same_body

        return same_body(self)

    def near_duplicates(self, threshold: float = 0.5, top: int | None = None) -> pd.DataFrame:
        from .overlaps import near_duplicates

        return near_duplicates(self, threshold, top)

    def projection(self, min_shared: int = 1, min_jaccard: float = 0.0) -> pd.DataFrame:
        from .overlaps import projection

        return projection(self, min_shared, min_jaccard)

    def pair_counts(self, min_shared: int = 1) -> PairCounts:
        """The projection as numbers (:class:`~consortia.queries.overlaps.PairCounts`), which the
        pair queries order and filter before naming the few rows they return; from the
        incidence matrix unless a backend counts the pairs on its own server."""
        from .overlaps import incidence_pairs

        return incidence_pairs(self, min_shared)

    def shared_units(self, pairs: pd.DataFrame) -> pd.Series:
        """The sorted codes of the units each pair of bodies (columns ``a``, ``b``)
        shares, aligned with ``pairs``: asked only for the pairs a query returns."""
        from .overlaps import shared_units

        return shared_units(self, pairs)

    def coverage(self, chain: str | None = None, by: str = "consortium") -> pd.DataFrame:
        from .chains import coverage

        return coverage(self, chain, by)

    def gaps(self, chain: str | None = None, consortium: str | None = None, by: str = "jurisdiction",
             candidates: int = 3) -> pd.DataFrame:
        from .chains import gaps

        return gaps(self, chain, consortium, by, candidates)

    def brokers(self, top: int | None = 50, sample: int | None = None, seed: int = 0) -> pd.DataFrame:
        from .centrality import brokers

        return brokers(self, top, sample, seed)

    def components(self) -> pd.DataFrame:
        from .centrality import components

        return components(self)

    def path(self, a: str, b: str) -> pd.DataFrame:
        from .paths import path

        return path(self, a, b)


class EmbeddedNetwork(Network):
    """The registry's active network on ``as_of``, from a loaded registry (the default backend).

    The facts, derived once at construction (all DataFrames with a fresh RangeIndex):

    ``consortia``
        records in force: ``consortium_id, name, jurisdiction, chain_id, body_id, recognized_from``.
    ``members``
        one row per (record, unit) in force: ``consortium_id, body_id, jurisdiction, chain_id,
        uscc, role, rank, segments`` (``segments`` a tuple; a unit listed twice in a record gets
        its strongest role and the union of its segments).
    ``units``
        ``uscc, name, type, city`` (city normalised to the canonical prefecture name where known),
        one row per code (the first, as everywhere else).
    ``chains``
        the chains table as loaded.
    """

    def __init__(self, registry: Registry, books: Rulebooks | None = None,
                 as_of: dt.date | str | pd.Timestamp | None = None) -> None:
        self.registry = registry
        self.books = books or load_rulebooks()
        self.as_of = as_timestamp(as_of)
        cons = active_consortia(registry, self.as_of)
        self.consortia = cons[["consortium_id", "name", "jurisdiction", "chain_id", "body_id",
                               "recognized_from"]].reset_index(drop=True).astype(object)
        m = active_memberships(registry, self.as_of)
        chain_of = pd.Series(self.consortia["chain_id"].to_numpy(), index=self.consortia["consortium_id"])
        m = pd.DataFrame({
            "consortium_id": m["consortium_id"].astype(object), "body_id": m["body_id"].astype(object),
            "jurisdiction": m["jurisdiction"].astype(object),
            "chain_id": m["consortium_id"].map(chain_of).fillna("").astype(object),
            "uscc": m["uscc"].astype(object), "role": m["role"].astype(object),
            "rank": m["role"].map(ROLE_RANK).fillna(len(ROLES)).astype(np.int8),
            "segments": m["segments"],
        })
        self.members = _one_row_per_member(m)
        u = registry.units.drop_duplicates("uscc")
        city = geo.normalize_cities(u["city"])
        self.units = pd.DataFrame({
            "uscc": u["uscc"].astype(object).to_numpy(),
            "name": u["name"].astype(object).fillna("").to_numpy(),
            "type": u["type"].astype(object).fillna("").to_numpy(),
            "city": city.where(city.notna(), u["city"].astype(object).fillna("")).to_numpy(),
        })
        self.chains = registry.table("chains")

    def fetch_consortia(self) -> pd.DataFrame:
        return self.consortia

    def fetch_members(self, *, chains: Collection[str] | None = None, units: Collection[str] | None = None,
                      bodies: Collection[str] | None = None) -> pd.DataFrame:
        return self.members_where(chains=chains, units=units, bodies=bodies)

    def fetch_units(self, codes: Collection[str] | None = None) -> pd.DataFrame:
        return self.units if codes is None else self.units[self.units["uscc"].isin(set(codes))]

    def fetch_chains(self, chain: str | None = None) -> pd.DataFrame:
        return self.chains if chain is None else self.chains[self.chains["chain_id"] == chain]

    def source_label(self, table: str) -> str:
        return self.registry.source_of(table)

    @cached_property
    def unit_info(self) -> pd.DataFrame:
        """Units indexed by code, for lookups."""
        return self.units.set_index("uscc")


def unit_jurisdictions(net: Network) -> tuple[sp.csr_matrix, list[str]]:
    """Units × jurisdictions: how many of each unit's bodies a jurisdiction records, rows in
    the order of ``net.incidence.units`` and columns the jurisdictions in name order (so a
    row's columns, as stored, are its jurisdictions sorted). One sparse product of the
    incidence matrix, not joins of text: what ``cross_units`` filters on and ``brokers`` lists."""
    inc = net.incidence
    body_jurs = net.body_info["jurisdictions"].reindex(inc.bodies).tolist()
    names = sorted({j for js in body_jurs for j in js})
    col = {j: i for i, j in enumerate(names)}
    rows = np.repeat(np.arange(len(body_jurs)), [len(js) for js in body_jurs])
    cols = np.array([col[j] for js in body_jurs for j in js], dtype=np.int64)
    bj = sp.csr_matrix((np.ones(len(rows), dtype=np.int32), (rows, cols)), shape=(len(body_jurs), len(names)))
    uj = (inc.matrix.T.tocsr() @ bj).tocsr()
    uj.sort_indices()
    return uj, names


def jurisdictions_of(uj: sp.csr_matrix, names: list[str], rows: np.ndarray) -> list[tuple[str, ...]]:
    """The sorted jurisdictions of the units at ``rows`` of :func:`unit_jurisdictions`."""
    return [tuple(names[c] for c in uj.indices[uj.indptr[i]:uj.indptr[i + 1]]) for i in rows.tolist()]


#: Text up to this long is sorted as a fixed-width numpy array (C comparisons); longer text as objects.
_FIXED_WIDTH_MAX = 64


def sorted_factorize(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``pd.factorize(values, sort=True)`` for an object array of text, faster: the distinct
    values are hashed once and then sorted as a fixed-width string array, whose C
    comparisons order code points as Python's do (a million unit codes: 0.8 s rather than
    2.5 s). Missing values are numbered -1, as pandas numbers them."""
    codes, uniques = pd.factorize(values)
    uniques = np.asarray(uniques, dtype=object)
    if not len(uniques):
        return codes.astype(np.int64), uniques
    width = max(map(len, uniques)) if all(type(u) is str for u in uniques) else None
    if width is None or width > _FIXED_WIDTH_MAX or any("\x00" in u for u in uniques):
        c, u = pd.factorize(values, sort=True)
        return c.astype(np.int64), np.asarray(u, dtype=object)
    order = np.argsort(np.array(uniques, dtype=f"U{max(width, 1)}"), kind="stable")
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    codes = codes.astype(np.int64)
    found = codes >= 0
    codes[found] = rank[codes[found]]
    return codes, uniques[order]


#: Body codes, the bodies, unit codes and the units of a body-members frame
#: (what :class:`Incidence` numbers them as: each column in sorted order of its values).
PairCodes = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


class _PairOrder(NamedTuple):
    order: np.ndarray  # the rows, sorted
    first: np.ndarray  # per sorted row: whether it starts a new (a, b) pair
    codes: PairCodes  # (a codes, a values, b codes, b values) of the unsorted rows


def _pair_order(frame: pd.DataFrame, a: str, b: str, rank: str) -> _PairOrder | None:
    """The rows of ``frame`` sorted by the text columns ``a`` and ``b`` and then ``rank``
    (stable), and for each sorted row whether it starts a new (a, b) pair; None when a
    cell is missing or the pairs do not fit in 63 bits.

    What ``sort_values([a, b, rank], kind="stable")`` and ``duplicated([a, b])`` give, on
    integers: each column is numbered once in sorted order of its values and the pairs
    sorted as one int64 key. At three million memberships pandas' sort of two text
    columns and its second hashing for the duplicates took 6 s; this takes under 2."""
    ca, ua = sorted_factorize(frame[a].to_numpy(dtype=object))
    cb, ub = sorted_factorize(frame[b].to_numpy(dtype=object))
    if (len(ca) and (ca.min() < 0 or cb.min() < 0)) or (len(ua) + 1) * (len(ub) + 1) >= 1 << 62:
        return None
    pair = ca.astype(np.int64) * len(ub) + cb
    order = np.lexsort((frame[rank].to_numpy(), pair))
    p = pair[order]
    first = np.ones(len(p), dtype=bool)
    first[1:] = p[1:] != p[:-1]
    return _PairOrder(order, first, (ca, ua, cb, ub))


def body_members_of(members: pd.DataFrame) -> pd.DataFrame:
    """One row per (body, unit) with the unit's strongest role in the body."""
    return body_members_coded(members)[0]


def body_members_coded(members: pd.DataFrame) -> tuple[pd.DataFrame, PairCodes | None]:
    """:func:`body_members_of`, and its rows numbered as :class:`Incidence` numbers them
    (None when they could not be numbered on the way): collapsing the pairs numbers
    every body and unit already, and numbering three million of them again cost 1.5 s."""
    cols = ["body_id", "uscc", "role", "rank"]
    sorted_ = _pair_order(members, "body_id", "uscc", "rank")
    if sorted_ is None:
        bm = members.sort_values(["body_id", "uscc", "rank"], kind="stable").drop_duplicates(["body_id", "uscc"])
        return bm[cols].reset_index(drop=True), None
    kept = sorted_.order[sorted_.first]
    ca, ua, cb, ub = sorted_.codes
    # Every body and unit of the members has a pair, so the values numbered are those of the rows kept.
    return members[cols].iloc[kept].reset_index(drop=True), (ca[kept], ua, cb[kept], ub)


def _one_row_per_member(m: pd.DataFrame) -> pd.DataFrame:
    """Collapse a unit listed twice in one record to its strongest role and all its segments."""
    sorted_ = _pair_order(m, "consortium_id", "uscc", "rank")
    if sorted_ is None:
        m = m.sort_values(["consortium_id", "uscc", "rank"], kind="stable").reset_index(drop=True)
        dup = m.duplicated(["consortium_id", "uscc"], keep=False).to_numpy()
    else:
        order, first, _ = sorted_
        m = m.iloc[order].reset_index(drop=True)
        # A row is a duplicate when its pair is also on the row before or after it.
        dup = ~first
        dup[:-1] |= ~first[1:]
    if not dup.any():
        return m
    keep = m[~dup]
    d = m[dup]
    segs = d.groupby(["consortium_id", "uscc"], sort=False)["segments"].agg(
        lambda s: tuple(dict.fromkeys(x for t in s for x in t)))
    first = d.drop_duplicates(["consortium_id", "uscc"]).set_index(["consortium_id", "uscc"])
    first["segments"] = segs
    out = pd.concat([keep, first.reset_index()[keep.columns]], ignore_index=True)
    return out.sort_values(["consortium_id", "uscc"], kind="stable").reset_index(drop=True)
