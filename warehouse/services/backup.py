"""Backups of the station's SQLite database, and restoring one: because a warehouse PC's disk dies.

`backup` copies the live database with SQLite's online backup API while scanning goes on. It copies in one
step, on purpose: the database is in WAL mode, where a reader never blocks a writer, so one step holds a
read snapshot (consistent to one commit) while every scan commits into the WAL beside it. Copying in
several steps would not be kinder: SQLite restarts a stepped backup whenever another connection writes
between steps, so under steady scanning it starts over and over (65 MB with a writer at 170 commits/s:
0.12 s in one step, 108 s in steps of 1024 pages; docs/backup.md). The copy is a single file (rollback
journal mode, no -wal beside it), checked, then renamed into place: a half backup never has the final name.

`restore` checks a file before it replaces anything: SQLite's `PRAGMA integrity_check`, a schema revision
this program knows (Alembic), and the audit trail's hash chain (`warehouse.services.audit.verify`). It
refuses while anything else has the station's database open (the running station, `flask run`, another
command), and keeps the database it replaces as `<name>.replaced-<time>` beside it.

PostgreSQL is backed up by its own tools (pg_dump / pg_restore, see docs/backup.md): with several stations
sharing one server, the server is where backups belong, and a station's process should not hold the
superuser's view of it. Both functions refuse a PostgreSQL database with the commands to use instead.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import sqlite3
import struct
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import ClassVar

from alembic.script import ScriptDirectory
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from warehouse import migrate
from warehouse.db import Database
from warehouse.messages import N_, Phrasebook, WarehouseError
from warehouse.services import audit
from warehouse.timeutil import utcnow

DOC = "docs/backup.md"
SQLITE_HEADER = b"SQLite format 3\x00"
PART_SUFFIX = ".part"
REPLACED = "replaced"


class BackupError(WarehouseError):
    """A backup was not made, or a restore refused; nothing was replaced."""

    phrasebook: ClassVar[Phrasebook] = Phrasebook(
        "backup",
        {
            "server_backup": N_(
                "The station's database is on a database server: back it up there: {command} (see {doc})"
            ),
            "server_restore": N_(
                "The station's database is on a database server: restore it there: {command} (see {doc})"
            ),
            "no_file": N_("No such file: {path}"),
            "not_database": N_("{path} is not a station database"),
            "corrupt": N_("{path} is damaged: {problem}"),
            "unknown_revision": N_(
                "{path} holds a database schema this version of the program does not know ({revision}): "
                "restore it with a newer version"
            ),
            "chain_broken": N_("{path}: the audit trail is broken at entry {entry}: the file was altered"),
            "in_use": N_("The station's database is open in another program ({what}): stop the station first"),
            "not_written": N_("The backup was not written: {reason}"),
        },
    )


@dataclass(frozen=True)
class BackupCheck:
    """What a checked database file holds: every check passed."""

    path: Path
    size: int
    revision: str
    audit_entries: int
    acts: int
    scans: int


@dataclass(frozen=True)
class Restored:
    """A restore that replaced the station's database; `replaced` keeps the one it replaced (None: none)."""

    check: BackupCheck
    database: Path
    replaced: Path | None


def sqlite_file(db: Database) -> Path | None:
    """The station's SQLite file, None when the database is on a server (PostgreSQL)."""
    if not db.is_sqlite:
        return None
    name = make_url(db.url).database
    return Path(name).resolve() if name and name != ":memory:" else None


def _server_error(db: Database, reason: str, target: str) -> BackupError:
    url = make_url(db.url)
    # libpq options of the server and database, never the password (it belongs in ~/.pgpass or PGPASSWORD)
    where = " ".join(
        f"{opt} {value}"
        for opt, value in (("-h", url.host), ("-p", url.port), ("-U", url.username), ("-d", url.database))
        if value
    )
    if reason == "server_backup":
        command = f"pg_dump --format=custom {where} --file {target}"
    else:
        command = f"pg_restore --clean --if-exists {where} {target}"
    return BackupError(reason, command=command, doc=DOC)


