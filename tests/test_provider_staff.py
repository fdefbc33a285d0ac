"""Course-provider staff: they see their provider's courses and the credits on them, and
record credits on those courses only, in the admin pages and through the API with their
token; another provider's course is 403 naming course_code, a completion outside the
provider's accreditation 422 provider_not_accredited. Nothing else of candidates."""

from __future__ import annotations

import datetime as dt
import html

import pytest
import sqlalchemy as sa

from certification.extensions import db
from certification.records.models import CreditRecord
from tests.conftest import Api, assert_error, log_in

STAFF = "niamh@academy.example"


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


@pytest.fixture
def academy(app, make_provider, make_course, make_provider_staff, make_candidate, today):
    """The Northern Imaging Academy (accredited from a year ago to a year ahead) with one
    course, EuSoMII with another, a member of the academy's staff, and a candidate."""
    academy_id = make_provider(
        "Northern Imaging Academy",
        "IE",
        today - dt.timedelta(days=365),
        today + dt.timedelta(days=365),
    )
    make_course("ACC-QA101", provider="Northern Imaging Academy", title="Quality of imaging IT")
    make_course("EUS-AI101", provider="EuSoMII", title="Foundations of AI")
    make_provider_staff(academy_id, STAFF)
    make_candidate("Zeynep Çelik", email="zeynep@example.tr")
    return academy_id


def test_provider_staff_land_on_their_courses_and_record_a_credit(client, academy, today):
    response = log_in(client, STAFF)
    assert response.status_code == 302
    home = client.get("/admin/", follow_redirects=True)
    page = text(home)
    assert "Northern Imaging Academy: our courses" in page
    assert "ACC-QA101" in page and "EUS-AI101" not in page
    done = client.post(
        "/admin/our-courses/credits",
        data={
            "email": "zeynep@example.tr",
            "course": "ACC-QA101",
            "completed_on": (today - dt.timedelta(days=3)).isoformat(),
        },
        follow_redirects=True,
    )
    assert "Recorded ACC-QA101 for Zeynep Çelik." in text(done)
    assert "zeynep@example.tr" in text(done)


def test_another_provider_s_course_is_refused_and_the_form_keeps_what_was_typed(
    client, academy, today
):
    log_in(client, STAFF)
    refused = client.post(
        "/admin/our-courses/credits",
        data={
            "email": "zeynep@example.tr",
            "course": "EUS-AI101",
            "completed_on": today.isoformat(),
        },
    )
    assert refused.status_code == 422
    page = text(refused)
    assert "EUS-AI101 is not one of your provider's courses." in page
    assert 'value="zeynep@example.tr"' in page


def test_provider_staff_see_nothing_else(client, academy, eligible_candidate):
    holder = eligible_candidate("Ana Novak")
    log_in(client, STAFF)
    for path in (
        "/admin/candidates",
        f"/admin/candidates/{holder}",
        "/admin/approvals",
        "/admin/reports",
        "/admin/emails",
        "/admin/audit",
        "/admin/providers",
        "/me/",
    ):
        assert client.get(path).status_code == 404, path
    page = text(client.get("/admin/our-courses"))
    assert "Ana Novak" not in page and "eligible1@example.org" not in page


def test_the_api_records_for_their_courses_only(app, client, academy, make_api_token, today):
    api = Api(client, make_api_token(STAFF))
    found = api.get("/candidates?email=zeynep@example.tr").get_json()["items"]
    candidate_id = found[0]["id"]
    day = (today - dt.timedelta(days=2)).isoformat()
    recorded = api.post(
        f"/candidates/{candidate_id}/credits", {"course": "acc-qa101", "completed_on": day}
    )
    assert recorded.status_code == 201, recorded.get_json()
    refused = api.post(
        f"/candidates/{candidate_id}/credits", {"course": "EUS-AI101", "completed_on": day}
    )
    body = assert_error(refused, 403, "forbidden")
    assert body["field"] == "course_code"
    assert_error(api.get("/candidates"), 403, "forbidden")  # everyone: not theirs to list
    assert_error(api.get(f"/candidates/{candidate_id}"), 403, "forbidden")
    assert_error(api.get(f"/candidates/{candidate_id}/credits"), 403, "forbidden")
    assert_error(
        api.post(
            f"/candidates/{candidate_id}/results",
            {"assessment": "CERT-EXAM", "score": 70, "taken_on": day},
        ),
        403,
        "forbidden",
    )
    with app.app_context():
        courses = db.session.scalars(
            sa.select(CreditRecord.course_id).where(CreditRecord.candidate_id == candidate_id)
        ).all()
        assert len(courses) == 1


def test_a_completion_outside_the_accreditation_is_refused(client, academy, make_api_token, today):
    api = Api(client, make_api_token(STAFF))
    candidate_id = api.get("/candidates?email=zeynep@example.tr").get_json()["items"][0]["id"]
    before = (today - dt.timedelta(days=400)).isoformat()
    body = assert_error(
        api.post(
            f"/candidates/{candidate_id}/credits", {"course": "ACC-QA101", "completed_on": before}
        ),
        422,
        "provider_not_accredited",
    )
    assert body["field"] == "course_code"


def test_the_cli_makes_provider_staff_by_the_provider_s_name(app, runner, academy):
    made = runner.invoke(
        args=[
            "create-user",
            "sean@academy.example",
            "--role",
            "provider",
            "--name",
            "Seán Ó Briain",
            "--provider",
            "northern imaging academy",
        ],
        input="a long enough password 1\na long enough password 1\n",
    )
    assert made.exit_code == 0, made.output
    assert "Provider staff member of Northern Imaging Academy sean@academy.example created." in (
        made.output
    )
    missing = runner.invoke(
        args=["create-user", "x@academy.example", "--role", "provider", "--name", "X"]
    )
    assert missing.exit_code != 0 and "add --provider NAME" in missing.output
    unknown = runner.invoke(
        args=[
            "create-user",
            "y@academy.example",
            "--role",
            "provider",
            "--name",
            "Y",
            "--provider",
            "Nowhere",
        ],
    )
    assert unknown.exit_code != 0 and "There is no provider named 'Nowhere'" in unknown.output
