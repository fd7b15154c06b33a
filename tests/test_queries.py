"""Network queries on small registries whose answers were worked out by hand.

The main registry (as of 2026-06-30), chain EV:

    S1 材料 (upstream) ─┬─ S1A 正极 (nested)     S1 ─feeds→ S3
                        └─ S1B 负极 (nested)     S2 ─feeds→ S3
    S2 芯片 (upstream)                           S3 ─feeds→ S4
    S3 电池 (midstream), S4 整车 (downstream)

    GX-A  guangxi   U3 lead[S3]  U5 core[S1A]  U9 general[S2]
    NN-R  nanning, directly recognised from GX-A (same body)
                    U3 lead[S3]  U4 core[S4]
    NN-B  nanning   U1 lead[S4]  U2 core[S1A;S1B]  U6 general[S2]  U4 close[S3]
    LZ-A  liuzhou   U9 lead[S1A]  U5 close[S3]  U6 core[S2]
    NN-C  nanning   U7 lead[S4]  U8 general[S1A]
    NN-D  nanning   U12 lead[S4] U8 core[S1A]

Bodies: GX-A = {U3, U4, U5, U9} (two records), NN-B = {U1, U2, U4, U6},
LZ-A = {U5, U6, U9}, NN-C = {U7, U8}, NN-D = {U8, U12}.
"""

from __future__ import annotations

import json

import igraph as ig
import networkx as nx
import pandas.testing as pd_testing
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from consortia.cli import main
from consortia.graph.export import export_graph
from consortia.loaders import load_registry
from consortia.queries import EmbeddedNetwork
from consortia.queries.centrality import bipartite
from consortia.queries.chains import segment_order
from consortia.rules.rulebook import load_rulebooks
from tests.conftest import code, unit

AS_OF = "2026-06-30"
U = {1: code(1), 2: code(2), 3: code(3, "柳州市"), 4: code(4), 5: code(5, "柳州市"), 6: code(6, "南京市"),
     7: code(7), 8: code(8), 9: code(9, "柳州市"), 12: code(12)}

CHAIN = [
    {"chain_id": "EV", "chain_name": "新能源汽车", "segment_id": "S1", "segment_name": "材料", "stage": "upstream",
     "parent": "", "feeds": "S3"},
    {"chain_id": "EV", "chain_name": "新能源汽车", "segment_id": "S1A", "segment_name": "正极", "stage": "upstream",
     "parent": "S1", "feeds": ""},
    {"chain_id": "EV", "chain_name": "新能源汽车", "segment_id": "S1B", "segment_name": "负极", "stage": "upstream",
     "parent": "S1", "feeds": ""},
    {"chain_id": "EV", "chain_name": "新能源汽车", "segment_id": "S4", "segment_name": "整车", "stage": "downstream",
     "parent": "", "feeds": ""},
    {"chain_id": "EV", "chain_name": "新能源汽车", "segment_id": "S3", "segment_name": "电池", "stage": "midstream",
     "parent": "", "feeds": "S4"},
    {"chain_id": "EV", "chain_name": "新能源汽车", "segment_id": "S2", "segment_name": "芯片", "stage": "upstream",
     "parent": "", "feeds": "S3"},
]


def _cons(cid: str, jur: str, **extra: str) -> dict[str, str]:
    return {"consortium_id": cid, "name": f"{cid}联合体", "jurisdiction": jur, "chain_id": "EV",
            "recognized_on": "2024-01-01", "status": "active", **extra}


def _m(cid: str, n: int, role: str, segs: str) -> dict[str, str]:
    return {"consortium_id": cid, "uscc": U[n], "role": role, "segments": segs, "joined_on": "2024-01-01"}


@pytest.fixture
def reg_path(make_registry):
    units = [unit(1), unit(2, type_="university"), unit(3, "柳州市"), unit(4), unit(5, "柳州市", "institute"),
             unit(6, "南京市"), unit(7), unit(8), unit(9, "柳州市"), unit(12)]
    consortia = [_cons("GX-A", "guangxi"), _cons("NN-R", "nanning", recognized_from="GX-A"), _cons("NN-B", "nanning"),
                 _cons("LZ-A", "liuzhou"), _cons("NN-C", "nanning"), _cons("NN-D", "nanning")]
    members = [
        _m("GX-A", 3, "lead", "S3"), _m("GX-A", 5, "core", "S1A"), _m("GX-A", 9, "general", "S2"),
        _m("NN-R", 3, "lead", "S3"), _m("NN-R", 4, "core", "S4"),
        _m("NN-B", 1, "lead", "S4"), _m("NN-B", 2, "core", "S1A;S1B"), _m("NN-B", 6, "general", "S2"),
        _m("NN-B", 4, "close", "S3"),
        _m("LZ-A", 9, "lead", "S1A"), _m("LZ-A", 5, "close", "S3"), _m("LZ-A", 6, "core", "S2"),
        _m("NN-C", 7, "lead", "S4"), _m("NN-C", 8, "general", "S1A"),
        _m("NN-D", 12, "lead", "S4"), _m("NN-D", 8, "core", "S1A"),
        # Left before the as-of date: counts nowhere.
        {"consortium_id": "NN-C", "uscc": U[1], "role": "core", "segments": "S3", "joined_on": "2020-01-01",
         "left_on": "2025-01-01"},
    ]
    return make_registry(units, consortia, members, chains=CHAIN)


