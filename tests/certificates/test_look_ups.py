"""A verifier's look-up is counted without making the page a write: the count shows at once
on the holder's page, and reaches the database a moment later on its own."""

from __future__ import annotations

import re
import time

import sqlalchemy as sa

from certification.certificates.look_ups import WRITE_AFTER_SECONDS, counter
from certification.certificates.models import Verification
from certification.extensions import db
from tests.conftest import issue_by_service
from tests.test_admin import page_text


def written(app) -> list[tuple[str, str]]:
    """The look-ups in the database, as (channel, outcome), read by a connection of its own."""
    with app.app_context(), db.engine.connect() as connection:
        return [
            (channel, outcome)
            for channel, outcome in connection.execute(
                sa.select(Verification.channel, Verification.outcome).order_by(Verification.id)
            )
        ]


def test_a_look_up_shows_at_once_and_is_written_a_moment_later(
    app, client, auth, eligible_candidate, today
):
    code = issue_by_service(app, eligible_candidate(), today)
    verifier = app.test_client()
    assert verifier.get(f"/verify/{code}").status_code == 200
    assert verifier.get(f"/api/v1/verify/{code}").get_json()["status"] == "valid"
    assert written(app) == []  # the answers only read

    auth.login("eligible1@example.org")
    assert re.search(r"Verified 2 times, last on", page_text(client.get("/me/")))

    deadline = time.monotonic() + WRITE_AFTER_SECONDS + 5
    while len(written(app)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert written(app) == [("page", "valid"), ("api", "valid")]
    # Written, and no longer waiting: counted once, not twice.
    assert re.search(r"Verified 2 times, last on", page_text(client.get("/me/")))


def test_a_holder_or_an_administrator_looking_is_not_counted(
    app, client, auth, eligible_candidate, today
):
    code = issue_by_service(app, eligible_candidate(), today)
    auth.login("eligible1@example.org")
    assert client.get(f"/verify/{code}").status_code == 200
    with app.app_context():
        assert counter().write() == 0
    assert written(app) == []
    assert "Not verified yet" in page_text(client.get("/me/"))
