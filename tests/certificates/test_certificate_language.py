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
    """Each catalogue's words reach the page, whole, with the holder's name and the code."""
    import dataclasses

    from flask_babel import force_locale, gettext

    from certification.certificates.services import wording

    monkeypatch.setattr("certification.languages.OFFERED_LANGUAGES", PRODUCT_LANGUAGES)
    assert language in PRODUCT_LANGUAGES
    certificate = issued_to(eligible_candidate("Αικατερίνη Παπαδοπούλου-Wiśniewska"), None, today)
    english = snapshot_of(certificate, current_settings())
    snapshot = dataclasses.replace(
        english, wordings=(wording(english, language), wording(english, "en"))
    )
    text = page_text(render_certificate_pdf(snapshot))
    with force_locale(language):
        certify = gettext("This is to certify that")
        issued = gettext("Issued on %(date)s", date=format_long_date(certificate.issued_on))
    assert certify != "This is to certify that"
    for words in (certify, issued, "This is to certify that", certificate.code):
        assert words in text, words
    assert "Αικατερίνη Παπαδοπούλου-Wiśniewska" in text
