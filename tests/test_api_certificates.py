"""Certificates through the token API: issue, read, revoke, reissue, download; both databases."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import threading
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from certification.audit import AuditEvent
from certification.catalogue.services import get_programme, programme_as_input, update_programme
from certification.certificates.models import Certificate
from certification.extensions import db
from certification.progress import subtract_months
from tests.conftest import (
    API_ADMIN_EMAIL,
    assert_error,
    assert_pdf_download,
    count_rows,
    programme_today,
)


@pytest.fixture
def issued(api, eligible_candidate) -> dict[str, Any]:
    """A certificate issued through the API to an eligible candidate (eligible1@...)."""
    response = api.post(
        "/certificates", {"candidate_id": eligible_candidate(), "programme": "EII-C"}
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def login(app, email: str, password: str | None = None) -> Any:
    """A separate browser, logged in as ``email``."""
    from tests.conftest import PASSWORD, log_in

    browser = app.test_client()
    answer = log_in(browser, email, password or PASSWORD)
    assert answer.status_code == 302, answer.get_data(as_text=True)
    return browser


def pdf_text(pdf: bytes) -> str:
    return PdfReader(io.BytesIO(pdf)).pages[0].extract_text()


# ------------------------------------------------------------------ issuing


def test_issue_a_certificate(app, api, api_admin, eligible_candidate, today):
    candidate_id = eligible_candidate("Αικατερίνη Παπαδοπούλου")
    response = api.post("/certificates", {"candidate_id": candidate_id, "programme": "eii-c"})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    code = body["code"]
    assert code.startswith("EIC-")
    assert response.headers["Location"] == f"/api/v1/certificates/{code}"
    assert response.headers["Cache-Control"] == "no-store"
    assert body == {
        "code": code,
        "status": "valid",
        "holder_name": "Αικατερίνη Παπαδοπούλου",
        "award": "European Certificate in Imaging Informatics",
        "level": "certificate",
        "eqf_level": 6,
        "credits": 10,
        "credits_by_domain": {"AI & Data Science": 5, "Standards & Interoperability": 5},
        "issued_on": today.isoformat(),
        "expires_on": subtract_months(today, -60).isoformat(),
        "verify_url": f"https://certificates.example.org/verify/{code}",
        "pdf_sha256": body["pdf_sha256"],
        "issuers": [
            {"name": "European Federation of Radiographer Societies", "short_name": "EFRS"},
            {"name": "European Society of Medical Imaging Informatics", "short_name": "EuSoMII"},
        ],
        "revoked_on": None,
        "revocation_reason": None,
        "superseded_by": None,
        "renewed": False,
        "renews": None,
        "approvals": [],  # EII-C is issued by the office alone here (the fixture's policy)
        "suspended_on": None,
        "suspended_by": None,
        "suspension_reason": None,
    }
    assert len(body["pdf_sha256"]) == 64
    assert api.get(f"/certificates/{code}").get_json() == body
    with app.app_context():
        event = db.session.scalar(
            sa.select(AuditEvent).where(AuditEvent.action == "certificate.issued")
        )
        assert event is not None and event.actor_id == api_admin.id


def test_a_candidate_who_is_not_eligible_is_told_what_is_missing(
    app, api, make_candidate, eligible_candidate
):
    eligible_candidate()  # sets up the programme
    newcomer = make_candidate(email="newcomer@example.org")
    response = api.post("/certificates", {"candidate_id": newcomer.id, "programme": "EII-C"})
    body = assert_error(response, 422, "requirements_not_met")
    assert body["missing"] == [
        "10 more ECTS credits in total",
        "pass the Certificate examination (not yet taken, pass mark 60)",
    ]
    assert count_rows(app, Certificate) == 0


def test_a_second_issue_is_a_conflict_naming_the_existing_code(app, api, issued):
    with app.app_context():
        candidate_id = db.session.scalar(sa.select(Certificate.candidate_id))
    response = api.post("/certificates", {"candidate_id": candidate_id, "programme": "EII-C"})
    assert assert_error(response, 409, "already_issued")["code"] == issued["code"]
    assert count_rows(app, Certificate) == 1


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"programme": "EII-C"}, {"candidate_id"}),
        ({"candidate_id": 1}, {"programme"}),
        ({"candidate_id": "one", "programme": "EII-C"}, {"candidate_id"}),
        ({"candidate_id": 1.5, "programme": "EII-C"}, {"candidate_id"}),
        ({"candidate_id": True, "programme": "EII-C"}, {"candidate_id"}),
        ({"candidate_id": 1, "programme": ["EII-C"]}, {"programme"}),
        ({}, {"candidate_id", "programme"}),
    ],
)
def test_malformed_issue_requests_are_refused(app, api, eligible_candidate, body, fields):
    eligible_candidate()
    assert_error(api.post("/certificates", body), 400, "malformed", fields)
    assert count_rows(app, Certificate) == 0


def test_issuing_needs_a_json_object(api):
    assert_error(api.post_raw("/certificates", "candidate_id=1"), 400, "malformed")


@pytest.mark.parametrize(
    "body",
    [
        {"candidate_id": 99999, "programme": "EII-C"},
        {"candidate_id": -1, "programme": "EII-C"},
        {"candidate_id": 10**30, "programme": "EII-C"},
        {"candidate_id": "ADMIN", "programme": "NO-SUCH"},
        {"candidate_id": "CANDIDATE", "programme": "NO-SUCH"},
        {"candidate_id": "CANDIDATE", "programme": "has spaces"},
    ],
)
def test_unknown_candidates_and_programmes_are_not_found(
    app, api, api_admin, eligible_candidate, body
):
    candidate_id = eligible_candidate()
    stand_in = {"ADMIN": api_admin.id, "CANDIDATE": candidate_id}
    body = {**body, "candidate_id": stand_in.get(body["candidate_id"], body["candidate_id"])}
    assert_error(api.post("/certificates", body), 404, "not_found")
    assert count_rows(app, Certificate) == 0


# ------------------------------------------------------------------ reading


def test_a_code_is_found_however_it_is_typed(api, issued):
    typed = issued["code"].lower().replace("-", "")
    assert api.get(f"/certificates/{typed}").get_json()["code"] == issued["code"]


@pytest.mark.parametrize("code", ["EIC-0000-0000-0000-0000-0", "nonsense", "EIC-" + "Z" * 40])
def test_unknown_codes_are_not_found(api, code):
    assert_error(api.get(f"/certificates/{code}"), 404, "not_found")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/certificates"),
        ("GET", "/certificates/EIC-0000"),
        ("POST", "/certificates/EIC-0000/revoke"),
        ("POST", "/certificates/EIC-0000/reissue"),
        ("GET", "/certificates/EIC-0000/pdf"),
    ],
)
@pytest.mark.parametrize("authorization", [None, "Bearer eii_not-a-token", "Basic YTpi"])
def test_certificate_routes_need_a_valid_token(client, api_token, method, path, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    response = client.open("/api/v1" + path, method=method, json={}, headers=headers)
    assert_error(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/certificates"),
        ("GET", "/certificates/{code}"),
        ("POST", "/certificates/{code}/revoke"),
        ("POST", "/certificates/{code}/reissue"),
    ],
)
def test_an_admin_session_does_not_authenticate_the_other_routes(
    app, api_admin, issued, method, path
):
    browser = login(app, API_ADMIN_EMAIL)
    response = browser.open(
        "/api/v1" + path.format(code=issued["code"]), method=method, json={"reason": "x"}
    )
    assert_error(response, 401, "unauthorized")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/certificates"),
        ("DELETE", "/certificates/{code}"),
        ("GET", "/certificates/{code}/revoke"),
        ("POST", "/certificates/{code}/pdf"),
    ],
)
def test_wrong_methods_answer_json_405(api, issued, method, path):
    response = api.client.open(
        "/api/v1" + path.format(code=issued["code"]), method=method, headers=api.headers()
    )
    assert_error(response, 405, "method_not_allowed")


# ------------------------------------------------------------------ revoking


def test_revoke_a_certificate(app, api, api_admin, issued, today):
    code = issued["code"]
    response = api.post(f"/certificates/{code}/revoke", {"reason": "  Issued in error  "})
    assert response.status_code == 200, response.get_json()
    revoked = response.get_json()
    assert revoked == {
        **issued,
        "status": "revoked",
        "revoked_on": today.isoformat(),
        "revocation_reason": "Issued in error",
    }
    assert api.get(f"/certificates/{code}").get_json() == revoked
    again = api.post(f"/certificates/{code}/revoke", {"reason": "Again"})
    assert_error(again, 422, "already_revoked")
    with app.app_context():
        event = db.session.scalar(
            sa.select(AuditEvent).where(AuditEvent.action == "certificate.revoked")
        )
        assert event is not None and event.actor_id == api_admin.id


@pytest.mark.parametrize(
    ("body", "status", "slug"),
    [
        ({}, 400, "malformed"),
        ({"reason": None}, 400, "malformed"),
        ({"reason": 42}, 400, "malformed"),
        ({"reason": ["a"]}, 400, "malformed"),
        ({"reason": ""}, 422, "invalid"),
        ({"reason": "   "}, 422, "invalid"),
        ({"reason": "R" * 501}, 422, "invalid"),
        ({"reason": "two\nlines"}, 422, "invalid"),
        ({"reason": "typo"}, 422, "invalid"),  # too short to tell a verifier anything
    ],
)
def test_a_revocation_needs_a_reason(api, issued, body, status, slug):
    code = issued["code"]
    assert_error(api.post(f"/certificates/{code}/revoke", body), status, slug, {"reason"})
    assert api.get(f"/certificates/{code}").get_json()["status"] == "valid"


def test_a_revoked_award_is_on_hold_until_lifted_with_a_reason(app, api, api_admin, issued, today):
    code = issued["code"]
    holder = api.get(f"/certificates/{code}").get_json()["holder_name"]
    assert (
        api.post(f"/certificates/{code}/revoke", {"reason": "Issued in error"}).status_code == 200
    )
    with app.app_context():
        candidate_id = db.session.scalar(
            sa.select(Certificate.candidate_id).where(Certificate.code == code)
        )

    again = api.post("/certificates", {"candidate_id": candidate_id, "programme": "EII-C"})
    body = assert_error(again, 409, "award_on_hold")
    assert (body["code"], body["reason"], body["on_hold_since"]) == (
        code,
        "Issued in error",
        today.isoformat(),
    )
    assert holder in body["message"]

    lift = f"/candidates/{candidate_id}/holds/EII-C/lift"
    assert_error(api.post(lift, {}), 400, "malformed", {"reason"})
    assert_error(api.post(lift, {"reason": "  "}), 422, "invalid", {"reason"})
    lifted = api.post(lift, {"reason": "The examination board confirmed the result"})
    assert lifted.status_code == 200, lifted.get_json()
    assert lifted.get_json() == {
        "candidate_id": candidate_id,
        "programme": "EII-C",
        "certificate_code": code,
        "reason": "Issued in error",
        "placed_on": today.isoformat(),
        "lifted_on": today.isoformat(),
        "lift_reason": "The examination board confirmed the result",
    }
    assert_error(api.post(lift, {"reason": "Once more"}), 404, "not_found")
    reissued = api.post("/certificates", {"candidate_id": candidate_id, "programme": "EII-C"})
    assert reissued.status_code == 201 and reissued.get_json()["code"] != code
    with app.app_context():
        lifted_by = db.session.scalar(
            sa.select(AuditEvent.actor_id).where(AuditEvent.action == "award_hold.lifted")
        )
        assert lifted_by == api_admin.id


def test_revoking_an_unknown_code_is_not_found(api):
    assert_error(
        api.post("/certificates/EIC-0000/revoke", {"reason": "Issued in error"}), 404, "not_found"
    )


def test_a_superseded_certificate_cannot_be_revoked(api, issued):
    code = issued["code"]
    assert api.post(f"/certificates/{code}/reissue", {}).status_code == 201
    assert_error(
        api.post(f"/certificates/{code}/revoke", {"reason": "Issued in error"}), 422, "superseded"
    )


# ------------------------------------------------------------------ reissuing


def test_reissue_with_a_corrected_name(app, api, issued, today):
    old = issued["code"]
    response = api.post(f"/certificates/{old}/reissue", {"full_name": "Łukasz Wiśniewski-Nowak"})
    assert response.status_code == 201, response.get_json()
    new = response.get_json()
    assert new["code"] != old
    assert response.headers["Location"] == f"/api/v1/certificates/{new['code']}"
    assert new == {
        **issued,
        "code": new["code"],
        "holder_name": "Łukasz Wiśniewski-Nowak",
        "verify_url": f"https://certificates.example.org/verify/{new['code']}",
        "pdf_sha256": new["pdf_sha256"],
    }
    assert new["pdf_sha256"] != issued["pdf_sha256"]
    assert api.get(f"/certificates/{new['code']}").get_json() == new
    assert api.get(f"/certificates/{old}").get_json() == {
        **issued,
        "status": "superseded",
        "superseded_by": new["code"],
    }
    pdf = api.get(f"/certificates/{new['code']}/pdf")
    assert pdf.status_code == 200
    assert hashlib.sha256(pdf.data).hexdigest() == new["pdf_sha256"]
    text = pdf_text(pdf.data)
    assert "Łukasz Wiśniewski-Nowak" in text
    assert new["code"] in text
    # Only the current certificate can be replaced.
    assert_error(api.post(f"/certificates/{old}/reissue", {}), 422, "not_current")


@pytest.mark.parametrize("body", [None, {}, {"full_name": None}])
def test_reissue_without_a_new_name_keeps_the_name(api, issued, body):
    code = issued["code"]
    if body is None:
        response = api.client.post(f"/api/v1/certificates/{code}/reissue", headers=api.headers())
    else:
        response = api.post(f"/certificates/{code}/reissue", body)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["holder_name"] == issued["holder_name"]
    assert response.get_json()["code"] != code


@pytest.mark.parametrize(
    ("body", "status", "slug"),
    [
        ({"full_name": 7}, 400, "malformed"),
        ({"full_name": ["A"]}, 400, "malformed"),
        ({"full_name": ""}, 422, "invalid"),
        ({"full_name": "N" * 201}, 422, "invalid"),
    ],
)
def test_a_bad_new_name_is_refused_and_changes_nothing(app, api, issued, body, status, slug):
    code = issued["code"]
    assert_error(api.post(f"/certificates/{code}/reissue", body), status, slug, {"full_name"})
    assert api.get(f"/certificates/{code}").get_json() == issued
    assert count_rows(app, Certificate) == 1


def test_reissuing_a_revoked_certificate_is_refused(api, issued):
    code = issued["code"]
    assert api.post(f"/certificates/{code}/revoke", {"reason": "Fraud"}).status_code == 200
    assert_error(api.post(f"/certificates/{code}/reissue", {}), 422, "not_current")


def test_reissuing_an_unknown_code_is_not_found(api):
    assert_error(api.post("/certificates/EIC-0000/reissue", {}), 404, "not_found")


# ------------------------------------------------------------------ the PDF


def test_the_pdf_for_a_token(api, issued):
    response = api.get(f"/certificates/{issued['code']}/pdf")
    assert_pdf_download(response, issued["code"])
    assert hashlib.sha256(response.data).hexdigest() == issued["pdf_sha256"]


def test_the_pdf_for_sessions(app, issued, make_admin, make_candidate):
    path = f"/api/v1/certificates/{issued['code']}/pdf"
    make_admin("office@example.org")
    make_candidate("Someone Else", email="else@example.org")

    admin_session = login(app, "office@example.org").get(path)
    assert admin_session.status_code == 200
    assert admin_session.headers["Cache-Control"] == "no-store"
    assert hashlib.sha256(admin_session.data).hexdigest() == issued["pdf_sha256"]

    holder = login(app, "eligible1@example.org")
    holder_session = holder.get(path)
    assert holder_session.status_code == 200
    assert holder_session.mimetype == "application/pdf"
    assert holder_session.headers["Content-Disposition"].startswith("attachment")
    assert holder_session.headers["Cache-Control"] == "no-store"
    # A bad token is never ignored in favour of the session.
    with_bad_token = holder.get(path, headers={"Authorization": "Bearer eii_wrong"})
    assert_error(with_bad_token, 401, "unauthorized")

    # Another candidate cannot tell this certificate from one that does not exist.
    other = login(app, "else@example.org")
    refused = assert_error(other.get(path), 404, "not_found")
    unknown = assert_error(
        other.get("/api/v1/certificates/EIC-0000-0000-0000-0000-0/pdf"), 404, "not_found"
    )
    assert refused == unknown

    anonymous = app.test_client().get(path)
    assert_error(anonymous, 401, "unauthorized")
    assert anonymous.headers["WWW-Authenticate"].startswith("Bearer")


def test_the_pdf_of_an_unknown_code_is_not_found(api):
    assert_error(api.get("/certificates/EIC-0000-0000-0000-0000-0/pdf"), 404, "not_found")


def test_a_logged_out_holder_gets_nothing(app, issued):
    holder = login(app, "eligible1@example.org")
    path = f"/api/v1/certificates/{issued['code']}/pdf"
    assert holder.get(path).status_code == 200
    holder.post("/logout")
    assert_error(holder.get(path), 401, "unauthorized")


# ------------------------------------------------------------------ progress counts held awards


def test_progress_counts_a_held_certificate_as_the_prerequisite(
    app, api, eligible_candidate, make_programme
):
    candidate_id = eligible_candidate()
    code = api.post("/certificates", {"candidate_id": candidate_id, "programme": "EII-C"})
    code = code.get_json()["code"]
    # The certificate's rules grow stricter after issue: the holder no longer meets them,
    # but holding the certificate still meets the diploma's prerequisite.
    with app.app_context():
        certificate = get_programme("EII-C")
        stricter = dataclasses.replace(
            programme_as_input(certificate), min_total_credits=Decimal(20)
        )
        update_programme(certificate, stricter, None, today=programme_today(app))
        db.session.commit()
    make_programme("EII-D", level="diploma", min_total_credits="0", prerequisite="EII-C")

    def progress() -> dict[str, Any]:
        reports = api.get(f"/candidates/{candidate_id}/progress").get_json()["programmes"]
        return {report["code"]: report for report in reports}

    assert progress()["EII-C"]["eligible"] is False
    assert progress()["EII-D"]["eligible"] is True
    assert progress()["EII-D"]["requirements"][0]["achieved"] == "EII-C"
    api.post(f"/certificates/{code}/revoke", {"reason": "Issued in error"})
    assert progress()["EII-D"]["eligible"] is False


# ------------------------------------------------------------------ concurrency


def test_twelve_concurrent_issues_give_one_certificate_and_eleven_conflicts(
    app, api_admin, make_api_token, eligible_candidate
):
    candidate_id = eligible_candidate()
    # One token per client: requests with the same token queue on its last-used row, which
    # would hide a race in issuing itself.
    tokens = [make_api_token(label=f"client {n}") for n in range(12)]
    barrier = threading.Barrier(12)
    answers: list[tuple[int, dict[str, Any]]] = []
    lock = threading.Lock()

    def attempt(token: str) -> None:
        client = app.test_client()
        barrier.wait()
        response = client.post(
            "/api/v1/certificates",
            json={"candidate_id": candidate_id, "programme": "EII-C"},
            headers={"Authorization": f"Bearer {token}"},
        )
        with lock:
            answers.append((response.status_code, response.get_json()))

    threads = [threading.Thread(target=attempt, args=(token,)) for token in tokens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    statuses = sorted(status for status, _ in answers)
    assert statuses == [201] + [409] * 11, answers
    winner = next(body for status, body in answers if status == 201)
    conflicts = [body for status, body in answers if status == 409]
    assert all(body["error"] == "already_issued" for body in conflicts)
    assert {body["code"] for body in conflicts} == {winner["code"]}
    with app.app_context():
        assert db.session.scalars(sa.select(Certificate.code)).all() == [winner["code"]]
