"""Who is in which consortium on a given date: the view every rule counts on.

Semantics (shared by checks, enforcement and both backends):

* a consortium record counts while its status is active or rectifying (or
  empty) and it was recognised on or before the date (or has no date);
* a membership counts from ``joined_on`` (if given) until the day before
  ``left_on``: a unit whose ``left_on`` is on or before the date has left;
* records linked by ``recognized_from`` share a ``body_id`` and are one body.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from .registry import Registry

__all__ = ["LIVE_STATUSES", "active_consortia", "active_membership_rows", "active_memberships", "as_timestamp"]

LIVE_STATUSES = ("active", "rectifying", "")


def as_timestamp(as_of: dt.date | str | pd.Timestamp | None) -> pd.Timestamp:
    """Normalise an as-of date (default today) to a midnight Timestamp."""
    if as_of is None:
        return pd.Timestamp(dt.date.today())
    return pd.Timestamp(as_of).normalize()


def active_consortia(reg: Registry, as_of: pd.Timestamp) -> pd.DataFrame:
    """Consortium records in force on ``as_of``."""
    c = reg.consortia
    return c[_in_force(c, as_of)]


def _in_force(c: pd.DataFrame, as_of: pd.Timestamp) -> np.ndarray:
    return (c["status"].isin(LIVE_STATUSES) & (c["recognized_on"].isna() | (c["recognized_on"] <= as_of))).to_numpy()


def active_membership_rows(reg: Registry, as_of: pd.Timestamp) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """Where the memberships in force on ``as_of`` are: their rows in ``reg.memberships``, the
    row of each one's consortium among the records in force, and those records (with the
    columns :func:`active_memberships` joins on)."""
    m, c = reg.memberships, reg.consortia
    live = ((m["left_on"].isna() | (m["left_on"] > as_of)) & (m["joined_on"].isna() | (m["joined_on"] <= as_of))).to_numpy()
    live_c = _in_force(c, as_of)
    in_force = c[live_c]
    cons = in_force[["consortium_id", "body_id", "jurisdiction", "exemption", "recognized_on"]]
    cons = cons.drop(columns="consortium_id").set_axis(pd.Index(cons["consortium_id"])).rename(
        columns={"exemption": "consortium_exemption"})
    rows = reg.link("memberships", "consortium_id", "consortia")
    if rows is not None:
        # The loader's positions of each membership's consortium, renumbered among those in force.
        slot = np.full(len(c) + 1, -1, dtype=np.int64)  # the last slot answers -1 (no consortium)
        slot[np.flatnonzero(live_c)] = np.arange(len(in_force))
        at = slot[rows]
    else:
        # An inner merge on the consortium (ids are unique there), as positions: a probe into the
        # consortia's hash table per membership, where merge would hash both sides.
        at = cons.index.get_indexer(m["consortium_id"])
    keep = np.flatnonzero(live & (at >= 0))
    return keep, at[keep], cons


def active_memberships(reg: Registry, as_of: pd.Timestamp,
                       rows: tuple[np.ndarray, np.ndarray, pd.DataFrame] | None = None) -> pd.DataFrame:
    """Memberships in force on ``as_of`` in consortia in force, with each
    consortium's ``body_id``, ``jurisdiction`` and ``exemption`` joined on
    (the latter as ``consortium_exemption``). ``rows``: what
    :func:`active_membership_rows` gave, when the caller has it already."""
    m = reg.memberships
    keep, at, cons = rows if rows is not None else active_membership_rows(reg, as_of)
    left = m.iloc[keep].drop(columns=[c for c in cons.columns if c in m.columns])  # the consortium's own columns win
    return pd.concat([left.reset_index(drop=True), cons.iloc[at].reset_index(drop=True)], axis=1)
