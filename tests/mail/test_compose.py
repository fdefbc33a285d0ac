"""Building a message from a stored row: headers, names in every European script, body and
attachment. Pure: no database, no mail server."""

from __future__ import annotations

import datetime as dt
import email.utils
from email.message import EmailMessage

import pytest

from certification.mail.compose import certificate_attachment, compose_message
from certification.mail.models import EmailKind, EmailStatus, OutgoingEmail
from tests.mail import receive, subject_of

SENDER = "EFRS–EuSoMII Certification <no-reply@certificates.example.org>"
NOW = dt.datetime(2025, 3, 14, 9, 26, 53, tzinfo=dt.UTC)
LINK = "https://certificates.example.org/set-password/abc_DEF-123"


def stored(name: str = "Łukasz Wiśniewski", **fields) -> OutgoingEmail:
    values = {
        "id": 7,
        "kind": EmailKind.INVITATION,
        "recipient": "candidate@example.org",
        "recipient_name": name,
        "subject": "Set your password: European Certificate and Diploma in Imaging Informatics",
        "text_body": f"Dear {name},\n\nChoose your password with this link:\n\n{LINK}\n",
        "message_id": "<170000.1.2@certificates.example.org>",
        "status": EmailStatus.QUEUED,
        "attempts": 0,
        "created_at": NOW,
    }
    return OutgoingEmail(**(values | fields))


def parsed(message: EmailMessage) -> EmailMessage:
    return receive(message.as_bytes())


def test_headers():
    received = parsed(compose_message(stored(), sender=SENDER, now=NOW))
    assert received["From"].addresses[0].display_name == "EFRS–EuSoMII Certification"
    assert received["From"].addresses[0].addr_spec == "no-reply@certificates.example.org"
    assert received["To"].addresses[0].addr_spec == "candidate@example.org"
    assert subject_of(received) == (
        "Set your password: European Certificate and Diploma in Imaging Informatics"
    )
    assert email.utils.parsedate_to_datetime(received["Date"]) == NOW
    assert received["Message-ID"] == "<170000.1.2@certificates.example.org>"
    assert received.get_content_type() == "text/plain"
    assert received.get_content_charset() == "utf-8"


@pytest.mark.parametrize(
    "name",
    [
        "Αικατερίνη Παπαδοπούλου",  # Greek
        "Małgorzata Żółkiewska-Gębicka",  # Polish
        "Ярослава Ковальчук",  # Cyrillic
        'Siobhán "Shiv" O\'Brien, Jr.',  # quotes and a comma must not split the address
    ],
)
def test_names_in_to_are_encoded_and_decode_back_exactly(name):
    message = compose_message(stored(name), sender=SENDER, now=NOW)
    raw = message.as_bytes()
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert head.isascii(), "headers travel as ASCII (RFC 2047)"
    to = parsed(message)["To"]
    assert len(to.addresses) == 1
    assert to.addresses[0].display_name == name
    assert to.addresses[0].addr_spec == "candidate@example.org"
    assert (
        parsed(message).get_content()
        == f"Dear {name},\n\nChoose your password with this link:\n\n{LINK}\n"
    )


def test_the_link_is_on_a_line_of_its_own_and_not_wrapped():
    body = parsed(compose_message(stored(), sender=SENDER, now=NOW)).get_content()
    assert LINK in body.splitlines()


def test_the_certificate_pdf_is_attached_byte_for_byte_and_named_after_the_code():
    pdf = b"%PDF-1.7\n" + bytes(range(256)) * 40 + b"\n%%EOF\n"
    row = stored(kind=EmailKind.CERTIFICATE_ISSUED, text_body="The PDF is attached.\n")
    message = compose_message(
        row, sender=SENDER, now=NOW, attachment=certificate_attachment("EIC-7KQ2-M9XD", pdf)
    )
    received = parsed(message)
    assert received.get_content_type() == "multipart/mixed"
    (text,) = [p for p in received.iter_parts() if p.get_content_type() == "text/plain"]
    assert text.get_content() == "The PDF is attached.\n"
    (attachment,) = list(received.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == "EIC-7KQ2-M9XD.pdf"
    assert attachment.get_content() == pdf
