"""The loader's key positions (Registry.link), reused by the rules and the active-membership
view: the same answers as looking the keys up again, and never used for tables changed since."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from consortia.generate import generate, write_csv
from consortia.loaders import load_registry
from consortia.rules.engine import run_checks
from consortia.state import active_memberships

AS_OF = "2026-06-30"


@pytest.fixture(scope="module")
def reg(tmp_path_factory):
    root = tmp_path_factory.mktemp("links") / "registry"
    write_csv(generate(300, seed=5), root)
    return load_registry(root)


def test_links_are_the_positions_a_fresh_lookup_gives(reg):
    m = reg.memberships
    for column, target, key in (("uscc", "units", "uscc"), ("consortium_id", "consortia", "consortium_id")):
        got = reg.link("memberships", column, target)
        assert got is not None
        want = pd.Index(reg.tables[target][key]).get_indexer(m[column])
        assert np.array_equal(got, want)


def test_a_replaced_table_has_no_link(reg):
    other = replace(reg, tables={**reg.tables, "memberships": reg.memberships.copy()})
    assert other.link("memberships", "uscc", "units") is None  # links are carried, but to the old frame
    assert replace(reg, links={}).link("memberships", "uscc", "units") is None


def test_answers_are_the_same_without_the_links(reg):
    bare = replace(reg, links={})
    ts = pd.Timestamp(AS_OF)
    pd.testing.assert_frame_equal(active_memberships(reg, ts), active_memberships(bare, ts))
    with_links = [f.to_dict() for f in run_checks(reg, as_of=AS_OF, workers=1)]
    without = [f.to_dict() for f in run_checks(bare, as_of=AS_OF, workers=1)]
    assert with_links == without and len(with_links) > 100
