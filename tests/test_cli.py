"""The CLI as a user drives it: exit codes, the JSON contract, exports, help."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import code, unit

from consortia.cli import main

AS_OF = "2026-06-30"
CONTRACT = {"rule", "severity", "waived", "jurisdiction", "consortium_id", "uscc", "message", "citation"}


def cons(cid: str, j: str, **kw: str) -> dict[str, str]:
    return {"consortium_id": cid, "jurisdiction": j, "status": "active", "recognized_on": "2024-01-01", **kw}


LEAD = {"ops_city": "南宁市", "revenue": "70000", "rd_staff": "30", "rd_spend_3y": "6000", "sales_3y": "150000",
        "years_operating": "10", "platform_level": "municipal", "tech_enterprise": "true", "legal_status": "active",
        "sector": "manufacturing", "rd_deduction": "true"}


@pytest.fixture
def clean(make_registry) -> Path:
    """A Nanning consortium that meets every rule of the Nanning text."""
    units = [unit(1, **LEAD), unit(2), unit(3), unit(4), unit(5, type_="university"), unit(6, type_="institute")]
    consortia = [cons("NN-1", "nanning", recognized_on="2025-06-01", agreement_signed_on="2025-05-01",
                      chief_expert="韦明远", name="南宁示范创新联合体")]
    roles = ["lead", "core", "close", "general", "core", "close"]
    members = [{"consortium_id": "NN-1", "uscc": code(i), "role": r, "joined_on": "2025-06-01"}
               for i, r in enumerate(roles, start=1)]
    return make_registry(units, consortia, members,
                         annual_reports=[{"consortium_id": "NN-1", "year": "2025", "submitted_on": "2025-12-20"}],
                         evaluations=[{"consortium_id": "NN-1", "evaluated_on": "2025-06-01", "grade": "good"}])


@pytest.fixture
def breached(make_registry) -> Path:
    evil = dict(unit(3), name="=cmd|' /C calc'!A0", uscc="91450103000000003X")  # invalid code: message starts =cmd
    return make_registry([unit(1), unit(2), evil], [cons("NN-1", "nanning")],
                         [{"consortium_id": "NN-1", "uscc": code(1), "role": "lead"},
                          {"consortium_id": "NN-1", "uscc": code(2), "role": "lead"}])


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def test_check_exit_codes(clean, breached, tmp_path):
    r = run("check", str(clean), "--as-of", AS_OF, "--format", "json")
    assert r.exit_code == 0, (r.stderr, r.stdout[:2000], r.exception)
    r = run("check", str(breached), "--as-of", AS_OF)
    assert r.exit_code == 1 and "LEAD_COUNT" in r.stdout
    r = run("check", str(tmp_path / "missing"))
    assert r.exit_code == 2 and "no such file" in r.stderr
    r = run("check", str(clean), "--as-of", "yesterday")
    assert r.exit_code == 2


def test_check_json_contract(breached):
    r = run("check", str(breached), "--as-of", AS_OF, "--format", "json")
    rows = json.loads(r.stdout)
    assert rows and all(CONTRACT <= row.keys() for row in rows)
    lead = next(row for row in rows if row["rule"] == "LEAD_COUNT")
    assert lead["severity"] == "error" and lead["waived"] is False and lead["jurisdiction"] == "nanning"
    assert lead["consortium_id"] == "NN-1" and "南宁市创新联合体管理办法" in lead["citation"]
    assert "\\u" not in r.stdout  # Chinese stays Chinese


def test_check_filters_by_jurisdiction(breached):
    r = run("check", str(breached), "--as-of", AS_OF, "--format", "json", "-j", "柳州")
    assert json.loads(r.stdout) == [] and r.exit_code == 0
    assert run("check", str(breached), "-j", "atlantis").exit_code == 2


def test_exports_neutralise_formulas(breached, tmp_path):
    out = tmp_path / "f.csv"
    r = run("check", str(breached), "--as-of", AS_OF, "--format", "csv", "--out", str(out))
    assert r.exit_code == 1 and out.exists()
    text = out.read_text(encoding="utf-8-sig")
    assert "'=cmd" in text and ",=cmd" not in text and '"=cmd' not in text
    xlsx = tmp_path / "f.xlsx"
    r = run("check", str(breached), "--as-of", AS_OF, "--format", "xlsx", "--out", str(xlsx))
    frame = pd.read_excel(xlsx, dtype=str, engine="openpyxl")
    msgs = " ".join(frame["message"])
    assert "LEAD_COUNT" in set(frame["rule"]) and "=cmd" in msgs
    assert not any(str(v).startswith("=") for v in frame.to_numpy().ravel())
    assert run("check", str(breached), "--format", "xlsx").exit_code == 2


def test_show(breached):
    r = run("show", "unit", code(2), "-r", str(breached), "--as-of", AS_OF, "--format", "json")
    info = json.loads(r.stdout)
    assert r.exit_code == 0 and info["record"]["uscc"] == code(2)
    assert info["memberships"][0]["consortium_id"] == "NN-1" and info["memberships"][0]["active"] is True
    r = run("show", "consortium", "NN-1", "-r", str(breached), "--as-of", AS_OF)
    assert r.exit_code == 0 and "LEAD_COUNT" in r.stdout and code(1) in r.stdout
    r = run("show", "consortium", "NN-404", "-r", str(breached))
    assert r.exit_code == 2 and "NN-404" in r.stderr


def test_rules_lists_every_rulebook_with_citations():
    r = run("rules", "--format", "json", "--lang", "en")
    rows = json.loads(r.stdout)
    assert {row["jurisdiction"] for row in rows} == {"Guangxi", "Nanning", "Liuzhou", "Liaoyang", "Nanjing"}
    assert all(row["citation"] for row in rows)
    r = run("rules", "南宁", "--format", "json")
    assert {row["jurisdiction"] for row in json.loads(r.stdout)} == {"南宁市"}


def test_malformed_rulebook_names_key_and_line(tmp_path, clean):
    bad = tmp_path / "wuhan.yaml"
    bad.write_text("jurisdiction: wuhan\nname_zh: 武汉市\nlevel: city\ndocument: {title: 《武汉》}\n"
                   "rules:\n  - id: MEMBER_CAP\n    severity: fatal\n    params: {max: 3}\n"
                   "    citation: {article: 第一条, quote: 至多3个}\n", encoding="utf-8")
    r = run("check", str(clean), "--rules", str(bad))
    assert r.exit_code == 2 and "row 7" in r.stderr and "severity" in r.stderr and "fatal" in r.stderr


def test_extra_rulebook_adds_a_jurisdiction(tmp_path, make_registry):
    book = tmp_path / "wuhan.yaml"
    book.write_text("jurisdiction: wuhan\nname_zh: 武汉市\nname_en: Wuhan\naliases: [武汉]\nlevel: city\n"
                    "document: {title: 《武汉市创新联合体办法》}\nrules:\n  - id: LEAD_COUNT\n    severity: error\n"
                    "    params: {min: 1, max: 3}\n    citation: {article: 第三条, quote: 牵头单位1至3家}\n",
                    encoding="utf-8")
    reg = make_registry([unit(1), unit(2)], [cons("WH-1", "武汉")],
                        [{"consortium_id": "WH-1", "uscc": code(1), "role": "lead"},
                         {"consortium_id": "WH-1", "uscc": code(2), "role": "lead"}])
    assert run("check", str(reg), "--as-of", AS_OF).exit_code == 2  # unknown jurisdiction without the book
    assert run("check", str(reg), "--as-of", AS_OF, "--rules", str(book)).exit_code == 0


def test_every_command_has_help_and_is_in_the_readme():
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    for name, cmd in main.commands.items():
        assert cmd.help, name
        assert f"consortia {name}" in readme, name
        assert run(name, "--help").exit_code == 0


def test_summary_counts_members_by_type_and_tier(clean):
    r = run("summary", str(clean), "--as-of", AS_OF, "--format", "json", "--lang", "en")
    (row,) = json.loads(r.stdout)
    assert r.exit_code == 0 and row["consortium_id"] == "NN-1"
    assert (row["members"], row["enterprises"], row["universities"], row["institutes"]) == (6, 4, 1, 1)
    assert (row["core"], row["close"], row["general"]) == (2, 2, 1)
    assert row["platforms_municipal"] == 1 and row["errors"] == 0
    assert row["leads"] == "单位1有限公司"


def test_excel_report_has_three_sheets_with_chinese_headers(breached, tmp_path):
    out = tmp_path / "report.xlsx"
    r = run("check", str(breached), "--as-of", AS_OF, "--format", "xlsx", "--out", str(out), "--lang", "zh")
    assert r.exit_code == 1
    sheets = pd.read_excel(out, sheet_name=None, dtype=str, engine="openpyxl")
    assert list(sheets) == ["问题清单", "联合体汇总", "单位参与情况"]
    assert {"规则", "严重程度", "已豁免", "依据条款"} <= set(sheets["问题清单"].columns)
    assert sheets["联合体汇总"]["牵头单位"].iloc[0].count(";") == 1  # two leads listed
    assert set(sheets["单位参与情况"]["统一社会信用代码"]) == {code(1), code(2)}
    messages = sheets["问题清单"]["说明"]
    assert any(m.startswith("'=cmd") for m in messages)  # the crafted name is text, not a formula


def test_a_terminal_table_keeps_codes_whole_beside_a_long_list(monkeypatch):
    """A unit in forty consortia must not squeeze its own credit code out of the table."""
    from consortia.output import emit

    monkeypatch.setenv("COLUMNS", "120")
    long_list = "; ".join(f"NN-2025-{i:04d}:general" for i in range(40))
    rows = [{"uscc": code(n), "bodies": 40, "consortia": long_list} for n in (1, 2)]
    printed: list[str] = []
    emit(rows, "table", columns=["uscc", "bodies", "consortia"], echo=printed.append)
    text = "".join(printed)
    assert code(1) in text and code(2) in text
    assert "NN-2025-0039:general" in text  # the list wraps; nothing is cut
    assert max(len(line) for line in text.splitlines()) <= 120


def test_a_terminal_table_of_findings_shows_the_first_and_says_so(breached, tmp_path):
    """A national registry has a hundred thousand findings: the terminal shows the
    first ones (errors first) and says how many there are; files get them all."""
    everything = json.loads(run("check", str(breached), "--as-of", AS_OF, "--format", "json").stdout)
    assert len(everything) > 2
    r = run("check", str(breached), "--as-of", AS_OF, "--limit", "2")
    assert r.exit_code == 1  # judged on every finding, not the two shown
    assert f"{len(everything)} findings" in r.stdout
    assert f"(showing 2 of {len(everything):,} findings; --limit 0 for all" in r.stderr
    shown = {f["rule"] for f in everything[:2]}
    later = {f["rule"] for f in everything[2:]} - shown - {w for f in everything[:2] for w in f["message"].split()}
    assert shown and later  # rules only the findings after the first two have
    assert all(rule in r.stdout for rule in shown) and not any(rule in r.stdout for rule in later)
    whole = run("check", str(breached), "--as-of", AS_OF, "--limit", "0")
    assert "showing" not in whole.stderr and all(rule in whole.stdout for rule in later)
    out = tmp_path / "all.json"
    run("check", str(breached), "--as-of", AS_OF, "--format", "json", "--out", str(out))
    assert len(json.loads(out.read_text(encoding="utf-8"))) == len(everything)


@pytest.fixture(scope="module")
def demo_registry(tmp_path_factory) -> Path:
    from consortia.demo import demo_tables
    from consortia.generate import write_csv

    root = tmp_path_factory.mktemp("demo") / "registry"
    write_csv(demo_tables(), root)
    return root


@pytest.mark.parametrize(("command", "what"), [(("deadlines", "--within", "2y"), "obligations"),
                                               (("summary", "--lang", "en"), "consortia")])
def test_long_terminal_tables_are_cut_and_files_are_not(demo_registry, tmp_path, command, what):
    args = (*command, str(demo_registry), "--as-of", "2026-06-30")
    everything = json.loads(run(*args, "--format", "json").stdout)
    assert len(everything) > 1
    r = run(*args, "--limit", "1")
    assert r.exit_code == 0 and f"(showing 1 of {len(everything):,} {what}; --limit 0 for all)" in r.stderr
    assert "showing" not in run(*args, "--limit", "0").stderr
    out = tmp_path / "all.csv"
    assert run(*args, "--format", "csv", "--out", str(out)).exit_code == 0
    assert len(pd.read_csv(out)) == len(everything)


def test_summary_rejects_an_unknown_or_lapsed_consortium_as_gaps_does(demo_registry):
    r = run("summary", str(demo_registry), "-c", "NOPE", "--as-of", "2026-06-30")
    assert r.exit_code == 2 and isinstance(r.exception, SystemExit)
    assert r.stderr == "Error: --consortium, column consortium_id: 'NOPE': a consortium_id in the registry\n"
    assert r.stdout == ""
    r = run("summary", str(demo_registry), "-c", "DEMO-NN2", "-c", "DEMO-LY2", "--as-of", "2026-06-30")
    assert r.exit_code == 2  # DEMO-LY2 was revoked in 2024: the summary has no row for it
    assert "'DEMO-LY2': a consortium in force on 2026-06-30 (this one is not: status or date)" in r.stderr
    r = run("summary", str(demo_registry), "-c", "DEMO-NN2", "--as-of", "2026-06-30", "--format", "json", "--lang", "en")
    assert r.exit_code == 0 and [row["consortium_id"] for row in json.loads(r.stdout)] == ["DEMO-NN2"]


def test_a_table_too_wide_for_the_terminal_shows_every_value_as_records(demo_registry, monkeypatch):
    """rich squeezes columns to nothing and crops the rest at the edge: a one-consortium
    summary has twenty columns, so it is printed as column/value lines instead."""
    monkeypatch.setenv("COLUMNS", "120")
    whole = json.loads(run("summary", str(demo_registry), "--as-of", AS_OF, "-c", "DEMO-NN2", "--lang", "en",
                           "--format", "json").stdout)[0]
    text = run("summary", str(demo_registry), "--as-of", AS_OF, "-c", "DEMO-NN2", "--lang", "en").stdout
    assert "1 of 1" in text
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 120
    for column, value in whole.items():
        assert any(column in line and str(value) in line for line in lines), (column, value)


def test_a_table_that_fits_stays_a_table(demo_registry, monkeypatch):
    monkeypatch.setenv("COLUMNS", "160")
    text = run("deadlines", str(demo_registry), "--within", "2y", "--as-of", AS_OF, "--limit", "3").stdout
    assert "1 of" not in text and "┃ due_on" in text


def test_coverage_matrix_note_counts_the_matrix_rows(demo_registry):
    args = ("coverage", str(demo_registry), "--chain", "NEV", "--by", "jurisdiction", "--as-of", AS_OF)
    segments = {r["segment_id"] for r in json.loads(run(*args, "--format", "json").stdout)}
    r = run(*args, "--limit", "3")
    assert r.exit_code == 0 and f"(showing 3 of {len(segments)} rows; --limit 0 for all)" in r.stderr
    assert "showing" not in run(*args).stderr  # the whole matrix by default


def test_check_says_on_stderr_when_a_text_was_not_in_force(demo_registry):
    r = run("check", str(demo_registry), "--as-of", "2026-06-30", "--limit", "1")
    assert r.exit_code == 1 and "Note: The Liaoyang text" in r.stderr and "2026-05-22" in r.stderr
    assert "Note:" not in run("check", str(demo_registry), "--as-of", "2026-05-01", "--limit", "1").stderr


def test_show_says_when_the_records_text_was_not_in_force(demo_registry):
    def texts(cid: str) -> list[dict[str, str]]:
        r = run("show", "consortium", cid, "-r", str(demo_registry), "--as-of", "2026-06-30", "--format", "json")
        return json.loads(r.stdout)["texts_not_in_force"]

    assert texts("DEMO-LY1") == [{"state": "lapsed", "in_force_from": "2023-05-23", "valid_until": "2026-05-22",
                                  "jurisdiction": "liaoyang"}]
    assert texts("DEMO-NJ1") == []
    table = run("show", "consortium", "DEMO-LY1", "-r", str(demo_registry), "--as-of", "2026-06-30").stdout
    assert "liaoyang: lapsed as of 2026-06-30 (in force 2023-05-23 to 2026-05-22)" in table


def test_rules_give_each_texts_period_of_validity():
    rows = json.loads(run("rules", "liaoyang", "--lang", "en", "--format", "json").stdout)
    assert rows and {r["text_in_force"] for r in rows} == {"2023-05-23 to 2026-05-22"}
    zh = json.loads(run("rules", "nanjing", "--format", "json").stdout)
    assert {r["有效期"] for r in zh} == {""}  # the Nanjing text states no period
    r = run("rules", "--lang", "en")
    assert "Texts in force: Liaoyang 2023-05-23 to 2026-05-22; Nanning 2025-05-30 to 2030-05-29" in r.stderr
    assert "有效期：南宁市 2025-05-30 至 2030-05-29" in run("rules", "nanning").stderr
