"""The Neo4j store: one connection, and every operation of the backend through it.

It mirrors the embedded store's interface where the two overlap
(:meth:`add_member`) and adds what only a shared database has (:meth:`push`,
:meth:`pull`, the meta node). The network queries, answered by Cypher on the
server, are :meth:`network` (see :mod:`.network`); they and every other read
go through :meth:`read` / :meth:`rows`, which run one read-only statement
with parameters in a transaction that first checks no push is pending.

Every driver failure leaves here as a :class:`~consortia.errors.BackendError`
(the CLI's exit 3); refusals and input errors pass through unchanged.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import neo4j
import pandas as pd

from ...errors import BackendError
from ...registry import Registry
from ...rules.rulebook import Rulebooks, load_rulebooks
from . import members as _members
from . import pull as _pull
from . import push as _push
from .model import META_NAME
from .push import READ_META
from .settings import Neo4jSettings, connect, translate_errors

if TYPE_CHECKING:
    from .network import Neo4jNetwork

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

    def network(self, as_of: dt.date | str | None = None) -> Neo4jNetwork:
        """The network queries (:class:`~.network.Neo4jNetwork`) on this database as of
        ``as_of`` (default: the store's date, else today), sharing this connection."""
        from .network import Neo4jNetwork

        return Neo4jNetwork(self, self.books, as_of if as_of is not None else self.as_of)

    def read(self, query: str, parameters: Mapping[str, Any] | None = None, *,
             generation: str | None = None) -> list[dict[str, Any]]:
        """Run one read-only statement (a module constant, values as
        ``parameters``) on a completely pushed registry; rows as dicts.

        With ``generation``, refuse unless the database still holds that push
        (a question asked in several statements must not mix two registries)."""
        keys, values = self.rows(query, parameters, generation=generation)
        return [dict(zip(keys, v, strict=True)) for v in values]

    def rows(self, query: str, parameters: Mapping[str, Any] | None = None, *,
             generation: str | None = None) -> tuple[list[str], list[list[Any]]]:
        """:meth:`read` as column names and value lists (no dict per row: cheaper
        for the large answers the network queries fetch).

        The meta node is read in the same read transaction before and after the
        statement, so a push that is pending, or one that ran meanwhile, is
        refused rather than read half-way."""
        with translate_errors(self.settings):
            with self.driver.session(database=self.database, default_access_mode=neo4j.READ_ACCESS) as session:
                return session.execute_read(_read, query, dict(parameters or {}), generation)

    def frame(self, query: str, parameters: Mapping[str, Any] | None = None,
              columns: Iterable[str] | None = None, *, generation: str | None = None) -> pd.DataFrame:
        """:meth:`read` as a DataFrame (with ``columns`` even when empty)."""
        keys, values = self.rows(query, parameters, generation=generation)
        return pd.DataFrame(values, columns=list(columns) if columns is not None else keys, dtype=object)


def _check_meta(tx: neo4j.ManagedTransaction, generation: str | None) -> None:
    rec = tx.run(READ_META, name=META_NAME).single()
    meta = _pull.require_complete(rec["meta"] if rec else None)
    if generation is not None and meta.get("generation") != generation:
        raise BackendError("the database changed (a push ran) while this question was being answered; ask again")


def _read(tx: neo4j.ManagedTransaction, query: str, parameters: dict[str, Any],
          generation: str | None) -> tuple[list[str], list[list[Any]]]:
    _check_meta(tx, generation)
    result = tx.run(query, parameters)
    keys = list(result.keys())
    values = result.values()
    _check_meta(tx, generation)
    return keys, values
