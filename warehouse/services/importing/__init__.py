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
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select, text

from warehouse import transfer_act
from warehouse.db import Database
from warehouse.models import Act, User
from warehouse.services import audit
from warehouse.services.importing.errors import ActImportError
from warehouse.services.importing.planner import _COLUMNS as _COLUMNS  # the benches write rows as we do
from warehouse.services.importing.planner import CHUNK
from warehouse.services.importing.sources import _line_source
from warehouse.services.importing.tree import _check_tree, number_tree
from warehouse.services.importing.writer import IMPORT_CACHE_KIB, Progress, _first_id, _load_lines
from warehouse.transfer_act import ActFormatError, Problem
from warehouse.vocab import ActStatus, Direction, Mode

__all__ = [
    "ANALYZE_MIN_CODES",
    "CHUNK",
    "IMPORT_CACHE_KIB",
    "PARALLEL_MIN_BYTES",
    "ActImportError",
    "ImportResult",
    "Progress",
    "file_sha256",
    "import_act",
    "number_tree",
]

ANALYZE_MIN_CODES = 10_000  # PostgreSQL: a bigger import refreshes the planner's statistics of act_codes
PARALLEL_MIN_BYTES = 8 << 20  # from about 70,000 codes up, the file is read in a second process


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
    """Import `path` (.json, .csv, .xlsx) as a new act; raises ActImportError and writes nothing on any problem."""
    try:
        reader = transfer_act.read_act(path)
        header = reader.header
    except ActFormatError as e:
        raise ActImportError(e.problems) from e
    sha = file_sha256(path)
    with db.write() as s:
        existing = s.execute(
            select(Act.id).where(
                Act.direction == direction,
                Act.sender_bin == header.sender.bin,
                Act.number == header.number,
                Act.date == header.date,
            )
        ).scalar()
        if existing is not None:
            raise ActImportError(
                [Problem("file", "duplicate_act", f"{header.number} {header.date.isoformat()} #{existing}")],
                existing_act_id=existing,
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
            status=ActStatus.NEW if direction == Direction.INCOMING else ActStatus.DRAFT,
            mode=mode,
            source_sha256=sha,
            created_by=user.id if user else None,
        )
        s.add(act)
        s.flush()
        conn = s.connection()
        with _line_source(path, reader, act.id, _first_id(conn), PARALLEL_MIN_BYTES) as source:
            loaded = _load_lines(conn, act.id, source, progress)
        problems = loaded.problems + _check_tree(conn, act.id, loaded)
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
            details={"file": path.name, "sha256": sha, "codes": loaded.count, "number": header.number},
        )
        result = ImportResult(act.id, act.number, loaded.count)
    if not db.is_sqlite and loaded.count >= ANALYZE_MIN_CODES:
        # Statistics now, not when autovacuum comes round: until then the planner may take a table that
        # just grew by a million rows for a small one and scan it whole to credit a pallet.
        with db.write() as s:
            s.execute(text("ANALYZE act_codes"))
    return result
