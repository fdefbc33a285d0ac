"""The administrators' pages, as an administrator (or an intruder) would use them."""

from __future__ import annotations

import datetime as dt
import html
import re

import jinja2
import pytest

from certification.auth.services import get_user_by_email
from tests.conftest import PASSWORD, log_in, totp_code


class _CompiledTemplates(jinja2.BytecodeCache):
    """Templates compiled once for the whole file, not once per test's fresh app."""

    def __init__(self) -> None:
        self.compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        if (code := self.compiled.get(bucket.key)) is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self.compiled[bucket.key] = bucket.bytecode_to_string()


_compiled_templates = _CompiledTemplates()


@pytest.fixture(autouse=True)
def _share_compiled_templates(app):
    app.jinja_env.bytecode_cache = _compiled_templates


@pytest.fixture
def admin(client, make_admin):
    """A client logged in as an administrator."""
    make_admin("office@efrs.example", "EFRS Programme Office")
    log_in(client, "office@efrs.example")
    return client


def page_text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def input_value(response, name: str) -> str | None:
    """The value an <input> shows (what the user typed, when a form comes back), or the
    option a <select> has selected."""
    select = re.search(
        rf'<select[^>]*\bname="{re.escape(name)}"[^>]*>(.*?)</select>',
        response.get_data(as_text=True),
        re.S,
    )
    if select is not None:
        chosen = re.search(r"<option[^>]*\bselected[^>]*>", select.group(1))
        value = re.search(r'\bvalue="([^"]*)"', chosen.group(0)) if chosen else None
        return html.unescape(value.group(1)) if value else ""
    found = re.search(
        rf'<input[^>]*\bname="{re.escape(name)}"[^>]*>', response.get_data(as_text=True)
    )
    if found is None:
        return None
    value = re.search(r'\bvalue="([^"]*)"', found.group(0))
    return html.unescape(value.group(1)) if value else ""


def field_error(response, field_id: str) -> str:
    """The message shown next to a field (``<p class="error" id="<field>-error">``)."""
    found = re.search(
        rf'<p class="error" id="{re.escape(field_id)}-error">(.*?)</p>',
        response.get_data(as_text=True),
        re.S,
    )
    assert found, f"no error message next to {field_id}"
    return html.unescape(found.group(1))


def assert_comes_back(response, field: str, message: str, **typed: str) -> None:
    """The form came back (422) with ``message`` next to ``field`` and what was typed in
    the boxes named in ``typed``."""
    assert response.status_code == 422
    assert message in field_error(response, field)
    for name, value in typed.items():
        assert input_value(response, name) == value


def candidate_id(app, email: str) -> int:
    with app.app_context():
        return get_user_by_email(email).id


# ---------------------------------------------------------------- who may come in

ADMIN_PAGES = [
    ("get", "/admin/"),
    ("get", "/admin/candidates"),
    ("get", "/admin/candidates/new"),
    ("get", "/admin/candidates/{id}"),
    ("get", "/admin/candidates/{id}/edit"),
    ("post", "/admin/candidates/{id}/credits"),
    ("post", "/admin/candidates/{id}/results"),
    ("post", "/admin/candidates/{id}/credits/1/withdraw"),
    ("post", "/admin/candidates/{id}/results/1/withdraw"),
    ("post", "/admin/candidates/{id}/password-link"),
    ("get", "/admin/programmes"),
    ("get", "/admin/programmes/new"),
    ("get", "/admin/programmes/EII-C/edit"),
    ("get", "/admin/courses"),
    ("get", "/admin/courses/new"),
    ("get", "/admin/courses/EII-101/edit"),
    ("post", "/admin/courses/EII-101/delete"),
    ("get", "/admin/assessments"),
    ("get", "/admin/assessments/new"),
    ("get", "/admin/assessments/CERT-EXAM/edit"),
    ("post", "/admin/assessments/CERT-EXAM/delete"),
]


@pytest.fixture
def catalogue(make_course, make_assessment, make_programme):
    make_course("EII-101", credits="5")
    make_assessment("CERT-EXAM", max_attempts=3)
    make_programme("EII-C", min_total_credits="10")


def test_candidates_get_404_on_every_admin_page(app, client, make_candidate, catalogue):
    make_candidate(email="me@example.org")
    client.post("/login", data={"email": "me@example.org", "password": PASSWORD})
    own_id = candidate_id(app, "me@example.org")
    for method, url in ADMIN_PAGES:
        response = getattr(client, method)(url.format(id=own_id))
        assert response.status_code == 404, url


