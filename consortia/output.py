"""Writing tables of results: terminal table, JSON, CSV and Excel.

Every command that prints rows goes through :func:`emit`, so every command
gets the same ``--format`` choices and the same safety: JSON keeps Chinese as
Chinese, and CSV/Excel cells that a spreadsheet would run as a formula
(starting ``=``, ``+``, ``-``, ``@``, tab or CR) are neutralised with a
leading apostrophe, so a crafted unit name cannot execute.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson
import pandas as pd

from . import progress
from .io import atomic_path, atomic_write_bytes

__all__ = ["FORMATS", "emit", "neutralise", "to_jsonable"]

FORMATS = ("table", "json", "csv", "xlsx")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """Prefix an apostrophe to text a spreadsheet would treat as a formula."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def to_jsonable(value: Any) -> Any:
    """Plain JSON values: dates as ISO text, NaN, infinities and NaT as null (JSON has no
    number for them), tuples as lists."""
    t = type(value)  # the plain types first: a report holds millions of values
    if t is str or t is int or t is bool or value is None:
        return value
    if t is float:
        return value if math.isfinite(value) else None
    if t is dict:
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if t is list or t is tuple:
        return [to_jsonable(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.date().isoformat()
    if value is pd.NaT or value is None:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item"):  # numpy scalars
        return to_jsonable(value.item())
    return value


#: What orjson is asked for: ``json.dumps(indent=2, ensure_ascii=False)``'s layout and a final newline, numpy
#: scalars as numbers, and dates handed to :func:`_plain` (a date is written as its day).
_ORJSON = orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE | orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_PASSTHROUGH_DATETIME


def _plain(value: Any) -> Any:
    """What orjson cannot write by itself, as :func:`to_jsonable` writes it."""
    plain = to_jsonable(value)
    if plain is value:
        raise TypeError(f"not a JSON value: {type(value).__name__}")
    return plain


def _json_bytes(rows: Sequence[Mapping[str, Any]]) -> bytes:
    """``json.dumps([to_jsonable(dict(r)) for r in rows], ensure_ascii=False, indent=2)`` and a
    newline, as UTF-8, encoded by orjson: a national report is a quarter of a gigabyte of text, which
    the standard library's pure-Python indenting encoder takes a minute over. What orjson
    refuses (an integer beyond 64 bits, a key that is not text) goes the standard way."""
    items = [r if type(r) is dict else dict(r) for r in rows]
    try:
        return orjson.dumps(items, default=_plain, option=_ORJSON)
    except orjson.JSONEncodeError:
        return json.dumps([to_jsonable(r) for r in items], ensure_ascii=False, indent=2).encode("utf-8") + b"\n"


def _cell(value: Any) -> Any:
    v = to_jsonable(value)
    if isinstance(v, list):
        return "; ".join(str(x) for x in v)
    if isinstance(v, dict):
        return json.dumps(v, ensure_ascii=False)
    return v


def _frame(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None) -> pd.DataFrame:
    frame = pd.DataFrame([{k: _cell(v) for k, v in r.items()} for r in rows])
    if columns is not None:
        frame = frame.reindex(columns=list(columns))
    return frame


def _xlsx_bytes(sheets: Mapping[str, pd.DataFrame]) -> bytes:
    from .xlsx import workbook_bytes

    return workbook_bytes(sheets, neutralise)


def emit(rows: Sequence[Mapping[str, Any]], fmt: str, *, out: str | Path | None = None,
         columns: Sequence[str] | None = None, table_columns: Sequence[str] | None = None,
         title: str | None = None, sheets: Mapping[str, pd.DataFrame] | None = None,
         echo: Any = None) -> None:
    """Write ``rows`` in ``fmt`` to ``out`` (atomically) or to standard output.

    ``table_columns`` picks the columns shown in the terminal table;
    ``sheets`` adds further sheets to an Excel workbook.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}")
    with progress.writing(len(rows), out):
        write = echo or (lambda text: print(text, end=""))
        if fmt == "json":
            data = _json_bytes(rows)
            if out is not None and str(out) != "-":
                atomic_write_bytes(out, data)
                return
            text = data.decode("utf-8")
        elif fmt == "csv":
            text = _frame(rows, columns).map(neutralise).to_csv(index=False, lineterminator="\n")
        elif fmt == "xlsx":
            if out is None or str(out) == "-":
                raise ValueError("--format xlsx needs --out FILE.xlsx")
            all_sheets = {title or "results": _frame(rows, columns), **(sheets or {})}
            atomic_write_bytes(out, _xlsx_bytes(all_sheets))
            return
        else:
            text = _table_text(rows, table_columns or columns, title, to_file=out is not None and str(out) != "-")
        if out is not None and str(out) != "-":
            with atomic_path(out) as tmp:
                # utf-8-sig for CSV so that Excel on Windows opens Chinese correctly.
                tmp.write_text(text, encoding="utf-8-sig" if fmt == "csv" else "utf-8")
        else:
            write(text)


def _print_records(console: Any, cols: list[str], cells: list[list[str]], title: str | None) -> None:
    """Each row as a block of ``column  value`` lines under a ``k of n`` heading (see
    :func:`_table_text`): the layout of a table with more columns than the page is wide."""
    from rich.cells import cell_len
    from rich.table import Table

    if title:
        console.print(title, justify="center")
    label = max((cell_len(c) for c in cols), default=0)
    for k, row in enumerate(cells, 1):
        block = Table(title=f"{k} of {len(cells)}", title_justify="left", show_header=False, expand=False)
        block.add_column(no_wrap=True, min_width=label)
        block.add_column(overflow="fold")
        for c, v in zip(cols, row, strict=True):
            block.add_row(c, v)
        console.print(block)


#: Values up to this long are kept on one line in a terminal table; longer columns wrap.
_SHORT_CELL = 24


def _table_text(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None, title: str | None,
                *, to_file: bool) -> str:
    """A rich table of ``rows``; one too wide for the page is laid out as records instead.

    rich fits a wide table to the page by squeezing some columns to nothing and cropping the
    rest at the edge, which hides values without a word (a summary's names, a coverage
    matrix's last consortia). When the table cannot be drawn whole at the page's width,
    each row is printed as its own two-column block of column and value, as ``psql``'s
    expanded display does, so every value is shown."""
    from rich.cells import cell_len
    from rich.console import Console
    from rich.measure import Measurement
    from rich.table import Table

    cols = list(columns) if columns else (list(rows[0].keys()) if rows else [])
    table = Table(title=title, show_lines=False, expand=False)
    wide = {"message", "citation", "name", "details", "原文", "note"}
    cells = [[("" if _cell(r.get(c)) is None else str(_cell(r.get(c)))) for c in cols] for r in rows]
    for i, c in enumerate(cols):
        # A column of short values (codes, counts, ids) is never squeezed: it keeps its longest
        # value whole, so a long list in another column wraps instead of hiding the codes.
        longest = max((cell_len(row[i]) for row in cells[:200]), default=0)
        wraps = c in wide or longest > _SHORT_CELL
        table.add_column(c, overflow="fold", no_wrap=not wraps,
                         min_width=12 if wraps else max(min(cell_len(c), 14), min(longest, _SHORT_CELL)))
    for row in cells:
        table.add_row(*row)
    import shutil

    width = 200 if to_file else max(shutil.get_terminal_size((160, 40)).columns, 120)
    console = Console(file=io.StringIO(), width=width, force_terminal=False,
                      color_system=None, highlight=False, markup=False)
    needed = sum(col.min_width or 0 for col in table.columns) + 3 * len(cols) + 1
    if rows and max(needed, Measurement.get(console, console.options, table).minimum) > width:
        _print_records(console, cols, cells, title)
    else:
        console.print(table)
    if not rows:
        console.print("(no rows)")
    return console.file.getvalue()  # type: ignore[attr-defined]
