"""The job queue: tasks are queued only when the transaction that made their work commits."""

from __future__ import annotations

import pytest

from certification.extensions import db
from certification.queue import app_task, enqueue_after_commit, huey, queued_count, run_pending

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
