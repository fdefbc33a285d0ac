"""API tokens on the administrators' pages: shown once, stored hashed, optional expiry,
revocable, with the last time each was used."""

from __future__ import annotations

import datetime as dt
import hashlib
import re

import pytest
import sqlalchemy as sa

from certification.auth.models import ApiToken
from certification.auth.services import user_for_api_token
from certification.extensions import db
from certification.types import utcnow


@pytest.fixture
def admin_client(client, auth, make_admin):
    auth.login(make_admin("office@efrs.example", "Ingrid Halvorsen").email)
    return client


def make_token(admin_client, **data) -> str:
    response = admin_client.post("/admin/api-tokens", data=data)
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    return re.search(r'id="new-token">(eii_[\w-]+)<', response.get_data(as_text=True)).group(1)


def call_api(client, token: str, candidate_id: int) -> int:
    headers = {"Authorization": f"Bearer {token}"}
    return client.get(f"/api/v1/candidates/{candidate_id}", headers=headers).status_code


def test_a_token_is_shown_once_and_stored_only_as_a_hash(app, admin_client, make_candidate):
    candidate_id = make_candidate().id
    token = make_token(admin_client, label="Learning platform, Łódź office")
    listing = admin_client.get("/admin/api-tokens").get_data(as_text=True)
    assert token not in listing
    assert "Learning platform, Łódź office" in listing and "Ingrid Halvorsen" in listing
    with app.app_context():
        (record,) = db.session.scalars(sa.select(ApiToken))
        assert record.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert record.last_used_at is None
    with admin_client.session_transaction() as session:
        assert token not in str(dict(session))  # not kept in the cookie either
    assert call_api(app.test_client(), token, candidate_id) == 200
    with app.app_context():
        assert db.session.scalar(sa.select(ApiToken.last_used_at)) is not None
    row = admin_client.get("/admin/api-tokens").get_data(as_text=True).split("Łódź office")[1]
    last_used = re.search(r'<td data-label="Last used"[^>]*>([^<]+)<', row).group(1)
    assert re.fullmatch(r"\d{1,2} [A-Z][a-z]+ \d{4} at \d\d:\d\d UTC", last_used)


def test_a_revoked_token_stops_working_at_once(app, admin_client, make_candidate):
    candidate_id = make_candidate().id
    token = make_token(admin_client, label="registry")
    other = app.test_client()
    assert call_api(other, token, candidate_id) == 200
    with app.app_context():
        token_id = db.session.scalar(sa.select(ApiToken.id))
    revoked = admin_client.post(f"/admin/api-tokens/{token_id}/revoke", follow_redirects=True)
    assert "no longer works" in revoked.get_data(as_text=True)
    assert "Revoked" in revoked.get_data(as_text=True)
    assert call_api(other, token, candidate_id) == 401


def test_an_expiring_token_stops_on_its_day(app, admin_client):
    token = make_token(admin_client, label="pilot", valid_days="30")
    with app.app_context():
        user = user_for_api_token(token, utcnow() + dt.timedelta(days=29, hours=23))
        assert user is not None and user.email == "office@efrs.example"
        assert user_for_api_token(token, utcnow() + dt.timedelta(days=30, minutes=1)) is None
        db.session.rollback()


@pytest.mark.parametrize(("days", "message"), [("0", "From 1 to"), ("99999", "From 1 to")])
def test_a_bad_validity_is_refused_and_keeps_the_label(admin_client, days, message):
    response = admin_client.post("/admin/api-tokens", data={"label": "LMS", "valid_days": days})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page and 'value="LMS"' in page
    assert "eii_" not in page


def test_only_administrators_manage_tokens(client, auth, make_candidate):
    assert client.get("/admin/api-tokens").status_code == 302
    make_candidate(email="c@example.org")
    auth.login("c@example.org")
    assert client.get("/admin/api-tokens").status_code == 404
    assert client.post("/admin/api-tokens", data={"label": "x"}).status_code == 404
    assert client.post("/admin/api-tokens/1/revoke").status_code == 404


def test_the_command_line_token_may_expire(app, runner, make_admin):
    make_admin("office@efrs.example")
    result = runner.invoke(
        args=["create-api-token", "office@efrs.example", "--label", "LMS", "--valid-days", "7"]
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        expires_at = db.session.scalar(sa.select(ApiToken.expires_at))
        assert dt.timedelta(days=6, hours=23) < expires_at - utcnow() <= dt.timedelta(days=7)
