"""Everything held about a candidate, as one ZIP for them to download (GDPR articles 15 and
20: the right of access and the right to data portability).

JSON files (UTF-8, indented; dates ISO 8601, decimals as text so that no digit is lost)
and the files as they were issued: each certificate's signed PDF, its signed credential
and the copies wallets received. No one else's personal data goes in: a person who acted
on the candidate's records (the programme office, an officer, provider staff) is named by
role and body only, never by name or e-mail, and e-mails are listed without their text
(which may name the person who sent the invitation, or carry a one-time link).

Erasure (GDPR article 17) works from the same inventory of what is held
(:data:`ERASURE_INVENTORY`): a holder asks, the programme office carries it out or says why
not yet, and carrying it out removes the account's personal data and records in one
transaction, keeping only what public verification of an issued certificate needs (the
certificate as printed: name, award, dates, code, its sealed PDF and signed credential) and
the audit trail, which the law obliges the bodies to keep (article 17(3)(b) and (e)).
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import io
import json
import re
import zipfile
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale, gettext
from sqlalchemy.exc import IntegrityError

from certification.audit import AuditEvent, record_event
from certification.auth.models import ApiToken, PasswordSetupLink, RecoveryCode, Role, User
from certification.auth.passwords import password_matches
from certification.auth.services import end_sessions, get_candidate
from certification.catalogue.models import Provider
from certification.certificates.models import (
    ACTIVE_JOB_STATUSES,
    AwardHold,
    AwardRequest,
    Certificate,
    IssueItemState,
    IssueJob,
    IssueJobItem,
    RequestState,
    Verification,
)
from certification.certificates.services import certificates_of, lock_candidate, status_in_words
from certification.claims.models import Claim, ClaimEvidence, ClaimState
from certification.claims.services import download_name
from certification.credentials.models import (
    IssuedCredential,
    WalletDelivery,
    WalletGrant,
    WalletToken,
)
from certification.errors import Conflict, Forbidden, InvalidInput
from certification.extensions import db
from certification.idempotency import IdempotencyKey
from certification.imports.models import ImportUpload
from certification.mail.models import OutgoingEmail
from certification.mail.services import queue_erasure_refused
from certification.privacy_models import ErasureRequest, ErasureStatus
from certification.records.models import (
    AssessmentAttempt,
    CpdActivity,
    CreditRecord,
    ProgrammeStanding,
    Withdrawable,
)
from certification.records.services import cpd_activities
from certification.validation import FieldErrors, check_text, clean_text, name_search_key


def export_personal_data(candidate: User, now: dt.datetime) -> bytes:
    """The candidate's download of their data: the ZIP, and an audit event saying that it
    was made (only that: the data stays out of the trail)."""
    archive = personal_data_zip(candidate, now)
    record_event(candidate, "privacy.exported", "user", candidate.id)
    return archive


def personal_data_zip(candidate: User, now: dt.datetime) -> bytes:
    """The ZIP of everything held about ``candidate`` as of ``now`` (an aware moment), in
    the language they read; the same bytes for the same data and moment."""
    with force_locale(candidate.reads):
        return _zip(candidate, now)


def _zip(candidate: User, now: dt.datetime) -> bytes:
    zone = ZoneInfo(current_app.config["APP_TIMEZONE"])
    today = now.astimezone(zone).date()
    actors = _ActorWords(candidate)
    certificates = sorted(certificates_of(candidate), key=lambda c: (c.issued_at, c.id))
    files: dict[str, bytes] = {
        "profile.json": _json(_profile(candidate, now)),
        "credits.json": _json(_credits(candidate, actors)),
        "results.json": _json(_results(candidate, actors)),
        "cpd.json": _json(_cpd(candidate, actors)),
        "certificates.json": _json(_certificates(certificates, today, zone, actors)),
        "requests.json": _json(_requests(candidate, actors)),
        "holds.json": _json(_holds(candidate, actors)),
        "emails.json": _json(_emails(candidate)),
        "audit.json": _json(_audit(candidate, certificates, actors)),
        "claims.json": _json(_claims(candidate, actors)),
    }
    files.update(_documents(certificates))
    files.update(_claim_files(candidate))
    readme = _readme(candidate, now)
    out = io.BytesIO()
    stamp = now.astimezone(dt.UTC).timetuple()[:6]  # each file's time: the export's
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in [("README.txt", readme.encode()), *sorted(files.items())]:
            entry = zipfile.ZipInfo(name, date_time=stamp)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            archive.writestr(entry, content)
    return out.getvalue()


# ---------------------------------------------------------------- the files


def _profile(candidate: User, now: dt.datetime) -> dict[str, Any]:
    links = db.session.scalars(
        sa.select(PasswordSetupLink)
        .where(PasswordSetupLink.user_id == candidate.id)
        .order_by(PasswordSetupLink.created_at, PasswordSetupLink.id)
    )
    return {
        "exported_at": now,
        "id": candidate.id,
        "full_name": candidate.full_name,
        "email": candidate.email,
        "country": candidate.country,
        "language": candidate.language,
        "role": candidate.role.value,
        "active": candidate.active,
        "created_at": candidate.created_at,
        "password_set": candidate.password_hash is not None,
        # Only that a link was made and what became of it: never the link itself.
        "password_links": [
            {"created_at": link.created_at, "expires_at": link.expires_at, "used_at": link.used_at}
            for link in links
        ],
    }


def _withdrawal(record: Withdrawable, actors: _ActorWords) -> dict[str, Any]:
    return {
        "withdrawn": record.is_withdrawn,
        "withdrawn_at": record.withdrawn_at,
        "withdrawn_by": actors.of_id(record.withdrawn_by_id) if record.is_withdrawn else None,
        "withdrawal_reason": record.withdrawal_reason,
    }


def _credits(candidate: User, actors: _ActorWords) -> list[dict[str, Any]]:
    records = db.session.scalars(
        sa.select(CreditRecord)
        .where(CreditRecord.candidate_id == candidate.id)
        .options(sa.orm.joinedload(CreditRecord.course))
        .order_by(CreditRecord.completed_on, CreditRecord.id)
    )
    return [
        {
            "id": r.id,
            "course": r.course.code,
            "course_title": r.course.title,
            "provider": r.course.provider,
            "domain": r.course.domain,
            "credits": r.course.credits,
            "completed_on": r.completed_on,
            "recorded_at": r.recorded_at,
            "recorded_by": actors.of_id(r.recorded_by_id),
            **_withdrawal(r, actors),
        }
        for r in records
    ]


def _results(candidate: User, actors: _ActorWords) -> list[dict[str, Any]]:
    attempts = db.session.scalars(
        sa.select(AssessmentAttempt)
        .where(AssessmentAttempt.candidate_id == candidate.id)
        .options(sa.orm.joinedload(AssessmentAttempt.assessment))
        .order_by(AssessmentAttempt.taken_on, AssessmentAttempt.id)
    )
    return [
        {
            "id": a.id,
            "assessment": a.assessment.code,
            "assessment_title": a.assessment.title,
            "attempt_number": a.attempt_number,
            "score": a.score,
            "pass_mark": a.assessment.pass_mark,
            "passed": a.score >= a.assessment.pass_mark,
            "taken_on": a.taken_on,
            "recorded_at": a.recorded_at,
            "recorded_by": actors.of_id(a.recorded_by_id),
            **_withdrawal(a, actors),
        }
        for a in attempts
    ]


def _cpd(candidate: User, actors: _ActorWords) -> list[dict[str, Any]]:
    return [
        {
            "id": a.id,
            "title": a.title,
            "organiser": a.organiser,
            "activity_on": a.activity_on,
            "points": a.points,
            "domain": a.domain,
            "source": a.source.value,
            "reference": a.reference,
            "recorded_at": a.recorded_at,
            "recorded_by": actors.of_id(a.recorded_by_id),
            **_withdrawal(a, actors),
        }
        for a in sorted(cpd_activities(candidate), key=lambda a: (a.activity_on, a.id))
    ]


def _certificates(
    certificates: list[Certificate], today: dt.date, zone: dt.tzinfo, actors: _ActorWords
) -> list[dict[str, Any]]:
    looked_up: dict[int, Counter[tuple[str, str]]] = {c.id: Counter() for c in certificates}
    if certificates:
        for certificate_id, channel, at in db.session.execute(
            sa.select(Verification.certificate_id, Verification.channel, Verification.verified_at)
            .where(Verification.certificate_id.in_(looked_up))
            .order_by(Verification.id)
        ):
            day = at.astimezone(zone).date().isoformat()
            looked_up[certificate_id][(channel, day)] += 1
    with_credential = set(
        db.session.scalars(
            sa.select(IssuedCredential.certificate_id).where(
                IssuedCredential.certificate_id.in_(looked_up)
            )
        )
    )
    return [
        {
            "code": c.code,
            "programme": c.programme.code,
            "status_today": c.status_on(today).value,
            "status_in_words": status_in_words(c, today, zone),
            "status_as_of": today,
            "issued_at": c.issued_at,
            "issued_on": c.issued_on,
            "expires_on": c.expires_on,
            "issued_by": actors.of_id(c.issued_by_id),
            "printed": {
                "holder_name": c.holder_name,
                "award_title": c.award_title,
                "level": c.level,
                "eqf_level": c.eqf_level,
                "credits_total": c.credits_total,
                "credits_by_domain": c.credits_by_domain,
                "language": c.language,
                "translated": c.translated,
                "verify_url": c.verify_url,
                "issuers": c.issuers,
            },
            "approvals": c.approvals,
            "pdf": f"certificates/{c.code}.pdf",
            "pdf_sha256": c.pdf_sha256,
            "credential": f"credentials/{c.code}.json" if c.id in with_credential else None,
            "suspended_at": c.suspended_at,
            "suspended_by_body": c.suspended_by_body,
            "suspension_reason": c.suspension_reason,
            "revoked_at": c.revoked_at,
            "revocation_reason": c.revocation_reason,
            "superseded_at": c.superseded_at,
            "superseded_by": c.replacement_code,
            "verifications": {
                "total": sum(looked_up[c.id].values()),
                "by_channel_and_day": [
                    {"channel": channel, "day": day, "count": count}
                    for (channel, day), count in sorted(looked_up[c.id].items())
                ],
            },
        }
        for c in certificates
    ]


def _documents(certificates: list[Certificate]) -> dict[str, bytes]:
    """The files as issued: each PDF, each signed credential, each wallet's copy."""
    files = {f"certificates/{c.code}.pdf": c.pdf for c in certificates}
    by_id = {c.id: c.code for c in certificates}
    if not by_id:
        return files
    for credential in db.session.scalars(
        sa.select(IssuedCredential).where(IssuedCredential.certificate_id.in_(by_id))
    ):
        files[f"credentials/{by_id[credential.certificate_id]}.json"] = credential.document.encode()
    deliveries = db.session.scalars(
        sa.select(WalletDelivery)
        .where(WalletDelivery.certificate_id.in_(by_id))
        .order_by(WalletDelivery.delivered_at, WalletDelivery.grant_id)
    )
    numbers: Counter[int] = Counter()
    for delivery in deliveries:
        numbers[delivery.certificate_id] += 1
        code = by_id[delivery.certificate_id]
        files[f"credentials/{code}.wallet-{numbers[delivery.certificate_id]}.json"] = (
            delivery.document.encode()
        )
    return files


