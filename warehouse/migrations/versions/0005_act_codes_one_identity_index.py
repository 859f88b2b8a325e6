"""act_codes: one index by identity, (act_id, identity), instead of two

Every row an import writes goes to a random place of each index keyed by identity; the second one
(identity alone, for "is this code in another act?") made a full-truck import about a quarter slower.
That question is now answered by probing (act_id, identity) for each open incoming act.

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain DROP INDEX on both databases: no table copy on SQLite.
    op.drop_index("ix_act_codes_identity", table_name="act_codes")


def downgrade() -> None:
    op.create_index("ix_act_codes_identity", "act_codes", ["identity"], unique=False)
