"""The loader's fast paths parse exactly as the cell-by-cell parsers they shortcut.

Codes, names, amounts and ISO dates take vectorised paths when a whole column
is plain (ASCII codes, numbers without units, ``YYYY-MM-DD``). These tests
compare :func:`consortia.loaders.values.parse_column` with a reference that
parses one cell at a time the slow, obvious way, on columns that mix plain
cells with every awkward spelling the data model accepts or rejects.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consortia.loaders.text import clean, strip_invisible
from consortia.loaders.values import parse_column

_DATE = re.compile(
    r"^(\d{4})(?:-(\d{1,2})-(\d{1,2})|/(\d{1,2})/(\d{1,2})|年(\d{1,2})月(\d{1,2})日)"
    r"(?:[ T]00:00(?::00(?:\.0+)?)?)?$"
)


def ref_code(v: str) -> str:
    return re.sub(r"\s+", "", clean(v.strip())).upper()


def ref_str(v: str) -> str:
    return strip_invisible(v.strip())


def ref_date(v: str) -> tuple[object, bool]:
    v = v.strip()
    if v == "":
        return pd.NaT, False
    m = _DATE.match(clean(v))
    if not m:
        return pd.NaT, True
    g = [x for x in m.groups() if x is not None]
    try:  # any date of the calendar from 1900 to 9999 (held to the microsecond, so past 2262)
        day = dt.date(int(g[0]), int(g[1]), int(g[2]))
    except ValueError:
        return pd.NaT, True
    return (pd.NaT, True) if day < dt.date(1900, 1, 1) else (pd.Timestamp(day).as_unit("us"), False)


#: 万元 per unit, longest first so that 千万元 is not read as 万元.
UNITS = {"千万元": 1000.0, "百万元": 100.0, "千元": 0.1, "万元": 1.0, "亿元": 10000.0, "元": 0.0001, "万": 1.0,
         "亿": 10000.0}


def ref_grouped(whole: str) -> str | None:
    """The digits of a whole part whose separators (all commas or all spaces) split it into groups
    of three after a first group of one to three; None when they do not."""
    for sep in (",", " "):
        if sep in whole:
            groups = whole.split(sep)
            ok = (1 <= len(groups[0]) <= 3 and all(len(g) == 3 for g in groups[1:])
                  and all(g.isdecimal() and g.isascii() for g in groups))
            return "".join(groups) if ok else None
    return whole


def ref_money(v: str, scale: float) -> tuple[float, bool]:
    v = v.strip()
    if v == "":
        return np.nan, False
    text = re.sub(r"[\u200b-\u200d\u2060\ufeff\u00ad]", "", unicodedata.normalize("NFKC", v)).strip()
    factor = scale
    for u, f in UNITS.items():
        if text.endswith(u):
            text, factor = text[: -len(u)].rstrip(), f
            break
    sign = text[:1] if text[:1] in "+-" else ""
    whole, dot, frac = text[len(sign):].partition(".")
    digits = ref_grouped(whole) if "," not in frac and " " not in frac else None
    number = None if digits is None else sign + digits + dot + frac
    if number is not None and not re.fullmatch(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)", number):
        number = None
    num = pd.to_numeric(pd.Series([number], dtype=object), errors="coerce").iloc[0]
    out = float(num) * factor if not pd.isna(num) else np.nan
    bad = pd.isna(num) or num < 0 or not np.isfinite(out)
    return (np.nan if bad else out), bool(bad)


CODE_CELLS = ["91450100MA5KXXXX1A", "gx-2019-0001", " NN-1 ", "ＧＸ－１", "X-FOREIGN 1", "a\u200bb", "", "  ", "\t9145\n",
              "ß", "A,B", "x\x00y"]
STR_CELLS = ["南宁市", " 柳州市 ", "单位\u200b名称", "\ufeff", "", "   ", "a  b", "Ａ公司", "\u00a0x\u00a0"]
DATE_CELLS = ["2024-05-30", "2024-5-3", "2024/5/30", "2024年5月30日", "2023-02-30", "1677-09-21", "1677-09-22",
              "2262-04-11", "2262-04-12", "2300-01-01", "0000-01-01", "0001-01-01",
              "0224-05-30", "1899-12-31", "1900-01-01", "1900/1/1", "1024年5月30日", "9999-12-31", "２０２４-０１-０１",
              "2024-01-01 00:00:00",
              "2024-01-01T00:00", " 2024-01-02 ", "", "  ", "yesterday", "2024-13-01", "2024-00-10", "٢٠٢٤-٠١-٠١"]
MONEY_CELLS = ["12000", "1234.5", "1.", ".5", "+3", "-1", "1e5", "inf", "nan", "1.2亿", "3万元", "12,000", "１２",
               " 7 ", "", "  ", "\u200b", "1.2.3", "--1", "+-1", "1" * 400, "0", "00012.50",
               "1,2", "1,234.5", "12,34", "1,234,567", "1,", ",123", "12 000", "1 2", "1 2亿", "1.2 亿", "1,000 元",
               "3千元", "2千万元", "5百万", "1,000 000", "1.2,3", "+1,000", "1\u3000000"]


def check_codes(cells: list[str]) -> None:
    parsed, bad = parse_column(pd.Series(cells, dtype=str), "code")
    assert list(parsed) == [ref_code(v) for v in cells] and not bad.any()


def check_strs(cells: list[str]) -> None:
    parsed, bad = parse_column(pd.Series(cells, dtype=str), "str")
    assert list(parsed) == [ref_str(v) for v in cells] and not bad.any()


def check_dates(cells: list[str]) -> None:
    parsed, bad = parse_column(pd.Series(cells, dtype=str), "date")
    want = [ref_date(v) for v in cells]
    assert parsed.dtype == "datetime64[us]"
    assert [None if pd.isna(x) else x for x in parsed] == [None if pd.isna(w) else w for w, _ in want]
    assert list(bad) == [b for _, b in want]


def check_money(cells: list[str], unit: str = "") -> None:
    scale = {"": 1.0, "亿元": 10000.0, "元": 0.0001, "千元": 0.1}[unit]
    parsed, bad = parse_column(pd.Series(cells, dtype=str), "money", unit=unit)
    want = [ref_money(v, scale) for v in cells]
    assert list(bad) == [b for _, b in want]
    assert np.array_equal(parsed.to_numpy(), np.array([w for w, _ in want], dtype=float), equal_nan=True)


@pytest.mark.parametrize("cells", [CODE_CELLS, ["GX-1", "NN-2", ""], []])
def test_codes(cells: list[str]) -> None:
    check_codes(cells)


@pytest.mark.parametrize("cells", [STR_CELLS, ["南宁市", "柳州市", ""], []])
def test_strings(cells: list[str]) -> None:
    check_strs(cells)


@pytest.mark.parametrize("cells", [DATE_CELLS, ["2024-01-01", "2025-12-31", ""], []])
def test_dates(cells: list[str]) -> None:
    check_dates(cells)


@pytest.mark.parametrize("unit", ["", "亿元", "元", "千元"])
@pytest.mark.parametrize("cells", [MONEY_CELLS, ["12000", "1234.5", ""], []])
def test_money(cells: list[str], unit: str) -> None:
    check_money(cells, unit)


FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ALPHABET = st.sampled_from([*"0123456789-./年月日+ ,亿万元千百aAxX\u200b\u3000\t", "", "２", "٢", "000", ",000"])
cell = st.lists(ALPHABET, max_size=12).map("".join)


@FUZZ
@given(st.lists(cell, max_size=20), st.lists(st.sampled_from(DATE_CELLS + MONEY_CELLS + CODE_CELLS), max_size=10))
def test_fuzzed_columns_parse_as_the_reference(cells: list[str], known: list[str]) -> None:
    column = cells + known
    check_codes(column)
    check_strs(column)
    check_dates(column)
    check_money(column)
