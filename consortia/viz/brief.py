"""A briefing folder: every visual of a registry on one date, behind one index page.

``write_brief`` writes::

    DIR/index.html          what is in the folder, with the headline numbers
    DIR/network.html        the interactive network (aggregated when large)
    DIR/chains/chain-X.*    one coverage map per chain: HTML, PNG, SVG
    DIR/overlaps.html/.png/.svg   the cross-city overlap view and its heatmap
    DIR/findings.html       every finding, with its citation

Every page works offline and from any folder (links are relative), so the
folder can be zipped and mailed, or copied to a USB stick for a meeting.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..errors import InputError
from ..findings import Finding
from ..io import check_writable
from ..queries.network import EmbeddedNetwork
from ..registry import Registry
from ..rules.engine import run_checks
from ..rules.rulebook import Rulebooks
from ..state import as_timestamp
from .chain import ChainMap, chain_files, chain_maps, chain_stems, write_chain_outputs
from .images import MissingFontError
from .network import DEFAULT_MAX_NODES, build_view
from .network_page import write_network_page
from .overlaps import write_overlaps
from .page import esc, render_page, write_page

__all__ = ["Brief", "write_brief"]

SEVERITY_ZH = {"error": "错误", "warning": "警告", "info": "提示"}


@dataclass
class Brief:
    """What :func:`write_brief` wrote, and what it had to leave out (and why)."""

    index: Path
    files: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _nav(depth: int) -> str:
    return f'<p><a href="{"../" * depth}index.html">← 简报目录</a></p>'


def _findings_page(findings: list[Finding], books: Rulebooks, as_of: str) -> str:
    rows = []
    for f in findings:
        jur = books[f.jurisdiction].name_zh if f.jurisdiction in books else (f.jurisdiction or "")
        rows.append("<tr>" + "".join(f"<td>{esc(v)}</td>" for v in (
            f.rule, SEVERITY_ZH.get(f.severity, f.severity), "是" if f.waived else "", jur, f.consortium_id or "",
            f.uscc or "", f.message, f.citation, f.location)) + "</tr>")
    counts = Counter((f.severity, f.waived) for f in findings)
    summary = "，".join(f"{SEVERITY_ZH.get(s, s)}{'（已豁免）' if w else ''} {n}" for (s, w), n in sorted(counts.items()))
    body = f"""<header><h1>问题清单</h1><p>{esc(as_of)} · 共 {len(findings)} 条：{esc(summary)}</p>{_nav(0)}</header>
