"""add-member on a workbook: refused, with nothing written, wherever openpyxl's re-save would
drop something, and naming the sheet and part; accepted, keeping them, for notes and rich text.

Every refusal case first checks its own premise: the workbook saved again by openpyxl really
has lost the thing (so a case that openpyxl learns to keep fails here, and can be let through).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import code, unit
from openpyxl import load_workbook
from xlsx_parts import MAIN, OFFICE_REL, X14, XM, Sheet, write_xlsx

from consortia.cli import main
from consortia.loaders import load_registry

AS_OF = "2026-06-30"
R = OFFICE_REL
VML_TYPE = {"vml": "application/vnd.openxmlformats-officedocument.vmlDrawing"}
XLSM = {"/xl/workbook.xml": "application/vnd.ms-excel.sheet.macroEnabled.main+xml"}


def _vml(kind: str) -> str:
    return ('<xml xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" '
            'xmlns:x="urn:schemas-microsoft-com:office:excel"><v:shape id="_x0000_s1025" type="#_x0000_t201">'
            f'<x:ClientData ObjectType="{kind}"><x:Row>1</x:Row><x:Column>0</x:Column></x:ClientData></v:shape></xml>')


def _ext(uri: str, body: str) -> str:
    return f'<extLst><ext uri="{uri}">{body}</ext></extLst>'


NOTES = {"xl/drawings/vmlDrawing1.vml": _vml("Note"),
         "xl/comments1.xml": f'<comments xmlns="{MAIN}"><authors><author>王科长</author></authors><commentList>'
                             f'<comment ref="A2" authorId="0"><text><t>核对过</t></text></comment></commentList></comments>'}
NOTES_RELS = [("rId2", f"{R}/vmlDrawing", "../drawings/vmlDrawing1.vml"), ("rId5", f"{R}/comments", "../comments1.xml")]
NOTES_TYPES = {"/xl/comments1.xml": "application/vnd.openxmlformats-officedocument.spreadsheetml.comments+xml"}


def registry_book(path: Path, *, tail: str = "", rels=(), parts=None, overrides=None, defaults=None,
                  workbook_rels=(), workbook_tail: str = "", units_tail: str = "", units_rels=()) -> Path:
    """A three-sheet registry; ``tail``/``rels`` go on the memberships sheet, ``units_*`` on the units sheet."""
    u = [unit(1), unit(2)]
    heads = list(u[0])
    sheets = [
        Sheet("单位", [heads, *[[str(r[h]) for h in heads] for r in u]], units_tail, list(units_rels)),
        Sheet("创新联合体", [["consortium_id", "jurisdiction", "status", "recognized_on"],
                         ["NN-1", "nanning", "active", "2024-01-01"]]),
        Sheet("成员", [["consortium_id", "uscc", "role"], ["NN-1", code(1), "lead"]], tail, list(rels)),
    ]
    return write_xlsx(path, sheets, parts=parts, overrides=overrides, defaults=defaults,
                      workbook_rels=workbook_rels, workbook_tail=workbook_tail)


def _all_bytes(path: Path) -> bytes:
    with zipfile.ZipFile(path) as z:
        return b"\n".join(z.read(n) for n in z.namelist())


def _add(path: Path):
    return CliRunner().invoke(main, ["add-member", str(path), "NN-1", code(2), "--role", "core", "--as-of", AS_OF])


SPARKLINES = _ext("{05C60535-1F16-4fd2-B633-F4F36F0B64E0}",
                  f'<x14:sparklineGroups xmlns:xm="{XM}"><x14:sparklineGroup><x14:colorSeries rgb="FF376092"/>'
                  '<x14:sparklines><x14:sparkline><xm:f>成员!A2:C2</xm:f><xm:sqref>D2</xm:sqref></x14:sparkline>'
                  '</x14:sparklines></x14:sparklineGroup></x14:sparklineGroups>')
DATA_BARS = ('<conditionalFormatting sqref="A2:A3"><cfRule type="dataBar" priority="1"><dataBar><cfvo type="min"/>'
             '<cfvo type="max"/><color rgb="FF638EC6"/></dataBar><extLst><ext uri="{B025F937-C7B1-47D3-B67F-A62EFF666E3E}" '
             f'xmlns:x14="{X14}"><x14:id>{{00000000-0001-0000-0000-000000000000}}</x14:id></ext></extLst></cfRule>'
             '</conditionalFormatting>'
             + _ext("{78C0D931-6437-407D-A8EE-F0AAD7539E65}",
                    '<x14:conditionalFormattings><x14:conditionalFormatting><x14:cfRule type="dataBar" '
                    'id="{00000000-0001-0000-0000-000000000000}"><x14:dataBar minLength="0" maxLength="100" gradient="0">'
                    '<x14:cfvo type="autoMin"/><x14:cfvo type="autoMax"/><x14:negativeFillColor rgb="FFFF0000"/>'
                    '</x14:dataBar></x14:cfRule><xm:sqref>A2:A3</xm:sqref></x14:conditionalFormatting>'
                    '</x14:conditionalFormattings>'))
CROSS_SHEET_LIST = _ext("{CCE6A557-97BC-4B89-ADB6-D9C93CAAB3DF}",
                        '<x14:dataValidations count="1"><x14:dataValidation type="list"><x14:formula1>'
                        '<xm:f>单位!$A$2:$A$3</xm:f></x14:formula1><xm:sqref>B2:B99</xm:sqref></x14:dataValidation>'
                        '</x14:dataValidations>')
FORM_CONTROL = ('<legacyDrawing r:id="rId2"/><mc:AlternateContent><mc:Choice Requires="x14"><controls>'
                '<mc:AlternateContent><mc:Choice Requires="x14"><control shapeId="1025" r:id="rId3" name="Check Box 1">'
                '<controlPr defaultSize="0"/></control></mc:Choice></mc:AlternateContent></controls></mc:Choice>'
                '</mc:AlternateContent>')
FORM_CONTROL_PARTS = {"xl/drawings/vmlDrawing1.vml": _vml("Checkbox"),
                      "xl/ctrlProps/ctrlProp1.xml": f'<formControlPr xmlns="{X14}" objectType="CheckBox" checked="Checked"/>'}
FORM_CONTROL_RELS = [("rId2", f"{R}/vmlDrawing", "../drawings/vmlDrawing1.vml"),
                     ("rId3", f"{R}/ctrlProp", "../ctrlProps/ctrlProp1.xml")]

# name: (workbook keyword arguments, bytes that the workbook holds and openpyxl's re-save loses,
#        words the error must say, the sheet and the part the error must name)
REFUSED = {
    "sparklines": (dict(tail=SPARKLINES), b"sparklineGroup", "sparklines", "成员", "xl/worksheets/sheet3.xml"),
    "data bars": (dict(tail=DATA_BARS), b"negativeFillColor", "data bars", "成员", "xl/worksheets/sheet3.xml"),
    "icon sets": (dict(units_tail=_ext(
        "{78C0D931-6437-407D-A8EE-F0AAD7539E65}",
        '<x14:conditionalFormattings><x14:conditionalFormatting><x14:cfRule type="iconSet" priority="1" '
        'id="{00000000-0002-0000-0000-000000000000}"><x14:iconSet iconSet="3Stars"><x14:cfvo type="percent"><xm:f>0</xm:f>'
        '</x14:cfvo><x14:cfvo type="percent"><xm:f>33</xm:f></x14:cfvo><x14:cfvo type="percent"><xm:f>67</xm:f></x14:cfvo>'
        '</x14:iconSet></x14:cfRule><xm:sqref>A2:A3</xm:sqref></x14:conditionalFormatting></x14:conditionalFormattings>')),
        b"3Stars", "icon sets", "单位", "xl/worksheets/sheet1.xml"),
    "cross-sheet list": (dict(tail=CROSS_SHEET_LIST), b"$A$2:$A$3", "data validations that refer to other sheets",
                         "成员", "xl/worksheets/sheet3.xml"),
    "form control": (dict(tail=FORM_CONTROL, rels=FORM_CONTROL_RELS, parts=FORM_CONTROL_PARTS, defaults=VML_TYPE,
                          overrides={"/xl/ctrlProps/ctrlProp1.xml": "application/vnd.ms-excel.controlproperties+xml"}),
                     b"formControlPr", "form controls", "成员", "xl/ctrlProps/ctrlProp1.xml"),
    "legacy button": (dict(tail='<legacyDrawing r:id="rId2"/>', rels=FORM_CONTROL_RELS[:1],
                           parts={"xl/drawings/vmlDrawing1.vml": _vml("Button")}, defaults=VML_TYPE),
                      b'ObjectType="Button"', "objects drawn in VML (Button)", "成员", "xl/drawings/vmlDrawing1.vml"),
    "OLE object": (dict(tail='<legacyDrawing r:id="rId2"/><oleObjects><oleObject progId="Package" shapeId="1025" '
                             'r:id="rId4"/></oleObjects>',
                        rels=[*FORM_CONTROL_RELS[:1], ("rId4", f"{R}/oleObject", "../embeddings/oleObject1.bin")],
                        parts={"xl/drawings/vmlDrawing1.vml": _vml("Pict"),
                               "xl/embeddings/oleObject1.bin": b"\xd0\xcf\x11\xe0OLE"},
                        defaults={**VML_TYPE, "bin": "application/vnd.openxmlformats-officedocument.oleObject"}),
                   b"\xd0\xcf\x11\xe0OLE", "embedded objects (OLE)", "成员", "xl/embeddings/oleObject1.bin"),
    "ActiveX control": (dict(tail='<mc:AlternateContent><mc:Choice Requires="x14"><controls><mc:AlternateContent>'
                                  '<mc:Choice Requires="x14"><control shapeId="1026" r:id="rId8" name="TextBox1"/></mc:Choice>'
                                  '</mc:AlternateContent></controls></mc:Choice></mc:AlternateContent>',
                             rels=[("rId8", f"{R}/control", "../activeX/activeX1.xml")],
                             parts={"xl/activeX/activeX1.xml": '<ax:ocx xmlns:ax="http://schemas.microsoft.com/office/2006/'
                                                               'activeX" ax:classid="{8BD21D10-EC42-11CE-9E0D-00AA006002F3}"/>'},
                             overrides={"/xl/activeX/activeX1.xml": "application/vnd.ms-office.activeX+xml"}),
                        b"8BD21D10", "ActiveX controls", "成员", "xl/activeX/activeX1.xml"),
    "threaded comments": (dict(
        tail='<legacyDrawing r:id="rId2"/>',
        rels=[*NOTES_RELS, ("rId6", "http://schemas.microsoft.com/office/2017/10/relationships/threadedComment",
                            "../threadedComments/threadedComment1.xml")],
        parts={**NOTES, "xl/threadedComments/threadedComment1.xml":
               '<ThreadedComments xmlns="http://schemas.microsoft.com/office/spreadsheetml/2018/threadedcomments">'
               '<threadedComment ref="A2" dT="2024-01-01T00:00:00" personId="{2}" id="{1}"><text>核对过</text>'
               '</threadedComment><threadedComment ref="A2" dT="2024-01-02T00:00:00" personId="{3}" id="{4}" parentId="{1}">'
               '<text>同意</text></threadedComment></ThreadedComments>'},
        defaults=VML_TYPE, overrides={**NOTES_TYPES, "/xl/threadedComments/threadedComment1.xml":
                                      "application/vnd.ms-excel.threadedcomments+xml"}),
        b"parentId", "threaded comments", "成员", "xl/threadedComments/threadedComment1.xml"),
    "query table": (dict(rels=[("rId9", f"{R}/queryTable", "../queryTables/queryTable1.xml")],
                         parts={"xl/queryTables/queryTable1.xml": f'<queryTable xmlns="{MAIN}" name="q" connectionId="1"/>'}),
                    b"<queryTable", "query tables", "成员", "xl/queryTables/queryTable1.xml"),
    "data connection": (dict(workbook_rels=[("rId90", f"{R}/connections", "connections.xml")],
                             parts={"xl/connections.xml": f'<connections xmlns="{MAIN}"><connection id="1" name="q" type="5">'
                                                          '<dbPr connection="Provider=X" command="SELECT 1"/></connection>'
                                                          '</connections>'}),
                        b"SELECT 1", "data connections", None, "xl/connections.xml"),
    "custom XML": (dict(workbook_rels=[("rId91", f"{R}/customXml", "../customXml/item1.xml")],
                        parts={"customXml/item1.xml": '<a xmlns="urn:x">项目</a>'}),
                   "项目".encode(), "custom XML data", None, "customXml/item1.xml"),
    "data model": (dict(parts={"xl/model/item.data": b"POWERPIVOT"}), b"POWERPIVOT", "data model", None,
                   "xl/model/item.data"),
    "pictures in cells": (dict(parts={"xl/richData/rdrichvalue.xml": '<rvData xmlns="http://schemas.microsoft.com/office/'
                                                                     'spreadsheetml/2017/richdata" count="1"/>'}),
                          b"<rvData", "pictures in cells", None, "xl/richData/rdrichvalue.xml"),
    "macro sheet": (dict(workbook_rels=[("rId92", "http://schemas.microsoft.com/office/2006/relationships/xlMacrosheet",
                                         "macrosheets/sheet1.xml")],
                         parts={"xl/macrosheets/sheet1.xml": f'<xm:macrosheet xmlns:xm="{XM}"/>'}),
                    b"<xm:macrosheet", "Excel 4 macro sheets", None, "xl/macrosheets/sheet1.xml"),
    "unknown part": (dict(parts={"xl/unheard/of.xml": "<of>天</of>"}), "<of>天".encode(), "a part openpyxl does not read",
                     None, "xl/unheard/of.xml"),
    "allow-edit ranges": (dict(tail='<sheetProtection sheet="1"/><protectedRanges><protectedRange sqref="C2:C99" '
                                    'name="officers"/></protectedRanges>'),
                          b'name="officers"', "Allow Edit Ranges", "成员", "xl/worksheets/sheet3.xml"),
    "custom sheet view": (dict(tail='<customSheetViews><customSheetView guid="{11111111-1111-1111-1111-111111111111}">'
                                    '<pane xSplit="1" topLeftCell="B1" activePane="topRight" state="frozen"/>'
                                    '</customSheetView></customSheetViews>'),
                          b"11111111-1111", "custom views", "成员", "xl/worksheets/sheet3.xml"),
    "custom workbook view": (dict(workbook_tail='<customWorkbookViews><customWorkbookView name="科长" '
                                                'guid="{22222222-2222-2222-2222-222222222222}" windowWidth="100" '
                                                'windowHeight="100" activeSheetId="1"/></customWorkbookViews>'),
                             b"22222222-2222", "custom views", None, "xl/workbook.xml"),
    "slicer cache": (dict(workbook_tail='<extLst><ext uri="{BBE1A952-AA13-448e-AADC-164F8A28A991}" '
                                        f'xmlns:x14="{X14}"><x14:slicerCaches><x14:slicerCache r:id="rId77"/>'
                                        '</x14:slicerCaches></ext></extLst>'),
                     b"slicerCaches", "slicers", None, "xl/workbook.xml"),
    "unknown sheet extension": (dict(tail=_ext("{ABCDEF01-0000-0000-0000-000000000000}", "<x14:thing/>")),
                                b"ABCDEF01", "an extension openpyxl does not read ({ABCDEF01", "成员",
                                "xl/worksheets/sheet3.xml"),
}


def _resaved(path: Path, tmp: Path) -> Path:
    out = tmp / ("resaved" + path.suffix)
    load_workbook(path, keep_vba=path.suffix == ".xlsm").save(out)
    return out


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("case", list(REFUSED))
def test_a_workbook_that_a_resave_would_damage_is_refused(tmp_path, case):
    kwargs, marker, says, sheet, part = REFUSED[case]
    path = registry_book(tmp_path / "reg.xlsx", **kwargs)
    assert marker in _all_bytes(path) and marker not in _all_bytes(_resaved(path, tmp_path)), "openpyxl keeps it now"
    assert len(load_registry(path).memberships) == 1
    before = path.read_bytes()
    r = _add(path)
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output and "nothing was written" in r.stderr
    line = next((ln for ln in r.stderr.splitlines() if says in ln), None)
    assert line is not None, r.stderr
    assert f"reg.xlsx[{sheet}]" in line if sheet else line.startswith(("Error: reg.xlsx:", "reg.xlsx:")), line
    assert repr(part) in line, line
    assert path.read_bytes() == before


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("case", ["sparklines", "form control"])
def test_a_macro_workbook_is_refused_too(tmp_path, case):
    """In a .xlsm openpyxl copies control parts back (keep_vba), but not the sheet's reference to them."""
    kwargs, _, says, sheet, _ = REFUSED[case]
    path = registry_book(tmp_path / "reg.xlsm", **{**kwargs, "overrides": {**kwargs.get("overrides", {}), **XLSM}})
    resaved = _all_bytes(_resaved(path, tmp_path))
    assert b"sparklineGroup" not in resaved and b"<controls" not in resaved
    before = path.read_bytes()
    r = _add(path)
    assert r.exit_code == 2 and says in r.stderr and f"reg.xlsm[{sheet}]" in r.stderr, r.output
    assert path.read_bytes() == before


