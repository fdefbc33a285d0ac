"""What an attacker tries first: framing, sniffing, inline script, faked client addresses,
odd methods, forged log lines, cached private pages, and tracebacks."""

from __future__ import annotations

import logging
import re
import urllib.error
import urllib.request

import pytest
import sqlalchemy as sa
from flask import Flask

from certification import create_app
from certification.extensions import db
from certification.security import CONTENT_SECURITY_POLICY
from tests.conftest import PASSWORD, gunicorn_serving

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
INLINE_STYLE = re.compile(r"<style\b|\sstyle=", re.I)
INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=", re.I)


def test_every_answer_carries_the_security_headers(client):
    for path in ("/login", "/verify", "/static/css/app.css", "/api/v1/openapi.json", "/nowhere"):
        response = client.get(path)
        response.close()  # a static file is streamed from an open file
        headers = response.headers
        assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY, path
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert "script-src 'self'" in headers["Content-Security-Policy"]
        assert "'unsafe-inline'" not in headers["Content-Security-Policy"]
        assert headers["X-Content-Type-Options"] == "nosniff", path
        assert headers["X-Frame-Options"] == "DENY", path
        assert headers["Referrer-Policy"] == "same-origin", path
        assert "Strict-Transport-Security" not in headers  # plain HTTP: HSTS means nothing


def test_hsts_once_served_over_https(client):
    response = client.get("/login", base_url="https://certificates.example.org")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def _pages_of_the_three_journeys(app, client, auth, make_admin, eligible_candidate) -> list[str]:
    """Every page an administrator, a candidate and a verifier sees on the way."""
    from certification.auth.services import get_candidate
    from certification.catalogue.services import get_programme
    from certification.certificates.services import issue_certificate

    holder = eligible_candidate("Łukasz Wiśniewski")
    with app.app_context():
        code = issue_certificate(
            get_candidate(holder), get_programme("EII-C"), None, today=_today(app)
        ).code
        db.session.commit()
    pages = [client.get(p).get_data(as_text=True) for p in ("/login", "/verify")]
    pages.append(client.get(f"/verify/{code}").get_data(as_text=True))
    auth.login("eligible1@example.org")
    pages.append(client.get("/me/").get_data(as_text=True))
    auth.logout()
    auth.login(make_admin().email)
    for path in (
        "/admin/",
        "/admin/candidates",
        f"/admin/candidates/{holder}",
        "/admin/programmes",
        "/admin/courses",
        "/admin/assessments",
        "/admin/ready",
        "/admin/programmes/EII-C/eligible",
        "/admin/jobs",
        "/admin/branding",
        "/admin/emails",
        "/admin/imports",
        "/admin/reports",
        "/admin/reports/expiring",
        "/admin/exports",
        "/admin/audit",
    ):
        response = client.get(path, follow_redirects=True)
        assert response.status_code == 200, path
        pages.append(response.get_data(as_text=True))
    return pages


def _today(app: Flask):
    from certification.web import today

    with app.test_request_context():
        return today()


def test_no_page_has_inline_script_style_or_handlers(
    app, client, auth, make_admin, eligible_candidate
):
    # The policy forbids them, so a page that had one would be broken in the browser.
    pages = _pages_of_the_three_journeys(app, client, auth, make_admin, eligible_candidate)
    assert len(pages) > 15
    for page in pages:
        title = re.search(r"<title>(.*?)</title>", page, re.S)
        assert not INLINE_SCRIPT.search(page), title
        assert not INLINE_STYLE.search(page), title
        assert not INLINE_HANDLER.search(page), title


@pytest.mark.parametrize(
    "setting",
    [
        "1",
        "true",
        '"x_for"',
        "[1]",
        '{"x_for": "one"}',
        '{"x_forwarded_for": 1}',
        '{"x_for": -1}',
        '{"x_for": true}',
    ],
)
def test_a_malformed_proxy_fix_stops_the_app_with_the_form_it_takes(setting, tmp_path, monkeypatch):
    """As an operator writes it, in the environment: the app does not start, and says which
    setting is wrong and what it should look like (PROXY_FIX=1 used to crash with
    "'int' object has no attribute 'items'")."""
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("PROXY_FIX", setting)
    with pytest.raises(RuntimeError) as refusal:
        create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    message = str(refusal.value)
    assert message.startswith("PROXY_FIX must be a JSON object")
    assert 'PROXY_FIX=\'{"x_for": 1, "x_proto": 1}\'' in message


