"""Tests of e-mail: composing, sending through a real SMTP server, the outbox folder."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage


def receive(raw: bytes) -> EmailMessage:
    """What a mail program makes of a message's bytes: lines as its own (a delivery agent
    turns the wire's CRLF into LF), parsed with the modern policy."""
    message = email.message_from_bytes(raw.replace(b"\r\n", b"\n"), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def subject_of(message: EmailMessage) -> str:
    # When a subject fits on one continuation line, Python folds it whole onto the next
    # line ("Subject:\r\n Set your…"), which is valid; its own parser then keeps the one
    # leading blank, where mail programs drop it.
    return str(message["Subject"]).strip()
