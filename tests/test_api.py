"""The token-authenticated JSON API v1, on both databases."""

from __future__ import annotations

import datetime as dt
import json
import threading
import unicodedata
from typing import Any

import pytest
import sqlalchemy as sa

from certification.audit import AuditEvent
from certification.auth.models import ApiToken, User, utcnow
from certification.auth.services import get_user_by_email
from certification.catalogue.models import Course, Programme
from certification.extensions import db
from certification.idempotency import IdempotencyKey, prune_expired_keys
from certification.records.models import AssessmentAttempt, CreditRecord
from tests.conftest import API_ADMIN_EMAIL, Api, assert_error, count_rows


@pytest.fixture
def candidate_id(make_candidate) -> int:
    return make_candidate("Łukasz Wiśniewski", email="lukasz@example.pl").id


def days_ago(today: dt.date, days: int) -> str:
    return (today - dt.timedelta(days=days)).isoformat()


PROGRAMME = {
    "code": "EII-C",
    "title": "European Certificate in Imaging Informatics",
    "level": "certificate",
    "eqf_level": 6,
    "min_total_credits": 10,
    "domain_minimums": {"AI & Data Science": 5},
    "required_assessments": [],
    "prerequisite": None,
    "validity_months": 60,
    "credit_window_months": None,
}
COURSE = {
    "code": "EII-101",
    "title": "Foundations of AI in imaging",
    "credits": 5,
    "domain": "AI & Data Science",
    "provider": "EuSoMII",
}
ASSESSMENT = {
    "code": "CERT-EXAM",
    "title": "Certificate examination",
    "pass_mark": 60,
    "max_score": 100,
    "max_attempts": 3,
}
CANDIDATE = {"email": "maria@example.gr", "full_name": "Μαρία Παπαδοπούλου", "country": "GR"}


# ------------------------------------------------------------------ authentication


def test_openapi_document_is_public(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.get_json()["openapi"].startswith("3.1")


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Basic YWRtaW46cGFzc3dvcmQ=",
        "Token eii_whatever",
        "Bearer eii_not-a-real-token",
        "Bearer " + "x" * 5000,
        "Bearer ' OR 1=1 --",
    ],
)
@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/candidates/1"), ("GET", "/candidates/1/progress"), ("POST", "/candidates")],
)
def test_calls_without_a_valid_token_are_refused(
    app, client, api_token, authorization, method, path
):
    headers = {"Authorization": authorization} if authorization is not None else {}
    response = client.open(
        "/api/v1" + path,
        method=method,
        json=CANDIDATE if method == "POST" else None,
        headers=headers,
    )
    assert_error(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert count_rows(app, User) == 1  # only the administrator: nothing was created


def test_scheme_is_case_insensitive(client, api_token, candidate_id):
    response = client.get(
        f"/api/v1/candidates/{candidate_id}", headers={"Authorization": f"bearer  {api_token} "}
    )
    assert response.status_code == 200


def test_a_revoked_token_is_refused(app, api, candidate_id):
    assert api.get(f"/candidates/{candidate_id}").status_code == 200
    with app.app_context():
        for api_token in db.session.scalars(sa.select(ApiToken)):
            api_token.revoked_at = utcnow()
        db.session.commit()
    response = api.get(f"/candidates/{candidate_id}")
    assert_error(response, 401, "unauthorized")
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_the_token_of_a_closed_admin_account_is_refused(app, api, candidate_id):
    with app.app_context():
        get_user_by_email(API_ADMIN_EMAIL).active = False
        db.session.commit()
    assert_error(api.get(f"/candidates/{candidate_id}"), 401, "unauthorized")


def test_a_browser_session_does_not_authenticate_the_api(app, client, auth, api_admin):
    assert auth.login(API_ADMIN_EMAIL).headers["Location"] == "/admin/"
    response = client.post("/api/v1/candidates", json=CANDIDATE)
    assert_error(response, 401, "unauthorized")
    assert count_rows(app, User) == 1


def test_the_token_records_when_it_was_used_and_acts_as_its_admin(app, api, api_admin):
    response = api.post("/candidates", CANDIDATE)
    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    with app.app_context():
        event = db.session.scalar(
            sa.select(AuditEvent).where(AuditEvent.action == "candidate.created")
        )
        assert event is not None and event.actor_id == api_admin.id
        assert db.session.scalar(sa.select(ApiToken.last_used_at)) is not None


# ------------------------------------------------------------------ the body itself


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        (json.dumps(CANDIDATE), "text/plain"),
        ("email=a@example.org&full_name=A", "application/x-www-form-urlencoded"),
        ("", "application/json"),
        ("{", "application/json"),
        ("{'email': 'a@example.org'}", "application/json"),
        ("[]", "application/json"),
        (json.dumps([CANDIDATE]), "application/json"),
        ("null", "application/json"),
        ('"a string"', "application/json"),
        ("42", "application/json"),
        (b"\xff\xfe{", "application/json"),
        ("[" * 100_000 + "]" * 100_000, "application/json"),
        ("1" * 5000, "application/json"),
    ],
    ids=[
        "text-plain",
        "form",
        "empty",
        "truncated",
        "single-quotes",
        "empty-array",
        "array-of-objects",
        "null",
        "string",
        "number",
        "bad-utf8",
        "deeply-nested",
        "huge-integer",
    ],
)
def test_a_body_that_is_not_a_json_object_is_malformed(app, api, data, content_type):
    response = api.post_raw("/candidates", data, content_type)
    assert_error(response, 400, "malformed")
    assert count_rows(app, User) == 1


