"""The certificate in its holder's language: English and theirs on one page, the language
part of what was issued (the verification JSON names it), English alone for a holder who
chose none or reads English.

These tests offer English, Polish and Greek alone, so that what they show does not depend
on which other catalogues are complete.
"""

from __future__ import annotations

import datetime as dt
import io
import unicodedata

import pytest
from pypdf import PdfReader

from certification.auth.services import get_candidate
from certification.catalogue.services import get_programme
from certification.certificates.pdf import render_certificate_pdf
from certification.certificates.services import issue_certificate, snapshot_of
from certification.certificates.settings import current_settings
from certification.dates import format_long_date
from certification.extensions import db
from certification.languages import OFFERED_LANGUAGES as PRODUCT_LANGUAGES


@pytest.fixture(autouse=True)
def more_languages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("certification.languages.OFFERED_LANGUAGES", ("en", "pl", "el"))


def issued_to(candidate_id: int, language: str | None, today: dt.date):
    candidate = get_candidate(candidate_id)
    candidate.language = language
    certificate = issue_certificate(candidate, get_programme("EII-C"), None, today=today)
    db.session.commit()
    return certificate


def page_text(pdf: bytes) -> str:
    return unicodedata.normalize("NFC", PdfReader(io.BytesIO(pdf)).pages[0].extract_text())


def test_a_polish_holder_s_certificate_is_english_and_polish(ctx, eligible_candidate, today):
    certificate = issued_to(eligible_candidate(), "pl", today)
    assert certificate.language == "pl"
    text = page_text(certificate.pdf)
    assert "Łukasz Wiśniewski" in text
    assert certificate.code in text
    assert f"Issued on {format_long_date(certificate.issued_on, 'en')}" in text
    polish_day = format_long_date(certificate.issued_on, "pl")
    assert polish_day != format_long_date(certificate.issued_on, "en")
    assert polish_day in text
    assert "Niniejszym zaświadcza się, że" in text  # Polish first,
    assert "This is to certify that" in text  # then English
    assert text.index("Wystawiono") < text.index("Issued on")


def test_the_verification_json_names_the_certificate_s_language(
    app, client, eligible_candidate, today
):
    with app.app_context():
        code = issued_to(eligible_candidate(), "el", today).code
    answer = client.get(f"/api/v1/verify/{code}").get_json()
    assert answer["language"] == "el"


def test_a_holder_who_chose_no_language_gets_english_alone(ctx, eligible_candidate, today):
    certificate = issued_to(eligible_candidate(), None, today)
    assert certificate.language == "en"
    text = page_text(certificate.pdf)
    assert text.count("Issued on") == 1
    assert "/" not in text.split("This is to certify that")[0].rsplit("\n", 1)[-1]


def test_a_language_no_longer_offered_prints_english_alone(
    ctx, eligible_candidate, today, monkeypatch
):
    candidate_id = eligible_candidate()
    monkeypatch.setattr("certification.languages.OFFERED_LANGUAGES", ("en",))
    assert issued_to(candidate_id, "pl", today).language == "en"


def test_the_same_certificate_renders_the_same_bytes_in_two_languages(
    ctx, eligible_candidate, today
):
    certificate = issued_to(eligible_candidate(), "pl", today)
    snapshot = snapshot_of(certificate, current_settings())
    assert [w.language for w in snapshot.wordings] == ["pl", "en"]
    assert render_certificate_pdf(snapshot) == render_certificate_pdf(snapshot)


