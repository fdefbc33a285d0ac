"""Renewal rules: the CPD points a programme asks for to renew its certificate, per domain
too, an optional renewal assessment, and the grace period after expiry

Revision ID: a2c4e6f8b0d3
Revises: e5a1c3d7f9b2
Create Date: 2026-12-06 20:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "a2c4e6f8b0d3"
down_revision = "e5a1c3d7f9b2"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("programme", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("renewal_cpd_points", sa.Numeric(precision=7, scale=2), nullable=True)
        )
        batch_op.add_column(sa.Column("renewal_grace_months", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("renewal_assessment_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_programme_renewal_assessment_id_assessment"),
            "assessment",
            ["renewal_assessment_id"],
            ["id"],
        )
    op.create_table(
        "renewal_domain_minimum",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("domain", sa.String(length=100), nullable=False),
        sa.Column("min_points", sa.Numeric(precision=7, scale=2), nullable=False),
        sa.ForeignKeyConstraint(
            ["programme_id"],
            ["programme.id"],
            name=op.f("fk_renewal_domain_minimum_programme_id_programme"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_renewal_domain_minimum")),
        sa.UniqueConstraint(
            "programme_id", "domain", name=op.f("uq_renewal_domain_minimum_programme_id_domain")
        ),
    )


def downgrade():
    op.drop_table("renewal_domain_minimum")
    with op.batch_alter_table("programme", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_programme_renewal_assessment_id_assessment"), type_="foreignkey"
        )
        batch_op.drop_column("renewal_assessment_id")
        batch_op.drop_column("renewal_grace_months")
        batch_op.drop_column("renewal_cpd_points")
