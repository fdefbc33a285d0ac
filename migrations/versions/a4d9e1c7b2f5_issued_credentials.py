"""Open Badges 3.0 credentials: each certificate's signed credential and its status index

Revision ID: a4d9e1c7b2f5
Revises: f2c6a8d4b1e3
Create Date: 2026-12-06 18:00:00.000000

Certificates issued before this release have no credential yet: ``flask issue-credentials``
signs one for each current certificate, with the keys of the bodies that sealed it.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "a4d9e1c7b2f5"
down_revision = "f2c6a8d4b1e3"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "issued_credential",
        sa.Column("certificate_id", sa.Integer(), nullable=False),
        sa.Column("status_index", sa.Integer(), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("jwts", sa.JSON(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["certificate_id"],
            ["certificate.id"],
            name=op.f("fk_issued_credential_certificate_id_certificate"),
        ),
        sa.PrimaryKeyConstraint("certificate_id", name=op.f("pk_issued_credential")),
        sa.UniqueConstraint("status_index", name=op.f("uq_issued_credential_status_index")),
    )


def downgrade():
    op.drop_table("issued_credential")
