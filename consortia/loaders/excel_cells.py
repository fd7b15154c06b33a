"""The cells of an .xlsx workbook that hold no value the reader can give: errors and
formulas without a saved result.

python-calamine, which reads the workbooks, gives an error cell (``#REF!``, ``#N/A``,
``#DIV/0!`` …) and a formula whose result was never saved (a workbook written by a
program that does not calculate) as an empty cell, exactly like a blank one, so a
broken lookup would load as "no value" without a word (python-calamine issue #105).
The worksheet XML does tell them apart: an error cell has ``t="e"`` and a formula has
an ``<f>`` child. This module scans the XML for those two markers only, at C speed
over the decompressed bytes, and parses just the few cells around each hit: a sheet of
plain values costs one decompression and a byte search, not a second parse.

Only the Office Open XML formats (.xlsx, .xlsm) can be scanned; .xls, .xlsb and .ods
keep calamine's reading.
"""

from __future__ import annotations

import html
import posixpath
import re
import zipfile
import zlib
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

__all__ = ["OOXML_SUFFIXES", "Unreadable", "unreadable_cells"]

OOXML_SUFFIXES = (".xlsx", ".xlsm")

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"

#: An error cell's type attribute, and the start of a formula (``<f>``, ``<f t="shared" …/>``,
#: ``<x:f>`` with a namespace prefix). Neither can occur in cell text (quotes and ``<`` are
#: escaped there); each hit is checked by :data:`_MARK_AT`. Found with ``bytes.find``, which
#: runs at memory speed: a regular expression without a literal start is ten times slower.
_NEEDLES = (b't="e"', b"t='e'", b"<f", b":f")
_MARK_AT = re.compile(rb'\st=["\']e["\']|<(?:[A-Za-z_][\w.-]*:)?f[\s/>]')
#: One cell element from its start tag (attributes, then content or ``/>``).
_CELL = re.compile(rb'<(?:[A-Za-z_][\w.-]*:)?c\b([^>]*?)(?:/>|>(.*?)</(?:[A-Za-z_][\w.-]*:)?c>)', re.S)
_REF = re.compile(rb'\sr=["\']([A-Z]{1,3})([0-9]+)["\']')
_TYPE = re.compile(rb'\st=["\']([A-Za-z]+)["\']')
_VALUE = re.compile(rb'<(?:[A-Za-z_][\w.-]*:)?v(?:\s[^>]*)?>(.*?)</(?:[A-Za-z_][\w.-]*:)?v>', re.S)
_FORMULA = re.compile(rb'<(?:[A-Za-z_][\w.-]*:)?f(?:\s[^>]*)?>(.*?)</(?:[A-Za-z_][\w.-]*:)?f>', re.S)
#: Formula results that are text: an empty saved value is then the empty string, a real result.
_TEXT_TYPES = (b"str", b"s", b"inlineStr")
_BLOCK = 1 << 22


@dataclass(frozen=True)
class Unreadable:
    """One cell holding no readable value: ``row`` as Excel numbers it, ``column`` from 0.

    ``value`` is the error (``#REF!``) or the formula (``=VLOOKUP(…)``, empty for a shared
    formula's dependents, whose text is on the first cell), ``error`` tells which."""

    row: int
    column: int
    value: str
    error: bool


