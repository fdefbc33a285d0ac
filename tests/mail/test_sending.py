"""Sending through a real SMTP server on loopback (aiosmtpd), failures and retries, the
outbox folder of a new installation, and the administrators' outbox page."""

from __future__ import annotations

import datetime as dt
import html
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from certification.auth.services import create_password_setup_link, get_candidate
from certification.catalogue.services import get_programme
from certification.certificates.models import Certificate
from certification.certificates.services import issue_certificate, reissue_certificate
from certification.extensions import db
from certification.mail.models import EmailStatus, OutgoingEmail
from certification.mail.services import (
    DeliveryFailed,
    deliver,
    queue_certificate_issued,
    queue_invitation,
    retry,
    set_password_url,
)
from certification.queue import huey
from certification.types import utcnow
from tests.conftest import PASSWORD
from tests.mail import receive, subject_of


def _queue_invitation(app: Flask, candidate_id: int) -> tuple[int, str]:
    with app.app_context():
        person = get_candidate(candidate_id)
        token = create_password_setup_link(person, None, valid_for=dt.timedelta(hours=72))
        outgoing = queue_invitation(person, set_password_url(token), None)
        db.session.commit()
        return outgoing.id, set_password_url(token)


def _email(app: Flask, email_id: int) -> OutgoingEmail:
    with app.app_context():
        outgoing = db.session.get(OutgoingEmail, email_id)
        db.session.expunge(outgoing)
        return outgoing


# ---------------------------------------------------------------- over SMTP


def _emails_of(app: Flask, certificate_code: str) -> list[OutgoingEmail]:
    with app.app_context():
        found = list(
            db.session.scalars(
                sa.select(OutgoingEmail)
                .join(Certificate, Certificate.id == OutgoingEmail.certificate_id)
                .where(Certificate.code == certificate_code)
            )
        )
        db.session.expunge_all()
        return found


def test_issuing_a_certificate_emails_it_after_commit_with_the_stored_pdf(
    app, smtp, run_queue, eligible_candidate, today
):
    smtp.start()
    holder = eligible_candidate("Αικατερίνη Παπαδοπούλου")
    with app.app_context():
        certificate = issue_certificate(
            get_candidate(holder), get_programme("EII-C"), None, today=today
        )
        assert queue_certificate_issued(certificate) is None  # issuing queued it, once
        db.session.commit()
        code, pdf, verify_url = certificate.code, certificate.pdf, certificate.verify_url
    (outgoing,) = _emails_of(app, code)
    email_id = outgoing.id
    assert smtp.inbox.envelopes == []  # queued, not sent: the worker sends

    assert run_queue() == 1
    (envelope,) = smtp.inbox.envelopes
    assert envelope.rcpt_tos == ["eligible1@example.org"]
    assert envelope.mail_from == "no-reply@certificates.example.org"
    (message,) = smtp.inbox.messages
    assert message["To"].addresses[0].display_name == "Αικατερίνη Παπαδοπούλου"
    assert message["To"].addresses[0].addr_spec == "eligible1@example.org"
    assert message["From"].addresses[0].display_name == "EFRS–EuSoMII Certification"
    assert subject_of(message) == f"Your European Certificate in Imaging Informatics ({code})"
    assert message["Message-ID"] == _email(app, email_id).message_id
    assert message["Date"]
    text = message.get_body(("plain",)).get_content()
    assert "Dear Αικατερίνη Παπαδοπούλου," in text
    assert verify_url in text.splitlines()
    assert "attached" in text
    (attachment,) = message.iter_attachments()
    assert attachment.get_filename() == f"{code}.pdf"
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_content() == pdf  # the sealed bytes as issued, not a new rendering
    sent = _email(app, email_id)
    assert (sent.status, sent.attempts, sent.last_error) == (EmailStatus.SENT, 1, None)
    assert sent.sent_at is not None
    assert run_queue() == 0  # nothing left, nothing sent twice


