"""Languages: a certificate is printed in its holder's language beside English

Revision ID: e7b1c4d9a2f6
Revises: d3f8a2c6e9b4
Create Date: 2026-12-06 13:55:00.000000

Every certificate issued before this release is in English alone: "en".
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "e7b1c4d9a2f6"
down_revision = "d3f8a2c6e9b4"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("certificate", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("language", sa.String(length=8), nullable=False, server_default="en")
        )


def downgrade():
    with op.batch_alter_table("certificate", schema=None) as batch_op:
        batch_op.drop_column("language")
