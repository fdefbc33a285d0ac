"""The transcript: recording credits and results, and reading a candidate's progress."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext, ngettext
from flask_sqlalchemy.pagination import Pagination

from certification.audit import record_event
from certification.auth.models import Role, User
from certification.auth.services import normalise_email
from certification.catalogue.models import Assessment, Course, Programme, Provider
from certification.catalogue.services import list_programmes, programme_rules
from certification.dates import format_long_date
from certification.errors import Duplicate, Forbidden, NotFound, RuleViolation, ServiceError
from certification.extensions import db
from certification.progress import (
    AttemptEntry,
    CreditEntry,
    ProgressReport,
    Transcript,
    evaluate_progress,
    format_decimal,
)
from certification.records.eligibility import HeldBy, eligible_by_name
from certification.records.models import AssessmentAttempt, CpdActivity, CpdSource, CreditRecord
from certification.records.standings import refresh_standings
from certification.types import MAX_ID, utcnow
from certification.unique import add_unique
from certification.validation import (
    FieldErrors,
    as_code,
    check_marks,
    check_past_date,
    check_text,
    clean_text,
    name_search_key,
)


def _find_course(code: str) -> Course | None:
    lookup = as_code(code)
    return db.session.scalar(sa.select(Course).where(Course.code == lookup)) if lookup else None


# The rules a credit or a result must meet, apart from looking things up: single entry
# (record_credit, record_result) and CSV imports both call these, so they refuse alike.
# A value given as None could not be read at all; whoever parsed it has said why.


def check_credit(
    errors: FieldErrors,
    course: Course | None,
    course_code: str,
    completed_on: dt.date | None,
    today: dt.date,
) -> None:
    """A credit names a course in the catalogue and a completion date that has passed."""
    if course is None:
        errors.add(
            "course",
            gettext("There is no course with the code %(code)s.", code=repr(course_code)),
        )
    if completed_on is not None:
        check_past_date(errors, "completed_on", completed_on, today)


def check_result(
    errors: FieldErrors,
    assessment: Assessment | None,
    assessment_code: str,
    score: Decimal | None,
    taken_on: dt.date | None,
    today: dt.date,
) -> None:
    """A result names an assessment, a score within its marks and a date that has passed."""
    if assessment is None:
        errors.add(
            "assessment",
            gettext("There is no assessment with the code %(code)s.", code=repr(assessment_code)),
        )
    if score is not None:
        check_marks(errors, "score", score)
        limit = assessment.max_score if assessment is not None else None
        if limit is not None and "score" not in errors.messages and score > limit:
            errors.add(
                "score", gettext("The maximum score is %(score)s.", score=format_decimal(limit))
            )
    if taken_on is not None:
        check_past_date(errors, "taken_on", taken_on, today)


def attempts_refusal(
    candidate_name: str, assessment: Assessment, attempts_made: int
) -> RuleViolation | None:
    """The refusal of one more attempt once ``attempts_made`` reaches the limit, else None."""
    if attempts_made < assessment.max_attempts:
        return None
    return RuleViolation(
        ngettext(
            "%(name)s has used all %(num)d attempts at %(title)s.",
            "%(name)s has used all %(num)d attempts at %(title)s.",
            assessment.max_attempts,
            name=candidate_name,
            title=assessment.title,
        ),
        {"assessment": gettext("No attempts left.")},
        slug="attempts_exhausted",
    )


def refuse_outside_provider_scope(
    actor: User | None, course: Course, completed_on: dt.date
) -> None:
    """Provider staff record credits only on their own provider's courses (403
    ``forbidden``), completed while the provider was accredited (422
    ``provider_not_accredited``); both name ``course_code``. Everyone else: no limit here."""
    refusal = provider_scope_refusal(actor, course, completed_on)
    if refusal is not None:
        raise refusal


def provider_scope_refusal(
    actor: User | None, course: Course, completed_on: dt.date | None
) -> ServiceError | None:
    """The refusal :func:`refuse_outside_provider_scope` raises, or None: single entry
    raises it, a CSV import notes it as a problem on the row. A completion date that could
    not be read (None) is not held to the accreditation; its problem is noted already."""
    if actor is None or actor.role is not Role.PROVIDER:
        return None
    if course.provider_id is None or course.provider_id != actor.provider_id:
        return Forbidden(
            gettext("%(code)s is not one of your provider's courses.", code=course.code),
            {"course": gettext("Not one of your provider's courses.")},
            field="course_code",
        )
    provider = course.provided_by
    if (
        provider is not None
        and completed_on is not None
        and not accredited_on(provider, completed_on)
    ):
        return RuleViolation(
            gettext(
                "%(provider)s was not accredited on %(day)s, when %(code)s was completed:"
                " the programme office decides on such credits.",
                provider=provider.name,
                day=format_long_date(completed_on),
                code=course.code,
            ),
            {"course": gettext("Completed outside the provider's accreditation.")},
            slug="provider_not_accredited",
            field="course_code",
        )
    return None


def accredited_on(provider: Provider, day: dt.date) -> bool:
    """Whether ``provider`` was accredited on ``day`` (an unrecorded bound is open)."""
    return (provider.accredited_from is None or provider.accredited_from <= day) and (
        provider.accredited_until is None or day <= provider.accredited_until
    )


def record_credit(
    candidate: User,
    course_code: str,
    completed_on: dt.date,
    *,
    actor: User | None,
    today: dt.date,
) -> CreditRecord:
    """Record that ``candidate`` completed a course. A course counts once per candidate."""
    errors = FieldErrors()
    course = _find_course(course_code)
    check_credit(errors, course, course_code, completed_on, today)
    errors.raise_if_any()
    assert course is not None  # noqa: S101 - raise_if_any guarantees it
    refuse_outside_provider_scope(actor, course, completed_on)
    duplicate = Duplicate(
        gettext(
            "%(name)s already has credits for %(code)s.",
            name=candidate.full_name,
            code=course.code,
        ),
        {"course": gettext("Already recorded for this candidate.")},
    )
    existing = db.session.scalar(
        sa.select(CreditRecord.id).where(
            CreditRecord.candidate_id == candidate.id,
            CreditRecord.course_id == course.id,
            CreditRecord.withdrawn_at.is_(None),
        )
    )
    if existing is not None:
        raise duplicate
    record = CreditRecord(
        candidate=candidate,
        course=course,
        completed_on=completed_on,
        recorded_by_id=actor and actor.id,
    )
    add_unique(record, duplicate)
    record_event(
        actor,
        "credit.recorded",
        "user",
        candidate.id,
        after={
            "course": course.code,
            "credits": str(course.credits),
            "completed_on": completed_on.isoformat(),
        },
    )
    refresh_standings([candidate.id], today)
    return record


def record_cpd(
    candidate: User,
    *,
    title: str,
    organiser: str,
    activity_on: dt.date,
    points: Decimal,
    source: CpdSource,
    actor: User | None,
    today: dt.date,
    domain: str | None = None,
    reference: str | None = None,
) -> CpdActivity:
    """Record a CPD activity of ``candidate``'s, audited. ``Duplicate`` if the event named by
    ``reference`` already counts for them (an attendance list imported twice)."""
    errors = FieldErrors()
    if not title.strip():
        errors.add("title", gettext("Say what the activity was."))
    if not organiser.strip():
        errors.add("organiser", gettext("Say who organised or provided it."))
    if activity_on > today:
        errors.add("activity_on", gettext("The date cannot be in the future."))
    if not Decimal(0) < points <= Decimal(1000):
        errors.add("points", gettext("Points must be more than 0 and at most 1000."))
    errors.raise_if_any()
    duplicate = Duplicate(
        gettext(
            "%(name)s already has CPD points for %(reference)s.",
            name=candidate.full_name,
            reference=reference or title,
        ),
        {"reference": gettext("Already recorded for this candidate.")},
    )
    activity = CpdActivity(
        candidate=candidate,
        title=title.strip(),
        organiser=organiser.strip(),
        activity_on=activity_on,
        points=points,
        domain=domain or None,
        source=source,
        reference=reference or None,
        recorded_by_id=actor and actor.id,
    )
    add_unique(activity, duplicate)
    record_event(
        actor,
        "cpd.recorded",
        "user",
        candidate.id,
        after={
            "title": activity.title,
            "points": str(points),
            "activity_on": activity_on.isoformat(),
            "source": source.value,
            "reference": activity.reference,
        },
    )
    return activity


def cpd_activities(candidate: User) -> list[CpdActivity]:
    """``candidate``'s CPD activities, withdrawn ones included, newest first."""
    return list(
        db.session.scalars(
            sa.select(CpdActivity)
            .where(CpdActivity.candidate_id == candidate.id)
            .order_by(CpdActivity.activity_on.desc(), CpdActivity.id.desc())
        )
    )


