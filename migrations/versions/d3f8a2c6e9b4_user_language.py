"""Languages: each person may have a language of their own

Revision ID: d3f8a2c6e9b4
Revises: c9a4e7b2d5f1
Create Date: 2026-12-06 13:30:00.000000

None until chosen: pages then follow the browser, e-mails and certificates are in English,
as every one was before this release.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "d3f8a2c6e9b4"
down_revision = "c9a4e7b2d5f1"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=8), nullable=True))


def downgrade():
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_column("language")