def test_anonymous_visitors_are_sent_to_login(client, catalogue):
    for method, url in ADMIN_PAGES:
        response = getattr(client, method)(url.format(id=1))
        assert response.status_code == 302, url
        assert response.headers["Location"].startswith("/login"), url


def test_admin_home_is_the_candidate_list(admin):
    response = admin.get("/admin/")
    assert response.headers["Location"] == "/admin/candidates"


@pytest.mark.parametrize(
    "url",
    [
        "/admin/candidates/999",
        "/admin/candidates/999/edit",
        "/admin/courses/NOPE/edit",
        "/admin/programmes/NOPE/edit",
        "/admin/assessments/NOPE/edit",
    ],
)
def test_unknown_ids_and_codes_are_not_found(admin, url):
    assert admin.get(url).status_code == 404


def test_odd_input_in_urls_is_refused_not_a_crash(app, admin, make_candidate):
    make_candidate("Ana Novak", email="ana@example.si")
    cid = candidate_id(app, "ana@example.si")
    assert admin.get("/admin/candidates/99999999999").status_code == 404
    assert admin.post(f"/admin/candidates/{cid}/credits/99999999999/withdraw").status_code == 404
    assert admin.get("/admin/courses/%00/edit").status_code == 404
    response = admin.get("/admin/candidates?q=%00")
    assert response.status_code == 422
    assert "Remove control characters" in field_error(response, "q")


def test_an_administrators_id_is_not_a_candidate(app, admin):
    admin_id = candidate_id(app, "office@efrs.example")
    assert admin.get(f"/admin/candidates/{admin_id}").status_code == 404
    assert admin.post(f"/admin/candidates/{admin_id}/password-link").status_code == 404


def test_every_post_form_carries_a_csrf_token_and_posts_without_one_fail(
    app, admin, make_candidate, catalogue
):
    make_candidate(email="c@example.org")
    cid = candidate_id(app, "c@example.org")
    admin.post(
        f"/admin/candidates/{cid}/credits",
        data={"course": "EII-101", "completed_on": "2024-01-10"},
    )
    app.config["WTF_CSRF_ENABLED"] = True
    for url in (
        f"/admin/candidates/{cid}",
        "/admin/candidates/new",
        "/admin/courses/EII-101/edit",
        "/admin/assessments/CERT-EXAM/edit",
        "/admin/programmes/EII-C/edit",
    ):
        page = admin.get(url).get_data(as_text=True)
        forms = re.findall(r'<form method="post".*?</form>', page, re.S)
        assert forms, url
        for form in forms:
            assert 'name="csrf_token"' in form, (url, form[:120])
    refused = admin.post(f"/admin/candidates/{cid}/password-link")
    assert refused.status_code == 400


# ---------------------------------------------------------------- candidates


def test_search_ignores_accents_and_special_letters(admin, make_candidate):
    make_candidate("Łukasz Wiśniewski", email="lw@example.pl")
    make_candidate("Jón Þórðarson", email="jon@example.is", country="IS")
    page = page_text(admin.get("/admin/candidates?q=lukasz"))
    assert "Łukasz Wiśniewski" in page
    assert "Jón Þórðarson" not in page
    by_email = page_text(admin.get("/admin/candidates?q=example.is"))
    assert "Jón Þórðarson" in by_email
    assert "Łukasz Wiśniewski" not in by_email


def test_eligible_for_filter_lists_only_eligible_candidates(
    app, admin, make_candidate, make_course, make_programme, today
):
    make_course("EII-101", credits="5")
    make_course("EII-102", credits="5")
    make_programme("EII-C", min_total_credits="10")
    make_candidate("Ready Candidate", email="ready@example.org")
    make_candidate("Halfway Candidate", email="half@example.org")
    ready, half = candidate_id(app, "ready@example.org"), candidate_id(app, "half@example.org")
    day = (today - dt.timedelta(days=30)).isoformat()
    for cid, courses in ((ready, ["EII-101", "EII-102"]), (half, ["EII-101"])):
        for course in courses:
            response = admin.post(
                f"/admin/candidates/{cid}/credits", data={"course": course, "completed_on": day}
            )
            assert response.status_code in (302, 303)

    everyone = page_text(admin.get("/admin/candidates"))
    assert "Ready Candidate" in everyone
    assert "Halfway Candidate" in everyone
    eligible = page_text(admin.get("/admin/candidates?eligible_for=EII-C"))
    assert "Ready Candidate" in eligible
    assert "Halfway Candidate" not in eligible
    unknown = admin.get("/admin/candidates?eligible_for=NOPE")
    assert unknown.status_code == 422
    assert "There is no programme" in field_error(unknown, "eligible_for")


