"""Sessions: renewed at login, ended everywhere by a logout or a new password, ended after
idling; failed logins throttled; "forgot password" that tells nobody who has an account."""

from __future__ import annotations

import datetime as dt
import re
import time

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from certification.extensions import db
from certification.mail.models import EmailKind, OutgoingEmail
from tests.conftest import PASSWORD, log_in

NEW_PASSWORD = "a new password for the next five years"


def login(client: FlaskClient, email: str, password: str = PASSWORD):
    return client.post("/login", data={"email": email, "password": password})


def is_logged_in(client: FlaskClient) -> bool:
    response = client.get("/me/")
    return response.status_code == 200


def test_login_starts_a_fresh_session(client, make_candidate):
    make_candidate(email="c@example.org")
    with client.session_transaction() as planted:
        planted["planted"] = "by an attacker before the victim logged in"
    login(client, "c@example.org")
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["_user_id"].endswith(":0")


def test_session_cookies_are_httponly_and_samesite(client, make_candidate):
    make_candidate(email="c@example.org")
    cookie = login(client, "c@example.org").headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain HTTP in development


def test_the_cookie_is_secure_when_configured(app, make_candidate):
    app.config["SESSION_COOKIE_SECURE"] = True
    make_candidate(email="c@example.org")
    cookie = login(app.test_client(), "c@example.org").headers["Set-Cookie"]
    assert "; Secure" in cookie


def test_logging_out_ends_the_session_on_every_device(app, make_candidate):
    make_candidate(email="c@example.org")
    laptop, phone = app.test_client(), app.test_client()
    login(laptop, "c@example.org")
    login(phone, "c@example.org")
    assert is_logged_in(laptop) and is_logged_in(phone)
    laptop.post("/logout")
    assert not is_logged_in(laptop)
    assert not is_logged_in(phone)  # its cookie names a session that has been ended
    login(phone, "c@example.org")
    assert is_logged_in(phone)


