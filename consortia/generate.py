"""A fictional but realistic registry of innovation consortia, for demos and benchmarks.

Real registries are not public in bulk, yet the checker must be shown on data
that looks like the real thing and must be timed at national scale (a million
units). :func:`generate` therefore builds every table of the interchange format
(shared/data-model.md) from a seed: the same seed gives the same registry, so a
benchmark or a bug report can be reproduced by anyone.

What makes it realistic, and why each piece is there:

* consortia of the five jurisdictions, with Nanning records directly recognised
  from a Guangxi record (``recognized_from``): the same body recorded twice,
  which a checker must not count as two;
* units that are local (a Liaoyang consortium draws mostly on 辽阳市 and
  Liaoning), a heavy-tailed number of consortia per unit (most units in one,
  hubs such as universities in many, some over the cap of three);
* leads that mostly meet the thresholds of their text: about 7.5 % miss one
  threshold by a little and about 6 % sit on the line or just over it, so that
  the rules are exercised on both sides of each boundary;
* a small share of bad data on purpose (typos in credit codes, a declared city
  that disagrees with the code's division, two codes under one name), because
  finding it is the tool's job.

Everything is vectorised with numpy: per-row Python runs only over small
vocabularies, never over units or memberships, so 100,000 consortia (a million
units, three million memberships) generate in well under a minute.

All cells are strings in the canonical written form (ISO dates, 万元 as plain
numbers, ``true``/``false``, ``;``-joined lists, ``''`` for missing), so the
tables can be written to CSV as they are.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from consortia.errors import OutputError
from consortia.geo import cities_table
from consortia.io import atomic_path
from consortia.uscc import ALPHABET, FOREIGN_PREFIX, make_codes

__all__ = [
    "AS_OF",
    "COLUMNS",
    "JURISDICTIONS",
    "generate",
    "refuse_replacing",
    "registry_files",
    "write_csv",
]

#: The snapshot date of every generated registry. Fixed rather than "today" so
#: that a seed always gives the same registry; sanctions "in the future" run
#: one to three years past it.
AS_OF = "2026-11-01"

#: Jurisdictions in the order the rest of the package lists them.
JURISDICTIONS: tuple[str, ...] = ("guangxi", "nanning", "liuzhou", "liaoyang", "nanjing")

#: Canonical columns of each table, in the order of shared/data-model.md.
COLUMNS: dict[str, tuple[str, ...]] = {
    "units": (
        "uscc", "name", "type", "city", "ops_city", "province", "sector", "revenue",
        "rd_staff", "rd_spend_3y", "sales_3y", "years_operating", "platform_level",
        "tech_enterprise", "rd_deduction", "credit_blacklist_until", "legal_status",
    ),
    "consortia": (
        "consortium_id", "name", "jurisdiction", "industry", "chain_id", "recognized_on",
        "agreement_signed_on", "chief_expert", "status", "revoked_on", "revoked_reason",
        "recognized_from", "exemption",
    ),
    "memberships": ("consortium_id", "uscc", "role", "segments", "joined_on", "left_on"),
    "chains": ("chain_id", "chain_name", "segment_id", "segment_name", "stage", "parent", "feeds"),
    "evaluations": ("consortium_id", "evaluated_on", "grade", "rectification_passed_on"),
    "annual_reports": ("consortium_id", "year", "submitted_on"),
    "projects": ("project_id", "consortium_id", "lead_uscc", "name", "level", "started_on"),
    "project_members": ("project_id", "uscc"),
}

# --------------------------------------------------------------------------
# Fixed vocabularies. Indices into these tuples are what the generator draws.
# --------------------------------------------------------------------------

_GX, _NN, _LZ, _LY, _NJ = range(5)
_JUR_PREFIX = ("GX", "NN", "LZ", "LY", "NJ")
_JUR_REGION = ("广西", "南宁市", "柳州市", "辽阳市", "南京市")
_JUR_AUTHORITY = ("自治区科技厅", "南宁市科技局", "柳州市科技局", "辽阳市科技局", "南京市科技局")
#: Share of all records per jurisdiction; Nanning's includes the direct recognitions.
_JUR_SHARE = np.array([0.25, 0.20, 0.18, 0.10, 0.27])
#: Share of all records that are Nanning records recognised from a Guangxi one.
_COPY_SHARE = 0.06
#: First and last recognition date per jurisdiction (the texts' own history:
#: Liuzhou's rules are of 2022, Liaoyang's of May 2023).
_JUR_WINDOW = (
    ("2019-07-01", "2026-09-30"),
    ("2020-01-01", "2026-09-30"),
    ("2022-03-01", "2026-09-30"),
    ("2023-06-01", "2026-09-30"),
    ("2019-01-01", "2026-09-30"),
)
#: Home city codes of the city-level jurisdictions (Guangxi draws a Guangxi city).
_JUR_CITY = ("", "450100", "450200", "211000", "320100")
_PROV_GUANGXI = "450000"

_TYPES = ("enterprise", "university", "institute", "service", "tech_transfer", "other")
_ENT, _UNI, _INS, _SVC, _TT, _OTH = range(6)
#: Member (non-lead) type mix per jurisdiction: Nanjing leans on universities.
_TYPE_MIX = np.array(
    [
        [0.62, 0.14, 0.11, 0.08, 0.03, 0.02],
        [0.62, 0.14, 0.11, 0.08, 0.03, 0.02],
        [0.66, 0.12, 0.10, 0.07, 0.03, 0.02],
        [0.64, 0.12, 0.12, 0.07, 0.03, 0.02],
        [0.56, 0.18, 0.14, 0.07, 0.03, 0.02],
    ]
)
#: Consortia per ordinary unit, 1 to 6: most units sit in one, a few in two or
#: three, a small share over the cap of three.
_HEAD_PMF = np.array([0.67, 0.205, 0.093, 0.016, 0.009, 0.007])
#: Share of hubs among the units of each type: the few universities, institutes,
#: testing bodies and big suppliers that sit in dozens of consortia. They carry
#: whatever memberships the ordinary units do not, so that the registry has the
#: requested number of memberships per unit.
_HUB_SHARE = np.array([0.015, 0.30, 0.25, 0.10, 0.10, 0.05])
_HUB_MIN, _HUB_MAX = 7, 600
#: Probability of core / close / general for a non-lead member of each type
#: (overall about 25 / 35 / 40 per cent).
_ROLE_BY_TYPE = np.array(
    [
        [0.20, 0.36, 0.44],
        [0.45, 0.35, 0.20],
        [0.42, 0.36, 0.22],
        [0.10, 0.30, 0.60],
        [0.10, 0.30, 0.60],
        [0.05, 0.25, 0.70],
    ]
)
_ROLES = ("lead", "core", "close", "general")
#: Where a member is registered: (home city, home province, anywhere by weight).
_LOCALITY = np.array(
    [
        [0.50, 0.32, 0.18],
        [0.66, 0.18, 0.16],
        [0.64, 0.16, 0.20],
        [0.58, 0.24, 0.18],
        [0.62, 0.22, 0.16],
    ]
)
_PLATFORMS = ("none", "municipal", "provincial", "national")
_SECTORS = ("manufacturing", "tech_services", "other")

# Lead criteria, each of which a lead may miss (or just meet).
_C_REVENUE, _C_STAFF, _C_RD, _C_PLATFORM, _C_TECH, _C_OPS, _C_REGCITY, _C_DEDUCT = range(8)
_CRITERIA: tuple[tuple[int, ...], ...] = (
    (_C_REVENUE, _C_STAFF, _C_RD, _C_PLATFORM, _C_TECH, _C_OPS),
    (_C_REVENUE, _C_STAFF, _C_RD, _C_PLATFORM, _C_OPS),
    (_C_REGCITY, _C_REVENUE, _C_STAFF, _C_RD, _C_PLATFORM, _C_DEDUCT),
    (_C_REGCITY, _C_PLATFORM, _C_RD),
    (),
)
_CRITERION_ZH = (
    "主营业务收入", "专职研发人员数量", "研发投入强度", "创新平台级别",
    "科技型企业认定", "主要经营地", "注册地", "研发费用加计扣除",
)
#: Thresholds per jurisdiction: revenue (万元; Liuzhou's is for manufacturing),
#: R&D staff, 3-year average R&D spend (万元, 0 = share only), platform index.
_REVENUE_MIN = np.array([100000.0, 60000.0, 50000.0, 0.0, 0.0])
_LIUZHOU_SERVICES_REVENUE_MIN = 10000.0
_STAFF_MIN = np.array([30, 20, 20, 0, 0])
_RD_AVG_MIN = np.array([3000.0, 1800.0, 0.0, 0.0, 0.0])
_PLATFORM_MIN = np.array([2, 1, 1, 2, 0])
_RD_SHARE_MIN = 0.03
_LEAD_MISS = 0.075
_LEAD_NEAR = 0.06

# Industry chains: one block per chain. A line is "stage name > fed、fed";
# an indented line is a sub-segment of the last top-level one; "!" marks a
# segment no member covers (a gap in the chain the checker should find).
_CHAIN_SPECS: tuple[tuple[str, str, str], ...] = (
    ("NEV", "新能源汽车", """
U 锂电正极材料 > 电芯制造
U 负极与电解液材料 > 电芯制造
U 车规级芯片 > 电池管理系统、电机控制器、智能座舱
U 轻量化车身材料 > 车身与底盘
M 动力电池 > 整车制造
  M 电芯制造 > 电池包集成
  M 电池管理系统 > 电池包集成
  M 电池包集成 > 整车制造
M 电驱动系统 > 整车制造
  M 驱动电机 > 电驱动系统
  M 电机控制器 > 电驱动系统
M 车身与底盘 > 整车制造
M 智能座舱 > 整车制造
D 整车制造 > 充换电服务、动力电池回收
D !充换电服务
D 动力电池回收 > 锂电正极材料
"""),
    ("CM", "工程机械", """
U 特种钢材 > 结构件制造
U 液压元件 > 整机装配
U 发动机与电驱动力 > 整机装配
U 工程机械控制器 > 整机装配
M 关键零部件 > 整机装配
  M 结构件制造 > 整机装配
  M 传动系统 > 整机装配
  M !高端轴承 > 传动系统
M 整机装配 > 智能施工解决方案、后市场服务
  M 装载机 > 后市场服务
  M 挖掘机 > 后市场服务
D 智能施工解决方案
D 后市场服务 > 再制造
D 再制造
"""),
    ("SUG", "糖业", """
U 甘蔗良种繁育 > 甘蔗机械化种植
U 甘蔗机械化种植 > 甘蔗收获与运输
U !甘蔗收获与运输 > 压榨与澄清
M 制糖加工 > 食品饮料应用
  M 压榨与澄清 > 精炼糖生产
  M 精炼糖生产 > 食品饮料应用
M 综合利用 > 生物基化学品
  M 糖蜜酒精 > 生物基化学品
  M 蔗渣板材与纸制品 > 包装材料
  M 滤泥有机肥 > 甘蔗机械化种植
D 食品饮料应用
D 生物基化学品
D 包装材料
"""),
    ("ALU", "铝精深加工", """
U 铝土矿开采 > 氧化铝冶炼
U 氧化铝冶炼 > 电解铝
U 电解铝 > 铝合金熔铸
U !高纯铝 > 电子铝箔
M 铝合金熔铸 > 铝板带箔、铝型材
M 铝板带箔 > 汽车轻量化部件
  M 电子铝箔 > 新能源电池应用
  M 电池铝箔 > 新能源电池应用
M 铝型材 > 建筑与轨道交通铝材
D 汽车轻量化部件
D 建筑与轨道交通铝材
D 新能源电池应用
D 再生铝回收 > 铝合金熔铸
"""),
    ("BIO", "生物医药", """
