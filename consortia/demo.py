"""The demo: a fictional registry with a curated showcase of breaches, checked.

The background comes from the seeded generator (so the demo looks like a real
province's registry); on top of it sits a small showcase whose units and
consortia (ids ``DEMO-…``) each demonstrate one rule — including the cases
that must NOT be findings, such as a body recorded at two levels. The demo
grows as capabilities land, always runs with no arguments and no network.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from .findings import exit_code_for
from .generate import generate, refuse_replacing, registry_files, write_csv
from .io import check_writable
from .loaders import load_registry
from .output import emit
from .registry import Registry
from .rules.engine import run_checks
from .rules.rulebook import Rulebooks, load_rulebooks
from .uscc import build

__all__ = ["AS_OF", "REPORTS", "demo_tables", "run_demo"]

#: The demo is judged on a fixed date so that its output never drifts.
AS_OF = "2026-06-30"

_DIV = {"南宁市": "450103", "柳州市": "450205", "桂林市": "450304", "南京市": "320106", "辽阳市": "211003"}

# (key, name, type, city, extra columns)
_UNITS = [
    ("A", "广西示范汽车集团有限公司", "enterprise", "南宁市", {"revenue": "1500000", "rd_staff": "420"}),
    ("B", "南宁双擎智能科技有限公司", "enterprise", "南宁市", {"revenue": "90000", "rd_staff": "60"}),
    ("C", "南宁并联电子股份有限公司", "enterprise", "南宁市", {"revenue": "80000", "rd_staff": "45"}),
    ("D1", "柳州一汽配件制造有限公司", "enterprise", "柳州市", {"revenue": "70000"}),
    ("D2", "柳州二号动力机械有限公司", "enterprise", "柳州市", {"revenue": "60000"}),
    ("D3", "柳州三联传动系统有限公司", "enterprise", "柳州市", {"revenue": "55000"}),
    ("E", "南宁多元新材料集团有限公司", "enterprise", "南宁市", {"revenue": "200000"}),
    ("F", "桂林四方检测技术服务有限公司", "service", "桂林市", {}),
    ("G", "南宁一事一议材料有限公司", "enterprise", "南宁市", {}),
    ("H", "桂南理工大学", "university", "南宁市", {}),
    ("N1", "南京示范集成电路有限公司", "enterprise", "南京市", {"revenue": "300000"}),
    ("N2", "金陵微电子研究院", "institute", "南京市", {}),
    ("L1", "辽阳示范石化装备有限公司", "enterprise", "辽阳市", {}),
]
# (consortium_id, name, jurisdiction, recognized_from, exemption)
_CONSORTIA = [
    ("DEMO-GX1", "广西新能源汽车示范创新联合体", "guangxi", "", ""),
    ("DEMO-NN1", "南宁新能源汽车示范创新联合体（转认定）", "nanning", "DEMO-GX1", ""),
    ("DEMO-NN2", "南宁智能终端双牵头创新联合体", "nanning", "", ""),
    ("DEMO-NN3", "南宁先进材料创新联合体", "nanning", "", ""),
    ("DEMO-NN4", "南宁复合材料创新联合体", "nanning", "", ""),
    ("DEMO-LZ1", "柳州动力总成三牵头创新联合体", "liuzhou", "", ""),
    ("DEMO-NJ1", "南京集成电路示范创新联合体", "nanjing", "", ""),
    ("DEMO-LY1", "辽阳石化装备示范创新联合体", "liaoyang", "", ""),
]
# (consortium_id, unit key, role, exemption)
_MEMBERS = [
    # A leads one body recorded twice (Guangxi, and Nanning by direct recognition): not LEAD_SINGLE.
    ("DEMO-GX1", "A", "lead", ""), ("DEMO-NN1", "A", "lead", ""),
    ("DEMO-GX1", "H", "core", ""), ("DEMO-NN1", "H", "core", ""),
    ("DEMO-GX1", "F", "general", ""), ("DEMO-NN1", "F", "general", ""),
    # B and C both lead DEMO-NN2: LEAD_COUNT (Nanning allows one).
    ("DEMO-NN2", "B", "lead", ""), ("DEMO-NN2", "C", "lead", ""), ("DEMO-NN2", "F", "close", ""),
    ("DEMO-NN2", "H", "core", ""), ("DEMO-NN2", "G", "general", ""),
    # E leads two bodies: LEAD_SINGLE.
    ("DEMO-NN3", "E", "lead", ""), ("DEMO-NN3", "F", "core", ""), ("DEMO-NN3", "G", "close", ""),
    ("DEMO-NN4", "E", "lead", ""), ("DEMO-NN4", "H", "close", ""),
    ("DEMO-NN4", "G", "general", "南宁市科技局2025年第3号一事一议：同意参与第4个创新联合体"),
    # Three leads in Liuzhou, which allows one or two: LEAD_COUNT.
    ("DEMO-LZ1", "D1", "lead", ""), ("DEMO-LZ1", "D2", "lead", ""), ("DEMO-LZ1", "D3", "lead", ""),
    ("DEMO-LZ1", "H", "general", ""),
    # F is in GX1/NN1 (one body), NN2, NN3 and NJ1: four bodies -> MEMBER_CAP under Guangxi
    # and Nanning, not Nanjing (whose text has no cap).
    ("DEMO-NJ1", "N1", "lead", ""), ("DEMO-NJ1", "N2", "core", ""), ("DEMO-NJ1", "F", "general", ""),
    ("DEMO-LY1", "L1", "lead", ""), ("DEMO-LY1", "G", "general", ""),
]


# ---- the rule showcase: one more DEMO consortium per rule, each otherwise plausible ----
#: A lead that meets every threshold of every text (revenue and money in 万元).
_GOOD_LEAD = {"sector": "manufacturing", "revenue": "150000", "rd_staff": "200", "rd_spend_3y": "15000",
              "sales_3y": "420000", "years_operating": "12", "platform_level": "provincial", "tech_enterprise": "true",
              "rd_deduction": "true"}
_SUFFIX = {"enterprise": ["精密制造有限公司", "配套科技有限公司", "智能装备有限公司", "电子科技有限公司", "新材料有限公司",
                          "动力系统有限公司"],
           "institute": ["产业技术研究院"], "university": ["职业技术学院"], "service": ["检测技术服务有限公司"]}


def _pool(key: str, city: str, theme: str, kinds: str, **extra: str) -> list[str]:
    """Add member units to ``_UNITS`` (``kinds``: e=enterprise, i=institute, u=university,
    s=service) named after ``theme``, and return their keys."""
    kind = {"e": "enterprise", "i": "institute", "u": "university", "s": "service"}
    seen: Counter[str] = Counter()
    keys = []
    for n, k in enumerate(kinds, 1):
        t = kind[k]
        name = f"{city.removesuffix('市')}{theme}{_SUFFIX[t][seen[t]]}"
        seen[t] += 1
        _UNITS.append((f"{key}{n}", name, t, city, dict(extra)))
        keys.append(f"{key}{n}")
    return keys


def _lead(key: str, name: str, city: str, **override: str) -> str:
    _UNITS.append((key, name, "enterprise", city, {**_GOOD_LEAD, **override}))
    return key


#: Per consortium: columns that differ from the defaults (recognised 2025-03-01, active, agreement, expert).
_CONSORTIUM_EXTRA: dict[str, dict[str, str]] = {}
#: Consortia whose annual reports are all on file (the rule showcase; the older entries have none).
_REPORTING: list[str] = []
# (consortium_id, evaluated_on, grade, rectification_passed_on)
_EVALUATIONS: list[tuple[str, str, str, str]] = []
#: (consortium_id, unit key) -> joined_on / left_on other than joined on recognition and never left.
_MEMBER_DATES: dict[tuple[str, str], dict[str, str]] = {}
# (project_id, consortium_id, lead unit key, name, level, started_on, member unit keys)
_PROJECTS: list[tuple[str, str, str, str, str, str, list[str]]] = []


def _add(cid: str, name: str, jurisdiction: str, lead: str, members: list[str], **extra: str) -> None:
    _CONSORTIA.append((cid, name, jurisdiction, "", ""))
    _CONSORTIUM_EXTRA[cid] = extra
    _MEMBERS.append((cid, lead, "lead", ""))
    _MEMBERS.extend((cid, k, ("core", "close", "general")[min(i, 2)], "") for i, k in enumerate(members))
    if extra.get("status") != "revoked":
        _REPORTING.append(cid)


# Member pools: a unit joins at most three bodies (the Guangxi and Nanning MEMBER_CAP).
_GXP1 = _pool("GP1-", "南宁市", "北部湾", "ius")
_GXP2 = _pool("GP2-", "桂林市", "漓江", "ius")
_GXP3 = _pool("GP3-", "柳州市", "龙城", "ie")
_NNP1 = _pool("NP1-", "南宁市", "邕江", "eeius")
_NNP2 = _pool("NP2-", "南宁市", "青秀", "eeius")
_GLP = _pool("GLP-", "桂林市", "七星", "eeius")
_LZP = _pool("LZP-", "柳州市", "柳江", "eeeeius")
_LYP = _pool("LYP-", "辽阳市", "太子河", "eeeeeis")

# Guangxi.
_add("DEMO-GX2", "广西钢铁全企业创新联合体（成员类型不足2类）", "guangxi",
     _lead("GX2L", "广西示范钢铁集团有限公司", "柳州市"), _pool("GX2M-", "柳州市", "钢联", "eee"))
_add("DEMO-GX3", "广西海洋装备创新联合体（满3年未评估）", "guangxi",
     _lead("GX3L", "广西示范海洋装备集团有限公司", "南宁市"), _GXP1, recognized_on="2022-04-15",
     agreement_signed_on="2022-01-20")
_add("DEMO-GX4", "广西糖业创新联合体（评估撤销未撤销认定）", "guangxi",
     _lead("GX4L", "广西示范糖业集团有限公司", "南宁市"), _GXP1, recognized_on="2022-03-01",
     agreement_signed_on="2021-12-10")
_EVALUATIONS.append(("DEMO-GX4", "2025-05-20", "revoke", ""))
_add("DEMO-GX5", "广西有色金属创新联合体（牵头单位非科技型企业）", "guangxi",
     _lead("GX5L", "广西示范有色金属集团有限公司", "南宁市", tech_enterprise="false"), _GXP1)
_add("DEMO-GX6", "广西林产化工创新联合体（整改逾期未验收）", "guangxi",
     _lead("GX6L", "广西示范林化集团有限公司", "桂林市"), _GXP2, recognized_on="2021-05-10",
     agreement_signed_on="2021-02-01", status="rectifying")
_EVALUATIONS.append(("DEMO-GX6", "2024-06-20", "rectify", ""))
_add("DEMO-GX7", "广西建材创新联合体（牵头单位研发投入不足）", "guangxi",
     _lead("GX7L", "广西示范建材集团有限公司", "桂林市", rd_spend_3y="6000"), _GXP2)
_add("DEMO-GX8", "广西机械创新联合体（成员处于失信惩戒期）", "guangxi",
     _lead("GX8L", "广西示范机械集团有限公司", "柳州市"),
     [*_GXP3, *_pool("GX8M-", "柳州市", "信达", "e", credit_blacklist_until="2027-12-31")])
_add("DEMO-GX9", "广西电子信息创新联合体（成员已注销）", "guangxi",
     _lead("GX9L", "广西示范电子信息集团有限公司", "柳州市"),
     [*_GXP3, *_pool("GX9M-", "柳州市", "旧厂", "e", legal_status="deregistered")])
_add("DEMO-GX10", "广西生物医药创新联合体（未签订组建协议）", "guangxi",
     _lead("GX10L", "广西示范生物医药集团有限公司", "桂林市"), _GXP2, agreement_signed_on="")
# Nanning.
_add("DEMO-NN5", "南宁储能创新联合体（牵头单位主要经营地不在南宁）", "nanning",
     _lead("NN5L", "桂林示范储能科技集团有限公司", "桂林市"), _NNP1)
_add("DEMO-NN6", "南宁智能制造创新联合体（牵头单位无创新平台）", "nanning",
     _lead("NN6L", "南宁示范智能制造集团有限公司", "南宁市", platform_level="none"), _NNP1)
_add("DEMO-NN7", "南宁数字经济创新联合体（牵头单位研发人员不足）", "nanning",
     _lead("NN7L", "南宁示范数字科技集团有限公司", "南宁市", rd_staff="12"), _NNP1)
_add("DEMO-NN8", "南宁食品创新联合体（牵头单位营收不足6亿元）", "nanning",
     _lead("NN8L", "南宁示范食品集团有限公司", "南宁市", revenue="42000"), _NNP2)
_add("DEMO-NN9", "南宁文旅装备创新联合体（本地成员比例不足30%）", "nanning",
     _lead("NN9L", "南宁示范文旅装备集团有限公司", "南宁市"), _GLP)
# Liuzhou (no member cap: the pool serves all three).
_add("DEMO-LZ2", "柳州汽车零部件创新联合体（牵头单位未享受加计扣除）", "liuzhou",
     _lead("LZ2L", "柳州示范汽车零部件集团有限公司", "柳州市", rd_deduction="false"), _LZP)
_add("DEMO-LZ3", "柳州工程机械创新联合体（项目非联合体牵头单位牵头）", "liuzhou",
     _lead("LZ3L", "柳州示范工程机械集团有限公司", "柳州市"), _LZP)
_add("DEMO-LZ4", "柳州螺蛳粉产业创新联合体（项目成员占比不足50%）", "liuzhou",
     _lead("LZ4L", "柳州示范食品科技集团有限公司", "柳州市"), _LZP)
_add("DEMO-LZ5", "柳州智能家电创新联合体（未选聘首席专家）", "liuzhou",
     _lead("LZ5L", "柳州示范智能家电集团有限公司", "柳州市"), _LZP, chief_expert="")
_PROJECTS.append(("DEMO-P-LZ3", "DEMO-LZ3", _LZP[0], "柳州市工程机械电驱化关键技术攻关", "municipal", "2025-09-01",
                  [_LZP[1], _LZP[4]]))
_PROJECTS.append(("DEMO-P-LZ4", "DEMO-LZ4", "LZ4L", "柳州市预包装米粉保鲜技术攻关", "municipal", "2025-09-01",
                  [_LZP[0], *_pool("LZX-", "柳州市", "外协", "eee")]))
# Two jurisdictions, one chain, nearly the same members: a possible double-funding signal
# (`consortia overlaps --kind near-duplicates`), not a rule breach.
_DUP = _pool("DUP-", "柳州市", "双报", "eeeeeiu")
_add("DEMO-GX11", "广西新能源汽车零部件创新联合体（与柳州联合体成员高度重合）", "guangxi",
     _lead("GX11L", "广西示范新能源汽车集团有限公司", "柳州市"), _DUP, chain_id="NEV")
_add("DEMO-LZ6", "柳州新能源汽车零部件创新联合体（与广西联合体成员高度重合）", "liuzhou",
     _lead("LZ6L", "柳州示范新能源汽车集团有限公司", "柳州市"), _DUP, chain_id="NEV")
#: Chain segments covered by showcase members, by unit key (the chains table comes from the generator).
_SEGMENTS = {"GX11L": "NEV-14", "LZ6L": "NEV-14",
             **dict(zip(_DUP, ["NEV-06", "NEV-08", "NEV-12", "NEV-10", "NEV-13", "NEV-07", "NEV-01"], strict=True))}
# Nanjing.
_add("DEMO-NJ2", "南京软件产业创新联合体（无高校或科研院所）", "nanjing",
     _lead("NJ2L", "南京示范软件集团有限公司", "南京市"), _pool("NJ2M-", "南京市", "秦淮", "ees"))
_add("DEMO-NJ3", "南京生物医药创新联合体（建设期满未终止）", "nanjing",
     _lead("NJ3L", "南京示范生物医药集团有限公司", "南京市"), _pool("NJ3M-", "南京市", "江宁", "eiu"),
     recognized_on="2022-05-01", agreement_signed_on="2022-03-01")
# Nanjing: the lead handed over to another enterprise while the consortium operates (LEAD_CHANGE).
_add("DEMO-NJ4", "南京智能制造创新联合体（运行期间更换牵头单位）", "nanjing",
     _lead("NJ4L", "南京示范智能制造集团有限公司", "南京市"), _pool("NJ4M-", "南京市", "栖霞", "eiu"))
_MEMBERS.append(("DEMO-NJ4", _lead("NJ4N", "南京接任智能装备股份有限公司", "南京市"), "lead", ""))
_MEMBER_DATES[("DEMO-NJ4", "NJ4L")] = {"left_on": "2025-12-01"}
_MEMBER_DATES[("DEMO-NJ4", "NJ4N")] = {"joined_on": "2025-12-01"}
# Liaoyang: LY2 was revoked in 2024; its lead leads LY3, recognised within three years.
_add("DEMO-LY2", "辽阳精细化工创新联合体（已撤销）", "liaoyang",
     _lead("LY2L", "辽阳示范精细化工集团有限公司", "辽阳市"), _LYP, recognized_on="2021-05-01",
     agreement_signed_on="2021-03-01", status="revoked", revoked_on="2024-04-10", revoked_reason="牵头单位组织不力，未按协议履约")
_add("DEMO-LY3", "辽阳新材料创新联合体（被撤销联合体的牵头单位三年内再牵头）", "liaoyang", "LY2L", _LYP,
     recognized_on="2025-06-01", agreement_signed_on="2025-04-01")


def _reports(cid: str, jurisdiction: str, recognized_on: str) -> list[dict[str, str]]:
    """Every annual report owed by the as-of date, on time: due by 12-31 of the year reported on,
    or (Liaoyang, Nanjing) during the next year."""
    late = jurisdiction in ("liaoyang", "nanjing")
    rows = []
    for y in range(int(recognized_on[:4]), int(AS_OF[:4])):
        on = f"{y + 1}-03-15" if late else f"{y}-12-20"
        rows.append({"consortium_id": cid, "year": str(y), "submitted_on": on})
    return rows


def _showcase() -> dict[str, pd.DataFrame]:
    codes = {k: build("12" if t in ("university", "institute") else "91", _DIV[city], f"D{i:07d}")
             for i, (k, _, t, city, _) in enumerate(_UNITS)}
    units = [{"uscc": codes[k], "name": name, "type": t, "city": city, "legal_status": "active", **extra}
             for k, name, t, city, extra in _UNITS]
    # Data-quality showcase: a mistyped code, a code issued elsewhere, one name under two codes.
    bad = codes["B"][:-1] + ("0" if codes["B"][-1] != "0" else "1")
    units += [
        {"uscc": bad, "name": "南宁错码科技有限公司", "type": "enterprise", "city": "南宁市"},
        {"uscc": build("91", "320106", "D9000001"), "name": "南宁迁址装备有限公司", "type": "enterprise",
         "city": "南宁市"},
        {"uscc": build("91", "450103", "D9000002"), "name": "桂南理工大学", "type": "university", "city": "南宁市"},
    ]
    base = {"status": "active", "recognized_on": "2025-03-01", "agreement_signed_on": "2025-01-15", "chief_expert": "韦明远"}
    consortia = [{"consortium_id": cid, "name": name, "jurisdiction": j, "recognized_from": rf, "exemption": ex,
                  **base, **_CONSORTIUM_EXTRA.get(cid, {})} for cid, name, j, rf, ex in _CONSORTIA]
    since = {c["consortium_id"]: c["recognized_on"] for c in consortia}
    members = [{"consortium_id": cid, "uscc": codes[k], "role": role, "exemption": ex, "joined_on": since[cid],
                "segments": _SEGMENTS.get(k, ""), **_MEMBER_DATES.get((cid, k), {})} for cid, k, role, ex in _MEMBERS]
    members.append({"consortium_id": "DEMO-NN3", "uscc": bad, "role": "general", "joined_on": "2025-03-01"})
    reports = [r for c in consortia if c["consortium_id"] in _REPORTING
               for r in _reports(c["consortium_id"], c["jurisdiction"], c["recognized_on"])]
    evaluations = [{"consortium_id": cid, "evaluated_on": on, "grade": g, "rectification_passed_on": passed}
                   for cid, on, g, passed in _EVALUATIONS]
    projects = [{"project_id": pid, "consortium_id": cid, "lead_uscc": codes[lead], "name": name, "level": level,
                 "started_on": on} for pid, cid, lead, name, level, on, _ in _PROJECTS]
    project_members = [{"project_id": pid, "uscc": codes[k]} for pid, _, lead, *_, ks in _PROJECTS for k in [lead, *ks]]
    return {"units": pd.DataFrame(units), "consortia": pd.DataFrame(consortia), "memberships": pd.DataFrame(members),
            "annual_reports": pd.DataFrame(reports), "evaluations": pd.DataFrame(evaluations),
            "projects": pd.DataFrame(projects), "project_members": pd.DataFrame(project_members)}


def demo_tables(n_consortia: int = 40, seed: int = 2026) -> dict[str, pd.DataFrame]:
    """The demo registry: generated background plus the showcase."""
    tables = generate(n_consortia, seed)
    for name, extra in _showcase().items():
        tables[name] = pd.concat([tables[name], extra], ignore_index=True).fillna("")
    return tables


#: The reports the demo writes in its folder, beside ``registry/`` and ``brief/``.
REPORTS = ("findings.json", "findings.xlsx", "near_duplicates.json", "gaps.json", "brokers.json", "network.graphml")


def run_demo(out: Path, echo: Callable[[str], None] = print, *, force: bool = False) -> int:
    """Write the demo registry to ``out/registry``, check it, write the reports, print a summary.

    Unless ``force``, a folder that already holds a registry (in it or in ``registry/``), the
    demo's reports or a briefing is refused with :class:`~consortia.errors.OutputError`: the
    demo must not replace a registry someone put there, nor reports someone kept. Every place
    is checked writable before anything is written.
    """
    out = Path(out)
    reg_dir = out / "registry"
    if not force:
        tables = registry_files(reg_dir)
        held = [*registry_files(out), *([f"registry/ with {len(tables)} registry files"] if tables else []),
                *(n for n in (*REPORTS, "brief/index.html") if (out / n).exists())]
        refuse_replacing(out, held, "a registry or the demo's reports")
    check_writable(*(out / n for n in REPORTS), folders=[out, reg_dir, out / "brief"])
    write_csv(demo_tables(), reg_dir)
    books = load_rulebooks()
    registry = load_registry(reg_dir, books)
    findings = run_checks(registry, books, AS_OF)
    rows = [f.to_dict() for f in findings]
    emit(rows, "json", out=out / "findings.json")
    emit(rows, "xlsx", out=out / "findings.xlsx", title="findings")
    u, c, m = (len(registry.tables[t]) for t in ("units", "consortia", "memberships"))
    echo(f"Demo registry written to {reg_dir}: {u} units, {c} consortia, {m} memberships.")
    echo(f"Checked as of {AS_OF} against the rulebooks of {', '.join(b.name_zh for b in books.values())}.")
    counts = Counter((f.rule, f.severity, f.waived) for f in findings)
    summary = [{"rule": r, "severity": s, "waived": w, "count": n} for (r, s, w), n in sorted(counts.items())]
    emit(summary, "table", title=f"{len(findings)} findings by rule", echo=echo)
    showcase = [f.to_dict() for f in findings
                if (f.consortium_id or "").startswith("DEMO-") or f.uscc in set(_showcase()["units"]["uscc"])]
    emit(showcase, "table", title="The showcase (consortia DEMO-…)", echo=echo,
         table_columns=("rule", "severity", "waived", "jurisdiction", "consortium_id", "uscc", "message"))
    echo(f"Full reports: {out / 'findings.json'} and {out / 'findings.xlsx'}.")
    _network_summary(registry, books, out, echo)
    from .viz.brief import write_brief

    brief = write_brief(registry, books, AS_OF, out / "brief", findings=findings)
    echo(f"Briefing (opens offline, e.g. on a projector): {brief.index}")
    echo(f"Try: consortia show consortium DEMO-NN2 -r {reg_dir} --as-of {AS_OF}")
    echo(f"     consortia check {reg_dir} --as-of {AS_OF} --format json")
    echo(f"     consortia gaps {reg_dir} --chain NEV --as-of {AS_OF}")
    echo(f"     consortia coverage {reg_dir} --chain NEV --by jurisdiction --as-of {AS_OF}")
    echo(f"     consortia whatif add-member {reg_dir} DEMO-NJ1 {_showcase_code('H')} --role core --as-of {AS_OF}")
    return exit_code_for(findings)


def _showcase_code(key: str) -> str:
    units = _showcase()["units"]
    names = {k: name for k, name, *_ in _UNITS}
    return str(units.loc[units["name"] == names[key], "uscc"].iloc[0])


def _network_summary(registry: Registry, books: Rulebooks, out: Path, echo: Callable[[str], None]) -> None:
    """The planners' view of the demo: overlaps, gaps, brokers; JSON reports and a GraphML export."""
    from .graph.export import export_graph
    from .queries import EmbeddedNetwork

    net = EmbeddedNetwork(registry, books, AS_OF)
    cross, near, gaps, brokers = (net.cross_units(), net.near_duplicates(0.5), net.gaps(by="jurisdiction"),
                                  net.brokers(top=10))
    emit(near.to_dict("records"), "json", out=out / "near_duplicates.json")
    emit(gaps.to_dict("records"), "json", out=out / "gaps.json")
    emit(brokers.to_dict("records"), "json", out=out / "brokers.json")
    export_graph(registry, out / "network.graphml", "graphml", AS_OF)
    echo(f"Network as of {AS_OF}: {len(cross)} units sit in consortia of two or more cities or levels.")
    for r in near.itertuples(index=False):
        echo(f"  Possible double funding: {r.consortium_a} ({'/'.join(r.jurisdictions_a)}) and {r.consortium_b} "
             f"({'/'.join(r.jurisdictions_b)}) on chain {r.chain_a} share {r.shared} members (Jaccard {r.jaccard}).")
    kinds = gaps["kind"].value_counts().to_dict()
    echo(f"  Chain gaps by jurisdiction: {kinds.get('uncovered', 0)} uncovered segments, "
         f"{kinds.get('general_only', 0)} held only by the general tier, {kinds.get('flow_break', 0)} flow breaks.")
    if len(brokers):
        top = brokers.iloc[0]
        echo(f"  Top broker: {top['name']} ({top['uscc']}), in {top['bodies']} consortia across "
             f"{len(top['jurisdictions'])} jurisdictions.")
    echo(f"Network reports: {out / 'near_duplicates.json'}, {out / 'gaps.json'}, {out / 'brokers.json'}, "
         f"{out / 'network.graphml'} (Gephi, Cytoscape).")
