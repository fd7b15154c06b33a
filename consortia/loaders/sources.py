"""Finding and reading the raw tables of a registry: a CSV folder or a workbook.

Everything is read as text (``dtype=str``) so that codes keep their leading
zeros and nothing is guessed; :mod:`consortia.loaders.values` parses. CSV
encodings are detected without being told: UTF-8 (with or without BOM),
UTF-16 with a BOM, else GB18030 (a superset of GBK, what Excel on a Chinese
Windows writes).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Collection
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .. import progress
from ..errors import InputError, Problem
from ..schema import TABLES, Table
from .excel_cells import Unreadable, unreadable_cells
from .text import norm_header
from .values import no_space

__all__ = ["EXCEL_SUFFIXES", "RawTable", "column_letter", "decode", "read_sources", "separator_line"]

EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods")


@dataclass
class RawTable:
    """A table as read: text cells, original headers, and where it came from.

    ``rows`` holds the row number the user sees for each data row (header = 1).
    ``headers`` holds the header row as written, one per column of ``frame``: the frame's
    own column names are unique, so a repeated header is renamed there (``revenue.1``, as
    pandas renames it in a CSV), and only ``headers`` tells it from a genuine ``revenue.1``.
    """

    name: str
    source: str
    frame: pd.DataFrame
    rows: pd.Series
    encoding: str | None = None
    path: Path | None = None
    sheet: str | None = None
    extra: dict[str, object] = field(default_factory=dict)
    headers: list[str] = field(default_factory=list)
    #: Problems with single cells found while reading (Excel errors), and the rows of each
    #: frame column they are on: those cells read as empty and are not judged again.
    cell_problems: list[Problem] = field(default_factory=list)
    unreadable_rows: dict[str, np.ndarray] = field(default_factory=dict)


def column_letter(index: int) -> str:
    """The spreadsheet letter of a 0-based column index: 0 -> A, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, r = divmod(index - 1, 26)
        letters = chr(65 + r) + letters
    return letters


def decode(data: bytes, source: str) -> tuple[str, str]:
    """Decode file bytes, returning the text and the encoding that worked."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            pass
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError as exc:
        raise InputError(
            Problem(source, None, None, None,
                    f"cannot decode the file: it is neither UTF-8 nor GB18030/GBK (bad byte at offset {exc.start})")
        ) from None


def _table_for(stem: str) -> Table | None:
    key, _ = norm_header(stem)
    for table in TABLES.values():
        if key in {norm_header(n)[0] for n in (table.name, *table.aliases)}:
            return table
    return None


#: The C parser's two common complaints. It counts records, as the rows of a data row are counted
#: here (a quoted line break stays in its row): "line N" from 1 with the header, "row N" from 0.
_RAGGED = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")
_OPEN_QUOTE = re.compile(r"EOF inside string starting at row (\d+)")


def _parser_problem(source: str, message: str, sep: str = ",") -> Problem:
    """The problem for a CSV the C parser rejected, on the row where the editor shows it.

    pandas' own message is worded for programmers, counts from 0 in one case and ends in a
    line break in another, so the known cases are reworded and any other is put on one line."""
    if m := _RAGGED.search(message):
        return Problem(source, int(m.group(2)), None, None,
                       f"malformed CSV row: {m.group(3)} fields where the header row has {m.group(1)}; "
                       f"check quoting and the number of {_separators(sep)}")
    if m := _OPEN_QUOTE.search(message):
        return Problem(source, int(m.group(1)) + 1, None, None,
                       "malformed CSV row: a quote (\") opened in this row is never closed, so the rest of the file "
                       "would be one cell; check the quoting")
    m = re.search(r"line (\d+)", message)
    return Problem(source, int(m.group(1)) if m else None, None, None,
                   f"malformed CSV row ({' '.join(message.split())}); check quoting and the number of "
                   f"{_separators(sep)}")


#: Excel's "sep=X" first line, which declares the separator of the lines below it.
_SEP_LINE = re.compile(r'sep=([^\r\n"])[ ]*(?:\r\n|\n|\r|$)')


def separator_line(head: str) -> tuple[str, int]:
    """The separator a CSV declares on an Excel ``sep=X`` first line (``,`` when it declares
    none), and how many characters that line takes (0 when there is none).

    Excel reads the line and does not show it (the header is row 1 there, and row numbers
    here count as Excel does); the line is ASCII, so the count is also its length in bytes
    in UTF-8 and GB18030."""
    m = _SEP_LINE.match(head)
    return (m.group(1), m.end()) if m else (",", 0)


def _separators(sep: str) -> str:
    """How a message names a file's separators."""
    return "commas" if sep == "," else "tabs" if sep == "\t" else f"'{sep}' separators"


