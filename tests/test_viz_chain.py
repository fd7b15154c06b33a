"""Chain coverage maps: flow order, tier counts and gap marks, HTML and slide images, offline."""

from __future__ import annotations

import dataclasses
import re
import struct
from pathlib import Path

import pytest
from browser import launch_browser, open_offline
from click.testing import CliRunner
from conftest import code, unit

from consortia.cli import main
from consortia.loaders import load_registry
from consortia.queries.network import EmbeddedNetwork
from consortia.rules.rulebook import load_rulebooks
from consortia.viz import images
from consortia.viz.chain import chain_maps, render_chain_page, write_chain_outputs

AS_OF = "2026-06-30"
BAD_SEGMENT = "<script>window.__pwned=1</script>电芯"


@pytest.fixture(scope="module")
def browser():
    with launch_browser() as b:
        yield b


@pytest.fixture
def net(make_registry) -> EmbeddedNetwork:
    """Chain C: S1 (upstream) feeds S2 (midstream, with child S2A) feeds S3 (downstream); S0 (upstream) feeds S1.
    K1 (Nanning) covers S1 (lead), S2A (core) and S3 (general only) and leaves S0 uncovered (so S1, which S0
    supplies, is a flow break there); K2 (Liuzhou)
    covers S0 and S3 but not S1/S2, so S3 there is a flow break (its supplier S2 is uncovered)."""
    units = [unit(i) for i in range(1, 7)]
    cons = [{"consortium_id": "K1", "name": "南宁电池创新联合体", "jurisdiction": "nanning", "chain_id": "C",
             "recognized_on": "2025-01-01"},
            {"consortium_id": "K2", "name": "柳州电池创新联合体", "jurisdiction": "liuzhou", "chain_id": "C",
             "recognized_on": "2025-01-01"}]
    mem = [("K1", 1, "lead", "S1"), ("K1", 2, "core", "S2A"), ("K1", 3, "general", "S3"),
           ("K2", 4, "lead", "S0"), ("K2", 5, "close", "S3"), ("K2", 6, "general", "")]
    memberships = [{"consortium_id": c, "uscc": code(n), "role": r, "segments": s, "joined_on": "2025-01-01"}
                   for c, n, r, s in mem]
    chains = [{"chain_id": "C", "chain_name": "动力电池", "segment_id": s, "segment_name": name, "stage": st,
               "parent": p, "feeds": f}
              for s, name, st, p, f in [("S3", "整车应用", "downstream", "", ""), ("S2", "电池制造", "midstream", "", "S3"),
                                        ("S1", "正极材料", "upstream", "", "S2"), ("S2A", BAD_SEGMENT, "midstream", "S2", ""),
                                        ("S0", "锂矿", "upstream", "", "S1")]]
    path = make_registry(units, cons, memberships, chains=chains)
    books = load_rulebooks()
    return EmbeddedNetwork(load_registry(path, books), books, AS_OF)


def test_map_orders_segments_upstream_to_downstream_and_marks_gaps(net):
    (cm,) = chain_maps(net, "C", "consortium")
    assert cm.segments["segment_id"].tolist() == ["S0", "S1", "S2", "S2A", "S3"]
    assert [s for s, _ in cm.scopes] == ["K1", "K2"]
    cell = {(r.segment_id, r.scope): r for r in cm.cells.itertuples(index=False)}
    assert (cell[("S1", "K1")].lead, cell[("S1", "K1")].total) == (1, 1)
    assert (cell[("S2", "K1")].core, cell[("S2", "K1")].total) == (1, 1)  # from its child S2A
    assert cell[("S0", "K1")].gap_kinds == ("uncovered",)
    assert cell[("S3", "K1")].gap_kinds == ("general_only",)
    assert "flow_break" in cell[("S3", "K2")].gap_kinds and cell[("S3", "K2")].suppliers == ("S2",)
    assert cell[("S1", "K1")].gap_kinds == ("flow_break",) and cell[("S1", "K1")].suppliers == ("S0",)
    assert cell[("S2", "K1")].gap_kinds == ()
    (by_j,) = chain_maps(net, "C", "jurisdiction")
    assert [label for _, label in by_j.scopes] == ["柳州市", "南宁市"]


