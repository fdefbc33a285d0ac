"""Every "certificate issued" e-mail of a bulk job leaves within a minute of its certificate.

A real ``huey_consumer`` runs the job in batches and sends the e-mails. Each certificate and
each e-mail of a batch take a savepoint, and SQLAlchemy 2.1 announces a savepoint's release
as a commit: the e-mails' tasks used to leave before their batch was committed, found no
row, and waited 10-17 minutes for the stalled-mail sweep (all but the last of each batch).
"""

from __future__ import annotations

import datetime as dt
import time

import pytest
import sqlalchemy as sa

from certification.catalogue.services import get_programme
from certification.certificates import bulk
from certification.certificates.models import Certificate
from certification.extensions import db
from certification.mail.models import EmailStatus, OutgoingEmail
from tests.conftest import CONSUMER, start_queue_worker, worker_environment

pytestmark = pytest.mark.slow  # a real queue worker

CANDIDATES = 12


# PostgreSQL: there a message's claim does not wait for the batch's transaction, as it does
# behind SQLite's single writer, so a task that left early finds no row.
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
@pytest.mark.skipif(not CONSUMER.exists(), reason="huey_consumer is not installed")
def test_each_email_of_a_bulk_job_leaves_within_a_minute_of_its_certificate(
    app, eligible_candidate, today, tmp_path
):
    for number in range(CANDIDATES):
        eligible_candidate(f"Kandidátka {number:02d}")
    with app.app_context():
        # The worker finds the job by its start-up sweep, as it would a job whose task was
        # lost (the test app's own queue is in its memory).
        job_id = bulk.start_issue_job(get_programme("EII-C"), None, today=today, queue=False).id
        db.session.commit()

    log = tmp_path / "worker.log"
    environment = worker_environment(
        app,
        tmp_path,
        ISSUE_PROCESSES="1",
        ISSUE_BATCH_SIZE="4",  # three batches of four
        JOB_STALE_SECONDS="1",
    )

    def sent() -> list[tuple[dt.datetime, dt.datetime | None, EmailStatus]]:
        with app.app_context():
            return [
                (issued_at, sent_at, status)
                for issued_at, sent_at, status in db.session.execute(
                    sa.select(Certificate.issued_at, OutgoingEmail.sent_at, OutgoingEmail.status)
                    .join(OutgoingEmail, OutgoingEmail.certificate_id == Certificate.id)
                    .order_by(Certificate.id)
                )
            ]

    time.sleep(1.1)  # the job is then stale for the worker's start-up sweep
    worker = start_queue_worker(environment, log, threads=2)
    try:
        deadline = time.monotonic() + 90
        while not (
            len(rows := sent()) == CANDIDATES
            and all(status is EmailStatus.SENT for _, _, status in rows)
        ):
            if time.monotonic() > deadline:
                pytest.fail(
                    f"Not every e-mail left: {rows}. Worker log:\n{log.read_text()[-3000:]}"
                )
            time.sleep(0.2)
    finally:
        worker.terminate()
        worker.wait(timeout=20)

    with app.app_context():
        assert bulk.job_progress(bulk.get_issue_job(job_id)).issued == CANDIDATES
    waits = [(sent_at - issued_at).total_seconds() for issued_at, sent_at, _ in rows if sent_at]
    assert len(waits) == CANDIDATES
    assert max(waits) < 60, sorted(waits)
