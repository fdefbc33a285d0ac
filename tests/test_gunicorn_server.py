"""The helper that starts a real gunicorn for the tests says why a server did not start."""

from __future__ import annotations

import time

import pytest

from tests.conftest import ServerDidNotStart, free_port, gunicorn_server

pytestmark = pytest.mark.slow  # real servers, workers or data at scale


def test_a_server_that_refuses_to_start_fails_at_once_with_its_reason(tmp_path):
    placeholder_secret = {
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'instance' / 'certification.sqlite'}",
        "SECRET_KEY": "dev",  # the app refuses to run in production with a placeholder
        "FLASK_DEBUG": "0",
    }
    started = time.monotonic()
    with (
        pytest.raises(ServerDidNotStart) as failure,
        gunicorn_server(placeholder_secret, free_port()),
    ):
        pytest.fail("the server answered")
    assert time.monotonic() - started < 20  # not the 30 s it is given to answer
    assert "gunicorn exited" in str(failure.value)
    assert "SECRET_KEY is missing or a placeholder" in str(failure.value)