def test_html_marks_gaps_and_escapes_names(net):
    (cm,) = chain_maps(net, "C", "consortium")
    html = render_chain_page(cm)
    assert "<script>window.__pwned" not in html and "&lt;script&gt;window.__pwned=1&lt;/script&gt;电芯" in html
    assert html.count('class="cell uncovered"') == 4  # S0 in K1; S1, S2, S2A in K2
    assert 'class="cell general_only"' in html and "flow_break" in html
    assert html.index("锂矿") < html.index("正极材料") < html.index("整车应用")


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", head[16:24])


def test_writes_html_and_slide_sized_png_and_svg(net, tmp_path):
    written = write_chain_outputs(net, tmp_path, "C", "jurisdiction")
    assert sorted(p.name for p in written) == ["chain-C.html", "chain-C.png", "chain-C.svg"]
    w, h = _png_size(tmp_path / "chain-C.png")
    assert (w, h) == (2000, 1125)  # 13.333 × 7.5 in at 150 dpi: a 16:9 slide
    svg = (tmp_path / "chain-C.svg").read_text(encoding="utf-8")
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg and "<script" not in svg


def test_missing_cjk_font_is_a_clear_error_after_the_html(net, tmp_path, monkeypatch):
    monkeypatch.setattr(images, "CJK_FAMILIES", ("No Such Font",))
    images.cjk_font.cache_clear()
    try:
        with pytest.raises(images.MissingFontError, match="fonts-noto-cjk"):
            write_chain_outputs(net, tmp_path, "C")
        assert (tmp_path / "chain-C.html").exists() and not (tmp_path / "chain-C.png").exists()
    finally:
        images.cjk_font.cache_clear()


def test_cli(net, tmp_path):
    path = net.registry.path or Path(net.registry.sources["units"].path).parent
    r = CliRunner().invoke(main, ["viz", "chain", str(path), "--out", str(tmp_path), "--as-of", AS_OF,
                                  "--format", "html", "--by", "consortium"])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "chain-C.html").exists() and not (tmp_path / "chain-C.png").exists()
    r = CliRunner().invoke(main, ["viz", "chain", str(path), "--out", str(tmp_path), "--chain", "NOPE"])
    assert r.exit_code == 2 and "'NOPE'" in r.stderr and "Traceback" not in r.output


def test_chain_page_in_the_browser(browser, net, tmp_path):
    (path,) = write_chain_outputs(net, tmp_path, "C", "consortium", ("html",))
    with open_offline(browser, path) as visit:
        assert visit.page.locator("td.uncovered").count() == 4
        assert visit.page.evaluate("typeof window.__pwned") == "undefined"
        assert BAD_SEGMENT in visit.page.inner_text("table.chain")
        assert visit.blocked == [] and visit.errors == [] and visit.violations() == []


def test_wide_maps_are_split_over_slides(net, tmp_path, monkeypatch):
    from consortia.viz import chain as chain_mod

    (cm,) = chain_maps(net, "C", "consortium")
    pages = chain_mod.slide_pages(cm, columns=1)
    assert [p.page for p in pages] == [(1, 2), (2, 2)]
    assert [[s for s, _ in p.scopes] for p in pages] == [["K1"], ["K2"]]
    assert set(pages[1].cells["scope"]) == {"K2"}
    monkeypatch.setattr(chain_mod, "SLIDE_COLUMNS", 1)
    written = sorted(p.name for p in write_chain_outputs(net, tmp_path, "C", "consortium", ("html", "png")))
    assert written == ["chain-C-2.png", "chain-C.html", "chain-C.png"]
    assert _png_size(tmp_path / "chain-C-2.png") == (2000, 1125)
    html = (tmp_path / "chain-C.html").read_text(encoding="utf-8")
    assert 'href="chain-C-2.png"' in html and "第 1/2 页" not in html  # the page keeps every column


