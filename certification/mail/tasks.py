"""The e-mail tasks: sending one message, finding messages whose task was lost, and the
daily expiry reminders. Each task is a unit of work of its own and commits."""

from __future__ import annotations

import logging

from huey import crontab
from huey.exceptions import RetryTask

from certification.extensions import db
from certification.mail.services import (
    DeliveryFailed,
    deliver,
    email_written,
    queue_approval_digests,
    queue_expiry_reminders,
    retry_delay_seconds,
    stalled_email_ids,
)
from certification.queue import app_periodic_task, app_task, enqueue_after_commit
from certification.web import today

log = logging.getLogger(__name__)


@app_task()
def send_email(email_id: int) -> None:
    """Send one queued message; after a temporary failure, try again ``MAIL_RETRY_DELAY``
    seconds later. The row counts the attempts (``MAIL_MAX_ATTEMPTS``), not Huey, so the
    count survives a lost task and an administrator's "Send again"."""
    try:
        deliver(email_id)
    except DeliveryFailed as failure:
        if failure.final:
            return  # recorded on the row, shown on /admin/emails
        raise RetryTask(delay=retry_delay_seconds()) from failure


@email_written.connect
def _send_once_committed(email_id: int, **_: object) -> None:
    enqueue_after_commit(send_email, email_id)


@app_periodic_task(crontab(minute="*/5"))
def requeue_stalled_emails() -> None:
    """Queue again the messages still waiting long after they were due (a worker killed
    with their task, a host gone). Sending claims each message, so a duplicate task is
    harmless."""
    stalled = stalled_email_ids()
    db.session.rollback()  # nothing written; end the read before queueing
    for email_id in stalled:
        send_email(email_id)
    if stalled:
        log.info("Queued %s stalled e-mails again.", len(stalled))


@app_periodic_task(crontab(hour="6", minute="50"))
def queue_daily_approval_digests() -> None:
    """Tell each officer, once a day, what awaits their body's approval (if anything)."""
    queued = queue_approval_digests(today())
    db.session.commit()
    if queued:
        log.info("Queued %s approval digests to officers.", queued)


@app_periodic_task(crontab(hour="6", minute="40"))
def queue_daily_expiry_reminders() -> None:
    """Remind holders of certificates that expire within 90 days (once each)."""
    queued = queue_expiry_reminders(today())
    db.session.commit()
    if queued:
        log.info("Queued %s expiry reminders.", queued)
