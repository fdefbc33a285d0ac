"""Everything held about a candidate, as one ZIP for them to download (GDPR articles 15 and
20: the right of access and the right to data portability).

JSON files (UTF-8, indented; dates ISO 8601, decimals as text so that no digit is lost)
and the files as they were issued: each certificate's signed PDF, its signed credential
and the copies wallets received. No one else's personal data goes in: a person who acted
on the candidate's records (the programme office, an officer, provider staff) is named by
role and body only, never by name or e-mail, and e-mails are listed without their text
(which may name the person who sent the invitation, or carry a one-time link).
"""

from __future__ import annotations

import datetime as dt
import decimal
import io
import json
import zipfile
from collections import Counter
from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale, gettext

from certification.audit import AuditEvent, record_event
from certification.auth.models import PasswordSetupLink, Role, User
from certification.catalogue.models import Provider
from certification.certificates.models import (
    AwardHold,
    AwardRequest,
    Certificate,
    Verification,
)
from certification.certificates.services import certificates_of, status_in_words
from certification.credentials.models import IssuedCredential, WalletDelivery
from certification.extensions import db
from certification.mail.models import OutgoingEmail
from certification.records.models import AssessmentAttempt, CreditRecord


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
        "certificates.json": _json(_certificates(certificates, today, zone, actors)),
        "requests.json": _json(_requests(candidate, actors)),
        "holds.json": _json(_holds(candidate, actors)),
        "emails.json": _json(_emails(candidate)),
        "audit.json": _json(_audit(candidate, certificates, actors)),
    }
    files.update(_documents(certificates))
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


def _withdrawal(record: CreditRecord | AssessmentAttempt, actors: _ActorWords) -> dict[str, Any]:
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
        gettext("%(file)s: awards on hold for you after a revocation.", file="holds.json"),
        gettext("%(file)s: the e-mails written to you (without their text).", file="emails.json"),
        gettext(
            "%(file)s: the audit trail's entries about you and your certificates.",
            file="audit.json",
        ),
        "",
        gettext("Claims and evidence are not included: the service does not keep them yet."),
    ]
    return "\n".join(lines) + "\n"


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
