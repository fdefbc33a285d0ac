"""A programme's renewal rule in the catalogue: the admin form and the API set it, the
service checks it, and a bad rule comes back in words naming its field."""

from __future__ import annotations

import html
import re
from decimal import Decimal

import pytest

from certification.catalogue.models import Programme
from certification.catalogue.services import get_programme, renewal_rule
from certification.extensions import db
from tests.conftest import assert_error, count_rows, log_in
from tests.test_admin import PROGRAMME as FORM
from tests.test_admin import assert_comes_back, input_value, page_text
from tests.test_api import PROGRAMME as API_PROGRAMME


@pytest.fixture
def admin(client, make_admin):
    """A client logged in as the programme office."""
    make_admin("office@efrs.example", "EFRS Programme Office")
    log_in(client, "office@efrs.example")
    return client


@pytest.fixture
def catalogue(make_assessment, make_programme):
    """What the form's programme names: its assessment and its prerequisite."""
    make_assessment("CERT-EXAM")
    make_programme("EII-C")


RENEWAL = {
    "renewal_cpd_points": "20",
    "renewal_domain_minimums": "Informatics Governance: 5\r\nAI & Data Science: 2,5",
    "renewal_grace_months": "6",
}


def test_the_office_sets_a_renewal_rule_through_the_form(app, admin, catalogue):
    response = admin.post("/admin/programmes/new", data={**FORM, **RENEWAL}, follow_redirects=True)
    assert "Programme EII-D is created." in page_text(response)

    edit = admin.get("/admin/programmes/EII-D/edit")
    assert input_value(edit, "renewal_cpd_points") == "20"
    assert input_value(edit, "renewal_grace_months") == "6"
    assert "AI & Data Science: 2.5\nInformatics Governance: 5" in page_text(edit)
    with app.app_context():
        rule = renewal_rule(get_programme("EII-D"))
        assert rule is not None
        assert rule.min_points == Decimal(20)
        assert dict(rule.domain_minimums) == {
            "AI & Data Science": Decimal("2.5"),
            "Informatics Governance": Decimal(5),
        }
        assert get_programme("EII-D").renewal_grace_months == 6


def test_emptying_the_points_takes_the_rule_away(app, admin, catalogue):
    admin.post("/admin/programmes/new", data={**FORM, **RENEWAL})
    empty = {"renewal_cpd_points": "", "renewal_domain_minimums": "", "renewal_grace_months": ""}

    response = admin.post("/admin/programmes/EII-D/edit", data={**FORM, **empty})

    assert response.status_code == 303
    with app.app_context():
        assert renewal_rule(get_programme("EII-D")) is None
        assert get_programme("EII-D").renewal_domain_minimums == []


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"renewal_cpd_points": "abc"}, "renewal_cpd_points", "Enter a number"),
        ({"renewal_cpd_points": "0"}, "renewal_cpd_points", "Must be more than 0."),
        ({"renewal_cpd_points": "2.555"}, "renewal_cpd_points", "At most two decimal places."),
        (
            {"validity_months": ""},
            "renewal_cpd_points",
            "certificates that never expire are not renewed",
        ),
        ({"renewal_grace_months": "61"}, "renewal_grace_months", "from 0 to 60"),
        (
            {"renewal_cpd_points": "", "renewal_domain_minimums": "", "renewal_grace_months": ""}
            | {"renewal_assessment": "CERT-EXAM"},
            "renewal_assessment",
            "A renewal assessment needs the CPD points",
        ),
        (
            {"renewal_cpd_points": "", "renewal_domain_minimums": ""},
            "renewal_grace_months",
            "A grace period needs the CPD points",
        ),
        (
            {"renewal_cpd_points": "", "renewal_grace_months": ""},
            "renewal_domain_minimums",
            "Minimums per domain need the CPD points",
        ),
        (
            {"renewal_domain_minimums": "Informatics Governance: 25"},
            "renewal_domain_minimums",
            "add up to more than its CPD points",
        ),
        (
            {"renewal_domain_minimums": "Governance five"},
            "renewal_domain_minimums",
            "Line 1: write it as",
        ),
        (
            {"renewal_domain_minimums": "Informatics Governance: 0"},
            "renewal_domain_minimums",
            "Must be more than 0.",
        ),
    ],
)
def test_a_bad_renewal_rule_comes_back_with_the_message(
    app, admin, catalogue, changes, field, message
):
    typed = {**FORM, **RENEWAL, **changes}

    response = admin.post("/admin/programmes/new", data=typed)

    assert_comes_back(response, field, message, code=typed["code"])
    textarea = re.search(
        r'<textarea[^>]*name="renewal_domain_minimums"[^>]*>(.*?)</textarea>',
        response.get_data(as_text=True),
        re.S,
    )
    assert html.unescape(textarea.group(1)).strip() == typed["renewal_domain_minimums"].strip()
    assert count_rows(app, Programme) == 1  # the catalogue's EII-C only


def test_the_api_sets_and_answers_the_renewal_rule(app, api):
    body = {
        **API_PROGRAMME,
        "renewal_cpd_points": "20",
        "renewal_domain_minimums": {"Informatics Governance": 5},
        "renewal_grace_months": 6,
    }

    response = api.post("/programmes", body)

    assert response.status_code == 201, response.get_json()
    answer = response.get_json()
    assert answer["renewal_cpd_points"] == 20
    assert answer["renewal_domain_minimums"] == {"Informatics Governance": 5}
    assert answer["renewal_grace_months"] == 6


def test_the_api_names_the_field_of_a_bad_renewal_rule(app, api):
    body = {**API_PROGRAMME, "validity_months": None, "renewal_cpd_points": 20}

    assert_error(api.post("/programmes", body), 422, "invalid", {"renewal_cpd_points"})
    assert_error(
        api.post("/programmes", {**API_PROGRAMME, "renewal_grace_months": "six"}),
        400,
        "malformed",
        {"renewal_grace_months"},
    )
    with app.app_context():
        assert db.session.query(Programme).count() == 0


def test_a_renewal_assessment_is_chosen_in_the_form_and_kept_from_deletion(app, admin, catalogue):
    response = admin.post(
        "/admin/programmes/new", data={**FORM, **RENEWAL, "renewal_assessment": "CERT-EXAM"}
    )
    assert response.status_code == 303
    edit = page_text(admin.get("/admin/programmes/EII-D/edit"))
    assert re.search(
        r'<select[^>]*name="renewal_assessment"[^>]*>.*?<option selected value="CERT-EXAM">',
        edit,
        re.S,
    )
    with app.app_context():
        rule = renewal_rule(get_programme("EII-D"))
        assert rule.assessment.code == "CERT-EXAM"

    # A browser sends the select's value, "" for None.
    admin.post("/admin/programmes/EII-D/edit", data={**FORM, **RENEWAL, "renewal_assessment": ""})
    with app.app_context():
        assert renewal_rule(get_programme("EII-D")).assessment is None
    admin.post(
        "/admin/programmes/EII-D/edit",
        data={**FORM, **RENEWAL, "required_assessments": [], "renewal_assessment": "CERT-EXAM"},
    )
    refused = admin.post("/admin/assessments/CERT-EXAM/delete")
    assert refused.status_code == 422
    assert "programme EII-D requires it" in page_text(refused)


def test_the_api_refuses_a_renewal_assessment_it_does_not_know_or_without_points(app, api):
    unknown = {**API_PROGRAMME, "renewal_cpd_points": 20, "renewal_assessment": "NOPE"}
    assert_error(api.post("/programmes", unknown), 422, "invalid", {"renewal_assessment"})
