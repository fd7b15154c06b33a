"""Writing accepted memberships back into the registry's own file, atomically.

The file keeps its form: a CSV keeps its encoding (a GB18030 file stays
GB18030, a BOM stays), its headers and its rows untouched, with the new rows
appended in the header's language; a workbook keeps its other sheets. Values
are written as text, never as formulas.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from .errors import InputError, Problem
from .io import atomic_path, atomic_write_bytes
from .loaders.sources import separator_line
from .registry import Registry
from .schema import ENUMS, TABLES

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


def _layout(headers: list[str], mapping: dict[str, str], chinese: bool) -> tuple[list[str], dict[str, int]]:
    """The header row after adding any column the new rows need, and where each goes."""
    headers = list(headers)
    where: dict[str, int] = {}
    for col in _COLUMNS:
        if col in mapping and mapping[col] in headers:
            where[col] = headers.index(mapping[col])
    return headers, where


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
    raw = path.read_bytes()
    codec = "utf-8" if encoding == "utf-8-sig" else encoding
    text = raw[3:].decode(codec) if encoding == "utf-8-sig" else raw.decode(codec)
    # A file that declares its separator on an Excel "sep=X" first line keeps the line and the separator.
    sep, skip = separator_line(text)
    records = list(csv.reader(io.StringIO(text[skip:]), delimiter=sep))
    headers = records[0] if records else []
    for col in needed:
        headers.append(names[col])
        mapping = {**mapping, col: names[col]}
    out = io.StringIO()
    out.write(text[:skip])
    writer = csv.writer(out, delimiter=sep, lineterminator="\n")
    writer.writerow(headers)
    for rec in records[1:]:
        writer.writerow(rec + [""] * (len(headers) - len(rec)) if rec else rec)
    for r in rows:
        line = [""] * len(headers)
        for col in _COLUMNS:
            if col in mapping and mapping[col] in headers:
                line[headers.index(mapping[col])] = _text(col, r.get(col), chinese)
        writer.writerow(line)
    data = out.getvalue().encode(codec)
    if encoding == "utf-8-sig":
        data = b"\xef\xbb\xbf" + data
    atomic_write_bytes(path, data)


def _append_xlsx(path, sheet, mapping, rows, needed, names, chinese) -> None:  # type: ignore[no-untyped-def]
    from openpyxl import load_workbook

    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        raise InputError(Problem(path.name, None, None, None,
                                 "add-member writes to CSV folders and .xlsx workbooks; save this workbook as .xlsx"))
    wb = load_workbook(path)
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