@pytest.mark.parametrize("language", ["de", "fr", "es", "it", "pt", "pl", "nl", "el"])
def test_the_certificate_prints_in_each_offered_language_beside_english(
    ctx, eligible_candidate, today, language, monkeypatch
):
    """Each catalogue's words reach the page, whole, with the holder's name, the code, and
    the award's title and domains as the programme office translated them (the demo's
    translations, made with the glossary)."""
    import json

    from flask_babel import force_locale, gettext

    from certification.catalogue.wording import save_translations
    from certification.demo import DEMO_TRANSLATIONS

    monkeypatch.setattr("certification.languages.OFFERED_LANGUAGES", PRODUCT_LANGUAGES)
    assert language in PRODUCT_LANGUAGES
    translated = json.loads(DEMO_TRANSLATIONS.read_text(encoding="utf-8"))[language]
    candidate_id = eligible_candidate("Αικατερίνη Παπαδοπούλου-Wiśniewska")
    save_translations(language, translated, None)
    db.session.commit()
    certificate = issued_to(candidate_id, language, today)
    text = page_text(certificate.pdf)
    with force_locale(language):
        certify = gettext("This is to certify that")
        issued = gettext("Issued on %(date)s", date=format_long_date(certificate.issued_on))
    assert certify != "This is to certify that"
    for words in (certify, issued, "This is to certify that", certificate.code):
        assert words in text, words
    assert "Αικατερίνη Παπαδοπούλου-Wiśniewska" in text
    title = translated[certificate.award_title]
    domain = translated["AI & Data Science"]
    assert domain != "AI & Data Science"
    assert " ".join(title.split()) in " ".join(text.split()), title
    assert domain in " ".join(text.split()), domain
    if title != certificate.award_title:  # some languages keep the programme's English name
        assert text.index(title) < text.index(certificate.award_title)


def test_a_copy_in_another_language_is_a_reissue_that_supersedes(
    app, client, api, eligible_candidate, today
):
    """Through the API: the office asks for the Greek copy of an English certificate."""
    from tests.conftest import assert_error

    with app.app_context():
        code = issued_to(eligible_candidate(), None, today).code
    refused = api.post(f"/certificates/{code}/reissue", {"language": "fi"})
    assert_error(refused, 422, "invalid", {"language"})
    made = api.post(f"/certificates/{code}/reissue", {"language": "el"})
    assert made.status_code == 201, made.get_json()
    copy = made.get_json()["code"]
    assert client.get(f"/api/v1/verify/{copy}").get_json()["language"] == "el"
    old = client.get(f"/api/v1/verify/{code}").get_json()
    assert (old["status"], old["superseded_by"], old["language"]) == ("superseded", copy, "en")


def test_the_office_reissues_a_copy_in_the_holder_s_language_from_the_candidate_page(
    app, client, make_admin, eligible_candidate, today
):
    from tests.conftest import log_in

    make_admin("office@example.org")
    with app.app_context():
        certificate = issued_to(eligible_candidate(), None, today)
        code, candidate_id = certificate.code, certificate.candidate_id
    log_in(client, "office@example.org")
    page = client.get(f"/admin/candidates/{candidate_id}").get_data(as_text=True)
    assert '<option selected value="en">English alone</option>' in page
    assert '<option value="pl">Polski</option>' in page
    done = client.post(
        f"/admin/certificates/{code}/reissue",
        data={"full_name": "Łukasz Wiśniewski", "language": "pl"},
    )
    assert done.status_code == 303
    with app.app_context():
        from certification.certificates.services import find_certificate

        old = find_certificate(code)
        assert old.superseded_by is not None and old.superseded_by.language == "pl"


def test_capitals_drop_greek_accents_and_keep_the_others():
    """The certificate's small capital lines: Greek capitals carry no tonos; Polish and
    French capitals keep their accents."""
    from certification.certificates.pdf import _capitals

    assert _capitals("Κοινός τίτλος · επίπεδο 6") == "ΚΟΙΝΟΣ ΤΙΤΛΟΣ · ΕΠΙΠΕΔΟ 6"
    assert _capitals("προϊόν") == "ΠΡΟΪΟΝ"  # the diaeresis stays
    assert _capitals("Świadectwo · niveau é") == "ŚWIADECTWO · NIVEAU É"