def test_every_loss_is_named_at_once(tmp_path):
    path = registry_book(tmp_path / "reg.xlsx", tail=SPARKLINES, units_tail=CROSS_SHEET_LIST)
    r = _add(path)
    assert r.exit_code == 2 and "3 problems in the input" in r.stderr and "nothing was written" in r.stderr, r.output
    assert "reg.xlsx[成员]" in r.stderr and "sparklines" in r.stderr
    assert "reg.xlsx[单位]" in r.stderr and "data validations that refer to other sheets" in r.stderr


def test_notes_survive_and_are_not_refused(tmp_path):
    path = registry_book(tmp_path / "reg.xlsx", tail='<legacyDrawing r:id="rId2"/>', rels=NOTES_RELS, parts=NOTES,
                         defaults=VML_TYPE, overrides=NOTES_TYPES)
    r = _add(path)
    assert r.exit_code == 0, r.output
    ws = load_workbook(path)["成员"]
    assert ws["A2"].comment is not None
    assert (ws["A2"].comment.text, ws["A2"].comment.author) == ("核对过", "王科长")
    assert load_registry(path).memberships["uscc"].tolist() == [code(1), code(2)]


def test_notes_written_by_xlsxwriter_are_not_refused(tmp_path):
    """xlsxwriter (like Excel) keeps notes' shapes in xl/drawings/vmlDrawing1.vml, which the
    refusal of drawings once caught."""
    import xlsxwriter

    path = tmp_path / "reg.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    for name, rows in {"单位": [unit(1), unit(2)],
                       "创新联合体": [{"consortium_id": "NN-1", "jurisdiction": "nanning", "status": "active",
                                   "recognized_on": "2024-01-01"}],
                       "成员": [{"consortium_id": "NN-1", "uscc": code(1), "role": "lead"}]}.items():
        ws = wb.add_worksheet(name)
        ws.write_row(0, 0, list(rows[0]))
        for i, row in enumerate(rows, start=1):
            ws.write_row(i, 0, [str(v) for v in row.values()])
    wb.get_worksheet_by_name("成员").write_comment("B2", "营业执照已核", {"author": "李"})
    wb.close()
    assert "xl/drawings/vmlDrawing1.vml" in zipfile.ZipFile(path).namelist()
    r = _add(path)
    assert r.exit_code == 0, r.output
    assert load_workbook(path)["成员"]["B2"].comment.text == "营业执照已核"


