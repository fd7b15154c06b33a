"""Audit commands: check, summary, show, deadlines and the rulebooks."""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from .base import as_of_option, limit_option, main, note_shown, output_options, rules_option, table_limit
from .source import Source, registry_argument

if TYPE_CHECKING:
    from ..registry import Registry

FINDING_COLUMNS = ("rule", "severity", "waived", "jurisdiction", "consortium_id", "uscc", "message",
                   "citation", "location")


@main.command()
@registry_argument
@as_of_option
@output_options
@limit_option
@rules_option
@click.option("--jurisdiction", "-j", "only", multiple=True, help="Only findings under these jurisdictions.")
@click.option("--lang", type=click.Choice(["en", "zh"]), default="en", show_default=True,
              help="Column headers of CSV/Excel reports (zh: Chinese).")
def check(source: Source, as_of: dt.date | None, fmt: str, out: Path | None, limit: int | None,
          rules_files: tuple[str, ...], only: tuple[str, ...], lang: str) -> None:
    """Audit the registry at PATH (or, with --backend neo4j, the database's) against
    every rule of its jurisdictions' texts.

    Exit 0 when no unwaived error is found, 1 when one is, 2 for bad input,
    3 when the database could not be read.
    """
    from ..findings import exit_code_for
    from ..output import emit
    from ..rules.engine import run_checks
    from ..rules.rulebook import load_rulebooks

    books = load_rulebooks(rules_files)
    wanted = set()
    for j in only:
        jid = books.resolve(j)
        if jid is None:
            raise click.BadParameter(f"unknown jurisdiction {j!r}; known: {', '.join(books)}", param_hint="-j")
        wanted.add(jid)
    registry = source.registry(books)
    findings = run_checks(registry, books, as_of)
    if wanted:
        findings = [f for f in findings if f.jurisdiction in wanted
                    or (f.jurisdiction is None and wanted & set(f.details.get("jurisdictions", [])))]
    # A terminal table shows the first findings (errors first); a file gets them all.
    shown = findings[:table_limit(limit, fmt, out)]
    rows = [f.to_dict(copy=False) for f in shown]  # only written out below
    title = f"{len(findings)} findings ({sum(f.blocking for f in findings)} blocking errors)"
    sheets = None
    if fmt == "xlsx":
        from ..report import consortium_summary, translate, unit_memberships

        sheets = {"联合体汇总" if lang == "zh" else "consortia": translate(consortium_summary(registry, as_of, findings), lang),
                  "单位参与情况" if lang == "zh" else "units": translate(unit_memberships(registry, as_of), lang)}
    if lang == "zh" and fmt in ("csv", "xlsx"):
        from ..report import HEADERS_ZH

        rows = [{HEADERS_ZH.get(k, k): v for k, v in r.items()} for r in rows]
        columns = [HEADERS_ZH.get(c, c) for c in (*FINDING_COLUMNS, "details")]
    else:
        columns = [*FINDING_COLUMNS, "details"]
    emit(rows, fmt, out=out, columns=columns, sheets=sheets,
         table_columns=("rule", "severity", "waived", "jurisdiction", "consortium_id", "uscc", "message"),
         title=("问题清单" if lang == "zh" else "findings") if fmt == "xlsx" else title,
         echo=click.echo if fmt == "table" else None)
    note_shown(len(shown), len(findings), "findings", ", or --format json|csv|xlsx --out FILE for the report")
    from ..rules.validity import RULE_ID as TEXT_NOT_IN_FORCE

    for f in findings:  # a terminal table may not reach these warnings: each is said once more
        if f.rule == TEXT_NOT_IN_FORCE:
            click.echo(f"Note: {f.message}", err=True)
    if out is not None:
        click.echo(f"{title}; written to {out}", err=True)
    sys.exit(exit_code_for(findings))


@main.command()
@click.argument("kind", type=click.Choice(["unit", "consortium"]))
@click.argument("ident")
@click.option("--registry", "-r", "path", type=click.Path(path_type=Path),
              default=lambda: os.environ.get("CONSORTIA_REGISTRY", "."), show_default="$CONSORTIA_REGISTRY or .",
              help="The registry folder or workbook.")
