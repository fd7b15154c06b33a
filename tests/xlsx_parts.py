"""Workbooks built part by part, as XML text in a zip, for the writeback tests.

A test that asks whether add-member refuses a workbook with sparklines must know
exactly what the workbook holds: binary fixtures saved by Excel hold a hundred
things besides, and a writer library (xlsxwriter) cannot make most of the parts
in question. Each part here is a few explicit lines of SpreadsheetML.
"""

from __future__ import annotations

import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

from consortia.loaders.sources import column_letter

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
X14 = "http://schemas.microsoft.com/office/spreadsheetml/2009/9/main"
XM = "http://schemas.microsoft.com/office/excel/2006/main"
CT = "http://schemas.openxmlformats.org/package/2006/content-types"
OFFICE_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


@dataclass
class Sheet:
    """One worksheet: its rows of text, XML placed after ``sheetData`` (in schema order),
    and the relationships that XML names (``(id, type, target)``, targets relative to xl/worksheets/)."""

    name: str
    rows: Sequence[Sequence[str]]
    tail: str = ""
    rels: list[tuple[str, str, str]] = field(default_factory=list)


def _sheet_xml(sheet: Sheet) -> str:
    rows = []
    for r, values in enumerate(sheet.rows, start=1):
        cells = "".join(f'<c r="{column_letter(c)}{r}" t="inlineStr"><is><t>{escape(v)}</t></is></c>'
                        for c, v in enumerate(values) if v != "")
        rows.append(f'<row r="{r}">{cells}</row>')
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<worksheet xmlns="{MAIN}" xmlns:r="{REL}" xmlns:mc="{MC}" xmlns:x14="{X14}" xmlns:xm="{XM}" '
            f'mc:Ignorable="x14">'
            f'<sheetData>{"".join(rows)}</sheetData>{sheet.tail}</worksheet>')


def _rels_xml(rels: Sequence[tuple[str, str, str]]) -> str:
    body = "".join(f'<Relationship Id="{i}" Type="{t}" Target="{escape(target)}"/>' for i, t, target in rels)
    return f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="{PKG_REL}">{body}</Relationships>'


def write_xlsx(path: Path, sheets: Sequence[Sheet], *, parts: Mapping[str, str | bytes] | None = None,
               overrides: Mapping[str, str] | None = None, defaults: Mapping[str, str] | None = None,
               workbook_rels: Sequence[tuple[str, str, str]] = (), workbook_tail: str = "") -> Path:
    """Write a workbook of ``sheets`` plus any ``parts`` (zip name -> content), with content
    types ``overrides`` (part name -> type) and ``defaults`` (extension -> type)."""
    ct_over = {f"/xl/worksheets/sheet{i}.xml": "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
               for i in range(1, len(sheets) + 1)}
    ct_over["/xl/workbook.xml"] = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
    ct_over.update(overrides or {})
    ct_def = {"rels": "application/vnd.openxmlformats-package.relationships+xml", "xml": "application/xml",
              **(defaults or {})}
    types = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Types xmlns="{CT}">'
             + "".join(f'<Default Extension="{e}" ContentType="{t}"/>' for e, t in ct_def.items())
             + "".join(f'<Override PartName="{p}" ContentType="{t}"/>' for p, t in ct_over.items()) + "</Types>")
    book_sheets = "".join(f'<sheet name="{escape(s.name)}" sheetId="{i}" r:id="rId{i}"/>'
                          for i, s in enumerate(sheets, start=1))
    workbook = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                f'<workbook xmlns="{MAIN}" xmlns:r="{REL}"><sheets>{book_sheets}</sheets>{workbook_tail}</workbook>')
    book_rels = [(f"rId{i}", f"{OFFICE_REL}/worksheet", f"worksheets/sheet{i}.xml") for i in range(1, len(sheets) + 1)]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", types)
        z.writestr("_rels/.rels", _rels_xml([("rId1", f"{OFFICE_REL}/officeDocument", "xl/workbook.xml")]))
        z.writestr("xl/workbook.xml", workbook)
        z.writestr("xl/_rels/workbook.xml.rels", _rels_xml([*book_rels, *workbook_rels]))
        for i, s in enumerate(sheets, start=1):
            z.writestr(f"xl/worksheets/sheet{i}.xml", _sheet_xml(s))
            if s.rels:
                z.writestr(f"xl/worksheets/_rels/sheet{i}.xml.rels", _rels_xml(s.rels))
        for name, content in (parts or {}).items():
            z.writestr(name, content)
    return path
