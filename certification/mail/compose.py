"""Turning a stored outgoing e-mail into a MIME message. Pure: no database, no clock, no
configuration it is not handed."""

from __future__ import annotations

import datetime as dt
import email.policy
import email.utils
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage

from certification.mail.models import OutgoingEmail


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    maintype: str = "application"
    subtype: str = "pdf"


def certificate_attachment(code: str, pdf: bytes) -> Attachment:
    """The certificate's stored PDF, named after its code (``EIC-….pdf``)."""
    return Attachment(filename=f"{code}.pdf", content=pdf)


def compose_message(
    outgoing: OutgoingEmail, *, sender: str, now: dt.datetime, attachment: Attachment | None = None
) -> EmailMessage:
    """The message for ``outgoing``, dated ``now``, from ``sender`` (``Name <address>``).

    Names in any script are encoded by the e-mail package (RFC 2047 for headers, UTF-8 for
    the body); nothing here builds a header by hand.
    """
    message = EmailMessage(policy=email.policy.SMTP)
    message["From"] = sender
    message["To"] = Address(display_name=outgoing.recipient_name, addr_spec=outgoing.recipient)
    message["Subject"] = outgoing.subject
    message["Date"] = email.utils.format_datetime(now.astimezone(dt.UTC))
    message["Message-ID"] = outgoing.message_id
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies, please
    message.set_content(outgoing.text_body, subtype="plain", charset="utf-8")
    if attachment is not None:
        message.add_attachment(
            attachment.content,
            maintype=attachment.maintype,
            subtype=attachment.subtype,
            filename=attachment.filename,
        )
    return message
