"""An e-mail is written in the language its recipient reads, not in the language of the
page whose action sent it: an English-speaking administrator revoking a Polish reader's
certificate writes to them in Polish. No Polish catalogue exists yet, so only what Babel
formats changes (month names); an English reader's e-mail stays as it was."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from babel.dates import format_date
from flask import Flask

from certification.auth.models import User
from certification.auth.services import get_candidate
from certification.catalogue.services import get_programme
from certification.certificates.models import Certificate
from certification.certificates.services import find_certificate, revoke_certificate
from certification.dates import format_long_date
from certification.extensions import db
from certification.i18n import current_language
from certification.mail.models import EmailKind, OutgoingEmail
from certification.mail.services import queue_expiry_reminders
from certification.types import utcnow
from tests.conftest import issue_by_service, log_in

ENGLISH_PAGE = {"Accept-Language": "en"}
# Late evening in UTC is already 6 December in the programme's calendar (Europe/Brussels).
REVOKED_AT = dt.datetime(2026, 12, 5, 23, 30, tzinfo=dt.UTC)


def _reads(app: Flask, user_id: int, language: str | None) -> None:
    with app.app_context():
        db.session.get(User, user_id).language = language
        db.session.commit()


def _emails(app: Flask, kind: EmailKind) -> dict[str, OutgoingEmail]:
    """The e-mails of ``kind`` written, by recipient, as stored (what a recipient reads)."""
    with app.app_context():
        found = {
            e.recipient: e
            for e in db.session.scalars(sa.select(OutgoingEmail).where(OutgoingEmail.kind == kind))
        }
        db.session.expunge_all()
        return found


def test_a_revocation_on_an_english_page_reaches_a_polish_reader_in_polish(
    app, eligible_candidate, today
):
    app.config["APP_TIMEZONE"] = "Europe/Brussels"
    polish = eligible_candidate("Łukasz Wiśniewski")  # eligible1@example.org
    english = eligible_candidate("Mary O'Brien")  # eligible2@example.org
    _reads(app, polish, "pl")
    polish_code = issue_by_service(app, polish, today)
    english_code = issue_by_service(app, english, today)

    with app.test_request_context("/admin/certificates", headers=ENGLISH_PAGE):
        assert current_language() == "en"
        for code in (polish_code, english_code):
            revoke_certificate(find_certificate(code), "Issued in error", None, now=REVOKED_AT)
        # The page goes on in its own language once the e-mails are written.
        assert current_language() == "en"
        assert format_long_date(dt.date(2026, 12, 6)) == "6 December 2026"
        db.session.commit()

    emails = _emails(app, EmailKind.CERTIFICATE_REVOKED)
    to_polish = emails["eligible1@example.org"].text_body
    assert f"certyfikat {polish_code}, została unieważniona 6 grudnia 2026." in to_polish
    assert "December" not in to_polish
    to_english = emails["eligible2@example.org"].text_body
    assert f"certificate {english_code}, was revoked on 6 December 2026." in to_english
    assert "grudnia" not in to_english
    # The award's title is the programme's own (catalogue data, English until translated).
    assert emails["eligible1@example.org"].subject == (
        "Państwa kwalifikacja European Certificate in Imaging Informatics"
        f" ({polish_code}) została unieważniona"
    )
    assert emails["eligible2@example.org"].subject == (
        f"Your European Certificate in Imaging Informatics ({english_code}) has been revoked"
    )


def test_revoking_on_the_admin_page_in_english_writes_in_the_holders_language(
    app, client, make_admin, eligible_candidate, today
):
    app.config["APP_TIMEZONE"] = "Europe/Brussels"
    admin = make_admin("office@efrs.example")
    _reads(app, admin.id, "en")
    log_in(client, "office@efrs.example")
    polish = eligible_candidate("Łukasz Wiśniewski")
    english = eligible_candidate("Mary O'Brien")
    _reads(app, polish, "pl")
    codes = [issue_by_service(app, holder, today) for holder in (polish, english)]

    for code in codes:
        response = client.post(
            f"/admin/certificates/{code}/revoke",
            data={"reason": "Issued before the board confirmed the result", "confirmed": "yes"},
            headers=ENGLISH_PAGE,
        )
        assert response.status_code == 303
    page = client.get(response.headers["Location"], headers=ENGLISH_PAGE)
    assert f"Certificate {codes[1]} is revoked." in page.get_data(as_text=True)

    zone = ZoneInfo(app.config["APP_TIMEZONE"])
    with app.app_context():
        days = [find_certificate(code).revoked_on(zone) for code in codes]
    emails = _emails(app, EmailKind.CERTIFICATE_REVOKED)
    in_polish = format_date(days[0], format="long", locale="pl")
    in_english = format_date(days[1], format="long", locale="en_GB")
    assert in_polish != format_date(days[0], format="long", locale="en_GB")
    assert f"została unieważniona {in_polish}." in emails["eligible1@example.org"].text_body
    assert f"was revoked on {in_english}." in emails["eligible2@example.org"].text_body


def test_an_expiry_reminder_names_the_day_in_its_readers_language(
    app, make_programme, make_candidate, today
):
    make_programme("EII-C", validity_months=60)
    expires_on = dt.date(2026, 12, 24)
    for number, language in ((1, "pl"), (2, None)):
        holder = make_candidate("Łukasz Wiśniewski", email=f"holder{number}@example.org")
        _reads(app, holder.id, language)
        pdf = b"%PDF-1.7 stored " + bytes([number])
        with app.app_context():
            db.session.add(
                Certificate(
                    code=f"EIC-TEST-{number:04d}",
                    candidate=get_candidate(holder.id),
                    programme=get_programme("EII-C"),
                    is_current=True,
                    holder_name="Łukasz Wiśniewski",
                    award_title="European Certificate in Imaging Informatics",
                    level="certificate",
                    credits_total=Decimal(10),
                    credits_by_domain={},
                    issuers=[],
                    issued_at=utcnow(),
                    issued_on=today,
                    expires_on=expires_on,
                    verify_url=f"https://certificates.example.org/verify/EIC-TEST-{number:04d}",
                    pdf=pdf,
                    pdf_sha256=hashlib.sha256(pdf).hexdigest(),
                )
            )
            db.session.commit()

    with app.test_request_context("/", headers=ENGLISH_PAGE):
        assert queue_expiry_reminders(dt.date(2026, 12, 1)) == 2
        db.session.commit()

    emails = _emails(app, EmailKind.EXPIRY_REMINDER)
    polish, english = emails["holder1@example.org"], emails["holder2@example.org"]
    assert polish.subject == (
        "Państwa kwalifikacja European Certificate in Imaging Informatics wygasa 24 grudnia 2026"
    )
    assert "jest ważna do 24 grudnia 2026, czyli jeszcze 23 dni." in polish.text_body
    assert english.subject == (
        "Your European Certificate in Imaging Informatics expires on 24 December 2026"
    )
    assert "is valid until 24 December 2026, which is in 23 days." in english.text_body
