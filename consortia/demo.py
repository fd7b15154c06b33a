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
from .generate import generate, write_csv
from .loaders import load_registry
from .output import emit
from .rules.engine import run_checks
from .rules.rulebook import load_rulebooks
from .uscc import build

__all__ = ["AS_OF", "demo_tables", "run_demo"]

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
    consortia = [{"consortium_id": cid, "name": name, "jurisdiction": j, "recognized_from": rf, "exemption": ex,
                  "status": "active", "recognized_on": "2025-03-01", "agreement_signed_on": "2025-01-15",
                  "chief_expert": "韦明远"} for cid, name, j, rf, ex in _CONSORTIA]
    members = [{"consortium_id": cid, "uscc": codes[k], "role": role, "exemption": ex, "joined_on": "2025-03-01"}
               for cid, k, role, ex in _MEMBERS]
    members.append({"consortium_id": "DEMO-NN3", "uscc": bad, "role": "general", "joined_on": "2025-03-01"})
    return {"units": pd.DataFrame(units), "consortia": pd.DataFrame(consortia), "memberships": pd.DataFrame(members)}


def demo_tables(n_consortia: int = 40, seed: int = 2026) -> dict[str, pd.DataFrame]:
    """The demo registry: generated background plus the showcase."""
    tables = generate(n_consortia, seed)
    for name, extra in _showcase().items():
        tables[name] = pd.concat([tables[name], extra], ignore_index=True).fillna("")
    return tables


def run_demo(out: Path, echo: Callable[[str], None] = print) -> int:
    """Write the demo registry to ``out/registry``, check it, write the reports, print a summary."""
    out = Path(out)
    reg_dir = out / "registry"
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
    echo(f"Try: consortia show consortium DEMO-NN2 -r {reg_dir} --as-of {AS_OF}")
    echo(f"     consortia check {reg_dir} --as-of {AS_OF} --format json")
    return exit_code_for(findings)