#: Chain ids whose plain file names would meet: sanitised alike, and a chain named like another's
#: second slide (``chain-C-2.png``). (Ids alike but for case are read as one: codes are upper-cased.)
CLASHING = ["NEV@X", "NEV_X", "C", "C-2"]


@pytest.fixture
def clashing(make_registry):
    """One chain per id of :data:`CLASHING`, each worked on by one consortium (two for C)."""
    cons, mem, chains = [], [], []
    for i, cid in enumerate(CLASHING, start=1):
        for k in (1, 2) if cid == "C" else (1,):
            kid = f"K{i}-{k}"
            cons.append({"consortium_id": kid, "name": f"{cid}创新联合体{k}", "jurisdiction": "nanning", "chain_id": cid,
                         "recognized_on": "2025-01-01"})
            mem.append({"consortium_id": kid, "uscc": code(10 * i + k), "role": "lead", "segments": f"S{i}",
                        "joined_on": "2025-01-01"})
        chains.append({"chain_id": cid, "chain_name": f"链{cid}", "segment_id": f"S{i}", "segment_name": f"环节{i}",
                       "stage": "upstream", "parent": "", "feeds": ""})
    units = [unit(10 * i + k) for i in range(1, len(CLASHING) + 1) for k in (1, 2)]
    path = make_registry(units, cons, mem, chains=chains)
    books = load_rulebooks()
    return path, books, EmbeddedNetwork(load_registry(path, books), books, AS_OF)


def test_file_stems_keep_a_safe_id_and_hash_the_rest():
    import hashlib

    from consortia.viz.chain import file_stem

    assert file_stem("NEV") == "chain-NEV" and file_stem("新能源-2") == "chain-新能源-2"
    assert file_stem("NEV@X") == "chain-NEV_X-" + hashlib.sha256(b"NEV@X").hexdigest()[:8]
    assert file_stem("NEV@X") != file_stem("NEV X") and file_stem("NEV@X") == file_stem("NEV@X")
    assert len(file_stem("长" * 300)) < 100  # a long id still makes a file name the system accepts


def test_no_two_chains_share_a_file_name(clashing, tmp_path, monkeypatch):
    from consortia.viz import chain as chain_mod

    _, _, net = clashing
    monkeypatch.setattr(chain_mod, "SLIDE_COLUMNS", 1)  # C's map takes two slides: chain-C.png and chain-C-2.png
    maps = chain_maps(net, None, "consortium")
    stems = chain_mod.chain_stems(maps)
    assert stems["NEV_X"] == "chain-NEV_X"  # a safe id keeps its plain name when nothing else would take it
    assert len({s.casefold() for s in stems.values()}) == len(CLASHING)
    assert stems == chain_mod.chain_stems(list(reversed(maps)))  # the same names whatever the order
    out = tmp_path / "maps"
    written = [p.name for p in write_chain_outputs(net, out, None, "consortium", ("html", "png"), maps=maps)]
    assert len(written) == 2 * len(CLASHING) + 1  # every page and slide, C's second slide included
    assert len({n.casefold() for n in written}) == len(written)
    assert sorted(p.name for p in out.iterdir()) == sorted(written)
    for cid, stem in stems.items():
        assert f"（{cid}）" in (out / f"{stem}.html").read_text(encoding="utf-8")
    # A folder zipped and opened on Windows or macOS tells no case apart: ids alike but for case get the hash.
    cased = chain_mod.chain_stems([dataclasses.replace(maps[0], chain_id=c) for c in ("ev", "EV")])
    assert len({s.casefold() for s in cased.values()}) == 2


def test_brief_index_links_each_chain_once_to_its_own_map(clashing, tmp_path):
    from consortia.viz.brief import write_brief

    _, books, net = clashing
    brief = write_brief(net.registry, books, AS_OF, tmp_path / "b")
    index = brief.index.read_text(encoding="utf-8")
    pages = re.findall(r'<li>[^<]*（([^）]+)）：<a href="(chains/[^"]+\.html)">', index)
    assert sorted(cid for cid, _ in pages) == sorted(CLASHING)
    assert len({href for _, href in pages}) == len(CLASHING)
    for cid, href in pages:
        assert f"（{cid}）" in (tmp_path / "b" / href).read_text(encoding="utf-8")