def _requests(candidate: User, actors: _ActorWords) -> list[dict[str, Any]]:
    requests = db.session.scalars(
        sa.select(AwardRequest)
        .where(AwardRequest.candidate_id == candidate.id)
        .order_by(AwardRequest.requested_at, AwardRequest.id)
    )
    return [
        {
            "code": r.code,
            "programme": r.programme.code,
            "state": r.state.value,
            "replaces": r.replaces.code if r.replaces is not None else None,
            "snapshot": r.snapshot,
            "requested_at": r.requested_at,
            "requested_by": actors.of_id(r.requested_by_id),
            "approvals": [{"body": a.body, "approved_on": a.approved_on} for a in r.approvals],
            "decided_at": r.decided_at,
            "rejected_by_body": r.rejected_by_body,
            "rejection_reason": r.rejection_reason,
            "certificate": r.certificate.code if r.certificate is not None else None,
        }
        for r in requests
    ]


def _holds(candidate: User, actors: _ActorWords) -> list[dict[str, Any]]:
    holds = db.session.scalars(
        sa.select(AwardHold)
        .where(AwardHold.candidate_id == candidate.id)
        .order_by(AwardHold.placed_at, AwardHold.id)
    )
    return [
        {
            "programme": h.programme.code,
            "certificate": h.certificate_code,
            "reason": h.reason,
            "placed_at": h.placed_at,
            "placed_by": actors.of_id(h.placed_by_id),
            "lifted_at": h.lifted_at,
            "lifted_by": actors.of_id(h.lifted_by_id) if h.lifted_at else None,
            "lift_reason": h.lift_reason,
        }
        for h in holds
    ]


