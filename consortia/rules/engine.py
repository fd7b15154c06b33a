"""The rule engine: run every rule of every rulebook over a registry as of a date.

Rule implementations register under their id; the engine gives each the
rulebooks that contain it, so a rule a text lacks is never applied there.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from ..findings import Finding, sort_findings
from ..registry import Registry
from ..state import active_memberships, as_timestamp
from .rulebook import Rule, Rulebook, Rulebooks, load_rulebooks

__all__ = ["RULES", "Context", "register", "run_checks"]


@dataclass
class Context:
    """What every rule sees: the registry, the rulebooks and the as-of date,
    with the active-membership view computed once."""

    registry: Registry
    books: Rulebooks
    as_of: pd.Timestamp
    members: pd.DataFrame

    def location(self, table: str, row: int | None) -> str:
        src = self.registry.source_of(table)
        return f"{src} row {row}" if row is not None else src


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
    from . import identity, membership  # noqa: F401 - registers the rules

    return set(RULES) | set(COMMON)


def run_checks(registry: Registry, books: Rulebooks | None = None,
               as_of: dt.date | str | None = None) -> list[Finding]:
    """Every finding of every rule in force, sorted."""
    from . import identity, membership  # noqa: F401 - registers the rules

    books = books or load_rulebooks()
    ts = as_timestamp(as_of)
    ctx = Context(registry, books, ts, active_memberships(registry, ts))
    findings: list[Finding] = []
    for rule_id, fn in RULES.items():
        scoped = [(b, b.rules[rule_id]) for b in books.values() if rule_id in b.rules]
        if scoped:
            findings.extend(fn(ctx, scoped))
    for rule_id, cfn in COMMON.items():
        if rule_id in books.common:
            findings.extend(cfn(ctx, books.common[rule_id]))
    return sort_findings(findings)