def get_credit(candidate: User, record_id: int) -> CreditRecord:
    """One of ``candidate``'s credits; another candidate's is not found (404)."""
    record = db.session.get(CreditRecord, record_id) if 0 < record_id <= MAX_ID else None
    if record is None or record.candidate_id != candidate.id:
        raise NotFound(gettext("There is no such credit record."))
    return record


def get_result(candidate: User, attempt_id: int) -> AssessmentAttempt:
    """One of ``candidate``'s results; another candidate's is not found (404)."""
    attempt = db.session.get(AssessmentAttempt, attempt_id) if 0 < attempt_id <= MAX_ID else None
    if attempt is None or attempt.candidate_id != candidate.id:
        raise NotFound(gettext("There is no such result."))
    return attempt


def credits_page(candidate: User, page: int, per_page: int) -> Pagination:
    """One page of ``candidate``'s credits, withdrawn ones included, oldest recorded first."""
    statement = (
        sa.select(CreditRecord)
        .where(CreditRecord.candidate_id == candidate.id)
        .options(sa.orm.joinedload(CreditRecord.course))
        .order_by(CreditRecord.id)
    )
    return db.paginate(statement, page=page, per_page=per_page, error_out=False)


def results_page(candidate: User, page: int, per_page: int) -> tuple[Pagination, dict[int, int]]:
    """One page of ``candidate``'s results, withdrawn ones included, oldest recorded first,
    and every attempt's place among those that count (:func:`attempt_ordinals`)."""
    statement = (
        sa.select(AssessmentAttempt)
        .where(AssessmentAttempt.candidate_id == candidate.id)
        .options(sa.orm.joinedload(AssessmentAttempt.assessment))
        .order_by(AssessmentAttempt.id)
    )
    found = db.paginate(statement, page=page, per_page=per_page, error_out=False)
    every = db.session.scalars(
        sa.select(AssessmentAttempt).where(AssessmentAttempt.candidate_id == candidate.id)
    )
    return found, attempt_ordinals(every)


