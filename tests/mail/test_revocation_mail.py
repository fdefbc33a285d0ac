"""The holder is told of a revocation: which certificate, the day, the officer's reason,
that the award is on hold and whom to ask; written with the revocation, sent after it."""

from __future__ import annotations

import datetime as dt
import html

import pytest
import sqlalchemy as sa
from flask import Flask

from certification.certificates.services import find_certificate, revoke_certificate
from certification.errors import RuleViolation
from certification.extensions import db
from certification.mail.models import EmailKind, OutgoingEmail
from certification.mail.services import queue_certificate_revoked
from certification.queue import huey
from tests.conftest import issue_by_service, log_in
from tests.mail import subject_of

REASON = "Issued before the examination board confirmed the result"
# Late evening in UTC is already the next day in the programme's calendar (Europe/Brussels).
REVOKED_AT = dt.datetime(2026, 12, 5, 23, 30, tzinfo=dt.UTC)


def _revoke(app: Flask, code: str, *, reason: str = REASON, commit: bool = True) -> None:
    with app.app_context():
        revoke_certificate(find_certificate(code), reason, None, now=REVOKED_AT)
        if commit:
            db.session.commit()
        else:
            db.session.rollback()


def _revocation_emails(app: Flask) -> list[OutgoingEmail]:
    with app.app_context():
        found = list(
            db.session.scalars(
                sa.select(OutgoingEmail).where(OutgoingEmail.kind == EmailKind.CERTIFICATE_REVOKED)
            )
        )
        db.session.expunge_all()
        return found


def test_the_holder_is_told_the_day_the_reason_the_hold_and_whom_to_ask(
    app, smtp, run_queue, eligible_candidate, today
):
    app.config["APP_TIMEZONE"] = "Europe/Brussels"
    app.config["PROGRAMME_OFFICE_EMAIL"] = "office@efrs.example"
    smtp.start()
    holder = eligible_candidate("Αικατερίνη Παπαδοπούλου")
    bystander = eligible_candidate("Jānis Bērziņš")
    code = issue_by_service(app, holder, today)
    issue_by_service(app, bystander, today)
    assert run_queue() == 2  # the two "issued" e-mails
    del smtp.inbox.envelopes[:]

    _revoke(app, code)
    assert run_queue() == 1
    (envelope,) = smtp.inbox.envelopes
    assert envelope.rcpt_tos == ["eligible1@example.org"]  # the holder, and nobody else
    (message,) = smtp.inbox.messages
    assert message["Cc"] is None and message["Bcc"] is None
    assert subject_of(message) == (
        f"Your European Certificate in Imaging Informatics ({code}) has been revoked"
    )
    assert list(message.iter_attachments()) == []  # a revoked certificate is not sent again
    text = message.get_body(("plain",)).get_content()
    assert "Dear Αικατερίνη Παπαδοπούλου," in text
    assert (
        f"Your European Certificate in Imaging Informatics, certificate {code}, was revoked"
        " on 6 December 2026. It is no longer valid." in text
    )
    assert REASON in text.splitlines()
    assert (
        "The European Certificate in Imaging Informatics is on hold for you: a new"
        " certificate for it cannot be issued to you until the programme office lifts the"
        " hold." in text
    )
    assert "write to the programme office at office@efrs.example." in text
    with app.app_context():
        assert find_certificate(code).verify_url in text.splitlines()


def test_without_an_office_address_the_message_still_says_whom_to_ask(
    app, run_queue, eligible_candidate, today
):
    assert app.config["PROGRAMME_OFFICE_EMAIL"] == ""
    code = issue_by_service(app, eligible_candidate(), today)
    _revoke(app, code)
    (outgoing,) = _revocation_emails(app)
    assert "believe it is a mistake, contact the programme office." in outgoing.text_body
    assert "@" not in outgoing.text_body.split("mistake", 1)[1]
    assert outgoing.recipient == "eligible1@example.org"


def test_a_rolled_back_revocation_writes_and_sends_nothing(
    app, run_queue, eligible_candidate, today
):
    code = issue_by_service(app, eligible_candidate(), today)
    run_queue()
    _revoke(app, code, commit=False)
    assert huey.pending_count() == 0
    assert _revocation_emails(app) == []
    assert run_queue() == 0


def test_revoking_on_the_admin_page_writes_the_email_in_the_same_request(
    app, client, make_admin, run_queue, eligible_candidate, today
):
    make_admin("officer@eusomii.example")
    log_in(client, "officer@eusomii.example")
    code = issue_by_service(app, eligible_candidate("Ömer Çelik"), today)
    run_queue()
    reason = 'Result "withdrawn" <by the board>'
    response = client.post(
        f"/admin/certificates/{code}/revoke", data={"reason": reason, "confirmed": "yes"}
    )
    assert response.status_code == 303
    (outgoing,) = _revocation_emails(app)
    assert (outgoing.recipient, outgoing.recipient_name) == ("eligible1@example.org", "Ömer Çelik")
    assert reason in outgoing.text_body.splitlines()  # plain text: nothing escaped
    assert "officer@eusomii.example" not in outgoing.text_body
    assert run_queue() == 1

    page = client.get(f"/admin/emails/{outgoing.id}").get_data(as_text=True)
    assert "&lt;by the board&gt;" in page and "<by the board>" not in page  # escaped
    assert "Certificate revoked" in html.unescape(page)


def test_revoking_through_the_api_tells_the_holder_too(
    app, api, run_queue, eligible_candidate, today
):
    code = issue_by_service(app, eligible_candidate(), today)
    run_queue()
    assert (
        api.post(f"/certificates/{code}/revoke", {"reason": "Issued in error"}).status_code == 200
    )
    (outgoing,) = _revocation_emails(app)
    assert "Issued in error" in outgoing.text_body.splitlines()


def test_one_revocation_one_email(app, eligible_candidate, today):
    code = issue_by_service(app, eligible_candidate(), today)
    _revoke(app, code)
    with app.app_context():
        with pytest.raises(RuleViolation, match="already revoked"):
            revoke_certificate(find_certificate(code), "Again", None)
        db.session.rollback()
        assert queue_certificate_revoked(find_certificate(code)) is None  # written once only
        db.session.commit()
    assert len(_revocation_emails(app)) == 1