@pytest.fixture
def net(reg_path):
    books = load_rulebooks()
    return EmbeddedNetwork(load_registry(reg_path, books), books, AS_OF)


def run(*args: str):
    return CliRunner().invoke(main, list(args))


# ---- overlaps ---------------------------------------------------------------------------------------------------

def test_cross_units_counts_bodies_not_records(net):
    f = net.cross_units()
    # U3 is on two records of one body: not an overlap. U8 is in two Nanning bodies: one city, not an overlap.
    assert list(f["uscc"]) == [U[5], U[9], U[6], U[4]]
    row = f.set_index("uscc").loc[U[4]]
    assert row["bodies"] == 2
    assert row["jurisdictions"] == ("guangxi", "nanning")
    assert row["levels"] == ("city", "province")
    assert row["consortia"] == ("NN-B:close", "NN-R:core")
    assert f.set_index("uscc").loc[U[5], "consortia"] == ("GX-A:core", "LZ-A:close")


def test_shared_pairs_counts_and_jaccard(net):
    f = net.shared_pairs()
    got = [(a, b, s, j) for a, b, s, j in zip(f["consortium_a"], f["consortium_b"], f["shared"], f["jaccard"], strict=True)]
    assert got == [("GX-A", "LZ-A", 2, 0.4), ("NN-C", "NN-D", 1, 0.3333), ("LZ-A", "NN-B", 1, 0.1667),
                   ("GX-A", "NN-B", 1, 0.1429)]
    assert f.loc[0, "shared_units"] == tuple(sorted([U[5], U[9]]))
    assert f.loc[0, "jurisdictions_a"] == ("guangxi", "nanning")
    two = net.shared_pairs(min_shared=2)
    assert list(zip(two["consortium_a"], two["consortium_b"], strict=True)) == [("GX-A", "LZ-A")]
    assert list(net.shared_pairs(top=2)["consortium_b"]) == ["LZ-A", "NN-D"]


def test_cross_jurisdiction_pairs_are_chosen_before_the_top(net):
    """The briefing's overlap page lists the top pairs across jurisdictions: choosing them
    first gives the rows that filtering every pair would, without listing every pair."""
    from consortia.queries.overlaps import shared_pairs

    every = shared_pairs(net)
    across = every[[a != b for a, b in zip(every["jurisdictions_a"], every["jurisdictions_b"], strict=True)]]
    assert 0 < len(across) < len(every)
    got = shared_pairs(net, top=2, across_jurisdictions=True)
    pd_testing.assert_frame_equal(got, across.head(2).reset_index(drop=True))
    pd_testing.assert_frame_equal(shared_pairs(net, across_jurisdictions=True), across.reset_index(drop=True))


def test_top_pairs_are_the_head_of_every_pair_whatever_the_ties(make_registry):
    """The top is chosen from the pairs sharing at least the top-th count: with ties on
    that count at the cut, the rows are still the first of the full order."""
    import random

    from consortia.queries.overlaps import projection, shared_pairs

    rng = random.Random(5)
    jurs = ["nanning", "liuzhou", "guangxi"]
    cons = [{"consortium_id": f"C{i:02d}", "jurisdiction": jurs[i % 3]} for i in range(24)]
    units = [unit(n) for n in range(1, 31)]
    mem = {(c["consortium_id"], n) for c in cons for n in rng.sample(range(1, 31), rng.randint(2, 7))}
    path = make_registry(units, cons, [{"consortium_id": c, "uscc": code(n), "role": "core"} for c, n in sorted(mem)])
    books = load_rulebooks()
    net = EmbeddedNetwork(load_registry(path, books), books)
    assert len(projection(net)) > 100  # enough pairs, most sharing one or two members: many ties
    for across in (False, True):
        every = shared_pairs(net, across_jurisdictions=across)
        assert shared_pairs(net, top=0, across_jurisdictions=across).empty
        for k in (1, 2, 5, 17, 40, len(every), len(every) + 3):
            pd_testing.assert_frame_equal(shared_pairs(net, top=k, across_jurisdictions=across),
                                          every.head(k).reset_index(drop=True))


def test_near_duplicates_need_same_chain_and_different_jurisdictions(net):
    f = net.near_duplicates(0.4)
    assert list(zip(f["consortium_a"], f["consortium_b"], strict=True)) == [("GX-A", "LZ-A")]
    # NN-C/NN-D (Jaccard 0.33) are both Nanning's: never flagged, whatever the threshold.
    low = net.near_duplicates(0.1)
    assert ("NN-C", "NN-D") not in set(zip(low["consortium_a"], low["consortium_b"], strict=True))
    assert net.near_duplicates(0.5).empty


def test_same_body_lists_records_and_drift(net):
    f = net.same_body()
    assert len(f) == 1
    row = f.iloc[0]
    assert row["body_id"] == "GX-A" and row["records"] == ("GX-A", "NN-R")
    assert row["members"] == 4 and row["in_every_record"] == 1
    assert row["in_some_records"] == (U[4], U[5], U[9])


