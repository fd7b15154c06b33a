"""Fuzzing the loader and ``consortia check``: no input may end in a traceback.

Whatever the bytes, headers or cells, ``load_registry`` either returns a
:class:`Registry` or raises :class:`InputError`; any other exception fails.
Each example writes its registry to a fresh folder from ``tmp_path_factory``
(function-scoped fixtures are not reset between hypothesis examples).
"""

from __future__ import annotations

import io
import random
import tempfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import code, unit
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from consortia.cli import main
from consortia.errors import InputError, Problem
from consortia.loaders import load_registry
from consortia.loaders.sources import EXCEL_SUFFIXES
from consortia.registry import Registry
from consortia.rules.rulebook import load_rulebooks
from consortia.schema import TABLES

BOOKS = load_rulebooks()


def fuzz(examples: int) -> settings:
    return settings(max_examples=examples, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


TABLE_NAMES = ("units", "consortia", "memberships")
EDITABLE = (*TABLE_NAMES, "chains")

# A small valid registry as header + rows, the seed every fuzzer mutates.
_U = [unit(1), unit(2, type_="university"), {**unit(3, "柳州市"), "revenue": "1.2亿", "tech_enterprise": "是"}]
BASE: dict[str, tuple[list[str], list[list[str]]]] = {
    "units": (["uscc", "name", "type", "city", "revenue", "tech_enterprise", "credit_blacklist_until"],
              [[u["uscc"], u["name"], u["type"], u["city"], u.get("revenue", ""), u.get("tech_enterprise", ""), ""]
               for u in _U]),
    "consortia": (["consortium_id", "name", "jurisdiction", "recognized_on", "status", "recognized_from", "chain_id"],
                  [["GX-1", "广西联合体", "广西", "2023-03-01", "active", "", ""],
                   ["NN-1", "南宁联合体", "南宁市", "2024/5/30", "运行", "GX-1", "NEV"]]),
    "memberships": (["consortium_id", "uscc", "role", "segments", "joined_on", "left_on"],
                    [["GX-1", code(1), "lead", "", "2023-03-01", ""],
                     ["NN-1", code(1), "牵头单位", "bat;mot", "", ""],
                     ["NN-1", code(2), "core", "BAT", "2024年6月1日", ""],
                     ["NN-1", code(3, "柳州市"), "一般协作层", "", "", "2025-01-01"]]),
    "chains": (["chain_id", "segment_id", "stage", "parent", "feeds"],
               [["NEV", "BAT", "上游", "", "MOT"], ["NEV", "MOT", "midstream", "BAT", ""]]),
}
ENCODINGS = ("utf-8", "utf-8-sig", "gb18030", "gbk", "utf-16")

NASTY = [
    '=cmd|"/c calc"!A1', "=1+1", "+SUM(A1:A9)", "@x", '"', '""', "'", "\n", "\r\n", "\r", "\x00", "\x1f",
    "\x7f", "\ufeff", "\u200b", "\u2028", "😀", "🇨🇳", "𠀀", "１２０００", "（亿元）", "NaN", "nan", "None", "null",
    "NaT", "inf", "-", "-1", ",", ";", "；", "\\", "\t", " ", "2999-12-31", "0000-00-00", "2024-02-30", "9" * 400,
    "X-", "x-", "1.2亿", "1,200万元", "是", "否", "牵头单位", "核心层", "GX-1", "NN-1", code(1), code(2), "NEV",
    "BAT", "mot", "BAT;MOT;XX",
    "Unnamed: 0", "_row", "body_id", "uscc", "统一社会信用代码", "a" * 300,
]
texts = st.text(alphabet=st.characters(codec="utf-8"), max_size=25)
cell_text = st.one_of(texts, st.sampled_from(NASTY),
                      st.lists(st.one_of(st.sampled_from(NASTY), texts), min_size=2, max_size=4).map("".join))

_KNOWN_HEADERS = sorted({n for t in TABLES.values() for c in t.columns for n in (c.name, *c.aliases)})


def _full_width(s: str) -> str:
    return "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in s)


_DECORATIONS = [
    lambda h: h, str.upper, str.title, lambda h: f"  {h} ", lambda h: "\ufeff" + h, _full_width,
    lambda h: h + "（亿元）", lambda h: h + "(万元)", lambda h: h + "（元）", lambda h: h.replace("_", " "),
    lambda h: h + "\u200b", lambda h: h + ".1",
]
header_text = st.one_of(
    st.builds(lambda h, d: d(h), st.sampled_from(_KNOWN_HEADERS), st.sampled_from(_DECORATIONS)),
    cell_text,
)


def csv_bytes(header: list[str], rows: list[list[str]], encoding: str = "utf-8", newline: str = "\n") -> bytes:
    """Every field quoted, so that any text (commas, quotes, newlines, NUL) survives as written."""
    def line(cells: list[str]) -> str:
        return ",".join('"' + c.replace('"', '""') + '"' for c in cells)

    text = newline.join(line(r) for r in [header, *rows]) + newline
    try:
        return text.encode(encoding)
    except UnicodeEncodeError:
        return text.encode("gb18030")  # covers every code point


def new_folder(factory: pytest.TempPathFactory) -> Path:
    """A fresh folder for one example (``mktemp`` rescans its parent each call, which grows slow)."""
    return Path(tempfile.mkdtemp(dir=factory.getbasetemp()))


def write_tables(folder: Path, tables: dict[str, tuple[list[str], list[list[str]]]], encoding: str = "utf-8",
                 newline: str = "\n") -> Path:
    for name, (header, rows) in tables.items():
        (folder / f"{name}.csv").write_bytes(csv_bytes(header, rows, encoding, newline))
    return folder


def base_tables() -> dict[str, tuple[list[str], list[list[str]]]]:
    return {name: (list(h), [list(r) for r in rows]) for name, (h, rows) in BASE.items()}


def load_or_input_error(path: Path) -> Registry | None:
    """Load; a Registry or an InputError with located problems are the only acceptable outcomes."""
    try:
        reg = load_registry(path, BOOKS)
    except InputError as exc:
        assert exc.problems, "an InputError must carry at least one problem"
        for p in exc.problems:
            assert isinstance(p, Problem)
            assert isinstance(p.source, str) and p.source
            assert p.row is None or (isinstance(p.row, int) and p.row >= 1)
            assert p.value is None or isinstance(p.value, str)
            assert isinstance(p.expected, str) and p.expected
        assert exc.render()
        return None
    assert isinstance(reg, Registry)
    for name in TABLE_NAMES:
        rows = reg.tables[name]["_row"]
        assert rows.is_unique and (rows >= 2).all()
    # Whatever loaded is referentially sound.
    assert reg.memberships["uscc"].isin(reg.units["uscc"]).all()
    assert reg.memberships["consortium_id"].isin(reg.consortia["consortium_id"]).all()
    assert reg.consortia["consortium_id"].is_unique
    assert reg.consortia["body_id"].isin(reg.consortia["consortium_id"]).all()
    return reg


def test_the_seed_registry_loads(tmp_path_factory):
    reg = load_or_input_error(write_tables(new_folder(tmp_path_factory), base_tables()))
    assert reg is not None and len(reg.memberships) == 4


# --------------------------------------------------------------------------- bytes


def _mutate(data: bytes, edits: list[tuple[int, int, bytes]]) -> bytes:
    out = bytearray(data)
    for pos, cut, insert in edits:
        pos = pos % (len(out) + 1)
        out[pos:pos + cut] = insert
    return bytes(out)


file_bytes = st.one_of(
    st.binary(max_size=600),
    st.builds(lambda enc, edits, table: _mutate(csv_bytes(*BASE[table], enc), edits),
              st.sampled_from(ENCODINGS),
              st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 8), st.binary(max_size=8)),
                       min_size=1, max_size=6),
              st.sampled_from(EDITABLE)),
)


