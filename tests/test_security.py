"""CSRF, secrets and the refusal to run production without a real key."""

from __future__ import annotations

import pytest

from certification import create_app
from tests.conftest import PASSWORD, close_app


@pytest.fixture
def csrf_client(app):
    """A second app on the same database, with CSRF protection on as in production."""
    protected = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-key-not-for-production",
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "WTF_CSRF_ENABLED": True,
        }
    )
    yield protected.test_client()
    close_app(protected)


def test_a_post_without_the_csrf_token_is_refused(csrf_client, make_candidate):
    make_candidate(email="c@example.org")
    response = csrf_client.post("/login", data={"email": "c@example.org", "password": PASSWORD})
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)
    assert csrf_client.get("/me/").status_code == 302  # not logged in


def test_a_post_with_the_csrf_token_is_accepted(csrf_client, make_candidate):
    import re

    make_candidate(email="c@example.org")
    page = csrf_client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = csrf_client.post(
        "/login", data={"email": "c@example.org", "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302
    assert csrf_client.get("/me/").status_code == 200


def test_logout_needs_the_csrf_token_too(csrf_client):
    assert csrf_client.post("/logout").status_code == 400


@pytest.mark.parametrize("secret", [None, "", "dev", "change-me"])
def test_production_refuses_to_start_without_a_real_secret(monkeypatch, tmp_path, secret):
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("SECRET_KEY", raising=False)
    if secret is not None:
        monkeypatch.setenv("SECRET_KEY", secret)
    with pytest.raises(RuntimeError, match="SECRET_KEY is missing or a placeholder"):
        create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.sqlite'}"})


def test_settings_come_from_instance_config_then_environment(monkeypatch, tmp_path):
    (tmp_path / "config.py").write_text(
        "SECRET_KEY = 'from-instance-config-0123456789'\nAPP_TIMEZONE = 'Europe/Athens'\n"
    )
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("DATABASE_URL", "postgres://someone@db.internal/certification")
    monkeypatch.setenv("APP_TIMEZONE", "Europe/Lisbon")
    app = create_app()
    assert app.config["SECRET_KEY"] == "from-instance-config-0123456789"
    assert app.config["APP_TIMEZONE"] == "Europe/Lisbon"  # the environment wins
    assert app.config["SQLALCHEMY_DATABASE_URI"] == (
        "postgresql+psycopg://someone@db.internal/certification"
    )