def test_json_with_a_charset_is_fine(api):
    response = api.post_raw(
        "/candidates", json.dumps(CANDIDATE).encode(), "application/json; charset=utf-8"
    )
    assert response.status_code == 201


def test_unknown_fields_are_ignored_never_assigned(app, api):
    body = {**CANDIDATE, "id": 999, "role": "admin", "active": False, "password_hash": "x"}
    response = api.post("/candidates", body)
    assert response.status_code == 201
    created = response.get_json()
    assert created["id"] != 999
    with app.app_context():
        user = db.session.get(User, created["id"])
        assert user.role.value == "candidate" and user.active and user.password_hash is None


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/programmes"),
        ("DELETE", "/candidates/1"),
        ("PUT", "/candidates/1/credits"),
        ("DELETE", "/candidates/1/results"),
        ("GET", "/candidates/1/credits/1/withdraw"),
        ("POST", "/candidates/1/progress"),
        ("POST", "/openapi.json"),
    ],
)
def test_wrong_methods_answer_json_405(api, method, path):
    response = api.client.open("/api/v1" + path, method=method, headers=api.headers())
    assert_error(response, 405, "method_not_allowed")


@pytest.mark.parametrize("path", ["/nothing-here", "/candidates/abc", "/candidates/-1"])
def test_unknown_paths_answer_json_404(api, path):
    assert_error(api.get(path), 404, "not_found")


# ------------------------------------------------------------------ programmes


def test_create_a_programme(api, make_assessment, make_programme):
    make_assessment("CERT-EXAM")
    make_programme("EII-C")
    body = {
        **PROGRAMME,
        "code": "eii-d",
        "title": "European Diploma in Imaging Informatics",
        "level": "diploma",
        "eqf_level": "7",
        "min_total_credits": "30.5",
        "domain_minimums": {"AI & Data Science": 10, "Standards & Interoperability": "2.5"},
        "required_assessments": ["cert-exam"],
        "prerequisite": "EII-C",
        "credit_window_months": 60,
        "description": "The advanced  diploma,\n for those who lead imaging informatics.",
    }
    response = api.post("/programmes", body)
    assert response.status_code == 201, response.get_json()
    assert response.get_json() == {
        "code": "EII-D",
        "title": "European Diploma in Imaging Informatics",
        "level": "diploma",
        "eqf_level": 7,
        "min_total_credits": 30.5,
        "domain_minimums": {"AI & Data Science": 10, "Standards & Interoperability": 2.5},
        "required_assessments": ["CERT-EXAM"],
        "prerequisite": "EII-C",
        "validity_months": 60,
        "credit_window_months": 60,
        "approval": "both_bodies",  # the default: each body approves every certificate
        # One paragraph, its spaces as typed tidied.
        "description": "The advanced diploma, for those who lead imaging informatics.",
        # No renewal rule sent: its certificates are not renewed through CPD.
        "renewal_cpd_points": None,
        "renewal_domain_minimums": {},
        "renewal_grace_months": None,
        "renewal_assessment": None,
    }


def test_optional_programme_fields_may_be_left_out(api):
    body = {k: v for k, v in PROGRAMME.items() if k not in ("eqf_level", "credit_window_months")}
    response = api.post("/programmes", body)
    assert response.status_code == 201
    assert response.get_json()["eqf_level"] is None
    assert response.get_json()["credit_window_months"] is None


def test_a_duplicate_programme_code_is_a_conflict(app, api, make_programme):
    make_programme("EII-C")
    assert_error(api.post("/programmes", PROGRAMME), 409, "duplicate", {"code"})
    assert count_rows(app, Programme) == 1


