"""Wallets (OpenID4VCI): offers of a credential, their access tokens, the nonces used, and
the holder-bound copies delivered

Revision ID: c1f7a2d9e4b6
Revises: a4d9e1c7b2f5
Create Date: 2026-12-06 18:30:00.000000

Codes, tokens and nonces are kept only as their SHA-256.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "c1f7a2d9e4b6"
down_revision = "a4d9e1c7b2f5"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "wallet_grant",
        sa.Column("grant_id", sa.String(length=64), nullable=False),
        sa.Column("code_id", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("certificate_id", sa.Integer(), nullable=False),
        sa.Column("configuration_id", sa.String(length=100), nullable=False),
        sa.Column("credential_format", sa.String(length=20), nullable=False),
        sa.Column("credential_id", sa.String(length=300), nullable=False),
        sa.Column("max_proofs", sa.Integer(), nullable=False),
        sa.Column("tx_code_kdf", sa.String(length=40), nullable=True),
        sa.Column("tx_code_salt", sa.LargeBinary(), nullable=True),
        sa.Column("tx_code_digest", sa.LargeBinary(), nullable=True),
        sa.Column("tx_code_attempts", sa.Integer(), nullable=False),
        sa.Column("tx_code_max_attempts", sa.Integer(), nullable=False),
        sa.Column("tx_code_length", sa.Integer(), nullable=True),
        sa.Column("tx_code_input_mode", sa.String(length=10), nullable=True),
        sa.Column("fingerprint", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["certificate_id"],
            ["certificate.id"],
            name=op.f("fk_wallet_grant_certificate_id_certificate"),
        ),
        sa.PrimaryKeyConstraint("grant_id", name=op.f("pk_wallet_grant")),
        sa.UniqueConstraint("code_id", name=op.f("uq_wallet_grant_code_id")),
    )
    op.create_index(
        op.f("ix_wallet_grant_certificate_id"), "wallet_grant", ["certificate_id"], unique=False
    )
    op.create_index(
        op.f("ix_wallet_grant_expires_at"), "wallet_grant", ["expires_at"], unique=False
    )
    op.create_table(
        "wallet_nonce",
        sa.Column("nonce_id", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("nonce_id", name=op.f("pk_wallet_nonce")),
    )
    op.create_index(
        op.f("ix_wallet_nonce_expires_at"), "wallet_nonce", ["expires_at"], unique=False
    )
    op.create_table(
        "wallet_token",
        sa.Column("token_id", sa.String(length=64), nullable=False),
        sa.Column("grant_id", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["grant_id"],
            ["wallet_grant.grant_id"],
            name=op.f("fk_wallet_token_grant_id_wallet_grant"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_id", name=op.f("pk_wallet_token")),
    )
    op.create_index(
        op.f("ix_wallet_token_expires_at"), "wallet_token", ["expires_at"], unique=False
    )
    op.create_index(op.f("ix_wallet_token_grant_id"), "wallet_token", ["grant_id"], unique=False)
    op.create_table(
        "wallet_delivery",
        sa.Column("grant_id", sa.String(length=64), nullable=False),
        sa.Column("certificate_id", sa.Integer(), nullable=False),
        sa.Column("holder_did", sa.Text(), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["certificate_id"],
            ["certificate.id"],
            name=op.f("fk_wallet_delivery_certificate_id_certificate"),
        ),
        sa.ForeignKeyConstraint(
            ["grant_id"],
            ["wallet_grant.grant_id"],
            name=op.f("fk_wallet_delivery_grant_id_wallet_grant"),
        ),
        sa.PrimaryKeyConstraint("grant_id", name=op.f("pk_wallet_delivery")),
    )
    op.create_index(
        op.f("ix_wallet_delivery_certificate_id"),
        "wallet_delivery",
        ["certificate_id"],
        unique=False,
    )


def downgrade():
    op.drop_table("wallet_delivery")
    op.drop_table("wallet_token")
    op.drop_table("wallet_nonce")
    op.drop_table("wallet_grant")