<main><table><thead><tr><th>规则</th><th>级别</th><th>豁免</th><th>认定机关</th><th>联合体</th><th>单位</th><th>说明</th>
<th>依据</th><th>位置</th></tr></thead><tbody>{''.join(rows) or '<tr><td colspan=9>无</td></tr>'}</tbody></table></main>"""
    return render_page(f"问题清单 · {as_of}", body)


def write_brief(registry: Registry, books: Rulebooks, as_of: dt.date | str | pd.Timestamp | None, out_dir: str | Path,
                *, findings: list[Finding] | None = None, by: str = "jurisdiction",
                max_nodes: int = DEFAULT_MAX_NODES) -> Brief:
    """Write the briefing folder for ``registry`` on ``as_of`` and return what was written.

    ``findings`` defaults to a fresh :func:`~consortia.rules.engine.run_checks`.
    Chain maps need a chains table and images need a CJK font; without them
    the rest is still written and the index says what is missing.
    """
    out = Path(out_dir)
    ts = as_timestamp(as_of)
    day = str(ts.date())
    if findings is None:
        findings = run_checks(registry, books, ts.date())
    brief = Brief(out / "index.html")
    net = EmbeddedNetwork(registry, books, ts)
    maps: list[ChainMap] | None = None
    if not registry.table("chains").empty:
        try:
            maps = chain_maps(net, None, by)
        except InputError as exc:
            brief.notes.append(f"未生成产业链覆盖图：{exc.render()}")
            maps = []
    formats: tuple[str, ...] = ("html", "png", "svg")
    # Every file's place is checked before the first is written: a briefing is a folder of dozens of
    # files, and one that stops at its tenth leaves a folder whose index is missing or is the last one's.
    check_writable(*(out / name for name in ("index.html", "network.html", "findings.html", "overlaps.html",
                                             "overlaps.png", "overlaps.svg")),
                   *(out / "chains" / name for name in chain_files(maps or [], formats)), folders=[out])
    # The network.
    view = build_view(registry, books, ts, None, findings, max_nodes=max_nodes)
    brief.files.append(write_network_page(view, out / "network.html", nav=_nav(0)))
    if view.stats.get("bodies_shown", 0) < view.stats.get("bodies_total", 0):
        brief.notes.append(f"联合体网络图只画了共享成员最多的 {view.stats['bodies_shown']} 个联合体"
                           f"（共 {view.stats['bodies_total']} 个）；"
                           "可用 consortia viz network 按认定机关、城市或产业链分别查看。")
    # Chain maps.
    chain_links: list[tuple[str, str, str]] = []
    if maps is None:
        brief.notes.append("登记表中没有产业链表（chains），未生成产业链覆盖图。")
    else:
        try:
            written = write_chain_outputs(net, out / "chains", None, by, formats, nav=_nav(1), maps=maps)
        except MissingFontError as exc:
            brief.notes.append(f"未生成图片：{exc}")
            written = write_chain_outputs(net, out / "chains", None, by, ("html",), nav=_nav(1), maps=maps)
        brief.files += written
        names = dict(zip(registry.table("chains")["chain_id"], registry.table("chains")["chain_name"], strict=True))
        stems, pages = chain_stems(maps), {p.name for p in written}
        chain_links = [(cm.chain_id, names.get(cm.chain_id, cm.chain_id), stems[cm.chain_id]) for cm in maps
                       if f"{stems[cm.chain_id]}.html" in pages]
    # Overlaps.
    try:
        brief.files += write_overlaps(net, out / "overlaps.html", findings, nav=_nav(0), max_nodes=max_nodes)
    except MissingFontError as exc:
        brief.notes.append(f"未生成重叠热力图：{exc}")
        brief.files += write_overlaps(net, out / "overlaps.html", findings, images=(), nav=_nav(0),
                                      max_nodes=max_nodes)
    # Findings.
    brief.files.append(write_page(out / "findings.html", _findings_page(findings, books, day)))
    # Index.
    blocking = sum(f.blocking for f in findings)
    stats = view.stats
    have = {p.name for p in brief.files}
    chain_items = "".join(
        f'<li>{esc(name)}（{esc(cid)}）：<a href="chains/{esc(stem)}.html">网页</a>'
        + "".join(f' · <a href="chains/{esc(stem)}.{fmt}">{fmt.upper()}</a>' for fmt in ("png", "svg")
                  if f"{stem}.{fmt}" in have)
        + "</li>" for cid, name, stem in chain_links)
    ov_imgs = "".join(f' · <a href="overlaps.{fmt}">{fmt.upper()}</a>' for fmt in ("png", "svg")
                      if f"overlaps.{fmt}" in have)
    notes = "".join(f"<li>{esc(n)}</li>" for n in brief.notes)
    aggregated = "（规模较大，按认定机关与联合体聚合）" if view.mode == "aggregate" else ""
    body = f"""<header><h1>创新联合体简报</h1><p>{esc(day)} · {stats['consortia']} 个联合体 · {stats['units']} 家单位 ·
{stats['memberships']} 条成员关系 · {len(findings)} 条问题（{blocking} 条未豁免的错误）</p></header>
<main>
<h2><a href="network.html">联合体网络</a></h2>
<p>单位与联合体{aggregated}：{stats['nodes']} 个节点、{stats['edges']} 条边。
单位按类型着色、按角色定大小（牵头单位为星形），联合体按认定机关着色；红框标出超过参与上限、多头牵头或牵头单位数超标。</p>
<h2>产业链覆盖图</h2>
<ul>{chain_items or '<li>无</li>'}</ul>
<h2><a href="overlaps.html">跨城市、跨层级重叠</a>{ov_imgs}</h2>
<p>共享成员的联合体、两地共同参与的单位数、两级认定的同一联合体。</p>
<h2><a href="findings.html">问题清单</a></h2>
<p>{len(findings)} 条，含依据条款与数据位置。</p>
{f'<h2>说明</h2><ul>{notes}</ul>' if notes else ''}
<p class="muted">所有页面均可离线打开，不访问任何网络资源。</p>
</main>"""
    write_page(brief.index, render_page(f"创新联合体简报 · {day}", body))
    brief.files.insert(0, brief.index)
    return brief
