"""The network page: what it draws, that it is offline and escaped, and that a browser agrees.

Browser tests open the page in Debian's Chromium with every non-file request
refused (see tests/browser.py) and read from vis-network itself what it drew.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import numpy as np
import pytest
from browser import DRAWN_JS, launch_browser, open_offline, skip_reason
from click.testing import CliRunner
from conftest import code, unit

from consortia.cli import main
from consortia.errors import InputError
from consortia.loaders import load_registry
from consortia.rules.engine import run_checks
from consortia.rules.rulebook import load_rulebooks
from consortia.viz.network import Selection, build_view, layout_positions
from consortia.viz.network_page import render_network_page, write_network_page
from consortia.viz.page import script_json

AS_OF = "2026-06-30"
XSS_UNIT = "<img src=x onerror=alert(1)>"
BREAKOUT_UNIT = "</script><script>window.__pwned=1</script>测试"
XSS_CONSORTIUM = '<b onmouseover="window.__pwned=2">二号</b>联合体'


@pytest.fixture(scope="module")
def browser():
    with launch_browser() as b:
        yield b


def _rows():
    """Five consortia (four Nanning, one Guangxi): N1 has two leads (LEAD_COUNT, Nanning allows one),
    unit 5 is in four bodies (MEMBER_CAP, Nanning's cap is three), and two names try to inject code."""
    units = [unit(1), unit(2), unit(3, name=XSS_UNIT), unit(4, name=BREAKOUT_UNIT), unit(5),
             unit(6, type_="university"), unit(7), unit(8), unit(9), unit(10, "柳州市"), unit(11, "柳州市", "institute")]
    cons = [{"consortium_id": cid, "name": name, "jurisdiction": j, "recognized_on": "2025-01-01", "status": "active"}
            for cid, name, j in [("N1", "南宁一号创新联合体", "nanning"), ("N2", XSS_CONSORTIUM, "nanning"),
                                 ("N3", "南宁三号创新联合体", "nanning"), ("N4", "南宁四号创新联合体", "nanning"),
                                 ("G1", "广西一号创新联合体", "guangxi")]]
    mem = [("N1", 1, "lead"), ("N1", 2, "lead"), ("N1", 3, "core"), ("N1", 5, "close"),
           ("N2", 7, "lead"), ("N2", 4, "general"), ("N2", 5, "general"), ("N2", 6, "core"),
           ("N3", 8, "lead"), ("N3", 5, "core"),
           ("N4", 9, "lead"), ("N4", 5, "general"),
           ("G1", 10, "lead"), ("G1", 11, "core")]
    memberships = [{"consortium_id": c, "uscc": code(n, "柳州市" if n in (10, 11) else "南宁市"), "role": r,
                    "joined_on": "2025-01-01"} for c, n, r in mem]
    return units, cons, memberships


@pytest.fixture
def registry_path(make_registry) -> Path:
    return make_registry(*_rows())


@pytest.fixture
def loaded(registry_path):
    books = load_rulebooks()
    reg = load_registry(registry_path, books)
    return reg, books, run_checks(reg, books, AS_OF)


def _node(view, nid):
    return next(n for n in view.nodes if n["id"] == nid)


def test_view_draws_units_and_consortia_styled_by_type_role_tier_and_findings(loaded):
    reg, books, findings = loaded
    view = build_view(reg, books, AS_OF, None, findings)
    assert view.mode == "members"
    assert len(view.nodes) == 11 + 5 and len(view.edges) == 14
    lead = _node(view, f"u:{code(1)}")
    assert lead["shape"] == "star" and lead["size"] > _node(view, f"u:{code(3)}")["size"]
    assert _node(view, f"u:{code(6)}")["type"] == "university"
    assert _node(view, f"u:{code(6)}")["color"]["background"] != _node(view, f"u:{code(3)}")["color"]["background"]
    # Hubs coloured by jurisdiction.
    assert _node(view, "c:N1")["color"]["background"] == _node(view, "c:N3")["color"]["background"]
    assert _node(view, "c:N1")["color"]["background"] != _node(view, "c:G1")["color"]["background"]
    # Findings: the unit over the cap and the consortium with two leads are flagged, others are not.
    assert _node(view, f"u:{code(5)}")["mark"] == "flag" and "MEMBER_CAP" in _node(view, f"u:{code(5)}")["title"]
    assert _node(view, "c:N1")["mark"] == "flag" and "LEAD_COUNT" in _node(view, "c:N1")["title"]
    assert _node(view, "c:N3")["mark"] == "" and _node(view, f"u:{code(6)}")["mark"] == ""
    # Edges by tier.
    tiers = {(e["from"], e["to"]): e for e in view.edges}
    general = tiers[(f"u:{code(4)}", "c:N2")]
    core = tiers[(f"u:{code(6)}", "c:N2")]
    assert general["dashes"] and not core["dashes"] and core["width"] > general["width"]
    # Tooltips carry the unit's details.
    tip = _node(view, f"u:{code(5)}")["title"]
    assert code(5) in tip and "N1" in tip and "N4" in tip and "4 个联合体" in tip


def test_waived_findings_are_drawn_differently(loaded):
    reg, books, findings = loaded
    waived = [f.__class__(**{**f.to_dict(), "waived": True}) for f in findings if f.rule == "MEMBER_CAP"]
    view = build_view(reg, books, AS_OF, None, waived)
    node = _node(view, f"u:{code(5)}")
    assert node["mark"] == "waived" and node["shapeProperties"]["borderDashes"]
    assert "豁免" in node["title"]


def test_page_is_self_contained_and_escapes_registry_text(loaded, tmp_path):
    reg, books, findings = loaded
    path = write_network_page(build_view(reg, books, AS_OF, None, findings), tmp_path / "net.html")
    html = path.read_bytes().decode("utf-8")
    # Nothing linked from outside: no src/href to http(s), no <link>, and a policy forbidding any fetch.
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", html, re.I)
    assert "<link" not in html.lower() and "bootstrap" not in html.lower()
    import html as html_mod

    csp = html_mod.unescape(re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', html).group(1))
    assert csp.startswith("default-src 'none';") and "connect-src" not in csp  # default-src covers connections
    assert re.search(r"script-src 'sha256-[^']+' 'sha256-[^']+';", csp)  # only our two scripts, by hash
    assert len(html) > 400_000  # vis-network is inlined
    # The injected names appear only as escaped JSON text, never as markup.
    assert XSS_UNIT not in html and "<script>window.__pwned" not in html
    assert "\\u003cimg src=x onerror=alert(1)\\u003e" in html
    assert "&lt;b onmouseover=&quot;window.__pwned=2&quot;&gt;二号&lt;/b&gt;联合体" in html  # the <option> text
    assert "南宁一号" in html  # Chinese written as UTF-8, not escaped away


def test_script_json_cannot_end_the_script_element():
    text = script_json({"a": "</script><!-- & \u2028"})
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    import json

    assert json.loads(text) == {"a": "</script><!-- & \u2028"}


def test_selections(loaded):
    reg, books, findings = loaded
    one = build_view(reg, books, AS_OF, Selection(consortia=("N3",)), findings)
    assert {n["id"] for n in one.nodes} == {"c:N3", f"u:{code(8)}", f"u:{code(5)}"}
    gx = build_view(reg, books, AS_OF, Selection(jurisdictions=("广西",)), findings)
    assert {n["id"] for n in gx.nodes if n["k"] == "c"} == {"c:G1"}
    city = build_view(reg, books, AS_OF, Selection(city="Nanning"), findings)
    assert {n["id"] for n in city.nodes if n["k"] == "c"} == {"c:N1", "c:N2", "c:N3", "c:N4"}
    ego = build_view(reg, books, AS_OF, Selection(unit=code(8)), findings)
    assert {n["id"] for n in ego.nodes if n["k"] == "c"} == {"c:N3"} and ego.focus == f"u:{code(8)}"
    ego2 = build_view(reg, books, AS_OF, Selection(unit=code(8), depth=2), findings)
    assert {n["id"] for n in ego2.nodes if n["k"] == "c"} == {"c:N1", "c:N2", "c:N3", "c:N4"}
    with pytest.raises(InputError) as exc:
        build_view(reg, books, AS_OF, Selection(consortia=("NOPE",), jurisdictions=("mars",), city="Atlantis"))
    assert len(exc.value.problems) == 3
    with pytest.raises(InputError, match="has none"):
        build_view(reg, books, AS_OF, Selection(consortia=("G1",), jurisdictions=("nanning",)))


def test_aggregated_view_counts_bodies_jurisdictions_and_shared_members(loaded):
    reg, books, findings = loaded
    view = build_view(reg, books, AS_OF, None, findings, max_nodes=10)
    assert view.mode == "aggregate"
    bodies = [n for n in view.nodes if n["k"] == "b"]
    jurs = [n for n in view.nodes if n["k"] == "j"]
    assert len(bodies) == 5 and {n["id"] for n in jurs} == {"j:nanning", "j:guangxi"}
    shared = {tuple(sorted((e["from"], e["to"]))): e["shared"] for e in view.edges if "shared" in e}
    # Unit 5 is in N1-N4: the four Nanning bodies share one member pairwise; G1 shares none.
    assert shared == {tuple(sorted((f"b:{a}", f"b:{b}"))): 1
                      for a, b in [("N1", "N2"), ("N1", "N3"), ("N1", "N4"), ("N2", "N3"), ("N2", "N4"), ("N3", "N4")]}
    assert _node(view, "b:N1")["mark"] == "flag"


def test_aggregated_view_keeps_at_most_max_nodes_most_shared_first(loaded, registry_path):
    reg, books, findings = loaded
    # Five bodies and two jurisdictions, five nodes allowed: three bodies. N1-N4 each share unit 5 with
    # the three others (G1 shares nothing); among them the larger N1 and N2 first, then N3 before N4 by id.
    view = build_view(reg, books, AS_OF, None, findings, max_nodes=5, aggregate=True)
    assert len(view.nodes) == 5
    assert {n["id"] for n in view.nodes if n["k"] == "b"} == {"b:N1", "b:N2", "b:N3"}
    assert view.stats["bodies_total"] == 5 and view.stats["bodies_shown"] == 3
    assert "共 5 个联合体，图中只画共享成员最多的 3 个" in view.subtitle
    assert all(e["from"] in {"b:N1", "b:N2", "b:N3"} for e in view.edges)
    whole = build_view(reg, books, AS_OF, None, findings, max_nodes=10, aggregate=True)
    assert whole.stats["bodies_shown"] == 5 and "图中只画" not in whole.subtitle
    r = CliRunner().invoke(main, ["viz", "network", str(registry_path), "--out", str(registry_path / "n.html"),
                                  "--as-of", AS_OF, "--aggregate", "--max-nodes", "5"])
    assert r.exit_code == 0, r.output
    assert "the 3 of 5 consortium bodies that share the most members" in r.stderr


def test_shared_weight_is_the_row_sums_of_the_product_without_building_it():
    import scipy.sparse as sp

    from consortia.viz.network import _shared_weight

    rng = np.random.default_rng(3)
    inc = sp.csr_matrix((rng.random((40, 25)) < 0.2).astype(np.int32))
    prod = (inc @ inc.T).toarray()
    np.fill_diagonal(prod, 0)
    assert np.array_equal(_shared_weight(inc, None), prod.sum(axis=1))
    code = rng.integers(0, 3, 40)
    cross = np.where(code[:, None] != code[None, :], prod, 0)
    assert np.array_equal(_shared_weight(inc, code), cross.sum(axis=1))
    assert (cross.sum(axis=1) < prod.sum(axis=1)).any()  # the codes do leave pairs out


def test_layout_is_deterministic_and_keeps_components_apart():
    edges = np.array([[0, 1], [1, 2], [2, 0], [3, 4], [4, 5], [5, 3]])
    a = layout_positions(6, edges, seed=3)
    assert np.allclose(a, layout_positions(6, edges, seed=3))
    first, second = a[:3], a[3:]
    gap = min(np.linalg.norm(p - q) for p in first for q in second)
    assert gap > 60  # packed side by side, not on top of each other


def test_cli_writes_the_page_and_reports_bad_options(registry_path, tmp_path):
    out = tmp_path / "n.html"
    r = CliRunner().invoke(main, ["viz", "network", str(registry_path), "--out", str(out), "--as-of", AS_OF, "-c", "N1"])
    assert r.exit_code == 0, r.output
    assert "nodes" in r.stdout and out.exists()
    r = CliRunner().invoke(main, ["viz", "network", str(registry_path), "--out", str(out), "--unit", "NOPE"])
    assert r.exit_code == 2 and "Traceback" not in r.output and "'NOPE'" in r.stderr
    r = CliRunner().invoke(main, ["viz", "network", str(tmp_path / "missing"), "--out", str(out)])
    assert r.exit_code == 2 and "Traceback" not in r.output


def test_skip_reason_names_the_missing_browser(monkeypatch):
    monkeypatch.setenv("CONSORTIA_CHROMIUM", "/nonexistent/chromium")
    assert "Chromium is not installed" in (skip_reason() or "")


# ---- in the browser ----

def test_browser_draws_every_node_and_edge_offline_and_runs_no_injected_code(browser, loaded, tmp_path):
    reg, books, findings = loaded
    view = build_view(reg, books, AS_OF, None, findings)
    path = write_network_page(view, tmp_path / "net.html")
    with open_offline(browser, path, wait_ready=True) as visit:
        page = visit.page
        drawn = page.evaluate(DRAWN_JS)
        assert (drawn["nodes"], drawn["edges"]) == (len(view.nodes), len(view.edges)) == (16, 14)
        assert drawn["ink"] > 50  # the canvas has something on it
        # Hover the injected unit: its tooltip shows the name as text.
        xss = f"u:{code(3)}"
        pos = page.evaluate(f"""() => {{ const n = window.consortiaViz.network;
            const p = n.canvasToDOM(n.getPosition('{xss}')); const r = document.querySelector('#network canvas')
            .getBoundingClientRect(); return [p.x + r.left, p.y + r.top]; }}""")
        page.mouse.move(pos[0], pos[1])
        page.wait_for_selector("div.vis-tooltip", state="visible", timeout=5000)
        tip = page.inner_text("div.vis-tooltip")
        assert tip.splitlines()[0] == XSS_UNIT
        # innerText turns the line breaks into <br>: no other element was made from the name.
        assert page.evaluate("Array.from(document.querySelector('div.vis-tooltip').children)"
                             ".every(c => c.tagName === 'BR')")
        assert page.evaluate("document.querySelectorAll('img').length") == 0
        option = page.evaluate("Array.from(document.querySelectorAll('#f-cons option')).map(o => o.textContent)")
        assert f"N2 {XSS_CONSORTIUM}" in option
        assert page.evaluate("typeof window.__pwned") == "undefined"
        assert visit.dialogs == [] and visit.errors == []
        # Filtering by jurisdiction: Guangxi's consortium and its two members.
        page.select_option("#f-jur", "guangxi")
        assert page.evaluate(DRAWN_JS)["nodes"] == 3 and page.evaluate(DRAWN_JS)["edges"] == 2
        page.select_option("#f-jur", "")
        page.select_option("#f-cons", "N2")
        assert page.evaluate(DRAWN_JS)["nodes"] == 5
        visit.screenshot("network-small.png")
        assert visit.blocked == [] and visit.violations() == []
        assert all(u.startswith(("file:", "data:", "blob:")) for u in visit.requests)


def test_browser_5000_node_view_is_interactive_within_seconds(browser, tmp_path):
    from consortia.generate import generate, write_csv

    write_csv(generate(500, 1), tmp_path / "reg")
    books = load_rulebooks()
    reg = load_registry(tmp_path / "reg", books)
    t = time.perf_counter()
    view = build_view(reg, books, "2026-06-30", None, [], max_nodes=10_000)
    build_s = time.perf_counter() - t
    assert view.mode == "members" and len(view.nodes) > 4500 and not view.physics
    path = write_network_page(view, tmp_path / "big.html")
    with open_offline(browser, path, wait_ready=True, timeout_ms=60_000) as visit:
        drawn = visit.page.evaluate(DRAWN_JS)
        assert (drawn["nodes"], drawn["edges"]) == (len(view.nodes), len(view.edges))
        print(f"\n{len(view.nodes)} nodes, {len(view.edges)} edges: built in {build_s:.1f} s, "
              f"interactive {drawn['readyMs'] / 1000:.1f} s after navigation")
        assert drawn["readyMs"] < 20_000
        assert visit.blocked == [] and visit.errors == []
        visit.screenshot("network-5000.png")


def test_render_page_is_stable(loaded):
    reg, books, findings = loaded
    view = build_view(reg, books, AS_OF, None, findings)
    assert render_network_page(view) == render_network_page(view)


def test_a_crowded_component_is_spread_so_nodes_do_not_pile_up():
    """Hubs sharing many spokes (how 5,000 nodes of one city look) leave room between
    nodes: hardly any node centre sits within 20 px of another."""
    from scipy.spatial import cKDTree

    from consortia.viz.network import layout_positions

    rng = np.random.default_rng(5)
    hubs, spokes = 150, 3000
    edges = [(hubs + s, int(h)) for s in range(spokes) for h in rng.choice(hubs, size=rng.integers(1, 4), replace=False)]
    pos = layout_positions(hubs + spokes, np.array(edges))
    nearest, _ = cKDTree(pos).query(pos, k=2)
    crowded = float((nearest[:, 1] < 20).mean())
    assert crowded < 0.05, f"{crowded:.0%} of nodes within 20 px of another"
