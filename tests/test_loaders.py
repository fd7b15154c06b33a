"""Loading registries: headers in two languages, encodings, value forms, workbooks and every input error."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import code, unit, write_csv

from consortia.cli import main
from consortia.errors import InputError, Problem
from consortia.loaders import load_registry

# --------------------------------------------------------------------------- helpers

EN_UNITS = [
    {**unit(1), "revenue": "12000", "rd_staff": "30", "tech_enterprise": "true",
     "credit_blacklist_until": "", "legal_status": "active"},
    {**unit(2, type_="university"), "revenue": "", "rd_staff": "120", "tech_enterprise": "false",
     "credit_blacklist_until": "2027-01-31", "legal_status": "active"},
    {**unit(3, "柳州市", type_="institute"), "revenue": "1.5", "rd_staff": "", "tech_enterprise": "",
     "credit_blacklist_until": "", "legal_status": "deregistered"},
]
EN_CONSORTIA = [
    {"consortium_id": "GX-1", "name": "广西新能源汽车创新联合体", "jurisdiction": "guangxi",
     "recognized_on": "2023-03-01", "status": "active", "recognized_from": ""},
    {"consortium_id": "NN-1", "name": "南宁新能源汽车创新联合体", "jurisdiction": "nanning",
     "recognized_on": "2024-05-30", "status": "rectifying", "recognized_from": "GX-1"},
]
EN_MEMBERSHIPS = [
    {"consortium_id": "GX-1", "uscc": code(1), "role": "lead", "segments": "", "joined_on": "2023-03-01",
     "left_on": ""},
    {"consortium_id": "NN-1", "uscc": code(1), "role": "lead", "segments": "", "joined_on": "2024-05-30",
     "left_on": ""},
    {"consortium_id": "NN-1", "uscc": code(2), "role": "core", "segments": "", "joined_on": "", "left_on": ""},
    {"consortium_id": "NN-1", "uscc": code(3, "柳州市"), "role": "general", "segments": "", "joined_on": "",
     "left_on": "2025-01-01"},
]

ZH_HEADERS = {
    "units": {"uscc": "统一社会信用代码", "name": "单位名称", "type": "单位类型", "city": "注册地",
              "revenue": "上年度主营业务收入", "rd_staff": "专职研发人员", "tech_enterprise": "科技型企业",
              "credit_blacklist_until": "失信惩戒期至", "legal_status": "存续状态"},
    "consortia": {"consortium_id": "联合体编号", "name": "联合体名称", "jurisdiction": "认定机关",
                  "recognized_on": "认定日期", "status": "状态", "recognized_from": "转认定来源"},
    "memberships": {"consortium_id": "联合体编号", "uscc": "统一社会信用代码", "role": "角色/层级",
                    "segments": "产业链环节", "joined_on": "加入日期", "left_on": "退出日期"},
}
ZH_VALUES = {
    "type": {"enterprise": "企业", "university": "高校", "institute": "科研院所"},
    "tech_enterprise": {"true": "是", "false": "否"},
    "legal_status": {"active": "存续", "deregistered": "注销"},
    "jurisdiction": {"guangxi": "广西壮族自治区", "nanning": "南宁市"},
    "status": {"active": "运行", "rectifying": "整改中"},
    "role": {"lead": "牵头单位", "core": "核心层", "general": "一般协作层"},
}


def zh(table: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The same rows with Chinese headers and Chinese vocabulary."""
    heads = ZH_HEADERS[table]
    return [{heads[k]: ZH_VALUES.get(k, {}).get(v, v) for k, v in r.items()} for r in rows]


def write_registry(folder: Path, units: list[dict[str, Any]], consortia: list[dict[str, Any]],
                   memberships: list[dict[str, Any]], encoding: str = "utf-8",
                   names: tuple[str, str, str] = ("units", "consortia", "memberships")) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in zip(names, (units, consortia, memberships), strict=True):
        write_csv(folder / f"{name}.csv", rows, encoding)
    return folder


def english(folder: Path, encoding: str = "utf-8") -> Path:
    return write_registry(folder, EN_UNITS, EN_CONSORTIA, EN_MEMBERSHIPS, encoding)


def problems_of(path: Path) -> list[Problem]:
    with pytest.raises(InputError) as info:
        load_registry(path)
    return info.value.problems


def assert_same_tables(a, b) -> None:
    for name in ("units", "consortia", "memberships"):
        pd.testing.assert_frame_equal(a.tables[name], b.tables[name], check_dtype=False)


def one_table(tmp_path: Path, table: str, rows: list[dict[str, Any]], columns: list[str] | None = None) -> Path:
    """The English registry with one of its three tables replaced."""
    folder = english(tmp_path / "reg")
    write_csv(folder / f"{table}.csv", rows, columns=columns)
    return folder


# --------------------------------------------------------------------------- headers


def test_english_registry_loads_typed_tables(tmp_path):
    reg = load_registry(english(tmp_path / "en"))
    u = reg.units.set_index("uscc")
    assert list(reg.units["uscc"]) == [code(1), code(2), code(3, "柳州市")]
    assert u.loc[code(2), "type"] == "university"
    assert u.loc[code(1), "revenue"] == 12000.0 and pd.isna(u.loc[code(2), "revenue"])
    assert u.loc[code(3, "柳州市"), "revenue"] == 1.5
    assert u.loc[code(2), "rd_staff"] == 120
    assert u.loc[code(1), "tech_enterprise"] is True and u.loc[code(2), "tech_enterprise"] is False
    assert u.loc[code(2), "credit_blacklist_until"] == pd.Timestamp("2027-01-31")
    assert list(reg.units["_row"]) == [2, 3, 4]
    c = reg.consortia.set_index("consortium_id")
    assert c.loc["NN-1", "body_id"] == "GX-1" and c.loc["GX-1", "body_id"] == "GX-1"
    assert c.loc["NN-1", "status"] == "rectifying"
    m = reg.memberships
    assert list(m["role"]) == ["lead", "lead", "core", "general"]
    assert m["left_on"].iloc[3] == pd.Timestamp("2025-01-01") and pd.isna(m["left_on"].iloc[0])
    assert reg.duplicate_units.empty
    assert reg.has("units") and not reg.has("chains") and reg.table("chains").empty


def test_chinese_headers_and_values_load_to_the_same_tables(tmp_path):
    en = load_registry(english(tmp_path / "en"))
    folder = write_registry(tmp_path / "zh", zh("units", EN_UNITS), zh("consortia", EN_CONSORTIA),
                            zh("memberships", EN_MEMBERSHIPS))
    cn = load_registry(folder)
    assert_same_tables(en, cn)
    assert cn.sources["memberships"].headers["role"] == "角色/层级"
    assert cn.sources["units"].headers["uscc"] == "统一社会信用代码"


def test_chinese_file_names_name_the_tables(tmp_path):
    en = load_registry(english(tmp_path / "en"))
    folder = write_registry(tmp_path / "zh", EN_UNITS, EN_CONSORTIA, EN_MEMBERSHIPS,
                            names=("单位", "创新联合体", "成员"))
    assert_same_tables(en, load_registry(folder))


def test_headers_match_despite_spaces_case_width_bom_and_punctuation(tmp_path):
    en = load_registry(english(tmp_path / "en"))
    units_heads = {"uscc": "\ufeff USCC ", "name": "\ufeffName", "type": "ＴＹＰＥ", "city": " 注册地 ",
                   "revenue": "Revenue（万元）", "rd_staff": "RD_Staff", "tech_enterprise": "Tech Enterprise",
                   "credit_blacklist_until": "credit-blacklist-until", "legal_status": "存续状态："}
    cons_heads = {"consortium_id": "Consortium ID", "name": "联合体名称\u200b", "jurisdiction": "JURISDICTION",
                  "recognized_on": "认定日期 ", "status": "Status", "recognized_from": "Recognized_From"}
    mem_heads = {"consortium_id": "联合体编号", "uscc": "统一社会信用代码（18位）", "role": "角色／层级",
                 "segments": "Segments", "joined_on": "joined on", "left_on": "退出日期"}

    def rename(rows, heads):
        return [{heads[k]: v for k, v in r.items()} for r in rows]

    folder = write_registry(tmp_path / "odd", rename(EN_UNITS, units_heads), rename(EN_CONSORTIA, cons_heads),
                            rename(EN_MEMBERSHIPS, mem_heads), encoding="utf-8-sig")
    odd = load_registry(folder)
    assert_same_tables(en, odd)
    assert odd.sources["units"].headers["revenue"] == "Revenue（万元）"


