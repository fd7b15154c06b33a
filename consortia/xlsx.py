"""Excel workbooks of report tables, written row by row within Excel's limits.

A national ``check`` report holds a million rows: pandas' ``to_excel`` through
openpyxl builds a cell object per value and took 25 s over the 1.3 million cells
of the M registry's report. xlsxwriter's constant-memory mode writes each row
as it comes. Every text cell a spreadsheet would run as a formula is
neutralised (:func:`consortia.output.neutralise`), and xlsxwriter is told never
to turn text into formulas, numbers or links itself.

Excel refuses, or "repairs" by dropping data, what is beyond its limits: a cell
holds at most 32,767 characters (a hub unit's memberships run longer on a
national registry), so longer text is cut, saying how long it was. A sheet
holds 1,048,576 rows, so the rest of a longer table goes on to continuation
sheets ``name (2)``, ``name (3)``.
"""

from __future__ import annotations

import io
import itertools
import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["MAX_CELL_CHARS", "MAX_ROWS", "workbook_bytes"]

#: Excel's limits: characters in a cell, rows in a sheet (the header row included).
MAX_CELL_CHARS = 32_767
MAX_ROWS = 1_048_576
#: Rows looked at to size each column (as wide as its longest value there, within 10-80).
_WIDTH_SAMPLE = 200


def _cut(text: str) -> str:
    note = f" … [cut: {len(text):,} characters in all; the JSON report has them whole]"
    return text[:MAX_CELL_CHARS - len(note)] + note


def _column(values: pd.Series, neutralise: Callable[[Any], Any]) -> tuple[list[Any], bool]:
    """The column as plain Python values (None for missing), and whether it holds dates."""
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        return [None if pd.isna(v) else v.to_pydatetime() for v in values], True
    out = values.astype(object).where(values.notna(), None).tolist()
    for i, v in enumerate(out):
        if type(v) is str:
            v = neutralise(v)
            out[i] = _cut(v) if len(v) > MAX_CELL_CHARS else v
            continue
        if isinstance(v, np.generic):  # a numpy scalar in a column of objects
            v = out[i] = v.item()
        if isinstance(v, float) and not math.isfinite(v):
            out[i] = None  # no number for it in a cell, as JSON writes null
        elif v is not None and not isinstance(v, (bool, int, float)):
            out[i] = neutralise(str(v))
    return out, False


def _width(header: str, values: list[Any]) -> float:
    longest = max([len(header), *(len(str(v)) for v in values[:_WIDTH_SAMPLE] if v is not None)])
    return min(max(10, longest * 1.6), 80)


def _sheet_names(name: str, parts: int) -> list[str]:
    """Unique sheet names of at most 31 characters: the name, then ``name (2)`` and on."""
    return [name[:31]] + [f"{name[:31 - len(f' ({k})')]} ({k})" for k in range(2, parts + 1)]


def workbook_bytes(sheets: Mapping[str, pd.DataFrame], neutralise: Callable[[Any], Any]) -> bytes:
    """One worksheet per table (more for a table beyond a sheet's rows), header row
    frozen, columns sized to their values, dates shown as days."""
    import xlsxwriter

    buf = io.BytesIO()
    # constant_memory: each row goes to a temporary file as it is written (in_memory would
    # keep every cell of the workbook instead, and overrides it).
    book = xlsxwriter.Workbook(buf, {"constant_memory": True, "strings_to_formulas": False,
                                     "strings_to_numbers": False, "strings_to_urls": False, "remove_timezone": True})
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    per_sheet = MAX_ROWS - 1
    for name, frame in sheets.items():
        n = len(frame)
        header = [neutralise(str(c)) for c in frame.columns]
        columns = [_column(frame[c], neutralise) for c in frame.columns]
        dated = [(j, values) for j, (values, is_date) in enumerate(columns) if is_date]
        # Dates are written on their own, with a day format; in the rows they are blanks.
        rows = zip(*([None] * n if is_date else values for values, is_date in columns), strict=True)
        for part, sheet in enumerate(_sheet_names(name, max(1, -(-n // per_sheet)))):
            ws = book.add_worksheet(sheet)
            start = part * per_sheet
            ws.write_row(0, 0, header)
            ws.freeze_panes(1, 0)
            for j, (values, _) in enumerate(columns):
                ws.set_column(j, j, _width(header[j], values[start:start + _WIDTH_SAMPLE]))
            for r, row in enumerate(itertools.islice(rows, per_sheet), start=1):
                ws.write_row(r, 0, row)
                for j, values in dated:
                    if values[start + r - 1] is not None:
                        ws.write_datetime(r, j, values[start + r - 1], day)
    book.close()
    return buf.getvalue()
