"""A candidate's transcript: credits earned and assessment attempts."""

from __future__ import annotations

import datetime as dt
import decimal

import sqlalchemy as sa
import sqlalchemy.orm as so

from certification.auth.models import User
from certification.catalogue.models import Assessment, Course, Marks
from certification.extensions import Model
from certification.types import UTCDateTime, utcnow


class CreditRecord(Model):
    """A completed course. A course counts once per candidate: the database guarantees it."""

    __tablename__ = "credit_record"
    __table_args__ = (sa.UniqueConstraint("candidate_id", "course_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    candidate_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"), index=True)
    course_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("course.id"), index=True)
    completed_on: so.Mapped[dt.date]
    recorded_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    recorded_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))

    candidate: so.Mapped[User] = so.relationship(foreign_keys=[candidate_id])
    course: so.Mapped[Course] = so.relationship()


class AssessmentAttempt(Model):
    """One sitting of an assessment.

    ``attempt_number`` is unique per candidate and assessment, so two clerks recording at the
    same moment cannot both slip past the attempts limit.
    """

    __tablename__ = "assessment_attempt"
    __table_args__ = (sa.UniqueConstraint("candidate_id", "assessment_id", "attempt_number"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    candidate_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"), index=True)
    assessment_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("assessment.id"), index=True)
    attempt_number: so.Mapped[int]
    score: so.Mapped[decimal.Decimal] = so.mapped_column(Marks)
    taken_on: so.Mapped[dt.date]
    recorded_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    recorded_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))

    candidate: so.Mapped[User] = so.relationship(foreign_keys=[candidate_id])
    assessment: so.Mapped[Assessment] = so.relationship()