# ---- chains -----------------------------------------------------------------------------------------------------

def test_segments_in_flow_order_with_children_after_parent(net):
    segs = segment_order(net.chains)
    assert list(segs["segment_id"]) == ["S1", "S1A", "S1B", "S2", "S3", "S4"]
    assert list(segs["depth"]) == [0, 1, 1, 0, 0, 0]


def _cells(frame, scope):
    f = frame[frame["scope"] == scope].set_index("segment_id")
    return {s: (int(r.lead), int(r.core), int(r.close), int(r.general)) for s, r in f.iterrows()}


def test_coverage_by_consortium_rolls_nested_segments_up_once(net):
    f = net.coverage("EV", "consortium")
    assert set(f["scope"]) == {"GX-A", "NN-R", "NN-B", "LZ-A", "NN-C", "NN-D"}
    assert len(f) == 6 * 6
    nnb = _cells(f, "NN-B")
    # U2 covers S1A and S1B: counted once for their parent S1.
    assert nnb["S1"] == (0, 1, 0, 0) and nnb["S1A"] == (0, 1, 0, 0) and nnb["S1B"] == (0, 1, 0, 0)
    assert nnb["S2"] == (0, 0, 0, 1) and nnb["S3"] == (0, 0, 1, 0) and nnb["S4"] == (1, 0, 0, 0)
    gxa = _cells(f, "GX-A")
    assert gxa == {"S1": (0, 1, 0, 0), "S1A": (0, 1, 0, 0), "S1B": (0, 0, 0, 0), "S2": (0, 0, 0, 1),
                   "S3": (1, 0, 0, 0), "S4": (0, 0, 0, 0)}
    # The membership that ended in 2025 does not count.
    assert _cells(f, "NN-C")["S3"] == (0, 0, 0, 0)


def test_coverage_by_jurisdiction_takes_each_units_strongest_tier(net):
    f = net.coverage("EV", "jurisdiction")
    assert sorted(set(f["scope"])) == ["guangxi", "liuzhou", "nanning"]
    nn = _cells(f, "nanning")
    # U8 is general in NN-C and core in NN-D: core. U4 is core on NN-R (S4) and close on NN-B (S3).
    assert nn == {"S1": (0, 2, 0, 0), "S1A": (0, 2, 0, 0), "S1B": (0, 1, 0, 0), "S2": (0, 0, 0, 1),
                  "S3": (1, 0, 1, 0), "S4": (3, 1, 0, 0)}


def _gaps(frame, scope_col):
    return [(r[scope_col], r["segment_id"], r["kind"], r["supplier_segment_id"]) for _, r in frame.iterrows()]


def test_gaps_by_consortium(net):
    f = net.gaps("EV", by="consortium", candidates=0)
    got = _gaps(f, "consortium_id")
    assert [g for g in got if g[0] == "GX-A"] == [("GX-A", "S1B", "uncovered", ""), ("GX-A", "S2", "general_only", ""),
                                                  ("GX-A", "S4", "uncovered", "")]
    assert [g for g in got if g[0] == "NN-R"] == [
        ("NN-R", "S1", "uncovered", ""), ("NN-R", "S1A", "uncovered", ""), ("NN-R", "S1B", "uncovered", ""),
        ("NN-R", "S2", "uncovered", ""), ("NN-R", "S3", "flow_break", "S1"), ("NN-R", "S3", "flow_break", "S2")]
    assert [g for g in got if g[0] == "NN-C"] == [
        ("NN-C", "S1", "general_only", ""), ("NN-C", "S1A", "general_only", ""), ("NN-C", "S1B", "uncovered", ""),
        ("NN-C", "S2", "uncovered", ""), ("NN-C", "S3", "uncovered", ""), ("NN-C", "S4", "flow_break", "S3")]
    assert [g for g in got if g[0] == "NN-B"] == [("NN-B", "S2", "general_only", "")]
    assert set(f.loc[f["consortium_id"] == "GX-A", "jurisdiction"]) == {"guangxi"}


def test_gaps_by_jurisdiction_with_ranked_candidates(net):
    f = net.gaps("EV", by="jurisdiction", candidates=3)
    assert _gaps(f, "jurisdiction") == [
        ("guangxi", "S1B", "uncovered", ""), ("guangxi", "S2", "general_only", ""), ("guangxi", "S4", "uncovered", ""),
        ("liuzhou", "S1B", "uncovered", ""), ("liuzhou", "S4", "uncovered", ""), ("nanning", "S2", "general_only", "")]
    assert (f["consortium_id"] == "").all()
    cands = {(j, s): [(c["uscc"], c["tier"]) for c in cs]
             for j, s, cs in zip(f["jurisdiction"], f["segment_id"], f["candidates"], strict=True)}
    assert cands[("guangxi", "S1B")] == [(U[2], "core")]
    # U9 holds S2 in GX-A itself; U6 holds it as core in LZ-A (and general in NN-B): the tier held elsewhere.
    assert cands[("guangxi", "S2")] == [(U[6], "core")]
    # U4 covers S4 on NN-R, a record of the Guangxi body: already in scope, not suggested.
    assert cands[("guangxi", "S4")] == [(U[1], "lead"), (U[7], "lead"), (U[12], "lead")]
    assert cands[("nanning", "S2")] == []
    four = net.gaps("EV", by="jurisdiction", candidates=4)
    row = four[(four["jurisdiction"] == "liuzhou") & (four["segment_id"] == "S4")].iloc[0]
    assert [c["uscc"] for c in row["candidates"]] == [U[1], U[7], U[12], U[4]]
    assert row["candidates"][0]["consortium_id"] == "NN-B"


