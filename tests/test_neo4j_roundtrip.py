"""Push then pull gives the registry back: every table, every column, every odd cell; and the same findings."""

from __future__ import annotations

from pathlib import Path

import arcadedb_server
import pandas as pd
import pytest
from conftest import code, write_csv

from consortia.backends.neo4j import Neo4jStore
from consortia.demo import demo_tables
from consortia.errors import InputError
from consortia.generate import generate
from consortia.generate import write_csv as write_tables
from consortia.loaders import load_registry
from consortia.registry import Registry
from consortia.rules.engine import run_checks
from consortia.schema import TABLES

bolt_server, neo4j_settings = arcadedb_server.bolt_server, arcadedb_server.neo4j_settings  # the fixtures

AS_OF = "2026-06-30"


def assert_same_registry(a: Registry, b: Registry, *, rows: bool = True) -> None:
    """Same tables present, and each table equal cell for cell, dtype for dtype
    (source rows too, unless ``rows`` is false)."""
    assert [n for n in TABLES if a.has(n)] == [n for n in TABLES if b.has(n)]
    pairs = [(name, a.table(name), b.table(name)) for name in TABLES]
    pairs.append(("duplicate units", a.duplicate_units, b.duplicate_units))
    for name, fa, fb in pairs:
        if not rows:
            fa, fb = fa.drop(columns="_row"), fb.drop(columns="_row")
        try:
            pd.testing.assert_frame_equal(fa.reset_index(drop=True), fb.reset_index(drop=True))
        except AssertionError as exc:
            raise AssertionError(f"table {name}: {exc}") from None


def test_demo_round_trip_gives_the_same_registry(neo4j_settings, tmp_path):
    write_tables(demo_tables(), tmp_path / "demo")
    original = load_registry(tmp_path / "demo")
    with Neo4jStore(neo4j_settings) as store:
        store.push(original, batch_size=500)
        counts = store.pull(tmp_path / "pulled")
    assert counts["memberships"] == len(original.memberships) and counts["units"] == len(original.units)
    assert sorted(p.name for p in (tmp_path / "pulled").iterdir()) == sorted(f"{n}.csv" for n in counts)
    assert_same_registry(original, load_registry(tmp_path / "pulled"))


@pytest.fixture
def odd_registry(tmp_path: Path) -> Path:
    """Everything a bureau's spreadsheet throws at the loader: GB18030, Chinese
    headers, extra columns, a blank line, a unit code listed twice, a unit that
    left and rejoined, 亿 amounts, 是/否, lists split by ；, a recognised-from
    pair, and optional tables absent."""
    folder = tmp_path / "odd"
    folder.mkdir()
    enc = "gb18030"
    write_csv(folder / "单位.csv", [
        {"统一社会信用代码": code(1), "单位名称": "南宁甲有限公司", "单位类型": "企业", "注册地": "南宁",
         "上年度主营业务收入": "1.2亿", "科技型企业": "是", "备注": "重点, 企业"},
        {"统一社会信用代码": code(2), "单位名称": "桂南大学", "单位类型": "高校", "注册地": "南宁市",
         "专职研发人员": "120人", "科技型企业": "否", "备注": ""},
        {},  # a blank line: later rows keep their row numbers
        {"统一社会信用代码": code(3, "柳州市"), "单位名称": "柳州丙研究院", "单位类型": "科研院所",
         "失信惩戒期至": "2027年1月1日", "备注": "引号\"和，逗号"},
        {"统一社会信用代码": code(1), "单位名称": "南宁甲有限公司（重复）", "单位类型": "企业", "备注": "dup"},
    ], enc)
    write_csv(folder / "创新联合体.csv", [
        {"联合体编号": "GX-1", "联合体名称": "广西甲联合体", "认定机关": "广西", "状态": "运行", "认定日期": "2024/3/1"},
        {"联合体编号": "NN-1", "联合体名称": "南宁甲联合体", "认定机关": "南宁", "状态": "运行",
         "认定日期": "2024-06-01", "转认定来源": "GX-1", "一事一议": "南宁市科技局一事一议第1号"},
        {"联合体编号": "LZ-1", "认定机关": "柳州", "状态": "撤销", "撤销日期": "2025-01-02"},
    ], enc)
    write_csv(folder / "成员.csv", [
        {"联合体编号": "GX-1", "统一社会信用代码": code(1), "角色/层级": "牵头单位", "产业链环节": "a1；B2",
         "加入日期": "2024-03-01", "附注": "首批"},
        {"联合体编号": "NN-1", "统一社会信用代码": code(1), "角色/层级": "牵头单位", "加入日期": "2024-06-01"},
        {"联合体编号": "GX-1", "统一社会信用代码": code(2), "角色/层级": "核心层", "加入日期": "2024-03-01",
         "退出日期": "2025-01-01"},
        {"联合体编号": "GX-1", "统一社会信用代码": code(2), "角色/层级": "紧密合作层", "加入日期": "2025-06-01"},
        {"联合体编号": "LZ-1", "统一社会信用代码": code(3, "柳州市"), "角色/层级": "一般协作层"},
    ], enc)
    write_csv(folder / "年报.csv", [{"联合体编号": "GX-1", "年度": "2024", "报送日期": "2025-03-31"}], enc)
    return folder