@pytest.mark.parametrize(
    "field",
    [
        "code",
        "title",
        "level",
        "min_total_credits",
        "domain_minimums",
        "required_assessments",
        "prerequisite",
        "validity_months",
    ],
)
def test_every_required_programme_field_must_be_sent(api, field):
    body = {k: v for k, v in PROGRAMME.items() if k != field}
    assert_error(api.post("/programmes", body), 400, "malformed", {field})


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("code", 42),
        ("title", None),
        ("level", ["certificate"]),
        ("eqf_level", 6.5),
        ("eqf_level", "six"),
        ("min_total_credits", True),
        ("domain_minimums", [["AI", 5]]),
        ("domain_minimums", {"AI": "five"}),
        ("domain_minimums", {"AI": None}),
        ("required_assessments", "CERT-EXAM"),
        ("required_assessments", [1, 2]),
        ("prerequisite", 7),
        ("validity_months", "sixty"),
        ("credit_window_months", 12.0),
    ],
)
def test_programme_fields_of_the_wrong_type_are_malformed(app, api, field, value):
    assert_error(api.post("/programmes", {**PROGRAMME, field: value}), 400, "malformed", {field})
    assert count_rows(app, Programme) == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("code", "has spaces"),
        ("title", ""),
        ("title", "T" * 201),
        ("level", "masters"),
        ("eqf_level", 9),
        ("min_total_credits", "0.3"),
        ("domain_minimums", {"AI & Data Science": 0.3}),
        ("domain_minimums", {"AI & Data Science": 11}),
        ("required_assessments", ["NO-SUCH-EXAM"]),
        ("prerequisite", "NO-SUCH-PROGRAMME"),
        ("validity_months", 0),
        ("credit_window_months", 601),
    ],
)
def test_programme_rules_are_enforced(app, api, field, value):
    assert_error(api.post("/programmes", {**PROGRAMME, field: value}), 422, "invalid", {field})
    assert count_rows(app, Programme) == 0


# ------------------------------------------------------------------ courses


def test_create_a_course(api, make_provider):
    provider_id = make_provider("EuSoMII")
    response = api.post("/courses", {**COURSE, "code": "eii-102", "credits": "2.5"})
    assert response.status_code == 201
    assert response.get_json() == {
        **COURSE,
        "code": "EII-102",
        "credits": 2.5,
        "provider_id": provider_id,
    }


def test_a_course_names_its_provider_in_any_case(api, make_provider):
    provider_id = make_provider("EuSoMII")
    response = api.post("/courses", {**COURSE, "provider": "  eusomii "})
    assert response.status_code == 201
    assert response.get_json()["provider"] == "EuSoMII"
    assert response.get_json()["provider_id"] == provider_id


def test_an_unknown_provider_is_refused_not_created(app, api, make_provider):
    make_provider("EuSoMII")
    response = api.post("/courses", {**COURSE, "provider": "EuSoMII Academy"})
    assert_error(response, 422, "invalid", {"provider"})
    assert "no provider named EuSoMII Academy" in response.get_json()["fields"]["provider"]
    assert count_rows(app, Course) == 0


def test_an_empty_provider_makes_a_course_without_one(api):
    response = api.post("/courses", {**COURSE, "provider": ""})
    assert response.status_code == 201
    assert response.get_json()["provider"] == ""
    assert response.get_json()["provider_id"] is None


def test_a_duplicate_course_code_is_a_conflict(app, api, make_course):
    make_course("EII-101")
    assert_error(api.post("/courses", COURSE), 409, "duplicate", {"code"})
    assert count_rows(app, Course) == 1


# Each is the raw JSON text of a value for a number field.
NOT_NUMBERS = [
    "null",
    "true",
    "false",
    '"abc"',
    '""',
    '"2,5"',
    '"1e3"',
    '"1_000"',
    '"NaN"',
    '"Infinity"',
    "NaN",
    "Infinity",
    "-Infinity",
    "1e999",
    "-1e999",
    "1e30",
    "[5]",
    '{"value": 5}',
]


@pytest.mark.parametrize("raw", NOT_NUMBERS)
def test_a_course_with_a_value_that_is_not_a_number_is_malformed(app, api, raw):
    fields = ", ".join(f'"{k}": {json.dumps(v)}' for k, v in COURSE.items() if k != "credits")
    response = api.post_raw("/courses", "{" + fields + f', "credits": {raw}' + "}")
    assert_error(response, 400, "malformed", {"credits"})
    assert count_rows(app, Course) == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("credits", 0.3),
        ("credits", 0),
        ("credits", -5),
        ("credits", "1000"),
        ("credits", 5.000000001),
        ("code", ""),
        ("code", "X" * 21),
        ("title", "T" * 201),
        ("title", "Line\nbreak"),
        ("domain", "D" * 101),
    ],
)
def test_course_rules_are_enforced(app, api, make_provider, field, value):
    make_provider("EuSoMII")
    assert_error(api.post("/courses", {**COURSE, field: value}), 422, "invalid", {field})
    assert count_rows(app, Course) == 0


