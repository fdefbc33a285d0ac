"""Standing jobs: a rules change works out every candidate's standing in the background

Revision ID: b3d5f7a9c1e2
Revises: e1f4b2c7a9d3
Create Date: 2026-12-06 05:15:00.000000
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b3d5f7a9c1e2'
down_revision = 'e1f4b2c7a9d3'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('standing_job',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('programme_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('queued', 'running', 'done', 'superseded', name='standingjobstatus', native_enum=False, length=20), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('after_candidate_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('runner', sa.String(length=64), nullable=True),
    sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['programme_id'], ['programme.id'], name=op.f('fk_standing_job_programme_id_programme')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_standing_job'))
    )
    with op.batch_alter_table('standing_job', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_standing_job_programme_id'), ['programme_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_standing_job_status'), ['status'], unique=False)


def downgrade():
    with op.batch_alter_table('standing_job', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_standing_job_status'))
        batch_op.drop_index(batch_op.f('ix_standing_job_programme_id'))

    op.drop_table('standing_job')