def test_gap_candidates_need_room_under_the_cap_and_prefer_the_same_city(make_registry):
    units = [unit(20), unit(21), unit(22), unit(23, "柳州市"), unit(24, "柳州市")]
    c20, c21, c22, c23, c24 = (code(20), code(21), code(22), code(23, "柳州市"), code(24, "柳州市"))
    cons = [_cons("GX-X", "guangxi"), _cons("LZ-X", "liuzhou"), _cons("NN-X1", "nanning"), _cons("NN-X2", "nanning"),
            _cons("NN-X3", "nanning")]
    mem = [{"consortium_id": c, "uscc": u, "role": r, "segments": s} for c, u, r, s in [
        ("GX-X", c20, "lead", "S1"), ("LZ-X", c24, "lead", "S1"),
        ("NN-X1", c21, "core", "S4"), ("NN-X1", c22, "general", "S4"),
        ("NN-X2", c21, "core", "S4"), ("NN-X2", c23, "general", "S4"), ("NN-X3", c21, "core", "S4")]]
    books = load_rulebooks()
    net = EmbeddedNetwork(load_registry(make_registry(units, cons, mem, chains=CHAIN), books), books, AS_OF)
    f = net.gaps("EV", by="consortium", candidates=5)

    def cands(cid):
        row = f[(f["consortium_id"] == cid) & (f["segment_id"] == "S4") & (f["kind"] == "uncovered")].iloc[0]
        return [c["uscc"] for c in row["candidates"]]

    # U21 holds S4 as core but is in three bodies: no room under Guangxi's or Nanning's cap of 3.
    assert cands("GX-X") == [c22, c23]
    # For Liuzhou, whose text has no cap, U21's Nanning consortia still cap it; the Liuzhou unit comes first.
    assert cands("LZ-X") == [c23, c22]
    only = net.gaps(consortium="LZ-X")
    assert set(only["consortium_id"]) == {"LZ-X"}


# ---- network measures -------------------------------------------------------------------------------------------

def test_components(net):
    f = net.components()
    assert list(f["component"]) == [1, 2]
    assert list(f["units"]) == [7, 3] and list(f["consortia"]) == [3, 2]
    assert f.loc[0, "jurisdictions"] == ("guangxi", "liuzhou", "nanning")
    assert f.loc[1, "jurisdictions"] == ("nanning",)


def test_brokers_match_networkx_on_the_bipartite_graph(net):
    f = net.brokers(top=None).set_index("uscc")
    assert (f["method"] == "exact").all()
    g = nx.Graph()
    for _, r in net.body_members.iterrows():
        g.add_edge(("u", r["uscc"]), ("b", r["body_id"]))
    want = nx.betweenness_centrality(g, normalized=True)
    for uscc, row in f.iterrows():
        assert row["betweenness"] == pytest.approx(want[("u", uscc)], abs=1e-7)
    assert f.loc[U[5], "betweenness"] == pytest.approx(f.loc[U[9], "betweenness"])  # symmetric roles
    assert f.loc[U[4], "betweenness"] > f.loc[U[5], "betweenness"] > 0
    assert all(f.loc[U[n], "betweenness"] == 0 for n in (1, 2, 3, 7, 12))  # leaves
    assert f.loc[U[8], "cut_vertex"] and not f.drop(index=U[8])["cut_vertex"].any()
    assert set(f.index[f["bridges_jurisdictions"]]) == {U[4], U[5], U[6], U[9]}
    assert f.loc[U[8], "component"] == 2 and f.loc[U[1], "component"] == 1
    assert list(net.brokers(top=3)["rank"]) == [1, 2, 3]


def test_brokers_sampling_is_seeded_and_says_so(net):
    a, b = net.brokers(sample=4, seed=7), net.brokers(sample=4, seed=7)
    assert a.equals(b)
    assert a["method"].iloc[0].startswith("sampled: 4 of 15 source vertices (seed 7)")


def test_path_through_a_directly_recognised_record(net):
    f = net.path(U[4], U[3])
    assert len(f) == 1
    row = f.iloc[0]
    assert row["consortium_id"] == "GX-A" and row["records"] == ("GX-A", "NN-R")
    assert (row["from_role"], row["to_role"]) == ("core", "lead")


def test_path_takes_the_smallest_codes_among_shortest_paths(net):
    f = net.path(U[1], U[9])
    # U1–NN-B–U4–GX-A–U9 and U1–NN-B–U6–LZ-A–U9 are both two hops; U6's code is smaller.
    assert list(zip(f["from_uscc"], f["consortium_id"], f["to_uscc"], strict=True)) == [
        (U[1], "NN-B", U[6]), (U[6], "LZ-A", U[9])]
    assert net.path(U[1], U[7]).empty  # different components
    assert net.path(U[1], U[1]).empty


