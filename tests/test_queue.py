"""The job queue: tasks are queued only when the transaction that made their work commits."""

from __future__ import annotations

import secrets
from collections.abc import Callable

import pytest
import redis
from flask import Flask

from certification.extensions import db
from certification.queue import app_task, enqueue_after_commit, huey, queued_count, run_pending

REDIS_URL = "redis://127.0.0.1:6379/15"  # an index a deployment would not use (README: /0)

ran: list[str] = []


@app_task()
def remember(word: str) -> None:
    ran.append(word)


@pytest.fixture(autouse=True)
def _clean() -> None:
    ran.clear()


def test_a_task_is_queued_when_the_transaction_commits(ctx):
    enqueue_after_commit(remember, "committed")
    assert queued_count() == 0  # nothing leaves before the work is saved

    db.session.commit()
    assert queued_count() == 1
    assert run_pending() == 1
    assert ran == ["committed"]


def test_a_rolled_back_transaction_queues_nothing(ctx):
    enqueue_after_commit(remember, "rolled back")
    db.session.rollback()
    db.session.commit()

    assert queued_count() == 0
    assert run_pending() == 0
    assert ran == []


def test_a_released_savepoint_queues_nothing_until_the_transaction_commits(ctx):
    # SQLAlchemy 2.1 announces a savepoint's release as a commit: a bulk job's batch makes
    # one per certificate, and each e-mail's task would leave before its row is committed.
    enqueue_after_commit(remember, "after the batch")
    with db.session.begin_nested():
        pass
    assert queued_count() == 0

    db.session.commit()
    assert queued_count() == 1


def test_a_transaction_rolled_back_after_a_savepoint_queues_nothing(ctx):
    enqueue_after_commit(remember, "rolled back")
    with db.session.begin_nested():
        pass
    db.session.rollback()
    db.session.commit()
    assert queued_count() == 0


def test_a_failed_request_queues_nothing(app):
    @app.post("/queue-then-fail")
    def queue_then_fail() -> tuple[str, int]:
        enqueue_after_commit(remember, "from a failed request")
        return "refused", 422

    assert app.test_client().post("/queue-then-fail").status_code == 422
    with app.app_context():
        assert run_pending() == 0
    assert ran == []


def test_the_configured_storage_is_used(app):
    assert type(huey.storage).__name__ == "MemoryStorage"  # QUEUE_URL=memory:// in the tests


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_queue_is_named_certification_unless_configured(app):
    assert huey.name == "certification"


@pytest.fixture(params=["sqlite", "redis"])
def shared_queue_url(request: pytest.FixtureRequest, tmp_path) -> str:
    """One store of queued tasks that two deployments are both pointed at."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'shared-queue.sqlite'}"
    connection = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        connection.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip(f"Nothing answers at {REDIS_URL} (apt-get install redis-server)")
    finally:
        connection.close()
    return REDIS_URL


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_deployments_sharing_a_queue_store_never_run_each_others_tasks(
    second_app: Callable[..., Flask], shared_queue_url: str, monkeypatch: pytest.MonkeyPatch
):
    run = secrets.token_hex(4)  # several test runs may share the Redis
    first, other = f"first{run}", f"other{run}"

    def host_of(name: str) -> Flask:
        # Each app process has one queue; building an app points it at the app's.
        return second_app(RATELIMIT_ENABLED=True, QUEUE_URL=shared_queue_url, QUEUE_NAME=name)

    try:
        with host_of(first).app_context():
            enqueue_after_commit(remember, "for the first deployment")
            db.session.commit()
            assert queued_count() == 1
        # The other deployment's worker, its name from the environment as in production.
        monkeypatch.setenv("QUEUE_NAME", other)
        with second_app(RATELIMIT_ENABLED=True, QUEUE_URL=shared_queue_url).app_context():
            assert huey.name == other
            assert queued_count() == 0
            assert run_pending() == 0
        assert ran == []
        with host_of(first).app_context():  # a worker of the first deployment
            assert run_pending() == 1
        assert ran == ["for the first deployment"]
    finally:
        for name in (first, other):
            with host_of(name).app_context():
                huey.storage.flush_all()


@pytest.mark.parametrize("name", ["cert-prod", "cert.prod", "Certification", "cert prod"])
def test_a_queue_name_huey_would_change_stops_the_app(name, tmp_path, monkeypatch):
    """Huey's Redis keys keep only [a-z0-9] of the name: two deployments named cert-prod and
    cert.prod would share a queue. The app refuses to start, and says why."""
    from certification import create_app

    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("QUEUE_NAME", name)
    with pytest.raises(RuntimeError, match="QUEUE_NAME may hold only lowercase letters"):
        create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
