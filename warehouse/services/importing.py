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
"""

from __future__ import annotations

import gc
import hashlib
import logging
import os
import pickle
import queue
import subprocess
import sys
import threading
import traceback
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select, text

from warehouse import transfer_act
from warehouse.db import Database
from warehouse.models import Act, User
from warehouse.services import audit
from warehouse.transfer_act import ActFormatError, Problem
from warehouse.vocab import ActStatus, Direction, Level, Mode

CHUNK = 20_000
log = logging.getLogger(__name__)
Progress = Callable[[int], None]


class ActImportError(Exception):
    """The file was not imported; `problems` lists every reason with its location."""

    def __init__(self, problems: list[Problem], existing_act_id: int | None = None) -> None:
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems
        self.existing_act_id = existing_act_id


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
        with _line_source(path, reader, act.id, _first_id(conn)) as source:
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


IMPORT_CACHE_KIB = 64 * 1024  # SQLite page cache while an act is written (bounded: part of the memory budget)
ANALYZE_MIN_CODES = 10_000  # PostgreSQL: a bigger import refreshes the planner's statistics of act_codes
PARALLEL_MIN_BYTES = 8 << 20  # from about 70,000 codes up, the file is read in a second process
READ_AHEAD = 3  # chunks of rows the writer may have waiting from the reader process (about 8 MB each)

# One row of act_codes as the driver gets it: a list, so pos/last can still be set until it is written.
_COLUMNS = (
    "id",
    "act_id",
    "parent_id",
    "identity",
    "code",
    "level",
    "gtin",
    "name",
    "price",
    "vat",
    "declared_children",
    "credited_scan_id",
    "pos",
    "last",
)
_COLUMN_LIST = ", ".join(_COLUMNS)
_ID, _PARENT, _LEVEL, _POS, _LAST = 0, 2, 5, 12, 13
# Which children are a skipped packaging level under which parent (see _check_tree).
_SKIPS = {(Level.PALLET, Level.BLOCK), (Level.PALLET, Level.PACK), (Level.BOX, Level.PACK)}
# (parent, child level) where the child does not rank below its parent.
_WRONG_ORDER = {(p, c) for p in Level for c in Level if p.rank <= c.rank}
_MAX_SKIPPED = 100
_CODE_KEPT = frozenset({Level.PALLET, Level.BOX})  # only these can be the parent named by level_skipped


@dataclass
class _Chunk:
    """Rows ready for the driver, with what writing them needs besides."""

    rows: list[list[Any]]  # in _COLUMNS order; a row's id is the planner's base + the line's index
    locations: str  # the rows' locations, "\n"-joined: read only to name a duplicate
    late: list[tuple[int, int]]  # (last, id) of aggregates that were in an earlier chunk
    pending: list[tuple[int, str, str]]  # (child id, parent identity, location): parent not seen yet


@dataclass
class _Plan:
    """What the planner learnt from the whole file."""

    count: int = 0
    problems: list[Problem] = field(default_factory=list)
    preorder: bool = True  # the file was in depth-first preorder: pos and last are set in the rows
    skipped: dict[tuple[str, str], list[tuple[int, Problem]]] = field(  # (parent, child level): first rows, by id
        default_factory=lambda: {pair: [] for pair in _SKIPS}
    )
    counters: Counter[tuple[str, str]] = field(default_factory=Counter)  # codes per (level, gtin or "")


class _Planner:
    """Turns the file's lines into act_codes rows, deriving on the way all that needs no database.

    Parent links to parents already seen, levels in the wrong order, skipped packaging levels, counters,
    and, for a file in depth-first preorder (every JSON file; CSV and XLSX as our writers make them),
    the nested intervals [pos, last]: pos is the line's index, and `last` is known when the next line
    is not inside the aggregate. Pure: for a big file it runs in the reader process, beside the writer.
    """

    def __init__(self, act_id: int, base: int) -> None:
        self.act_id = act_id
        self.base = base
        self.plan = _Plan()

    def chunks(self, lines: Iterable[transfer_act.ActLine]) -> Iterator[_Chunk]:
        act_id, plan = self.act_id, self.plan
        level_text = {level: level.value for level in transfer_act.Level}  # Enum.value is a slow property
        problems, skipped, counters = plan.problems, plan.skipped, plan.counters
        new_id = self.base
        # Aggregates only (packs are never parents): identity -> (id, level, code of a pallet or box).
        parents: dict[str, tuple[int, str, str | None]] = {}
        # The open aggregates, outermost first, as (identity, row).
        open_rows: list[tuple[str, list[Any]]] = []
        preorder = True
        count = written = 0
        rows: list[list[Any]] = []
        locations: list[str] = []
        late: list[tuple[int, int]] = []
        pending: list[tuple[int, str, str]] = []

        def close(row: list[Any], last: int) -> None:
            if row[_POS] >= written:
                row[_LAST] = last
            else:
                late.append((last, row[_ID]))

        for line in lines:
            identity, level, parent_code = line.identity, level_text[line.level], line.parent_code
            if level != Level.PACK:
                parents.setdefault(identity, (new_id, level, line.code if level in _CODE_KEPT else None))
            parent_id = None
            if parent_code is not None:
                parent = parents.get(parent_code)
                if parent is None:
                    pending.append((new_id, parent_code, line.location))
                else:
                    parent_id = parent[0]
                    pair = (parent[1], level)
                    if pair in _WRONG_ORDER:
                        problems.append(Problem(line.location, "level_order", f"{level} in {parent[1]}"))
                    elif pair in _SKIPS and len(skipped[pair]) < _MAX_SKIPPED:
                        detail = f"{level} in {parent[1]} {parent[2]}"
                        skipped[pair].append((new_id, Problem(line.code, "level_skipped", detail)))
            gtin = line.gtin
            row = [
                new_id,
                act_id,
                parent_id,
                identity,
                line.code,
                level,
                gtin,
                line.name,
                line.price,
                line.vat,
                line.declared_children,
                None,
                count,
                count,
            ]
            if preorder:
                while open_rows and open_rows[-1][0] != parent_code:
                    close(open_rows.pop()[1], count - 1)
                if parent_code is not None and not open_rows:
                    preorder = False  # a parent that is not an open ancestor: number_tree will do it
                elif level != Level.PACK:
                    open_rows.append((identity, row))
            rows.append(row)
            locations.append(line.location)
            counters[(level, gtin or "")] += 1
            count += 1
            new_id += 1
            if len(rows) >= CHUNK:
                written = count
                yield _Chunk(rows, "\n".join(locations), late, pending)
                rows, locations, late, pending = [], [], [], []
        written = count
        while open_rows:
            close(open_rows.pop()[1], count - 1)
        if rows or late or pending:
            yield _Chunk(rows, "\n".join(locations), late, pending)
        plan.count, plan.preorder = count, preorder


class _InlineSource:
    """The file's lines read and planned in this process (small files: a reader process costs more)."""

    def __init__(self, reader: transfer_act.ActReader, act_id: int, base: int) -> None:
        self.reader = reader
        self.planner = _Planner(act_id, base)
        self.problems: list[Problem] = []
        self.plan = self.planner.plan

    def __iter__(self) -> Iterator[_Chunk]:
        yield from self.planner.chunks(self.reader.lines())
        self.problems = list(self.reader.problems)

    def close(self) -> None:
        pass


