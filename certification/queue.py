"""The job queue: Huey, configured from the app's configuration.

Work that must not happen inside a web request (bulk issuing, sending e-mail) is a Huey task.
``QUEUE_URL`` chooses where tasks wait: empty (the embedded default) is a SQLite file in the
instance folder, ``redis://host:port/db`` serves workers on several hosts, and ``memory://``
keeps them in this process (the tests, which run what is queued with :func:`run_pending`).
``QUEUE_NAME`` keeps one deployment's tasks apart from another's in the same store.

Tasks are queued *after* the transaction that made their work commits
(:func:`enqueue_after_commit`), so a worker never looks for a row that is not there yet, and
a rolled-back request queues nothing. The database, not the queue, is the record of what is
left to do: a task lost with a killed worker is found again by a periodic sweep.

Workers: ``huey_consumer certification.worker.huey`` (see certification/worker.py).
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable
from typing import Any, TypeVar

import sqlalchemy as sa
from flask import Flask, has_app_context
from huey import Huey
from huey.storage import MemoryStorage, RedisStorage, SqliteStorage

from certification.extensions import db

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_QUEUE_NAME = "certification"

# The name and storage are replaced by init_app with the configured ones; tasks register on
# this object.
huey = Huey(DEFAULT_QUEUE_NAME, results=False, utc=True, storage_class=MemoryStorage)

_worker_app: Flask | None = None


def init_app(app: Flask) -> None:
    # Huey names its keys (Redis) or rows (SQLite) and its locks after the queue's name.
    name = queue_name(app.config.get("QUEUE_NAME"))
    huey.name = name
    huey.storage = _storage_for(app.config.get("QUEUE_URL") or "", name, app.instance_path)
    app.extensions["huey"] = huey


def queue_name(setting: object) -> str:
    """``QUEUE_NAME``, refused at start unless it is lowercase letters and digits: Huey's
    Redis storage drops every other character from its keys, so "cert-prod" and "cert.prod"
    would be one queue, and each deployment would run the other's tasks."""
    name = str(setting or DEFAULT_QUEUE_NAME)
    if not re.fullmatch(r"[a-z0-9]+", name):
        raise RuntimeError(
            "QUEUE_NAME may hold only lowercase letters and digits (Huey drops every other"
            f" character, so 'cert-prod' and 'cert.prod' would share one queue); got {name!r}."
        )
    return name


def _storage_for(url: str, name: str, instance_path: str) -> Any:
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisStorage(name, url=url)
    if url == "memory://":
        return MemoryStorage(name)
    path = url.removeprefix("sqlite:///") if url else os.path.join(instance_path, "queue.sqlite")
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    return SqliteStorage(name, filename=path)


def set_worker_app(app: Flask) -> None:
    """The app a worker process runs tasks in (certification/worker.py sets it)."""
    global _worker_app
    _worker_app = app


def _in_app_context(function: F) -> F:
    """Run ``function`` in an application context and leave no session behind. In a worker
    each task gets a fresh app context; where one is active already (a test running what is
    queued, a CLI command) the task runs in it."""

    @functools.wraps(function)
    def run(*args: Any, **kwargs: Any) -> Any:
        if has_app_context():
            return function(*args, **kwargs)
        if _worker_app is None:
            raise RuntimeError("No application: start workers with certification.worker.")
        with _worker_app.app_context():
            try:
                return function(*args, **kwargs)
            finally:
                db.session.remove()

    return run  # type: ignore[return-value]


def app_task(**options: Any) -> Callable[[F], Any]:
    """A Huey task that runs in an application context (``retries=``, ``retry_delay=`` …)."""
    return lambda function: huey.task(**options)(_in_app_context(function))


def app_periodic_task(validate_datetime: Any, **options: Any) -> Callable[[F], Any]:
    """A periodic Huey task (``validate_datetime`` e.g. ``crontab(minute='*')``) that runs
    in an application context."""
    return lambda function: huey.periodic_task(validate_datetime, **options)(
        _in_app_context(function)
    )


# ---------------------------------------------------------------- queueing after commit

_PENDING_KEY = "certification.queue.after_commit"


def enqueue_after_commit(task: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    """Queue ``task(*args, **kwargs)`` once the current transaction commits (never if it
    rolls back)."""
    session = db.session()
    session.connection()  # begin the transaction now, so that its rollback is seen
    session.info.setdefault(_PENDING_KEY, []).append((task, args, kwargs))


@sa.event.listens_for(sa.orm.Session, "after_commit")
def _enqueue_pending(session: sa.orm.Session) -> None:
    # SQLAlchemy 2.1 also announces the release of a savepoint as a commit; the outer
    # transaction may still roll back, and a worker would not find the rows yet.
    if session.in_nested_transaction():
        return
    for task, args, kwargs in session.info.pop(_PENDING_KEY, []):
        task(*args, **kwargs)


@sa.event.listens_for(sa.orm.Session, "after_soft_rollback")
def _drop_pending(session: sa.orm.Session, previous_transaction: Any) -> None:
    if not session.in_transaction():
        session.info.pop(_PENDING_KEY, None)


def run_pending(limit: int = 10_000) -> int:
    """Run queued tasks in this process until the queue is empty; return how many ran.

    For tests and for a one-off ``flask --app certification run-queue``: workers do this
    continuously. Tasks scheduled for later (retries with a delay) are not waited for.
    """
    ran = 0
    while ran < limit:
        task = huey.dequeue()
        if task is None:
            break
        huey.execute(task)
        ran += 1
    return ran


def queued_count() -> int:
    return huey.pending_count()


__all__ = [
    "app_periodic_task",
    "app_task",
    "enqueue_after_commit",
    "huey",
    "init_app",
    "queued_count",
    "run_pending",
    "set_worker_app",
]
