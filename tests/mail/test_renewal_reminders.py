"""The reminders 180, 90 and 30 days before a certificate expires, on a frozen clock: each
sent once per certificate and threshold, and what they say is missing for renewal through
CPD, in the holder's language."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal

import pytest
import sqlalchemy as sa

from certification.auth.models import User
from certification.auth.services import get_candidate
from certification.catalogue.services import get_programme
from certification.certificates.models import Certificate
from certification.extensions import db
from certification.mail.models import EmailKind, OutgoingEmail
from certification.mail.services import queue_expiry_reminders
from certification.records.models import CpdSource
from certification.records.services import record_cpd
from certification.types import utcnow

GOVERNANCE = "Informatics Governance"
ISSUED = dt.date(2024, 3, 14)
EXPIRES = dt.date(2029, 3, 14)


@pytest.fixture
def holder(app, make_programme, make_candidate):
    """A holder of a certificate valid from ISSUED to EXPIRES, of a programme that renews
    with 20 CPD points, 5 of them in Informatics Governance; the holder's id."""
    make_programme(
        "EII-C",
        validity_months=60,
        renewal_cpd_points=Decimal(20),
        renewal_domain_minimums={GOVERNANCE: Decimal(5)},
        renewal_grace_months=6,
    )
    counter = iter(range(1, 100))

    def build(name: str = "Jón Þórðarson", *, language: str | None = None) -> int:
        number = next(counter)
        user = make_candidate(name, email=f"holder{number}@example.org")
        pdf = b"%PDF-1.7 stored " + bytes([number])
        with app.app_context():
            candidate = get_candidate(user.id)
            candidate.language = language
            db.session.add(
                Certificate(
                    code=f"EIC-TEST-{number:04d}",
                    candidate=candidate,
                    programme=get_programme("EII-C"),
                    is_current=True,
                    holder_name=name,
                    award_title="European Certificate in Imaging Informatics",
                    level="certificate",
                    credits_total=Decimal(10),
                    credits_by_domain={},
                    issuers=[],
                    issued_at=utcnow(),
                    issued_on=ISSUED,
                    expires_on=EXPIRES,
                    verify_url=f"https://certificates.example.org/verify/EIC-TEST-{number:04d}",
                    pdf=pdf,
                    pdf_sha256=hashlib.sha256(pdf).hexdigest(),
                )
            )
            db.session.commit()
            return user.id

    return build


def earn(app, holder_id: int, points: str, on: dt.date, domain: str | None = None) -> None:
    with app.app_context():
        record_cpd(
            db.session.get(User, holder_id),
            title=f"EuSoMII webinar of {on.isoformat()}",
            organiser="EuSoMII",
            activity_on=on,
            points=Decimal(points),
            domain=domain,
            source=CpdSource.OFFICE,
            actor=None,
            today=on,
        )
        db.session.commit()


def reminders(app) -> list[OutgoingEmail]:
    with app.app_context():
        return list(
            db.session.scalars(
                sa.select(OutgoingEmail)
                .where(OutgoingEmail.kind == EmailKind.EXPIRY_REMINDER)
                .order_by(OutgoingEmail.id)
            )
        )


def run_on(app, day: dt.date) -> int:
    with app.app_context():
        queued = queue_expiry_reminders(day)
        db.session.commit()
        return queued


def days_before(days: int) -> dt.date:
    return EXPIRES - dt.timedelta(days=days)


def test_each_threshold_reminds_once(app, holder):
    holder()
    runs = [181, 180, 180, 179, 91, 90, 89, 31, 30, 29, 1, 0]

    queued = [run_on(app, days_before(days)) for days in runs]

    assert queued == [0, 1, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0]
    said = [" ".join(e.text_body.split()) for e in reminders(app)]
    assert [text.split("which is in ")[1].split(".")[0] for text in said] == [
        "180 days",
        "90 days",
        "30 days",
    ]


def test_a_certificate_found_first_at_80_days_gets_the_90_day_reminder_only(app, holder):
    holder()

    assert run_on(app, days_before(80)) == 1
    assert run_on(app, days_before(79)) == 0
    assert run_on(app, days_before(25)) == 1
    assert run_on(app, days_before(5)) == 0
    assert len(reminders(app)) == 2


def test_the_reminder_says_what_is_missing_for_renewal(app, holder):
    held = holder()
    earn(app, held, "6", dt.date(2025, 5, 2), "AI & Data Science")
    earn(app, held, "2", dt.date(2025, 9, 1), GOVERNANCE)
    earn(app, held, "9", dt.date(2024, 1, 10), GOVERNANCE)  # before the issue: not counted

    assert run_on(app, days_before(170)) == 1

    (reminder,) = reminders(app)
    text = " ".join(reminder.text_body.split())
    assert (
        reminder.subject
        == "Your European Certificate in Imaging Informatics expires on 14 March 2029"
    )
    assert (
        "To renew it, the programme asks for continuing professional development (CPD) points"
        " earned while it is valid: 8 of 20 CPD points earned." in text
    )
    assert (
        "You need 12 more CPD points by 14 March 2029; 3 of them in Informatics Governance." in text
    )
    assert "Log in to see your CPD activities and your renewal:" in text
    # The sentence about course credits is for programmes that do not renew through CPD.
    assert "your course credits and assessment results" not in text


def test_a_renewal_already_met_is_said_so(app, holder):
    held = holder()
    earn(app, held, "20", dt.date(2025, 5, 2), GOVERNANCE)

    assert run_on(app, days_before(30)) == 1

    text = " ".join(reminders(app)[0].text_body.split())
    assert "20 of 20 CPD points earned." in text
    assert "Renewal requirements met: the certificate can be renewed before 14 March 2029." in text
    assert "You need" not in text


def test_the_reminder_is_in_the_holder_s_language(app, holder):
    held = holder("Łukasz Wiśniewski", language="pl")
    earn(app, held, "19.5", dt.date(2025, 5, 2))

    assert run_on(app, days_before(90)) == 1

    (reminder,) = reminders(app)
    assert reminder.subject == (
        "Państwa kwalifikacja European Certificate in Imaging Informatics wygasa 14 marca 2029"
    )
    # The engine's sentences in Polish, its numbers and days the Polish way.
    assert "Zdobyto 19,5 z 20 pkt CPD." in reminder.text_body
    assert "14 marca 2029" in reminder.text_body
    assert "CPD points" not in reminder.text_body


def test_a_programme_without_a_renewal_rule_says_nothing_of_cpd(app, holder, make_programme):
    held = holder()
    with app.app_context():
        get_programme("EII-C").renewal_cpd_points = None
        get_programme("EII-C").renewal_domain_minimums = []
        get_programme("EII-C").renewal_grace_months = None
        db.session.commit()
    earn(app, held, "3", dt.date(2025, 5, 2))

    assert run_on(app, days_before(30)) == 1

    text = " ".join(reminders(app)[0].text_body.split())
    assert "CPD" not in text
    assert "your course credits and assessment results need to meet" in text