@pytest.mark.parametrize("field", sorted(COURSE))
def test_every_course_field_must_be_sent(api, field):
    body = {k: v for k, v in COURSE.items() if k != field}
    assert_error(api.post("/courses", body), 400, "malformed", {field})


def test_every_bad_field_is_named_at_once(api):
    response = api.post("/courses", {"code": 1, "title": "T", "credits": "many"})
    assert_error(response, 400, "malformed", {"code", "credits", "domain", "provider"})


# ------------------------------------------------------------------ assessments


def test_create_an_assessment(api):
    body = {**ASSESSMENT, "pass_mark": "62.5", "max_score": 100.0, "max_attempts": "2"}
    response = api.post("/assessments", body)
    assert response.status_code == 201
    assert response.get_json() == {**ASSESSMENT, "pass_mark": 62.5, "max_attempts": 2}


def test_a_duplicate_assessment_code_is_a_conflict(api, make_assessment):
    make_assessment("CERT-EXAM")
    assert_error(api.post("/assessments", ASSESSMENT), 409, "duplicate", {"code"})


@pytest.mark.parametrize("value", [3.0, 2.5, "3.5", "three", True, None, [3], "1e2"])
def test_a_whole_number_must_be_whole(api, value):
    response = api.post("/assessments", {**ASSESSMENT, "max_attempts": value})
    assert_error(response, 400, "malformed", {"max_attempts"})


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("max_attempts", 0),
        ("max_attempts", 21),
        ("max_attempts", 10**30),
        ("pass_mark", 101),
        ("pass_mark", -1),
        ("pass_mark", "60.001"),
        ("max_score", 0),
    ],
)
def test_assessment_rules_are_enforced(api, field, value):
    assert_error(api.post("/assessments", {**ASSESSMENT, field: value}), 422, "invalid", {field})


# ------------------------------------------------------------------ candidates


def test_create_and_read_a_candidate(api):
    response = api.post("/candidates", {**CANDIDATE, "email": "Maria@Example.GR", "country": "gr"})
    assert response.status_code == 201
    created = response.get_json()
    assert created == {
        "id": created["id"],
        "email": "maria@example.gr",
        "full_name": "Μαρία Παπαδοπούλου",
        "country": "GR",
        "language": None,  # none chosen: her e-mails and certificates in English
    }
    assert response.headers["Location"].endswith(f"/api/v1/candidates/{created['id']}")
    again = api.get(f"/candidates/{created['id']}")
    assert again.status_code == 200
    assert again.get_json() == created


@pytest.mark.parametrize("body", [{"country": None}, {}])
def test_country_is_optional(api, body):
    response = api.post("/candidates", {"email": "a@example.org", "full_name": "Ana", **body})
    assert response.status_code == 201
    assert response.get_json()["country"] is None


@pytest.mark.parametrize(
    "name",
    [
        "Αικατερίνη Παπαδοπούλου",
        "Ярослава Шевчук-Ковальчук",
        "Nguyễn Thị Phương Thảo",
        "Þórarinn Ægisson",
        "Zoë Ørsted-Łukasiewicz",
    ],
)
@pytest.mark.parametrize("form", ["NFC", "NFD"])
def test_names_round_trip_in_nfc(api, name, form):
    sent = unicodedata.normalize(form, name)
    response = api.post("/candidates", {"email": "x@example.org", "full_name": sent})
    assert response.status_code == 201
    assert response.get_json()["full_name"] == name
    fetched = api.get(f"/candidates/{response.get_json()['id']}").get_json()
    assert fetched["full_name"] == name
    assert unicodedata.is_normalized("NFC", fetched["full_name"])


def test_a_name_of_200_characters_fits(api):
    name = "Ω" * 200
    response = api.post("/candidates", {"email": "x@example.org", "full_name": name})
    assert response.status_code == 201
    assert response.get_json()["full_name"] == name


def test_a_duplicate_email_is_a_conflict(app, api, make_candidate):
    make_candidate(email="maria@example.gr")
    response = api.post("/candidates", {**CANDIDATE, "email": "MARIA@example.gr"})
    assert_error(response, 409, "duplicate", {"email"})
    assert count_rows(app, User) == 2


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("email", "not-an-email"),
        ("email", ""),
        ("email", "a" * 250 + "@example.org"),
        ("full_name", ""),
        ("full_name", "N" * 201),
        ("full_name", "Zero\u200bWidth"),
        ("country", "Atlantis"),  # a name is taken (stored as its code); an unknown one is not
        ("country", "P1"),
    ],
)
def test_candidate_rules_are_enforced(app, api, field, value):
    assert_error(api.post("/candidates", {**CANDIDATE, field: value}), 422, "invalid", {field})
    assert count_rows(app, User) == 1


