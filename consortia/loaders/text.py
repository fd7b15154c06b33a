"""Text normalisation shared by header matching, enum matching and codes.

Registries are typed in Excel on Chinese Windows: full-width letters and
brackets, a BOM glued to the first header, zero-width spaces pasted from web
pages. Everything that compares text goes through :func:`norm` so that these
never decide whether a value matches.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["clean", "norm", "norm_header"]

_INVISIBLE = dict.fromkeys(map(ord, "\ufeff\u200b\u200c\u200d\u2060\u00ad"), None)
_HEADER_NOISE = re.compile(r"[\s_\-·:：]+")
_UNIT_SUFFIX = re.compile(r"\(([^()]*)\)$")


def strip_invisible(value: str) -> str:
    """Invisible characters removed and surrounding space stripped, nothing else:
    free text such as a legal name is kept as the registry wrote it."""
    return value.translate(_INVISIBLE).strip()


def clean(value: str) -> str:
    """NFKC, invisible characters removed, surrounding space stripped."""
    if value.isascii():  # NFKC leaves ASCII as it is, and no invisible character is ASCII
        return value.strip()
    return unicodedata.normalize("NFKC", value).translate(_INVISIBLE).strip()


def norm(value: str) -> str:
    """:func:`clean` and case-folded: the key used to compare vocabulary values."""
    return clean(value).casefold()


def norm_header(value: str) -> tuple[str, str]:
    """A header's matching key and any parenthesised unit it ends with.

    ``"上年度主营业务收入（亿元）"`` gives ``("上年度主营业务收入", "亿元")``;
    spaces, underscores and hyphens are ignored so ``Consortium ID`` matches
    ``consortium_id``.
    """
    text = norm(value)
    unit = ""
    m = _UNIT_SUFFIX.search(text)
    if m and m.start() > 0:
        unit = m.group(1)
        text = text[: m.start()]
    return _HEADER_NOISE.sub("", text), unit
