"""Queue tasks of the certificates area: running issuing jobs, and finding lost ones.

A worker killed mid-job takes its task with it, but the job's items stay in the database.
The sweep queues the job again once its heartbeat is older than ``JOB_STALE_SECONDS``: every
minute, and whenever a worker starts (so a restarted worker carries on at once).
"""

from __future__ import annotations

import logging

from flask import current_app
from huey import crontab

from certification.certificates.bulk import issue_job_ready, run_issue_job, stale_issue_jobs
from certification.queue import app_periodic_task, app_task, enqueue_after_commit, huey
from certification.web import today

log = logging.getLogger(__name__)


@app_task()
def issue_job_task(job_id: int) -> None:
    """Run issuing job ``job_id`` (or carry on with it) until it is done."""
    run_issue_job(job_id, today=today())


@issue_job_ready.connect
def _queue_once_committed(job_id: int, **_: object) -> None:
    enqueue_after_commit(issue_job_task, job_id)


@app_task()
def sweep_issue_jobs(look_again: bool = False) -> list[int]:
    """Queue again every active job nobody runs; returns their ids. With ``look_again``,
    come back once the jobs that still seem alive could have gone stale (a worker that has
    just restarted after a crash sees its predecessor's heartbeat as fresh)."""
    stale, beating = stale_issue_jobs()
    for job_id in stale:
        log.info("Issuing job %s has no live runner: queued again.", job_id)
        issue_job_task(job_id)
    if look_again and beating:
        sweep_issue_jobs.schedule(args=(False,), delay=current_app.config["JOB_STALE_SECONDS"] + 1)
    return stale


@app_periodic_task(crontab(minute="*"))
def sweep_issue_jobs_every_minute() -> None:
    sweep_issue_jobs.call_local()


@huey.on_startup("certificates.resume_issue_jobs")
def _resume_issue_jobs_on_startup() -> None:
    # Runs in each worker of a starting consumer, outside any app context: queue the sweep.
    sweep_issue_jobs(True)
