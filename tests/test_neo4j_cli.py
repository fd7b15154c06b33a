"""`consortia neo4j push|pull|status`: what officers type, what they see, and the exit codes."""

from __future__ import annotations

from pathlib import Path

import arcadedb_server
import pytest
from click.testing import CliRunner, Result
from conftest import code, unit
from neo4j.exceptions import IncompleteCommit

from consortia.backends.neo4j import Neo4jSettings
from consortia.backends.neo4j import push as push_mod
from consortia.cli import main
from consortia.demo import demo_tables
from consortia.generate import write_csv
from consortia.loaders import load_registry

bolt_server, neo4j_settings = arcadedb_server.bolt_server, arcadedb_server.neo4j_settings  # the fixtures


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("demo")
    write_csv(demo_tables(), folder)
    return folder


def run(settings: Neo4jSettings, *args: str, password: str | None = None, uri: str | None = None,
        database: str | None = None, stdin: str | None = None) -> Result:
    """The command with the connection options of ``settings`` and the password in the environment."""
    env = {"NEO4J_PASSWORD": settings.password if password is None else password, "NEO4J_URI": None,
           "NEO4J_USER": None, "NEO4J_DATABASE": None}
    if password == "":
        env["NEO4J_PASSWORD"] = None
    conn = ["--uri", uri or settings.uri, "--user", settings.user]
    if (database or settings.database) is not None:
        conn += ["--database", database or settings.database or ""]
    return CliRunner().invoke(main, [*args, *conn], env=env, input=stdin)


def test_cli_defaults_are_the_library_defaults():
    # The CLI spells them out so that `consortia --help` does not import the driver.
    from consortia.backends.neo4j import DEFAULT_BATCH_SIZE
    from consortia.backends.neo4j.settings import DEFAULT_URI, DEFAULT_USER
    from consortia.cli import neo4j as cli_neo4j

    assert (cli_neo4j._DEFAULT_BATCH_SIZE, cli_neo4j._DEFAULT_URI, cli_neo4j._DEFAULT_USER) == (
        DEFAULT_BATCH_SIZE, DEFAULT_URI, DEFAULT_USER)


def test_push_pull_and_status(neo4j_settings, demo_dir, tmp_path):
    r = run(neo4j_settings, "neo4j", "status")
    assert r.exit_code == 0 and "holds no registry" in r.stdout
    r = run(neo4j_settings, "neo4j", "push", str(demo_dir), "--batch-size", "400")
    assert r.exit_code == 0, r.output
    n = len(load_registry(demo_dir).memberships)
    assert f"{n:,} memberships" in r.stdout and "memberships/s" in r.stdout and "removed 0 stale" in r.stdout
    r = run(neo4j_settings, "neo4j", "pull", str(tmp_path / "out"))
    assert r.exit_code == 0, r.output
    assert f"{n:,} memberships" in r.stdout
    assert len(load_registry(tmp_path / "out").memberships) == n
    r = run(neo4j_settings, "neo4j", "status")
    assert r.exit_code == 0 and "holds registry" in r.stdout and "memberships" in r.stdout


def test_an_unfinished_push_is_reported_and_resumed(neo4j_settings, demo_dir, monkeypatch):
    calls = {"n": 0}
    real = push_mod._write_batch

    def write_batch(*args: object) -> None:
        calls["n"] += 1
        if calls["n"] > 2:
            raise IncompleteCommit("the connection dropped while committing")
        real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(push_mod, "_write_batch", write_batch)
    r = run(neo4j_settings, "neo4j", "push", str(demo_dir), "--batch-size", "200")
    assert r.exit_code == 3 and "the connection dropped" in r.stderr and "Traceback" not in r.output
    monkeypatch.undo()
    r = run(neo4j_settings, "neo4j", "status")
    assert r.exit_code == 3 and "did not finish" in r.stderr and "2 batches" in r.stderr
    r = run(neo4j_settings, "neo4j", "pull", "unused-folder")
    assert r.exit_code == 3 and "resume" in r.stderr and "Traceback" not in r.output
    r = run(neo4j_settings, "neo4j", "push", str(demo_dir), "--batch-size", "200")
    assert r.exit_code == 0 and "resumed: 2 of" in r.stdout


