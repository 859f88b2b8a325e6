"""device tokens get a scope (import, read) and a life (expiry, revocation); receiving sessions their station

A token issued before this revision keeps what it could do (import and read: a terminal in use must not stop
at the upgrade) and expires 365 days after it; `warehouse devices list` shows it, a re-issue narrows it. The
open receiving sessions, which had no station, get the station of their first scan that has one: the rule
"a handheld scans only into its station's acts" then holds for acts already being received.

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

import warehouse.models

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LEGACY_LIFE = timedelta(days=365)


COLUMNS = ("may_import", "may_read", "token_expires_at", "token_revoked_at")


def upgrade() -> None:
    # Plain ADD COLUMN, never a batch rebuild: on SQLite a rebuild drops `scanners`, which the scans of a
    # station in use refer to, and the upgrade of a database with scans then fails on its foreign keys.
    op.add_column("scanners", sa.Column("may_import", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column("scanners", sa.Column("may_read", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column("scanners", sa.Column("token_expires_at", warehouse.models.UTCDateTime(), nullable=True))
    op.add_column("scanners", sa.Column("token_revoked_at", warehouse.models.UTCDateTime(), nullable=True))
    scanners = sa.table(
        "scanners",
        sa.column("token_digest", sa.String()),
        sa.column("may_import", sa.Boolean()),
        sa.column("may_read", sa.Boolean()),
        sa.column("token_expires_at", warehouse.models.UTCDateTime()),
    )
    op.execute(
        scanners.update()
        .where(scanners.c.token_digest.is_not(None))
        .values(may_import=True, may_read=True, token_expires_at=datetime.now(UTC) + LEGACY_LIFE)
    )
    op.execute(
        """
        UPDATE receiving_sessions SET station_id = (
            SELECT scans.station_id FROM scans
            WHERE scans.session_id = receiving_sessions.id AND scans.station_id IS NOT NULL
            ORDER BY scans.id LIMIT 1)
        WHERE station_id IS NULL
        """
    )


def downgrade() -> None:
    # SQLite drops a column in place since 3.35 (Alembic would rebuild the table, see upgrade).
    for name in reversed(COLUMNS):
        if op.get_bind().dialect.name == "sqlite":
            op.execute(f"ALTER TABLE scanners DROP COLUMN {name}")
        else:
            op.drop_column("scanners", name)
