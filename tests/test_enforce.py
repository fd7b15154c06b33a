"""Enforcement on write: each refusal, each exemption, same-body counting, atomic saves."""

from __future__ import annotations

import os

import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import code, unit

from consortia.cli import main
from consortia.errors import InputError, LeadCountRefusal, LeadSingleRefusal, MemberCapRefusal, OutputError
from consortia.graph import EmbeddedStore
from consortia.loaders import load_registry
from consortia.rules.engine import run_checks

AS_OF = "2026-06-30"


def cons(cid: str, j: str, **kw: str) -> dict[str, str]:
    return {"consortium_id": cid, "jurisdiction": j, "status": "active", "recognized_on": "2024-01-01", **kw}


@pytest.fixture
def registry(make_registry):
    units = [unit(i) for i in range(1, 10)] + [unit(i, "柳州市") for i in range(20, 24)]
    consortia = [cons("GX-1", "guangxi"), cons("NN-1", "nanning", recognized_from="GX-1"), cons("NN-2", "nanning"),
                 cons("NN-3", "nanning"), cons("NN-4", "nanning"), cons("LZ-1", "liuzhou"),
                 cons("NJ-1", "nanjing"), cons("NJ-2", "nanjing"), cons("LY-1", "liaoyang"),
                 cons("LY-2", "liaoyang"), cons("NN-9", "nanning", status="revoked")]
    m = [{"consortium_id": "NN-2", "uscc": code(1), "role": "lead"},
         {"consortium_id": "LZ-1", "uscc": code(20, "柳州市"), "role": "lead"}]
    return make_registry(units, consortia, m)


def store(path) -> EmbeddedStore:
    return EmbeddedStore.open(path, as_of=AS_OF)


def test_second_lead_refused_where_one_allowed(registry):
    s = store(registry)
    with pytest.raises(LeadCountRefusal) as exc:
        s.add_member("NN-2", code(2), "lead")
    assert exc.value.rule == "LEAD_COUNT" and exc.value.jurisdiction == "nanning"
    assert "already has 1 lead" in str(exc.value) and "第五条（一）" in str(exc.value)
    # The 原则上-free lead count cannot be waived by an exemption.
    with pytest.raises(LeadCountRefusal):
        s.add_member("NN-2", code(2), "牵头单位", exemption="一事一议")
    assert s.pending == []


def test_liuzhou_allows_two_leads_not_three(registry):
    s = store(registry)
    s.add_member("LZ-1", code(21, "柳州市"), "lead")
    with pytest.raises(LeadCountRefusal):
        s.add_member("LZ-1", code(22, "柳州市"), "lead")


def test_lead_of_second_consortium_refused_unless_exempted(registry):
    s = store(registry)
    with pytest.raises(LeadSingleRefusal) as exc:
        s.add_member("NN-3", code(1), "lead")
    assert exc.value.waivable and "--exemption" in str(exc.value)
    row = s.add_member("NN-3", code(1), "lead", exemption="南宁市科技局一事一议第1号")
    assert row["exemption"] == "南宁市科技局一事一议第1号"
    s.save()
    # Recorded: the audit reports the breach, waived.
    fs = [f for f in run_checks(load_registry(registry), as_of=AS_OF) if f.rule == "LEAD_SINGLE"]
    assert fs and all(f.waived for f in fs)


def test_leading_a_directly_recognised_record_is_not_a_second_lead(registry):
    s = store(registry)
    s.add_member("GX-1", code(3), "lead")
    s.add_member("NN-1", code(3), "lead")  # the same body at city level
    with pytest.raises(LeadSingleRefusal):
        s.add_member("NN-3", code(3), "lead")


def test_fourth_consortium_refused_where_a_text_carries_the_cap(registry):
    s = store(registry)
    for cid in ("NN-2", "NN-3", "NN-4"):
        s.add_member(cid, code(5), "core")
    with pytest.raises(MemberCapRefusal) as exc:
        s.add_member("NJ-1", code(5), "general")  # Nanjing has no cap, but the unit's Nanning consortia do
    assert exc.value.jurisdiction == "nanning" and "would make 4" in str(exc.value)
    s.add_member("NJ-1", code(5), "general", exemption="一事一议：同意")
    assert s.unit_bodies(code(5)).keys() == {"NN-2", "NN-3", "NN-4", "NJ-1"}


def test_no_cap_where_no_text_carries_it(registry):
    s = store(registry)
    for cid in ("NJ-1", "NJ-2", "LY-1", "LY-2", "LZ-1"):
        s.add_member(cid, code(6), "general")
    assert len(s.unit_bodies(code(6))) == 5


def test_directly_recognised_record_never_counts_twice_toward_the_cap(registry):
    s = store(registry)
    for cid in ("GX-1", "NN-1", "NN-3", "NN-4"):  # GX-1 and NN-1: one body
        s.add_member(cid, code(7), "core")
    assert len(s.unit_bodies(code(7))) == 3
    with pytest.raises(MemberCapRefusal):
        s.add_member("NN-2", code(7), "core")