def test_bipartite_graph_has_one_edge_per_body_membership(net):
    g, units, bodies = bipartite(net)
    assert (len(units), len(bodies), g.ecount()) == (10, 5, 4 + 4 + 3 + 2 + 2)


# ---- CLI --------------------------------------------------------------------------------------------------------

def test_cli_gaps_json_contract(reg_path):
    r = run("gaps", str(reg_path), "--as-of", AS_OF, "--format", "json")
    assert r.exit_code == 0, r.stderr
    rows = json.loads(r.stdout)
    assert len(rows) == 6
    assert all({"chain_id", "segment_id", "consortium_id", "jurisdiction", "kind", "candidates"} <= row.keys()
               for row in rows)
    assert {row["kind"] for row in rows} == {"uncovered", "general_only"}
    r = run("gaps", str(reg_path), "--as-of", AS_OF, "--consortium", "NN-C", "--format", "json")
    rows = json.loads(r.stdout)
    assert {row["consortium_id"] for row in rows} == {"NN-C"}
    assert {"uncovered", "general_only", "flow_break"} == {row["kind"] for row in rows}


@pytest.mark.parametrize("to_file", [False, True])
def test_cli_json_written_in_chunks_is_the_whole_frames_json(reg_path, tmp_path, monkeypatch, to_file):
    from consortia.cli import network as cli_network

    frame = EmbeddedNetwork(load_registry(reg_path), as_of=AS_OF).coverage("EV", "consortium")
    whole = frame.to_json(orient="records", force_ascii=False, indent=2) + "\n"
    monkeypatch.setattr(cli_network, "JSON_CHUNK_ROWS", 5)  # 36 rows: eight pieces, the last one short
    out = tmp_path / "coverage.json"
    r = run("coverage", str(reg_path), "--chain", "EV", "--as-of", AS_OF, "--format", "json",
            *(["--out", str(out)] if to_file else []))
    assert r.exit_code == 0, r.stderr
    assert (out.read_text(encoding="utf-8") if to_file else r.stdout) == whole
    r = run("overlaps", str(reg_path), "--as-of", AS_OF, "--kind", "pairs", "--min-shared", "99", "--format", "json")
    assert r.exit_code == 0 and r.stdout == "[]\n"


def test_cli_query_commands_and_formats(reg_path, tmp_path):
    for args in (["overlaps"], ["overlaps", "--kind", "pairs", "--min-shared", "1"], ["overlaps", "--kind", "same-body"],
                 ["overlaps", "--kind", "near-duplicates", "--threshold", "0.4"], ["coverage", "--chain", "EV"],
                 ["coverage", "--by", "jurisdiction"], ["gaps"], ["brokers"], ["components"]):
        r = run(*args[:1], str(reg_path), *args[1:], "--as-of", AS_OF)
        assert r.exit_code == 0, (args, r.stderr)
        assert "Traceback" not in r.stdout
    r = run("coverage", str(reg_path), "--as-of", AS_OF, "--by", "jurisdiction")
    assert "S1A 正极" in r.stdout and "L3 C1" in r.stdout  # the matrix cell for Nanning × S4
    out = tmp_path / "pairs.csv"
    r = run("overlaps", str(reg_path), "--as-of", AS_OF, "--kind", "pairs", "--min-shared", "1", "--format", "csv",
            "--out", str(out))
    assert r.exit_code == 0 and out.read_text(encoding="utf-8-sig").count("\n") == 5
    xlsx = tmp_path / "gaps.xlsx"
    assert run("gaps", str(reg_path), "--as-of", AS_OF, "--format", "xlsx", "--out", str(xlsx)).exit_code == 0
    assert xlsx.stat().st_size > 0


def test_cli_path_exit_codes(reg_path):
    r = run("path", str(reg_path), U[4], U[3], "--as-of", AS_OF, "--format", "json")
    assert r.exit_code == 0 and json.loads(r.stdout)[0]["records"] == ["GX-A", "NN-R"]
    r = run("path", str(reg_path), U[1], U[7], "--as-of", AS_OF)
    assert r.exit_code == 1 and "No collaboration path" in r.stderr
    r = run("path", str(reg_path), U[1], "91450100MA00000000", "--as-of", AS_OF)
    assert r.exit_code == 2 and "91450100MA00000000" in r.stderr and "Traceback" not in r.stderr


def test_cli_unknown_chain_is_an_input_error(reg_path):
    r = run("coverage", str(reg_path), "--chain", "NOPE")
    assert r.exit_code == 2 and "NOPE" in r.stderr and "EV" in r.stderr


# ---- exports ----------------------------------------------------------------------------------------------------

def test_graphml_round_trips_through_igraph(reg_path, tmp_path):
    out = tmp_path / "g.graphml"
    r = run("export", str(reg_path), "--format", "graphml", "--out", str(out), "--as-of", AS_OF)
    assert r.exit_code == 0, r.stderr
    g = ig.Graph.Read_GraphML(str(out))
    books = load_rulebooks()
    ref = export_graph(load_registry(reg_path, books), tmp_path / "ref.graphml", "graphml", AS_OF)
    assert (g.vcount(), g.ecount()) == (ref.nodes, ref.edges)
    by_id = {v["id"]: v for v in g.vs}
    u1 = by_id[f"unit:{U[1]}"]
    assert u1["name"] == "单位1有限公司" and u1["label"] == "单位1有限公司" and u1["kind"] == "unit"
    member = [e for e in g.es if e["kind"] == "member" and g.vs[e.source]["id"] == f"unit:{U[2]}"]
    assert member[0]["segments"] == "S1A;S1B" and member[0]["active"] is True and member[0]["role"] == "core"
    left = [e for e in g.es if e["kind"] == "member" and e["joined_on"] == "2020-01-01"]
    assert len(left) == 1 and left[0]["active"] is False


