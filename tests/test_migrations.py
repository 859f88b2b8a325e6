"""Migrations: empty to head on SQLite and PostgreSQL, models equal to head, the audit log append-only."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import DatabaseError

from tests.pg import Cluster
from warehouse import migrate
from warehouse.db import Database
from warehouse.models import Base


def test_upgrade_from_empty_to_head_matches_the_models(db_url: str) -> None:
    db = Database(db_url)
    assert migrate.current_revision(db.engine) is None
    migrate.upgrade(db.engine)
    assert migrate.current_revision(db.engine) == migrate.head_revision(db.engine)
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
        tables = set(inspect(conn).get_table_names())
    assert diff == [], f"models and migrations disagree: {diff}"
    assert {"users", "acts", "act_codes", "scans", "audit_log", "signed_documents"} <= tables
    db.dispose()


def test_downgrade_to_empty_and_back(db_url: str) -> None:
    db = Database(db_url)
    migrate.upgrade(db.engine)
    migrate.upgrade(db.engine, "head")  # idempotent
    from alembic import command

    command.downgrade(migrate.alembic_config(db.engine), "base")
    with db.engine.connect() as conn:
        assert set(inspect(conn).get_table_names()) <= {"alembic_version"}
    migrate.upgrade(db.engine)
    assert migrate.current_revision(db.engine) == migrate.head_revision(db.engine)
    db.dispose()


@pytest.mark.parametrize("statement", ["UPDATE audit_log SET action = 'x'", "DELETE FROM audit_log"])
def test_the_database_refuses_to_rewrite_the_audit_log(db_url: str, statement: str) -> None:
    from warehouse.services import audit

    db = Database(db_url)
    migrate.upgrade(db.engine)
    with db.write() as s:
        audit.record(s, "test.entry", actor="tester")
    with pytest.raises(DatabaseError, match="append-only"), db.write() as s:
        s.execute(text(statement))
    with db.read() as s:
        assert s.execute(text("SELECT action FROM audit_log")).scalars().all() == ["test.entry"]
    db.dispose()


@pytest.mark.postgres
def test_act_codes_leave_room_for_in_page_updates_on_postgresql(pg_cluster: Cluster) -> None:
    db = Database(pg_cluster.new_database())
    migrate.upgrade(db.engine)
    with db.engine.connect() as conn:
        options = conn.exec_driver_sql("SELECT reloptions FROM pg_class WHERE relname = 'act_codes'").scalar()
    assert options is not None and "fillfactor=50" in options
    db.dispose()


def test_0011_keeps_old_tokens_working_for_a_year_and_puts_open_sessions_at_their_station(db_url: str) -> None:
    """Tokens issued before 0011 keep importing and reading (a terminal in use must not stop at the upgrade)
    and expire in 365 days; a session being received gets the station of its first stationed scan."""
    from datetime import timedelta

    from warehouse.models import ReceivingSession, Scanner
    from warehouse.timeutil import utcnow

    db = Database(db_url)
    migrate.upgrade(db.engine, "0009")
    now = "2026-12-01 10:00:00"
    with db.engine.begin() as conn:
        for sql in (
            f"INSERT INTO stations (id, name, created_at) VALUES (1, 'dock-1', '{now}')",
            "INSERT INTO scanners (id, device_key, kind, name, registered_at, token_digest, station_id)"
            f" VALUES (1, 'api:TSD-07', 'api', 'TSD-07', '{now}', '{'ab' * 32}', 1)",
            "INSERT INTO scanners (id, device_key, kind, name, registered_at)"
            f" VALUES (2, 'serial:x', 'serial', 'x', '{now}')",
            "INSERT INTO acts (id, direction, number, date, sender_name, sender_bin, receiver_name, receiver_bin,"
            " basis, status, mode, created_at) VALUES (1, 'incoming', 'A-1', '2026-12-01', 's', '123456789012',"
            f" 'r', '123456789012', '[]', 'receiving', 'trusted', '{now}')",
            f"INSERT INTO receiving_sessions (id, act_id, mode, started_at) VALUES (1, 1, 'trusted', '{now}')",
            "INSERT INTO scans (id, session_id, act_id, station_id, source, raw, kind, scan_class, credited,"
            " created_at)"
            f" VALUES (1, 1, 1, NULL, 'cli', 'x', 'invalid', 'invalid', 0, '{now}'),"
            f" (2, 1, 1, 1, 'browser', 'y', 'invalid', 'invalid', 0, '{now}')",
        ):
            conn.execute(text(sql))
    migrate.upgrade(db.engine)
    with db.read() as s:
        handheld, reader = s.get(Scanner, 1), s.get(Scanner, 2)
        assert handheld is not None and reader is not None
        assert handheld.may_import and handheld.may_read and handheld.token_revoked_at is None
        assert handheld.token_expires_at is not None
        assert abs(handheld.token_expires_at - (utcnow() + timedelta(days=365))) < timedelta(minutes=5)
        assert not reader.may_import and reader.token_expires_at is None
        session = s.get(ReceivingSession, 1)
        assert session is not None and session.station_id == 1
    db.dispose()
