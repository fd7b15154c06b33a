"""Atomic file writes: a temporary file in the same folder, fsynced, then renamed.

An officer's registry is the only copy they have; an interrupted write (a
crash, a full disk, Ctrl-C) must leave the old file whole, never half a file.

Every failure to write becomes one :class:`~consortia.errors.OutputError`
naming the path as the user gave it and the reason in words, so that the
command line reports it (exit 2, or 3 when the system failed mid-write)
instead of ending in an ``OSError`` traceback. Nothing is left behind by a
failed write: not the temporary file, not the folders made for it.

Missing folders on the way to a target are created, for every command alike:
``--out reports/2026/findings.json`` and ``brief --out slides/2026`` both work
in a fresh checkout. :func:`check_writable` answers, before a command does
its work, whether its outputs could be written, so that a long audit or a
briefing of many files does not fail after half of them.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from .errors import OutputError

__all__ = ["atomic_path", "atomic_write_bytes", "atomic_write_text", "check_writable"]

#: Failures of the system rather than of the place named: exit 3, not 2.
_OUTSIDE = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EFBIG})
#: The reasons users are told, in words; anything else is the system's own message.
_REASONS = {
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.EROFS: "the file system is read-only",
    errno.EISDIR: "it is a folder",
    errno.ENOSPC: "no space left on the device",
    errno.EDQUOT: "the disk quota is exceeded",
    errno.EFBIG: "the file is too large for the file system",
    errno.EIO: "an input/output error on the device",
    errno.ENAMETOOLONG: "the name is too long",
}


def _reason(exc: OSError) -> str:
    if exc.errno in _REASONS:
        return _REASONS[exc.errno]
    text = exc.strerror or str(exc)
    return text[:1].lower() + text[1:]


def _error(shown: Path, folder: Path, exc: OSError) -> OutputError:
    """The :class:`OutputError` for ``exc``, raised while writing ``shown`` in ``folder``."""
    if isinstance(exc, (FileExistsError, NotADirectoryError)):
        for p in (folder, *folder.parents):  # a file where a folder was needed
            if p.exists() and not p.is_dir():
                return OutputError(shown, f"{p} is a file, not a folder")
    if isinstance(exc, FileNotFoundError) and folder.is_dir():  # /proc, /sys: folders that take no new files
        return OutputError(shown, f"{folder} does not accept new files")
    return OutputError(shown, _reason(exc), outside=exc.errno in _OUTSIDE)


def _nearest_existing(folder: Path) -> Path:
    while not folder.exists() and folder.parent != folder:
        folder = folder.parent
    return folder


def _make_folders(folder: Path, shown: Path) -> list[Path]:
    """Create ``folder`` and its missing parents; return the ones created, outermost first."""
    missing: list[Path] = []
    p = folder
    while not p.is_dir() and p.parent != p:
        missing.append(p)
        p = p.parent
    created: list[Path] = []
    for d in reversed(missing):
        try:
            d.mkdir()
        except FileExistsError as exc:
            if d.is_dir():  # made meanwhile by another process: fine
                continue
            _remove_empty(created)
            raise _error(shown, d, exc) from exc
        except OSError as exc:
            _remove_empty(created)
            raise _error(shown, d.parent, exc) from exc
        created.append(d)
    return created


def _remove_empty(created: list[Path]) -> None:
    """Remove folders made for a write that failed, innermost first, if nothing else went in them."""
    for d in reversed(created):
        try:
            d.rmdir()
        except OSError:
            return


def _probe(folder: Path, shown: Path) -> None:
    """Raise :class:`OutputError` unless a file could be created in ``folder`` (or the folders
    leading to it could be made): the one reliable test, as the permission bits say nothing
    to root, to a read-only mount or to ``/proc``."""
    existing = _nearest_existing(folder)
    if not existing.is_dir():
        raise OutputError(shown, f"{existing} is a file, not a folder")
    try:
        fd, tmp = tempfile.mkstemp(prefix=".consortia-", suffix=".probe", dir=existing)
    except OSError as exc:
        raise _error(shown, existing, exc) from exc
    os.close(fd)
    os.unlink(tmp)


def check_writable(*targets: str | Path, folders: Iterable[str | Path] = ()) -> None:
    """Raise :class:`OutputError` unless each file of ``targets`` and each of ``folders`` could
    be written, without writing them (a probe file is made and removed, no folder is created).

    Commands call this before their work, so that an audit of a national registry or a
    briefing folder does not stop at its first write, possibly after writing other files.
    """
    seen: set[Path] = set()
    for folder in map(Path, folders):  # first: the folder is what the user named, and what to report
        if folder.exists() and not folder.is_dir():
            raise OutputError(folder, "it is a file, not a folder")
        if folder not in seen:
            _probe(folder, folder)
            seen.add(folder)
    for target in map(Path, targets):
        if target.is_dir():
            raise OutputError(target, "it is a folder")
        if target.parent not in seen:
            _probe(target.parent, target)
            seen.add(target.parent)


def _about_tmp(exc: OSError, tmp: Path) -> bool:
    """Whether an error raised by the writer's own code was about writing the temporary file."""
    return exc.errno in _OUTSIDE or exc.errno == errno.EROFS or exc.filename in (str(tmp), tmp)


@contextlib.contextmanager
def atomic_path(target: str | Path, *, mode: int = 0o644) -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces ``target``.

    A new file gets ``mode``; a replaced one keeps its own. Any failure to
    write (the folder, the temporary file, the rename) is an
    :class:`OutputError` naming ``target``; the temporary file and any folder
    made for it are removed.
    """
    target = Path(target)
    if target.is_dir():
        raise OutputError(target, "it is a folder")
    created = _make_folders(target.parent, target)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        _remove_empty(created)
        raise _error(target, target.parent, exc) from exc
    os.close(fd)
    tmp_path = Path(tmp)
    done = False
    try:
        try:
            yield tmp_path
        except OSError as exc:
            if _about_tmp(exc, tmp_path):
                raise _error(target, target.parent, exc) from exc
            raise
        try:
            with open(tmp_path, "rb+") as fh:
                os.fsync(fh.fileno())
            os.chmod(tmp_path, target.stat().st_mode & 0o777 if target.exists() else mode)
            os.replace(tmp_path, target)
        except OSError as exc:
            raise _error(target, target.parent, exc) from exc
        done = True
    finally:
        if not done:
            tmp_path.unlink(missing_ok=True)
            _remove_empty(created)


def atomic_write_bytes(target: str | Path, data: bytes) -> None:
    """Write ``data`` to ``target`` atomically."""
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(target: str | Path, text: str, encoding: str = "utf-8") -> None:
    """Write ``text`` to ``target`` atomically (UTF-8 unless told otherwise)."""
    atomic_write_bytes(target, text.encode(encoding))
