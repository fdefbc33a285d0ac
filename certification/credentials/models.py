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
