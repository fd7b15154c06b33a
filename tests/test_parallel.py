"""Rules on two cores give exactly the findings of one process, whatever the copy does.

``run_checks(workers=2)`` runs the rules in this process and a forked copy of it
(:mod:`consortia.rules.parallel`). These pin that the findings are the same, in
the same order, with every detail; that a copy which fails or dies has its rules
run again here (so an error is the same error); and when no copy is made.
"""

from __future__ import annotations

import os
import threading
import time

import pytest

from consortia.generate import generate, write_csv
from consortia.loaders import load_registry
from consortia.rules import parallel
from consortia.rules.engine import run_checks
from consortia.rules.parallel import run_split, workers_for

AS_OF = "2026-06-30"
forks = pytest.mark.skipif(workers_for(10**9, 30, 2) < 2, reason="no fork here (not Linux, or one CPU)")


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    root = tmp_path_factory.mktemp("generated")
    write_csv(generate(150, seed=3), root)
    return load_registry(root)


def _rows(findings):
    return [f.to_dict() for f in findings]


@forks
def test_two_processes_find_what_one_finds(registry):
    assert workers_for(len(registry.memberships), 30, 2) == 2  # a copy is made (no stray thread in this process)
    one = run_checks(registry, as_of=AS_OF, workers=1)
    two = run_checks(registry, as_of=AS_OF, workers=2)
    assert len({f.rule for f in one}) > 10  # a registry that breaks many rules
    assert _rows(two) == _rows(one)


def _refuse_here(parent: int) -> None:
    if os.getpid() == parent:
        raise ValueError("does not unpickle here")


class _Unreadable:
    """Pickles in the copy; unpickling it in the parent raises."""

    def __init__(self, parent: int) -> None:
        self.parent = parent

    def __reduce__(self):
        return _refuse_here, (self.parent,)


def _tasks(parent: int, behaviour: str, mark):
    """Four tasks: in this process each takes a while (so the copy gets some), in the
    copy each notes that it ran there (in ``mark``) and then misbehaves as told."""
    def task(i: int):
        def run():
            if os.getpid() == parent:
                time.sleep(0.3)
            else:
                with open(mark, "a") as fh:
                    fh.write(f"{i}\n")
                if behaviour == "raise":
                    raise RuntimeError("only in the copy")
                if behaviour == "die":
                    os._exit(9)
                if behaviour == "unpicklable":
                    return [lambda: None]
                if behaviour == "unreadable":
                    return [_Unreadable(parent)]
            return [f"finding {i}"]
        return run
    return [task(i) for i in range(4)]


@forks
@pytest.mark.parametrize("behaviour", ["none", "raise", "die", "unpicklable", "unreadable"])
def test_what_the_copy_fails_to_bring_back_is_run_here(behaviour, tmp_path):
    mark = tmp_path / "copy-ran"
    started: list[int] = []
    got = run_split(_tasks(os.getpid(), behaviour, mark), started.append, workers=2)
    assert got == ["finding 0", "finding 1", "finding 2", "finding 3"]
    in_copy = {int(x) for x in mark.read_text().split()}
    assert in_copy and 0 in started  # both processes took tasks
    if behaviour == "none":
        assert not in_copy & set(started)  # each task ran once
    else:
        assert in_copy <= set(started)  # what the copy took, run again here


@forks
def test_an_error_is_the_same_error():
    def boom():
        raise ValueError("a bug in a rule")
    with pytest.raises(ValueError, match="a bug in a rule"):
        run_split([lambda: [], boom, lambda: []], lambda i: None, workers=2)


@forks
def test_prepare_runs_once_before_the_fork():
    calls: list[int] = []
    got = run_split([lambda: [len(calls)]] * 3, lambda i: None, workers=2, prepare=lambda: calls.append(os.getpid()))
    assert calls == [os.getpid()] and got == [1, 1, 1]


def test_no_copy_when_it_would_not_pay_or_is_unsafe(monkeypatch):
    monkeypatch.delenv("CONSORTIA_WORKERS", raising=False)
    monkeypatch.setattr(parallel, "_cpus", lambda: 2)
    if parallel.workers_for(10**9, 30) == 2:  # where forking is possible at all
        assert workers_for(parallel.MIN_MEMBERSHIPS - 1, 30) == 1
        assert workers_for(10**9, parallel.MIN_TASKS - 1) == 1  # the network pages' three rules
        assert workers_for(parallel.MIN_MEMBERSHIPS, parallel.MIN_TASKS) == 2
    assert workers_for(10**9, 30, 1) == 1
    monkeypatch.setenv("CONSORTIA_WORKERS", "1")
    assert workers_for(10**9, 30) == 1
    monkeypatch.delenv("CONSORTIA_WORKERS")
    monkeypatch.setattr(parallel, "_cpus", lambda: 1)
    assert workers_for(10**9, 30, 2) == 1
    monkeypatch.setattr(parallel, "_cpus", lambda: 2)
    stop = threading.Event()
    t = threading.Thread(target=stop.wait)
    t.start()
    try:
        assert workers_for(10**9, 30, 2) == 1  # a fork beside another thread could inherit a held lock
    finally:
        stop.set()
        t.join()


@forks
def test_no_fork_to_be_had_runs_everything_here(monkeypatch):
    def refuse(self):
        raise OSError(11, "Resource temporarily unavailable")
    monkeypatch.setattr(parallel.multiprocessing.get_context("fork").Process, "start", refuse)
    started: list[int] = []
    assert run_split([lambda: [1], lambda: [2], lambda: [3]], started.append, workers=2) == [1, 2, 3]
    assert started == [0, 1, 2]


@forks
def test_buffered_output_is_written_once(capfd):
    print("before the fork", end="")  # still in the buffer when the copy is made
    run_split([lambda: [], lambda: []], lambda i: None, workers=2)
    assert capfd.readouterr().out.count("before the fork") == 1
