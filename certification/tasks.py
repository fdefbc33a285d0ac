"""The queue's side of the house: every module that defines queue tasks, imported in one
place, and the housekeeping tasks that belong to no area.

Importing a task module also connects its receivers: the domain announces what happened
(a certificate issued, an e-mail written, a job recorded) with a signal, and the task
modules queue the work once the transaction commits. So the domain never imports the
queue, and every process that builds the app (web, worker, command) hears the signals:
:func:`certification.create_app` calls :func:`register_tasks`.
"""

from __future__ import annotations

from flask import current_app
from huey import crontab

from certification.extensions import db
from certification.idempotency import prune_expired_keys
from certification.queue import app_periodic_task
from certification.types import utcnow


def register_tasks() -> None:
    # Areas add their task modules here.
    from certification.certificates import tasks as certificate_tasks  # noqa: F401
    from certification.claims import tasks as claim_tasks  # noqa: F401
    from certification.credentials import tasks as credential_tasks  # noqa: F401
    from certification.mail import tasks as mail_tasks  # noqa: F401
    from certification.records import tasks as record_tasks  # noqa: F401
    from certification.reports import tasks as report_tasks  # noqa: F401


@app_periodic_task(crontab(hour="3", minute="17"))
def prune_idempotency_keys() -> None:
    prune_expired_keys(utcnow(), current_app.config["IDEMPOTENCY_KEY_DAYS"])
    db.session.commit()
