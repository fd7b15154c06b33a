"""Pushing into a Bolt server: every table lands, twice is once, changes replace, failures resume."""

from __future__ import annotations

import shutil
from pathlib import Path

import arcadedb_server
import neo4j
import pandas as pd
import pytest
from arcadedb_server import dump, wipe

from consortia.backends.neo4j import Neo4jSettings, Neo4jStore
from consortia.backends.neo4j import push as push_mod
from consortia.backends.neo4j.model import META_NAME
from consortia.demo import demo_tables
from consortia.errors import BackendError
from consortia.generate import write_csv
from consortia.loaders import load_registry
from consortia.registry import Registry

bolt_server, neo4j_settings = arcadedb_server.bolt_server, arcadedb_server.neo4j_settings  # the fixtures

LABEL_COUNTS = "MATCH (n) RETURN labels(n)[0] AS label, count(n) AS n"
TYPE_COUNTS = "MATCH ()-[r]->() RETURN type(r) AS type, count(r) AS n"


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("demo")
    write_csv(demo_tables(), folder)
    return folder


@pytest.fixture(scope="module")
def demo(demo_dir: Path) -> Registry:
    return load_registry(demo_dir)


def counts(settings: Neo4jSettings) -> dict[str, int]:
    with neo4j.GraphDatabase.driver(settings.uri, auth=(settings.user, settings.password)) as d:
        out = {r["label"]: r["n"] for r in d.execute_query(LABEL_COUNTS, database_=settings.database).records}
        out.update({r["type"]: r["n"] for r in d.execute_query(TYPE_COUNTS, database_=settings.database).records})
    return out


def query(settings: Neo4jSettings, cypher: str, **params: object) -> list[dict[str, object]]:
    with neo4j.GraphDatabase.driver(settings.uri, auth=(settings.user, settings.password)) as d:
        return [r.data() for r in d.execute_query(cypher, params, database_=settings.database).records]


def test_push_writes_every_table_typed_after_its_schema(neo4j_settings, demo):
    with Neo4jStore(neo4j_settings) as store:
        report = store.push(demo, batch_size=250)
        meta = store.meta()
    c = counts(neo4j_settings)
    t = demo.tables
    assert c["Unit"] == len(demo.units) and c["Consortium"] == len(demo.consortia)
    assert c["MEMBER_OF"] == len(demo.memberships) == report.rows["memberships"]
    assert c["Segment"] == len(t["chains"]) and c["Chain"] == t["chains"]["chain_id"].nunique()
    assert c["Evaluation"] == len(t["evaluations"]) and c["AnnualReport"] == len(t["annual_reports"])
    assert c["Project"] == len(t["projects"]) and c["IN_PROJECT"] == len(t["project_members"])
    assert c["Jurisdiction"] == demo.consortia["jurisdiction"].nunique() and c["RegistryMeta"] == 1
    assert c["RECOGNIZED_BY"] == len(demo.consortia)
    assert c["SAME_BODY"] == int((demo.consortia["recognized_from"] != "").sum()) > 0
    assert c["FEEDS"] == int(t["chains"]["feeds"].map(len).sum())
    assert meta is not None and meta["generation"] == report.generation and "pending" not in meta
    assert meta["tables"] == [n for n in ("units", "consortia", "memberships", "chains", "evaluations",
                                          "annual_reports", "projects", "project_members")]
    names = {r["name"] for r in query(neo4j_settings, "SHOW CONSTRAINTS YIELD name RETURN name")}
    assert {"consortia_unit_uscc", "consortia_consortium_id", "consortia_segment"} <= names
    # Values keep their types, so Cypher compares dates with dates and money with numbers.
    m = demo.memberships.iloc[0]
    (row,) = query(neo4j_settings, "MATCH (:Unit {uscc: $u})-[m:MEMBER_OF]->(:Consortium {consortium_id: $c}) "
                   "RETURN m.joined_on AS joined_on, m.segments AS segments, m.role AS role",
                   u=m["uscc"], c=m["consortium_id"])
    assert row["joined_on"].to_native() == m["joined_on"].date() and row["segments"] == list(m["segments"])
    assert row["role"] == m["role"]
    u = demo.units[demo.units["revenue"].notna() & (demo.units["city"] != "")].iloc[0]
    (row,) = query(neo4j_settings, "MATCH (u:Unit {uscc: $u}) RETURN u.revenue AS revenue, u.city AS city",
                   u=u["uscc"])
    assert row == {"revenue": u["revenue"], "city": u["city"]}