@pytest.mark.parametrize(
    ("field", "raw"),
    [
        ("full_name", '"Nul\\u0000Byte"'),
        ("full_name", '"\\ud800"'),
        ("email", "42"),
        ("email", "null"),
        ("country", "49"),
        ("country", '["PL"]'),
    ],
)
def test_candidate_fields_that_cannot_be_stored_are_malformed(app, api, field, raw):
    fields = [f'"{k}": {json.dumps(v)}' for k, v in CANDIDATE.items() if k != field]
    response = api.post_raw("/candidates", "{" + ", ".join([*fields, f'"{field}": {raw}']) + "}")
    assert_error(response, 400, "malformed", {field})
    assert count_rows(app, User) == 1


@pytest.mark.parametrize("path", ["", "/progress"])
def test_an_unknown_candidate_is_not_found(api, path, api_admin):
    for candidate_id in (999, api_admin.id, 2**31, 10**30):
        assert_error(api.get(f"/candidates/{candidate_id}{path}"), 404, "not_found")


# ------------------------------------------------------------------ credits


def test_record_a_credit(app, api, candidate_id, make_course, today):
    make_course("EII-101", credits="2.5", domain="AI & Data Science")
    completed_on = days_ago(today, 10)
    response = api.post(
        f"/candidates/{candidate_id}/credits", {"course": "eii-101", "completed_on": completed_on}
    )
    assert response.status_code == 201
    with app.app_context():
        record = db.session.scalar(sa.select(CreditRecord))
        assert record.recorded_by_id == get_user_by_email(API_ADMIN_EMAIL).id
    assert response.get_json() == {
        "id": record.id,
        "course": "EII-101",
        "credits": 2.5,
        "domain": "AI & Data Science",
        "completed_on": completed_on,
        "withdrawn_at": None,
        "withdrawal_reason": None,
    }


def test_a_credit_may_be_dated_today(api, candidate_id, make_course, today):
    make_course("EII-101")
    body = {"course": "EII-101", "completed_on": today.isoformat()}
    assert api.post(f"/candidates/{candidate_id}/credits", body).status_code == 201


def test_a_course_counts_once(app, api, candidate_id, make_course, today):
    make_course("EII-101")
    body = {"course": "EII-101", "completed_on": days_ago(today, 3)}
    assert api.post(f"/candidates/{candidate_id}/credits", body).status_code == 201
    again = api.post(f"/candidates/{candidate_id}/credits", body)
    assert_error(again, 409, "duplicate", {"course"})
    assert count_rows(app, CreditRecord) == 1


def test_a_credit_for_an_unknown_candidate_is_not_found(api, api_admin, make_course, today):
    make_course("EII-101")
    body = {"course": "EII-101", "completed_on": days_ago(today, 3)}
    for candidate_id in (999, api_admin.id):
        assert_error(api.post(f"/candidates/{candidate_id}/credits", body), 404, "not_found")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"course": "NO-SUCH-COURSE"}, "course"),
        ({"course": "x" * 500}, "course"),
        ({"completed_on": "FUTURE"}, "completed_on"),
        ({"completed_on": "1989-12-31"}, "completed_on"),
    ],
)
def test_credit_rules_are_enforced(app, api, candidate_id, make_course, today, body, field):
    make_course("EII-101")
    if body.get("completed_on") == "FUTURE":
        body = {"completed_on": (today + dt.timedelta(days=1)).isoformat()}
    full = {"course": "EII-101", "completed_on": days_ago(today, 3), **body}
    assert_error(api.post(f"/candidates/{candidate_id}/credits", full), 422, "invalid", {field})
    assert count_rows(app, CreditRecord) == 0


BAD_DATES = [
    "2026-02-30",
    "2023-13-01",
    "2024-00-10",
    "2024-1-5",
    "05/01/2024",
    "5 January 2024",
    "20240105",
    "2024-W01-1",
    "2024-01-05T10:00:00",
    "2024-01-05\n",
    " 2024-01-05",
    "२०२४-०१-०५",  # Devanagari digits
    "",
    None,
    20240105,
    True,
    ["2024-01-05"],
]


@pytest.mark.parametrize("value", BAD_DATES)
def test_a_date_must_be_written_yyyy_mm_dd(api, candidate_id, make_course, value):
    make_course("EII-101")
    response = api.post(
        f"/candidates/{candidate_id}/credits", {"course": "EII-101", "completed_on": value}
    )
    assert_error(response, 400, "malformed", {"completed_on"})


