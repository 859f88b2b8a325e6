"""`warehouse backup` while scanning goes on, and `warehouse restore`, which checks before it replaces.

Real SQLite files, the real receiving service in a thread, the real command line; a second process holds
the database open where "the station is running" is the point.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from tests.conftest import make_app
from tests.factories import ActFactory
from tests.pg import Cluster
from warehouse.cli.backup import backup_cmd, restore_cmd
from warehouse.db import Database, get_db
from warehouse.models import ActCode, ActCounter, AuditEntry, Scan
from warehouse.services import audit, importing, receiving


def _scan_count(db: Database) -> int:
    with db.read() as s:
        return int(s.execute(select(func.count()).select_from(Scan)).scalar_one())


def _audit_head(db: Database) -> tuple[int, str]:
    with db.read() as s:
        row = s.execute(select(AuditEntry.id, AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)).one()
    return int(row[0]), str(row[1])


def _counters_are_the_codes(path: Path) -> None:
    """Per act, level and GTIN, the credited counter is the number of credited codes: one snapshot."""
    db = Database(f"sqlite:///{path}")
    try:
        with db.read() as s:
            counted = {
                (a, str(lvl), g): n
                for a, lvl, g, n in s.execute(
                    select(ActCounter.act_id, ActCounter.level, ActCounter.gtin, ActCounter.credited)
                )
                if n
            }
            credited = {
                (a, str(lvl), g or ""): n
                for a, lvl, g, n in s.execute(
                    select(ActCode.act_id, ActCode.level, ActCode.gtin, func.count())
                    .where(ActCode.credited_scan_id.is_not(None))
                    .group_by(ActCode.act_id, ActCode.level, ActCode.gtin)
                )
            }
            assert counted == credited and credited
            assert audit.verify(s).ok
    finally:
        db.dispose()


@pytest.fixture
def station(sqlite_app: Flask, tmp_path: Path) -> tuple[Flask, int, ActFactory]:
    factory = ActFactory(pallets=2, boxes=5, blocks=10, packs=10)  # 1,000 packs to scan one by one
    act_id = importing.import_act(get_db(sqlite_app), factory.write(tmp_path / "act.json")).act_id
    return sqlite_app, act_id, factory


def test_a_backup_while_scanning_is_consistent_and_restores(
    station: tuple[Flask, int, ActFactory], tmp_path: Path
) -> None:
    app, act_id, factory = station
    db = get_db(app)
    stop = threading.Event()
    waits: list[float] = []
    failures: list[BaseException] = []

    def scan() -> None:
        try:
            for n, code in enumerate(factory.codes["pack"]):
                if stop.is_set():
                    return
                began = time.perf_counter()
                entry = receiving.ScanInput(raw=code, source="api", station="dock-1", client_scan_id=f"t:{n}")
                receiving.record_scan(db, act_id, entry)
                waits.append(time.perf_counter() - began)
        except BaseException as exc:  # the test reports it
            failures.append(exc)

    scanner = threading.Thread(target=scan)
    scanner.start()
    try:
        while len(waits) < 50 and scanner.is_alive():
            time.sleep(0.01)
        before = _scan_count(db)
        during = len(waits)
        out = tmp_path / "backups" / "copy.sqlite3"
        result = app.test_cli_runner().invoke(backup_cmd, [str(out), "--json"])
        after = _scan_count(db)
        while len(waits) < during + 50 and scanner.is_alive():  # scanning goes on after the backup as well
            time.sleep(0.01)
    finally:
        stop.set()
        scanner.join()
    assert not failures and result.exit_code == 0, (failures, result.output)
    made = json.loads(result.output)
    assert before <= made["scans"] <= after and after > before  # a snapshot of one moment amid the scans
    assert len(waits) >= during + 50 and max(waits) < 2.0  # nobody waited on the copy (busy timeout is 30 s)
    assert out.stat().st_mode & 0o777 == 0o600 and not Path(f"{out}-wal").exists()
    _counters_are_the_codes(out)

    # a new PC: an empty station restores the copy and holds exactly what it holds
    fresh = make_app(f"sqlite:///{tmp_path / 'new' / 'warehouse.sqlite3'}", tmp_path / "new")
    try:
        restored = fresh.test_cli_runner().invoke(restore_cmd, [str(out), "--json"])
        assert restored.exit_code == 0, restored.output
        assert json.loads(restored.output)["scans"] == made["scans"]
        assert _scan_count(get_db(fresh)) == made["scans"]
        with get_db(fresh).read() as s:
            assert audit.verify(s).ok
    finally:
        get_db(fresh).dispose()


def _backup(app: Flask, out: Path) -> Path:
    result = app.test_cli_runner().invoke(backup_cmd, [str(out)])
    assert result.exit_code == 0, result.output
    assert "the chain verifies" in result.output
    return out


def _refused(app: Flask, file: Path, expect: str) -> None:
    """`warehouse restore FILE` refuses, saying `expect`, and changes nothing."""
    db = get_db(app)
    folder = Path(db.engine.url.database or "").parent
    before = (_scan_count(db), _audit_head(db), sorted(p.name for p in folder.iterdir()))
    content = file.read_bytes()
    result = app.test_cli_runner().invoke(restore_cmd, [str(file)])
    assert result.exit_code == 1 and expect in result.output, result.output
    assert len(result.output.strip().splitlines()) == 1
    after = (_scan_count(db), _audit_head(db), sorted(p.name for p in folder.iterdir()))
    assert after == before and file.read_bytes() == content


def test_restore_refuses_a_damaged_file(station: tuple[Flask, int, ActFactory], tmp_path: Path) -> None:
    app, act_id, factory = station
    receiving.record_scan(get_db(app), act_id, receiving.ScanInput(raw=factory.codes["box"][0]))
    bad = _backup(app, tmp_path / "bad.sqlite3")
    with bad.open("r+b") as f:  # a disk that returns garbage: the start of every page after the schema
        size = bad.stat().st_size
        for page in range(2, size // 4096):
            f.seek(page * 4096 + 100)
            f.write(b"\xa5" * 64)
    _refused(app, bad, "is damaged")
    not_a_db = tmp_path / "notes.sqlite3"
    not_a_db.write_text("not a database", encoding="utf-8")
    _refused(app, not_a_db, "is not a station database")


def test_restore_refuses_a_file_whose_audit_trail_was_altered(
    station: tuple[Flask, int, ActFactory], tmp_path: Path
) -> None:
    app, act_id, _ = station
    receiving.close_act(get_db(app), act_id, actor="staff")
    altered = _backup(app, tmp_path / "altered.sqlite3")
    conn = sqlite3.connect(altered, isolation_level=None)
    # the triggers refuse edits; whoever has the file can drop them, but cannot make the chain agree again
    for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_log'"):
        conn.execute(f'DROP TRIGGER "{name}"')
    entry = conn.execute("SELECT id FROM audit_log WHERE action = 'act.closed'").fetchone()[0]
    conn.execute("UPDATE audit_log SET actor = 'someone else' WHERE id = ?", (entry,))
    conn.close()
    _refused(app, altered, f"the audit trail is broken at entry {entry}")


def test_restore_refuses_a_schema_it_does_not_know(station: tuple[Flask, int, ActFactory], tmp_path: Path) -> None:
    app, _, _ = station
    newer = _backup(app, tmp_path / "newer.sqlite3")
    conn = sqlite3.connect(newer, isolation_level=None)
    conn.execute("UPDATE alembic_version SET version_num = '0099'")
    conn.close()
    _refused(app, newer, "(0099)")


@pytest.fixture
def running_station(station: tuple[Flask, int, ActFactory]) -> Iterator[subprocess.Popen[str]]:
    """Another process with the station's database open, as `warehouse run` keeps it."""
    path = get_db(station[0]).engine.url.database
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute('select count(*) from scans');"
            " print('open', flush=True); sys.stdin.read()",
            str(path),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline() == "open\n"
    yield holder
    holder.communicate("")


