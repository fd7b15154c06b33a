"""Excel reports: text stays text, dates stay dates, and Excel's limits are kept.

``consortia.xlsx`` writes report tables row by row with xlsxwriter. What a
spreadsheet would execute or reinterpret (formulas, links, numbers in text)
must come back as the text it was; a cell longer than Excel holds is cut and
says so; a table longer than a sheet continues on further sheets.
"""

from __future__ import annotations

import datetime as dt
import io

import numpy as np
import openpyxl
import pandas as pd

from consortia import xlsx
from consortia.output import neutralise


def _book(sheets: dict[str, pd.DataFrame]) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(xlsx.workbook_bytes(sheets, neutralise)))


def test_text_that_looks_like_something_else_stays_text():
    frame = pd.DataFrame({"name": ["=HYPERLINK(\"http://x\")", "+1", "http://example.com", "0123", "@SUM(A1)", "plain"],
                          "n": [1, 2, 3, 4, 5, 6]})
    ws = _book({"findings": frame})["findings"]
    cells = [ws.cell(row=r, column=1) for r in range(2, 8)]
    assert [c.value for c in cells] == ["'=HYPERLINK(\"http://x\")", "'+1", "http://example.com", "0123", "'@SUM(A1)",
                                        "plain"]
    assert all(c.data_type == "s" for c in cells) and not any(c.hyperlink for c in cells)
    assert [ws.cell(row=r, column=2).value for r in range(2, 8)] == [1, 2, 3, 4, 5, 6]


def test_values_keep_their_types_and_missing_cells_are_empty():
    frame = pd.DataFrame({"day": pd.to_datetime(["2024-05-30", None]), "count": [3, 4], "share": [0.5, float("nan")],
                          "flag": [True, False], "note": ["x", None]})
    ws = _book({"t": frame})["t"]
    assert [c.value for c in ws[1]] == ["day", "count", "share", "flag", "note"]
    assert [c.value for c in ws[2]] == [dt.datetime(2024, 5, 30), 3, 0.5, True, "x"]
    assert ws.cell(row=2, column=1).number_format == "yyyy-mm-dd"
    assert [c.value for c in ws[3]] == [None, 4, None, False, None]
    assert ws.freeze_panes == "A2"


def test_odd_values_are_written_not_refused():
    frame = pd.DataFrame({"x": pd.Series([np.int64(3), np.float64("inf"), float("-inf"), ("a", "b"), "y"], dtype=object),
                          "when": pd.to_datetime(["2024-05-30"] * 5).tz_localize("Asia/Shanghai")})
    ws = _book({"t": frame})["t"]
    assert [ws.cell(row=r, column=1).value for r in range(2, 7)] == [3, None, None, "('a', 'b')", "y"]
    assert ws.cell(row=2, column=2).value == dt.datetime(2024, 5, 30)


def test_a_cell_longer_than_excel_holds_is_cut_and_says_so():
    long = "GX-2020-0001:core; " * 3000  # 57,000 characters: a hub unit on a national registry
    ws = _book({"units": pd.DataFrame({"roles": [long, "short"]})})["units"]
    cut = ws.cell(row=2, column=1).value
    assert len(cut) == xlsx.MAX_CELL_CHARS and cut.startswith("GX-2020-0001:core; ")
    assert cut.endswith(f"[cut: {len(long):,} characters in all; the JSON report has them whole]")
    assert ws.cell(row=3, column=1).value == "short"


def test_a_table_longer_than_a_sheet_continues_on_the_next(monkeypatch):
    monkeypatch.setattr(xlsx, "MAX_ROWS", 4)  # three data rows a sheet
    days = pd.to_datetime([f"2024-01-0{i + 1}" for i in range(8)])
    frame = pd.DataFrame({"uscc": [f"U{i}" for i in range(8)], "day": days})
    book = _book({"单位参与情况": frame, "findings": frame.head(2)})
    assert book.sheetnames == ["单位参与情况", "单位参与情况 (2)", "单位参与情况 (3)", "findings"]
    got = [(c.value, d.value.day) for ws in book.worksheets[:3] for c, d in ws.iter_rows(min_row=2)]
    assert got == [(f"U{i}", i + 1) for i in range(8)]
    assert all(ws.cell(row=1, column=1).value == "uscc" for ws in book.worksheets)


def test_sheet_names_stay_within_31_characters_and_unique():
    names = xlsx._sheet_names("x" * 40, 12)
    assert len(set(names)) == 12 and max(map(len, names)) == 31 and names[11].endswith(" (12)")


def test_an_empty_table_is_a_sheet_with_its_header():
    ws = _book({"findings": pd.DataFrame(columns=["rule", "message"])})["findings"]
    assert [c.value for c in ws[1]] == ["rule", "message"] and ws.max_row == 1
