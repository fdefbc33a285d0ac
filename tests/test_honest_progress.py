"""Progress as a count of requirements met, on the candidate's page, the office's page and
in the API: a candidate whose examination failed is never shown as nearly done."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest

from certification.auth.services import get_candidate
from certification.extensions import db
from certification.records.services import record_credit, record_result
from tests.conftest import log_in
from tests.test_admin import page_text

COURSES = {
    "EII-101": ("12.5", "AI & Data Science"),
    "EII-201": ("5", "Standards & Interoperability"),
    "EII-301": ("2.5", "Information Security & Data Protection"),
    "EII-401": ("2.5", "Clinical Informatics"),
}


@pytest.fixture
def failed_candidate(app, make_course, make_assessment, make_programme, make_candidate, today):
    """A programme of 6 requirements (30 ECTS, four domain minimums, the examination) and a
    factory of candidates with 22.5 ECTS that meet every domain, and ``scores`` at the
    examination (3 attempts allowed); returns the candidate's id."""
    for code, (credits, domain) in COURSES.items():
        make_course(code, credits=credits, domain=domain)
    make_assessment("CERT-EXAM", pass_mark="60", max_attempts=3)
    make_programme(
        "EII-C",
        min_total_credits="30",
        domain_minimums={domain: "2.5" for _, domain in COURSES.values()}
        | {"AI & Data Science": "10", "Standards & Interoperability": "5"},
        required_assessments=("CERT-EXAM",),
    )

    def build(*scores: str, email: str = "failed@example.org") -> int:
        candidate_id = make_candidate("Ιωάννα Νικολάου", email=email).id
        with app.app_context():
            candidate = get_candidate(candidate_id)
            for code in COURSES:
                record_credit(
                    candidate, code, today - dt.timedelta(days=60), actor=None, today=today
                )
            for days_ago, score in enumerate(scores, start=1):
                taken_on = today - dt.timedelta(days=40 - days_ago)
                record_result(
                    candidate, "CERT-EXAM", Decimal(score), taken_on, actor=None, today=today
                )
            db.session.commit()
        return candidate_id

    return build


def award_section(page: str) -> str:
    found = re.search(r'<section class="award.*?</section>', page, re.S)
    assert found, "no award on the page"
    return re.sub(r"\s+", " ", found.group(0))


def assert_blocked_award_is_shown_as_such(section: str) -> None:
    assert "4 of 6 requirements met" in section
    assert "%" not in section  # no "94 % complete", no bar labelled in per cent
    assert "complete" not in section
    assert "Blocked:" in section
    assert "best 58 / 60" in section
    # What is missing, in words.
    assert "7.5 more ECTS credits in total" in section
    assert (
        "Pass the Certificate examination (failed: best score 58, pass mark 60; all 3 attempts used"
    ) in section
    # The examination has no bar to fill: only the credits do.
    assert section.count("<progress") == 5


def test_the_candidate_sees_a_failed_examination_as_blocked_not_nearly_done(
    client, failed_candidate
):
    failed_candidate("41", "55", "58")
    log_in(client, "failed@example.org")
    section = award_section(page_text(client.get("/me/")))
    assert_blocked_award_is_shown_as_such(section)
    # The candidate is told whom to ask; nothing about limits they cannot change.
    assert "No attempts left: contact the programme office" in section
    assert "all 3 attempts used, contact the programme office)" in section
    assert "Contact the programme office" in section
    assert "attempt limit" not in section and "withdrawn" not in section


def test_the_office_sees_the_same_count_and_what_it_can_do(client, make_admin, failed_candidate):
    candidate_id = failed_candidate("41", "55", "58")
    make_admin("office@efrs.example")
    log_in(client, "office@efrs.example")
    section = award_section(page_text(client.get(f"/admin/candidates/{candidate_id}")))
    assert_blocked_award_is_shown_as_such(section)
    # The reader is the programme office: not told to contact itself, but what it can do.
    assert "programme office" not in section.lower()
    assert "No attempts left" in section
    assert "all 3 attempts used)" in section
    note = re.sub(r"<[^>]+>", "", re.search(r'class="req-blocked-note".*?</p>', section).group(0))
    assert (
        "Blocked: no attempts left at CERT-EXAM Certificate examination (all 3 used). A further"
        " attempt needs the assessment’s attempt limit raised, or an attempt withdrawn if it"
        " was recorded in error."
    ) in note
    assert 'href="/admin/assessments/CERT-EXAM/edit"' in section


def test_a_failed_attempt_with_attempts_left_says_how_many(client, failed_candidate):
    failed_candidate("41")
    log_in(client, "failed@example.org")
    section = award_section(page_text(client.get("/me/")))
    assert "4 of 6 requirements met" in section
    assert "Failed — 2 of 3 attempts left" in section
    assert "(failed: best score 41, pass mark 60; 2 of 3 attempts left)" in section
    assert "Blocked:" not in section and "No attempts left" not in section


def test_the_api_counts_requirements_met_and_says_what_is_blocked(api, failed_candidate):
    candidate_id = failed_candidate("41", "55", "58")
    [award] = api.get(f"/candidates/{candidate_id}/progress").get_json()["programmes"]
    assert (award["requirements_met"], award["requirements_total"]) == (4, 6)
    assert award["eligible"] is False and award["blocked"] is True
    *credit_rules, exam = award["requirements"]
    assert exam["description"] == "Pass the Certificate examination (pass mark 60)"
    assert (exam["achieved"], exam["met"]) == (58, False)
    assert (exam["attempts_used"], exam["attempts_left"], exam["blocked"]) == (3, 0, True)
    for rule in credit_rules:
        assert (rule["attempts_used"], rule["attempts_left"], rule["blocked"]) == (
            None,
            None,
            False,
        )
    assert [r["met"] for r in credit_rules] == [False, True, True, True, True]


def test_the_api_documents_the_count_and_no_percentage(api):
    schemas = api.get("/openapi.json").get_json()["components"]["schemas"]
    programme = schemas["ProgrammeProgress"]
    assert {"requirements_met", "requirements_total", "blocked"} <= set(programme["properties"])
    assert "there is no percentage" in " ".join(programme["description"].split())
    assert not [name for name in programme["properties"] if "percent" in name]
