"""Writing the planned rows straight through the driver: executemany on SQLite, COPY on PostgreSQL."""

from __future__ import annotations

import time
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text

from warehouse.services.importing.planner import _COLUMN_LIST, _COLUMNS, _ID, _LEVEL, _PARENT, CHUNK, _Chunk
from warehouse.services.importing.sources import _few_collections, _InlineSource, _ProcessSource
from warehouse.transfer_act import Problem, capped
from warehouse.transfer_act.problems import ProblemList
from warehouse.vocab import Level

IMPORT_CACHE_KIB = 64 * 1024  # SQLite page cache while an act is written (bounded: part of the memory budget)
STEP_ROWS = 5_000  # SQLite: rows removed in one write transaction when a refused import is undone
BUSY_ROWS = 150  # SQLite: rows of the first step of an import while others write too
BUSY_HOLD_S = 0.004  # ... then as many rows as hold the write lock about this long (sized by time, not rows)
BUSY_MIN_ROWS, BUSY_MAX_ROWS = 20, 2_000
QUIET_S = 1.0  # ... and for this long after the last commit by someone else
Progress = Callable[[int], None]


@dataclass
class _Loaded:
    count: int
    problems: list[Problem]
    pending: bool  # some children named a parent that came later in the file: the tree is checked in SQL
    numbered: bool  # the file was in depth-first preorder: pos and last are already set
    levels: set[str]
    skipped: dict[tuple[str, str], list[tuple[int, Problem]]]  # (parent, child level): first rows, by id
    counters: Counter[tuple[str, str]]  # codes per (level, gtin or "")


def _first_id(conn: Connection) -> int:
    """SQLite: the planner numbers the rows from here (each step may shift them: _SqliteIds).
    PostgreSQL: 0, ids come from the sequence (_PgIds)."""
    if conn.dialect.name == "postgresql":
        return 0
    return int(conn.execute(text("SELECT coalesce(max(id), 0) + 1 FROM act_codes")).scalar_one())