@fuzz(150)
@given(table=st.sampled_from(EDITABLE), data=file_bytes, also=st.sampled_from([None, *EDITABLE]),
       more=file_bytes)
def test_arbitrary_bytes_as_a_csv_file(tmp_path_factory, table, data, also, more):
    folder = write_tables(new_folder(tmp_path_factory), base_tables())
    (folder / f"{table}.csv").write_bytes(data)
    if also is not None and also != table:
        (folder / f"{also}.csv").write_bytes(more)
    load_or_input_error(folder)


# --------------------------------------------------------------------------- cells

edits = st.lists(st.tuples(st.sampled_from(EDITABLE), st.integers(0, 3), st.integers(0, 6), cell_text),
                 min_size=1, max_size=5)


def apply_edits(tables, changes) -> None:
    for name, r, c, text in changes:
        _, rows = tables[name]
        row = rows[r % len(rows)]
        row[c % len(row)] = text


@fuzz(150)
@given(changes=edits, encoding=st.sampled_from(ENCODINGS), newline=st.sampled_from(["\n", "\r\n"]))
def test_arbitrary_cells_in_a_valid_registry(tmp_path_factory, changes, encoding, newline):
    tables = base_tables()
    apply_edits(tables, changes)
    load_or_input_error(write_tables(new_folder(tmp_path_factory), tables, encoding, newline))


