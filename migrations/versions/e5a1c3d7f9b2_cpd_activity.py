"""Continuing professional development: the activities whose points renew a certificate

Revision ID: e5a1c3d7f9b2
Revises: c1f7a2d9e4b6
Create Date: 2026-12-06 20:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "e5a1c3d7f9b2"
down_revision = "c1f7a2d9e4b6"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "cpd_activity",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("candidate_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("organiser", sa.String(length=200), nullable=False),
        sa.Column("activity_on", sa.Date(), nullable=False),
        sa.Column("points", sa.Numeric(precision=7, scale=2), nullable=False),
        sa.Column("domain", sa.String(length=100), nullable=True),
        sa.Column(
            "source",
            sa.Enum("office", "attendance", "claim", name="cpdsource", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("reference", sa.String(length=200), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_by_id", sa.Integer(), nullable=True),
        sa.Column("withdrawal_reason", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(["candidate_id"], ["user_account.id"]),
        sa.ForeignKeyConstraint(["recorded_by_id"], ["user_account.id"]),
        sa.ForeignKeyConstraint(["withdrawn_by_id"], ["user_account.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_cpd_activity_candidate_id", "cpd_activity", ["candidate_id"])
    op.create_index(
        "uq_cpd_activity_counting",
        "cpd_activity",
        ["candidate_id", "reference"],
        unique=True,
        sqlite_where=sa.text("withdrawn_at IS NULL AND reference IS NOT NULL"),
        postgresql_where=sa.text("withdrawn_at IS NULL AND reference IS NOT NULL"),
    )


def downgrade():
    op.drop_index("uq_cpd_activity_counting", table_name="cpd_activity")
    op.drop_index("ix_cpd_activity_candidate_id", table_name="cpd_activity")
    op.drop_table("cpd_activity")