def _claims_of(candidate: User) -> list[Claim]:
    return list(
        db.session.scalars(
            sa.select(Claim)
            .where(Claim.candidate_id == candidate.id)
            .options(sa.orm.selectinload(Claim.evidence), sa.orm.joinedload(Claim.course))
            .order_by(Claim.created_at, Claim.id)
        )
    )


def _evidence_path(evidence: ClaimEvidence) -> str:
    return f"claims/{evidence.claim_id}/{evidence.id}-{download_name(evidence)}"


def _claims(candidate: User, actors: _ActorWords) -> list[dict[str, Any]]:
    return [
        {
            "id": c.id,
            "kind": c.kind.value,
            "course": c.course.code if c.course is not None else None,
            "title": c.title,
            "organiser": c.organiser,
            "activity_on": c.activity_on,
            "hours": c.hours,
            "points": c.points,
            "domain": c.domain,
            "state": c.state.value,
            "created_at": c.created_at,
            "reviewed_at": c.reviewed_at,
            "reviewed_by": actors.of_id(c.reviewed_by_id) if c.reviewed_at else None,
            "rejection_reason": c.rejection_reason,
            "credit_record": c.credit_record_id,
            "cpd_activity": c.cpd_activity_id,
            "evidence": [
                {
                    "filename": e.filename,
                    "media_type": e.media_type,
                    "size": e.size,
                    "sha256": e.sha256,
                    "sent_at": e.created_at,
                    # Deleted: a rejected claim's evidence is kept for a while only.
                    "deleted_at": e.deleted_at,
                    "file": None if e.is_deleted else _evidence_path(e),
                }
                for e in c.evidence
            ],
        }
        for c in _claims_of(candidate)
    ]


