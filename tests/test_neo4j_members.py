"""add-member in the database: the embedded store's answers, exemptions recorded, and no race past the rules."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import arcadedb_server
import pytest
from conftest import code, unit

from consortia.backends.neo4j import Neo4jStore
from consortia.backends.neo4j import members as members_mod
from consortia.errors import ConsortiaError, LeadCountRefusal, MemberCapRefusal
from consortia.graph import EmbeddedStore
from consortia.loaders import load_registry
from consortia.rules.engine import run_checks

bolt_server, neo4j_settings = arcadedb_server.bolt_server, arcadedb_server.neo4j_settings  # the fixtures

AS_OF = "2026-06-30"


def cons(cid: str, j: str, **kw: str) -> dict[str, str]:
    return {"consortium_id": cid, "jurisdiction": j, "status": "active", "recognized_on": "2024-01-01", **kw}


@pytest.fixture
def registry(make_registry: Callable[..., Path]) -> Path:
    """The enforcement registry of test_enforce, plus units and consortia for the races."""
    units = [unit(i) for i in range(1, 10)] + [unit(i, "柳州市") for i in range(20, 24)]
    units += [unit(i) for i in range(30, 50)]
    consortia = [cons("GX-1", "guangxi"), cons("NN-1", "nanning", recognized_from="GX-1"), cons("NN-2", "nanning"),
                 cons("NN-3", "nanning"), cons("NN-4", "nanning"), cons("LZ-1", "liuzhou"),
                 cons("NJ-1", "nanjing"), cons("NJ-2", "nanjing"), cons("LY-1", "liaoyang"),
                 cons("LY-2", "liaoyang"), cons("NN-9", "nanning", status="revoked"),
                 cons("NN-LATE", "nanning", recognized_on="2027-01-01")]
    consortia += [cons(f"NN-{i}", "nanning") for i in range(10, 20)]
    m = [{"consortium_id": "NN-2", "uscc": code(1), "role": "lead", "joined_on": "2024-01-01"},
         {"consortium_id": "LZ-1", "uscc": code(20, "柳州市"), "role": "lead"},
         {"consortium_id": "NN-3", "uscc": code(8), "role": "core", "joined_on": "2024-01-01", "left_on": "2025-01-01"}]
    # Units 30-39 are each in two bodies already: their next consortium is their third.
    m += [{"consortium_id": c, "uscc": code(i), "role": "core"} for i in range(30, 40) for c in ("NN-2", "NN-3")]
    return make_registry(units, consortia, m)


Step = tuple[str, str, str, str]  # consortium, unit code, role, exemption

SCENARIOS: dict[str, list[Step]] = {
    "second lead": [("NN-2", code(2), "lead", ""), ("NN-2", code(2), "牵头单位", "一事一议")],
    "liuzhou two leads": [("LZ-1", code(21, "柳州市"), "lead", ""), ("LZ-1", code(22, "柳州市"), "lead", "")],
    "lead single and exemption": [("NN-3", code(1), "lead", ""), ("NN-3", code(1), "lead", "南宁市科技局一事一议第1号")],
    "same body lead": [("GX-1", code(3), "lead", ""), ("NN-1", code(3), "lead", ""), ("NN-3", code(3), "lead", "")],
    "cap": [("NN-2", code(5), "core", ""), ("NN-3", code(5), "core", ""), ("NN-4", code(5), "core", ""),
            ("NJ-1", code(5), "general", ""), ("NJ-1", code(5), "general", "一事一议：同意")],
    "no cap": [(c, code(6), "general", "") for c in ("NJ-1", "NJ-2", "LY-1", "LY-2", "LZ-1")],
    "same body cap": [(c, code(7), "core", "") for c in ("GX-1", "NN-1", "NN-3", "NN-4", "NN-2")],
    "bad input": [("NOPE", code(1), "core", ""), ("NN-3", code(99), "core", ""), ("NN-3", code(2), "boss", ""),
                  ("NOPE", code(99), "boss", ""), ("NN-9", code(2), "core", ""), ("NN-3", code(2), "core", ""),
                  ("NN-3", code(2), "general", ""), ("NN-3", code(8), "close", ""), ("NN-LATE", code(9), "lead", "")],
}


def outcome(add: Callable[..., dict[str, Any]], step: Step) -> tuple[str, Any]:
    cid, uscc, role, exemption = step
    try:
        row = add(cid, uscc, role, segments=["s1", "s2"], exemption=exemption)
    except ConsortiaError as exc:
        return type(exc).__name__, str(exc)
    return "added", {k: (tuple(v) if isinstance(v, list) else v) for k, v in row.items()}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_same_answers_as_the_embedded_store(neo4j_settings, registry, name):
    embedded = EmbeddedStore.open(registry, as_of=AS_OF)
    expected = [outcome(embedded.add_member, step) for step in SCENARIOS[name]]
    with Neo4jStore(neo4j_settings, as_of=AS_OF) as store:
        store.push(load_registry(registry))
        got = [outcome(store.add_member, step) for step in SCENARIOS[name]]
    assert got == expected
    assert {kind for kind, _ in expected} != {"added"} or name == "no cap"


def test_an_exemption_is_recorded_and_the_audit_waives_the_breach(neo4j_settings, registry, tmp_path):
    with Neo4jStore(neo4j_settings, as_of=AS_OF) as store:
        store.push(load_registry(registry))
        store.add_member("NN-3", code(1), "lead", exemption="南宁市科技局一事一议第1号", segments=["s1"])
        back = store.registry()
        store.pull(tmp_path / "pulled")
    m = back.memberships
    row = m[(m["consortium_id"] == "NN-3") & (m["uscc"] == code(1))].iloc[0]
    assert row["exemption"] == "南宁市科技局一事一议第1号" and row["segments"] == ("S1",) and row["_row"] == -1
    fs = [f for f in run_checks(back, as_of=AS_OF) if f.rule == "LEAD_SINGLE"]
    assert fs and all(f.waived for f in fs)
    pulled = load_registry(tmp_path / "pulled").memberships
    assert pulled.iloc[-1][["consortium_id", "uscc", "exemption"]].tolist() == ["NN-3", code(1), "南宁市科技局一事一议第1号"]


def test_pushing_the_registry_file_again_drops_memberships_added_in_the_database(neo4j_settings, registry):
    with Neo4jStore(neo4j_settings, as_of=AS_OF) as store:
        store.push(load_registry(registry))
        before = arcadedb_server.dump(neo4j_settings)
        store.add_member("NN-4", code(2), "core")
        assert arcadedb_server.dump(neo4j_settings) != before
        report = store.push(load_registry(registry))
    assert report.removed == 1 and arcadedb_server.dump(neo4j_settings) == before


def _race(store: Neo4jStore, monkeypatch: pytest.MonkeyPatch, a: Step, b: Step) -> list[tuple[str, Any]]:
    """Run two additions at the same moment: each transaction has read its
    state before either decides (a barrier in front of ``decide``), unless the
    database makes one wait for the other's lock first (Neo4j), in which case
    the barrier times out and lets the first one through."""
    barrier = threading.Barrier(2, timeout=3)
    local = threading.local()
    real = members_mod.decide

    def decide(*args: Any, **kwargs: Any) -> Any:
        if not getattr(local, "waited", False):
            local.waited = True
            try:
                barrier.wait()
            except threading.BrokenBarrierError:
                pass
        return real(*args, **kwargs)

    monkeypatch.setattr(members_mod, "decide", decide)
    results: list[tuple[str, Any]] = [("", None), ("", None)]

    def run(i: int, step: Step) -> None:
        results[i] = outcome(store.add_member, step)

    threads = [threading.Thread(target=run, args=(i, s)) for i, s in enumerate((a, b))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    monkeypatch.undo()
    return results


BODIES = """
MATCH (u:Unit {uscc: $uscc})-[m:MEMBER_OF]->(c:Consortium)
WHERE m.left_on IS NULL
RETURN count(DISTINCT c.body_id) AS n
"""
LEADS = "MATCH (:Unit)-[m:MEMBER_OF {role: 'lead'}]->(c:Consortium {consortium_id: $cid}) RETURN count(m) AS n"


def test_two_officers_adding_a_unit_to_its_third_and_fourth_consortium_at_once(neo4j_settings, registry, monkeypatch):
    with Neo4jStore(neo4j_settings, as_of=AS_OF) as store:
        store.push(load_registry(registry))
        for i in range(30, 36):
            results = _race(store, monkeypatch, ("NN-4", code(i), "core", ""), ("GX-1", code(i), "general", ""))
            kinds = sorted(kind for kind, _ in results)
            assert kinds == ["MemberCapRefusal", "added"], results
            assert "would make 4" in next(msg for kind, msg in results if kind == "MemberCapRefusal")
            assert store.read(BODIES, {"uscc": code(i)}) == [{"n": 3}]


def test_two_officers_adding_a_lead_to_the_same_consortium_at_once(neo4j_settings, registry, monkeypatch):
    with Neo4jStore(neo4j_settings, as_of=AS_OF) as store:
        store.push(load_registry(registry))
        for n in range(10, 15):
            cid = f"NN-{n}"
            results = _race(store, monkeypatch, (cid, code(2 * n + 20), "lead", ""), (cid, code(2 * n + 21), "lead", ""))
            assert sorted(kind for kind, _ in results) == ["LeadCountRefusal", "added"], results
            assert store.read(LEADS, {"cid": cid}) == [{"n": 1}]


def test_refusals_are_the_embedded_classes(neo4j_settings, registry):
    with Neo4jStore(neo4j_settings, as_of=AS_OF) as store:
        store.push(load_registry(registry))
        with pytest.raises(LeadCountRefusal):
            store.add_member("NN-2", code(2), "lead")
        store.add_member("NN-4", code(30), "core")
        with pytest.raises(MemberCapRefusal) as exc:
            store.add_member("GX-1", code(30), "core")
    assert exc.value.waivable and exc.value.jurisdiction in ("guangxi", "nanning")
