"""The cross-city view: where cities and levels overlap, as one page and a slide image.

The page shows, from :mod:`consortia.queries.overlaps`:

* a network of jurisdictions and the consortium bodies that share members
  with a body recorded by another jurisdiction (or are recorded by two
  themselves, as a Guangxi consortium directly recognised by Nanning is),
  linked by shared members (:func:`~consortia.viz.network.build_overlap_view`);
* the jurisdiction × jurisdiction matrix of units taking part on both sides
  (also drawn as a heatmap PNG/SVG for slides);
* the units in consortia of the most cities or levels, the pairs of bodies in
  different jurisdictions sharing the most members, and the bodies recorded
  at two levels whose rosters differ.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..findings import Finding
from ..io import check_writable
from ..queries.network import EmbeddedNetwork
from ..queries.overlaps import cross_units, same_body, shared_pairs
from .images import SLIDE_INCHES, figure_context, plain_label, save_figure
from .network import DEFAULT_MAX_NODES, ROLE_ZH, build_overlap_view
from .network_page import render_network_page
from .page import esc, write_page

__all__ = ["jurisdiction_matrix", "overlap_figure", "write_overlaps"]

TOP_ROWS = 30


def jurisdiction_matrix(net: EmbeddedNetwork) -> pd.DataFrame:
    """Distinct units in bodies recorded by both jurisdictions (the diagonal: by that one).

    A body recorded by Guangxi and by Nanning counts its members for both,
    which is what the two texts see when each applies its membership cap.
    """
    bi = net.body_info
    bj = bi["jurisdictions"].explode().dropna().rename("jurisdiction").reset_index()
    uj = net.body_members[["body_id", "uscc"]].merge(bj, on="body_id")[["uscc", "jurisdiction"]].drop_duplicates()
    jids = sorted(set(uj["jurisdiction"]))
    if not jids:
        return pd.DataFrame()
    units = pd.Index(uj["uscc"].unique())
    inc = sp.csr_matrix((np.ones(len(uj), dtype=np.int32),
                         (units.get_indexer(uj["uscc"]), pd.Index(jids).get_indexer(uj["jurisdiction"]))),
                        shape=(len(units), len(jids)))
    mat = (inc.T @ inc).toarray()
    return pd.DataFrame(mat, index=jids, columns=jids)


def overlap_figure(matrix: pd.DataFrame, names: dict[str, str], as_of: str) -> Any:
    """The jurisdiction matrix as a heatmap for a slide (off-diagonal cells coloured, diagonal grey)."""
    import matplotlib.pyplot as plt
    from matplotlib.colors import LinearSegmentedColormap

    n = len(matrix)
    fig = plt.figure(figsize=SLIDE_INCHES)
    ax = fig.add_axes((0.25, 0.1, 0.5, 0.72))
    vals = matrix.to_numpy().astype(float)
    off = vals.copy()
    np.fill_diagonal(off, np.nan)
    vmax = np.nanmax(off) if n > 1 and np.isfinite(np.nanmax(off)) and np.nanmax(off) > 0 else 1.0
    cmap = LinearSegmentedColormap.from_list("overlap", ["#f7fbff", "#6baed6", "#08306b"]).with_extremes(bad="#e8e8e8")
    ax.imshow(np.ma.masked_invalid(off), cmap=cmap, vmin=0, vmax=vmax, aspect="auto")
    labels = [plain_label(names.get(j, j)) for j in matrix.index]
    ax.set_xticks(range(n), labels, fontsize=13)
    ax.set_yticks(range(n), labels, fontsize=13)
    ax.xaxis.tick_top()
    for i in range(n):
        for j in range(n):
            v = int(vals[i, j])
            dark = i != j and v > vmax * 0.55
            ax.text(j, i, f"{v}" if i != j else f"{v}\n（本级）", ha="center", va="center", fontsize=14 if i != j else 11,
                    color="white" if dark else "#222", fontweight="bold" if i != j and v else "normal")
    ax.set_xticks(np.arange(-0.5, n), minor=True)
    ax.set_yticks(np.arange(-0.5, n), minor=True)
    ax.grid(which="minor", color="white", linewidth=2)
    ax.tick_params(which="both", length=0)
    for side in ax.spines.values():
        side.set_visible(False)
    fig.text(0.03, 0.95, "跨城市、跨层级的成员重叠", fontsize=20, fontweight="bold", va="center")
    fig.text(0.03, 0.905, f"{as_of} · 格中数字：同时参与两地所认定联合体的单位数（对角线：该地联合体的单位总数）",
             fontsize=11, color="#555", va="center")
    return fig


def _table(headers: list[str], rows: list[list[object]]) -> str:
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body or '<tr><td colspan=9>无</td></tr>'}</tbody></table>"


def _role_list(items: tuple[str, ...]) -> str:
    out = []
    for it in items:
        cid, _, role = str(it).rpartition(":")
        out.append(f"{cid}（{ROLE_ZH.get(role, role)}）")
    return "、".join(out)


def _sections(net: EmbeddedNetwork, matrix: pd.DataFrame, names: dict[str, str], images: dict[str, str]) -> str:
    parts = ['<main id="overlap-tables">']
    if images:
        parts.append("<p>幻灯片图片：" + " ".join(f'<a href="{esc(h)}">{esc(f.upper())}</a>' for f, h in images.items())
                     + "</p>")
    parts.append("<h2>两地共同参与的单位数</h2>")
    if not matrix.empty:
        rows = [[names.get(j, j), *[int(v) for v in matrix.loc[j]]] for j in matrix.index]
        parts.append(_table(["", *[names.get(j, j) for j in matrix.columns]], rows))
    cu = cross_units(net).head(TOP_ROWS)
    parts.append(f"<h2>参与多地、多级联合体的单位（前 {TOP_ROWS}）</h2>")
    parts.append(_table(["单位", "信用代码", "注册地", "联合体数", "认定机关", "参与"],
                        [[r.name, r.uscc, r.city, r.bodies, "、".join(names.get(j, j) for j in r.jurisdictions),
                          _role_list(r.consortia)] for r in cu.itertuples(index=False)]))
    cross = shared_pairs(net, top=TOP_ROWS, across_jurisdictions=True)  # named and listed for these rows only
    parts.append(f"<h2>不同认定机关的联合体之间共享成员最多的（前 {TOP_ROWS}）</h2>")
    parts.append(_table(["联合体 A", "联合体 B", "共享成员", "Jaccard", "A 成员", "B 成员"],
                        [[f"{r.consortium_a} {r.name_a}", f"{r.consortium_b} {r.name_b}", r.shared, r.jaccard,
                          r.members_a, r.members_b] for r in cross.itertuples(index=False)]))
    sb = same_body(net)
    parts.append("<h2>两级认定的同一联合体（成员名单是否一致）</h2>")
    parts.append(_table(["联合体", "记录", "认定机关", "成员", "各记录均列", "仅部分记录列出"],
                        [[r.name, "、".join(r.records), "、".join(names.get(j, j) for j in r.jurisdictions), r.members,
                          r.in_every_record, "、".join(r.in_some_records) or "—"] for r in sb.itertuples(index=False)]))
    parts.append("</main>")
    return "".join(parts)


def write_overlaps(net: EmbeddedNetwork, out: str | Path, findings: list[Finding] | None = None,
                   images: tuple[str, ...] = ("png", "svg"), nav: str = "", max_nodes: int = DEFAULT_MAX_NODES) -> list[Path]:
    """Write the overlap page to ``out`` (HTML) and the heatmap next to it (``<stem>.png``/``.svg``);
    the drawing has at most ``max_nodes`` nodes (the tables below it are whole)."""
    out = Path(out)
    check_writable(out, *(out.with_suffix(f".{f}") for f in images))  # the images too, before the page is written
    view = build_overlap_view(net.registry, net.books, net.as_of, findings, max_nodes=max_nodes)
    matrix = jurisdiction_matrix(net)
    names = {j: net.jurisdiction_meta(j)["name"] or j for j in matrix.index}
    links = {f: f"{out.stem}.{f}" for f in images} if not matrix.empty else {}
    page = render_network_page(view, nav=nav, after=_sections(net, matrix, names, links))
    written = [write_page(out, page)]
    if links:
        import matplotlib.pyplot as plt

        with figure_context():
            fig = overlap_figure(matrix, names, str(net.as_of.date()))
            try:
                for fmt in links:
                    written.append(save_figure(fig, out.with_suffix(f".{fmt}"), fmt))
            finally:
                plt.close(fig)
    return written
