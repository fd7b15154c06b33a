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

import pandas as pd

from . import progress
from .io import atomic_path, atomic_write_bytes
from .registry import gc_paused

__all__ = ["FORMATS", "emit", "neutralise", "to_jsonable"]

FORMATS = ("table", "json", "csv", "xlsx")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """Prefix an apostrophe to text a spreadsheet would treat as a formula."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def to_jsonable(value: Any) -> Any:
    """Plain JSON values: dates as ISO text, NaN/NaT as null, tuples as lists."""
    t = type(value)  # the plain types first: a report holds millions of values
    if t is str or t is int or t is bool or value is None:
        return value
    if t is float:
        return None if math.isnan(value) else value
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
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item"):  # numpy scalars
        return to_jsonable(value.item())
    return value


#: Pieces of JSON text joined per write when streaming to a file.
_CHUNK = 1 << 16
_STR = json.encoder.encode_basestring  # the C version when available, as json.dumps(ensure_ascii=False) uses


def _float_text(value: float) -> str:
    if value != value:
        return "null"  # NaN is missing, as to_jsonable says
    if value in (math.inf, -math.inf):
        return "Infinity" if value > 0 else "-Infinity"
    return float.__repr__(value)


def _json_text(rows: Sequence[Mapping[str, Any]]) -> str:
    """``json.dumps([to_jsonable(dict(r)) for r in rows], ensure_ascii=False, indent=2)``,
    byte for byte, without its pure-Python indenting encoder (the C encoder does not
    indent): a hundred thousand findings are written in a fraction of the time.
    Values that are not plain JSON types go through :func:`to_jsonable` first."""
    return "".join(_json_parts(rows))


def _json_parts(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """The pieces of :func:`_json_text`, in order, to be joined or written in chunks."""
    parts: list[str] = []
    add = parts.append
    enc = _STR

    def scalar(x: Any) -> str | None:
        """The text of a plain scalar; None for anything else (written by ``write``)."""
        t = type(x)
        if t is str:
            return enc(x)
        if x is None:
            return "null"
        if x is True:
            return "true"
        if x is False:
            return "false"
        if t is int:
            return int.__repr__(x)
        if t is float:
            return _float_text(x)
        return None

    def write(v: Any, pad: str) -> None:
        t = type(v)
        if t is str:
            add(enc(v))
        elif v is None:
            add("null")
        elif v is True:
            add("true")
        elif v is False:
            add("false")
        elif t is int:
            add(int.__repr__(v))
        elif t is float:
            add(_float_text(v))
        elif t is dict:
            if not v:
                add("{}")
                return
            inner = pad + "  "
            sep = "{" + inner
            for k, x in v.items():
                text = scalar(x)
                if text is not None:
                    add(sep + enc(k if type(k) is str else str(k)) + ": " + text)
                else:
                    add(sep + enc(k if type(k) is str else str(k)) + ": ")
                    write(x, inner)
                sep = "," + inner
            add(pad + "}")
        elif t is list or t is tuple:
            if not v:
                add("[]")
                return
            inner = pad + "  "
            if all(type(x) is str for x in v):  # lists of ids: joined at C speed
                add("[" + inner + ("," + inner).join(map(enc, v)) + pad + "]")
                return
            sep = "[" + inner
            for x in v:
                text = scalar(x)
                if text is not None:
                    add(sep + text)
                else:
                    add(sep)
                    write(x, inner)
                sep = "," + inner
            add(pad + "]")
        else:
            plain = to_jsonable(v)
            if type(plain) in (str, int, float, dict, list, bool) or plain is None:
                write(plain, pad)
            else:  # a str/int/float subclass, kept by to_jsonable: encoded as json encodes it
                add(json.dumps(plain, ensure_ascii=False, indent=2).replace("\n", pad))

    write([r if type(r) is dict else dict(r) for r in rows], "\n")
    return parts


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
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            frame.map(neutralise).to_excel(writer, sheet_name=name[:31], index=False)
            ws = writer.sheets[name[:31]]
            for col in ws.columns:
                width = max((len(str(c.value)) if c.value is not None else 0) for c in col[:200])
                ws.column_dimensions[col[0].column_letter].width = min(max(10, width * 1.6), 80)
            ws.freeze_panes = "A2"
    return buf.getvalue()


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
            with gc_paused():
                parts = _json_parts(rows)
            parts.append("\n")
            if out is not None and str(out) != "-":
                # Written in chunks: a national report is a quarter of a gigabyte of text.
                with atomic_path(out) as tmp, open(tmp, "w", encoding="utf-8") as fh:
                    for i in range(0, len(parts), _CHUNK):
                        fh.write("".join(parts[i:i + _CHUNK]))
                return
            text = "".join(parts)
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


#: Values up to this long are kept on one line in a terminal table; longer columns wrap.
_SHORT_CELL = 24


def _table_text(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None, title: str | None,
                *, to_file: bool) -> str:
    from rich.console import Console
    from rich.table import Table

    cols = list(columns) if columns else (list(rows[0].keys()) if rows else [])
    table = Table(title=title, show_lines=False, expand=False)
    wide = {"message", "citation", "name", "details", "原文", "note"}
    cells = [[("" if _cell(r.get(c)) is None else str(_cell(r.get(c)))) for c in cols] for r in rows]
    for i, c in enumerate(cols):
        # A column of short values (codes, counts, ids) is never squeezed: it keeps its longest
        # value whole, so a long list in another column wraps instead of hiding the codes.
        longest = max((len(row[i]) for row in cells[:200]), default=0)
        wraps = c in wide or longest > _SHORT_CELL
        table.add_column(c, overflow="fold", no_wrap=not wraps,
                         min_width=12 if wraps else max(min(len(c), 14), min(longest, _SHORT_CELL)))
    for row in cells:
        table.add_row(*row)
    import shutil

    width = 200 if to_file else max(shutil.get_terminal_size((160, 40)).columns, 120)
    console = Console(file=io.StringIO(), width=width, force_terminal=False,
                      color_system=None, highlight=False, markup=False)
    console.print(table)
    if not rows:
        console.print("(no rows)")
    return console.file.getvalue()  # type: ignore[attr-defined]