@pytest.mark.parametrize("setting", ['{"x_for": 1, "x_proto": 1}', "{}"])
def test_a_well_formed_proxy_fix_starts(setting, tmp_path, monkeypatch):
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("PROXY_FIX", setting)
    assert create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_behind_a_proxy_each_client_has_its_own_rate_limit(second_app):
    proxied = second_app(
        RATELIMIT_ENABLED=True, VERIFY_RATE_LIMIT="2 per minute", PROXY_FIX={"x_for": 1}
    ).test_client()
    proxied.environ_base["REMOTE_ADDR"] = "10.0.0.1"  # the load balancer, for everyone

    def look_up(client_address: str) -> int:
        return proxied.get(
            "/api/v1/verify/EIC-0000-0000-0000-0000-0",
            headers={"X-Forwarded-For": client_address},
        ).status_code

    assert [look_up("203.0.113.7") for _ in range(3)] == [404, 404, 429]
    assert look_up("198.51.100.20") == 404  # another client behind the same proxy


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_without_a_proxy_a_forwarded_header_does_not_escape_the_limit(second_app):
    direct = second_app(RATELIMIT_ENABLED=True, VERIFY_RATE_LIMIT="2 per minute").test_client()
    direct.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    answers = [
        direct.get(
            "/api/v1/verify/EIC-0000-0000-0000-0000-0",
            headers={"X-Forwarded-For": f"198.51.100.{n}"},  # a new made-up address each time
        ).status_code
        for n in range(3)
    ]
    assert answers == [404, 404, 429]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/logout"),
        ("PUT", "/login"),
        ("DELETE", "/verify"),
        ("PATCH", "/api/v1/candidates/1"),
        ("GET", "/admin/imports/1/commit"),
        ("TRACE", "/login"),
    ],
)
def test_methods_a_route_does_not_use_answer_405(client, method, path):
    response = client.open(path, method=method)
    assert response.status_code == 405
    assert response.headers["Allow"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_production_server_names_no_version_and_keeps_the_headers(app, tmp_path):
    access_log = tmp_path / "access.log"
    with gunicorn_serving(app, "--access-logfile", str(access_log)) as base:
        with urllib.request.urlopen(f"{base}/login") as answer:  # noqa: S310  (loopback)
            headers = answer.headers
        link = f"{base}/set-password/Zm9yZ2V0LW1lLW5vdA-secret-token"
        with pytest.raises(urllib.error.HTTPError):  # 404: no such link, but it is logged
            urllib.request.urlopen(link)  # noqa: S310  (loopback)
    log = access_log.read_text()
    assert "GET /set-password/[redacted] HTTP/1.1" in log
    assert "secret-token" not in log
    assert headers["Server"] == "gunicorn"  # no version for a scanner to look up
    assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert headers["X-Frame-Options"] == "DENY"


def test_an_unexpected_error_shows_an_incident_id_never_a_traceback(app, client, caplog):
    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("secret detail: password=hunter2")

    app.testing = False  # as in production: the error handler answers, not the test client
    with caplog.at_level(logging.ERROR):
        response = client.get("/boom")
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    incident = re.search(r"\b([0-9a-f]{12})\b", page)
    assert incident, page
    assert "Traceback" not in page and "hunter2" not in page and "RuntimeError" not in page
    assert incident.group(1) in caplog.text and "RuntimeError" in caplog.text


def test_line_breaks_in_logged_values_cannot_forge_a_log_line(app, caplog):
    forged = "someone@example.org\n2026-12-01 INFO admin@efrs.example logged in"
    with caplog.at_level(logging.INFO, logger="certification.test"):
        logging.getLogger("certification.test").info("Login failed for %s", forged)
    (record,) = [r for r in caplog.records if r.name == "certification.test"]
    assert "\n" not in record.getMessage()
    assert "someone@example.org\\n2026-12-01 INFO" in record.getMessage()


def test_private_pages_and_pdfs_are_not_stored(app, client, auth, make_admin, eligible_candidate):
    from certification.auth.services import get_candidate
    from certification.catalogue.services import get_programme
    from certification.certificates.services import issue_certificate

    holder = eligible_candidate()
    with app.app_context():
        code = issue_certificate(
            get_candidate(holder), get_programme("EII-C"), None, today=_today(app)
        ).code
        db.session.commit()
    assert "no-store" not in client.get("/login").headers.get("Cache-Control", "")
    auth.login("eligible1@example.org", PASSWORD)
    assert client.get("/me/").headers["Cache-Control"] == "no-store"
    pdf = client.get(f"/me/certificates/{code}.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.headers["Cache-Control"] == "no-store"
    auth.logout()
    auth.login(make_admin().email)
    assert client.get("/admin/candidates").headers["Cache-Control"] == "no-store"


def test_fields_a_form_does_not_declare_are_ignored(app, client, auth, make_admin):
    from certification.auth.models import User

    auth.login(make_admin().email)
    response = client.post(
        "/admin/candidates/new",
        data={
            "email": "sneaky@example.org",
            "full_name": "Zoë Sneaky",
            "country": "BE",
            "role": "admin",
            "is_admin": "true",
            "partner_body": "EFRS",
            "active": "false",
            "session_epoch": "99",
        },
    )
    assert response.status_code in (302, 303)
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == "sneaky@example.org"))
        assert (user.role.value, user.is_staff, user.active) == ("candidate", False, True)
        assert user.partner_body is None
        assert user.session_epoch == 0


def test_a_missing_page_speaks_the_product_s_words_and_leads_somewhere(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "<h1>Page not found</h1>" in page
    assert "European Certificate and Diploma in Imaging Informatics" in page
    assert 'href="/verify"' in page and 'href="/"' in page


def test_an_unknown_code_says_how_to_report_a_forgery_to_the_office(second_app):
    app = second_app(RATELIMIT_ENABLED=False, PROGRAMME_OFFICE_EMAIL="office@efrs.example")
    page = app.test_client().get("/verify/EIC-0000-0000-0000-0000-0").get_data(as_text=True)
    assert "it may be forged" in page
    assert 'Report it to the programme office (<a href="mailto:office@efrs.example">' in page