def _column_index(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n - 1


def _rels(book: zipfile.ZipFile, part: str) -> dict[str, tuple[str, str]]:
    """A part's relationships: id -> (type, the zip member it targets)."""
    folder, name = posixpath.split(part)
    root = ElementTree.fromstring(book.read(posixpath.join(folder, "_rels", f"{name}.rels")))
    out: dict[str, tuple[str, str]] = {}
    for r in root.iter(f"{_PKG_REL}Relationship"):
        target = r.get("Target", "")
        member = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
        out[r.get("Id", "")] = (r.get("Type", ""), member)
    return out


def _sheet_parts(book: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> the zip member holding its XML, from the workbook and its relationships."""
    workbook = next((m for t, m in _rels(book, "").values() if t.endswith("/officeDocument")), "xl/workbook.xml")
    targets = _rels(book, workbook)
    root = ElementTree.fromstring(book.read(workbook))
    return {sheet.get("name", ""): targets[rid][1] for sheet in root.iter(f"{_MAIN}sheet")
            if (rid := sheet.get(f"{_REL}id", "")) in targets}


def _blocks(stream: zipfile.ZipExtFile) -> Iterator[bytes]:
    """The XML in blocks that end after a row (no cell is cut in two)."""
    rest = b""
    while block := stream.read(_BLOCK):
        buf = rest + block
        cut = buf.rfind(b"row>")
        if cut < 0:
            rest = buf
            continue
        yield buf[: cut + 4]
        rest = buf[cut + 4:]
    if rest:
        yield rest


def _marks(buf: bytes) -> list[int]:
    """Where :data:`_MARK_AT` matches in ``buf`` (the whitespace before ``t=``, the ``<`` of
    ``<f``), in order."""
    found: set[int] = set()
    for needle in _NEEDLES:
        back = 1 if needle[0:1] in (b"t", b":") else 0
        i = buf.find(needle)
        while i >= 0:
            at = i - back
            if needle == b":f":
                at = buf.rfind(b"<", 0, i)  # the "<" of a prefixed tag, if this is one
            if at >= 0 and _MARK_AT.match(buf, at):
                found.add(at)
            i = buf.find(needle, i + 1)
    return sorted(found)


def _scan(stream: zipfile.ZipExtFile) -> list[Unreadable]:
    found: list[Unreadable] = []
    for buf in _blocks(stream):
        end = 0
        for mark in _marks(buf):
            if mark < end:
                continue  # the second marker of a cell already read (an error from a formula)
            # An error marker is in the cell's start tag and a formula is the cell's first child,
            # so the cell starts at the last "<" before the marker's own tag.
            start = buf.rfind(b"<", 0, mark)
            cell = _CELL.match(buf, start)
            ref = _REF.search(cell.group(1)) if cell else None
            if cell is None or ref is None:
                continue  # not inside a cell element, or a cell without its address: not located
            end = cell.end()
            attrs, content = cell.group(1), cell.group(2) or b""
            typ = _TYPE.search(attrs)
            kind = typ.group(1) if typ else b"n"
            value = _VALUE.search(content)
            row, column = int(ref.group(2)), _column_index(ref.group(1))
            if kind == b"e":
                text = html.unescape(value.group(1).decode("utf-8", "replace")).strip() if value else ""
                found.append(Unreadable(row, column, text or "#ERROR", True))
            elif (value is None or not value.group(1).strip()) and kind not in _TEXT_TYPES:
                formula = _FORMULA.search(content)
                text = html.unescape(formula.group(1).decode("utf-8", "replace")).strip() if formula else ""
                found.append(Unreadable(row, column, f"={text}" if text else "", False))
    return found


def unreadable_cells(path: Path, sheets: Collection[str]) -> dict[str, list[Unreadable]]:
    """The error cells and unsaved formulas of each named sheet of an .xlsx/.xlsm workbook.

    Sheets without any are left out; a workbook whose parts cannot be found (not OOXML,
    or laid out in a way this does not know) gives nothing rather than failing: calamine
    has already read it, and this only adds what calamine hides."""
    if path.suffix.lower() not in OOXML_SUFFIXES:
        return {}
    out: dict[str, list[Unreadable]] = {}
    try:
        with zipfile.ZipFile(path) as book:
            parts = _sheet_parts(book)
            for name in sheets:
                member = parts.get(name)
                if member is None:
                    continue
                with book.open(member) as stream:
                    if cells := _scan(stream):
                        out[name] = cells
    except (KeyError, OSError, EOFError, ValueError, zlib.error, zipfile.BadZipFile, ElementTree.ParseError):
        return out
    return out
