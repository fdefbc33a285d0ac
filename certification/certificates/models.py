"""Issued certificates (immutable snapshots), partner-body branding and verification counts."""

from __future__ import annotations

import datetime as dt
import decimal
import enum
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from sqlalchemy.ext.associationproxy import AssociationProxy, association_proxy

from certification.auth.models import User
from certification.catalogue.models import Credits, Programme
from certification.extensions import Model
from certification.runners import BackgroundRun
from certification.types import UTCDateTime, text_enum, utcnow


class CertificateStatus(enum.StrEnum):
    VALID = "valid"
    # One partner body asked for its revocation; the other decides (revoke or reinstate).
    SUSPENDED = "suspended"
    REVOKED = "revoked"
    EXPIRED = "expired"
    SUPERSEDED = "superseded"


class RequestState(enum.StrEnum):
    """What became of a request for a jointly approved award. The values are what the API
    says of the request's code: pending, then ``valid`` once sealed and issued."""

    PENDING = "pending_approval"
    ISSUED = "valid"
    REJECTED = "rejected"


# The file name extension each stored media type is served under.
IMAGE_EXTENSIONS = {"image/png": ".png", "image/jpeg": ".jpg"}


class BrandingImage(Model):
    """A logo or signature as uploaded (checked and re-encoded), kept in the database so that
    every host and queue worker prints the same one.

    Rows are never changed or deleted: a new upload is a new row, so a certificate being
    rendered while an administrator uploads keeps the image it was prepared with, and the
    audit trail and certificates' issuer snapshots name an image by its SHA-256.
    """

    __tablename__ = "branding_image"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    # Deferred: the branding page and the issuer snapshots need only the hash.
    content: so.Mapped[bytes] = so.mapped_column(sa.LargeBinary, deferred=True)
    media_type: so.Mapped[str] = so.mapped_column(sa.String(50))
    sha256: so.Mapped[str] = so.mapped_column(sa.String(64), index=True)
    created_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    @property
    def file_name(self) -> str:
        """The name the administrators' pages serve it under."""
        return self.sha256 + IMAGE_EXTENSIONS.get(self.media_type, "")


class PartnerBody(Model):
    """One of the two awarding bodies, as printed: names, signatory, logo and signature.

    Branding is data: administrators change it without a release. The images are rows of
    ``branding_image``; a body points at the ones it prints now.
    """

    __tablename__ = "partner_body"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    position: so.Mapped[int] = so.mapped_column(unique=True)  # 1 = left, 2 = right
    short_name: so.Mapped[str] = so.mapped_column(sa.String(20), unique=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(200))
    signatory_name: so.Mapped[str] = so.mapped_column(sa.String(200))
    signatory_title: so.Mapped[str] = so.mapped_column(sa.String(200))
    # The signatory's title in the other languages a certificate prints, by language code;
    # English (``signatory_title``) where one is missing.
    signatory_titles: so.Mapped[dict[str, str]] = so.mapped_column(
        sa.JSON, default=dict, server_default="{}"
    )
    logo_image_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("branding_image.id"))
    signature_image_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("branding_image.id"))

    # Joined: every reader of a body (the branding page, issuing) wants the images' hashes.
    # Not named plain "logo" and "signature": the branding form's upload fields are, and
    # would be filled from these.
    logo_image: so.Mapped[BrandingImage | None] = so.relationship(
        foreign_keys=[logo_image_id], lazy="joined"
    )
    signature_image: so.Mapped[BrandingImage | None] = so.relationship(
        foreign_keys=[signature_image_id], lazy="joined"
    )


class StatusFromFields:
    """How a certificate stands on a day, worked out from its own fields. Shared by the
    mapped :class:`Certificate` and by the public look-up's row
    (:class:`certification.certificates.public.PublicCertificate`)."""

    if TYPE_CHECKING:
        revoked_at: dt.datetime | None
        suspended_at: dt.datetime | None
        superseded_by_id: int | None
        expires_on: dt.date | None

    def revoked_on(self, zone: dt.tzinfo) -> dt.date | None:
        """The day of the revocation in the programme's calendar (``zone``)."""
        return self.revoked_at.astimezone(zone).date() if self.revoked_at else None

    def suspended_on(self, zone: dt.tzinfo) -> dt.date | None:
        """The day one body asked for the revocation, in the programme's calendar."""
        return self.suspended_at.astimezone(zone).date() if self.suspended_at else None

    @property
    def lapsed_on(self) -> dt.date | None:
        """The first day it is no longer valid: it says "Valid until <expires_on>", which
        includes that day."""
        return self.expires_on + dt.timedelta(days=1) if self.expires_on else None

    def status_on(self, day: dt.date) -> CertificateStatus:
        if self.revoked_at is not None:
            return CertificateStatus.REVOKED
        if self.superseded_by_id is not None:
            return CertificateStatus.SUPERSEDED
        if self.expires_on is not None and self.expires_on < day:
            return CertificateStatus.EXPIRED  # a suspension pending when it lapsed ends with it
        if self.suspended_at is not None:
            return CertificateStatus.SUSPENDED
        return CertificateStatus.VALID


