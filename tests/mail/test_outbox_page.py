"""The administrators' E-mail page: each message labelled by what it is and where it is,
in words that claim no more than the application knows, and each one readable as written."""

from __future__ import annotations

import datetime as dt
import html
import io
import re
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image

from certification.auth.services import (
    create_admin,
    create_password_setup_link,
    get_candidate,
    get_user_by_email,
)
from certification.catalogue.models import ApprovalPolicy
from certification.catalogue.services import get_programme
from certification.certificates.approvals import (
    reinstate_certificate,
    renew_award,
    request_award,
    revoke_award,
)
from certification.certificates.services import (
    find_certificate,
    reissue_certificate,
    revoke_certificate,
)
from certification.claims.services import (
    ClaimInput,
    EvidenceUpload,
    approve_claim,
    reject_claim,
    submit_claim,
)
from certification.dates import format_long_date
from certification.extensions import db
from certification.mail.models import EmailKind, OutgoingEmail
from certification.mail.services import (
    queue_approval_digests,
    queue_expiry_reminders,
    queue_invitation,
    queue_password_reset,
    set_password_url,
)
from certification.privacy import refuse_erasure
from certification.privacy_models import ErasureRequest
from certification.records.models import CpdSource
from certification.records.services import record_cpd
from certification.types import utcnow
from tests.conftest import PASSWORD, issue_by_service, log_in


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _row(page: str, email_id: int) -> str:
    """The list's row that links to message ``email_id``."""
    (row,) = [r for r in page.split("<tr") if f'href="/admin/emails/{email_id}"' in r]
    return html.unescape(re.sub(r"<[^>]+>", " ", row))


def _email_id(app: Flask, kind: EmailKind) -> int:
    with app.app_context():
        return db.session.scalars(
            sa.select(OutgoingEmail.id).where(OutgoingEmail.kind == kind).order_by(OutgoingEmail.id)
        ).first()


def _admin(client: FlaskClient, make_admin) -> None:
    make_admin("office@efrs.example", "EFRS Programme Office")
    assert log_in(client, "office@efrs.example").status_code == 302


def _decide_two_claims(candidate, today: dt.date) -> None:
    """A candidate's own CPD claims, one approved and one rejected: each tells them."""
    reviewer = create_admin("claims@efrs.example", "Claims Reviewer", PASSWORD, None)
    image = io.BytesIO()
    Image.new("RGB", (20, 20), "navy").save(image, format="PNG")
    for title in ("Approved webinar", "Rejected congress"):
        claim = submit_claim(
            candidate,
            ClaimInput("cpd", title, "EuSoMII", today, points=Decimal(1)),
            EvidenceUpload("attendance.png", image.getvalue()),
            today=today,
        )
        if title.startswith("Approved"):
            approve_claim(claim, reviewer, today=today, now=utcnow())
        else:
            reject_claim(claim, "Not attended.", reviewer, now=utcnow())


def _refuse_an_erasure(candidate) -> None:
    """The office refuses a holder's request to erase their data: it tells them why."""
    office = create_admin("privacy@efrs.example", "Privacy Office", PASSWORD, None)
    request = ErasureRequest(candidate=candidate, requested_at=utcnow())
    db.session.add(request)
    db.session.flush()
    refuse_erasure(request, "A claim of yours awaits review.", office, utcnow())


