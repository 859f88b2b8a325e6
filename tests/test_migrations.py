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
