"""The catalogue in the readers' languages: the programme office translates programme
titles and descriptions, course and assessment titles and domains, one page per language;
candidates, their e-mails and their certificates read them, English where a translation is
missing; the office sees what is missing."""

from __future__ import annotations

import html
import io
import re
import unicodedata

import sqlalchemy as sa
from flask import Flask
from pypdf import PdfReader

from certification.audit import AuditEvent
from certification.auth.models import User
from certification.auth.services import get_candidate
from certification.catalogue.models import CatalogueTranslation
from certification.catalogue.services import get_programme, programme_as_input, update_programme
from certification.catalogue.wording import save_translations
from certification.certificates.services import find_certificate
from certification.extensions import db
from certification.mail.models import EmailKind, OutgoingEmail
from tests.conftest import PASSWORD, issue_by_service, log_in

TITLE = "European Certificate in Imaging Informatics"
DOMAIN = "AI & Data Science"
COURSE = "Foundations of AI in imaging"
EXAM = "Certificate examination"
GERMAN = {
    TITLE: "Europäisches Zertifikat für Bildgebungsinformatik",
    DOMAIN: "KI und Datenwissenschaft",
    COURSE: "Grundlagen der KI in der Bildgebung",
    EXAM: "Zertifikatsprüfung",
}


def _fields(page: str) -> dict[str, str]:
    """The translations page's fields, by the English wording that labels them."""
    return {
        html.unescape(label): name
        for name, label in re.findall(r'<label for="(t_[0-9a-f]+)">([^<]*)</label>', page)
    }


def _reads(app: Flask, user_id: int, language: str | None) -> None:
    with app.app_context():
        db.session.get(User, user_id).language = language
        db.session.commit()


def _translate(app: Flask, language: str, texts: dict[str, str]) -> None:
    with app.app_context():
        save_translations(language, texts, None)
        db.session.commit()


def test_the_office_translates_the_catalogue_into_german_and_candidates_read_it(
    app, client, make_admin, eligible_candidate
):
    german_reader = eligible_candidate()  # eligible1@example.org
    eligible_candidate("Mary O'Brien")  # eligible2@example.org, who reads English
    _reads(app, german_reader, "de")
    make_admin("office@example.org")
    log_in(client, "office@example.org")

    overview = client.get("/admin/translations").get_data(as_text=True)
    # The title, the courses' title (both share one), the examination and two domains.
    assert "0 of 5" in overview and "5 missing" in overview
    page = client.get("/admin/translations/de").get_data(as_text=True)
    assert '<html lang="en"' in page  # the office's page stays in the office's language
    fields = _fields(page)
    assert set(GERMAN) <= set(fields), fields
    assert 'lang="de"' in page  # the fields are marked as German for spelling and speech

    saved = client.post(
        "/admin/translations/de",
        data={fields[english]: german for english, german in GERMAN.items()},
        follow_redirects=True,
    )
    text = saved.get_data(as_text=True)
    assert "4 translations into Deutsch are saved." in text
    assert "4 of 5" in text and "1 missing" in text

    client.post("/logout")
    log_in(client, "eligible1@example.org", PASSWORD)
    portal = html.unescape(client.get("/me/").get_data(as_text=True))
    assert '<html lang="de"' in portal
    for german in GERMAN.values():
        assert german in portal, german
    assert TITLE not in portal and COURSE not in portal
    # Untranslated wording falls back to English.
    assert "Standards & Interoperability" in portal

    client.post("/logout")
    log_in(client, "eligible2@example.org", PASSWORD)
    english = html.unescape(client.get("/me/").get_data(as_text=True))
    assert TITLE in english and COURSE in english
    assert GERMAN[TITLE] not in english

    with app.app_context():
        event = db.session.scalar(
            sa.select(AuditEvent).where(AuditEvent.action == "catalogue.translated")
        )
        assert event.object_id == "de"
        assert event.after["translations"][TITLE] == GERMAN[TITLE]


