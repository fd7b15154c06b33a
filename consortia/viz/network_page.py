"""The interactive network page: a :class:`~.network.NetworkView` as one offline HTML file.

The page holds vis-network (inlined from pyvis), the view's nodes and edges
as JSON data, a legend, and filters by jurisdiction, chain and consortium
plus a search box. It exposes ``window.consortiaViz`` (the vis DataSets and
network, ``ready`` and ``readyMs``: milliseconds from navigation to the first
drawing) so tests and benchmarks read from the page itself what it drew and
when it became interactive.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .network import (
    FLAG_COLOR,
    ROLE_SIZE,
    ROLE_ZH,
    TIER_EDGE,
    TYPE_COLORS,
    TYPE_ZH,
    WAIVED_COLOR,
    NetworkView,
)
from .page import FONT_STACK, esc, render_page, vis_assets, write_page

__all__ = ["NETWORK_JS", "render_network_page", "write_network_page"]

NETWORK_CSS = f"""
#controls {{ display: flex; flex-wrap: wrap; gap: 8px 14px; align-items: center; padding: 6px 16px; font-size: 13px;
            border-bottom: 1px solid #eee; }}
#controls select, #controls input {{ font: inherit; max-width: 260px; }}
#screen {{ display: flex; flex-direction: column; height: 100vh; }}
#wrap {{ display: flex; flex: 1 1 auto; min-height: 460px; border-bottom: 1px solid #ddd; }}
#network {{ flex: 1; min-width: 0; position: relative; }}
#legend {{ width: 236px; padding: 8px 12px; border-left: 1px solid #ddd; font-size: 12.5px; overflow-y: auto; }}
#legend h2 {{ font-size: 13px; margin: 10px 0 4px; }}
#legend ul {{ list-style: none; margin: 0; padding: 0; }}
#legend li {{ display: flex; align-items: center; gap: 6px; margin: 2px 0; }}
#legend svg {{ flex: none; }}
#status {{ color: #555; }}
.vis-tooltip {{ white-space: pre-wrap !important; max-width: 460px; font-size: 13px !important;
                font-family: {FONT_STACK} !important; }}