def test_candidate_list_is_paginated_and_keeps_the_search(admin, make_candidate):
    for n in range(51):
        make_candidate(f"Person {n:02d}", email=f"p{n:02d}@example.org", password=None)
    first = page_text(admin.get("/admin/candidates?q=person"))
    assert "Person 49" in first
    assert "Person 50" not in first
    assert "Page 1 of 2" in first
    assert "/admin/candidates?page=2&q=person" in first
    second = page_text(admin.get("/admin/candidates?page=2&q=person"))
    assert "Person 50" in second


@pytest.mark.parametrize(
    "name",
    ["Αικατερίνη Παπαδοπούλου", "Димитър Петров", "Jón Þórðarson", "Nguyễn Thị Mai"],
)
def test_names_in_any_script_show_exactly(admin, name):
    response = admin.post(
        "/admin/candidates/new",
        data={"email": "someone@example.eu", "full_name": name, "country": "GR"},
        follow_redirects=True,
    )
    assert response.status_code == 200
    page = page_text(response)
    assert f"<h1>{name}</h1>" in page
    assert name in page_text(admin.get("/admin/candidates"))


def test_names_with_markup_are_escaped(app, admin, make_candidate):
    make_candidate("<script>alert(1)</script>", email="x@example.org")
    cid = candidate_id(app, "x@example.org")
    for url in ("/admin/candidates", f"/admin/candidates/{cid}", f"/admin/candidates/{cid}/edit"):
        body = admin.get(url).get_data(as_text=True)
        assert "<script>alert(1)</script>" not in body, url
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body, url


def test_new_candidate_gets_a_set_password_link_shown_once(app, admin):
    response = admin.post(
        "/admin/candidates/new",
        data={"email": "New@Example.org", "full_name": "Siobhán O'Brien", "country": "IE"},
    )
    assert response.status_code == 303
    detail_url = response.headers["Location"]
    first = page_text(admin.get(detail_url))
    assert "Siobhán O'Brien is registered." in first
    assert "Ireland" in first
    link = re.search(r"http://localhost/set-password/[\w-]+", first)
    assert link, "the link is shown after registering"
    assert "/set-password/" not in page_text(admin.get(detail_url))  # only once
    admin.post("/logout")
    assert admin.get(link.group(0)).status_code == 200  # and it works


def test_a_new_link_replaces_the_old_one(admin, app, make_candidate):
    make_candidate(email="c@example.org", password=None)
    cid = candidate_id(app, "c@example.org")
    links = []
    for _ in range(2):
        page = page_text(
            admin.post(f"/admin/candidates/{cid}/password-link", follow_redirects=True)
        )
        links.append(re.search(r"http://localhost(/set-password/[\w-]+)", page).group(1))
    admin.post("/logout")
    assert admin.get(links[0]).status_code == 404
    assert admin.get(links[1]).status_code == 200


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"email": "not-an-email"}, "email", "@-sign"),
        ({"email": "taken@example.org"}, "email", "Already registered."),
        ({"full_name": ""}, "full_name", "This field is required."),
    ],
)
def test_bad_candidate_details_come_back_with_the_message(
    admin, make_candidate, data, field, message
):
    make_candidate(email="taken@example.org")
    typed = {"email": "new@example.org", "full_name": "Ana Novak", "country": "SI", **data}
    response = admin.post("/admin/candidates/new", data=typed)
    assert_comes_back(response, field, message, email=typed["email"], full_name=typed["full_name"])
    assert '<option selected value="SI">' in response.get_data(as_text=True)


