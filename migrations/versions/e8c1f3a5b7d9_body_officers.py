"""Body officers: an account may belong to one partner body

Revision ID: e8c1f3a5b7d9
Revises: d2b9e6f4a0c3
Create Date: 2026-12-06 09:00:00.000000

The programme office keeps the role value the administrators had ("admin"): existing
accounts, their audit events and API tokens need no rewrite. Officers are the new value
"officer" (the role column is short text, no database enum type to alter) with the short
name of their partner body in ``partner_body``.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e8c1f3a5b7d9'
down_revision = 'd2b9e6f4a0c3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('partner_body', sa.String(length=20), nullable=True))


def downgrade():
    # The release before has no officers. Their accounts stay (audit events name them) as
    # administrators who can no longer log in, and every session of theirs ends.
    op.execute(sa.text(
        "UPDATE user_account SET role = 'admin', active = false,"
        " session_epoch = session_epoch + 1 WHERE role = 'officer'"
    ))
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('partner_body')
