"""device tokens get a scope (import, read) and a life (expiry, revocation); receiving sessions their station

A token issued before this revision keeps what it could do (import and read: a terminal in use must not stop
at the upgrade) and expires 365 days after it; `warehouse devices list` shows it, a re-issue narrows it. The
open receiving sessions, which had no station, get the station of their first scan that has one: the rule
"a handheld scans only into its station's acts" then holds for acts already being received.

Revision ID: 0011
Revises: 0009
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


def upgrade() -> None:
    with op.batch_alter_table("scanners") as batch:
        batch.add_column(sa.Column("may_import", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch.add_column(sa.Column("may_read", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch.add_column(sa.Column("token_expires_at", warehouse.models.UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("token_revoked_at", warehouse.models.UTCDateTime(), nullable=True))
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
    with op.batch_alter_table("scanners") as batch:
        batch.drop_column("token_revoked_at")
        batch.drop_column("token_expires_at")
        batch.drop_column("may_read")
        batch.drop_column("may_import")