def test_gexf_round_trips_through_a_reader(reg_path, tmp_path):
    out = tmp_path / "g.gexf"
    assert run("export", str(reg_path), "--format", "gexf", "--out", str(out), "--as-of", AS_OF).exit_code == 0
    g = nx.read_gexf(out)
    assert g.nodes[f"unit:{U[2]}"]["label"] == "机构2"
    assert g.nodes["consortium:NN-R"]["recognized_from"] == "GX-A"
    kinds = {d["kind"] for *_, d in g.edges(data=True)}
    assert {"member", "recognized_by", "same_body", "covers", "part_of", "in_chain", "feeds"} <= kinds


@pytest.mark.parametrize("fmt", ["graphml", "gexf"])
def test_exports_escape_markup_and_characters_xml_cannot_hold(make_registry, tmp_path, fmt):
    odd = 'A<b>&"C\x01D'
    units = [unit(1, name=odd), unit(2)]
    cons = [_cons("NN-X", "nanning", name="</graph>联合体")]
    path = make_registry(units, cons, [_m("NN-X", 1, "lead", "S1A"), _m("NN-X", 2, "core", "S2")], chains=CHAIN)
    out = tmp_path / f"g.{fmt}"
    r = run("export", str(path), "--format", fmt, "--out", str(out), "--as-of", AS_OF)
    assert r.exit_code == 0, r.stderr
    g = nx.read_graphml(out) if fmt == "graphml" else nx.read_gexf(out)
    assert g.nodes[f"unit:{U[1]}"]["label"] == 'A<b>&"C\ufffdD'
    assert g.nodes["consortium:NN-X"]["label"] == "</graph>联合体"
    member = next(d for u, _, d in g.edges(data=True) if u == f"unit:{U[1]}")
    assert member["active"] is True and member["role"] == "lead"
    tiers = next(d for u, v, d in g.edges(data=True) if d["kind"] == "covers" and v.endswith("/S2"))
    assert tiers["core"] == 1.0


# ---- what-if ----------------------------------------------------------------------------------------------------

def _full_diff(registry, books, change):
    """The reference: apply the change to the whole registry and compare two full audits."""
    import pandas as pd

    from consortia.queries.whatif import _key
    from consortia.registry import Registry
    from consortia.rules.engine import run_checks

    ts = pd.Timestamp(AS_OF)
    mem = registry.memberships.copy()
    hit = (mem["consortium_id"] == change.consortium_id) & (mem["uscc"] == change.uscc) & (
        mem["left_on"].isna() | (mem["left_on"] > ts))
    if change.action == "add-member":
        row = {c: pd.NA for c in mem.columns}
        row.update({"consortium_id": change.consortium_id, "uscc": change.uscc, "role": change.role, "segments": (),
                    "joined_on": ts, "left_on": pd.NaT, "exemption": "", "_row": -1})
        mem = pd.concat([mem, pd.DataFrame([row]).astype(mem.dtypes.to_dict(), errors="ignore")], ignore_index=True)
    elif change.action == "remove-member":
        mem.loc[hit, "left_on"] = ts
    else:
        mem.loc[hit, "role"] = change.role
    after = Registry({**registry.tables, "memberships": mem}, registry.sources, registry.path, registry.duplicate_units)
    old, new = run_checks(registry, books, AS_OF), run_checks(after, books, AS_OF)
    ok, nk = {_key(f) for f in old}, {_key(f) for f in new}
    return {_key(f) for f in new if _key(f) not in ok}, {_key(f) for f in old if _key(f) not in nk}


def test_whatif_matches_full_audits_on_the_demo(tmp_path):
    import pandas as pd

    from consortia.demo import demo_tables
    from consortia.generate import write_csv
    from consortia.queries.whatif import Change, _key, whatif
    from consortia.state import active_memberships

    books = load_rulebooks()
    write_csv(demo_tables(), tmp_path / "demo")
    registry = load_registry(tmp_path / "demo", books)
    live = active_memberships(registry, pd.Timestamp(AS_OF))
    bodies = live.groupby("uscc")["body_id"].nunique()
    busy = bodies[bodies == 3].index[0]
    lone = bodies[bodies == 1].index[0]
    busy_in = live.loc[live["uscc"] == busy, "consortium_id"].iloc[0]
    lead = live[live["role"] == "lead"].iloc[0]
    outside = next(c for c in registry.consortia["consortium_id"] if c not in set(live.loc[live["uscc"] == busy,
                                                                                          "consortium_id"]))
    changes = [Change("add-member", outside, busy, "core"), Change("remove-member", busy_in, busy),
               Change("move-tier", lead["consortium_id"], lead["uscc"], "general"),
               Change("move-tier", busy_in, busy, "lead"), Change("remove-member", lead["consortium_id"], lead["uscc"]),
               Change("add-member", outside, lone, "lead")]
    saw_change = False
    for change in changes:
        got = whatif(registry, books, AS_OF, change)
        appeared, gone = _full_diff(registry, books, change)
        assert {_key(f) for f in got.appeared} == appeared, change
        assert {_key(f) for f in got.disappeared} == gone, change
        saw_change |= bool(appeared or gone)
    assert saw_change
    refused = whatif(registry, books, AS_OF, changes[0])
    assert refused.refusals and refused.refusals[0].rule == "MEMBER_CAP"


