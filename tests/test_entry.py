"""The installed ``consortia`` command: same output and exit codes as the command
group run in-process, with every byte flushed before its fast exit."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from consortia.cli import main

AS_OF = "2026-06-30"
#: The console script as pyproject declares it (``consortia = "consortia.cli.entry:run"``).
SCRIPT = "import sys; from consortia.cli.entry import run; sys.argv[0] = 'consortia'; run()"


def script(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", SCRIPT, *args], capture_output=True, text=True, timeout=120, **kw)


def test_pyproject_declares_the_fast_exit_entry_point():
    text = (Path(__file__).parents[1] / "pyproject.toml").read_text(encoding="utf-8")
    assert 'consortia = "consortia.cli.entry:run"' in text


def test_script_output_and_exit_code_match_the_group(tmp_path):
    from consortia.demo import demo_tables
    from consortia.generate import write_csv

    reg = tmp_path / "registry"
    write_csv(demo_tables(), reg)
    inproc = CliRunner().invoke(main, ["check", str(reg), "--as-of", AS_OF, "--format", "json"])
    r = script("check", str(reg), "--as-of", AS_OF, "--format", "json")  # stdout a pipe: block-buffered
    assert r.returncode == inproc.exit_code == 1  # the demo breaks rules on purpose
    assert json.loads(r.stdout) == json.loads(inproc.stdout)
    assert len(r.stdout) > 10_000  # all of it, flushed before the exit
    out = tmp_path / "f.csv"
    r = script("check", str(reg), "--as-of", AS_OF, "--format", "csv", "--out", str(out))
    assert r.returncode == 1 and "written to" in r.stderr
    assert out.read_text(encoding="utf-8-sig").count("\n") > 10


def test_script_errors_keep_their_codes(tmp_path):
    r = script("check", str(tmp_path / "missing"))
    assert r.returncode == 2 and "no such file" in r.stderr and "Traceback" not in r.stderr
    r = script("no-such-command")
    assert r.returncode == 2 and "No such command" in r.stderr
    r = script("--version")
    assert r.returncode == 0 and "version" in r.stdout


def test_script_into_a_closed_pipe_ends_quietly(tmp_path):
    from consortia.demo import demo_tables
    from consortia.generate import write_csv

    reg = tmp_path / "registry"
    write_csv(demo_tables(), reg)
    # ``consortia check ... | head -c 10``: the reader goes away; no BrokenPipeError noise.
    p = subprocess.Popen([sys.executable, "-c", SCRIPT, "check", str(reg), "--as-of", AS_OF, "--format", "json"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert p.stdout is not None and p.stderr is not None
    p.stdout.read(10)
    p.stdout.close()
    err = p.stderr.read().decode()
    assert p.wait(timeout=120) in (0, 1) and "Traceback" not in err and "BrokenPipe" not in err
