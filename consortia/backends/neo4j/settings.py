"""Where the database is and how to reach it; driver failures as BackendError.

The password is a field like the others here, but the command line never
takes it as an option (it would show in ``ps`` and in shell history): the CLI
reads ``NEO4J_PASSWORD`` or prompts.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import neo4j
from neo4j.exceptions import AuthError, DriverError, Neo4jError, ServiceUnavailable

from ...errors import BackendError, InputError, Problem

__all__ = ["DEFAULT_URI", "DEFAULT_USER", "Neo4jSettings", "connect", "translate_errors"]

DEFAULT_URI = "bolt://localhost:7687"
DEFAULT_USER = "neo4j"
_SCHEMES = ("bolt", "bolt+s", "bolt+ssc", "neo4j", "neo4j+s", "neo4j+ssc")


@dataclass(frozen=True)
class Neo4jSettings:
    """A Neo4j (or Bolt-speaking) server, the user, and the database to use
    (``None``: the server's default database)."""

    uri: str = DEFAULT_URI
    user: str = DEFAULT_USER
    password: str = field(default="", repr=False)
    database: str | None = None

    @classmethod
    def from_env(cls, **overrides: str | None) -> Neo4jSettings:
        """Settings from ``NEO4J_URI``, ``NEO4J_USER``, ``NEO4J_PASSWORD`` and
        ``NEO4J_DATABASE``; a non-``None`` override wins."""
        env = {
            "uri": os.environ.get("NEO4J_URI") or DEFAULT_URI,
            "user": os.environ.get("NEO4J_USER") or DEFAULT_USER,
            "password": os.environ.get("NEO4J_PASSWORD", ""),
            "database": os.environ.get("NEO4J_DATABASE") or None,
        }
        env.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**env)  # type: ignore[arg-type]

    @property
    def where(self) -> str:
        """The server and database, for messages."""
        return f"{self.uri} (database {self.database or 'default'})"


def _message(exc: Exception) -> str:
    return getattr(exc, "message", None) or str(exc)


@contextlib.contextmanager
def translate_errors(settings: Neo4jSettings) -> Iterator[None]:
    """Turn the driver's exceptions into :class:`BackendError` with a message
    that says what to check, so the CLI exits 3 without a traceback."""
    try:
        yield
    except AuthError as exc:
        raise BackendError(f"{settings.uri} refused user {settings.user!r}: check --user and NEO4J_PASSWORD "
                           f"({_message(exc)})") from None
    except ServiceUnavailable as exc:
        raise BackendError(f"cannot reach a Neo4j server at {settings.uri}: {_message(exc)} "
                           "(is it running, and is --uri right?)") from None
    except Neo4jError as exc:
        code = exc.code or ""
        if code.endswith("DatabaseNotFound"):
            raise BackendError(f"{settings.uri} has no database {settings.database!r} (check --database): "
                               f"{_message(exc)}") from None
        raise BackendError(f"the database at {settings.where} failed: {code}: {_message(exc)}") from None
    except DriverError as exc:
        raise BackendError(f"the Neo4j driver failed talking to {settings.where}: {_message(exc)}") from None


def connect(settings: Neo4jSettings) -> neo4j.Driver:
    """A driver that has been checked to reach the server and the database."""
    scheme = urlsplit(settings.uri).scheme
    if scheme not in _SCHEMES:
        raise InputError(Problem("--uri", None, "uri", settings.uri,
                                 "a Bolt address such as bolt://localhost:7687 (schemes: " + ", ".join(_SCHEMES) + ")"))
    with translate_errors(settings):
        try:
            driver = neo4j.GraphDatabase.driver(settings.uri, auth=(settings.user, settings.password),
                                                connection_timeout=15, max_transaction_retry_time=60)
        except ValueError as exc:  # a malformed address
            raise InputError(Problem("--uri", None, "uri", settings.uri, f"a valid Bolt address ({exc})")) from None
        try:
            driver.verify_connectivity()
            driver.execute_query("RETURN 1 AS ok", database_=settings.database)
        except BaseException:
            driver.close()
            raise
    return driver
