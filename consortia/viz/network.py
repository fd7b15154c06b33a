"""The network view: which nodes and edges a briefing page draws, where, and how they look.

Two views of the registry on one date:

* ``members``: units and consortium records as nodes, one edge per active
  membership styled by tier. Units are coloured by type and sized by their
  strongest role (leads are stars); consortia are hexagonal hubs coloured by
  the jurisdiction that recognised them. Units over the membership cap or
  leading two bodies, and consortia with too many leads, carry a red border
  (an orange dashed one when every such finding is waived).
* ``aggregate``: for views too large to draw unit by unit (more than
  ``max_nodes``), jurisdictions and consortium bodies as nodes; a body links
  to every jurisdiction that recorded it, and two bodies are linked by the
  number of members they share (each body keeps its ``top_links`` strongest
  links, so ten thousand consortia give tens of thousands of edges, not
  millions).

Positions are computed here with igraph's Fruchterman–Reingold (0.4 s at
5,000 nodes, where networkx's spring layout takes ~44 s and vis-network's
own physics over a minute at 1,000 nodes in headless Chromium), so the page
can turn physics off and be interactive within seconds. Small views (up to
``PHYSICS_MAX_NODES``) keep a short physics run from those positions, which
lets an officer drag nodes about.

Everything is built from the registry tables with pandas; per-node Python
only runs over the nodes actually drawn.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .. import geo
from ..codes import count_table, grouped_tuples
from ..errors import InputError, Problem
from ..findings import Finding
from ..registry import Registry
from ..rules.rulebook import Rulebooks
from ..state import active_consortia, active_memberships, as_timestamp

__all__ = [
    "DEFAULT_MAX_NODES",
    "JURISDICTION_COLORS",
    "MARKED_RULES",
    "PHYSICS_MAX_NODES",
    "ROLE_ZH",
    "TIER_EDGE",
    "TYPE_COLORS",
    "TYPE_ZH",
    "NetworkView",
    "Selection",
    "build_overlap_view",
    "build_view",
    "finding_marks",
    "layout_positions",
]

#: Above this many nodes the members view becomes the aggregated view.
DEFAULT_MAX_NODES = 5000
#: Up to this many nodes the page keeps a short physics run (draggable, settles in ~1 s).
PHYSICS_MAX_NODES = 300

ROLES = ("lead", "core", "close", "general")
ROLE_RANK = {r: i for i, r in enumerate(ROLES)}
ROLE_ZH = {"lead": "牵头单位", "core": "核心层", "close": "紧密合作层", "general": "一般协作层"}
TYPE_ZH = {"enterprise": "企业", "university": "高校", "institute": "科研院所", "tech_transfer": "技术转移机构",
           "service": "技术服务机构", "other": "其他"}
#: Unit fill colours by type: light, so that the dark consortium hubs stand out.
TYPE_COLORS = {"enterprise": "#7fb0dd", "university": "#8fd08a", "institute": "#c49be0", "tech_transfer": "#7fd1cb",
               "service": "#f6bb6a", "other": "#c8c8c8"}
#: Consortium hub colours by jurisdiction: dark and saturated.
JURISDICTION_COLORS = {"guangxi": "#1b4f8a", "nanning": "#8c2d8c", "liuzhou": "#1e7a46", "liaoyang": "#8a5a00",
                       "nanjing": "#00707a"}
_FALLBACK_COLORS = ("#5b3a29", "#3d3d8f", "#6b6b00", "#7a1f3d", "#2f5f5f", "#4d4d4d")
#: Edge style per tier (width, colour, dashes): heavier and darker the closer the tier.
TIER_EDGE = {"lead": (4.0, "#1f1f1f", False), "core": (2.4, "#4a4a4a", False), "close": (1.4, "#8a8a8a", False),
             "general": (1.0, "#b0b0b0", [5, 4])}
#: On-screen font size (px) below which a label is not drawn: hubs are named at the overview zoom,
#: leads and flagged units when zoomed in a little, other units when zoomed in to read them.
HUB_LABEL_PX = 8
LEAD_LABEL_PX = 10
UNIT_LABEL_PX = 12
ROLE_SIZE = {"lead": 22, "core": 11, "close": 8, "general": 6}
FLAG_COLOR = "#e00000"
WAIVED_COLOR = "#f39c12"
#: Findings drawn on the network: unit rules and consortium rules.
MARKED_RULES = {"MEMBER_CAP": "unit", "LEAD_SINGLE": "unit", "LEAD_COUNT": "consortium"}
RULE_ZH = {"MEMBER_CAP": "参与联合体数超过上限", "LEAD_SINGLE": "同时牵头多个联合体", "LEAD_COUNT": "牵头单位数超过规定"}


@dataclass(frozen=True)
class Selection:
    """What part of the registry to draw; the parts given are intersected.

    ``consortia``: these records; ``jurisdictions``: records these texts
    recognised; ``city``: the city's consortia — records its own jurisdiction
    recognised and records (of any level) whose lead unit is registered
    there; ``chain``: records on this chain; ``unit``: the unit's
    neighbourhood — its consortia with all their members, widened ``depth``
    times (depth 2 adds those members' other consortia).
    """

    consortia: tuple[str, ...] = ()
    jurisdictions: tuple[str, ...] = ()
    city: str | None = None
    chain: str | None = None
    unit: str | None = None
    depth: int = 1

    def describe(self) -> str:
        parts = []
        if self.consortia:
            parts.append("联合体 " + _some(self.consortia))
        if self.jurisdictions:
            parts.append("认定机关 " + _some(self.jurisdictions))
        if self.city:
            parts.append(f"城市 {self.city}")
        if self.chain:
            parts.append(f"产业链 {self.chain}")
        if self.unit:
            parts.append(f"单位 {self.unit} 的{self.depth}度邻域")
        return "；".join(parts) or "全部"


@dataclass
class NetworkView:
    """Nodes and edges ready for vis-network, plus what the page needs around them.

    ``groups`` maps a consortium record (members view) or body (aggregate
    view) to its jurisdictions and chain; nodes and edges name their groups
    in ``gs`` so the page can filter by jurisdiction, chain and consortium.
    """

    mode: str
    nodes: list[dict[str, Any]]
    edges: list[dict[str, Any]]
    groups: dict[str, dict[str, Any]]
    jurisdictions: dict[str, dict[str, str]]
    chains: dict[str, str]
    physics: bool
    title: str
    subtitle: str
    focus: str | None = None
    stats: dict[str, Any] = field(default_factory=dict)


def _color_of(jid: str, order: list[str]) -> str:
    if jid in JURISDICTION_COLORS:
        return JURISDICTION_COLORS[jid]
    return _FALLBACK_COLORS[order.index(jid) % len(_FALLBACK_COLORS)] if jid in order else _FALLBACK_COLORS[0]


def finding_marks(findings: list[Finding] | None) -> tuple[dict[str, list[Finding]], dict[str, list[Finding]]]:
    """The findings to draw, by unit code and by consortium id (see :data:`MARKED_RULES`)."""
    units: dict[str, list[Finding]] = {}
    cons: dict[str, list[Finding]] = {}
    for f in findings or ():
        kind = MARKED_RULES.get(f.rule)
        if kind == "unit" and f.uscc:
            units.setdefault(f.uscc, []).append(f)
        elif kind == "consortium" and f.consortium_id:
            cons.setdefault(f.consortium_id, []).append(f)
    return units, cons


def _mark(fs: list[Finding] | None, books: Rulebooks) -> tuple[str, list[str]]:
    """``("flag"|"waived"|"", tooltip lines)`` for a node's findings."""
    if not fs:
        return "", []
    by_rule: dict[str, list[Finding]] = {}
    for f in fs:
        by_rule.setdefault(f.rule, []).append(f)
    lines = []
    for rule, rfs in sorted(by_rule.items()):
        open_ = [f for f in rfs if not f.waived]
        where = "、".join(sorted({books[f.jurisdiction].name_zh if f.jurisdiction in books else str(f.jurisdiction)
                                 for f in rfs}))
        state = "" if open_ else "（已一事一议豁免）"
        lines.append(f"⚠ {RULE_ZH.get(rule, rule)} {rule}{state}：{where}")
        lines.append("   " + (open_ or rfs)[0].message)
    status = "flag" if any(not f.waived for f in fs) else "waived"
    return status, lines


def _short(text: str, n: int) -> str:
    text = text.strip()
    return text if len(text) <= n else text[: n - 1] + "…"


def _some(items: tuple[str, ...], shown: int = 5) -> str:
    """A filter's values for the subtitle: the first few and how many more, so a view
    of 255 consortia keeps a one-line header and the network stays above the fold."""
    head = "、".join(items[:shown])
    return head if len(items) <= shown else f"{head} 等 {len(items)} 个"


def _cons_label(name: str, cid: str) -> str:
    name = (name or "").replace("创新联合体", "").strip()
    return _short(name, 12) if name else cid


#: The side of the square of a component's box each node is given at least (vis-network pixels).
NODE_ROOM = 64.0
#: The distance (vis-network pixels, zoom 1) nodes are pushed apart to: a unit dot is 12–22 px across.
NODE_SPACING = 24.0


def _separate(p: np.ndarray, seed: int, rounds: int = 30) -> np.ndarray:
    """Push apart nodes closer than :data:`NODE_SPACING`.

    Fruchterman–Reingold packs a hub-and-spoke component into a dense core and
    lays spokes of the same hubs almost on one another (at 5,000 nodes of one
    city, over 80% of node centres sat under a neighbour), so a page zoomed in
    to read names showed a pile. Each round moves every too-close pair half the
    missing distance apart along the line between them (a random direction when
    they coincide): a few dozen vectorised rounds, well under a second at
    5,000 nodes, and the layout's shape is kept.
    """
    from scipy.spatial import cKDTree

    rng = np.random.default_rng(seed)
    p = p.copy()
    for _ in range(rounds):
        pairs = cKDTree(p).query_pairs(NODE_SPACING, output_type="ndarray")
        if not len(pairs):
            break
        d = p[pairs[:, 1]] - p[pairs[:, 0]]
        dist = np.linalg.norm(d, axis=1)
        same = dist < 1e-9
        if same.any():
            angle = rng.uniform(0, 2 * np.pi, int(same.sum()))
            d[same] = np.column_stack([np.cos(angle), np.sin(angle)])
            dist[same] = 1.0
        push = (d / dist[:, None]) * ((NODE_SPACING - np.minimum(dist, NODE_SPACING)) / 2)[:, None]
        moved = np.zeros_like(p)
        np.add.at(moved, pairs[:, 1], push)
        np.add.at(moved, pairs[:, 0], -push)
        p += moved * 0.5
    return p


def layout_positions(n: int, edges: np.ndarray, weights: np.ndarray | None = None, seed: int = 1,
                     target_edge: float = 110.0) -> np.ndarray:
    """Fruchterman–Reingold positions (igraph) for ``n`` nodes, in vis-network pixels.

    ``edges`` is a ``(k, 2)`` integer array. Each connected component is laid
    out on its own and scaled so that its median edge is ``target_edge``
    pixels long (node sizes and labels stay in proportion whatever the node
    count); the components are then packed in rows, largest first, so small
    consortia sit beside the main network instead of on top of it.
    """
    from ..queries.igraph_import import load_igraph

    ig = load_igraph()
    if n == 0:
        return np.zeros((0, 2))
    # igraph draws from Python's random module; a private generator makes the layout reproducible.
    ig.set_random_number_generator(random.Random(seed))
    try:
        return _layout(ig, n, edges, weights, seed, target_edge)
    finally:
        ig.set_random_number_generator(random)


def _layout(ig: Any, n: int, edges: np.ndarray, weights: np.ndarray | None, seed: int,
            target_edge: float) -> np.ndarray:
    rng = np.random.default_rng(seed)
    e = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    w = None if weights is None or not len(weights) else np.asarray(weights, dtype=float)
    g = ig.Graph(n=n, edges=e.tolist(), directed=False)
    if w is not None:
        g.es["weight"] = w.tolist()
    pos = np.zeros((n, 2))
    boxes = []
    for comp in sorted(g.connected_components(), key=len, reverse=True):
        comp = list(comp)
        k = len(comp)
        if k == 1:
            p = np.zeros((1, 2))
        elif k == 2:
            p = np.array([[0.0, 0.0], [target_edge, 0.0]])
        else:
            sub = g.subgraph(comp)
            init = rng.uniform(-1, 1, size=(k, 2)) * np.sqrt(k)
            kwargs: dict[str, Any] = {"seed": init.tolist(), "niter": 500 if k <= 20_000 else 200,
                                      "grid": "auto"}
            if w is not None:
                kwargs["weights"] = sub.es["weight"]
            p = np.asarray(sub.layout_fruchterman_reingold(**kwargs).coords, dtype=float)
            se = np.asarray(sub.get_edgelist(), dtype=np.int64).reshape(-1, 2)
            lengths = np.linalg.norm(p[se[:, 0]] - p[se[:, 1]], axis=1)
            med = float(np.median(lengths[lengths > 0])) if (lengths > 0).any() else 1.0
            p = p * (target_edge / med)
            # Room first (each node at least NODE_ROOM² of the component's box), then no piles.
            span = p.max(axis=0) - p.min(axis=0)
            area = float(max(span[0], target_edge) * max(span[1], target_edge))
            if area < k * NODE_ROOM ** 2:
                p = p * np.sqrt(k * NODE_ROOM ** 2 / area)
            p = _separate(p, seed)
        p = p - p.min(axis=0)
        boxes.append((comp, p))
    # Shelf packing: rows no wider than the widest component or ~1.6 × the square root of the total area.
    margin = target_edge * 1.2
    dims = [(p[:, 0].max() + margin, p[:, 1].max() + margin) for _, p in boxes]
    width = max(max(d[0] for d in dims), 1.6 * float(np.sqrt(sum(a * b for a, b in dims))))
    x = y = row_h = 0.0
    for (comp, p), (bw, bh) in zip(boxes, dims, strict=True):
        if x > 0 and x + bw > width:
            x, y, row_h = 0.0, y + row_h, 0.0
        pos[comp] = p + np.array([x, y])
        x += bw
        row_h = max(row_h, bh)
    return pos - (pos.min(axis=0) + pos.max(axis=0)) / 2


# ---- selection ----

def _select(registry: Registry, books: Rulebooks, ts: pd.Timestamp, sel: Selection,
            cons: pd.DataFrame, m: pd.DataFrame) -> tuple[pd.Index, str | None]:
    """The consortium records to draw, and the node to focus (the unit of a neighbourhood)."""
    keep = pd.Series(True, index=cons.index)
    problems: list[Problem] = []
    all_ids = set(registry.consortia["consortium_id"])
    if sel.consortia:
        in_force = set(cons["consortium_id"])
        for cid in sel.consortia:
            if cid not in all_ids:
                problems.append(Problem("--consortium", None, "consortium_id", cid, "a consortium_id in the registry"))
            elif cid not in in_force:
                problems.append(Problem("--consortium", None, "consortium_id", cid,
                                        f"a consortium in force on {ts.date()} (this one is not: status or date)"))
        keep &= cons["consortium_id"].isin(sel.consortia)
    if sel.jurisdictions:
        wanted = set()
        for j in sel.jurisdictions:
            jid = books.resolve(j)
            if jid is None:
                problems.append(Problem("--jurisdiction", None, None, j, f"a jurisdiction: {', '.join(books)}"))
            else:
                wanted.add(jid)
        keep &= cons["jurisdiction"].isin(wanted)
    if sel.chain:
        chains = set(registry.table("chains")["chain_id"]) | set(cons["chain_id"])
        if sel.chain not in chains:
            problems.append(Problem("--chain", None, "chain_id", sel.chain,
                                    "a chain_id of the chains table: " + ", ".join(sorted(c for c in chains if c)[:20])))
        keep &= cons["chain_id"] == sel.chain
    if sel.city:
        city = geo.normalize_city(sel.city)
        if city is None:
            problems.append(Problem("--city", None, None, sel.city, "a city name such as 南宁, 南宁市 or Nanning"))
        else:
            own = {j for j, b in books.items() if b.city and geo.normalize_city(b.city) == city}
            units = registry.units.drop_duplicates("uscc")
            ucity = pd.Series(geo.normalize_cities(units["city"]).to_numpy(), index=units["uscc"].to_numpy())
            leads = m[m["role"] == "lead"]
            led_here = set(leads.loc[leads["uscc"].map(ucity).eq(city).to_numpy(), "consortium_id"])
            keep &= cons["jurisdiction"].isin(own) | cons["consortium_id"].isin(led_here)
    focus = None
    if sel.unit:
        if sel.depth < 1:
            problems.append(Problem("--depth", None, None, str(sel.depth), "a depth of 1 or more"))
        if sel.unit not in set(registry.units["uscc"]):
            problems.append(Problem("--unit", None, "uscc", sel.unit, "a unit code in the units table"))
        elif not (m["uscc"] == sel.unit).any():
            problems.append(Problem("--unit", None, "uscc", sel.unit, f"a unit with a membership in force on {ts.date()}"))
        else:
            units_now = {sel.unit}
            reach: set[str] = set()
            for _ in range(max(sel.depth, 1)):
                reach = set(m.loc[m["uscc"].isin(units_now), "consortium_id"])
                units_now = set(m.loc[m["consortium_id"].isin(reach), "uscc"])
            keep &= cons["consortium_id"].isin(reach)
            focus = f"u:{sel.unit}"
    if problems:
        raise InputError(problems)
    chosen = pd.Index(cons.loc[keep, "consortium_id"].unique())
    if len(chosen) == 0:
        raise InputError(Problem("selection", None, None, sel.describe(),
                                 f"at least one consortium in force on {ts.date()}; this selection has none"))
    return chosen, focus


# ---- the two views ----

def build_view(registry: Registry, books: Rulebooks, as_of: dt.date | str | pd.Timestamp | None = None,
               selection: Selection | None = None, findings: list[Finding] | None = None, *,
               max_nodes: int = DEFAULT_MAX_NODES, aggregate: bool | None = None, physics: str = "auto",
               top_links: int = 3, seed: int = 1) -> NetworkView:
    """The view of ``selection`` on ``as_of``: members when it fits in ``max_nodes``
    (or ``aggregate=False``), else aggregated; ``physics`` is ``auto``, ``on`` or ``off``."""
    if physics not in ("auto", "on", "off"):
        raise ValueError("physics must be auto, on or off")
    sel = selection or Selection()
    ts = as_timestamp(as_of)
    cons = active_consortia(registry, ts)
    m = active_memberships(registry, ts)
    chosen, focus = _select(registry, books, ts, sel, cons, m)
    cons = cons[cons["consortium_id"].isin(chosen)].drop_duplicates("consortium_id")
    m_all, m = m, m[m["consortium_id"].isin(chosen)]
    n_members_view = int(m["uscc"].nunique()) + len(cons)
    agg = n_members_view > max_nodes if aggregate is None else aggregate
    t0 = time.perf_counter()
    jurisdictions, chains = _legend_maps(registry, books, cons)
    unit_marks, cons_marks = finding_marks(findings)
    if agg:
        view = _aggregate(registry, books, cons, m, jurisdictions, chains, cons_marks, top_links, seed,
                          max_nodes=max_nodes)
    else:
        view = _members(registry, books, cons, m, m_all, jurisdictions, chains, unit_marks, cons_marks, seed)
    n = len(view.nodes)
    view.physics = physics == "on" or (physics == "auto" and n <= PHYSICS_MAX_NODES)
    view.focus = focus if not agg else None
    what = "联合体与认定机关（按共享成员聚合）" if agg else "单位与联合体"
    view.title = "创新联合体网络"
    view.subtitle = (f"{ts.date()} · {sel.describe()} · {len(cons)} 个联合体 · {int(m['uscc'].nunique())} 家单位 · "
                     f"{len(m)} 条成员关系 · 图中{what}：{n} 个节点、{len(view.edges)} 条边{_left_out(view)}")
    view.stats.update({"mode": view.mode, "nodes": n, "edges": len(view.edges), "consortia": len(cons),
                       "units": int(m["uscc"].nunique()), "memberships": len(m), "members_view_nodes": n_members_view,
                       "build_seconds": round(time.perf_counter() - t0, 3), "as_of": str(ts.date())})
    return view


def _legend_maps(registry: Registry, books: Rulebooks, cons: pd.DataFrame
                 ) -> tuple[dict[str, dict[str, str]], dict[str, str]]:
    """The jurisdictions shown (name and a colour stable across views) and the chains' names."""
    jorder = sorted(set(registry.consortia["jurisdiction"]))
    jurisdictions = {j: {"name": books[j].name_zh if j in books else j, "color": _color_of(j, jorder)}
                     for j in sorted(set(cons["jurisdiction"]))}
    chains_t = registry.table("chains")
    chain_names = dict(zip(chains_t["chain_id"], chains_t["chain_name"], strict=True))
    return jurisdictions, {c: chain_names.get(c) or c for c in sorted(set(cons["chain_id"]) - {""})}


def build_overlap_view(registry: Registry, books: Rulebooks, as_of: dt.date | str | pd.Timestamp | None = None,
                       findings: list[Finding] | None = None, *, top_links: int = 3, seed: int = 1,
                       max_nodes: int = DEFAULT_MAX_NODES) -> NetworkView:
    """The cross-city picture: jurisdictions, and the consortium bodies that share members
    with a body recorded elsewhere (or are themselves recorded by two jurisdictions),
    linked by the number of members they share; at most ``max_nodes`` nodes, the bodies
    sharing the most members across cities first."""
    ts = as_timestamp(as_of)
    cons = active_consortia(registry, ts).drop_duplicates("consortium_id")
    m = active_memberships(registry, ts)
    jurisdictions, chains = _legend_maps(registry, books, cons)
    _, cons_marks = finding_marks(findings)
    view = _aggregate(registry, books, cons, m, jurisdictions, chains, cons_marks, top_links, seed, cross_only=True,
                      max_nodes=max_nodes)
    view.physics = len(view.nodes) <= PHYSICS_MAX_NODES
    view.title = "跨城市、跨层级的联合体重叠"
    n_bodies = view.stats["bodies_total"]
    view.subtitle = (f"{ts.date()} · 与其他认定机关的联合体共享成员（或被两级认定）的联合体 {n_bodies} 个 · "
                     f"连线：共享成员家数（每个联合体保留最强的 {top_links} 条）{_left_out(view)}")
    view.stats.update({"mode": view.mode, "nodes": len(view.nodes), "edges": len(view.edges), "as_of": str(ts.date())})
    return view


def _dedupe(m: pd.DataFrame) -> pd.DataFrame:
    """One row per (record, unit), with the unit's strongest role there."""
    m = m.assign(rank=m["role"].map(ROLE_RANK).fillna(len(ROLES)).astype(int))
    return m.sort_values(["consortium_id", "uscc", "rank"], kind="stable").drop_duplicates(["consortium_id", "uscc"])


def _members(registry: Registry, books: Rulebooks, cons: pd.DataFrame, m: pd.DataFrame, m_all: pd.DataFrame,
             jurisdictions: dict[str, dict[str, str]], chains: dict[str, str],
             unit_marks: dict[str, list[Finding]], cons_marks: dict[str, list[Finding]], seed: int) -> NetworkView:
    m = _dedupe(m)
    cons = cons.sort_values("consortium_id")
    cids = cons["consortium_id"].tolist()
    uids = sorted(set(m["uscc"]))
    index = {f"c:{c}": i for i, c in enumerate(cids)}
    index.update({f"u:{u}": len(cids) + i for i, u in enumerate(uids)})
    src = m["uscc"].map(lambda u: index[f"u:{u}"]).to_numpy()
    dst = m["consortium_id"].map(lambda c: index[f"c:{c}"]).to_numpy()
    tier_w = m["role"].map({"lead": 3.0, "core": 2.0, "close": 1.5, "general": 1.0}).fillna(1.0).to_numpy()
    pos = layout_positions(len(index), np.column_stack([src, dst]), tier_w, seed)

    # Units: role in the view, and every membership in force anywhere (for the tooltip).
    units = registry.units.drop_duplicates("uscc").set_index("uscc").reindex(uids)
    u_name = units["name"].astype(object).where(units["name"].notna() & (units["name"].astype(object) != ""), None)
    u_type = units["type"].astype(object).fillna("other").replace("", "other")
    u_city = units["city"].astype(object).fillna("")
    best = m.groupby("uscc")["rank"].min().reindex(uids)
    everywhere = _dedupe(m_all[m_all["uscc"].isin(uids)])
    desc = everywhere["consortium_id"] + "（" + everywhere["role"].map(ROLE_ZH).fillna(everywhere["role"]) + "）"
    # Each unit's memberships in the order listed (plain lists: a groupby with a Python
    # function per group costs a second on a 5,000-node view).
    held: dict[str, list[str]] = {}
    for u, d in zip(everywhere["uscc"].tolist(), desc.tolist(), strict=True):
        held.setdefault(u, []).append(d)
    listing = {u: "、".join(ds[:8]) + (f" 等{len(ds)}个" if len(ds) > 8 else "") for u, ds in held.items()}
    n_bodies = everywhere.groupby("uscc")["body_id"].nunique()
    groups_of = grouped_tuples(m["uscc"], m["consortium_id"]).map(list)
    tiers_of = count_table(m["consortium_id"], m["role"]).reindex(columns=list(ROLES), fill_value=0)
    # In a big view the overview shows structure; names appear as one zooms in.
    crowded = len(index) > 1500
    hub_px, lead_px = (HUB_LABEL_PX + 6, LEAD_LABEL_PX + 4) if crowded else (HUB_LABEL_PX, LEAD_LABEL_PX)
    nodes: list[dict[str, Any]] = []
    for i, c in enumerate(cons.itertuples(index=False)):
        status, lines = _mark(cons_marks.get(c.consortium_id), books)
        tiers = tiers_of.loc[c.consortium_id] if c.consortium_id in tiers_of.index else pd.Series(0, index=list(ROLES))
        size = 16 + 3.0 * float(np.sqrt(tiers.sum()))
        color = jurisdictions[c.jurisdiction]["color"]
        tip = [c.name or c.consortium_id, f"编号：{c.consortium_id}",
               f"认定机关：{jurisdictions[c.jurisdiction]['name']}"]
        if c.chain_id:
            tip.append(f"产业链：{chains.get(c.chain_id, c.chain_id)}")
        if c.recognized_from:
            tip.append(f"转认定自：{c.recognized_from}（同一联合体）")
        if not pd.isna(c.recognized_on):
            tip.append(f"认定日期：{pd.Timestamp(c.recognized_on).date()}")
        tip.append("成员：" + "，".join(f"{ROLE_ZH[r]} {int(tiers.get(r, 0))}" for r in ROLES))
        tip += lines
        node = {"id": f"c:{c.consortium_id}", "label": ("⚠ " if status == "flag" else "") + _cons_label(c.name, c.consortium_id),
                "title": "\n".join(tip), "shape": "hexagon", "size": round(size, 1),
                "x": round(float(pos[i, 0]), 1), "y": round(float(pos[i, 1]), 1),
                "color": {"background": color, "border": color, "highlight": {"background": color, "border": "#000"}},
                "font": {"size": 26, "color": "#111", "strokeWidth": 5, "strokeColor": "#ffffff"},
                "scaling": {"label": {"drawThreshold": hub_px}},
                "borderWidth": 2, "k": "c", "gs": [c.consortium_id], "mark": status}
        _apply_mark(node, status)
        nodes.append(node)
    base = len(cids)
    for i, (u, name, utype, city, rank) in enumerate(zip(uids, u_name.tolist(), u_type.tolist(), u_city.tolist(),
                                                        best.tolist(), strict=True)):
        name = name or u
        role = ROLES[int(rank)] if int(rank) < len(ROLES) else "general"
        status, lines = _mark(unit_marks.get(u), books)
        tip = [name, f"统一社会信用代码：{u}", f"类型：{TYPE_ZH.get(utype, utype)}",
               f"注册地：{city or '—'}", f"图中最高层级：{ROLE_ZH[role]}",
               f"参与（{int(n_bodies.get(u, 0))} 个联合体）：{listing.get(u, '')}", *lines]
        fill = TYPE_COLORS.get(utype, TYPE_COLORS["other"])
        lead = role == "lead"
        node = {"id": f"u:{u}", "label": ("⚠ " if status == "flag" else "") + _short(name, 14),
                "title": "\n".join(tip), "shape": "star" if lead else "dot", "size": ROLE_SIZE[role],
                "x": round(float(pos[base + i, 0]), 1), "y": round(float(pos[base + i, 1]), 1),
                "color": {"background": fill, "border": "#1f1f1f" if lead else "#6b6b6b",
                          "highlight": {"background": fill, "border": "#000"}},
                "borderWidth": 2.5 if lead else 1, "k": "u", "role": role, "type": utype,
                "gs": groups_of.get(u, []), "free": True, "mark": status,
                "font": {"size": 15 if lead else 12, "color": "#222", "strokeWidth": 3, "strokeColor": "#ffffff"},
                "scaling": {"label": {"drawThreshold": lead_px if lead or status else UNIT_LABEL_PX}}}
        _apply_mark(node, status)
        nodes.append(node)
    edges = []
    for u, c, role in zip(m["uscc"].tolist(), m["consortium_id"].tolist(), m["role"].tolist(), strict=True):
        width, color, dashes = TIER_EDGE.get(role, TIER_EDGE["general"])
        edges.append({"from": f"u:{u}", "to": f"c:{c}", "width": width, "color": {"color": color, "highlight": "#000"},
                      "dashes": dashes, "title": f"{ROLE_ZH.get(role, role)}（{c}）", "gs": [c], "tier": role})
    groups = {c.consortium_id: {"j": [c.jurisdiction], "ch": c.chain_id or "", "label": f"{c.consortium_id} {c.name}"}
              for c in cons.itertuples(index=False)}
    return NetworkView("members", nodes, edges, groups, jurisdictions, chains, False, "", "")


def _apply_mark(node: dict[str, Any], status: str) -> None:
    if status == "flag":
        node["color"]["border"] = FLAG_COLOR
        node["borderWidth"] = 4
    elif status == "waived":
        node["color"]["border"] = WAIVED_COLOR
        node["borderWidth"] = 3
        node["shapeProperties"] = {"borderDashes": [4, 3]}


def _top_links(product: sp.csr_matrix, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The pairs ``(a, b, weight)``, ``a < b``, of a symmetric weight matrix that are among
    each node's ``k`` heaviest links (a pair is kept when either end keeps it; ties by index)."""
    p = product.tocsr()
    p.setdiag(0)
    p.eliminate_zeros()
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    indptr, indices, data = p.indptr, p.indices, p.data
    for i in range(p.shape[0]):
        s, e = indptr[i], indptr[i + 1]
        if s == e or k <= 0:
            continue
        c, d = indices[s:e], data[s:e]
        if e - s > k:
            pick = np.lexsort((c, -d))[:k]
            c = c[pick]
        rows.append(np.full(len(c), i))
        cols.append(c)
    if not rows:
        z = np.zeros(0, dtype=np.int64)
        return z, z, z
    r, c = np.concatenate(rows), np.concatenate(cols)
    a, b = np.minimum(r, c), np.maximum(r, c)
    pairs = np.unique(np.column_stack([a, b]), axis=0)
    w = np.asarray(p[pairs[:, 0], pairs[:, 1]]).ravel()
    return pairs[:, 0], pairs[:, 1], w


def _left_out(view: NetworkView) -> str:
    """The subtitle's note when an aggregated view draws only some of its bodies."""
    total, shown = view.stats.get("bodies_total", 0), view.stats.get("bodies_shown", 0)
    if view.mode != "aggregate" or shown >= total:
        return ""
    return f" · 共 {total} 个联合体，图中只画共享成员最多的 {shown} 个"


def _shared_weight(inc: sp.csr_matrix, code: np.ndarray | None) -> np.ndarray:
    """For each body (a row of the body × unit incidence), the members it shares with other
    bodies (with ``code``: of another code), counted once per other body: what the row sums
    of ``inc @ inc.T`` off its diagonal (restricted to those pairs) give, from each unit's
    bodies (per code), without the product."""
    per_unit = np.asarray(inc.sum(axis=0)).ravel()  # bodies per unit
    if code is None:
        return inc @ (per_unit - 1).astype(float)
    coo = inc.tocoo()
    key = coo.col.astype(np.int64) * (int(code.max()) + 1 if len(code) else 1) + code[coo.row]
    _, where, same = np.unique(key, return_inverse=True, return_counts=True)
    return np.bincount(coo.row, weights=per_unit[coo.col] - same[where.ravel()], minlength=inc.shape[0])


def _most_shared(weight: np.ndarray, sizes: np.ndarray, eligible: np.ndarray, cap: int) -> np.ndarray:
    """The positions of at most ``cap`` eligible bodies, most members shared with the
    others first (``weight``; then larger, then in id order), returned in id order.

    A national registry aggregates to a hundred thousand bodies: a page of them
    neither lays out in minutes nor reads on a projector, so the view keeps the
    bodies that hold the network together and says how many it left out."""
    idx = np.flatnonzero(eligible)
    if len(idx) <= cap:
        return idx
    order = np.lexsort((idx, -sizes[idx], -weight[idx]))
    return np.sort(idx[order[:cap]])


def _aggregate(registry: Registry, books: Rulebooks, cons: pd.DataFrame, m: pd.DataFrame,
               jurisdictions: dict[str, dict[str, str]], chains: dict[str, str],
               cons_marks: dict[str, list[Finding]], top_links: int, seed: int, cross_only: bool = False,
               max_nodes: int | None = None) -> NetworkView:
    # Bodies: a record plus the records directly recognised from it.
    recs = cons[["consortium_id", "body_id", "name", "jurisdiction", "chain_id"]]
    bodies = pd.Index(np.sort(recs["body_id"].unique()))
    root = recs.set_index("consortium_id")
    first = recs.sort_values("consortium_id").drop_duplicates("body_id").set_index("body_id")
    bm = m[["body_id", "uscc"]].drop_duplicates()
    bm = bm[bm["body_id"].isin(bodies)]
    units = pd.Index(np.sort(bm["uscc"].unique()))
    inc = sp.csr_matrix((np.ones(len(bm), dtype=np.int32), (bodies.get_indexer(bm["body_id"]), units.get_indexer(bm["uscc"]))),
                        shape=(len(bodies), len(units)))
    sizes = np.asarray(inc.sum(axis=1)).ravel()
    if cross_only:
        # Only links between bodies recorded by different sets of jurisdictions (the cross-city overlaps).
        jset = recs.groupby("body_id")["jurisdiction"].agg(lambda js: "|".join(sorted(set(js)))).reindex(bodies)
        code = pd.factorize(jset)[0]
        weight = _shared_weight(inc, code)
        # The bodies that take part in a cross link, and bodies recorded by two jurisdictions or more.
        multi = recs.groupby("body_id")["jurisdiction"].nunique().reindex(bodies).to_numpy() > 1
        eligible = (weight > 0) | multi
    else:
        weight = _shared_weight(inc, None)
        eligible = np.ones(len(bodies), dtype=bool)
    n_eligible = int(eligible.sum())
    cap = n_eligible if max_nodes is None else max(max_nodes - len(jurisdictions), 1)
    kept = _most_shared(weight, sizes, eligible, cap)
    # Only the kept bodies are multiplied: a national registry's whole product holds 116 million entries.
    sub = inc[kept]
    prod = (sub @ sub.T).tocsr()
    if cross_only:
        coo = prod.tocoo()
        kc = code[kept]
        keep_cross = kc[coo.row] != kc[coo.col]
        prod = sp.csr_matrix((coo.data[keep_cross], (coo.row[keep_cross], coo.col[keep_cross])), shape=prod.shape)
    if len(kept) < len(bodies):
        bodies, sizes = bodies[kept], sizes[kept]
        recs = recs[recs["body_id"].isin(bodies)]
    pa, pb, pw = _top_links(prod, top_links)
    jids = list(jurisdictions)
    nb = len(bodies)
    body_j = recs[["body_id", "jurisdiction"]].drop_duplicates()
    bj_b = bodies.get_indexer(body_j["body_id"])
    bj_j = np.array([nb + jids.index(j) for j in body_j["jurisdiction"]], dtype=np.int64)
    e_all = np.concatenate([np.column_stack([pa, pb]), np.column_stack([bj_b, bj_j])]).astype(np.int64)
    w_all = np.concatenate([np.log2(1 + pw.astype(float)), np.full(len(bj_b), 1.0)])
    pos = layout_positions(nb + len(jids), e_all, w_all, seed, target_edge=70.0)
    records = recs.groupby("body_id")["consortium_id"].agg(list)
    bjs = body_j.groupby("body_id")["jurisdiction"].agg(list)
    nodes: list[dict[str, Any]] = []
    groups: dict[str, dict[str, Any]] = {}
    for i, b in enumerate(bodies.tolist()):
        info = root.loc[b] if b in root.index else first.loc[b]
        name, jur, chain = str(info["name"] or b), str(info["jurisdiction"]), str(info["chain_id"] or "")
        rlist = records.get(b, [b])
        fs = [f for r in rlist for f in cons_marks.get(r, [])]
        status, lines = _mark(fs, books)
        color = jurisdictions[jur]["color"]
        tip = [name, "编号：" + "、".join(rlist), "认定机关：" + "、".join(jurisdictions[j]["name"] for j in bjs.get(b, [jur])),
               f"成员：{int(sizes[i])} 家"]
        if chain:
            tip.append(f"产业链：{chains.get(chain, chain)}")
        node = {"id": f"b:{b}", "label": _cons_label(name, b), "title": "\n".join(tip + lines), "shape": "dot",
                "size": round(5 + 2.2 * float(np.sqrt(sizes[i])), 1),
                "x": round(float(pos[i, 0]), 1), "y": round(float(pos[i, 1]), 1),
                "color": {"background": color, "border": color, "highlight": {"background": color, "border": "#000"}},
                "font": {"size": 12, "color": "#111", "strokeWidth": 3, "strokeColor": "#fff"}, "borderWidth": 1,
                "scaling": {"label": {"drawThreshold": UNIT_LABEL_PX}},
                "k": "b", "gs": [b], "mark": status}
        _apply_mark(node, status)
        nodes.append(node)
        groups[b] = {"j": bjs.get(b, [jur]), "ch": chain, "label": f"{b} {name}"}
    # Jurisdiction names must read at the overview zoom: size them to the layout (~16 px on a 1,100 px canvas).
    extent = float(np.ptp(pos, axis=0).max()) if len(pos) else 1.0
    jfont = max(24.0, round(16 * extent / 1100, 1))
    for k, j in enumerate(jids):
        color = jurisdictions[j]["color"]
        nodes.append({"id": f"j:{j}", "label": jurisdictions[j]["name"], "title": f"认定机关：{jurisdictions[j]['name']}",
                      "shape": "box", "x": round(float(pos[nb + k, 0]), 1), "y": round(float(pos[nb + k, 1]), 1),
                      "color": {"background": color, "border": "#000"}, "font": {"size": jfont, "color": "#fff"},
                      "margin": round(jfont / 3, 1),
                      "scaling": {"label": {"drawThreshold": 1, "maxVisible": 40}}, "k": "j", "gs": [], "free": True, "mark": ""})
    edges: list[dict[str, Any]] = []
    bl = bodies.to_numpy()
    for a, b, w in zip(bl[pa].tolist(), bl[pb].tolist(), pw.tolist(), strict=True):
        edges.append({"from": f"b:{a}", "to": f"b:{b}", "width": round(0.6 + 1.2 * float(np.log2(1 + w)), 2),
                      "color": {"color": "#9a9a9a", "opacity": 0.6, "highlight": "#000"},
                      "title": f"共享成员 {int(w)} 家", "gs": [a, b], "shared": int(w)})
    for b, j in zip(body_j["body_id"].tolist(), body_j["jurisdiction"].tolist(), strict=True):
        edges.append({"from": f"b:{b}", "to": f"j:{j}", "width": 0.6, "dashes": [2, 4],
                      "color": {"color": jurisdictions[j]["color"], "opacity": 0.35}, "gs": [b], "title": "认定"})
    view = NetworkView("aggregate", nodes, edges, groups, jurisdictions, chains, False, "", "")
    view.stats["pairs_drawn"] = len(pa)
    view.stats["top_links"] = top_links
    view.stats["bodies_total"] = n_eligible
    view.stats["bodies_shown"] = nb
    return view
