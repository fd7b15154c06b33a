"""Rulebooks: each jurisdiction's policy text as cited data, read by one engine.

A rulebook is a YAML file (see ``books/``) listing the rules its text
contains, each with parameters, severity, whether the text qualifies it with
原则上 (and so a recorded 一事一议 exemption may waive it) and the article it
relies on, quoted. Keeping the texts as data lets an officer in another city
encode their own text with ``--rules FILE`` and no code, and keeps every
finding traceable to a clause.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from ..errors import InputError, Problem, did_you_mean
from .params import param_problems
from .yaml_reader import Reader, node_at

__all__ = [
    "RULE_IDS",
    "Rule",
    "Rulebook",
    "Rulebooks",
    "load_rulebooks",
    "parse_rulebook",
]

#: Every rule id the engine knows. A rulebook may only name these.
RULE_IDS: tuple[str, ...] = (
    "MIN_MEMBERS", "LOCAL_SHARE", "MIN_ENTERPRISES", "UNIT_TYPES", "ACADEMIC_MEMBER",
    "LEAD_COUNT", "LEAD_TYPE", "LEAD_LOCATION", "LEAD_REVENUE", "LEAD_RD_STAFF",
    "LEAD_RD_SPEND", "LEAD_PLATFORM", "LEAD_RD_DEDUCTION", "LEAD_SINGLE", "MEMBER_CAP",
    "CHIEF_EXPERT", "AGREEMENT", "TERM_ENDED", "EVALUATION_DUE", "RECTIFICATION_OVERDUE",
    "REVOKE_GRADE", "ANNUAL_REPORT_MISSING", "CREDIT_SANCTION", "LEGAL_STATUS", "LEAD_BAN",
    "PROJECT_LEAD", "PROJECT_MEMBER_SHARE", "LEAD_CHANGE",
    "USCC_INVALID", "USCC_REGION_MISMATCH", "DUPLICATE_UNIT",
)  # fmt: skip
SEVERITIES = ("error", "warning", "info")


@dataclass(frozen=True)
class Rule:
    """One checkable condition of one text."""

    id: str
    severity: str
    in_principle: bool
    params: Mapping[str, Any]
    article: str
    quote: str
    note: str = ""
    document: str = ""

    @property
    def citation(self) -> str:
        """Document, article and the quoted clause, as an officer would cite it."""
        head = f"{self.document}{self.article}" if self.document else self.article
        return f"{head}：{self.quote}"


@dataclass(frozen=True)
class Rulebook:
    """One jurisdiction's text: who it is, where it sits, and its rules by id."""

    jurisdiction: str
    name_zh: str
    name_en: str
    level: str
    parent: str | None
    province: str | None
    city: str | None
    division_code: str | None
    document: Mapping[str, Any]
    rules: Mapping[str, Rule]
    aliases: tuple[str, ...] = ()
    source: str = ""

    def rule(self, rule_id: str) -> Rule | None:
        """The rule with this id, or None when the text does not contain it."""
        return self.rules.get(rule_id)


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip().casefold()


@dataclass
class Rulebooks(Mapping[str, Rulebook]):
    """All rulebooks in force for a run, plus the jurisdiction-independent rules."""

    books: dict[str, Rulebook]
    common: dict[str, Rule]
    _alias: dict[str, str] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for book in self.books.values():
            for name in (book.jurisdiction, book.name_zh, book.name_en, *book.aliases):
                self._alias[_norm(name)] = book.jurisdiction

    def __getitem__(self, key: str) -> Rulebook:
        return self.books[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.books)

    def __len__(self) -> int:
        return len(self.books)

    def resolve(self, name: object) -> str | None:
        """The jurisdiction id for any of its names (``南宁市``, ``Nanning``…), or None."""
        if not isinstance(name, str):
            return None
        return self._alias.get(_norm(name))

    def with_rule(self, rule_id: str) -> list[Rulebook]:
        """The rulebooks whose text contains ``rule_id``."""
        return [b for b in self.books.values() if rule_id in b.rules]


#: libyaml's parser when PyYAML was built with it (five times faster), else the Python one.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


_TOP_KEYS = {"jurisdiction", "name_zh", "name_en", "aliases", "level", "parent", "province",
             "city", "division_code", "document", "rules", "common"}
_RULE_KEYS = {"id", "severity", "in_principle", "params", "citation", "note"}


