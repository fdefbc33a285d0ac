"""Handing a finished message to the outside world: an SMTP server, or (the embedded
default, when ``MAIL_SERVER`` is empty) a folder of ``.eml`` files that any mail program
opens, so that a new installation shows its e-mails without a mail server."""

from __future__ import annotations

import os
import smtplib
import ssl
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class MailSettings:
    server: str
    port: int
    username: str
    password: str
    use_starttls: bool
    use_ssl: bool
    timeout: float
    outbox: Path

    @classmethod
    def from_config(cls, config: Mapping[str, Any], instance_path: str) -> MailSettings:
        outbox = Path(config.get("MAIL_OUTBOX") or "outbox")
        return cls(
            server=str(config.get("MAIL_SERVER") or ""),
            port=int(config.get("MAIL_PORT") or 587),
            # Environment values are decoded as JSON, so a numeric password arrives as int.
            username=str(config.get("MAIL_USERNAME") or ""),
            password=str(config.get("MAIL_PASSWORD") or ""),
            use_starttls=bool(config.get("MAIL_USE_STARTTLS")),
            use_ssl=bool(config.get("MAIL_USE_SSL")),
            timeout=float(config.get("MAIL_TIMEOUT") or 30),
            outbox=outbox if outbox.is_absolute() else Path(instance_path) / outbox,
        )

    @property
    def uses_outbox_folder(self) -> bool:
        return not self.server


def send_message(message: EmailMessage, settings: MailSettings, *, file_stem: str) -> None:
    """Send ``message``; raises ``OSError`` (``smtplib.SMTPException`` included) if it could
    not be handed over. ``file_stem`` names the ``.eml`` file of the outbox folder."""
    if settings.uses_outbox_folder:
        _write_to_outbox(message, settings.outbox, file_stem)
    else:
        _send_over_smtp(message, settings)


def _send_over_smtp(message: EmailMessage, settings: MailSettings) -> None:
    context = ssl.create_default_context()
    smtp: smtplib.SMTP
    if settings.use_ssl:
        smtp = smtplib.SMTP_SSL(
            settings.server, settings.port, timeout=settings.timeout, context=context
        )
    else:
        smtp = smtplib.SMTP(settings.server, settings.port, timeout=settings.timeout)
    with smtp:
        if settings.use_starttls and not settings.use_ssl:
            smtp.starttls(context=context)
        if settings.username:
            smtp.login(settings.username, settings.password)
        smtp.send_message(message)


def _write_to_outbox(message: EmailMessage, folder: Path, file_stem: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    # Written under a temporary name and renamed, so a reader never sees half a message.
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(message.as_bytes())
        os.replace(temporary, folder / f"{file_stem}.eml")
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def is_permanent(error: BaseException) -> bool:
    """Whether the server said no for good (a 5xx reply): trying again will not help until
    someone changes something, so the message fails at once instead of being retried."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
        return bool(codes) and all(500 <= code < 600 for code in codes)
    if isinstance(error, smtplib.SMTPResponseException):
        return 500 <= error.smtp_code < 600
    return False


def describe_error(error: BaseException) -> str:
    """One line for the administrator: the server's reply, or what went wrong on the way."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        replies = [
            f"{address}: {code} {_text(reply)}"
            for address, (code, reply) in error.recipients.items()
        ]
        return "Recipient refused: " + "; ".join(replies)
    if isinstance(error, smtplib.SMTPResponseException):
        return f"{error.smtp_code} {_text(error.smtp_error)}"
    if isinstance(error, ConnectionRefusedError):
        return f"The mail server refused the connection ({error.strerror or error})."
    if isinstance(error, TimeoutError):
        return "The mail server did not answer in time."
    return f"{type(error).__name__}: {error}"


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
