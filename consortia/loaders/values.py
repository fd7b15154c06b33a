"""Vectorised parsers for the value kinds of the data model.

Each parser takes a column of stripped text and returns the parsed column and
a mask of the cells it could not parse. Parsing works on the distinct values
of a column (a million membership rows hold a few thousand distinct dates),
which keeps loading close to the speed of reading the CSV itself. Columns of
mostly distinct values (codes, names, amounts) are parsed cell by cell
instead, with a fast path for the plain text nearly every cell holds: hashing
a million distinct codes to find the distinct ones costs more than cleaning
them.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable

import numpy as np
import pandas as pd

from ..schema import DATE_DTYPE, ENUMS
from .text import clean, norm, strip_invisible

__all__ = ["MONEY_UNITS", "PARSERS", "all_of", "expected_for", "money_unit_scale", "no_space", "parse_cells",
           "parse_column", "parse_enum", "parse_list"]

Parsed = tuple[pd.Series, pd.Series]

_DATE = re.compile(
    r"^(\d{4})(?:-(\d{1,2})-(\d{1,2})|/(\d{1,2})/(\d{1,2})|年(\d{1,2})月(\d{1,2})日)"
    r"(?:[ T]00:00(?::00(?:\.0+)?)?)?$"
)
#: Money units as the number of 万元 each is worth: the bracketed unit of a header and the
#: unit written after an amount in a cell are read from the same table.
MONEY_UNITS: dict[str, float] = {
    "元": 0.0001, "千元": 0.1, "万元": 1.0, "百万元": 100.0, "千万元": 1000.0, "亿元": 10000.0,
    "万": 1.0, "亿": 10000.0,
}
#: A whole number with a comma only between groups of three digits (``12,000``; ``1,2`` is not
#: one: a decimal comma, or a typo, never a thousands separator) or spaces likewise (``12 000``).
_GROUPED = r"\d{1,3}(?:,\d{3})+|\d{1,3}(?: \d{3})+|\d+"
_MONEY = re.compile(
    rf"^([+-]?(?:(?:{_GROUPED})(?:\.\d*)?|\.\d+))\s*({'|'.join(sorted(MONEY_UNITS, key=len, reverse=True))})?$")
_INT = re.compile(rf"^({_GROUPED})(?:\.0*)?(?:人|年|个|家)?$")
#: Words around a unit that name the currency it is in anyway (``万元人民币``, ``RMB``).
_YUAN_MARK = re.compile(r"^(?:人民币|rmb|cny)|(?:人民币|rmb|cny)$")
_FOREIGN = re.compile(r"美元|美金|港元|港币|澳门元|澳元|欧元|日元|英镑|韩元|卢布|台币|外币|usd|us\$|hkd|eur|jpy|gbp|"
                      r"aud|cad|sgd|[$€£]")


def money_unit_scale(unit: str) -> float:
    """How many 万元 one unit named in a money header is worth; ``""`` (no unit) is 万元.

    ``unit`` is the bracketed suffix :func:`~consortia.loaders.text.norm_header` returns (NFKC,
    case-folded); ``单位：`` before it and 人民币/RMB/CNY around it are ignored. Raises
    :class:`ValueError` saying why for a foreign currency or a unit not in :data:`MONEY_UNITS`:
    an amount in 千元 or USD read as 万元 is silently wrong by 10× or more, so the unit is never
    guessed."""
    u = re.sub(r"^单位:?", "", re.sub(r"\s+", "", unit))
    if not u:
        return 1.0
    if _FOREIGN.search(u):
        raise ValueError("a foreign currency: amounts are in 人民币; convert them to 万元 "
                         "(or 元, 千元, 百万元, 千万元, 亿元 named in the header) first")
    u = _YUAN_MARK.sub("", u) or "元"
    if u not in MONEY_UNITS:
        raise ValueError("not a money unit: a money header may end in (元), (千元), (万元), (百万元), (千万元) "
                         "or (亿元); without a unit amounts are in 万元")
    return MONEY_UNITS[u]
_TRUE = {"true", "yes", "y", "1", "是", "真", "t", "1.0"}
_FALSE = {"false", "no", "n", "0", "否", "假", "f", "0.0"}


def _texts(values: pd.Series) -> np.ndarray:
    """The cells as an object array of ``str`` (missing cells as ``""``), not yet stripped."""
    arr = values.to_numpy(dtype=object, na_value="")
    if not isinstance(values.dtype, pd.StringDtype) and not all(isinstance(v, str) for v in arr):
        arr = np.array([v if isinstance(v, str) else str(v) for v in arr], dtype=object)
    return arr


_SEP = "\x00"
#: Printable ASCII without spaces or lower-case letters: a code made of these is already canonical.
_CODE_CHARS = bytes(b for b in range(0x21, 0x7F) if not 0x61 <= b <= 0x7A)
#: The characters of a plain amount (``12000``, ``1234.5``), which :func:`pandas.to_numeric` reads
#: exactly as the full parser would; anything else (units, commas, full-width digits) takes the full path.
_PLAIN_NUMBER = "0123456789.+-"


def all_of(cells: np.ndarray, allowed: bytes) -> bool:
    """True when every cell consists of the ASCII characters ``allowed`` only.

    One pass over the joined column at C speed: the common case (clean codes, plain
    numbers) is recognised without looking at a million cells one by one.
    """
    if not len(cells):
        return True
    joined = _SEP.join(cells)
    return joined.isascii() and len(joined.encode("ascii").translate(None, allowed)) == len(cells) - 1


def no_space(cells: np.ndarray) -> bool:
    """True when no cell holds any whitespace (so none needs stripping and none is blank but empty)."""
    joined = _SEP.join(cells)
    parts = joined.split(None, 1)
    return len(parts) == 1 and len(parts[0]) == len(joined)


def _by_unique(arr: np.ndarray, fn: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]],
               dtype: object) -> tuple[np.ndarray, np.ndarray]:
    """Apply ``fn`` to the distinct values only (stripped) and spread the result back."""
    # Cells are text (no NaN), so the sentinel never occurs; asking pandas to keep missing
    # values as a category would make it scan every cell for them first.
    codes, uniques = pd.factorize(arr)
    if len(codes) and codes.min() < 0:  # not text after all: missing cells read as empty
        codes = np.where(codes < 0, len(uniques), codes)
        uniques = np.append(np.asarray(uniques, dtype=object), "")
    stripped = np.array([u.strip() for u in uniques], dtype=object)
    parsed, bad = fn(stripped)
    if not len(codes):
        return np.array([], dtype=dtype), np.array([], dtype=bool)
    return np.asarray(parsed, dtype=dtype)[codes], np.asarray(bad, dtype=bool)[codes]


_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
#: The earliest date a registry cell may hold. Every date of the data model is an event of a
#: consortium's life (recognised, joined, reported, sanctioned), all long after 1900; a year
#: such as 0224 or 1024 is a typo for 2024, which would otherwise read as a real date and, say,
#: start a term 1,800 years ago.
EARLIEST_DATE = np.datetime64("1900-01-01", "us")


def _dates(u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    out = np.full(len(u), np.datetime64("NaT"), dtype=DATE_DTYPE)
    bad = np.zeros(len(u), dtype=bool)
    # ISO dates (nearly all) in one vectorised call; the other spellings one by one below.
    iso = np.fromiter((_ISO_DATE.fullmatch(v) is not None for v in u), dtype=bool, count=len(u))
    if iso.any():
        when = pd.to_datetime(pd.Index(u[iso], dtype=object), format="%Y-%m-%d", errors="coerce").as_unit("us")
        vals = when.to_numpy()
        ok = ~np.isnat(vals) & (vals >= EARLIEST_DATE)  # numpy's year 0 (no calendar's) falls below it too
        out[iso] = np.where(ok, vals, np.datetime64("NaT"))
        bad[iso] = ~ok
    for i in np.flatnonzero(~iso):
        v = u[i]
        if v == "":
            continue
        m = _DATE.match(clean(v))
        if not m:
            bad[i] = True
            continue
        g = [x for x in m.groups() if x is not None]
        try:
            day = np.datetime64(dt.date(int(g[0]), int(g[1]), int(g[2])), "us")  # rejects 2023-02-30 and year 0
        except ValueError:
            bad[i] = True
            continue
        if day < EARLIEST_DATE:
            bad[i] = True
        else:
            out[i] = day
    return out, bad


def _money_full(values: pd.Series, scale: float) -> tuple[np.ndarray, np.ndarray]:
    text = values.str.normalize("NFKC").str.replace(r"[\u200b-\u200d\u2060\ufeff\u00ad]", "", regex=True).str.strip()
    parts = text.str.extract(_MONEY)
    num = pd.to_numeric(parts[0].str.replace(r"[, ]", "", regex=True), errors="coerce")
    # A unit written in the cell wins over the unit in the header.
    factor = parts[1].map(MONEY_UNITS).fillna(scale).astype(float)
    out = (num * factor).astype(float)
    bad = num.isna() | (num < 0) | ~np.isfinite(out)
    return out.where(~bad, np.nan).to_numpy(dtype=float), bad.to_numpy(dtype=bool)


def _money(arr: np.ndarray, scale: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Amounts in 万元. Plain numbers (nearly every cell) are read by one vectorised
    :func:`pandas.to_numeric`; the few others (``1.2亿``, ``12,000``) by the full parser."""
    if all_of(arr, _PLAIN_NUMBER.encode()):
        text = arr
        empty = arr == ""
        plain = ~empty
    else:
        text = np.array([v.strip() for v in arr], dtype=object)
        plain = np.fromiter((not v.strip(_PLAIN_NUMBER) for v in text), dtype=bool, count=len(text))
        empty = text == ""
        plain &= ~empty
    out = np.full(len(text), np.nan)
    bad = np.zeros(len(text), dtype=bool)
    if plain.any():
        num = pd.to_numeric(text[plain], errors="coerce").astype(float)
        val = num * scale
        wrong = np.isnan(num) | (num < 0) | ~np.isfinite(val)
        out[plain] = np.where(wrong, np.nan, val)
        bad[plain] = wrong
    rest = ~plain & ~empty
    if rest.any():
        o, b = _money_full(pd.Series(text[rest], dtype=object).astype(str), scale)
        out[rest], bad[rest] = o, b
    return out, bad


