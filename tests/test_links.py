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
    # The rules that read the links themselves are among those compared.
    ruled = {f["rule"] for f in with_links}
    assert {"PROJECT_MEMBER_SHARE", "USCC_INVALID", "USCC_REGION_MISMATCH", "MEMBER_CAP"} <= ruled
    assert all(f["details"].get("jurisdictions") for f in with_links if f["rule"] == "USCC_REGION_MISMATCH")


def test_project_members_outside_the_consortium_are_found_through_the_links(reg):
    """A unit of no membership in the consortium added to a project already short of
    members: it is named a non-member, through the integer join as through the text one."""
    before = [f.details for f in run_checks(reg, as_of=AS_OF, rules=["PROJECT_MEMBER_SHARE"], workers=1)
              if "project_id" in f.details]
    assert before, "the generated registry has projects short of members"
    pid = before[0]["project_id"]
    pm, projects, m = reg.table("project_members"), reg.table("projects"), reg.memberships
    cid = projects.loc[projects["project_id"] == pid, "consortium_id"].iloc[0]
    inside = set(m.loc[m["consortium_id"] == cid, "uscc"])
    outsider = next(u for u in reg.units["uscc"] if u not in inside and u not in before[0]["non_members"])
    added = pd.concat([pm, pm[pm["project_id"] == pid].head(1).assign(uscc=outsider)], ignore_index=True)
    other = replace(reg, tables={**reg.tables, "project_members": added})  # the membership links still hold
    assert other.link("memberships", "uscc", "units") is not None
    for r in (other, replace(other, links={})):
        found = [f.details for f in run_checks(r, as_of=AS_OF, rules=["PROJECT_MEMBER_SHARE"], workers=1)
                 if f.details.get("project_id") == pid]
        assert len(found) == 1 and outsider in found[0]["non_members"], found
        assert found[0]["units"] == before[0]["units"] + 1 and found[0]["members"] == before[0]["members"]