def _parse_rule(r: Reader, node: yaml.Node, document: str, at: str) -> Rule | None:
    """One item of ``rules`` (at ``rules[i]``); once its id is known its problems are named
    ``rules.ID.…``, which says which rule without counting items."""
    f = r.fields(node, at)
    if not f:
        return None
    rule_id = r.text(f, "id", node, at=at)
    if rule_id is not None and rule_id not in RULE_IDS:
        r.problem(f["id"], f"{at}.id", rule_id,
                  f"a known rule id{did_you_mean(rule_id, RULE_IDS)} (`consortia rules --ids` lists them)")
        rule_id = None
    if rule_id is not None:
        at = f"rules.{rule_id}"
    for k in f:
        if k not in _RULE_KEYS:
            r.problem(f[k], f"{at}.{k}", None, f"unknown key '{k}' in a rule; allowed: {', '.join(sorted(_RULE_KEYS))}")
    severity = r.text(f, "severity", node, at=at)
    if severity is not None and severity not in SEVERITIES:
        r.problem(f["severity"], f"{at}.severity", severity, "one of error, warning, info")
        severity = None
    in_principle = False
    if "in_principle" in f:
        in_principle = r.value(f["in_principle"], f"{at}.in_principle")
        if not isinstance(in_principle, bool):
            r.problem(f["in_principle"], f"{at}.in_principle", in_principle, "true or false")
            in_principle = False
    params: dict[str, Any] = {}
    if "params" in f:
        params = r.value(f["params"], f"{at}.params") or {}
        if not isinstance(params, dict):
            r.problem(f["params"], f"{at}.params", params, "a mapping of parameter names to values")
            params = {}
    if rule_id is not None:
        where = f.get("params", node)  # a problem of no one parameter is on the params key (or the rule)
        for name, value, expected in param_problems(rule_id, params):
            found = node_at(where, name) if name and params else None
            r.problem(found or where, f"{at}.params.{name}" if name else f"{at}.params", value, expected)
    article = quote = None
    if "citation" not in f:
        r.problem(node, f"{at}.citation", None, "missing required key 'citation' (article and quote)")
    else:
        c = r.fields(f["citation"], f"{at}.citation")
        article = r.text(c, "article", f["citation"], at=f"{at}.citation")
        quote = r.text(c, "quote", f["citation"], at=f"{at}.citation")
    note = r.text(f, "note", node, required=False, at=at) or ""
    if None in (rule_id, severity, article, quote):
        return None
    return Rule(rule_id, severity, in_principle, params, article, quote, note, document)  # type: ignore[arg-type]


#: The dates a rulebook's document may give, in the order they must fall (each on or after the one before).
DOCUMENT_DATES = ("in_force_from", "valid_until")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _document_dates(r: Reader, node: yaml.Node, document: Mapping[str, Any]) -> None:
    """Each document date is a date that exists, and they come in order: a text cannot
    lapse before it comes into force. (YAML reads 2025-05-30 as a date; a quoted one is
    read here the same way.)"""
    nodes = r.fields(node, "document")
    previous: tuple[str, dt.date] | None = None
    for key in DOCUMENT_DATES:
        path = f"document.{key}"
        if key not in document or path in r.failed:
            continue
        value = document[key]
        day: dt.date | None = None
        if isinstance(value, dt.datetime):
            day = value.date()
        elif isinstance(value, dt.date):
            day = value
        elif isinstance(value, str) and _ISO_DATE.fullmatch(value.strip()):
            try:
                day = dt.date.fromisoformat(value.strip())
            except ValueError as exc:
                r.problem(nodes.get(key, node), path, value, f"a date that exists, as YYYY-MM-DD ({exc})")
                continue
        if day is None:
            r.problem(nodes.get(key, node), path, value, "a date, as YYYY-MM-DD")
            continue
        if previous is not None and day < previous[1]:
            r.problem(nodes.get(key, node), path, day.isoformat(),
                      f"a date on or after {previous[0]} ({previous[1].isoformat()})")
        previous = (key, day)


