"""Who is who in /admin: the programme office does the work, each partner body's officers
read everything and edit only their own body's branding. One table decides every route."""

from __future__ import annotations

import re
import time

import pytest
import sqlalchemy as sa

from certification.auth.models import Role, User
from certification.auth.permissions import ADMIN_PERMISSIONS, may_open
from certification.auth.services import authenticate
from certification.extensions import db
from tests.certificates.test_admin_certificates import branding_form
from tests.conftest import PASSWORD, issue_by_service, log_in
from tests.test_admin import page_text


def test_every_admin_route_has_a_row_in_the_permission_table(app):
    routes = {
        rule.endpoint for rule in app.url_map.iter_rules() if rule.endpoint.startswith("admin.")
    }
    assert not routes - set(ADMIN_PERMISSIONS), "add these to auth/permissions.py"
    assert not set(ADMIN_PERMISSIONS) - routes, "rows for routes that no longer exist"


def test_a_page_missing_from_the_table_is_open_to_nobody(app, make_admin, make_officer):
    with app.app_context():
        for user in (make_admin(), make_officer("EFRS")):
            person = db.session.get(User, user.id)
            assert may_open(person, "admin.candidates")
            assert not may_open(person, "admin.a_page_nobody_decided")
            assert not may_open(person, None)


@pytest.fixture
def admin(client, make_admin):
    """A client logged in as the programme office."""
    log_in(client, make_admin().email)
    return client


def _officer(app, make_officer, body="EFRS"):
    officer = make_officer(body)
    client = app.test_client()
    assert log_in(client, officer.email).status_code == 302
    return client


def test_an_officer_reads_a_candidate_but_is_offered_no_change(
    app, admin, make_officer, eligible_candidate, today
):
    holder = eligible_candidate("Ana Novak")
    code = issue_by_service(app, holder, today)
    ready = eligible_candidate("Jón Þórðarson")
    officer = _officer(app, make_officer)

    page = page_text(officer.get(f"/admin/candidates/{ready}"))
    assert "Jón Þórðarson" in page and "Transcript" in page
    for action in ("Edit details", "Issue certificate", "Record credit", "<summary>Withdraw"):
        assert action not in page, action
    # Told who is ready, not offered the button.
    assert "holds no current certificate for it; the programme office requests it" in page
    page = page_text(officer.get(f"/admin/candidates/{holder}"))
    assert code in page and "Download PDF" in page
    assert "Revoke certificate" not in page and "Reissue certificate" not in page
    assert officer.post(f"/admin/candidates/{ready}/certificates", data={}).status_code == 404
    assert officer.get("/admin/candidates/new").status_code == 404
    assert officer.get("/admin/imports").status_code == 404
    assert "New candidate" not in page_text(officer.get("/admin/candidates"))
    assert "New course" not in page_text(officer.get("/admin/courses"))
    listing = page_text(officer.get("/admin/programmes/EII-C/eligible"))
    assert "Jón Þórðarson" in listing and "Issue to everyone eligible" not in listing
    assert "the certificate to Jón Þórðarson" not in listing

    # The office, on the same pages, has every button.
    page = page_text(admin.get(f"/admin/candidates/{ready}"))
    for action in ("Edit details", "Issue certificate", "Record credit", "<summary>Withdraw"):
        assert action in page, action
    assert "New candidate" in page_text(admin.get("/admin/candidates"))


def test_each_role_sees_only_its_own_menu(app, admin, make_officer):
    menu = re.compile(r'<nav class="main-nav".*?</nav>', re.S)
    officer_menu = menu.search(_officer(app, make_officer).get("/admin/candidates").text)[0]
    office_menu = menu.search(admin.get("/admin/candidates").text)[0]
    for item in ("Candidates", "Ready to issue", "Programmes", "Jobs", "E-mail", "Exports"):
        assert item in officer_menu and item in office_menu, item
    for item in ("Reports", "Branding", "Audit"):
        assert item in officer_menu, item
    for item in ("Imports", "API tokens"):
        assert item in office_menu and item not in officer_menu, item