def test_editing_a_candidate(app, admin, make_candidate):
    make_candidate("Ana Novak", email="ana@example.si", country="SI")
    cid = candidate_id(app, "ana@example.si")
    form = admin.get(f"/admin/candidates/{cid}/edit")
    assert input_value(form, "full_name") == "Ana Novak"
    response = admin.post(
        f"/admin/candidates/{cid}/edit",
        data={"email": "ana@example.si", "full_name": "Ana Novak Kranjc", "country": ""},
        follow_redirects=True,
    )
    page = page_text(response)
    assert "<h1>Ana Novak Kranjc</h1>" in page
    assert "Country not given" in page


# ---------------------------------------------------------------- credits and results


@pytest.fixture
def candidate(app, make_candidate, catalogue):
    make_candidate("Łukasz Wiśniewski", email="lukasz@example.pl")
    return candidate_id(app, "lukasz@example.pl")


def test_recording_a_credit_moves_the_progress(admin, candidate, today):
    before = page_text(admin.get(f"/admin/candidates/{candidate}"))
    assert "0 / 10 ECTS" in before
    assert '<option value="EII-101"' in before
    response = admin.post(
        f"/admin/candidates/{candidate}/credits",
        data={"course": "EII-101", "completed_on": (today - dt.timedelta(days=3)).isoformat()},
        follow_redirects=True,
    )
    page = page_text(response)
    assert "Recorded EII-101 (5 ECTS) for Łukasz Wiśniewski." in page
    assert "5 / 10 ECTS" in page
    assert "5 more ECTS credits in total" in page
    # A course counts once: the form no longer offers the one just recorded.
    offered = re.findall(r'<option value="([^"]*)"', response.get_data(as_text=True))
    assert "EII-101" not in offered and "CERT-EXAM" in offered  # the results form still is


@pytest.mark.parametrize(
    ("course", "completed_on", "field", "message"),
    [
        ("EII-101", "future", "completed_on", "cannot be in the future"),
        ("EII-101", "1989-12-31", "completed_on", "too far in the past"),
        ("EII-101", "31.12.2023", "completed_on", "YYYY-MM-DD"),
        ("EII-101", "", "completed_on", "This field is required."),
        ("", "2024-03-01", "course", "This field is required."),
        ("NOPE-1", "2024-03-01", "course", "There is no course with the code 'NOPE-1'."),
        ("EII-101", "duplicate", "course", "Already recorded for this candidate."),
    ],
)
def test_bad_credits_come_back_with_the_message(
    admin, candidate, today, course, completed_on, field, message
):
    if completed_on == "future":
        completed_on = (today + dt.timedelta(days=1)).isoformat()
    if completed_on == "duplicate":
        completed_on = "2024-03-01"
        admin.post(
            f"/admin/candidates/{candidate}/credits",
            data={"course": course, "completed_on": "2024-01-15"},
        )
    response = admin.post(
        f"/admin/candidates/{candidate}/credits",
        data={"course": course, "completed_on": completed_on},
    )
    assert_comes_back(response, field, message, completed_on=completed_on)
    assert "<h1>Łukasz Wiśniewski</h1>" in page_text(response)  # the same page, progress and all
    if course == "EII-101":
        assert '<option selected value="EII-101">' in response.get_data(as_text=True)


def test_withdrawing_a_credit(admin, candidate, today):
    admin.post(
        f"/admin/candidates/{candidate}/credits",
        data={"course": "EII-101", "completed_on": today.isoformat()},
    )
    page = admin.get(f"/admin/candidates/{candidate}").get_data(as_text=True)
    assert "5 / 10 ECTS" in page_text(admin.get(f"/admin/candidates/{candidate}"))
    record_id = re.search(r"/credits/(\d+)/withdraw", page).group(1)
    response = admin.post(
        f"/admin/candidates/{candidate}/credits/{record_id}/withdraw",
        data={"reason": "Recorded against the wrong candidate"},
        follow_redirects=True,
    )
    page = page_text(response)
    assert "Withdrew the credit for EII-101" in page
    assert "0 / 10 ECTS" in page
    assert "Reason: Recorded against the wrong candidate" in page
    again = admin.post(
        f"/admin/candidates/{candidate}/credits/{record_id}/withdraw", data={"reason": "Twice"}
    )
    assert again.status_code == 422
    assert "withdrawn already" in page_text(again)