def test_bad_additions_are_input_errors(registry):
    s = store(registry)
    with pytest.raises(InputError, match="a consortium in the registry"):
        s.add_member("NOPE", code(1), "core")
    with pytest.raises(InputError, match="units table"):
        s.add_member("NN-3", code(99), "core")
    with pytest.raises(InputError, match="role"):
        s.add_member("NN-3", code(2), "boss")
    with pytest.raises(InputError, match="revoked"):
        s.add_member("NN-9", code(2), "core")
    s.add_member("NN-3", code(2), "core")
    with pytest.raises(InputError, match="already"):
        s.add_member("NN-3", code(2), "general")


def test_cli_add_member_refusal_and_exemption(registry):
    r = CliRunner().invoke(main, ["add-member", str(registry), "NN-3", code(1), "--role", "lead", "--as-of", AS_OF])
    assert r.exit_code == 1 and "LEAD_SINGLE" in r.stderr and "Traceback" not in r.output
    before = (registry / "memberships.csv").read_bytes()
    assert before.count(b"\n") == 3
    r = CliRunner().invoke(main, ["add-member", str(registry), "NN-3", code(1), "--role", "lead", "--as-of", AS_OF,
                                  "--exemption", "一事一议第2号", "--segments", "s1;s2"])
    assert r.exit_code == 0, r.output
    m = load_registry(registry).memberships
    row = m[m["consortium_id"] == "NN-3"].iloc[0]
    assert row["exemption"] == "一事一议第2号" and row["role"] == "lead"
    r = CliRunner().invoke(main, ["add-member", str(registry), "NN-3", code(99), "--role", "core"])
    assert r.exit_code == 2 and code(99) in r.stderr


def test_writeback_keeps_encoding_and_language(make_registry):
    units = [unit(1), unit(2)]
    path = make_registry(units, [cons("NN-1", "南宁市")], [], encoding="gb18030")
    (path / "memberships.csv").write_bytes("联合体编号,统一社会信用代码,角色\n".encode("gb18030"))
    s = EmbeddedStore.open(path, as_of=AS_OF)
    s.add_member("NN-1", code(1), "lead")
    s.save()
    text = (path / "memberships.csv").read_bytes().decode("gb18030")
    assert text.splitlines() == ["联合体编号,统一社会信用代码,角色,加入日期", f"NN-1,{code(1)},牵头单位,2026-06-30"]
    assert load_registry(path).memberships["role"].tolist() == ["lead"]


def test_writeback_keeps_a_declared_separator(make_registry):
    # A memberships file with Excel's "sep=;" first line keeps the line and its rows; the new row uses ';'.
    path = make_registry([unit(1), unit(2)], [cons("NN-1", "南宁市")], [])
    (path / "memberships.csv").write_text(f"sep=;\nconsortium_id;uscc;role\nNN-1;{code(2)};core\n",
                                          encoding="utf-8")
    s = EmbeddedStore.open(path, as_of=AS_OF)
    s.add_member("NN-1", code(1), "lead")
    s.save()
    assert (path / "memberships.csv").read_text(encoding="utf-8").splitlines() == [
        "sep=;", "consortium_id;uscc;role;joined_on", f"NN-1;{code(2)};core", f"NN-1;{code(1)};lead;2026-06-30"]
    assert load_registry(path).memberships["role"].tolist() == ["core", "lead"]


def test_interrupted_write_loses_nothing(registry, monkeypatch):
    before = (registry / "memberships.csv").read_bytes()
    s = store(registry)
    s.add_member("NN-3", code(2), "core")

    def boom(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OutputError, match=r"cannot write .*memberships\.csv: disk full"):
        s.save()
    assert (registry / "memberships.csv").read_bytes() == before
    assert [p.name for p in registry.iterdir() if p.name.startswith(".")] == []


def test_writeback_to_workbook_keeps_values_as_text(tmp_path):
    path = tmp_path / "reg.xlsx"
    with pd.ExcelWriter(path) as w:
        pd.DataFrame([unit(1), unit(2)]).to_excel(w, sheet_name="单位", index=False)
        pd.DataFrame([cons("NN-1", "nanning")]).to_excel(w, sheet_name="创新联合体", index=False)
        pd.DataFrame([{"consortium_id": "NN-1", "uscc": code(1), "role": "lead"}]).to_excel(
            w, sheet_name="成员", index=False)
    s = EmbeddedStore.open(path, as_of=AS_OF)
    s.add_member("NN-1", code(2), "core", segments=["=1+1"])
    s.save()
    from openpyxl import load_workbook

    ws = load_workbook(path)["成员"]
    values = [[c.value for c in row] for row in ws.iter_rows()]
    assert values[2][:3] == ["NN-1", code(2), "core"]
    seg_col = values[0].index("segments")
    assert values[2][seg_col] == "=1+1" and ws.cell(row=3, column=seg_col + 1).data_type == "s"
    assert len(load_registry(path).memberships) == 2


