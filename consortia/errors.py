"""One exception hierarchy, so the CLI can map each kind of failure to its exit code.

* :class:`InputError` (exit 2): the registry, a rulebook or an option is wrong;
  it carries every row-level :class:`Problem` found in one pass.
* :class:`Refusal` (exit 1 from ``add-member``): a write that a policy text forbids.
* :class:`BackendError` (exit 3): something outside the input failed.
* :class:`OutputError` (exit 2, or 3 when the system failed mid-write): a
  report, page, image or registry file could not be written where asked.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "BackendError",
    "ConsortiaError",
    "InputError",
    "LeadCountRefusal",
    "LeadSingleRefusal",
    "MemberCapRefusal",
    "OutputError",
    "Problem",
    "Refusal",
    "did_you_mean",
]


def did_you_mean(value: str, choices: Iterable[str]) -> str:
    """``"; did you mean X?"`` for the choice closest to a mistyped ``value`` (``""`` when none is
    close), so that an error names the fix and not only the fault. Case is ignored in comparing
    (``member_cap`` is MEMBER_CAP mistyped) and the choice is named as it is spelled."""
    spelled = {c.casefold(): c for c in choices}
    close = difflib.get_close_matches(value.casefold(), spelled, n=1)
    return f"; did you mean {spelled[close[0]]}?" if close else ""


class ConsortiaError(Exception):
    """Base class of every error this package raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, located as the user sees it.

    ``row`` counts like Excel or a text editor does: the header is row 1.
    """

    source: str
    row: int | None
    column: str | None
    value: str | None
    expected: str

    def __str__(self) -> str:
        where = self.source
        if self.row is not None:
            where += f", row {self.row}"
        if self.column:
            where += f", column {self.column}"
        if self.value is None:
            return f"{where}: {self.expected}"
        shown = self.value if len(self.value) <= 60 else self.value[:57] + "..."
        return f"{where}: {shown!r}: {self.expected}"

    def to_dict(self) -> dict[str, object]:
        return {
            "source": self.source,
            "row": self.row,
            "column": self.column,
            "value": self.value,
            "expected": self.expected,
        }


class InputError(ConsortiaError):
    """Bad input: carries every problem found, not only the first."""

    def __init__(self, problems: list[Problem] | Problem | str) -> None:
        if isinstance(problems, str):
            problems = [Problem("input", None, None, None, problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems = problems
        super().__init__(self.render())

    def render(self, limit: int = 50) -> str:
        """The problems as lines, at most ``limit`` of them, with a count of the rest."""
        lines = [str(p) for p in self.problems[:limit]]
        if len(self.problems) > limit:
            lines.append(f"... and {len(self.problems) - limit} more problems")
        if len(self.problems) > 1:
            lines.insert(0, f"{len(self.problems)} problems in the input:")
        return "\n".join(lines)


class BackendError(ConsortiaError):
    """A database or other outside service failed (not the user's input)."""


class OutputError(ConsortiaError):
    """A file or folder could not be written where the user asked for it.

    Raised by the writers of :mod:`consortia.io` (and the checks they run before
    a command starts its work), so that every command reports an unwritable
    ``--out`` the same way: the path as given and the reason in words, never
    an ``OSError`` traceback. ``outside`` is false when the place itself is
    wrong (a read-only folder, a path through a file, a folder where a file
    should go, a registry already there): the user named it, exit 2. It is
    true when the system failed while writing (a full disk, an I/O error):
    exit 3, as for any failure outside the input.
    """

    def __init__(self, path: object, reason: str, *, outside: bool = False) -> None:
        self.path = str(path)
        self.reason = reason
        self.outside = outside
        super().__init__(f"cannot write {self.path}: {reason}")


class Refusal(ConsortiaError):
    """A membership write that a policy text forbids.

    ``rule`` is the finding id the audit would report, ``citation`` the text
    relied on, and ``waivable`` whether a recorded 一事一议 exemption may
    override it (only rules the text qualifies with 原则上).
    """

    rule = ""

    def __init__(self, message: str, *, jurisdiction: str, citation: str, waivable: bool) -> None:
        self.jurisdiction = jurisdiction
        self.citation = citation
        self.waivable = waivable
        hint = (
            " An exemption (一事一议) may be recorded with --exemption TEXT."
            if waivable
            else " The text does not qualify this rule with 原则上, so no exemption can waive it."
        )
        super().__init__(f"{message} [{self.rule}; {citation}]{hint}")
        self.plain_message = message


class LeadCountRefusal(Refusal):
    """The consortium already has as many leads as its jurisdiction allows."""

    rule = "LEAD_COUNT"


class LeadSingleRefusal(Refusal):
    """The unit already leads another consortium."""

    rule = "LEAD_SINGLE"


class MemberCapRefusal(Refusal):
    """The unit would take part in more consortia than the cap allows."""

    rule = "MEMBER_CAP"