def test_each_message_is_labelled_by_what_it_is(
    app, client, make_admin, make_candidate, make_officer, make_programme, eligible_candidate, today
):
    first, second = eligible_candidate("Ana Šimić"), eligible_candidate("Jānis Bērziņš")
    # A jointly approved award requested for Jānis: each body's officer is told it awaits it.
    make_programme("EII-J", required_assessments=("CERT-EXAM",), approval="both_bodies")
    make_officer("EFRS", "sofia@efrs.example")
    make_officer("EuSoMII", "tomasz@eusomii.example")
    issued = issue_by_service(app, first, today)
    kept = issue_by_service(app, second, today)
    third = issue_by_service(app, eligible_candidate("Eila Mäkinen"), today)
    make_candidate("Ömer Çelik", email="omer@example.tr", password=PASSWORD)
    with app.app_context():
        replacement = reissue_certificate(find_certificate(issued), None)
        revoke_certificate(replacement, "Issued in error", None)
        person = get_candidate(first)
        token = create_password_setup_link(person, None, valid_for=dt.timedelta(hours=72))
        queue_invitation(person, set_password_url(token), None)
        queue_password_reset("omer@example.tr")
        expires_on = find_certificate(kept).expires_on
        assert queue_expiry_reminders(expires_on - dt.timedelta(days=10)) == 2  # kept, third
        # A third holder kept up their CPD: the office renews their certificate.
        renewed = find_certificate(third)
        renewed.expires_on = today + dt.timedelta(days=100)  # a renewal opens 180 days before
        get_programme("EII-C").renewal_cpd_points = Decimal(5)
        record_cpd(
            renewed.candidate,
            title="EuSoMII webinar: AI in the reading room",
            organiser="EuSoMII",
            activity_on=today,
            points=Decimal(5),
            source=CpdSource.ATTENDANCE,
            actor=None,
            today=today,
        )
        renew_award(renewed, None, today=today)
        request_award(get_candidate(second), get_programme("EII-J"), None, today=today)
        assert queue_approval_digests(today) == 2  # one to each body's officer
        # Kept's award made joint: EFRS's revocation suspends it, EuSoMII reinstates it.
        get_programme("EII-C").approval = ApprovalPolicy.BOTH_BODIES
        held = find_certificate(kept)
        revoke_award(held, "The result is being checked.", get_user_by_email("sofia@efrs.example"))
        reinstate_certificate(
            held,
            "The result was checked and is right.",
            get_user_by_email("tomasz@eusomii.example"),
        )
        _decide_two_claims(person, today)
        _refuse_an_erasure(get_candidate(second))
        db.session.commit()
        new_code = replacement.code
    ids = {kind: _email_id(app, kind) for kind in EmailKind}
    assert all(ids.values())

    _admin(client, make_admin)
    page = client.get("/admin/emails").get_data(as_text=True)
    words = {
        EmailKind.INVITATION: "Invitation",
        EmailKind.PASSWORD_RESET: "Password reset",
        EmailKind.CERTIFICATE_ISSUED: "Certificate issued",
        EmailKind.CERTIFICATE_REISSUED: "Certificate reissued",
        EmailKind.CERTIFICATE_RENEWED: "Certificate renewed",
        EmailKind.CERTIFICATE_REVOKED: "Certificate revoked",
        EmailKind.CERTIFICATE_SUSPENDED: "Certificate suspended",
        EmailKind.CERTIFICATE_REINSTATED: "Certificate reinstated",
        EmailKind.EXPIRY_REMINDER: "Expiry reminder",
        EmailKind.APPROVALS_DIGEST: "Awaiting approval (to an officer)",
        EmailKind.CLAIM_APPROVED: "Claim approved",
        EmailKind.CLAIM_REJECTED: "Claim rejected",
        EmailKind.ERASURE_REFUSED: "Erasure not carried out",
    }
    assert set(words) == set(EmailKind)  # every kind has its label, and an e-mail here
    assert all(len(kind.value) <= 20 for kind in EmailKind)  # the column holds 20
    for kind, label in words.items():
        row = _row(page, ids[kind])
        assert label in row, (kind, row)
        others = set(words.values()) - {label}
        assert not [other for other in others if other in row], (kind, row)
    assert "Your reissued European Certificate" in _row(page, ids[EmailKind.CERTIFICATE_REISSUED])
    assert new_code in _row(page, ids[EmailKind.CERTIFICATE_REISSUED])

    # A reissue written before reissues had a kind of their own is still called one.
    with app.app_context():
        db.session.execute(
            sa.update(OutgoingEmail)
            .where(OutgoingEmail.id == ids[EmailKind.CERTIFICATE_REISSUED])
            .values(kind=EmailKind.CERTIFICATE_ISSUED)
        )
        db.session.commit()
    page = client.get("/admin/emails").get_data(as_text=True)
    assert "Certificate reissued" in _row(page, ids[EmailKind.CERTIFICATE_REISSUED])
    assert "Certificate issued" in _row(page, ids[EmailKind.CERTIFICATE_ISSUED])


def test_a_message_can_be_read_as_written_and_is_never_called_sent_before_it_is(
    app, client, make_admin, run_queue, eligible_candidate, today
):
    code = issue_by_service(app, eligible_candidate("Αικατερίνη Παπαδοπούλου"), today)
    email_id = _email_id(app, EmailKind.CERTIFICATE_ISSUED)
    with app.app_context():
        outgoing = db.session.get(OutgoingEmail, email_id)
        body, written = outgoing.text_body, outgoing.created_at.astimezone(dt.UTC)
    _admin(client, make_admin)

    waiting_html = client.get(f"/admin/emails/{email_id}").get_data(as_text=True)
    waiting = html.unescape(waiting_html)
    assert f"Your European Certificate in Imaging Informatics ({code})" in waiting
    words = re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", "", waiting_html)))
    assert "To Αικατερίνη Παπαδοπούλου <eligible1@example.org>" in words
    assert "Attempts 0 of 4" in words
    assert f"{format_long_date(written.date())} at {written:%H:%M} UTC" in waiting
    assert "Certificate issued" in waiting
    assert body.strip() in waiting  # the whole text, line for line
    assert f"{code}.pdf: the certificate's signed PDF" in waiting
    assert "Waiting in the outbox" in waiting
    assert "Written, not sent yet" in waiting
    for claim in ("Sent", "Delivered", "Written to the outbox folder"):
        assert claim not in waiting
    listed = _text(client.get("/admin/emails"))
    assert "Waiting in the outbox" in listed and "Delivered" not in listed.split("</nav>")[1]

    assert run_queue() == 1  # no MAIL_SERVER: a file in instance/outbox
    written_out = _text(client.get(f"/admin/emails/{email_id}"))
    assert "Written to the outbox folder (no mail server configured)" in written_out
    assert "Nobody received it by e-mail" in written_out
    assert f"Z-{email_id}.eml" in written_out
    assert "Delivered to the mail server" not in written_out
    listed = _text(client.get("/admin/emails"))
    assert "Written to the outbox folder (1)" in listed  # the tab
    assert "Written to the outbox folder (no mail server configured)" in listed