@pytest.mark.parametrize("field", ["course", "completed_on"])
def test_every_credit_field_must_be_sent(api, candidate_id, today, field):
    body = {"course": "EII-101", "completed_on": days_ago(today, 3)}
    del body[field]
    assert_error(api.post(f"/candidates/{candidate_id}/credits", body), 400, "malformed", {field})


# ------------------------------------------------------------------ results


def test_record_results_and_number_the_attempts(api, candidate_id, make_assessment, today):
    make_assessment("CERT-EXAM", pass_mark="60", max_score="100", max_attempts=3)
    path = f"/candidates/{candidate_id}/results"
    first = api.post(path, {"assessment": "cert-exam", "score": "59.5", "taken_on": "2024-01-05"})
    assert first.status_code == 201
    assert first.get_json() == {
        "id": first.get_json()["id"],
        "assessment": "CERT-EXAM",
        "attempt": 1,
        "counted_attempt": 1,
        "score": 59.5,
        "passed": False,
        "taken_on": "2024-01-05",
        "withdrawn_at": None,
        "withdrawal_reason": None,
    }
    second = api.post(path, {"assessment": "CERT-EXAM", "score": 60, "taken_on": "2024-06-05"})
    assert second.status_code == 201
    assert second.get_json()["attempt"] == 2
    assert second.get_json()["passed"] is True


def test_the_attempts_limit_is_enforced(app, api, candidate_id, make_assessment, today):
    make_assessment("CERT-EXAM", max_attempts=2)
    path = f"/candidates/{candidate_id}/results"
    body = {"assessment": "CERT-EXAM", "score": 40, "taken_on": days_ago(today, 5)}
    assert api.post(path, body).status_code == 201
    assert api.post(path, body).status_code == 201
    third = api.post(path, {**body, "score": 90})
    assert_error(third, 422, "attempts_exhausted", {"assessment"})
    assert count_rows(app, AssessmentAttempt) == 2


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"assessment": "NO-SUCH-EXAM"}, "assessment"),
        ({"score": 100.5}, "score"),
        ({"score": -1}, "score"),
        ({"score": "12.345"}, "score"),
        ({"taken_on": "FUTURE"}, "taken_on"),
    ],
)
def test_result_rules_are_enforced(app, api, candidate_id, make_assessment, today, body, field):
    make_assessment("CERT-EXAM")
    if body.get("taken_on") == "FUTURE":
        body = {"taken_on": (today + dt.timedelta(days=30)).isoformat()}
    full = {"assessment": "CERT-EXAM", "score": 70, "taken_on": days_ago(today, 3), **body}
    response = api.post(f"/candidates/{candidate_id}/results", full)
    assert_error(response, 422, "invalid", {field})
    assert count_rows(app, AssessmentAttempt) == 0


@pytest.mark.parametrize("raw", NOT_NUMBERS)
def test_a_score_that_is_not_a_number_is_malformed(api, candidate_id, make_assessment, raw):
    make_assessment("CERT-EXAM")
    data = '{"assessment": "CERT-EXAM", "taken_on": "2024-01-05", "score": ' + raw + "}"
    response = api.post_raw(f"/candidates/{candidate_id}/results", data)
    assert_error(response, 400, "malformed", {"score"})


def test_a_result_for_an_unknown_candidate_is_not_found(api, make_assessment):
    make_assessment("CERT-EXAM")
    body = {"assessment": "CERT-EXAM", "score": 70, "taken_on": "2024-01-05"}
    assert_error(api.post("/candidates/999/results", body), 404, "not_found")


# ------------------------------------------------------------------ progress


def test_progress_lists_every_programme(api, candidate_id, make_programme, make_assessment):
    make_assessment("CERT-EXAM")
    make_programme("EII-C", required_assessments=("CERT-EXAM",))
    make_programme("EII-D", level="diploma", min_total_credits="30", prerequisite="EII-C")
    make_programme("EII-X", title="A third award", min_total_credits="0")
    response = api.get(f"/candidates/{candidate_id}/progress")
    assert response.status_code == 200
    programmes = response.get_json()["programmes"]
    assert sorted(p["code"] for p in programmes) == ["EII-C", "EII-D", "EII-X"]
    by_code = {p["code"]: p for p in programmes}
    assert by_code["EII-X"]["eligible"] is True and by_code["EII-X"]["missing"] == []
    certificate = by_code["EII-C"]
    assert certificate["eligible"] is False
    assert certificate["missing"]
    assert [r["required"] for r in certificate["requirements"]] == [10, 60]
    assert [r["achieved"] for r in certificate["requirements"]] == [0, None]
    prerequisite = by_code["EII-D"]["requirements"][0]
    assert prerequisite == {
        "description": prerequisite["description"],
        "required": "EII-C",
        "achieved": None,
        "met": False,
        "attempts_used": None,
        "attempts_left": None,
        "blocked": False,
    }
    assert (certificate["requirements_met"], certificate["requirements_total"]) == (0, 2)


