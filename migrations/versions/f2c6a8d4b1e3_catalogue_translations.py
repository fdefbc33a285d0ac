"""Languages: the catalogue's wording translated, a programme's description, and the
translated wording a certificate prints

Revision ID: f2c6a8d4b1e3
Revises: e7b1c4d9a2f6
Create Date: 2026-12-06 16:10:00.000000

Programmes get a description (empty until the office writes one), and each partner body
its signatory's title in the other languages (none yet). Certificates issued before this
release print English wording only: their ``translated`` is empty.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "f2c6a8d4b1e3"
down_revision = "e7b1c4d9a2f6"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "catalogue_translation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("source_sha256", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalogue_translation")),
        sa.UniqueConstraint(
            "language",
            "source_sha256",
            name=op.f("uq_catalogue_translation_language_source_sha256"),
        ),
    )
    with op.batch_alter_table("programme", schema=None) as batch_op:
        batch_op.add_column(sa.Column("description", sa.Text(), nullable=False, server_default=""))
    with op.batch_alter_table("certificate", schema=None) as batch_op:
        batch_op.add_column(sa.Column("translated", sa.JSON(), nullable=False, server_default="{}"))
    with op.batch_alter_table("partner_body", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("signatory_titles", sa.JSON(), nullable=False, server_default="{}")
        )


def downgrade():
    with op.batch_alter_table("partner_body", schema=None) as batch_op:
        batch_op.drop_column("signatory_titles")
    with op.batch_alter_table("certificate", schema=None) as batch_op:
        batch_op.drop_column("translated")
    with op.batch_alter_table("programme", schema=None) as batch_op:
        batch_op.drop_column("description")
    op.drop_table("catalogue_translation")