@fuzz(40)
@given(changes=edits, extra=st.sampled_from(["chains", "evaluations", "annual_reports", "projects",
                                             "project_members"]),
       cells=st.lists(st.lists(cell_text, min_size=1, max_size=7), min_size=1, max_size=3))
def test_arbitrary_optional_tables(tmp_path_factory, changes, extra, cells):
    tables = base_tables()
    apply_edits(tables, changes[:1])
    header = [c.name for c in TABLES[extra].columns]
    rows = [(r + [""] * len(header))[:len(header)] for r in cells]
    tables[extra] = (header, rows)
    if extra == "project_members":
        tables["projects"] = (["project_id", "consortium_id", "lead_uscc"], [["P1", "NN-1", code(1)]])
    load_or_input_error(write_tables(new_folder(tmp_path_factory), tables))


# --------------------------------------------------------------------------- headers and columns


@fuzz(120)
@given(table=st.sampled_from(EDITABLE), header=st.lists(header_text, max_size=9),
       pool=st.lists(cell_text, min_size=1, max_size=6), ragged=st.booleans(), data=st.data())
def test_random_header_rows(tmp_path_factory, table, header, pool, ragged, data):
    tables = base_tables()
    _, rows = tables[table]
    values = [v for r in rows for v in r] + pool
    width = max(len(header), 1)
    new_rows = []
    for _ in range(data.draw(st.integers(0, 4))):
        n = data.draw(st.integers(0, width + 1)) if ragged else width
        new_rows.append([data.draw(st.sampled_from(values)) for _ in range(n)])
    tables[table] = (header, new_rows)
    load_or_input_error(write_tables(new_folder(tmp_path_factory), tables))


@fuzz(120)
@given(table=st.sampled_from(EDITABLE), data=st.data(),
       extra=st.lists(st.tuples(header_text, cell_text), max_size=4))
def test_random_extra_and_missing_columns(tmp_path_factory, table, data, extra):
    tables = base_tables()
    header, rows = tables[table]
    keep = data.draw(st.lists(st.sampled_from(range(len(header))), unique=True, max_size=len(header)))
    keep = data.draw(st.permutations(keep)) if keep else keep
    new_header = [header[i] for i in keep] + [h for h, _ in extra]
    new_rows = [[r[i] for i in keep] + [v for _, v in extra] for r in rows]
    tables[table] = (new_header, new_rows)
    reg = load_or_input_error(write_tables(new_folder(tmp_path_factory), tables))
    names = [h for h, _ in extra]
    if reg is not None and len(set(names)) == len(names):
        # Nothing dropped: an extra header that names no declared column is kept as it was written.
        mapped = set(reg.sources[table].headers.values())
        for h in names:
            if h and h not in mapped and h not in header and not h.startswith("Unnamed: "):
                assert h in reg.tables[table].columns, h


# --------------------------------------------------------------------------- workbooks


def _valid_workbook_bytes() -> bytes:
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as xw:
        for name, (header, rows) in BASE.items():
            pd.DataFrame(rows, columns=header, dtype=str).to_excel(xw, sheet_name=name, index=False)
    return buf.getvalue()


VALID_XLSX = _valid_workbook_bytes()


def test_the_seed_workbook_loads(tmp_path_factory):
    path = new_folder(tmp_path_factory) / "registry.xlsx"
    path.write_bytes(VALID_XLSX)
    assert load_or_input_error(path) is not None


@fuzz(150)
@given(suffix=st.sampled_from(EXCEL_SUFFIXES),
       data=st.one_of(
           st.binary(max_size=800),
           st.builds(lambda cut: VALID_XLSX[:cut], st.integers(0, len(VALID_XLSX))),
           st.builds(lambda e: _mutate(VALID_XLSX, e),
                     st.lists(st.tuples(st.integers(0, len(VALID_XLSX)), st.integers(0, 4), st.binary(max_size=4)),
                              min_size=1, max_size=4)),
       ))
def test_workbook_path_with_random_bytes(tmp_path_factory, suffix, data):
    path = new_folder(tmp_path_factory) / f"registry{suffix}"
    path.write_bytes(data)
    load_or_input_error(path)


xlsx_cell = st.one_of(
    cell_text.map(lambda s: ILLEGAL_CHARACTERS_RE.sub("", s)),
    st.sampled_from(sorted({h for header, _ in BASE.values() for h in header})),
    st.integers(-(2**40), 2**40),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.booleans(),
    st.datetimes(min_value=pd.Timestamp("1900-03-01").to_pydatetime(),
                 max_value=pd.Timestamp("2300-01-01").to_pydatetime()),
    st.none(),
)


