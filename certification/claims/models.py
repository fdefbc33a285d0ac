"""A candidate's own claims: a credit or a CPD activity no provider recorded, with evidence."""

from __future__ import annotations

import datetime as dt
import decimal
import enum

import sqlalchemy as sa
import sqlalchemy.orm as so

from certification.auth.models import User
from certification.catalogue.models import Course, Marks
from certification.extensions import Model
from certification.types import UTCDateTime, text_enum, utcnow


class ClaimKind(enum.StrEnum):
    CREDIT = "credit"  # a course of the catalogue, taken where no provider records it
    CPD = "cpd"  # a webinar, a conference, another body's module: points towards renewal


class ClaimState(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class Claim(Model):
    """What a candidate says they did, waiting for a reviewer's yes or no.

    Approved, it becomes a record (``credit_record_id`` or ``cpd_activity_id``) in the same
    transaction; rejected, it keeps the reason the candidate reads. Either way the claim
    stays, so the candidate always sees what became of it.
    """

    __tablename__ = "claim"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    candidate_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"), index=True)
    kind: so.Mapped[ClaimKind] = so.mapped_column(text_enum(ClaimKind))
    # The catalogue's course a credit claim names (None for CPD): provider staff review the
    # claims on their own courses, found through it. A course deleted from the catalogue
    # leaves its claims naming none (the database sets it to NULL); they cannot be approved.
    course_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("course.id", ondelete="SET NULL"), index=True
    )
    title: so.Mapped[str] = so.mapped_column(sa.String(200))
    organiser: so.Mapped[str] = so.mapped_column(sa.String(200))
    activity_on: so.Mapped[dt.date]
    # Hours of study or attendance, as the evidence states them (optional, for the reviewer).
    hours: so.Mapped[decimal.Decimal | None] = so.mapped_column(Marks)
    # CPD points claimed (a CPD claim's record gets them); a credit counts its course's ECTS.
    points: so.Mapped[decimal.Decimal | None] = so.mapped_column(Marks)
    domain: so.Mapped[str | None] = so.mapped_column(sa.String(100))
    state: so.Mapped[ClaimState] = so.mapped_column(
        text_enum(ClaimState), default=ClaimState.PENDING, index=True
    )
    rejection_reason: so.Mapped[str | None] = so.mapped_column(sa.String(500))
    reviewed_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    reviewed_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime)
    credit_record_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("credit_record.id"))
    cpd_activity_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("cpd_activity.id"))
    created_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    candidate: so.Mapped[User] = so.relationship(foreign_keys=[candidate_id])
    reviewed_by: so.Mapped[User | None] = so.relationship(foreign_keys=[reviewed_by_id])
    course: so.Mapped[Course | None] = so.relationship()
    evidence: so.Mapped[list[ClaimEvidence]] = so.relationship(
        back_populates="claim", order_by="ClaimEvidence.id"
    )

    def __repr__(self) -> str:
        return f"<Claim {self.id} {self.kind.value} {self.state.value}>"


class ClaimEvidence(Model):
    """A file a candidate sent with a claim: a PDF, PNG or JPEG, its type found from its
    content. Kept in the database (several stateless hosts serve it), its bytes last and
    loaded only when asked for. The retention sweep removes a rejected claim's bytes and
    marks ``deleted_at``; the row stays, so the claim still says a file was sent."""

    __tablename__ = "claim_evidence"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    claim_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("claim.id"), index=True)
    filename: so.Mapped[str] = so.mapped_column(sa.String(255))  # as uploaded, for the download
    media_type: so.Mapped[str] = so.mapped_column(sa.String(50))  # as detected, never as told
    size: so.Mapped[int]
    sha256: so.Mapped[str] = so.mapped_column(sa.String(64))
    created_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    deleted_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime)
    data: so.Mapped[bytes | None] = so.mapped_column(sa.LargeBinary, deferred=True)

    claim: so.Mapped[Claim] = so.relationship(back_populates="evidence")

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None