def test_a_fourth_attempt_is_refused_when_three_are_allowed(admin, candidate, today):
    for score in ("41", "52,5", "58"):
        response = admin.post(
            f"/admin/candidates/{candidate}/results",
            data={"assessment": "CERT-EXAM", "score": score, "taken_on": today.isoformat()},
        )
        assert response.status_code == 303
    response = admin.post(
        f"/admin/candidates/{candidate}/results",
        data={"assessment": "CERT-EXAM", "score": "75", "taken_on": today.isoformat()},
    )
    assert response.status_code == 422
    page = page_text(response)
    assert "has used all 3 attempts at Certificate examination" in page
    assert field_error(response, "assessment") == "No attempts left."
    assert input_value(response, "score") == "75"
    assert "3 of 3" in page
    assert "52.5 / 100" in page  # the decimal comma was read as a decimal point


@pytest.mark.parametrize(
    ("score", "message"),
    [
        ("abc", "Enter a number"),
        ("101", "The maximum score is 100."),
        ("-1", "Must not be negative."),
        ("60.123", "At most two decimal places."),
        ("1.000,5", "Enter a number"),
    ],
)
def test_bad_scores_come_back_with_the_message(admin, candidate, today, score, message):
    response = admin.post(
        f"/admin/candidates/{candidate}/results",
        data={"assessment": "CERT-EXAM", "score": score, "taken_on": today.isoformat()},
    )
    assert_comes_back(response, "score", message, score=score, taken_on=today.isoformat())


# ---------------------------------------------------------------- courses


def test_a_course_created_through_the_form_is_listed(admin, make_provider):
    make_provider("EuSoMII")
    response = admin.post(
        "/admin/courses/new",
        data={
            "code": "eus-ai301",
            "title": "Federated learning in radiology",
            "credits": "2,5",
            "domain": "AI & Data Science",
            "provider": "EuSoMII",
        },
    )
    assert response.status_code == 303
    listing = page_text(admin.get(response.headers["Location"]))
    assert "Course EUS-AI301 is created." in listing
    assert "Federated learning in radiology" in listing
    assert '<td data-label="ECTS" class="num">2.5</td>' in listing


def test_the_domain_field_suggests_existing_domains(admin, make_course):
    make_course("EII-101", domain="Enterprise Imaging & Workflow")
    page = admin.get("/admin/courses/new").get_data(as_text=True)
    assert 'list="domain-suggestions"' in page
    assert '<option value="Enterprise Imaging &amp; Workflow">' in page


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"credits": "abc"}, "credits", "Enter a number"),
        ({"credits": "0.3"}, "credits", "ECTS credits come in multiples of 0.5."),
        ({"credits": "0"}, "credits", "Must be more than 0."),
        ({"credits": ""}, "credits", "This field is required."),
        ({"code": "EII-101"}, "code", "Already in use."),
        ({"code": "two words"}, "code", "Use 1 to 20 letters"),
        ({"title": "x" * 201}, "title", "At most 200 characters."),
    ],
)
def test_bad_courses_come_back_with_the_message(
    admin, make_course, make_provider, changes, field, message
):
    make_course("EII-101")
    make_provider("EFRS")
    typed = {
        "code": "EII-202",
        "title": "Cloud PACS",
        "credits": "5",
        "domain": "Enterprise Imaging & Workflow",
        "provider": "EFRS",
        **changes,
    }
    response = admin.post("/admin/courses/new", data=typed)
    assert_comes_back(response, field, message, **typed)
    assert "EII-202" not in page_text(admin.get("/admin/courses"))


def test_editing_a_course(admin, make_course):
    make_course("EII-101", title="Old title")
    form = admin.get("/admin/courses/EII-101/edit")
    assert input_value(form, "credits") == "5"
    response = admin.post(
        "/admin/courses/EII-101/edit",
        data={
            "code": "EII-101",
            "title": "New title",
            "credits": "5",
            "domain": "AI & Data Science",
            "provider": "EuSoMII",
        },
        follow_redirects=True,
    )
    assert "New title" in page_text(response)


def test_a_course_with_credits_cannot_change_its_credits(admin, candidate, today):
    admin.post(
        f"/admin/candidates/{candidate}/credits",
        data={"course": "EII-101", "completed_on": today.isoformat()},
    )
    response = admin.post(
        "/admin/courses/EII-101/edit",
        data={
            "code": "EII-101",
            "title": "Foundations",
            "credits": "7,5",
            "domain": "AI & Data Science",
            "provider": "EuSoMII",
        },
    )
    assert response.status_code == 422
    assert field_error(response, "credits") == "Fixed once recorded."
    assert "1 credit records use this course" in page_text(response)
    assert input_value(response, "credits") == "7,5"