@pytest.mark.parametrize(("header", "cell", "expected"), [
    ("上年度主营业务收入（亿元）", "1.2", 12000.0),
    ("上年度主营业务收入(亿元)", "0.5", 5000.0),
    ("revenue (亿元)", "2", 20000.0),
    ("上年度主营业务收入（万元）", "1,200", 1200.0),
    ("上年度主营业务收入", "1.2亿", 12000.0),
    # A unit written in the cell wins over the header's unit.
    ("上年度主营业务收入（亿元）", "1.2亿", 12000.0),
    ("上年度主营业务收入（亿元）", "3000万", 3000.0),
    # A header in 元 is divided down to 万元.
    ("上年度主营业务收入（元）", "120,000,000", 12000.0),
    # Every common Chinese money unit: 50000 of each, in 万元.
    ("上年度主营业务收入（千元）", "50000", 5000.0),
    ("上年度主营业务收入（百万元）", "50000", 5000000.0),
    ("上年度主营业务收入（千万元）", "50000", 50000000.0),
    ("上年度主营业务收入（万）", "50000", 50000.0),
    ("上年度主营业务收入（亿）", "5", 50000.0),
    ("上年度主营业务收入（单位：千元）", "50000", 5000.0),
    ("上年度主营业务收入（万元人民币）", "50000", 50000.0),
    ("revenue (RMB)", "50000", 5.0),
    # The cell's own unit, also against a header in another unit.
    ("上年度主营业务收入（千元）", "5000元", 0.5),
    ("上年度主营业务收入", "3百万元", 300.0),
])
def test_money_header_unit_scales_values(tmp_path, header, cell, expected):
    rows = [{"uscc": r["uscc"], "name": r["name"], "type": r["type"], header: cell if i == 0 else ""}
            for i, r in enumerate(EN_UNITS)]
    reg = load_registry(one_table(tmp_path, "units", rows))
    assert reg.units["revenue"].iloc[0] == pytest.approx(expected)
    assert reg.sources["units"].headers["revenue"] == header
    assert header not in reg.units.columns


@pytest.mark.parametrize(("header", "unit", "why"), [
    ("revenue (USD)", "USD", "foreign currency"),
    ("上年度主营业务收入（万美元）", "万美元", "foreign currency"),
    ("近三年研发费用总额（港币）", "港币", "foreign currency"),
    ("上年度主营业务收入（%）", "%", "not a money unit"),
    ("上年度主营业务收入（2023年）", "2023年", "not a money unit"),
])
def test_unknown_or_foreign_money_unit_in_a_header_is_an_error(tmp_path, header, unit, why):
    # These were read as 万元, so 50,000 USD loaded as 50,000 万元.
    rows = [{"uscc": r["uscc"], "name": r["name"], "type": r["type"], header: "50000"} for r in EN_UNITS]
    probs = problems_of(one_table(tmp_path, "units", rows))
    assert [(p.source, p.row, p.column, p.value) for p in probs] == [("units.csv", 1, header, unit)]
    assert why in probs[0].expected


def test_a_unit_in_a_header_is_judged_only_for_money_columns(tmp_path):
    rows = [{"uscc": r["uscc"], "name": r["name"], "type": r["type"], "专职研发人员（人）": "30"} for r in EN_UNITS]
    assert list(load_registry(one_table(tmp_path, "units", rows)).units["rd_staff"]) == [30, 30, 30]


def test_two_headers_meaning_the_same_column_are_an_error(tmp_path):
    rows = [{"uscc": r["uscc"], "name": r["name"], "单位名称": r["name"], "type": r["type"]} for r in EN_UNITS]
    probs = problems_of(one_table(tmp_path, "units", rows))
    assert len(probs) == 1
    p = probs[0]
    assert (p.source, p.row, p.column, p.value) == ("units.csv", 1, "单位名称", None)
    assert "'name'" in p.expected


@pytest.mark.parametrize(("second", "encoding", "copies"), [
    ("revenue", "utf-8", 1), ("revenue", "utf-8-sig", 1000), ("revenue", "gb18030", 1000), ("revenue", "utf-16", 1),
    ("Revenue", "utf-8", 1), ("上年度主营业务收入", "utf-8", 1),
])
def test_a_header_repeated_exactly_is_the_same_error_as_two_spellings(tmp_path, second, encoding, copies):
    # pandas reads a repeated header as revenue.1, which used to load as an unknown column.
    # 1000 copies of the rows make a file that takes the large-file path (bytes to the C parser).
    columns = ["uscc", "name", "type", "city", "revenue", second]
    rows = [{"uscc": r["uscc"], "name": r["name"], "type": r["type"], "city": r["city"], "revenue": "1"}
            for r in EN_UNITS] * copies
    folder = english(tmp_path / "r")
    (folder / "units.csv").write_text(",".join(columns) + "\n" + "".join(
        ",".join([*r.values(), "2"]) + "\n" for r in rows), encoding=encoding)
    assert copies == 1 or (folder / "units.csv").stat().st_size > 1 << 16
    probs = problems_of(folder)
    assert [(p.source, p.row, p.column, p.value) for p in probs] == [("units.csv", 1, second, None)]
    assert probs[0].expected == f"two columns both mean 'revenue' ('revenue' in column E and '{second}' in column F)"


