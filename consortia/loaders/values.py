"""Vectorised parsers for the value kinds of the data model.

Each parser takes a column of stripped text and returns the parsed column and
a mask of the cells it could not parse. Parsing works on the distinct values
of a column (a million membership rows hold a few thousand distinct dates),
which keeps loading close to the speed of reading the CSV itself.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import pandas as pd

from ..schema import ENUMS
from .text import clean, norm, strip_invisible

__all__ = ["PARSERS", "expected_for", "parse_column"]

Parsed = tuple[pd.Series, pd.Series]

_DATE = re.compile(
    r"^(\d{4})(?:-(\d{1,2})-(\d{1,2})|/(\d{1,2})/(\d{1,2})|年(\d{1,2})月(\d{1,2})日)"
    r"(?:[ T]00:00(?::00(?:\.0+)?)?)?$"
)
_MONEY = re.compile(r"^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(万元|万|亿元|亿)?$")
_INT = re.compile(r"^(\d+)(?:\.0*)?(?:人|年|个|家)?$")
_TRUE = {"true", "yes", "y", "1", "是", "真", "t", "1.0"}
_FALSE = {"false", "no", "n", "0", "否", "假", "f", "0.0"}


def _by_unique(values: pd.Series, fn: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]],
               dtype: object) -> Parsed:
    """Apply ``fn`` to the distinct values only and spread the result back."""
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    parsed, bad = fn(np.asarray(uniques, dtype=object))
    out = pd.Series(np.asarray(parsed, dtype=dtype)[codes] if len(codes) else np.array([], dtype=dtype),
                    index=values.index)
    return out, pd.Series(np.asarray(bad, dtype=bool)[codes] if len(codes) else np.array([], bool),
                          index=values.index)


def _dates(u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    out = np.full(len(u), np.datetime64("NaT"), dtype="datetime64[ns]")
    bad = np.zeros(len(u), dtype=bool)
    for i, v in enumerate(u):
        if v == "":
            continue
        m = _DATE.match(clean(v))
        if not m:
            bad[i] = True
            continue
        g = [x for x in m.groups() if x is not None]
        try:
            # Rejects 2023-02-30, and years outside datetime64[ns] (1677-2262), which
            # np.datetime64(..., "ns") would otherwise silently wrap around.
            out[i] = pd.Timestamp(int(g[0]), int(g[1]), int(g[2])).as_unit("ns").to_datetime64()
        except ValueError:
            out[i] = np.datetime64("NaT")
            bad[i] = True
    return out, bad


def _money(values: pd.Series, scale: float = 1.0) -> Parsed:
    text = values.str.normalize("NFKC").str.replace(r"[,，\s\u200b-\u200d\u2060\ufeff\u00ad]", "", regex=True)
    parts = text.str.extract(_MONEY)
    num = pd.to_numeric(parts[0], errors="coerce")
    # A unit written in the cell wins over the unit in the header.
    factor = parts[1].map({"亿元": 10000.0, "亿": 10000.0, "万元": 1.0, "万": 1.0}).fillna(scale).astype(float)
    out = (num * factor).astype(float)
    empty = values == ""
    bad = ~empty & (num.isna() | (num < 0) | ~np.isfinite(out))
    return out.where(~bad & ~empty, np.nan), bad


def _ints(u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    out = np.full(len(u), np.nan)
    bad = np.zeros(len(u), dtype=bool)
    for i, v in enumerate(u):
        if v == "":
            continue
        m = _INT.match(clean(v).replace(",", ""))
        if m and np.isfinite(float(m.group(1))):
            out[i] = float(m.group(1))
        else:
            bad[i] = True
    return out, bad


def _bools(u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    out = np.full(len(u), None, dtype=object)
    bad = np.zeros(len(u), dtype=bool)
    for i, v in enumerate(u):
        key = norm(v)
        if key == "":
            continue
        if key in _TRUE:
            out[i] = True
        elif key in _FALSE:
            out[i] = False
        else:
            bad[i] = True
    return out, bad


def _lists(u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # Every list in the data model holds ids (segments, feeds): items are
    # normalised like ``code`` cells so that they match the ids they name.
    out = np.empty(len(u), dtype=object)
    for i, v in enumerate(u):
        out[i] = tuple(x for x in (re.sub(r"\s+", "", clean(p)).upper() for p in re.split(r"[;；]", v)) if x)
    return out, np.zeros(len(u), dtype=bool)


def _codes(u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    out = np.array([re.sub(r"\s+", "", clean(v)).upper() for v in u], dtype=object)
    return out, np.zeros(len(u), dtype=bool)


def _strings(u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    out = np.array([strip_invisible(v) for v in u], dtype=object)
    return out, np.zeros(len(u), dtype=bool)


def _vocabulary(name: str) -> dict[str, str]:
    lookup: dict[str, str] = {}
    for canonical, spellings in ENUMS[name].items():
        for s in (canonical, *spellings):
            lookup[norm(s)] = canonical
    return lookup


def _enum(name: str) -> Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]:
    lookup = _vocabulary(name)

    def parse(u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        out = np.array([lookup.get(norm(v), "") for v in u], dtype=object)
        bad = np.array([v != "" and o == "" for v, o in zip(u, out, strict=True)], dtype=bool)
        return out, bad

    return parse


def expected_for(kind: str, jurisdictions: str = "") -> str:
    """What a cell of this kind should look like, for error messages."""
    if kind.startswith("enum:"):
        vocab = ENUMS[kind[5:]]
        return "one of " + ", ".join(f"{k} ({v[0]})" if v else k for k, v in vocab.items())
    return {
        "date": "a date like 2024-05-30, 2024/5/30 or 2024年5月30日 (a real calendar date, years 1678-2261)",
        "money": "a non-negative amount in 万元 (e.g. 12000, 1.2亿)",
        "int": "a whole number (e.g. 30)",
        "bool": "true/false, yes/no, 1/0 or 是/否",
        "jurisdiction": f"a known jurisdiction: {jurisdictions}",
    }.get(kind, "a value")


PARSERS: dict[str, Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]] = {
    "date": _dates,
    "int": _ints,
    "bool": _bools,
    "list": _lists,
    "code": _codes,
    "str": _strings,
}
_DTYPES = {"date": "datetime64[ns]", "int": float, "bool": object, "list": object, "code": object, "str": object}


def parse_column(values: pd.Series, kind: str, *, unit: str = "",
                 resolve: Callable[[str], str | None] | None = None) -> Parsed:
    """Parse one column of text cells into the value kind ``kind``.

    ``unit`` is the unit named in the header (``亿元`` scales money), and
    ``resolve`` maps jurisdiction names to ids.
    """
    values = values.astype(str).str.strip()
    if kind == "money":
        return _money(values, 10000.0 if "亿" in unit else 0.0001 if unit == "元" else 1.0)
    if kind == "jurisdiction":
        def fn(u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            out = np.array([(resolve(v) if resolve else None) or "" for v in u], dtype=object)
            return out, np.array([v != "" and o == "" for v, o in zip(u, out, strict=True)], dtype=bool)
        return _by_unique(values, fn, object)
    if kind.startswith("enum:"):
        return _by_unique(values, _enum(kind[5:]), object)
    return _by_unique(values, PARSERS[kind], _DTYPES[kind])
