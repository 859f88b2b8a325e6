"""Importing an act file into the database: all or nothing, streaming, every problem reported.

The pure reader (`warehouse.transfer_act`) checks each line as it streams by; what needs the whole file is
checked here: duplicates by the unique index as the rows are written, parent links and skipped packaging
levels as the lines go by (in SQL on the written rows when a parent comes after its children), all inside
the same transaction. Any problem rolls the whole import back.

A big file is read by `warehouse.transfer_act` and planned into rows by `_Planner` (pure) in a second process
while this one writes (see `_ProcessSource`); rows go to the driver as plain sequences (executemany on
SQLite, COPY on PostgreSQL); a file in depth-first preorder gets its nested intervals on the way, any other
order is numbered afterwards by `number_tree`. How and why: docs/receiving.md; the full-truck figures:
tests/bench/bench_receiving.py.

One concept a module: `planner` (lines into rows, pure), `sources` (this process or the reader process,
whose entry point is `__main__`), `writer` (the rows through the driver), `tree` (the whole-file checks
and `number_tree`) and `errors` (`ActImportError`); `import_act` here ties them into one transaction.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select, text
from sqlalchemy.orm import Session

from warehouse import transfer_act
from warehouse.db import Database
from warehouse.models import Act, User
from warehouse.services import audit
from warehouse.services.importing.claims import claimed, lock_file
from warehouse.services.importing.errors import ActImportError
from warehouse.services.importing.planner import _COLUMNS as _COLUMNS  # the benches write rows as we do
from warehouse.services.importing.planner import CHUNK
from warehouse.services.importing.sources import _line_source
from warehouse.services.importing.tree import _check_tree, number_tree
from warehouse.services.importing.writer import (
    IMPORT_CACHE_KIB,
    STEP_ROWS,
    Progress,
    _first_id,
    _load_lines,
    _Loaded,
    _Pacer,
)
from warehouse.transfer_act import ActFormatError, Problem, capped
from warehouse.vocab import ActStatus, Direction, Mode

__all__ = [
    "ANALYZE_MIN_CODES",
    "CHECKPOINT_MIN_CODES",
    "CHUNK",
    "IMPORT_CACHE_KIB",
    "PARALLEL_MIN_BYTES",
    "ActImportError",
    "ImportResult",
    "Progress",
    "checkpoint",
    "clean_abandoned_imports",
    "file_sha256",
    "import_act",
    "number_tree",
]

ANALYZE_MIN_CODES = 10_000  # PostgreSQL: a bigger import refreshes the planner's statistics of act_codes
PARALLEL_MIN_BYTES = 8 << 20  # from about 70,000 codes up, the file is read in a second process
CHECKPOINT_MIN_CODES = 50_000  # SQLite: a bigger import checkpoints and truncates the WAL when it is done
CHECKPOINT_BUSY_MS = 50  # how long the truncating checkpoint may hold off writers waiting for readers
CHECKPOINT_TRIES = 5
STEP_PAUSE_S = 0.001  # SQLite: the pause after each step of an import, for the scanners waiting to write
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ImportResult:
    act_id: int
    number: str
    codes: int


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def import_act(
    db: Database,
    path: Path,
    *,
    user: User | None = None,
    direction: Direction = Direction.INCOMING,
    mode: Mode = Mode.TRUSTED,
    progress: Progress | None = None,
) -> ImportResult:
    """Import `path` (.json, .csv, .xlsx) as a new act; raises ActImportError and leaves nothing on any problem.

    PostgreSQL: one transaction (other writers are not blocked by it). SQLite, whose one writer at a time
    would make every scanner wait for the whole file: the act is created `importing`, which no listing,
    lookup or matching sees, its rows are written in short transactions while the file is read, and the
    last one checks the whole tree and makes the act visible. A refused file's rows are removed in short
    steps too; a killed import's by the next import or start (`clean_abandoned_imports`).
    """
    try:
        reader = transfer_act.read_act(path)
        header = reader.header
    except ActFormatError as e:
        raise ActImportError(e.problems) from e
    sha = file_sha256(path)
    final = ActStatus.NEW if direction == Direction.INCOMING else ActStatus.DRAFT
    if not db.is_sqlite:
        with db.write() as s:
            act = _new_act(s, header, direction, mode, final, sha, user)
            conn = s.connection()
            with _line_source(path, reader, act.id, 0, PARALLEL_MIN_BYTES) as source:
                loaded = _load_lines(conn, act.id, source, progress)
            _finish(s, act, loaded, path, sha, user)
            result = ImportResult(act.id, act.number, loaded.count)
        if loaded.count >= ANALYZE_MIN_CODES:
            # Statistics now, not when autovacuum comes round: until then the planner may take a table that
            # just grew by a million rows for a small one and scan it whole to credit a pallet.
            with db.write() as s:
                s.execute(text("ANALYZE act_codes"))
        return result
    clean_abandoned_imports(db)
    claims_file = lock_file(db.engine.url.database)
    with db.write() as s:
        act = _new_act(s, header, direction, mode, ActStatus.IMPORTING, sha, user)
        act_id, base = act.id, _first_id(s.connection())
        claim = claimed(claims_file, act_id)
        claim.__enter__()  # before the act is committed: no clean-up may take it for abandoned
    try:
        result = _fill_in_steps(db, act_id, path, reader, base, final, sha, user, progress)
    except BaseException:
        _discard(db, act_id)
        raise
    finally:
        claim.__exit__(None, None, None)
    if result.codes >= CHECKPOINT_MIN_CODES:
        checkpoint(db)
    return result


def _new_act(
    s: Session,
    header: transfer_act.ActHeader,
    direction: Direction,
    mode: Mode,
    status: ActStatus,
    sha: str,
    user: User | None,
) -> Act:
    existing = s.execute(
        select(Act.id, Act.status).where(
            Act.direction == direction,
            Act.sender_bin == header.sender.bin,
            Act.number == header.number,
            Act.date == header.date,
        )
    ).first()
    if existing is not None:
        being_imported = existing.status == ActStatus.IMPORTING  # by someone else, right now: not an act yet
        raise ActImportError(
            [
                Problem(
                    "file",
                    "duplicate_act",
                    f"{header.number} {header.date.isoformat()}" + ("" if being_imported else f" #{existing.id}"),
                )
            ],
            existing_act_id=None if being_imported else existing.id,
        )
    act = Act(
        direction=direction,
        number=header.number,
        date=header.date,
        sender_name=header.sender.name,
        sender_bin=header.sender.bin,
        receiver_name=header.receiver.name,
        receiver_bin=header.receiver.bin,
        basis=[{"type": b.type, "number": b.number, "date": b.date} for b in header.basis],
        turnover=header.turnover,
        status=status,
        mode=mode,
        source_sha256=sha,
        created_by=user.id if user else None,
    )
    s.add(act)
    s.flush()
    return act


def _finish(s: Session, act: Act, loaded: _Loaded, path: Path, sha: str, user: User | None) -> None:
    """The whole-file checks, the tree's numbering and the counters: raises ActImportError on any problem."""
    conn = s.connection()
    # Capped like a line's problems: 100,000 duplicate packs were 99,999 problems, a 31.6 MB answer.
    problems = capped([*loaded.problems, *_check_tree(conn, act.id, loaded)])
    if problems:
        raise ActImportError(problems)
    if not loaded.numbered:
        number_tree(conn, act.id)
    conn.execute(
        text("INSERT INTO act_counters (act_id, level, gtin, expected, credited) VALUES (:a, :l, :g, :n, 0)"),
        [{"a": act.id, "l": level, "g": gtin, "n": n} for (level, gtin), n in sorted(loaded.counters.items())],
    )
    audit.record(
        s,
        "act.imported",
        user=user,
        act_id=act.id,
        details={"file": path.name, "sha256": sha, "codes": loaded.count, "number": act.number},
    )


