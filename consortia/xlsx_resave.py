"""What saving a workbook again with openpyxl would lose, found before anything is written.

``add-member`` appends to a workbook by loading it with openpyxl and saving it
whole. openpyxl writes back only what it models: any other part of the zip, and
any element of a sheet it does not parse, is silently missing from the saved
file. An officer's registry is often the only copy, so a workbook that would
lose something is refused, with nothing written, and every loss is named (sheet,
part, what it is).

Each entry below was found by building a workbook that holds it, saving it with
openpyxl 3.1 and comparing the zip parts and the sheet XML before and after;
``tests/test_writeback_xlsx.py`` repeats that comparison for every case it
refuses, so a refusal that openpyxl no longer needs shows up as a failing test.

What openpyxl keeps, and is therefore allowed: cell values, styles, themes,
legacy notes (comments) with their authors, tables, hyperlinks, plain
conditional formats and data validations, merged cells, defined names,
external links, document properties, page setup, sheet protection, and in a
.xlsm its VBA project. Let through although lost, because nothing a user made
goes with them: the calculation chain (Excel rebuilds it), a printer driver's
private settings (the page setup itself is kept), the thumbnail preview, the
list of people who wrote threaded comments (the comments themselves are
refused), and the sheet's remembered sort, hidden error triangles and phonetic
display settings.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError, Problem

__all__ = ["lossy_resave_problems", "refuse_lossy_resave"]

#: Parts openpyxl does not read, by where they live, and what a user would call them.
_LOST_PARTS: tuple[tuple[str, str], ...] = (
    ("xl/drawings/", "drawings (images, shapes, text boxes)"),
    ("xl/charts/", "charts"),
    ("xl/chartsheets/", "chart sheets"),
    ("xl/media/", "images"),
    ("xl/pivotTables/", "pivot tables"),
    ("xl/pivotCache/", "pivot tables"),
    ("xl/slicers/", "slicers"),
    ("xl/slicerCaches/", "slicers"),
    ("xl/timelines/", "timelines"),
    ("xl/timelineCaches/", "timelines"),
    ("xl/ctrlProps/", "form controls"),
    ("xl/activeX/", "ActiveX controls"),
    ("xl/embeddings/", "embedded objects (OLE)"),
    ("xl/threadedComments/", "threaded comments (openpyxl keeps only each thread's text as a note, not its replies "
                             "and authors)"),
    ("xl/queryTables/", "query tables (ranges linked to a data source)"),
    ("xl/connections.xml", "data connections"),
    ("xl/model/", "a data model (Power Pivot)"),
    ("xl/richData/", "pictures in cells or linked data types"),
    ("xl/macrosheets/", "Excel 4 macro sheets"),
    ("xl/dialogsheets/", "dialog sheets"),
    ("xl/webextensions/", "Office add-ins"),
    ("customXml/", "custom XML data (properties kept by SharePoint or a document system)"),
    ("xl/vba", "macros (VBA)"),
    ("customUI/", "a custom ribbon"),
)

#: Parts lost on saving that carry nothing a user made (see the module docstring).
_TOLERATED = re.compile(r"xl/calcChain\.xml|xl/printerSettings/|docProps/thumbnail\.|xl/persons/")

#: What openpyxl copies back into a .xlsm it loaded with keep_vba (its writer's own list).
_KEPT_IN_XLSM = re.compile(r"xl/vba|xl/drawings/.*vmlDrawing\d\.vml|xl/ctrlProps|customUI|xl/activeX|xl/media/.*\.emf")

#: Sheet elements after ``sheetData`` that openpyxl does not parse, by local name.
_LOST_ELEMENTS = {
    "controls": "form controls or ActiveX controls",
    "oleObjects": "embedded objects (OLE)",
    "protectedRanges": "ranges that may be edited in the protected sheet (Allow Edit Ranges)",
    "customSheetViews": "custom views",
    "webPublishItems": "web publishing settings",
    "smartTags": "smart tags",
    "cellWatches": "Watch Window entries",
}

#: Extensions (``<ext uri=…>`` in an ``extLst``) by URI, as Excel and openpyxl name them; openpyxl
#: drops every extension of a sheet, and of the workbook.
_EXTENSIONS = {
    "{05C60535-1F16-4FD2-B633-F4F36F0B64E0}": "sparklines",
    "{78C0D931-6437-407D-A8EE-F0AAD7539E65}": "conditional formats of Excel 2010 and later (data bars, icon sets)",
    "{B025F937-C7B1-47D3-B67F-A62EFF666E3E}": "conditional formats of Excel 2010 and later (data bars, icon sets)",
    "{CCE6A557-97BC-4B89-ADB6-D9C93CAAB3DF}": "data validations that refer to other sheets",
    "{A8765BA9-456A-4DAB-B4F3-ACF838C121DE}": "slicers",
    "{3A4CF648-6AED-40F4-86FF-DC5316D8AED3}": "slicers",
    "{BBE1A952-AA13-448E-AADC-164F8A28A991}": "slicers",
    "{46BE6895-7355-4A93-B00E-2C351335B9C9}": "slicers",
    "{7E03D99C-DC04-49D9-9315-930204A7B6E9}": "timelines",
    "{D0CA8CA8-9F24-4464-BF8E-62219DCF47F9}": "timelines",
    "{FC87AEB1-A5BB-4E4A-B7F7-C4F1F2FD3FAE}": "protected ranges",
    "{01252117-D84E-4E92-8308-4BE1C098FCBB}": "ignored-error flags",
    "{F7C9EE02-42E1-4005-9D12-6889AFFD525C}": "Office add-ins",
    "{FCE2AD5D-F65C-4FA6-A056-5C36A1767C68}": "a data model (Power Pivot)",
    "{876F7934-8845-4945-9796-88D515C7AA90}": "pivot tables",
}
#: Workbook extensions Excel writes into nearly every file, describing only the program that saved it
#: (chart tracking, calculation features): Excel writes them again on its next save.
_HARMLESS_BOOK_EXTENSIONS = frozenset({
    "{140A7094-0E35-4892-8432-C4D2E57EDEB5}", "{B58B0392-4F1F-4190-BB64-5DF3571DCE5F}",
    "{79F54976-1DA5-4618-B147-4CDE4B953A38}",
})

_REL = re.compile(rb"<(?:\w+:)?Relationship\b([^>]*)>")
_ATTR = re.compile(rb'(\w+)="([^"]*)"')
_SHEET = re.compile(rb"<(?:\w+:)?sheet\b([^>]*)>")
_ELEMENT = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)[\s/>]")
_EXT_URI = re.compile(rb'<(?:\w+:)?ext\b[^>]*\buri="([^"]+)"')
_SHEET_DATA_END = re.compile(rb"</(?:\w+:)?sheetData\s*>|<(?:\w+:)?sheetData\b[^>]*/>")
_VML_OBJECT = re.compile(rb'ObjectType="(\w+)"')
#: How much of a sheet's XML is inflated at a time while looking for the end of its cells.
_CHUNK = 1 << 20


@dataclass(frozen=True)
class _Loss:
    sheet: str | None
    part: str
    what: str


def _attrs(raw: bytes) -> dict[str, str]:
    return {k.decode(): v.decode("utf-8", "replace") for k, v in _ATTR.findall(raw)}


def _relations(z: zipfile.ZipFile, names: set[str], part: str) -> list[tuple[str, str]]:
    """The (type, target part) of each internal relationship of ``part``."""
    folder, base = posixpath.split(part)
    rels = posixpath.join(folder, "_rels", base + ".rels")
    if rels not in names:
        return []
    out = []
    for raw in _REL.findall(z.read(rels)):
        a = _attrs(raw)
        if a.get("TargetMode") == "External" or "Target" not in a:
            continue
        target = a["Target"]
        target = target[1:] if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
        out.append((a.get("Type", ""), target))
    return out


def _sheets(z: zipfile.ZipFile, names: set[str], book: str) -> dict[str, str]:
    """Each worksheet part and the sheet name a user sees for it (chart sheets, macro sheets and
    dialog sheets are parts openpyxl does not keep, and are not among them)."""
    ids = {_attrs(raw).get("id"): _attrs(raw).get("name", "") for raw in _SHEET.findall(z.read(book))}
    folder, base = posixpath.split(book)
    rels = posixpath.join(folder, "_rels", base + ".rels")
    out: dict[str, str] = {}
    if rels in names:
        for raw in _REL.findall(z.read(rels)):
            a = _attrs(raw)
            if a.get("Id") in ids and a.get("Type", "").endswith("/worksheet") and a.get("TargetMode") != "External":
                t = a.get("Target", "")
                out[t[1:] if t.startswith("/") else posixpath.normpath(posixpath.join(folder, t))] = ids[a["Id"]]
    return out


def _owners(z: zipfile.ZipFile, names: set[str], sheets: dict[str, str]) -> dict[str, str]:
    """The sheet each part hangs from (through its relationships: sheet -> drawing -> chart)."""
    owner: dict[str, str] = {}
    todo = list(sheets.items())
    while todo:
        part, sheet = todo.pop()
        for _, target in _relations(z, names, part):
            if target not in owner and target not in sheets:
                owner[target] = sheet
                todo.append((target, sheet))
    return owner


def _after_sheet_data(z: zipfile.ZipFile, part: str) -> bytes:
    """The XML of a sheet after its cells, read as a stream: a sheet of a million rows is not held
    in memory to look at its last few elements, which are all that openpyxl might drop."""
    carry = b""
    with z.open(part) as fh:
        while chunk := fh.read(_CHUNK):
            buf = carry + chunk
            m = _SHEET_DATA_END.search(buf)
            if m:
                return buf[m.end():] + fh.read()
            carry = buf[-64:]
    return z.read(part)  # no sheetData: a small sheet, looked at whole


def _extension_losses(xml: bytes, sheet: str | None, part: str, *, book: bool) -> Iterable[_Loss]:
    for raw in _EXT_URI.findall(xml):
        uri = raw.decode("utf-8", "replace").upper()
        if book and uri in _HARMLESS_BOOK_EXTENSIONS:
            continue
        yield _Loss(sheet, part, _EXTENSIONS.get(uri, f"an extension openpyxl does not read ({raw.decode()})"))


def _sheet_losses(z: zipfile.ZipFile, part: str, sheet: str) -> Iterable[_Loss]:
    tail = _after_sheet_data(z, part)
    found = {m.decode() for m in _ELEMENT.findall(tail)}
    for element, what in _LOST_ELEMENTS.items():
        if element in found:
            yield _Loss(sheet, part, what)
    yield from _extension_losses(tail, sheet, part, book=False)


def _vml_losses(z: zipfile.ZipFile, part: str, sheet: str | None) -> Iterable[_Loss]:
    """openpyxl writes a sheet's VML drawing anew from its notes: anything else drawn there goes."""
    vml = z.read(part)
    kinds = sorted({k.decode() for k in _VML_OBJECT.findall(vml)} - {"Note"})
    if kinds:
        yield _Loss(sheet, part, f"form controls or objects drawn in VML ({', '.join(kinds)})")
    if b"imagedata" in vml:
        yield _Loss(sheet, part, "pictures in a header or footer")


