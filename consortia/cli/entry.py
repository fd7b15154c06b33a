"""The console script: the command group, then an exit that skips freeing memory.

When a Python program ends normally, the interpreter frees every object it
holds, one by one. After ``check`` on a national registry that is tens of
millions of objects (every cell of every table, every finding): 0.17 s on M
and 1.1 s on L (measured), during which the user waits for nothing — every report is
already written (atomically: written, closed and renamed) before the command
returns. So, once the command is done, the exit handlers are run and standard
output and error flushed as at a normal exit, and the process ends at once
(``os._exit``), the operating system taking the memory back whole. This is what
Instagram did for the same reason (``atexit.register(os._exit, 0)``).

Only the installed ``consortia`` command does this: :data:`~.base.main` called
in-process (the tests' ``CliRunner``, a script) exits normally. A process still
running other threads exits normally too, since the interpreter would wait
for them.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading

from .base import main

__all__ = ["run"]


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):  # a closed pipe (``consortia check | head``) or a closed stream
            pass


def run() -> None:
    """Run the command line and exit with its code without tearing the heap down."""
    try:
        main()  # standalone: always ends in SystemExit
        code: object = 0
    except SystemExit as exc:
        code = exc.code
    if threading.active_count() > 1:
        sys.exit(code)
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:  # sys.exit("message"), as Python itself prints it
        print(code, file=sys.stderr)
        status = 1
    atexit._run_exitfuncs()
    _flush()
    os._exit(status & 0xFF)
