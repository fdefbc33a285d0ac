"""Award holds: revoking a certificate puts its award on hold for the holder

Revision ID: c7e2a4f6b8d1
Revises: b3d5f7a9c1e2
Create Date: 2026-12-06 06:50:00.000000

Certificates revoked before this release get no hold: their revocation is on record, and
an officer deciding to issue again is what the hold asks for anyway.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c7e2a4f6b8d1'
down_revision = 'b3d5f7a9c1e2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('award_hold',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('candidate_id', sa.Integer(), nullable=False),
    sa.Column('programme_id', sa.Integer(), nullable=False),
    sa.Column('certificate_code', sa.String(length=40), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('placed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('placed_by_id', sa.Integer(), nullable=True),
    sa.Column('lifted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('lifted_by_id', sa.Integer(), nullable=True),
    sa.Column('lift_reason', sa.String(length=500), nullable=True),
    sa.ForeignKeyConstraint(['candidate_id'], ['user_account.id'], name=op.f('fk_award_hold_candidate_id_user_account')),
    sa.ForeignKeyConstraint(['lifted_by_id'], ['user_account.id'], name=op.f('fk_award_hold_lifted_by_id_user_account')),
    sa.ForeignKeyConstraint(['placed_by_id'], ['user_account.id'], name=op.f('fk_award_hold_placed_by_id_user_account')),
    sa.ForeignKeyConstraint(['programme_id'], ['programme.id'], name=op.f('fk_award_hold_programme_id_programme')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_award_hold'))
    )
    with op.batch_alter_table('award_hold', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_award_hold_candidate_id'), ['candidate_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_award_hold_programme_id'), ['programme_id'], unique=False)
        batch_op.create_index('uq_award_hold_active', ['candidate_id', 'programme_id'], unique=True, sqlite_where=sa.text('lifted_at IS NULL'), postgresql_where=sa.text('lifted_at IS NULL'))


def downgrade():
    with op.batch_alter_table('award_hold', schema=None) as batch_op:
        batch_op.drop_index('uq_award_hold_active', sqlite_where=sa.text('lifted_at IS NULL'), postgresql_where=sa.text('lifted_at IS NULL'))
        batch_op.drop_index(batch_op.f('ix_award_hold_programme_id'))
        batch_op.drop_index(batch_op.f('ix_award_hold_candidate_id'))

    op.drop_table('award_hold')
