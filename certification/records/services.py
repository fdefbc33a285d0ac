"""The transcript: recording credits and results, and reading a candidate's progress."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from flask_sqlalchemy.pagination import Pagination

from certification.audit import record_event
from certification.auth.models import Role, User
from certification.catalogue.models import Assessment, Course, Programme
from certification.catalogue.services import list_programmes, programme_rules
from certification.errors import Duplicate, NotFound, RuleViolation
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
from certification.records.models import AssessmentAttempt, CreditRecord
from certification.records.standings import refresh_standings
from certification.types import MAX_ID
from certification.unique import add_unique
from certification.validation import (
    FieldErrors,
    as_code,
    check_marks,
    check_past_date,
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
        errors.add("course", f"There is no course with the code {course_code!r}.")
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
        errors.add("assessment", f"There is no assessment with the code {assessment_code!r}.")
    if score is not None:
        check_marks(errors, "score", score)
        limit = assessment.max_score if assessment is not None else None
        if limit is not None and "score" not in errors.messages and score > limit:
            errors.add("score", f"The maximum score is {format_decimal(limit)}.")
    if taken_on is not None:
        check_past_date(errors, "taken_on", taken_on, today)


def attempts_refusal(
    candidate_name: str, assessment: Assessment, attempts_made: int
) -> RuleViolation | None:
    """The refusal of one more attempt once ``attempts_made`` reaches the limit, else None."""
    if attempts_made < assessment.max_attempts:
        return None
    return RuleViolation(
        f"{candidate_name} has used all {assessment.max_attempts} attempts at {assessment.title}.",
        {"assessment": "No attempts left."},
        slug="attempts_exhausted",
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
    duplicate = Duplicate(
        f"{candidate.full_name} already has credits for {course.code}.",
        {"course": "Already recorded for this candidate."},
    )
    existing = db.session.scalar(
        sa.select(CreditRecord.id).where(
            CreditRecord.candidate_id == candidate.id, CreditRecord.course_id == course.id
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


def delete_credit(record: CreditRecord, actor: User | None, *, today: dt.date) -> None:
    """Remove a credit recorded by mistake. The audit trail keeps what it was."""
    before = {"course": record.course.code, "completed_on": record.completed_on.isoformat()}
    candidate_id = record.candidate_id
    db.session.delete(record)
    db.session.flush()
    record_event(actor, "credit.deleted", "user", candidate_id, before=before)
    refresh_standings([candidate_id], today)


def get_credit(candidate: User, record_id: int) -> CreditRecord:
    record = db.session.get(CreditRecord, record_id) if 0 < record_id <= MAX_ID else None
    if record is None or record.candidate_id != candidate.id:
        raise NotFound("There is no such credit record.")
    return record


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

    attempts_made = (
        db.session.scalar(
            sa.select(sa.func.count()).where(
                AssessmentAttempt.candidate_id == candidate.id,
                AssessmentAttempt.assessment_id == assessment.id,
            )
        )
        or 0
    )
    if refusal := attempts_refusal(candidate.full_name, assessment, attempts_made):
        raise refusal
    attempt = AssessmentAttempt(
        candidate=candidate,
        assessment=assessment,
        attempt_number=attempts_made + 1,
        score=score,
        taken_on=taken_on,
        recorded_by_id=actor and actor.id,
    )
    add_unique(
        attempt,
        Duplicate(
            "Another result for this assessment was recorded at the same moment; try again.",
            {"assessment": "Recorded concurrently."},
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
    """A candidate's records as models (for pages) and as plain data (for the engine)."""

    credits: list[CreditRecord]
    attempts: list[AssessmentAttempt]

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
    if ids:
        for record in db.session.scalars(
            sa.select(CreditRecord)
            .where(CreditRecord.candidate_id.in_(ids))
            .options(sa.orm.joinedload(CreditRecord.course))
            .order_by(CreditRecord.completed_on, CreditRecord.id)
        ):
            credits[record.candidate_id].append(record)
        for attempt in db.session.scalars(
            sa.select(AssessmentAttempt)
            .where(AssessmentAttempt.candidate_id.in_(ids))
            .options(sa.orm.joinedload(AssessmentAttempt.assessment))
            .order_by(AssessmentAttempt.taken_on, AssessmentAttempt.id)
        ):
            attempts[attempt.candidate_id].append(attempt)
    return {i: TranscriptView(credits[i], attempts[i]) for i in ids}


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
            .where(CreditRecord.candidate_id.in_(ids))
        ):
            totals[candidate_id] += credits
    return totals


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