def test_progress_with_an_empty_catalogue(api, candidate_id):
    assert api.get(f"/candidates/{candidate_id}/progress").get_json() == {"programmes": []}


def test_the_whole_journey_through_the_api(api, today, make_provider):
    make_provider("EuSoMII")
    assert api.post("/assessments", ASSESSMENT).status_code == 201
    for code, domain in [("EII-101", "AI & Data Science"), ("EII-201", "Standards")]:
        response = api.post("/courses", {**COURSE, "code": code, "domain": domain})
        assert response.status_code == 201
    programme = {**PROGRAMME, "required_assessments": ["CERT-EXAM"]}
    assert api.post("/programmes", programme).status_code == 201
    created = api.post("/candidates", CANDIDATE)
    assert created.status_code == 201
    candidate = created.get_json()["id"]

    before = api.get(f"/candidates/{candidate}/progress").get_json()["programmes"][0]
    assert before["eligible"] is False
    assert len(before["missing"]) == 3

    for code in ("EII-101", "EII-201"):
        body = {"course": code, "completed_on": days_ago(today, 40)}
        assert api.post(f"/candidates/{candidate}/credits", body).status_code == 201
    result = {"assessment": "CERT-EXAM", "score": "75.5", "taken_on": days_ago(today, 2)}
    assert api.post(f"/candidates/{candidate}/results", result).get_json()["passed"] is True

    after = api.get(f"/candidates/{candidate}/progress").get_json()["programmes"]
    assert after == [
        {
            "code": "EII-C",
            "title": PROGRAMME["title"],
            "eligible": True,
            "missing": [],
            "requirements_met": 3,
            "requirements_total": 3,
            "blocked": False,
            "requirements": [
                {
                    "description": "At least 10 ECTS credits in total",
                    "required": 10,
                    "achieved": 10,
                    "met": True,
                    "attempts_used": None,
                    "attempts_left": None,
                    "blocked": False,
                },
                {
                    "description": "At least 5 ECTS credits in AI & Data Science",
                    "required": 5,
                    "achieved": 5,
                    "met": True,
                    "attempts_used": None,
                    "attempts_left": None,
                    "blocked": False,
                },
                {
                    "description": "Pass the Certificate examination (pass mark 60)",
                    "required": 60,
                    "achieved": 75.5,
                    "met": True,
                    "attempts_used": 1,
                    "attempts_left": 2,
                    "blocked": False,
                },
            ],
        }
    ]


# ------------------------------------------------------------------ idempotency keys


@pytest.fixture
def idempotency_catalogue(make_course, make_assessment) -> None:
    make_course("EII-101", credits="5")
    make_course("EII-102", credits="5")
    make_assessment("CERT-EXAM", pass_mark="60", max_attempts=3)


def post_with_key(api: Api, path: str, body: dict, key: str | None) -> Any:
    headers = api.headers(**({"Idempotency-Key": key} if key is not None else {}))
    return api.client.post("/api/v1" + path, json=body, headers=headers)


def test_a_retried_credit_is_recorded_once_and_answered_alike(
    app, api, candidate_id, idempotency_catalogue
):
    body = {"course": "EII-101", "completed_on": "2025-03-01"}
    path = f"/candidates/{candidate_id}/credits"
    first = post_with_key(api, path, body, "lms-7f3a-0001")
    again = post_with_key(api, path, body, "lms-7f3a-0001")

    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert count_rows(app, CreditRecord) == 1


def test_a_retried_result_does_not_use_up_an_attempt(app, api, candidate_id, idempotency_catalogue):
    body = {"assessment": "CERT-EXAM", "score": 41.5, "taken_on": "2025-03-01"}
    path = f"/candidates/{candidate_id}/results"
    answers = [post_with_key(api, path, body, "attempt-1") for _ in range(3)]

    assert [a.status_code for a in answers] == [201, 201, 201]
    assert {a.get_json()["attempt"] for a in answers} == {1}
    assert count_rows(app, AssessmentAttempt) == 1
    # Without a key, every POST is a new attempt, as before.
    assert post_with_key(api, path, body, None).get_json()["attempt"] == 2


def test_the_same_key_with_another_body_is_refused(app, api, candidate_id, idempotency_catalogue):
    path = f"/candidates/{candidate_id}/credits"
    post_with_key(api, path, {"course": "EII-101", "completed_on": "2025-03-01"}, "k-1")
    refused = post_with_key(api, path, {"course": "EII-102", "completed_on": "2025-03-01"}, "k-1")

    assert_error(refused, 422, "idempotency_key_reused", {"Idempotency-Key"})
    assert count_rows(app, CreditRecord) == 1


