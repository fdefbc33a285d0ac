"""The reminders 180, 90 and 30 days before a certificate expires: once per certificate and
threshold, whatever the number of runs; none for later expiries or revoked certificates.
What they say of renewal through CPD is tested in test_renewal_reminders.py."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from certification.auth.services import get_candidate
from certification.catalogue.services import get_programme
from certification.certificates.models import Certificate
from certification.extensions import db
from certification.mail.models import EmailKind, OutgoingEmail
from certification.mail.services import queue_expiry_reminders
from certification.types import utcnow
from tests.mail import receive, subject_of


@pytest.fixture
def certificate_expiring(app, make_programme, candidate, today):
    """A stored certificate (not rendered: the reminder attaches nothing) that expires
    ``days`` from today."""
    make_programme("EII-C", validity_months=60)
    counter = iter(range(1, 1000))

    def build(days: int, *, revoked: bool = False, name: str = "Łukasz Wiśniewski") -> int:
        number = next(counter)
        holder = candidate(name, f"holder{number}@example.org")
        pdf = b"%PDF-1.7 stored " + bytes([number])
        with app.app_context():
            certificate = Certificate(
                code=f"EIC-TEST-{number:04d}",
                candidate=get_candidate(holder),
                programme=get_programme("EII-C"),
                is_current=not revoked,
                holder_name=name,
                award_title="European Certificate in Imaging Informatics",
                level="certificate",
                credits_total=Decimal(10),
                credits_by_domain={},
                issuers=[],
                issued_at=utcnow(),
                issued_on=today,
                expires_on=today + dt.timedelta(days=days),
                verify_url=f"https://certificates.example.org/verify/EIC-TEST-{number:04d}",
                pdf=pdf,
                pdf_sha256=hashlib.sha256(pdf).hexdigest(),
                revoked_at=utcnow() if revoked else None,
                revocation_reason="Issued in error." if revoked else None,
            )
            db.session.add(certificate)
            db.session.commit()
            return certificate.id

    return build


def test_a_certificate_expiring_within_90_days_is_reminded_of_once(
    app, run_queue, certificate_expiring, today
):
    from certification.mail.tasks import queue_daily_expiry_reminders

    due = certificate_expiring(89, name="Jón Þórðarson")
    certificate_expiring(181)
    certificate_expiring(30, revoked=True)
    with app.app_context():
        queue_daily_expiry_reminders.call_local()
        queue_daily_expiry_reminders.call_local()  # a second run, or a second host
        assert queue_expiry_reminders(today) == 0
    assert run_queue() == 1

    with app.app_context():
        (reminder,) = db.session.scalars(sa.select(OutgoingEmail)).all()
        assert (reminder.kind, reminder.certificate_id) == (EmailKind.EXPIRY_REMINDER, due)
    (file,) = (Path(app.instance_path) / "outbox").glob("*.eml")
    message = receive(file.read_bytes())
    expires = today + dt.timedelta(days=89)
    in_words = f"{expires.day} {expires:%B} {expires.year}"
    assert subject_of(message) == (
        f"Your European Certificate in Imaging Informatics expires on {in_words}"
    )
    text = message.get_content()
    assert "Dear Jón Þórðarson," in text
    assert f"is valid until {in_words}, which is in 89 days." in text
    assert "https://certificates.example.org/verify/EIC-TEST-0001" in text.splitlines()
    assert list(message.iter_attachments()) == []


def test_the_last_day_and_the_180th_day_count(app, certificate_expiring, today):
    certificate_expiring(0)
    certificate_expiring(90)
    certificate_expiring(180)
    certificate_expiring(181)
    certificate_expiring(-1)  # expired yesterday: too late for a reminder
    with app.app_context():
        assert queue_expiry_reminders(today) == 3
        db.session.commit()


def test_a_suspended_certificate_is_not_reminded_of_until_it_is_reinstated(
    app, certificate_expiring, today
):
    """One partner body asked for its revocation: its holder is not told it "is valid
    until…" while the other body decides; once reinstated, the next run reminds them."""
    held = certificate_expiring(30)
    with app.app_context():
        certificate = db.session.get(Certificate, held)
        certificate.suspended_at = utcnow()
        certificate.suspended_by_body = "EFRS"
        certificate.suspension_reason = "The examination result is being checked."
        db.session.commit()
        assert queue_expiry_reminders(today) == 0
        certificate = db.session.get(Certificate, held)
        certificate.suspended_at = None
        certificate.suspended_by_body = None
        certificate.suspension_reason = None
        db.session.commit()
        assert queue_expiry_reminders(today) == 1


def test_the_reminder_says_who_renews_a_jointly_approved_award(app, certificate_expiring, today):
    from certification.catalogue.models import ApprovalPolicy

    certificate_expiring(30)
    with app.app_context():
        assert queue_expiry_reminders(today) == 1
        (office,) = db.session.scalars(sa.select(OutgoingEmail.text_body)).all()
        get_programme("EII-C").approval = ApprovalPolicy.BOTH_BODIES
        db.session.commit()
    certificate_expiring(40, name="Zeynep Çelik")
    with app.app_context():
        assert queue_expiry_reminders(today) == 1
        joint = db.session.scalars(
            sa.select(OutgoingEmail.text_body).where(OutgoingEmail.text_body.contains("Zeynep"))
        ).one()
    flat = " ".join(office.split())
    assert "the programme office can then issue you a new certificate." in flat
    flat = " ".join(joint.split())
    assert "the programme office can then issue you" not in flat
    assert (
        "the programme office can then request a new certificate for you, and it is issued"
        " once EFRS and EuSoMII have each approved it." in flat
    )
