"""Queue tasks of the claims area: deleting rejected claims' evidence once it is kept long
enough (``REJECTED_EVIDENCE_RETENTION_DAYS``).

Daily, and safe to run on two hosts at once: each file is cleared by a conditional write,
so a second run finds nothing left and audits nothing twice.
"""

from __future__ import annotations

from flask import current_app
from huey import crontab

from certification.claims.services import delete_rejected_evidence
from certification.extensions import db
from certification.queue import app_periodic_task
from certification.types import utcnow


@app_periodic_task(crontab(hour="2", minute="43"))
def delete_expired_rejected_evidence() -> None:
    delete_rejected_evidence(utcnow(), int(current_app.config["REJECTED_EVIDENCE_RETENTION_DAYS"]))
    db.session.commit()
