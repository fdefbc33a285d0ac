"""Countries by name as well as by code: in a candidates' import, on its page and in the API."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa

from certification.auth.models import User
from certification.auth.services import get_user_by_email
from certification.extensions import db
from certification.imports.models import ImportKind
from certification.imports.services import ImportRefused, commit_import, preview_import
from certification.validation import country_code
from tests.conftest import assert_error, log_in
from tests.imports import problem_places
from tests.imports.test_admin_imports import text_of

CANDIDATES = ImportKind.CANDIDATES

BY_NAME = [
    ("Germany", "DE"),
    ("Czechia", "CZ"),
    ("Czech Republic", "CZ"),
    ("Türkiye", "TR"),
    ("turkey", "TR"),
    ("DE", "DE"),
    (" pl ", "PL"),
]
COHORT = (
    "email,full_name,country\n"
    + "".join(f"person{i}@example.org,Person {i},{typed}\n" for i, (typed, _) in enumerate(BY_NAME))
).encode()
WITH_ATLANTIS = COHORT + b"atlantis@example.org,Poseidon,Atlantis\n"


def people() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(User))


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("United Kingdom", "GB"),
        ("UK", "GB"),
        ("Great Britain", "GB"),
        ("Netherlands", "NL"),
        ("The Netherlands", "NL"),
        ("HOLLAND", "NL"),
        ("Republic of Moldova", "MD"),
        ("Moldova", "MD"),
        ("North Macedonia", "MK"),
        ("Macedonia", "MK"),
        ("turkiye", "TR"),
        ("  czech   republic ", "CZ"),
        ("Cote d'Ivoire", "CI"),
        ("Kosovo", "XK"),
        ("XK", "XK"),
        ("Russia", "RU"),
        ("is", "IS"),
    ],
)
def test_a_country_is_found_by_its_code_or_any_common_english_name(typed, code):
    assert country_code(typed) == code


@pytest.mark.parametrize("typed", ["Atlantis", "XX", "Deutschland", "", "Germanyland", "G"])
def test_what_is_not_a_country_is_not_found(typed):
    assert country_code(typed) is None


def test_names_and_codes_import_as_codes(ctx, today):
    report = commit_import(CANDIDATES, COHORT, actor=None, today=today)
    assert report.counts == f"0 already recorded, {len(BY_NAME)} new"
    db.session.commit()
    db.session.expunge_all()
    stored = [get_user_by_email(f"person{i}@example.org").country for i in range(len(BY_NAME))]
    assert stored == [code for _, code in BY_NAME]
    # The same people again, now written as codes: already recorded, not different people.
    again = "email,full_name,country\n" + "".join(
        f"person{i}@example.org,Person {i},{code}\n" for i, (_, code) in enumerate(BY_NAME)
    )
    report = preview_import(CANDIDATES, again.encode(), today=today)
    assert (report.ok, report.new, report.already_recorded) == (True, 0, len(BY_NAME))


def test_an_unknown_country_refuses_its_row_and_nothing_is_imported(ctx, today):
    before = people()
    report = preview_import(CANDIDATES, WITH_ATLANTIS, today=today)
    assert problem_places(report) == [(len(BY_NAME) + 2, "country")]
    assert report.problems[0].message == (
        "“Atlantis” is not a country we know. Write its English name or its two-letter ISO"
        " code, e.g. Germany or DE."
    )
    with pytest.raises(ImportRefused):
        commit_import(CANDIDATES, WITH_ATLANTIS, actor=None, today=today)
    db.session.commit()
    assert people() == before
    assert get_user_by_email("person0@example.org") is None


def test_the_import_page_says_names_are_accepted_and_shows_the_refused_name(
    client, make_admin, app
):
    make_admin("office@efrs.example")
    log_in(client, "office@efrs.example")
    page = text_of(client.get("/admin/imports"))
    assert "A country as its two-letter ISO code or its English name, e.g. DE or Germany" in page

    response = client.post(
        "/admin/imports",
        data={"kind": "candidates", "file": (io.BytesIO(WITH_ATLANTIS), "cohort.csv")},
    )
    preview = text_of(client.get(response.headers["Location"]))
    assert "1 problem: nothing from this file can be imported" in preview
    assert "“Atlantis” is not a country we know." in preview
    assert "/commit" not in preview
    refused = client.post(response.headers["Location"] + "/commit", follow_redirects=True)
    assert refused.status_code in (200, 422)
    with app.app_context():
        assert get_user_by_email("person0@example.org") is None


def test_the_api_takes_a_name_and_answers_the_code(api):
    body = {"email": "jana@example.cz", "full_name": "Jana Nováková", "country": "Czech Republic"}
    response = api.post("/candidates", body)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["country"] == "CZ"


def test_the_api_refuses_an_unknown_country_naming_the_field(api):
    body = {"email": "poseidon@example.org", "full_name": "Poseidon", "country": "Atlantis"}
    error = assert_error(api.post("/candidates", body), 422, "invalid", {"country"})
    assert "Atlantis" in error["fields"]["country"]