def test_cli_whatif_writes_nothing(reg_path):
    before = {p.name: p.read_bytes() for p in reg_path.iterdir()}
    r = run("whatif", "add-member", str(reg_path), "NN-B", U[8], "--role", "core", "--as-of", AS_OF)
    assert r.exit_code == 0, r.stderr
    assert "Nothing was written." in r.stdout and "refuse" not in r.stdout
    r = run("whatif", "move-tier", str(reg_path), "NN-B", U[2], "--role", "lead", "--as-of", AS_OF, "--format", "json")
    doc = json.loads(r.stdout)
    assert any(f["rule"] == "LEAD_COUNT" and f["consortium_id"] == "NN-B" for f in doc["appeared"])
    r = run("whatif", "remove-member", str(reg_path), "NN-B", U[7], "--as-of", AS_OF)
    assert r.exit_code == 2 and "NN-B" in r.stderr
    assert {p.name: p.read_bytes() for p in reg_path.iterdir()} == before


def test_a_recycling_loop_does_not_reorder_the_chain():
    import pandas as pd

    rows = [("R1", "upstream", "", ("R2",)), ("R0", "upstream", "", ("R2",)), ("R2", "midstream", "", ("R3",)),
            ("R3", "downstream", "", ("R1",))]  # R3 (recycling) feeds R1 (materials)
    chains = pd.DataFrame([{"chain_id": "C", "chain_name": "循环", "segment_id": s, "segment_name": s, "stage": st,
                            "parent": p, "feeds": f} for s, st, p, f in rows])
    assert list(segment_order(chains)["segment_id"]) == ["R0", "R1", "R2", "R3"]


class FactsOnly:
    """A backend that supplies only the four facts (as a database backend does), filtering as asked."""

    def __new__(cls, ref):
        from consortia.queries import Network

        class _Net(Network):
            def __init__(self) -> None:
                self.as_of, self.books, self.calls = ref.as_of, ref.books, []

            def fetch_consortia(self):
                self.calls.append("consortia")
                return ref.consortia.copy()

            def fetch_members(self, *, chains=None, units=None, bodies=None):
                self.calls.append(("members", chains is not None, units is not None, bodies is not None))
                m = ref.members
                for col, vals in (("chain_id", chains), ("uscc", units), ("body_id", bodies)):
                    if vals is not None:
                        m = m[m[col].isin(set(vals))]
                return m.reset_index(drop=True)

            def fetch_units(self, codes=None):
                return ref.units if codes is None else ref.units[ref.units["uscc"].isin(set(codes))]

            def fetch_chains(self, chain=None):
                return ref.chains if chain is None else ref.chains[ref.chains["chain_id"] == chain]

        return _Net()


def test_a_backend_supplying_only_the_facts_gives_the_same_answers(net):
    calls = [("cross_units", ()), ("shared_pairs", (1,)), ("same_body", ()), ("near_duplicates", (0.3,)),
             ("coverage", ("EV", "jurisdiction")), ("coverage", (None, "consortium")),
             ("gaps", ("EV", None, "jurisdiction", 4)), ("gaps", (None, None, "consortium", 3)),
             ("gaps", (None, "NN-C", "consortium", 3)), ("brokers", (None,)), ("components", ()),
             ("path", (U[1], U[9])), ("path", (U[4], U[3]))]
    for name, args in calls:
        other = FactsOnly(net)
        want, got = getattr(net, name)(*args), getattr(other, name)(*args)
        pd_testing.assert_frame_equal(got.reset_index(drop=True), want.reset_index(drop=True), check_dtype=False,
                                      obj=name)
        if name in ("coverage", "gaps"):
            # Chain questions never ask for every membership, only those on the chains concerned.
            assert ("members", False, False, False) not in other.calls, name