def test_odd_registry_round_trips_and_keeps_its_rows_and_findings(neo4j_settings, odd_registry, tmp_path):
    original = load_registry(odd_registry)
    assert len(original.duplicate_units) == 1 and original.units["_row"].tolist() == [2, 3, 5]
    with Neo4jStore(neo4j_settings) as store:
        store.push(original, batch_size=2)
        store.pull(tmp_path / "pulled")
        back = store.registry()
    # The pulled folder is the same registry (its rows are renumbered: no blank line in it)...
    assert_same_registry(original, load_registry(tmp_path / "pulled"), rows=False)
    # ...and the registry read from the database keeps the source's rows and labels,
    assert_same_registry(original, back)
    assert back.source_of("memberships") == "成员.csv"
    # so the audit finds the same things and points at the same cells.
    expected = [f.to_dict() for f in run_checks(original, as_of=AS_OF)]
    assert "DUPLICATE_UNIT" in {f["rule"] for f in expected}
    assert [f.to_dict() for f in run_checks(back, as_of=AS_OF)] == expected
    header = (tmp_path / "pulled" / "units.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header.split(",")[:3] == ["uscc", "name", "type"] and header.endswith(",备注")


def test_generated_registry_gives_the_same_findings_through_the_database(neo4j_settings, tmp_path):
    write_tables(generate(150, 11), tmp_path / "gen")
    original = load_registry(tmp_path / "gen")
    with Neo4jStore(neo4j_settings) as store:
        store.push(original, batch_size=1000)
        back = store.registry()
    assert_same_registry(original, back)
    expected = [f.to_dict() for f in run_checks(original, as_of="2026-11-01")]
    assert len(expected) > 100
    assert [f.to_dict() for f in run_checks(back, as_of="2026-11-01")] == expected


def test_pull_refuses_a_folder_holding_other_registry_files(neo4j_settings, odd_registry, tmp_path):
    with Neo4jStore(neo4j_settings) as store:
        store.push(load_registry(odd_registry))
        out = tmp_path / "out"
        out.mkdir()
        (out / "成员.csv").write_text("x\n", encoding="utf-8")  # a second memberships file
        (out / "chains.csv").write_text("x\n", encoding="utf-8")  # a table the database does not have
        (out / "notes.txt").write_text("kept\n", encoding="utf-8")
        with pytest.raises(InputError) as exc:
            store.pull(out)
        assert "成员.csv" in str(exc.value) and "chains.csv" in str(exc.value)
        assert sorted(p.name for p in out.iterdir()) == ["chains.csv", "notes.txt", "成员.csv"]
        (out / "成员.csv").unlink()
        (out / "chains.csv").unlink()
        store.pull(out)
        store.pull(out)  # pulling again over its own files is fine
    assert sorted(p.name for p in out.iterdir()) == ["annual_reports.csv", "consortia.csv", "memberships.csv",
                                                     "notes.txt", "units.csv"]
