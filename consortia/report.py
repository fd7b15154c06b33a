"""Officer reports: the per-consortium application summary and per-unit memberships.

The summary follows the Liuzhou application form (柳州市创新联合体组建申请表):
member totals by type, enterprises, universities, institutes and innovation
platforms, so an officer can compare an application with the registry. The
same tables become sheets of the Excel report of ``check``.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from .codes import count_table, grouped_tuples
from .findings import Finding
from .registry import Registry
from .state import active_consortia, active_memberships, as_timestamp

__all__ = ["HEADERS_ZH", "consortium_summary", "translate", "unit_memberships"]

#: Chinese column headers for ``--lang zh`` reports.
HEADERS_ZH = {
    "rule": "规则", "severity": "严重程度", "waived": "已豁免", "jurisdiction": "认定机关",
    "consortium_id": "联合体编号", "uscc": "统一社会信用代码", "message": "说明", "citation": "依据条款",
    "location": "位置", "details": "详情", "name": "名称", "leads": "牵头单位", "members": "成员总数",
    "enterprises": "企业数量", "universities": "高等学校数量", "institutes": "研究机构数量",
    "tech_transfer": "技术转移机构数量", "service": "技术服务机构数量", "other": "其他单位数量",
    "core": "核心层", "close": "紧密合作层", "general": "一般协作层",
    "platforms_provincial_up": "自治区级及以上创新平台数量", "platforms_municipal": "市级创新平台数量",
    "errors": "错误", "warnings": "警告", "recognized_on": "认定日期", "status": "状态",
    "type": "单位类型", "city": "注册地", "consortia": "参与联合体数", "roles": "参与情况",
    "jurisdictions": "涉及认定机关",
}


def _joined(keys: pd.Series, values: pd.Series, *, distinct: bool = False) -> pd.Series:
    """Per key: its non-missing values sorted and joined with "; " (once each with ``distinct``)."""
    text = values.map(lambda v: isinstance(v, str)).to_numpy(dtype=bool)
    lists = grouped_tuples(keys.to_numpy(dtype=object)[text], values.to_numpy(dtype=object)[text])
    return lists.map(lambda vs: "; ".join(dict.fromkeys(vs) if distinct else vs))


def translate(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Rename columns to Chinese under ``lang == 'zh'``."""
    return frame.rename(columns=HEADERS_ZH) if lang == "zh" else frame


def consortium_summary(registry: Registry, as_of: dt.date | str | None = None,
                       findings: list[Finding] | None = None) -> pd.DataFrame:
    """One row per consortium in force: its members counted by type and tier
    (lead included), its platforms, and its findings by severity."""
    ts = as_timestamp(as_of)
    cons = active_consortia(registry, ts)
    m = active_memberships(registry, ts).drop_duplicates(["consortium_id", "uscc"])
    units = registry.units[["uscc", "name", "type", "platform_level"]].rename(columns={"name": "unit_name"})
    m = m.merge(units, on="uscc", how="left")
    by_type = count_table(m["consortium_id"], m["type"])
    by_role = count_table(m["consortium_id"], m["role"])
    lead = m[m["role"] == "lead"]
    leads = _joined(lead["consortium_id"], lead["unit_name"])
    plat = m.assign(p=m["platform_level"].isin(["provincial", "national"]), q=m["platform_level"] == "municipal")
    plat = plat.groupby("consortium_id")[["p", "q"]].sum()
    out = cons[["consortium_id", "name", "jurisdiction", "status", "recognized_on"]].copy()
    idx = out["consortium_id"]

    def col(frame: pd.DataFrame, key: str) -> pd.Series:
        values = frame[key] if key in frame.columns else pd.Series(dtype=int)
        return idx.map(values).fillna(0).astype(int)

    out["leads"] = idx.map(leads).fillna("")
    out["members"] = idx.map(m.groupby("consortium_id").size()).fillna(0).astype(int)
    for key, name in (("enterprise", "enterprises"), ("university", "universities"), ("institute", "institutes"),
                      ("tech_transfer", "tech_transfer"), ("service", "service"), ("other", "other")):
        out[name] = col(by_type, key)
    for key in ("core", "close", "general"):
        out[key] = col(by_role, key)
    out["platforms_provincial_up"] = col(plat, "p")
    out["platforms_municipal"] = col(plat, "q")
    if findings is not None:
        f = pd.DataFrame([(x.consortium_id, x.severity) for x in findings if x.consortium_id and not x.waived],
                         columns=["consortium_id", "severity"])
        counts = count_table(f["consortium_id"], f["severity"]) if len(f) else pd.DataFrame()
        out["errors"] = col(counts, "error")
        out["warnings"] = col(counts, "warning")
    return out.reset_index(drop=True)


def unit_memberships(registry: Registry, as_of: dt.date | str | None = None) -> pd.DataFrame:
    """One row per unit in at least one consortium in force: how many distinct
    bodies it is in, and where, with which role."""
    ts = as_timestamp(as_of)
    m = active_memberships(registry, ts)
    if m.empty:
        return pd.DataFrame(columns=["uscc", "name", "type", "city", "consortia", "roles", "jurisdictions"])
    roles = _joined(m["uscc"], m["consortium_id"] + ":" + m["role"])
    out = pd.DataFrame({
        "consortia": m.groupby("uscc")["body_id"].nunique(),
        "roles": roles,
        "jurisdictions": _joined(m["uscc"], m["jurisdiction"], distinct=True),
    }).rename_axis("uscc").reset_index()
    units = registry.units[["uscc", "name", "type", "city"]]
    return units.merge(out, on="uscc", how="inner").sort_values(["consortia", "uscc"], ascending=[False, True])
