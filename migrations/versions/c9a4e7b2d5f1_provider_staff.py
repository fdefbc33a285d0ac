"""Provider staff: an account may belong to one course provider

Revision ID: c9a4e7b2d5f1
Revises: b6e2d8f4a1c7
Create Date: 2026-12-06 11:15:00.000000

Provider staff are the role value "provider" (short text, no database enum type to alter)
with their provider in ``provider_id``.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "c9a4e7b2d5f1"
down_revision = "b6e2d8f4a1c7"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.add_column(sa.Column("provider_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_user_account_provider_id_provider", "provider", ["provider_id"], ["id"]
        )


def downgrade():
    # The release before has no provider staff: their accounts stay (audit events name
    # them) but can no longer log in, and every session of theirs ends.
    op.execute(
        sa.text(
            "UPDATE user_account SET role = 'candidate', active = false,"
            " session_epoch = session_epoch + 1 WHERE role = 'provider'"
        )
    )
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_constraint("fk_user_account_provider_id_provider", type_="foreignkey")
        batch_op.drop_column("provider_id")