def _part_loss(part: str, sheet: str | None, macro: bool) -> _Loss | None:
    if _TOLERATED.match(part) or (macro and _KEPT_IN_XLSM.match(part)):
        return None
    for prefix, what in _LOST_PARTS:
        if part.startswith(prefix):
            return _Loss(sheet, part, what)
    return _Loss(sheet, part, "a part openpyxl does not read")


def _losses(z: zipfile.ZipFile, macro: bool) -> list[_Loss]:
    names = {n for n in z.namelist() if not n.endswith("/")}
    roots = _relations(z, names, "")  # _rels/.rels
    book = next((t for typ, t in roots if typ.endswith("/officeDocument")), "xl/workbook.xml")
    if book not in names:
        return []  # not a workbook openpyxl can open either: loading it says so
    sheets = _sheets(z, names, book)
    owners = _owners(z, names, sheets)
    kept = {"[Content_Types].xml", book, "docProps/core.xml", "docProps/app.xml", "docProps/custom.xml", *sheets}
    kept |= {t for typ, t in _relations(z, names, book)
             if typ.rsplit("/", 1)[-1] in ("sharedStrings", "styles", "theme", "externalLink")}
    kept |= {t for typ, t in roots if typ.rsplit("/", 1)[-1] in ("core-properties", "extended-properties",
                                                                   "custom-properties")}
    losses: list[_Loss] = []
    for part in sorted(names):
        if part in kept or part.endswith(".rels"):
            continue
        sheet = owners.get(part)
        if part.endswith(".vml") and part.startswith("xl/drawings/"):
            if not macro:
                losses.extend(_vml_losses(z, part, sheet))
            continue
        if part.startswith("xl/comments") or part.startswith(("xl/tables/", "xl/externalLinks/")):
            continue  # openpyxl reads notes, tables and external links and writes them again
        loss = _part_loss(part, sheet, macro)
        if loss is not None:
            losses.append(loss)
    for part, sheet in sheets.items():
        if part in names:
            losses.extend(_sheet_losses(z, part, sheet))
    book_xml = z.read(book)
    losses.extend(_extension_losses(book_xml, None, book, book=True))
    if re.search(rb"<(?:\w+:)?customWorkbookViews\b", book_xml):
        losses.append(_Loss(None, book, "custom views"))
    return losses


