"""Queue tasks of the certificates area: running issuing jobs, and finding lost ones.

A worker killed mid-job takes its task with it, but the job's items stay in the database.
The sweep queues the job again once its heartbeat is older than ``JOB_STALE_SECONDS``, or
at once when its runner was a process on this host that has died: every minute, and
whenever a worker starts. A starting worker sweeps in its own process, on its own host, the
one host that can see that its predecessor is gone; the sweep clears the dead runner's
claim, so the job's task may then be taken by a worker on any host.
"""

from __future__ import annotations

import logging

from flask import current_app
from huey import crontab

from certification.certificates.bulk import issue_job_ready, run_issue_job, stale_issue_jobs
from certification.extensions import db
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
    db.session.commit()  # the dead runners' claims cleared, before their tasks are queued
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
    # Runs in each worker thread of a starting consumer. Swept here, not queued: a worker on
    # another host would take the task and could not see that a process on this one died.
    sweep_issue_jobs.call_local(True)