def _fill_in_steps(
    db: Database,
    act_id: int,
    path: Path,
    reader: transfer_act.ActReader,
    base: int,
    final: ActStatus,
    sha: str,
    user: User | None,
    progress: Progress | None,
) -> ImportResult:
    """SQLite: the rows in short write transactions on one connection (the pending parents' temporary table
    lives on it), then the last transaction checks the whole file and makes the act visible."""
    with db.write_engine.connect() as conn:
        raw: Any = conn.connection.driver_connection
        # The steps need not survive a power cut (an incomplete act is removed anyway), so they skip the
        # fsync; the last step, which makes the act visible, is FULL like every other commit. WAL frames
        # are appended in order, so a later synced commit (a scan's) syncs these too.
        raw.execute("PRAGMA synchronous = NORMAL")
        try:
            with _line_source(path, reader, act_id, base, PARALLEL_MIN_BYTES) as source:
                loaded = _load_lines(conn, act_id, source, progress, _Pacer(conn, STEP_PAUSE_S))
            raw.execute("PRAGMA synchronous = FULL")
            with conn.begin(), Session(bind=conn) as s:
                act = s.get_one(Act, act_id)
                _finish(s, act, loaded, path, sha, user)
                act.status = final
                s.flush()
                result = ImportResult(act.id, act.number, loaded.count)
        finally:
            raw.execute("PRAGMA synchronous = FULL")
            raw.execute("DROP TABLE IF EXISTS temp.import_pending")
    return result


