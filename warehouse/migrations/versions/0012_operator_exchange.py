"""the exchange with the operator: the outbox of documents, the operator origin of incoming acts, the
operator's word on codes before accepting, and the sync rounds

New tables only: nothing existing changes, so an upgrade of a station in use is quick and a downgrade drops
them again (the documents sent are the operator's record too; the audit trail keeps each state change).

Revision ID: 0012
Revises: 0011
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import warehouse.models

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "operator_syncs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("started_at", warehouse.models.UTCDateTime(), nullable=False),
        sa.Column("finished_at", warehouse.models.UTCDateTime(), nullable=True),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("imported", sa.Integer(), nullable=False),
        sa.Column("sent", sa.Integer(), nullable=False),
        sa.Column("polled", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(length=64), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operator_syncs")),
    )
    op.create_table(
        "operator_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("act_id", sa.Integer(), nullable=False),
        sa.Column(
            "direction", sa.Enum("incoming", "outgoing", name="direction", native_enum=False, length=16), nullable=False
        ),
        sa.Column(
            "kind",
            sa.Enum("acceptance", "shipment", "cancel", name="operatordockind", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("number", sa.String(length=100), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.Column("payload_sha256", sa.String(length=64), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "queued",
                "sending",
                "sent",
                "unknown",
                "waiting",
                "accepted",
                "rejected",
                "cancelled",
                "error",
                name="outboxstate",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("doc_id", sa.String(length=100), nullable=True),
        sa.Column("status", sa.String(length=40), nullable=True),
        sa.Column("messages", sa.JSON(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", warehouse.models.UTCDateTime(), nullable=True),
        sa.Column("sent_at", warehouse.models.UTCDateTime(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", warehouse.models.UTCDateTime(), nullable=False),
        sa.Column("updated_at", warehouse.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["act_id"], ["acts.id"], name=op.f("fk_operator_documents_act_id_acts")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_operator_documents_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operator_documents")),
        sa.UniqueConstraint("doc_id", name=op.f("uq_operator_documents_doc_id")),
        sa.UniqueConstraint("number", name=op.f("uq_operator_documents_number")),
    )
    op.create_index(op.f("ix_operator_documents_act_id"), "operator_documents", ["act_id"], unique=False)
    op.create_index("ix_operator_documents_state", "operator_documents", ["state", "next_attempt_at"], unique=False)

    op.create_table(
        "operator_origins",
        sa.Column("act_id", sa.Integer(), nullable=False),
        sa.Column("doc_id", sa.String(length=100), nullable=False),
        sa.Column("number", sa.String(length=100), nullable=False),
        sa.Column("doc_type", sa.String(length=60), nullable=False),
        sa.Column("status", sa.String(length=40), nullable=False),
        sa.Column("doc_date", warehouse.models.UTCDateTime(), nullable=True),
        sa.Column("sender_bin", sa.String(length=12), nullable=False),
        sa.Column("fetched_at", warehouse.models.UTCDateTime(), nullable=False),
        sa.Column("updated_at", warehouse.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["act_id"], ["acts.id"], name=op.f("fk_operator_origins_act_id_acts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("act_id", name=op.f("pk_operator_origins")),
        sa.UniqueConstraint("doc_id", name=op.f("uq_operator_origins_doc_id")),
    )
    op.create_table(
        "operator_code_checks",
        sa.Column("act_id", sa.Integer(), nullable=False),
        sa.Column("act_code_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "problem",
            sa.Enum(
                "missing",
                "surplus",
                "duplicate",
                "foreign",
                "wrong_product",
                "invalid",
                "not_owned",
                "not_in_circulation",
                name="discrepancykind",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("status", sa.String(length=40), nullable=True),
        sa.Column("owner_bin", sa.String(length=12), nullable=True),
        sa.Column("error_code", sa.String(length=16), nullable=True),
        sa.Column("checked_at", warehouse.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["act_code_id"], ["act_codes.id"], name=op.f("fk_operator_code_checks_act_code_id_act_codes")
        ),
        sa.ForeignKeyConstraint(
            ["act_id"], ["acts.id"], name=op.f("fk_operator_code_checks_act_id_acts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("act_id", "act_code_id", name=op.f("pk_operator_code_checks")),
    )


def downgrade() -> None:
    op.drop_table("operator_code_checks")
    op.drop_table("operator_origins")
    op.drop_index("ix_operator_documents_state", table_name="operator_documents")
    op.drop_index(op.f("ix_operator_documents_act_id"), table_name="operator_documents")
    op.drop_table("operator_documents")
    op.drop_table("operator_syncs")
