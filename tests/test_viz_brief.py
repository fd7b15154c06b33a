"""The briefing folder and the overlap view, on the demo registry, opened in a real browser offline."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from browser import DRAWN_JS, artifact_dir, launch_browser, open_offline
from click.testing import CliRunner
from conftest import code, unit

from consortia.cli import main
from consortia.demo import AS_OF, demo_tables
from consortia.generate import write_csv
from consortia.loaders import load_registry
from consortia.queries.network import EmbeddedNetwork
from consortia.rules.engine import run_checks
from consortia.rules.rulebook import load_rulebooks
from consortia.viz.brief import write_brief
from consortia.viz.network import build_overlap_view
from consortia.viz.overlaps import jurisdiction_matrix


@pytest.fixture(scope="module")
def browser():
    with launch_browser() as b:
        yield b


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo registry and its briefing folder, written once for the module."""
    root = tmp_path_factory.mktemp("demo")
    write_csv(demo_tables(), root / "registry")
    books = load_rulebooks()
    reg = load_registry(root / "registry", books)
    findings = run_checks(reg, books, AS_OF)
    brief = write_brief(reg, books, AS_OF, root / "brief", findings=findings)
    return reg, books, findings, brief


def test_brief_folder_links_every_page_and_nothing_outside(demo):
    _, _, _, brief = demo
    out = brief.index.parent
    index = brief.index.read_text(encoding="utf-8")
    hrefs = re.findall(r'href="([^"]+)"', index)
    assert {"network.html", "overlaps.html", "findings.html", "chains/chain-NEV.html", "chains/chain-NEV.png",
            "chains/chain-NEV.svg", "overlaps.png"} <= set(hrefs)
    for h in hrefs:
        assert (out / h).is_file(), h
    assert brief.notes == []
    for page in out.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", text, re.I), page
        assert "default-src &#x27;none&#x27;" in text, page


def test_overlap_matrix_counts_units_on_both_sides(make_registry):
    units = [unit(i) for i in range(1, 6)]
    cons = [{"consortium_id": c, "jurisdiction": j} for c, j in [("A", "nanning"), ("B", "liuzhou"), ("C", "guangxi"),
                                                                  ("D", "nanning")]]
    cons.append({"consortium_id": "CN", "jurisdiction": "nanning", "recognized_from": "C"})
    mem = [("A", 1), ("A", 2), ("B", 2), ("B", 3), ("C", 4), ("CN", 4), ("D", 5), ("D", 2)]
    path = make_registry(units, cons, [{"consortium_id": c, "uscc": code(n), "role": "core"} for c, n in mem])
    books = load_rulebooks()
    net = EmbeddedNetwork(load_registry(path, books), books)
    mat = jurisdiction_matrix(net)
    # Unit 2 is in Nanning (A, D) and Liuzhou (B); unit 4 in the body C recorded by Guangxi and by Nanning.
    assert mat.loc["nanning", "liuzhou"] == 1 and mat.loc["guangxi", "nanning"] == 1
    assert mat.loc["guangxi", "liuzhou"] == 0 and mat.loc["nanning", "nanning"] == 4
    view = build_overlap_view(net.registry, books)
    bodies = {n["id"] for n in view.nodes if n["k"] == "b"}
    # A, B and D share unit 2 across Nanning/Liuzhou; C is recorded twice; nothing else.
    assert bodies == {"b:A", "b:B", "b:C", "b:D"}
    shared = {tuple(sorted((e["from"], e["to"]))) for e in view.edges if "shared" in e}
    assert shared == {("b:A", "b:B"), ("b:B", "b:D")}  # A–D are both Nanning's: not a cross-city link
    # Five nodes allowed beside the three jurisdictions: B (two cross links) and then A before D (one each).
    small = build_overlap_view(net.registry, books, max_nodes=5)
    assert {n["id"] for n in small.nodes if n["k"] == "b"} == {"b:A", "b:B"}
    assert small.stats["bodies_total"] == 4 and "共 4 个联合体，图中只画共享成员最多的 2 个" in small.subtitle


def test_brief_pages_in_the_browser(browser, demo):
    reg, _, _, brief = demo
    out = brief.index.parent
    for name in ("index.html", "findings.html", "chains/chain-NEV.html"):
        with open_offline(browser, out / name) as visit:
            assert visit.page.title()
            assert visit.blocked == [] and visit.errors == [] and visit.violations() == [], name
    with open_offline(browser, out / "network.html", wait_ready=True) as visit:
        drawn = visit.page.evaluate(DRAWN_JS)
        assert drawn["mode"] == "members"
        assert (drawn["nodes"], drawn["edges"]) == (drawn["expected"]["nodes"], drawn["expected"]["edges"])
        units = reg.memberships.merge(reg.consortia[["consortium_id"]])  # sanity: the demo is not trivially small
        assert drawn["nodes"] > 500 and len(units) > 900
        assert visit.blocked == [] and visit.errors == [] and visit.violations() == []
        visit.page.wait_for_timeout(200)
        visit.screenshot("demo-network.png")
    with open_offline(browser, out / "overlaps.html", wait_ready=True) as visit:
        drawn = visit.page.evaluate(DRAWN_JS)
        assert drawn["nodes"] == drawn["expected"]["nodes"] > 5
        assert visit.page.locator("#overlap-tables table").count() == 4
        assert visit.blocked == [] and visit.errors == [] and visit.violations() == []
        visit.screenshot("demo-overlaps.png")
    shutil.copyfile(out / "chains" / "chain-NEV.png", artifact_dir() / "demo-chain-NEV.png")


def test_cli_brief_and_overlaps(demo, tmp_path):
    reg = demo[0]
    path = str(Path(reg.sources["units"].path).parent)
    r = CliRunner().invoke(main, ["viz", "overlaps", path, "--out", str(tmp_path / "ov.html"), "--as-of", AS_OF,
                                  "--no-images"])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "ov.html").exists() and not (tmp_path / "ov.png").exists()
    r = CliRunner().invoke(main, ["brief", str(tmp_path / "nope"), "--out", str(tmp_path / "b")])
    assert r.exit_code == 2 and "Traceback" not in r.output
