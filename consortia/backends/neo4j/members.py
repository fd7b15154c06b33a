"""Adding a membership in the database, with the lead and cap rules enforced.

The check and the write are one transaction, and the transaction starts by
writing to the unit and to the consortium: it increments their ``_version``.
In Neo4j that write takes an exclusive lock held to commit, so a second
officer adding the same unit (or a lead to the same consortium) at the same
moment waits, and only then reads what it counts; without it both would read
"two bodies", both pass, and the unit would end in four. ArcadeDB, which also
speaks Bolt, locks optimistically instead: the second commit fails with a
transient error, the driver retries the whole transaction, and the retry
reads the first one's membership and is refused. Either way exactly one of
the two succeeds.

The version is a real change on purpose: ArcadeDB skips a record whose
properties end unchanged, so the Neo4j idiom ``SET n._lock = true REMOVE
n._lock`` locks nothing there and two racing additions both commit (the
concurrency test catches exactly that).

The decision itself is :func:`consortia.enforce.decide`, the same function
the embedded store calls; this module only reads its inputs with Cypher.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import neo4j
import pandas as pd

from ...enforce import Addition, decide
from ...errors import InputError, Problem
from ...loaders.text import clean
from ...loaders.values import expected_for, parse_column
from ...rules.rulebook import Rulebooks
from ...state import LIVE_STATUSES, as_timestamp
from .model import KEY, META_NAME
from .pull import require_complete
from .push import READ_META

__all__ = ["add_member"]

LOCK_UNIT_AND_CONSORTIUM = """
MATCH (u:Unit {uscc: $uscc})
MATCH (c:Consortium {consortium_id: $consortium_id})
SET u._version = coalesce(u._version, 0) + 1, c._version = coalesce(c._version, 0) + 1
RETURN c.body_id AS body_id, c.jurisdiction AS jurisdiction, coalesce(c.status, '') AS status
"""

EXISTS = """
OPTIONAL MATCH (u:Unit {uscc: $uscc})
OPTIONAL MATCH (c:Consortium {consortium_id: $consortium_id})
RETURN u IS NOT NULL AS unit, c IS NOT NULL AS consortium
"""

#: The unit's memberships in force on the date, in consortia in force (the
#: semantics of :mod:`consortia.state`).
UNIT_MEMBERSHIPS = """
MATCH (u:Unit {uscc: $uscc})-[m:MEMBER_OF]->(c:Consortium)
WHERE (m.left_on IS NULL OR m.left_on > $as_of)
  AND (m.joined_on IS NULL OR m.joined_on <= $as_of)
  AND coalesce(c.status, '') IN $live
  AND (c.recognized_on IS NULL OR c.recognized_on <= $as_of)
RETURN c.consortium_id AS consortium_id, c.body_id AS body_id, c.jurisdiction AS jurisdiction, m.role AS role
"""

#: The record's lead units in force on the date.
CONSORTIUM_LEADS = """
MATCH (u:Unit)-[m:MEMBER_OF]->(c:Consortium {consortium_id: $consortium_id})
WHERE m.role = $lead
  AND (m.left_on IS NULL OR m.left_on > $as_of)
  AND (m.joined_on IS NULL OR m.joined_on <= $as_of)
  AND coalesce(c.status, '') IN $live
  AND (c.recognized_on IS NULL OR c.recognized_on <= $as_of)