@pytest.mark.parametrize(("officer_of", "edits"), [("EFRS", "EFRS"), ("EuSoMII", "EFRS")])
def test_an_officer_edits_only_their_own_body_s_branding(app, make_officer, officer_of, edits):
    officer = _officer(app, make_officer, officer_of)
    page = page_text(officer.get("/admin/branding"))
    assert f"Save {officer_of}" in page
    other = "EuSoMII" if officer_of == "EFRS" else "EFRS"
    assert f"Save {other}" not in page and f"Edited by {other}'s officers." in page

    response = officer.post(
        "/admin/branding", data=branding_form(body=edits, **{"efrs-signatory_name": "Dr Alma Berg"})
    )
    with app.app_context():
        printed = db.session.scalar(
            sa.text("SELECT signatory_name FROM partner_body WHERE short_name = 'EFRS'")
        )
    if officer_of == edits:
        assert response.status_code == 303
        assert printed == "Dr Alma Berg"
    else:
        assert response.status_code == 403
        assert printed != "Dr Alma Berg"


def test_the_office_reads_both_bodies_branding_and_edits_neither(admin):
    page = page_text(admin.get("/admin/branding"))
    assert "Save EFRS" not in page and "Save EuSoMII" not in page
    assert admin.post("/admin/branding", data=branding_form()).status_code == 403


def test_an_officer_sets_up_the_second_factor_and_idles_out_as_the_office_does(
    app, client, make_officer
):
    runner = app.test_cli_runner()
    made = runner.invoke(
        args=["create-user", "new@eusomii.example", "--role", "officer", "--name", "Nova"],
        input=PASSWORD + "\n",
    )
    assert made.exit_code != 0  # no body: refused below; the next one names it
    made = runner.invoke(
        args=[
            "create-user",
            "new@eusomii.example",
            "--role",
            "officer",
            "--name",
            "Nova",
            "--body",
            "eusomii",
        ],
        input=PASSWORD + "\n",
    )
    assert made.exit_code == 0, made.output
    response = client.post("/login", data={"email": "new@eusomii.example", "password": PASSWORD})
    assert response.headers["Location"].endswith("/login/set-up-authenticator")
    assert client.get("/admin/candidates").status_code == 302  # not in before the code

    other = app.test_client()
    log_in(other, make_officer("EFRS").email)
    with other.session_transaction() as session:
        session["seen_at"] = int(time.time()) - 31 * 60
    response = other.get("/admin/candidates")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_create_user_makes_office_users_and_officers(app, runner):
    office = runner.invoke(
        args=["create-user", "Office2@example.org", "--role", "office", "--name", "Zoë Ødegård"],
        input=PASSWORD + "\n",
    )
    assert office.exit_code == 0, office.output
    assert "Programme-office user office2@example.org created." in office.output
    officer = runner.invoke(
        args=[
            "create-user",
            "o@efrs.example",
            "--role",
            "officer",
            "--name",
            "Olga",
            "--body",
            "EFRS",
        ],
        input=PASSWORD + "\n",
    )
    assert officer.exit_code == 0, officer.output
    assert "Officer of EFRS o@efrs.example created." in officer.output
    with app.app_context():
        made = authenticate("o@efrs.example", PASSWORD)
        assert (made.role, made.partner_body) == (Role.OFFICER, "EFRS")
        assert authenticate("office2@example.org", PASSWORD).role is Role.OFFICE


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            ["--role", "officer"],
            "An officer belongs to one partner body: add --body EFRS or EuSoMII.",
        ),
        (["--role", "office", "--body", "EFRS"], "--body is for officers only"),
        (["--role", "officer", "--body", "ESR"], "Invalid value for '--body': 'ESR'"),
        (["--role", "provider"], "Provider staff belong to one provider: add --provider NAME."),
        (["--role", "office", "--provider", "EuSoMII"], "--provider is for provider staff only."),
        (["--role", "candidate"], "'candidate' is not one of"),
    ],
)
def test_create_user_refuses_a_role_or_body_that_does_not_fit(app, runner, arguments, message):
    result = runner.invoke(
        args=["create-user", "x@example.org", "--name", "X", *arguments], input=PASSWORD + "\n"
    )
    assert result.exit_code != 0
    assert message in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(User).where(User.email == "x@example.org")) is None


def test_create_admin_still_makes_a_programme_office_user(app, runner):
    result = runner.invoke(
        args=["create-admin", "a@example.org", "--name", "A"], input=PASSWORD + "\n"
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = authenticate("a@example.org", PASSWORD)
        assert user.role is Role.OFFICE and user.partner_body is None
