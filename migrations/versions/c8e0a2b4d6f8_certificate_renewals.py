"""Renewal: a certificate names the one of the period before, which it renews

Revision ID: c8e0a2b4d6f8
Revises: f7a9c1e3d5b4
Create Date: 2026-12-06 20:15:00.000000
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "c8e0a2b4d6f8"
down_revision = "f7a9c1e3d5b4"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("certificate") as batch:
        batch.add_column(sa.Column("renews_id", sa.Integer(), nullable=True))
        batch.create_index("ix_certificate_renews_id", ["renews_id"])
        batch.create_foreign_key("fk_certificate_renews_id_certificate", "certificate", ["renews_id"], ["id"])


def downgrade():
    with op.batch_alter_table("certificate") as batch:
        batch.drop_constraint("fk_certificate_renews_id_certificate", type_="foreignkey")
        batch.drop_index("ix_certificate_renews_id")
        batch.drop_column("renews_id")