class _PgIds:
    """PostgreSQL: the sequence's ids for the planner's, chunk by chunk (other writers share the sequence,
    so a contiguous range cannot be reserved). Parents are aggregates, so only theirs are remembered."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.aggregates: dict[int, int] = {}

    def apply(self, chunk: _Chunk) -> None:
        rows = chunk.rows
        got = (
            self.conn.execute(
                text("SELECT nextval(pg_get_serial_sequence('act_codes', 'id')) FROM generate_series(1, :n)"),
                {"n": len(rows)},
            )
            .scalars()
            .all()
        )
        ours = self.aggregates
        mine = {row[_ID]: new for row, new in zip(rows, got, strict=True)}
        for row in rows:
            parent = row[_PARENT]
            if parent is not None:
                row[_PARENT] = mine.get(parent) or ours[parent]
            if row[_LEVEL] != Level.PACK:
                ours[row[_ID]] = mine[row[_ID]]
            row[_ID] = mine[row[_ID]]
        chunk.late = [(last, ours[old]) for last, old in chunk.late]
        chunk.pending = [(mine[old], parent, location) for old, parent, location in chunk.pending]


class _RowWriter:
    """Writes chunks of rows straight through the driver, inside the session's transaction.

    A million rows through SQLAlchemy's parameter processing cost more than the database itself, so the
    rows go to the DB-API as plain sequences: executemany on SQLite, COPY on PostgreSQL. Returns how many
    rows were stored; fewer than given means some identities were already there (duplicates).
    """

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.pg = conn.dialect.name == "postgresql"
        raw: Any = conn.connection.driver_connection
        self.raw = raw
        self.cache_size: int | None = None
        if not self.pg:
            # Each row goes into an index keyed by identity at a random place; with SQLite's default 2 MB
            # page cache most of those inserts miss and spill, a third of the whole write time.
            self.cache_size = int(raw.execute("PRAGMA cache_size").fetchone()[0])
            raw.execute(f"PRAGMA cache_size = {-IMPORT_CACHE_KIB}")
        marks = ", ".join(["%s" if self.pg else "?"] * len(_COLUMNS))
        self.insert_sql = f"INSERT INTO act_codes ({_COLUMN_LIST}) VALUES ({marks}) ON CONFLICT DO NOTHING"  # noqa: S608

    def write(self, rows: list[list[Any]]) -> int:
        if not self.pg:
            cur = self.raw.cursor()
            try:
                cur.executemany(self.insert_sql, rows)
                return int(cur.rowcount)  # sqlite3 sums the changes of every row
            finally:
                cur.close()
        integrity_error = self.conn.dialect.loaded_dbapi.IntegrityError
        try:
            # A savepoint: a duplicate must not abort the whole import, whose report lists every problem.
            with (
                self.conn.begin_nested(),
                self.raw.cursor() as cur,
                cur.copy(f"COPY act_codes ({_COLUMN_LIST}) FROM STDIN") as copy,
            ):
                for row in rows:
                    copy.write_row(row)
            return len(rows)
        except integrity_error:
            pass
        # Rare: some code is a duplicate. Insert what can be inserted, then count what was kept.
        with self.raw.cursor() as cur:
            cur.executemany(self.insert_sql, rows)
        return -1

    def __enter__(self) -> _RowWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.cache_size is not None:  # the pooled connection goes back to its usual size
            self.raw.execute(f"PRAGMA cache_size = {self.cache_size}")

    def set_last(self, updates: list[tuple[int, int]]) -> None:
        if updates:
            self.conn.execute(
                text("UPDATE act_codes SET last = :last WHERE id = :id"),
                [{"last": last, "id": row_id} for last, row_id in updates],
            )


class _SqliteIds:
    """SQLite: the planner numbers the rows from max(id) + 1 as it was when the act was created, but the import
    commits in steps and another writer (an outgoing act signed, another import) may add act_codes rows in
    between. Each step moves its rows to ids free at that moment; parents, `late` and `pending` are mapped
    through the shifts so far. Shifts only grow, so ids keep the file's order (number_tree relies on it)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.firsts: list[int] = []  # planner id where each shift starts
        self.deltas: list[int] = []

    def place(self, rows: list[list[Any]]) -> None:
        """Inside the step's write transaction: give `rows` (consecutive planner ids) ids free now."""
        free = int(self.conn.execute(text("SELECT coalesce(max(id), 0) + 1 FROM act_codes")).scalar_one())
        first = rows[0][_ID]
        delta = max(free - first, self.deltas[-1] if self.deltas else 0)
        if not self.deltas or delta != self.deltas[-1]:
            self.firsts.append(first)
            self.deltas.append(delta)
        if self.shifted:
            for row in rows:
                row[_ID] += delta
                if row[_PARENT] is not None:
                    row[_PARENT] = self.map(row[_PARENT])

    @property
    def shifted(self) -> bool:
        return bool(self.deltas) and self.deltas[-1] != 0  # deltas never fall: the last is the largest

    def map(self, planned: int) -> int:
        return planned + self.deltas[bisect_right(self.firsts, planned) - 1]


class _Pacer:
    """SQLite: how big the import's next write transaction may be, and the transaction itself.

    Each commit writes every index page the step touched to the WAL again, and a code's identity lands at a
    random place of the unique index, so small steps cost the import dearly; but a big step makes a scan
    wait for it. While nobody else writes, steps are a whole chunk of the planner; once another connection
    has committed since the last step (`PRAGMA data_version` moved: scanners are at work), they shrink and
    stay small until the others have been quiet for QUIET_S. Small steps are sized by time: as many rows as
    held the lock about BUSY_HOLD_S in the last step (measured: 150 rows held it 7 ms at the median and
    38 ms at p99 on a busy 2-core host, as the index grew and the host slowed; a fixed count cannot follow).
    """

    def __init__(self, conn: Connection, pause_s: float) -> None:
        self.conn = conn
        self.raw: Any = conn.connection.driver_connection
        self.pause_s = pause_s
        self.rows = BUSY_ROWS  # the first steps are small until the database is seen to be quiet
        self.busy_rows = BUSY_ROWS
        self.version = self._version()
        self.busy_at = time.monotonic()

    def _version(self) -> int:
        return int(self.raw.execute("PRAGMA data_version").fetchone()[0])

    @contextmanager
    def step(self) -> Iterator[None]:
        with self.conn.begin():
            locked = time.perf_counter()  # BEGIN IMMEDIATE returned: the lock is ours from here
            yield
        held = time.perf_counter() - locked
        version, now = self._version(), time.monotonic()
        if version != self.version:  # another connection committed since our last step
            self.busy_at = now
        self.version = version
        if self.rows < CHUNK:  # a busy step: the next one holds the lock about BUSY_HOLD_S
            scaled = int(self.rows * BUSY_HOLD_S / max(held, 1e-4))
            self.busy_rows = max(BUSY_MIN_ROWS, min(BUSY_MAX_ROWS, scaled, self.busy_rows * 2))
        self.rows = self.busy_rows if now - self.busy_at < QUIET_S else CHUNK
        time.sleep(self.pause_s)  # a writer waiting for the lock tries every half millisecond: let it in