def _claim_files(candidate: User) -> dict[str, bytes]:
    """The evidence the candidate sent with their claims, as sent (but what was deleted)."""
    held = db.session.scalars(
        sa.select(ClaimEvidence)
        .join(Claim, Claim.id == ClaimEvidence.claim_id)
        .where(Claim.candidate_id == candidate.id, ClaimEvidence.data.is_not(None))
        .options(sa.orm.undefer(ClaimEvidence.data))
        .order_by(ClaimEvidence.id)
    )
    return {_evidence_path(e): e.data for e in held if e.data is not None}


def _emails_of(candidate: User) -> list[OutgoingEmail]:
    return list(
        db.session.scalars(
            sa.select(OutgoingEmail)
            .where(
                sa.or_(
                    OutgoingEmail.candidate_id == candidate.id,
                    OutgoingEmail.recipient == candidate.email,
                )
            )
            .order_by(OutgoingEmail.created_at, OutgoingEmail.id)
        )
    )


def _emails(candidate: User) -> list[dict[str, Any]]:
    return [
        {
            "id": e.id,
            "kind": e.kind.value,
            "recipient": e.recipient,
            "subject": e.subject,
            "certificate": e.certificate.code if e.certificate is not None else None,
            "status": e.status.value,
            "created_at": e.created_at,
            "sent_at": e.sent_at,
        }
        for e in _emails_of(candidate)
    ]


def audit_events_about(candidate: User, certificates: Iterable[Certificate]) -> list[AuditEvent]:
    """The audit rows about ``candidate``: their account and records (object ``user`` and
    their id), their certificates and award requests (object ``certificate`` and its code),
    the e-mails to them, and what they did themselves; oldest first."""
    codes = {c.code for c in certificates} | set(
        db.session.scalars(
            sa.select(AwardRequest.code).where(AwardRequest.candidate_id == candidate.id)
        )
    )
    emails = {str(e.id) for e in _emails_of(candidate)}
    about = [
        sa.and_(AuditEvent.object_type == "user", AuditEvent.object_id == str(candidate.id)),
        AuditEvent.actor_id == candidate.id,
    ]
    if codes:
        about.append(
            sa.and_(AuditEvent.object_type == "certificate", AuditEvent.object_id.in_(codes))
        )
    if emails:
        about.append(
            sa.and_(AuditEvent.object_type == "outgoing_email", AuditEvent.object_id.in_(emails))
        )
    return list(
        db.session.scalars(
            sa.select(AuditEvent)
            .where(sa.or_(*about))
            .order_by(AuditEvent.occurred_at, AuditEvent.id)
        )
    )


def _audit(
    candidate: User, certificates: Iterable[Certificate], actors: _ActorWords
) -> list[dict[str, Any]]:
    return [
        {
            "occurred_at": e.occurred_at,
            "action": e.action,
            "object_type": e.object_type,
            "object_id": e.object_id,
            "by": actors.of_id(e.actor_id),
            "before": e.before,
            "after": e.after,
        }
        for e in audit_events_about(candidate, certificates)
    ]


def _readme(candidate: User, now: dt.datetime) -> str:
    lines = [
        gettext("Your personal data: European Certificate and Diploma in Imaging Informatics"),
        "",
        gettext(
            "Everything the certification service of EFRS and EuSoMII holds about %(name)s, "
            "as of %(moment)s (UTC).",
            name=candidate.full_name,
            moment=now.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M"),
        ),
        gettext("The JSON files are UTF-8; dates are ISO 8601 and numbers with decimals are text."),
        gettext(
            "People who acted on your records are named by their role and body only, "
            "not by name or e-mail."
        ),
        "",
        gettext("%(file)s: your account: name, e-mail, country, language.", file="profile.json"),
        gettext(
            "%(file)s: your course credits, withdrawn ones included with the reason.",
            file="credits.json",
        ),
        gettext("%(file)s: your assessment results, withdrawn ones included.", file="results.json"),
        gettext(
            "%(file)s: your certificates: status today, dates, code, what was printed, "
            "and how often they were checked, by channel and day.",
            file="certificates.json",
        ),
        gettext(
            "%(file)s: each certificate's signed PDF, exactly as issued.", file="certificates/"
        ),
        gettext(
            "%(file)s: each certificate's signed digital credential (Open Badges 3.0), "
            "and the copies digital wallets received.",
            file="credentials/",
        ),
        gettext(
            "%(file)s: requests for your certificates awaiting or past approval.",
            file="requests.json",
        ),
        gettext(
            "%(file)s: your continuing professional development (CPD) activities and their"
            " points, withdrawn ones included.",
            file="cpd.json",
        ),
        gettext("%(file)s: awards on hold for you after a revocation.", file="holds.json"),
        gettext("%(file)s: the e-mails written to you (without their text).", file="emails.json"),
        gettext(
            "%(file)s: the audit trail's entries about you and your certificates.",
            file="audit.json",
        ),
        gettext(
            "%(file)s: the credits and CPD points you claimed yourself, what became of each"
            " claim, and the evidence you sent.",
            file="claims.json",
        ),
        gettext(
            "%(file)s: the evidence files you sent, as sent (a rejected claim's are deleted"
            " after a while).",
            file="claims/",
        ),
    ]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- erasure