@as_of_option
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@rules_option
def show(kind: str, ident: str, path: Path, as_of: dt.date | None, fmt: str, rules_files: tuple[str, ...]) -> None:
    """Show one unit (by code) or one consortium (by id) with its memberships and findings."""
    from ..loaders import load_registry
    from ..rules.rulebook import load_rulebooks
    from ..show import describe, render

    books = load_rulebooks(rules_files)
    registry = load_registry(path, books)
    info = describe(registry, books, kind, ident, as_of)
    click.echo(render(info, fmt), nl=False)


@main.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--consortium", "-c", "only", multiple=True, help="Only these consortia.")
@click.option("--lang", type=click.Choice(["en", "zh"]), default="zh", show_default=True)
@as_of_option
@output_options
@limit_option
@rules_option
def summary(path: Path, only: tuple[str, ...], lang: str, as_of: dt.date | None, fmt: str, out: Path | None,
            limit: int | None, rules_files: tuple[str, ...]) -> None:
    """Per-consortium application summary (as the Liuzhou form asks): members by type
    and tier, platforms, and open findings."""
    from ..loaders import load_registry
    from ..output import emit
    from ..report import consortium_summary, translate
    from ..rules.engine import run_checks
    from ..rules.rulebook import load_rulebooks

    books = load_rulebooks(rules_files)
    registry = load_registry(path, books)
    if only:
        _known_in_force(registry, only, as_of)  # before the audit: a mistyped id is not "(no rows)"
    frame = consortium_summary(registry, as_of, run_checks(registry, books, as_of))
    if only:
        frame = frame[frame["consortium_id"].isin(only)]
    frame = translate(frame, lang)
    shown = frame.head(table_limit(limit, fmt, out) or len(frame))
    emit(shown.to_dict("records"), fmt, out=out, echo=click.echo if fmt == "table" else None,
         title="联合体汇总" if lang == "zh" else "Consortium summary")
    note_shown(len(shown), len(frame), "consortia")


def _known_in_force(registry: Registry, ids: tuple[str, ...], as_of: dt.date | None) -> None:
    """Raise :class:`~consortia.errors.InputError` (exit 2) for each id of ``--consortium`` that is
    not in the registry, or not in force on ``as_of`` (the summary has rows for those only), in the
    words of ``gaps --consortium`` and ``viz network -c``."""
    from ..errors import InputError, Problem
    from ..state import active_consortia, as_timestamp

    ts = as_timestamp(as_of)
    known = set(registry.consortia["consortium_id"])
    in_force = set(active_consortia(registry, ts)["consortium_id"])
    problems = [Problem("--consortium", None, "consortium_id", cid, "a consortium_id in the registry") if cid not in known
                else Problem("--consortium", None, "consortium_id", cid,
                             f"a consortium in force on {ts.date()} (this one is not: status or date)")
                for cid in dict.fromkeys(ids) if cid not in in_force]
    if problems:
        raise InputError(problems)


#: The longest ``--within``: a century, far past any term or reporting cycle.
MAX_WINDOW_DAYS = 36_500


def _window(_ctx: click.Context, _param: click.Parameter, value: str) -> int:
    import re

    m = re.fullmatch(r"\s*(\d+)\s*([dwmy]?)\s*", value or "")
    if not m:
        raise click.BadParameter(f"{value!r} is not a window like 90d, 12w, 6m or 1y")
    days = int(m.group(1)) * {"": 1, "d": 1, "w": 7, "m": 30, "y": 365}[m.group(2)]
    if days > MAX_WINDOW_DAYS:  # past the calendar's last year, and past any obligation a text sets
        raise click.BadParameter(f"{value!r} is longer than the longest window, 100y ({MAX_WINDOW_DAYS} days)")
    return days


