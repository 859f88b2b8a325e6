"""The running station's own backups: on a schedule, soon after every signed decision, rotated.

Real SQLite files and the real backup; a signed decision is a `signed_documents` row, as signing stores it
(which key signed it does not matter to the schedule).
"""

from __future__ import annotations

import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask

from tests.factories import ActFactory
from warehouse.db import Database, get_db
from warehouse.models import SignedDocument
from warehouse.services import importing
from warehouse.services.backup_schedule import (
    RETRY_AFTER,
    BackupPlan,
    BackupScheduler,
    backups_in,
    rotate,
    start_backups,
)

T0 = datetime(2026, 12, 3, 6, 0, tzinfo=UTC)


def _act(app: Flask, tmp_path: Path) -> int:
    return importing.import_act(get_db(app), ActFactory(number="ТА-77").write(tmp_path / "act.json")).act_id


def _sign(db: Database, act_id: int, at: datetime) -> int:
    with db.write() as s:
        doc = SignedDocument(
            act_id=act_id,
            kind="acceptance",
            content=b"{}",
            signature=b"cms",
            certificate=b"der",
            signer="ИВАНОВ ИВАН",
            cert_sha256="0" * 64,
            created_at=at,
        )
        s.add(doc)
        s.flush()
        return doc.id


def _documents_in(backup: Path) -> int:
    with sqlite3.connect(backup) as conn:
        return int(conn.execute("SELECT count(*) FROM signed_documents").fetchone()[0])


def test_a_backup_at_start_then_hourly_then_after_each_decision(sqlite_app: Flask, tmp_path: Path) -> None:
    db = get_db(sqlite_app)
    act_id = _act(sqlite_app, tmp_path)
    plan = BackupPlan(tmp_path / "backups", every=timedelta(hours=1), keep=10)
    schedule = BackupScheduler(db, plan)
    first = schedule.run_once(T0)
    assert first is not None and first.why == "start" and first.check.acts == 1
    assert schedule.run_once(T0 + timedelta(minutes=30)) is None  # nothing signed, not an hour yet
    hourly = schedule.run_once(T0 + timedelta(minutes=61))
    assert hourly is not None and hourly.why == "scheduled"
    _sign(db, act_id, T0 + timedelta(minutes=62))
    after = schedule.run_once(T0 + timedelta(minutes=62, seconds=30))
    assert after is not None and after.why == "decision" and _documents_in(after.check.path) == 1
    assert schedule.run_once(T0 + timedelta(minutes=63)) is None  # that decision is in a backup now
    assert [p.name for _, p in backups_in(plan.folder)] == [
        "warehouse-20261203T060000Z-start.sqlite3",
        "warehouse-20261203T070100Z-scheduled.sqlite3",
        "warehouse-20261203T070230Z-decision.sqlite3",
    ]
    assert all((p.stat().st_mode & 0o077) == 0 for _, p in backups_in(plan.folder))  # owner only


def test_rotation_keeps_the_newest_and_never_touches_other_files(sqlite_app: Flask, tmp_path: Path) -> None:
    db = get_db(sqlite_app)
    plan = BackupPlan(tmp_path / "backups", every=timedelta(minutes=10), keep=2)
    plan.folder.mkdir()
    (plan.folder / "notes.txt").write_text("the USB stick of the night shift")
    (plan.folder / "warehouse-by-hand.sqlite3").write_bytes(b"someone's own copy")
    (plan.folder / "warehouse-20261203T050000Z-scheduled.sqlite3.part").write_bytes(b"killed half-way")
    schedule = BackupScheduler(db, plan)
    made = [schedule.run_once(T0 + timedelta(minutes=10 * i)) for i in range(4)]
    assert all(m is not None for m in made)
    assert [p for _, p in backups_in(plan.folder)] == [m.check.path for m in made[-2:] if m is not None]
    assert sorted(p.name for p in plan.folder.iterdir()) == sorted(
        ["notes.txt", "warehouse-by-hand.sqlite3", made[2].check.path.name, made[3].check.path.name]  # type: ignore[union-attr]
    )
    assert rotate(plan.folder, 2) == ()


def test_a_restarted_station_backs_up_a_decision_no_backup_holds(sqlite_app: Flask, tmp_path: Path) -> None:
    db = get_db(sqlite_app)
    act_id = _act(sqlite_app, tmp_path)
    plan = BackupPlan(tmp_path / "backups", every=timedelta(hours=1), keep=10)
    assert BackupScheduler(db, plan).run_once(T0) is not None
    # the station restarts a minute later: the newest backup holds everything, nothing is due
    assert BackupScheduler(db, plan).run_once(T0 + timedelta(minutes=1)) is None
    # a decision signed while the station was down (`warehouse sign`), then a restart: backed up at once
    _sign(db, act_id, T0 + timedelta(minutes=2))
    made = BackupScheduler(db, plan).run_once(T0 + timedelta(minutes=3))
    assert made is not None and made.why == "decision" and _documents_in(made.check.path) == 1


def test_a_failed_backup_is_logged_and_tried_again_later(
    sqlite_app: Flask, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = get_db(sqlite_app)
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the backup folder should be (a USB stick not mounted)")
    schedule = BackupScheduler(db, BackupPlan(blocked, every=timedelta(hours=1), keep=3))
    assert schedule.run_once(T0) is None and schedule.failures == 1
    assert "backup into" in caplog.text and "failed" in caplog.text
    assert schedule.run_once(T0 + RETRY_AFTER / 2) is None and schedule.failures == 1  # not hammered
    blocked.unlink()
    made = schedule.run_once(T0 + RETRY_AFTER)
    assert made is not None and made.check.path.parent == blocked


def test_the_running_schedule_backs_up_soon_after_a_decision(sqlite_app: Flask, tmp_path: Path) -> None:
    db = get_db(sqlite_app)
    act_id = _act(sqlite_app, tmp_path)
    folder = tmp_path / "station-backups"
    config = {"BACKUP_DIR": str(folder), "BACKUP_EVERY_MINUTES": 0, "BACKUP_KEEP": 5, "BACKUP_POLL_SECONDS": 0.05}
    schedule = start_backups(db, config, tmp_path)
    assert schedule is not None
    try:
        time.sleep(0.3)
        assert backups_in(folder) == []  # no interval and nothing signed: nothing to do
        _sign(db, act_id, datetime.now(UTC))
        deadline = time.monotonic() + 10
        while not backups_in(folder) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        schedule.stop()
    (_, path), *more = backups_in(folder)
    assert not more and path.name.endswith("-decision.sqlite3") and _documents_in(path) == 1


def test_switched_off_or_on_a_server_there_is_no_schedule(sqlite_app: Flask, tmp_path: Path) -> None:
    assert start_backups(get_db(sqlite_app), {"BACKUP_DIR": "off"}, tmp_path) is None
    assert BackupPlan.from_config({}, tmp_path) == BackupPlan(tmp_path / "backups", timedelta(hours=1), 48)
