"""The ``consortia`` command line: parse options, call the library, print.

Library errors become exit codes here and only here: 2 for bad input or
usage (with every problem listed, never a traceback), 1 for a refused write
or an audit with unwaived errors, 3 when something outside the input failed.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from . import __version__
from .errors import BackendError, ConsortiaError, InputError, Refusal

__all__ = ["main"]


class _Group(click.Group):
    """Maps library exceptions to exit codes, so no bad input ends in a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except InputError as exc:
            click.echo(f"Error: {exc.render()}", err=True)
            sys.exit(2)
        except Refusal as exc:
            click.echo(f"Refused: {exc}", err=True)
            sys.exit(1)
        except BackendError as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(3)
        except ConsortiaError as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(2)


def _date(_ctx: click.Context, _param: click.Parameter, value: str | None) -> dt.date | None:
    if value is None:
        return None
    import pandas as pd

    from .loaders.values import parse_column

    parsed, bad = parse_column(pd.Series([value]), "date")
    if bad.iloc[0] or pd.isna(parsed.iloc[0]):
        raise click.BadParameter(f"{value!r} is not a date like 2025-06-30")
    return parsed.iloc[0].date()


def output_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``--format`` and ``--out``, shared by every command that prints rows."""

    @click.option("--format", "fmt", type=click.Choice(["table", "json", "csv", "xlsx"]), default="table",
                  show_default=True, help="Output format; xlsx needs --out.")
    @click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
                  help="Write to this file (atomically) instead of standard output.")
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if kwargs.get("fmt") == "xlsx" and kwargs.get("out") is None:
            raise click.UsageError("--format xlsx needs --out FILE.xlsx")
        return fn(*args, **kwargs)

    return wrapper


def rules_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``--rules FILE`` (repeatable): add or replace a jurisdiction's rulebook."""
    return click.option("--rules", "rules_files", multiple=True, type=click.Path(exists=True, dir_okay=False),
                        help="A rulebook YAML that adds or replaces a jurisdiction (repeatable).")(fn)


