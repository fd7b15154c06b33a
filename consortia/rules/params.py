"""What each rule's parameters must be, so a rulebook is checked when it is read.

A rulebook written by an officer (``--rules FILE``) is data: a typo there
(``min_types: two``, ``max: null``, a unit type that does not exist) would
otherwise surface as a traceback in the middle of an audit, or, worse, be
accepted and silently check nothing. Every parameter an implemented rule reads
is declared here with its kind; :func:`param_problems` lists what is wrong with
one rule's parameters, for the rulebook reader to report with key and line.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from ..schema import ENUMS

__all__ = ["PARAMS", "param_problems"]

Check = tuple[str, Callable[[Any], bool]]


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _whole(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _in(vocabulary: str) -> Callable[[Any], bool]:
    return lambda v: isinstance(v, str) and v in ENUMS[vocabulary]


def _list_of(vocabulary: str) -> Callable[[Any], bool]:
    return lambda v: isinstance(v, list) and bool(v) and all(_in(vocabulary)(t) for t in v)


def _words(vocabulary: str) -> str:
    return ", ".join(ENUMS[vocabulary])


COUNT: Check = ("a whole number, 0 or more", lambda v: _whole(v) and v >= 0)
POSITIVE: Check = ("a whole number, 1 or more", lambda v: _whole(v) and v >= 1)
AMOUNT: Check = ("a number, 0 or more (万元 for money)", lambda v: _number(v) and v >= 0)
SHARE: Check = ("a share between 0 and 1 (0.3 for 30%)", lambda v: _number(v) and 0 <= v <= 1)
FLAG: Check = ("true or false", lambda v: isinstance(v, bool))
TEXT: Check = ("text (a name)", lambda v: isinstance(v, str) and bool(v.strip()))
BASIS: Check = ("city (where registered) or ops_city (where it mainly operates)", lambda v: v in ("city", "ops_city"))
MONTH: Check = ("a month, 1 to 12", lambda v: _whole(v) and 1 <= v <= 12)
DAY: Check = ("a day of the month, 1 to 31", lambda v: _whole(v) and 1 <= v <= 31)
UNIT_TYPES: Check = (f"a list of unit types ({_words('unit_type')})", _list_of("unit_type"))
PROJECT_LEVELS: Check = (f"a list of project levels ({_words('project_level')})", _list_of("project_level"))
PLATFORM: Check = (f"a platform level ({_words('platform_level')})", _in("platform_level"))
GROUPS: Check = (f"a mapping of category names to lists of unit types ({_words('unit_type')})",
                 lambda v: isinstance(v, dict) and bool(v) and all(_list_of("unit_type")(t) for t in v.values()))
BY_SECTOR: Check = (f"a mapping of sectors ({_words('sector')}) to amounts in 万元, 0 or more",
                    lambda v: isinstance(v, dict) and bool(v)
                    and all(_in("sector")(k) and AMOUNT[1](a) for k, a in v.items()))

DURING: Check = ("operation (while the consortium is in force) or projects (while it carries out a project)",
                 lambda v: v in ("operation", "projects"))

#: rule id -> (parameter -> its kind), and the groups of parameters of which one is needed.
PARAMS: dict[str, dict[str, Check]] = {
    "MIN_MEMBERS": {"min": POSITIVE},
    "LOCAL_SHARE": {"min_share": SHARE, "basis": BASIS, "place": TEXT},
    "MIN_ENTERPRISES": {"min_count": COUNT, "min_share": SHARE},
    "UNIT_TYPES": {"min_types": POSITIVE, "groups": GROUPS},
    "ACADEMIC_MEMBER": {"types": UNIT_TYPES},
    "LEAD_COUNT": {"min": COUNT, "max": POSITIVE},
    "LEAD_TYPE": {"types": UNIT_TYPES, "require_tech_enterprise": FLAG},
    "LEAD_LOCATION": {"basis": BASIS, "place": TEXT, "province": TEXT},
    "LEAD_REVENUE": {"min": AMOUNT, "by_sector": BY_SECTOR},
    "LEAD_RD_STAFF": {"min": COUNT},
    "LEAD_RD_SPEND": {"min_avg": AMOUNT, "min_share": SHARE, "share_in_principle_only": FLAG},
    "LEAD_PLATFORM": {"min_level": PLATFORM},
    "LEAD_RD_DEDUCTION": {"required": FLAG},
    "LEAD_SINGLE": {"max": POSITIVE},
    "MEMBER_CAP": {"max": POSITIVE},
    "TERM_ENDED": {"years": POSITIVE},
    "EVALUATION_DUE": {"every_years": POSITIVE, "first_after_years": POSITIVE},
    "RECTIFICATION_OVERDUE": {"period_years": POSITIVE},
    "ANNUAL_REPORT_MISSING": {"due_month": MONTH, "due_day": DAY, "year_offset": COUNT},
    "LEAD_BAN": {"years": POSITIVE},
    "CREDIT_SANCTION": {"scope": TEXT},
    "LEGAL_STATUS": {"scope": TEXT},
    "PROJECT_LEAD": {"levels": PROJECT_LEVELS},
    "PROJECT_MEMBER_SHARE": {"levels": PROJECT_LEVELS, "min_share": SHARE},
    "LEAD_CHANGE": {"during": DURING, "levels": PROJECT_LEVELS, "remedy": TEXT},
}
#: Parameters a rule cannot run without: every name of one tuple is needed, or one of a set.
REQUIRED: dict[str, tuple[tuple[str, ...] | frozenset[str], ...]] = {
    "MIN_MEMBERS": (("min",),),
    "LOCAL_SHARE": (("min_share", "place"),),
    "MIN_ENTERPRISES": (frozenset({"min_count", "min_share"}),),
    "UNIT_TYPES": (("min_types", "groups"),),
    "ACADEMIC_MEMBER": (("types",),),
    "LEAD_LOCATION": (frozenset({"place", "province"}),),
    "LEAD_REVENUE": (frozenset({"min", "by_sector"}),),
    "LEAD_RD_STAFF": (("min",),),
    "LEAD_PLATFORM": (("min_level",),),
    "LEAD_CHANGE": (("during",),),
}


def param_problems(rule_id: str, params: Mapping[str, Any]) -> list[tuple[str | None, Any, str]]:
    """What is wrong with ``rule_id``'s parameters: (parameter or None, value, what was expected)."""
    known = PARAMS.get(rule_id, {})
    out: list[tuple[str | None, Any, str]] = []
    for name, value in params.items():
        check = known.get(str(name))
        if check is None:
            allowed = ", ".join(known) or "none"
            out.append((str(name), value, f"a parameter {rule_id} reads (allowed: {allowed})"))
        elif not check[1](value):
            out.append((str(name), value, check[0]))
    for need in REQUIRED.get(rule_id, ()):
        if isinstance(need, frozenset):
            if not need & set(params):
                out.append((None, None, f"{rule_id} needs one of the parameters {', '.join(sorted(need))}"))
        else:
            out.extend((None, None, f"{rule_id} needs the parameter '{n}'") for n in need if n not in params)
    return out
