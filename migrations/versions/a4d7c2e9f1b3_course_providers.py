"""Course providers become catalogue data

Revision ID: a4d7c2e9f1b3
Revises: e8c1f3a5b7d9
Create Date: 2026-12-06 09:40:00.000000

One provider per distinct text of ``course.provider`` (trimmed; texts differing only in case
become one provider, the first spelling wins). Country and accreditation dates are not known
from the text, so they are left empty (null) for the programme office to fill in. The text
column is dropped (batch mode, so SQLite copies the table); downgrade writes the provider's
name back into it ("" for a course without a provider).
"""

import unicodedata

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "a4d7c2e9f1b3"
down_revision = "e8c1f3a5b7d9"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "provider",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("accredited_from", sa.Date(), nullable=True),
        sa.Column("accredited_until", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provider")),
        sa.UniqueConstraint("name", name=op.f("uq_provider_name")),
    )
    with op.batch_alter_table("course", schema=None) as batch_op:
        batch_op.add_column(sa.Column("provider_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_course_provider_id_provider"), "provider", ["provider_id"], ["id"]
        )

    bind = op.get_bind()
    course = sa.table(
        "course",
        sa.column("id", sa.Integer),
        sa.column("provider", sa.String),
        sa.column("provider_id", sa.Integer),
    )
    provider = sa.table("provider", sa.column("id", sa.Integer), sa.column("name", sa.String))
    ids: dict[str, int] = {}
    rows = bind.execute(sa.select(course.c.id, course.c.provider).order_by(course.c.id)).all()
    for course_id, text in rows:
        name = unicodedata.normalize("NFC", text or "").strip()  # as the forms store names
        if not name:
            continue
        key = name.casefold()
        if key not in ids:
            ids[key] = bind.execute(
                sa.insert(provider).values(name=name).returning(provider.c.id)
            ).scalar_one()
        bind.execute(sa.update(course).where(course.c.id == course_id).values(provider_id=ids[key]))

    with op.batch_alter_table("course", schema=None) as batch_op:
        batch_op.drop_column("provider")


def downgrade():
    with op.batch_alter_table("course", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("provider", sa.String(length=200), nullable=False, server_default="")
        )
    op.execute(
        sa.text(
            "UPDATE course SET provider = (SELECT name FROM provider"
            " WHERE provider.id = course.provider_id) WHERE provider_id IS NOT NULL"
        )
    )
    with op.batch_alter_table("course", schema=None) as batch_op:
        batch_op.alter_column("provider", server_default=None)
        batch_op.drop_constraint("fk_course_provider_id_provider", type_="foreignkey")
        batch_op.drop_column("provider_id")
    op.drop_table("provider")