class _ProcessSource:
    """The file's lines parsed, checked and planned in a child process, streamed back in chunks of rows.

    Reading and checking a million codes costs about as much CPU as writing them; in two processes the
    two halves overlap on a 2-core machine. The pipe holds at most a chunk or two, so memory stays flat.
    A child that cannot start or fails before its first chunk is replaced by reading in this process.
    """

    def __init__(self, path: Path, reader: transfer_act.ActReader, act_id: int, base: int) -> None:
        self.reader, self.act_id, self.base = reader, act_id, base
        root = str(Path(__file__).resolve().parents[2])
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
        self.proc = subprocess.Popen(  # noqa: S603 (our own interpreter and module, a path as the argument)
            [sys.executable, "-m", "warehouse.services.importing", str(path), str(act_id), str(base)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            env=env,
        )
        self.problems: list[Problem] = []
        self.plan = _Plan()

    def _messages(self) -> Iterator[tuple[str, Any]]:
        """The child's messages, read ahead by a thread, up to READ_AHEAD chunks: the child never waits for
        the writer, and unpickling overlaps the database's work (the drivers release the GIL meanwhile)."""
        stdout = self.proc.stdout
        assert stdout is not None
        ahead: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=READ_AHEAD)
        stop = threading.Event()

        def pump() -> None:
            kind = "chunk"
            while kind == "chunk" and not stop.is_set():
                try:
                    kind, payload = pickle.load(stdout)  # noqa: S301 (our own child process)
                except (EOFError, pickle.UnpicklingError, OSError, ValueError):
                    kind, payload = "error", f"ended early (exit code {self.proc.wait()})"
                while not stop.is_set():
                    try:
                        ahead.put((kind, payload), timeout=0.1)
                        break
                    except queue.Full:
                        continue

        threading.Thread(target=pump, name="act-reader-pipe", daemon=True).start()
        try:
            while True:
                message = ahead.get()
                yield message
                if message[0] != "chunk":
                    return
        finally:
            stop.set()  # the writer gave up early: the pump ends when close() kills the child

    def __iter__(self) -> Iterator[_Chunk]:
        started = False
        for kind, payload in self._messages():
            if kind == "chunk":
                started = True
                yield payload
            elif kind == "end":
                self.problems, self.plan = payload
                return
            elif started:
                raise RuntimeError(f"act reader process failed: {payload}")
            else:
                log.warning("act reader process failed, reading in this process: %s", payload)
                inline = _InlineSource(self.reader, self.act_id, self.base)
                yield from inline
                self.problems, self.plan = inline.problems, inline.plan
                return

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()


