"""A Bolt server for the Neo4j backend's tests: ArcadeDB from PyPI, or a real Neo4j.

These machines have no Neo4j and no Docker, but the ``arcadedb-embedded``
wheel ships ArcadeDB's server jars, its Neo4j Bolt plugin and a Java runtime.
:class:`ArcadeDBServer` starts that server as a child process on 127.0.0.1
(free ports, a throw-away root folder, a random root password, the Bolt
plugin, one database created at start-up), waits until a Bolt query on that
database answers, and stops it by its process id.

When ``NEO4J_URI`` is set (with ``NEO4J_USER``, ``NEO4J_PASSWORD`` and
optionally ``NEO4J_DATABASE``) the tests use that server instead: Neo4j 5 is
the reference. Each test starts from an empty database, so the tests refuse
to wipe a database that holds nodes the backend did not write.

The session fixture is :func:`bolt_server`; a test module imports it (and
:func:`neo4j_settings`, the per-test empty database) by name. However many
modules import it, one server runs per test session.
"""

from __future__ import annotations

import importlib.util
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import neo4j
import pytest
from neo4j.exceptions import DriverError, Neo4jError

from consortia.backends.neo4j import Neo4jSettings
from consortia.backends.neo4j.model import META_LABEL, NODE_LABELS

__all__ = ["ArcadeDBServer", "arcadedb_home", "bolt_server", "dump", "neo4j_settings", "wipe"]

DATABASE = "consortia"
BOLT_PLUGIN = "Bolt:com.arcadedb.bolt.BoltProtocolPlugin"


def arcadedb_home() -> Path | None:
    """The installed ``arcadedb_embedded`` package folder (``jre/`` and ``jars/``), if any."""
    spec = importlib.util.find_spec("arcadedb_embedded")
    if spec is None or spec.origin is None:
        return None
    home = Path(spec.origin).parent
    return home if (home / "jre" / "bin" / "java").is_file() and (home / "jars").is_dir() else None


def free_port() -> int:
    """A TCP port nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _die_with_parent() -> None:
    """In the child before exec: on Linux, have the kernel send SIGTERM to the
    server if the test process dies without running its teardown (SIGKILL,
    a crash), so no JVM outlives a CI job."""
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class ArcadeDBServer:
    """ArcadeDB with the Bolt plugin, as a child process of the bundled JRE."""

    def __init__(self, root: Path, *, database: str = DATABASE, heap: str = "1g", home: Path | None = None) -> None:
        found = home or arcadedb_home()
        if found is None:
            raise RuntimeError("arcadedb-embedded is not installed (pip install arcadedb-embedded)")
        self.home = found
        self.root = Path(root)
        self.database = database
        self.heap = heap
        self.password = secrets.token_urlsafe(12)
        self.bolt_port = 0
        self.http_port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = self.root / "server.log"

    @property
    def uri(self) -> str:
        return f"bolt://127.0.0.1:{self.bolt_port}"

    def settings(self) -> Neo4jSettings:
        return Neo4jSettings(self.uri, "root", self.password, self.database)

    def command(self) -> list[str]:
        """The java command line: every setting as an ``arcadedb.*`` system property."""
        props = {
            "arcadedb.server.rootPath": str(self.root / "server"),
            "arcadedb.server.rootPassword": self.password,
            "arcadedb.server.httpIncomingHost": "127.0.0.1",
            "arcadedb.server.httpIncomingPort": str(self.http_port),
            "arcadedb.server.httpsIncomingPort": str(free_port()),
            "arcadedb.server.plugins": BOLT_PLUGIN,
            "arcadedb.bolt.host": "127.0.0.1",
            "arcadedb.bolt.port": str(self.bolt_port),
            # Created at start-up, owned by root: Bolt cannot create databases.
            "arcadedb.server.defaultDatabases": f"{self.database}[root]",
        }
        return [str(self.home / "jre" / "bin" / "java"), f"-Xmx{self.heap}", "-cp", str(self.home / "jars" / "*"),
                *(f"-D{k}={v}" for k, v in props.items()), "com.arcadedb.server.ArcadeDBServer"]

    def start(self, timeout: float = 120.0) -> None:
        """Start the server and return once a Bolt query on the database answers."""
        self.root.mkdir(parents=True, exist_ok=True)
        self.bolt_port, self.http_port = free_port(), free_port()
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(self.command(), cwd=self.root, stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, start_new_session=True,
                                            preexec_fn=_die_with_parent)
        try:
            self._wait(timeout)
        except BaseException:
            self.stop()
            raise

    def _log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def _wait(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        last: Exception | None = None
        driver = neo4j.GraphDatabase.driver(self.uri, auth=("root", self.password), connection_timeout=2)
        try:
            while time.monotonic() < deadline:
                assert self.process is not None
                if self.process.poll() is not None:
                    raise RuntimeError(f"ArcadeDB exited with {self.process.returncode}:\n{self._log_tail()}")
                try:
                    # Neither call retries (execute_query would, for 30 s, logging each attempt).
                    driver.verify_connectivity()
                    with driver.session(database=self.database) as session:
                        session.run("RETURN 1 AS ok").consume()
                    return
                except (DriverError, Neo4jError, OSError) as exc:
                    last = exc
                    time.sleep(0.5)
        finally:
            driver.close()
        raise RuntimeError(f"ArcadeDB did not answer on {self.uri} within {timeout:.0f} s ({last}):\n{self._log_tail()}")

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the server by its process id: SIGTERM, then SIGKILL if it lingers."""
        proc, self.process = self.process, None
        if proc is None or proc.poll() is not None:
            return
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout)


