"""What each rule's parameters must be, so a rulebook is checked when it is read.

A rulebook written by an officer (``--rules FILE``) is data: a typo there
(``min_types: two``, ``max: null``, a unit type that does not exist) would
otherwise surface as a traceback in the middle of an audit, or, worse, be
accepted and silently check nothing. Every parameter an implemented rule reads
is declared here with its kind; :func:`param_problems` lists what is wrong with
one rule's parameters, for the rulebook reader to report with key and line.
"""

from __future__ import annotations

import calendar
import math
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from ..schema import ENUMS

__all__ = ["PARAMS", "param_problems"]

#: (path below the parameter, value, what was expected) for each bad item of a list or mapping.
Items = Callable[[Any], list[tuple[str, Any, str]]]


class Check(NamedTuple):
    """One kind of parameter: what it must be, the test, and (for lists and mappings) which
    items fail, so that a problem names ``types[2]`` rather than the whole list."""

    expected: str
    ok: Callable[[Any], bool]
    items: Items | None = None


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


_NOUN = {"unit_type": "unit type", "project_level": "project level", "sector": "sector"}


def _bad_items(vocabulary: str, at: str = "") -> Items:
    """The items of a list that are not words of ``vocabulary`` (nothing when it is no list)."""
    def items(v: Any) -> list[tuple[str, Any, str]]:
        if not isinstance(v, list):
            return []
        return [(f"{at}[{i}]", t, f"a {_NOUN[vocabulary]} ({_words(vocabulary)})")
                for i, t in enumerate(v) if not _in(vocabulary)(t)]
    return items


def _bad_groups(v: Any) -> list[tuple[str, Any, str]]:
    if not isinstance(v, dict):
        return []
    out: list[tuple[str, Any, str]] = []
    for k, types in v.items():
        if not isinstance(types, list) or not types:
            out.append((f".{k}", types, f"a list of unit types ({_words('unit_type')})"))
        else:
            out.extend(_bad_items("unit_type", f".{k}")(types))
    return out


def _bad_sectors(v: Any) -> list[tuple[str, Any, str]]:
    if not isinstance(v, dict):
        return []
    out: list[tuple[str, Any, str]] = []
    for k, amount in v.items():
        if not _in("sector")(k):
            out.append((f".{k}", k, f"a sector ({_words('sector')})"))
        elif not AMOUNT.ok(amount):
            out.append((f".{k}", amount, "an amount in 万元, 0 or more"))
    return out


COUNT = Check("a whole number, 0 or more", lambda v: _whole(v) and v >= 0)
POSITIVE = Check("a whole number, 1 or more", lambda v: _whole(v) and v >= 1)
#: A term, period or interval in years. A century bounds what any text sets, and keeps every date
#: computed from one within what the registry's dates can hold.
YEARS = Check("a whole number of years, 1 to 100", lambda v: _whole(v) and 1 <= v <= 100)
YEAR_OFFSET = Check("a whole number of years, 0 to 100", lambda v: _whole(v) and 0 <= v <= 100)
AMOUNT = Check("a number, 0 or more (万元 for money)", lambda v: _number(v) and v >= 0)
SHARE = Check("a share between 0 and 1 (0.3 for 30%)", lambda v: _number(v) and 0 <= v <= 1)
FLAG = Check("true or false", lambda v: isinstance(v, bool))
TEXT = Check("text (a name)", lambda v: isinstance(v, str) and bool(v.strip()))
BASIS = Check("city (where registered) or ops_city (where it mainly operates)", lambda v: v in ("city", "ops_city"))
MONTH = Check("a month, 1 to 12", lambda v: _whole(v) and 1 <= v <= 12)
DAY = Check("a day of the month, 1 to 31", lambda v: _whole(v) and 1 <= v <= 31)
UNIT_TYPES = Check(f"a list of unit types ({_words('unit_type')})", _list_of("unit_type"), _bad_items("unit_type"))
PROJECT_LEVELS = Check(f"a list of project levels ({_words('project_level')})", _list_of("project_level"),
                       _bad_items("project_level"))
PLATFORM = Check(f"a platform level ({_words('platform_level')})", _in("platform_level"))
GROUPS = Check(f"a mapping of category names to lists of unit types ({_words('unit_type')})",
               lambda v: isinstance(v, dict) and bool(v) and all(_list_of("unit_type")(t) for t in v.values()),
               _bad_groups)
