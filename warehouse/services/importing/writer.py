"""Writing the planned rows straight through the driver: executemany on SQLite, COPY on PostgreSQL."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text

from warehouse.services.importing.planner import _COLUMN_LIST, _COLUMNS, _ID, _LEVEL, _PARENT, _Chunk
from warehouse.services.importing.sources import _few_collections, _InlineSource, _ProcessSource
from warehouse.transfer_act import Problem
from warehouse.vocab import Level

IMPORT_CACHE_KIB = 64 * 1024  # SQLite page cache while an act is written (bounded: part of the memory budget)
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
    """SQLite: the planner numbers the rows from here. This transaction holds the write lock (BEGIN
    IMMEDIATE), so max(id) cannot move under us. PostgreSQL: 0, ids come from the sequence (_PgIds)."""
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


def _load_lines(
    conn: Connection, act_id: int, source: _InlineSource | _ProcessSource, progress: Progress | None
) -> _Loaded:
    """Write the planned rows chunk by chunk; duplicates are found by the unique index as they go in."""
    problems: list[Problem] = []
    have_pending = False
    count = 0
    with _few_collections(), _RowWriter(conn) as writer:
        ids = _PgIds(conn) if writer.pg else None
        for chunk in source:
            rows = chunk.rows
            if ids is not None:
                ids.apply(chunk)
            if rows and writer.write(rows) != len(rows):
                ids_in = [row[_ID] for row in rows]
                kept = set(
                    conn.execute(
                        text("SELECT id FROM act_codes WHERE act_id = :a AND id BETWEEN :lo AND :hi"),
                        {"a": act_id, "lo": min(ids_in), "hi": max(ids_in)},
                    ).scalars()
                )
                for row, location in zip(rows, chunk.locations.split("\n"), strict=True):
                    if row[_ID] not in kept:
                        problems.append(Problem(location, "duplicate_code", row[4]))
            writer.set_last(chunk.late)
            if chunk.pending:
                _stash_pending(conn, chunk.pending, create=not have_pending)
                have_pending = True
            count += len(rows)
            if progress and rows:
                progress(count)
    plan = source.plan
    levels = {level for level, _ in plan.counters}
    return _Loaded(
        plan.count,
        [*source.problems, *plan.problems, *problems],
        have_pending,
        plan.preorder,
        levels,
        plan.skipped,
        plan.counters,
    )


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
