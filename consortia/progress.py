"""Where a long command is, for the person waiting at a terminal.

A national registry takes tens of seconds to read and check; a silent
terminal for that long looks like a hang. The library reports its steps
(:func:`step`: "reading memberships.csv", "rule MEMBER_CAP (12/30)"), which
cost nothing unless someone listens. The command line listens only when
standard error is a terminal (:func:`on_terminal`), and then keeps one status
line there, overwritten at each step and wiped before any output is printed
(:func:`clear`), so piped output, files and logs never see it.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import TextIO

__all__ = ["clear", "on_terminal", "reporting", "step", "wiped_after", "writing"]

_listener: ContextVar[Callable[[str | None], None] | None] = ContextVar("consortia_progress", default=None)
#: Carriage return and "erase to the end of the line": the status line is rewritten in place.
_WIPE = "\r\x1b[K"


def step(text: str) -> None:
    """Report that ``text`` is what happens now (nothing when nobody listens)."""
    listener = _listener.get()
    if listener is not None:
        listener(text)


def clear() -> None:
    """Wipe the status line, before output is printed to the same terminal."""
    listener = _listener.get()
    if listener is not None:
        listener(None)


@contextlib.contextmanager
def wiped_after() -> Iterator[None]:
    """Wipe the status line when the block ends, however it ends: whatever is printed
    next (a table, an error) starts on a clean line."""
    try:
        yield
    finally:
        clear()


@contextlib.contextmanager
def writing(rows: int, out: str | os.PathLike[str] | None) -> Iterator[None]:
    """The block writes ``rows`` rows to ``out``: said on the status line when ``out`` is a
    file; when it is the terminal (None or ``-``) the line is wiped first."""
    if out is not None and str(out) != "-":
        step(f"writing {rows:,} rows to {os.path.basename(out)}")
    else:
        clear()
    with wiped_after():
        yield


@contextlib.contextmanager
def reporting(listener: Callable[[str | None], None]) -> Iterator[None]:
    """Send the steps inside the block to ``listener`` (a step's text, or None to clear)."""
    token = _listener.set(listener)
    try:
        yield
    finally:
        _listener.reset(token)


@contextlib.contextmanager
def on_terminal(stream: TextIO | None = None) -> Iterator[None]:
    """Show the steps inside the block as one status line on ``stream`` (standard error)
    when it is a terminal; otherwise, or with ``CONSORTIA_NO_PROGRESS`` set or a dumb
    terminal, show nothing."""
    stream = stream if stream is not None else sys.stderr
    quiet = os.environ.get("CONSORTIA_NO_PROGRESS") or os.environ.get("TERM") == "dumb"
    if quiet or not getattr(stream, "isatty", lambda: False)():
        yield
        return
    shown = False

    def show(text: str | None) -> None:
        nonlocal shown
        if text is None:
            if shown:
                stream.write(_WIPE)
                stream.flush()
                shown = False
            return
        stream.write(_WIPE + ("… " + text)[:_width(stream) - 1])  # never wrapping onto a second line
        stream.flush()
        shown = True

    with reporting(show):
        try:
            yield
        finally:
            show(None)


def _width(stream: TextIO) -> int:
    """The terminal's width in characters (80 when it does not say)."""
    try:
        return os.get_terminal_size(stream.fileno()).columns or 80
    except (OSError, ValueError, AttributeError):
        return 80