def test_a_genuine_header_ending_in_dot_1_is_an_unknown_column(tmp_path):
    folder = english(tmp_path / "r")
    lines = ["uscc,name,type,revenue,revenue.1,备注,备注"] + [
        f"{r['uscc']},{r['name']},{r['type']},{i},x{i},a{i},b{i}" for i, r in enumerate(EN_UNITS)]
    (folder / "units.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    reg = load_registry(folder)
    assert list(reg.units["revenue"]) == [0.0, 1.0, 2.0]
    assert list(reg.units["revenue.1"]) == ["x0", "x1", "x2"]
    assert list(reg.units["备注"]) == ["a0", "a1", "a2"] and list(reg.units["备注.1"]) == ["b0", "b1", "b2"]


# --------------------------------------------------------------------------- encodings


@pytest.mark.parametrize(("encoding", "detected"), [
    ("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("gb18030", "gb18030"), ("gbk", "gb18030"), ("utf-16", "utf-16"),
])
def test_encodings_are_detected(tmp_path, encoding, detected):
    en = load_registry(write_registry(tmp_path / "ref", zh("units", EN_UNITS), zh("consortia", EN_CONSORTIA),
                                      zh("memberships", EN_MEMBERSHIPS)))
    folder = write_registry(tmp_path / encoding, zh("units", EN_UNITS), zh("consortia", EN_CONSORTIA),
                            zh("memberships", EN_MEMBERSHIPS), encoding=encoding)
    reg = load_registry(folder)
    assert_same_tables(en, reg)
    assert reg.units["name"].iloc[0] == "单位1有限公司"
    assert reg.consortia["name"].iloc[0] == "广西新能源汽车创新联合体"
    assert {s.encoding for s in reg.sources.values()} == {detected}


def test_gb18030_only_characters_survive(tmp_path):
    # 𠀀 (U+20000) and € exist in GB18030 but not in GBK.
    rows = [dict(r) for r in EN_UNITS]
    rows[0]["name"] = "𠀀€科技有限公司"
    folder = write_registry(tmp_path / "r", rows, EN_CONSORTIA, EN_MEMBERSHIPS, encoding="gb18030")
    assert load_registry(folder).units["name"].iloc[0] == "𠀀€科技有限公司"


@pytest.mark.parametrize(("encoding", "detected"), [
    ("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("gb18030", "gb18030"), ("utf-16", "utf-16"),
])
def test_large_files_are_read_in_their_encoding(tmp_path, encoding, detected):
    """Files past the size that is parsed before being decoded: a GB18030 file whose
    first non-ASCII byte comes after the parser's first chunk is still read as GB18030."""
    filler = [{**unit(100 + i), "name": f"unit {i} limited", "city": ""} for i in range(3000)]  # ASCII only
    rows = [*filler, *EN_UNITS[1:], {**EN_UNITS[0], "name": "𠀀€科技有限公司"}]
    folder = write_registry(tmp_path / encoding, rows, EN_CONSORTIA, EN_MEMBERSHIPS, encoding=encoding)
    assert (folder / "units.csv").stat().st_size > 1 << 17
    reg = load_registry(folder)
    assert reg.units["name"].iloc[-1] == "𠀀€科技有限公司" and len(reg.units) == len(rows)
    assert reg.sources["units"].encoding == detected


def test_large_files_with_nul_or_undecodable_bytes_are_input_errors(tmp_path):
    folder = english(tmp_path / "r")
    body = "".join(f"{code(200 + i)},unit {i},enterprise\n" for i in range(3000)).encode()
    (folder / "units.csv").write_bytes(b"uscc,name,type\n" + body + b"\x00,x,y\n")
    probs = problems_of(folder)
    assert [(p.source, p.row) for p in probs] == [("units.csv", None)] and "NUL" in probs[0].expected
    (folder / "units.csv").write_bytes(b"uscc,name,type\n" + body + b"\xff\xff\xff,x,y\n")
    probs = problems_of(folder)
    assert [(p.source, p.row) for p in probs] == [("units.csv", None)]
    assert "neither UTF-8 nor GB18030" in probs[0].expected


def test_undecodable_bytes_are_an_input_error(tmp_path):
    folder = english(tmp_path / "r")
    (folder / "units.csv").write_bytes(b"uscc,name,type\n\xff\xff\xff,x,y\n")
    probs = problems_of(folder)
    assert [(p.source, p.row) for p in probs] == [("units.csv", None)]
    assert "neither UTF-8 nor GB18030" in probs[0].expected


# --------------------------------------------------------------------------- value forms


def units_with(tmp_path: Path, column: str, cells: list[str]) -> Path:
    rows = [{**unit(10 + i), column: c} for i, c in enumerate(cells)]
    return one_table(tmp_path, "units", [*EN_UNITS, *rows])


@pytest.mark.parametrize(("cell", "expected"), [
    ("2024-05-30", "2024-05-30"), ("2024/5/3", "2024-05-03"), ("2024年5月3日", "2024-05-03"),
    ("2024-05-30 00:00:00", "2024-05-30"), (" 2024-5-3 ", "2024-05-03"), ("２０２４－０５－３０", "2024-05-30"),
    ("2024-02-29", "2024-02-29"),
    # Real dates outside pandas' nanosecond range (1677-09-22 to 2262-04-11): read as any other.
    ("2999-12-31", "2999-12-31"), ("2300年1月1日", "2300-01-01"), ("1900-01-01", "1900-01-01"),
    ("9999-12-31", "9999-12-31"),
])
def test_date_forms(tmp_path, cell, expected):
    reg = load_registry(units_with(tmp_path, "credit_blacklist_until", [cell]))
    assert reg.units["credit_blacklist_until"].iloc[-1] == pd.Timestamp(expected)


@pytest.mark.parametrize("cell", ["2023-02-30", "2024-13-01", "2024/5/32", "30/5/2024", "2024-05-30 12:00:00",
                                  "yesterday", "0000-01-01", "0000/1/1", "10000-01-01",
                                  "0224-05-30", "1024/5/30", "1899-12-31"])  # typos for 2024: before 1900
def test_invalid_dates_are_rejected_with_the_cell(tmp_path, cell):
    probs = problems_of(units_with(tmp_path, "credit_blacklist_until", [cell]))
    assert [(p.source, p.row, p.column, p.value) for p in probs] == [("units.csv", 5, "credit_blacklist_until", cell)]
    assert "date" in probs[0].expected


@pytest.mark.parametrize(("cell", "expected"), [
    ("12000", 12000.0), ("1.2亿", 12000.0), ("1,200万元", 1200.0), ("1.2亿元", 12000.0), ("800万", 800.0),
    ("０.５", 0.5), ("１２０００", 12000.0), ("1，200", 1200.0), ("0", 0.0), ("12000.50", 12000.5),
    ("12,000", 12000.0), ("1,234.5", 1234.5), ("1,234,567", 1234567.0), ("12 000", 12000.0), ("1.2 亿", 12000.0),
    ("50000元", 5.0), ("3千元", 0.3), ("2千万元", 2000.0),
])
def test_money_forms(tmp_path, cell, expected):
    reg = load_registry(units_with(tmp_path, "revenue", [cell]))
    assert reg.units["revenue"].iloc[-1] == pytest.approx(expected)


@pytest.mark.parametrize("cell", ["-5", "-1.2亿", "12 thousand", "1.2.3", "1e5", "NaN", "inf", "9" * 400,
                                  # A comma (or a space) only between groups of three digits: "1,2" read as 12.
                                  "1,2", "1,2345", "12,34.5", "1,000,00", ",500", "1,", "1 2", "1.2,3", "5 USD"])
def test_bad_money_is_rejected(tmp_path, cell):
    probs = problems_of(units_with(tmp_path, "revenue", [cell]))
    assert [(p.source, p.row, p.column, p.value) for p in probs] == [("units.csv", 5, "revenue", cell)]
    assert "non-negative amount" in probs[0].expected


def test_whole_numbers(tmp_path):
    reg = load_registry(units_with(tmp_path, "rd_staff", ["30", "30.0", "30人", "１２"]))
    assert list(reg.units["rd_staff"].iloc[-4:]) == [30, 30, 30, 12]
    probs = problems_of(units_with(tmp_path / "bad", "rd_staff", ["-3", "3.5", "lots", "1,2", "1,200"]))
    assert [(p.row, p.value) for p in probs] == [(5, "-3"), (6, "3.5"), (7, "lots"), (8, "1,2")]
    assert load_registry(units_with(tmp_path / "grouped", "rd_staff", ["1,200"])).units["rd_staff"].iloc[-1] == 1200


def test_booleans(tmp_path):
    cells = ["true", "false", "yes", "no", "1", "0", "是", "否", "TRUE", " Yes ", ""]
    reg = load_registry(units_with(tmp_path, "tech_enterprise", cells))
    got = list(reg.units["tech_enterprise"].iloc[-len(cells):])
    assert got == [True, False, True, False, True, False, True, False, True, True, None]
    probs = problems_of(units_with(tmp_path / "bad", "tech_enterprise", ["maybe"]))
    assert [(p.row, p.column, p.value) for p in probs] == [(5, "tech_enterprise", "maybe")]


def test_lists_split_on_ascii_and_full_width_semicolons(tmp_path):
    mem = [dict(r) for r in EN_MEMBERSHIPS]
    mem[0]["segments"] = "a;b"
    mem[1]["segments"] = "a；b"
    mem[2]["segments"] = " S1 ; ;S2 "
    reg = load_registry(one_table(tmp_path, "memberships", mem))
    assert list(reg.memberships["segments"]) == [("A", "B"), ("A", "B"), ("S1", "S2"), ()]


def test_segment_ids_match_chains_whatever_their_case(tmp_path):
    folder = english(tmp_path / "r")
    cons = [dict(r) for r in EN_CONSORTIA]
    cons[1]["chain_id"] = "nev"
    cons[0]["chain_id"] = ""
    write_csv(folder / "consortia.csv", cons)
    mem = [dict(r) for r in EN_MEMBERSHIPS]
    mem[1]["segments"] = "battery；motor"
    write_csv(folder / "memberships.csv", mem)
    write_csv(folder / "chains.csv", [
        {"chain_id": "nev", "segment_id": "battery", "stage": "上游", "parent": "", "feeds": "motor"},
        {"chain_id": "nev", "segment_id": "motor", "stage": "中游", "parent": "battery", "feeds": ""},
    ])
    reg = load_registry(folder)
    assert reg.memberships["segments"].iloc[1] == ("BATTERY", "MOTOR")
    assert list(reg.tables["chains"]["segment_id"]) == ["BATTERY", "MOTOR"]
    assert list(reg.tables["chains"]["stage"]) == ["upstream", "midstream"]


@pytest.mark.parametrize(("column", "cells", "expected"), [
    ("type", ["企业", "高校", "高等学校", "科研院所", "技术转移机构", "技术服务机构", "其他", "Enterprise", " UNIVERSITY "],
     ["enterprise", "university", "university", "institute", "tech_transfer", "service", "other", "enterprise",
      "university"]),
    ("legal_status", ["存续", "注销", "吊销", "Active"], ["active", "deregistered", "revoked", "active"]),
    ("platform_level", ["国家级", "省部级", "自治区级", "市级", "无"],
     ["national", "provincial", "provincial", "municipal", "none"]),
    ("sector", ["制造业", "科技与信息服务业", "其他"], ["manufacturing", "tech_services", "other"]),
])
def test_unit_enums_in_english_and_chinese(tmp_path, column, cells, expected):
    reg = load_registry(units_with(tmp_path, column, cells))
    assert list(reg.units[column].iloc[-len(cells):]) == expected


def test_roles_in_english_and_chinese(tmp_path):
    roles = ["牵头单位", "核心层", "紧密合作层", "一般协作层", "Lead", "CORE", " close ", "general"]
    us = [unit(i) for i in range(1, len(roles) + 1)]
    mem = [{"consortium_id": "GX-1", "uscc": code(i + 1), "role": r} for i, r in enumerate(roles)]
    reg = load_registry(write_registry(tmp_path / "r", us, EN_CONSORTIA, mem))
    assert list(reg.memberships["role"]) == ["lead", "core", "close", "general", "lead", "core", "close", "general"]


def test_jurisdictions_by_any_name(tmp_path):
    names = ["南宁市", "Nanning", "南宁", "nanning", "广西", "广西壮族自治区", "Guangxi", "柳州市", "Liaoyang", "南京"]
    cons = [{"consortium_id": f"C-{i}", "jurisdiction": n} for i, n in enumerate(names)]
    mem = [{"consortium_id": "C-0", "uscc": code(1), "role": "lead"}]
    reg = load_registry(write_registry(tmp_path / "r", EN_UNITS, cons, mem))
    assert list(reg.consortia["jurisdiction"]) == ["nanning"] * 4 + ["guangxi"] * 3 + ["liuzhou", "liaoyang",
                                                                                       "nanjing"]
    probs = problems_of(write_registry(tmp_path / "bad", EN_UNITS, [*cons, {"consortium_id": "C-X",
                                                                             "jurisdiction": "杭州市"}], mem))
    assert [(p.source, p.row, p.column, p.value) for p in probs] == [("consortia.csv", 12, "jurisdiction", "杭州市")]
    assert "nanning" in probs[0].expected


def test_codes_are_upper_cased_and_despaced(tmp_path):
    mem = [dict(r) for r in EN_MEMBERSHIPS]
    mem[2]["uscc"] = " " + code(2).lower()[:9] + " " + code(2).lower()[9:] + " "
    mem[2]["consortium_id"] = "nn-1"
    reg = load_registry(one_table(tmp_path, "memberships", mem))
    assert reg.memberships["uscc"].iloc[2] == code(2)
    assert reg.memberships["consortium_id"].iloc[2] == "NN-1"


def test_unknown_columns_are_kept_under_their_header(tmp_path):
    folder = english(tmp_path / "r")
    write_csv(folder / "units.csv", [{**r, "备注": f"note {i}", "Contact Person": "张三"} for i, r in enumerate(EN_UNITS)])
    write_csv(folder / "consortia.csv", [{**r, "批次": "第一批"} for r in EN_CONSORTIA])
    reg = load_registry(folder)
    assert list(reg.units["备注"]) == ["note 0", "note 1", "note 2"]
    assert list(reg.units["Contact Person"]) == ["张三"] * 3
    assert list(reg.consortia["批次"]) == ["第一批", "第一批"]
    assert "备注" not in reg.sources["units"].headers.values()


def test_missing_optional_columns_are_present_and_empty(tmp_path):
    us = [{"uscc": r["uscc"], "name": r["name"], "type": r["type"]} for r in EN_UNITS]
    cons = [{"consortium_id": r["consortium_id"], "jurisdiction": r["jurisdiction"]} for r in EN_CONSORTIA]
    mem = [{"consortium_id": r["consortium_id"], "uscc": r["uscc"], "role": r["role"]} for r in EN_MEMBERSHIPS[:3]]
    reg = load_registry(write_registry(tmp_path / "r", us, cons, mem))
    assert reg.units["revenue"].isna().all() and (reg.units["city"] == "").all()
    assert reg.memberships["joined_on"].isna().all()
    assert list(reg.memberships["segments"]) == [(), (), ()]
    assert (reg.consortia["recognized_from"] == "").all()
    assert list(reg.consortia["body_id"]) == ["GX-1", "NN-1"]


# --------------------------------------------------------------------------- workbooks


def write_workbook(path: Path, sheets: dict[str, list[dict[str, Any]]]) -> Path:
    with pd.ExcelWriter(path, engine="openpyxl") as xw:
        for name, rows in sheets.items():
            pd.DataFrame(rows, dtype=str).to_excel(xw, sheet_name=name, index=False)
    return path


@pytest.mark.parametrize("names", [("units", "consortia", "memberships"), ("单位", "创新联合体", "成员")])
def test_workbook_loads_the_same_registry_as_csv(tmp_path, names):
    en = load_registry(english(tmp_path / "en"))
    path = write_workbook(tmp_path / "registry.xlsx", dict(zip(names, (EN_UNITS, EN_CONSORTIA, EN_MEMBERSHIPS),
                                                               strict=True)))
    reg = load_registry(path)
    assert_same_tables(en, reg)
    assert reg.sources["units"].label == f"registry.xlsx[{names[0]}]"
    assert reg.sources["units"].sheet == names[0]


def test_workbook_with_chinese_headers_and_sheet_names(tmp_path):
    en = load_registry(english(tmp_path / "en"))
    path = write_workbook(tmp_path / "登记表.xlsx", {"单位": zh("units", EN_UNITS),
                                                     "创新联合体": zh("consortia", EN_CONSORTIA),
                                                     "成员": zh("memberships", EN_MEMBERSHIPS),
                                                     "说明": [{"x": "not a table"}]})
    assert_same_tables(en, load_registry(path))


def excel_registry(path: Path, units_rows: list[list[Any]]) -> Path:
    """A workbook written cell by cell, so cells can be typed (numbers, dates, text) and rows left blank."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "units"
    for r, row in enumerate(units_rows, start=1):
        for c, v in enumerate(row, start=1):
            if v is not None:
                ws.cell(row=r, column=c, value=v)
    ws = wb.create_sheet("consortia")
    ws.append(["consortium_id", "jurisdiction", "recognized_on"])
    ws.append(["0012", "南宁", pd.Timestamp("2024-05-30").to_pydatetime()])
    ws = wb.create_sheet("memberships")
    ws.append(["consortium_id", "uscc", "role"])
    ws.append(["0012", code(1), "牵头单位"])
    wb.save(path)
    return path


def test_workbook_typed_cells_and_leading_zeros(tmp_path):
    path = excel_registry(tmp_path / "typed.xlsx", [
        ["uscc", "name", "type", "revenue", "rd_staff", "tech_enterprise"],
        [code(1), "单位1有限公司", "企业", 12000, 30, True],
        [None, None, None, None, None, None],
        ["X-0042", "Foreign GmbH", "other", 2.5, None, False],
    ])
    reg = load_registry(path)
    assert list(reg.consortia["consortium_id"]) == ["0012"]
    assert reg.consortia["recognized_on"].iloc[0] == pd.Timestamp("2024-05-30")
    assert list(reg.units["uscc"]) == [code(1), "X-0042"]
    assert list(reg.units["revenue"]) == [12000.0, 2.5]
    assert reg.units["rd_staff"].iloc[0] == 30
    assert list(reg.units["tech_enterprise"]) == [True, False]
    # The blank Excel row 3 is skipped without renumbering row 4.
    assert list(reg.units["_row"]) == [2, 4]


def test_workbook_errors_give_the_excel_row(tmp_path):
    path = excel_registry(tmp_path / "bad.xlsx", [
        ["uscc", "name", "type"],
        [code(1), "单位1有限公司", "企业"],
        [None, None, None],
        [code(2), "单位2有限公司", "企业"],
        [code(3), "单位3有限公司", "合作社"],
    ])
    probs = problems_of(path)
    assert [(p.source, p.row, p.column, p.value) for p in probs] == [("bad.xlsx[units]", 5, "type", "合作社")]


def test_workbook_repeated_unknown_headers_are_kept_apart(tmp_path):
    path = excel_registry(tmp_path / "dup.xlsx", [
        ["uscc", "name", "type", "备注", "备注", "备注.1"],
        [code(1), "单位1有限公司", "企业", "a", "b", "c"],
    ])
    reg = load_registry(path)
    assert reg.units["uscc"].iloc[0] == code(1)
    assert reg.units["备注"].iloc[0] == "a" and reg.units["备注.2"].iloc[0] == "b"
    assert reg.units["备注.1"].iloc[0] == "c"


def test_workbook_repeated_known_header_is_an_error(tmp_path):
    path = excel_registry(tmp_path / "dup.xlsx", [
        ["uscc", "name", "type", "uscc"],
        [code(1), "单位1有限公司", "企业", code(9)],
    ])
    probs = problems_of(path)
    assert [(p.source, p.row, p.column, p.value) for p in probs] == [("dup.xlsx[units]", 1, "uscc", None)]
    assert probs[0].expected == "two columns both mean 'uscc' ('uscc' in column A and 'uscc' in column D)"


def rewrite_sheet_xml(path: Path, sheet_member: str, edit) -> None:
    """Edit one worksheet's XML inside a saved workbook (to write what openpyxl cannot:
    formulas with a saved result)."""
    import zipfile
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    parts[sheet_member] = edit(parts[sheet_member].decode()).encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for n, data in parts.items():
            z.writestr(n, data)


ERRORS = ["#REF!", "#N/A", "#VALUE!", "#DIV/0!", "#NAME?", "#NULL!", "#NUM!"]


def test_workbook_error_cells_and_unsaved_formulas_are_problems(tmp_path):
    # python-calamine reads all of these as empty cells, like blank ones.
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "说明"
    ws.append(["#REF!"])  # not a table: not looked at
    ws = wb.create_sheet("单位")
    ws.append(["uscc", "name", "type", "city", "revenue", None])
    for i, err in enumerate(ERRORS):
        ws.append([code(i + 1), f"单位{i}", "企业", err, 1, "#REF!"])  # no header in F: not read
    ws.append([code(20), "=A2", "企业", "南宁", "=E2*2"])  # row 9: formulas never calculated
    ws.append([code(21), "=A3", "企业", "#REF! 后", "=E3*2"])  # row 10: text; formulas with saved results
    ws.append([code(22), "单位22", "企业", '=IF(1,"","x")', "#N/A"])  # row 11: an empty text result is a value
    ws.append([None, None, None, None, "#VALUE!"])  # row 12: an error alone on its row
    ws = wb.create_sheet("创新联合体")
    ws.append(["consortium_id", "jurisdiction"])
    ws.append(["C1", "南宁"])
    ws = wb.create_sheet("成员")
    ws.append(["consortium_id", "uscc", "role"])
    ws.append(["C1", code(1), "#N/A"])
    path = tmp_path / "book.xlsx"
    wb.save(path)

    def saved_results(xml: str) -> str:
        for ref, result in (("B10", '<v>910000000000000000</v>'), ("E10", "<v>2</v>")):
            xml = re.sub(rf'(<c r="{ref}"[^>]*>)(<f>[^<]*</f>)<v\s*/>', rf"\1\2{result}", xml)
        return re.sub(r'<c r="D11"([^>]*)><f>([^<]*)</f><v\s*/>', r'<c r="D11" t="str"\1><f>\2</f><v></v>', xml)
    rewrite_sheet_xml(path, "xl/worksheets/sheet2.xml", saved_results)

    got = [(p.source, p.row, p.column, p.value) for p in problems_of(path)]
    assert got == [
        *[("book.xlsx[单位]", i + 2, "city", err) for i, err in enumerate(ERRORS)],
        ("book.xlsx[单位]", 9, "name", "=A2"), ("book.xlsx[单位]", 9, "revenue", "=E2*2"),
        ("book.xlsx[单位]", 11, "revenue", "#N/A"), ("book.xlsx[单位]", 12, "revenue", "#VALUE!"),
        ("book.xlsx[成员]", 2, "role", "#N/A"),
    ]
    by_row = {(p.row, p.column): p for p in problems_of(path)}
    assert str(by_row[(3, "city")]) == "book.xlsx[单位], row 3, column city: '#N/A': an Excel error, not a value"
    assert "no saved result" in by_row[(9, "name")].expected


def test_many_error_cells_in_one_column_are_counted_past_the_limit(tmp_path, monkeypatch):
    monkeypatch.setattr("consortia.loaders.load.MAX_PROBLEMS_PER_COLUMN", 3)
    path = excel_registry(tmp_path / "many.xlsx", [["uscc", "name", "type", "city"]]
                          + [[code(i), f"单位{i}", "企业", "#N/A"] for i in range(1, 9)])
    got = [(p.row, p.column, p.value, p.expected) for p in problems_of(path)]
    assert got == [(r, "city", "#N/A", "an Excel error, not a value") for r in (2, 3, 4)] + [
        (None, "city", None, "... and 5 more cells like these")]


def test_workbook_formulas_with_saved_results_are_read_as_their_results(tmp_path):
    path = excel_registry(tmp_path / "calc.xlsx", [
        ["uscc", "name", "type", "revenue", "city"],
        [code(1), '="单位"&"1"', "企业", "=1+1", '=IF(1,"","x")'],
    ])

    def saved(xml: str) -> str:  # as Excel saves them: each formula with its last result
        xml = re.sub(r'<c r="B2"([^>]*)><f>([^<]*)</f><v\s*/>', r'<c r="B2" t="str"\1><f>\2</f><v>单位1</v>', xml)
        xml = re.sub(r'<c r="D2"([^>]*)><f>([^<]*)</f><v\s*/>', r'<c r="D2"\1><f>\2</f><v>2</v>', xml)
        return re.sub(r'<c r="E2"([^>]*)><f>([^<]*)</f><v\s*/>', r'<c r="E2" t="str"\1><f>\2</f><v></v>', xml)
    rewrite_sheet_xml(path, "xl/worksheets/sheet1.xml", saved)
    reg = load_registry(path)
    assert (reg.units["name"].iloc[0], reg.units["revenue"].iloc[0], reg.units["city"].iloc[0]) == ("单位1", 2.0, "")


def test_error_cells_are_found_in_prefixed_xml_and_across_blocks(tmp_path, monkeypatch):
    # Some writers (the .NET Open XML SDK) prefix every element; the scan reads the XML in
    # blocks cut after a row, here a few hundred bytes, so cells straddle the blocks.
    import zipfile

    from consortia.loaders import excel_cells
    monkeypatch.setattr(excel_cells, "_BLOCK", 300)
    rows = "".join(
        f'<x:row r="{r}"><x:c r="A{r}" t="inlineStr"><x:is><x:t>u{r}</x:t></x:is></x:c>'
        + (f'<x:c r="C{r}" s="1" t="e"><x:f>VLOOKUP(A{r},T!A:B,2,0)</x:f><x:v>#N/A</x:v></x:c>' if r % 7 == 0 else
           f'<x:c r="C{r}"><x:f t="shared" si="0"/></x:c>' if r % 11 == 0 else f'<x:c r="C{r}"><x:v>{r}</x:v></x:c>')
        + "</x:row>" for r in range(1, 60))
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    pkg = "http://schemas.openxmlformats.org/package/2006/relationships"
    path = tmp_path / "prefixed.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("_rels/.rels", f'<Relationships xmlns="{pkg}"><Relationship Id="r1" '
                                  f'Type="{rel}/officeDocument" Target="/wb/book.xml"/></Relationships>')
        z.writestr("wb/_rels/book.xml.rels", f'<Relationships xmlns="{pkg}"><Relationship Id="s1" '
                                             f'Type="{rel}/worksheet" Target="sheets/one.xml"/></Relationships>')
        z.writestr("wb/book.xml", f'<x:workbook xmlns:x="{main}" xmlns:r="{rel}"><x:sheets>'
                                  f'<x:sheet name="单位" sheetId="1" r:id="s1"/></x:sheets></x:workbook>')
        z.writestr("wb/sheets/one.xml", f'<x:worksheet xmlns:x="{main}"><x:sheetData>{rows}</x:sheetData>'
                                        "</x:worksheet>")
    cells = excel_cells.unreadable_cells(path, ["单位"])["单位"]
    assert [(c.row, c.column, c.value, c.error) for c in cells] == [
        (r, 2, "#N/A", True) if r % 7 == 0 else (r, 2, "", False) for r in range(1, 60) if r % 7 == 0 or r % 11 == 0]


def test_workbook_missing_sheet_and_unreadable_workbook(tmp_path):
    path = write_workbook(tmp_path / "two.xlsx", {"units": EN_UNITS, "consortia": EN_CONSORTIA})
    probs = problems_of(path)
    assert [(p.source, p.row, p.column) for p in probs] == [("two.xlsx", None, None)]
    assert "'memberships'" in probs[0].expected
    junk = tmp_path / "junk.xlsx"
    junk.write_bytes(b"this is not a zip file")
    probs = problems_of(junk)
    assert [p.source for p in probs] == ["junk.xlsx"] and "cannot read the workbook" in probs[0].expected


# --------------------------------------------------------------------------- errors


def test_missing_required_table(tmp_path):
    folder = english(tmp_path / "reg")
    (folder / "memberships.csv").unlink()
    probs = problems_of(folder)
    assert [(p.source, p.row, p.column, p.value) for p in probs] == [("reg", None, None, None)]
    assert "'memberships'" in probs[0].expected and "成员" in probs[0].expected


@pytest.mark.parametrize("given", [".", "..", "./"])
def test_a_registry_given_as_the_current_or_parent_folder_is_named_by_that_folder(tmp_path, monkeypatch, given):
    # Path(".").name is "": the problem used to read ": the required table 'units' … is missing".
    folder = tmp_path / "登记册"
    (folder / "sub").mkdir(parents=True)
    monkeypatch.chdir(folder if given != ".." else folder / "sub")
    probs = problems_of(Path(given))
    assert {p.source for p in probs} == {"登记册"}
    assert len(probs) == 3 and all("is missing" in p.expected for p in probs)
    result = CliRunner().invoke(main, ["check", given])
    assert result.exit_code == 2
    assert result.output.count("登记册: the required table") == 3


def test_missing_required_column(tmp_path):
    rows = [{k: v for k, v in r.items() if k != "type"} for r in EN_UNITS]
    probs = problems_of(one_table(tmp_path, "units", rows))
    assert [(p.source, p.row, p.column, p.value) for p in probs] == [("units.csv", 1, "type", None),
                                                                      ("units.csv", 1, None, None)]
    assert "单位类型" in probs[0].expected
    # What was read is said once per table, beside the missing columns.
    assert probs[1].expected == ("the header row read has 8 columns: 'uscc', 'name', 'city', 'revenue', 'rd_staff', …")


@pytest.mark.parametrize(("sep", "encoding", "name", "advice"), [
    (";", "utf-8", "';'", "sep=;"),
    ("|", "gb18030", "'|'", "sep=|"),
    ("\t", "utf-16", "tabs (Excel's “Unicode Text” is tab-separated)", "sep= followed by a tab"),
])
def test_a_file_with_another_separator_names_it(tmp_path, sep, encoding, name, advice):
    folder = english(tmp_path / "r")
    rows = pd.read_csv(folder / "units.csv", dtype=str, keep_default_na=False)
    (folder / "units.txt" if sep == "\t" else folder / "units.csv").write_text(
        rows.to_csv(index=False, sep=sep), encoding=encoding)
    if sep == "\t":
        (folder / "units.csv").unlink()  # Excel saves "Unicode Text" as .txt
    probs = problems_of(folder)
    source = "units.txt" if sep == "\t" else "units.csv"
    assert [(p.source, p.row, p.column) for p in probs] == [(source, 1, c) for c in ("uscc", "name", "type", None)]
    header = sep.join(rows.columns)
    assert probs[-1].expected.startswith(f"the header row read has 1 column: {header!r}; the file looks separated by "
                                         f"{name}, not commas (splitting on it gives uscc, name, type")
    assert probs[-1].expected.endswith(advice)


def test_a_sep_line_that_contradicts_the_file_is_pointed_out(tmp_path):
    folder = english(tmp_path / "r")
    (folder / "units.csv").write_text("sep=;\n" + (folder / "units.csv").read_text(encoding="utf-8"), encoding="utf-8")
    hint = problems_of(folder)[-1].expected
    assert "the file looks separated by commas, not ';' (splitting on it gives uscc, name, type" in hint
    assert hint.endswith("delete its first line sep=;")


def test_a_title_row_above_the_header_is_pointed_out(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "单位"
    ws.append(["南宁市创新联合体成员单位名录（2025年）"])
    ws.append([])
    ws.append(["统一社会信用代码", "单位名称", "单位类型"])
    ws.append([code(1), "单位1有限公司", "企业"])
    for name, rows in (("consortia", [EN_CONSORTIA[0]]), ("memberships", [EN_MEMBERSHIPS[0]])):
        ws = wb.create_sheet(name)
        ws.append(list(rows[0]))
        ws.append(list(rows[0].values()))
    wb.save(tmp_path / "book.xlsx")
    probs = problems_of(tmp_path / "book.xlsx")
    assert [(p.source, p.row, p.column) for p in probs] == [("book.xlsx[单位]", 1, c) for c in ("uscc", "name", "type",
                                                                                                None)]
    assert probs[-1].expected == ("the header row read has 1 column: '南宁市创新联合体成员单位名录（2025年）'; row 3 looks "
                                  "like the header row (it holds uscc, name, type): delete the rows above it, so that "
                                  "the header is row 1")


def test_a_sheet_of_comma_separated_text_is_pointed_out(tmp_path):
    path = excel_registry(tmp_path / "pasted.xlsx", [["uscc,name,type"], [f"{code(1)},单位1有限公司,企业"]])
    probs = problems_of(path)
    assert probs[-1].expected == ("the header row read has 1 column: 'uscc,name,type'; its cells look like text "
                                  "separated by commas (splitting them gives uscc, name, type): split them into "
                                  "columns (Data › Text to Columns)")


def test_empty_required_cell(tmp_path):
    mem = [dict(r) for r in EN_MEMBERSHIPS]
    mem[2]["role"] = "  "
    probs = problems_of(one_table(tmp_path, "memberships", mem))
    assert [(p.source, p.row, p.column) for p in probs] == [("memberships.csv", 4, "role")]
    assert probs[0].expected == "a value is required here"


def test_unknown_enum_value(tmp_path):
    rows = [dict(r) for r in EN_UNITS]
    rows[1]["type"] = "合作社"
    probs = problems_of(one_table(tmp_path, "units", rows))
    assert [(p.source, p.row, p.column, p.value) for p in probs] == [("units.csv", 3, "type", "合作社")]
    assert probs[0].expected.startswith("one of enterprise (企业)")


def test_unknown_enum_reported_under_the_header_as_written(tmp_path):
    mem = zh("memberships", EN_MEMBERSHIPS)
    mem[3]["角色/层级"] = "顾问"
    probs = problems_of(one_table(tmp_path, "memberships", mem))
    assert [(p.source, p.row, p.column, p.value) for p in probs] == [("memberships.csv", 5, "角色/层级", "顾问")]


def test_unparseable_date_and_number(tmp_path):
    folder = english(tmp_path / "r")
    cons = [dict(r) for r in EN_CONSORTIA]
    cons[1]["recognized_on"] = "2024-05-32"
    write_csv(folder / "consortia.csv", cons)
    rows = [dict(r) for r in EN_UNITS]
    rows[2]["rd_staff"] = "about 40"
    rows[0]["revenue"] = "12k"
    write_csv(folder / "units.csv", rows)
    got = {(p.source, p.row, p.column, p.value) for p in problems_of(folder)}
    assert got == {("consortia.csv", 3, "recognized_on", "2024-05-32"), ("units.csv", 4, "rd_staff", "about 40"),
                   ("units.csv", 2, "revenue", "12k")}


def test_duplicate_consortium_id_names_the_first_row(tmp_path):
    cons = [*EN_CONSORTIA, {"consortium_id": "NN-2", "jurisdiction": "nanning"},
            {"consortium_id": "nn-1", "jurisdiction": "nanning"}]
    probs = problems_of(one_table(tmp_path, "consortia", cons))
    assert [(p.source, p.row, p.column, p.value) for p in probs] == [("consortia.csv", 5, "consortium_id", "NN-1")]
    assert "already on row 3" in probs[0].expected


def test_segment_parent_cycles_are_reported_on_the_parent_cell(tmp_path):
    folder = english(tmp_path / "r")
    write_csv(folder / "chains.csv", [
        {"chain_id": "NEV", "segment_id": "S1", "parent": "S2"},
        {"chain_id": "NEV", "segment_id": "S2", "parent": "s1"},  # S1 -> S2 -> S1
        {"chain_id": "NEV", "segment_id": "S3", "parent": "S1"},  # below the cycle, not on it
        {"chain_id": "NEV", "segment_id": "S4", "parent": "S4"},  # its own parent
        {"chain_id": "ALU", "segment_id": "S1", "parent": ""},  # the same ids in another chain are a tree
        {"chain_id": "ALU", "segment_id": "S2", "parent": "S1"},
    ])
    probs = problems_of(folder)
    assert [(p.source, p.row, p.column, p.value) for p in probs] == [
        ("chains.csv", 2, "parent", "S2"), ("chains.csv", 3, "parent", "S1"), ("chains.csv", 5, "parent", "S4")]
    assert [p.expected.split("(")[1] for p in probs] == ["a cycle: S1 → S2 → S1)", "a cycle: S2 → S1 → S2)",
                                                         "a cycle: S4 → S4)"]
    assert all(p.expected.startswith("parent must not lead back to the same segment") for p in probs)
    write_csv(folder / "chains.csv", [
        {"chain_id": "NEV", "segment_id": "S1", "parent": ""},
        {"chain_id": "NEV", "segment_id": "S2", "parent": "S1"},
        {"chain_id": "NEV", "segment_id": "S3", "parent": "S2"},
    ])
    assert list(load_registry(folder).tables["chains"]["parent"]) == ["", "S1", "S2"]


def test_duplicate_consortium_id_with_chains_and_segments_is_reported_not_a_crash(tmp_path):
    folder = english(tmp_path / "r")
    cons = [{**r, "chain_id": "NEV"} for r in EN_CONSORTIA] + [{"consortium_id": "NN-1", "jurisdiction": "nanning",
                                                                "chain_id": "NEV"}]
    write_csv(folder / "consortia.csv", cons)
    write_csv(folder / "memberships.csv", [{**r, "segments": "BAT"} for r in EN_MEMBERSHIPS])
    write_csv(folder / "chains.csv", [{"chain_id": "NEV", "segment_id": "BAT"}])
    probs = problems_of(folder)
    assert [(p.source, p.row, p.column, p.value) for p in probs] == [("consortia.csv", 4, "consortium_id", "NN-1")]


def test_duplicate_membership_key(tmp_path):
    mem = [*EN_MEMBERSHIPS, {"consortium_id": "NN-1", "uscc": code(1), "role": "core", "joined_on": "2024/5/30"}]
    probs = problems_of(one_table(tmp_path, "memberships", mem))
    assert [(p.source, p.row, p.column) for p in probs] == [("memberships.csv", 6, "consortium_id+uscc+joined_on")]
    assert probs[0].value.startswith(f"NN-1 / {code(1)} / 2024-05-30")
    assert "already on row 3" in probs[0].expected


def test_duplicate_membership_without_joined_on(tmp_path):
    # pandas 3 keeps NaT missing through astype(str): the key must still be built and reported.
    mem = [{k: v for k, v in r.items() if k != "joined_on"} for r in EN_MEMBERSHIPS]
    mem.append({"consortium_id": "NN-1", "uscc": code(2), "role": "core"})
    probs = problems_of(one_table(tmp_path, "memberships", mem))
    assert [(p.source, p.row, p.value) for p in probs] == [("memberships.csv", 6, f"NN-1 / {code(2)} / ")]
    assert "already on row 4" in probs[0].expected


def test_invisible_characters_do_not_fill_a_required_cell(tmp_path):
    mem = [dict(r) for r in EN_MEMBERSHIPS]
    mem[1]["uscc"] = "\ufeff"
    mem[2]["consortium_id"] = "\u200b "
    probs = problems_of(one_table(tmp_path, "memberships", mem))
    got = sorted((p.row, p.column, p.expected) for p in probs)
    assert got == [(3, "uscc", "a value is required here"), (4, "consortium_id", "a value is required here")]


def test_leaving_before_joining_is_reported_on_the_left_on_cell(tmp_path):
    mem = [dict(r) for r in EN_MEMBERSHIPS]
    mem[0]["left_on"] = "2023/2/28"  # joined 2023-03-01
    mem[1]["left_on"] = "2024-05-30"  # the day it joined: a membership that counts on no day
    mem[3]["left_on"] = "2020-01-01"  # no joined_on: nothing to compare with
    probs = problems_of(one_table(tmp_path, "memberships", mem))
    assert [(p.source, p.row, p.column, p.value) for p in probs] == [("memberships.csv", 2, "left_on", "2023/2/28")]
    assert "on or after joined_on (2023-03-01)" in probs[0].expected
    mem[0]["left_on"] = "2023-03-02"
    reg = load_registry(one_table(tmp_path / "ok", "memberships", mem))
    assert list(reg.memberships["left_on"].dt.strftime("%Y-%m-%d").fillna("")) == [
        "2023-03-02", "2024-05-30", "", "2020-01-01"]


def test_same_unit_rejoining_on_another_date_is_not_a_duplicate(tmp_path):
    mem = [*EN_MEMBERSHIPS, {"consortium_id": "NN-1", "uscc": code(3, "柳州市"), "role": "core",
                             "joined_on": "2025-06-01"}]
    reg = load_registry(one_table(tmp_path, "memberships", mem))
    assert len(reg.memberships) == 5


def test_membership_naming_unknown_unit_and_unknown_consortium(tmp_path):
    mem = [*EN_MEMBERSHIPS, {"consortium_id": "NN-1", "uscc": code(77), "role": "core"},
           {"consortium_id": "NN-404", "uscc": code(1), "role": "core"}]
    probs = problems_of(one_table(tmp_path, "memberships", mem))
    got = sorted((p.source, p.row, p.column, p.value) for p in probs)
    assert got == [("memberships.csv", 6, "uscc", code(77)), ("memberships.csv", 7, "consortium_id", "NN-404")]
    by_col = {p.column: p.expected for p in probs}
    assert "units table" in by_col["uscc"] and "consortia table" in by_col["consortium_id"]


def test_recognized_from_unknown_consortium(tmp_path):
    cons = [dict(r) for r in EN_CONSORTIA]
    cons[1]["recognized_from"] = "GX-9"
    probs = problems_of(one_table(tmp_path, "consortia", cons))
    assert [(p.source, p.row, p.column, p.value) for p in probs] == [("consortia.csv", 3, "recognized_from", "GX-9")]


def test_recognized_from_cycle(tmp_path):
    cons = [dict(r) for r in EN_CONSORTIA]
    cons[0]["recognized_from"] = "NN-1"  # GX-1 -> NN-1 -> GX-1
    cons.append({"consortium_id": "LZ-1", "jurisdiction": "liuzhou", "recognized_from": "LZ-1"})
    probs = problems_of(one_table(tmp_path, "consortia", cons))
    got = sorted((p.row, p.column, p.value) for p in probs)
    assert got == [(2, "recognized_from", "NN-1"), (3, "recognized_from", "GX-1"), (4, "recognized_from", "LZ-1")]
    assert all("cycle" in p.expected for p in probs)
    assert "GX-1 → NN-1 → GX-1" in next(p.expected for p in probs if p.row == 2)


def test_recognized_from_chain_resolves_to_the_root(tmp_path):
    cons = [*EN_CONSORTIA, {"consortium_id": "NN-1A", "jurisdiction": "nanning", "recognized_from": "NN-1"}]
    reg = load_registry(one_table(tmp_path, "consortia", cons))
    assert list(reg.consortia["body_id"]) == ["GX-1", "GX-1", "GX-1"]


def test_problems_in_several_files_come_in_one_error(tmp_path):
    folder = english(tmp_path / "r")
    rows = [dict(r) for r in EN_UNITS]
    rows[0]["type"] = "合作社"
    rows[2]["credit_blacklist_until"] = "2024-02-30"
    write_csv(folder / "units.csv", rows)
    cons = [*EN_CONSORTIA, {"consortium_id": "GX-1", "jurisdiction": "杭州"}]
    write_csv(folder / "consortia.csv", cons)
    mem = [*EN_MEMBERSHIPS, {"consortium_id": "NN-7", "uscc": code(55), "role": "boss"}]
    write_csv(folder / "memberships.csv", mem)
    write_csv(folder / "evaluations.csv", [{"consortium_id": "NN-1", "evaluated_on": "someday", "grade": "优秀"}])
    got = {(p.source, p.row, p.column, p.value) for p in problems_of(folder)}
    assert got == {
        ("units.csv", 2, "type", "合作社"),
        ("units.csv", 4, "credit_blacklist_until", "2024-02-30"),
        ("consortia.csv", 4, "jurisdiction", "杭州"),
        ("consortia.csv", 4, "consortium_id", "GX-1"),
        ("memberships.csv", 6, "role", "boss"),
        ("memberships.csv", 6, "consortium_id", "NN-7"),
        ("memberships.csv", 6, "uscc", code(55)),
        ("evaluations.csv", 2, "evaluated_on", "someday"),
    }


def test_error_message_lists_every_problem(tmp_path):
    mem = [*EN_MEMBERSHIPS, {"consortium_id": "NN-7", "uscc": code(55), "role": "core"}]
    with pytest.raises(InputError) as info:
        load_registry(one_table(tmp_path, "memberships", mem))
    text = str(info.value)
    assert text.startswith("2 problems in the input:")
    assert "memberships.csv, row 6, column consortium_id: 'NN-7'" in text
    assert f"memberships.csv, row 6, column uscc: '{code(55)}'" in text


def test_blank_lines_do_not_shift_row_numbers(tmp_path):
    folder = english(tmp_path / "r")
    lines = ["uscc,name,type", f"{code(1)},单位1有限公司,enterprise", "", ",,", f"{code(2)},机构2,university",
             "   ", f"{code(3, '柳州市')},机构3,合作社", ""]
    (folder / "units.csv").write_text("\n".join(lines), encoding="utf-8")
    probs = problems_of(folder)
    assert [(p.source, p.row, p.column, p.value) for p in probs] == [("units.csv", 7, "type", "合作社")]
    lines[6] = f"{code(3, '柳州市')},机构3,institute"
    (folder / "units.csv").write_text("\r\n".join(lines), encoding="utf-8")
    assert list(load_registry(folder).units["_row"]) == [2, 5, 7]


def test_lines_ended_by_a_lone_carriage_return_load(tmp_path):
    # Classic Mac line ends: pandas splits on them; re-reading the header row must as well.
    folder = english(tmp_path / "r")
    text = (folder / "units.csv").read_text(encoding="utf-8")
    (folder / "units.csv").write_text(text.replace("\n", "\r"), encoding="utf-8", newline="")
    assert_same_tables(load_registry(folder), load_registry(english(tmp_path / "ref")))


def declared(folder: Path, table: str, sep: str, encoding: str = "utf-8") -> None:
    """Rewrite a table with ``sep`` between its cells and an Excel sep= first line declaring it."""
    rows = pd.read_csv(folder / f"{table}.csv", dtype=str, keep_default_na=False)
    text = rows.to_csv(index=False, sep=sep, lineterminator="\r\n")
    (folder / f"{table}.csv").write_text(f"sep={sep}\r\n{text}", encoding=encoding, newline="")


@pytest.mark.parametrize(("sep", "encoding", "copies"), [
    (",", "utf-8", 1), (";", "utf-8-sig", 1), (";", "gb18030", 1), ("\t", "utf-16", 1), ("|", "utf-8", 400),
])
def test_a_sep_line_declares_the_separator(tmp_path, sep, encoding, copies):
    # Excel writes and reads a first line "sep=;". It gave "every data row has one field more …".
    ref = english(tmp_path / "ref")
    folder = english(tmp_path / "r")
    write_csv(folder / "units.csv", EN_UNITS * copies)
    write_csv(ref / "units.csv", EN_UNITS * copies)
    for table in ("units", "memberships"):
        declared(folder, table, sep, encoding)
    assert copies == 1 or (folder / "units.csv").stat().st_size > 1 << 16  # the large-file path
    reg = load_registry(folder)
    assert_same_tables(reg, load_registry(ref))
    assert list(reg.units["_row"][:3]) == [2, 3, 4]  # rows as Excel shows them: the sep line is hidden there
    rows = [dict(r) for r in EN_UNITS]
    rows[1]["type"] = "合作社"
    write_csv(folder / "units.csv", rows)
    declared(folder, "units", sep, encoding)
    assert [(p.source, p.row, p.column, p.value) for p in problems_of(folder)] == [("units.csv", 3, "type", "合作社")]


def test_ragged_row_is_reported_with_its_line(tmp_path):
    folder = english(tmp_path / "r")
    (folder / "units.csv").write_text(
        f"uscc,name,type\n{code(1)},a,enterprise\n\n{code(2)},b,enterprise,extra\n", encoding="utf-8")
    probs = problems_of(folder)
    assert [(p.source, p.row) for p in probs] == [("units.csv", 4)]
    assert "number of commas" in probs[0].expected
    assert "4 fields where the header row has 3" in probs[0].expected and "\n" not in probs[0].expected


@pytest.mark.parametrize("encoding", ["utf-8", "gb18030"])
def test_unclosed_quote_is_reported_on_the_row_that_opens_it(tmp_path, encoding):
    folder = english(tmp_path / "r")
    # Row 3 holds a quoted line break (one row in Excel, two lines in an editor); row 5 opens a quote
    # that never closes. pandas says "starting at row 4", counting from 0.
    (folder / "units.csv").write_text(
        f'uscc,name,type\n{code(1)},a,enterprise\n{code(2)},"b\nB",university\n\n'
        f'{code(3, "柳州市")},"c,institute\n{code(4)},单位4,enterprise\n', encoding=encoding)
    probs = problems_of(folder)
    assert [(p.source, p.row, p.column, p.value) for p in probs] == [("units.csv", 5, None, None)]
    assert "never closed" in probs[0].expected and "\n" not in probs[0].expected
    assert str(probs[0]).startswith("units.csv, row 5: malformed CSV row")


def test_trailing_comma_on_every_row_does_not_shift_columns(tmp_path):
    folder = english(tmp_path / "r")
    (folder / "units.csv").write_text(
        f"uscc,name,type\n{code(1)},a,enterprise,\n{code(2)},b,university,\n{code(3, '柳州市')},c,institute,\n",
        encoding="utf-8")
    probs = problems_of(folder)
    # Without a guard pandas takes the codes as an index and reads 'a' as the uscc.
    assert [(p.source, p.row, p.column) for p in probs] == [("units.csv", 2, None)]
    assert "one field more than the header" in probs[0].expected


def test_empty_and_header_only_files(tmp_path):
    folder = english(tmp_path / "r")
    (folder / "units.csv").write_bytes(b"")
    probs = problems_of(folder)
    assert [(p.source, p.row) for p in probs] == [("units.csv", 1)]
    write_csv(folder / "units.csv", [], columns=["uscc", "name", "type"])
    probs = problems_of(folder)
    # No units: every membership names an unknown unit.
    assert {(p.source, p.column) for p in probs} == {("memberships.csv", "uscc")}
    assert sorted(p.row for p in probs) == [2, 3, 4, 5]


def test_second_file_for_the_same_table(tmp_path):
    folder = english(tmp_path / "r")
    write_csv(folder / "单位.csv", EN_UNITS)
    probs = problems_of(folder)
    assert len(probs) == 1 and probs[0].source in {"units.csv", "单位.csv"}
    assert "a second file for table 'units'" in probs[0].expected


def test_path_that_is_neither_folder_nor_workbook(tmp_path):
    assert "no such file or folder" in problems_of(tmp_path / "nowhere")[0].expected
    f = tmp_path / "registry.json"
    f.write_text("{}")
    assert "folder of CSV files" in problems_of(f)[0].expected


def test_repeated_unit_code_is_kept_for_the_duplicate_unit_finding(tmp_path):
    rows = [*EN_UNITS, {**unit(1), "name": "单位1有限公司重复录入"}]
    reg = load_registry(one_table(tmp_path, "units", rows))
    assert list(reg.units["uscc"]) == [code(1), code(2), code(3, "柳州市")]
    assert reg.units.set_index("uscc").loc[code(1), "name"] == "单位1有限公司"
    assert list(reg.duplicate_units["uscc"]) == [code(1)]
    assert list(reg.duplicate_units["_row"]) == [5]
    assert reg.duplicate_units["name"].iloc[0] == "单位1有限公司重复录入"


# --------------------------------------------------------------------------- CLI


def test_cli_check_loads_a_gb18030_registry(tmp_path):
    folder = write_registry(tmp_path / "gb", zh("units", EN_UNITS), zh("consortia", EN_CONSORTIA),
                            zh("memberships", EN_MEMBERSHIPS), encoding="gb18030")
    result = CliRunner().invoke(main, ["check", str(folder), "--as-of", "2025-06-30"])
    assert result.exit_code in (0, 1), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert "findings" in result.stdout


def test_cli_check_reports_an_unknown_unit_with_exit_2(tmp_path):
    mem = [*EN_MEMBERSHIPS, {"consortium_id": "NN-1", "uscc": code(404), "role": "core"}]
    folder = one_table(tmp_path, "memberships", mem)
    result = CliRunner().invoke(main, ["check", str(folder)])
    assert result.exit_code == 2
    assert isinstance(result.exception, SystemExit)
    assert "memberships.csv" in result.stderr
    assert "row 6" in result.stderr
    assert code(404) in result.stderr
    assert "Traceback" not in result.output and "Traceback" not in result.stderr
    assert result.stdout == ""


def test_legal_names_are_kept_as_written(tmp_path):
    rows = [dict(EN_UNITS[0], name="南宁（示范）科技有限公司　")]
    folder = write_registry(tmp_path / "r", rows + EN_UNITS[1:], EN_CONSORTIA, EN_MEMBERSHIPS)
    assert load_registry(folder).units["name"].iloc[0] == "南宁（示范）科技有限公司"


# --------------------------------------------------------------------------- reading some tables only


BAD_PROJECT = [{"project_id": "P1", "consortium_id": "NOT-THERE", "lead_uscc": "x", "start_on": "someday"}]


@pytest.mark.parametrize("kind", ["folder", "workbook"])
def test_tables_reads_only_those_besides_the_required_ones(tmp_path, kind):
    """The network queries read units, consortia, memberships and chains: a broken projects
    table stops the audit (every table is validated) but not them."""
    from consortia.queries.network import NETWORK_TABLES

    if kind == "folder":
        path = english(tmp_path / "r")
        write_csv(path / "projects.csv", BAD_PROJECT)
    else:
        path = write_workbook(tmp_path / "r.xlsx", {"units": EN_UNITS, "consortia": EN_CONSORTIA,
                                                   "memberships": EN_MEMBERSHIPS, "projects": BAD_PROJECT})
    probs = problems_of(path)
    assert probs and all("projects" in p.source for p in probs)
    reg = load_registry(path, tables=NETWORK_TABLES)
    assert reg.table("projects").empty and "projects" not in reg.sources
    assert_same_tables(load_registry(english(tmp_path / "ref")), reg)
    # The required tables are read whatever is asked for.
    assert len(load_registry(path, tables=()).memberships) == len(EN_MEMBERSHIPS)


def test_queries_answer_on_a_registry_whose_projects_table_is_broken(tmp_path):
    path = english(tmp_path / "r")
    write_csv(path / "projects.csv", BAD_PROJECT)
    runner = CliRunner()
    assert runner.invoke(main, ["check", str(path)]).exit_code == 2
    done = runner.invoke(main, ["overlaps", str(path), "--format", "json"])
    assert done.exit_code == 0, done.output
