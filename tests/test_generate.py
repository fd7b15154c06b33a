"""The demo/benchmark generator: shape, determinism, referential integrity, and the
realism the checker's demos rely on (leads near thresholds, copies, bad data)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from consortia.generate import COLUMNS, JURISDICTIONS, generate, write_csv
from consortia.uscc import validate_codes

N = 300
ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DATE_COLUMNS = {
    "units": ("credit_blacklist_until",),
    "consortia": ("recognized_on", "agreement_signed_on", "revoked_on"),
    "memberships": ("joined_on", "left_on"),
    "evaluations": ("evaluated_on", "rectification_passed_on"),
    "annual_reports": ("submitted_on",),
    "projects": ("started_on",),
}


@pytest.fixture(scope="module")
def reg() -> dict[str, pd.DataFrame]:
    return generate(N, seed=0)


def _num(s: pd.Series) -> pd.Series:
    return pd.to_numeric(s.replace("", np.nan))


def test_tables_and_columns_follow_the_data_model(reg: dict[str, pd.DataFrame]) -> None:
    assert set(reg) == set(COLUMNS)
    for name, frame in reg.items():
        assert tuple(frame.columns) == COLUMNS[name], name
        assert len(frame) > 0, name


def test_columns_are_known_to_the_schema(reg: dict[str, pd.DataFrame]) -> None:
    schema = pytest.importorskip("consortia.schema")
    for name, frame in reg.items():
        table = schema.TABLES[name]
        assert set(frame.columns) <= set(table.column_by_name), name
        assert {c.name for c in table.columns if c.required} <= set(frame.columns), name


def test_every_cell_is_a_string(reg: dict[str, pd.DataFrame]) -> None:
    for name, frame in reg.items():
        for col in frame.columns:
            assert frame[col].map(type).eq(str).all(), (name, col)


def test_same_seed_same_registry() -> None:
    a, b = generate(120, seed=7), generate(120, seed=7)
    for name in COLUMNS:
        pd.testing.assert_frame_equal(a[name], b[name])


def test_different_seeds_differ() -> None:
    a, b = generate(120, seed=1), generate(120, seed=2)
    assert not a["units"]["uscc"].equals(b["units"]["uscc"])
    assert set(a["units"]["uscc"]).isdisjoint(set(b["units"]["uscc"]))


def test_sizes_scale(reg: dict[str, pd.DataFrame]) -> None:
    assert len(reg["consortia"]) == N
    assert 7 <= len(reg["units"]) / N <= 13
    assert 21 <= len(reg["memberships"]) / N <= 39
    small = generate(100, seed=0)
    assert len(small["consortia"]) == 100
    assert len(reg["memberships"]) > 2 * len(small["memberships"])


def test_references_resolve(reg: dict[str, pd.DataFrame]) -> None:
    units, cons, mem = reg["units"], reg["consortia"], reg["memberships"]
    assert units["uscc"].is_unique
    assert cons["consortium_id"].is_unique
    assert mem["uscc"].isin(units["uscc"]).all()
    assert mem["consortium_id"].isin(cons["consortium_id"]).all()
    assert not mem.duplicated(["consortium_id", "uscc", "joined_on"]).any()  # the memberships' key
    # A unit is in a consortium once, except a core enterprise that took over as lead (a second row).
    again = mem[mem.duplicated(["consortium_id", "uscc"], keep=False)]
    assert set(again["role"]) == {"core", "lead"} and again.groupby(["consortium_id", "uscc"]).size().eq(2).all()
    assert units["uscc"].isin(mem["uscc"]).all()  # no unit outside every consortium
    assert reg["evaluations"]["consortium_id"].isin(cons["consortium_id"]).all()
    assert reg["annual_reports"]["consortium_id"].isin(cons["consortium_id"]).all()
    proj = reg["projects"]
    assert proj["project_id"].is_unique
    assert proj["consortium_id"].isin(cons["consortium_id"]).all()
    assert proj["lead_uscc"].isin(units["uscc"]).all()
    assert reg["project_members"]["project_id"].isin(proj["project_id"]).all()
    assert reg["project_members"]["uscc"].isin(units["uscc"]).all()
    chains = reg["chains"]
    assert chains["segment_id"].is_unique
    assert cons["chain_id"].isin(chains["chain_id"]).all()
    fed = {s for cell in chains["feeds"] if cell for s in cell.split(";")}
    assert fed <= set(chains["segment_id"])
    assert set(chains["parent"]) - {""} <= set(chains["segment_id"])


def test_member_segments_belong_to_the_consortium_chain(reg: dict[str, pd.DataFrame]) -> None:
    mem = reg["memberships"].merge(reg["consortia"][["consortium_id", "chain_id"]], on="consortium_id")
    seg = mem[mem["segments"] != ""].assign(segment=lambda d: d["segments"].str.split(";")).explode("segment")
    assert (seg["segment"].str.split("-").str[0] == seg["chain_id"]).all()
    assert seg["segment"].isin(reg["chains"]["segment_id"]).all()
    uncovered = set(reg["chains"]["segment_id"]) - set(seg["segment"])
    assert uncovered  # gaps in the chains, on purpose


def test_every_consortium_has_a_lead_and_tiers(reg: dict[str, pd.DataFrame]) -> None:
    mem = reg["memberships"]
    leads = mem[(mem["role"] == "lead") & (mem["left_on"] == "")].groupby("consortium_id").size()
    assert set(leads.index) == set(reg["consortia"]["consortium_id"])
    two = leads[leads == 2].index
    assert len(two) > 0
    assert reg["consortia"].set_index("consortium_id").loc[two, "jurisdiction"].eq("liuzhou").all()
    share = mem["role"].value_counts(normalize=True)
    assert set(share.index) == {"lead", "core", "close", "general"}
    assert share["general"] > share["close"] > share["core"] > share["lead"]


def test_all_jurisdictions_and_statuses_present(reg: dict[str, pd.DataFrame]) -> None:
    cons = reg["consortia"]
    assert set(cons["jurisdiction"]) == set(JURISDICTIONS)
    assert cons["status"].isin(["active", "rectifying", "revoked", "terminated"]).all()
    assert (cons["status"] == "active").mean() > 0.7
    ended = cons["status"].isin(["revoked", "terminated"])
    assert ended.any()
    assert (cons.loc[ended, "revoked_on"] != "").all()
    assert (cons.loc[~ended, "revoked_on"] == "").all()


def test_most_codes_valid_some_invalid(reg: dict[str, pd.DataFrame]) -> None:
    reasons = validate_codes(reg["units"]["uscc"].to_numpy())
    bad = (reasons != "").mean()
    assert 0 < bad < 0.03


def test_declared_city_sometimes_disagrees_with_the_code(reg: dict[str, pd.DataFrame]) -> None:
    geo = pytest.importorskip("consortia.geo")
    units = reg["units"]
    units = units[~units["uscc"].str.startswith("X-")]
    by_code = units["uscc"].str[2:8].map(geo.city_of_division)
    assert (by_code == units["city"]).mean() > 0.95
    assert (by_code.notna() & (by_code != units["city"])).any()


def test_a_few_names_repeat_under_two_codes(reg: dict[str, pd.DataFrame]) -> None:
    dup = reg["units"]["name"].duplicated(keep=False)
    assert 2 <= dup.sum() <= 10
    assert reg["units"].loc[dup, "uscc"].is_unique


def test_some_unit_is_over_the_cap_and_most_are_in_one(reg: dict[str, pd.DataFrame]) -> None:
    cons = reg["consortia"]
    copies = set(cons.loc[cons["recognized_from"] != "", "consortium_id"])
    mem = reg["memberships"]
    per_unit = mem[~mem["consortium_id"].isin(copies)].groupby("uscc").size()
    assert (per_unit > 3).any()
    assert (per_unit == 1).mean() > 0.5
    assert (per_unit > 3).mean() < 0.2


def test_recognized_from_pairs_share_lead_and_members(reg: dict[str, pd.DataFrame]) -> None:
    cons, mem = reg["consortia"], reg["memberships"]
    pairs = cons[cons["recognized_from"] != ""]
    assert len(pairs) > 0
    assert (pairs["jurisdiction"] == "nanning").all()
    src = cons.set_index("consortium_id").loc[pairs["recognized_from"]]
    assert (src["jurisdiction"] == "guangxi").all()
    members = mem.groupby("consortium_id")["uscc"].apply(frozenset)
    leads = mem[mem["role"] == "lead"].groupby("consortium_id")["uscc"].apply(frozenset)
    for copy_id, src_id in zip(pairs["consortium_id"], pairs["recognized_from"], strict=True):
        assert members[copy_id] == members[src_id]
        assert leads[copy_id] == leads[src_id]


def test_dates_are_iso(reg: dict[str, pd.DataFrame]) -> None:
    for table, cols in DATE_COLUMNS.items():
        for col in cols:
            values = reg[table][col]
            present = values[values != ""]
            assert present.str.match(ISO).all(), (table, col)
            pd.to_datetime(present, format="%Y-%m-%d")  # raises on 2025-02-30
    rec = pd.to_datetime(reg["consortia"]["recognized_on"])
    assert rec.dt.year.min() <= 2020 and rec.dt.year.max() >= 2025
    assert reg["annual_reports"]["year"].str.fullmatch(r"\d{4}").all()


def test_money_and_flags_in_canonical_form(reg: dict[str, pd.DataFrame]) -> None:
    units = reg["units"]
    for col in ("revenue", "rd_spend_3y", "sales_3y"):
        present = units.loc[units[col] != "", col]
        assert present.str.fullmatch(r"\d+(\.\d{1,2})?").all(), col
    for col in ("rd_staff", "years_operating"):
        present = units.loc[units[col] != "", col]
        assert present.str.fullmatch(r"\d+").all(), col
    for col in ("tech_enterprise", "rd_deduction"):
        assert units[col].isin(["true", "false", ""]).all(), col
    assert units["platform_level"].isin(["national", "provincial", "municipal", "none", ""]).all()
    assert units["legal_status"].isin(["active", "deregistered", "revoked"]).all()
    assert (units["legal_status"] != "active").any()
    assert (units["credit_blacklist_until"] != "").any()


def test_leads_mostly_meet_their_thresholds_some_just_miss(reg: dict[str, pd.DataFrame]) -> None:
    mem = reg["memberships"].merge(reg["consortia"][["consortium_id", "jurisdiction", "recognized_on"]],
                                   on="consortium_id")
    # The leads a consortium was recognised with (a later lead took over from a core tier: see below).
    founding = (mem["role"] == "lead") & (mem["joined_on"] == mem["recognized_on"])
    leads = mem[founding].join(reg["units"].set_index("uscc"), on="uscc")
    revenue_min = leads["jurisdiction"].map({"guangxi": 100000.0, "nanning": 60000.0, "liuzhou": 50000.0})
    revenue_min[(leads["jurisdiction"] == "liuzhou") & (leads["sector"] == "tech_services")] = 10000.0
    staff_min = leads["jurisdiction"].map({"guangxi": 30.0, "nanning": 20.0, "liuzhou": 20.0})
    ruled = revenue_min.notna().to_numpy()
    revenue, staff = _num(leads["revenue"]).to_numpy()[ruled], _num(leads["rd_staff"]).to_numpy()[ruled]
    revenue_min, staff_min = revenue_min.to_numpy()[ruled], staff_min.to_numpy()[ruled]
    level = leads["platform_level"].map({"none": 0, "municipal": 1, "provincial": 2, "national": 3}).to_numpy()[ruled]
    level_min = leads["jurisdiction"].map({"guangxi": 2, "nanning": 1, "liuzhou": 1}).to_numpy()[ruled]
    low_revenue, low_staff, low_level = revenue < revenue_min, staff < staff_min, level < level_min
    assert 0 < (low_revenue | low_staff | low_level).mean() < 0.15
    assert (level[low_level] == level_min[low_level] - 1).all()
    assert (revenue[low_revenue] >= 0.85 * revenue_min[low_revenue]).all()  # misses are near the line
    assert (staff[low_staff] >= staff_min[low_staff] - 3).all()
    just_clear = ((revenue >= revenue_min) & (revenue < 1.035 * revenue_min)) | (
        (staff >= staff_min) & (staff <= staff_min + 2)
    )
    assert just_clear.any()  # and some just clear it


def test_members_are_mostly_local(reg: dict[str, pd.DataFrame]) -> None:
    mem = reg["memberships"].merge(reg["consortia"][["consortium_id", "jurisdiction"]], on="consortium_id")
    mem = mem.join(reg["units"].set_index("uscc")[["city", "province", "type"]], on="uscc")
    ly = mem[mem["jurisdiction"] == "liaoyang"]
    assert (ly["city"] == "辽阳市").mean() > 0.45
    assert (ly["province"] == "辽宁省").mean() > 0.7
    nj = mem[mem["jurisdiction"] == "nanjing"]
    assert (nj["city"] == "南京市").mean() > 0.5
    with_research = nj.groupby("consortium_id")["type"].apply(lambda t: t.isin(["university", "institute"]).any())
    assert with_research.mean() > 0.85


def test_names_look_chinese_and_plausible(reg: dict[str, pd.DataFrame]) -> None:
    units = reg["units"]
    ent = units.loc[units["type"] == "enterprise", "name"]
    assert ent.str.endswith("公司").mean() > 0.99
    uni = units.loc[units["type"] == "university", "name"]
    assert uni.str.contains("大学|学院").all()
    assert reg["consortia"]["name"].str.endswith("创新联合体").all()
    experts = reg["consortia"]["chief_expert"]
    assert (experts != "").mean() > 0.7
    assert experts[experts != ""].str.fullmatch(r"[\u4e00-\u9fff]{2,3}(;[\u4e00-\u9fff]{2,3})?").all()


def test_rejects_an_empty_registry() -> None:
    with pytest.raises(ValueError):
        generate(0)


def test_write_csv_round_trips_atomically(tmp_path: Path) -> None:
    reg = generate(40, seed=5)
    out = tmp_path / "reg"
    write_csv(reg, out)
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{t}.csv" for t in COLUMNS)
    for name, frame in reg.items():
        back = pd.read_csv(out / f"{name}.csv", dtype=str, keep_default_na=False, encoding="utf-8")
        pd.testing.assert_frame_equal(back, frame, check_dtype=False)
    write_csv(reg, out)  # overwriting leaves no temporary file behind
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def _generate(*args: str):
    from click.testing import CliRunner

    from consortia.cli import main

    return CliRunner().invoke(main, ["generate", "--consortia", "3", *args])


@pytest.mark.parametrize("held", ["memberships.csv", "单位.csv", "Consortia.TXT"])
def test_generate_refuses_a_folder_holding_a_registry_unless_forced(tmp_path: Path, held: str) -> None:
    """A registry file under any name the loader reads is someone's registry: generate leaves it be."""
    out = tmp_path / "reg"
    out.mkdir()
    (out / held).write_text("their registry\n", encoding="utf-8")
    r = _generate("--out", str(out))
    assert r.exit_code == 2 and isinstance(r.exception, SystemExit)
    assert r.stderr == (f"Error: cannot write {out}: it already holds a registry ({held}); use --force to replace it, "
                        "or --out an empty or new folder\n")
    assert sorted(p.name for p in out.iterdir()) == [held]
    assert (out / held).read_text(encoding="utf-8") == "their registry\n"
    if held == "memberships.csv":
        r = _generate("--out", str(out), "--force")
        assert r.exit_code == 0, r.stderr
        assert (out / held).read_text(encoding="utf-8").startswith("consortium_id,")


