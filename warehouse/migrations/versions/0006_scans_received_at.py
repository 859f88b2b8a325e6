"""scans.received_at: the moment the scanner sent its terminator

The journal row's created_at is when the transaction wrote it; a scan that waited in a reader's queue
(group commit, a restart) was read earlier. Rows journaled before this revision have none.

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import warehouse.models

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A nullable column without a default: ALTER TABLE ADD COLUMN on both databases, no table copy.
    op.add_column("scans", sa.Column("received_at", warehouse.models.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("scans") as batch:
        batch.drop_column("received_at")
