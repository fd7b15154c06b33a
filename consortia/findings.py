"""Findings: what the audit reports, one record per breach, with its citation.

The JSON contract (shared by every rule and both backends): ``rule``,
``severity`` (error/warning/info), ``waived`` (a recorded 一事一议 exemption
covers it; it stays in the report), ``jurisdiction``, ``consortium_id``,
``uscc``, ``message``, ``citation``, plus ``location`` (file and row) and
``details`` for machine use.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["SEVERITY_ORDER", "Finding", "exit_code_for", "sort_findings"]

SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


@dataclass(frozen=True)
class Finding:
    """One breach of one rule, located and cited."""

    rule: str
    severity: str
    waived: bool
    jurisdiction: str | None
    consortium_id: str | None
    uscc: str | None
    message: str
    citation: str
    location: str = ""
    details: dict[str, Any] = field(default_factory=dict, compare=False)

    def to_dict(self, copy: bool = True) -> dict[str, Any]:
        """The finding as plain data, ``details`` copied (as :func:`dataclasses.asdict`
        would, without its generic recursion: a report holds a hundred thousand).
        ``copy=False`` shares ``details`` instead, for rows that are only written out
        (copying is a tenth of ``check``'s report time)."""
        return {"rule": self.rule, "severity": self.severity, "waived": self.waived,
                "jurisdiction": self.jurisdiction, "consortium_id": self.consortium_id, "uscc": self.uscc,
                "message": self.message, "citation": self.citation, "location": self.location,
                "details": _copy(self.details) if copy else self.details}

    @property
    def blocking(self) -> bool:
        """An unwaived error: what makes ``check`` exit 1."""
        return self.severity == "error" and not self.waived


_ATOMIC = frozenset({str, int, float, bool, type(None)})


def _copy(value: Any) -> Any:
    """A deep copy of plain data (dicts, lists, tuples of scalars); anything else as
    :func:`dataclasses.asdict` copies it."""
    t = type(value)
    if t in _ATOMIC:
        return value
    if t is dict:
        return {_copy(k): _copy(v) for k, v in value.items()}
    if t is list:
        if all(type(v) in _ATOMIC for v in value):  # lists of ids or flags
            return list(value)
        return [_copy(v) for v in value]
    if t is tuple:
        return tuple(_copy(v) for v in value)
    return asdict(_Box(value))["value"]


@dataclass(frozen=True)
class _Box:
    value: Any


def sort_findings(findings: list[Finding]) -> list[Finding]:
    """Stable order for reports and for comparing backends: severity, then place."""
    return sorted(
        findings,
        key=lambda f: (SEVERITY_ORDER.get(f.severity, 9), f.rule, f.jurisdiction or "",
                       f.consortium_id or "", f.uscc or "", f.message),
    )


def exit_code_for(findings: list[Finding]) -> int:
    """0 when nothing blocks, 1 when an unwaived error finding exists."""
    return 1 if any(f.blocking for f in findings) else 0