@fuzz(25)
@given(changes=st.lists(st.tuples(st.sampled_from(EDITABLE), st.integers(0, 4), st.integers(0, 7), xlsx_cell),
                        min_size=1, max_size=6),
       chinese=st.booleans())
def test_workbook_with_arbitrary_typed_cells(tmp_path_factory, changes, chinese):
    names = dict(zip(EDITABLE, ("单位", "创新联合体", "成员", "产业链") if chinese else EDITABLE, strict=True))
    grids = {name: [list(header), *[list(r) for r in rows]] for name, (header, rows) in BASE.items()}
    for name, r, c, value in changes:
        grid = grids[name]
        row = grid[r % len(grid)]  # row 0 is the header
        row[c % len(row)] = value
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, grid in grids.items():
        ws = wb.create_sheet(names[name])
        for row in grid:
            ws.append(row)
    path = new_folder(tmp_path_factory) / "registry.xlsx"
    wb.save(path)
    load_or_input_error(path)


# --------------------------------------------------------------------------- the CLI


def _assert_clean_exit(result) -> None:
    assert result.exit_code in (0, 1, 2), (result.exit_code, result.output)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    assert "Traceback" not in result.stderr


@fuzz(20)
@given(changes=edits, encoding=st.sampled_from(ENCODINGS), fmt=st.sampled_from(["table", "json"]))
def test_cli_check_on_fuzzed_registries(tmp_path_factory, changes, encoding, fmt):
    tables = base_tables()
    apply_edits(tables, changes)
    folder = write_tables(new_folder(tmp_path_factory), tables, encoding)
    result = CliRunner().invoke(main, ["check", str(folder), "--as-of", "2025-06-30", "--format", fmt])
    _assert_clean_exit(result)
    if result.exit_code == 2:
        assert result.stderr.startswith("Error:")


@fuzz(10)
@given(data=file_bytes, table=st.sampled_from(EDITABLE))
def test_cli_check_on_fuzzed_bytes(tmp_path_factory, data, table):
    folder = write_tables(new_folder(tmp_path_factory), base_tables())
    (folder / f"{table}.csv").write_bytes(data)
    result = CliRunner().invoke(main, ["check", str(folder), "--as-of", "2025-06-30"])
    _assert_clean_exit(result)


def test_cli_check_on_a_random_workbook(tmp_path_factory):
    rng = random.Random(20240530)
    path = new_folder(tmp_path_factory) / "registry.xlsx"
    path.write_bytes(bytes(rng.randrange(256) for _ in range(2048)))
    result = CliRunner().invoke(main, ["check", str(path)])
    _assert_clean_exit(result)
    assert result.exit_code == 2 and "registry.xlsx" in result.stderr


QUERIES = [["overlaps"], ["overlaps", "--kind", "pairs", "--min-shared", "1"], ["overlaps", "--kind", "same-body"],
           ["overlaps", "--kind", "near-duplicates", "--threshold", "0.1"], ["coverage"], ["coverage", "--by", "jurisdiction"],
           ["gaps"], ["gaps", "--by", "consortium"], ["brokers"], ["components"], ["path", code(1), code(2)],
           ["whatif", "add-member", "GX-1", code(2), "--role", "core"]]


@fuzz(20)
@given(changes=edits, query=st.sampled_from(QUERIES), fmt=st.sampled_from(["table", "json"]))
def test_cli_queries_on_fuzzed_registries(tmp_path_factory, changes, query, fmt):
    tables = base_tables()
    apply_edits(tables, changes)
    folder = write_tables(new_folder(tmp_path_factory), tables)
    if query[0] == "whatif":
        args = [*query[:2], str(folder), *query[2:], "--as-of", "2025-06-30"]
    else:
        args = [query[0], str(folder), *query[1:], "--as-of", "2025-06-30", "--format", fmt]
    result = CliRunner().invoke(main, args)
    _assert_clean_exit(result)


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: "-".join(q[:3]))
def test_cli_queries_on_the_seed_registry(tmp_path_factory, query):
    folder = write_tables(new_folder(tmp_path_factory), base_tables())
    if query[0] == "whatif":
        args = [*query[:2], str(folder), *query[2:], "--as-of", "2025-06-30"]
    else:
        args = [query[0], str(folder), *query[1:], "--as-of", "2025-06-30", "--format", "json"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, (result.stderr, result.exception)
