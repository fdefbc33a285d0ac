"""A message about a certificate that was revoked or replaced after it was written is not
sent: not by "Send again", not by a worker that comes to it late. The revocation notice
itself always goes."""

from __future__ import annotations

import datetime as dt
import html

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from certification.certificates.services import (
    find_certificate,
    reissue_certificate,
    revoke_certificate,
)
from certification.extensions import db
from certification.mail.models import EmailKind, EmailStatus, OutgoingEmail
from tests.conftest import issue_by_service, log_in
from tests.mail import subject_of

REVOKED_AT = dt.datetime(2026, 12, 6, 10, 15, tzinfo=dt.UTC)
REVOKED_WORDS = "The certificate was revoked on 6 December 2026; this message is not sent again."


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _email(app: Flask, kind: EmailKind) -> OutgoingEmail:
    with app.app_context():
        outgoing = db.session.scalars(
            sa.select(OutgoingEmail).where(OutgoingEmail.kind == kind).order_by(OutgoingEmail.id)
        ).one()
        db.session.expunge(outgoing)
        return outgoing


def _revoke(app: Flask, code: str) -> None:
    with app.app_context():
        revoke_certificate(find_certificate(code), "Issued in error", None, now=REVOKED_AT)
        db.session.commit()


def _admin(client: FlaskClient, make_admin) -> None:
    make_admin("office@efrs.example", "EFRS Programme Office")
    assert log_in(client, "office@efrs.example").status_code == 302


def test_a_failed_issue_notice_is_not_sent_again_once_the_certificate_is_revoked(
    app, client, make_admin, smtp, run_queue, eligible_candidate, today
):
    app.config["APP_TIMEZONE"] = "Europe/Brussels"
    smtp.start()
    smtp.inbox.reply = "550 5.1.1 Mailbox unknown"
    code = issue_by_service(app, eligible_candidate(), today)
    assert run_queue() == 1
    issued = _email(app, EmailKind.CERTIFICATE_ISSUED)
    assert issued.status is EmailStatus.FAILED
    _admin(client, make_admin)
    assert "Send again" in _text(client.get(f"/admin/emails/{issued.id}"))

    _revoke(app, code)
    page = _text(client.get(f"/admin/emails/{issued.id}"))
    assert REVOKED_WORDS in page
    assert "Send again" not in page
    row = _text(client.get("/admin/emails?status=failed"))
    assert f"/admin/emails/{issued.id}/retry" not in row

    # A form sent before the revocation (an open tab) is refused, and says why.
    smtp.inbox.reply = "250 OK"
    refused = client.post(
        f"/admin/emails/{issued.id}/retry", data={"back": "message"}, follow_redirects=True
    )
    assert REVOKED_WORDS in _text(refused)
    assert _email(app, EmailKind.CERTIFICATE_ISSUED).status is EmailStatus.FAILED

    # Only the revocation notice leaves, without the PDF.
    assert run_queue() == 1
    (message,) = smtp.inbox.messages
    assert subject_of(message).endswith(f"({code}) has been revoked")
    assert list(message.iter_attachments()) == []
    assert _email(app, EmailKind.CERTIFICATE_ISSUED).status is EmailStatus.FAILED


def test_a_worker_that_comes_late_gives_up_the_issue_notice_and_sends_the_revocation(
    app, client, make_admin, smtp, run_queue, eligible_candidate, today
):
    app.config["APP_TIMEZONE"] = "Europe/Brussels"
    smtp.start()
    code = issue_by_service(app, eligible_candidate(), today)
    _revoke(app, code)  # before any worker ran: the issue notice is still queued

    assert run_queue() == 2
    (message,) = smtp.inbox.messages
    assert subject_of(message).endswith(f"({code}) has been revoked")
    assert list(message.iter_attachments()) == []
    issued = _email(app, EmailKind.CERTIFICATE_ISSUED)
    assert (issued.status, issued.attempts) == (EmailStatus.FAILED, 0)
    assert issued.last_error == REVOKED_WORDS
    assert _email(app, EmailKind.CERTIFICATE_REVOKED).status is EmailStatus.SENT

    _admin(client, make_admin)
    page = _text(client.get(f"/admin/emails/{issued.id}"))
    assert "Failed, given up" in page
    assert f"Not sent, and given up on. {REVOKED_WORDS}" in page
    assert "Send again" not in page


def test_a_replaced_certificates_notice_is_not_sent_again_its_replacements_is(
    app, client, make_admin, smtp, run_queue, eligible_candidate, today
):
    app.config["APP_TIMEZONE"] = "Europe/Brussels"
    smtp.start()
    smtp.inbox.reply = "550 5.1.1 Mailbox unknown"
    code = issue_by_service(app, eligible_candidate(), today)
    assert run_queue() == 1
    smtp.inbox.reply = "250 OK"
    with app.app_context():
        new_code = reissue_certificate(find_certificate(code), None, now=REVOKED_AT).code
        db.session.commit()
    assert run_queue() == 1
    (message,) = smtp.inbox.messages
    assert [part.get_filename() for part in message.iter_attachments()] == [f"{new_code}.pdf"]

    issued = _email(app, EmailKind.CERTIFICATE_ISSUED)
    _admin(client, make_admin)
    refused = client.post(
        f"/admin/emails/{issued.id}/retry", data={"back": "message"}, follow_redirects=True
    )
    replaced = (
        f"The certificate was replaced by {new_code} on 6 December 2026;"
        " this message is not sent again."
    )
    page = _text(refused)
    assert replaced in page
    assert "Send again" not in page
    assert run_queue() == 0
    assert len(smtp.inbox.envelopes) == 1


def test_the_message_page_keeps_the_email_menu_item_marked(
    app, client, make_admin, eligible_candidate, today
):
    issue_by_service(app, eligible_candidate(), today)
    _admin(client, make_admin)
    email_id = _email(app, EmailKind.CERTIFICATE_ISSUED).id
    page = client.get(f"/admin/emails/{email_id}").get_data(as_text=True)
    assert '<a href="/admin/emails" aria-current="page">E-mail</a>' in page
