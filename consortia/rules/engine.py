"""The rule engine: run every rule of every rulebook over a registry as of a date.

Rule implementations register under their id; the engine gives each the
rulebooks that contain it, so a rule a text lacks is never applied there.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .. import progress
from ..findings import Finding, sort_findings
from ..registry import Registry, gc_paused
from ..state import active_consortia, active_membership_rows, active_memberships, as_timestamp
from .parallel import run_split, workers_for
from .rulebook import Rule, Rulebook, Rulebooks, load_rulebooks
from .validity import mark_lapsed_texts

__all__ = ["RULES", "Context", "register", "run_checks"]


@dataclass
class Context:
    """What every rule sees: the registry, the rulebooks and the as-of date,
    with the active-membership view computed once."""

    registry: Registry
    books: Rulebooks
    as_of: pd.Timestamp
    members: pd.DataFrame
    #: Views several rules share (e.g. members as integer arrays), built once per run.
    cache: dict[str, Any] = field(default_factory=dict)

    def location(self, table: str, row: int | None) -> str:
        src = self.registry.source_of(table)
        return f"{src} row {row}" if row is not None else src

    def unit_positions(self) -> np.ndarray:
        """For each active membership (``members``), the position of its unit in the
        units table (-1 when not listed), computed once per run: hashing a million
        codes is the costly step the membership and composition rules share."""
        if "unit_positions" not in self.cache:
            link = self.registry.link("memberships", "uscc", "units")
            rows = self.cache.get("member_rows")
            if link is not None and rows is not None:  # the loader's lookup, at the active rows
                self.cache["unit_positions"] = link[rows].astype(np.int64)
            else:
                self.cache["unit_positions"] = self.unit_index().get_indexer(self.members["uscc"]).astype(np.int64)
        return self.cache["unit_positions"]

    def unit_index(self) -> pd.Index:
        """The units' codes as an index (their hash table built once per run), for the
        rules that look up codes the loader did not link (a project's units)."""
        if "unit_index" not in self.cache:
            self.cache["unit_index"] = pd.Index(self.registry.units["uscc"])
        return self.cache["unit_index"]

    def in_force(self) -> pd.DataFrame:
        """The consortium records in force on the as-of date
        (:func:`~consortia.state.active_consortia`), computed once per run:
        nearly every rule starts from them."""
        if "in_force" not in self.cache:
            self.cache["in_force"] = active_consortia(self.registry, self.as_of)
        return self.cache["in_force"]


def finding(ctx: Context, book: Rulebook, rule: Rule, message: str, *, consortium_id: str | None = None,
            uscc: str | None = None, table: str = "consortia", row: int | None = None,
            exemption: str = "", details: dict[str, Any] | None = None) -> Finding:
    """A finding of ``rule`` under ``book``: waived when the text says 原则上 and
    ``exemption`` (the consortium's or membership's recorded 一事一议) is non-empty."""
    return Finding(rule.id, rule.severity, rule.in_principle and bool(str(exemption or "").strip()),
                   book.jurisdiction, consortium_id, uscc, message, rule.citation,
                   ctx.location(table, row) if row is not None else "", details or {})


def unchecked(ctx: Context, book: Rulebook, rule: Rule, what: str, missing: list[str], *,
              consortium_id: str | None = None, uscc: str | None = None, table: str = "consortia",
              row: int | None = None) -> Finding:
    """A rule that could not be checked because data is missing: reported as
    info (never guessed, never an error), naming what was missing."""
    return Finding(rule.id, "info", False, book.jurisdiction, consortium_id, uscc,
                   f"Could not check {rule.id} for {what}: missing {', '.join(missing)}.", rule.citation,
                   ctx.location(table, row) if row is not None else "",
                   {"checkable": False, "missing": missing})


RuleFn = Callable[[Context, list[tuple[Rulebook, Rule]]], list[Finding]]
CommonFn = Callable[[Context, Rule], list[Finding]]
RULES: dict[str, RuleFn] = {}
COMMON: dict[str, CommonFn] = {}


def register(rule_id: str, *, common: bool = False) -> Callable[[RuleFn], RuleFn]:
    """Decorator: the implementation of ``rule_id``."""

    def deco(fn):  # type: ignore[no-untyped-def]
        (COMMON if common else RULES)[rule_id] = fn
        return fn

    return deco


def implemented() -> set[str]:
    """The rule ids the engine can check today; a rulebook may name more
    (their citations are listed, but they are reported as not yet checked)."""
    _register_all()
    return set(RULES) | set(COMMON)


def _register_all() -> None:
    from . import composition, identity, lead, lifecycle, membership, projects, stability  # noqa: F401 - registers the rules


def run_checks(registry: Registry, books: Rulebooks | None = None,
               as_of: dt.date | str | pd.Timestamp | None = None, rules: Collection[str] | None = None,
               workers: int | None = None) -> list[Finding]:
    """Every finding of every rule in force, sorted; with ``rules``, of those rules only
    (the network pages draw three of them, and need not pay for the other thirty).

    ``workers`` (1 or 2; unset: by the registry's size and ``CONSORTIA_WORKERS``) runs
    half the rules in a forked copy of this process (:mod:`.parallel`): the same findings."""
    _register_all()
    books = books or load_rulebooks()
    ts = as_timestamp(as_of)
    with gc_paused(), progress.wiped_after():
        rows = active_membership_rows(registry, ts)
        ctx = Context(registry, books, ts, active_memberships(registry, ts, rows), {"member_rows": rows[0]})
        # Every rule to run, with what it is given, listed first so that each step can say "k of n".
        todo: list[tuple[str, Callable[[], list[Finding]]]] = []
        for rule_id, fn in RULES.items():
            scoped = [(b, b.rules[rule_id]) for b in books.values() if rule_id in b.rules]
            if scoped and (rules is None or rule_id in rules):
                todo.append((rule_id, functools.partial(fn, ctx, scoped)))
        for rule_id, cfn in COMMON.items():
            if rule_id in books.common and (rules is None or rule_id in rules):
                todo.append((rule_id, functools.partial(cfn, ctx, books.common[rule_id])))

        def started(k: int) -> None:
            progress.step(f"rule {todo[k][0]} ({k + 1}/{len(todo)})")

        def shared() -> None:  # what most rules start from, computed once before the fork
            ctx.in_force()
            ctx.unit_positions()

        findings = run_split([run for _, run in todo], started, workers_for(len(registry.memberships), len(todo), workers),
                             prepare=shared)
        if rules is None:  # a full audit says which texts were not in force on the date
            records = ctx.in_force()["jurisdiction"].value_counts().to_dict()
            findings = mark_lapsed_texts(findings, books, records, ts)
        progress.step(f"sorting {len(findings):,} findings")
        return sort_findings(findings)
