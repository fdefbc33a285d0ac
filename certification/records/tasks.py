"""Queue tasks of the records area: standing jobs, and finding the ones nobody runs.

A worker killed mid-job takes its task with it, but the job's cursor is in the database.
The sweep queues the job again once nobody seems to run it: every minute, and whenever a
worker starts. A starting worker sweeps in its own process, on its own host, the one host
that can see that its predecessor is gone; the sweep clears the dead runner's claim, so the
job's task may then be taken by a worker on any host.
"""

from __future__ import annotations

import logging

from flask import current_app
from huey import crontab

from certification.extensions import db
from certification.queue import app_periodic_task, app_task, enqueue_after_commit, huey
from certification.records.standings import (
    run_standing_job,
    stale_standing_jobs,
    standing_job_ready,
)
from certification.web import today

log = logging.getLogger(__name__)


@app_task()
def standing_job_task(job_id: int) -> None:
    """Run standing job ``job_id`` (or carry on with it) until it is done or replaced."""
    run_standing_job(job_id, today(), chunk_size=int(current_app.config["STANDING_JOB_CHUNK"]))


@standing_job_ready.connect
def _queue_once_committed(job_id: int, **_: object) -> None:
    enqueue_after_commit(standing_job_task, job_id)


@app_task()
def sweep_standing_jobs() -> list[int]:
    """Queue again every active standing job nobody runs; returns their ids."""
    stale = stale_standing_jobs()
    db.session.commit()  # the dead runners' claims cleared, before their tasks are queued
    for job_id in stale:
        log.info("Standing job %s has no live runner: queued again.", job_id)
        standing_job_task(job_id)
    return stale


@app_periodic_task(crontab(minute="*"))
def sweep_standing_jobs_every_minute() -> None:
    sweep_standing_jobs.call_local()


@huey.on_startup("records.resume_standing_jobs")
def _resume_standing_jobs_on_startup() -> None:
    # Runs in each worker thread of a starting consumer. Swept here, not queued: a worker on
    # another host would take the task and could not see that a process on this one died.
    sweep_standing_jobs.call_local()
