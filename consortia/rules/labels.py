"""How findings name things: one spelling of a consortium, a unit, a date and a list,
shared by every rule so that messages read the same whichever rule wrote them."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

__all__ = ["consortium_label", "iso", "listing", "unit_label"]


def _text(value: object) -> str:
    return "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value).strip()


def consortium_label(cid: str, name: object) -> str:
    """``NN-1 (南宁市新能源汽车创新联合体)``, or the id alone when unnamed."""
    name = _text(name)
    return f"{cid} ({name})" if name else str(cid)


def unit_label(name: object, uscc: str) -> str:
    """``单位1有限公司 (91450103…)``, or the code alone when unnamed."""
    name = _text(name)
    return f"{name} ({uscc})" if name else str(uscc)


def iso(ts: object) -> str | None:
    """A date as ``YYYY-MM-DD``, None when missing."""
    return None if ts is None or pd.isna(ts) else pd.Timestamp(ts).date().isoformat()


def listing(items: Iterable[str], limit: int = 5, sep: str = ", ") -> str:
    """The first ``limit`` items and how many more, so a message stays readable."""
    items = list(items)
    shown = sep.join(items[:limit])
    more = len(items) - limit
    # "a, b and 3 more" with commas; "a; b; and 3 more" with semicolons.
    tail = " " if sep == ", " else sep
    return f"{shown}{tail}and {more} more" if more > 0 else shown