def backup(db: Database, out: Path, *, verify: bool = True) -> BackupCheck:
    """Copy the station's database to `out` while it is in use, and check the copy.

    Returns what the copy holds. Raises BackupError: `server_backup` (PostgreSQL: the command to use),
    `not_written` (the folder, the disk), or a check's reason when the copy fails one (`verify`: the whole
    check, with the audit chain; otherwise SQLite's quick check).
    """
    source = sqlite_file(db)
    if source is None:
        raise _server_error(db, "server_backup", str(out))
    if not source.exists():
        raise BackupError("no_file", path=str(source))
    out = out.resolve()
    partial = out.with_name(out.name + PART_SUFFIX)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        partial.unlink(missing_ok=True)
        with contextlib.closing(_connect(source)) as src, contextlib.closing(_connect(partial)) as dst:
            src.backup(dst)  # one step: a read snapshot that never blocks the scans' commits (WAL)
            dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, whatever the source's mode
        os.chmod(partial, 0o600)  # the journal names people and what they did: owner only
        checked = check(partial, chain=verify, thorough=verify)
        _fsync(partial)
        partial.replace(out)
        _fsync_dir(out.parent)
    except sqlite3.Error as exc:
        raise BackupError("not_written", reason=str(exc)) from exc
    except OSError as exc:
        raise BackupError("not_written", reason=exc.strerror or str(exc)) from exc
    finally:
        partial.unlink(missing_ok=True)
    return replace(checked, path=out)


def check(path: Path, *, chain: bool = True, thorough: bool = True) -> BackupCheck:
    """Check a database file: SQLite's integrity check (`thorough`; else its quick check), a schema revision
    this program knows, and (`chain`) the audit trail's hash chain.

    Opens the file as it is: check a copy of anything that must not change (a WAL-mode file is folded by
    opening it). Raises BackupError: `no_file`, `not_database`, `corrupt`, `unknown_revision`, `chain_broken`.
    """
    shown = str(path)
    try:
        with path.open("rb") as f:
            header = f.read(len(SQLITE_HEADER))
        size = path.stat().st_size
    except FileNotFoundError as exc:
        raise BackupError("no_file", path=shown) from exc
    except OSError as exc:
        raise BackupError("corrupt", path=shown, problem=exc.strerror or str(exc)) from exc
    if header != SQLITE_HEADER:
        raise BackupError("not_database", path=shown)
    try:
        with contextlib.closing(_connect(path)) as conn:
            rows = conn.execute("PRAGMA integrity_check(5)" if thorough else "PRAGMA quick_check(5)").fetchall()
            if [tuple(r) for r in rows] != [("ok",)]:
                raise BackupError("corrupt", path=shown, problem="; ".join(str(r[0]) for r in rows))
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if not {"alembic_version", "audit_log", "acts", "scans"} <= tables:
                raise BackupError("not_database", path=shown)
            revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()
            acts = conn.execute("SELECT count(*) FROM acts").fetchone()[0]
            scans = conn.execute("SELECT count(*) FROM scans").fetchone()[0]
    except sqlite3.DatabaseError as exc:  # "file is not a database", "database disk image is malformed"
        raise BackupError("corrupt", path=shown, problem=str(exc)) from exc
    if revision is None or revision[0] not in known_revisions():
        raise BackupError("unknown_revision", path=shown, revision=revision[0] if revision else "-")
    entries = _verify_chain(path) if chain else -1
    return BackupCheck(path, size, str(revision[0]), entries, int(acts), int(scans))


def _verify_chain(path: Path) -> int:
    engine = create_engine(f"sqlite:///{path}", poolclass=NullPool)
    try:
        with Session(engine) as s:
            verdict = audit.verify(s)
    except SQLAlchemyError as exc:
        raise BackupError("corrupt", path=str(path), problem=str(getattr(exc, "orig", None) or exc)) from exc
    finally:
        engine.dispose()
    if not verdict.ok:
        raise BackupError("chain_broken", path=str(path), entry=verdict.first_broken_id)
    return verdict.entries


def known_revisions() -> frozenset[str]:
    """Every schema revision this program's migrations know (an older one is upgraded when the station starts)."""
    scripts = ScriptDirectory(str(migrate.MIGRATIONS))
    return frozenset(rev.revision for rev in scripts.walk_revisions())


