"""``consortia neo4j push|pull|status``, and the options every Neo4j-backed command shares.

The connection comes from ``--uri``, ``--user`` and ``--database`` (or
``NEO4J_URI``, ``NEO4J_USER``, ``NEO4J_DATABASE``); the password only from
``NEO4J_PASSWORD`` or a prompt that does not echo, never from an option, so it
stays out of ``ps`` listings and shell history.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import click

from .base import main, rules_option

__all__ = ["add_member_neo4j", "backend_option", "connection_options", "neo4j_group", "settings_from"]

_DEFAULT_URI = "bolt://localhost:7687"
_DEFAULT_USER = "neo4j"
#: Kept in step with consortia.backends.neo4j.DEFAULT_BATCH_SIZE without importing the driver at startup.
_DEFAULT_BATCH_SIZE = 5_000


def connection_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``--uri``, ``--user`` and ``--database``, read from the environment when not given."""
    fn = click.option("--database", envvar="NEO4J_DATABASE", default=None, metavar="NAME",
                      help="Database name (env NEO4J_DATABASE; default: the server's default database).")(fn)
    fn = click.option("--user", envvar="NEO4J_USER", default=_DEFAULT_USER, show_default=True,
                      help="Neo4j user (env NEO4J_USER).")(fn)
    fn = click.option("--uri", envvar="NEO4J_URI", default=_DEFAULT_URI, show_default=True,
                      help="Bolt address of the server (env NEO4J_URI). The password comes from "
                           "NEO4J_PASSWORD or a prompt, never an option.")(fn)
    return fn


def backend_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``--backend embedded|neo4j`` plus the connection options, for commands
    that can work on a registry file or on the database."""
    fn = connection_options(fn)
    return click.option("--backend", type=click.Choice(["embedded", "neo4j"]), default="embedded", show_default=True,
                        help="Where the registry is: files (embedded) or a Neo4j database.")(fn)


def settings_from(uri: str, user: str, database: str | None) -> Any:
    """Connection settings, with the password from ``NEO4J_PASSWORD`` or a hidden prompt."""
    from ..backends.neo4j import Neo4jSettings

    password = os.environ.get("NEO4J_PASSWORD")
    if password is None:
        try:
            password = click.prompt(f"Password for {user} at {uri}", hide_input=True, err=True)
        except click.Abort:
            raise click.UsageError("no password: set NEO4J_PASSWORD or type it at the prompt") from None
    return Neo4jSettings(uri=uri, user=user, password=password, database=database or None)


def add_member_neo4j(uri: str, user: str, database: str | None, consortium_id: str, uscc: str, role: str, *,
                     segments: Iterable[str] = (), joined_on: dt.date | None = None, exemption: str = "",
                     as_of: dt.date | None = None, rules_files: Iterable[str] = ()) -> dict[str, Any]:
    """``add-member --backend neo4j``: the checked write in the database, the
    row that was written returned as the embedded store returns it."""
    from ..backends.neo4j import Neo4jStore
    from ..rules.rulebook import load_rulebooks

    books = load_rulebooks(tuple(rules_files))
    with Neo4jStore(settings_from(uri, user, database), books, as_of) as store:
        return store.add_member(consortium_id, uscc, role, segments=segments, joined_on=joined_on, exemption=exemption)


@main.group("neo4j")
def neo4j_group() -> None:
    """Keep the registry in a shared Neo4j database: push it there, pull it back."""


def _batch_size(fn: Callable[..., Any]) -> Callable[..., Any]:
    @click.option("--batch-size", type=click.IntRange(1, 1_000_000), default=_DEFAULT_BATCH_SIZE, show_default=True,
                  help="Rows per write transaction.")
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return fn(*args, **kwargs)

    return wrapper


@neo4j_group.command("push")
@click.argument("path", type=click.Path(path_type=Path))
@connection_options
@_batch_size
@rules_option
def push(path: Path, uri: str, user: str, database: str | None, batch_size: int, rules_files: tuple[str, ...]) -> None:
    """Load the registry at PATH into the database, replacing what it held.

    Pushing the same registry twice changes nothing; a push that fails part
    way leaves the database marked incomplete, and running it again resumes."""
    from ..backends.neo4j import Neo4jStore
    from ..loaders import load_registry
    from ..rules.rulebook import load_rulebooks

    books = load_rulebooks(rules_files)
    registry = load_registry(path, books)
    with Neo4jStore(settings_from(uri, user, database), books) as store:
        report = store.push(registry, batch_size=batch_size, progress=True)
    counts = ", ".join(f"{n:,} {name}" for name, n in report.tables.items())
    resumed = f" (resumed: {report.resumed_batches} of {report.batches} batches were already in)" \
        if report.resumed_batches else ""
    click.echo(f"Pushed {path} to {store.settings.where}: {counts}{resumed}; removed {report.removed:,} stale "
               f"item(s). {report.seconds:.1f} s, {report.memberships_per_second:,.0f} memberships/s.")


@neo4j_group.command("pull")
@click.argument("out", type=click.Path(file_okay=False, path_type=Path))
@connection_options
def pull(out: Path, uri: str, user: str, database: str | None) -> None:
    """Export the database's registry to the CSV folder OUT (the interchange format)."""
    from ..backends.neo4j import Neo4jStore

    with Neo4jStore(settings_from(uri, user, database)) as store:
        counts = store.pull(out)
    click.echo(f"Pulled {store.settings.where} to {out}: " + ", ".join(f"{n:,} {name}" for name, n in counts.items()) + ".")


@neo4j_group.command("status")
@connection_options
def status(uri: str, user: str, database: str | None) -> None:
    """Say what the database holds, and whether a push is unfinished (exit 3 if so)."""
    from ..backends.neo4j import Neo4jStore
    from ..errors import BackendError

    with Neo4jStore(settings_from(uri, user, database)) as store:
        meta = store.meta()
    if meta is None:
        click.echo(f"{store.settings.where} holds no registry.")
        return
    if meta.get("generation"):
        click.echo(f"{store.settings.where} holds registry {meta['generation']} "
                   f"(tables: {', '.join(meta.get('tables') or ())}).")
    if meta.get("pending"):
        raise BackendError(f"a push ({meta['pending']}) did not finish: {meta.get('pending_done', 0)} batches are in; "
                           "run the same push again to resume it")
