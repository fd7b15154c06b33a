"""Chain coverage maps: a chain's segments in flow order against consortia or jurisdictions.

Rows are the chain's segments from upstream to downstream (children indented
under their parent, as :func:`consortia.queries.chains.segment_order` orders
them); columns are the scopes working on the chain — every consortium record
(``by="consortium"``) or every jurisdiction (``by="jurisdiction"``). Each cell
shows the members covering the segment by tier (lead, core, close, general)
and marks the gaps :func:`consortia.queries.chains.gaps` finds: a segment
nobody covers, one covered only by general-tier members, and a covered
segment whose supplier is uncovered (a break in the flow).

The same map is written three ways: an HTML page (with the gap list and the
candidate units that could fill each gap), and PNG and SVG images sized for
a 16:9 slide.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ..io import check_writable
from ..queries.network import Network
from .images import SLIDE_INCHES, figure_context, plain_label, save_figure
from .page import esc, render_page, write_page

__all__ = ["GAP_ZH", "SLIDE_COLUMNS", "STAGE_ZH", "TIER_COLORS", "ChainMap", "chain_figure", "chain_files", "chain_maps",
           "chain_stems", "file_stem",
           "render_chain_page", "slide_pages", "write_chain_outputs"]

ROLES = ("lead", "core", "close", "general")
ROLE_ZH = {"lead": "牵头单位", "core": "核心层", "close": "紧密合作层", "general": "一般协作层"}
#: Tier colours, darkest for the lead: a sequential blue that prints in grey too.
TIER_COLORS = {"lead": "#08306b", "core": "#2b7bba", "close": "#7fb3dc", "general": "#cfe1f2"}
STAGE_ZH = {"upstream": "上游", "midstream": "中游", "downstream": "下游", "": "未分环节"}
STAGE_COLORS = {"upstream": "#e7d4b5", "midstream": "#cfe3cf", "downstream": "#d6d3ea", "": "#e5e5e5"}
GAP_ZH = {"uncovered": "缺口（无成员）", "general_only": "仅一般协作层", "flow_break": "供给环节缺失"}
UNCOVERED_FILL, UNCOVERED_EDGE = "#fde2df", "#d9534f"
GENERAL_FILL, GENERAL_EDGE = "#fff1c2", "#c98a00"
BREAK_COLOR = "#c0392b"


@dataclass
class ChainMap:
    """One chain's coverage matrix, ready to draw.

    ``cells`` has one row per segment × scope (the columns of
    :func:`~consortia.queries.chains.coverage`) plus ``gap_kinds`` (a tuple),
    ``suppliers`` (the uncovered supplying segments of a flow break) and
    ``candidates`` (units that could fill the gap); ``scopes`` lists
    ``(scope, label)`` in column order.
    """

    chain_id: str
    chain_name: str
    by: str
    as_of: str
    segments: pd.DataFrame
    scopes: list[tuple[str, str]]
    cells: pd.DataFrame
    gaps: pd.DataFrame
    #: (page, pages) when the columns are split over several slides.
    page: tuple[int, int] | None = None


#: Characters of a chain id kept in a file name (beyond this, the name is cut and hashed).
_STEM_CHARS = 80


def _digest(chain_id: str) -> str:
    return hashlib.sha256(chain_id.encode("utf-8")).hexdigest()[:8]


def file_stem(chain_id: str, *, hashed: bool = False) -> str:
    """A file-name-safe form of a chain id: ``chain-<ID>`` when the id is safe as it is, else the id
    with unsafe characters replaced by ``_`` (and cut to 80 characters) followed by a short hash of
    the id (``NEV@X`` gives ``chain-NEV_X-<hash>``), so that no two ids share a name by being
    sanitised alike. ``hashed`` adds the hash to a safe id too (see :func:`chain_stems`)."""
    safe = re.sub(r"[^\w.-]+", "_", chain_id).strip("._")[:_STEM_CHARS] or "chain"
    if safe == chain_id and not hashed:
        return f"chain-{safe}"
    return f"chain-{safe}-{_digest(chain_id)}"


def chain_stems(maps: list[ChainMap]) -> dict[str, str]:
    """Each map's file stem (:func:`file_stem`), distinct from every other map's names.

    Names are compared without case, as a briefing folder is zipped and opened on Windows and
    macOS, and against the names of other maps' later slides (``chain-NEV-2.png`` is also what
    a chain ``NEV-2`` would be called): any chain whose names would meet another's gets the hash
    too. A chain's stem therefore changes only when another chain would take its name.
    """
    pages = {cm.chain_id: len(slide_pages(cm)) for cm in maps}
    hashed: set[str] = set()
    while True:
        stems = {cid: file_stem(cid, hashed=cid in hashed) for cid in pages}
        owners: dict[str, set[str]] = {}
        for cid, stem in stems.items():
            for base in (stem, *(f"{stem}-{n}" for n in range(2, pages[cid] + 1))):
                owners.setdefault(base.casefold(), set()).add(cid)
        clash = {cid for ids in owners.values() if len(ids) > 1 for cid in ids} - hashed
        if not clash:  # a clash between hashed stems would need two ids with one hash: not on purpose
            return stems
        hashed |= clash


def chain_maps(net: Network, chain: str | None = None, by: str = "jurisdiction") -> list[ChainMap]:
    """The coverage map of ``chain`` (or of every chain with at least one consortium in force).

    Raises :class:`~consortia.errors.InputError` when the registry has no
    chains table or ``chain`` is not in it.
    """
    if by not in ("jurisdiction", "consortium"):
        raise ValueError("by must be 'jurisdiction' or 'consortium'")
    # Through the network's methods, so a database backend answers them on its server.
    cov = net.coverage(chain, by)
    gp = net.gaps(chain, None, by, candidates=3)
    key = "consortium_id" if by == "consortium" else "jurisdiction"
    gp = gp.assign(scope=gp[key])
    agg: dict[tuple[str, str, str], dict[str, Any]] = {}
    for r in gp.itertuples(index=False):
        a = agg.setdefault((r.chain_id, r.scope, r.segment_id), {"kinds": [], "suppliers": [], "candidates": []})
        if r.kind not in a["kinds"]:
            a["kinds"].append(r.kind)
        if r.supplier_segment_id:
            a["suppliers"].append(r.supplier_segment_id)
        for c in r.candidates:
            if c["uscc"] not in {x["uscc"] for x in a["candidates"]}:
                a["candidates"].append(c)
    names = dict(zip(net.consortia["consortium_id"], net.consortia["name"], strict=True))
    maps = []
    for chain_id, cells in cov.groupby("chain_id", sort=True):
        scope_ids = sorted(set(cells["scope"]))
        if not scope_ids:
            continue
        k = list(zip(cells["chain_id"], cells["scope"], cells["segment_id"], strict=True))
        cells = cells.assign(
            gap_kinds=[tuple(agg.get(x, {}).get("kinds", ())) for x in k],
            suppliers=[tuple(agg.get(x, {}).get("suppliers", ())) for x in k],
            candidates=[list(agg.get(x, {}).get("candidates", ())) for x in k],
        )
        if by == "jurisdiction":
            scopes = [(s, net.jurisdiction_meta(s)["name"] or s) for s in scope_ids]
        else:
            scopes = [(s, f"{s}\n{_short_name(names.get(s, ''))}".strip()) for s in scope_ids]
        segs = cells.drop_duplicates("segment_id").sort_values("order")[
            ["segment_id", "segment_name", "stage", "parent", "depth", "order"]].reset_index(drop=True)
        maps.append(ChainMap(str(chain_id), str(cells["chain_name"].iloc[0] or chain_id), by, str(net.as_of.date()),
                             segs, scopes, cells.reset_index(drop=True), gp[gp["chain_id"] == chain_id]))
    return maps


def _short_name(name: str) -> str:
    return str(name or "").replace("创新联合体", "").strip()


def _title(cm: ChainMap) -> tuple[str, str]:
    by = "认定机关" if cm.by == "jurisdiction" else "联合体"
    n_gaps = sum(1 for k in cm.cells["gap_kinds"] if k)
    page = f"（第 {cm.page[0]}/{cm.page[1]} 页）" if cm.page else ""
    return (f"产业链覆盖图：{cm.chain_name}（{cm.chain_id}）{page}",
            f"{cm.as_of} · 按{by} · {len(cm.segments)} 个环节 × {len(cm.scopes)} 个{by} · "
            f"{n_gaps} 处缺口或薄弱环节 · 上游在上，下游在下")


# ---- HTML ----

CHAIN_CSS = f"""
table.chain {{ font-size: 13px; }}
table.chain td.cell {{ min-width: 128px; }}
td.stage {{ writing-mode: vertical-rl; text-align: center; font-weight: bold; width: 22px; }}
td.seg {{ white-space: nowrap; }}
.bar {{ display: flex; height: 10px; margin: 2px 0; background: #f4f4f4; }}
.bar span {{ display: block; height: 10px; }}
.n {{ font-size: 12px; color: #333; white-space: nowrap; }}
td.uncovered {{ background: {UNCOVERED_FILL}; color: {UNCOVERED_EDGE}; font-weight: bold; }}
td.general_only {{ background: {GENERAL_FILL}; }}
td.flow_break {{ box-shadow: inset 4px 0 0 {BREAK_COLOR}; }}
.tag {{ font-size: 11px; font-weight: bold; }}
.tag.general_only {{ color: {GENERAL_EDGE}; }}
.tag.flow_break {{ color: {BREAK_COLOR}; }}
.legend span.sw {{ display: inline-block; width: 14px; height: 10px; margin: 0 4px 0 10px; vertical-align: middle; }}
nav a {{ margin-right: 12px; }}
"""


def _cell_html(row: Any, max_total: int) -> str:
    kinds = row.gap_kinds
    cls = " ".join(kinds)
    tip = []
    for k in kinds:
        line = GAP_ZH[k]
        if k == "flow_break" and row.suppliers:
            line += "：" + "、".join(row.suppliers)
        tip.append(line)
    if row.candidates:
        tip.append("可补位单位：" + "；".join(f"{c['name']}（{c['uscc']}，{ROLE_ZH.get(c['tier'], c['tier'])}，"
                                           f"{c['consortium_id']}，{c['city']}）" for c in row.candidates))
    if row.total == 0:
        body = '<span class="tag">缺口</span>'
    else:
        bar = "".join(f'<span style="width:{100 * getattr(row, r) / max(max_total, 1):.1f}%;background:{TIER_COLORS[r]}">'
                      "</span>" for r in ROLES if getattr(row, r))
        nums = " ".join(f"{z}{getattr(row, r)}" for r, z in zip(ROLES, ("牵", "核", "紧", "般"), strict=True))
        tags = "".join(f' <span class="tag {k}">{esc(GAP_ZH[k])}</span>' for k in kinds)
        body = f'<div class="bar">{bar}</div><span class="n">{row.total} 家 · {nums}</span>{tags}'
    return f'<td class="cell {esc(cls)}" title="{esc(chr(10).join(tip))}">{body}</td>'


def render_chain_page(cm: ChainMap, images: dict[str, str] | None = None, nav: str = "") -> str:
    """The map as an HTML page: the matrix, a legend and the gap list with candidates."""
    title, subtitle = _title(cm)
    max_total = int(cm.cells["total"].max() or 1)
    head = "".join(f"<th>{esc(label).replace(chr(10), '<br>')}</th>" for _, label in cm.scopes)
    by_key = {(r.segment_id, r.scope): r for r in cm.cells.itertuples(index=False)}
    rows = []
    stages = cm.segments["stage"].tolist()
    for i, s in enumerate(cm.segments.itertuples(index=False)):
        cells = "".join(_cell_html(by_key[(s.segment_id, sc)], max_total) for sc, _ in cm.scopes)
        stage_td = ""
        if i == 0 or stages[i - 1] != s.stage:
            span = 1
            while i + span < len(stages) and stages[i + span] == s.stage:
                span += 1
            stage_td = (f'<td class="stage" rowspan="{span}" style="background:{STAGE_COLORS.get(s.stage, "#eee")}">'
                        f"{esc(STAGE_ZH.get(s.stage, s.stage))}</td>")
        indent = "&nbsp;" * 4 * int(s.depth) + ("└ " if s.depth else "")
        rows.append(f'<tr>{stage_td}<td class="seg">{indent}{esc(s.segment_name)} '
                    f'<span class="muted">{esc(s.segment_id)}</span></td>{cells}</tr>')
    legend = ('<p class="legend">成员层级：' + "".join(f'<span class="sw" style="background:{c}"></span>{esc(ROLE_ZH[r])}'
                                                 for r, c in TIER_COLORS.items())
              + f'<span class="sw" style="background:{UNCOVERED_FILL}"></span>缺口（无成员）'
              + f'<span class="sw" style="background:{GENERAL_FILL}"></span>仅一般协作层'
              + f'<span class="sw" style="box-shadow: inset 4px 0 0 {BREAK_COLOR}"></span>供给环节缺失（上游未覆盖）'
              + "。悬停单元格可见可补位单位。</p>")
    gap_rows = []
    for g in cm.gaps.itertuples(index=False):
        scope = g.consortium_id or g.jurisdiction
        cands = "；".join(f"{c['name']}（{ROLE_ZH.get(c['tier'], c['tier'])}，{c['consortium_id']}，{c['city']}）"
                         for c in g.candidates) or "—"
        sup = f"（供给环节 {g.supplier_segment_id} 未覆盖）" if g.supplier_segment_id else ""
        gap_rows.append(f"<tr><td>{esc(scope)}</td><td>{esc(g.segment_name)} <span class=muted>{esc(g.segment_id)}</span>"
                        f"</td><td>{esc(STAGE_ZH.get(g.stage, g.stage))}</td><td>{esc(GAP_ZH.get(g.kind, g.kind))}{esc(sup)}"
                        f"</td><td>{esc(cands)}</td></tr>")
    links = ""
    if images:
        links = "<p>幻灯片图片：" + " ".join(f'<a href="{esc(href)}">{esc(fmt.upper())}</a>'
                                      for fmt, href in images.items()) + "</p>"
    body = f"""<header><h1>{esc(title)}</h1><p>{esc(subtitle)}</p>{nav}</header>
<main>{links}{legend}
<table class="chain"><thead><tr><th></th><th>环节</th>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>
<h2>缺口与可补位单位（{len(cm.gaps)}）</h2>
<table><thead><tr><th>范围</th><th>环节</th><th>阶段</th><th>问题</th><th>可补位单位（未超参与上限）</th></tr></thead>
<tbody>{''.join(gap_rows) or '<tr><td colspan=5>无</td></tr>'}</tbody></table></main>"""
    return render_page(title, body, styles=(CHAIN_CSS,))


# ---- images ----

def _fit(text: str, inches: float, points: float) -> str:
    """``text`` as a plain label (:func:`~consortia.viz.images.plain_label`) cut (with …) to fit ``inches``
    at ``points``: CJK characters are one em wide, others ~0.55 em."""
    text = plain_label(text)
    room = inches * 72 / points
    used = 0.0
    for i, ch in enumerate(text):
        used += 1.0 if unicodedata.east_asian_width(ch) in ("W", "F") else 0.55
        if used > room:
            return text[: max(i - 1, 0)] + "…"
    return text


def chain_figure(cm: ChainMap) -> Any:
    """The map as a matplotlib figure, 16:9 and taller only when a chain has many segments.

    Coordinates are inches (the axes fill the figure), so text sizes stay in
    points whatever the size of the matrix.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    n_rows, n_cols = len(cm.segments), len(cm.scopes)
    top, header, bottom = 1.0, 0.62, 0.95
    label_w, left, right = 3.5, 0.25, 0.25
    row_h = min(0.42, max(0.3, (SLIDE_INCHES[1] - top - header - bottom) / max(n_rows, 1)))
    fig_h = max(SLIDE_INCHES[1], top + header + bottom + row_h * n_rows)
    col_w = max(1.05, (SLIDE_INCHES[0] - left - label_w - right) / max(n_cols, 1))
    col_w = min(col_w, 2.6)
    fig_w = max(SLIDE_INCHES[0], left + label_w + right + col_w * n_cols)
    fig = plt.figure(figsize=(fig_w, fig_h))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, fig_w)
    ax.set_ylim(fig_h, 0)
    ax.axis("off")
    title, subtitle = _title(cm)
    ax.text(left, 0.42, plain_label(title), fontsize=20, fontweight="bold", va="center")
    ax.text(left, 0.78, plain_label(subtitle), fontsize=11, color="#555", va="center")
    x0 = left + label_w
    y0 = top + header
    # Column headers.
    for j, (_, label) in enumerate(cm.scopes):
        lines = label.split("\n")
        text = "\n".join(_fit(t, col_w - 0.1, 11) for t in lines[:2])
        ax.text(x0 + (j + 0.5) * col_w, y0 - 0.08, text, fontsize=11, fontweight="bold",
                ha="center", va="bottom", linespacing=1.15)
    # Stage bands, the flow arrow and segment labels.
    stages = cm.segments["stage"].tolist()
    i = 0
    while i < n_rows:
        j = i
        while j + 1 < n_rows and stages[j + 1] == stages[i]:
            j += 1
        ax.add_patch(Rectangle((left, y0 + i * row_h + 0.02), 0.36, (j - i + 1) * row_h - 0.04,
                               facecolor=STAGE_COLORS.get(stages[i], "#eee"), edgecolor="none"))
        stage = plain_label(STAGE_ZH.get(stages[i], stages[i]))
        ax.text(left + 0.18, y0 + (i + j + 1) / 2 * row_h, "\n".join(stage), fontsize=11,
                fontweight="bold", ha="center", va="center", linespacing=1.0)
        i = j + 1
    for i, s in enumerate(cm.segments.itertuples(index=False)):
        y = y0 + (i + 0.5) * row_h
        indent = 0.22 * int(s.depth)
        name = ("└ " if s.depth else "") + str(s.segment_name)
        ax.text(left + 0.5 + indent, y, _fit(name, label_w - 0.55 - indent, 11.5), fontsize=11.5, va="center")
        if i % 2 == 0:
            ax.add_patch(Rectangle((left + 0.42, y0 + i * row_h), label_w - 0.42 + n_cols * col_w, row_h,
                                   facecolor="#f7f7f7", edgecolor="none", zorder=0))
    # Cells.
    max_total = max(int(cm.cells["total"].max() or 1), 1)
    by_key = {(r.segment_id, r.scope): r for r in cm.cells.itertuples(index=False)}
    pad = 0.05
    bar_h = min(0.16, row_h * 0.42)
    for i, s in enumerate(cm.segments.itertuples(index=False)):
        for j, (sc, _) in enumerate(cm.scopes):
            r = by_key[(s.segment_id, sc)]
            x, y = x0 + j * col_w + pad, y0 + i * row_h + pad
            w, h = col_w - 2 * pad, row_h - 2 * pad
            kinds = r.gap_kinds
            if r.total == 0:
                ax.add_patch(Rectangle((x, y), w, h, facecolor=UNCOVERED_FILL, edgecolor=UNCOVERED_EDGE, hatch="///",
                                       linewidth=0.8))
                ax.text(x + w / 2, y + h / 2, "缺口", fontsize=11, fontweight="bold", color=UNCOVERED_EDGE,
                        ha="center", va="center",
                        bbox={"boxstyle": "square,pad=0.15", "facecolor": UNCOVERED_FILL, "edgecolor": "none"})
                continue
            face = GENERAL_FILL if "general_only" in kinds else "white"
            edge = GENERAL_EDGE if "general_only" in kinds else "#cccccc"
            ax.add_patch(Rectangle((x, y), w, h, facecolor=face, edgecolor=edge, linewidth=0.8))
            tagged = "general_only" in kinds or "flow_break" in kinds
            bar_w = w - 0.62 - (0.62 if tagged else 0.0)
            bx, by = x + 0.08, y + h / 2 - bar_h / 2
            for role in ROLES:
                n = int(getattr(r, role))
                if n:
                    seg = bar_w * n / max_total
                    ax.add_patch(Rectangle((bx, by), seg, bar_h, facecolor=TIER_COLORS[role], edgecolor="white",
                                           linewidth=0.4))
                    bx += seg
            ax.text(x + w - 0.08, y + h / 2, str(int(r.total)), fontsize=11, ha="right", va="center",
                    fontweight="bold" if r.lead else "normal")
            if "general_only" in kinds:
                ax.text(x + w - 0.36, y + h - 0.02, "仅一般", fontsize=7.5, color=GENERAL_EDGE, ha="right",
                        va="bottom", fontweight="bold")
            if "flow_break" in kinds:
                ax.add_patch(Rectangle((x, y), 0.07, h, facecolor=BREAK_COLOR, edgecolor="none"))
                if "general_only" in kinds:
                    # Both tags: side by side on one line, as a short row has no room for two lines.
                    ax.text(x + w - 0.78, y + h - 0.02, "供给缺", fontsize=7.5, color=BREAK_COLOR, ha="right",
                            va="bottom", fontweight="bold")
                else:
                    ax.text(x + w - 0.36, y + 0.02, "供给缺", fontsize=7.5, color=BREAK_COLOR, ha="right", va="top",
                            fontweight="bold")
    # Legend: swatch + label items, wrapped to a second line when the slide is too narrow.
    items: list[tuple[dict[str, Any], str]] = [
        ({"facecolor": TIER_COLORS[r], "edgecolor": "#999", "linewidth": 0.5}, ROLE_ZH[r]) for r in ROLES]
    items += [({"facecolor": UNCOVERED_FILL, "edgecolor": UNCOVERED_EDGE, "hatch": "///"}, "缺口（无成员）"),
              ({"facecolor": GENERAL_FILL, "edgecolor": GENERAL_EDGE}, "仅一般协作层"),
              ({"facecolor": BREAK_COLOR, "edgecolor": "none", "width": 0.07}, "供给环节缺失（上游未覆盖）"),
              ({}, "条长 = 各层级成员数，数字 = 合计（加粗：含牵头单位）")]
    lx, ly = left, y0 + n_rows * row_h + 0.36
    for style, label in items:
        style = dict(style)
        sw = style.pop("width", 0.34) if style else 0.0
        need = sw + 0.1 + 0.155 * len(label) + 0.3
        if lx > left and lx + need > fig_w - right:
            lx, ly = left, ly + 0.3
        if style:
            ax.add_patch(Rectangle((lx, ly - 0.09), sw, 0.18, **style))
        ax.text(lx + sw + 0.1 if style else lx, ly, label, fontsize=10.5, va="center",
                color="#222" if style else "#555")
        lx += need
    return fig


def chain_files(maps: list[ChainMap], formats: tuple[str, ...] = ("html", "png", "svg")) -> list[str]:
    """The names :func:`write_chain_outputs` writes for ``maps``: one page per chain, and an
    image per slide and format (``chain-<ID>-2.png`` for a second slide)."""
    images = [f for f in formats if f in ("png", "svg")]
    stems = chain_stems(maps)
    names = []
    for cm in maps:
        stem = stems[cm.chain_id]
        if "html" in formats:
            names.append(f"{stem}.html")
        for n in range(1, len(slide_pages(cm)) + 1):
            names += [f"{stem}{f'-{n}' if n > 1 else ''}.{f}" for f in images]
    return names


def write_chain_outputs(net: Network, out_dir: str | Path, chain: str | None = None, by: str = "jurisdiction",
                        formats: tuple[str, ...] = ("html", "png", "svg"), nav: str = "",
                        maps: list[ChainMap] | None = None) -> list[Path]:
    """Write each chain's map as ``chain-<ID>.html`` / ``.png`` / ``.svg`` in ``out_dir`` (names from
    :func:`chain_stems`: one per chain, whatever its id); returns the paths.

    ``maps`` are those of :func:`chain_maps` when the caller has them already.

    Every name is checked first (:func:`~consortia.io.check_writable`), so an
    unwritable folder or a folder squatting on an image's name writes nothing.
    The HTML is written first, so a missing CJK font (which stops the
    images with :class:`~consortia.viz.images.MissingFontError`) still leaves
    the pages.
    """
    out_dir = Path(out_dir)
    maps = chain_maps(net, chain, by) if maps is None else maps
    written: list[Path] = []
    images = [f for f in formats if f in ("png", "svg")]
    check_writable(*(out_dir / name for name in chain_files(maps, formats)))  # before the first page is written
    stems = chain_stems(maps)
    for cm in maps:
        stem = stems[cm.chain_id]
        if "html" in formats:
            pages = len(slide_pages(cm))
            links = {f"{f}{f' {n}' if pages > 1 else ''}": f"{stem}{f'-{n}' if n > 1 else ''}.{f}"
                     for n in range(1, pages + 1) for f in images}
            written.append(write_page(out_dir / f"{stem}.html", render_chain_page(cm, links, nav)))
    if images:
        import matplotlib.pyplot as plt

        with figure_context():
            for cm in maps:
                for n, part in enumerate(slide_pages(cm), start=1):
                    stem = stems[cm.chain_id] + (f"-{n}" if n > 1 else "")
                    fig = chain_figure(part)
                    try:
                        for fmt in images:
                            written.append(save_figure(fig, out_dir / f"{stem}.{fmt}", fmt))
                    finally:
                        plt.close(fig)
    return written


#: Columns one slide holds legibly; wider maps are split into several images.
SLIDE_COLUMNS = 12


def slide_pages(cm: ChainMap, columns: int | None = None) -> list[ChainMap]:
    """The map split into slides of at most ``columns`` scopes (one slide when it fits).

    A chain worked on by two hundred consortia cannot be one legible slide;
    the HTML page keeps them all in one scrollable table.
    """
    columns = columns or SLIDE_COLUMNS
    if len(cm.scopes) <= columns:
        return [cm]
    parts = [cm.scopes[i:i + columns] for i in range(0, len(cm.scopes), columns)]
    out = []
    for n, scopes in enumerate(parts, start=1):
        keep = {s for s, _ in scopes}
        out.append(dataclasses.replace(cm, scopes=scopes, cells=cm.cells[cm.cells["scope"].isin(keep)],
                                       page=(n, len(parts))))
    return out
