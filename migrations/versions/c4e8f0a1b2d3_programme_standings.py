"""Programme standings: each candidate's progress kept up to date on every write

Revision ID: c4e8f0a1b2d3
Revises: a5d743d1f647
Create Date: 2026-12-02 02:00:00.000000

The table starts empty; ``flask init-db`` (which runs this migration) then works out every
candidate's standing, so an existing register needs nothing more.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c4e8f0a1b2d3'
down_revision = 'a5d743d1f647'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('programme_standing',
    sa.Column('candidate_id', sa.Integer(), nullable=False),
    sa.Column('programme_id', sa.Integer(), nullable=False),
    sa.Column('met', sa.Boolean(), nullable=False),
    sa.Column('lapses_on', sa.Date(), nullable=True),
    sa.Column('name_key', sa.String(length=250), nullable=False),
    sa.ForeignKeyConstraint(['candidate_id'], ['user_account.id'], name=op.f('fk_programme_standing_candidate_id_user_account')),
    sa.ForeignKeyConstraint(['programme_id'], ['programme.id'], name=op.f('fk_programme_standing_programme_id_programme')),
    sa.PrimaryKeyConstraint('candidate_id', 'programme_id', name=op.f('pk_programme_standing'))
    )
    with op.batch_alter_table('programme_standing', schema=None) as batch_op:
        batch_op.create_index('ix_programme_standing_met', ['programme_id', 'met', 'name_key', 'candidate_id', 'lapses_on'], unique=False)


def downgrade():
    with op.batch_alter_table('programme_standing', schema=None) as batch_op:
        batch_op.drop_index('ix_programme_standing_met')

    op.drop_table('programme_standing')