def _discard(db: Database, act_id: int) -> None:
    """Remove an `importing` act and its rows, the rows in short write transactions, from the last back.

    A row's children normally come after it; any that come before (a file listing children first, or a
    loop) are unlinked first, so the self-referencing foreign key never stops a step.
    """
    with db.read() as s:
        lo, hi = s.execute(text("SELECT min(id), max(id) FROM act_codes WHERE act_id = :a"), {"a": act_id}).one()
    while hi is not None and hi >= lo:
        bottom = max(lo, hi - STEP_ROWS + 1)
        with db.write() as s:
            p = {"a": act_id, "lo": bottom, "hi": hi}
            s.execute(text("UPDATE act_codes SET parent_id = NULL WHERE parent_id BETWEEN :lo AND :hi AND id < :lo"), p)
            s.execute(text("DELETE FROM act_codes WHERE act_id = :a AND id BETWEEN :lo AND :hi"), p)
        hi = bottom - 1
    with db.write() as s:
        s.execute(text("DELETE FROM act_counters WHERE act_id = :a"), {"a": act_id})
        s.execute(delete(Act).where(Act.id == act_id, Act.status == ActStatus.IMPORTING))


def clean_abandoned_imports(db: Database) -> list[int]:
    """Remove the acts an import left `importing` when its process was killed; returns their ids.

    An act still claimed (being imported by this or another live process) is left alone. The app factory
    calls this at start, and every SQLite import before it begins.
    """
    with db.read() as s:
        ids = list(s.execute(select(Act.id).where(Act.status == ActStatus.IMPORTING)).scalars())
    if not ids:
        return []
    claims_file = lock_file(db.engine.url.database) if db.is_sqlite else ""
    removed = []
    for act_id in ids:
        with claimed(claims_file, act_id) as got:
            if got:
                log.warning("removing act #%s, left incomplete by an import that did not finish", act_id)
                _discard(db, act_id)
                removed.append(act_id)
    return removed


def checkpoint(db: Database) -> bool:
    """SQLite: copy the WAL into the database and truncate it, after a big import (a full truck left 190 MB).

    PASSIVE first, which never blocks anyone and copies almost everything; then TRUNCATE for the rest,
    which holds off writers while it waits for readers, so it is given a short busy timeout: when a long
    reader keeps it from finishing, the WAL is only reused, not truncated, and that is fine. Returns
    whether the WAL was truncated.
    """
    if not db.is_sqlite:
        return False
    with db.engine.connect() as conn:
        raw: Any = conn.connection.driver_connection
        raw.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        timeout = int(raw.execute("PRAGMA busy_timeout").fetchone()[0])
        raw.execute(f"PRAGMA busy_timeout = {CHECKPOINT_BUSY_MS}")
        try:
            for _ in range(CHECKPOINT_TRIES):  # scanners at work: try again in a gap between their commits
                busy, _, _ = raw.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
                if not busy:
                    break
                time.sleep(0.2)
        finally:
            raw.execute(f"PRAGMA busy_timeout = {timeout}")
    return not busy
