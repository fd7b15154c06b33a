"""The database answers every network question and the audit exactly as the embedded graph does.

Each test pushes one registry and asks both backends every question, on
several dates, comparing the frames cell for cell (and the findings one by
one). The registries: the demo (every rule, recognised-from pairs, nested
segments, near-duplicates) and generated ones of two sizes and seeds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import arcadedb_server
import pandas as pd
import pytest

from consortia.backends.neo4j import Neo4jStore
from consortia.backends.neo4j.network import Neo4jNetwork
from consortia.demo import demo_tables
from consortia.generate import generate
from consortia.generate import write_csv as write_tables
from consortia.loaders import load_registry
from consortia.queries import EmbeddedNetwork
from consortia.registry import Registry
from consortia.rules.engine import run_checks
from consortia.rules.rulebook import load_rulebooks

bolt_server, neo4j_settings = arcadedb_server.bolt_server, arcadedb_server.neo4j_settings  # the fixtures

BOOKS = load_rulebooks()


def questions(net: Any, registry: Registry) -> dict[str, Callable[[], pd.DataFrame]]:
    """Every query of the interface, with the options a planner would use."""
    chains = sorted(set(registry.table("chains")["chain_id"])) if registry.has("chains") else []
    cons = registry.consortia
    one_consortium = str(cons.loc[cons["chain_id"].fillna("") != "", "consortium_id"].iloc[0])
    m = registry.memberships
    busy = m["uscc"].value_counts().index[:3].tolist()
    qs: dict[str, Callable[[], pd.DataFrame]] = {
        "cross_units": net.cross_units,
        "pairs(1)": lambda: net.shared_pairs(1),
        "pairs(2, top 25)": lambda: net.shared_pairs(2, top=25),
        "projection(2)": lambda: net.projection(2),
        "same_body": net.same_body,
        "near_duplicates(0.5)": lambda: net.near_duplicates(0.5),
        "near_duplicates(0.2)": lambda: net.near_duplicates(0.2),
        "coverage(consortium)": lambda: net.coverage(None, "consortium"),
        "coverage(jurisdiction)": lambda: net.coverage(None, "jurisdiction"),
        "gaps(jurisdiction)": lambda: net.gaps(None, None, "jurisdiction", 3),
        "gaps(consortium)": lambda: net.gaps(None, None, "consortium", 5),
        f"gaps(-c {one_consortium})": lambda: net.gaps(None, one_consortium, "consortium", 3),
        "brokers(exact)": lambda: net.brokers(None),
        "brokers(sample 20)": lambda: net.brokers(30, 20, 7),
        "components": net.components,
    }
    for chain in chains[:2]:
        qs[f"coverage(--chain {chain})"] = lambda chain=chain: net.coverage(chain, "jurisdiction")
        qs[f"gaps(--chain {chain})"] = lambda chain=chain: net.gaps(chain, None, "consortium", 2)
    for a, b in zip(busy, [*busy[1:], m["uscc"].iloc[-1]], strict=False):
        qs[f"path {a} {b}"] = lambda a=a, b=b: net.path(a, b)
    return qs


def assert_same_answers(registry: Registry, store: Neo4jStore, as_of: str) -> int:
    """Every question on both backends on ``as_of``; how many rows were compared."""
    embedded = EmbeddedNetwork(registry, BOOKS, as_of)
    database = store.network(as_of)
    assert isinstance(database, Neo4jNetwork)
    rows = 0
    ours, theirs = questions(embedded, registry), questions(database, registry)
    for name, ask in ours.items():
        want, got = ask(), theirs[name]()
        try:
            pd.testing.assert_frame_equal(got.reset_index(drop=True), want.reset_index(drop=True), check_dtype=False)
        except AssertionError as exc:
            raise AssertionError(f"{name} on {as_of}: {exc}") from None
        rows += len(want)
    return rows


def assert_same_findings(registry: Registry, store: Neo4jStore, as_of: str) -> int:
    want = [f.to_dict() for f in run_checks(registry, BOOKS, as_of)]
    got = [f.to_dict() for f in run_checks(store.registry(), BOOKS, as_of)]
    assert got == want
    return len(want)


def _pushed(settings: Any, tables: dict[str, pd.DataFrame], folder: Any) -> tuple[Registry, Neo4jStore]:
    write_tables(tables, folder)
    registry = load_registry(folder, BOOKS)
    store = Neo4jStore(settings, BOOKS)
    store.push(registry, batch_size=700)
    return registry, store


def test_demo_answers_are_the_embedded_answers(neo4j_settings, tmp_path):
    registry, store = _pushed(neo4j_settings, demo_tables(), tmp_path / "demo")
    with store:
        compared = sum(assert_same_answers(registry, store, day) for day in ("2026-06-30", "2024-01-01"))
        assert compared > 500  # the demo really has overlaps, gaps, brokers and paths to compare
        assert assert_same_findings(registry, store, "2026-06-30") > 100


@pytest.mark.parametrize(("n", "seed"), [(60, 3), (150, 11)])
def test_generated_answers_are_the_embedded_answers(neo4j_settings, tmp_path, n, seed):
    registry, store = _pushed(neo4j_settings, generate(n, seed), tmp_path / f"gen{n}")
    with store:
        assert assert_same_answers(registry, store, "2026-06-30") > 0
        assert assert_same_findings(registry, store, "2026-06-30") > 0


def test_answers_follow_the_database_after_a_change(neo4j_settings, tmp_path):
    """An officer's add-member in the database shows in the database's answers at once,
    and they equal the embedded answers on the registry with that membership added."""
    registry, store = _pushed(neo4j_settings, demo_tables(), tmp_path / "demo")
    with store:
        before = store.network("2026-06-30").cross_units()
        # A unit in force in one body of one jurisdiction joins an active root record of another:
        # it becomes a cross unit.
        live = EmbeddedNetwork(registry, BOOKS, "2026-06-30").members
        per_unit = live.groupby("uscc")["jurisdiction"].nunique()
        loner = str(per_unit[per_unit == 1].index[0])
        own = set(live.loc[live["uscc"] == loner, "jurisdiction"])
        c = registry.consortia
        target = c[~c["jurisdiction"].isin(own) & (c["status"] == "active") & (c["recognized_from"].fillna("") == "")
                   & c["consortium_id"].isin(set(live["consortium_id"]))]
        cid = str(target["consortium_id"].iloc[0])
        store.add_member(cid, loner, "general", joined_on="2025-01-01")
        after = store.network("2026-06-30").cross_units()
        assert loner not in set(before["uscc"]) and loner in set(after["uscc"])
        assert_same_answers(store.registry(), store, "2026-06-30")