# ---------------------------------------------------------------- withdrawing

MAX_REASON_LENGTH = 500


class AlreadyWithdrawn(ServiceError):
    slug = "already_withdrawn"
    http_status = 409


def _withdraw(record: CreditRecord | AssessmentAttempt, reason: str, actor: User | None) -> None:
    """Mark ``record`` withdrawn, refusing a missing reason or a second withdrawal (also
    one made at the same moment elsewhere). The row stays: an issued certificate's basis
    remains traceable."""
    errors = FieldErrors()
    reason = check_text(errors, "reason", clean_text(reason), MAX_REASON_LENGTH)
    errors.raise_if_any()
    # One conditional write, not a check of the row as loaded: of two withdrawals at the
    # same moment, the second waits for the first and then finds nothing left to withdraw
    # (0 rows), so the first reason stays and one withdrawal is audited.
    model = type(record)
    withdrawn = db.session.execute(
        sa.update(model)
        .where(model.id == record.id, model.withdrawn_at.is_(None))
        .values(withdrawn_at=utcnow(), withdrawn_by_id=actor and actor.id, withdrawal_reason=reason)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(record)
    if withdrawn.rowcount == 0:  # type: ignore[attr-defined]
        day = record.withdrawn_on(ZoneInfo(current_app.config["APP_TIMEZONE"]))
        assert day is not None  # noqa: S101 - the row exists, and is withdrawn
        raise AlreadyWithdrawn(
            gettext("This record was withdrawn already, on %(day)s.", day=format_long_date(day))
        )


def withdraw_credit(
    record: CreditRecord, reason: str, actor: User | None, *, today: dt.date
) -> CreditRecord:
    """Withdraw a credit recorded by mistake, with a reason: it stays on the transcript,
    marked, and no longer counts. The candidate's standings follow in this transaction."""
    _withdraw(record, reason, actor)
    record_event(
        actor,
        "credit.withdrawn",
        "user",
        record.candidate_id,
        before={
            "id": record.id,
            "course": record.course.code,
            "credits": str(record.course.credits),
            "completed_on": record.completed_on.isoformat(),
        },
        after={"reason": record.withdrawal_reason},
    )
    refresh_standings([record.candidate_id], today)
    return record


def withdraw_result(
    attempt: AssessmentAttempt, reason: str, actor: User | None, *, today: dt.date
) -> AssessmentAttempt:
    """Withdraw a result recorded by mistake, with a reason: it stays on the transcript,
    marked, no longer counts towards any award nor against the limit of attempts."""
    _withdraw(attempt, reason, actor)
    record_event(
        actor,
        "result.withdrawn",
        "user",
        attempt.candidate_id,
        before={
            "id": attempt.id,
            "assessment": attempt.assessment.code,
            "attempt": attempt.attempt_number,
            "score": str(attempt.score),
            "taken_on": attempt.taken_on.isoformat(),
        },
        after={"reason": attempt.withdrawal_reason},
    )
    refresh_standings([attempt.candidate_id], today)
    return attempt


def attempt_ordinals(attempts: Iterable[AssessmentAttempt]) -> dict[int, int]:
    """The attempt as the candidate counts it ("2 of 3"), by attempt id: its place among
    the attempts at the same assessment not withdrawn. ``attempts``: all of one
    candidate's attempts at the assessments concerned."""
    counting = sorted(
        (a for a in attempts if a.withdrawn_at is None),
        key=lambda a: (a.assessment_id, a.attempt_number),
    )
    ordinals: dict[int, int] = {}
    seen: dict[int, int] = defaultdict(int)
    for attempt in counting:
        seen[attempt.assessment_id] += 1
        ordinals[attempt.id] = seen[attempt.assessment_id]
    return ordinals


def attempt_ordinal(attempt: AssessmentAttempt) -> int | None:
    """:func:`attempt_ordinals` of one attempt (None once withdrawn), in one query."""
    if attempt.withdrawn_at is not None:
        return None
    return db.session.scalar(
        sa.select(sa.func.count()).where(
            AssessmentAttempt.candidate_id == attempt.candidate_id,
            AssessmentAttempt.assessment_id == attempt.assessment_id,
            AssessmentAttempt.withdrawn_at.is_(None),
            AssessmentAttempt.attempt_number <= attempt.attempt_number,
        )
    )


@dataclass(frozen=True)
class Withdrawal:
    """A withdrawn record as the certificates' pages mention it."""

    what: str  # the course or the assessment, by code and title
    on: dt.date  # completed or taken on
    reason: str
    recorded_at: dt.datetime
    withdrawn_at: dt.datetime


def withdrawals(transcript: TranscriptView) -> list[Withdrawal]:
    """The withdrawn records of a transcript, oldest recorded first."""
    found = [
        Withdrawal(
            f"{r.course.code} {r.course.title}",
            r.completed_on,
            r.withdrawal_reason or "",
            r.recorded_at,
            r.withdrawn_at,
        )
        for r in transcript.withdrawn_credits
        if r.withdrawn_at is not None
    ] + [
        Withdrawal(
            f"{a.assessment.code} {a.assessment.title}",
            a.taken_on,
            a.withdrawal_reason or "",
            a.recorded_at,
            a.withdrawn_at,
        )
        for a in transcript.withdrawn_attempts
        if a.withdrawn_at is not None
    ]
    return sorted(found, key=lambda w: w.recorded_at)


def withdrawn_since_issue(found: list[Withdrawal], issued_at: dt.datetime) -> list[Withdrawal]:
    """Those of ``found`` that were on record when a certificate was issued at
    ``issued_at`` and were withdrawn after: the certificate may rest on them."""
    return [w for w in found if w.recorded_at <= issued_at < w.withdrawn_at]


def record_result(
    candidate: User,
    assessment_code: str,
    score: Decimal,
    taken_on: dt.date,
    *,
    actor: User | None,
    today: dt.date,
) -> AssessmentAttempt:
    """Record one attempt at an assessment, refusing attempts beyond the limit."""
    errors = FieldErrors()
    lookup = as_code(assessment_code)
    assessment = (
        db.session.scalar(sa.select(Assessment).where(Assessment.code == lookup))
        if lookup
        else None
    )
    check_result(errors, assessment, assessment_code, score, taken_on, today)
    errors.raise_if_any()
    assert assessment is not None  # noqa: S101 - raise_if_any guarantees it

    # A withdrawn attempt does not count against the limit, but keeps its number: the next
    # one is numbered after every attempt recorded, so two clerks recording at the same
    # moment still collide on the unique number.
    attempts_made, last_number = db.session.execute(
        sa.select(
            sa.func.count(AssessmentAttempt.id).filter(AssessmentAttempt.withdrawn_at.is_(None)),
            sa.func.coalesce(sa.func.max(AssessmentAttempt.attempt_number), 0),
        ).where(
            AssessmentAttempt.candidate_id == candidate.id,
            AssessmentAttempt.assessment_id == assessment.id,
        )
    ).one()
    if refusal := attempts_refusal(candidate.full_name, assessment, attempts_made):
        raise refusal
    attempt = AssessmentAttempt(
        candidate=candidate,
        assessment=assessment,
        attempt_number=last_number + 1,
        score=score,
        taken_on=taken_on,
        recorded_by_id=actor and actor.id,
    )
    add_unique(
        attempt,
        Duplicate(
            gettext(
                "Another result for this assessment was recorded at the same moment; try again."
            ),
            {"assessment": gettext("Recorded concurrently.")},
        ),
    )
    record_event(
        actor,
        "result.recorded",
        "user",
        candidate.id,
        after={
            "assessment": assessment.code,
            "attempt": attempt.attempt_number,
            "score": str(score),
            "taken_on": taken_on.isoformat(),
        },
    )
    refresh_standings([candidate.id], today)
    return attempt


# ---------------------------------------------------------------- reading


@dataclass(frozen=True)
class TranscriptView:
    """A candidate's records as models (for pages) and as plain data (for the engine).

    ``credits`` and ``attempts`` are those that count; the withdrawn ones are kept apart,
    for the pages that show them struck through."""

    credits: list[CreditRecord]
    attempts: list[AssessmentAttempt]
    withdrawn_credits: list[CreditRecord] = dataclasses.field(default_factory=list)
    withdrawn_attempts: list[AssessmentAttempt] = dataclasses.field(default_factory=list)

    @property
    def credit_rows(self) -> list[CreditRecord]:
        """Every credit, withdrawn or not, in the order they were completed."""
        rows = self.credits + self.withdrawn_credits
        return sorted(rows, key=lambda r: (r.completed_on, r.id))

    @property
    def attempt_rows(self) -> list[AssessmentAttempt]:
        """Every result, withdrawn or not, in the order they were taken."""
        rows = self.attempts + self.withdrawn_attempts
        return sorted(rows, key=lambda a: (a.taken_on, a.id))

    @functools.cached_property
    def ordinals(self) -> dict[int, int]:
        """Each counting attempt's place ("2 of 3"), by id: :func:`attempt_ordinals`."""
        return attempt_ordinals(self.attempts)

    @property
    def total_credits(self) -> Decimal:
        return sum((r.course.credits for r in self.credits), Decimal(0))

    def for_engine(self) -> Transcript:
        return Transcript(
            credits=tuple(
                CreditEntry(r.course.code, r.course.domain, r.course.credits, r.completed_on)
                for r in self.credits
            ),
            attempts=tuple(
                AttemptEntry(a.assessment.code, a.score, a.taken_on) for a in self.attempts
            ),
        )


def load_transcripts(candidate_ids: Iterable[int]) -> dict[int, TranscriptView]:
    """Transcripts of many candidates in two queries."""
    ids = list(candidate_ids)
    credits: dict[int, list[CreditRecord]] = defaultdict(list)
    attempts: dict[int, list[AssessmentAttempt]] = defaultdict(list)
    withdrawn_credits: dict[int, list[CreditRecord]] = defaultdict(list)
    withdrawn_attempts: dict[int, list[AssessmentAttempt]] = defaultdict(list)
    if ids:
        for record in db.session.scalars(
            sa.select(CreditRecord)
            .where(CreditRecord.candidate_id.in_(ids))
            .options(sa.orm.joinedload(CreditRecord.course))
            .order_by(CreditRecord.completed_on, CreditRecord.id)
        ):
            kept = withdrawn_credits if record.withdrawn_at is not None else credits
            kept[record.candidate_id].append(record)
        for attempt in db.session.scalars(
            sa.select(AssessmentAttempt)
            .where(AssessmentAttempt.candidate_id.in_(ids))
            .options(sa.orm.joinedload(AssessmentAttempt.assessment))
            .order_by(AssessmentAttempt.taken_on, AssessmentAttempt.id)
        ):
            sat = withdrawn_attempts if attempt.withdrawn_at is not None else attempts
            sat[attempt.candidate_id].append(attempt)
    return {
        i: TranscriptView(credits[i], attempts[i], withdrawn_credits[i], withdrawn_attempts[i])
        for i in ids
    }


def load_transcript(candidate: User) -> TranscriptView:
    return load_transcripts([candidate.id])[candidate.id]


def progress_reports(
    transcript: TranscriptView,
    today: dt.date,
    programmes: list[Programme] | None = None,
    held_awards: frozenset[str] = frozenset(),
) -> list[ProgressReport]:
    """The candidate's progress towards every programme in the catalogue.

    ``held_awards`` are the codes of programmes whose certificate the candidate holds
    (the certificates area knows them); holding an award meets it as a prerequisite.
    """
    plain = dataclasses.replace(transcript.for_engine(), held_awards=held_awards)
    return [
        evaluate_progress(programme_rules(p), plain, today)
        for p in (programmes if programmes is not None else list_programmes())
    ]


def candidate_progress(
    candidate: User, today: dt.date, held_awards: frozenset[str] = frozenset()
) -> list[ProgressReport]:
    return progress_reports(load_transcript(candidate), today, held_awards=held_awards)


# ---------------------------------------------------------------- the candidate list


def search_candidates(
    query: str = "",
    *,
    eligible_for: Programme | None = None,
    today: dt.date,
    held: HeldBy | None = None,
) -> sa.Select[int]:
    """A SELECT of the ids of the candidates matching ``query`` (name or e-mail), optionally
    only those eligible for a programme on ``today`` (awards ``held`` meeting
    prerequisites), in the order of their names. Only ids, so that a page of 100,000 is
    found and counted on an index; :class:`CandidatePage` loads the page's candidates."""
    if eligible_for is not None:
        statement = eligible_by_name(eligible_for, today, held)
    else:
        # Sorted by the folded name, so that Łukasz sorts with the Ls, not after Z.
        statement = (
            sa.select(User.id).where(User.role == Role.CANDIDATE).order_by(User.name_key, User.id)
        )
    query = clean_text(query).replace("\x00", "")  # no database stores NUL in text
    if query:
        pattern = f"%{_escape_like(name_search_key(query))}%"
        email_pattern = f"%{_escape_like(query.lower())}%"
        matching = sa.select(User.id).where(
            sa.or_(
                User.name_key.like(pattern, escape="\\"),
                User.email.like(email_pattern, escape="\\"),
            )
        )
        statement = statement.where(statement.selected_columns[0].in_(matching))
    return statement


def candidates_with_email(email: str) -> sa.Select[int]:
    """A SELECT of the id of the candidate registered with ``email``, compared as stored
    (see :func:`normalise_email`), in the shape :class:`CandidatePage` pages."""
    return (
        sa.select(User.id)
        .where(User.role == Role.CANDIDATE, User.email == normalise_email(email))
        .order_by(User.id)
    )


# ---------------------------------------------------------------- a course provider's view


def provider_courses(provider_id: int) -> list[Course]:
    """The courses one provider delivers, by code."""
    return list(
        db.session.scalars(
            sa.select(Course).where(Course.provider_id == provider_id).order_by(Course.code)
        )
    )


def provider_credits(provider_id: int) -> sa.Select[CreditRecord]:
    """The credits that count on one provider's courses, newest first: what its staff may
    see of candidates (nothing of their other credits, results or certificates)."""
    return (
        sa.select(CreditRecord)
        .join(Course, Course.id == CreditRecord.course_id)
        .where(Course.provider_id == provider_id, CreditRecord.withdrawn_at.is_(None))
        .order_by(CreditRecord.completed_on.desc(), CreditRecord.id.desc())
    )


def record_provider_credit(
    email: str, course_code: str, completed_on: dt.date, *, actor: User, today: dt.date
) -> CreditRecord:
    """Provider staff record that the candidate registered with ``email`` completed one of
    their provider's courses (:func:`record_credit`, with the provider's scope)."""
    candidate = db.session.scalar(
        sa.select(User).where(User.role == Role.CANDIDATE, User.email == normalise_email(email))
    )
    if candidate is None:
        raise NotFound(
            gettext(
                "No candidate is registered with %(email)s; the programme office registers them.",
                email=email,
            ),
            {"email": gettext("No candidate has this e-mail address.")},
        )
    return record_credit(candidate, course_code, completed_on, actor=actor, today=today)


def candidates_listed_for(actor: User, email: str | None, *, today: dt.date) -> sa.Select[int]:
    """The candidates ``actor`` may list: with ``email``, the one registered with it; else
    everyone, for the office and the officers only. Provider staff look a participant up
    by the e-mail they know (403 ``forbidden`` naming ``email`` otherwise)."""
    if email is not None:
        return candidates_with_email(email)
    if actor.role is Role.PROVIDER:
        raise Forbidden(
            gettext("Provider staff look a candidate up by e-mail: add ?email=."),
            {"email": gettext("Give the candidate's e-mail address.")},
            field="email",
        )
    return search_candidates(today=today)


class CandidatePage(Pagination):
    """One page of the candidates a :func:`search_candidates` statement finds: their ids
    are found and counted on that narrow statement, and only the page's are loaded."""

    def __init__(self, statement: sa.Select[int], page: int, per_page: int) -> None:
        super().__init__(page, per_page, max_per_page=per_page, error_out=False, ids=statement)

    def _query_items(self) -> list[User]:
        statement = self._query_args["ids"]
        ids = list(db.session.scalars(statement.limit(self.per_page).offset(self._query_offset)))
        found = {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_(ids)))}
        return [found[i] for i in ids]

    def _query_count(self) -> int:
        statement = self._query_args["ids"].order_by(None).subquery()
        return db.session.scalar(sa.select(sa.func.count()).select_from(statement)) or 0


def credit_totals(candidate_ids: Iterable[int]) -> dict[int, Decimal]:
    """Each candidate's credits in total, in one query."""
    ids = list(candidate_ids)
    totals = dict.fromkeys(ids, Decimal(0))
    if ids:
        for candidate_id, credits in db.session.execute(
            sa.select(CreditRecord.candidate_id, Course.credits)
            .join(Course, Course.id == CreditRecord.course_id)
            .where(CreditRecord.candidate_id.in_(ids), CreditRecord.withdrawn_at.is_(None))
        ):
            totals[candidate_id] += credits
    return totals


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
