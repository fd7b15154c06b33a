"""Writing outputs: a place that takes no file is a one-line error (exit 2), a system that fails
mid-write is exit 3, and neither loses a file already saved nor leaves a temporary file behind."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from consortia import io
from consortia.cli import main
from consortia.errors import OutputError

AS_OF = "2026-06-30"


@pytest.fixture(scope="module")
def demo_registry(tmp_path_factory) -> Path:
    from consortia.demo import demo_tables
    from consortia.generate import write_csv

    root = tmp_path_factory.mktemp("demo") / "registry"
    write_csv(demo_tables(), root)
    return root


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def leftovers(folder: Path) -> list[str]:
    """Temporary and probe files the writers make (all start with a dot)."""
    return sorted(p.name for p in folder.rglob(".*"))


#: Every command that writes, with ``{reg}`` for the registry and ``{out}`` for its --out.
WRITERS = [
    ("check", "{reg}", "--format", "json", "--out", "{out}"),
    ("check", "{reg}", "--format", "csv", "--out", "{out}"),
    ("check", "{reg}", "--format", "xlsx", "--out", "{out}"),
    ("check", "{reg}", "--out", "{out}"),
    ("summary", "{reg}", "--out", "{out}"),
    ("rules", "--out", "{out}"),
    ("deadlines", "{reg}", "--out", "{out}"),
    ("overlaps", "{reg}", "--format", "json", "--out", "{out}"),
    ("export", "{reg}", "--format", "graphml", "--out", "{out}"),
    ("viz", "network", "{reg}", "--out", "{out}"),
    ("viz", "overlaps", "{reg}", "--out", "{out}"),
    ("viz", "chain", "{reg}", "--out", "{out}"),
    ("brief", "{reg}", "--out", "{out}"),
    ("generate", "--consortia", "3", "--out", "{out}"),
    ("demo", "--out", "{out}"),
]


@pytest.mark.parametrize("command", WRITERS, ids=lambda c: " ".join(a for a in c if not a.startswith("{")))
def test_every_writer_names_an_unwritable_out_without_a_traceback(demo_registry, tmp_path, command):
    blocker = tmp_path / "notes.txt"  # a regular file where a folder should be: fails for root too
    blocker.write_text("keep me", encoding="utf-8")
    out = blocker / "sub" / "result"
    r = run(*(a.format(reg=demo_registry, out=out) for a in command))
    assert r.exit_code == 2, (r.stderr, r.exception)
    assert isinstance(r.exception, SystemExit)  # no traceback: the error was mapped in base.py
    assert r.stderr == f"Error: cannot write {out}: {blocker} is a file, not a folder\n"
    assert blocker.read_text(encoding="utf-8") == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_permission_denied_is_said_in_words(demo_registry, tmp_path, monkeypatch):
    """Root may write anywhere, so the refusal a read-only folder gives a user is simulated."""
    def denied(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(kwargs.get("dir")))

    monkeypatch.setattr(io.tempfile, "mkstemp", denied)
    out = tmp_path / "ro" / "f.json"
    r = run("check", str(demo_registry), "--format", "json", "--out", str(out))
    assert r.exit_code == 2 and isinstance(r.exception, SystemExit)
    assert r.stderr == f"Error: cannot write {out}: permission denied\n"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_folder_is_refused_before_the_audit(demo_registry, tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        r = run("check", str(demo_registry), "--format", "json", "--out", str(ro / "f.json"))
        assert r.exit_code == 2 and r.stderr == f"Error: cannot write {ro / 'f.json'}: permission denied\n"
        assert list(ro.iterdir()) == []
    finally:
        ro.chmod(0o755)


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc")
def test_a_folder_that_takes_no_files_is_refused(demo_registry):
    r = run("check", str(demo_registry), "--format", "json", "--out", "/proc/consortia-findings.json")
    assert r.exit_code == 2 and isinstance(r.exception, SystemExit)
    assert r.stderr == "Error: cannot write /proc/consortia-findings.json: /proc does not accept new files\n"


def test_the_installed_command_says_it_in_one_line(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    script = "import sys; from consortia.cli.entry import run; sys.argv[0] = 'consortia'; run()"
    r = subprocess.run([sys.executable, "-c", script, "rules", "--out", str(blocker / "r.txt")],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and r.stderr == f"Error: cannot write {blocker / 'r.txt'}: {blocker} is a file, not a folder\n"


def test_a_folder_on_the_heatmaps_name_stops_the_overlap_view_before_its_page(demo_registry, tmp_path):
    (tmp_path / "ov.png").mkdir()
    r = run("viz", "overlaps", str(demo_registry), "--out", str(tmp_path / "ov.html"), "--as-of", AS_OF)
    assert r.exit_code == 2 and r.stderr == f"Error: cannot write {tmp_path / 'ov.png'}: it is a folder\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ov.png"]  # the page was not written either


def test_a_chain_map_name_taken_by_a_folder_stops_every_chain_map(demo_registry, tmp_path):
    out = tmp_path / "maps"
    (out / "chain-NEV.svg").mkdir(parents=True)
    r = run("viz", "chain", str(demo_registry), "--out", str(out), "--as-of", AS_OF)
    assert r.exit_code == 2 and r.stderr == f"Error: cannot write {out / 'chain-NEV.svg'}: it is a folder\n"
    assert sorted(p.name for p in out.iterdir()) == ["chain-NEV.svg"]


def test_a_briefing_checks_every_file_before_writing_the_first(demo_registry, tmp_path):
    out = tmp_path / "brief"
    (out / "chains" / "chain-NEV.png").mkdir(parents=True)
    r = run("brief", str(demo_registry), "--out", str(out), "--as-of", AS_OF)
    assert r.exit_code == 2 and r.stderr == f"Error: cannot write {out / 'chains' / 'chain-NEV.png'}: it is a folder\n"
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*")) == ["chains", "chains/chain-NEV.png"]


def _disk_full(monkeypatch) -> None:
    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(io.os, "fsync", full)


def test_a_full_disk_is_exit_3_and_the_old_report_survives(demo_registry, tmp_path, monkeypatch):
    out = tmp_path / "findings.json"
    out.write_text("[] old report\n", encoding="utf-8")
    _disk_full(monkeypatch)
    r = run("check", str(demo_registry), "--format", "json", "--out", str(out), "--as-of", AS_OF)
    assert r.exit_code == 3 and isinstance(r.exception, SystemExit)
    assert r.stderr == f"Error: cannot write {out}: no space left on the device\n"
    assert out.read_text(encoding="utf-8") == "[] old report\n"
    assert leftovers(tmp_path) == []


def test_missing_folders_are_made_and_removed_again_when_the_write_fails(demo_registry, tmp_path, monkeypatch):
    out = tmp_path / "reports" / "2026" / "findings.json"
    r = run("check", str(demo_registry), "--format", "json", "--out", str(out), "--as-of", AS_OF)
    assert r.exit_code == 1 and out.is_file()  # the demo breaks rules: exit 1, and the report is there
    _disk_full(monkeypatch)
    again = tmp_path / "other" / "deep" / "findings.json"
    r = run("check", str(demo_registry), "--format", "json", "--out", str(again), "--as-of", AS_OF)
    assert r.exit_code == 3 and not (tmp_path / "other").exists()


def test_a_registry_is_replaced_whole_or_not_at_all(tmp_path, monkeypatch):
    """A full disk at the third table leaves every old file as it was: no new units beside old memberships."""
    from consortia.generate import generate, write_csv

    reg = tmp_path / "reg"
    write_csv(generate(3, seed=1), reg)
    before = {p.name: p.read_bytes() for p in reg.iterdir()}
    calls = {"n": 0}
    to_csv = pd.DataFrame.to_csv

    def fails_third(self, fh, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        return to_csv(self, fh, *args, **kwargs)

    monkeypatch.setattr(pd.DataFrame, "to_csv", fails_third)
    with pytest.raises(OutputError, match="no space left") as err:
        write_csv(generate(5, seed=2), reg)
    assert err.value.outside
    assert {p.name: p.read_bytes() for p in reg.iterdir()} == before


def test_the_writer_passes_on_errors_that_are_not_about_its_file(tmp_path):
    with pytest.raises(FileNotFoundError), io.atomic_path(tmp_path / "f.txt"):
        (tmp_path / "missing-input.csv").read_text(encoding="utf-8")
    assert list(tmp_path.iterdir()) == []


def test_export_refuses_its_out_before_reading_the_registry(demo_registry, tmp_path, monkeypatch):
    import consortia.loaders

    def never(*a, **k):
        raise AssertionError("the registry was read before --out was checked")

    monkeypatch.setattr(consortia.loaders, "load_registry", never)
    blocker = tmp_path / "notes.txt"
    blocker.write_text("keep me", encoding="utf-8")
    r = run("export", str(demo_registry), "--format", "gexf", "--out", str(blocker / "g.gexf"))
    assert r.exit_code == 2 and "is a file, not a folder" in r.stderr, (r.stderr, r.exception)