def lossy_resave_problems(path: Path) -> list[Problem]:
    """A problem for each kind of thing, per sheet, that saving ``path`` with openpyxl would drop."""
    try:
        with zipfile.ZipFile(path) as z:
            losses = _losses(z, macro=path.suffix.lower() == ".xlsm")
    except (OSError, zipfile.BadZipFile, KeyError) as exc:
        return [Problem(path.name, None, None, None, f"not a readable .xlsx workbook ({exc})")]
    grouped: dict[tuple[str | None, str], list[str]] = {}
    for loss in losses:
        parts = grouped.setdefault((loss.sheet, loss.what), [])
        if loss.part not in parts:
            parts.append(loss.part)
    advice = ("keep the registry as a CSV folder or in a workbook of data only; nothing was written")
    problems = []
    for (sheet, what), parts in grouped.items():
        more = f" and {len(parts) - 1} more part(s) like it" if len(parts) > 1 else ""
        problems.append(Problem(f"{path.name}[{sheet}]" if sheet else path.name, None, None, parts[0],
                                f"{what}{more}, which openpyxl does not keep"))
    if len(problems) == 1:
        only = problems[0]
        problems = [Problem(only.source, None, None, only.value,
                            f"{only.expected}: add-member would have to save this workbook again without it; {advice}")]
    elif problems:
        problems.append(Problem(path.name, None, None, None,
                                f"add-member would have to save this workbook again without all of these; {advice}"))
    return problems


def refuse_lossy_resave(path: Path) -> None:
    """Raise one :class:`InputError` naming everything a re-save of ``path`` would drop, if anything."""
    problems = lossy_resave_problems(path)
    if problems:
        raise InputError(problems)
