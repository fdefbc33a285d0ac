"""Who runs a background job: the columns that record a run and its runner's claim, a
name for this process, and whether a named runner on this host has died, so that a
restarted worker carries on at once instead of waiting for the dead one's heartbeat to
grow stale."""

from __future__ import annotations

import datetime as dt
import os
import socket
import threading
import time
import uuid
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app

from certification.extensions import db
from certification.types import UTCDateTime, utcnow


class BackgroundRun:
    """Columns of a job that queue workers run (a mixin for its model): when it was
    recorded, started and finished, and the claim of the worker running it now, its
    :func:`runner_name` and the heartbeat it renews as it goes."""

    created_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    started_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime)
    finished_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime)
    runner: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    heartbeat_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime)


def claim_run(
    job: type[BackgroundRun], job_id: int, runner: str, active: tuple[object, ...], **values: object
) -> bool:
    """Take job ``job_id`` (a row of ``job``, a model with the :class:`BackgroundRun` columns
    and a ``status`` among ``active``) for ``runner``, setting ``values`` too, unless another
    runner holds it with a heartbeat fresher than ``JOB_STALE_SECONDS`` and is not known to
    have died. Flushes the update; the caller commits."""
    model: Any = job
    now = utcnow()
    stale = now - dt.timedelta(seconds=current_app.config["JOB_STALE_SECONDS"])
    holder = db.session.scalar(sa.select(model.runner).where(model.id == job_id))
    dead_holder = [model.runner == holder] if runner_has_died(holder) else []
    claimed = db.session.execute(
        sa.update(model)
        .where(
            model.id == job_id,
            model.status.in_(active),
            sa.or_(
                model.runner.is_(None),
                model.runner == runner,
                model.heartbeat_at.is_(None),
                model.heartbeat_at < stale,
                *dead_holder,
            ),
        )
        .values(runner=runner, heartbeat_at=now, **values)
        .execution_options(synchronize_session=False)
    )
    return getattr(claimed, "rowcount", 0) == 1


def unrun_jobs(
    job: type[BackgroundRun], active: tuple[object, ...], now: dt.datetime | None = None
) -> tuple[list[int], list[int]]:
    """The active jobs of ``job`` nobody runs, and those whose runner still beats.

    A job is unrun when its heartbeat (or, never started, its creation) is older than
    ``JOB_STALE_SECONDS``, or when its runner was a process on this host that has died.
    Such a dead runner's claim is cleared here (flushed; the caller commits): only this
    host can see that the process is gone, and the task queued for the job may be taken by
    a worker on any host, which must then be able to claim it at once rather than wait
    for the dead runner's heartbeat to grow stale."""
    model: Any = job
    now = now or utcnow()
    cutoff = now - dt.timedelta(seconds=current_app.config["JOB_STALE_SECONDS"])
    unrun: list[int] = []
    beating: list[int] = []
    for job_id, runner, heartbeat_at, created_at in db.session.execute(
        sa.select(model.id, model.runner, model.heartbeat_at, model.created_at)
        .where(model.status.in_(active))
        .order_by(model.id)
    ):
        if runner_has_died(runner):
            db.session.execute(
                sa.update(model)
                .where(model.id == job_id, model.runner == runner)  # unless taken meanwhile
                .values(runner=None)
                .execution_options(synchronize_session=False)
            )
            unrun.append(job_id)
        elif (heartbeat_at or created_at) < cutoff:
            unrun.append(job_id)
        else:
            beating.append(job_id)
    return unrun, beating


def runner_name() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def runner_has_died(runner: str | None) -> bool:
    """Whether ``runner`` was a process on this host that no longer exists.

    A worker killed mid-job and started again should carry on at once, not after
    ``JOB_STALE_SECONDS``; only a process on the same host can be looked for. A process
    that exists (even one that reused the pid) counts as alive: then the heartbeat decides.
    """
    host, _, rest = (runner or "").partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname()[:40] or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return True
    except OSError:  # it exists, under another user
        return False
    return False


def end_when_gone(owner: int, every: float = 0.5) -> None:
    """End this process, at once, when process ``owner`` no longer exists; call it first
    thing in a helper process that ``owner`` started.

    A bulk job's pool processes are children of multiprocessing's fork server, not of the
    queue worker that uses them, and they keep that server alive: so neither noticed a
    worker killed with SIGKILL, and its pool stayed, hundreds of MB, until someone killed it
    by hand (the kernel's parent-death signal would watch the wrong parent)."""

    def watch() -> None:
        while True:
            time.sleep(every)
            try:
                os.kill(owner, 0)  # signal 0: only asks whether the process exists
            except ProcessLookupError:
                os._exit(1)
            except OSError:  # it exists, under another user
                pass

    threading.Thread(target=watch, name=f"end-when-{owner}-is-gone", daemon=True).start()