def test_a_refused_translation_keeps_what_was_typed_and_saves_nothing(
    app, client, make_admin, eligible_candidate
):
    eligible_candidate()
    make_admin("office@example.org")
    log_in(client, "office@example.org")
    fields = _fields(client.get("/admin/translations/el").get_data(as_text=True))
    typed = {fields[TITLE]: "Ευρωπαϊκό Πιστοποιητικό", fields[COURSE]: "Λ" * 401}
    refused = client.post("/admin/translations/el", data=typed)
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "Ευρωπαϊκό Πιστοποιητικό" in page and "Λ" * 401 in page
    assert "At most 400 characters" in page or "400" in page
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(CatalogueTranslation)) == 0


def test_an_emptied_translation_shows_the_english_and_a_changed_english_asks_again(
    app, client, make_admin, eligible_candidate
):
    eligible_candidate()
    _translate(app, "pl", {TITLE: "Europejski Certyfikat z Informatyki Obrazowej"})
    make_admin("office@example.org")
    log_in(client, "office@example.org")
    edit = client.get("/admin/programmes/EII-C/edit").get_data(as_text=True)
    # Polish has the programme's one piece of wording, its title; seven languages lack it.
    gaps = re.search(r'<p class="help translation-gaps">(.*?)</p>', edit, re.S)
    assert gaps and "Deutsch" in gaps.group(1) and "Ελληνικά" in gaps.group(1)
    assert "Polski" not in gaps.group(1)

    fields = _fields(client.get("/admin/translations/pl").get_data(as_text=True))
    client.post("/admin/translations/pl", data={fields[TITLE]: "  "})
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(CatalogueTranslation)) == 0

    _translate(app, "pl", {TITLE: "Europejski Certyfikat z Informatyki Obrazowej"})
    with app.app_context():
        programme = get_programme("EII-C")
        data = programme_as_input(programme)
        from dataclasses import replace

        from certification.web import today

        update_programme(
            programme,
            replace(data, title="European Certificate in Imaging IT"),
            None,
            today=today(),
        )
        db.session.commit()
    page = client.get("/admin/translations/pl").get_data(as_text=True)
    fields = _fields(page)
    assert "European Certificate in Imaging IT" in fields
    field = re.search(
        rf'<input[^>]*name="{fields["European Certificate in Imaging IT"]}"[^>]*>', page
    )
    assert field and 'value=""' in field.group(0)


def test_officers_read_the_translations_but_only_the_office_writes_them(
    app, client, make_officer, eligible_candidate
):
    eligible_candidate()
    make_officer("EFRS", "officer@efrs.example")
    log_in(client, "officer@efrs.example")
    overview = client.get("/admin/translations")
    assert overview.status_code == 200
    assert "/admin/translations/de" not in overview.get_data(as_text=True)
    assert client.get("/admin/translations/de").status_code == 404
    assert client.post("/admin/translations/de", data={}).status_code == 404


def test_a_german_holder_s_certificate_and_e_mail_print_the_translated_wording(
    app, eligible_candidate, today
):
    holder = eligible_candidate()
    _reads(app, holder, "de")
    _translate(app, "de", GERMAN)
    code = issue_by_service(app, holder, today)
    with app.app_context():
        certificate = find_certificate(code)
        text = unicodedata.normalize(
            "NFC", PdfReader(io.BytesIO(certificate.pdf)).pages[0].extract_text()
        )
        assert GERMAN[TITLE] in text and TITLE in text  # German first, English beside it
        assert text.index(GERMAN[TITLE]) < text.index(TITLE)
        assert GERMAN[DOMAIN] in text
        assert certificate.translated == {
            "award_title": GERMAN[TITLE],
            "domains": {DOMAIN: GERMAN[DOMAIN]},
        }
        email = db.session.scalar(
            sa.select(OutgoingEmail).where(OutgoingEmail.kind == EmailKind.CERTIFICATE_ISSUED)
        )
        assert email is not None and GERMAN[TITLE] in email.subject
        assert GERMAN[TITLE] in email.text_body

    # A later change to the catalogue's translation does not change what was issued.
    _translate(app, "de", {TITLE: "Europäisches Zertifikat Bildgebungsinformatik"})
    with app.app_context():
        assert find_certificate(code).translated["award_title"] == GERMAN[TITLE]
        assert get_candidate(holder).language == "de"