def test_a_refused_request_keeps_no_key_so_the_corrected_retry_works(
    app, api, candidate_id, idempotency_catalogue
):
    path = f"/candidates/{candidate_id}/credits"
    refused = post_with_key(api, path, {"course": "NO-SUCH", "completed_on": "2025-03-01"}, "k-2")
    assert_error(refused, 422, "invalid", {"course"})
    assert count_rows(app, IdempotencyKey) == 0

    # The same key, now with a request that differs: not "reused", since nothing was kept.
    fixed = post_with_key(api, path, {"course": "EII-101", "completed_on": "2025-03-01"}, "k-2")
    assert fixed.status_code == 201
    assert count_rows(app, CreditRecord) == 1


def test_keys_belong_to_one_integrator(
    app, api, client, make_admin, make_api_token, candidate_id, idempotency_catalogue
):
    make_admin("registry@example.org")
    other = Api(client, make_api_token("registry@example.org", "reg"))
    path = f"/candidates/{candidate_id}/credits"

    post_with_key(api, path, {"course": "EII-101", "completed_on": "2025-03-01"}, "shared-key")
    theirs = post_with_key(
        other, path, {"course": "EII-102", "completed_on": "2025-03-01"}, "shared-key"
    )

    assert theirs.status_code == 201
    assert "Idempotent-Replayed" not in theirs.headers
    assert count_rows(app, CreditRecord) == 2


@pytest.mark.parametrize("key", ["", "x" * 256, "naïve-key", "two words"])
def test_a_malformed_key_is_refused_before_anything_is_recorded(
    app, api, candidate_id, idempotency_catalogue, key
):
    answer = post_with_key(
        api,
        f"/candidates/{candidate_id}/credits",
        {"course": "EII-101", "completed_on": "2025-03-01"},
        key,
    )
    assert_error(answer, 400, "malformed", {"Idempotency-Key"})
    assert count_rows(app, CreditRecord) == 0


def test_old_keys_are_pruned(app, api, candidate_id, idempotency_catalogue):
    post_with_key(
        api,
        f"/candidates/{candidate_id}/credits",
        {"course": "EII-101", "completed_on": "2025-03-01"},
        "old",
    )
    with app.app_context():
        assert prune_expired_keys(utcnow() + dt.timedelta(days=29), keep_days=30) == 0
        assert prune_expired_keys(utcnow() + dt.timedelta(days=31), keep_days=30) == 1
        db.session.commit()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(IdempotencyKey)) == 0


def test_the_openapi_document_describes_the_header(client):
    document = client.get("/api/v1/openapi.json").get_json()
    for path in ("/candidates/{candidate_id}/credits", "/candidates/{candidate_id}/results"):
        parameters = document["paths"][path]["post"]["parameters"]
        assert [p["name"] for p in parameters if p["in"] == "header"] == ["Idempotency-Key"]


def test_concurrent_retries_with_one_key_record_once(app, api, candidate_id, idempotency_catalogue):
    body = {"course": "EII-101", "completed_on": "2025-03-01"}
    barrier = threading.Barrier(8)
    answers: list[tuple[int, Any]] = []
    lock = threading.Lock()

    def retry() -> None:
        client = app.test_client()
        barrier.wait()
        response = client.post(
            f"/api/v1/candidates/{candidate_id}/credits",
            json=body,
            headers=api.headers(**{"Idempotency-Key": "lms-retry-storm"}),
        )
        with lock:
            answers.append((response.status_code, response.get_json()))

    threads = [threading.Thread(target=retry) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [status for status, _ in answers] == [201] * 8, answers
    assert len({json.dumps(answer, sort_keys=True) for _, answer in answers}) == 1
    assert count_rows(app, CreditRecord) == 1


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_each_field_of_the_wrong_type_is_named_in_the_api_s_own_words(api):
    """What a client's developer reads: one sentence per field, the same words as before
    the contract was declared once (not the validation library's)."""
    body = {
        "code": 5,
        "title": ["Certificate"],
        "level": "certificate",
        "min_total_credits": "1e3",
        "domain_minimums": [1],
        "required_assessments": ["EXAM", 3],
        "validity_months": 2.5,
    }
    fields = assert_error(api.post("/programmes", body), 400, "malformed")["fields"]
    assert fields == {
        "code": "Must be a string.",
        "title": "Must be a string.",
        "min_total_credits": 'Must be a number, e.g. 2.5 or "2.5".',
        "domain_minimums": "Must be an object of names to numbers.",
        "required_assessments": "Must be a list of strings.",
        "validity_months": "Must be a whole number, e.g. 3.",
        "prerequisite": "This field is required.",
    }