def _ints(u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    out = np.full(len(u), np.nan)
    bad = np.zeros(len(u), dtype=bool)
    for i, v in enumerate(u):
        if v == "":
            continue
        m = _INT.match(clean(v))
        if m and np.isfinite(num := float(re.sub("[, ]", "", m.group(1)))):
            out[i] = num
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


def parse_list(text: str) -> tuple[str, ...]:
    """One ``;``-separated list cell (already stripped) as a tuple of ids.

    Every list in the data model holds ids (segments, feeds): items are
    normalised like ``code`` cells so that they match the ids they name."""
    if not text:
        return ()
    return tuple(x for x in (re.sub(r"\s+", "", clean(p)).upper() for p in re.split(r"[;；]", text)) if x)


def _lists(u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    out = np.empty(len(u), dtype=object)
    for i, v in enumerate(u):
        out[i] = parse_list(v)
    return out, np.zeros(len(u), dtype=bool)


def _code(v: str) -> str:
    return re.sub(r"\s+", "", clean(v.strip())).upper()


def _codes(u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # Printable ASCII without spaces (nearly every code) is unchanged by NFKC and by
    # stripping: only the case is normalised. Anything else takes the full path.
    if all_of(u, _CODE_CHARS):
        return u, np.zeros(len(u), dtype=bool)
    out = np.array([v.upper() if v.isascii() and v.isprintable() and " " not in v else _code(v) for v in u],
                   dtype=object)
    return out, np.zeros(len(u), dtype=bool)


_INVISIBLE_CHARS = "\ufeff\u200b\u200c\u200d\u2060\u00ad"


def _strings(u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # Removing invisible characters is costly on CJK text; look for any in the column once.
    joined = _SEP.join(u)
    if any(ch in joined for ch in _INVISIBLE_CHARS):
        out = np.array([strip_invisible(v) for v in u], dtype=object)
    elif no_space(u):
        out = u
    else:
        out = np.array([v.strip() for v in u], dtype=object)
    return out, np.zeros(len(u), dtype=bool)


@functools.cache
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


@functools.lru_cache(maxsize=4096)
def parse_enum(text: str, name: str) -> str:
    """One cell of vocabulary ``name`` (e.g. ``role``): its canonical value, or ""
    when the cell is empty or not in the vocabulary; as :func:`parse_column` reads it."""
    return _vocabulary(name).get(norm(text.strip()), "")


def expected_for(kind: str, jurisdictions: str = "") -> str:
    """What a cell of this kind should look like, for error messages."""
    if kind.startswith("enum:"):
        vocab = ENUMS[kind[5:]]
        return "one of " + ", ".join(f"{k} ({v[0]})" if v else k for k, v in vocab.items())
    return {
        "date": "a date like 2024-05-30, 2024/5/30 or 2024年5月30日 (a real calendar date, from 1900 on)",
        "money": "a non-negative amount in 万元 (e.g. 12000, 12,000.5 or 1.2亿; a comma only between "
                 "groups of three digits)",
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
_DTYPES = {"date": DATE_DTYPE, "int": float, "bool": object, "list": object, "code": object, "str": object}
#: Kinds parsed cell by cell (mostly distinct values); the others are parsed once per distinct value.
_PER_CELL = ("code", "str")


def parse_cells(arr: np.ndarray, kind: str, *, unit: str = "",
                resolve: Callable[[str], str | None] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """:func:`parse_column` on an object array of ``str`` cells (not yet stripped),
    returning plain arrays: the loader's entry point, with no index to carry."""
    if kind == "money":
        return _money(arr, money_unit_scale(unit))
    if kind in _PER_CELL:
        return PARSERS[kind](arr)
    if kind == "jurisdiction":
        def fn(u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            out = np.array([(resolve(v) if resolve else None) or "" for v in u], dtype=object)
            return out, np.array([v != "" and o == "" for v, o in zip(u, out, strict=True)], dtype=bool)
        return _by_unique(arr, fn, object)
    if kind.startswith("enum:"):
        return _by_unique(arr, _enum(kind[5:]), object)
    return _by_unique(arr, PARSERS[kind], _DTYPES[kind])


def parse_column(values: pd.Series, kind: str, *, unit: str = "",
                 resolve: Callable[[str], str | None] | None = None) -> Parsed:
    """Parse one column of text cells into the value kind ``kind``.

    ``unit`` is the unit named in the header (``亿元`` scales money, see
    :func:`money_unit_scale`), and
    ``resolve`` maps jurisdiction names to ids.
    """
    parsed, bad = parse_cells(_texts(values), kind, unit=unit, resolve=resolve)
    dtype = float if kind == "money" else _DTYPES.get(kind, object)
    return pd.Series(parsed, index=values.index, dtype=dtype), pd.Series(bad, index=values.index, dtype=bool)