def test_changing_the_password_ends_every_other_session(app, make_candidate):
    make_candidate(email="c@example.org")
    here, elsewhere = app.test_client(), app.test_client()
    login(here, "c@example.org")
    login(elsewhere, "c@example.org")
    wrong = here.post(
        "/account/password",
        data={
            "current": "not my password at all",
            "password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
        },
    )
    assert wrong.status_code == 422
    assert "Not right." in wrong.get_data(as_text=True)
    assert is_logged_in(elsewhere)
    changed = here.post(
        "/account/password",
        data={"current": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        follow_redirects=True,
    )
    assert "Every other session of yours has been logged out" in changed.get_data(as_text=True)
    assert is_logged_in(here)
    assert not is_logged_in(elsewhere)
    assert login(elsewhere, "c@example.org").status_code == 401
    assert login(elsewhere, "c@example.org", NEW_PASSWORD).status_code == 302


def test_the_change_password_page_needs_a_login(client):
    response = client.get("/account/password")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def _seen(client: FlaskClient, minutes_ago: int) -> None:
    with client.session_transaction() as session:
        session["seen_at"] = int(time.time()) - minutes_ago * 60


def test_an_idle_administrator_is_logged_out_after_30_minutes(client, make_admin):
    admin = make_admin()
    log_in(client, admin.email)
    _seen(client, 29)
    assert client.get("/admin/candidates").status_code == 200
    _seen(client, 31)
    response = client.get("/admin/candidates?q=Łukasz")
    assert response.status_code == 302
    assert "/login?next=" in response.headers["Location"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "logged out after 30 minutes without activity" in page
    assert client.get("/admin/candidates").status_code == 302


def test_a_candidate_may_idle_longer_and_the_limit_is_configurable(app, client, make_candidate):
    make_candidate(email="c@example.org")
    login(client, "c@example.org")
    _seen(client, 45)
    assert is_logged_in(client)  # the request renewed the clock
    app.config["CANDIDATE_IDLE_MINUTES"] = 10
    _seen(client, 11)
    assert not is_logged_in(client)


# ---------------------------------------------------------------- throttling


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_failed_logins_are_throttled_per_account_alike_for_unknown_ones(
    rate_limited_app, make_candidate
):
    make_candidate(email="c@example.org")
    client = rate_limited_app.test_client()
    for email in ("c@example.org", "nobody@example.org"):
        answers = [login(client, email, "wrong password, try again").status_code for _ in range(6)]
        assert answers == [401] * 5 + [429]
        refused = login(client, email, PASSWORD)  # even the right password waits now
        assert refused.status_code == 429
        assert "Too many attempts" in refused.get_data(as_text=True)
        assert int(refused.headers["Retry-After"]) > 0
    make_candidate(email="other@example.org")
    assert login(client, "other@example.org").status_code == 302  # another account is fine


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_successful_logins_do_not_count(rate_limited_app, make_candidate):
    make_candidate(email="c@example.org")
    client = rate_limited_app.test_client()
    for _ in range(8):
        assert login(client, "c@example.org").status_code == 302
        client.post("/logout")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_failed_logins_are_throttled_per_client_across_accounts(rate_limited_app):
    client = rate_limited_app.test_client()
    answers = [
        login(client, f"guess{n}@example.org", "wrong password, try again").status_code
        for n in range(21)
    ]
    assert answers == [401] * 20 + [429]


# ---------------------------------------------------------------- forgot password


def _reset_emails(app: Flask) -> list[OutgoingEmail]:
    with app.app_context():
        found = list(
            db.session.scalars(
                sa.select(OutgoingEmail).where(OutgoingEmail.kind == EmailKind.PASSWORD_RESET)
            )
        )
        db.session.expunge_all()
        return found


def test_forgot_password_answers_alike_and_mails_only_a_real_account(app, client, make_candidate):
    make_candidate("Zoë Ødegård", email="zoe@example.no")
    answers = []
    for email in ("zoe@example.no", "nobody@example.org"):
        response = client.post("/forgot-password", data={"email": email}, follow_redirects=True)
        assert response.status_code == 200
        answers.append(re.sub(r"\s+", " ", response.get_data(as_text=True)))
    assert answers[0] == answers[1]
    assert "If an account uses this address" in answers[0]
    (reset,) = _reset_emails(app)
    assert reset.recipient == "zoe@example.no"
    assert "Dear Zoë Ødegård," in reset.text_body
    assert "for 30 minutes" in reset.text_body


def test_a_reset_link_works_once_for_30_minutes_and_ends_other_sessions(
    app, client, make_candidate
):
    from certification.auth.services import find_password_setup_link
    from certification.errors import NotFound
    from certification.types import utcnow

    make_candidate(email="c@example.org")
    elsewhere = app.test_client()
    login(elsewhere, "c@example.org")
    client.post("/forgot-password", data={"email": "c@example.org"})
    (reset,) = _reset_emails(app)
    token = re.search(r"/set-password/([\w-]+)", reset.text_body).group(1)
    with app.app_context():
        assert find_password_setup_link(token, utcnow() + dt.timedelta(minutes=29))
        with pytest.raises(NotFound):
            find_password_setup_link(token, utcnow() + dt.timedelta(minutes=31))
    page = client.get(f"/set-password/{token}").get_data(as_text=True)
    assert "Choose a new password" in page
    done = client.post(
        f"/set-password/{token}", data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    )
    assert done.status_code == 302
    assert "Your password is set." in client.get("/me/").get_data(as_text=True)
    assert is_logged_in(client)
    assert not is_logged_in(elsewhere)
    assert client.get(f"/set-password/{token}").status_code == 404  # used once


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_forgot_password_is_throttled(rate_limited_app, make_candidate):
    client = rate_limited_app.test_client()
    answers = [
        client.post("/forgot-password", data={"email": "c@example.org"}).status_code
        for _ in range(4)
    ]
    assert answers == [303, 303, 303, 429]
