"""One rate limit per client over every verification route, pages and JSON, hits and misses."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask

from certification.certificates.codes import new_code
from certification.extensions import limiter
from tests.conftest import another_app, close_app, issue_by_service

REDIS_URL = "redis://127.0.0.1:6379"


@pytest.fixture
def valid_code(app: Flask, eligible_candidate, today) -> str:
    return issue_by_service(app, eligible_candidate(), today)


@pytest.fixture
def limited_client(app: Flask) -> Iterator[Callable[..., Any]]:
    """A factory of clients of a second app on the same database, rate limits on."""
    made: list[Flask] = []

    def build(**config: Any) -> Any:
        limited = another_app(
            app, RATELIMIT_ENABLED=True, VERIFY_RATE_LIMIT="3 per minute", **config
        )
        made.append(limited)
        client = limited.test_client()
        # A client address of its own, so that runs sharing one Redis never meet.
        client.environ_base["REMOTE_ADDR"] = (
            f"2001:db8::{secrets.token_hex(2)}:{secrets.token_hex(2)}"
        )
        return client

    yield build
    for limited in made:
        close_app(limited)


def _three_look_ups_then_refused(client: Any, valid_code: str) -> None:
    """Found and unknown, page and JSON, all count alike; the fourth is refused."""
    assert client.get(f"/verify/{valid_code}").status_code == 200
    assert client.get(f"/api/v1/verify/{new_code('EIC')}").status_code == 404
    assert client.get("/verify/not-a-code").status_code == 404

    refused = client.get(f"/api/v1/verify/{valid_code}")
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert refused.get_json()["error"] == "too_many_requests"
    assert "3 per minute" in refused.get_json()["message"]

    page = client.post("/verify", data={"code": valid_code, "check_code": "Check code"})
    assert page.status_code == 429
    assert int(page.headers["Retry-After"]) > 0
    assert "Please wait a moment" in page.get_data(as_text=True)
    assert page.mimetype == "text/html"

    # Other areas are not limited by the verification limit.
    assert client.get("/login").status_code == 200


def test_opening_the_empty_form_is_no_look_up(limited_client, valid_code):
    """A verifier who opens /verify several times before typing has looked nothing up."""
    client = limited_client()
    try:
        assert [client.get("/verify").status_code for _ in range(5)] == [200] * 5
        _three_look_ups_then_refused(client, valid_code)
    finally:
        limiter.reset()


def test_pages_and_json_share_one_limit(limited_client, valid_code):
    client = limited_client()
    try:
        _three_look_ups_then_refused(client, valid_code)
    finally:
        limiter.reset()


def test_the_limit_is_kept_in_redis_by_configuration_alone(limited_client, valid_code):
    redis = pytest.importorskip("redis")
    connection = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        connection.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip(f"Redis test skipped: nothing answers at {REDIS_URL}")
    client = limited_client(RATELIMIT_STORAGE_URI=REDIS_URL)
    address = client.environ_base["REMOTE_ADDR"]
    try:
        _three_look_ups_then_refused(client, valid_code)
        assert any(connection.scan_iter(match=f"*{address}*"))
    finally:
        # Only this client's counters: limiter.reset() would clear every limit kept in
        # this Redis, including those of another test run sharing it.
        for key in connection.scan_iter(match=f"*{address}*"):
            connection.delete(key)
        connection.close()