def test_restore_refuses_while_the_station_runs_and_keeps_the_replaced_database(
    station: tuple[Flask, int, ActFactory], running_station: subprocess.Popen[str], tmp_path: Path
) -> None:
    app, act_id, factory = station
    db = get_db(app)
    good = _backup(app, tmp_path / "good.sqlite3")
    receiving.record_scan(db, act_id, receiving.ScanInput(raw=factory.codes["box"][0]))  # after the backup
    _refused(app, good, f"open in another program (pid {running_station.pid})")

    running_station.communicate("")  # the station stops
    result = app.test_cli_runner().invoke(restore_cmd, [str(good), "--json"])
    assert result.exit_code == 0, result.output
    kept = Path(json.loads(result.output)["replaced"])
    assert _scan_count(db) == 0  # the backup's state, taken before the box was scanned
    old = Database(f"sqlite:///{kept}")
    try:
        assert _scan_count(old) == 1 and kept.stat().st_mode & 0o777 == 0o600  # nothing is lost by a restore
    finally:
        old.dispose()


@pytest.mark.postgres
def test_on_postgresql_the_commands_say_what_to_use(pg_cluster: Cluster, tmp_path: Path) -> None:
    app = make_app(pg_cluster.new_database(), tmp_path)
    try:
        result = app.test_cli_runner().invoke(backup_cmd, [str(tmp_path / "station.dump")])
        assert result.exit_code == 1 and "pg_dump --format=custom" in result.output, result.output
        assert f"--file {tmp_path / 'station.dump'}" in result.output and "docs/backup.md" in result.output
        url = get_db(app).engine.url
        assert url.password is None or url.password not in result.output
        result = app.test_cli_runner().invoke(restore_cmd, [str(tmp_path / "station.dump")])
        assert result.exit_code == 1 and "pg_restore --clean" in result.output, result.output
        assert not (tmp_path / "station.dump").exists()
    finally:
        get_db(app).dispose()
