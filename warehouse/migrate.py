"""Schema upgrades through Alembic, run on start and by `warehouse db upgrade`.

Many stations share one PostgreSQL and start at once (the morning, a power cut): each upgrade holds a
transaction-level advisory lock, so one station upgrades while the others wait, then find the schema at head
and do nothing. PostgreSQL's DDL is transactional, so a station killed mid-upgrade leaves the old schema
and frees the lock. SQLite needs no lock: the upgrade's first write takes the database's write lock.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text

MIGRATIONS = Path(__file__).parent / "migrations"
UPGRADE_LOCK = 0x57480001  # pg_advisory_xact_lock's key: "WH" and 1, one per warehouse database


def hold_upgrade_lock(conn: Connection) -> None:
    """Wait for, then hold until `conn`'s transaction ends, the database's upgrade lock (PostgreSQL only)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": UPGRADE_LOCK})


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    command.upgrade(alembic_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision(engine: Engine) -> str | None:
    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()


def revision(engine: Engine, message: str) -> None:
    """Autogenerate a new revision from the models (for developers)."""
    command.revision(alembic_config(engine), message=message, autogenerate=True)
