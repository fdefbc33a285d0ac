"""Candidates' own claims of a credit or of CPD, with their evidence

Revision ID: d4e6a8c0b2f1
Revises: a2c4e6f8b0d3
Create Date: 2026-12-06 20:00:00.000000

The evidence's bytes are kept in the database (claim_evidence.data, the last column, so
that reading a claim's list of files does not walk through them), not under instance/:
the app runs on several stateless hosts, each of which must be able to serve a file.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "d4e6a8c0b2f1"
down_revision = "a2c4e6f8b0d3"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "claim",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("candidate_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("credit", "cpd", name="claimkind", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("course_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("organiser", sa.String(length=200), nullable=False),
        sa.Column("activity_on", sa.Date(), nullable=False),
        sa.Column("hours", sa.Numeric(precision=7, scale=2), nullable=True),
        sa.Column("points", sa.Numeric(precision=7, scale=2), nullable=True),
        sa.Column("domain", sa.String(length=100), nullable=True),
        sa.Column(
            "state",
            sa.Enum(
                "pending", "approved", "rejected", name="claimstate", native_enum=False, length=20
            ),
            nullable=False,
        ),
        sa.Column("rejection_reason", sa.String(length=500), nullable=True),
        sa.Column("reviewed_by_id", sa.Integer(), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("credit_record_id", sa.Integer(), nullable=True),
        sa.Column("cpd_activity_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["candidate_id"], ["user_account.id"], name=op.f("fk_claim_candidate_id_user_account")
        ),
        # A course deleted from the catalogue leaves its claims naming none: a reviewer then
        # rejects them (approving needs the course).
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["course.id"],
            name=op.f("fk_claim_course_id_course"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["reviewed_by_id"],
            ["user_account.id"],
            name=op.f("fk_claim_reviewed_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["credit_record_id"],
            ["credit_record.id"],
            name=op.f("fk_claim_credit_record_id_credit_record"),
        ),
        sa.ForeignKeyConstraint(
            ["cpd_activity_id"],
            ["cpd_activity.id"],
            name=op.f("fk_claim_cpd_activity_id_cpd_activity"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claim")),
    )
    op.create_index("ix_claim_candidate_id", "claim", ["candidate_id"])
    op.create_index("ix_claim_course_id", "claim", ["course_id"])
    op.create_index("ix_claim_state", "claim", ["state"])
    op.create_table(
        "claim_evidence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("claim_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("media_type", sa.String(length=50), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("data", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(
            ["claim_id"], ["claim.id"], name=op.f("fk_claim_evidence_claim_id_claim")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claim_evidence")),
    )
    op.create_index("ix_claim_evidence_claim_id", "claim_evidence", ["claim_id"])


def downgrade():
    op.drop_index("ix_claim_evidence_claim_id", table_name="claim_evidence")
    op.drop_table("claim_evidence")
    op.drop_index("ix_claim_state", table_name="claim")
    op.drop_index("ix_claim_course_id", table_name="claim")
    op.drop_index("ix_claim_candidate_id", table_name="claim")
    op.drop_table("claim")