def test_rich_text_keeps_its_formatting(tmp_path):
    """A cell with a bold word: openpyxl flattens it to plain text unless asked to keep it."""
    path = registry_book(tmp_path / "reg.xlsx")
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    parts["xl/worksheets/sheet1.xml"] = parts["xl/worksheets/sheet1.xml"].replace(
        b"</row>", '<c r="J1" t="inlineStr"><is><r><rPr><b/></rPr><t>备</t></r><r><t>注</t></r></is></c></row>'.encode(), 1)
    with zipfile.ZipFile(path, "w") as z:
        for n, data in parts.items():
            z.writestr(n, data)
    r = _add(path)
    assert r.exit_code == 0, r.output
    sheet = zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml")
    assert b"<b" in sheet and "备".encode() in sheet and "注".encode() in sheet
    assert len(load_registry(path).memberships) == 2


def test_parts_lost_that_carry_nothing_made_by_hand_are_let_through(tmp_path):
    """Printer driver settings, a remembered sort, hidden error triangles and Excel's own calculation
    features: lost on saving, but the page setup stays, and Excel writes the rest again."""
    path = registry_book(
        tmp_path / "reg.xlsx",
        tail='<sortState ref="A2:C3"><sortCondition ref="A2:A3"/></sortState>'
             '<pageSetup paperSize="9" orientation="landscape" r:id="rId7"/>'
             '<ignoredErrors><ignoredError sqref="B2:B3" numberStoredAsText="1"/></ignoredErrors>',
        rels=[("rId7", f"{R}/printerSettings", "../printerSettings/printerSettings1.bin")],
        parts={"xl/printerSettings/printerSettings1.bin": b"DEVMODE"},
        defaults={"bin": "application/vnd.openxmlformats-officedocument.spreadsheetml.printerSettings"},
        workbook_tail='<extLst><ext uri="{B58B0392-4F1F-4190-BB64-5DF3571DCE5F}" '
                      'xmlns:xcalcf="http://schemas.microsoft.com/office/spreadsheetml/2018/calcfeatures">'
                      '<xcalcf:calcFeatures><xcalcf:feature name="microsoft.com:RD"/></xcalcf:calcFeatures></ext></extLst>')
    r = _add(path)
    assert r.exit_code == 0, r.output
    assert load_workbook(path)["成员"].page_setup.orientation == "landscape"


@pytest.mark.parametrize("chunk", [5, 11, 64, 1 << 20])
def test_the_end_of_the_cells_is_found_across_read_boundaries(tmp_path, monkeypatch, chunk):
    """A sheet is read a piece at a time, and only what follows its cells is looked at:
    '</sheetData>' split between two pieces is still found."""
    from consortia import xlsx_resave

    monkeypatch.setattr(xlsx_resave, "_CHUNK", chunk)
    path = registry_book(tmp_path / "reg.xlsx", tail=SPARKLINES)
    with zipfile.ZipFile(path) as z:
        whole = z.read("xl/worksheets/sheet3.xml")
        assert xlsx_resave._after_sheet_data(z, "xl/worksheets/sheet3.xml") == whole.split(b"</sheetData>")[1]
    problems = xlsx_resave.lossy_resave_problems(path)
    assert [(p.source, p.value) for p in problems] == [("reg.xlsx[成员]", "xl/worksheets/sheet3.xml")]
    assert "sparklines" in problems[0].expected
