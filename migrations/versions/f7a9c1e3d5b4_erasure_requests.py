"""Erasure requests: a holder asks for their data to be erased, the office carries it out

Revision ID: f7a9c1e3d5b4
Revises: d4e6a8c0b2f1
Create Date: 2026-12-06 20:00:00.000000

One pending request per holder at a time (a partial unique index); a request that is
carried out, refused or withdrawn stays as the record of what was asked and decided.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "f7a9c1e3d5b4"
down_revision = "d4e6a8c0b2f1"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "erasure_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("candidate_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "withdrawn",
                "refused",
                "carried_out",
                name="erasurestatus",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("refusal_reason", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["candidate_id"],
            ["user_account.id"],
            name=op.f("fk_erasure_request_candidate_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["user_account.id"],
            name=op.f("fk_erasure_request_decided_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_erasure_request")),
    )
    with op.batch_alter_table("erasure_request", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_erasure_request_candidate_id"), ["candidate_id"], unique=False
        )
        batch_op.create_index(
            "uq_erasure_request_pending",
            ["candidate_id"],
            unique=True,
            sqlite_where=sa.text("status = 'pending'"),
            postgresql_where=sa.text("status = 'pending'"),
        )


def downgrade():
    with op.batch_alter_table("erasure_request", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_erasure_request_pending",
            sqlite_where=sa.text("status = 'pending'"),
            postgresql_where=sa.text("status = 'pending'"),
        )
        batch_op.drop_index(batch_op.f("ix_erasure_request_candidate_id"))

    op.drop_table("erasure_request")
