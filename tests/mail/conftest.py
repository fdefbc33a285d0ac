"""Fixtures of the e-mail tests: a real SMTP server on loopback, and candidates."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from flask import Flask

from tests.mail import receive


class Inbox:
    """An aiosmtpd handler: keeps what it accepts, and answers with ``reply``."""

    def __init__(self) -> None:
        self.reply = "250 Message accepted for delivery"
        self.envelopes: list = []

    async def handle_DATA(self, server, session, envelope) -> str:
        if self.reply.startswith("250"):
            self.envelopes.append(envelope)
        return self.reply

    @property
    def messages(self) -> list[EmailMessage]:
        return [receive(envelope.content) for envelope in self.envelopes]


class SmtpServer:
    """A real SMTP server on 127.0.0.1 that a test can start, stop and make refuse."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.inbox = Inbox()
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp(app: Flask) -> Iterator[SmtpServer]:
    """The app's mail server: configured, not yet started (``smtp.start()``)."""
    server = SmtpServer(_free_port())
    app.config.update(
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=server.port,
        MAIL_USE_STARTTLS=False,
        MAIL_TIMEOUT=5,
        MAIL_DEFAULT_SENDER="EFRS–EuSoMII Certification <no-reply@certificates.example.org>",
    )
    yield server
    server.stop()


@pytest.fixture
def candidate(make_candidate) -> Callable[..., int]:
    """A candidate without a password yet (Greek by default); returns the id."""

    def build(name: str = "Αικατερίνη Παπαδοπούλου", email: str = "aik@example.gr") -> int:
        return make_candidate(name, email=email, country="GR", password=None).id

    return build
