"""Eligibility in SQL with awards held counted, as issuing counts them.

:mod:`certification.records.eligibility` writes the rules; this module adds what only the
certificates area knows: who holds a valid certificate (current, that is neither revoked
nor superseded, and not expired on the day), the same test as
:func:`certification.certificates.services.held_awards_by_candidate`.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from certification.auth.models import User
from certification.catalogue.models import Programme
from certification.certificates.holds import on_hold_ids
from certification.certificates.models import AwardRequest, Certificate, RequestState
from certification.records.eligibility import HeldBy, eligible_by_name, eligible_candidate_ids


def valid_on(today: dt.date) -> sa.ColumnElement[bool]:
    """The condition "this certificate is valid on ``today``"."""
    return sa.and_(
        Certificate.is_current,
        sa.or_(Certificate.expires_on.is_(None), Certificate.expires_on >= today),
    )


def holders(today: dt.date) -> HeldBy:
    """For a programme, a SELECT of the ids of the candidates who hold a valid certificate
    of it on ``today``; to pass as ``held`` to the records' eligibility functions."""

    def held_by(programme: Programme) -> sa.Select[int]:
        return sa.select(Certificate.candidate_id).where(
            Certificate.programme_id == programme.id, valid_on(today)
        )

    return held_by


def eligible_ids(programme: Programme, today: dt.date) -> sa.Select[int]:
    """Candidates who meet every requirement of ``programme`` on ``today``, awards held
    counting as prerequisites met (whether or not they hold ``programme`` itself)."""
    return eligible_candidate_ids(programme, today, holders(today))


def eligible_not_holding_ids(programme: Programme, today: dt.date) -> sa.Select[int]:
    """Candidates who meet every requirement of ``programme``, hold no valid certificate of
    it, do not have it on hold and have no request for it pending: those a certificate may
    be issued or requested for (an expired one may be renewed)."""
    return eligible_ids(programme, today).where(
        User.id.not_in(holders(today)(programme)),
        User.id.not_in(on_hold_ids(programme)),
        User.id.not_in(requested_ids(programme)),
    )


def eligible_not_holding(programme: Programme, today: dt.date) -> sa.Select[int]:
    """The same candidates as :func:`eligible_not_holding_ids`, sorted by name, to page
    through (:class:`certification.records.services.CandidatePage`)."""
    held = holders(today)
    statement = eligible_by_name(programme, today, held)
    candidate_id = statement.selected_columns[0]
    return statement.where(
        candidate_id.not_in(held(programme)),
        candidate_id.not_in(on_hold_ids(programme)),
        candidate_id.not_in(requested_ids(programme)),
    )


def requested_ids(programme: Programme) -> sa.Select[int]:
    """Candidates for whom ``programme`` is requested and awaits the bodies' approval."""
    return sa.select(AwardRequest.candidate_id).where(
        AwardRequest.programme_id == programme.id, AwardRequest.state == RequestState.PENDING
    )
