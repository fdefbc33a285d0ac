"""A bulk issuing job whose worker is killed mid-job, and a new worker that finishes it.

Real ``huey_consumer`` processes on a SQLite database and a SQLite queue file, rendering in
a pool of two processes: the first is killed with SIGKILL (with its pool) once some but not
all certificates are issued; the second, on starting, finds the job without a live runner
and carries on. Every candidate must end with exactly one certificate: no duplicate and no
gap.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from certification.audit import AuditEvent
from certification.catalogue.services import get_programme
from certification.certificates import bulk
from certification.certificates.models import (
    Certificate,
    IssueItemState,
    IssueJob,
    IssueJobItem,
    IssueJobStatus,
)
from certification.extensions import db
from tests.conftest import CONSUMER, start_queue_worker, wait_for, worker_environment

pytestmark = pytest.mark.slow  # real servers, workers or data at scale

CANDIDATES = 40


def _counts(app, job_id: int) -> dict[IssueItemState, int]:
    with app.app_context():
        rows = db.session.execute(
            sa.select(IssueJobItem.state, sa.func.count())
            .where(IssueJobItem.job_id == job_id)
            .group_by(IssueJobItem.state)
        ).all()
        return {IssueItemState(state): count for state, count in rows}


def _descendants(pid: int) -> set[int]:
    """Every process below ``pid`` now (its fork server, the pool), from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                # The parent's pid is the 4th field, after the command in parentheses.
                parent = int((entry / "stat").read_text().rpartition(")")[2].split()[1])
                children.setdefault(parent, []).append(int(entry.name))
    found: set[int] = set()
    waiting = [pid]
    while waiting:
        for child in children.get(waiting.pop(), []):
            found.add(child)
            waiting.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has ended; only its entry waits to be collected


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.skipif(not CONSUMER.exists(), reason="huey_consumer is not installed")
def test_a_job_killed_mid_way_is_finished_by_the_next_worker(
    app, eligible_candidate, today, tmp_path
):
    ids = [eligible_candidate(f"Kandidat {n:02d}") for n in range(CANDIDATES)]
    with app.app_context():
        # Queued nowhere the workers look: the first worker finds the job by its sweep,
        # exactly as it would find a job whose task was lost.
        job = bulk.start_issue_job(get_programme("EII-C"), None, today=today, queue=False)
        db.session.commit()
        job_id = job.id

    log = tmp_path / "worker.log"
    environment = worker_environment(
        app,
        tmp_path,
        ISSUE_PROCESSES="2",
        ISSUE_BATCH_SIZE="3",
    )

    @contextlib.contextmanager
    def worker_killed_after(stale_seconds: int) -> Iterator[None]:
        """A worker running until the block ends; then SIGKILL for the worker alone, as the
        kernel's OOM killer or an operator's kill -9 sends it: its fork server and pool
        must end by themselves, within seconds."""
        worker = start_queue_worker({**environment, "JOB_STALE_SECONDS": str(stale_seconds)}, log)
        try:
            yield
        finally:
            helpers = _descendants(worker.pid)
            os.kill(worker.pid, signal.SIGKILL)
            worker.wait(timeout=10)
            try:
                wait_for(
                    lambda: not any(_alive(pid) for pid in helpers),
                    10,
                    f"the killed worker's helper processes {sorted(helpers)} to end",
                    log,
                )
            finally:
                os.killpg(worker.pid, signal.SIGKILL)  # whatever is left, for the next test

    with worker_killed_after(stale_seconds=1):  # takes the job, never started, at once
        wait_for(
            lambda: _counts(app, job_id).get(IssueItemState.ISSUED, 0) >= 6,
            30,
            "the first worker to issue some certificates",
            log,
        )

    after_crash = _counts(app, job_id)
    assert 0 < after_crash.get(IssueItemState.ISSUED, 0) < CANDIDATES
    assert after_crash.get(IssueItemState.PENDING, 0) > 0
    with app.app_context():
        assert db.session.get(IssueJob, job_id).status is IssueJobStatus.RUNNING

    # The default: the second worker does not wait for the first one's last heartbeat to
    # go stale, as it can see that the first one's process has died.
    with worker_killed_after(stale_seconds=120):
        wait_for(
            lambda: IssueItemState.PENDING not in _counts(app, job_id),
            40,  # far less than JOB_STALE_SECONDS
            "the second worker to finish the job",
            log,
        )
        with app.app_context():
            wait_for(
                lambda: (
                    db.session.scalar(sa.select(IssueJob.status).where(IssueJob.id == job_id))
                    is IssueJobStatus.DONE
                ),
                10,
                "the job to be marked done",
                log,
            )

    with app.app_context():
        job = db.session.get(IssueJob, job_id)
        per_candidate = dict(
            db.session.execute(
                sa.select(Certificate.candidate_id, sa.func.count()).group_by(
                    Certificate.candidate_id
                )
            ).all()
        )
        assert per_candidate == {i: 1 for i in ids}  # no duplicate, no gap
        items = list(
            db.session.scalars(sa.select(IssueJobItem).where(IssueJobItem.job_id == job_id))
        )
        assert {i.state for i in items} == {IssueItemState.ISSUED}
        assert {i.certificate_code for i in items} == set(
            db.session.scalars(sa.select(Certificate.code))
        )
        progress = bulk.job_progress(job)
        assert progress.total == progress.issued + progress.failed + progress.skipped
        assert (progress.issued, progress.remaining) == (CANDIDATES, 0)
        issued_events = db.session.scalar(
            sa.select(sa.func.count()).where(AuditEvent.action == "certificate.issued")
        )
        assert issued_events == CANDIDATES  # the killed batch left no trace
