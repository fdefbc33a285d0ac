"""The joint award: each partner body approves before its own seal, and revokes with the
other.

A programme whose approval policy is ``both_bodies`` is never issued in one act. The office
*requests* it (:func:`request_award`): the requirements are checked, the printed snapshot is
frozen and a code reserved, and nothing is valid yet. An officer of each body approves for
their own body (:func:`approve_request`), and that body's branding as it stands then is what
its half of the certificate prints. When the last body approves, the certificate is rendered
from the snapshot, sealed with the keys of the bodies that approved (never another), and
stored under the reserved code. Either body may reject a request instead.

Revoking works the same way round: the first body's revocation suspends the certificate at
once; the other body's revokes it for good, or reinstates it.

A programme whose policy is ``office`` keeps the office's single acts
(:mod:`certification.certificates.services`); the functions here dispatch on the policy, so
that the admin pages and the API call one function whatever the programme.

Every function flushes and writes its audit event (the body and the person); none commits.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

import sqlalchemy as sa
from flask_babel import gettext
from sqlalchemy.exc import IntegrityError

from certification.audit import record_event
from certification.auth.models import Role, User
from certification.catalogue.models import ApprovalPolicy, Programme
from certification.certificates.codes import normalise_code
from certification.certificates.models import (
    AwardRequest,
    BodyApproval,
    Certificate,
    PartnerBody,
    RequestState,
)
from certification.certificates.pdf import CertificateSnapshot
from certification.certificates.renewal import renewal_of
from certification.certificates.services import (
    AlreadyRequested,
    RequirementsNotMet,
    certificate_reinstated,
    certificate_suspended,
    issue_certificate,
    issuer_entry,
    lock_candidate,
    lock_fresh,
    pending_request,
    prepare_certificate,
    record_revocation,
    refuse_unless_current,
    refuse_unless_eligible,
    refuse_unless_revocable,
    reissue_certificate,
    reissue_draft,
    render_and_seal,
    renew_certificate,
    renewal_draft,
    revocation_reason,
    revoke_certificate,
    sealing_setup,
    snapshot_of,
    store_certificate,
    supersede,
    two_bodies,
)
from certification.certificates.settings import current_settings
from certification.dates import format_long_date
from certification.errors import Conflict, Forbidden, NotFound, RuleViolation
from certification.extensions import db
from certification.progress import (
    RENEWAL_DUE_SOON_DAYS,
    RenewalState,
    format_decimal,
    subtract_months,
)
from certification.records.models import AssessmentAttempt
from certification.records.services import load_transcript
from certification.types import utcnow

# ---------------------------------------------------------------- requesting


def request_award(
    candidate: User,
    programme: Programme,
    actor: User | None,
    *,
    today: dt.date,
    now: dt.datetime | None = None,
) -> Certificate | AwardRequest:
    """Issue ``programme`` to ``candidate`` (policy ``office``: sealed and stored now), or
    request it from both bodies (``both_bodies``: a pending request with a reserved code).
    The requirements are checked either way; ``RequirementsNotMet``, ``AlreadyIssued``,
    ``AlreadyRequested`` or ``AwardOnHold`` refuse it."""
    _refuse_officers(actor, "request")
    if programme.approval is ApprovalPolicy.OFFICE:
        return issue_certificate(candidate, programme, actor, today=today, now=now)
    now = now or utcnow()
    lock_candidate(candidate)
    draft = prepare_certificate(candidate, programme, actor, today=today, now=now)
    snapshot = _printed(draft) | {
        "validity_months": programme.validity_months,
        # Not printed: what the officers read beside the credits before they approve.
        "results": _passed_results(candidate, programme),
    }
    return _store_request(draft, snapshot, actor, now=now, action="certificate.requested")


def reissue_award(
    certificate: Certificate,
    actor: User | None,
    *,
    full_name: str | None = None,
    language: str | None = None,
    now: dt.datetime | None = None,
) -> Certificate | AwardRequest:
    """Replace a current certificate (a corrected name, a copy in another language): at
    once for an award the office issues alone, else as a request both bodies approve like
    an issue. Until then the certificate stays as it is; the replacement keeps its award,
    credits and dates."""
    _refuse_officers(actor, "reissue")
    if certificate.programme.approval is ApprovalPolicy.OFFICE:
        return reissue_certificate(
            certificate, actor, full_name=full_name, language=language, now=now
        )
    now = now or utcnow()
    pending = pending_request(certificate.candidate, certificate.programme)
    if pending is not None:
        raise AlreadyRequested(pending.code)
    draft = reissue_draft(certificate, actor, full_name=full_name, language=language, now=now)
    snapshot = _printed(draft) | {
        "issued_on": draft.issued_on.isoformat(),
        "expires_on": draft.expires_on.isoformat() if draft.expires_on else None,
    }
    return _store_request(
        draft,
        snapshot,
        actor,
        now=now,
        action="certificate.reissue_requested",
        replaces=certificate,
    )


def renew_award(
    certificate: Certificate,
    actor: User | None,
    *,
    today: dt.date,
    now: dt.datetime | None = None,
) -> Certificate | AwardRequest:
    """Renew ``certificate`` for another period once its holder has met the programme's
    renewal rule (their CPD points), while it is valid or in the grace period after it
    lapsed: at once for an award the office issues alone, else as a request both bodies
    approve like an issue. The holder or the office asks; ``RequirementsNotMet`` says what
    is still missing, ``not_renewable`` when nothing can renew it any more."""
    if actor is not None and actor.role is not Role.OFFICE and actor.id != certificate.candidate_id:
        raise Forbidden(gettext("Only the holder or the programme office may ask for a renewal."))
    now = now or utcnow()
    lock_candidate(certificate.candidate)
    _refuse_unless_renewable(certificate, today)
    if certificate.programme.approval is ApprovalPolicy.OFFICE:
        return renew_certificate(certificate, actor, today=today, now=now)
    pending = pending_request(certificate.candidate, certificate.programme)
    if pending is not None:
        raise AlreadyRequested(pending.code)
    draft = renewal_draft(certificate, actor, today=today, now=now)
    snapshot = _printed(draft) | {
        # Issued on the day of the last approval; valid until the new period ends.
        "renews": certificate.code,
        "expires_on": draft.expires_on.isoformat() if draft.expires_on else None,
    }
    return _store_request(
        draft,
        snapshot,
        actor,
        now=now,
        action="certificate.renewal_requested",
        replaces=certificate,
    )


def _refuse_unless_renewable(certificate: Certificate, today: dt.date) -> None:
    """``not_renewable`` unless ``certificate`` is renewed through CPD and may be now;
    ``RequirementsNotMet`` (with the engine's sentences) unless its holder has the points."""
    report = renewal_of(certificate, today)
    if report is None or report.state is RenewalState.LAPSED:
        raise RuleViolation(
            gettext(
                "This certificate cannot be renewed: its award is not renewed through CPD, "
                "or it is no longer current, or its grace period has ended."
            ),
            slug="not_renewable",
        )
    if not report.met:
        raise RequirementsNotMet(list(report.missing))
    if not report.renewable_now:
        raise RuleViolation(
            gettext(
                "Renewal opens on %(day)s, %(days)s days before the certificate expires.",
                day=format_long_date(report.opens_on),
                days=RENEWAL_DUE_SOON_DAYS,
            ),
            slug="renewal_not_open",
        )


def _passed_results(candidate: User, programme: Programme) -> list[dict[str, str]]:
    """The best passing result of each assessment ``programme`` requires, as JSON."""
    required = {a.id for a in programme.required_assessments}
    best: dict[str, AssessmentAttempt] = {}
    for attempt in load_transcript(candidate).attempts:
        assessment = attempt.assessment
        if attempt.assessment_id not in required or attempt.score < assessment.pass_mark:
            continue
        kept = best.get(assessment.code)
        if kept is None or attempt.score > kept.score:
            best[assessment.code] = attempt
    return [
        {
            "assessment": code,
            "score": format_decimal(attempt.score),
            "taken_on": attempt.taken_on.isoformat(),
        }
        for code, attempt in sorted(best.items())
    ]


def _printed(draft: Certificate) -> dict[str, Any]:
    """What the certificate will print, as JSON."""
    return {
        "holder_name": draft.holder_name,
        "language": draft.language,
        "award_title": draft.award_title,
        "translated": dict(draft.translated or {}),
        "level": draft.level,
        "eqf_level": draft.eqf_level,
        "credits_total": str(draft.credits_total),
        "credits_by_domain": dict(draft.credits_by_domain),
        "verify_url": current_settings().verify_url(draft.code),
    }


def _store_request(
    draft: Certificate,
    snapshot: dict[str, Any],
    actor: User | None,
    *,
    now: dt.datetime,
    action: str,
    replaces: Certificate | None = None,
) -> AwardRequest:
    request = AwardRequest(
        code=draft.code,
        candidate_id=draft.candidate.id,
        programme_id=draft.programme.id,
        replaces=replaces,
        snapshot=snapshot,
        requested_at=now,
        requested_by_id=actor.id if actor else None,
    )
    try:
        with db.session.begin_nested():
            db.session.add(request)
    except IntegrityError:
        # Two requests at once (the lock could not prevent it): the index keeps one.
        other = pending_request(draft.candidate, draft.programme)
        if other is None:
            raise
        raise AlreadyRequested(other.code) from None
    record_event(
        actor,
        action,
        "certificate",
        request.code,
        after={
            "candidate_id": draft.candidate.id,
            "programme": draft.programme.code,
            "holder_name": snapshot["holder_name"],
            "replaces": replaces.code if replaces else None,
        },
    )
    return request


# ---------------------------------------------------------------- approving and rejecting


def find_request(text: str) -> AwardRequest:
    """The request a typed code names (any case, spaces or hyphens)."""
    try:
        code = normalise_code(text)
    except ValueError:
        raise NotFound(gettext("No award request has this code.")) from None
    request = db.session.scalar(sa.select(AwardRequest).where(AwardRequest.code == code))
    if request is None:
        raise NotFound(gettext("No award request has this code."))
    return request


def approve_request(
    request: AwardRequest,
    officer: User | None,
    *,
    today: dt.date,
    body: str | None = None,
    now: dt.datetime | None = None,
    prepared: Sealed | None = None,
    in_batch: bool = False,
) -> AwardRequest:
    """Approve ``request`` for the officer's own partner body (``body``, if named, must be
    it). When this is the last body to approve, the certificate is rendered from the
    request's snapshot, sealed by each body that approved, and stored: the request's
    ``certificate``. ``already_approved`` (409) for a body's second approval.

    A bulk approval passes the PDF it rendered and sealed beforehand for this approval
    (``prepared``, see :func:`prepared_approval`); it is used only if the certificate would
    print exactly that snapshot now, and is rendered again otherwise. ``in_batch``: the bulk
    approval has locked its batch's candidates, loaded ``request`` in this transaction and
    checked their requirements, so it is not done again for each request."""
    own = _officer_body(officer, "approve", body)
    now = now or utcnow()
    if in_batch:
        _refuse_unless_pending(request)
    else:
        _lock_pending(request)
    if request.approved_by(own) is not None:
        raise Conflict(
            gettext("%(body)s has already approved %(code)s.", body=own, code=request.code),
            slug="already_approved",
        )
    bodies = two_bodies()  # read once: a bulk approval calls this a thousand times
    approval = _approval(own, officer, bodies, today=today, now=now)
    try:
        with db.session.begin_nested():
            request.approvals.append(approval)
    except IntegrityError:
        raise Conflict(
            gettext("%(body)s has already approved %(code)s.", body=own, code=request.code),
            slug="already_approved",
        ) from None
    record_event(
        officer,
        "certificate.approved",
        "certificate",
        request.code,
        after={"body": own, "approved_on": today.isoformat()},
    )
    if _complete(request.approvals, bodies):
        _issue_approved(
            request,
            officer,
            bodies,
            today=today,
            now=now,
            prepared=prepared,
            check_requirements=not in_batch,
        )
    return request


@dataclass(frozen=True)
class Sealed:
    """A certificate rendered and sealed ahead of its approval (by a bulk approval's pool):
    the snapshot it printed, the issuers it was built with, the PDF and its SHA-256."""

    snapshot: CertificateSnapshot
    issuers: list[dict[str, Any]]
    pdf: bytes
    sha256: str

    def images(self) -> dict[str, bytes]:
        """The logos and signatures it printed, by SHA-256: what a certificate naming the
        same images prints, without reading them again."""
        found: dict[str, bytes] = {}
        for entry, printed in zip(self.issuers, self.snapshot.issuers, strict=True):
            for key, image in (
                ("logo_sha256", printed.logo),
                ("signature_sha256", printed.signature),
            ):
                if entry.get(key) and image is not None:
                    found[entry[key]] = image
        return found


def prepared_approval(
    request: AwardRequest,
    officer: User,
    *,
    today: dt.date,
    now: dt.datetime,
    body: str | None = None,
) -> tuple[Certificate, CertificateSnapshot] | None:
    """If ``officer``'s approval would be the last one ``request`` needs: the certificate
    it would issue and the snapshot to render and seal ahead (a bulk approval does that in
    a pool of processes). Reads only; nothing is added to the session."""
    body = _officer_body(officer, "approve", body)
    if request.state is not RequestState.PENDING or request.approved_by(body) is not None:
        return None
    bodies = two_bodies()
    approvals = [*request.approvals, _approval(body, officer, bodies, today=today, now=now)]
    if not _complete(approvals, bodies):
        return None
    certificate = approved_certificate(request, bodies, today=today, now=now, approvals=approvals)
    return certificate, snapshot_of(certificate, current_settings())


def _approval(
    body: str,
    officer: User | None,
    bodies: list[PartnerBody],
    *,
    today: dt.date,
    now: dt.datetime,
) -> BodyApproval:
    """``body``'s approval by ``officer``, with the body's branding as it stands now."""
    return BodyApproval(
        body=body,
        approved_at=now,
        approved_on=today,
        approved_by_id=officer.id if officer else None,
        issuer=issuer_entry(_body_named(body, bodies)),
    )


def _complete(approvals: list[BodyApproval], bodies: list[PartnerBody]) -> bool:
    return {a.body for a in approvals} >= {b.short_name for b in bodies}


def reject_request(
    request: AwardRequest,
    officer: User | None,
    reason: str,
    *,
    body: str | None = None,
    now: dt.datetime | None = None,
) -> AwardRequest:
    """End ``request`` for the officer's body, with a reason the office and the audit keep.
    Nothing is issued; the award may be requested for the candidate again later."""
    own = _officer_body(officer, "reject", body)
    reason = revocation_reason(reason)
    _lock_pending(request)
    return _record_rejection(request, own, reason, officer, now=now or utcnow())


def _record_rejection(
    request: AwardRequest,
    body: str | None,
    reason: str,
    actor: User | None,
    *,
    now: dt.datetime,
    **audited: str,
) -> AwardRequest:
    """End a pending ``request``: rejected by ``body`` (None: the office), with the reason
    and the audit event (``audited`` adds to it)."""
    request.state = RequestState.REJECTED
    request.decided_at = now
    request.rejected_by_body = body
    request.rejection_reason = reason
    request.rejected_by_id = actor.id if actor else None
    db.session.flush()
    record_event(
        actor,
        "certificate.rejected",
        "certificate",
        request.code,
        after={"body": body, "reason": reason, **audited},
    )
    return request


def _issue_approved(
    request: AwardRequest,
    actor: User | None,
    bodies: list[PartnerBody],
    *,
    today: dt.date,
    now: dt.datetime,
    prepared: Sealed | None = None,
    check_requirements: bool = True,
) -> None:
    """Render, seal (with the approving bodies' keys only) and store the certificate. An
    award is issued only to a candidate who still meets it (a credit may have been withdrawn
    since the request); a reissue keeps the award it corrects."""
    if request.snapshot.get("renews") and request.replaces is not None:
        # The points may have been withdrawn, or the grace period ended, since the request.
        _refuse_unless_renewable(request.replaces, today)
    elif request.replaces is None and check_requirements:
        refuse_unless_eligible(request.candidate, request.programme, today)
    certificate = approved_certificate(request, bodies, today=today, now=now)
    settings = current_settings()
    if prepared is not None and (
        snapshot_of(certificate, settings, prepared.images()) == prepared.snapshot
    ):
        certificate.pdf, certificate.pdf_sha256 = prepared.pdf, prepared.sha256
    else:
        setup = sealing_setup([a.body for a in request.approvals])
        certificate.pdf, certificate.pdf_sha256 = render_and_seal(
            snapshot_of(certificate, settings), setup
        )
    if request.replaces is not None:
        lock_fresh(request.replaces)
        refuse_unless_current(request.replaces)
        supersede(request.replaces, certificate, actor, now=now)
    else:
        store_certificate(certificate, actor, today=today, approved=request)
    request.state = RequestState.ISSUED
    request.decided_at = now
    request.certificate = certificate
    db.session.flush()


def approved_certificate(
    request: AwardRequest,
    bodies: list[PartnerBody],
    *,
    today: dt.date,
    now: dt.datetime,
    approvals: list[BodyApproval] | None = None,
) -> Certificate:
    """The certificate a fully approved ``request`` becomes (not yet sealed): its snapshot,
    each body's branding as it approved, issued today (a reissue keeps its dates).
    ``approvals``: those stored and the one about to be, when it is not stored yet."""
    printed = request.snapshot
    order = {b.short_name: b.position for b in bodies}
    approvals = sorted(
        request.approvals if approvals is None else approvals,
        key=lambda a: order.get(a.body, 99),
    )
    renews_id = request.replaces_id if printed.get("renews") else None
    expires_on: dt.date | None
    if renews_id is not None:
        issued_on, expires_on = today, dt.date.fromisoformat(printed["expires_on"])
    elif "issued_on" in printed:
        issued_on = dt.date.fromisoformat(printed["issued_on"])
        expires = printed["expires_on"]
        expires_on = dt.date.fromisoformat(expires) if expires else None
        # A reissue of a renewal still continues its award.
        renews_id = request.replaces.renews_id if request.replaces else None
    else:
        issued_on = today
        months = printed.get("validity_months")
        expires_on = subtract_months(today, -months) if months else None
    return Certificate(
        code=request.code,
        candidate=request.candidate,
        candidate_id=request.candidate_id,
        programme=request.programme,
        programme_id=request.programme_id,
        holder_name=printed["holder_name"],
        language=printed.get("language", "en"),  # requests made before languages: English
        award_title=printed["award_title"],
        translated=printed.get("translated", {}),  # requests made before: English wording
        level=printed["level"],
        eqf_level=printed["eqf_level"],
        credits_total=Decimal(printed["credits_total"]),
        credits_by_domain=dict(printed["credits_by_domain"]),
        issued_at=now,
        issued_on=issued_on,
        expires_on=expires_on,
        verify_url=printed["verify_url"],
        issued_by_id=request.requested_by_id,
        issuers=[a.issuer for a in approvals],
        approvals=[{"body": a.body, "approved_on": a.approved_on.isoformat()} for a in approvals],
        renews_id=renews_id,
    )


def _lock_pending(request: AwardRequest) -> None:
    """Serialise decisions on the candidate's awards, re-read the request and its
    approvals, and refuse one that is no longer pending."""
    lock_candidate(request.candidate)
    db.session.refresh(request)
    db.session.refresh(request, ["approvals"])
    _refuse_unless_pending(request)


def _refuse_unless_pending(request: AwardRequest) -> None:
    if request.state is not RequestState.PENDING:
        message = (
            gettext("%(code)s was already issued.", code=request.code)
            if request.state is RequestState.ISSUED
            else gettext("%(code)s was already rejected.", code=request.code)
        )
        raise Conflict(message, slug="not_pending")


# ---------------------------------------------------------------- revoking


def revoke_award(
    certificate: Certificate,
    reason: str,
    actor: User | None,
    *,
    body: str | None = None,
    now: dt.datetime | None = None,
) -> Certificate:
    """Revoke a certificate: the office alone for an award it issues alone; else the first
    body's revocation suspends it at once, and the other body's revokes it. Either way a
    reissue of it still awaiting approval is rejected (it could never be issued), and the
    holder is told by e-mail."""
    if certificate.programme.approval is ApprovalPolicy.OFFICE:
        _refuse_officers(actor, "revoke")
        revoke_certificate(certificate, reason, actor, now=now)
        _end_pending_reissue(certificate, None, actor, now=certificate.revoked_at or utcnow())
        return certificate
    own = _officer_body(actor, "revoke", body)
    reason = revocation_reason(reason)
    now = now or utcnow()
    lock_fresh(certificate)
    if revocation_effect(certificate, actor, body=body) == "suspend":
        certificate.suspended_at = now
        certificate.suspended_by_body = own
        certificate.suspension_reason = reason
        certificate.suspended_by_id = actor.id if actor else None
        db.session.flush()
        record_event(
            actor,
            "certificate.suspended",
            "certificate",
            certificate.code,
            after={"body": own, "reason": reason},
        )
        _end_pending_reissue(certificate, own, actor, now=now)
        certificate_suspended.send(certificate)
        return certificate
    record_revocation(
        certificate,
        reason,
        actor,
        now=now,
        detail={"body": own, "requested_by": certificate.suspended_by_body},
    )
    _end_pending_reissue(certificate, own, actor, now=now)
    return certificate


def revocation_effect(
    certificate: Certificate, actor: User | None, *, body: str | None = None
) -> Literal["suspend", "revoke"]:
    """What :func:`revoke_award` by ``actor`` would do to ``certificate`` as it stands:
    ``suspend`` (the first body's request) or ``revoke``; it refuses as revoking would
    (``Forbidden`` not theirs to revoke, ``already_revoked``, ``superseded``,
    ``already_suspended`` by their own body). Changes nothing."""
    if certificate.programme.approval is ApprovalPolicy.OFFICE:
        _refuse_officers(actor, "revoke")
        refuse_unless_revocable(certificate)
        return "revoke"
    own = _officer_body(actor, "revoke", body)
    refuse_unless_revocable(certificate)
    if certificate.suspended_at is None:
        return "suspend"
    if certificate.suspended_by_body == own:
        raise Conflict(
            gettext(
                "%(body)s has already asked for this certificate's revocation; the other body"
                " decides: revoke or reinstate.",
                body=own,
            ),
            slug="already_suspended",
        )
    return "revoke"


def _end_pending_reissue(
    certificate: Certificate, body: str | None, actor: User | None, *, now: dt.datetime
) -> AwardRequest | None:
    """Reject the reissue of ``certificate`` awaiting approval, if any, now that it is
    suspended or revoked: the last approval would refuse it (``not_current``) after
    rendering it. ``body``: the body whose revocation ended it (None: the office's)."""
    request = db.session.scalar(
        sa.select(AwardRequest).where(
            AwardRequest.replaces_id == certificate.id,
            AwardRequest.state == RequestState.PENDING,
        )
    )
    if request is None:
        return None
    what = "revoked" if certificate.revoked_at is not None else "suspended"
    # Stored as the request's rejection reason, in the language of the page that ended it.
    if what == "revoked" and body:
        reason = gettext(
            "Ended because %(code)s, the certificate it would replace, was revoked by"
            " %(body)s: a certificate that is not current cannot be reissued.",
            code=certificate.code,
            body=body,
        )
    elif what == "revoked":
        reason = gettext(
            "Ended because %(code)s, the certificate it would replace, was revoked:"
            " a certificate that is not current cannot be reissued.",
            code=certificate.code,
        )
    elif body:
        reason = gettext(
            "Ended because %(code)s, the certificate it would replace, was suspended by"
            " %(body)s: a certificate that is not current cannot be reissued. Request the"
            " reissue again if it is reinstated.",
            code=certificate.code,
            body=body,
        )
    else:
        reason = gettext(
            "Ended because %(code)s, the certificate it would replace, was suspended:"
            " a certificate that is not current cannot be reissued. Request the reissue"
            " again if it is reinstated.",
            code=certificate.code,
        )
    return _record_rejection(
        request, body, reason, actor, now=now, replaces=certificate.code, because=what
    )


def reinstate_certificate(
    certificate: Certificate,
    reason: str,
    officer: User | None,
    *,
    body: str | None = None,
) -> Certificate:
    """Lift a suspension: the body that did not ask for the revocation declines it."""
    if certificate.programme.approval is ApprovalPolicy.OFFICE:
        raise Forbidden(
            gettext("The programme office decides on this award alone: it revokes it or leaves it.")
        )
    own = _officer_body(officer, "reinstate", body)
    reason = revocation_reason(reason)
    lock_fresh(certificate)
    if certificate.suspended_at is None or certificate.revoked_at is not None:
        raise Conflict(
            gettext("Only a suspended certificate can be reinstated."), slug="not_suspended"
        )
    if certificate.suspended_by_body == own:
        raise Conflict(
            gettext(
                "%(body)s asked for this revocation; the other body decides whether to reinstate.",
                body=own,
            ),
            slug="own_suspension",
        )
    before = {
        "suspended_by": certificate.suspended_by_body,
        "suspension_reason": certificate.suspension_reason,
    }
    suspended_at = certificate.suspended_at
    certificate.suspended_at = None
    certificate.suspended_by_body = None
    certificate.suspension_reason = None
    certificate.suspended_by_id = None
    db.session.flush()
    record_event(
        officer,
        "certificate.reinstated",
        "certificate",
        certificate.code,
        before=before,
        after={"body": own, "reason": reason},
    )
    certificate_reinstated.send(
        certificate,
        body=own,
        reason=reason,
        suspended_by=before["suspended_by"],
        suspended_at=suspended_at,
        reinstated_at=utcnow(),
    )
    return certificate


# ---------------------------------------------------------------- lists


def awaiting(body: str | None) -> sa.Select[AwardRequest]:
    """Pending requests ``body`` has not yet approved (None: every pending request, the
    office's view of the queue), oldest first."""
    statement = sa.select(AwardRequest).where(AwardRequest.state == RequestState.PENDING)
    if body is not None:
        approved = sa.select(BodyApproval.id).where(
            BodyApproval.request_id == AwardRequest.id, BodyApproval.body == body
        )
        statement = statement.where(~approved.exists())
    return statement.order_by(AwardRequest.requested_at, AwardRequest.id)


def pending_requests_of(candidate: User) -> list[AwardRequest]:
    """``candidate``'s requests awaiting approval, oldest first."""
    return list(
        db.session.scalars(
            sa.select(AwardRequest)
            .where(
                AwardRequest.candidate_id == candidate.id,
                AwardRequest.state == RequestState.PENDING,
            )
            .order_by(AwardRequest.requested_at)
        )
    )


def still_to_approve(request: AwardRequest) -> list[str]:
    """The bodies (short names, in order) that have not yet approved ``request``."""
    return [b.short_name for b in two_bodies() if request.approved_by(b.short_name) is None]


# ---------------------------------------------------------------- who may


def certificate_actions(certificate: Certificate, user: User) -> frozenset[str]:
    """What ``user`` may do to ``certificate`` now, of revoke, reinstate and reissue: the
    buttons their pages offer (the functions above refuse the rest)."""
    if not certificate.is_current or certificate.revoked_at is not None:
        return frozenset()
    if certificate.programme.approval is ApprovalPolicy.OFFICE:
        return frozenset({"revoke", "reissue"}) if user.role is Role.OFFICE else frozenset()
    if user.role is Role.OFFICE:
        return frozenset() if certificate.suspended_at else frozenset({"reissue"})
    if user.role is not Role.OFFICER:
        return frozenset()
    if certificate.suspended_at is None:
        return frozenset({"revoke"})
    if certificate.suspended_by_body == user.partner_body:
        return frozenset()
    return frozenset({"revoke", "reinstate"})


def _officer_body(actor: User | None, doing: str, named: str | None = None) -> str:
    """The partner body ``actor`` acts for; ``Forbidden`` for anyone but an officer, or
    for an officer naming the other body."""
    if (
        actor is None
        or actor.role is not Role.OFFICER
        or not actor.partner_body
        or not actor.active
    ):
        raise Forbidden(_officers_only(doing))
    if named is not None and named != actor.partner_body:
        raise Forbidden(
            gettext(
                "You act for %(body)s; %(named)s decides for itself.",
                body=actor.partner_body,
                named=named,
            ),
            {"body": _own_body_only(doing, actor.partner_body)},
        )
    return actor.partner_body


def _officers_only(doing: str) -> str:
    """The refusal of ``doing`` (approve, reject, revoke, reinstate) to anyone but an
    officer, one whole sentence for each."""
    if doing == "approve":
        return gettext("Only an officer of a partner body may approve, for their own body.")
    if doing == "reject":
        return gettext("Only an officer of a partner body may reject, for their own body.")
    if doing == "revoke":
        return gettext("Only an officer of a partner body may revoke, for their own body.")
    return gettext("Only an officer of a partner body may reinstate, for their own body.")


def _own_body_only(doing: str, body: str) -> str:
    """The field message for an officer naming the other body, for ``doing``."""
    if doing == "approve":
        return gettext("You may approve only for %(body)s.", body=body)
    if doing == "reject":
        return gettext("You may reject only for %(body)s.", body=body)
    if doing == "revoke":
        return gettext("You may revoke only for %(body)s.", body=body)
    return gettext("You may reinstate only for %(body)s.", body=body)


def _refuse_officers(actor: User | None, doing: str) -> None:
    """Officers approve and revoke for their body; the office requests and corrects.
    ``doing``: request, reissue or revoke (an award the office issues alone)."""
    if actor is not None and actor.role is not Role.OFFICE:
        if doing == "request":
            raise Forbidden(gettext("Only the programme office may request an award."))
        if doing == "reissue":
            raise Forbidden(gettext("Only the programme office may reissue a certificate."))
        raise Forbidden(
            gettext("Only the programme office may revoke an award the programme office issues.")
        )


def _body_named(short_name: str, bodies: list[PartnerBody]) -> PartnerBody:
    for body in bodies:
        if body.short_name == short_name:
            return body
    raise NotFound(gettext("There is no partner body %(body)s.", body=short_name))
