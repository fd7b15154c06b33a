"""Deciding whether one membership may be added: the lead and cap rules on write.

The decision is a pure function of a small state (the unit's current bodies
and led bodies with their jurisdictions, the consortium's current leads), so
the embedded store and the Neo4j backend share it: each reads that state its
own way (a dict lookup, or a locked read inside a transaction) and asks here.
Each check is O(1) in the size of the registry.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Set
from dataclasses import dataclass

from .errors import LeadCountRefusal, LeadSingleRefusal, MemberCapRefusal, Refusal
from .rules.rulebook import Rulebooks

__all__ = ["Addition", "decide"]


@dataclass(frozen=True)
class Addition:
    """What is being asked: unit ``uscc`` joins record ``consortium_id``
    (body ``body_id``, under ``jurisdiction``) as ``role``."""

    consortium_id: str
    body_id: str
    jurisdiction: str
    uscc: str
    role: str
    exemption: str = ""


#: (id of the rulebooks, rule id, jurisdictions) -> (the rulebooks, their governing rules). The
#: entry holds the rulebooks, so their id cannot be reused while it is cached.
_GOVERNING: dict[tuple[int, str, frozenset[str]], tuple[Rulebooks, list[tuple[str, int, bool, str]]]] = {}


def _governing(books: Rulebooks, rule_id: str, jurisdictions: Set[str]) -> list[tuple[str, int, bool, str]]:
    """(jurisdiction, cap, waivable, citation) of each text among ``jurisdictions`` that
    carries ``rule_id``; memoised, since a bulk import asks about the same few sets."""
    key = (id(books), rule_id, frozenset(jurisdictions))
    hit = _GOVERNING.get(key)
    if hit is not None and hit[0] is books:
        return hit[1]
    out = []
    for j in sorted(jurisdictions):
        book = books.get(j)
        rule = book.rule(rule_id) if book else None
        if rule is not None:
            out.append((j, int(rule.params.get("max", 1)), rule.in_principle, rule.citation))
    if len(_GOVERNING) > 10_000:
        _GOVERNING.clear()
    _GOVERNING[key] = (books, out)
    return out


def decide(books: Rulebooks, add: Addition, *, unit_bodies: Mapping[str, Collection[str]],
           unit_led: Mapping[str, Collection[str]], consortium_leads: Collection[str]) -> list[Refusal]:
    """The refusals this addition earns (empty: it may be written).

    ``unit_bodies``/``unit_led`` map each body the unit is in / leads to the
    jurisdictions of its records; ``consortium_leads`` are the record's
    current lead units. A refusal of a rule the text qualifies with 原则上 is
    lifted by a non-empty ``add.exemption`` (the caller records it); others
    stand whatever the exemption.
    """
    refusals: list[Refusal] = []
    exempt = bool(add.exemption.strip())

    def refuse(cls: type[Refusal], msg: str, j: str, citation: str, waivable: bool) -> None:
        if not (waivable and exempt):
            refusals.append(cls(msg, jurisdiction=j, citation=citation, waivable=waivable))

    if add.role == "lead":
        book = books.get(add.jurisdiction)
        rule = book.rule("LEAD_COUNT") if book else None
        if rule is not None:
            hi = int(rule.params.get("max", 1))
            current = set(consortium_leads) - {add.uscc}
            if len(current) + 1 > hi:
                refuse(LeadCountRefusal,
                       f"Consortium {add.consortium_id} already has {len(current)} lead unit(s) "
                       f"({', '.join(sorted(current))}); the {book.name_en} text allows at most {hi}.",
                       add.jurisdiction, rule.citation, rule.in_principle)
        other_led = {b: js for b, js in unit_led.items() if b != add.body_id}
        jurs = {add.jurisdiction}.union(*other_led.values()) if other_led else {add.jurisdiction}
        for j, cap, waivable, citation in _governing(books, "LEAD_SINGLE", jurs):
            if len(other_led) + 1 > cap:
                refuse(LeadSingleRefusal,
                       f"Unit {add.uscc} already leads {len(other_led)} other consortium body(ies) "
                       f"({', '.join(sorted(other_led))}); the {books[j].name_en} text allows a lead to lead {cap}.",
                       j, citation, waivable)
                break
    if add.body_id not in unit_bodies:
        jurs = {add.jurisdiction}.union(*unit_bodies.values()) if unit_bodies else {add.jurisdiction}
        for j, cap, waivable, citation in _governing(books, "MEMBER_CAP", jurs):
            if len(unit_bodies) + 1 > cap:
                refuse(MemberCapRefusal,
                       f"Unit {add.uscc} already takes part in {len(unit_bodies)} distinct consortia "
                       f"({', '.join(sorted(unit_bodies))}); joining {add.consortium_id} would make "
                       f"{len(unit_bodies) + 1}, and the {books[j].name_en} text allows at most {cap}.",
                       j, citation, waivable)
                break
    return refusals
