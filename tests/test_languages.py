"""Which language a page is in, and how a reader changes it: the saved choice of a logged-in
user, then the language menu's (``?lang=``, kept in a cookie), then the browser's
``Accept-Language``, then English. The API follows ``Accept-Language`` alone.

Most of these tests offer English, German and Greek alone, so that what they show does not
depend on which other catalogues are complete.
"""

from __future__ import annotations

import re

import pytest

from certification.extensions import db
from tests.conftest import log_in


@pytest.fixture
def german_offered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("certification.languages.OFFERED_LANGUAGES", ("en", "de", "el"))


def page_language(response) -> str:
    match = re.search(r'<html lang="([^"]+)">', response.get_data(as_text=True))
    assert match, "the page has no <html lang>"
    return match.group(1)


def test_every_page_says_its_language_and_english_is_the_default(client):
    response = client.get("/verify")
    assert page_language(response) == "en"
    assert response.headers["Content-Language"] == "en"
    assert "Accept-Language" in response.headers["Vary"]


@pytest.mark.usefixtures("german_offered")
def test_a_verifier_gets_the_verify_page_in_the_browser_s_language(client):
    german = client.get("/verify", headers={"Accept-Language": "de-AT,de;q=0.9,en;q=0.5"})
    assert page_language(german) == "de"
    assert german.headers["Content-Language"] == "de"
    unknown = client.get("/verify", headers={"Accept-Language": "fi,sv;q=0.8"})
    assert page_language(unknown) == "en"


@pytest.mark.usefixtures("german_offered")
def test_the_language_menu_choice_is_kept_for_the_next_pages(client):
    chosen = client.get("/verify?lang=el", headers={"Accept-Language": "de"})
    assert page_language(chosen) == "el"
    assert "language=el" in chosen.headers["Set-Cookie"]
    assert "HttpOnly" in chosen.headers["Set-Cookie"]
    # The next page, without ?lang, is in the chosen language, not the browser's.
    assert page_language(client.get("/login", headers={"Accept-Language": "de"})) == "el"
    # A language that is not offered changes nothing.
    assert page_language(client.get("/login?lang=fi", headers={"Accept-Language": "de"})) == "el"


@pytest.mark.usefixtures("german_offered")
def test_the_menu_names_each_language_in_itself_and_links_to_this_page(client):
    page = client.get("/verify?code=abc").get_data(as_text=True)
    assert 'lang="de">Deutsch</a>' in page
    assert 'lang="el">Ελληνικά</a>' in page
    assert "/verify?code=abc&amp;lang=de" in page


def test_the_menu_is_left_out_while_english_is_the_only_language(client, monkeypatch):
    monkeypatch.setattr("certification.languages.OFFERED_LANGUAGES", ("en",))
    assert "nav-language" not in client.get("/verify").get_data(as_text=True)


@pytest.mark.usefixtures("german_offered")
def test_a_user_s_saved_language_wins_over_the_menu_and_the_browser(app, client, make_candidate):
    candidate = make_candidate(email="ines@example.org")
    log_in(client, "ines@example.org")
    assert page_language(client.get("/", follow_redirects=True)) == "en"
    saved = client.post("/account/language", data={"language": "de", "next": "/account/security"})
    assert saved.status_code == 303
    assert saved.headers["Location"].endswith("/account/security")
    with app.app_context():
        assert db.session.get(type(candidate), candidate.id).language == "de"
    settings = client.get("/account/security?lang=el", headers={"Accept-Language": "el"})
    assert page_language(settings) == "de"
    assert '<option selected value="de">Deutsch</option>' in settings.get_data(as_text=True)
    # Back to "the language of my browser".
    client.post("/account/language", data={"language": ""})
    assert page_language(client.get("/account/security", headers={"Accept-Language": "el"})) == "el"


@pytest.mark.usefixtures("german_offered")
def test_a_language_that_is_not_offered_is_refused_next_to_the_field(client, make_candidate):
    make_candidate(email="ines@example.org")
    log_in(client, "ines@example.org")
    refused = client.post("/account/language", data={"language": "tlh"})
    assert refused.status_code == 422
    assert "Not a valid choice" in refused.get_data(as_text=True)


@pytest.mark.usefixtures("german_offered")
def test_dates_and_credits_are_written_the_reader_s_way(
    app, client, make_candidate, make_catalogue, today
):
    from certification.auth.services import get_candidate
    from certification.records.services import record_credit
    from tests.conftest import committed

    make_catalogue({"EII-101": ("7.5", "AI & Data Science")}, min_total_credits="10")
    candidate = make_candidate(email="ines@example.org")
    committed(
        app,
        lambda: record_credit(
            get_candidate(candidate.id), "EII-101", today, actor=None, today=today
        ),
    )()
    log_in(client, "ines@example.org")
    german = client.get("/", follow_redirects=True, headers={"Accept-Language": "de"})
    text = german.get_data(as_text=True)
    assert page_language(german) == "de"
    assert "7,5" in text and "7.5" not in text
    month = "Januar|Februar|März|April|Mai|Juni|Juli|August|September|Oktober|November|Dezember"
    assert re.search(rf"\b{today.day}\. ({month}) {today.year}\b", text)
    english = client.get("/", follow_redirects=True, headers={"Accept-Language": "en"})
    assert "7.5" in english.get_data(as_text=True)


