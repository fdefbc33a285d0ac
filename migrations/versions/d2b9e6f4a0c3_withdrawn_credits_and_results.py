"""Withdrawn credits and results: kept, marked with when, by whom and why

Revision ID: d2b9e6f4a0c3
Revises: c7e2a4f6b8d1
Create Date: 2026-12-06 08:00:00.000000

A course counts once per candidate among the credits not withdrawn: the unique constraint
becomes a partial unique index, so that a correction (withdraw, record again) is possible.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd2b9e6f4a0c3'
down_revision = 'c7e2a4f6b8d1'
branch_labels = None
depends_on = None

COUNTING = sa.text('withdrawn_at IS NULL')


def _withdrawal_columns(batch_op, table):
    batch_op.add_column(sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True))
    batch_op.add_column(sa.Column('withdrawn_by_id', sa.Integer(), nullable=True))
    batch_op.add_column(sa.Column('withdrawal_reason', sa.String(length=500), nullable=True))
    batch_op.create_foreign_key(batch_op.f(f'fk_{table}_withdrawn_by_id_user_account'), 'user_account', ['withdrawn_by_id'], ['id'])


def upgrade():
    with op.batch_alter_table('assessment_attempt', schema=None) as batch_op:
        _withdrawal_columns(batch_op, 'assessment_attempt')

    with op.batch_alter_table('credit_record', schema=None) as batch_op:
        _withdrawal_columns(batch_op, 'credit_record')
        batch_op.drop_constraint(batch_op.f('uq_credit_record_candidate_id_course_id'), type_='unique')
        batch_op.create_index('uq_credit_record_counting', ['candidate_id', 'course_id'], unique=True, sqlite_where=COUNTING, postgresql_where=COUNTING)


def downgrade():
    # Withdrawn credits go with their marks: the old constraint allows one row per course.
    op.execute(sa.text('DELETE FROM credit_record WHERE withdrawn_at IS NOT NULL'))
    with op.batch_alter_table('credit_record', schema=None) as batch_op:
        batch_op.drop_index('uq_credit_record_counting', sqlite_where=COUNTING, postgresql_where=COUNTING)
        batch_op.create_unique_constraint(batch_op.f('uq_credit_record_candidate_id_course_id'), ['candidate_id', 'course_id'])
        batch_op.drop_constraint(batch_op.f('fk_credit_record_withdrawn_by_id_user_account'), type_='foreignkey')
        batch_op.drop_column('withdrawal_reason')
        batch_op.drop_column('withdrawn_by_id')
        batch_op.drop_column('withdrawn_at')

    with op.batch_alter_table('assessment_attempt', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_assessment_attempt_withdrawn_by_id_user_account'), type_='foreignkey')
        batch_op.drop_column('withdrawal_reason')
        batch_op.drop_column('withdrawn_by_id')
        batch_op.drop_column('withdrawn_at')
