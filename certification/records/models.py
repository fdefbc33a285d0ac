"""A candidate's transcript: credits earned and assessment attempts."""

from __future__ import annotations

import datetime as dt
import decimal
import enum

import sqlalchemy as sa
import sqlalchemy.orm as so

from certification.auth.models import User
from certification.catalogue.models import Assessment, Course, Marks, Programme
from certification.extensions import Model
from certification.runners import BackgroundRun
from certification.types import UTCDateTime, text_enum, utcnow


class Withdrawable:
    """A record that can be withdrawn (recorded against the wrong candidate, say): it is
    kept, marked with when, by whom and why, and no longer counts for anything."""

    withdrawn_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime)
    withdrawn_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    withdrawal_reason: so.Mapped[str | None] = so.mapped_column(sa.String(500))

    @property
    def is_withdrawn(self) -> bool:
        return self.withdrawn_at is not None

    def withdrawn_on(self, zone: dt.tzinfo) -> dt.date | None:
        """The day of the withdrawal in the programme's calendar (``zone``), as a
        revocation's day is told."""
        return self.withdrawn_at.astimezone(zone).date() if self.withdrawn_at else None


class CreditRecord(Withdrawable, Model):
    """A completed course. A course counts once per candidate: the database guarantees it
    among the records not withdrawn (a correction withdraws one and records it again)."""

    __tablename__ = "credit_record"
    __table_args__ = (
        sa.Index(
            "uq_credit_record_counting",
            "candidate_id",
            "course_id",
            unique=True,
            sqlite_where=sa.text("withdrawn_at IS NULL"),
            postgresql_where=sa.text("withdrawn_at IS NULL"),
        ),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    candidate_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"), index=True)
    course_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("course.id"), index=True)
    completed_on: so.Mapped[dt.date]
    recorded_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    recorded_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))

    candidate: so.Mapped[User] = so.relationship(foreign_keys=[candidate_id])
    course: so.Mapped[Course] = so.relationship()


class AssessmentAttempt(Withdrawable, Model):
    """One sitting of an assessment.

    ``attempt_number`` is the order of recording, unique per candidate and assessment (the
    withdrawn attempts included), so two clerks recording at the same moment cannot both
    slip past the attempts limit. The attempt as the candidate counts it ("2 of 3") is its
    place among the attempts not withdrawn (``services.attempt_ordinals``).
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


class ProgrammeStanding(Model):
    """Whether a candidate meets a programme's own requirements (its prerequisite aside),
    kept up to date on every change of the transcript or of the programme's rules, so that
    lists and counts over every candidate read one indexed row each instead of summing
    every credit (see :mod:`certification.records.standings`).

    ``met`` on the day it was worked out, and ``lapses_on``, the first day it stops being
    met as credits leave the programme's window (None: it does not lapse). A candidate
    with nothing recorded has no row, and meets nothing that asks for anything.

    ``name_key`` is the candidate's (``User.name_key``), kept here too so that "who meets P,
    in the order of their names" is one range of one index: page 500 of 36,000 eligible
    candidates then skips index entries instead of sorting them all.
    """

    __tablename__ = "programme_standing"
    __table_args__ = (
        sa.Index(
            "ix_programme_standing_met",
            "programme_id",
            "met",
            "name_key",
            "candidate_id",
            "lapses_on",
        ),
    )

    candidate_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("user_account.id"), primary_key=True
    )
    programme_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("programme.id"), primary_key=True)
    met: so.Mapped[bool]
    lapses_on: so.Mapped[dt.date | None]
    name_key: so.Mapped[str] = so.mapped_column(sa.String(250))


class StandingJobStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    SUPERSEDED = "superseded"  # the rules changed again; a newer job starts from the top


ACTIVE_STANDING_JOB_STATUSES = (StandingJobStatus.QUEUED, StandingJobStatus.RUNNING)


class StandingJob(BackgroundRun, Model):
    """Working out every candidate's standing towards one programme again, after its rules
    changed, in the background and in chunks of candidates (by id).

    ``after_candidate_id`` is how far it has come: each chunk's standings and the move of
    this cursor commit together, so a job whose worker died carries on where the last
    commit left it, computing nothing twice and skipping nobody. Until it is done, the
    programme's standings past the cursor may still follow the old rules, and the pages
    that list by standing say so.
    """

    __tablename__ = "standing_job"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    programme_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("programme.id"), index=True)
    status: so.Mapped[StandingJobStatus] = so.mapped_column(
        text_enum(StandingJobStatus),
        default=StandingJobStatus.QUEUED,
        index=True,
    )
    total: so.Mapped[int]
    done: so.Mapped[int] = so.mapped_column(default=0)
    after_candidate_id: so.Mapped[int] = so.mapped_column(default=0)

    programme: so.Mapped[Programme] = so.relationship()

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STANDING_JOB_STATUSES

    @property
    def percent_done(self) -> int:
        """Whole percent, never 100 before the job is done (0 until a worker has counted
        the candidates it covers: ``total`` is 0 until then)."""
        if not self.is_active:
            return 100
        if self.total <= 0:
            return 0
        return min(99, self.done * 100 // self.total)


class CpdSource(enum.StrEnum):
    """Where a CPD activity's record came from."""

    OFFICE = "office"  # typed in by the programme office
    ATTENDANCE = "attendance"  # a webinar or event's attendance list, imported
    CLAIM = "claim"  # the candidate's own claim, approved by a reviewer


class CpdActivity(Withdrawable, Model):
    """Continuing professional development after an award: a webinar, a conference, another
    provider's module. Its points count towards renewing a certificate (the programme's
    renewal rule), never towards the award itself.

    ``reference`` names the event the points came from (a webinar's ID, say): one candidate
    is credited once per event among the records not withdrawn, so importing the same
    attendance list twice records nothing new."""

    __tablename__ = "cpd_activity"
    __table_args__ = (
        sa.Index(
            "uq_cpd_activity_counting",
            "candidate_id",
            "reference",
            unique=True,
            sqlite_where=sa.text("withdrawn_at IS NULL AND reference IS NOT NULL"),
            postgresql_where=sa.text("withdrawn_at IS NULL AND reference IS NOT NULL"),
        ),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    candidate_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"), index=True)
    title: so.Mapped[str] = so.mapped_column(sa.String(200))
    organiser: so.Mapped[str] = so.mapped_column(sa.String(200))
    activity_on: so.Mapped[dt.date]
    points: so.Mapped[decimal.Decimal] = so.mapped_column(Marks)
    # The catalogue domain the activity belongs to, if any (a renewal rule may ask for a
    # minimum per domain).
    domain: so.Mapped[str | None] = so.mapped_column(sa.String(100))
    source: so.Mapped[CpdSource] = so.mapped_column(text_enum(CpdSource))
    reference: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    recorded_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    recorded_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))

    candidate: so.Mapped[User] = so.relationship(foreign_keys=[candidate_id])