@pytest.mark.usefixtures("german_offered")
def test_the_api_follows_accept_language_only(client, api):
    client.set_cookie("language", "el")
    answer = client.get(
        "/api/v1/candidates/999999", headers={**api.headers(), "Accept-Language": "de"}
    )
    assert answer.status_code == 404
    assert answer.headers["Content-Language"] == "de"
    english = client.get("/api/v1/candidates/999999", headers=api.headers())
    assert english.headers["Content-Language"] == "en"


@pytest.mark.usefixtures("german_offered")
def test_the_api_takes_and_gives_a_candidate_s_language(api):
    from tests.conftest import assert_error

    made = api.post(
        "/candidates",
        {"email": "eleni@example.gr", "full_name": "Ελένη Παππά", "language": "el"},
    )
    assert made.status_code == 201
    assert made.get_json()["language"] == "el"
    assert api.get(made.headers["Location"].split("/api/v1", 1)[1]).get_json()["language"] == "el"
    unset = api.post("/candidates", {"email": "jan@example.nl", "full_name": "Jan de Vries"})
    assert unset.get_json()["language"] is None
    refused = api.post(
        "/candidates",
        {"email": "kaisa@example.fi", "full_name": "Kaisa Virtanen", "language": "fi"},
    )
    assert_error(refused, 422, "invalid", {"language"})


def test_a_translated_label_is_text_and_escaped_like_any_other(client, make_officer):
    """Flask-Babel's lazy strings called themselves markup; labels are text."""
    make_officer("EFRS", email="officer@efrs.example")
    log_in(client, "officer@efrs.example")
    page = client.get("/admin/branding").get_data(as_text=True)
    assert "Signatory&#39;s name" in page
    assert "Signatory's name" not in page


@pytest.mark.usefixtures("german_offered")
def test_the_office_records_a_candidate_s_language(app, client, make_admin):
    from certification.auth.services import get_user_by_email

    make_admin("office@example.org")
    log_in(client, "office@example.org")
    form = client.get("/admin/candidates/new").get_data(as_text=True)
    assert '<option selected value="">Not chosen (English)</option>' in form
    assert '<option value="el">Ελληνικά</option>' in form
    registered = client.post(
        "/admin/candidates/new",
        data={
            "email": "eleni@example.gr",
            "full_name": "Ελένη Παππά",
            "country": "GR",
            "language": "el",
        },
    )
    assert registered.status_code == 303
    with app.app_context():
        eleni = get_user_by_email("eleni@example.gr")
        assert eleni.language == "el"
        candidate_id = eleni.id
    edit = client.get(f"/admin/candidates/{candidate_id}/edit").get_data(as_text=True)
    assert '<option selected value="el">Ελληνικά</option>' in edit
    client.post(
        f"/admin/candidates/{candidate_id}/edit",
        data={
            "email": "eleni@example.gr",
            "full_name": "Ελένη Παππά",
            "country": "GR",
            "language": "",
        },
    )
    with app.app_context():
        assert get_user_by_email("eleni@example.gr").language is None


def test_country_names_are_the_reader_s(app, client, make_admin, monkeypatch):
    monkeypatch.setattr("certification.languages.OFFERED_LANGUAGES", ("en", "pl"))
    make_admin("office@example.org")
    log_in(client, "office@example.org")
    english = client.get("/admin/candidates/new").get_data(as_text=True)
    assert "Germany (DE)" in english
    client.post("/account/language", data={"language": "pl"})
    polish = client.get("/admin/candidates/new").get_data(as_text=True)
    assert "Niemcy (DE)" in polish


def test_a_german_browser_gets_the_verify_page_in_german(client):
    page = client.get("/verify", headers={"Accept-Language": "de-DE,de;q=0.9"})
    text = page.get_data(as_text=True)
    assert page_language(page) == "de"
    assert "<h1>Zertifikat prüfen</h1>" in text
    assert "Check a certificate" not in text


def test_every_offered_language_is_on_the_menu_named_in_itself(client):
    page = client.get("/verify", headers={"Accept-Language": "el"}).get_data(as_text=True)
    for code, name in [
        ("de", "Deutsch"),
        ("pl", "Polski"),
        ("el", "Ελληνικά"),
        ("pt", "Português"),
    ]:
        assert f'hreflang="{code}" lang="{code}"' in page and f">{name}</a>" in page


def test_a_german_form_shows_and_takes_decimal_commas(app, client, make_admin, make_course):
    from certification.catalogue.services import get_course

    make_course("EII-101", credits="7.5")
    make_admin("office@example.org")
    log_in(client, "office@example.org")
    client.post("/account/language", data={"language": "de"})
    form = client.get("/admin/courses/EII-101/edit").get_data(as_text=True)
    assert 'value="7,5"' in form
    with app.app_context():
        assert str(get_course("EII-101").credits.normalize()) == "7.5"
