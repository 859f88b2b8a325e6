"""Importing an act file into the database: all or nothing, streaming, every problem reported.

The pure reader (`warehouse.acts`) checks each line as it streams by; what needs the whole file
(duplicates, parents declared later, levels that skip a packaging level) is checked here in SQL on the
rows already written inside the same transaction. Any problem rolls the whole import back.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from warehouse import acts
from warehouse.acts import ActFormatError, ActLine, Level, Problem
from warehouse.db import Database
from warehouse.models import Act, ActCode, ActStatus, Direction, Mode, User
from warehouse.services import audit

CHUNK = 20_000
RANK = {Level.PACK: 0, Level.BLOCK: 1, Level.BOX: 2, Level.PALLET: 3}
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
        reader = acts.read_act(path)
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
        try:
            loaded = _load_lines(s, act.id, reader.lines(), progress)
        except ActFormatError as e:
            raise ActImportError(e.problems) from e
        problems = list(reader.problems) + loaded.problems
        conn = s.connection()
        problems += _check_tree(conn, act.id, loaded.pending)
        if problems:
            raise ActImportError(problems)
        number_tree(conn, act.id)
        conn.execute(
            text(
                "INSERT INTO act_counters (act_id, level, gtin, expected, credited) "
                "SELECT act_id, level, coalesce(gtin, ''), count(*), 0 FROM act_codes WHERE act_id = :a "
                "GROUP BY act_id, level, coalesce(gtin, '')"
            ),
            {"a": act.id},
        )
        audit.record(s, "act.imported", user=user, act_id=act.id,
                     details={"file": path.name, "sha256": sha, "codes": loaded.count, "number": header.number})
        return ImportResult(act.id, act.number, loaded.count)


@dataclass
class _Loaded:
    count: int
    problems: list[Problem]
    pending: bool  # some children named a parent that came later in the file


def _id_allocator(conn: Connection) -> Callable[[int], Iterator[int]]:
    """Ids are assigned here so a child can point at its parent without a lookup per row."""
    if conn.dialect.name == "postgresql":
        def allocate_pg(n: int) -> Iterator[int]:
            rows = conn.execute(
                text("SELECT nextval(pg_get_serial_sequence('act_codes', 'id')) FROM generate_series(1, :n)"),
                {"n": n},
            )
            return (int(r[0]) for r in rows)

        return allocate_pg
    # SQLite: this transaction holds the write lock (BEGIN IMMEDIATE), so max(id) cannot move under us.
    state = {"next": int(conn.execute(text("SELECT coalesce(max(id), 0) + 1 FROM act_codes")).scalar_one())}

    def allocate_sqlite(n: int) -> Iterator[int]:
        start = state["next"]
        state["next"] += n
        return iter(range(start, start + n))

    return allocate_sqlite


def _insert(conn: Connection, rows: list[dict[str, Any]]) -> None:
    table = ActCode.__table__
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    conn.execute(dialect.insert(table).on_conflict_do_nothing(), rows)


def _load_lines(s: Session, act_id: int, lines: Iterator[ActLine], progress: Progress | None) -> _Loaded:
    conn = s.connection()
    allocate = _id_allocator(conn)
    parents: dict[str, tuple[int, Level]] = {}  # aggregates only: packs are never parents
    problems: list[Problem] = []
    pending: list[dict[str, Any]] = []
    have_pending = False
    count = 0
    chunk: list[tuple[ActLine, dict[str, Any]]] = []

    def flush() -> None:
        nonlocal have_pending
        if not chunk:
            return
        ids = allocate(len(chunk))
        rows = []
        for (line, row), new_id in zip(chunk, ids, strict=False):
            row["id"] = new_id
            rows.append(row)
            if line.level != Level.PACK:
                parents.setdefault(line.identity, (new_id, line.level))
            if line.parent_code is not None:
                parent = parents.get(line.parent_code)
                if parent is None:
                    pending.append({"child_id": new_id, "parent_identity": line.parent_code,
                                    "location": line.location})
                else:
                    row["parent_id"] = parent[0]
                    if RANK[parent[1]] <= RANK[line.level]:
                        problems.append(Problem(line.location, "level_order", f"{line.level} in {parent[1]}"))
        _insert(conn, rows)
        lo, hi = rows[0]["id"], rows[-1]["id"]
        stored = conn.execute(
            text("SELECT count(*) FROM act_codes WHERE act_id = :a AND id BETWEEN :lo AND :hi"),
            {"a": act_id, "lo": lo, "hi": hi},
        ).scalar_one()
        if stored != len(rows):
            kept = set(conn.execute(
                text("SELECT id FROM act_codes WHERE act_id = :a AND id BETWEEN :lo AND :hi"),
                {"a": act_id, "lo": lo, "hi": hi},
            ).scalars())
            for (line, row) in chunk:
                if row["id"] not in kept:
                    problems.append(Problem(line.location, "duplicate_code", line.code))
        if pending:
            if not have_pending:
                conn.execute(text("CREATE TEMPORARY TABLE import_pending "
                                  "(child_id BIGINT PRIMARY KEY, parent_identity VARCHAR(100), location VARCHAR(200))"))
                have_pending = True
            conn.execute(text("INSERT INTO import_pending VALUES (:child_id, :parent_identity, :location)"), pending)
            pending.clear()
        chunk.clear()

    for line in lines:
        chunk.append((line, {
            "act_id": act_id, "parent_id": None, "identity": line.identity, "code": line.code,
            "level": line.level.value, "gtin": line.gtin, "name": line.name, "price": line.price,
            "vat": line.vat, "declared_children": line.declared_children, "credited_scan_id": None,
            "pos": None, "last": None,
        }))
        count += 1
        if len(chunk) >= CHUNK:
            flush()
            if progress:
                progress(count)
    flush()
    if progress:
        progress(count)
    return _Loaded(count, problems, have_pending)


def _level_rank_sql(column: str) -> str:
    return f"CASE {column} WHEN 'pack' THEN 0 WHEN 'block' THEN 1 WHEN 'box' THEN 2 ELSE 3 END"


def _check_tree(conn: Connection, act_id: int, pending: bool) -> list[Problem]:
    problems: list[Problem] = []
    if pending:
        conn.execute(text(
            "UPDATE act_codes SET parent_id = (SELECT p.id FROM import_pending ip JOIN act_codes p "
            "ON p.act_id = :a AND p.identity = ip.parent_identity WHERE ip.child_id = act_codes.id) "
            "WHERE id IN (SELECT child_id FROM import_pending)"), {"a": act_id})
        for location, parent in conn.execute(text(
            "SELECT ip.location, ip.parent_identity FROM import_pending ip JOIN act_codes c ON c.id = ip.child_id "
            "WHERE c.parent_id IS NULL ORDER BY ip.child_id LIMIT 1000")):
            problems.append(Problem(location, "unknown_parent", parent))
        # Ranks must fall from parent to child; this also rules out cycles (a cycle would need a rise).
        rank_p, rank_c = _level_rank_sql("p.level"), _level_rank_sql("c.level")  # constant SQL, no user input
        for location, child_level, parent_level in conn.execute(text(
            "SELECT ip.location, c.level, p.level FROM import_pending ip JOIN act_codes c ON c.id = ip.child_id "  # noqa: S608
            f"JOIN act_codes p ON p.id = c.parent_id WHERE {rank_p} <= {rank_c} ORDER BY ip.child_id LIMIT 1000")):
            problems.append(Problem(location, "level_order", f"{child_level} in {parent_level}"))
        conn.execute(text("DROP TABLE import_pending"))
    levels = set(conn.execute(text("SELECT DISTINCT level FROM act_codes WHERE act_id = :a"), {"a": act_id}).scalars())
    # A pack or block straight under a pallet, when the file has boxes, is a box that went missing from it.
    skips: list[tuple[str, tuple[str, ...]]] = []
    if "box" in levels:
        skips.append(("pallet", ("block", "pack")))
    if "block" in levels:
        skips.append(("box", ("pack",)))
    for parent_level, child_levels in skips:
        rows = conn.execute(text(
            "SELECT c.code, c.level, p.code FROM act_codes c JOIN act_codes p ON p.id = c.parent_id "
            "WHERE c.act_id = :a AND p.level = :pl AND c.level IN :cl ORDER BY c.id LIMIT 100"
        ).bindparams(_expanding("cl")), {"a": act_id, "pl": parent_level, "cl": list(child_levels)})
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
    for level in ("block", "box", "pallet"):
        conn.execute(text(
            "UPDATE act_codes SET last = coalesce((SELECT sum(c.last + 1) FROM act_codes c "
            "WHERE c.parent_id = act_codes.id), 0) WHERE act_id = :a AND level = :l"), {**p, "l": level})
    conn.execute(text(
        "UPDATE act_codes SET pos = w.pos FROM (SELECT id, sum(last + 1) OVER (ORDER BY id) - (last + 1) AS pos "
        "FROM act_codes WHERE act_id = :a AND parent_id IS NULL) w WHERE act_codes.id = w.id"), p)
    for level in ("pallet", "box", "block"):
        conn.execute(text(
            "UPDATE act_codes SET pos = w.pos FROM (SELECT c.id, p.pos + 1 + sum(c.last + 1) OVER "
            "(PARTITION BY c.parent_id ORDER BY c.id) - (c.last + 1) AS pos FROM act_codes c "
            "JOIN act_codes p ON p.id = c.parent_id WHERE c.act_id = :a AND p.level = :l) w "
            "WHERE act_codes.id = w.id"), {**p, "l": level})
    conn.execute(text("UPDATE act_codes SET last = pos + last WHERE act_id = :a"), p)
