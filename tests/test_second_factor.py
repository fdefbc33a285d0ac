"""Administrators' second factor: enrolled with a QR code on first login, a code at every
login, single-use recovery codes, and a fresh login before sensitive changes."""

from __future__ import annotations

import re
import time
from typing import Any

import pyotp
import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from certification.auth.models import RecoveryCode, User
from certification.extensions import db
from tests.conftest import PASSWORD, enrol_authenticator, log_in, totp_code


def password_step(client: FlaskClient, email: str):
    return client.post("/login", data={"email": email, "password": PASSWORD})


def in_admin(client: FlaskClient) -> bool:
    return client.get("/admin/candidates").status_code == 200


def recovery_codes_on(page: Any) -> list[str]:
    return re.findall(r'<span class="code">([a-z2-9]{5}-[a-z2-9]{5})</span>', page.get_data(True))


@pytest.fixture
def admin_and_recovery_codes(app, make_admin) -> tuple[User, list[str]]:
    """An administrator whose authenticator is set up, and the recovery codes it gave."""
    admin = make_admin(second_factor=False)
    with app.app_context():
        codes = enrol_authenticator(db.session.get(User, admin.id))
        db.session.commit()
    return admin, codes


def test_first_login_sets_up_the_authenticator_from_a_qr_code(app, client, make_admin):
    admin = make_admin("office@efrs.example", second_factor=False)
    response = password_step(client, admin.email)
    assert response.headers["Location"].endswith("/login/set-up-authenticator")
    assert not in_admin(client)  # the password alone opens nothing
    page = client.get("/login/set-up-authenticator")
    assert page.headers["Cache-Control"] == "no-store"
    html = page.get_data(as_text=True)
    assert re.search(r"<svg[^>]*role=\"img\"[^>]*aria-label=\"QR code", html)
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', html).group(1)
    with app.app_context():
        stored = db.session.scalar(sa.select(User.totp_secret).where(User.id == admin.id))
    assert secret not in stored  # encrypted at rest
    # The same secret until it is confirmed (a reload must not change the QR code).
    assert secret in client.get("/login/set-up-authenticator").get_data(as_text=True)

    wrong = client.post("/login/set-up-authenticator", data={"code": "000000"})
    assert wrong.status_code == 422 and "not right" in wrong.get_data(as_text=True)
    assert not in_admin(client)
    done = client.post("/login/set-up-authenticator", data={"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 201
    codes = recovery_codes_on(done)
    assert len(set(codes)) == 10
    assert in_admin(client)


def test_every_login_asks_for_a_code_and_a_code_works_once(app, make_admin):
    admin = make_admin()
    first, second = app.test_client(), app.test_client()
    assert password_step(first, admin.email).headers["Location"].endswith("/login/code")
    assert not in_admin(first)
    assert first.post("/login/code", data={"code": "123456"}).status_code == 401
    code = totp_code(app, admin.email)
    assert first.post("/login/code", data={"code": code}).status_code == 302
    assert in_admin(first)
    password_step(second, admin.email)
    reused = second.post("/login/code", data={"code": code})
    assert reused.status_code == 401  # seen over a shoulder, or replayed: refused
    assert "used already" in reused.get_data(as_text=True)
    assert not in_admin(second)


def test_a_recovery_code_logs_in_once(app, client, admin_and_recovery_codes):
    admin, codes = admin_and_recovery_codes
    password_step(client, admin.email)
    used = client.post("/login/code", data={"code": codes[3].upper()}, follow_redirects=True)
    assert "You used a recovery code; 9 are left" in used.get_data(as_text=True)
    assert in_admin(client)
    client.post("/logout")
    password_step(client, admin.email)
    assert client.post("/login/code", data={"code": codes[3]}).status_code == 401
    with app.app_context():
        hashes = set(db.session.scalars(sa.select(RecoveryCode.code_hash)))
    assert not any(code in h for code in codes for h in hashes)  # only hashes are kept


def test_the_step_between_password_and_code_expires(app, client, make_admin):
    admin = make_admin()
    password_step(client, admin.email)
    with client.session_transaction() as session:
        pending = session["second_factor_pending"]
        session["second_factor_pending"] = {**pending, "at": int(time.time()) - 6 * 60}
    late = client.post("/login/code", data={"code": totp_code(app, admin.email)})
    assert late.status_code == 302 and late.headers["Location"].endswith("/login")
    assert not in_admin(client)


def test_candidates_have_no_second_step(client, make_candidate):
    make_candidate(email="c@example.org")
    response = password_step(client, "c@example.org")
    assert response.headers["Location"].endswith("/me/")


def test_a_reset_link_does_not_skip_the_code(app, client, make_admin):
    import datetime as dt

    from certification.auth.services import create_password_setup_link

    admin = make_admin()
    with app.app_context():
        token = create_password_setup_link(
            db.session.get(User, admin.id), None, valid_for=dt.timedelta(minutes=30)
        )
        db.session.commit()
    new = "a brand new password for the office"
    response = client.post(f"/set-password/{token}", data={"password": new, "confirm": new})
    assert response.headers["Location"].endswith("/login/code")
    assert not in_admin(client)
    client.post("/login/code", data={"code": totp_code(app, admin.email)})
    assert in_admin(client)


def _stale(client: FlaskClient) -> None:
    with client.session_transaction() as session:
        session["authenticated_at"] = int(time.time()) - 11 * 60


def test_sensitive_changes_ask_to_confirm_after_ten_minutes(app, client, make_admin):
    admin = make_admin()
    log_in(client, admin.email)
    assert client.post("/admin/api-tokens", data={"label": "fresh"}).status_code == 201
    _stale(client)
    assert client.get("/admin/api-tokens").status_code == 200  # looking is fine
    stale = client.post(
        "/admin/api-tokens", data={"label": "stale"}, headers={"Referer": "/admin/api-tokens"}
    )
    assert stale.status_code == 302
    assert "/login/confirm?next=/admin/api-tokens" in stale.headers["Location"]
    for path in (
        "/admin/branding",
        "/account/password",
        "/account/recovery-codes",
        "/admin/candidates/1/edit",
    ):
        assert client.post(path).status_code == 302, path
    confirm = client.post(
        "/login/confirm?next=/admin/api-tokens",
        data={"password": PASSWORD, "code": "000000"},
    )
    assert confirm.status_code == 401
    confirm = client.post(
        "/login/confirm?next=/admin/api-tokens",
        data={"password": PASSWORD, "code": totp_code(app, admin.email)},
    )
    assert confirm.headers["Location"].endswith("/admin/api-tokens")
    assert client.post("/admin/api-tokens", data={"label": "again"}).status_code == 201


def test_new_recovery_codes_replace_the_old_ones(app, client, admin_and_recovery_codes):
    admin, old = admin_and_recovery_codes
    password_step(client, admin.email)
    client.post("/login/code", data={"code": totp_code(app, admin.email)})
    page = client.post("/account/recovery-codes")
    assert page.status_code == 201
    new = recovery_codes_on(page)
    assert len(new) == 10 and not set(new) & set(old)
    client.post("/logout")
    password_step(client, admin.email)
    assert client.post("/login/code", data={"code": old[0]}).status_code == 401
    assert client.post("/login/code", data={"code": new[0]}).status_code == 302


def test_a_new_phone_means_setting_up_again_at_next_login(app, client, make_admin):
    admin = make_admin()
    log_in(client, admin.email)
    response = client.post("/account/authenticator")
    assert response.headers["Location"].endswith("/login")
    assert not in_admin(client)
    assert (
        password_step(client, admin.email)
        .headers["Location"]
        .endswith("/login/set-up-authenticator")
    )


def test_the_command_resets_a_lost_second_factor(app, runner, client, make_admin):
    admin = make_admin("office@efrs.example")
    log_in(client, admin.email)
    result = runner.invoke(args=["reset-second-factor", "office@efrs.example"])
    assert result.exit_code == 0, result.output
    assert not in_admin(client)  # the lost phone's session ended too
    assert (
        password_step(client, admin.email)
        .headers["Location"]
        .endswith("/login/set-up-authenticator")
    )
    assert runner.invoke(args=["reset-second-factor", "nobody@example.org"]).exit_code != 0


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_guessing_codes_is_throttled(rate_limited_app, make_admin):
    admin = make_admin()
    client = rate_limited_app.test_client()
    password_step(client, admin.email)
    answers = [client.post("/login/code", data={"code": f"{n:06d}"}).status_code for n in range(6)]
    assert answers == [401] * 5 + [303]  # back to the login page, told to wait
    assert "Too many attempts" in client.get("/login").get_data(as_text=True)