def test_pushing_the_same_registry_twice_leaves_the_database_as_after_once(neo4j_settings, demo):
    with Neo4jStore(neo4j_settings) as store:
        first = store.push(demo, batch_size=400)
        once = dump(neo4j_settings)
        second = store.push(demo, batch_size=97)
    assert dump(neo4j_settings) == once
    assert second.generation == first.generation and second.removed == 0
    assert len(once[0]) > len(demo.units) and len(once[1]) > len(demo.memberships)


def _changed_copy(src: Path, dst: Path) -> dict[str, str]:
    """The registry at ``src`` with a membership removed, a unit renamed, a
    unit's city emptied and the evaluations table gone; what changed."""
    shutil.copytree(src, dst)
    m = pd.read_csv(dst / "memberships.csv", dtype=str, keep_default_na=False)
    gone = m.iloc[5]
    m.drop(index=5).to_csv(dst / "memberships.csv", index=False)
    u = pd.read_csv(dst / "units.csv", dtype=str, keep_default_na=False)
    u.loc[0, "name"] = u.loc[0, "name"] + "（更名）"
    u.loc[1, "city"] = ""
    u.to_csv(dst / "units.csv", index=False)
    (dst / "evaluations.csv").unlink()
    return {"gone_uscc": gone["uscc"], "gone_cid": gone["consortium_id"], "gone_joined": gone["joined_on"],
            "renamed": u.loc[0, "uscc"], "new_name": u.loc[0, "name"], "no_city": u.loc[1, "uscc"]}


def test_pushing_a_changed_registry_brings_the_database_to_the_new_state(neo4j_settings, demo, demo_dir, tmp_path):
    changed = _changed_copy(demo_dir, tmp_path / "changed")
    new = load_registry(tmp_path / "changed")
    with Neo4jStore(neo4j_settings) as store:
        store.push(demo, batch_size=300)
        report = store.push(new, batch_size=300)
        meta = store.meta()
    pair = query(neo4j_settings, "MATCH (:Unit {uscc: $u})-[m:MEMBER_OF]->(:Consortium {consortium_id: $c}) "
                 "RETURN m.joined_on AS j", u=changed["gone_uscc"], c=changed["gone_cid"])
    nm = new.memberships
    assert len(pair) == int(((nm["uscc"] == changed["gone_uscc"]) & (nm["consortium_id"] == changed["gone_cid"])).sum())
    c = counts(neo4j_settings)
    assert c["MEMBER_OF"] == len(demo.memberships) - 1 and "Evaluation" not in c and "EVALUATES" not in c
    assert report.removed == 1 + 2 * len(demo.tables["evaluations"])
    assert "evaluations" not in meta["tables"]
    (row,) = query(neo4j_settings, "MATCH (u:Unit {uscc: $u}) RETURN u.name AS name", u=changed["renamed"])
    assert row["name"] == changed["new_name"]
    (row,) = query(neo4j_settings, "MATCH (u:Unit {uscc: $u}) RETURN u.city AS city, keys(u) AS keys",
                   u=changed["no_city"])
    assert row["city"] is None and "city" not in row["keys"]
    # Exactly the state a push of the new registry into an empty database gives.
    after_change = dump(neo4j_settings)
    wipe(neo4j_settings)
    with Neo4jStore(neo4j_settings) as store:
        store.push(new, batch_size=300)
    assert dump(neo4j_settings) == after_change


class Injected(RuntimeError):
    """The failure injected part-way through a push."""