U 中药材种植 > 中药饮片
U 医药中间体 > 原料药
U !生物试剂与耗材 > 创新药研发、生物制品
M 原料药 > 化学药制剂
M 中药饮片 > 中成药
M 药物研发 > 化学药制剂
  M 创新药研发 > 临床研究服务
  M 临床研究服务 > 化学药制剂、生物制品
M 生产制造 > 医药流通
  M 化学药制剂 > 医药流通
  M 中成药 > 医药流通
  M 生物制品 > 医药流通
  M 医疗器械 > 医疗服务
D 医药流通 > 医疗服务
D 医疗服务
"""),
    ("IC", "集成电路", """
U 半导体材料 > 晶圆制造
U 电子特气 > 晶圆制造
U !半导体设备 > 晶圆制造、封装测试
U EDA工具 > 芯片设计
M 芯片设计 > 晶圆制造
  M 模拟芯片设计 > 晶圆制造
  M 射频芯片设计 > 晶圆制造
M 晶圆制造 > 封装测试
M 封装测试 > 消费电子、汽车电子、工业控制
  M 先进封装 > 消费电子
D 消费电子
D 汽车电子
D 工业控制
"""),
    ("MAT", "新材料", """
U 基础化工原料 > 高性能纤维、特种工程塑料
U 稀土与稀有金属 > 稀土功能材料
M 先进结构材料 > 复合材料构件
  M 高性能纤维 > 复合材料构件
  M 特种工程塑料 > 复合材料构件
M 功能材料 > 电子信息应用
  M 稀土功能材料 > 电子信息应用
  M 膜材料 > 环保水处理
  M !石墨烯材料 > 电子信息应用
D 复合材料构件 > 航空航天应用
D 电子信息应用
D 环保水处理
D 航空航天应用
"""),
    ("DIG", "数字经济", """
U 算力基础设施 > 云计算平台
U 数据资源 > 数据要素流通
U 北斗与传感器 > 物联网平台
M 云计算平台 > 工业互联网、智慧城市
M 物联网平台 > 工业互联网
M 数据要素流通 > 人工智能应用
M 软件与信息服务 > 工业互联网
  M 工业软件 > 工业互联网
  M 信息安全 > 智慧城市
D 工业互联网
D 智慧城市
D 人工智能应用
D !面向东盟跨境数字服务
"""),
    ("ARO", "芳烃及精细化工", """
U 原油加工 > 芳烃联合装置
U 芳烃联合装置 > 对二甲苯
M 对二甲苯 > 精对苯二甲酸
M 精对苯二甲酸 > 聚酯
M 聚酯 > 涤纶纤维、聚酯薄膜
M 精细化工 > 聚酯
  M 催化剂 > 芳烃联合装置
  M 功能助剂 > 聚酯
  M !电子化学品
D 涤纶纤维 > 纺织服装
D 聚酯薄膜
D 纺织服装
"""),
    ("EQP", "高端装备制造", """
U 数控系统 > 工业机器人、数控机床
U 精密减速器 > 工业机器人
U 伺服电机 > 工业机器人、数控机床
U 金属粉末材料 > 金属3D打印
M 工业机器人 > 智能制造系统集成
M 数控机床 > 智能制造系统集成
M 增材制造装备 > 航空航天零部件
  M 金属3D打印 > 航空航天零部件
  M 非金属3D打印 > 智能制造系统集成
D 智能制造系统集成
D 航空航天零部件
D !装备运维服务
"""),
)
#: Which chains each jurisdiction works on, and how often.
_CHAIN_MIX = np.array(
    # NEV   CM   SUG  ALU  BIO  IC   MAT  DIG  ARO  EQP
    [
        [0.18, 0.10, 0.14, 0.14, 0.14, 0.00, 0.10, 0.12, 0.00, 0.08],
        [0.10, 0.00, 0.12, 0.10, 0.20, 0.08, 0.10, 0.22, 0.00, 0.08],
        [0.35, 0.20, 0.08, 0.05, 0.00, 0.00, 0.10, 0.07, 0.00, 0.15],
        [0.00, 0.00, 0.00, 0.00, 0.08, 0.00, 0.25, 0.07, 0.40, 0.20],
        [0.12, 0.00, 0.00, 0.00, 0.20, 0.25, 0.10, 0.20, 0.00, 0.13],
    ]
)
#: Words naming what a company of each chain does ("南宁华科<智能装备>有限公司").
_CHAIN_TRADES = (
    "新能源汽车 汽车零部件 动力电池 电驱动科技 汽车电子 新能源科技",
    "工程机械 液压科技 重工机械 机械制造 智能装备 铸造",
    "糖业 制糖 农业科技 生物能源 食品 蔗业",
    "铝业 铝材 有色金属 轻合金 新材料 冶金",
    "生物科技 制药 医药 生物医药 医疗器械 药业",
    "半导体 微电子 集成电路 芯片科技 电子科技 光电",
    "新材料 材料科技 复合材料 化工 稀土 膜科技",
    "信息技术 软件 数字科技 网络科技 数据科技 智能科技",
    "石化 化工 精细化工 化纤 聚酯 新材料",
    "智能装备 机器人 数控 精密机械 自动化 装备制造",
)
#: Research fields of institutes, per chain ("南京<集成电路>研究院").
_CHAIN_FIELDS = (
    "新能源汽车技术 汽车工程 动力电池 智能网联汽车",
    "工程机械 智能装备 液压传动 机械工程",
    "甘蔗糖业 农业科学 生物质能源 食品工程",
    "轻金属 铝合金材料 有色金属 冶金工程",
    "生物医药 药物研究 中医药 医疗器械",
    "集成电路 微电子 半导体技术 先进封装",
    "先进材料 新材料 功能材料 复合材料",
    "数字经济 人工智能 大数据 软件技术",
    "石油化工 精细化工 化工新材料 催化技术",
    "智能制造 先进制造技术 增材制造 机器人技术",
)
_BRAND_CHARS = (
    "华科瑞联泰恒信达博宇鑫源创新正安通海天中金益德盛隆远嘉汇力凯航睿智晟峰锦宏昌"
    "奥亿捷辰铭诚合东康富祥丰兴旺永吉利宝光明星云骏朗卓越迅驰赛特威普英杰君诺维雅"
    "迪格森林湘邕桂柳辽宁江苏钟山紫晨曦鸿鹏飞腾龙凤麒麟泽润清澜川岳峻屹弘毅"
)
_SUFFIXES = ("有限公司", "股份有限公司", "集团有限公司", "有限责任公司")
_SUFFIX_P = np.array([0.60, 0.20, 0.08, 0.12])
_LEAD_SUFFIX_P = np.array([0.15, 0.50, 0.30, 0.05])
_SERVICE_TRADES = (
    "检测技术服务 检验认证 知识产权服务 科技咨询 工程技术咨询 科技金融服务 质量技术服务 "
    "计量测试技术 技术评估 融资担保"
)
_UNI_FIELDS = "理工 科技 工业 工程 医科 农业 师范 交通 电子科技 信息工程 化工 材料 财经 中医药"
_UNI_KINDS = ("大学", "学院", "职业技术学院")
_UNI_KIND_P = np.array([0.45, 0.35, 0.20])
#: Poetic place names universities take, per province code.
_REGIONAL = {
    "450000": "八桂 桂南 桂北 邕江 北部湾 右江 西江",
    "210000": "辽东 辽河 太子河 渤海 辽西",
    "320000": "金陵 钟山 江南 苏南 秦淮 紫金",
}
_INS_KINDS = ("研究院", "研究所", "产业技术研究院", "技术研究院有限公司")
_TT_KINDS = ("技术转移中心有限公司", "科技成果转化服务有限公司", "技术转移中心", "知识产权运营中心有限公司")
_OTHER_KINDS = ("产业协会", "行业协会", "产业技术创新战略联盟", "学会", "产业促进会")
#: Places of foreign members (units without a credit code).
_FOREIGN_PLACES = "越南河内 越南胡志明市 泰国曼谷 泰国清迈 新加坡 马来西亚吉隆坡 印度尼西亚万隆 德国亚琛 日本名古屋"
_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程魏"
    "苏吕丁任卢姚沈钟姜崔谭陆范汪廖石金韦贾夏付方邹熊白孟秦邱侯江尹薛闫段雷龙黎史陶贺毛郝顾龚邵"
    "万覃钱严赖洪武莫孔蒙农"
)
_GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超华平刚辉健斌波宁鹏飞林峰浩凯婷雪琳晨昊宇航志国建文"
    "立新海燕红霞玉兰春秋晓东博远卫兵德荣永庆光耀振中思源嘉怡佳悦子轩梓涵俊泽"
)
_PROJECT_TEMPLATES = (
    "关键技术研发及产业化", "关键共性技术攻关", "智能化升级示范应用", "核心部件国产化研制",
    "绿色低碳工艺开发与应用", "高可靠性设计与验证", "中试熟化与示范推广", "标准体系研究与应用",
)
_NAME_FOCUS = ("", "", "关键技术", "产业", "协同", "高质量发展")
_REVOKE_REASONS = (
    "牵头单位在科研诚信系统中有失信行为记录且仍在惩戒期内",
    "发生重大变更后不具备创新联合体基本条件",
    "提供虚假申报材料经核实影响评价结果",
    "不按要求配合科学技术行政部门统计调查",
    "牵头单位法人资格被依法终止",
)
_STATUS = ("active", "rectifying", "revoked", "terminated")
_GRADES = ("excellent", "good", "pass", "rectify", "revoke")
_GRADE_P = np.array([0.15, 0.35, 0.37, 0.11, 0.02])
_LEVELS = ("municipal", "provincial", "national")
_MISSING = np.iinfo(np.int64).min


# --------------------------------------------------------------------------
# Small vectorised helpers
# --------------------------------------------------------------------------


def _day(iso: str) -> int:
    """Days since 1970-01-01 of an ISO date: the generator's date representation."""
    return int(np.datetime64(iso, "D").astype(np.int64))


def _years(days: np.ndarray) -> np.ndarray:
    """Calendar year of each day number."""
    return days.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970


def _year_start(years: np.ndarray) -> np.ndarray:
    """Day number of 1 January of each year."""
    return (years - 1970).astype("datetime64[Y]").astype("datetime64[D]").astype(np.int64)


def _iso(days: np.ndarray) -> np.ndarray:
    """ISO strings for day numbers, '' where missing; one lookup table, no per-row formatting."""
    days = np.asarray(days, dtype=np.int64)
    out = np.full(len(days), "", dtype=object)
    ok = days != _MISSING
    if ok.any():
        lo, hi = int(days[ok].min()), int(days[ok].max())
        table = np.datetime_as_string(np.arange(lo, hi + 1).astype("datetime64[D]")).astype(object)
        out[ok] = table[days[ok] - lo]
    return out


_CENTS = np.array([""] + [f".{i:02d}".rstrip("0") for i in range(1, 100)], dtype=object)