def restore(db: Database, source: Path, *, now: datetime | None = None) -> Restored:
    """Replace the station's database with `source`, once `source` passes every check (`check`).

    The station must not be running on the database (`in_use`). The database replaced is kept beside it as
    `<name>.replaced-<UTC time>` (a consistent copy, its WAL included). Nothing is replaced when a check
    fails. Raises BackupError: `server_restore` (PostgreSQL), `in_use`, and every reason of `check`.
    """
    target = sqlite_file(db)
    if target is None:
        raise _server_error(db, "server_restore", str(source))
    source = source.resolve()
    if not source.is_file():
        raise BackupError("no_file", path=str(source))
    db.dispose()  # this process's own connections: the replaced file must not stay open here
    holder = in_use(target)
    if holder is not None:
        raise BackupError("in_use", what=holder)
    staging = target.with_name(target.name + ".restoring")
    replaced: Path | None = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        _remove_sqlite_files(staging)
        shutil.copyfile(source, staging)
        source_wal = source.with_name(source.name + "-wal")
        if source_wal.exists():  # a file copied from a live station: its last commits are in the WAL beside it
            shutil.copyfile(source_wal, staging.with_name(staging.name + "-wal"))
        checked = check(staging)  # the copy: checking the WAL-mode original would fold its WAL into it
        with contextlib.closing(_connect(staging)) as conn:
            conn.execute("PRAGMA journal_mode=DELETE")
        os.chmod(staging, 0o600)
        _fsync(staging)
        if target.exists():
            stamp = (now or utcnow()).strftime("%Y%m%dT%H%M%SZ")
            replaced = target.with_name(f"{target.name}.{REPLACED}-{stamp}")
            with contextlib.closing(_connect(target)) as src, contextlib.closing(_connect(replaced)) as dst:
                src.backup(dst)  # consistent, with what the old WAL holds
                dst.execute("PRAGMA journal_mode=DELETE")
            os.chmod(replaced, 0o600)
            _fsync(replaced)
        with _held(target) as holder:  # no SQLite connection of this process is open from here on
            if holder is not None:  # a station started since the first look: it may have written meanwhile
                if replaced is not None:
                    replaced.unlink(missing_ok=True)
                    replaced = None
                raise BackupError("in_use", what=holder)
            # The old WAL must go before the new file comes: SQLite would replay its frames onto the new file.
            for suffix in ("-wal", "-shm", "-journal"):
                target.with_name(target.name + suffix).unlink(missing_ok=True)
            staging.replace(target)
            _fsync_dir(target.parent)
    except sqlite3.Error as exc:
        raise BackupError("corrupt", path=str(source), problem=str(exc)) from exc
    except OSError as exc:
        raise BackupError("not_written", reason=exc.strerror or str(exc)) from exc
    finally:
        _remove_sqlite_files(staging)
    return Restored(replace(checked, path=target), target, replaced)


# --- whether the database is open elsewhere ------------------------------------------------------------

# SQLite (unix VFS) keeps a shared POSIX lock on one byte of the -shm file while a connection has a WAL
# database open: the "DMS" byte, after the WAL's eight lock slots at offset 120 (sqlite3 os_unix.c).
# A pooled connection of a running station holds it as long as the station runs, idle or not.
_SHM_DMS = 128
_FLOCK = "hhqqi4x"  # struct flock on Linux (x86_64 and aarch64): type, whence, start, len, pid


def in_use(database: Path) -> str | None:
    """What has the SQLite database open in another process ("pid 1234"), None when nothing does.

    Asks the kernel who holds SQLite's lock on the database's -shm file (F_GETLK): it sees every process,
    whatever started it, and changes nothing.
    """
    shm = database.with_name(database.name + "-shm")
    try:
        fd = os.open(shm, os.O_RDONLY)
    except FileNotFoundError:
        return None  # no connection has the database open in WAL mode
    try:
        query = struct.pack(_FLOCK, fcntl.F_WRLCK, os.SEEK_SET, _SHM_DMS, 1, 0)
        kind, _, _, _, pid = struct.unpack(_FLOCK, fcntl.fcntl(fd, fcntl.F_GETLK, query))
    finally:
        os.close(fd)
    return None if kind == fcntl.F_UNLCK else f"pid {pid}"


@contextlib.contextmanager
def _held(database: Path) -> Iterator[str | None]:
    """Take SQLite's DMS byte for ourselves while the files are swapped: a station starting meanwhile cannot
    open the database (SQLite refuses rather than share a -shm it cannot lock). Yields who holds it, if anyone.
    No SQLite connection of this process may be open meanwhile: closing our descriptor drops every POSIX lock
    the process holds on the file, theirs included."""
    shm = database.with_name(database.name + "-shm")
    fd = os.open(shm, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, _SHM_DMS)
        except OSError:
            yield in_use(database) or "?"
            return
        yield None
    finally:
        os.close(fd)  # releases the lock; the -shm itself is removed by the caller


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(str(path), timeout=30, isolation_level=None)
    conn.execute("PRAGMA busy_timeout=30000")
    return conn


def _remove_sqlite_files(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(folder: Path) -> None:
    """The rename itself survives a power cut once the folder is synced."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
