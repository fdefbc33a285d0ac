from __future__ import annotations

import datetime as dt

import pytest

from certification.auth.services import create_password_setup_link, get_user_by_email
from certification.extensions import db
from tests.conftest import PASSWORD


def test_candidate_logs_in_and_lands_on_their_progress(client, auth, make_candidate):
    make_candidate("Αικατερίνη Παπαδοπούλου", email="kat@example.gr")
    response = auth.login("KAT@example.gr")
    assert response.status_code == 302
    assert response.headers["Location"] == "/me/"
    page = client.get("/me/")
    assert "Αικατερίνη Παπαδοπούλου" in page.get_data(as_text=True)


def test_admin_logs_in_and_lands_on_admin(client, auth, make_admin):
    make_admin("office@efrs.example")
    response = auth.login("office@efrs.example")
    assert response.headers["Location"] == "/admin/"


@pytest.mark.parametrize(
    ("email", "password"),
    [("nobody@example.org", PASSWORD), ("known@example.org", "wrong password entirely")],
)
def test_failed_login_gives_one_generic_message(client, auth, make_candidate, email, password):
    make_candidate(email="known@example.org")
    response = auth.login(email, password)
    assert response.status_code == 401
    assert "The e-mail address or password is not right." in response.get_data(as_text=True)
    assert client.get("/me/").status_code == 302  # still not logged in


def test_next_parameter_never_leaves_the_site(client, make_candidate):
    make_candidate(email="c@example.org")
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        response = client.post(
            f"/login?next={target}", data={"email": "c@example.org", "password": PASSWORD}
        )
        assert response.headers["Location"] == "/me/"
        client.post("/logout")
    response = client.post(
        "/login?next=/me/", data={"email": "c@example.org", "password": PASSWORD}
    )
    assert response.headers["Location"] == "/me/"


def test_logout_ends_the_session(client, auth, make_candidate):
    make_candidate(email="c@example.org")
    auth.login("c@example.org")
    assert client.get("/me/").status_code == 200
    auth.logout()
    assert client.get("/me/").status_code == 302


def _link_for(app, email, **kwargs):
    with app.app_context():
        user = get_user_by_email(email)
        token = create_password_setup_link(user, None, valid_for=dt.timedelta(hours=72), **kwargs)
        db.session.commit()
        return token


def test_set_password_link_works_once(app, client, make_candidate):
    make_candidate("Jón Þórðarson", email="jon@example.is", password=None)
    token = _link_for(app, "jon@example.is")
    page = client.get(f"/set-password/{token}")
    assert "Jón Þórðarson" in page.get_data(as_text=True)
    response = client.post(
        f"/set-password/{token}",
        data={"password": "a long enough pass", "confirm": "a long enough pass"},
    )
    assert response.status_code == 302
    assert client.get("/me/").status_code == 200
    client.post("/logout")
    assert (
        client.post(
            "/login", data={"email": "jon@example.is", "password": "a long enough pass"}
        ).status_code
        == 302
    )
    client.post("/logout")
    again = client.post(
        f"/set-password/{token}",
        data={"password": "another long pass", "confirm": "another long pass"},
    )
    assert again.status_code == 404
    assert "expired or has already been used" in again.get_data(as_text=True)


def test_set_password_link_expires_after_72_hours(app, client, make_candidate):
    make_candidate(email="late@example.org", password=None)
    token = _link_for(
        app, "late@example.org", now=dt.datetime.now(dt.UTC) - dt.timedelta(hours=72, minutes=1)
    )
    assert client.get(f"/set-password/{token}").status_code == 404


def test_new_link_cancels_the_old_one(app, client, make_candidate):
    make_candidate(email="c@example.org", password=None)
    old = _link_for(app, "c@example.org")
    new = _link_for(app, "c@example.org")
    assert client.get(f"/set-password/{old}").status_code == 404
    assert client.get(f"/set-password/{new}").status_code == 200


def test_short_password_is_refused_and_link_stays_usable(app, client, make_candidate):
    make_candidate(email="c@example.org", password=None)
    token = _link_for(app, "c@example.org")
    response = client.post(f"/set-password/{token}", data={"password": "short", "confirm": "short"})
    assert response.status_code == 422
    assert "at least 12 characters" in response.get_data(as_text=True)
    assert client.get(f"/set-password/{token}").status_code == 200


@pytest.mark.parametrize("common", ["qwertyuiop123", "Password1234", "  1qaz2wsx3edc  "])
def test_a_common_password_is_refused_however_long(app, client, make_candidate, common):
    make_candidate(email="c@example.org", password=None)
    token = _link_for(app, "c@example.org")
    response = client.post(f"/set-password/{token}", data={"password": common, "confirm": common})
    assert response.status_code == 422
    assert "one of the most common" in response.get_data(as_text=True)
    assert client.get(f"/set-password/{token}").status_code == 200


@pytest.mark.parametrize(
    "password",
    ["correct horse battery staple", "Łódź w październiku", "ΑθήναΠειραιάς2026", "x" * 128],
)
def test_long_uncommon_passwords_need_no_digits_or_symbols(password):
    from certification.auth.passwords import password_problem

    assert password_problem(password) is None


def test_the_common_list_holds_at_least_the_3000_most_common():
    from certification.auth.passwords import _common_passwords

    common = _common_passwords()
    assert len(common) >= 3000
    assert {"123456", "password", "qwertyuiop", "iloveyou"} <= common


def test_password_is_stored_hashed_with_argon2id(app, make_candidate):
    make_candidate(email="c@example.org")
    with app.app_context():
        stored = get_user_by_email("c@example.org").password_hash
    assert PASSWORD not in stored
    assert stored.startswith("$argon2id$")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_failed_login_takes_as_long_for_any_address(client, make_candidate, monkeypatch):
    """A wrong password for an account, an address with no account, and an invited account
    with no password yet: each refusal costs one argon2 check at production cost, so the
    answer's timing does not tell which addresses have accounts."""
    import statistics
    import time

    from argon2 import PasswordHasher

    from certification.auth import passwords

    monkeypatch.setattr(passwords, "_hasher", PasswordHasher())  # the production cost
    make_candidate(email="has-a-password@example.org")
    make_candidate(email="invited@example.org", password=None)

    def median_ms(email: str) -> float:
        timings = []
        for _ in range(5):
            started = time.perf_counter()
            answer = client.post("/login", data={"email": email, "password": "wrong-" * 3})
            timings.append((time.perf_counter() - started) * 1000)
            assert answer.status_code == 401  # the same refusal for all three
        return statistics.median(timings)

    medians = {
        email: median_ms(email)
        for email in ("has-a-password@example.org", "nobody@example.org", "invited@example.org")
    }
    assert max(medians.values()) < 3 * min(medians.values()), medians
