"""Eligibility in SQL: who meets every requirement of a programme, as one condition.

The same rules as :func:`certification.progress.evaluate_progress`, written as conditions on
the candidate's id, so that a list, a count or a bulk job over 100,000 candidates needs no
loop in Python. A programme's own requirements (credits, domains, assessments) are read
from the standings kept up to date on every write (:mod:`certification.records.standings`):
one indexed row per candidate, whatever the size of the transcript. Its prerequisite is
judged here, when asked, since holding an award changes with time and with certificates
issued and revoked. The tests hold the two to the same answers on random transcripts.

Whether a candidate already *holds* an award is the certificates area's knowledge, and
records may not import it; the caller passes it in as ``held`` (see
:mod:`certification.certificates.eligibility`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TypeVar

import sqlalchemy as sa
import sqlalchemy.orm as so

from certification.auth.models import Role, User
from certification.catalogue.models import Programme
from certification.records.models import ProgrammeStanding

T = TypeVar("T")

# The ids of the candidates who hold a valid award of a programme, as a SELECT of one column.
HeldBy = Callable[[Programme], sa.Select[int]]

# A column or an expression: ``User.id``, ``Certificate.candidate_id``, a subquery's column.
Column = sa.ColumnElement[T] | so.QueryableAttribute[T]


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


def eligible_by_name(
    programme: Programme, today: dt.date, held: HeldBy | None = None
) -> sa.Select[int]:
    """:func:`eligible_candidate_ids` sorted by name (then id), to page through: one range
    of the standings' index, whatever the page."""
    if not asks_anything(programme):
        return eligible_candidate_ids(programme, today, held).order_by(User.name_key, User.id)
    standing = ProgrammeStanding
    statement = sa.select(standing.candidate_id).where(
        standing.programme_id == programme.id, _standing_met_on(today)
    )
    if programme.prerequisite is not None:
        statement = statement.where(
            _meets_prerequisite(programme, today, standing.candidate_id, held, frozenset())
        )
    return statement.order_by(standing.name_key, standing.candidate_id)


def meets_own_requirements(programme: Programme, today: dt.date) -> sa.Select[int]:
    """A SELECT of the ids of the candidates whose standing meets ``programme``'s own
    requirements on ``today`` (its prerequisite aside)."""
    return sa.select(ProgrammeStanding.candidate_id).where(
        ProgrammeStanding.programme_id == programme.id, _standing_met_on(today)
    )


def _standing_met_on(today: dt.date) -> sa.ColumnElement[bool]:
    return sa.and_(
        ProgrammeStanding.met,
        sa.or_(ProgrammeStanding.lapses_on.is_(None), ProgrammeStanding.lapses_on > today),
    )


def asks_anything(programme: Programme) -> bool:
    """False for a programme that anyone meets with nothing recorded (no credits, no
    assessment): then no standing is needed, and candidates without records meet it too."""
    return (
        programme.min_total_credits > 0
        or any(m.min_credits > 0 for m in programme.domain_minimums)
        or bool(programme.required_assessments)
    )


def _meets(
    programme: Programme,
    today: dt.date,
    candidate_id: Column[int],
    held: HeldBy | None,
    seen: frozenset[int],
) -> sa.ColumnElement[bool]:
    conditions: list[sa.ColumnElement[bool]] = []
    if programme.prerequisite is not None:
        conditions.append(_meets_prerequisite(programme, today, candidate_id, held, seen))
    if asks_anything(programme):
        conditions.append(candidate_id.in_(meets_own_requirements(programme, today)))
    return sa.and_(sa.true(), *conditions)


def _meets_prerequisite(
    programme: Programme,
    today: dt.date,
    candidate_id: Column[int],
    held: HeldBy | None,
    seen: frozenset[int],
) -> sa.ColumnElement[bool]:
    """Holding ``programme``'s prerequisite (when ``held`` says who does), or meeting it."""
    if programme.id in seen:  # the catalogue refuses cycles; never loop if one slipped in
        raise ValueError(f"Programme {programme.code} requires itself.")
    prerequisite = programme.prerequisite
    assert prerequisite is not None  # noqa: S101 - only asked of a programme that has one
    meets = _meets(prerequisite, today, candidate_id, held, seen | {programme.id})
    if held is None:
        return meets
    return sa.or_(candidate_id.in_(held(prerequisite)), meets)