def test_connection_failures_exit_3_without_a_traceback(neo4j_settings, demo_dir):
    r = run(neo4j_settings, "neo4j", "push", str(demo_dir), password="wrong-password")
    assert r.exit_code == 3 and "refused user" in r.stderr and "NEO4J_PASSWORD" in r.stderr
    r = run(neo4j_settings, "neo4j", "status", uri=f"bolt://127.0.0.1:{arcadedb_server.free_port()}")
    assert r.exit_code == 3 and "cannot reach" in r.stderr
    r = run(neo4j_settings, "neo4j", "status", database="no_such_database")
    assert r.exit_code == 3 and "no_such_database" in r.stderr
    assert "Traceback" not in r.output and isinstance(r.exception, SystemExit)


def test_bad_input_and_usage_exit_2(neo4j_settings, demo_dir, tmp_path):
    r = run(neo4j_settings, "neo4j", "status", uri="http://127.0.0.1:7474")
    assert r.exit_code == 2 and "Bolt address" in r.stderr
    r = run(neo4j_settings, "neo4j", "push", str(tmp_path / "missing"))
    assert r.exit_code == 2 and "no such file" in r.stderr
    r = run(neo4j_settings, "neo4j", "push", str(demo_dir), "--batch-size", "0")
    assert r.exit_code == 2
    r = run(neo4j_settings, "neo4j", "status", password="")  # no NEO4J_PASSWORD and nothing typed
    assert r.exit_code == 2 and "NEO4J_PASSWORD" in r.stderr


def test_the_password_is_prompted_never_an_option_nor_echoed(neo4j_settings):
    r = run(neo4j_settings, "neo4j", "status", password="", stdin=neo4j_settings.password + "\n")
    assert r.exit_code == 0, r.output
    assert neo4j_settings.password not in r.output
    r = CliRunner().invoke(main, ["neo4j", "status", "--password", "x"])
    assert r.exit_code == 2 and "No such option" in r.stderr


def test_add_member_with_the_neo4j_backend(neo4j_settings, make_registry):
    cons = [{"consortium_id": c, "jurisdiction": "nanning", "status": "active"} for c in ("NN-1", "NN-2")]
    reg = make_registry([unit(1), unit(2)], cons, [{"consortium_id": "NN-1", "uscc": code(1), "role": "lead"}])
    assert run(neo4j_settings, "neo4j", "push", str(reg)).exit_code == 0
    add = ("add-member", "--backend", "neo4j", "NN-2", code(1), "--role", "lead", "--as-of", "2026-06-30")
    r = run(neo4j_settings, *add)
    assert r.exit_code == 1 and "LEAD_SINGLE" in r.stderr and "--exemption" in r.stderr
    r = run(neo4j_settings, *add, "--exemption", "一事一议第2号", "--segments", "s1；s2")
    assert r.exit_code == 0 and "exemption recorded: 一事一议第2号" in r.stdout
    r = run(neo4j_settings, "add-member", "--backend", "neo4j", "NN-2", code(99), "--role", "core")
    assert r.exit_code == 2 and code(99) in r.stderr
    r = run(neo4j_settings, "add-member", "--backend", "neo4j", str(reg), "NN-2", code(2), "--role", "core")
    assert r.exit_code == 2 and "CONSORTIUM_ID USCC" in r.stderr
    r = run(neo4j_settings, "neo4j", "pull", str(reg.parent / "pulled"))
    m = load_registry(reg.parent / "pulled").memberships
    assert m[["consortium_id", "role", "exemption"]].values.tolist() == [["NN-1", "lead", ""],
                                                                         ["NN-2", "lead", "一事一议第2号"]]
    assert m["segments"].tolist() == [(), ("S1", "S2")]


def _embedded(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), env={"NEO4J_PASSWORD": None, "NEO4J_URI": None})