def test_deleting_a_course_with_credits_is_refused(admin, candidate, today):
    admin.post(
        f"/admin/candidates/{candidate}/credits",
        data={"course": "EII-101", "completed_on": today.isoformat()},
    )
    response = admin.post("/admin/courses/EII-101/delete")
    assert response.status_code == 422
    assert "EII-101 cannot be deleted: 1 candidates have credits for it." in page_text(response)
    assert "EII-101" in page_text(admin.get("/admin/courses"))


def test_deleting_an_unused_course(admin, make_course):
    make_course("EII-999", title="Never taught")
    response = admin.post("/admin/courses/EII-999/delete", follow_redirects=True)
    page = page_text(response)
    assert "Course EII-999 is deleted." in page
    assert "Never taught" not in page


# ---------------------------------------------------------------- assessments


def test_assessments_are_created_edited_and_deleted(admin):
    response = admin.post(
        "/admin/assessments/new",
        data={
            "code": "DIPL-PROJ",
            "title": "Capstone project",
            "pass_mark": "50",
            "max_score": "100",
            "max_attempts": "2",
        },
        follow_redirects=True,
    )
    assert "Capstone project" in page_text(response)
    form = admin.get("/admin/assessments/DIPL-PROJ/edit")
    assert input_value(form, "pass_mark") == "50"
    admin.post(
        "/admin/assessments/DIPL-PROJ/edit",
        data={
            "code": "DIPL-PROJ",
            "title": "Capstone project",
            "pass_mark": "55,5",
            "max_score": "100",
            "max_attempts": "2",
        },
    )
    assert "55.5" in page_text(admin.get("/admin/assessments"))
    deleted = admin.post("/admin/assessments/DIPL-PROJ/delete", follow_redirects=True)
    assert "Assessment DIPL-PROJ is deleted." in page_text(deleted)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"pass_mark": "abc"}, "pass_mark", "Enter a number"),
        ({"pass_mark": "120"}, "pass_mark", "cannot be above the maximum score"),
        ({"max_attempts": "three"}, "max_attempts", "Enter a whole number"),
        ({"max_attempts": "0"}, "max_attempts", "from 1 to 20"),
        ({"code": "CERT-EXAM"}, "code", "Already in use."),
    ],
)
def test_bad_assessments_come_back_with_the_message(
    admin, make_assessment, changes, field, message
):
    make_assessment("CERT-EXAM")
    typed = {
        "code": "DIPL-EXAM",
        "title": "Diploma examination",
        "pass_mark": "65",
        "max_score": "100",
        "max_attempts": "3",
        **changes,
    }
    response = admin.post("/admin/assessments/new", data=typed)
    assert_comes_back(response, field, message, **typed)


def test_deleting_a_required_assessment_is_refused(admin, make_assessment, make_programme):
    make_assessment("CERT-EXAM")
    make_programme("EII-C", required_assessments=("CERT-EXAM",))
    response = admin.post("/admin/assessments/CERT-EXAM/delete")
    assert response.status_code == 422
    assert "programme EII-C requires it" in page_text(response)
    assert "CERT-EXAM" in page_text(admin.get("/admin/assessments"))


# ---------------------------------------------------------------- programmes

PROGRAMME = {
    "code": "EII-D",
    "title": "European Diploma in Imaging Informatics",
    "level": "diploma",
    "eqf_level": "7",
    "min_total_credits": "50",
    "domain_minimums": "AI & Data Science: 10\r\nInformation Security & Data Protection: 7,5",
    "required_assessments": ["CERT-EXAM"],
    "prerequisite": "EII-C",
    "validity_months": "60",
    "credit_window_months": "",
}