class Certificate(StatusFromFields, Model):
    """An issued certificate: what was printed, the signed PDF, and what became of it.

    The printed fields are a snapshot taken at issue time and never change. A correction is
    a reissue: a new certificate that supersedes this one. A revocation keeps the record.
    The partial unique index allows one *current* (not revoked, not superseded) certificate
    per candidate and programme, so two concurrent issue requests cannot both succeed.
    """

    __tablename__ = "certificate"
    __table_args__ = (
        sa.Index(
            "uq_certificate_current_award",
            "candidate_id",
            "programme_id",
            unique=True,
            sqlite_where=sa.text("is_current"),
            postgresql_where=sa.text("is_current"),
        ),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    code: so.Mapped[str] = so.mapped_column(sa.String(32), unique=True)
    candidate_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"), index=True)
    programme_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("programme.id"), index=True)
    is_current: so.Mapped[bool] = so.mapped_column(default=True)

    # The snapshot: exactly what the PDF says.
    holder_name: so.Mapped[str] = so.mapped_column(sa.String(200))
    award_title: so.Mapped[str] = so.mapped_column(sa.String(200))
    level: so.Mapped[str] = so.mapped_column(sa.String(20))
    eqf_level: so.Mapped[int | None]
    credits_total: so.Mapped[decimal.Decimal] = so.mapped_column(Credits)
    credits_by_domain: so.Mapped[dict[str, str]] = so.mapped_column(sa.JSON)
    issuers: so.Mapped[list[dict[str, Any]]] = so.mapped_column(sa.JSON)
    issued_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime)
    issued_on: so.Mapped[dt.date]
    expires_on: so.Mapped[dt.date | None]
    verify_url: so.Mapped[str] = so.mapped_column(sa.String(300))
    # The holder's language, printed beside English ("en": English alone). Part of what
    # was issued: a copy in another language is a reissue.
    language: so.Mapped[str] = so.mapped_column(sa.String(8), default="en", server_default="en")
    # The catalogue's wording in that language as the certificate prints it, fixed when it
    # was drafted: {"award_title": ..., "domains": {English name: translated}}; empty for
    # English, and where the catalogue had no translation (English is printed then).
    translated: so.Mapped[dict[str, Any]] = so.mapped_column(
        sa.JSON, default=dict, server_default="{}"
    )
    # The signed PDF lives in a table of its own (CertificatePdf): reading a certificate's
    # status then never walks past 100 KB of bytes (SQLite keeps a row's columns together).
    pdf: AssociationProxy[bytes] = association_proxy(
        "document", "pdf", creator=lambda pdf: CertificatePdf(pdf=pdf)
    )
    pdf_sha256: so.Mapped[str] = so.mapped_column(sa.String(64), index=True)
    issued_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    # Each body's yes, as verifiers may see it: [{"body": "EFRS", "approved_on": "2026-12-06"},
    # ...], in the bodies' order; empty for an award the office issues alone.
    approvals: so.Mapped[list[dict[str, str]]] = so.mapped_column(sa.JSON, default=list)

    # What happened afterwards. A jointly approved certificate is suspended when the first
    # body asks for its revocation, and revoked when the other body agrees.
    suspended_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime)
    suspended_by_body: so.Mapped[str | None] = so.mapped_column(sa.String(20))
    suspension_reason: so.Mapped[str | None] = so.mapped_column(sa.String(500))
    suspended_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    revoked_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime)
    revocation_reason: so.Mapped[str | None] = so.mapped_column(sa.String(500))
    revoked_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    superseded_by_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("certificate.id"), index=True
    )
    superseded_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime)
    # The certificate of the period before this one, which this one renews (its holder kept
    # up their CPD): the award continues, and the earlier one is superseded by renewal, not
    # revoked. A reissue of a renewal keeps it, so the chain of periods stays whole.
    renews_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("certificate.id"), index=True)

    candidate: so.Mapped[User] = so.relationship(foreign_keys=[candidate_id])
    programme: so.Mapped[Programme] = so.relationship()
    superseded_by: so.Mapped[Certificate | None] = so.relationship(
        remote_side=[id], foreign_keys=[superseded_by_id]
    )
    renews: so.Mapped[Certificate | None] = so.relationship(
        remote_side=[id], foreign_keys=[renews_id]
    )
    document: so.Mapped[CertificatePdf] = so.relationship(
        cascade="all, delete-orphan", single_parent=True
    )

    @property
    def replacement_code(self) -> str | None:
        """The code of the certificate that superseded this one, if one did."""
        return self.superseded_by.code if self.superseded_by is not None else None

    @property
    def renewed(self) -> bool:
        """Superseded by its renewal (a new period), not by a reissue."""
        return self.superseded_by is not None and self.superseded_by.renews_id == self.id

    @property
    def renews_code(self) -> str | None:
        """The code of the certificate of the period before, which this one renews."""
        return self.renews.code if self.renews is not None else None