def parse_rulebook(text: str, source: str) -> Rulebook | dict[str, Rule]:
    """Parse one rulebook file; the common file gives a dict of rules instead.

    Raises :class:`InputError` listing every malformed key with its line.
    """
    r = Reader(source)
    try:
        root = yaml.compose(text, Loader=_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise InputError(Problem(source, line, None, None, f"not valid YAML: {getattr(exc, 'problem', exc)}")) from None
    if root is None:
        raise InputError(Problem(source, None, None, None, "the rulebook is empty"))
    top = r.fields(root, "rulebook")
    for k in top:
        if k not in _TOP_KEYS:
            r.problem(top[k], k, None, f"unknown top-level key '{k}'")
    common = bool(top.get("common") is not None and r.value(top["common"], "common"))
    document = {}
    if not common:
        if "document" in top:
            document = r.value(top["document"], "document") or {}
            if not isinstance(document, dict):
                r.problem(top["document"], "document", document, "a mapping with at least 'title'")
                document = {}
            else:
                _document_dates(r, top["document"], document)
        elif not common:
            r.problem(root, "document", None, "missing required key 'document' (with 'title')")
    title = str(document.get("title", ""))
    rules: dict[str, Rule] = {}
    rules_node = top.get("rules")
    if rules_node is None:
        r.problem(root, "rules", None, "missing required key 'rules'")
    elif not isinstance(rules_node, yaml.SequenceNode):
        r.problem(rules_node, "rules", None, "'rules' must be a list")
    else:
        for i, item in enumerate(rules_node.value):
            rule = _parse_rule(r, item, title, f"rules[{i}]")
            if rule is None:
                continue
            if rule.id in rules:
                r.problem(item, f"rules[{i}].id", rule.id, "each rule id once per rulebook")
            rules[rule.id] = rule
    if common:
        if r.problems:
            raise InputError(r.problems)
        return rules
    jurisdiction = r.text(top, "jurisdiction", root)
    if jurisdiction is not None and not jurisdiction.isidentifier():
        r.problem(top["jurisdiction"], "jurisdiction", jurisdiction, "a short id in letters, digits and _ (e.g. 'wuhan')")
    name_zh = r.text(top, "name_zh", root)
    name_en = r.text(top, "name_en", root, required=False) or (jurisdiction or "").title()
    level = r.text(top, "level", root)
    if level is not None and level not in ("province", "city"):
        r.problem(top["level"], "level", level, "province or city")
    aliases = r.value(top["aliases"], "aliases") if "aliases" in top else []
    if not isinstance(aliases, list):
        r.problem(top["aliases"], "aliases", aliases, "a list of names")
        aliases = []
    for i, alias in enumerate(aliases):
        if not isinstance(alias, (str, int)) or isinstance(alias, bool) or not str(alias).strip():
            r.problem(node_at(top["aliases"], f"[{i}]"), f"aliases[{i}]", alias, "a name (text)")
    if r.problems:
        raise InputError(r.problems)
    return Rulebook(
        jurisdiction=jurisdiction,  # type: ignore[arg-type]
        name_zh=name_zh,  # type: ignore[arg-type]
        name_en=name_en,
        level=level,  # type: ignore[arg-type]
        parent=r.text(top, "parent", root, required=False),
        province=r.text(top, "province", root, required=False),
        city=r.text(top, "city", root, required=False),
        division_code=r.text(top, "division_code", root, required=False),
        document=document,
        rules=rules,
        aliases=tuple(str(a) for a in aliases),
        source=source,
    )


@cache
def _builtin() -> tuple[dict[str, Rulebook], dict[str, Rule]]:
    books: dict[str, Rulebook] = {}
    common: dict[str, Rule] = {}
    folder = resources.files(__package__).joinpath("books")
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".yaml"):
            continue
        parsed = parse_rulebook(entry.read_text(encoding="utf-8"), entry.name)
        if isinstance(parsed, Rulebook):
            books[parsed.jurisdiction] = parsed
        else:
            common.update(parsed)
    return books, common


def load_rulebooks(extra: Iterable[str | Path] = ()) -> Rulebooks:
    """The five built-in rulebooks, with each ``extra`` file added or replacing
    the rulebook of the same jurisdiction."""
    books, common = _builtin()
    books = dict(books)
    for path in extra:
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(Problem(str(p), None, None, None, f"cannot read rulebook: {exc}")) from None
        parsed = parse_rulebook(text, str(p))
        if not isinstance(parsed, Rulebook):
            raise InputError(Problem(str(p), None, None, None, "a --rules file must describe one jurisdiction"))
        books[parsed.jurisdiction] = parsed
    problems = [
        Problem(b.source, None, "parent", b.parent, f"a known jurisdiction ({', '.join(books)})")
        for b in books.values()
        if b.parent and b.parent not in books
    ]
    if problems:
        raise InputError(problems)
    return Rulebooks(books, dict(common))
