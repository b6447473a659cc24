"""Reading the files a pull request brings: SQL, migrations, dbtruth.yaml and what it names.

Such a file may be a FIFO (opening it for reading waits for a writer forever), a device, a
socket, unreadable, or far larger than any real one. Every read goes through `read_bytes`: the
file is opened without blocking, checked to be a regular file before a byte is read, and read
up to a limit; anything else is one clear error naming the file.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from dbtruth.errors import DbtruthError


class UnreadableInput(DbtruthError):
    """A file that cannot be read at all, is not a regular file, or is over a limit. Unlike a
    file that reads but is wrong, it stops every command: skipping it would check less than the
    user asked for, and say nothing of it in the exit code."""


_KINDS = (
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISDIR, "a folder"),
)


def file_kind(mode: int) -> str:
    """What a non-regular file is, in words."""
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def skipped_note(path: Path, kind: str) -> str:
    return f"{path} is {kind}, not a regular file: skipped without opening it"


def size_text(size: int) -> str:
    return f"{size / 2**20:.1f} MiB" if size >= 2**20 else f"{size / 2**10:.0f} KiB"


def not_regular(path: Path) -> str | None:
    """What the file is when it is not a regular file ("a FIFO", "a socket", …), None when it
    is one (symlinks followed); never opens it. A file that cannot even be looked at is an
    error: it is there, so leaving it out would be a silent skip."""
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        raise UnreadableInput(f"cannot read: {exc.strerror}", where=str(path)) from exc
    return None if stat.S_ISREG(mode) else file_kind(mode)


def read_bytes(path: Path, limit: int, what: str = "a file") -> bytes:
    """The content of the regular file at `path`, at most `limit` bytes, else UnreadableInput.

    O_NONBLOCK makes open() return at once on a FIFO (which fstat then refuses) instead of
    waiting for a writer; on a regular file it changes nothing."""
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise UnreadableInput(f"cannot read: {exc.strerror}", where=str(path)) from exc
    status = os.fstat(fd)
    if not stat.S_ISREG(status.st_mode):  # before fdopen, which refuses a folder on its own
        os.close(fd)
        kind = file_kind(status.st_mode)
        raise UnreadableInput(f"is {kind}, not {what}; not read", where=str(path))
    with os.fdopen(fd, "rb") as handle:
        if status.st_size > limit:
            raise _too_large(path, status.st_size, limit, what)
        try:
            data = handle.read(limit + 1)  # a file still growing is caught here
        except OSError as exc:
            raise UnreadableInput(f"cannot read: {exc.strerror}", where=str(path)) from exc
    if len(data) > limit:
        raise _too_large(path, len(data), limit, what)
    return data


def _too_large(path: Path, size: int, limit: int, what: str) -> UnreadableInput:
    return UnreadableInput(
        f"is {size_text(size)}, more than the {size_text(limit)} dbtruth reads in {what}",
        where=str(path),
    )


def walk_error(exc: OSError) -> None:
    """os.walk's onerror: a folder that cannot be listed is an error, not an empty folder."""
    raise UnreadableInput(f"cannot read folder: {exc.strerror}", where=str(exc.filename)) from exc