def _money(values: np.ndarray, missing: np.ndarray | None = None) -> np.ndarray:
    """万元 as plain numbers with at most two decimals ('125386.5'), '' where missing."""
    cents = np.round(np.asarray(values, dtype=np.float64) * 100).astype(np.int64)
    out = (cents // 100).astype(str).astype(object) + _CENTS[cents % 100]
    if missing is not None:
        out[missing] = ""
    return out


def _ints(values: np.ndarray, missing: np.ndarray | None = None) -> np.ndarray:
    """Integers as strings, '' where missing."""
    out = np.asarray(values).astype(np.int64).astype(str).astype(object)
    if missing is not None:
        out[missing] = ""
    return out


def _bools(values: np.ndarray, missing: np.ndarray | None = None) -> np.ndarray:
    """'true'/'false', '' where missing."""
    out = np.array(["false", "true"], dtype=object)[np.asarray(values).astype(np.int64)]
    if missing is not None:
        out[missing] = ""
    return out


def _words(text: str) -> np.ndarray:
    """A space-separated vocabulary as an object array (for vectorised concatenation)."""
    return np.array(text.split(), dtype=object)


def _chars(text: str) -> np.ndarray:
    """Distinct characters of a string, in order, as an object array."""
    return np.array(list(dict.fromkeys(text)), dtype=object)


def _choice(rng: np.random.Generator, p: np.ndarray, size: int) -> np.ndarray:
    """Indices drawn with probabilities ``p`` (normalised)."""
    cdf = np.cumsum(p / p.sum())
    return np.minimum(np.searchsorted(cdf, rng.random(size), side="right"), len(p) - 1)


def _rows_choice(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One index per row of a probability matrix (each row its own distribution)."""
    cdf = np.cumsum(probs / probs.sum(axis=1, keepdims=True), axis=1)
    u = rng.random(len(probs))[:, None]
    return np.minimum((u >= cdf).sum(axis=1), probs.shape[1] - 1)


def _run_starts(keys: np.ndarray) -> np.ndarray:
    """Boolean mask of positions where a sorted key array changes value."""
    flag = np.ones(len(keys), dtype=bool)
    if len(keys) > 1:
        flag[1:] = keys[1:] != keys[:-1]
    return flag


def _rank_in_runs(keys: np.ndarray) -> np.ndarray:
    """0, 1, 2… within each run of equal values of a sorted key array."""
    starts = _run_starts(keys)
    idx = np.arange(len(keys))
    return idx - np.maximum.accumulate(np.where(starts, idx, 0))


def _power_pmf(mean: float, kmin: int, kmax: int) -> np.ndarray:
    """Probabilities over kmin..kmax of a truncated power law with the given mean.

    The exponent is found by bisection; a mean outside what the range allows is clipped.
    """
    k = np.arange(kmin, kmax + 1, dtype=np.float64)
    mean = min(max(mean, kmin), (kmin + kmax) / 2)
    lo, hi = 0.0, 12.0
    for _ in range(60):
        mid = (lo + hi) / 2
        w = (k / kmin) ** -mid
        if (w @ k) / w.sum() > mean:
            lo = mid
        else:
            hi = mid
    w = (k / kmin) ** -((lo + hi) / 2)
    return w / w.sum()


def _degree_pmfs(slots: np.ndarray, target_units: float, kmax: int) -> np.ndarray:
    """Per unit type, the distribution of consortia per unit over 1..kmax (a 6 x kmax array).

    ``slots`` counts the memberships of each type; the result makes about
    ``target_units`` units out of them: ordinary units follow :data:`_HEAD_PMF`
    and hubs a power law whose mean is solved for. If even the smallest hubs
    would leave too few units, there are no hubs and every unit follows one
    power law from 1 with the required mean.
    """
    k = np.arange(1, kmax + 1, dtype=np.float64)
    head = np.zeros(kmax)
    head[: len(_HEAD_PMF)] = _HEAD_PMF
    head_mean = float(head @ k)
    kmin = min(_HUB_MIN, kmax)

    def units(hub_mean: float) -> float:
        return float((slots / ((1 - _HUB_SHARE) * head_mean + _HUB_SHARE * hub_mean)).sum())

    if units(kmin) <= target_units:
        pmf = _power_pmf(max(slots.sum() / max(target_units, 1.0), 1.0), 1, kmax)
        return np.tile(pmf, (6, 1))
    lo, hi = float(kmin), (kmin + kmax) / 2
    for _ in range(60):
        mid = (lo + hi) / 2
        if units(mid) > target_units:
            lo = mid
        else:
            hi = mid
    hub = np.zeros(kmax)
    hub[kmin - 1 :] = _power_pmf((lo + hi) / 2, kmin, kmax)
    return (1 - _HUB_SHARE)[:, None] * head + _HUB_SHARE[:, None] * hub


def _names(rng: np.random.Generator, n: int, two_p: float = 0.1) -> np.ndarray:
    """Chinese personal names; with probability ``two_p`` two names joined by ';'."""
    sur, giv = _chars(_SURNAMES), _chars(_GIVEN)

    def one() -> np.ndarray:
        name = sur[rng.integers(0, len(sur), n)] + giv[rng.integers(0, len(giv), n)]
        second = np.where(rng.random(n) < 0.7, giv[rng.integers(0, len(giv), n)], "")
        return name + second

    first = one()
    other = one()
    return np.where(rng.random(n) < two_p, first + ";" + other, first)


# --------------------------------------------------------------------------
# Reference data: cities and chains
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Geo:
    """The city table as arrays, with what weighted sampling within a province needs."""

    code: np.ndarray
    name: np.ndarray
    short: np.ndarray
    prov: np.ndarray  # province index per city
    prov_code: np.ndarray  # per province
    prov_name: np.ndarray  # full Chinese name per province
    prov_short: np.ndarray
    cumw: np.ndarray  # cumulative weight over cities (sorted by province)
    prov_lo: np.ndarray  # cumulative weight before each province's first city
    prov_w: np.ndarray  # total weight of each province

    def city(self, code: str) -> int:
        """Index of a city by its code."""
        return int(np.flatnonzero(self.code == code)[0])

    def province(self, code: str) -> int:
        """Index of a province by its code."""
        return int(np.flatnonzero(self.prov_code == code)[0])

    def sample_in(self, prov: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """A city of each given province, drawn by economic weight."""
        x = self.prov_lo[prov] + rng.random(len(prov)) * self.prov_w[prov]
        return np.minimum(np.searchsorted(self.cumw, x, side="right"), len(self.code) - 1)

    def sample_all(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Cities anywhere in the country, drawn by economic weight."""
        x = rng.random(n) * self.cumw[-1]
        return np.minimum(np.searchsorted(self.cumw, x, side="right"), len(self.code) - 1)


def _short_city(name: str) -> str:
    """'南宁市' -> '南宁'; an autonomous prefecture keeps its first two characters."""
    for suffix in ("自治州", "地区", "盟"):
        if name.endswith(suffix):
            return name[:2]
    return name[:-1] if name.endswith("市") and len(name) > 2 else name


def _short_province(name: str) -> str:
    """'广西壮族自治区' -> '广西', '江苏省' -> '江苏'."""
    for suffix in ("壮族自治区", "回族自治区", "维吾尔自治区", "自治区", "省", "市"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def _load_geo() -> _Geo:
    """Arrays from :func:`consortia.geo.cities_table`, sorted by province."""
    t = cities_table().sort_values(["province_code", "code"], kind="stable").reset_index(drop=True)
    prov_codes, prov_idx = np.unique(t["province_code"].to_numpy(str), return_inverse=True)
    prov_names = t.groupby("province_code", sort=True)["province_zh"].first().to_numpy(object)
    weight = t["weight"].to_numpy(np.float64)
    cumw = np.cumsum(weight)
    first = np.searchsorted(prov_idx, np.arange(len(prov_codes)))
    prov_lo = np.where(first > 0, cumw[np.maximum(first - 1, 0)], 0.0)
    prov_w = np.bincount(prov_idx, weights=weight, minlength=len(prov_codes))
    names = t["name_zh"].to_numpy(object)
    return _Geo(
        code=t["code"].to_numpy(str),
        name=names,
        short=np.array([_short_city(s) for s in names], dtype=object),
        prov=prov_idx,
        prov_code=prov_codes,
        prov_name=prov_names,
        prov_short=np.array([_short_province(s) for s in prov_names], dtype=object),
        cumw=cumw,
        prov_lo=prov_lo,
        prov_w=prov_w,
    )


@dataclass(frozen=True)
class _Chains:
    """The chain catalogue: its table and the segment indices members may cover."""

    table: pd.DataFrame
    ids: np.ndarray  # chain ids
    names: np.ndarray  # chain names
    seg_ids: np.ndarray  # all segment ids, chains in order
    seg_names: np.ndarray
    seg_chain: np.ndarray  # chain index of each segment
    cover: np.ndarray  # global segment indices members may cover, grouped by chain
    cover_lo: np.ndarray  # per chain: offset into ``cover``
    cover_n: np.ndarray  # per chain: how many


def _load_chains() -> _Chains:
    """Parse :data:`_CHAIN_SPECS` into the chains table (fixed: it does not depend on the seed)."""
    stage_of = {"U": "upstream", "M": "midstream", "D": "downstream"}
    rows: list[dict[str, str]] = []
    seg_chain: list[int] = []
    coverable: list[bool] = []
    for ci, (cid, cname, spec) in enumerate(_CHAIN_SPECS):
        lines = [ln for ln in spec.splitlines() if ln.strip()]
        ids: dict[str, str] = {}
        parsed = []
        parent = ""
        for i, line in enumerate(lines):
            nested = line.startswith("  ")
            head, _, fed = line.strip().partition(" > ")
            stage, name = head.split(" ", 1)
            gap = name.startswith("!")
            name = name.lstrip("!")
            sid = f"{cid}-{i + 1:02d}"
            ids[name] = sid
            if not nested:
                parent = sid
            parsed.append((sid, name, stage_of[stage], parent if nested else "", fed, gap))
        for sid, name, stage, par, fed, gap in parsed:
            feeds = ";".join(ids[f] for f in fed.split("、")) if fed else ""
            rows.append(
                {"chain_id": cid, "chain_name": cname, "segment_id": sid, "segment_name": name,
                 "stage": stage, "parent": par, "feeds": feeds}
            )
            seg_chain.append(ci)
            coverable.append(not gap)
    table = pd.DataFrame(rows, columns=list(COLUMNS["chains"]))
    seg_chain_a = np.array(seg_chain)
    cover = np.flatnonzero(np.array(coverable))
    n_chains = len(_CHAIN_SPECS)
    cover_n = np.bincount(seg_chain_a[cover], minlength=n_chains)
    cover_lo = np.concatenate([[0], np.cumsum(cover_n)[:-1]])
    return _Chains(
        table=table,
        ids=np.array([c[0] for c in _CHAIN_SPECS], dtype=object),
        names=np.array([c[1] for c in _CHAIN_SPECS], dtype=object),
        seg_ids=table["segment_id"].to_numpy(object),
        seg_names=table["segment_name"].to_numpy(object),
        seg_chain=seg_chain_a,
        cover=cover,
        cover_lo=cover_lo,
        cover_n=cover_n,
    )


_geo_cache: list[_Geo] = []
_chains_cache: list[_Chains] = []


def _reference() -> tuple[_Geo, _Chains]:
    """The city table and chain catalogue, built once per process."""
    if not _geo_cache:
        _geo_cache.append(_load_geo())
        _chains_cache.append(_load_chains())
    return _geo_cache[0], _chains_cache[0]


# --------------------------------------------------------------------------
# The plan: consortia ("bodies"), their leads and member slots
# --------------------------------------------------------------------------


@dataclass
class _Bodies:
    """One entry per distinct consortium; the Nanning copies are added at the end."""

    jur: np.ndarray
    home: np.ndarray  # city index
    chain: np.ndarray
    recognized: np.ndarray  # day number
    size: np.ndarray  # planned number of memberships
    n_leads: np.ndarray
    copy_source: np.ndarray  # indices of the Guangxi bodies Nanning recognised directly
    low_local: np.ndarray  # bool: deliberately few local members
    no_research: np.ndarray  # bool: Nanjing consortium without university or institute
    one_type: np.ndarray  # bool: all members enterprises (breaks "2类及以上")


def _plan_bodies(n: int, rng: np.random.Generator, geo: _Geo, size_mean: float) -> _Bodies:
    """Jurisdiction, home city, chain, date and size of every distinct consortium."""
    n_copy = max(1, round(n * _COPY_SHARE)) if n >= 10 else 0
    nb = n - n_copy
    share = _JUR_SHARE.copy()
    share[_NN] -= _COPY_SHARE
    jur = _choice(rng, share, nb)
    if nb >= 5:
        jur[:5] = np.arange(5)  # every jurisdiction present, however small the registry
    gx = np.flatnonzero(jur == _GX)
    if len(gx) < n_copy:  # tiny registries: make enough Guangxi bodies to copy from
        extra = np.setdiff1d(np.arange(5, nb), gx)[: n_copy - len(gx)]
        jur[extra] = _GX
        gx = np.flatnonzero(jur == _GX)
    copy_source = np.sort(rng.choice(gx, size=n_copy, replace=False)) if n_copy else gx[:0]

    nanning = geo.city(_JUR_CITY[_NN])
    home = np.zeros(nb, dtype=np.int64)
    for j in range(1, 5):
        home[jur == j] = geo.city(_JUR_CITY[j])
    home[gx] = geo.sample_in(np.full(len(gx), geo.province(_PROV_GUANGXI)), rng)
    home[copy_source] = nanning

    chain = _rows_choice(rng, _CHAIN_MIX[jur])
    lo = np.array([_day(w[0]) for w in _JUR_WINDOW])[jur]
    hi = np.array([_day(w[1]) for w in _JUR_WINDOW])[jur]
    # More consortia in recent years, as programmes grew.
    recognized = lo + np.floor(rng.random(nb) ** 0.75 * (hi - lo + 1)).astype(np.int64)

    minimum = np.array([6, 6, 8, 8, 6])[jur]
    size = np.round(np.exp(rng.normal(np.log(size_mean / 1.2), 0.55, nb))).astype(np.int64)
    size = np.clip(size, minimum, int(size_mean * 6) + 10)
    small = rng.random(nb) < 0.02  # a few below the minimum member count, on purpose
    size[small] = rng.integers(3, minimum[small])
    n_leads = np.where((jur == _LZ) & (rng.random(nb) < 0.10), 2, 1)
    return _Bodies(
        jur=jur,
        home=home,
        chain=chain,
        recognized=recognized,
        size=np.maximum(size, n_leads + 2),
        n_leads=n_leads,
        copy_source=copy_source,
        low_local=rng.random(nb) < 0.03,
        no_research=(jur == _NJ) & (rng.random(nb) < 0.05),
        one_type=(jur != _NJ) & (rng.random(nb) < 0.01),
    )


@dataclass
class _Leads:
    """One entry per lead slot: where the lead is and whether it meets its text."""

    body: np.ndarray
    jur: np.ndarray
    state: np.ndarray  # 0 meets every threshold, 1 misses one, 2 just meets one
    criterion: np.ndarray  # the criterion missed or just met, -1 if none
    city: np.ndarray  # registered
    ops: np.ndarray
    type: np.ndarray
    sector: np.ndarray


def _other_city(geo: _Geo, prov: int, avoid: int, rng: np.random.Generator, n: int) -> np.ndarray:
    """Cities of one province other than ``avoid``, drawn by weight."""
    out = geo.sample_in(np.full(n, prov), rng)
    bad = out == avoid
    while bad.any():
        out[bad] = geo.sample_in(np.full(int(bad.sum()), prov), rng)
        bad = out == avoid
    return out


def _plan_leads(b: _Bodies, rng: np.random.Generator, geo: _Geo) -> _Leads:
    """Lead slots with their cities and which threshold, if any, they miss or just meet."""
    body = np.repeat(np.arange(len(b.jur)), b.n_leads)
    jur = b.jur[body]
    n = len(body)
    n_crit = np.array([len(c) for c in _CRITERIA])[jur]
    crit_table = np.full((5, 8), -1)
    for j, cs in enumerate(_CRITERIA):
        crit_table[j, : len(cs)] = cs
    u = rng.random(n)
    state = np.where(u < _LEAD_MISS, 1, np.where(u < _LEAD_MISS + _LEAD_NEAR, 2, 0))
    state[n_crit == 0] = 0
    pick = np.minimum((rng.random(n) * np.maximum(n_crit, 1)).astype(np.int64), 7)
    criterion = np.where(state > 0, crit_table[jur, pick], -1)
    is_source = np.isin(body, b.copy_source)
    # A copied Guangxi record's lead must work in Nanning: that is what made it eligible.
    state[is_source & (criterion == _C_OPS)] = 0
    criterion[state == 0] = -1
    miss = state == 1

    gx_prov, ln_prov, js_prov = (geo.province(c) for c in (_PROV_GUANGXI, "210000", "320000"))
    nanning, liuzhou, liaoyang = (geo.city(_JUR_CITY[j]) for j in (_NN, _LZ, _LY))
    home = b.home[body]
    city = home.copy()
    ops = home.copy()
    m = (jur == _GX) & (rng.random(n) < 0.10)
    ops[m] = geo.sample_in(np.full(int(m.sum()), gx_prov), rng)
    m = (jur == _GX) & is_source & (rng.random(n) < 0.10)
    city[m] = _other_city(geo, gx_prov, nanning, rng, int(m.sum()))
    ops[(jur == _GX) & is_source] = nanning
    m = (jur == _GX) & miss & (criterion == _C_OPS)
    ops[m] = geo.sample_in(np.full(int(m.sum()), geo.province("440000")), rng)  # Guangdong
    m2 = m & (rng.random(n) < 0.6)  # often a company from outside Guangxi altogether
    city[m2] = ops[m2]
    m = (jur == _NN) & (rng.random(n) < 0.12)
    city[m] = _other_city(geo, gx_prov, nanning, rng, int(m.sum()))
    m = (jur == _NN) & miss & (criterion == _C_OPS)
    ops[m] = _other_city(geo, gx_prov, nanning, rng, int(m.sum()))
    city[m] = ops[m]
    m = (jur == _LZ) & (rng.random(n) < 0.05)
    ops[m] = _other_city(geo, gx_prov, liuzhou, rng, int(m.sum()))
    m = (jur == _LZ) & miss & (criterion == _C_REGCITY)
    city[m] = _other_city(geo, gx_prov, liuzhou, rng, int(m.sum()))
    ops[m] = liuzhou
    m = (jur == _LY) & miss & (criterion == _C_REGCITY)
    city[m] = _other_city(geo, ln_prov, liaoyang, rng, int(m.sum()))
    m = (jur == _NJ) & (rng.random(n) < 0.10)
    city[m] = geo.sample_in(np.full(int(m.sum()), js_prov), rng)
    ops[jur == _NJ] = city[jur == _NJ]

    typ = np.zeros(n, dtype=np.int64)
    u = rng.random(n)
    typ[(jur == _NJ) & (u < 0.12)] = _INS  # Nanjing lets major platforms lead
    typ[(jur == _NJ) & (u >= 0.12) & (u < 0.15)] = _UNI
    typ[(jur != _NJ) & (u < 0.003)] = _INS  # a lead that is not an enterprise, on purpose
    sector = np.where(jur == _LZ, _choice(rng, np.array([0.8, 0.2, 0.0]), n),
                      _choice(rng, np.array([0.72, 0.22, 0.06]), n))
    return _Leads(body, jur, state, criterion, city, ops, typ, sector)


def _floor_cents(x: np.ndarray) -> np.ndarray:
    """Round down to 0.01 so that a value meant to be under a line stays under it."""
    return np.floor(x * 100) / 100


def _ceil_cents(x: np.ndarray) -> np.ndarray:
    """Round up to 0.01 so that a value meant to reach a line reaches it."""
    return np.ceil(np.round(x * 100, 6)) / 100


def _lead_attributes(ld: _Leads, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Economic attributes of each lead slot, set against the thresholds of its text.

    A lead that "misses" gets a value just under the line (85–99.9 % of it, or
    one level/person short); one that "just meets" gets the line itself or
    barely above it, so a checker's ``>=`` versus ``>`` is tested too.
    """
    n = len(ld.body)
    jur, state, crit = ld.jur, ld.state, ld.criterion
    miss = lambda c: (state == 1) & (crit == c)  # noqa: E731
    near = lambda c: (state == 2) & (crit == c)  # noqa: E731
    exact = rng.random(n) < 0.25

    years = 3 + np.minimum(np.floor(rng.lognormal(np.log(12), 0.6, n)), 60).astype(np.int64)
    years[rng.random(n) < 0.02] = 2
    y_eff = np.minimum(years, 3)

    rmin = _REVENUE_MIN[jur].copy()
    rmin[(jur == _LZ) & (ld.sector == 1)] = _LIUZHOU_SERVICES_REVENUE_MIN
    base = np.maximum(rmin, np.array([0, 0, 0, 20000.0, 50000.0])[jur])
    revenue = base * (1.03 + 0.8 * rng.lognormal(0, 0.9, n))
    m = miss(_C_REVENUE)
    revenue[m] = _floor_cents(rmin[m] * rng.uniform(0.85, 0.999, int(m.sum())))
    m = near(_C_REVENUE)
    revenue[m] = np.where(exact[m], rmin[m], _ceil_cents(rmin[m] * rng.uniform(1.0005, 1.03, int(m.sum()))))
    revenue = np.round(revenue, 2)

    smin = _STAFF_MIN[jur]
    staff = np.maximum(smin, 15) + np.floor(rng.lognormal(np.log(40), 0.8, n)).astype(np.int64)
    m = miss(_C_STAFF)
    staff[m] = smin[m] - rng.integers(1, 4, int(m.sum()))
    m = near(_C_STAFF)
    staff[m] = smin[m] + np.where(exact[m], 0, rng.integers(1, 3, int(m.sum())))

    growth = np.array([1.0, 1.9, 2.7])[y_eff - 1]
    sales = np.round(revenue * growth * rng.uniform(0.95, 1.05, n), 2)
    rd = np.round(sales * rng.uniform(0.033, 0.09, n), 2)
    amin = _RD_AVG_MIN[jur] * y_eff
    line = np.where(amin > 0, np.minimum(amin, _RD_SHARE_MIN * sales), _RD_SHARE_MIN * sales)
    m = miss(_C_RD)
    rd[m] = _floor_cents(line[m] * rng.uniform(0.85, 0.995, int(m.sum())))
    m = near(_C_RD)
    rd[m] = _ceil_cents(line[m] * np.where(exact[m], 1.0, rng.uniform(1.001, 1.02, int(m.sum()))))

    pmin = _PLATFORM_MIN[jur]
    platform = np.maximum(pmin, _choice(rng, np.array([0.05, 0.2, 0.5, 0.25]), n))
    m = miss(_C_PLATFORM)
    platform[m] = pmin[m] - 1
    m = near(_C_PLATFORM)
    platform[m] = pmin[m]

    tech = (rng.random(n) < 0.92) | (jur == _GX)
    tech[miss(_C_TECH)] = False
    deduct = (rng.random(n) < 0.88) | (jur == _LZ)
    deduct[miss(_C_DEDUCT)] = False
    return {
        "revenue": revenue, "rd_staff": staff.astype(np.float64), "rd_spend_3y": rd,
        "sales_3y": sales, "years_operating": years.astype(np.float64),
        "platform": platform, "tech": tech.astype(np.int64), "deduct": deduct.astype(np.int64),
        "sector": ld.sector,
    }


@dataclass
class _Slots:
    """Non-lead member slots of the bodies: one per planned membership."""

    body: np.ndarray
    type: np.ndarray
    city: np.ndarray
    local: np.ndarray  # bool: drawn as the consortium's home city (not province or country)
    role: np.ndarray  # 1 core, 2 close, 3 general


def _plan_slots(b: _Bodies, rng: np.random.Generator, geo: _Geo) -> _Slots:
    """Type, registered city and tier of every non-lead membership."""
    k = b.size - b.n_leads
    body = np.repeat(np.arange(len(k)), k)
    pos = np.arange(len(body)) - np.repeat(np.cumsum(k) - k, k)
    jur = b.jur[body]
    typ = _rows_choice(rng, _TYPE_MIX[jur])
    research = b.no_research[body]
    typ[(jur == _NJ) & (pos == 0)] = np.where(rng.random(int(((jur == _NJ) & (pos == 0)).sum())) < 0.5, _UNI, _INS)
    typ[research & ((typ == _UNI) | (typ == _INS))] = _ENT
    typ[b.one_type[body]] = _ENT

    probs = _LOCALITY[jur]
    probs[b.low_local[body]] = (0.12, 0.18, 0.70)
    mode = _rows_choice(rng, probs)
    home = b.home[body]
    city = home.copy()
    m = mode == 1
    city[m] = geo.sample_in(geo.prov[home[m]], rng)
    m = mode == 2
    city[m] = geo.sample_all(int(m.sum()), rng)
    role = _rows_choice(rng, _ROLE_BY_TYPE[typ]) + 1
    return _Slots(body=body, type=typ, city=city, local=mode == 0, role=role)


def _form_member_units(
    s: _Slots, n_bodies: int, city_prov: np.ndarray, target_units: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Group member slots into units; returns (unit of each slot, unit city, unit type).

    Slots of one place and type are laid out so that neighbours belong to
    different consortia (interleaved by each consortium's rank within the
    group), then cut into runs whose lengths follow :func:`_degree_pmfs`:
    each run is one unit, a member of that many consortia. So the heavy tail and locality
    come out of one sort, with no loop over units. Slots drawn from the home
    province or the whole country are grouped by province, so that a unit
    from afar can also sit in several consortia of a small registry; such a
    unit is registered in the city of its first slot.
    """
    n = len(s.body)
    n_cities = len(city_prov)
    places = n_cities + int(city_prov.max()) + 1
    group = s.type * places + np.where(s.local, s.city, n_cities + city_prov[s.city])
    ord1 = np.lexsort((rng.random(n), s.body, group))
    rank = np.empty(n, dtype=np.int64)
    rank[ord1] = _rank_in_runs(group[ord1] * n_bodies + s.body[ord1])
    ord2 = np.lexsort((rng.random(n), rank, group))
    gs = group[ord2]
    ts = gs // places
    flags = _run_starts(gs)

    per_type = np.bincount(ts, minlength=6).astype(np.float64)
    n_groups = int(flags.sum())
    # Hubs in at most a fifth of the consortia: a small registry has no room for more.
    kmax = int(min(_HUB_MAX, max(60, n_bodies // 5)))
    pmfs = _degree_pmfs(per_type, max(target_units - n_groups * 0.5, 1.0), kmax)
    for t in range(6):
        where = np.flatnonzero(ts == t)
        if not len(where):
            continue
        lo, length = int(where[0]), len(where)
        cdf = np.cumsum(pmfs[t])
        cdf /= cdf[-1]
        mean = float(pmfs[t] @ np.arange(1, kmax + 1))
        draws = np.searchsorted(cdf, rng.random(int(length / mean) + 64), side="right") + 1
        while draws.sum() < length:
            more = np.searchsorted(cdf, rng.random(len(draws) + 64), side="right") + 1
            draws = np.concatenate([draws, more])
        cut = np.cumsum(draws)
        flags[lo + cut[cut < length]] = True
    unit_sorted = np.cumsum(flags) - 1
    unit = np.empty(n, dtype=np.int64)
    unit[ord2] = unit_sorted
    firsts = ord2[flags]
    return unit, s.city[firsts], s.type[firsts]


def _form_lead_units(ld: _Leads, n_cities: int, offset: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Unit of each lead slot and, per lead unit, the lead slot that defines it.

    Nearly every lead leads one consortium; about one in a hundred leads a
    second one in the same city and jurisdiction (the texts allow one, "原则上").
    """
    n = len(ld.body)
    group = (ld.type * 5 + ld.jur) * n_cities + ld.city
    order = np.lexsort((rng.random(n), group))
    gs, bs = group[order], ld.body[order]
    flags = np.ones(n, dtype=bool)
    if n > 1:
        join = (rng.random(n - 1) < 0.01) & (gs[1:] == gs[:-1]) & (bs[1:] != bs[:-1])
        flags[1:] = ~join
    unit_sorted = offset + np.cumsum(flags) - 1
    unit = np.empty(n, dtype=np.int64)
    unit[order] = unit_sorted
    return unit, order[flags]


def _merge_leads_into_members(
    lead_units: np.ndarray, lead_city: np.ndarray, member_city: np.ndarray, member_ok: np.ndarray,
    share: float, rng: np.random.Generator,
) -> np.ndarray:
    """Map some member units onto lead units of the same city: leads join other consortia too.

    Returns, per member unit, the lead unit that replaces it or -1.
    """
    remap = np.full(len(member_city), -1, dtype=np.int64)
    chosen = np.flatnonzero(rng.random(len(lead_units)) < share)
    cand = np.flatnonzero(member_ok)
    if not len(chosen) or not len(cand):
        return remap
    big = np.int64(1) << 32
    c_order = cand[np.lexsort((rng.random(len(cand)), member_city[cand]))]
    c_key = member_city[c_order] * big + _rank_in_runs(member_city[c_order])
    l_order = chosen[np.lexsort((rng.random(len(chosen)), lead_city[chosen]))]
    l_key = lead_city[l_order] * big + _rank_in_runs(lead_city[l_order])
    pos = np.minimum(np.searchsorted(c_key, l_key), len(c_key) - 1)
    hit = c_key[pos] == l_key
    remap[c_order[pos[hit]]] = lead_units[l_order[hit]]
    return remap


def _pair_table(ch: _Chains) -> np.ndarray:
    """Strings 'a;b' for every pair of segment indices (b = len(segments) means none)."""
    ids = [*ch.seg_ids, ""]
    n = len(ch.seg_ids)
    return np.array(
        [ids[a] if b == n else ";".join(sorted((ids[a], ids[b]))) for a in range(n) for b in range(n + 1)],
        dtype=object,
    )


def _segments(ch: _Chains, chain: np.ndarray, two_p: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One or two coverable segments of the given chain per row, as ';'-joined ids."""
    n = len(chain)
    lo, cnt = ch.cover_lo[chain], ch.cover_n[chain]
    a = ch.cover[lo + (rng.random(n) * cnt).astype(np.int64)]
    b = ch.cover[lo + (rng.random(n) * cnt).astype(np.int64)]
    nseg = len(ch.seg_ids)
    b = np.where((rng.random(n) < two_p) & (a != b), b, nseg)
    return _pair_table(ch)[a * (nseg + 1) + b]


def _member_attributes(typ: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Attributes of units that lead nothing, by type (NaN / -1 where missing)."""
    n = len(typ)
    company = (typ == _ENT) | (typ == _SVC) | (typ == _TT)
    uni, ins, oth = typ == _UNI, typ == _INS, typ == _OTH
    nan = np.full(n, np.nan)

    years = 3 + np.floor(rng.lognormal(np.log(8), 0.6, n))
    young = company & (rng.random(n) < 0.04)
    years[young] = rng.integers(1, 3, int(young.sum()))
    years[uni] = rng.integers(15, 100, int(uni.sum()))
    years = np.minimum(years, 120)
    y_eff = np.minimum(years, 3).astype(np.int64)

    scale = np.where(typ == _ENT, 5000.0, np.where(ins, 3000.0, 1200.0))
    revenue = np.round(np.clip(rng.lognormal(np.log(scale), 1.3), 50, 3_000_000), 2)
    revenue[uni | oth | (ins & (rng.random(n) < 0.5))] = np.nan
    growth = np.array([1.0, 1.9, 2.7])[y_eff - 1]
    sales = np.round(revenue * growth * rng.uniform(0.9, 1.05, n), 2)
    rd = np.round(sales * np.clip(rng.lognormal(np.log(0.03), 0.7, n), 0.002, 0.4), 2)

    staff_scale = np.select([uni, ins, oth], [600.0, 120.0, 5.0], 12.0)
    staff = np.maximum(np.round(rng.lognormal(np.log(staff_scale), 0.8)), 1)

    platform = np.select(
        [uni, ins, oth],
        [_choice(rng, np.array([0.05, 0.1, 0.55, 0.3]), n),
         _choice(rng, np.array([0.1, 0.25, 0.5, 0.15]), n),
         _choice(rng, np.array([0.85, 0.15, 0.0, 0.0]), n)],
        _choice(rng, np.array([0.55, 0.28, 0.13, 0.04]), n),
    )
    tech = np.where(company, rng.random(n) < 0.55, ins & (rng.random(n) < 0.3)).astype(np.int64)
    deduct = np.where(company | ins, (rng.random(n) < 0.6).astype(np.int64), -1)
    sector = np.select(
        [typ == _ENT, company, ins, oth],
        [_choice(rng, np.array([0.6, 0.28, 0.12]), n), _choice(rng, np.array([0.0, 0.85, 0.15]), n),
         np.ones(n, dtype=np.int64), np.full(n, 2)],
        -1,
    )
    # Registries are incomplete: a few values left blank.
    for arr in (revenue, staff):
        arr[rng.random(n) < 0.02] = np.nan
    platform[rng.random(n) < 0.02] = -1
    return {
        "revenue": revenue, "rd_staff": staff, "rd_spend_3y": np.where(np.isnan(revenue), nan, rd),
        "sales_3y": sales, "years_operating": years, "platform": platform, "tech": tech,
        "deduct": deduct, "sector": sector,
    }


def _unit_names(
    typ: np.ndarray, kind: np.ndarray, city: np.ndarray, chain: np.ndarray, lead: np.ndarray,
    geo: _Geo, rng: np.random.Generator,
) -> np.ndarray:
    """Fictional, plausible and unique Chinese names ("柳州华瑞汽车零部件股份有限公司").

    ``kind`` is the two-character code prefix ('91' company, '12' public
    institution, '52' private non-enterprise, '51' association), which decides
    the legal-form suffix. Duplicates are redrawn with a brand until none is left.
    """
    n = len(typ)
    brand_chars = _chars(_BRAND_CHARS)
    trades = np.array([w for line in _CHAIN_TRADES for w in line.split()], dtype=object)
    fields = np.array([w for line in _CHAIN_FIELDS for w in line.split()], dtype=object)
    n_trade, n_field = len(_CHAIN_TRADES[0].split()), len(_CHAIN_FIELDS[0].split())
    svc, uni_fields = _words(_SERVICE_TRADES), _words(_UNI_FIELDS)
    foreign = _words(_FOREIGN_PLACES)
    regional = {geo.province(p): _words(w) for p, w in _REGIONAL.items()}
    cshort = geo.short[city]
    pshort = geo.prov_short[geo.prov[city]]

    def draw(idx: np.ndarray, brand_p: float, brand_len: int) -> np.ndarray:
        m = len(idx)
        t, k, c = typ[idx], kind[idx], chain[idx]
        place = np.where(rng.random(m) < 0.85, cshort[idx], pshort[idx])
        place = np.where(k == "XX", foreign[rng.integers(0, len(foreign), m)], place)
        brand = brand_chars[rng.integers(0, len(brand_chars), m)]
        for _ in range(brand_len - 1):
            brand = brand + brand_chars[rng.integers(0, len(brand_chars), m)]
        opt_brand = np.where(rng.random(m) < brand_p, brand, "")
        suffix = np.array(_SUFFIXES, dtype=object)[
            np.where(lead[idx], _choice(rng, _LEAD_SUFFIX_P, m), _choice(rng, _SUFFIX_P, m))
        ]
        trade = trades[c * n_trade + rng.integers(0, n_trade, m)]
        field = fields[c * n_field + rng.integers(0, n_field, m)]
        out = place + brand + trade + suffix  # enterprise
        sv = svc[rng.integers(0, len(svc), m)]
        out = np.where(t == _SVC, place + brand + sv + np.where(k == "52", "中心", "有限公司"), out)
        ttk = np.array(_TT_KINDS, dtype=object)[rng.integers(0, len(_TT_KINDS), m)]
        ttk = np.where(k == "12", "技术转移中心", np.where(ttk == "技术转移中心", "技术转移中心有限公司", ttk))
        out = np.where(t == _TT, place + brand + ttk, out)
        uplace = place.copy()
        for p, words in regional.items():
            sel = (geo.prov[city[idx]] == p) & (k != "XX") & (rng.random(m) < 0.3)
            uplace[sel] = words[rng.integers(0, len(words), int(sel.sum()))]
        ukind = np.array(_UNI_KINDS, dtype=object)[_choice(rng, _UNI_KIND_P, m)]
        ufield = uni_fields[rng.integers(0, len(uni_fields), m)]
        out = np.where(t == _UNI, uplace + opt_brand + ufield + ukind, out)
        ikind = np.array(_INS_KINDS, dtype=object)[rng.integers(0, 3, m)]
        out = np.where(t == _INS, place + opt_brand + field + ikind, out)
        okind = np.array(_OTHER_KINDS, dtype=object)[rng.integers(0, len(_OTHER_KINDS), m)]
        out = np.where(t == _OTH, place + opt_brand + field + okind, out)
        return out

    names = draw(np.arange(n), 0.4, 2)
    for attempt in range(40):
        dup = np.flatnonzero(pd.Series(names).duplicated().to_numpy())
        if not len(dup):
            break
        names[dup] = draw(dup, 1.0, 2 if attempt < 10 else 3)
    else:  # pragma: no cover - 40 rounds of redraws leave no duplicate in practice
        raise RuntimeError("could not draw unique unit names")
    return names


def _codes(prefix: np.ndarray, division: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Valid, distinct credit codes; the rare collision is redrawn."""
    codes = make_codes(prefix, division, rng)
    for _ in range(20):
        dup = np.flatnonzero(pd.Series(codes).duplicated().to_numpy())
        if not len(dup):
            return codes
        codes[dup] = make_codes(prefix[dup], division[dup], rng)
    raise RuntimeError("could not draw distinct credit codes")  # pragma: no cover


def _typo(codes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Each code with one character (positions 3–17) replaced by another GB 32100 character.

    A single substitution always breaks the mod-31 check, as a clerk's typo does.
    """
    if not len(codes):
        return codes
    mat = np.frombuffer("".join(codes).encode(), dtype=np.uint8).reshape(len(codes), 18).copy()
    alpha = np.frombuffer(ALPHABET.encode(), dtype=np.uint8)
    value = np.full(256, 0, dtype=np.int64)
    value[alpha] = np.arange(31)
    rows = np.arange(len(codes))
    pos = rng.integers(2, 17, len(codes))
    mat[rows, pos] = alpha[(value[mat[rows, pos]] + rng.integers(1, 31, len(codes))) % 31]
    return np.array([r.tobytes().decode() for r in mat], dtype=object)


def generate(
    n_consortia: int,
    seed: int = 0,
    *,
    members_per_consortium: float = 30.0,
    units_per_consortium: float = 10.0,
) -> dict[str, pd.DataFrame]:
    """A fictional registry of about ``n_consortia`` consortia, the same for the same seed.

    Returns the eight tables of shared/data-model.md (``units``, ``consortia``,
    ``memberships``, ``chains``, ``evaluations``, ``annual_reports``,
    ``projects``, ``project_members``) with their canonical English columns;
    every cell is a string in canonical written form, ready for :func:`write_csv`.

    On average a consortium has ``members_per_consortium`` memberships and the
    registry ``units_per_consortium`` units per consortium. Their ratio is the
    mean number of consortia a unit belongs to; at the default, 3, that takes a
    fat tail: counting current memberships of distinct consortia, about 66 % of
    units sit in one, 27 % in two or three, 3 % in four to six and 3.6 % are
    hubs in seven or more (a quarter to a third of universities and
    institutes) that hold about half of all memberships. A ratio nearer 1.5
    (say ``units_per_consortium=20``) drops the hubs. About one consortium in a
    hundred has handed its lead over to a core enterprise (:func:`_lead_handovers`).
    The snapshot date is :data:`AS_OF`.

    >>> tables = generate(50, seed=1)
    >>> sorted(tables) == sorted(COLUMNS)
    True
    >>> tables["consortia"].shape[0]
    50
    """
    if n_consortia < 1:
        raise ValueError(f"n_consortia must be at least 1, not {n_consortia}")
    if members_per_consortium < 4 or units_per_consortium <= 0:
        raise ValueError("members_per_consortium must be >= 4 and units_per_consortium > 0")
    rng = np.random.default_rng(seed)
    geo, ch = _reference()
    n_cities = len(geo.code)
    as_of = _day(AS_OF)

    # ---- plan: bodies, leads, member slots -------------------------------
    b = _plan_bodies(n_consortia, rng, geo, members_per_consortium * 1.05)
    nb = len(b.jur)
    ld = _plan_leads(b, rng, geo)
    lattr = _lead_attributes(ld, rng)
    s = _plan_slots(b, rng, geo)

    # ---- units: member runs, lead units, leads that are also members ------
    merge_share = 0.25
    lead_est = len(ld.body) * 0.99
    target = units_per_consortium * n_consortia - lead_est * (1 - merge_share * 0.9)
    m_unit, mu_city, mu_type = _form_member_units(s, nb, geo.prov, target, rng)
    n_mu = len(mu_city)
    l_unit, l_def = _form_lead_units(ld, n_cities, n_mu, rng)
    lu_ids = n_mu + np.arange(len(l_def))
    ent_leads = ld.type[l_def] == _ENT
    remap = _merge_leads_into_members(
        lu_ids[ent_leads], ld.city[l_def][ent_leads], mu_city, mu_type == _ENT, merge_share, rng
    )
    m_unit = np.where(remap[m_unit] >= 0, remap[m_unit], m_unit)

    cons = np.concatenate([ld.body, s.body])
    unit = np.concatenate([l_unit, m_unit])
    role = np.concatenate([np.zeros(len(ld.body), dtype=np.int64), s.role])
    total = n_mu + len(l_def)
    key = cons * total + unit
    order = np.lexsort((role, key))
    keep = order[_run_starts(key[order])]  # one membership per unit and consortium, best tier
    cons, unit, role = cons[keep], unit[keep], role[keep]
    used, unit = np.unique(unit, return_inverse=True)
    is_lead_unit = used >= n_mu
    lead_slot = np.where(is_lead_unit, l_def[np.clip(used - n_mu, 0, len(l_def) - 1)], -1)
    u_type = np.where(is_lead_unit, ld.type[np.maximum(lead_slot, 0)], mu_type[np.minimum(used, n_mu - 1)])
    u_city = np.where(is_lead_unit, ld.city[np.maximum(lead_slot, 0)], mu_city[np.minimum(used, n_mu - 1)])

    # ---- Nanning records recognised from Guangxi: the same members again --
    n_copy = len(b.copy_source)
    per_body = np.bincount(cons, minlength=nb)
    starts = np.cumsum(per_body) - per_body
    reps = per_body[b.copy_source]
    src_rows = np.repeat(starts[b.copy_source], reps) + _rank_in_runs(np.repeat(np.arange(n_copy), reps))
    body_rows = len(cons)

    # ---- consortium records ----------------------------------------------
    n = nb + n_copy
    jur = np.concatenate([b.jur, np.full(n_copy, _NN)])
    chain = np.concatenate([b.chain, b.chain[b.copy_source]])
    recognized = np.concatenate([
        b.recognized,
        np.clip(b.recognized[b.copy_source] + rng.integers(20, 400, n_copy),
                _day(_JUR_WINDOW[_NN][0]), _day(_JUR_WINDOW[_NN][1])),
    ])
    cons_all = np.concatenate([cons, nb + np.repeat(np.arange(n_copy), reps)])
    row_src = np.concatenate([np.arange(body_rows), src_rows])  # body row each row copies
    unit_all, role_all = unit[row_src], role[row_src]

    # ---- units table -----------------------------------------------------
    units, codes = _units_table(
        u_type, u_city, lead_slot, ld, lattr, cons, unit, b, geo, rng, as_of
    )

    # ---- memberships -----------------------------------------------------
    seg = _segments(ch, b.chain[cons], np.where(role == 0, 0.8, 0.35), rng)
    seg[rng.random(body_rows) < 0.03] = ""
    rec_row = b.recognized[cons]
    kind = rng.random(body_rows)
    joined = rec_row.copy()
    later = (kind < 0.20) & (role > 0)
    span = np.maximum(as_of - rec_row[later] - 30, 1)
    joined[later] = rec_row[later] + 30 + np.floor(rng.random(int(later.sum())) * span).astype(np.int64)
    early = (kind > 0.95) & (role > 0)
    joined[early] = rec_row[early] - rng.integers(1, 90, int(early.sum()))
    left = np.full(body_rows, _MISSING)
    leaving = (rng.random(body_rows) < 0.05) & (role > 0)
    left[leaving] = joined[leaving] + rng.integers(120, 1500, int(leaving.sum()))
    left[left > as_of] = _MISSING

    # ---- consortium ids --------------------------------------------------
    corder = np.lexsort((rng.random(n), recognized, jur))
    year = _years(recognized)
    serial = _rank_in_runs((jur * 10000 + year)[corder]) + 1
    width = max(4, len(str(int(serial.max()))))
    ids_sorted = (
        np.array(_JUR_PREFIX, dtype=object)[jur[corder]] + "-" + year[corder].astype(str).astype(object)
        + "-" + np.char.zfill(serial.astype(str), width).astype(object)
    )
    cid = np.empty(n, dtype=object)
    cid[corder] = ids_sorted
    cpos = np.empty(n, dtype=np.int64)
    cpos[corder] = np.arange(n)

    consortia, evaluations, last_active = _consortia_tables(
        b, ld, jur, chain, recognized, cid, corder, ch, rng, as_of
    )
    mem_order = np.lexsort((unit_all, role_all, cpos[cons_all]))
    memberships = pd.DataFrame({
        "consortium_id": cid[cons_all][mem_order],
        "uscc": codes[unit_all][mem_order],
        "role": np.array(_ROLES, dtype=object)[role_all][mem_order],
        "segments": seg[row_src][mem_order],
        "joined_on": _iso(joined[row_src])[mem_order],
        "left_on": _iso(left[row_src])[mem_order],
    })
    memberships = _lead_handovers(memberships, consortia, units, seed, as_of)
    reports = _annual_reports(jur, recognized, last_active, cid, corder, rng, as_of)
    projects, project_members = _projects(b, cons, unit, role, codes, cid, cpos, ch, rng, as_of)
    return {
        "units": units,
        "consortia": consortia,
        "memberships": memberships,
        "chains": ch.table.copy(),
        "evaluations": evaluations,
        "annual_reports": reports,
        "projects": projects,
        "project_members": project_members,
    }


#: Share of consortia in force, a year old or more, whose lead handed over to a core enterprise.
HANDOVER_SHARE = 0.01


def _days(iso: pd.Series) -> np.ndarray:
    """Day numbers of ISO date strings ('' as :data:`_MISSING`)."""
    out = np.full(len(iso), _MISSING, dtype=np.int64)
    ok = (iso != "").to_numpy()
    out[ok] = iso[ok].to_numpy(dtype="datetime64[D]").astype(np.int64)
    return out


def _lead_handovers(memberships: pd.DataFrame, consortia: pd.DataFrame, units: pd.DataFrame, seed: int,
                    as_of: int) -> pd.DataFrame:
    """Hand the lead of about :data:`HANDOVER_SHARE` of the consortia to one of their core
    enterprises: the lead's membership and the enterprise's core one end on a day after
    recognition, and a lead membership of the enterprise begins that day (the pattern the
    Nanjing, Liuzhou and Liaoyang texts restrict, ``LEAD_CHANGE``). Drawn from a generator
    of its own, so the rest of the registry is what the seed gave before."""
    rng = np.random.default_rng([seed, 0x1EAD])
    rec = _days(consortia["recognized_on"])
    eligible = consortia["status"].isin(["active", "rectifying"]).to_numpy() & (rec != _MISSING) & (rec <= as_of - 365)
    chosen = set(consortia["consortium_id"].to_numpy()[eligible & (rng.random(len(consortia)) < HANDOVER_SHARE)])
    if not chosen:
        return memberships
    m = memberships
    open_ = (m["left_on"] == "").to_numpy() & m["consortium_id"].isin(chosen).to_numpy()
    enterprise = m["uscc"].map(units.drop_duplicates("uscc").set_index("uscc")["type"]).to_numpy() == "enterprise"
    leads = m[open_ & (m["role"] == "lead").to_numpy()].drop_duplicates("consortium_id")
    cores = m[open_ & (m["role"] == "core").to_numpy() & enterprise].drop_duplicates("consortium_id")
    pair = leads.reset_index().merge(cores.reset_index(), on="consortium_id", suffixes=("_lead", "_core"))
    if pair.empty:
        return memberships
    start = pd.Series(rec, index=consortia["consortium_id"]).loc[pair["consortium_id"]].to_numpy()
    start = np.maximum.reduce([start, _days(pair["joined_on_lead"]), _days(pair["joined_on_core"])]) + 180
    day = start + np.floor(rng.random(len(pair)) * np.maximum(as_of - start, 0)).astype(np.int64)
    ok = day < as_of
    pair, day = pair[ok], day[ok]
    on = _iso(day)
    m = m.copy()
    m.loc[pair["index_lead"].to_numpy(), "left_on"] = on
    m.loc[pair["index_core"].to_numpy(), "left_on"] = on
    new = m.loc[pair["index_core"].to_numpy()].assign(role="lead", joined_on=on, left_on="")
    # Each new lead membership right after the core one it follows.
    order = np.r_[np.arange(len(m)), pair["index_core"].to_numpy() + 0.5]
    out = pd.concat([m, new], ignore_index=True)
    return out.iloc[np.argsort(order, kind="stable")].reset_index(drop=True)


def _units_table(
    u_type: np.ndarray, u_city: np.ndarray, lead_slot: np.ndarray, ld: _Leads,
    lattr: dict[str, np.ndarray], cons: np.ndarray, unit: np.ndarray, b: _Bodies, geo: _Geo,
    rng: np.random.Generator, as_of: int,
) -> tuple[pd.DataFrame, np.ndarray]:
    """The units table (rows shuffled) and the credit code of each unit id."""
    n = len(u_type)
    lead = lead_slot >= 0
    ls = lead_slot[lead]
    attr = _member_attributes(u_type, rng)
    for k, v in attr.items():
        v[lead] = lattr[k][ls]
    # A lead record now and then lacks one value the rules need.
    gap = np.flatnonzero(lead & (rng.random(n) < 0.01))
    which = rng.integers(0, 3, len(gap))
    attr["rd_staff"][gap[which == 0]] = np.nan
    attr["rd_spend_3y"][gap[which == 1]] = np.nan
    attr["platform"][gap[which == 2]] = -1

    r = rng.random(n)
    ops = u_city.copy()
    m = ~lead & (r < 0.06)
    ops[m] = geo.sample_in(geo.prov[u_city[m]], rng)
    m = ~lead & (r >= 0.06) & (r < 0.08)
    ops[m] = geo.sample_all(int(m.sum()), rng)
    ops[lead] = ld.ops[ls]

    r = rng.random(n)
    kind = np.full(n, "91", dtype=object)
    kind[u_type == _UNI] = "12"
    kind[u_type == _INS] = np.where(r[u_type == _INS] < 0.8, "12", "52")
    kind[(u_type == _SVC) & (r < 0.15)] = "52"
    kind[(u_type == _TT) & (r < 0.4)] = "12"
    kind[u_type == _OTH] = "51"
    foreign = ~lead & ((u_type == _UNI) | (u_type == _INS)) & (rng.random(n) < 0.0005)
    kind[foreign] = "XX"

    _, first = np.unique(unit, return_index=True)
    names = _unit_names(u_type, kind, u_city, b.chain[cons[first]], lead, geo, rng)
    prefix4 = np.array([c[:4] for c in geo.code], dtype=object)[u_city]
    district = np.array([f"{i:02d}" for i in range(100)], dtype=object)[rng.integers(2, 20, n)]
    codes = _codes(np.where(foreign, "12", kind), prefix4 + district, rng)
    codes[foreign] = np.array([f"{FOREIGN_PREFIX}{i:05d}" for i in range(1, int(foreign.sum()) + 1)], dtype=object)

    # Bad data on purpose: typos in codes, a city that disagrees with the code,
    # one name under two codes (a company re-registered, say).
    ok = ~foreign
    typo = ok & (rng.random(n) < 0.005)
    mismatch = ok & ~lead & (rng.random(n) < 0.003)
    if n >= 100:
        typo[np.flatnonzero(ok)[0]] = True
        mismatch[np.flatnonzero(ok & ~lead)[-1]] = True
    codes[typo] = _typo(codes[typo], rng)
    for _ in range(20):
        dup = pd.Series(codes).duplicated().to_numpy()
        if not dup.any():
            break
        codes[dup] = _typo(codes[dup], rng)
    city = u_city.copy()
    city[mismatch] = geo.sample_all(int(mismatch.sum()), rng)
    same = mismatch & (city == u_city)
    city[same] = (city[same] + 1) % len(geo.code)

    legal = np.zeros(n, dtype=np.int64)
    r = rng.random(n)
    legal[r < 0.004] = 1
    legal[(r >= 0.004) & (r < 0.0055)] = 2
    cand = np.flatnonzero(~lead & (u_type == _ENT))
    n_pairs = min(max(2, round(n * 0.0002)) if n >= 50 else 0, len(cand) // 2)
    if n_pairs:
        pick = rng.choice(cand, 2 * n_pairs, replace=False)
        names[pick[n_pairs:]] = names[pick[:n_pairs]]
        legal[pick[n_pairs:][rng.random(n_pairs) < 0.5]] = 1
    blacklist = np.full(n, _MISSING)
    bl = rng.random(n) < 0.006
    future = rng.random(n) < 0.5
    blacklist[bl & future] = as_of + rng.integers(30, 1100, int((bl & future).sum()))
    blacklist[bl & ~future] = as_of - rng.integers(30, 1500, int((bl & ~future).sum()))

    city_name = np.where(foreign, "", geo.name[city])
    province = np.where(foreign, "", geo.prov_name[geo.prov[city]])
    revenue, staff, rd, sales = (attr[k] for k in ("revenue", "rd_staff", "rd_spend_3y", "sales_3y"))
    table = pd.DataFrame({
        "uscc": codes,
        "name": names,
        "type": np.array(_TYPES, dtype=object)[u_type],
        "city": city_name,
        "ops_city": np.where(foreign, "", geo.name[ops]),
        "province": province,
        "sector": np.array((*_SECTORS, ""), dtype=object)[attr["sector"]],
        "revenue": _money(np.nan_to_num(revenue), np.isnan(revenue)),
        "rd_staff": _ints(np.nan_to_num(staff), np.isnan(staff)),
        "rd_spend_3y": _money(np.nan_to_num(rd), np.isnan(rd)),
        "sales_3y": _money(np.nan_to_num(sales), np.isnan(sales)),
        "years_operating": _ints(attr["years_operating"]),
        "platform_level": np.array((*_PLATFORMS, ""), dtype=object)[attr["platform"]],
        "tech_enterprise": _bools(np.maximum(attr["tech"], 0), attr["tech"] < 0),
        "rd_deduction": _bools(np.maximum(attr["deduct"], 0), attr["deduct"] < 0),
        "credit_blacklist_until": _iso(blacklist),
        "legal_status": np.array(("active", "deregistered", "revoked"), dtype=object)[legal],
    })
    return table.iloc[rng.permutation(n)].reset_index(drop=True), codes


def _consortia_tables(
    b: _Bodies, ld: _Leads, jur: np.ndarray, chain: np.ndarray, recognized: np.ndarray,
    cid: np.ndarray, corder: np.ndarray, ch: _Chains, rng: np.random.Generator, as_of: int,
) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """The consortia and evaluations tables, and the last day each record was in force.

    Status follows from the record's history: a ``revoke`` grade or a failed
    rectification revokes it, a Nanjing filing ends after its three-year term,
    a few are revoked for other reasons. A Nanning record recognised from a
    Guangxi one shares its status, agreement and chief expert (it is the same
    body) and has no evaluation of its own: the texts take Guangxi's result.
    """
    nb = len(b.jur)
    n = len(jur)
    src = b.copy_source

    seg_pick = ch.cover[ch.cover_lo[b.chain] + (rng.random(nb) * ch.cover_n[b.chain]).astype(np.int64)]
    topic = np.where(rng.random(nb) < 0.7, ch.names[b.chain], ch.seg_names[seg_pick])
    focus = np.array(_NAME_FOCUS, dtype=object)[rng.integers(0, len(_NAME_FOCUS), nb)]
    name = np.array(_JUR_REGION, dtype=object)[b.jur] + topic + focus + "创新联合体"
    agreement = np.where(rng.random(nb) < 0.93, b.recognized - rng.integers(15, 150, nb), _MISSING)
    expert_p = np.array([0.9, 0.85, 0.92, 0.92, 0.8])[b.jur]
    expert = np.where(rng.random(nb) < expert_p, _names(rng, nb), "")

    first_lead = np.cumsum(b.n_leads) - b.n_leads
    authority = np.array(_JUR_AUTHORITY, dtype=object)[b.jur]
    crit = ld.criterion[first_lead]
    exempt_lead = (ld.state[first_lead] == 1) & (rng.random(nb) < 0.2)
    exempt_other = ~exempt_lead & (rng.random(nb) < 0.003)
    exemption = np.full(nb, "", dtype=object)
    crit_zh = np.array(_CRITERION_ZH, dtype=object)[np.maximum(crit, 0)]
    exemption[exempt_lead] = ("经" + authority + "一事一议研究，同意牵头单位" + crit_zh + "条件按特殊情况予以认定")[exempt_lead]
    exemption[exempt_other] = ("经" + authority + "一事一议研究，同意成员单位构成按特殊情况予以认定")[exempt_other]

    # Evaluations: every three years once a record has run three years (not Nanjing's filings).
    elig = b.jur != _NJ
    d1 = b.recognized + 1095 + rng.integers(30, 240, nb)
    has1 = elig & (d1 <= as_of) & (rng.random(nb) >= 0.05)
    g1 = _choice(rng, _GRADE_P, nb)
    d2 = d1 + 1095 + rng.integers(0, 120, nb)
    has2 = has1 & (d2 <= as_of) & (g1 != 4)
    g2 = _choice(rng, _GRADE_P, nb)

    def passed(grade: np.ndarray, day: np.ndarray) -> np.ndarray:
        ok = (grade == 3) & (rng.random(nb) < 0.65)
        late = rng.random(nb) < 0.1
        out = np.where(ok, day + np.where(late, rng.integers(366, 500, nb), rng.integers(150, 366, nb)), _MISSING)
        out[out > as_of] = _MISSING
        return out

    p1, p2 = passed(g1, d1), passed(g2, d2)
    last_d, last_g, last_p = np.where(has2, d2, d1), np.where(has2, g2, g1), np.where(has2, p2, p1)
    has = has1

    status = np.zeros(nb, dtype=np.int64)
    ended = np.full(nb, _MISSING)
    reason = np.full(nb, "", dtype=object)
    done = (b.jur == _NJ) & (b.recognized + 1095 <= as_of) & (rng.random(nb) < 0.9)
    status[done], ended[done], reason[done] = 3, b.recognized[done] + 1095, "建设期满，备案自动终止"
    rev = has & (last_g == 4)
    status[rev] = 2
    ended[rev] = np.minimum(last_d[rev] + rng.integers(15, 60, int(rev.sum())), as_of)
    reason[rev] = "综合评估等次为“撤销”"
    rect = has & (last_g == 3) & (last_p == _MISSING)
    expired = rect & (last_d + 365 < as_of) & (rng.random(nb) < 0.6)
    status[rect & ~expired] = 1
    status[expired] = 2
    ended[expired] = np.minimum(last_d[expired] + 365 + rng.integers(10, 60, int(expired.sum())), as_of)
    reason[expired] = "整改期满验收未通过"
    r = rng.random(nb)
    since = np.where(has, last_d, b.recognized)
    when = since + np.floor(rng.random(nb) * np.maximum(as_of - since, 1)).astype(np.int64)
    other = (status == 0) & (r < 0.012)
    status[other], ended[other] = 2, when[other]
    reason[other] = np.array(_REVOKE_REASONS, dtype=object)[rng.integers(0, len(_REVOKE_REASONS), int(other.sum()))]
    quit_ = (status == 0) & (r >= 0.012) & (r < 0.02)
    status[quit_], ended[quit_], reason[quit_] = 3, when[quit_], "成员单位协商一致解散"

    def both(body_values: np.ndarray, copy_values: np.ndarray | None = None) -> np.ndarray:
        return np.concatenate([body_values, body_values[src] if copy_values is None else copy_values])

    recognized_from = np.concatenate([np.full(nb, "", dtype=object), cid[src]])
    status_all, ended_all = both(status), both(ended)
    table = pd.DataFrame({
        "consortium_id": cid,
        "name": both(name),
        "jurisdiction": np.array(JURISDICTIONS, dtype=object)[jur],
        "industry": ch.names[chain],
        "chain_id": ch.ids[chain],
        "recognized_on": _iso(recognized),
        "agreement_signed_on": _iso(both(agreement)),
        "chief_expert": both(expert),
        "status": np.array(_STATUS, dtype=object)[status_all],
        "revoked_on": _iso(ended_all),
        "revoked_reason": both(reason),
        "recognized_from": recognized_from,
        "exemption": both(exemption, np.full(len(src), "", dtype=object)),
    }).iloc[corder].reset_index(drop=True)

    cpos = np.empty(n, dtype=np.int64)
    cpos[corder] = np.arange(n)
    e_body = np.concatenate([np.flatnonzero(has1), np.flatnonzero(has2)])
    e_day = np.concatenate([d1[has1], d2[has2]])
    e_grade = np.concatenate([g1[has1], g2[has2]])
    e_pass = np.concatenate([p1[has1], p2[has2]])
    eo = np.lexsort((e_day, cpos[e_body]))
    evaluations = pd.DataFrame({
        "consortium_id": cid[e_body][eo],
        "evaluated_on": _iso(e_day)[eo],
        "grade": np.array(_GRADES, dtype=object)[e_grade][eo],
        "rectification_passed_on": _iso(e_pass)[eo],
    })
    last_active = np.where(ended_all == _MISSING, as_of, ended_all)
    return table, evaluations, last_active


def _annual_reports(
    jur: np.ndarray, recognized: np.ndarray, last_active: np.ndarray, cid: np.ndarray,
    corder: np.ndarray, rng: np.random.Generator, as_of: int,
) -> pd.DataFrame:
    """One report per record and year in force, due 31 December (Liaoyang: 31 March after).

    Most arrive on time; some late, some missing, a few listed without a date.
    """
    n = len(jur)
    first = _years(recognized)
    last = np.minimum(_years(np.array([as_of]))[0] - 1, _years(last_active) - (last_active < as_of))
    count = np.maximum(last - first + 1, 0)
    c = np.repeat(np.arange(n), count)
    year = first[c] + _rank_in_runs(c)
    next_jan = _year_start(year + 1)
    due = np.where(jur[c] == _LY, next_jan + 89 + ((year + 1) % 4 == 0), next_jan - 1)
    m = len(c)
    r = rng.random(m)
    submitted = np.where(r < 0.87, due - rng.integers(0, 75, m), due + rng.integers(1, 120, m))
    submitted = np.maximum(submitted, recognized[c])
    keep = ((r < 0.93) | (r >= 0.98)) & (submitted <= as_of)
    submitted[r >= 0.98] = _MISSING
    cpos = np.empty(n, dtype=np.int64)
    cpos[corder] = np.arange(n)
    order = np.flatnonzero(keep)
    order = order[np.lexsort((year[order], cpos[c[order]]))]
    return pd.DataFrame({
        "consortium_id": cid[c[order]],
        "year": year[order].astype(str).astype(object),
        "submitted_on": _iso(submitted[order]),
    })


def _projects(
    b: _Bodies, cons: np.ndarray, unit: np.ndarray, role: np.ndarray, codes: np.ndarray,
    cid: np.ndarray, cpos: np.ndarray, ch: _Chains, rng: np.random.Generator, as_of: int,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A few projects per consortium, led mostly by its lead and staffed mostly by its members.

    Liuzhou asks that a consortium's project be led by the consortium's lead
    and that half its members be consortium members; some projects break that.
    ``cons``/``unit``/``role`` are the body membership rows, sorted by consortium.
    """
    nb = len(b.jur)
    n_units = len(codes)
    per_body = np.bincount(cons, minlength=nb)
    starts = np.cumsum(per_body) - per_body
    lead_rows = np.flatnonzero(role == 0)
    _, first = np.unique(cons[lead_rows], return_index=True)
    lead_unit = unit[lead_rows[first]]

    k = rng.poisson(2.0, nb)
    p_body = np.repeat(np.arange(nb), k)
    p_k = _rank_in_runs(p_body) + 1
    n = len(p_body)

    def member_of(bodies: np.ndarray) -> np.ndarray:
        return unit[starts[bodies] + (rng.random(len(bodies)) * per_body[bodies]).astype(np.int64)]

    r = rng.random(n)
    p_lead = lead_unit[p_body]
    m = (r >= 0.88) & (r < 0.97)
    p_lead[m] = member_of(p_body[m])
    m = r >= 0.97
    p_lead[m] = rng.integers(0, n_units, int(m.sum()))
    chain = b.chain[p_body]
    seg = ch.cover[ch.cover_lo[chain] + (rng.random(n) * ch.cover_n[chain]).astype(np.int64)]
    name = ch.seg_names[seg] + np.array(_PROJECT_TEMPLATES, dtype=object)[rng.integers(0, len(_PROJECT_TEMPLATES), n)]
    rec = b.recognized[p_body]
    started = rec + np.floor(rng.random(n) * np.maximum(as_of - rec, 1)).astype(np.int64)
    early = rng.random(n) < 0.05
    started[early] = rec[early] - rng.integers(30, 240, int(early.sum()))
    pid = cid[p_body] + "-P" + p_k.astype(str).astype(object)
    order = np.lexsort((p_k, cpos[p_body]))
    projects = pd.DataFrame({
        "project_id": pid[order],
        "consortium_id": cid[p_body][order],
        "lead_uscc": codes[p_lead][order],
        "name": name[order],
        "level": np.array(_LEVELS, dtype=object)[_choice(rng, np.array([0.55, 0.33, 0.12]), n)][order],
        "started_on": _iso(started)[order],
    })

    size = 2 + rng.poisson(2.5, n)
    pm_p = np.repeat(np.arange(n), size)
    outsider_p = np.where(rng.random(n) < 0.04, 0.7, 0.07)[pm_p]
    pm_u = member_of(p_body[pm_p])
    out = rng.random(len(pm_p)) < outsider_p
    pm_u[out] = rng.integers(0, n_units, int(out.sum()))
    pm_p = np.concatenate([np.arange(n), pm_p])
    pm_u = np.concatenate([p_lead, pm_u])
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    key = rank[pm_p] * np.int64(n_units) + pm_u
    ko = np.argsort(key, kind="stable")
    ko = ko[_run_starts(key[ko])]
    project_members = pd.DataFrame({"project_id": pid[pm_p[ko]], "uscc": codes[pm_u[ko]]})
    return projects, project_members


def write_csv(tables: dict[str, pd.DataFrame], out_dir: str | os.PathLike[str]) -> None:
    """Write each table to ``<out_dir>/<table>.csv`` (UTF-8): every file written in full to a
    temporary file in the same folder, then all moved into place.

    A reader (or a second run) never sees half a registry file, and a failure part-way (a full
    disk at the memberships, an unwritable folder) replaces nothing: new units beside the old
    memberships would be a registry nobody made. Failures are
    :class:`~consortia.errors.OutputError`, as from every writer.
    """
    out = Path(out_dir)
    umask = os.umask(0)
    os.umask(umask)
    with contextlib.ExitStack() as renames:  # on leaving, each temporary file is renamed into place
        for name, frame in tables.items():
            # A new file gets the permissions any new file would (mkstemp makes it private).
            tmp = renames.enter_context(atomic_path(out / f"{name}.csv", mode=0o666 & ~umask))
            with open(tmp, "w", encoding="utf-8", newline="") as fh:
                frame.to_csv(fh, index=False, lineterminator="\n")


def registry_files(folder: str | os.PathLike[str]) -> list[str]:
    """The files in ``folder`` that loading it as a registry would read as tables (``units.csv``,
    ``单位.csv``, ``memberships.txt`` …), sorted; none when it is missing or not a folder."""
    from .loaders.text import norm_header
    from .schema import TABLES

    folder = Path(folder)
    if not folder.is_dir():
        return []
    keys = {norm_header(n)[0] for t in TABLES.values() for n in (t.name, *t.aliases)}
    return sorted(p.name for p in folder.iterdir()
                  if p.suffix.lower() in (".csv", ".txt") and p.is_file() and norm_header(p.stem)[0] in keys)


def refuse_replacing(folder: str | os.PathLike[str], found: list[str], what: str = "a registry") -> None:
    """Raise :class:`~consortia.errors.OutputError` (exit 2) naming what ``folder`` already holds,
    when ``found`` is not empty: ``generate`` and ``demo`` replace files only with ``--force``, as a
    folder holding a registry may hold the only copy of a real one."""
    if found:
        shown = ", ".join(found[:5]) + (f" and {len(found) - 5:,} more" if len(found) > 5 else "")
        raise OutputError(folder, f"it already holds {what} ({shown}); use --force to replace it, or --out an "
                                  "empty or new folder")