@dataclass
class _Shared:
    settings: Neo4jSettings | None = None
    server: ArcadeDBServer | None = None
    tmp: tempfile.TemporaryDirectory[str] | None = None
    users: int = 0


_SHARED = _Shared()


def _acquire() -> Neo4jSettings:
    if _SHARED.settings is None:
        if os.environ.get("NEO4J_URI"):
            _SHARED.settings = Neo4jSettings.from_env()
        else:
            if arcadedb_home() is None:
                pytest.skip("neither NEO4J_URI nor arcadedb-embedded: no Bolt server to test against")
            _SHARED.tmp = tempfile.TemporaryDirectory(prefix="consortia-arcadedb-")
            server = ArcadeDBServer(Path(_SHARED.tmp.name))
            server.start()
            _SHARED.server, _SHARED.settings = server, server.settings()
    _SHARED.users += 1
    return _SHARED.settings


def _release() -> None:
    _SHARED.users -= 1
    if _SHARED.users > 0:
        return
    if _SHARED.server is not None:
        _SHARED.server.stop()
    if _SHARED.tmp is not None:
        _SHARED.tmp.cleanup()
    _SHARED.settings, _SHARED.server, _SHARED.tmp = None, None, None


@pytest.fixture(scope="session")
def bolt_server() -> Iterator[Neo4jSettings]:
    """Connection settings of the session's Bolt server (started once)."""
    settings = _acquire()
    try:
        yield settings
    finally:
        _release()


_OURS = [*NODE_LABELS, META_LABEL]
FOREIGN_NODES = "MATCH (n) WHERE none(l IN labels(n) WHERE l IN $ours) RETURN count(n) AS n"
WIPE = "MATCH (n) WITH n LIMIT 10000 DETACH DELETE n RETURN count(*) AS n"


def wipe(settings: Neo4jSettings) -> None:
    """Empty the database (constraints and indexes stay: creating them is idempotent)."""
    with neo4j.GraphDatabase.driver(settings.uri, auth=(settings.user, settings.password)) as driver:
        if driver.execute_query(FOREIGN_NODES, {"ours": _OURS}, database_=settings.database).records[0]["n"]:
            pytest.skip(f"{settings.where} holds data the backend did not write; not wiping it")
        while driver.execute_query(WIPE, database_=settings.database).records[0]["n"]:
            pass


@pytest.fixture
def neo4j_settings(bolt_server: Neo4jSettings) -> Neo4jSettings:
    """The session's server with an empty database, for one test."""
    wipe(bolt_server)
    return bolt_server


DUMP_NODES = "MATCH (n) RETURN labels(n) AS labels, properties(n) AS props"
DUMP_RELATIONSHIPS = """
MATCH (a)-[r]->(b)
RETURN labels(a) AS a_labels, properties(a) AS a_props, type(r) AS type, properties(r) AS props,
       labels(b) AS b_labels, properties(b) AS b_props
"""


def _frozen(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((k, _frozen(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(_frozen(v) for v in value)
    return value


def dump(settings: Neo4jSettings) -> tuple[list[Any], list[Any]]:
    """Every node (labels and properties) and every relationship (type,
    properties and both ends' labels and properties), sorted: two dumps are
    equal exactly when the databases hold the same graph."""
    with neo4j.GraphDatabase.driver(settings.uri, auth=(settings.user, settings.password)) as driver:
        nodes = driver.execute_query(DUMP_NODES, database_=settings.database).records
        rels = driver.execute_query(DUMP_RELATIONSHIPS, database_=settings.database).records
    node_rows = sorted(((_frozen(sorted(r["labels"])), _frozen(r["props"])) for r in nodes), key=repr)
    rel_rows = sorted(((_frozen(sorted(r["a_labels"])), _frozen(r["a_props"]), r["type"], _frozen(r["props"]),
                        _frozen(sorted(r["b_labels"])), _frozen(r["b_props"])) for r in rels), key=repr)
    return node_rows, rel_rows


def benchmark(registry_path: str, batch_sizes: list[int], heap: str = "2g") -> list[dict[str, Any]]:
    """Push throughput per batch size, each into a fresh server (and a second,
    idempotent push of the same registry): what the issue note reports.

    ``python tests/arcadedb_server.py REGISTRY 1000 5000 20000``
    """
    from consortia.backends.neo4j import Neo4jStore
    from consortia.loaders import load_registry

    registry = load_registry(registry_path)
    out = []
    for size in batch_sizes:
        with tempfile.TemporaryDirectory(prefix="consortia-bench-") as tmp:
            server = ArcadeDBServer(Path(tmp), heap=heap)
            server.start()
            try:
                with Neo4jStore(server.settings()) as store:
                    first = store.push(registry, batch_size=size)
                    again = store.push(registry, batch_size=size)
            finally:
                server.stop()
        row = {"batch_size": size, "memberships": first.tables.get("memberships", 0),
               "rows": sum(first.rows.values()), "seconds": round(first.seconds, 1),
               "memberships_per_s": round(first.memberships_per_second),
               "membership_step_per_s": round(first.tables.get("memberships", 0) / first.step_seconds["memberships"]),
               "rows_per_s": round(sum(first.rows.values()) / first.seconds),
               "repush_seconds": round(again.seconds, 1), "repush_memberships_per_s": round(again.memberships_per_second)}
        print(row, flush=True)
        out.append(row)
    return out


if __name__ == "__main__":
    benchmark(sys.argv[1], [int(x) for x in sys.argv[2:]] or [1000, 5000, 20000])
