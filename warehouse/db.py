"""Engines and transactions for SQLite (WAL) and PostgreSQL.

Services own transactions: they call `Database.write()` for a unit of work that changes data and
`Database.read()` for one that only reads. On SQLite a write transaction starts with BEGIN IMMEDIATE,
so two stations never both read, then fail to upgrade to a write lock and lose a scan to SQLITE_BUSY:
the second waits (busy timeout) and then sees the first one's commit.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

if TYPE_CHECKING:
    from flask import Flask

BUSY_TIMEOUT_MS = 30_000
RETRY_S = 0.0005  # how often a writer tries again for SQLite's write lock (see _begin_immediate)
DatabaseUnavailable = OperationalError  # unreachable, or locked past its timeout: a request answers 503


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy's begin event issue BEGIN itself (pysqlite's own handling is not transactional DDL).
    dbapi_connection.isolation_level = None
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    # FULL, not NORMAL: in WAL mode NORMAL may lose the last commits on power loss, and an
    # acknowledged scan must survive a power cut.
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cur.close()


def _sqlite_on_begin(conn: Connection) -> None:
    immediate = conn.get_execution_options().get("warehouse_write", False)
    if immediate:
        _begin_immediate(conn)
    else:
        conn.exec_driver_sql("BEGIN")


def _begin_immediate(conn: Connection) -> None:
    """BEGIN IMMEDIATE, retried every half millisecond while another connection writes.

    SQLite's own busy handler sleeps ever longer (up to 100 ms between tries), so a scan waiting behind an
    import that writes in short steps would keep missing the gaps between them and wait for seconds;
    trying this often, a waiting writer takes the lock in the first gap. Past the busy timeout the last
    try is made as before and fails with "database is locked".
    """
    raw: Any = conn.connection.driver_connection
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    raw.execute("PRAGMA busy_timeout = 0")
    try:
        while time.monotonic() < deadline:
            try:
                raw.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as e:
                if e.sqlite_errorcode != sqlite3.SQLITE_BUSY:
                    raise
            time.sleep(RETRY_S)
    finally:
        raw.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def owner_only(database: Path) -> None:
    """Create the SQLite file readable and writable by its owner only, or take group and others' rights
    from one made before: the journal names people and what they did. SQLite gives its -wal and -shm the
    database file's mode, so they follow."""
    database.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    for suffix in ("", "-wal", "-shm", "-journal"):
        file = database.with_name(database.name + suffix)
        with contextlib.suppress(FileNotFoundError, PermissionError):  # another user's file: theirs to guard
            if file.stat().st_mode & 0o077:
                file.chmod(0o600)


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        name = make_url(url).database
        if name and name != ":memory:" and not name.startswith("file:"):
            owner_only(Path(name))
        engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000}, **kwargs)
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


class Database:
    """The application's engine and its session factories."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        self.write_engine = self.engine.execution_options(warehouse_write=True)
        self._read = sessionmaker(self.engine, expire_on_commit=False)
        self._write = sessionmaker(self.write_engine, expire_on_commit=False)
        # Committed stations by name. Stations are never renamed or deleted, so a scan need not ask again
        # (on PostgreSQL every statement of a scan is a round trip).
        self.station_ids: dict[str, int] = {}

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One write transaction: commits on success, rolls back on any exception."""
        with self._write() as session, session.begin():
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._read() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()


def get_db(app: Flask | None = None) -> Database:
    """The station's database, as the app factory registered it (the web layer and the CLI use this)."""
    from flask import current_app  # only the edges call this; the services get a Database passed in

    db: Database = (app or current_app).extensions["warehouse.db"]
    return db
