"""The command group and the options its commands share.

Library errors become exit codes here and only here: 2 for bad input or
usage (with every problem listed, never a traceback), 1 for a refused write
or an audit with unwaived errors, 3 when something outside the input failed.
An output that cannot be written is usage (2: the user named a place that
takes no file) unless the system failed while writing it (3: a full disk).
"""

from __future__ import annotations

import datetime as dt
import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from .. import __version__, progress
from ..errors import BackendError, ConsortiaError, InputError, OutputError, Refusal
from ..io import check_writable

__all__ = ["as_of_option", "date_option_callback", "main", "output_options", "rules_option"]


class _Group(click.Group):
    """Maps library exceptions to exit codes, so no bad input ends in a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            with progress.on_terminal():  # a status line while a long command works (terminals only)
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
        except OutputError as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(3 if exc.outside else 2)
        except ConsortiaError as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(2)


def date_option_callback(_ctx: click.Context, _param: click.Parameter, value: str | None) -> dt.date | None:
    if value is None:
        return None
    import pandas as pd

    from ..loaders.values import parse_column

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
        out = kwargs.get("out")
        if kwargs.get("fmt") == "xlsx" and out is None:
            raise click.UsageError("--format xlsx needs --out FILE.xlsx")
        if out is not None and str(out) != "-":
            check_writable(out)  # before the work: an audit must not run for minutes to a folder that takes no file
        return fn(*args, **kwargs)

    return wrapper


#: Rows a terminal table shows unless --limit says otherwise (files get every row).
TABLE_ROWS = 50


def limit_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``--limit N``: at most N rows; unset, a terminal table shows :data:`TABLE_ROWS`
    (a national registry has a hundred thousand) and a file gets every row."""
    return click.option("--limit", type=click.IntRange(0), default=None,
                        help=f"At most this many rows (default: {TABLE_ROWS} in a terminal table, all in a file; "
                             "0 = all).")(fn)


def table_limit(limit: int | None, fmt: str, out: Path | None) -> int | None:
    """The rows to show: ``limit``, or :data:`TABLE_ROWS` for a table on standard output;
    None (or 0) for all."""
    if limit is None and fmt == "table" and (out is None or str(out) == "-"):
        return TABLE_ROWS
    return limit or None


def note_shown(shown: int, total: int, what: str = "rows", hint: str = "") -> None:
    """Say on standard error when a table shows only the first ``shown`` of ``total``."""
    if shown < total:
        click.echo(f"(showing {shown:,} of {total:,} {what}; --limit 0 for all{hint})", err=True)


def rules_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``--rules FILE`` (repeatable): add or replace a jurisdiction's rulebook."""
    return click.option("--rules", "rules_files", multiple=True, type=click.Path(exists=True, dir_okay=False),
                        help="A rulebook YAML that adds or replaces a jurisdiction (repeatable).")(fn)


def as_of_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``--as-of DATE``: the date memberships and lifecycle rules are judged on."""
    return click.option("--as-of", callback=date_option_callback, default=None, metavar="DATE",
                        help="Judge the registry as of this date (default: today).")(fn)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="consortia")
def main() -> None:
    """Innovation-consortium (创新联合体) registries: load, check against the
    policy texts, and explore as a graph."""