def _load_lines(
    conn: Connection,
    act_id: int,
    source: _InlineSource | _ProcessSource,
    progress: Progress | None,
    pacer: _Pacer | None = None,
) -> _Loaded:
    """Write the planned rows chunk by chunk; duplicates are found by the unique index as they go in.

    PostgreSQL: all inside the caller's transaction. SQLite: the `pacer` makes each step a write transaction
    of its own, as many rows as it allows, so the write lock is never held for long.
    """
    problems = ProblemList()  # capped as it goes: a file of one pack 100,000 times
    have_pending = False
    count = 0
    with _few_collections(), _RowWriter(conn) as writer:
        pg_ids = _PgIds(conn) if writer.pg else None
        sqlite_ids = None if writer.pg else _SqliteIds(conn)
        for chunk in source:
            rows = chunk.rows
            if pg_ids is not None:
                pg_ids.apply(chunk)
            start = 0
            while True:
                size = len(rows) if pacer is None else pacer.rows
                part = rows[start : start + size]
                offset, start = start, start + size
                final = start >= len(rows)
                with pacer.step() if pacer is not None else nullcontext():
                    if sqlite_ids is not None and part:
                        sqlite_ids.place(part)
                    if part and writer.write(part) != len(part):
                        problems.extend(_duplicates(conn, act_id, part, chunk.locations, offset))
                    if not final:
                        continue
                    if sqlite_ids is not None and sqlite_ids.shifted:
                        chunk.late = [(last, sqlite_ids.map(old)) for last, old in chunk.late]
                        chunk.pending = [(sqlite_ids.map(old), p, where) for old, p, where in chunk.pending]
                    writer.set_last(chunk.late)
                    if chunk.pending:
                        _stash_pending(conn, chunk.pending, create=not have_pending)
                        have_pending = True
                if final:
                    break
            count += len(rows)
            if progress and rows:
                progress(count)
    plan = source.plan
    levels = {level for level, _ in plan.counters}
    return _Loaded(
        plan.count,
        capped([*source.problems, *plan.problems, *problems.as_list()]),
        have_pending,
        plan.preorder,
        levels,
        plan.skipped,
        plan.counters,
    )


def _duplicates(conn: Connection, act_id: int, part: list[list[Any]], locations: str, offset: int) -> list[Problem]:
    """The rows of `part` the unique index refused: a code already written for this act."""
    ids_in = [row[_ID] for row in part]
    kept = set(
        conn.execute(
            text("SELECT id FROM act_codes WHERE act_id = :a AND id BETWEEN :lo AND :hi"),
            {"a": act_id, "lo": min(ids_in), "hi": max(ids_in)},
        ).scalars()
    )
    where = locations.split("\n")[offset : offset + len(part)]
    return [
        Problem(location, "duplicate_code", row[4])
        for row, location in zip(part, where, strict=True)
        if row[_ID] not in kept
    ]


def _stash_pending(conn: Connection, pending: list[tuple[int, str, str]], *, create: bool) -> None:
    """Children whose parent was not seen yet: resolved in SQL once the whole file is in."""
    if create:
        conn.execute(
            text(
                "CREATE TEMPORARY TABLE import_pending "
                "(child_id BIGINT PRIMARY KEY, parent_identity VARCHAR(100), location VARCHAR(200))"
            )
        )
    conn.execute(
        text("INSERT INTO import_pending VALUES (:c, :p, :l)"),
        [{"c": child, "p": parent, "l": location} for child, parent, location in pending],
    )