def test_a_reissue_emails_the_new_pdf_and_names_the_certificate_it_replaces(
    app, smtp, run_queue, eligible_candidate, today
):
    smtp.start()
    holder = eligible_candidate("Lukasz Wisniewski")
    with app.app_context():
        first = issue_certificate(get_candidate(holder), get_programme("EII-C"), None, today=today)
        db.session.commit()
        old_code = first.code
    assert run_queue() == 1
    with app.app_context():
        first = db.session.scalar(sa.select(Certificate).where(Certificate.code == old_code))
        replacement = reissue_certificate(first, None, full_name="Łukasz Wiśniewski")
        db.session.commit()
        new_code, new_pdf = replacement.code, replacement.pdf
    assert run_queue() == 1
    first_message, second = smtp.inbox.messages
    assert old_code in subject_of(first_message)
    assert subject_of(second) == (
        f"Your reissued European Certificate in Imaging Informatics ({new_code})"
    )
    text = second.get_body(("plain",)).get_content()
    assert "Dear Łukasz Wiśniewski," in text
    assert "Your European Certificate in Imaging Informatics has been reissued" in text
    assert f"replaces certificate {old_code}, which is no longer valid" in text
    assert "Congratulations" not in text
    (attachment,) = second.iter_attachments()
    assert attachment.get_filename() == f"{new_code}.pdf"
    assert attachment.get_content() == new_pdf


def test_emails_of_a_batch_leave_once_the_batch_commits_and_never_if_it_rolls_back(
    app, smtp, run_queue, eligible_candidate, today
):
    """Issuing announces the certificate; the mail area writes its e-mail in the same
    transaction, and its sending is queued only when that transaction commits, even after
    the savepoints each certificate and each e-mail take (as a bulk job's batch does)."""
    smtp.start()
    holders = [eligible_candidate(name) for name in ("Ana Šimić", "Jānis Bērziņš", "Ömer Çelik")]
    with app.app_context():
        for holder in holders:
            issue_certificate(get_candidate(holder), get_programme("EII-C"), None, today=today)
        assert huey.pending_count() == 0  # nothing may leave before the batch commits
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count(OutgoingEmail.id))) == 0
    assert run_queue() == 0

    with app.app_context():
        for holder in holders:
            issue_certificate(get_candidate(holder), get_programme("EII-C"), None, today=today)
        assert huey.pending_count() == 0
        db.session.commit()
        assert huey.pending_count() == 3
    assert run_queue() == 3
    assert sorted(envelope.rcpt_tos[0] for envelope in smtp.inbox.envelopes) == [
        "eligible1@example.org",
        "eligible2@example.org",
        "eligible3@example.org",
    ]


def test_a_refused_issue_queues_no_email(app, run_queue, eligible_candidate, candidate, today):
    from certification.certificates.services import RequirementsNotMet

    eligible_candidate()  # the programme exists; this candidate has nothing towards it
    person_id = candidate()
    with app.app_context():
        with pytest.raises(RequirementsNotMet):
            issue_certificate(get_candidate(person_id), get_programme("EII-C"), None, today=today)
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count(OutgoingEmail.id))) == 0
    assert run_queue() == 0


def test_a_rolled_back_transaction_sends_nothing(app, smtp, run_queue, candidate):
    smtp.start()
    person_id = candidate()
    with app.app_context():
        queue_invitation(get_candidate(person_id), "https://x.example/set-password/t", None)
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count(OutgoingEmail.id))) == 0
    assert run_queue() == 0
    assert smtp.inbox.envelopes == []


