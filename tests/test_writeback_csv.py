"""add-member on a CSV: every existing byte kept, new rows in the file's own conventions.

Line endings (lone CR too), UTF-16 in either byte order, and quoting per column: each case
compares the file byte for byte with what it must be, and reads it back through the loader.
"""

from __future__ import annotations

import pytest
from conftest import code, unit

from consortia import csv_style
from consortia.graph import EmbeddedStore
from consortia.loaders import load_registry

AS_OF = "2026-06-30"


def cons(cid: str) -> dict[str, str]:
    return {"consortium_id": cid, "jurisdiction": "nanning", "status": "active", "recognized_on": "2024-01-01"}


@pytest.fixture
def folder(make_registry):
    return make_registry([unit(1), unit(2), unit(3)], [cons("NN-1")], [])


def _add(folder, n: int = 2, **kw) -> bytes:
    s = EmbeddedStore.open(folder, as_of=AS_OF)
    s.add_member("NN-1", code(n), "core", **kw)
    s.save()
    return (folder / "memberships.csv").read_bytes()


@pytest.mark.parametrize("last_newline", [True, False])
def test_lone_cr_line_endings_are_kept(folder, last_newline):
    lines = ["consortium_id,uscc,role,joined_on", f"NN-1,{code(1)},lead,2026-01-05"]
    before = ("\r".join(lines) + ("\r" if last_newline else "")).encode()
    (folder / "memberships.csv").write_bytes(before)
    after = _add(folder)
    assert after == before + (b"" if last_newline else b"\r") + f"NN-1,{code(2)},core,2026-06-30\r".encode()
    assert load_registry(folder).memberships["role"].tolist() == ["lead", "core"]


def test_lone_cr_with_a_new_column_in_the_header(folder):
    before = f"consortium_id,uscc,role\rNN-1,{code(1)},lead\r".encode()
    (folder / "memberships.csv").write_bytes(before)
    after = _add(folder)
    assert after == f"consortium_id,uscc,role,joined_on\rNN-1,{code(1)},lead\rNN-1,{code(2)},core,2026-06-30\r".encode()


