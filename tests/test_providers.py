"""Course providers in the catalogue: the office keeps them, officers read them, courses
name one (or none), and the migration turns the old provider text into providers."""

from __future__ import annotations

import datetime as dt
import html

import pytest
import sqlalchemy as sa

from certification.extensions import db
from tests.conftest import log_in
from tests.test_cli import empty_app  # noqa: F401 - the fixture, on both databases

# The revision before providers, when a course's provider was a line of text.
PROVIDER_AS_TEXT = "e8c1f3a5b7d9"


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


@pytest.fixture
def office(client, make_admin):
    make_admin("office@efrs.example", "EFRS Programme Office")
    log_in(client, "office@efrs.example")
    return client


def test_the_office_creates_a_provider_and_sees_it_listed(office, make_course):
    response = office.post(
        "/admin/providers/new",
        data={
            "name": "  Università di Bologna ",
            "country": "Italy",
            "accredited_from": "2025-09-01",
            "accredited_until": "2028-08-31",
        },
    )
    assert response.status_code == 303
    listing = text(office.get(response.headers["Location"]))
    assert "Provider Università di Bologna is created." in listing
    assert '<td data-label="Country">Italy</td>' in listing  # named, as candidates' countries
    assert "from 1 September 2025 until 31 August 2028" in listing


def test_the_office_edits_a_provider_and_sees_its_courses(office, make_course, make_provider):
    make_course("EII-101", provider="EuSoMII")
    provider_id = make_provider("Scuola di Imaging")
    page = text(office.get(f"/admin/providers/{provider_id}/edit"))
    assert "None yet." in page
    response = office.post(
        f"/admin/providers/{provider_id}/edit",
        data={"name": "Scuola di Imaging, Bologna", "country": "it", "accredited_from": ""},
        follow_redirects=True,
    )
    assert "Provider Scuola di Imaging, Bologna is saved." in text(response)
    assert "start not recorded" in text(response)
    listing = text(office.get("/admin/providers"))
    assert '<span class="code">EII-101</span>' in listing  # EuSoMII delivers it


@pytest.mark.parametrize(
    ("typed", "field", "message"),
    [
        ({"name": ""}, "name", "This field is required."),
        ({"name": "eusomii"}, "name", "Already in use."),
        ({"country": "Atlantis"}, "country", "Not a country we know."),
        (
            {"accredited_from": "2026-01-01", "accredited_until": "2025-12-31"},
            "accredited_until",
            "Must be on or after",
        ),
    ],
)
def test_bad_providers_come_back_with_the_message(office, make_provider, typed, field, message):
    make_provider("EuSoMII")
    data = {"name": "Northern Imaging Academy", "country": "IE", **typed}
    response = office.post("/admin/providers/new", data=data)
    assert response.status_code in (409, 422)
    assert f'id="{field}-error">' in response.get_data(as_text=True)
    assert message in text(response)
    assert 'value="IE"' in response.get_data(as_text=True) or "country" in typed


def test_an_officer_reads_providers_but_cannot_change_them(client, make_officer, make_provider):
    provider_id = make_provider("EuSoMII", "AT", dt.date(2024, 1, 1))
    make_officer("EFRS", "officer@efrs.example")
    log_in(client, "officer@efrs.example")
    listing = client.get("/admin/providers")
    assert listing.status_code == 200
    assert "EuSoMII" in text(listing)
    assert "New provider" not in text(listing)
    assert f"/admin/providers/{provider_id}/edit" not in text(listing)
    assert client.get("/admin/providers/new").status_code == 404
    refused = client.post(f"/admin/providers/{provider_id}/edit", data={"name": "Renamed"})
    assert refused.status_code == 404


def test_a_candidate_does_not_find_the_provider_pages(client, make_candidate, make_provider):
    provider_id = make_provider("EuSoMII")
    make_candidate(email="maria@example.gr", password="a long enough password")
    log_in(client, "maria@example.gr", "a long enough password")
    assert client.get("/admin/providers").status_code == 404
    assert client.get(f"/admin/providers/{provider_id}/edit").status_code == 404


def test_the_course_form_picks_a_provider_or_none(office, make_provider, make_course):
    make_provider("EFRS")
    make_course("EII-101", provider="EuSoMII")
    form = office.get("/admin/courses/EII-101/edit").get_data(as_text=True)
    assert 'id="provider" name="provider"><option value="">No provider</option>' in form
    assert '<option value="">No provider</option>' in form
    assert '<option selected value="EuSoMII">EuSoMII</option>' in form
    course = {"code": "EII-101", "title": "T", "credits": "5", "domain": "AI & Data Science"}
    office.post("/admin/courses/EII-101/edit", data={**course, "provider": "EFRS"})
    assert '<td data-label="Provider">EFRS</td>' in text(office.get("/admin/courses"))
    office.post("/admin/courses/EII-101/edit", data={**course, "provider": ""})
    listing = text(office.get("/admin/courses"))
    assert "EFRS</td>" not in listing and "EuSoMII</td>" not in listing


def test_a_course_form_with_an_unknown_provider_comes_back(office, make_provider):
    make_provider("EFRS")
    course = {"code": "EII-9", "title": "T", "credits": "5", "domain": "AI", "provider": "Nobody"}
    response = office.post("/admin/courses/new", data=course)
    assert response.status_code == 422
    assert "There is no provider named Nobody" in text(response)


def test_the_migration_turns_provider_text_into_providers_and_back(empty_app):  # noqa: F811
    runner = empty_app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade", PROVIDER_AS_TEXT]).exit_code == 0
    with empty_app.app_context(), db.engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO course (code, title, credits, domain, provider) VALUES"
                " ('A-1', 'A', 5, 'AI', 'EuSoMII'), ('A-2', 'B', 5, 'AI', ' eusomii'),"
                " ('A-3', 'C', 5, 'AI', 'Università di Bologna'), ('A-4', 'D', 5, 'AI', '')"
            )
        )

    def providers_now() -> list[tuple[str, str | None]]:
        with empty_app.app_context(), db.engine.connect() as connection:
            return [
                tuple(row)
                for row in connection.execute(
                    sa.text(
                        "SELECT course.code, provider.name FROM course LEFT JOIN provider"
                        " ON provider.id = course.provider_id ORDER BY course.code"
                    )
                )
            ]

    for _ in range(2):  # upgrade, downgrade, upgrade again
        upgraded = runner.invoke(args=["db", "upgrade", "heads"])
        assert upgraded.exit_code == 0, upgraded.output
        assert providers_now() == [
            ("A-1", "EuSoMII"),
            ("A-2", "EuSoMII"),  # the same provider, whatever the case
            ("A-3", "Università di Bologna"),
            ("A-4", None),
        ]
        with empty_app.app_context(), db.engine.connect() as connection:
            rows = connection.execute(
                sa.text("SELECT country, accredited_from, accredited_until FROM provider")
            ).all()
            assert len(rows) == 2 and all(tuple(row) == (None, None, None) for row in rows)
        back = runner.invoke(args=["db", "downgrade", PROVIDER_AS_TEXT])
        assert back.exit_code == 0, back.output
        with empty_app.app_context(), db.engine.connect() as connection:
            texts = connection.execute(
                sa.text("SELECT code, provider FROM course ORDER BY code")
            ).all()
            assert [tuple(row) for row in texts] == [
                ("A-1", "EuSoMII"),
                ("A-2", "EuSoMII"),
                ("A-3", "Università di Bologna"),
                ("A-4", ""),
            ]
