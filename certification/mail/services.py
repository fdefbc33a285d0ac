"""E-mail through an outbox: a message is a row written in the same transaction as the
change it announces, and a queue worker sends it after that transaction commits.

So a rolled-back request sends nothing, a web request never waits for a mail server, and a
message whose task was lost (a worker killed, a host gone) is still in the table, where a
periodic sweep finds it. Every attempt is counted on the row; an administrator sees the
failures on /admin/emails and may send one again.

Like every service, the ``queue_*`` functions and :func:`retry` flush and never commit.
:func:`deliver` is the exception, on purpose: it is a worker's unit of work, not part of a
request, and it must commit its claim on a message *before* talking to the mail server and
the outcome right after, so that a sent message is never rolled back into "queued" and sent
twice.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import sqlalchemy.orm as so
from babel.dates import get_timezone_location
from blinker import Namespace
from flask import current_app
from flask_babel import force_locale, gettext, lazy_gettext, ngettext
from flask_babel.speaklater import LazyString
from sqlalchemy.exc import IntegrityError

from certification.audit import record_event
from certification.auth.models import PasswordSetupLink, Role, User
from certification.auth.services import create_password_setup_link, get_user_by_email
from certification.certificates.approvals import awaiting
from certification.certificates.models import AwardRequest, Certificate
from certification.certificates.renewal import renewal_of
from certification.certificates.services import (
    certificate_issued,
    certificate_reinstated,
    certificate_revoked,
    certificate_suspended,
)
from certification.claims.models import Claim, ClaimState
from certification.claims.services import claim_reviewed
from certification.dates import format_long_date, format_long_datetime
from certification.errors import NotFound, RuleViolation
from certification.extensions import db
from certification.i18n import catalogue_text, current_language, list_in_words, say
from certification.languages import DEFAULT_LANGUAGE, formatting_locale
from certification.mail.compose import Attachment, certificate_attachment, compose_message
from certification.mail.models import EmailKind, EmailStatus, OutgoingEmail
from certification.mail.transport import MailSettings, describe_error, is_permanent, send_message
from certification.privacy_models import ErasureRequest
from certification.types import MAX_ID, utcnow

log = logging.getLogger(__name__)

_signals = Namespace()
#: Sent with a message's id once its row is written (inside the writing transaction). The
#: mail tasks listen and queue its sending for after the commit; this module does not know
#: the queue, the tasks module knows this one.
email_written = _signals.signal("email-written")

#: A holder is reminded this many days before their certificate expires, once at each: a
#: certificate first found at 80 days gets the 90-day reminder, not the 180-day one too.
EXPIRY_REMINDER_DAYS = (180, 90, 30)
# How long a worker may take to hand one message over before another may try: far longer
# than any send (MAIL_TIMEOUT is per network operation), short enough to recover soon.
SENDING_LEASE = dt.timedelta(minutes=15)
# A queued message this long past its due time has lost its task; the sweep queues it again.
STALLED_AFTER = dt.timedelta(minutes=10)
# A retry that Huey runs a little early (clocks of two hosts) is still allowed to send.
CLOCK_TOLERANCE = dt.timedelta(seconds=30)
# The one-time token in an invitation works like a password until it is used; once the
# message is sent, the stored copy of the body no longer needs it.
_SET_PASSWORD_TOKEN = re.compile(r"(/set-password/)[\w-]+")


class DeliveryFailed(Exception):
    """A message could not be handed over. ``final``: no more automatic attempts."""

    def __init__(self, email_id: int, reason: str, *, final: bool) -> None:
        super().__init__(f"E-mail {email_id} was not sent: {reason}")
        self.email_id = email_id
        self.reason = reason
        self.final = final


# ---------------------------------------------------------------- queueing


def queue_invitation(candidate: User, set_password_url: str, actor: User | None) -> OutgoingEmail:
    """Queue the invitation carrying ``candidate``'s set-password link (just made with
    :func:`~certification.auth.services.create_password_setup_link`)."""
    link = db.session.scalar(
        sa.select(PasswordSetupLink)
        .where(PasswordSetupLink.user_id == candidate.id, PasswordSetupLink.used_at.is_(None))
        .order_by(PasswordSetupLink.expires_at.desc())
        .limit(1)
    )
    with force_locale(candidate.reads):
        outgoing = _new_email(
            EmailKind.INVITATION,
            candidate,
            subject=gettext(
                "Set your password: European Certificate and Diploma in Imaging Informatics"
            ),
            body=_render(
                "invitation.txt",
                candidate=candidate,
                inviter=actor.full_name if actor is not None else None,
                set_password_url=set_password_url,
                valid_until=_moment_in_words(link.expires_at) if link is not None else None,
            ),
        )
    db.session.add(outgoing)
    db.session.flush()
    _announce_written(outgoing.id)
    record_event(
        actor,
        "email.queued",
        "outgoing_email",
        outgoing.id,
        after={"kind": outgoing.kind.value, "recipient": outgoing.recipient},
    )
    return outgoing


def queue_password_reset(email_address: str) -> None:
    """If an active account uses ``email_address``, make it a one-time link to choose a new
    password (valid ``PASSWORD_RESET_MINUTES``) and queue the e-mail that carries it.

    Says nothing either way: the page that calls this answers the same whether or not the
    address is registered, so it cannot be used to find out who has an account."""
    user = get_user_by_email(email_address)
    if user is None or not user.active:
        return
    minutes = int(current_app.config["PASSWORD_RESET_MINUTES"])
    token = create_password_setup_link(user, None, valid_for=dt.timedelta(minutes=minutes))
    with force_locale(user.reads):
        outgoing = _new_email(
            EmailKind.PASSWORD_RESET,
            user,
            subject=gettext(
                "Choose a new password: European Certificate and Diploma in Imaging Informatics"
            ),
            body=_render(
                "password_reset.txt",
                user=user,
                reset_url=set_password_url(token),
                minutes=minutes,
            ),
        )
    db.session.add(outgoing)
    db.session.flush()
    _announce_written(outgoing.id)
    record_event(None, "email.queued", "outgoing_email", outgoing.id, after={"kind": "reset"})


def invite_candidates(emails: Sequence[str], actor: User | None) -> int:
    """Give each of these candidates a new set-password link and queue the invitation that
    carries it (a CSV import of candidates does this); return how many were queued."""
    valid_for = dt.timedelta(hours=current_app.config["PASSWORD_SETUP_LINK_HOURS"])
    invited = 0
    for start in range(0, len(emails), 500):  # keep the IN list within every database's limits
        candidates = db.session.scalars(
            sa.select(User)
            .where(User.email.in_(emails[start : start + 500]), User.role == Role.CANDIDATE)
            .order_by(User.id)
        ).all()
        for candidate in candidates:
            token = create_password_setup_link(candidate, actor, valid_for=valid_for)
            queue_invitation(candidate, set_password_url(token), actor)
            invited += 1
    return invited


def queue_certificate_issued(
    certificate: Certificate, *, replaces: str | None = None, renews: bool = False
) -> OutgoingEmail | None:
    """Queue "your certificate is issued" with its PDF; once per certificate (None if it
    was queued before). ``replaces``: the code of the certificate a reissue supersedes; the
    message then says "reissued" and names it; or, if it ``renews`` it, "renewed" and until
    when."""
    candidate = certificate.candidate
    with force_locale(candidate.reads):
        if renews:
            kind = EmailKind.CERTIFICATE_RENEWED
            subject = gettext(
                "Your renewed %(award)s (%(code)s)",
                award=catalogue_text(certificate.award_title),
                code=certificate.code,
            )
        elif replaces is None:
            kind = EmailKind.CERTIFICATE_ISSUED
            subject = gettext(
                "Your %(award)s (%(code)s)",
                award=catalogue_text(certificate.award_title),
                code=certificate.code,
            )
        else:
            kind = EmailKind.CERTIFICATE_REISSUED
            subject = gettext(
                "Your reissued %(award)s (%(code)s)",
                award=catalogue_text(certificate.award_title),
                code=certificate.code,
            )
        outgoing = _new_email(
            kind,
            candidate,
            subject=subject,
            body=_render(
                "certificate_issued.txt",
                certificate=certificate,
                candidate=candidate,
                replaces=replaces,
                renews=renews,
                valid_until=(
                    format_long_date(certificate.expires_on) if certificate.expires_on else None
                ),
            ),
            certificate=certificate,
            dedupe_key=f"certificate-issued:{certificate.id}",
        )
    return outgoing if _queue_once(outgoing) else None


@certificate_issued.connect
def _on_certificate_issued(
    certificate: Certificate, *, replaces: str | None, renews: bool = False, **_: object
) -> None:
    queue_certificate_issued(certificate, replaces=replaces, renews=renews)


def queue_certificate_revoked(certificate: Certificate) -> OutgoingEmail | None:
    """Queue "your certificate is revoked" to its holder, and no one else: the day, the
    reason the officer gave, that the award is on hold, and whom to ask. Once per
    certificate (None if it was queued before)."""
    revoked_on = certificate.revoked_on(ZoneInfo(current_app.config["APP_TIMEZONE"]))
    candidate = certificate.candidate
    with force_locale(candidate.reads):
        outgoing = _new_email(
            EmailKind.CERTIFICATE_REVOKED,
            candidate,
            subject=gettext(
                "Your %(award)s (%(code)s) has been revoked",
                award=catalogue_text(certificate.award_title),
                code=certificate.code,
            ),
            body=_render(
                "certificate_revoked.txt",
                certificate=certificate,
                candidate=candidate,
                revoked_on=format_long_date(revoked_on) if revoked_on else None,
                reason=certificate.revocation_reason,
                office_email=current_app.config["PROGRAMME_OFFICE_EMAIL"],
            ),
            certificate=certificate,
            dedupe_key=f"certificate-revoked:{certificate.id}",
        )
    return outgoing if _queue_once(outgoing) else None


@certificate_revoked.connect
def _on_certificate_revoked(certificate: Certificate, **_: object) -> None:
    queue_certificate_revoked(certificate)


def queue_claim_reviewed(claim: Claim) -> OutgoingEmail | None:
    """Queue "your claim is approved" (what it is on record as) or "your claim is rejected"
    (the reviewer's reason, and that a new claim may follow) to the candidate who made it.
    Once per claim (None if it was queued before)."""
    candidate = claim.candidate
    approved = claim.state is ClaimState.APPROVED
    with force_locale(candidate.reads):
        context = {
            "candidate": candidate,
            "claim": claim,
            "activity_on": format_long_date(claim.activity_on),
            "course_title": catalogue_text(claim.course.title) if claim.course else None,
            "claims_url": f"{current_app.config['PUBLIC_BASE_URL'].rstrip('/')}/me/claims",
            "office_email": current_app.config["PROGRAMME_OFFICE_EMAIL"],
            "retention_days": current_app.config["REJECTED_EVIDENCE_RETENTION_DAYS"],
        }
        outgoing = _new_email(
            EmailKind.CLAIM_APPROVED if approved else EmailKind.CLAIM_REJECTED,
            candidate,
            subject=(
                gettext("Your claim is approved: %(title)s", title=claim.title)
                if approved
                else gettext("Your claim is not approved: %(title)s", title=claim.title)
            ),
            body=_render("claim_approved.txt" if approved else "claim_rejected.txt", **context),
            dedupe_key=f"claim-reviewed:{claim.id}",
        )
    return outgoing if _queue_once(outgoing) else None


@claim_reviewed.connect
def _on_claim_reviewed(claim: Claim, **_: object) -> None:
    queue_claim_reviewed(claim)


def queue_erasure_refused(request: ErasureRequest) -> OutgoingEmail:
    """Queue "your data was not erased (yet)" to the holder who asked: the office's reason,
    and that they may ask again once it is settled."""
    candidate = request.candidate
    with force_locale(candidate.reads):
        outgoing = _new_email(
            EmailKind.ERASURE_REFUSED,
            candidate,
            subject=gettext("Your request to erase your data was not carried out"),
            body=_render(
                "erasure_refused.txt",
                candidate=candidate,
                requested_on=format_long_date(request.requested_at.date()),
                reason=request.refusal_reason,
                office_email=current_app.config["PROGRAMME_OFFICE_EMAIL"],
            ),
        )
    db.session.add(outgoing)
    db.session.flush()
    _announce_written(outgoing.id)
    return outgoing


def _moment_key(moment: dt.datetime) -> str:
    """A suspension's moment in a dedupe key: one e-mail per suspension, however many."""
    return moment.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%S%f")


def _other_bodies(certificate: Certificate, body: str | None) -> list[str]:
    """The partner bodies that approved ``certificate``, but ``body``: those who decide."""
    return [a["body"] for a in certificate.approvals or [] if a.get("body") != body]


def queue_certificate_suspended(certificate: Certificate) -> OutgoingEmail | None:
    """Queue "your certificate is suspended" to its holder: which body asked for its
    revocation, on which day and why, that the other body decides (revoke or reinstate),
    and whom to ask. Once per suspension (None if it was queued before)."""
    if certificate.suspended_at is None:
        return None
    zone = ZoneInfo(current_app.config["APP_TIMEZONE"])
    suspended_on = certificate.suspended_on(zone)
    candidate = certificate.candidate
    with force_locale(candidate.reads):
        outgoing = _new_email(
            EmailKind.CERTIFICATE_SUSPENDED,
            candidate,
            subject=gettext(
                "Your %(award)s (%(code)s) is suspended: %(body)s asked for its revocation",
                award=catalogue_text(certificate.award_title),
                code=certificate.code,
                body=certificate.suspended_by_body,
            ),
            body=_render(
                "certificate_suspended.txt",
                certificate=certificate,
                candidate=candidate,
                body=certificate.suspended_by_body,
                others=list_in_words(_other_bodies(certificate, certificate.suspended_by_body)),
                suspended_on=format_long_date(suspended_on) if suspended_on else None,
                reason=certificate.suspension_reason,
                office_email=current_app.config["PROGRAMME_OFFICE_EMAIL"],
            ),
            certificate=certificate,
            dedupe_key=(
                f"certificate-suspended:{certificate.id}:{_moment_key(certificate.suspended_at)}"
            ),
        )
    return outgoing if _queue_once(outgoing) else None


@certificate_suspended.connect
def _on_certificate_suspended(certificate: Certificate, **_: object) -> None:
    queue_certificate_suspended(certificate)


def queue_certificate_reinstated(
    certificate: Certificate,
    *,
    body: str,
    reason: str,
    suspended_by: str | None,
    suspended_at: dt.datetime,
    reinstated_at: dt.datetime,
) -> OutgoingEmail | None:
    """Queue "your certificate is valid again" to its holder: ``body`` declined the
    revocation ``suspended_by`` asked for on the day of ``suspended_at``, with its reason,
    and whom to ask. Once per suspension lifted (None if it was queued before)."""
    zone = ZoneInfo(current_app.config["APP_TIMEZONE"])
    candidate = certificate.candidate
    with force_locale(candidate.reads):
        outgoing = _new_email(
            EmailKind.CERTIFICATE_REINSTATED,
            candidate,
            subject=gettext(
                "Your %(award)s (%(code)s) is valid again",
                award=catalogue_text(certificate.award_title),
                code=certificate.code,
            ),
            body=_render(
                "certificate_reinstated.txt",
                certificate=certificate,
                candidate=candidate,
                body=body,
                suspended_by=suspended_by,
                suspended_on=format_long_date(suspended_at.astimezone(zone).date()),
                reinstated_on=format_long_date(reinstated_at.astimezone(zone).date()),
                expires_on=(
                    format_long_date(certificate.expires_on) if certificate.expires_on else None
                ),
                reason=reason,
                office_email=current_app.config["PROGRAMME_OFFICE_EMAIL"],
            ),
            certificate=certificate,
            dedupe_key=f"certificate-reinstated:{certificate.id}:{_moment_key(suspended_at)}",
        )
    return outgoing if _queue_once(outgoing) else None


@certificate_reinstated.connect
def _on_certificate_reinstated(
    certificate: Certificate,
    *,
    body: str,
    reason: str,
    suspended_by: str | None,
    suspended_at: dt.datetime,
    reinstated_at: dt.datetime,
    **_: object,
) -> None:
    queue_certificate_reinstated(
        certificate,
        body=body,
        reason=reason,
        suspended_by=suspended_by,
        suspended_at=suspended_at,
        reinstated_at=reinstated_at,
    )


def queue_expiry_reminders(
    today: dt.date, *, thresholds: Sequence[int] = EXPIRY_REMINDER_DAYS
) -> int:
    """Queue a reminder for every current certificate that expires within one of the
    ``thresholds`` (days) of ``today`` and has not been reminded of at that threshold;
    return how many were queued. The threshold is the nearest one at or above the days
    left, so a run that missed a day still sends it, and never two at once. Where the
    programme renews through CPD, the reminder says what is still missing for renewal. A
    suspended certificate is not reminded of (it is not valid while a body asks for its
    revocation); once reinstated, the next run reminds its holder.

    Safe to run twice, or on two hosts at once: each reminder has a dedupe key (the holder,
    the award, the expiry date and the threshold, so a reissued certificate is not reminded
    of again).
    """
    window = dt.timedelta(days=max(thresholds))
    due = db.session.scalars(
        sa.select(Certificate)
        .join(User, Certificate.candidate_id == User.id)
        .options(so.contains_eager(Certificate.candidate))
        .where(
            Certificate.is_current,
            Certificate.revoked_at.is_(None),
            # Suspended: one body asked for its revocation; it is not "valid until" then.
            Certificate.suspended_at.is_(None),
            Certificate.superseded_by_id.is_(None),
            Certificate.expires_on >= today,
            Certificate.expires_on <= today + window,
            User.active,
        )
        .order_by(Certificate.expires_on, Certificate.id)
    ).all()
    keys = {
        certificate.id: _reminder_key(certificate, _threshold(certificate, today, thresholds))
        for certificate in due
    }
    reminded = _existing_keys(list(keys.values()))
    queued = 0
    for certificate in due:
        if keys[certificate.id] in reminded or certificate.expires_on is None:
            continue
        candidate = certificate.candidate
        renewal = renewal_of(certificate, today)
        with force_locale(candidate.reads):
            expires_on = format_long_date(certificate.expires_on)
            outgoing = _new_email(
                EmailKind.EXPIRY_REMINDER,
                candidate,
                subject=gettext(
                    "Your %(award)s expires on %(day)s",
                    award=catalogue_text(certificate.award_title),
                    day=expires_on,
                ),
                body=_render(
                    "expiry_reminder.txt",
                    certificate=certificate,
                    candidate=candidate,
                    expires_on=expires_on,
                    days_left=(certificate.expires_on - today).days,
                    renewal=renewal,
                    # The engine's sentences, in the holder's language.
                    renewal_summary=say(renewal.summary) if renewal else None,
                    renewal_missing=[say(sentence) for sentence in renewal.missing]
                    if renewal
                    else [],
                    renewal_status=say(renewal.status) if renewal else None,
                    public_base_url=current_app.config["PUBLIC_BASE_URL"].rstrip("/"),
                ),
                certificate=certificate,
                dedupe_key=keys[certificate.id],
            )
        queued += _queue_once(outgoing)
    return queued


# The requests a digest lists by name; the rest are counted.
DIGEST_LISTED = 20


def queue_approval_digests(today: dt.date) -> int:
    """Write to every active officer whose body has requests awaiting its approval: how
    many, the oldest by name, and where to approve them; return how many were written.

    Once a day at most per officer (a dedupe key of the officer and the day), so it is safe
    to run twice, or on two hosts at once."""
    officers = db.session.scalars(
        sa.select(User)
        .where(User.role == Role.OFFICER, User.active, User.partner_body.is_not(None))
        .order_by(User.id)
    ).all()
    waiting: dict[str, tuple[int, list[AwardRequest]]] = {}
    queued = 0
    for officer in officers:
        body = officer.partner_body or ""
        if body not in waiting:
            statement = awaiting(body)
            count = db.session.scalar(sa.select(sa.func.count()).select_from(statement.subquery()))
            waiting[body] = (count or 0, list(db.session.scalars(statement.limit(DIGEST_LISTED))))
        total, oldest = waiting[body]
        if not total:
            continue
        with force_locale(officer.reads):
            outgoing = _new_email(
                EmailKind.APPROVALS_DIGEST,
                officer,
                subject=ngettext(
                    "%(num)d certificate request awaits %(body)s's approval",
                    "%(num)d certificate requests await %(body)s's approval",
                    total,
                    body=body,
                ),
                body=_render(
                    "approvals_digest.txt",
                    officer=officer,
                    body=body,
                    total=total,
                    oldest=oldest,
                    requested_on=lambda r: format_long_date(r.requested_at.date()),
                    public_base_url=current_app.config["PUBLIC_BASE_URL"].rstrip("/"),
                ),
                dedupe_key=f"approvals-digest:{officer.id}:{today.isoformat()}",
            )
        queued += _queue_once(outgoing)
    return queued


def set_password_url(token: str) -> str:
    """The absolute set-password address for ``token``, where no request is at hand (a CLI
    import); a view uses ``url_for(..., _external=True)``."""
    return f"{current_app.config['PUBLIC_BASE_URL'].rstrip('/')}/set-password/{token}"


def _threshold(certificate: Certificate, today: dt.date, thresholds: Sequence[int]) -> int:
    """The reminder due for ``certificate``: the nearest threshold at or above its days left."""
    days_left = (certificate.expires_on - today).days if certificate.expires_on else 0
    return min(t for t in thresholds if t >= days_left)


def _reminder_key(certificate: Certificate, threshold: int) -> str:
    expires_on = certificate.expires_on.isoformat() if certificate.expires_on else "never"
    key = f"expiry-reminder:{certificate.candidate_id}:{certificate.programme_id}:{expires_on}"
    # The 90-day reminder keeps the key it had when it was the only one, so that the
    # reminders already sent are not sent again.
    return key if threshold == 90 else f"{key}:{threshold}d"


def _existing_keys(keys: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(keys), 500):  # keep the IN list within every database's limits
        chunk = keys[start : start + 500]
        statement = sa.select(OutgoingEmail.dedupe_key).where(OutgoingEmail.dedupe_key.in_(chunk))
        found.update(key for key in db.session.scalars(statement) if key is not None)
    return found


def _new_email(
    kind: EmailKind,
    recipient: User,
    *,
    subject: str,
    body: str,
    certificate: Certificate | None = None,
    dedupe_key: str | None = None,
) -> OutgoingEmail:
    return OutgoingEmail(
        kind=kind,
        recipient=recipient.email,
        recipient_name=recipient.full_name,
        subject=subject,
        text_body=body,
        message_id=email.utils.make_msgid(domain=_sender_domain()),
        candidate=recipient,
        certificate=certificate,
        dedupe_key=dedupe_key,
        status=EmailStatus.QUEUED,
        attempts=0,
        created_at=utcnow(),
    )


def _queue_once(outgoing: OutgoingEmail) -> bool:
    """Add a message that has a dedupe key and queue its sending; False (and nothing
    added) when the key is taken already, perhaps by a concurrent transaction."""
    try:
        with db.session.begin_nested():
            db.session.add(outgoing)
    except IntegrityError:
        if outgoing in db.session:  # the savepoint's rollback normally expunges it
            db.session.expunge(outgoing)
        return False
    _announce_written(outgoing.id)
    return True


def _announce_written(email_id: int) -> None:
    """Tell whoever sends mail (the mail tasks) that a message waits; they queue it for
    after the commit."""
    email_written.send(email_id)


def _render(template: str, **context: Any) -> str:
    # The plain Jinja environment, not render_template: no request is needed (a worker, a
    # CLI import) and no page context processors run. .txt templates are not autoescaped.
    return current_app.jinja_env.get_template(f"email/{template}").render(**context).strip() + "\n"


def _moment_in_words(moment: dt.datetime) -> str:
    """A moment on the programme's clock, in the reader's words: "6 December 2026 at 14:05
    (Brussels time)", the city as the reader spells it ("Bruksela" in Polish)."""
    zone = ZoneInfo(current_app.config["APP_TIMEZONE"])
    local = moment.astimezone(zone)
    place = get_timezone_location(
        zone, locale=formatting_locale(current_language()), return_city=True
    )
    return gettext(
        "%(date)s at %(time)s (%(place)s time)",
        date=format_long_date(local.date()),
        time=local.strftime("%H:%M"),
        place=place,
    )


def _sender() -> str:
    return str(current_app.config["MAIL_DEFAULT_SENDER"])


def _sender_domain() -> str:
    address = email.utils.parseaddr(_sender())[1]
    return address.rpartition("@")[2] or "localhost"


# ---------------------------------------------------------------- sending


def deliver(email_id: int, *, now: dt.datetime | None = None) -> OutgoingEmail | None:
    """Send one queued message: claim it, hand it to the mail server, record the outcome.

    Returns the message once sent, or None when there is nothing to do (sent already,
    given up on, not due yet, or being sent by another worker right now) or nothing that
    may be sent: a message about a certificate revoked or replaced since it was written
    (but its revocation notice) is given up on, the reason as its last error. A failed
    attempt is counted and described on the row and raises :class:`DeliveryFailed`,
    ``final`` when the server refused for good or the attempts are used up (the message is
    then ``failed``); otherwise the caller tries again after ``MAIL_RETRY_DELAY`` seconds.
    Commits (see the module's docstring).
    """
    config = current_app.config
    now = now or utcnow()
    if not _claim(email_id, now):
        db.session.rollback()
        return None
    db.session.commit()  # the claim holds before the mail server hears of the message
    outgoing = db.session.get(OutgoingEmail, email_id, populate_existing=True)
    if outgoing is None:  # deleted in between: nothing left to send
        return None
    withdrawn = certificate_withdrawn_in_words(outgoing)
    if withdrawn is not None:
        # Written while the certificate stood; it would now send a revoked or replaced
        # certificate (with its PDF) as if it were valid. Nothing was attempted.
        outgoing.attempts -= 1
        _record_failure(outgoing, withdrawn, final=True, now=now, retry_delay=_retry_delay())
        db.session.commit()
        log.info("E-mail %s not sent: %s", email_id, withdrawn)
        return None
    try:
        message = compose_message(
            outgoing, sender=_sender(), now=now, attachment=_attachment_of(outgoing)
        )
        send_message(
            message,
            MailSettings.from_config(config, current_app.instance_path),
            file_stem=_file_stem(outgoing),
        )
    except Exception as error:
        # Anything but a temporary network or server trouble will not mend by waiting.
        final = (
            not isinstance(error, OSError)
            or is_permanent(error)
            or outgoing.attempts >= int(config["MAIL_MAX_ATTEMPTS"])
        )
        reason = describe_error(error)
        _record_failure(outgoing, reason, final=final, now=now, retry_delay=_retry_delay())
        db.session.commit()
        log.warning("E-mail %s, attempt %s: %s", email_id, outgoing.attempts, reason)
        raise DeliveryFailed(email_id, reason, final=final) from error
    _record_sent(outgoing, now)
    db.session.commit()
    return outgoing


def _claim(email_id: int, now: dt.datetime) -> bool:
    """Mark the message as being sent, if it is due and nobody else is sending it. One
    conditional UPDATE, so that of two workers (a retry and the sweep, two hosts) only one
    wins; the attempt counts from here, so a worker killed mid-send still used one."""
    claimed = db.session.execute(
        sa.update(OutgoingEmail)
        .where(
            OutgoingEmail.id == email_id,
            OutgoingEmail.status == EmailStatus.QUEUED,
            sa.or_(
                OutgoingEmail.next_attempt_at.is_(None),
                OutgoingEmail.next_attempt_at <= now + CLOCK_TOLERANCE,
            ),
            sa.or_(
                OutgoingEmail.sending_since.is_(None),
                OutgoingEmail.sending_since < now - SENDING_LEASE,
            ),
        )
        .values(sending_since=now, attempts=OutgoingEmail.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    return bool(claimed.rowcount)  # type: ignore[attr-defined]


def _file_stem(outgoing: OutgoingEmail) -> str:
    """The name (without ``.eml``) of the message's file in the outbox folder."""
    return f"{outgoing.created_at:%Y%m%dT%H%M%S}Z-{outgoing.id}"


_WITH_PDF = frozenset(
    {EmailKind.CERTIFICATE_ISSUED, EmailKind.CERTIFICATE_REISSUED, EmailKind.CERTIFICATE_RENEWED}
)


def _attachment_of(outgoing: OutgoingEmail) -> Attachment | None:
    if outgoing.kind not in _WITH_PDF or outgoing.certificate is None:
        return None
    # The PDF exactly as issued and sealed: stored bytes, never rendered again.
    return certificate_attachment(outgoing.certificate.code, outgoing.certificate.pdf)


def _record_sent(outgoing: OutgoingEmail, now: dt.datetime) -> None:
    outgoing.status = EmailStatus.SENT
    outgoing.sent_at = now
    outgoing.sending_since = None
    outgoing.next_attempt_at = None
    if outgoing.kind in (EmailKind.INVITATION, EmailKind.PASSWORD_RESET):
        # In the language the rest of the body is written in: the recipient's.
        recipient = outgoing.candidate
        with force_locale(recipient.reads if recipient is not None else DEFAULT_LANGUAGE):
            removed = gettext("(removed once sent)")
        outgoing.text_body = _SET_PASSWORD_TOKEN.sub(
            lambda found: found.group(1) + removed, outgoing.text_body
        )
    db.session.flush()


def _record_failure(
    outgoing: OutgoingEmail,
    reason: str,
    *,
    final: bool,
    now: dt.datetime,
    retry_delay: dt.timedelta,
) -> None:
    outgoing.last_error = reason[:1000]
    outgoing.sending_since = None
    if final:
        outgoing.status = EmailStatus.FAILED
        outgoing.next_attempt_at = None
    else:
        outgoing.next_attempt_at = now + retry_delay
    db.session.flush()


def _retry_delay() -> dt.timedelta:
    return dt.timedelta(seconds=float(current_app.config["MAIL_RETRY_DELAY"]))


def retry_delay_seconds() -> float:
    """How long the queue waits before the next automatic attempt (``MAIL_RETRY_DELAY``)."""
    return _retry_delay().total_seconds()


def stalled_email_ids(now: dt.datetime | None = None, *, limit: int = 500) -> list[int]:
    """Queued messages long past due that no worker is sending: their task was lost."""
    now = now or utcnow()
    due_at = sa.func.coalesce(OutgoingEmail.next_attempt_at, OutgoingEmail.created_at)
    return list(
        db.session.scalars(
            sa.select(OutgoingEmail.id)
            .where(
                OutgoingEmail.status == EmailStatus.QUEUED,
                due_at < now - STALLED_AFTER,
                sa.or_(
                    OutgoingEmail.sending_since.is_(None),
                    OutgoingEmail.sending_since < now - SENDING_LEASE,
                ),
            )
            .order_by(OutgoingEmail.id)
            .limit(limit)
        )
    )


# ---------------------------------------------------------------- the administrator's view


def retry(outgoing: OutgoingEmail, actor: User | None) -> OutgoingEmail:
    """Send a failed message again ("Send again"), with a fresh allowance of attempts. A
    queued one waiting for its next attempt may be sent now too. Not a message about a
    certificate revoked or replaced since (see :func:`certificate_withdrawn_in_words`)."""
    waiting = outgoing.status is EmailStatus.QUEUED and outgoing.attempts > 0
    if outgoing.status is not EmailStatus.FAILED and not waiting:
        raise RuleViolation(
            gettext(
                "Only an e-mail that failed, or is waiting to be tried again, can be sent again."
            ),
            slug="not_retryable",
        )
    if outgoing.sending_since is not None and outgoing.sending_since >= utcnow() - SENDING_LEASE:
        raise RuleViolation(gettext("This e-mail is being sent right now."), slug="being_sent")
    withdrawn = certificate_withdrawn_in_words(outgoing)
    if withdrawn is not None:
        raise RuleViolation(withdrawn, slug="certificate_withdrawn")
    before = _delivery_snapshot(outgoing)
    outgoing.status = EmailStatus.QUEUED
    outgoing.attempts = 0
    outgoing.next_attempt_at = None
    db.session.flush()
    record_event(
        actor,
        "email.retried",
        "outgoing_email",
        outgoing.id,
        before=before,
        after=_delivery_snapshot(outgoing),
    )
    _announce_written(outgoing.id)
    return outgoing


def certificate_withdrawn_in_words(outgoing: OutgoingEmail) -> str | None:
    """Why ``outgoing`` may not be sent (again), if its certificate was revoked or replaced
    after it was written: an issue notice would send the PDF of a certificate that no
    longer stands, a reminder would ask to renew it. None for every other message, and
    always for the revocation notice, which must go."""
    certificate = outgoing.certificate
    if (
        certificate is None
        or outgoing.kind is EmailKind.CERTIFICATE_REVOKED
        or (
            certificate.is_current
            and certificate.revoked_at is None
            and certificate.superseded_by_id is None
        )
    ):
        return None
    zone = ZoneInfo(current_app.config["APP_TIMEZONE"])
    revoked_on = certificate.revoked_on(zone)
    if revoked_on is not None:
        return gettext(
            "The certificate was revoked on %(day)s; this message is not sent again.",
            day=format_long_date(revoked_on),
        )
    if certificate.replacement_code is not None and certificate.superseded_at is not None:
        return gettext(
            "The certificate was replaced by %(code)s on %(day)s; this message is not sent again.",
            code=certificate.replacement_code,
            day=format_long_date(certificate.superseded_at.astimezone(zone).date()),
        )
    if certificate.replacement_code is not None:
        return gettext(
            "The certificate was replaced by %(code)s; this message is not sent again.",
            code=certificate.replacement_code,
        )
    return gettext("The certificate is no longer current; this message is not sent again.")


def _delivery_snapshot(outgoing: OutgoingEmail) -> dict[str, object]:
    return {
        "recipient": outgoing.recipient,
        "status": outgoing.status.value,
        "attempts": outgoing.attempts,
        "last_error": outgoing.last_error,
    }


def get_email(email_id: int) -> OutgoingEmail:
    outgoing = db.session.get(OutgoingEmail, email_id) if 0 < email_id <= MAX_ID else None
    if outgoing is None:
        raise NotFound(gettext("There is no e-mail %(id)s.", id=email_id))
    return outgoing


def outbox_query(status: EmailStatus | None = None) -> sa.Select[OutgoingEmail]:
    """The outbox, newest first, optionally of one status; a statement, for pagination.
    Each message's certificate comes along: whether it still stands decides its state."""
    statement = (
        sa.select(OutgoingEmail)
        .options(so.selectinload(OutgoingEmail.certificate).selectinload(Certificate.superseded_by))
        .order_by(OutgoingEmail.created_at.desc(), OutgoingEmail.id.desc())
    )
    if status is not None:
        statement = statement.where(OutgoingEmail.status == status)
    return statement


def outbox_counts() -> dict[EmailStatus, int]:
    """How many messages are in each status (every status present, zeros included)."""
    rows = db.session.execute(
        sa.select(OutgoingEmail.status, sa.func.count()).group_by(OutgoingEmail.status)
    ).all()
    counts = dict.fromkeys(EmailStatus, 0)
    counts.update({status: count for status, count in rows})
    return counts


# ---------------------------------------------------------------- in words, for the outbox page

KIND_WORDS: dict[EmailKind, LazyString] = {
    EmailKind.INVITATION: lazy_gettext("Invitation"),
    EmailKind.PASSWORD_RESET: lazy_gettext("Password reset"),
    EmailKind.CERTIFICATE_ISSUED: lazy_gettext("Certificate issued"),
    EmailKind.CERTIFICATE_REISSUED: lazy_gettext("Certificate reissued"),
    EmailKind.CERTIFICATE_RENEWED: lazy_gettext("Certificate renewed"),
    EmailKind.CERTIFICATE_REVOKED: lazy_gettext("Certificate revoked"),
    EmailKind.CERTIFICATE_SUSPENDED: lazy_gettext("Certificate suspended"),
    EmailKind.CERTIFICATE_REINSTATED: lazy_gettext("Certificate reinstated"),
    EmailKind.EXPIRY_REMINDER: lazy_gettext("Expiry reminder"),
    EmailKind.APPROVALS_DIGEST: lazy_gettext("Awaiting approval (to an officer)"),
    EmailKind.CLAIM_APPROVED: lazy_gettext("Claim approved"),
    EmailKind.CLAIM_REJECTED: lazy_gettext("Claim rejected"),
    EmailKind.ERASURE_REFUSED: lazy_gettext("Erasure not carried out"),
}


def kinds_in_words(emails: Sequence[OutgoingEmail]) -> dict[int, str]:
    """What each message is about, by id. A reissue written before reissues had a kind of
    their own (as "certificate issued") is told by its certificate replacing another; one
    query for them all."""
    issued = {
        e.certificate_id
        for e in emails
        if e.kind is EmailKind.CERTIFICATE_ISSUED and e.certificate_id is not None
    }
    replacements = (
        set(
            db.session.scalars(
                sa.select(Certificate.superseded_by_id).where(
                    Certificate.superseded_by_id.in_(issued)
                )
            )
        )
        if issued
        else set()
    )
    return {
        e.id: str(
            KIND_WORDS[
                EmailKind.CERTIFICATE_REISSUED
                if e.kind is EmailKind.CERTIFICATE_ISSUED and e.certificate_id in replacements
                else e.kind
            ]
        )
        for e in emails
    }


@dataclass(frozen=True)
class DeliveryState:
    """Where a message is, in words that claim no more than the application knows: it
    knows whether a mail server accepted a message, never whether it reached an inbox."""

    label: str  # "Waiting in the outbox"
    meaning: str  # what that means, in a sentence or two
    tone: str  # the badge: "ok", "no" or "" (neither)
    can_send_again: bool  # "Send again" is offered (see :func:`retry`)


def delivery_state(outgoing: OutgoingEmail, *, now: dt.datetime | None = None) -> DeliveryState:
    """``outgoing``'s state for an administrator (see :class:`DeliveryState`)."""
    config = current_app.config
    now = now or utcnow()
    if outgoing.status is EmailStatus.SENT:
        when = format_long_datetime(outgoing.sent_at or outgoing.created_at)
        folder = _written_to_folder(outgoing)
        if folder is not None:
            return DeliveryState(
                gettext("Written to the outbox folder (no mail server configured)"),
                gettext(
                    "Saved on %(when)s as %(file)s in %(folder)s. Nobody received it by e-mail:"
                    " with no MAIL_SERVER configured, messages are written as files instead of"
                    " being sent.",
                    when=when,
                    file=_file_stem(outgoing) + ".eml",
                    folder=str(folder),
                ),
                "",
                False,
            )
        return DeliveryState(
            gettext("Delivered to the mail server"),
            gettext(
                "The mail server accepted it on %(when)s. Whether it then reached the inbox (or"
                " a spam folder, or bounced back to the sender address) is not reported here.",
                when=when,
            ),
            "ok",
            False,
        )
    withdrawn = certificate_withdrawn_in_words(outgoing)
    if outgoing.status is EmailStatus.FAILED and withdrawn is not None:
        tried = (
            ngettext(
                "Not sent after %(num)d attempt, and given up on.",
                "Not sent after %(num)d attempts, and given up on.",
                outgoing.attempts,
            )
            if outgoing.attempts
            else gettext("Not sent, and given up on.")
        )
        return DeliveryState(gettext("Failed, given up"), f"{tried} {withdrawn}", "no", False)
    if outgoing.status is EmailStatus.FAILED:
        return DeliveryState(
            gettext("Failed, given up"),
            ngettext(
                "Not sent after %(num)d attempt, and not tried again automatically: the mail"
                " server refused it for good, or the attempts ran out (the last error is"
                " below). Send it again once the cause is put right.",
                "Not sent after %(num)d attempts, and not tried again automatically: the mail"
                " server refused it for good, or the attempts ran out (the last error is"
                " below). Send it again once the cause is put right.",
                outgoing.attempts,
            ),
            "no",
            True,
        )
    if outgoing.sending_since is not None and outgoing.sending_since >= now - SENDING_LEASE:
        return DeliveryState(
            gettext("Being handed over now"),
            gettext(
                "A queue worker started handing it over at %(when)s; the outcome is recorded"
                " as soon as the mail server answers.",
                when=format_long_datetime(outgoing.sending_since),
            ),
            "",
            False,
        )
    if withdrawn is not None:
        given_up = gettext("A queue worker gives it up when it next comes to it.")
        return DeliveryState(gettext("Not to be sent"), f"{withdrawn} {given_up}", "no", False)
    if outgoing.attempts == 0:
        return DeliveryState(
            gettext("Waiting in the outbox"),
            gettext(
                "Written, not sent yet. A queue worker hands it over moments after the change"
                " it announces was saved; while no worker is running, it waits here."
            ),
            "",
            False,
        )
    if outgoing.next_attempt_at is not None:
        next_attempt = gettext(
            "The next attempt is due at %(when)s.",
            when=format_long_datetime(outgoing.next_attempt_at),
        )
    else:
        next_attempt = gettext("It is tried again automatically within minutes.")
    if outgoing.last_error is None:
        interrupted = gettext(
            "A queue worker started attempt %(num)d and stopped before the mail server answered.",
            num=outgoing.attempts,
        )
        twice = gettext("If the server did accept it, the recipient may receive it twice.")
        return DeliveryState(
            gettext("Interrupted, will retry"), f"{interrupted} {next_attempt} {twice}", "", True
        )
    failed = gettext(
        "Attempt %(num)d of %(max)d failed (the error is below).",
        num=outgoing.attempts,
        max=int(config["MAIL_MAX_ATTEMPTS"]),
    )
    return DeliveryState(gettext("Failed, will retry"), f"{failed} {next_attempt}", "", True)


def status_filters_in_words() -> dict[EmailStatus, str]:
    """The outbox page's tabs: each status as :func:`delivery_state` words it, in short."""
    settings = MailSettings.from_config(current_app.config, current_app.instance_path)
    return {
        EmailStatus.QUEUED: gettext("Not sent yet"),
        EmailStatus.SENT: (
            gettext("Written to the outbox folder")
            if settings.uses_outbox_folder
            else gettext("Delivered to the mail server")
        ),
        EmailStatus.FAILED: gettext("Failed, given up"),
    }


def mail_transport_in_words() -> str:
    """Where sent messages go now, for the outbox page's introduction."""
    settings = MailSettings.from_config(current_app.config, current_app.instance_path)
    if settings.uses_outbox_folder:
        return gettext(
            "No mail server is configured (MAIL_SERVER is empty): messages are written as .eml"
            " files to %(folder)s, and nobody receives them by e-mail.",
            folder=str(settings.outbox),
        )
    return gettext(
        "Messages are handed to the mail server %(server)s:%(port)s.",
        server=settings.server,
        port=settings.port,
    )


def readable_body(outgoing: OutgoingEmail) -> str:
    """The text as written, for an administrator's eyes: a set-password link still usable
    (invitation or password reset not sent yet) is shown without its one-time token, which
    works like a password until it is used."""
    if outgoing.kind in (EmailKind.INVITATION, EmailKind.PASSWORD_RESET):
        hidden = gettext("(one-time token, not shown)")
        return _SET_PASSWORD_TOKEN.sub(lambda found: found.group(1) + hidden, outgoing.text_body)
    return outgoing.text_body


def attached_file_name(outgoing: OutgoingEmail) -> str | None:
    """The file attached when the message is sent (a certificate's signed PDF), if any."""
    if outgoing.kind not in _WITH_PDF or outgoing.certificate is None:
        return None
    return f"{outgoing.certificate.code}.pdf"


def _written_to_folder(outgoing: OutgoingEmail) -> Path | None:
    """The outbox folder, if a sent message went there rather than to a mail server: when
    no server is configured, or its file is there (it was sent before one was)."""
    settings = MailSettings.from_config(current_app.config, current_app.instance_path)
    if settings.uses_outbox_folder or (settings.outbox / f"{_file_stem(outgoing)}.eml").exists():
        return settings.outbox
    return None
