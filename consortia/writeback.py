"""Writing accepted memberships back into the registry's own file, atomically.

The file keeps its form: a CSV keeps every byte it had (its encoding, a BOM,
its line endings and quoting), the new rows appended in the same conventions
and the header's language, and a column the new rows need added at the end of
the header line only. A workbook keeps its other sheets; values are written as
text, never as formulas. A workbook is saved again whole (by openpyxl), which
would drop the results its formulas last computed (what the reader reads) and
every part openpyxl does not model (charts, images, sparklines, form controls,
embedded objects …; :mod:`consortia.xlsx_resave` lists them): such a workbook
is refused, with nothing written, rather than damaged. Notes survive a re-save
and are allowed.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from .csv_style import CsvStyle, line_ending, read_style, split_bom
from .errors import InputError, Problem
from .io import atomic_path, atomic_write_bytes
from .loaders.sources import separator_line
from .registry import Registry
from .schema import ENUMS, TABLES
from .xlsx_resave import refuse_lossy_resave

__all__ = ["append_memberships"]

_COLUMNS = ("consortium_id", "uscc", "role", "segments", "joined_on", "left_on", "exemption")


def _is_chinese(headers: Mapping[str, str]) -> bool:
    return any(not h.isascii() for h in headers.values())


def _text(column: str, value: Any, chinese: bool) -> str:
    if value is None or (not isinstance(value, (str, tuple, list)) and pd.isna(value)):
        return ""
    if column == "role":
        return ENUMS["role"][value][0] if chinese else value
    if isinstance(value, (tuple, list)):
        return ";".join(value)
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    return str(value)


def append_memberships(registry: Registry, rows: Sequence[Mapping[str, Any]]) -> None:
    """Append ``rows`` (canonical membership dicts) to the memberships table's source."""
    info = registry.sources.get("memberships")
    if info is None or info.path is None:
        raise InputError(Problem("memberships", None, None, None, "this registry has no file to write back to"))
    chinese = _is_chinese(info.headers)
    needed = [c for c in _COLUMNS if c not in info.headers and any(_text(c, r.get(c), chinese) for r in rows)]
    names = {c.name: c.aliases[0] if chinese and c.aliases else c.name for c in TABLES["memberships"].columns}
    if info.sheet is None:
        _append_csv(info.path, info.encoding or "utf-8", info.headers, rows, needed, names, chinese)
    else:
        _append_xlsx(info.path, info.sheet, info.headers, rows, needed, names, chinese)


def _append_csv(path, encoding, mapping, rows, needed, names, chinese) -> None:  # type: ignore[no-untyped-def]
    """Append the rows' lines to the file's bytes, which stay as they were (line endings,
    quoting, a BOM and its byte order, a last line without its newline): only new columns,
    if any, are added to the end of the header line (rows above them read them as empty).
    New lines follow the file's conventions (:mod:`consortia.csv_style`)."""
    raw = path.read_bytes()
    bom, codec = split_bom(raw, encoding)
    whole = raw[len(bom):].decode(codec)
    # A file that declares its separator on an Excel "sep=X" first line keeps the line and the separator.
    delim, skip = separator_line(whole)
    prefix, text = whole[:skip], whole[skip:]
    newline = line_ending(text)
    head, ending, body = text.partition(newline)
    headers = next(csv.reader([head], delimiter=delim), [])
    # newline="": a lone CR ends a line here as it does for pandas
    if next(csv.reader(io.StringIO(text, newline=""), delimiter=delim), []) != headers:
        raise InputError(Problem(path.name, 1, None, None,
                                 "a header cell holds a line break; add-member cannot append safely to this file"))
    style = read_style(head, headers, body, delim, newline)
    new_headers = [names[col] for col in needed]
    mapping = {**mapping, **{col: names[col] for col in needed}}
    lines = []
    for r in rows:
        values = [""] * (len(headers) + len(new_headers))
        for col in _COLUMNS:
            if col in mapping and mapping[col] in headers + new_headers:
                values[(headers + new_headers).index(mapping[col])] = _text(col, r.get(col), chinese)
        lines.append(style.line(values) + newline)
    tail = "" if not text or text.endswith(("\n", "\r")) else newline
    if not new_headers:  # the old bytes are left exactly as they were, the new ones appended
        atomic_write_bytes(path, raw + (tail + "".join(lines)).encode(codec))
        return
    header_style = CsvStyle(delim, newline, quote_default=style.header_quoted)
    head = head + (delim if head else "") + header_style.line(new_headers, start=len(headers))
    atomic_write_bytes(path, bom + (prefix + head + ending + body + tail + "".join(lines)).encode(codec))


def _append_xlsx(path, sheet, mapping, rows, needed, names, chinese) -> None:  # type: ignore[no-untyped-def]
    from openpyxl import load_workbook

    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        raise InputError(Problem(path.name, None, None, None,
                                 "add-member writes to CSV folders and .xlsx workbooks; save this workbook as .xlsx"))
    refuse_lossy_resave(path)
    # rich_text: without it openpyxl flattens text with mixed formatting (a bold word in a cell) to plain text.
    wb = load_workbook(path, keep_vba=path.suffix.lower() == ".xlsm", rich_text=True)
    formulas = [f"{w.title}!{c.coordinate}" for w in wb.worksheets for row in w.iter_rows() for c in row
                if c.data_type == "f"][:4]
    if formulas:
        raise InputError(Problem(
            path.name, None, None, None,
            f"add-member would have to save this workbook again, and saving drops the results its formulas "
            f"last computed ({', '.join(formulas)}, …), which are what this tool reads: save a copy with "
            f"values only (Paste Special → Values) or keep the registry as a CSV folder; nothing was written"))
    ws = wb[sheet]
    headers = [str(c.value) if c.value is not None else "" for c in ws[1]]
    for col in needed:
        ws.cell(row=1, column=len(headers) + 1, value=names[col])
        headers.append(names[col])
        mapping = {**mapping, col: names[col]}
    last = ws.max_row
    while last > 1 and all(c.value in (None, "") for c in ws[last]):
        last -= 1
    for i, r in enumerate(rows, start=last + 1):
        for col in _COLUMNS:
            if col in mapping and mapping[col] in headers:
                value = _text(col, r.get(col), chinese)
                if value:
                    cell = ws.cell(row=i, column=headers.index(mapping[col]) + 1)
                    cell.value = value
                    cell.data_type = "s"  # text, never a formula
    with atomic_path(path) as tmp:
        wb.save(tmp)
