"""Whether each text was in force on the as-of date.

Nanning's measures are in force from 2025-05-30 for five years (第十五条) and
Liaoyang's for three years from their issue on 2023-05-23 (第二十七条): checked as
of a date outside that period, a text's rules are not the law of the day. The
rules are still applied, as the text reads, so that nothing an officer relies on
disappears without a word; but the report says, once per jurisdiction, that the
text was not in force, and every finding under it carries
``details.text_in_force: false`` so that it can be told apart and filtered out.
A rulebook gives the period in its ``document`` block (``in_force_from``,
``valid_until``, and the ``validity`` article that sets them); a text that states
none is taken to be in force.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import pandas as pd

from ..findings import Finding
from .labels import iso
from .rulebook import Rulebook

__all__ = ["RULE_ID", "in_force_period", "mark_lapsed_texts", "period_label"]

#: The id of the finding that a text was not in force (not a rule of any text).
RULE_ID = "TEXT_NOT_IN_FORCE"


def _day(value: Any) -> pd.Timestamp | None:
    if value is None or value == "":
        return None
    if isinstance(value, (dt.date, str)):
        try:
            return pd.Timestamp(value).normalize()
        except (ValueError, OverflowError):
            return None  # the rulebook reader reports a date that is not one
    return None


def in_force_period(book: Rulebook) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    """The first and last day the text is in force (None where it states no bound)."""
    doc = book.document or {}
    return _day(doc.get("in_force_from")), _day(doc.get("valid_until"))


def period_label(start: str | None, end: str | None, sep: str = " to ") -> str:
    """``2023-05-23 to 2026-05-22`` from ISO days, ``…`` for an open bound, "" when the text
    states no period: how ``rules`` and ``show`` print a text's period."""
    if start is None and end is None:
        return ""
    return sep.join(d or "…" for d in (start, end))


def mark_lapsed_texts(findings: list[Finding], books: Mapping[str, Rulebook], records: Mapping[str, int],
                      as_of: pd.Timestamp) -> list[Finding]:
    """``findings`` with one warning added per jurisdiction whose text was not in force on
    ``as_of`` and which has consortium records in force (``records``: their count by
    jurisdiction), and every finding under such a text given ``details.text_in_force = False``
    (a copy: a rule may share one details mapping between findings)."""
    out: list[Finding] = []
    off: set[str] = set()
    for j, book in books.items():
        start, end = in_force_period(book)
        before, after = start is not None and as_of < start, end is not None and as_of > end
        if not (before or after) or not records.get(j):
            continue
        off.add(j)
        doc = book.document or {}
        validity = doc.get("validity") if isinstance(doc.get("validity"), dict) else {}
        article, quote = str(validity.get("article", "")), str(validity.get("quote", ""))
        period = (f"from {iso(start)}" if start is not None else "") + (
            f"{' ' if start is not None else ''}until {iso(end)}" if end is not None else "")
        state = "it is not yet in force" if before else "it has lapsed"
        n = records[j]
        title = str(doc.get("title", "")) or book.name_zh
        out.append(Finding(
            RULE_ID, "warning", False, j, None, None,
            f"The {book.name_en} text {title} {'is' if before else 'was'} in force {period}"
            f"{f' ({article})' if article else ''}; as of {iso(as_of)} {state}. "
            f"Its rules are still applied to the {n:,} {book.name_en} consortium "
            f"record{'s' if n != 1 else ''} in force, as the text reads, and each of their findings says "
            "text_in_force: false; ask the bureau which text applies on that date, and encode it with --rules FILE.",
            f"{title}{article}：{quote}" if quote else title, "",
            {"in_force_from": iso(start), "valid_until": iso(end), "as_of": iso(as_of),
             "state": "not_yet" if before else "lapsed", "records": n},
        ))
    if not off:
        return findings
    marked = [replace(f, details={**f.details, "text_in_force": False}) if f.jurisdiction in off else f
              for f in findings]
    return marked + out