BY_SECTOR = Check(f"a mapping of sectors ({_words('sector')}) to amounts in 万元, 0 or more",
                  lambda v: isinstance(v, dict) and bool(v)
                  and all(_in("sector")(k) and AMOUNT.ok(a) for k, a in v.items()),
                  _bad_sectors)

DURING = Check("operation (while the consortium is in force) or projects (while it carries out a project)",
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
    "TERM_ENDED": {"years": YEARS},
    "EVALUATION_DUE": {"every_years": YEARS, "first_after_years": YEARS},
    "RECTIFICATION_OVERDUE": {"period_years": YEARS},
    "ANNUAL_REPORT_MISSING": {"due_month": MONTH, "due_day": DAY, "year_offset": YEAR_OFFSET},
    "LEAD_BAN": {"years": YEARS},
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


def _lead_count(p: Mapping[str, Any]) -> list[tuple[str, Any, str]]:
    if p["min"] > p["max"]:
        return [("min", p["min"], f"at most max ({p['max']}): no consortium can have at least {p['min']} leads "
                                  f"and at most {p['max']}")]
    return []


def _unit_types(p: Mapping[str, Any]) -> list[tuple[str, Any, str]]:
    if p["min_types"] > len(p["groups"]):
        return [("min_types", p["min_types"], f"at most the number of groups ({len(p['groups'])}): members can "
                                              f"span no more categories than the groups define")]
    return []


def _due_date(p: Mapping[str, Any]) -> list[tuple[str, Any, str]]:
    """The due date must exist every year: 02-30 never does, and 02-29 not in three years of four."""
    month, day = p["due_month"], p["due_day"]
    longest = calendar.monthrange(2001, month)[1]  # a common year: 28 days in February
    if day > longest:
        return [("due_day", day, f"a day that exists in month {month} every year (at most {longest}): "
                                 f"{month:02d}-{day:02d} is not a date{' in a common year' if (month, day) == (2, 29) else ''}")]
    return []


Relation = Callable[[Mapping[str, Any]], list[tuple[str, Any, str]]]

#: Checks across the parameters of one rule, run once each parameter they read is valid: rule id ->
#: [(the parameters read, with the default the rule uses when one is left out (None: no default), the check)].
RELATIONS: dict[str, list[tuple[dict[str, Any], Relation]]] = {
    "LEAD_COUNT": [({"min": 1, "max": 1}, _lead_count)],  # the defaults of rules/membership.py
    "UNIT_TYPES": [({"min_types": None, "groups": None}, _unit_types)],
    "ANNUAL_REPORT_MISSING": [({"due_month": 12, "due_day": 31}, _due_date)],  # those of rules/lifecycle.py
}


def param_problems(rule_id: str, params: Mapping[str, Any]) -> list[tuple[str | None, Any, str]]:
    """What is wrong with ``rule_id``'s parameters: (parameter or None, value, what was expected).

    A parameter is named by its path: ``types[2]`` for the third item of a list,
    ``groups.other[0]`` inside a mapping."""
    known = PARAMS.get(rule_id, {})
    out: list[tuple[str | None, Any, str]] = []
    bad: set[str] = set()
    for name, value in params.items():
        check = known.get(str(name))
        if check is None:
            allowed = ", ".join(known) or "none"
            out.append((str(name), value, f"a parameter {rule_id} reads (allowed: {allowed})"))
        elif not check.ok(value):
            bad.add(str(name))
            items = check.items(value) if check.items is not None else []
            if items:
                out.extend((f"{name}{at}", v, expected) for at, v, expected in items)
            else:
                out.append((str(name), value, check.expected))
    for need in REQUIRED.get(rule_id, ()):
        if isinstance(need, frozenset):
            if not need & set(params):
                out.append((None, None, f"{rule_id} needs one of the parameters {', '.join(sorted(need))}"))
        else:
            out.extend((None, None, f"{rule_id} needs the parameter '{n}'") for n in need if n not in params)
    for defaults, relation in RELATIONS.get(rule_id, ()):
        values = {n: params.get(n, d) for n, d in defaults.items()}
        if not bad & set(values) and None not in values.values():
            # A problem found through a default is on no parameter written: the rule's params key.
            out.extend((n, v, e) if n in params else (None, None, e) for n, v, e in relation(values))
    return out