RETURN DISTINCT u.uscc AS uscc
"""

SAME_KEY = """
MATCH (u:Unit {uscc: $uscc})-[m:MEMBER_OF]->(c:Consortium {consortium_id: $consortium_id})
WHERE m._key = $key
RETURN count(m) AS n
"""

CREATE_MEMBERSHIP = """
MATCH (u:Unit {uscc: $uscc})
MATCH (c:Consortium {consortium_id: $consortium_id})
CREATE (u)-[m:MEMBER_OF]->(c)
SET m = $props
"""


def _role(role: str) -> str | None:
    parsed, bad = parse_column(pd.Series([str(role)]), "enum:role")
    return None if bad.iloc[0] or not parsed.iloc[0] else str(parsed.iloc[0])


def _transaction(tx: neo4j.ManagedTransaction, books: Rulebooks, cid: str, code: str, role: str | None,
                 raw_role: str, when: pd.Timestamp, as_of: pd.Timestamp, segments: tuple[str, ...],
                 exemption: str) -> dict[str, Any]:
    """The whole check and write; ``execute_write`` runs it again from the top
    after a transient conflict, so every read sees the other writer's commit."""
    rec = tx.run(READ_META, name=META_NAME).single()
    require_complete(rec["meta"] if rec else None)
    found = tx.run(LOCK_UNIT_AND_CONSORTIUM, uscc=code, consortium_id=cid).single()
    problems = []
    if role is None:
        problems.append(Problem("add-member", None, "role", raw_role, expected_for("enum:role")))
    if found is None:
        exists = tx.run(EXISTS, uscc=code, consortium_id=cid).single()
        if not exists["consortium"]:
            problems.append(Problem("add-member", None, "consortium_id", cid, "a consortium in the registry"))
        if not exists["unit"]:
            problems.append(Problem("add-member", None, "uscc", code, "a unit in the units table (add the unit first)"))
    if problems or found is None or role is None:
        raise InputError(problems)
    body, jur, status = found["body_id"] or cid, found["jurisdiction"], found["status"]
    if status not in LIVE_STATUSES:
        raise InputError(Problem("add-member", None, "consortium_id", cid, f"a consortium in force (this one is {status})"))
    day = as_of.date()
    bodies: dict[str, set[str]] = defaultdict(set)
    led: dict[str, set[str]] = defaultdict(set)
    for r in tx.run(UNIT_MEMBERSHIPS, uscc=code, as_of=day, live=list(LIVE_STATUSES)):
        if r["consortium_id"] == cid:
            raise InputError(Problem("add-member", None, "uscc", code,
                                     f"a unit not already in {cid} (it is a member; move its tier instead)"))
        bodies[r["body_id"] or r["consortium_id"]].add(r["jurisdiction"])
        if r["role"] == "lead":
            led[r["body_id"] or r["consortium_id"]].add(r["jurisdiction"])
    leads = {r["uscc"] for r in tx.run(CONSORTIUM_LEADS, consortium_id=cid, lead="lead", as_of=day,
                                       live=list(LIVE_STATUSES))}
    add = Addition(cid, body, jur, code, role, exemption)
    refusals = decide(books, add, unit_bodies=bodies, unit_led=led, consortium_leads=leads)
    if refusals:
        raise refusals[0]
    key = when.date().isoformat()
    if tx.run(SAME_KEY, uscc=code, consortium_id=cid, key=key).single()["n"]:
        raise InputError(Problem("add-member", None, "joined_on", key,
                                 f"a date other than that of the unit's earlier membership of {cid}, "
                                 "which joined on the same day"))
    props: dict[str, Any] = {"role": role, "joined_on": when.date(), KEY: key}
    if segments:
        props["segments"] = list(segments)
    if exemption:
        props["exemption"] = exemption
    tx.run(CREATE_MEMBERSHIP, uscc=code, consortium_id=cid, props=props).consume()
    return {"consortium_id": cid, "uscc": code, "role": role, "segments": segments,
            "joined_on": when, "left_on": pd.NaT, "exemption": exemption}


def add_member(driver: neo4j.Driver, database: str | None, books: Rulebooks, consortium_id: str, uscc: str,
               role: str, *, segments: Iterable[str] = (), joined_on: dt.date | str | None = None,
               exemption: str = "", as_of: dt.date | str | None = None) -> dict[str, Any]:
    """Add one membership if the lead and cap rules allow it, as
    :meth:`consortia.graph.EmbeddedStore.add_member` does: the same
    refusals, the same exemption rule, the same row returned.

    Raises the :class:`~consortia.errors.Refusal` of the first rule broken
    (nothing is written), :class:`~consortia.errors.InputError` for an
    unknown unit, consortium or role or a unit already a member, and
    :class:`~consortia.errors.BackendError` while a push is incomplete.
    """
    cid, code = clean(str(consortium_id)), clean(str(uscc)).upper().replace(" ", "")
    parsed = _role(role)
    day = as_timestamp(as_of)
    when = as_timestamp(joined_on) if joined_on is not None else day
    segs = tuple(parse_column(pd.Series([";".join(segments)]), "list")[0].iloc[0])
    with driver.session(database=database) as session:
        return session.execute_write(_transaction, books, cid, code, parsed, str(role), when, day, segs,
                                     exemption.strip())