def test_a_programme_created_through_the_form_is_listed_with_its_rules(admin, catalogue):
    response = admin.post("/admin/programmes/new", data=PROGRAMME, follow_redirects=True)
    page = page_text(response)
    assert "Programme EII-D is created." in page
    assert "European Diploma in Imaging Informatics" in page
    assert "7.5 ECTS in Information Security & Data Protection" in page
    assert "Requires EII-D" not in page
    assert re.search(r"Requires <span class=\"code\">EII-C</span>", page)
    edit = admin.get("/admin/programmes/EII-D/edit")
    body = page_text(edit)
    assert "AI & Data Science: 10\nInformation Security & Data Protection: 7.5" in body
    assert re.search(r'<input checked[^>]*value="CERT-EXAM"', body)
    # A programme is not offered as its own prerequisite.
    assert '<option value="EII-D">' not in body
    assert '<option selected value="EII-C">' in body


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"domain_minimums": "AI & Data Science: 5\nSecurity 5"},
            "domain_minimums",
            "Line 2: write it as",
        ),
        ({"domain_minimums": "AI: five"}, "domain_minimums", "Line 1: after the colon"),
        ({"domain_minimums": "AI: 5\nAI: 2"}, "domain_minimums", "Line 2: AI is listed twice."),
        ({"domain_minimums": "AI: 0.3"}, "domain_minimums", "multiples of 0.5"),
        ({"domain_minimums": "AI: 60"}, "domain_minimums", "add up to more than the total"),
        ({"eqf_level": "9"}, "eqf_level", "from 1 to 8"),
        ({"min_total_credits": "abc"}, "min_total_credits", "Enter a number"),
        ({"prerequisite": "NOPE"}, "prerequisite", "There is no programme 'NOPE'."),
        ({"required_assessments": ["NOPE"]}, "required_assessments", "no assessment 'NOPE'"),
        ({"code": "EII-C"}, "code", "Already in use."),
    ],
)
def test_bad_programmes_come_back_with_the_message(admin, catalogue, changes, field, message):
    typed = {**PROGRAMME, **changes}
    response = admin.post("/admin/programmes/new", data=typed)
    assert_comes_back(response, field, message, code=typed["code"], eqf_level=typed["eqf_level"])
    textarea = re.search(
        r'<textarea[^>]*name="domain_minimums"[^>]*>(.*?)</textarea>',
        response.get_data(as_text=True),
        re.S,
    )
    assert html.unescape(textarea.group(1)).strip() == typed["domain_minimums"].strip()


def test_a_programme_cannot_require_itself(admin, catalogue):
    admin.post("/admin/programmes/new", data=PROGRAMME)
    response = admin.post("/admin/programmes/EII-C/edit", data={**PROGRAMME, "code": "EII-C"})
    assert response.status_code == 422
    assert "cannot require itself" in field_error(response, "prerequisite")


def test_editing_a_programme_keeps_what_is_not_changed(admin, catalogue):
    admin.post("/admin/programmes/new", data=PROGRAMME)
    response = admin.post(
        "/admin/programmes/EII-D/edit",
        data={**PROGRAMME, "min_total_credits": "60", "required_assessments": []},
        follow_redirects=True,
    )
    page = page_text(response)
    assert "Programme EII-D is saved." in page
    assert '<td data-label="ECTS total" class="num">60</td>' in page
    assert "Pass CERT-EXAM" not in page.replace('<span class="code">', "").replace("</span>", "")


def test_the_office_is_warned_when_it_works_at_another_address_than_the_certificates_name(
    app, client, auth, make_admin, make_candidate
):
    """Each certificate signs PUBLIC_BASE_URL into its QR code for good: an office that
    opened the app at another address (a dev port, a host name) is told, naming both."""
    admin = make_admin()
    auth.login(admin.email)
    elsewhere = client.get("/admin/candidates").get_data(as_text=True)
    assert 'id="public-address-warning"' in elsewhere
    assert "opened at <strong>http://localhost</strong>" in elsewhere
    assert "link to <strong>https://certificates.example.org</strong>" in elsewhere

    here = app.test_client()  # at the address the certificates name
    at = {"base_url": "https://certificates.example.org"}
    here.post("/login", data={"email": admin.email, "password": PASSWORD}, **at)
    here.post("/login/code", data={"code": totp_code(app, admin.email)}, **at)
    page = here.get("/admin/candidates", **at)
    assert page.status_code == 200
    assert 'id="public-address-warning"' not in page.get_data(as_text=True)

    # Only the office is told: candidates and verifiers have nothing to set.
    candidate = make_candidate(email="holder@example.org")
    other = app.test_client()
    assert 'id="public-address-warning"' not in other.get("/verify").get_data(as_text=True)
    other.post("/login", data={"email": candidate.email, "password": PASSWORD})
    assert 'id="public-address-warning"' not in other.get("/me/").get_data(as_text=True)
