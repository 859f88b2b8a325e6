"""Who is still importing which act: an act being imported is claimed, so a clean-up never takes a live one.

On SQLite an import commits in short steps with its act `importing` (invisible) until it is complete. A
process killed meanwhile leaves such an act behind; the next import, or the next start, removes it, but
only once nobody imports it any more. The claim is a POSIX record lock on the byte at the act's id of
`<database>-imports.lock`: the kernel drops it when the process dies, however it dies. A process never
conflicts with its own record locks, so its own claims are also kept in memory; and since closing any
descriptor of a file drops the process's locks on it, the file is opened once and kept open.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_guard = threading.Lock()
_held: set[tuple[str, int]] = set()  # (lock file or "", act id) claimed by this process
_files: dict[str, int] = {}  # lock file -> the descriptor this process keeps open


def lock_file(database: str | None) -> str:
    """The claims' file beside a SQLite database file, "" when there is none (in memory, PostgreSQL)."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return ""
    return os.path.abspath(database) + "-imports.lock"


def _fd(path: str) -> int:
    fd = _files.get(path)
    if fd is None:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        _files[path] = fd
    return fd


def _try_lock(path: str, act_id: int) -> bool:
    try:
        fcntl.lockf(_fd(path), fcntl.LOCK_EX | fcntl.LOCK_NB, 1, act_id, os.SEEK_SET)
    except OSError:  # EAGAIN or EACCES: another process holds it
        return False
    return True


def _unlock(path: str, act_id: int) -> None:
    fcntl.lockf(_fd(path), fcntl.LOCK_UN, 1, act_id, os.SEEK_SET)


@contextmanager
def claimed(path: str, act_id: int) -> Iterator[bool]:
    """Hold the claim on `act_id` while the block runs; yields False (and holds nothing) when someone,
    in this process or another, already holds it."""
    key = (path, act_id)
    with _guard:
        if key in _held or (path and not _try_lock(path, act_id)):
            got = False
        else:
            _held.add(key)
            got = True
    try:
        yield got
    finally:
        if got:
            with _guard:
                _held.discard(key)
                if path:
                    _unlock(path, act_id)
