"""Values never become Cypher: hostile names, codes, headers and exemptions are stored and read back verbatim."""

from __future__ import annotations

import arcadedb_server
import pytest
from conftest import code, unit

from consortia.backends.neo4j import Neo4jStore
from consortia.errors import InputError
from consortia.loaders import load_registry

bolt_server, neo4j_settings = arcadedb_server.bolt_server, arcadedb_server.neo4j_settings  # the fixtures

HOSTILE = [
    "a'\"}) MATCH (n) DETACH DELETE n //",
    "{x}",
    "$p",
    "${rows}",
    "`) DETACH DELETE n //",
    "x\\' }) CREATE (:Evil) //",
    "名称\"}]->(x) MERGE (y:Evil {k: 1}) //",
    "'; CALL db.labels() YIELD label RETURN label //",
    "*/ MATCH (n) SET n.pwned = true /*",
]
HOSTILE_HEADER = "note`}) DETACH DELETE n //"
HOSTILE_CODE = "X'})-[:EVIL]->(N)//"  # a code: upper case, no spaces, kept as such
GRAPH_SIZE = "MATCH (n) RETURN count(n) AS n"
BY_NAME = "MATCH (u:Unit {name: $name}) RETURN u.uscc AS uscc, u.name AS name"
EVIL = "MATCH (n) WHERE n:Evil OR n.pwned IS NOT NULL RETURN count(n) AS n"


@pytest.fixture
def hostile_registry(make_registry):
    units = [unit(i, **{HOSTILE_HEADER: text}) | {"name": text} for i, text in enumerate(HOSTILE, start=1)]
    consortia = [{"consortium_id": HOSTILE_CODE, "name": HOSTILE[0], "jurisdiction": "nanning", "status": "active",
                  "exemption": HOSTILE[1], "chief_expert": HOSTILE[2]},
                 {"consortium_id": "NN-2", "name": "{x}", "jurisdiction": "nanning", "status": "active"}]
    memberships = [{"consortium_id": HOSTILE_CODE, "uscc": code(1), "role": "lead", "segments": "S'}) //;$P"},
                   {"consortium_id": HOSTILE_CODE, "uscc": code(2), "role": "core", "exemption": HOSTILE[4]}]
    return make_registry(units, consortia, memberships)


def test_hostile_values_are_stored_and_read_back_verbatim(neo4j_settings, hostile_registry, tmp_path):
    original = load_registry(hostile_registry)
    assert original.units["name"].tolist() == HOSTILE and HOSTILE_HEADER in original.units.columns
    with Neo4jStore(neo4j_settings) as store:
        store.push(original, batch_size=3)
        size = store.read(GRAPH_SIZE)[0]["n"]
        for text, uscc in zip(HOSTILE, original.units["uscc"], strict=True):
            assert store.read(BY_NAME, {"name": text}) == [{"uscc": uscc, "name": text}]
        assert store.read(EVIL) == [{"n": 0}]
        back = store.registry()
        store.pull(tmp_path / "pulled")
        store.push(original, batch_size=3)  # and again: still nothing run
        assert store.read(GRAPH_SIZE)[0]["n"] == size
    for reg in (back, load_registry(tmp_path / "pulled")):
        assert reg.units["name"].tolist() == HOSTILE
        assert reg.units[HOSTILE_HEADER].tolist() == HOSTILE
        c = reg.consortia.set_index("consortium_id")
        assert c.loc[HOSTILE_CODE, ["name", "exemption", "chief_expert"]].tolist() == HOSTILE[:3]
        m = reg.memberships
        assert m["segments"].tolist() == [("S'})//", "$P"), ()] and m["exemption"].tolist() == ["", HOSTILE[4]]


def test_hostile_arguments_to_add_member_run_nothing(neo4j_settings, hostile_registry):
    with Neo4jStore(neo4j_settings, as_of="2026-06-30") as store:
        store.push(load_registry(hostile_registry))
        size = store.read(GRAPH_SIZE)[0]["n"]
        with pytest.raises(InputError) as exc:
            store.add_member(HOSTILE[0], HOSTILE[5], HOSTILE[3])
        assert [p.column for p in exc.value.problems] == ["role", "consortium_id", "uscc"]
        row = store.add_member("NN-2", code(3), "core", segments=[HOSTILE[2]], exemption=HOSTILE[7])
        assert row["exemption"] == HOSTILE[7]
        assert store.read(GRAPH_SIZE)[0]["n"] == size and store.read(EVIL) == [{"n": 0}]
        m = store.registry().memberships
    added = m[m["consortium_id"] == "NN-2"].iloc[0]
    assert added["exemption"] == HOSTILE[7] and added["segments"] == ("$P",)