@contextmanager
def _few_collections() -> Iterator[None]:
    """Collect the young generation every 20,000 new objects instead of 700 while an act is read.

    A million rows and lines are allocated and live on for a while, none in a reference cycle: at the
    default threshold the collector walks them thousands of times, about a sixth of the reading time.
    """
    threshold = gc.get_threshold()
    gc.set_threshold(20_000, *threshold[1:])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)


@contextmanager
def _line_source(
    path: Path, reader: transfer_act.ActReader, act_id: int, base: int
) -> Iterator[_InlineSource | _ProcessSource]:
    source: _InlineSource | _ProcessSource
    try:
        big = path.stat().st_size >= PARALLEL_MIN_BYTES
        source = _ProcessSource(path, reader, act_id, base) if big else _InlineSource(reader, act_id, base)
    except OSError:
        source = _InlineSource(reader, act_id, base)
    try:
        yield source
    finally:
        source.close()


def _read_in_child(path: str, act_id: int, base: int) -> None:
    """The reader process: pickled chunks of rows on stdout, then the reader's problems and the plan."""
    out = sys.stdout.buffer
    try:
        reader = transfer_act.read_act(path)
        gc.set_threshold(20_000)  # see _few_collections
        planner = _Planner(act_id, base)
        for chunk in planner.chunks(reader.lines()):
            pickle.dump(("chunk", chunk), out, protocol=pickle.HIGHEST_PROTOCOL)
        pickle.dump(("end", (reader.problems, planner.plan)), out, protocol=pickle.HIGHEST_PROTOCOL)
    except ActFormatError as e:  # the parent read the header already: only a changed file gets here
        pickle.dump(("end", (e.problems, _Plan())), out)
    except Exception:  # reported to the parent, which raises
        pickle.dump(("error", traceback.format_exc(limit=5)), out)
    out.flush()


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


def _level_rank_sql(column: str) -> str:
    whens = " ".join(f"WHEN '{level.value}' THEN {level.rank}" for level in Level)
    return f"CASE {column} {whens} ELSE {Level.PALLET.rank} END"  # anything else ranks as a pallet