# What erasure does with each table that holds something of a person, kept beside the
# export above (which reads the same tables): a table added later that refers to a person
# fails tests/test_erasure.py until it is decided here.
ERASURE_INVENTORY: dict[str, str] = {
    "user_account": "anonymised: name, e-mail, country, language, password, second factor",
    "password_setup_link": "erased",  # nosec B105 - a table name, not a password
    "recovery_code": "erased",
    "api_token": "erased",  # nosec B105 - a table name, not a password
    "idempotency_key": "erased",
    "credit_record": "erased",
    "assessment_attempt": "erased",
    "cpd_activity": "erased",
    "programme_standing": "erased",
    "claim": "erased",
    "claim_evidence": "erased, with the files",
    "outgoing_email": "erased: addresses, names and texts; the name cut from others' e-mails",
    "wallet_grant": "erased",
    "wallet_token": "erased",  # nosec B105 - a table name, not a password
    "wallet_delivery": "erased: the wallet's key and its copy",
    "import_upload": "the person's lines cut from the stored files; files not read as text deleted",
    "award_request": "kept, the name in its snapshot replaced and the scores dropped",
    "body_approval": "kept: the bodies' decisions, nothing of the person",
    "award_hold": "kept: a revoked award stays on hold (no personal data but the reason)",
    "issue_job": "kept: the office's jobs",
    "issue_job_item": "kept, the name replaced in its error",
    "certificate": "kept: public verification (name as printed, award, dates, code)",
    "certificate_pdf": "kept: the sealed PDF the holder may still present",
    "issued_credential": "kept: the signed credential, which verifiers check",
    "verification": "kept: counts of look-ups, per certificate, nobody's data",
    "audit_event": "kept: the audit trail, by legal obligation (GDPR art. 17(3)(b), (e))",
    "erasure_request": "kept: the record that erasure was asked for and done",
}
# What an erased account is called from then on, and where its mail would go (nowhere:
# the .invalid top-level domain never resolves, RFC 2606). Stored data, not a message.
ERASED_NAME = "Erased holder"
REFUSAL_REASON_MAX = 500


def erased_email(user_id: int) -> str:
    return f"erased-{user_id}@invalid"


@dataclass(frozen=True)
class ErasurePlan:
    """What carrying out an erasure would remove and keep, counted, for the holder's
    confirmation page and the office's queue; and what stops it for now (``obstacles``,
    sentences the office settles first)."""

    credits: int
    results: int
    cpd_activities: int
    claims: int
    evidence_files: int
    emails: int
    wallet_copies: int
    certificates: list[Certificate]
    audit_events: int
    obstacles: list[str]


def erasure_plan(candidate: User) -> ErasurePlan:
    certificates = sorted(certificates_of(candidate), key=lambda c: (c.issued_at, c.id))
    ids = [c.id for c in certificates]
    claims = sa.select(Claim.id).where(Claim.candidate_id == candidate.id)
    return ErasurePlan(
        credits=_count(CreditRecord, CreditRecord.candidate_id == candidate.id),
        results=_count(AssessmentAttempt, AssessmentAttempt.candidate_id == candidate.id),
        cpd_activities=_count(CpdActivity, CpdActivity.candidate_id == candidate.id),
        claims=_count(Claim, Claim.candidate_id == candidate.id),
        evidence_files=_count(ClaimEvidence, ClaimEvidence.claim_id.in_(claims)),
        emails=len(_emails_of(candidate)),
        wallet_copies=_count(WalletDelivery, WalletDelivery.certificate_id.in_(ids)),
        certificates=certificates,
        audit_events=len(audit_events_about(candidate, certificates)),
        obstacles=erasure_obstacles(candidate),
    )


def _count(model: type[Any], condition: sa.ColumnElement[bool]) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(condition)) or 0


def erasure_obstacles(candidate: User) -> list[str]:
    """What the office must settle before erasing: work in progress that would otherwise
    issue or record something for a person who no longer has an account."""
    found = []
    pending_requests = _count(
        AwardRequest,
        sa.and_(
            AwardRequest.candidate_id == candidate.id,
            AwardRequest.state == RequestState.PENDING,
        ),
    )
    if pending_requests:
        found.append(
            gettext(
                "A certificate requested for them awaits the bodies' approval: "
                "it must be approved or rejected first."
            )
        )
    claims = sa.and_(Claim.candidate_id == candidate.id, Claim.state == ClaimState.PENDING)
    if _count(Claim, claims):
        found.append(gettext("A claim of theirs awaits review: it must be decided first."))
    in_jobs = _count(
        IssueJobItem,
        sa.and_(
            IssueJobItem.candidate_id == candidate.id,
            IssueJobItem.state == IssueItemState.PENDING,
            IssueJobItem.job_id.in_(
                sa.select(IssueJob.id).where(IssueJob.status.in_(ACTIVE_JOB_STATUSES))
            ),
        ),
    )
    if in_jobs:
        found.append(gettext("An issuing job running now includes them: let it finish first."))
    return found


