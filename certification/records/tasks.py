"""Queue tasks of the records area: standing jobs, and finding the ones nobody runs.

A worker killed mid-job takes its task with it, but the job's cursor is in the database.
The sweep queues the job again once nobody seems to run it: every minute, and whenever a
worker starts (a restarted worker on the same host carries on at once).
"""

from __future__ import annotations

import logging

from flask import current_app
from huey import crontab

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
    for job_id in stale:
        log.info("Standing job %s has no live runner: queued again.", job_id)
        standing_job_task(job_id)
    return stale


@app_periodic_task(crontab(minute="*"))
def sweep_standing_jobs_every_minute() -> None:
    sweep_standing_jobs.call_local()


@huey.on_startup("records.resume_standing_jobs")
def _resume_standing_jobs_on_startup() -> None:
    # Runs in each worker of a starting consumer, outside any app context: queue the sweep.
    sweep_standing_jobs()