def _read_csv(path: Path, table: Table) -> RawTable:
    source = path.name
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(Problem(source, None, None, None, f"cannot read the file: {exc.strerror}")) from None
    frame = None
    if len(data) > _SMALL and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        # A large file that is not UTF-16: its bytes go to the C parser as they are, which
        # checks the UTF-8 as it reads (decoding first would cost a tenth of the load).
        # Only when that fails is the text decoded and the encoding found as below.
        if b"\x00" in data:
            raise InputError(Problem(source, None, None, None, "the file contains NUL bytes: it is not a CSV text file"))
        encoding = "utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "utf-8"
        body = data[3:] if encoding == "utf-8-sig" else data
        sep, skip = separator_line(body[:16].decode("latin-1"))
        try:
            frame = _parse_csv(source, io.BytesIO(body[skip:]), sep)
        except UnicodeDecodeError:
            frame = None
    if frame is None:
        text, encoding = decode(data, source)
        if "\x00" in text:
            raise InputError(Problem(source, None, None, None, "the file contains NUL bytes: it is not a CSV text file"))
        sep, skip = separator_line(text)
        if not text[skip:] or text[skip:].isspace():
            raise InputError(Problem(source, 1, None, None, "the file is empty: a header row is required"))
        # UTF-8 bytes go to the C parser as they are (it would re-encode decoded text).
        body = data[3:] if encoding == "utf-8-sig" else data
        buffer: io.IOBase = (io.BytesIO(body[skip:]) if encoding in ("utf-8", "utf-8-sig")
                             else io.StringIO(text[skip:]))
        frame = _parse_csv(source, buffer, sep)
    else:
        text = body[: skip + _SMALL].decode(encoding.removesuffix("-sig"), errors="ignore")
    raw = RawTable(table.name, source, frame, pd.Series(dtype=int), encoding, path)
    raw.headers = _header_row(text[skip: skip + _SMALL], len(frame.columns), sep)
    raw.extra["sep"] = sep
    return _finish(raw)


def _header_row(head: str, width: int, sep: str = ",") -> list[str]:
    """The first row of a CSV's text as written, when it has the ``width`` fields pandas read
    (else nothing: :func:`_finish` then falls back to the frame's names).

    pandas renames a repeated header (``revenue``, ``revenue.1``) and names an empty one
    ``Unnamed: 3``; the real row tells a repeated header from a genuine ``revenue.1``."""
    try:
        # newline="" as the csv module asks: a lone \r ends a line, as it does for pandas.
        row = next(csv.reader(io.StringIO(head.removeprefix("\ufeff"), newline=""), delimiter=sep), [])
    except csv.Error:  # what pandas read is then no plain text row: keep its names
        return []
    return row if len(row) == width else []


#: Files up to this many bytes are decoded before parsing (every check below is exact on text).
_SMALL = 1 << 16


def _parse_csv(source: str, buffer: io.IOBase, sep: str = ",") -> pd.DataFrame:
    """The cells of a CSV as text; a UnicodeDecodeError is left to the caller."""
    try:
        frame = pd.read_csv(
            buffer, sep=sep, dtype=str, keep_default_na=False, na_filter=False, encoding="utf-8",
            skip_blank_lines=False, header=0, engine="c",
        )
    except pd.errors.ParserError as exc:
        raise InputError(_parser_problem(source, str(exc), sep)) from None
    except UnicodeDecodeError:
        raise  # a ValueError too, but not bad input yet: the caller decodes the text and tries again
    except (pd.errors.EmptyDataError, csv.Error, ValueError) as exc:
        raise InputError(Problem(source, None, None, None, f"not a readable CSV file: {exc}")) from None
    if not isinstance(frame.index, pd.RangeIndex):
        # pandas silently takes the first column as the index (shifting every
        # header one column) when each data row has one field more than the header.
        raise InputError(Problem(source, 2, None, None,
                                 f"every data row has one field more than the header row (a trailing "
                                 f"{'comma' if sep == ',' else repr(sep)}?); check the number of {_separators(sep)}"))
    return frame


def _finish(raw: RawTable) -> RawTable:
    """Drop wholly empty rows but keep the row numbers of the rest.

    A row is kept as soon as one of its cells holds more than spaces; cells are
    looked at column by column, and only for the rows not yet known to be kept
    (nearly every row is decided by its first cell).
    """
    frame = raw.frame
    frame.columns = [str(c) for c in frame.columns]
    if len(raw.headers) != len(frame.columns):
        raw.headers = list(frame.columns)
    if not all(isinstance(dtype, pd.StringDtype) for dtype in frame.dtypes):  # cells read as text have no NaN
        frame = frame.fillna("").astype(str)
    n = len(frame)
    rows = pd.Series(range(2, n + 2), index=frame.index)
    if len(frame.columns) and n:
        undecided = np.arange(n)
        for col in frame.columns:
            cells = frame[col].to_numpy(dtype=object)[undecided]
            if no_space(cells):
                filled = cells != ""
            else:
                filled = np.fromiter((v != "" and not v.isspace() for v in cells), dtype=bool, count=len(cells))
            undecided = undecided[~filled]
            if not len(undecided):
                break
        if len(undecided):
            nonblank = np.ones(n, dtype=bool)
            nonblank[undecided] = False
            frame = frame[nonblank].reset_index(drop=True)
            rows = rows[nonblank].reset_index(drop=True)
    raw.frame, raw.rows = frame, rows
    return raw


