"""The outbox: every e-mail the application sends, one row each, written in the same
transaction as the change it announces and sent afterwards by a queue worker."""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
import sqlalchemy.orm as so

from certification.auth.models import User
from certification.certificates.models import Certificate
from certification.extensions import Model
from certification.types import UTCDateTime, text_enum, utcnow


class EmailKind(enum.StrEnum):
    """What a message is about. Text of at most 20 characters, with no database constraint
    on the values, so a new kind needs no migration."""

    INVITATION = "invitation"
    CERTIFICATE_ISSUED = "certificate_issued"
    # Before this kind existed, a reissue was written as certificate_issued; the outbox page
    # still tells those apart (:func:`certification.mail.services.kinds_in_words`).
    CERTIFICATE_REISSUED = "certificate_reissued"
    CERTIFICATE_RENEWED = "cert_renewed"  # a new period of the award, after its holder's CPD
    CERTIFICATE_REVOKED = "certificate_revoked"
    # One partner body asked for a jointly approved certificate's revocation; the other decides.
    CERTIFICATE_SUSPENDED = "cert_suspended"
    CERTIFICATE_REINSTATED = "cert_reinstated"  # the other body declined that revocation
    EXPIRY_REMINDER = "expiry_reminder"
    APPROVALS_DIGEST = "approvals_digest"  # to an officer: requests awaiting their body
    PASSWORD_RESET = "password_reset"  # noqa: S105 - a kind of e-mail  # nosec B105
    CLAIM_APPROVED = "claim_approved"  # the candidate's own claim became a record
    CLAIM_REJECTED = "claim_rejected"  # it did not, and the reviewer's reason
    ERASURE_REFUSED = "erasure_refused"  # the office did not erase the holder's data (yet)


class EmailStatus(enum.StrEnum):
    """Where a message is. The row does not record whether "sent" meant an SMTP server or
    the outbox folder; :func:`certification.mail.services.delivery_state` says which."""

    QUEUED = "queued"  # written, not handed over yet: waiting for a worker or a next attempt
    SENT = "sent"  # an SMTP server accepted it, or it was written to the outbox folder
    FAILED = "failed"  # given up on; an administrator may send it again


class OutgoingEmail(Model):
    """One message: what it says (a snapshot taken when it was queued) and how sending went.

    The PDF of a certificate is not copied here: it is attached at send time from the
    certificate's stored bytes, which never change.
    """

    __tablename__ = "outgoing_email"
    __table_args__ = (sa.Index("ix_outgoing_email_status_created_at", "status", "created_at"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    kind: so.Mapped[EmailKind] = so.mapped_column(text_enum(EmailKind))
    recipient: so.Mapped[str] = so.mapped_column(sa.String(254))
    recipient_name: so.Mapped[str] = so.mapped_column(sa.String(200))
    subject: so.Mapped[str] = so.mapped_column(sa.String(300))
    text_body: so.Mapped[str] = so.mapped_column(sa.Text)
    # Kept from the first attempt on, so a receiver can tell a resend from a new message.
    message_id: so.Mapped[str] = so.mapped_column(sa.String(250), unique=True)
    candidate_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("user_account.id"), index=True
    )
    certificate_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("certificate.id"), index=True
    )
    # Messages that must go out once only (a certificate's expiry reminder) carry a key;
    # the unique constraint holds even when two hosts run the daily task at once.
    dedupe_key: so.Mapped[str | None] = so.mapped_column(sa.String(120), unique=True)

    status: so.Mapped[EmailStatus] = so.mapped_column(
        text_enum(EmailStatus), default=EmailStatus.QUEUED
    )
    attempts: so.Mapped[int] = so.mapped_column(default=0)
    last_error: so.Mapped[str | None] = so.mapped_column(sa.String(1000))
    created_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    # Not before this moment (set after a failed attempt); None: as soon as possible.
    next_attempt_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime)
    # Set while a worker is talking to the mail server, so that no other worker sends the
    # same message meanwhile; a worker killed mid-send leaves it, and it goes stale.
    sending_since: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime)
    sent_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime)

    candidate: so.Mapped[User | None] = so.relationship()
    certificate: so.Mapped[Certificate | None] = so.relationship()

    def __repr__(self) -> str:
        return f"<OutgoingEmail {self.id} {self.kind.value} {self.status.value}>"