def _check_tree(conn: Connection, act_id: int, loaded: _Loaded) -> list[Problem]:
    """What needs the whole file: unknown parents, levels in the wrong order, a packaging level skipped.

    Without parents named before they were declared, the load already saw every parent link and this is
    done in memory; otherwise the links are resolved and checked in SQL.
    """
    problems: list[Problem] = []
    if loaded.pending:
        conn.execute(
            text(
                "UPDATE act_codes SET parent_id = (SELECT p.id FROM import_pending ip JOIN act_codes p "
                "ON p.act_id = :a AND p.identity = ip.parent_identity WHERE ip.child_id = act_codes.id) "
                "WHERE id IN (SELECT child_id FROM import_pending)"
            ),
            {"a": act_id},
        )
        for location, parent in conn.execute(
            text(
                "SELECT ip.location, ip.parent_identity FROM import_pending ip JOIN act_codes c ON c.id = ip.child_id "
                "WHERE c.parent_id IS NULL ORDER BY ip.child_id LIMIT 1000"
            )
        ):
            problems.append(Problem(location, "unknown_parent", parent))
        # Ranks must fall from parent to child; this also rules out cycles (a cycle would need a rise).
        rank_p, rank_c = _level_rank_sql("p.level"), _level_rank_sql("c.level")  # constant SQL, no user input
        for location, child_level, parent_level in conn.execute(
            text(
                "SELECT ip.location, c.level, p.level FROM import_pending ip JOIN act_codes c ON c.id = ip.child_id "  # noqa: S608
                f"JOIN act_codes p ON p.id = c.parent_id WHERE {rank_p} <= {rank_c} ORDER BY ip.child_id LIMIT 1000"
            )
        ):
            problems.append(Problem(location, "level_order", f"{child_level} in {parent_level}"))
        conn.execute(text("DROP TABLE import_pending"))
    # A pack or block straight under a pallet, when the file has boxes, is a box that went missing from it.
    skips: list[tuple[str, tuple[str, ...]]] = []
    if Level.BOX in loaded.levels:
        skips.append((Level.PALLET, (Level.BLOCK, Level.PACK)))
    if Level.BLOCK in loaded.levels:
        skips.append((Level.BOX, (Level.PACK,)))
    for parent_level, child_levels in skips:
        if not loaded.pending:
            found = sorted(
                (item for child in child_levels for item in loaded.skipped[(parent_level, child)]),
                key=lambda item: item[0],
            )
            problems += [problem for _, problem in found[:_MAX_SKIPPED]]
            continue
        rows = conn.execute(
            text(
                "SELECT c.code, c.level, p.code FROM act_codes c JOIN act_codes p ON p.id = c.parent_id "
                "WHERE c.act_id = :a AND p.level = :pl AND c.level IN :cl ORDER BY c.id LIMIT 100"
            ).bindparams(_expanding("cl")),
            {"a": act_id, "pl": parent_level, "cl": list(child_levels)},
        )
        for code, level, parent_code in rows:
            problems.append(Problem(code, "level_skipped", f"{level} in {parent_level} {parent_code}"))
    return problems


def _expanding(name: str) -> Any:
    from sqlalchemy import bindparam

    return bindparam(name, expanding=True)


def number_tree(conn: Connection, act_id: int) -> None:
    """Give every code its preorder interval [pos, last] so a subtree is one index range.

    Works for files in any order: sizes bottom-up by level, then positions top-down, with window sums
    over siblings. `last` first holds the subtree size, then becomes pos + size.
    """
    p = {"a": act_id}
    conn.execute(text("UPDATE act_codes SET last = 0 WHERE act_id = :a"), p)
    for level in (Level.BLOCK, Level.BOX, Level.PALLET):  # bottom-up
        conn.execute(
            text(
                "UPDATE act_codes SET last = coalesce((SELECT sum(c.last + 1) FROM act_codes c "
                "WHERE c.parent_id = act_codes.id), 0) WHERE act_id = :a AND level = :l"
            ),
            {**p, "l": level},
        )
    conn.execute(
        text(
            "UPDATE act_codes SET pos = w.pos FROM (SELECT id, sum(last + 1) OVER (ORDER BY id) - (last + 1) AS pos "
            "FROM act_codes WHERE act_id = :a AND parent_id IS NULL) w WHERE act_codes.id = w.id"
        ),
        p,
    )
    for level in (Level.PALLET, Level.BOX, Level.BLOCK):  # top-down
        conn.execute(
            text(
                "UPDATE act_codes SET pos = w.pos FROM (SELECT c.id, p.pos + 1 + sum(c.last + 1) OVER "
                "(PARTITION BY c.parent_id ORDER BY c.id) - (c.last + 1) AS pos FROM act_codes c "
                "JOIN act_codes p ON p.id = c.parent_id WHERE c.act_id = :a AND p.level = :l) w "
                "WHERE act_codes.id = w.id"
            ),
            {**p, "l": level},
        )
    conn.execute(text("UPDATE act_codes SET last = pos + last WHERE act_id = :a"), p)


if __name__ == "__main__":
    # Through the package, not __main__: the parent unpickles the chunks as warehouse.services.importing's.
    from warehouse.services.importing import _read_in_child as read_in_child

    read_in_child(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