@main.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--within", callback=_window, default="90d", show_default=True, help="Window: 90d, 12w, 6m or 1y.")
@as_of_option
@output_options
@limit_option
@rules_option
def deadlines(path: Path, within: int, as_of: dt.date | None, fmt: str, out: Path | None, limit: int | None,
              rules_files: tuple[str, ...]) -> None:
    """Obligations coming due (annual reports, evaluations, rectification acceptance,
    term ends), soonest first."""
    from ..loaders import load_registry
    from ..output import emit
    from ..rules.lifecycle import deadlines as due
    from ..rules.rulebook import load_rulebooks

    books = load_rulebooks(rules_files)
    rows = due(load_registry(path, books), books, as_of, within)
    shown = rows[:table_limit(limit, fmt, out)]  # soonest first
    emit(shown, fmt, out=out, echo=click.echo if fmt == "table" else None,
         table_columns=("due_on", "days_left", "consortium_id", "jurisdiction", "obligation"),
         title=f"{len(rows)} obligations due within {within} days")
    note_shown(len(shown), len(rows), "obligations")


@main.command()
@click.argument("jurisdiction", required=False)
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@output_options
@rules_option
@click.option("--ids", is_flag=True,
              help="Print every rule id a rulebook may name, one per line: the id, a tab, then the parameters "
                   "it takes, comma-separated ('-' for none). Reads no rulebook.")
def rules(jurisdiction: str | None, lang: str, fmt: str, out: Path | None, rules_files: tuple[str, ...],
          ids: bool) -> None:
    """List the rules of one or every rulebook, with their citations."""
    from ..output import emit
    from ..rules.engine import implemented
    from ..rules.rulebook import RULE_IDS, load_rulebooks

    if ids:  # what a rulebook written with --rules may use, before any rulebook is read
        from ..rules.params import PARAMS

        for rule_id in RULE_IDS:
            click.echo(f"{rule_id}\t{', '.join(PARAMS.get(rule_id, {})) or '-'}")
        return
    books = load_rulebooks(rules_files)
    checked = implemented()
    chosen = list(books.values())
    if jurisdiction:
        jid = books.resolve(jurisdiction)
        if jid is None:
            raise click.BadParameter(f"unknown jurisdiction {jurisdiction!r}; known: {', '.join(books)}")
        chosen = [books[jid]]
    from ..rules.labels import iso
    from ..rules.validity import in_force_period, period_label

    period = {b.jurisdiction: period_label(*map(iso, in_force_period(b)), sep=" 至 " if lang == "zh" else " to ")
              for b in chosen}
    rows = []
    for b in chosen:
        for r in b.rules.values():
            rows.append({
                "jurisdiction": b.name_zh if lang == "zh" else b.name_en,
                "rule": r.id, "severity": r.severity,
                ("原则上" if lang == "zh" else "in_principle"): r.in_principle,
                ("已检查" if lang == "zh" else "checked"): r.id in checked,
                ("参数" if lang == "zh" else "params"): dict(r.params),
                ("条款" if lang == "zh" else "article"): r.article,
                ("原文" if lang == "zh" else "citation"): r.citation,
                **({"note": r.note} if lang == "en" else {}),
                ("有效期" if lang == "zh" else "text_in_force"): period[b.jurisdiction],
            })
    shown = (("jurisdiction", "rule", "severity", "原则上", "已检查", "条款", "原文") if lang == "zh"
             else ("jurisdiction", "rule", "severity", "in_principle", "checked", "article", "citation"))
    emit(rows, fmt, out=out, echo=click.echo if fmt == "table" else None, table_columns=shown,
         title="规则" if lang == "zh" else "Rules")
    periods = [f"{b.name_zh if lang == 'zh' else b.name_en} {period[b.jurisdiction]}" for b in chosen
               if period[b.jurisdiction]]
    if fmt == "table" and periods:  # the table has no room for it; a file has the column
        click.echo(("有效期：" if lang == "zh" else "Texts in force: ") + "; ".join(periods)
                   + ("" if lang == "zh" else " (a text that states no period is taken to be in force)"), err=True)