def test_a_german_verifier_reads_the_credits_and_domains_in_german(
    app, client, make_candidate, make_catalogue, today
):
    """The verification page writes a certificate's credits the reader's way (7,5) and
    names its domains in the reader's language, where the catalogue has them."""
    from decimal import Decimal

    from certification.records.services import record_credit, record_result
    from tests.conftest import committed

    make_catalogue(
        {"EII-101": ("7.5", DOMAIN), "EII-102": ("2.5", "Standards & Interoperability")},
        min_total_credits="10",
    )
    candidate = make_candidate(email="ines@example.org")

    def earn() -> None:
        person = get_candidate(candidate.id)
        for course in ("EII-101", "EII-102"):
            record_credit(person, course, today, actor=None, today=today)
        record_result(person, "CERT-EXAM", Decimal(80), today, actor=None, today=today)

    committed(app, earn)()
    _translate(app, "de", {DOMAIN: GERMAN[DOMAIN]})
    code = issue_by_service(app, candidate.id, today)
    german = html.unescape(
        client.get(f"/verify/{code}", headers={"Accept-Language": "de"}).get_data(as_text=True)
    )
    assert "7,5 ECTS" in german and "7.5 ECTS" not in german
    assert GERMAN[DOMAIN] in german and "Standards & Interoperability" in german
    english = html.unescape(
        client.get(f"/verify/{code}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    )
    assert "7.5 ECTS" in english and DOMAIN in english


def test_the_api_names_a_programme_s_allowed_values_and_limits_in_the_reader_s_language(api):
    """pydantic's own English stays out of a German answer: a choice outside the allowed
    values, and a description longer than the service keeps."""
    from tests.test_api import PROGRAMME

    def post(body: dict) -> object:
        german = api.headers(**{"Accept-Language": "de"})
        return api.client.post("/api/v1/programmes", json=body, headers=german)

    refused = post({**PROGRAMME, "approval": "nobody"})
    assert refused.status_code == 400
    assert refused.get_json()["fields"]["approval"] == (
        "Muss einer dieser Werte sein: both_bodies oder office."
    )
    too_long = post({**PROGRAMME, "description": "d" * 2001})
    assert too_long.status_code == 422
    assert too_long.get_json()["fields"]["description"] == "Höchstens 2000 Zeichen."


def test_a_body_s_officer_gives_its_signatory_s_title_in_german_and_a_german_holder_reads_it(
    app, client, make_officer, eligible_candidate, today
):
    from certification.certificates.models import PartnerBody
    from tests.certificates.test_admin_certificates import branding_form

    make_officer("EFRS", "officer@efrs.example")
    log_in(client, "officer@efrs.example")
    page = client.get("/admin/branding").get_data(as_text=True)
    assert 'name="efrs-signatory_title_de"' in page and 'lang="de"' in page
    too_long = client.post(
        "/admin/branding", data=branding_form(**{"efrs-signatory_title_el": "Π" * 201})
    )
    assert too_long.status_code == 422 and "Π" * 201 in too_long.get_data(as_text=True)
    saved = client.post(
        "/admin/branding",
        data=branding_form(
            **{"efrs-signatory_title_de": "Präsidentin", "efrs-signatory_title_el": ""}
        ),
    )
    assert saved.status_code == 303
    with app.app_context():
        body = db.session.scalar(sa.select(PartnerBody).where(PartnerBody.short_name == "EFRS"))
        assert body.signatory_titles == {"de": "Präsidentin"}

    german, polish = eligible_candidate("Anna Schmidt"), eligible_candidate("Łukasz Wiśniewski")
    _reads(app, german, "de")
    _reads(app, polish, "pl")
    for holder, present in ((german, True), (polish, False)):
        code = issue_by_service(app, holder, today)
        with app.app_context():
            text = PdfReader(io.BytesIO(find_certificate(code).pdf)).pages[0].extract_text()
        # Above the English title, in German only; a Polish holder's prints it in English.
        assert ("Präsidentin" in text) is present
        assert "President" in text
