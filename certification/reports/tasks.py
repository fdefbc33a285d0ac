"""Queue tasks of the reports area: keeping the dashboard's figures fresh."""

from __future__ import annotations

from flask import current_app
from huey import crontab

from certification.extensions import db
from certification.queue import app_periodic_task
from certification.reports.services import refresh_dashboard
from certification.types import utcnow
from certification.web import today


@app_periodic_task(crontab(minute="*"))
def refresh_dashboard_when_due() -> None:
    """Compute the dashboard's figures every REPORTS_REFRESH_MINUTES (asked each minute,
    so that changing the setting needs no restart of the workers)."""
    every = int(current_app.config["REPORTS_REFRESH_MINUTES"])
    now = utcnow()
    if every > 0 and (now.hour * 60 + now.minute) % every == 0:
        refresh_dashboard(today())
        db.session.commit()
