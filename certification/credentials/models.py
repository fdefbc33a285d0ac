"""Issued credentials: the signed Open Badges 3.0 document of each certificate, and its place
in the status lists."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
import sqlalchemy.orm as so

from certification.certificates.models import Certificate
from certification.extensions import Model
from certification.types import UTCDateTime


class IssuedCredential(Model):
    """A certificate's credential as issued, with each approving body's proof, never changed
    (a correction is a reissue, whose certificate gets a credential of its own).

    ``status_index`` is the certificate's bit in both status lists (revocation and
    suspension), drawn at random so that its position says nothing about when it was
    issued; the bits themselves are read from the certificate's own state, so they change
    in the transaction that revokes, suspends or reinstates it.
    """

    __tablename__ = "issued_credential"

    certificate_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("certificate.id"), primary_key=True
    )
    status_index: so.Mapped[int] = so.mapped_column(unique=True)
    # The signed JSON-LD as served: text, so that what a holder downloads twice is the same.
    document: so.Mapped[str] = so.mapped_column(sa.Text)
    # The same credential as a VC-JWT per body ({"EFRS": "eyJ…"}): a JWT has one signature,
    # so each body's is a token of its own, made with its proof.
    jwts: so.Mapped[dict[str, str]] = so.mapped_column(sa.JSON, default=dict)
    issued_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime)

    certificate: so.Mapped[Certificate] = so.relationship()


# ---------------------------------------------------------------- wallets (OpenID4VCI)


class WalletGrant(Model):
    """One offer of a certificate's credential to a wallet (OpenID for Verifiable
    Credential Issuance, pre-authorised code): what its code entitles the bearer to, and how
    far it got (offered, redeemed, issued, invalidated).

    The code itself is never stored, only its SHA-256 (``code_id``), as the library's own
    stores keep it. The columns are openbadgeslib's ``PreAuthorizedGrant``.
    """

    __tablename__ = "wallet_grant"

    grant_id: so.Mapped[str] = so.mapped_column(sa.String(64), primary_key=True)
    code_id: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    state: so.Mapped[str] = so.mapped_column(sa.String(16))
    certificate_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("certificate.id"), index=True)
    configuration_id: so.Mapped[str] = so.mapped_column(sa.String(100))
    credential_format: so.Mapped[str] = so.mapped_column(sa.String(20))
    credential_id: so.Mapped[str] = so.mapped_column(sa.String(300))
    max_proofs: so.Mapped[int] = so.mapped_column(default=1)
    # An optional transaction code (PIN) as the library hashes it; unused by the portal.
    tx_code_kdf: so.Mapped[str | None] = so.mapped_column(sa.String(40))
    tx_code_salt: so.Mapped[bytes | None] = so.mapped_column(sa.LargeBinary)
    tx_code_digest: so.Mapped[bytes | None] = so.mapped_column(sa.LargeBinary)
    tx_code_attempts: so.Mapped[int] = so.mapped_column(default=0)
    tx_code_max_attempts: so.Mapped[int] = so.mapped_column(default=3)
    tx_code_length: so.Mapped[int | None]
    tx_code_input_mode: so.Mapped[str | None] = so.mapped_column(sa.String(10))
    # SHA-256 of the configuration and the holder's key thumbprints, once issued.
    fingerprint: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    created_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime)
    expires_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, index=True)


class WalletToken(Model):
    """An access token a redeemed code bought (its SHA-256), short-lived."""

    __tablename__ = "wallet_token"

    token_id: so.Mapped[str] = so.mapped_column(sa.String(64), primary_key=True)
    grant_id: so.Mapped[str] = so.mapped_column(
        sa.ForeignKey("wallet_grant.grant_id", ondelete="CASCADE"), index=True
    )
    expires_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, index=True)


class WalletNonce(Model):
    """A nonce a wallet's key proof used (its SHA-256): a second use is a replay."""

    __tablename__ = "wallet_nonce"

    nonce_id: so.Mapped[str] = so.mapped_column(sa.String(64), primary_key=True)
    expires_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, index=True)


class WalletDelivery(Model):
    """The holder-bound copy of a credential a wallet received for a grant, kept so that a
    wallet asking again (its answer lost) gets the same document, and so that the office
    can see which wallets hold which certificate."""

    __tablename__ = "wallet_delivery"

    grant_id: so.Mapped[str] = so.mapped_column(
        sa.ForeignKey("wallet_grant.grant_id"), primary_key=True
    )
    certificate_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("certificate.id"), index=True)
    holder_did: so.Mapped[str] = so.mapped_column(sa.Text)
    document: so.Mapped[str] = so.mapped_column(sa.Text)
    delivered_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime)