"""

#: The page's code: reads the JSON data, builds the DataSets and filtered views, and wires the controls.
NETWORK_JS = r"""
(function () {
  "use strict";
  var marks = { start: performance.now() };
  var data = JSON.parse(document.getElementById("viz-data").textContent);
  marks.parsed = performance.now();
  var state = { ready: false, readyMs: null, mode: data.mode, expected: data.expected, marks: marks };
  window.consortiaViz = state;
  var nodes = new vis.DataSet(data.nodes);
  var edges = new vis.DataSet(data.edges);
  var shownGroups = null;      // null: every group
  var freeShown = {};          // id of a "free" node (unit, jurisdiction) -> shown because an edge is
  function groupOk(g) { return shownGroups === null || shownGroups.has(g); }
  function edgeOk(e) { for (var i = 0; i < e.gs.length; i++) { if (!groupOk(e.gs[i])) return false; } return true; }
  function nodeOk(n) {
    if (n.free) return shownGroups === null || freeShown[n.id] === true;
    for (var i = 0; i < n.gs.length; i++) { if (groupOk(n.gs[i])) return true; }
    return n.gs.length === 0;
  }
  var nodeView = new vis.DataView(nodes, { filter: nodeOk });
  var edgeView = new vis.DataView(edges, { filter: edgeOk });
  var container = document.getElementById("network");
  marks.datasets = performance.now();
  var network = new vis.Network(container, { nodes: nodeView, edges: edgeView }, data.options);
  marks.network = performance.now();
  state.network = network; state.nodes = nodes; state.edges = edges; state.nodeView = nodeView; state.edgeView = edgeView;
  network.once("afterDrawing", function () {
    state.ready = true;
    state.readyMs = Math.round(performance.now());
    marks.drawn = state.readyMs;
    var s = document.getElementById("status");
    s.textContent = "已绘制 " + nodeView.length + " 个节点、" + edgeView.length + " 条边（" +
      (state.readyMs / 1000).toFixed(1) + " 秒）";
    if (data.focus && nodes.get(data.focus)) { network.selectNodes([data.focus]); }
  });
  function apply() {
    var j = document.getElementById("f-jur").value, c = document.getElementById("f-chain").value,
        k = document.getElementById("f-cons").value;
    if (!j && !c && !k) { shownGroups = null; }
    else {
      shownGroups = new Set();
      Object.keys(data.groups).forEach(function (g) {
        var m = data.groups[g];
        if ((!j || m.j.indexOf(j) >= 0) && (!c || m.ch === c) && (!k || g === k)) shownGroups.add(g);
      });
    }
    freeShown = {};
    if (shownGroups !== null) {
      edges.forEach(function (e) { if (edgeOk(e)) { freeShown[e.from] = true; freeShown[e.to] = true; } });
    }
    nodeView.refresh(); edgeView.refresh();
    network.fit({ animation: false });
    document.getElementById("status").textContent = "显示 " + nodeView.length + " 个节点、" + edgeView.length + " 条边";
  }
  ["f-jur", "f-chain", "f-cons"].forEach(function (id) { document.getElementById(id).addEventListener("change", apply); });
  document.getElementById("f-reset").addEventListener("click", function () {
    ["f-jur", "f-chain", "f-cons"].forEach(function (id) { document.getElementById(id).value = ""; });
    document.getElementById("f-find").value = "";
    apply();
  });
  document.getElementById("f-find").addEventListener("keydown", function (ev) {
    if (ev.key !== "Enter") return;
    var q = ev.target.value.trim().toLowerCase();
    if (!q) return;
    var hit = nodeView.get({ filter: function (n) {
      return n.id.toLowerCase().indexOf(q) >= 0 || String(n.title || "").toLowerCase().split("\n")[0].indexOf(q) >= 0;
    } });
    if (hit.length) {
      network.selectNodes([hit[0].id]);
      network.focus(hit[0].id, { scale: 1.4, animation: false });
      document.getElementById("status").textContent = "找到 " + hit.length + " 个：" + String(hit[0].title).split("\n")[0];
    } else {
      document.getElementById("status").textContent = "未找到：" + q;
    }
  });
})();
"""


def _svg_node(shape: str, fill: str, border: str = "#555", size: int = 14, width: float = 1, dash: bool = False) -> str:
    h = size / 2
    d = ' stroke-dasharray="3 2"' if dash else ""
    stroke = f'stroke="{esc(border)}" stroke-width="{width}"{d}'
    if shape == "star":
        import math

        pts = []
        for i in range(10):
            r = h - 1 if i % 2 == 0 else (h - 1) * 0.45
            a = math.pi / 2 + i * math.pi / 5
            pts.append(f"{h + r * math.cos(a):.1f},{h - r * math.sin(a):.1f}")
        body = f'<polygon points="{" ".join(pts)}" fill="{esc(fill)}" {stroke}/>'
    elif shape == "hexagon":
        import math

        pts = " ".join(f"{h + (h - 1) * math.cos(math.pi / 3 * i):.1f},{h + (h - 1) * math.sin(math.pi / 3 * i):.1f}"
                       for i in range(6))
        body = f'<polygon points="{pts}" fill="{esc(fill)}" {stroke}/>'
    elif shape == "box":
        body = f'<rect x="1" y="3" width="{size - 2}" height="{size - 6}" fill="{esc(fill)}" {stroke}/>'
    else:
        body = f'<circle cx="{h}" cy="{h}" r="{h - 1.5}" fill="{esc(fill)}" {stroke}/>'
    return f'<svg width="{size}" height="{size}" aria-hidden="true">{body}</svg>'


def _svg_edge(width: float, color: str, dashes: Any) -> str:
    d = f' stroke-dasharray="{dashes[0]} {dashes[1]}"' if dashes else ""
    return (f'<svg width="34" height="12" aria-hidden="true"><line x1="1" y1="6" x2="33" y2="6" '
            f'stroke="{esc(color)}" stroke-width="{width}"{d}/></svg>')


def _legend(view: NetworkView) -> str:
    li = []
    if view.mode == "members":
        li.append("<h2>单位类型（填充色）</h2><ul>")
        for t, color in TYPE_COLORS.items():
            li.append(f"<li>{_svg_node('dot', color)}{esc(TYPE_ZH[t])} <span class=muted>{esc(t)}</span></li>")
        li.append("</ul><h2>角色（形状、大小）</h2><ul>")
        li.append(f"<li>{_svg_node('star', '#ddd', '#1f1f1f', 20, 2)}牵头单位 lead</li>")
        for r in ("core", "close", "general"):
            li.append(f"<li>{_svg_node('dot', '#ddd', '#6b6b6b', 6 + ROLE_SIZE[r])}{esc(ROLE_ZH[r])} {esc(r)}</li>")
        li.append("</ul><h2>成员层级（连线）</h2><ul>")
        for r, (w, c, d) in TIER_EDGE.items():
            li.append(f"<li>{_svg_edge(w, c, d)}{esc(ROLE_ZH[r])}</li>")
        li.append("</ul><h2>联合体（六边形，按认定机关着色）</h2><ul>")
        shape = "hexagon"
    else:
        li.append("<h2>节点</h2><ul>")
        li.append(f"<li>{_svg_node('box', '#555', '#000', 16)}认定机关</li>")
        li.append(f"<li>{_svg_node('dot', '#555', '#555', 14)}联合体（大小：成员数）</li>")
        li.append("</ul><h2>连线</h2><ul>")
        li.append(f"<li>{_svg_edge(2.5, '#9a9a9a', None)}共享成员（粗细：家数）</li>")
        li.append(f"<li>{_svg_edge(1, '#777', [2, 4])}认定关系</li>")
        li.append("</ul><h2>认定机关（颜色）</h2><ul>")
        shape = "dot"
    for info in view.jurisdictions.values():
        li.append(f"<li>{_svg_node(shape, info['color'], info['color'], 16)}{esc(info['name'])}</li>")
    li.append("</ul><h2>问题标记</h2><ul>")
    li.append(f"<li>{_svg_node('dot', '#eee', FLAG_COLOR, 16, 3)}⚠ 超过参与上限 / 多头牵头 / 牵头单位数超标</li>")
    li.append(f"<li>{_svg_node('dot', '#eee', WAIVED_COLOR, 16, 2.5, True)}同类问题，已一事一议豁免</li>")
    li.append("</ul><p class=muted>悬停查看详情；滚轮缩放，拖动平移。</p>")
    return "".join(li)


def _options(view: NetworkView) -> dict[str, Any]:
    n = len(view.nodes)
    big = n > 1500
    return {
        "autoResize": True,
        "layout": {"improvedLayout": False, "randomSeed": 1},
        "physics": ({"enabled": True, "solver": "barnesHut",
                     "barnesHut": {"gravitationalConstant": -4000, "springLength": 90, "springConstant": 0.03,
                                   "avoidOverlap": 0.3, "damping": 0.4},
                     "stabilization": {"enabled": True, "iterations": 120, "fit": True}}
                    if view.physics else {"enabled": False}),
        "interaction": {"hover": not big, "tooltipDelay": 150, "hideEdgesOnDrag": big, "hideEdgesOnZoom": big,
                        "keyboard": False, "multiselect": True},
        "nodes": {"font": {"face": FONT_STACK}, "borderWidthSelected": 4},
        "edges": {"smooth": False, "selectionWidth": 1.5},
    }


def render_network_page(view: NetworkView, *, nav: str = "", after: str = "") -> str:
    """The whole page as a string (see the module docstring for what it contains).

    ``nav`` (trusted HTML, e.g. a link back to a briefing's index) goes in the
    header; ``after`` (trusted HTML) below the network.
    """
    jur_opts = "".join(f'<option value="{esc(j)}">{esc(i["name"])}</option>' for j, i in view.jurisdictions.items())
    chain_opts = "".join(f'<option value="{esc(c)}">{esc(name)}</option>' for c, name in view.chains.items())
    cons_opts = "".join(f'<option value="{esc(g)}">{esc(info["label"])}</option>'
                        for g, info in sorted(view.groups.items()))
    # Header, controls and network fill exactly one screen (whatever the header's height);
    # what comes ``after`` follows below it.
    body = f"""<div id="screen"><header><h1>{esc(view.title)}</h1><p>{esc(view.subtitle)}</p>{nav}</header>
<div id="controls">
<label>认定机关 <select id="f-jur"><option value="">全部</option>{jur_opts}</select></label>
<label>产业链 <select id="f-chain"><option value="">全部</option>{chain_opts}</select></label>
<label>联合体 <select id="f-cons"><option value="">全部</option>{cons_opts}</select></label>
<label>查找 <input id="f-find" type="search" placeholder="单位名称或信用代码，回车"></label>
<button id="f-reset" type="button">重置</button>
<span id="status">正在绘制…</span>
</div>
<div id="wrap"><div id="network"></div><aside id="legend">{_legend(view)}</aside></div></div>{after}"""
    js, css = vis_assets()
    data = {"mode": view.mode, "nodes": view.nodes, "edges": view.edges, "groups": view.groups,
            "options": _options(view), "focus": view.focus,
            "expected": {"nodes": len(view.nodes), "edges": len(view.edges)}}
    return render_page(f"{view.title} · {view.stats.get('as_of', '')}", body, scripts=[js, NETWORK_JS],
                       styles=(css, NETWORK_CSS), data=data)


def write_network_page(view: NetworkView, path: str | Path, *, nav: str = "", after: str = "") -> Path:
    """Write the page (UTF-8, atomically) and return its path."""
    return write_page(path, render_network_page(view, nav=nav, after=after))
