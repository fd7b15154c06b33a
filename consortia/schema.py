"""The registry data model, declared once as data.

Everything that reads, validates or writes a registry (loaders, the Excel and
CSV writers, the Neo4j backend) derives its columns, aliases and value
vocabularies from these declarations, so that adding an alias or a column is
a one-line change here rather than a hunt through the code. The source of
truth for the meaning of each column is shared/data-model.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "DATE_DTYPE",
    "ENUMS",
    "REQUIRED_TABLES",
    "TABLES",
    "TABLE_ORDER",
    "Column",
    "Table",
]

#: Controlled vocabularies: canonical value -> accepted spellings (besides the
#: canonical value itself). Matching ignores case, width and surrounding spaces.
#: How date columns are held: at microsecond resolution, because nanoseconds (pandas' old default)
#: end on 2262-04-11 and registries hold later dates in earnest (a sanction or an agreement "until
#: 2300-01-01", 9999-12-31 for "no end"). Microseconds hold every date of years 1 to 9999.
DATE_DTYPE = "datetime64[us]"

ENUMS: dict[str, dict[str, tuple[str, ...]]] = {
    "unit_type": {
        "enterprise": ("企业", "公司"),
        "university": ("高等学校", "高校", "大学", "高等院校"),
        "institute": ("科研院所", "研究院所", "科研机构", "研究机构", "研究院", "研究所"),
        "tech_transfer": ("技术转移机构", "技术转移", "成果转移转化机构"),
        "service": ("技术服务机构", "服务机构", "科技服务机构", "检验检测机构"),
        "other": ("其他", "其它", "其他组织机构"),
    },
    "sector": {
        "manufacturing": ("制造业",),
        "tech_services": ("科技与信息服务业", "科技服务业", "信息服务业"),
        "other": ("其他", "其它"),
    },
    "platform_level": {
        "national": ("国家级", "国家"),
        "provincial": ("省部级", "省级", "自治区级", "省部级及以上"),
        "municipal": ("市级", "地市级"),
        "none": ("无", "没有"),
    },
    "legal_status": {
        "active": ("存续", "在业", "正常"),
        "deregistered": ("注销", "已注销"),
        "revoked": ("吊销", "已吊销"),
    },
    "consortium_status": {
        "active": ("运行", "运行中", "正常", "有效", "在建"),
        "rectifying": ("整改", "整改中"),
        "revoked": ("撤销", "已撤销", "取消", "已取消"),
        "terminated": ("终止", "已终止", "期满终止"),
    },
    "role": {
        "lead": ("牵头单位", "牵头", "牵头企业"),
        "core": ("核心层", "核心层单位", "核心"),
        "close": ("紧密合作层", "紧密合作单位", "紧密合作层单位", "紧密合作"),
        "general": ("一般协作层", "一般协作层单位", "一般协作单位", "一般协作"),
    },
    "stage": {
        "upstream": ("上游",),
        "midstream": ("中游",),
        "downstream": ("下游",),
    },
    "grade": {
        "excellent": ("优秀",),
        "good": ("良好",),
        "pass": ("合格",),
        "rectify": ("整改",),
        "revoke": ("撤销",),
    },
    "project_level": {
        "municipal": ("市级",),
        "provincial": ("省级", "省部级", "自治区级"),
        "national": ("国家级",),
    },
}


@dataclass(frozen=True)
class Column:
    """One column: its canonical name, Chinese aliases and value kind.

    ``kind`` is one of ``str``, ``code`` (an identifier kept verbatim, upper
    case, no spaces), ``date``, ``money`` (万元; a header or cell may name another
    Chinese unit, see ``loaders.values.MONEY_UNITS``), ``int``,
    ``bool``, ``list`` (``;``-separated), ``jurisdiction``, or ``enum:NAME``
    naming a vocabulary in :data:`ENUMS`.
    """

    name: str
    aliases: tuple[str, ...] = ()
    kind: str = "str"
    required: bool = False


@dataclass(frozen=True)
class Table:
    """One table of the registry, with its key columns and Chinese names."""

    name: str
    aliases: tuple[str, ...]
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    required: bool = False
    column_by_name: dict[str, Column] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "column_by_name", {c.name: c for c in self.columns})


C = Column
TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "units",
            ("单位", "单位表", "成员单位"),
            (
                C("uscc", ("统一社会信用代码", "信用代码", "社会信用代码"), "code", True),
                C("name", ("单位名称", "名称"), "str", True),
                C("type", ("单位类型", "类型"), "enum:unit_type", True),
                C("city", ("注册地", "注册城市", "所在城市"), "str"),
                C("ops_city", ("主要经营地", "经营地"), "str"),
                C("province", ("省份", "省"), "str"),
                C("sector", ("行业类别", "行业"), "enum:sector"),
                C("revenue", ("上年度主营业务收入", "主营业务收入"), "money"),
                C("rd_staff", ("专职研发人员", "研发人员"), "int"),
                C("rd_spend_3y", ("近三年研发费用总额", "研发费用"), "money"),
                C("sales_3y", ("近三年销售收入总额", "销售收入"), "money"),
                C("years_operating", ("经营年限",), "int"),
                C("platform_level", ("创新平台级别", "平台级别"), "enum:platform_level"),
                C("tech_enterprise", ("科技型企业",), "bool"),
                C("rd_deduction", ("享受研发费用加计扣除", "研发费用加计扣除"), "bool"),
                C("credit_blacklist_until", ("失信惩戒期至",), "date"),
                C("legal_status", ("存续状态", "登记状态"), "enum:legal_status"),
            ),
            key=("uscc",),
            required=True,
        ),
        Table(
            "consortia",
            ("创新联合体", "联合体"),
            (
                C("consortium_id", ("联合体编号", "编号"), "code", True),
                C("name", ("联合体名称", "名称"), "str"),
                C("jurisdiction", ("认定机关", "认定单位", "管辖"), "jurisdiction", True),
                C("industry", ("产业领域",), "str"),
                C("chain_id", ("产业链", "产业链编号"), "code"),
                C("recognized_on", ("认定日期", "备案日期", "批复日期"), "date"),
                C("agreement_signed_on", ("协议签订日期",), "date"),
                C("chief_expert", ("首席专家",), "str"),
                C("status", ("状态",), "enum:consortium_status"),
                C("revoked_on", ("撤销日期",), "date"),
                C("revoked_reason", ("撤销原因",), "str"),
                C("recognized_from", ("转认定来源", "直接认定来源"), "code"),
                C("exemption", ("一事一议",), "str"),
            ),
            key=("consortium_id",),
            required=True,
        ),
        Table(
            "memberships",
            ("成员", "成员表", "成员关系"),
            (
                C("consortium_id", ("联合体编号", "编号"), "code", True),
                C("uscc", ("统一社会信用代码", "信用代码", "社会信用代码"), "code", True),
                C("role", ("角色/层级", "角色", "层级"), "enum:role", True),
                C("segments", ("产业链环节", "环节"), "list"),
                C("joined_on", ("加入日期",), "date"),
                C("left_on", ("退出日期",), "date"),
                C("exemption", ("一事一议",), "str"),
            ),
            key=("consortium_id", "uscc", "joined_on"),
            required=True,
        ),
        Table(
            "chains",
            ("产业链",),
            (
                C("chain_id", ("产业链编号",), "code", True),
                C("chain_name", ("产业链名称",), "str"),
                C("segment_id", ("环节编号",), "code", True),
                C("segment_name", ("环节名称",), "str"),
                C("stage", ("环节", "阶段"), "enum:stage"),
                C("parent", ("上级环节",), "code"),
                C("feeds", ("供给环节", "下游环节"), "list"),
            ),
            key=("chain_id", "segment_id"),
        ),
        Table(
            "evaluations",
            ("评估",),
            (
                C("consortium_id", ("联合体编号", "编号"), "code", True),
                C("evaluated_on", ("评估日期",), "date", True),
                C("grade", ("等次", "评估等次"), "enum:grade", True),
                C("rectification_passed_on", ("整改验收通过日期",), "date"),
            ),
            key=("consortium_id", "evaluated_on"),
        ),
        Table(
            "annual_reports",
            ("年报",),
            (
                C("consortium_id", ("联合体编号", "编号"), "code", True),
                C("year", ("年度",), "int", True),
                C("submitted_on", ("报送日期", "提交日期"), "date"),
            ),
            key=("consortium_id", "year"),
        ),
        Table(
            "projects",
            ("项目",),
            (
                C("project_id", ("项目编号",), "code", True),
                C("consortium_id", ("联合体编号",), "code"),
                C("lead_uscc", ("项目牵头单位", "牵头单位信用代码"), "code"),
                C("name", ("项目名称",), "str"),
                C("level", ("项目级别", "级别"), "enum:project_level"),
                C("started_on", ("立项日期", "开始日期"), "date"),
            ),
            key=("project_id",),
        ),
        Table(
            "project_members",
            ("项目成员",),
            (
                C("project_id", ("项目编号",), "code", True),
                C("uscc", ("统一社会信用代码", "信用代码"), "code", True),
            ),
            key=("project_id", "uscc"),
        ),
    )
}
del C

TABLE_ORDER: tuple[str, ...] = tuple(TABLES)
REQUIRED_TABLES: tuple[str, ...] = tuple(t.name for t in TABLES.values() if t.required)