def as_of_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``--as-of DATE``: the date memberships and lifecycle rules are judged on."""
    return click.option("--as-of", callback=_date, default=None, metavar="DATE",
                        help="Judge the registry as of this date (default: today).")(fn)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="consortia")
def main() -> None:
    """Innovation-consortium (创新联合体) registries: load, check against the
    policy texts, and explore as a graph."""


FINDING_COLUMNS = ("rule", "severity", "waived", "jurisdiction", "consortium_id", "uscc", "message",
                   "citation", "location")


@main.command()
@click.argument("path", type=click.Path(path_type=Path))
@as_of_option
@output_options
@rules_option
@click.option("--jurisdiction", "-j", "only", multiple=True, help="Only findings under these jurisdictions.")
@click.option("--lang", type=click.Choice(["en", "zh"]), default="en", show_default=True,
              help="Column headers of CSV/Excel reports (zh: Chinese).")
def check(path: Path, as_of: dt.date | None, fmt: str, out: Path | None, rules_files: tuple[str, ...],
          only: tuple[str, ...], lang: str) -> None:
    """Audit the registry at PATH against every rule of its jurisdictions' texts.

    Exit 0 when no unwaived error is found, 1 when one is, 2 for bad input.
    """
    from .findings import exit_code_for
    from .loaders import load_registry
    from .output import emit
    from .rules.engine import run_checks
    from .rules.rulebook import load_rulebooks

    books = load_rulebooks(rules_files)
    wanted = set()
    for j in only:
        jid = books.resolve(j)
        if jid is None:
            raise click.BadParameter(f"unknown jurisdiction {j!r}; known: {', '.join(books)}", param_hint="-j")
        wanted.add(jid)
    registry = load_registry(path, books)
    findings = run_checks(registry, books, as_of)
    if wanted:
        findings = [f for f in findings if f.jurisdiction in wanted
                    or (f.jurisdiction is None and wanted & set(f.details.get("jurisdictions", [])))]
    rows = [f.to_dict() for f in findings]
    title = f"{len(findings)} findings ({sum(f.blocking for f in findings)} blocking errors)"
    sheets = None
    if fmt == "xlsx":
        from .report import consortium_summary, translate, unit_memberships

        sheets = {"联合体汇总" if lang == "zh" else "consortia": translate(consortium_summary(registry, as_of, findings), lang),
                  "单位参与情况" if lang == "zh" else "units": translate(unit_memberships(registry, as_of), lang)}
    if lang == "zh" and fmt in ("csv", "xlsx"):
        from .report import HEADERS_ZH

        rows = [{HEADERS_ZH.get(k, k): v for k, v in r.items()} for r in rows]
        columns = [HEADERS_ZH.get(c, c) for c in (*FINDING_COLUMNS, "details")]
    else:
        columns = [*FINDING_COLUMNS, "details"]
    emit(rows, fmt, out=out, columns=columns, sheets=sheets,
         table_columns=("rule", "severity", "waived", "jurisdiction", "consortium_id", "uscc", "message"),
         title=("问题清单" if lang == "zh" else "findings") if fmt == "xlsx" else title,
         echo=click.echo if fmt == "table" else None)
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
    from .loaders import load_registry
    from .rules.rulebook import load_rulebooks
    from .show import describe, render

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
@rules_option
def summary(path: Path, only: tuple[str, ...], lang: str, as_of: dt.date | None, fmt: str, out: Path | None,
            rules_files: tuple[str, ...]) -> None:
    """Per-consortium application summary (as the Liuzhou form asks): members by type
    and tier, platforms, and open findings."""
    from .loaders import load_registry
    from .output import emit
    from .report import consortium_summary, translate
    from .rules.engine import run_checks
    from .rules.rulebook import load_rulebooks

    books = load_rulebooks(rules_files)
    registry = load_registry(path, books)
    frame = consortium_summary(registry, as_of, run_checks(registry, books, as_of))
    if only:
        frame = frame[frame["consortium_id"].isin(only)]
    frame = translate(frame, lang)
    emit(frame.to_dict("records"), fmt, out=out, echo=click.echo if fmt == "table" else None,
         title="联合体汇总" if lang == "zh" else "Consortium summary")


@main.command("add-member")
@click.argument("path", type=click.Path(path_type=Path))
@click.argument("consortium_id")
@click.argument("uscc")
@click.option("--role", required=True, help="lead, core, close or general (牵头单位/核心层/紧密合作层/一般协作层).")
@click.option("--segments", default="", help="Chain segment ids this member covers, separated by ;")
@click.option("--joined-on", callback=_date, default=None, metavar="DATE", help="Default: the as-of date.")
@click.option("--exemption", default="", help="A recorded 一事一议 decision that waives a 原则上 rule.")
@as_of_option
@rules_option
def add_member(path: Path, consortium_id: str, uscc: str, role: str, segments: str, joined_on: dt.date | None,
               exemption: str, as_of: dt.date | None, rules_files: tuple[str, ...]) -> None:
    """Add UNIT (by code) to CONSORTIUM_ID in the registry at PATH, enforcing the
    lead and membership-cap rules; the file is rewritten atomically."""
    import re

    from .graph.store import EmbeddedStore
    from .rules.rulebook import load_rulebooks

    store = EmbeddedStore.open(path, load_rulebooks(rules_files), as_of)
    segs = [s.strip() for s in re.split(r"[;；]", segments) if s.strip()]
    row = store.add_member(consortium_id, uscc, role, segments=segs, joined_on=joined_on, exemption=exemption)
    store.save()
    note = f" (exemption recorded: {row['exemption']})" if row["exemption"] else ""
    click.echo(f"Added {row['uscc']} to {row['consortium_id']} as {row['role']}{note}.")


@main.command()
@click.option("--consortia", "n", type=click.IntRange(1, 1_000_000), required=True, help="How many consortia.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True)
def generate(n: int, seed: int, out: Path) -> None:
    """Write a fictional, realistic registry of N consortia (for trials and benchmarks)."""
    from .generate import generate as gen
    from .generate import write_csv

    tables = gen(n, seed)
    write_csv(tables, out)
    counts = ", ".join(f"{len(t):,} {name}" for name, t in tables.items())
    click.echo(f"Wrote {out}: {counts}.")


@main.command()
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("consortia-demo"),
              show_default=True, help="Folder for the demo registry and its reports.")
def demo(out: Path) -> None:
    """Run the main job on a bundled, fictional demo registry (no network needed)."""
    from .demo import run_demo

    run_demo(out, click.echo)


def _window(_ctx: click.Context, _param: click.Parameter, value: str) -> int:
    import re

    m = re.fullmatch(r"\s*(\d+)\s*([dwmy]?)\s*", value or "")
    if not m:
        raise click.BadParameter(f"{value!r} is not a window like 90d, 12w, 6m or 1y")
    return int(m.group(1)) * {"": 1, "d": 1, "w": 7, "m": 30, "y": 365}[m.group(2)]


@main.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--within", callback=_window, default="90d", show_default=True, help="Window: 90d, 12w, 6m or 1y.")
@as_of_option
@output_options
@rules_option
def deadlines(path: Path, within: int, as_of: dt.date | None, fmt: str, out: Path | None,
              rules_files: tuple[str, ...]) -> None:
    """Obligations coming due (annual reports, evaluations, rectification acceptance,
    term ends), soonest first."""
    from .loaders import load_registry
    from .output import emit
    from .rules.lifecycle import deadlines as due
    from .rules.rulebook import load_rulebooks

    books = load_rulebooks(rules_files)
    rows = due(load_registry(path, books), books, as_of, within)
    emit(rows, fmt, out=out, echo=click.echo if fmt == "table" else None,
         table_columns=("due_on", "days_left", "consortium_id", "jurisdiction", "obligation"),
         title=f"{len(rows)} obligations due within {within} days")


@main.command()
@click.argument("jurisdiction", required=False)
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@output_options
@rules_option
def rules(jurisdiction: str | None, lang: str, fmt: str, out: Path | None, rules_files: tuple[str, ...]) -> None:
    """List the rules of one or every rulebook, with their citations."""
    from .output import emit
    from .rules.engine import implemented
    from .rules.rulebook import load_rulebooks

    books = load_rulebooks(rules_files)
    checked = implemented()
    chosen = list(books.values())
    if jurisdiction:
        jid = books.resolve(jurisdiction)
        if jid is None:
            raise click.BadParameter(f"unknown jurisdiction {jurisdiction!r}; known: {', '.join(books)}")
        chosen = [books[jid]]
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
            })
    shown = (("jurisdiction", "rule", "severity", "原则上", "已检查", "条款", "原文") if lang == "zh"
             else ("jurisdiction", "rule", "severity", "in_principle", "checked", "article", "citation"))
    emit(rows, fmt, out=out, echo=click.echo if fmt == "table" else None, table_columns=shown,
         title="规则" if lang == "zh" else "Rules")


if __name__ == "__main__":  # pragma: no cover
    main()
