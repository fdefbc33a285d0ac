"""A standing job whose worker is killed mid-job, and a new worker that finishes it.

Real ``huey_consumer`` processes on a SQLite database and a SQLite queue file: after a rules
change, the first worker is killed with SIGKILL once some but not all chunks of candidates
are committed; the second, on starting, sees that the first one's process has died and
carries on from the job's cursor. The standings must end exactly as an uninterrupted
computation leaves them.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Iterator
from decimal import Decimal

import pytest

from certification.auth.services import create_candidate
from certification.catalogue.services import get_programme
from certification.extensions import db
from certification.records.models import StandingJob, StandingJobStatus
from certification.records.services import record_credit
from certification.records.standings import active_standing_job, refresh_standings
from tests.conftest import CONSUMER, change_rules, start_queue_worker, wait_for, worker_environment
from tests.test_standings import _standings

pytestmark = pytest.mark.slow  # real queue workers

CANDIDATES = 300
CHUNK = 2  # 150 chunks: a worker is killed between two of them, not after the last


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.skipif(not CONSUMER.exists(), reason="huey_consumer is not installed")
def test_a_standing_job_killed_mid_way_ends_as_an_uninterrupted_run_would(
    app, make_catalogue, today, tmp_path
):
    make_catalogue({"EII-101": ("5", "AI"), "EII-102": ("5", "Standards")}, min_total_credits="10")
    with app.app_context():
        for number in range(CANDIDATES):
            person = create_candidate(f"k{number}@example.org", f"Kandidát {number:03}", "CZ", None)
            record_credit(person, "EII-101", today, actor=None, today=today)
            if number % 3 == 0:
                record_credit(person, "EII-102", today, actor=None, today=today)
        db.session.commit()
        # Five credits now suffice: two thirds of the register change their standing. The
        # job is queued nowhere the workers look: the first finds it by its start-up sweep,
        # as it would find a job whose task was lost.
        change_rules("EII-C", today, min_total_credits=Decimal(5), required_assessments=())
        db.session.commit()
        job_id = active_standing_job(get_programme("EII-C")).id

    def progress() -> tuple[StandingJobStatus, int]:
        with app.app_context():
            job = db.session.get(StandingJob, job_id)
            return job.status, job.done

    log = tmp_path / "worker.log"
    environment = worker_environment(app, tmp_path, STANDING_JOB_CHUNK=str(CHUNK))

    @contextlib.contextmanager
    def worker_killed_after(stale_seconds: int) -> Iterator[None]:
        """A worker running until the block ends; then SIGKILL."""
        # Two worker threads: both run the start-up sweep, and only one may run the job.
        worker = start_queue_worker(
            {**environment, "JOB_STALE_SECONDS": str(stale_seconds)}, log, threads=2
        )
        try:
            yield
        finally:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=10)

    time.sleep(1.1)  # the job, never started, is then stale for the first worker's sweep
    with worker_killed_after(stale_seconds=1):
        wait_for(lambda: progress()[1] >= 20, 60, "the first worker to commit chunks", log)

    status, done = progress()
    assert status is StandingJobStatus.RUNNING
    assert 20 <= done < CANDIDATES, "killed after the last chunk: nothing left to resume"

    # The second worker does not wait JOB_STALE_SECONDS (120): it sees the first one died.
    with worker_killed_after(stale_seconds=120):
        wait_for(lambda: progress()[0] is StandingJobStatus.DONE, 60, "the second worker", log)

    with app.app_context():
        job = db.session.get(StandingJob, job_id)
        assert (job.total, job.done, job.percent_done) == (CANDIDATES, CANDIDATES, 100)
        resumed = _standings()
        assert sum(met for _, _, met, _ in resumed) == CANDIDATES  # everyone meets 5 ECTS
        refresh_standings(None, today)  # the uninterrupted way: everyone, in one go
        db.session.commit()
        assert _standings() == resumed