def test_generate_writes_into_an_empty_or_unrelated_folder(tmp_path: Path) -> None:
    (tmp_path / "notes.md").write_text("mine", encoding="utf-8")
    (tmp_path / "report.xlsx").write_bytes(b"")
    r = _generate("--out", str(tmp_path))
    assert r.exit_code == 0, r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["notes.md", "report.xlsx", *(f"{t}.csv" for t in COLUMNS)])
    r = _generate("--out", str(tmp_path))  # now it holds a registry
    assert r.exit_code == 2 and "and 3 more" in r.stderr


def test_a_few_leads_hand_over_to_a_core_enterprise(reg: dict[str, pd.DataFrame]) -> None:
    """About one consortium in a hundred (of those in force a year or more): the lead's
    membership and a core enterprise's end on one day after recognition, and the
    enterprise's lead membership begins that day (what LEAD_CHANGE looks for)."""
    mem, cons = reg["memberships"], reg["consortia"].set_index("consortium_id")
    core_end = mem[(mem["role"] == "core") & (mem["left_on"] != "")][["consortium_id", "uscc", "left_on"]]
    new = mem[mem["role"] == "lead"].merge(core_end.rename(columns={"left_on": "joined_on"}))
    assert 0 < len(new) <= 0.03 * len(cons)
    assert (new["left_on"] == "").all()
    units = reg["units"].set_index("uscc")
    for row in new.itertuples():
        before = mem[(mem["consortium_id"] == row.consortium_id) & (mem["left_on"] == row.joined_on)]
        assert set(before["role"]) == {"lead", "core"}
        assert before.loc[before["role"] == "core", "uscc"].tolist() == [row.uscc]
        assert units.loc[row.uscc, "type"] == "enterprise"
        assert row.joined_on > cons.loc[row.consortium_id, "recognized_on"]
