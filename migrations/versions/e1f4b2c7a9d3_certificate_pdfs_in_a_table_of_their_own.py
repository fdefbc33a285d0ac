"""Certificate PDFs in a table of their own; an index on superseded_by_id

Revision ID: e1f4b2c7a9d3
Revises: d7a3c5e9f1b0
Create Date: 2026-12-02 03:30:00.000000

SQLite keeps a row's columns together, so every read of a certificate's status (kept
after the PDF's 100 KB) walked through the PDF's overflow pages: with 20,000 certificates
a scan for the dashboard took minutes. The bytes move, unchanged, to certificate_pdf.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e1f4b2c7a9d3'
down_revision = 'd7a3c5e9f1b0'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('certificate_pdf',
    sa.Column('certificate_id', sa.Integer(), nullable=False),
    sa.Column('pdf', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['certificate_id'], ['certificate.id'], name=op.f('fk_certificate_pdf_certificate_id_certificate')),
    sa.PrimaryKeyConstraint('certificate_id', name=op.f('pk_certificate_pdf'))
    )
    op.execute('INSERT INTO certificate_pdf (certificate_id, pdf) SELECT id, pdf FROM certificate')
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.drop_column('pdf')
        batch_op.create_index(batch_op.f('ix_certificate_superseded_by_id'), ['superseded_by_id'], unique=False)


def downgrade():
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_certificate_superseded_by_id'))
        batch_op.add_column(sa.Column('pdf', sa.LargeBinary(), nullable=True))
    op.execute('UPDATE certificate SET pdf = (SELECT pdf FROM certificate_pdf WHERE certificate_pdf.certificate_id = certificate.id)')
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.alter_column('pdf', existing_type=sa.LargeBinary(), nullable=False)
    op.drop_table('certificate_pdf')
