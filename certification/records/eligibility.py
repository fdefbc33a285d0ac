"""Eligibility in SQL: who meets every requirement of a programme, in one statement.

The same rules as :func:`certification.progress.evaluate_progress`, written as conditions on
the candidate's id, so that a list, a count or a bulk job over 100,000 candidates needs no
loop in Python. The tests hold the two to the same answers on random transcripts.

Credits are compared as whole tenths and marks as whole hundredths (the scales of their
columns), so a sum such as 29.5 + 0.5 meets a minimum of 30 exactly, on SQLite (which sums
NUMERIC as floating point) as on PostgreSQL.

Whether a candidate already *holds* an award is the certificates area's knowledge, and
records may not import it; the caller passes it in as ``held`` (see
:mod:`certification.certificates.eligibility`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import TypeVar

import sqlalchemy as sa
import sqlalchemy.orm as so

from certification.auth.models import Role, User
from certification.catalogue.models import Course, Programme
from certification.progress import subtract_months
from certification.records.models import AssessmentAttempt, CreditRecord

T = TypeVar("T")

# The ids of the candidates who hold a valid award of a programme, as a SELECT of one column.
HeldBy = Callable[[Programme], sa.Select[int]]

# A column or an expression: ``User.id``, ``Certificate.candidate_id``, a subquery's column.
Column = sa.ColumnElement[T] | so.QueryableAttribute[T]

CREDIT_SCALE = 10  # credits are kept to one decimal place


def eligible_candidate_ids(
    programme: Programme, today: dt.date, held: HeldBy | None = None
) -> sa.Select[int]:
    """A SELECT of the ids of the candidates who meet every requirement of ``programme``
    on ``today``, as the progress engine would judge them. A prerequisite is met by holding
    it (``held``; without it, nobody holds anything) or by meeting its own requirements."""
    return sa.select(User.id).where(
        User.role == Role.CANDIDATE, meets_requirements(programme, today, User.id, held)
    )


def meets_requirements(
    programme: Programme,
    today: dt.date,
    candidate_id: Column[int],
    held: HeldBy | None = None,
) -> sa.ColumnElement[bool]:
    """The condition "the candidate ``candidate_id`` meets every requirement", to put in the
    WHERE clause of any query over candidates (a search, a count)."""
    return _meets(programme, today, candidate_id, held, seen=frozenset())


def _meets(
    programme: Programme,
    today: dt.date,
    candidate_id: Column[int],
    held: HeldBy | None,
    seen: frozenset[int],
) -> sa.ColumnElement[bool]:
    if programme.id in seen:  # the catalogue refuses cycles; never loop if one slipped in
        raise ValueError(f"Programme {programme.code} requires itself.")
    seen = seen | {programme.id}
    conditions: list[sa.ColumnElement[bool]] = []

    if (prerequisite := programme.prerequisite) is not None:
        meets_prerequisite = _meets(prerequisite, today, candidate_id, held, seen)
        if held is not None:
            meets_prerequisite = sa.or_(candidate_id.in_(held(prerequisite)), meets_prerequisite)
        conditions.append(meets_prerequisite)

    if (credits := _credit_condition(programme, today)) is not None:
        conditions.append(candidate_id.in_(credits))

    for assessment in programme.required_assessments:
        # "Best score >= pass mark" is "some attempt scored at least the pass mark"; a plain
        # comparison of one stored value with another is exact on every database.
        passed = sa.select(AssessmentAttempt.candidate_id).where(
            AssessmentAttempt.assessment_id == assessment.id,
            AssessmentAttempt.score >= assessment.pass_mark,
        )
        conditions.append(candidate_id.in_(passed))

    return sa.and_(sa.true(), *conditions)


def _tenths(value: Decimal) -> int:
    return int((value * CREDIT_SCALE).to_integral_value())


def credit_tenths(column: Column[Decimal]) -> sa.ColumnElement[int]:
    """A credits column as a whole number of tenths, so that sums are exact everywhere."""
    return sa.cast(sa.func.round(column * sa.literal_column(str(CREDIT_SCALE))), sa.Integer)


def _credit_condition(programme: Programme, today: dt.date) -> sa.Select[int] | None:
    """The candidates whose counted credits meet the total and every domain minimum, or None
    when no credit is required (then nobody falls short, even with no credits at all)."""
    tenths = credit_tenths(Course.credits)
    having: list[sa.ColumnElement[bool]] = []
    if (total := _tenths(programme.min_total_credits)) > 0:
        having.append(sa.func.sum(tenths) >= total)
    for minimum in programme.domain_minimums:
        if (required := _tenths(minimum.min_credits)) > 0:
            in_domain = sa.case((Course.domain == minimum.domain, tenths), else_=0)
            having.append(sa.func.sum(in_domain) >= required)
    if not having:
        return None
    statement = (
        sa.select(CreditRecord.candidate_id)
        .join(Course, Course.id == CreditRecord.course_id)
        .group_by(CreditRecord.candidate_id)
        .having(sa.and_(*having))
    )
    if programme.credit_window_months is not None:
        earliest = subtract_months(today, programme.credit_window_months)
        statement = statement.where(CreditRecord.completed_on >= earliest)
    return statement