def _fail_after(monkeypatch: pytest.MonkeyPatch, k: int) -> None:
    """Let ``k`` batches commit, then fail inside the next batch's transaction
    after its rows were written (so they must be rolled back)."""
    real = push_mod._write_batch
    calls = {"n": 0}

    def write_batch(tx, cypher, rows, gen, done):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] > k:
            tx.run(cypher, rows=rows, gen=gen).consume()
            raise Injected(f"injected failure in batch {calls['n']}")
        return real(tx, cypher, rows, gen, done)

    monkeypatch.setattr(push_mod, "_write_batch", write_batch)


def _count_batches(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    real = push_mod._write_batch
    calls = {"n": 0}

    def write_batch(tx, cypher, rows, gen, done):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        return real(tx, cypher, rows, gen, done)

    monkeypatch.setattr(push_mod, "_write_batch", write_batch)
    return calls


def test_a_failed_push_is_marked_incomplete_refused_to_readers_and_resumed(neo4j_settings, demo, monkeypatch):
    with Neo4jStore(neo4j_settings) as store:
        store.push(demo, batch_size=500)
        reference = dump(neo4j_settings)
    wipe(neo4j_settings)
    _fail_after(monkeypatch, 3)
    with Neo4jStore(neo4j_settings) as store:
        with pytest.raises(Injected):
            store.push(demo, batch_size=100)
        meta = store.meta()
        # Exactly the three committed batches are in: the fourth was rolled back with its checkpoint.
        assert meta["pending_done"] == 3 and "generation" not in meta
        assert counts(neo4j_settings)["Unit"] == 300
        for read in (store.registry, lambda: store.pull(Path("unused")),
                     lambda: store.add_member(demo.consortia["consortium_id"].iloc[0], demo.units["uscc"].iloc[0], "core")):
            with pytest.raises(BackendError, match="did not finish"):
                read()
        monkeypatch.undo()
        calls = _count_batches(monkeypatch)
        report = store.push(demo, batch_size=100)
    assert report.resumed_batches == 3 and calls["n"] == report.batches - 3
    assert dump(neo4j_settings) == reference


def test_after_a_failed_push_either_registry_can_be_pushed_to_completion(neo4j_settings, demo, demo_dir, tmp_path,
                                                                          monkeypatch):
    _changed_copy(demo_dir, tmp_path / "changed")
    new = load_registry(tmp_path / "changed")
    with Neo4jStore(neo4j_settings) as store:
        store.push(new, batch_size=300)
        new_state = dump(neo4j_settings)
        store.push(demo, batch_size=300)
        old_state = dump(neo4j_settings)
        _fail_after(monkeypatch, 4)
        with pytest.raises(Injected):
            store.push(new, batch_size=300)
        monkeypatch.undo()
        assert dump(neo4j_settings) not in (old_state, new_state)
        store.push(demo, batch_size=300)  # back to the old registry
        assert dump(neo4j_settings) == old_state
        _fail_after(monkeypatch, 2)
        with pytest.raises(Injected):
            store.push(new, batch_size=300)
        monkeypatch.undo()
        store.push(new, batch_size=300)  # or on to the new one
        assert dump(neo4j_settings) == new_state


def test_a_push_overtaken_by_another_stops(neo4j_settings, demo, monkeypatch):
    real = push_mod._write_batch
    calls = {"n": 0}

    def write_batch(tx, cypher, rows, gen, done):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 2:  # another push of another registry begins meanwhile
            with neo4j.GraphDatabase.driver(neo4j_settings.uri,
                                            auth=(neo4j_settings.user, neo4j_settings.password)) as d:
                with d.session(database=neo4j_settings.database) as s:
                    s.execute_write(push_mod._begin, "0" * 24, 100)
        return real(tx, cypher, rows, gen, done)

    monkeypatch.setattr(push_mod, "_write_batch", write_batch)
    with Neo4jStore(neo4j_settings) as store, pytest.raises(BackendError, match="another push"):
        store.push(demo, batch_size=100)
    assert query(neo4j_settings, "MATCH (m:RegistryMeta {name: $n}) RETURN m.pending AS p, m.pending_done AS d",
                 n=META_NAME) == [{"p": "0" * 24, "d": 0}]
