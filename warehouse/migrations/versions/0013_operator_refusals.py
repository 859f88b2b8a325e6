"""operator documents the station refused to take as acts, so that a sync round does not download them again

A new table only: nothing existing changes.

Revision ID: 0013
Revises: 0012
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import warehouse.models

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "operator_refusals",
        sa.Column("doc_id", sa.String(length=100), nullable=False),
        sa.Column("number", sa.String(length=100), nullable=False),
        sa.Column("sender_bin", sa.String(length=12), nullable=False),
        sa.Column("listed_sha256", sa.String(length=64), nullable=False),
        sa.Column("problem", sa.Text(), nullable=False),
        sa.Column("refused_at", warehouse.models.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("doc_id", name=op.f("pk_operator_refusals")),
    )


def downgrade() -> None:
    op.drop_table("operator_refusals")