def test_a_refused_message_fails_shows_on_the_admin_page_and_can_be_sent_again(
    app, client, auth, make_admin, smtp, run_queue, candidate
):
    smtp.start()
    smtp.inbox.reply = "550 5.7.1 Relaying denied"
    email_id, link = _queue_invitation(app, candidate())
    run_queue()
    failed = _email(app, email_id)
    # A 5xx reply is final: waiting would not change the server's mind.
    assert (failed.status, failed.attempts) == (EmailStatus.FAILED, 1)
    assert failed.last_error == "550 5.7.1 Relaying denied"
    assert huey.scheduled_count() == 0

    make_admin("office@efrs.example", "EFRS Programme Office")
    auth.login("office@efrs.example")
    page = html.unescape(client.get("/admin/emails?status=failed").get_data(as_text=True))
    assert "aik@example.gr" in page
    assert "550 5.7.1 Relaying denied" in page
    assert "Send again" in page
    assert "aik@example.gr" not in html.unescape(
        client.get("/admin/emails?status=sent").get_data(as_text=True)
    )

    smtp.inbox.reply = "250 OK"
    response = client.post(f"/admin/emails/{email_id}/retry", data={"status": "failed"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/emails?status=failed"
    assert run_queue() == 1
    (message,) = smtp.inbox.messages
    assert link in message.get_content().splitlines()
    sent = _email(app, email_id)
    assert (sent.status, sent.attempts) == (EmailStatus.SENT, 1)
    # Sending again is only for what failed.
    assert client.post(f"/admin/emails/{email_id}/retry").status_code == 303
    assert run_queue() == 0
    assert len(smtp.inbox.envelopes) == 1


def test_a_server_that_is_down_is_retried_later_then_given_up_on(app, smtp, run_queue, candidate):
    app.config["MAIL_MAX_ATTEMPTS"] = 2
    email_id, link = _queue_invitation(app, candidate())  # the server is not started
    assert run_queue() == 1
    waiting = _email(app, email_id)
    assert (waiting.status, waiting.attempts) == (EmailStatus.QUEUED, 1)
    assert "refused the connection" in waiting.last_error
    assert waiting.next_attempt_at > utcnow() + dt.timedelta(seconds=50)
    assert huey.scheduled_count() == 1  # Huey retries after MAIL_RETRY_DELAY

    with app.app_context():
        assert deliver(email_id) is None  # not due yet
        with pytest.raises(DeliveryFailed) as failure:
            deliver(email_id, now=utcnow() + dt.timedelta(minutes=2))
        assert failure.value.final
        outgoing = db.session.get(OutgoingEmail, email_id)
        assert (outgoing.status, outgoing.attempts) == (EmailStatus.FAILED, 2)

        smtp.start()
        retry(outgoing, None)
        db.session.commit()
    assert run_queue() == 1
    (message,) = smtp.inbox.messages
    assert link in message.get_content().splitlines()
    assert _email(app, email_id).status is EmailStatus.SENT


def test_a_message_whose_task_was_lost_is_found_by_the_sweep(app, smtp, run_queue, candidate):
    from certification.mail.tasks import requeue_stalled_emails

    smtp.start()
    lost, _ = _queue_invitation(app, candidate())
    in_flight, _ = _queue_invitation(app, candidate("Ярослава Ковальчук", "jk@example.ua"))
    huey.flush()  # the worker holding both tasks was killed
    long_ago = utcnow() - dt.timedelta(minutes=20)
    with app.app_context():
        db.session.execute(sa.update(OutgoingEmail).values(created_at=long_ago))
        db.session.execute(
            sa.update(OutgoingEmail)
            .where(OutgoingEmail.id == in_flight)
            .values(sending_since=utcnow())
        )
        db.session.commit()
        requeue_stalled_emails.call_local()
    assert run_queue() == 1
    assert [m["To"].addresses[0].addr_spec for m in smtp.inbox.messages] == ["aik@example.gr"]
    assert _email(app, lost).status is EmailStatus.SENT
    assert _email(app, in_flight).status is EmailStatus.QUEUED


# ---------------------------------------------------------------- the embedded default


def test_without_a_mail_server_messages_are_written_to_the_outbox_folder(app, run_queue, candidate):
    assert app.config["MAIL_SERVER"] == ""
    email_id, link = _queue_invitation(app, candidate("Małgorzata Żółkiewska"))
    assert run_queue() == 1
    outgoing = _email(app, email_id)
    (file,) = (Path(app.instance_path) / "outbox").glob("*.eml")
    assert file.name == f"{outgoing.created_at:%Y%m%dT%H%M%S}Z-{email_id}.eml"
    message = receive(file.read_bytes())
    assert message["To"].addresses[0].display_name == "Małgorzata Żółkiewska"
    assert subject_of(message).startswith("Set your password")
    assert link in message.get_content().splitlines()
    assert outgoing.status is EmailStatus.SENT
    # Once sent, the stored copy no longer carries the one-time token.
    assert link not in outgoing.text_body
    assert re.search(r"/set-password/\(removed once sent\)", outgoing.text_body)


# ---------------------------------------------------------------- the outbox page


def test_the_outbox_page_is_for_administrators_only(app, client, auth, make_candidate):
    assert client.get("/admin/emails").status_code == 302  # to the login page
    make_candidate(email="me@example.org", password=PASSWORD)
    auth.login("me@example.org")
    assert client.get("/admin/emails").status_code == 404
    assert client.post("/admin/emails/1/retry").status_code == 404
