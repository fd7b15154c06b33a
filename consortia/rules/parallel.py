"""Running the rules on two cores: half in this process, half in a forked copy of it.

The rules are independent of one another and each is mostly pandas and numpy work
that holds the interpreter lock, so threads would take turns; a forked process
shares the loaded registry without copying or pickling it (only the pages it
writes to are copied), and only its findings come back, pickled. On a 2-core
machine that takes a third off ``check`` on a national registry.

A fork is only made where it is safe and pays: on Linux, with more than one CPU
available, from a process with no other thread (a thread holding a lock at the
moment of the fork would leave that lock held forever in the copy), and for a
registry large enough that the work outweighs the fork. ``CONSORTIA_WORKERS=1``
keeps everything in one process. Whatever goes wrong in the copy (an exception,
the process killed), its rules are run again here, so the result, or the error,
is exactly that of one process.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from multiprocessing.sharedctypes import Synchronized

from .. import progress
from ..findings import Finding

__all__ = ["MIN_MEMBERSHIPS", "MIN_TASKS", "run_split", "workers_for"]

#: Registries with fewer memberships are checked in one process: below this the fork
#: and the pickled findings cost about what the second core saves.
MIN_MEMBERSHIPS = 20_000
#: Nor are runs of fewer rules split: the network pages run three, one of which takes
#: most of the time, so a copy would add memory (420 MB on L) and save nothing.
MIN_TASKS = 6

Task = Callable[[], list[Finding]]

#: The tasks of the run in progress, inherited by the forked copy (never pickled).
_TASKS: Sequence[Task] = ()


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def workers_for(memberships: int, tasks: int, requested: int | None = None) -> int:
    """How many processes to run ``tasks`` rules on a registry of ``memberships`` with: 1 or 2.

    ``requested`` (or ``CONSORTIA_WORKERS``) of 1 keeps one process, 2 asks for two
    whatever the size; unset, two from :data:`MIN_MEMBERSHIPS` memberships and
    :data:`MIN_TASKS` rules up. Never two where forking is unsafe or there is no
    second CPU."""
    if requested is None:
        env = os.environ.get("CONSORTIA_WORKERS", "").strip()
        wanted = memberships >= MIN_MEMBERSHIPS and tasks >= MIN_TASKS
        requested = int(env) if env.isdigit() else (2 if wanted else 1)
    if (requested < 2 or _cpus() < 2 or not sys.platform.startswith("linux")
            or "fork" not in multiprocessing.get_all_start_methods() or threading.active_count() > 1):
        return 1
    return 2


def _serial(tasks: Sequence[Task], on_task: Callable[[int], None]) -> list[Finding]:
    out: list[Finding] = []
    for i, task in enumerate(tasks):
        on_task(i)
        out.extend(task())
    return out


def _next(counter: Synchronized) -> int:
    """The next task nobody has taken yet (both processes draw from one counter)."""
    with counter.get_lock():
        i = counter.value
        counter.value = i + 1
    return i


def _child(counter: Synchronized, send: Connection) -> None:
    """In the forked copy: take tasks until none is left and send back their findings."""
    with progress.reporting(lambda text: None):  # the parent alone draws the status line
        try:
            done: list[tuple[int, list[Finding]]] = []
            while (i := _next(counter)) < len(_TASKS):
                done.append((i, _TASKS[i]()))
            result: tuple[str, object] = ("ok", done)
        except BaseException:  # noqa: BLE001 - the parent reruns these tasks and raises it there
            result = ("failed", None)
    try:
        send.send(result)
    except Exception:  # noqa: BLE001 - findings that do not pickle: the parent reruns the tasks
        send.send(("failed", None))
    finally:
        send.close()


def run_split(tasks: Sequence[Task], on_task: Callable[[int], None], workers: int = 2,
              prepare: Callable[[], object] | None = None) -> list[Finding]:
    """The findings of every task, in task order. With ``workers`` 2, this process and a
    forked copy of it take the tasks one at a time from a shared counter, so that
    whichever finishes its task first takes the next (the tasks' costs differ tenfold
    and depend on the data); ``prepare`` runs first, in this process, to compute what
    both would otherwise compute twice. ``on_task(i)`` is told as this process starts
    task ``i`` (the copy runs silently)."""
    if workers < 2 or len(tasks) < 2:
        return _serial(tasks, on_task)
    global _TASKS
    if prepare is not None:
        prepare()
    fork = multiprocessing.get_context("fork")
    counter = fork.Value("q", 0)
    recv, send = fork.Pipe(duplex=False)
    child = fork.Process(target=_child, args=(counter, send), daemon=True, name="consortia-rules")
    answered = False
    for stream in (sys.stdout, sys.stderr):  # else the copy would write out what is buffered here a second time
        stream.flush()
    _TASKS = tasks
    try:
        child.start()
    except OSError:  # no fork to be had now (memory, the process limit): one process, as without
        _TASKS = ()
        recv.close()
        send.close()
        return _serial(tasks, on_task)
    try:
        send.close()
        done: dict[int, list[Finding]] = {}
        while (i := _next(counter)) < len(tasks):
            on_task(i)
            done[i] = tasks[i]()
        try:
            status, found = recv.recv()
        except Exception:  # noqa: BLE001 - the copy died before it could answer, or its answer does not unpickle
            status, found = "failed", None
        answered = True
        if status == "ok" and isinstance(found, list):
            done.update(found)
        for i in range(len(tasks)):  # what the copy took but did not bring back
            if i not in done:
                on_task(i)
                done[i] = tasks[i]()
        return [f for i in range(len(tasks)) for f in done[i]]
    finally:
        _TASKS = ()
        recv.close()
        if not answered:  # left early (an error or Ctrl-C here): the copy's work is not wanted
            child.terminate()
        child.join()