def test_the_store_index_leaves_the_garbage_collector_nothing_to_walk(registry):
    """The index is dicts of tuples of text, which the collector stops tracking after one
    look: a bulk import then pays for no full collection walking a set per unit."""
    import gc

    s = store(registry)
    s.add_member("GX-1", code(7), "core")
    s.add_member("NN-1", code(7), "general")  # the same body, recorded by Nanning too
    s.add_member("NN-3", code(7), "lead")
    gc.collect()
    assert s.unit_bodies(code(7)) == {"GX-1": {"guangxi", "nanning"}, "NN-3": {"nanning"}}
    for index in (s._bodies, s._led):
        assert not any(gc.is_tracked(bodies) for bodies in index.values())
    assert not any(gc.is_tracked(leads) for leads in s._leads.values())


@pytest.mark.parametrize("ending", ["\r\n", "\n"])
@pytest.mark.parametrize("last_newline", [True, False])
def test_writeback_leaves_every_existing_byte_alone(make_registry, ending, last_newline):
    """CRLF stays CRLF, quoted fields stay quoted, GB18030 stays GB18030, and a last line
    without its newline gets one before the new row: the old bytes are a prefix of the new."""
    path = make_registry([unit(1), unit(2)], [cons("NN-1", "nanning")], [], encoding="gb18030")
    lines = ['"联合体编号","统一社会信用代码","角色","加入日期"', f'"NN-1","{code(1)}","牵头单位","2026-01-05"']
    before = (ending.join(lines) + (ending if last_newline else "")).encode("gb18030")
    (path / "memberships.csv").write_bytes(before)
    s = EmbeddedStore.open(path, as_of=AS_OF)
    s.add_member("NN-1", code(2), "core")
    s.save()
    after = (path / "memberships.csv").read_bytes()
    sep = b"" if last_newline else ending.encode()
    assert after == before + sep + f'"NN-1","{code(2)}","核心层","2026-06-30"{ending}'.encode("gb18030")
    assert load_registry(path).memberships["role"].tolist() == ["lead", "core"]


def test_writeback_adds_a_column_to_the_header_line_only(make_registry):
    path = make_registry([unit(1), unit(2)], [cons("NN-1", "nanning")], [])
    (path / "memberships.csv").write_bytes(f"consortium_id,uscc,role\r\nNN-1,{code(1)},lead\r\n".encode())
    s = EmbeddedStore.open(path, as_of=AS_OF)
    s.add_member("NN-1", code(2), "core")
    s.save()
    assert (path / "memberships.csv").read_bytes() == (
        f"consortium_id,uscc,role,joined_on\r\nNN-1,{code(1)},lead\r\nNN-1,{code(2)},core,2026-06-30\r\n".encode())
    m = load_registry(path).memberships
    assert m["role"].tolist() == ["lead", "core"] and pd.isna(m["joined_on"].iloc[0])


def _workbook(path, *, formula: bool = False, chart: bool = False) -> None:
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path))
    sheets = {"单位": [unit(1), unit(2)], "创新联合体": [cons("NN-1", "nanning")],
              "成员": [{"consortium_id": "NN-1", "uscc": code(1), "role": "lead"}]}
    for name, rows in sheets.items():
        ws = wb.add_worksheet(name)
        heads = list(rows[0])
        ws.write_row(0, 0, heads)
        for i, r in enumerate(rows, start=1):
            ws.write_row(i, 0, [str(r[h]) for h in heads])
        if name == "单位" and formula:
            ws.write_formula(2, heads.index("name"), '="南宁乙"&"有限公司"', None, "南宁乙有限公司")
        if name == "单位" and chart:
            c = wb.add_chart({"type": "column"})
            c.add_series({"values": f"='{name}'!$A$2:$A$3"})
            ws.insert_chart("K2", c)
    wb.close()


@pytest.mark.parametrize(("kind", "says"), [("formula", "单位!"), ("chart", "charts")])
def test_writeback_refuses_a_workbook_it_would_damage(tmp_path, kind, says):
    """openpyxl drops formulas' saved results (what the reader reads) and charts when it
    saves: add-member refuses, names what would be lost, and writes nothing."""
    path = tmp_path / "reg.xlsx"
    _workbook(path, **{kind: True})
    before = path.read_bytes()
    assert load_registry(path).units["name"].tolist()[1] != ""
    r = CliRunner().invoke(main, ["add-member", str(path), "NN-1", code(2), "--role", "core", "--as-of", AS_OF])
    assert r.exit_code == 2 and says in r.stderr and "nothing was written" in r.stderr, r.output
    assert path.read_bytes() == before
    _workbook(path)  # the same workbook without it: accepted
    r = CliRunner().invoke(main, ["add-member", str(path), "NN-1", code(2), "--role", "core", "--as-of", AS_OF])
    assert r.exit_code == 0, r.output
    assert load_registry(path).memberships["uscc"].tolist() == [code(1), code(2)]