def test_igraph_is_loaded_without_matplotlib_which_stays_importable():
    """``brokers``/``components``/``path`` pay igraph's import, not matplotlib's (0.8 s of it),
    and our charts can still import matplotlib afterwards in the same process."""
    import subprocess
    import sys

    code = ("import sys\n"
            "from consortia.queries import centrality\n"
            "assert 'matplotlib' not in sys.modules, 'matplotlib was imported'\n"
            "g = centrality.ig.Graph(n=3, edges=[(0, 1), (1, 2)])\n"
            "assert g.betweenness() == [0.0, 1.0, 0.0]\n"
            "import matplotlib.pyplot as plt\n"
            "assert plt.figure is not None\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_integer_sort_of_members_gives_what_the_pandas_sort_gives(monkeypatch):
    """body_members_of and the collapsing of repeated members sort on integer codes; the rows
    (order, roles, merged segments) must be those of the plain pandas sort, ties included."""
    import numpy as np
    import pandas as pd

    from consortia.queries import network as nw

    rng = np.random.default_rng(5)
    n = 400
    frame = pd.DataFrame({
        "consortium_id": rng.choice(["GX-2", "GX-10", "NN-1", "nn-1", "NN-1 "], n).astype(object),
        "body_id": rng.choice(["GX-2", "GX-10", "NN-1", "b"], n).astype(object),
        "jurisdiction": "nanning", "chain_id": "",
        "uscc": rng.choice(["91A", "91a", "91A0", "X-1", "12B", "9"], n).astype(object),
        "role": rng.choice(list(nw.ROLES), n).astype(object),
        "segments": [tuple(rng.choice(["S1", "S2", "S3"], rng.integers(0, 3))) for _ in range(n)],
    })
    frame["rank"] = frame["role"].map(nw.ROLE_RANK).astype(np.int8)
    fast_members, fast_bodies = nw._one_row_per_member(frame), nw.body_members_of(frame)
    monkeypatch.setattr(nw, "_pair_order", lambda *args: None)
    pd.testing.assert_frame_equal(fast_members, nw._one_row_per_member(frame))
    pd.testing.assert_frame_equal(fast_bodies, nw.body_members_of(frame))
    assert len(fast_members) < n  # there were repeated members to collapse


@given(st.lists(st.one_of(st.none(), st.text(max_size=8), st.sampled_from(["91A", "91a", "X-1", "中", "a" * 70])),
                max_size=40))
def test_sorted_factorize_is_pandas_sorted_factorize(values):
    import numpy as np
    import pandas as pd

    from consortia.queries.network import sorted_factorize

    arr = np.array(values, dtype=object)
    codes, uniques = sorted_factorize(arr)
    want_codes, want_uniques = pd.factorize(arr, sort=True)
    assert codes.tolist() == want_codes.tolist() and list(uniques) == list(want_uniques)


@given(st.lists(st.integers(min_value=-(2**62), max_value=2**62), max_size=60))
def test_unique_sorted_and_counts_are_numpys(values):
    import numpy as np

    from consortia.codes import unique_counts, unique_sorted

    arr = np.array(values, dtype=np.int64)
    assert unique_sorted(arr).tolist() == np.unique(arr).tolist()
    got, counts = unique_counts(arr)
    want, want_counts = np.unique(arr, return_counts=True)
    assert got.tolist() == want.tolist() and counts.tolist() == want_counts.tolist()


@pytest.mark.parametrize("by", ["consortium", "jurisdiction"])
def test_tier_counts_agree_when_codes_are_too_wide_to_pack(net, monkeypatch, by):
    from consortia.queries import chains

    packed = net.coverage(None, by)
    monkeypatch.setattr(chains, "_PACKED_LIMIT", 0)  # every count through the frame instead
    pd_testing.assert_frame_equal(packed, net.coverage(None, by))
    assert packed["total"].sum() > 0


def test_coverage_grid_sums_repeated_counts_and_ignores_cells_outside_the_matrix(net):
    import pandas as pd

    from consortia.queries.chains import coverage_frame, coverage_grid

    segs, scopes = coverage_frame(net, "EV", "jurisdiction")
    counts = pd.DataFrame({
        "chain_id": ["EV", "EV", "EV", "EV", "OTHER"],
        "scope": ["nanning", "nanning", "guangxi", "nowhere", "nanning"],
        "segment_id": ["S3", "S3", "S1", "S3", "S3"],
        "rank": [1, 1, 3, 0, 0], "n": [2, 5, 4, 9, 9],
    })
    grid = coverage_grid(segs, scopes, counts)
    assert len(grid) == len(segs) * len(scopes)
    cells = {(r.scope, r.segment_id): (r.lead, r.core, r.close, r.general, r.total) for r in grid.itertuples()}
    assert cells[("nanning", "S3")] == (0, 7, 0, 0, 7)
    assert cells[("guangxi", "S1")] == (0, 0, 0, 4, 4)
    assert sum(v[4] for v in cells.values()) == 11  # the cells outside the matrix add nothing
    assert list(grid["order"]) == sorted(grid["order"])  # segments in display order, every scope of each


def test_incidence_from_the_collapse_codes_equals_numbering_again(net):
    from consortia.queries.network import Incidence

    again = Incidence(net.body_members)  # no codes: every body and unit numbered afresh
    reused = net.incidence
    assert net.__dict__["_body_member_codes"] is not None  # the codes from collapsing the pairs were used
    assert list(reused.bodies) == list(again.bodies) and list(reused.units) == list(again.units)
    assert reused.matrix.shape == again.matrix.shape and (reused.matrix != again.matrix).nnz == 0


@given(st.lists(st.sampled_from(["a", "b", "中"]), max_size=30))
def test_run_starts_marks_each_change_of_value(values):
    import numpy as np

    from consortia.codes import run_starts

    arr = np.array(sorted(values), dtype=object)
    assert run_starts(arr).tolist() == [i for i in range(len(arr)) if i == 0 or arr[i] != arr[i - 1]]