def erasure_request_of(candidate: User) -> ErasureRequest | None:
    """The holder's latest request, pending or decided (None: they never asked)."""
    return db.session.scalar(
        sa.select(ErasureRequest)
        .where(ErasureRequest.candidate_id == candidate.id)
        .order_by(ErasureRequest.requested_at.desc(), ErasureRequest.id.desc())
        .limit(1)
    )


def _pending_of(candidate: User) -> ErasureRequest | None:
    return db.session.scalar(
        sa.select(ErasureRequest).where(
            ErasureRequest.candidate_id == candidate.id,
            ErasureRequest.status == ErasureStatus.PENDING,
        )
    )


def request_erasure(candidate: User, password: str, now: dt.datetime) -> ErasureRequest:
    """The holder asks for their data to be erased, confirming with their password (a
    session left open on a shared computer is not enough for an act that cannot be undone).
    The office carries it out; until then the holder may withdraw it."""
    if candidate.role is not Role.CANDIDATE:
        raise Forbidden(gettext("Only a candidate's own data can be erased on request here."))
    if not password_matches(candidate.password_hash, password):
        message = gettext("The password is not right.")
        raise InvalidInput(message, {"password": message})
    if _pending_of(candidate) is not None:
        raise Conflict(gettext("You have asked already; the programme office has not decided yet."))
    request = ErasureRequest(candidate=candidate, status=ErasureStatus.PENDING, requested_at=now)
    try:
        with db.session.begin_nested():  # the partial unique index settles a double click
            db.session.add(request)
    except IntegrityError:
        raise Conflict(
            gettext("You have asked already; the programme office has not decided yet.")
        ) from None
    record_event(candidate, "erasure.requested", "erasure_request", request.id)
    return request


def withdraw_erasure_request(candidate: User, now: dt.datetime) -> ErasureRequest:
    """The holder changes their mind while the request is pending."""
    request = _pending_of(candidate)
    if request is None:
        raise Conflict(gettext("There is no pending request to withdraw."))
    _decide(request, ErasureStatus.WITHDRAWN, candidate, now)
    record_event(candidate, "erasure.withdrawn", "erasure_request", request.id)
    return request


def pending_erasure_requests() -> list[ErasureRequest]:
    """The office's queue, oldest first."""
    return list(
        db.session.scalars(
            sa.select(ErasureRequest)
            .where(ErasureRequest.status == ErasureStatus.PENDING)
            .order_by(ErasureRequest.requested_at, ErasureRequest.id)
        )
    )


def pending_erasure_request_for(candidate_id: int) -> ErasureRequest:
    """The pending request of the candidate ``candidate_id``, which the office decides."""
    candidate = get_candidate(candidate_id)
    request = _pending_of(candidate)
    if request is None:
        raise Conflict(
            gettext(
                "%(name)s has no pending request to erase their data.", name=candidate.full_name
            )
        )
    return request


def refuse_erasure(
    request: ErasureRequest, reason: str, actor: User, now: dt.datetime
) -> ErasureRequest:
    """The office does not carry it out (yet), and says why: the holder reads the reason on
    their page and by e-mail, and may ask again once it is settled."""
    # One line, as a claim's rejection reason: the form's line breaks become spaces, and
    # control characters (a NUL, which PostgreSQL cannot store) are refused like anywhere.
    reason = " ".join(clean_text(reason).split())
    if not reason:
        message = gettext("Say why, for the holder to read.")
        raise InvalidInput(message, {"reason": message})
    errors = FieldErrors()
    check_text(errors, "reason", reason, REFUSAL_REASON_MAX)
    errors.raise_if_any()
    _decide(request, ErasureStatus.REFUSED, actor, now, refusal_reason=reason)
    record_event(actor, "erasure.refused", "erasure_request", request.id, after={"reason": reason})
    queue_erasure_refused(request)
    return request


def carry_out_erasure(request: ErasureRequest, actor: User, now: dt.datetime) -> ErasureRequest:
    """Erase the holder's data, all in this transaction: their account is anonymised and can
    no longer log in; their records, claims, e-mails and wallet copies are removed; what
    public verification of their issued certificates needs is kept, as is the audit trail.

    The audit event names the account's id only."""
    candidate = request.candidate
    lock_candidate(candidate)  # no credit, claim or certificate lands for them meanwhile
    # Checked before deciding: the refusal's page, rendered before the rollback, must
    # still show the request as pending, with what stops it.
    if obstacles := erasure_obstacles(candidate):
        raise Conflict(" ".join(obstacles))
    _decide(request, ErasureStatus.CARRIED_OUT, actor, now)
    counts = _erase(candidate)
    record_event(actor, "erasure.carried_out", "user", candidate.id, after=counts)
    return request