def test_a_message_the_mail_server_accepted_says_so_and_no_more(
    app, client, make_admin, smtp, run_queue, eligible_candidate, today
):
    smtp.start()
    issue_by_service(app, eligible_candidate(), today)
    email_id = _email_id(app, EmailKind.CERTIFICATE_ISSUED)
    assert run_queue() == 1
    _admin(client, make_admin)
    page = _text(client.get(f"/admin/emails/{email_id}"))
    assert "Delivered to the mail server" in page
    assert "The mail server accepted it on" in page
    assert "is not reported here" in page  # the inbox is beyond what the app can know
    assert "outbox folder" not in page
    assert "Delivered to the mail server (1)" in _text(client.get("/admin/emails"))


def test_failures_say_whether_another_attempt_will_come(
    app, client, make_admin, smtp, run_queue, eligible_candidate, today
):
    app.config["MAIL_MAX_ATTEMPTS"] = 2
    issue_by_service(app, eligible_candidate(), today)  # the mail server is not started
    email_id = _email_id(app, EmailKind.CERTIFICATE_ISSUED)
    assert run_queue() == 1
    _admin(client, make_admin)
    page = _text(client.get(f"/admin/emails/{email_id}"))
    assert "Failed, will retry" in page
    assert "Attempt 1 of 2 failed" in page
    assert "The next attempt is due at" in page
    assert "refused the connection" in page  # the last error

    smtp.start()
    smtp.inbox.reply = "550 5.1.1 Mailbox unknown"
    with app.app_context():
        db.session.execute(sa.update(OutgoingEmail).values(next_attempt_at=utcnow()))
        db.session.commit()
    from certification.mail.services import DeliveryFailed, deliver

    with app.app_context(), pytest.raises(DeliveryFailed):
        deliver(email_id)
    page = _text(client.get(f"/admin/emails/{email_id}"))
    assert "Failed, given up" in page
    assert "Not sent after 2 attempts, and not tried again automatically" in page
    assert "550 5.1.1 Mailbox unknown" in page

    smtp.inbox.reply = "250 OK"
    again = client.post(f"/admin/emails/{email_id}/retry", data={"back": "message"})
    assert again.status_code == 303
    assert again.headers["Location"] == f"/admin/emails/{email_id}"
    assert "Waiting in the outbox" in _text(client.get(f"/admin/emails/{email_id}"))
    assert run_queue() == 1
    assert "Delivered to the mail server" in _text(client.get(f"/admin/emails/{email_id}"))


@pytest.mark.parametrize(
    ("minutes_ago", "label", "words"),
    [
        (1, "Being handed over now", "A queue worker started handing it over at"),
        (30, "Interrupted, will retry", "stopped before the mail server answered"),
    ],
)
def test_a_message_in_a_workers_hands(
    app, client, make_admin, eligible_candidate, today, minutes_ago, label, words
):
    issue_by_service(app, eligible_candidate(), today)
    email_id = _email_id(app, EmailKind.CERTIFICATE_ISSUED)
    with app.app_context():  # a worker claimed it: one attempt, no outcome yet
        db.session.execute(
            sa.update(OutgoingEmail).values(
                attempts=1, sending_since=utcnow() - dt.timedelta(minutes=minutes_ago)
            )
        )
        db.session.commit()
    _admin(client, make_admin)
    page = _text(client.get(f"/admin/emails/{email_id}"))
    assert label in page and words in page
    assert "Delivered" not in page and "Failed" not in page


def test_an_unsent_invitation_does_not_show_its_one_time_link(app, client, make_admin, candidate):
    person_id = candidate()
    with app.app_context():
        person = get_candidate(person_id)
        token = create_password_setup_link(person, None, valid_for=dt.timedelta(hours=72))
        queue_invitation(person, set_password_url(token), None)
        db.session.commit()
    email_id = _email_id(app, EmailKind.INVITATION)
    _admin(client, make_admin)
    page = _text(client.get(f"/admin/emails/{email_id}"))
    assert "Dear Αικατερίνη Παπαδοπούλου," in page
    assert token not in page
    assert "/set-password/(one-time token, not shown)" in page


def test_the_message_page_is_for_administrators_only(
    app, client, make_admin, make_candidate, eligible_candidate, today
):
    holder = eligible_candidate()
    issue_by_service(app, holder, today)
    email_id = _email_id(app, EmailKind.CERTIFICATE_ISSUED)
    url = f"/admin/emails/{email_id}"
    anonymous = client.get(url)
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    # Not even its recipient: the holder has their certificate on their own page.
    assert log_in(client, "eligible1@example.org").status_code == 302
    refused = client.get(url)
    assert refused.status_code == 404
    assert "Dear" not in _text(refused)
    client.post("/logout")
    _admin(client, make_admin)
    assert client.get(url).status_code == 200
    assert client.get("/admin/emails/999999").status_code == 404
