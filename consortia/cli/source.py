"""Where a command's registry is: a file (PATH) or the shared database (``--backend neo4j``).

Commands that read a registry take ``[PATH]`` and :func:`source_option`
(``--backend`` and the connection options), and receive one
:class:`Source` that hands them either the loaded :class:`Registry` (what
the audit rules need: every table) or a :class:`~consortia.queries.Network`
(what the network queries need; the database answers those with Cypher on
its server). With the embedded backend PATH is required; with Neo4j it must
be left out, so nobody believes a file was read when the database was.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from .neo4j import backend_option, settings_from

if TYPE_CHECKING:
    from ..queries import Network
    from ..registry import Registry
    from ..rules.rulebook import Rulebooks

__all__ = ["Source", "registry_argument", "source_option"]


@dataclass(frozen=True)
class Source:
    """The backend a command was pointed at, and how to reach it."""

    backend: str
    path: Path | None
    uri: str
    user: str
    database: str | None

    def check(self) -> None:
        """A usage error when PATH and the backend disagree."""
        if self.backend == "neo4j" and self.path is not None:
            raise click.UsageError("with --backend neo4j the registry is the database's: give no PATH")
        if self.backend == "embedded" and self.path is None:
            raise click.UsageError("give the registry PATH (a folder of CSV files or a workbook), or --backend neo4j")

    def registry(self, books: Rulebooks) -> Registry:
        """Every table, as :func:`~consortia.loaders.load_registry` gives them (from
        the database: read in one transaction, rows and sources as pushed)."""
        self.check()
        if self.backend == "embedded":
            from ..loaders import load_registry

            return load_registry(self.path, books)  # type: ignore[arg-type]
        from ..backends.neo4j import Neo4jStore

        with Neo4jStore(settings_from(self.uri, self.user, self.database), books) as store:
            return store.registry()

    def network(self, books: Rulebooks, as_of: dt.date | None) -> Network:
        """The network queries on ``as_of``: from the loaded file, or answered by the
        database (its connection closed when the command ends)."""
        self.check()
        if self.backend == "embedded":
            from ..loaders import load_registry
            from ..queries import EmbeddedNetwork
            from ..queries.network import NETWORK_TABLES

            registry = load_registry(self.path, books, tables=NETWORK_TABLES)  # type: ignore[arg-type]
            return EmbeddedNetwork(registry, books, as_of)
        from ..backends.neo4j.network import Neo4jNetwork

        net = Neo4jNetwork(settings_from(self.uri, self.user, self.database), books, as_of)
        click.get_current_context().call_on_close(net.close)
        return net


def source_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``[PATH]`` is the command's own argument; this adds ``--backend``, ``--uri``,
    ``--user`` and ``--database`` and passes them, with PATH, as ``source``."""

    @backend_option
    @functools.wraps(fn)
    def wrapper(*args: Any, backend: str, uri: str, user: str, database: str | None, **kwargs: Any) -> Any:
        path = kwargs.pop("path", None)
        return fn(*args, source=Source(backend, path, uri, user, database), **kwargs)

    return wrapper


def registry_argument(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``[PATH]`` and :func:`source_option`: what a command that reads a registry takes."""
    return click.argument("path", type=click.Path(path_type=Path), required=False)(source_option(fn))