@pytest.mark.parametrize(("bom", "codec"), [(b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")])
@pytest.mark.parametrize("sep", [",", "\t"])
def test_utf16_keeps_its_byte_order(folder, bom, codec, sep):
    """Comma-separated, and tab-separated with Excel's sep= line (as its "Unicode Text" is, plus the line)."""
    declared = "sep=\t\r\n" if sep == "\t" else ""
    text = (f"{declared}联合体编号{sep}统一社会信用代码{sep}角色{sep}加入日期\r\n"
            f"NN-1{sep}{code(1)}{sep}牵头单位{sep}2026-01-05\r\n")
    before = bom + text.encode(codec)
    (folder / "memberships.csv").write_bytes(before)
    assert load_registry(folder).memberships["role"].tolist() == ["lead"]
    after = _add(folder)
    assert after == before + f"NN-1{sep}{code(2)}{sep}核心层{sep}2026-06-30\r\n".encode(codec)
    assert load_registry(folder).memberships["uscc"].tolist() == [code(1), code(2)]


@pytest.mark.parametrize(("bom", "codec"), [(b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")])
def test_utf16_with_a_new_column_in_the_header(folder, bom, codec):
    (folder / "memberships.csv").write_bytes(bom + f"联合体编号,统一社会信用代码,角色\nNN-1,{code(1)},牵头单位\n".encode(codec))
    after = _add(folder)
    assert after == bom + (f"联合体编号,统一社会信用代码,角色,加入日期\nNN-1,{code(1)},牵头单位\n"
                           f"NN-1,{code(2)},核心层,2026-06-30\n").encode(codec)
    assert load_registry(folder).memberships["joined_on"].notna().tolist() == [False, True]


def test_text_quoted_and_dates_bare_as_the_rows_have_them(folder):
    """A QUOTE_NONNUMERIC-style writer: the text columns quoted, the dates not, an empty
    exemption written as "" and an empty left_on as nothing."""
    lines = ['"consortium_id","uscc","role","joined_on","left_on","exemption"',
             f'"NN-1","{code(1)}","lead",2026-01-05,,""',
             f'"NN-1","{code(3)}","core",2026-02-01,2026-03-01,"一事一议"']
    before = ("\n".join(lines) + "\n").encode()
    (folder / "memberships.csv").write_bytes(before)
    after = _add(folder)
    assert after == before + f'"NN-1","{code(2)}","core",2026-06-30,,""\n'.encode()
    m = load_registry(folder).memberships
    assert m["uscc"].tolist() == [code(1), code(3), code(2)] and m["exemption"].tolist()[2] == ""


def test_a_column_quoted_in_some_rows_only_is_not_quoted(folder):
    lines = ["consortium_id,uscc,role,joined_on", f'"NN-1",{code(1)},lead,2026-01-05', f"NN-1,{code(3)},core,2026-01-06"]
    before = ("\r\n".join(lines) + "\r\n").encode()
    (folder / "memberships.csv").write_bytes(before)
    assert _add(folder) == before + f"NN-1,{code(2)},core,2026-06-30\r\n".encode()


def test_a_value_that_needs_quotes_gets_them_in_a_bare_column(folder):
    before = f"consortium_id,uscc,role,joined_on,exemption\nNN-1,{code(1)},lead,2026-01-05,\n".encode()
    (folder / "memberships.csv").write_bytes(before)
    after = _add(folder, exemption='一事一议,第"3"号')
    assert after == before + f'NN-1,{code(2)},core,2026-06-30,"一事一议,第""3""号"\n'.encode()
    assert load_registry(folder).memberships["exemption"].tolist()[1] == '一事一议,第"3"号'


def test_a_quoted_header_with_a_new_column_quotes_the_new_header_cell(folder):
    before = f'"consortium_id","uscc","role"\n"NN-1","{code(1)}","lead"\n'.encode()
    (folder / "memberships.csv").write_bytes(before)
    after = _add(folder)
    # Every column the rows have is quoted, so the new one is too.
    assert after == (f'"consortium_id","uscc","role","joined_on"\n"NN-1","{code(1)}","lead"\n'
                     f'"NN-1","{code(2)}","core","2026-06-30"\n').encode()


def test_the_latest_rows_decide_and_the_cut_never_falls_inside_a_quoted_cell(folder, monkeypatch):
    """Only the last SAMPLE characters are judged, from a row boundary: older bare rows do not
    count, and a quoted cell holding line breaks, cut through, is not taken for rows."""
    day = [f"2025-{i // 28 + 1:02d}-{i % 28 + 1:02d}" for i in range(40)]
    old = [f"NN-1,{code(1)},core,{day[i]},bare" for i in range(40)]
    new = [f'"NN-1","{code(3)}","core","{day[i]}","一事一议\n第{i}号\r\n""附件""\n"' for i in range(40)]
    rows = "\n".join(old + new) + "\n"
    before = ("consortium_id,uscc,role,joined_on,exemption\n" + rows).encode()
    for sample in (200, 333, 500, 1001, len(rows) // 3):
        monkeypatch.setattr(csv_style, "SAMPLE", sample)
        style = csv_style.read_style("consortium_id,uscc,role,joined_on,exemption",
                                     ["consortium_id", "uscc", "role", "joined_on", "exemption"], rows, ",", "\n")
        assert style.quote_filled == [True] * 5, sample
    monkeypatch.setattr(csv_style, "SAMPLE", 500)
    (folder / "memberships.csv").write_bytes(before)
    assert _add(folder) == before + f'"NN-1","{code(2)}","core","2026-06-30",""\n'.encode()
    assert len(load_registry(folder).memberships) == 81
