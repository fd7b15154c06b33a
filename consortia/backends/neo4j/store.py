"""The Neo4j store: one connection, and every operation of the backend through it.

It mirrors the embedded store's interface where the two overlap
(:meth:`add_member`) and adds what only a shared database has (:meth:`push`,
:meth:`pull`, the meta node). Query methods answered by Cypher on the server
are meant to be added beside :meth:`read`, which runs one read-only
statement with parameters and gives back plain rows.

Every driver failure leaves here as a :class:`~consortia.errors.BackendError`
(the CLI's exit 3); refusals and input errors pass through unchanged.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

import neo4j
import pandas as pd

from ...registry import Registry
from ...rules.rulebook import Rulebooks, load_rulebooks
from . import members as _members
from . import pull as _pull
from . import push as _push
from .settings import Neo4jSettings, connect, translate_errors

__all__ = ["Neo4jStore"]


class Neo4jStore:
    """A registry kept in a Neo4j database (or another server speaking Bolt
    and Neo4j 5 Cypher). Use as a context manager, or call :meth:`close`."""

    def __init__(self, settings: Neo4jSettings, books: Rulebooks | None = None,
                 as_of: dt.date | str | None = None) -> None:
        self.settings = settings
        self.books = books or load_rulebooks()
        self.as_of = as_of
        self.driver: neo4j.Driver = connect(settings)

    def __enter__(self) -> Neo4jStore:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self.driver.close()

    @property
    def database(self) -> str | None:
        return self.settings.database

    def meta(self) -> dict[str, Any] | None:
        """What the database holds: the pushed registry's generation and
        tables, and ``pending`` while a push is incomplete; ``None`` if empty."""
        with translate_errors(self.settings):
            return _pull.read_meta(self.driver, self.database)

    def push(self, registry: Registry, *, batch_size: int = _push.DEFAULT_BATCH_SIZE,
             progress: bool = False) -> _push.PushReport:
        """Make the database hold ``registry`` exactly (see :mod:`.push` for what a failure leaves)."""
        with translate_errors(self.settings):
            return _push.push(self.driver, self.database, registry, batch_size=batch_size, progress=progress)

    def pull(self, out: str | Path) -> dict[str, int]:
        """Export the registry to the CSV folder ``out``; rows per table."""
        with translate_errors(self.settings):
            return _pull.pull(self.driver, self.database, out)

    def registry(self) -> Registry:
        """The registry as :func:`~consortia.loaders.load_registry` gives it, for
        the questions that need every table (the audit rules)."""
        with translate_errors(self.settings):
            return _pull.read_registry(self.driver, self.database, self.books)

    def add_member(self, consortium_id: str, uscc: str, role: str, *, segments: Iterable[str] = (),
                   joined_on: dt.date | str | None = None, exemption: str = "") -> dict[str, Any]:
        """Add one membership, checked and written in one locked transaction
        (see :mod:`.members`); the same refusals as the embedded store."""
        with translate_errors(self.settings):
            return _members.add_member(self.driver, self.database, self.books, consortium_id, uscc, role,
                                      segments=segments, joined_on=joined_on, exemption=exemption, as_of=self.as_of)

    def read(self, query: str, parameters: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Run one read-only statement (a module constant, values as
        ``parameters``) on a completely pushed registry; rows as dicts."""
        with translate_errors(self.settings):
            _pull.require_complete(_pull.read_meta(self.driver, self.database))
            result = self.driver.execute_query(query, dict(parameters or {}), database_=self.database,
                                               routing_=neo4j.RoutingControl.READ)
            return [r.data() for r in result.records]

    def frame(self, query: str, parameters: Mapping[str, Any] | None = None,
              columns: Iterable[str] | None = None) -> pd.DataFrame:
        """:meth:`read` as a DataFrame (with ``columns`` even when empty)."""
        rows = self.read(query, parameters)
        return pd.DataFrame(rows, columns=list(columns) if columns is not None else None)