def test_every_read_command_answers_from_the_database_as_from_the_file(neo4j_settings, demo_dir, tmp_path):
    """What an officer or planner types with --backend neo4j prints what the same
    command prints on the file that was pushed: byte for byte in JSON."""
    assert run(neo4j_settings, "neo4j", "push", str(demo_dir)).exit_code == 0
    units = load_registry(demo_dir).memberships["uscc"].value_counts().index[:2].tolist()
    day = ("--as-of", "2026-06-30")
    commands = [
        ("check", "--format", "json", *day),
        ("check", "--format", "json", "-j", "nanning", "--as-of", "2025-01-01"),
        *(("overlaps", "--kind", k, "--format", "json", *day) for k in ("units", "pairs", "same-body", "near-duplicates")),
        ("overlaps", "--kind", "pairs", "--min-shared", "1", "--limit", "0", "--format", "json", *day),
        ("coverage", "--format", "json", *day),
        ("coverage", "--by", "jurisdiction", "--format", "csv", *day),
        ("gaps", "--format", "json", *day),
        ("gaps", "--by", "consortium", "--candidates", "5", "--format", "json", *day),
        ("brokers", "--format", "json", *day),
        ("components", "--format", "json", *day),
    ]
    for cmd in commands:
        want = _embedded(cmd[0], str(demo_dir), *cmd[1:])
        got = run(neo4j_settings, *cmd, "--backend", "neo4j")
        assert want.exit_code in (0, 1) and len(want.stdout) > 10, (cmd, want.output)
        assert (got.exit_code, got.stdout) == (want.exit_code, want.stdout), cmd
    want = _embedded("path", str(demo_dir), *units, "--format", "json", *day)
    got = run(neo4j_settings, "path", *units, "--format", "json", *day, "--backend", "neo4j")
    assert want.exit_code == 0 and (got.exit_code, got.stdout) == (0, want.stdout)
    want = _embedded("path", str(demo_dir), units[0], code(12345), *day)
    got = run(neo4j_settings, "path", units[0], code(12345), *day, "--backend", "neo4j")
    assert got.exit_code == want.exit_code == 2 and code(12345) in got.stderr and got.stderr == want.stderr


def test_visuals_from_the_database(neo4j_settings, demo_dir, tmp_path):
    assert run(neo4j_settings, "neo4j", "push", str(demo_dir)).exit_code == 0
    day = ("--as-of", "2026-06-30")
    want = _embedded("viz", "chain", str(demo_dir), "--out", str(tmp_path / "file"), "--format", "html", *day)
    got = run(neo4j_settings, "viz", "chain", "--out", str(tmp_path / "db"), "--format", "html", *day,
              "--backend", "neo4j")
    assert want.exit_code == 0 and got.exit_code == 0, got.output
    pages = sorted(p.name for p in (tmp_path / "file").iterdir())
    assert pages and pages == sorted(p.name for p in (tmp_path / "db").iterdir())
    for name in pages:
        assert (tmp_path / "db" / name).read_text(encoding="utf-8") == (tmp_path / "file" / name).read_text(encoding="utf-8")
    want = _embedded("viz", "network", str(demo_dir), "--out", str(tmp_path / "file.html"), *day)
    got = run(neo4j_settings, "viz", "network", "--out", str(tmp_path / "db.html"), *day, "--backend", "neo4j")
    assert want.exit_code == 0 and got.exit_code == 0, got.output
    assert got.stdout.replace("db.html", "file.html") == want.stdout  # same nodes, edges, consortia, units


def test_read_commands_say_what_is_wrong_with_the_backend(neo4j_settings, demo_dir):
    r = run(neo4j_settings, "check", str(demo_dir), "--backend", "neo4j")
    assert r.exit_code == 2 and "give no PATH" in r.stderr
    r = _embedded("gaps")
    assert r.exit_code == 2 and "--backend neo4j" in r.stderr
    r = run(neo4j_settings, "coverage", "--backend", "neo4j")  # an empty database
    assert r.exit_code == 3 and "neo4j push" in r.stderr and "Traceback" not in r.output
    r = run(neo4j_settings, "brokers", "--backend", "neo4j", uri=f"bolt://127.0.0.1:{arcadedb_server.free_port()}")
    assert r.exit_code == 3 and "cannot reach" in r.stderr and "Traceback" not in r.output
