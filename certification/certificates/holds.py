"""Awards on hold: revoking a certificate puts its award on hold for its holder.

A revocation says something is wrong with the certificate ("issued in error", "to be
reissued once the examination board meets"); the candidate usually still meets the rules,
so without a hold they reappeared at once under Ready to issue, and "Issue to everyone
eligible" gave them a new valid certificate. With a hold, issuing the award to them is
refused (:class:`AwardOnHold`, 409 in the API) and the lists leave them out, until an
officer lifts the hold with a reason. Both acts are audited, like the revocation itself.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext

from certification.audit import record_event
from certification.auth.models import User
from certification.catalogue.models import Programme
from certification.certificates.models import AwardHold, Certificate
from certification.errors import NotFound, ServiceError
from certification.extensions import db
from certification.types import utcnow
from certification.validation import FieldErrors, check_text, clean_text


class AwardOnHold(ServiceError):
    """Issuing refused: the award is on hold for this candidate since a revocation."""

    slug = "award_on_hold"
    http_status = 409

    def __init__(self, hold: AwardHold) -> None:
        super().__init__(
            gettext(
                "The %(award)s is on hold for %(name)s since certificate %(code)s was revoked"
                " (%(reason)s). Lift the hold, with a reason, before issuing it again.",
                award=hold.programme.title,
                name=hold.candidate.full_name,
                code=hold.certificate_code,
                reason=hold.reason,
            )
        )
        self.code = hold.certificate_code
        self.reason = hold.reason
        self.since = hold.placed_at


def place_hold(certificate: Certificate, reason: str, actor: User | None) -> AwardHold:
    """Put ``certificate``'s award on hold for its holder (in the revoking transaction);
    an award already on hold keeps its first hold. Flushes."""
    hold = active_hold(certificate.candidate_id, certificate.programme_id)
    if hold is not None:
        return hold
    hold = AwardHold(
        candidate_id=certificate.candidate_id,
        programme_id=certificate.programme_id,
        certificate_code=certificate.code,
        reason=reason,
        placed_at=utcnow(),
        placed_by_id=actor.id if actor else None,
    )
    db.session.add(hold)
    db.session.flush()
    record_event(
        actor,
        "award_hold.placed",
        "certificate",
        certificate.code,
        after={"programme": certificate.programme.code, "reason": reason},
    )
    return hold


def active_hold(candidate_id: int, programme_id: int) -> AwardHold | None:
    return db.session.scalar(
        sa.select(AwardHold).where(
            AwardHold.candidate_id == candidate_id,
            AwardHold.programme_id == programme_id,
            AwardHold.lifted_at.is_(None),
        )
    )


def refuse_if_on_hold(candidate: User, programme: Programme) -> None:
    hold = active_hold(candidate.id, programme.id)
    if hold is not None:
        raise AwardOnHold(hold)


def lift_hold(candidate: User, programme: Programme, reason: str, actor: User | None) -> AwardHold:
    """Lift the hold on ``programme`` for ``candidate``; the reason is required. Flushes."""
    errors = FieldErrors()
    reason = check_text(errors, "reason", clean_text(reason), 500)
    errors.raise_if_any()
    hold = active_hold(candidate.id, programme.id)
    if hold is None:
        raise NotFound(
            gettext(
                "The %(award)s is not on hold for %(name)s.",
                award=programme.title,
                name=candidate.full_name,
            )
        )
    hold.lifted_at = utcnow()
    hold.lifted_by_id = actor.id if actor else None
    hold.lift_reason = reason
    db.session.flush()
    record_event(
        actor,
        "award_hold.lifted",
        "certificate",
        hold.certificate_code,
        before={"reason": hold.reason},
        after={"programme": programme.code, "reason": reason},
    )
    return hold


def holds_of(candidate: User) -> list[AwardHold]:
    """The candidate's active holds, oldest first."""
    return list(
        db.session.scalars(
            sa.select(AwardHold)
            .where(AwardHold.candidate_id == candidate.id, AwardHold.lifted_at.is_(None))
            .order_by(AwardHold.placed_at)
        )
    )


def holds_on(programme: Programme) -> list[AwardHold]:
    """Who has ``programme`` on hold, newest first (the Ready to issue page lists them)."""
    return list(
        db.session.scalars(
            sa.select(AwardHold)
            .where(AwardHold.programme_id == programme.id, AwardHold.lifted_at.is_(None))
            .options(sa.orm.joinedload(AwardHold.candidate))
            .order_by(AwardHold.placed_at.desc())
        )
    )


def on_hold_ids(programme: Programme) -> sa.Select[int]:
    """The ids of the candidates who have ``programme`` on hold, for a NOT IN."""
    return sa.select(AwardHold.candidate_id).where(
        AwardHold.programme_id == programme.id, AwardHold.lifted_at.is_(None)
    )
