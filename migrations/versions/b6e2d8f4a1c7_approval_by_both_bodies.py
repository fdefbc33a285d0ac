"""Approval by both bodies: programme approval policy, award requests, body approvals,
suspension

Revision ID: b6e2d8f4a1c7
Revises: a4d7c2e9f1b3
Create Date: 2026-12-06 10:40:00.000000

Every programme, existing ones included, is jointly approved (``both_bodies``); the office
may set ``office`` on those the bodies delegate. Certificates issued before this release are
taken as approved by both bodies on their issue date, and the audit trail says so, one
event per certificate.
"""

import datetime as dt
import json

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "b6e2d8f4a1c7"
down_revision = "a4d7c2e9f1b3"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("programme", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "approval",
                sa.Enum(
                    "both_bodies", "office", name="approvalpolicy", native_enum=False, length=20
                ),
                nullable=False,
                server_default="both_bodies",
            )
        )
    with op.batch_alter_table("certificate", schema=None) as batch_op:
        batch_op.add_column(sa.Column("approvals", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("suspended_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("suspended_by_body", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("suspension_reason", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("suspended_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_certificate_suspended_by_id_user_account",
            "user_account",
            ["suspended_by_id"],
            ["id"],
        )

    connection = op.get_bind()
    bodies = [
        row[0]
        for row in connection.execute(
            sa.text("SELECT short_name FROM partner_body ORDER BY position")
        )
    ]
    now = dt.datetime.now(dt.UTC)
    certificates = connection.execute(
        sa.text("SELECT id, code, issued_on FROM certificate ORDER BY id")
    ).all()
    for certificate_id, code, issued_on in certificates:
        day = issued_on if isinstance(issued_on, str) else issued_on.isoformat()
        approvals = [{"body": body, "approved_on": day} for body in bodies]
        connection.execute(
            sa.text("UPDATE certificate SET approvals = :approvals WHERE id = :id"),
            {"approvals": json.dumps(approvals), "id": certificate_id},
        )
        connection.execute(
            sa.text(
                "INSERT INTO audit_event (occurred_at, actor_id, action, object_type,"
                " object_id, before, after) VALUES (:now, NULL, 'certificate.approved',"
                " 'certificate', :code, NULL, :after)"
            ),
            {
                "now": now,
                "code": code,
                "after": json.dumps(
                    {
                        "bodies": bodies,
                        "approved_on": day,
                        "note": "Issued before approval by each body existed: taken as approved"
                        " by both bodies on its issue date.",
                    }
                ),
            },
        )
    connection.execute(sa.text("UPDATE certificate SET approvals = '[]' WHERE approvals IS NULL"))
    with op.batch_alter_table("certificate", schema=None) as batch_op:
        batch_op.alter_column("approvals", existing_type=sa.JSON(), nullable=False)

    op.create_table(
        "award_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("candidate_id", sa.Integer(), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("replaces_id", sa.Integer(), nullable=True),
        sa.Column(
            "state",
            sa.Enum(
                "pending_approval",
                "valid",
                "rejected",
                name="requeststate",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rejected_by_body", sa.String(length=20), nullable=True),
        sa.Column("rejection_reason", sa.String(length=500), nullable=True),
        sa.Column("rejected_by_id", sa.Integer(), nullable=True),
        sa.Column("certificate_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["candidate_id"], ["user_account.id"]),
        sa.ForeignKeyConstraint(["programme_id"], ["programme.id"]),
        sa.ForeignKeyConstraint(["replaces_id"], ["certificate.id"]),
        sa.ForeignKeyConstraint(["requested_by_id"], ["user_account.id"]),
        sa.ForeignKeyConstraint(["rejected_by_id"], ["user_account.id"]),
        sa.ForeignKeyConstraint(["certificate_id"], ["certificate.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    with op.batch_alter_table("award_request", schema=None) as batch_op:
        batch_op.create_index("ix_award_request_candidate_id", ["candidate_id"], unique=False)
        batch_op.create_index("ix_award_request_programme_id", ["programme_id"], unique=False)
        batch_op.create_index("ix_award_request_state", ["state"], unique=False)
        batch_op.create_index(
            "uq_award_request_pending",
            ["candidate_id", "programme_id"],
            unique=True,
            sqlite_where=sa.text("state = 'pending_approval'"),
            postgresql_where=sa.text("state = 'pending_approval'"),
        )
    # A job may approve many requests for one body: one issuing job per award, and one
    # approving job per award and body, may be active at a time.
    with op.batch_alter_table("issue_job", schema=None) as batch_op:
        batch_op.add_column(sa.Column("approving_body", sa.String(length=20), nullable=True))
        batch_op.drop_index("uq_issue_job_active_programme")
        batch_op.create_index(
            "uq_issue_job_active_programme",
            ["programme_id"],
            unique=True,
            sqlite_where=sa.text("status IN ('queued', 'running') AND approving_body IS NULL"),
            postgresql_where=sa.text("status IN ('queued', 'running') AND approving_body IS NULL"),
        )
        batch_op.create_index(
            "uq_approval_job_active_programme_body",
            ["programme_id", "approving_body"],
            unique=True,
            sqlite_where=sa.text("status IN ('queued', 'running')"),
            postgresql_where=sa.text("status IN ('queued', 'running')"),
        )
    op.create_table(
        "body_approval",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("body", sa.String(length=20), nullable=False),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approved_on", sa.Date(), nullable=False),
        sa.Column("approved_by_id", sa.Integer(), nullable=True),
        sa.Column("issuer", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["request_id"], ["award_request.id"]),
        sa.ForeignKeyConstraint(["approved_by_id"], ["user_account.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("request_id", "body"),
    )


def downgrade():
    # The release before knows no requests and no suspension: pending requests are
    # dropped (their codes were never valid), a suspended certificate reads as valid again.
    op.drop_table("body_approval")
    op.execute(
        sa.text(
            "DELETE FROM issue_job_item WHERE job_id IN"
            " (SELECT id FROM issue_job WHERE approving_body IS NOT NULL)"
        )
    )
    op.execute(sa.text("DELETE FROM issue_job WHERE approving_body IS NOT NULL"))
    with op.batch_alter_table("issue_job", schema=None) as batch_op:
        batch_op.drop_index("uq_approval_job_active_programme_body")
        batch_op.drop_index("uq_issue_job_active_programme")
        batch_op.create_index(
            "uq_issue_job_active_programme",
            ["programme_id"],
            unique=True,
            sqlite_where=sa.text("status IN ('queued', 'running')"),
            postgresql_where=sa.text("status IN ('queued', 'running')"),
        )
        batch_op.drop_column("approving_body")
    with op.batch_alter_table("award_request", schema=None) as batch_op:
        batch_op.drop_index("uq_award_request_pending")
        batch_op.drop_index("ix_award_request_state")
        batch_op.drop_index("ix_award_request_programme_id")
        batch_op.drop_index("ix_award_request_candidate_id")
    op.drop_table("award_request")
    with op.batch_alter_table("certificate", schema=None) as batch_op:
        batch_op.drop_constraint("fk_certificate_suspended_by_id_user_account", type_="foreignkey")
        batch_op.drop_column("suspended_by_id")
        batch_op.drop_column("suspension_reason")
        batch_op.drop_column("suspended_by_body")
        batch_op.drop_column("suspended_at")
        batch_op.drop_column("approvals")
    with op.batch_alter_table("programme", schema=None) as batch_op:
        batch_op.drop_column("approval")