def _read_folder(path: Path, tables: Collection[str] | None = None) -> dict[str, RawTable]:
    found: dict[str, RawTable] = {}
    problems: list[Problem] = []
    files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in (".csv", ".txt"))
    for p in files:
        table = _table_for(p.stem)
        if table is None or (tables is not None and table.name not in tables):
            continue
        if table.name in found:
            problems.append(Problem(p.name, None, None, None,
                                    f"a second file for table '{table.name}' (already read {found[table.name].source})"))
            continue
        progress.step(f"reading {p.name} ({p.stat().st_size / 1e6:,.1f} MB)")
        try:
            found[table.name] = _read_csv(p, table)
        except InputError as exc:
            problems.extend(exc.problems)
    if problems:
        raise InputError(problems)
    return found


def _read_workbook(path: Path, tables: Collection[str] | None = None) -> dict[str, RawTable]:
    engine = "calamine"
    progress.step(f"reading {path.name}")
    # The scan for error cells (which calamine reads as empty) runs beside calamine: it is mostly
    # inflating the sheets again, which releases the GIL, as calamine's parsing does, so it costs
    # next to nothing in wall time (alone, a tenth of reading an M-sized workbook).
    with ThreadPoolExecutor(max_workers=1) as pool:
        try:
            with pd.ExcelFile(path, engine=engine) as book:
                names = [n for n in book.sheet_names
                         if tables is None or ((t := _table_for(str(n))) is not None and t.name in tables)]
                scan = pool.submit(unreadable_cells, path, [str(n) for n in names])
                sheets = pd.read_excel(book, sheet_name=names, dtype=str, header=None,
                                       keep_default_na=False, na_filter=False)
        except Exception as exc:  # noqa: BLE001 - any reader failure is bad input here
            raise InputError(Problem(path.name, None, None, None, f"cannot read the workbook: {exc}")) from None
        unreadable = scan.result()
    found: dict[str, RawTable] = {}
    problems: list[Problem] = []
    for sheet, grid in sheets.items():
        table = _table_for(str(sheet))
        if table is None:
            continue
        source = f"{path.name}[{sheet}]"
        if table.name in found:
            problems.append(Problem(source, None, None, None,
                                    f"a second sheet for table '{table.name}' (already read {found[table.name].source})"))
            continue
        grid = grid.fillna("").astype(str)
        if grid.empty:
            problems.append(Problem(source, 1, None, None, "the sheet is empty: a header row is required"))
            continue
        written = [str(h) for h in grid.iloc[0]]
        # Repeated headers get .1, .2 … as pandas gives them in a CSV, skipping any name the
        # row itself holds (so a genuine "x.1" keeps its name).
        header: list[str] = []
        taken = set(written)
        for i, h in enumerate(written):
            h = h if h != "" else f"Unnamed: {i}"
            if h in header:
                base, n = h, 1
                while f"{base}.{n}" in header or f"{base}.{n}" in taken:
                    n += 1
                h = f"{base}.{n}"
            header.append(h)
        frame = grid.iloc[1:].reset_index(drop=True)
        frame.columns = header
        raw = RawTable(table.name, source, frame, pd.Series(dtype=int), None, path, str(sheet), headers=written)
        _note_unreadable(raw, unreadable.get(str(sheet), []))
        found[table.name] = _finish(raw)
    if problems:
        raise InputError(problems)
    return found


_NO_RESULT = ("a formula with no saved result: the workbook was saved by a program that does not calculate; "
              "open and save it in Excel or WPS, or paste the values")


def _note_unreadable(raw: RawTable, cells: list[Unreadable]) -> None:
    """A problem for each error cell and unsaved formula of a sheet (calamine reads them as
    empty): in the header row, or in a column that is read (one with a header)."""
    rows: dict[str, list[int]] = {}
    for c in cells:
        header = raw.headers[c.column] if c.column < len(raw.headers) else ""
        if c.row > 1 and header == "":
            continue  # a column without a header is not read
        name = header if c.row > 1 else column_letter(c.column)
        raw.cell_problems.append(Problem(raw.source, c.row, name, c.value or None,
                                         "an Excel error, not a value" if c.error else _NO_RESULT))
        if c.row > 1:
            rows.setdefault(str(raw.frame.columns[c.column]), []).append(c.row)
    raw.unreadable_rows = {col: np.array(r, dtype=np.int64) for col, r in rows.items()}


def read_sources(path: str | Path, tables: Collection[str] | None = None) -> dict[str, RawTable]:
    """Read every table a registry holds (or only ``tables``), keyed by canonical table name."""
    p = Path(path)
    if not p.exists():
        raise InputError(Problem(str(p), None, None, None, "no such file or folder"))
    if p.is_dir():
        return _read_folder(p, tables)
    if p.suffix.lower() in EXCEL_SUFFIXES:
        return _read_workbook(p, tables)
    raise InputError(Problem(
        str(p), None, None, None,
        "a registry is a folder of CSV files (units.csv, consortia.csv, memberships.csv …) "
        "or one Excel workbook with a sheet per table",
    ))