class CertificatePdf(Model):
    """The signed PDF of an issued certificate, exactly as it was sent (its SHA-256 is on
    the certificate)."""

    __tablename__ = "certificate_pdf"

    certificate_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("certificate.id"), primary_key=True
    )
    pdf: so.Mapped[bytes] = so.mapped_column(sa.LargeBinary)


class Verification(Model):
    """One look-up of a certificate by a verifier: when and with what outcome. No IP kept."""

    __tablename__ = "verification"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    certificate_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("certificate.id"), index=True)
    verified_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    outcome: so.Mapped[str] = so.mapped_column(sa.String(20))
    channel: so.Mapped[str] = so.mapped_column(sa.String(10))  # page, api or pdf


class IssueJobStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class IssueItemState(enum.StrEnum):
    PENDING = "pending"
    ISSUED = "issued"
    FAILED = "failed"  # not issued: the candidate no longer meets the requirements, say
    SKIPPED = "skipped"  # not issued: the candidate already holds a current certificate


ACTIVE_JOB_STATUSES = (IssueJobStatus.QUEUED, IssueJobStatus.RUNNING)


class IssueJob(BackgroundRun, Model):
    """Issuing one award to everyone eligible, in the background; or, with an
    ``approving_body``, that body's officer approving many requests of one award at once
    (the last body's approval renders and seals, as issuing does).

    Its items, not the queue, say what is left: a job whose worker died is run again and
    carries on with the items still pending. ``runner`` and ``heartbeat_at`` are the claim
    of the worker running it now; a claim whose heartbeat is older than ``JOB_STALE_SECONDS``
    may be taken over. At most one issuing job per programme, and one approving job per
    programme and body, is queued or running at a time.
    """

    __tablename__ = "issue_job"
    __table_args__ = (
        sa.Index(
            "uq_issue_job_active_programme",
            "programme_id",
            unique=True,
            sqlite_where=sa.text("status IN ('queued', 'running') AND approving_body IS NULL"),
            postgresql_where=sa.text("status IN ('queued', 'running') AND approving_body IS NULL"),
        ),
        sa.Index(
            "uq_approval_job_active_programme_body",
            "programme_id",
            "approving_body",
            unique=True,
            sqlite_where=sa.text("status IN ('queued', 'running')"),
            postgresql_where=sa.text("status IN ('queued', 'running')"),
        ),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    programme_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("programme.id"), index=True)
    status: so.Mapped[IssueJobStatus] = so.mapped_column(
        text_enum(IssueJobStatus), default=IssueJobStatus.QUEUED
    )
    total: so.Mapped[int]
    error: so.Mapped[str | None] = so.mapped_column(sa.String(1000))
    created_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    # The partner body whose officer (``created_by``) approves the items' requests; None for
    # an issuing job.
    approving_body: so.Mapped[str | None] = so.mapped_column(sa.String(20))

    programme: so.Mapped[Programme] = so.relationship()
    created_by: so.Mapped[User | None] = so.relationship()

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_JOB_STATUSES


class IssueJobItem(Model):
    """One candidate of an issuing job, and what became of them."""

    __tablename__ = "issue_job_item"
    __table_args__ = (
        sa.UniqueConstraint("job_id", "candidate_id"),
        sa.Index("ix_issue_job_item_job_state", "job_id", "state", "id"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    job_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("issue_job.id"))
    candidate_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"), index=True)
    state: so.Mapped[IssueItemState] = so.mapped_column(
        text_enum(IssueItemState), default=IssueItemState.PENDING
    )
    certificate_code: so.Mapped[str | None] = so.mapped_column(sa.String(32))
    error: so.Mapped[str | None] = so.mapped_column(sa.String(2000))
    done_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime)

    candidate: so.Mapped[User] = so.relationship()