def _decide(
    request: ErasureRequest,
    status: ErasureStatus,
    actor: User,
    now: dt.datetime,
    *,
    refusal_reason: str | None = None,
) -> None:
    """Decide a pending request, once: one conditional statement, so that two clicks (or
    the holder withdrawing as the office carries it out) cannot both decide it."""
    result = db.session.execute(
        sa.update(ErasureRequest)
        .where(ErasureRequest.id == request.id, ErasureRequest.status == ErasureStatus.PENDING)
        .values(
            status=status, decided_at=now, decided_by_id=actor.id, refusal_reason=refusal_reason
        )
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        db.session.refresh(request)
        raise Conflict(gettext("This request has been decided or withdrawn already."))
    db.session.refresh(request)


def _erase(candidate: User) -> dict[str, int]:
    """Remove and anonymise, table by table (:data:`ERASURE_INVENTORY`); the counts for the
    audit event."""
    email, name = candidate.email, candidate.full_name
    certificate_ids = sa.select(Certificate.id).where(Certificate.candidate_id == candidate.id)
    claim_ids = sa.select(Claim.id).where(Claim.candidate_id == candidate.id)
    grant_ids = sa.select(WalletGrant.grant_id).where(
        WalletGrant.certificate_id.in_(certificate_ids)
    )
    emails = [e.id for e in _emails_of(candidate)]

    def delete(model: type[Any], condition: sa.ColumnElement[bool]) -> int:
        result = db.session.execute(
            sa.delete(model).where(condition).execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    counts = {
        "evidence_files": delete(ClaimEvidence, ClaimEvidence.claim_id.in_(claim_ids)),
        "claims": delete(Claim, Claim.candidate_id == candidate.id),
        "credits": delete(CreditRecord, CreditRecord.candidate_id == candidate.id),
        "results": delete(AssessmentAttempt, AssessmentAttempt.candidate_id == candidate.id),
        "cpd_activities": delete(CpdActivity, CpdActivity.candidate_id == candidate.id),
        "standings": delete(ProgrammeStanding, ProgrammeStanding.candidate_id == candidate.id),
        "emails": delete(OutgoingEmail, OutgoingEmail.id.in_(emails)) if emails else 0,
        "wallet_copies": delete(WalletDelivery, WalletDelivery.grant_id.in_(grant_ids)),
    }
    delete(WalletToken, WalletToken.grant_id.in_(grant_ids))
    delete(WalletGrant, WalletGrant.certificate_id.in_(certificate_ids))
    delete(PasswordSetupLink, PasswordSetupLink.user_id == candidate.id)
    delete(RecoveryCode, RecoveryCode.user_id == candidate.id)
    delete(ApiToken, ApiToken.user_id == candidate.id)
    delete(IdempotencyKey, IdempotencyKey.actor_id == candidate.id)

    scrub = _Scrubber(email, name, candidate.id)
    for award_request in db.session.scalars(
        sa.select(AwardRequest).where(AwardRequest.candidate_id == candidate.id)
    ):
        # The scores shown to the officers go too: an issued certificate keeps what it
        # printed in its own record, and a rejected request has nothing to verify.
        kept = {k: v for k, v in award_request.snapshot.items() if k != "results"}
        award_request.snapshot = {**kept, "holder_name": ERASED_NAME}
        award_request.rejection_reason = scrub.text(award_request.rejection_reason)
    for item in db.session.scalars(
        sa.select(IssueJobItem).where(IssueJobItem.candidate_id == candidate.id)
    ):
        item.error = scrub.text(item.error)
    _scrub_emails_to_others(scrub)
    counts["import_lines"], counts["import_files"] = _cut_from_uploads(scrub)

    candidate.full_name = ERASED_NAME
    candidate.name_key = name_search_key(ERASED_NAME)
    candidate.email = erased_email(candidate.id)
    candidate.country = None
    candidate.language = None
    candidate.password_hash = None
    candidate.active = False
    candidate.totp_secret = None
    candidate.totp_enabled_at = None
    candidate.totp_last_step = None
    db.session.flush()
    end_sessions(candidate)  # every session on every device ends now
    db.session.expire_all()  # the bulk deletes above bypassed the session's objects
    return counts


class _Scrubber:
    """Takes a person's e-mail and name out of text. The e-mail is matched whole, in any
    case: erasing eligible1@example.org leaves xeligible1@example.org and
    eligible1@example.org.uk, other people's addresses, as they are."""

    def __init__(self, email: str, name: str, user_id: int) -> None:
        self.name = name
        self.address = email.lower()
        self.replacement = erased_email(user_id)
        # Not preceded by what an address's local part may hold, nor followed by more of
        # its domain (a full stop that ends a sentence is not); in bytes, any non-ASCII
        # byte counts as a letter, as it is one in UTF-8 and Windows-1252.
        self.email = re.compile(rf"(?<![\w.+-]){re.escape(email)}(?![\w-]|\.\w)", re.IGNORECASE)
        self.email_bytes = re.compile(
            rb"(?<![\w.+\x80-\xff-])"
            + re.escape(email.encode())
            + rb"(?![\w\x80-\xff-]|\.[\w\x80-\xff])",
            re.IGNORECASE,
        )

    def text(self, value: str | None) -> str | None:
        if not value:
            return value
        value = self.email.sub(self.replacement, value)
        if not self.name:
            return value
        return re.sub(rf"(?<!\w){re.escape(self.name)}(?!\w)", ERASED_NAME, value)

    def data(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.data(v) for v in value]
        if isinstance(value, dict):
            return {k: self.data(v) for k, v in value.items()}
        return value

    def lines(self, content: bytes) -> tuple[bytes, int]:
        """``content`` without the lines that name the e-mail (an import file is UTF-8 or
        Windows-1252 text, in which an address is the same bytes)."""
        kept, cut = [], 0
        for line in content.split(b"\n"):
            if self.email_bytes.search(line):
                cut += 1
            else:
                kept.append(line)
        return b"\n".join(kept), cut

    def mentions(self, column: sa.orm.InstrumentedAttribute[str]) -> sa.ColumnElement[bool]:
        """Whether ``column`` may hold the e-mail or the name: a first sift in SQL, which
        :meth:`text` then settles."""
        return sa.or_(
            sa.func.lower(column).contains(self.address, autoescape=True),
            column.contains(self.name, autoescape=True) if self.name else sa.false(),
        )


def _scrub_emails_to_others(scrub: _Scrubber) -> None:
    """Take the person's e-mail and name out of the e-mails to other people that mention
    them (an officer's approvals digest lists the holders whose requests wait); their own
    e-mails are deleted already."""
    for outgoing in db.session.scalars(
        sa.select(OutgoingEmail).where(
            sa.or_(scrub.mentions(OutgoingEmail.subject), scrub.mentions(OutgoingEmail.text_body))
        )
    ):
        outgoing.subject = scrub.text(outgoing.subject) or ""
        outgoing.text_body = scrub.text(outgoing.text_body) or ""


def _cut_from_uploads(scrub: _Scrubber) -> tuple[int, int]:
    """Cut the person's lines from the office's stored import files (a candidates import
    names them with their e-mail; a credits or results import keys its rows by it), and
    their e-mail and name from the files' summaries. An upload not committed yet then
    cannot bring them back. How many lines were cut, and how many files deleted: a file
    the import refused as not CSV text (UTF-16, a workbook) was never read as lines, so
    none can be cut from it; it can never be imported either, so it goes whole."""
    cut_total = deleted = 0
    for upload in db.session.scalars(sa.select(ImportUpload)):
        if upload.summary is not None and not upload.summary.get("encoding"):
            db.session.delete(upload)
            deleted += 1
            continue
        content, cut = scrub.lines(upload.content)
        if cut:
            upload.content = content
            upload.sha256 = hashlib.sha256(content).hexdigest()
            cut_total += cut
        if upload.summary is not None:
            summary = scrub.data(upload.summary)
            if summary != upload.summary:
                upload.summary = summary
    return cut_total, deleted


# ---------------------------------------------------------------- words and JSON


class _ActorWords:
    """Who acted, without naming anyone else: the candidate themselves, the system, or
    another person's role (and partner body or course provider, an organisation)."""

    def __init__(self, candidate: User) -> None:
        self._candidate = candidate
        self._known: dict[int, dict[str, str]] = {}

    def of_id(self, user_id: int | None) -> dict[str, str]:
        if user_id is None:
            return {"role": "system"}
        if user_id == self._candidate.id:
            return {"role": "you"}
        if user_id not in self._known:
            self._known[user_id] = self._describe(db.session.get(User, user_id))
        return self._known[user_id]

    @staticmethod
    def _describe(user: User | None) -> dict[str, str]:
        if user is None:
            return {"role": "unknown"}
        if user.role is Role.OFFICE:
            return {"role": "programme_office"}
        if user.role is Role.OFFICER:
            return {"role": "officer", "body": user.partner_body or ""}
        if user.role is Role.PROVIDER:
            provider = db.session.get(Provider, user.provider_id) if user.provider_id else None
            return {"role": "provider_staff", "provider": provider.name if provider else ""}
        return {"role": "candidate"}


def _plain(value: object) -> object:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def _json(data: object) -> bytes:
    return (json.dumps(data, ensure_ascii=False, indent=2, default=_plain) + "\n").encode()