#: What a pasted spreadsheet cell can carry that no font draws: a line separator, a bell, a
#: zero-width space, a paragraph separator, a newline.
HIDDEN = "\u2028\x07\u200b\u2029\n"


def test_plain_label_turns_invisible_characters_into_one_space():
    from consortia.viz.images import plain_label

    assert plain_label("南宁\u2028电池") == "南宁 电池"
    assert plain_label(f"A{HIDDEN}B\t") == "A B"
    assert plain_label("正常名称　（全角空格）") == "正常名称　（全角空格）"  # visible spaces are kept


def _texts(fig) -> list[str]:
    from matplotlib.text import Text

    return [t.get_text() for t in fig.findobj(Text)]


def test_figures_draw_no_invisible_character(make_registry):
    import unicodedata

    import matplotlib.pyplot as plt
    import pandas as pd

    from consortia.viz.chain import chain_figure
    from consortia.viz.images import figure_context
    from consortia.viz.overlaps import overlap_figure

    cons = [{"consortium_id": "K1", "name": f"南宁{HIDDEN}电池创新联合体", "jurisdiction": "nanning", "chain_id": "C",
             "recognized_on": "2025-01-01"}]
    mem = [{"consortium_id": "K1", "uscc": code(1), "role": "lead", "segments": "S1", "joined_on": "2025-01-01"}]
    chains = [{"chain_id": "C", "chain_name": f"动力{HIDDEN}电池", "segment_id": "S1", "segment_name": f"正极{HIDDEN}材料",
               "stage": "upstream", "parent": "", "feeds": ""}]
    books = load_rulebooks()
    net = EmbeddedNetwork(load_registry(make_registry([unit(1)], cons, mem, chains=chains), books), books, AS_OF)
    (cm,) = chain_maps(net, "C", "consortium")
    with figure_context():
        figs = [chain_figure(cm), overlap_figure(pd.DataFrame([[3]], index=["nn"], columns=["nn"]),
                                                 {"nn": f"南{HIDDEN}宁"}, AS_OF)]
    texts = [t for fig in figs for t in _texts(fig)]
    for fig in figs:
        plt.close(fig)
    assert "正极 材料" in texts and "南 宁" in texts and any("动力 电池" in t for t in texts)
    # Newlines the figure puts between lines on purpose stay; nothing else invisible is drawn.
    assert not [t for t in texts if any(unicodedata.category(c) in ("Cf", "Zl", "Zp") or c in "\x07\u200b" for c in t)]


def test_viz_chain_prints_no_warning_for_names_no_font_draws(make_registry, tmp_path):
    """A name with a line separator or an emoji gives clean standard error (the warnings named our source file)."""
    import subprocess
    import sys

    cons = [{"consortium_id": "K1", "name": "南宁\u2028电池🚗创新联合体", "jurisdiction": "nanning", "chain_id": "C",
             "recognized_on": "2025-01-01"}]
    mem = [{"consortium_id": "K1", "uscc": code(1), "role": "lead", "segments": "S1", "joined_on": "2025-01-01"}]
    chains = [{"chain_id": "C", "chain_name": "动力\u2028电池", "segment_id": "S1", "segment_name": "正极\u2028材料🔋",
               "stage": "upstream", "parent": "", "feeds": ""}]
    path = make_registry([unit(1)], cons, mem, chains=chains)
    script = "import sys; from consortia.cli.entry import run; sys.argv[0] = 'consortia'; run()"
    r = subprocess.run([sys.executable, "-c", script, "viz", "chain", str(path), "--out", str(tmp_path / "maps"),
                        "--by", "consortium", "--as-of", AS_OF], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stderr == "" and (tmp_path / "maps" / "chain-C.png").is_file()