class AwardHold(Model):
    """An award on hold for one candidate: placed when their certificate of it is revoked,
    so that no one (a colleague, a bulk job, an integrator) issues it to them again on the
    same record until an officer lifts the hold, with a reason. Both acts are audited.

    At most one hold per candidate and award is active (not lifted) at a time."""

    __tablename__ = "award_hold"
    __table_args__ = (
        sa.Index(
            "uq_award_hold_active",
            "candidate_id",
            "programme_id",
            unique=True,
            sqlite_where=sa.text("lifted_at IS NULL"),
            postgresql_where=sa.text("lifted_at IS NULL"),
        ),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    candidate_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"), index=True)
    programme_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("programme.id"), index=True)
    certificate_code: so.Mapped[str] = so.mapped_column(sa.String(40))
    reason: so.Mapped[str] = so.mapped_column(sa.String(500))
    placed_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    placed_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    lifted_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime)
    lifted_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    lift_reason: so.Mapped[str | None] = so.mapped_column(sa.String(500))

    candidate: so.Mapped[User] = so.relationship(foreign_keys=[candidate_id])
    programme: so.Mapped[Programme] = so.relationship()

    def placed_on(self, zone: dt.tzinfo) -> dt.date:
        """The day the hold was placed (its certificate revoked), in the programme's
        calendar (``zone``), as a revocation's day is told."""
        return self.placed_at.astimezone(zone).date()


class AwardRequest(Model):
    """A request for a jointly approved award (programme approval ``both_bodies``), waiting
    for an officer of each partner body. Its code is reserved and not valid: verification
    does not know it until the last body approves; then the certificate is rendered from
    the request's snapshot, sealed by each body that approved, and stored under the code.

    A request is an issue (``replaces_id`` None) or a reissue of a current certificate under
    a corrected name. At most one request per candidate and award is pending at a time.
    """

    __tablename__ = "award_request"
    __table_args__ = (
        sa.Index(
            "uq_award_request_pending",
            "candidate_id",
            "programme_id",
            unique=True,
            sqlite_where=sa.text("state = 'pending_approval'"),
            postgresql_where=sa.text("state = 'pending_approval'"),
        ),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    code: so.Mapped[str] = so.mapped_column(sa.String(32), unique=True)
    candidate_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"), index=True)
    programme_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("programme.id"), index=True)
    replaces_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("certificate.id"))
    state: so.Mapped[RequestState] = so.mapped_column(
        text_enum(RequestState), default=RequestState.PENDING, index=True
    )
    # What the certificate will print (name, award, credits, dates), frozen when requested:
    # the fields of Certificate of the same names, as JSON (decimals and dates as text).
    snapshot: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON)
    requested_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    requested_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    decided_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime)
    rejected_by_body: so.Mapped[str | None] = so.mapped_column(sa.String(20))
    rejection_reason: so.Mapped[str | None] = so.mapped_column(sa.String(500))
    rejected_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    certificate_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("certificate.id"))

    candidate: so.Mapped[User] = so.relationship(foreign_keys=[candidate_id])
    programme: so.Mapped[Programme] = so.relationship()
    replaces: so.Mapped[Certificate | None] = so.relationship(foreign_keys=[replaces_id])
    certificate: so.Mapped[Certificate | None] = so.relationship(foreign_keys=[certificate_id])
    requested_by: so.Mapped[User | None] = so.relationship(foreign_keys=[requested_by_id])
    approvals: so.Mapped[list[BodyApproval]] = so.relationship(
        back_populates="request", order_by="BodyApproval.id", lazy="selectin"
    )

    def approved_by(self, body: str) -> BodyApproval | None:
        return next((a for a in self.approvals if a.body == body), None)


class BodyApproval(Model):
    """One partner body's yes to a request, by one of its officers; and that body's
    branding as it stood then (what its half of the certificate prints). One per body and
    request: the unique constraint settles two officers of a body clicking at once."""

    __tablename__ = "body_approval"
    __table_args__ = (sa.UniqueConstraint("request_id", "body"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    request_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("award_request.id"))
    body: so.Mapped[str] = so.mapped_column(sa.String(20))
    approved_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    approved_on: so.Mapped[dt.date]  # in the programme's calendar, as verifiers read it
    approved_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    issuer: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON)

    request: so.Mapped[AwardRequest] = so.relationship(back_populates="approvals")
    approved_by: so.Mapped[User | None] = so.relationship()
