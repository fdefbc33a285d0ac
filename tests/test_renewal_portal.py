"""The holder's renewal bar: for each held certificate of a programme that renews through
CPD, the points earned in its validity, the domain minimums, what is missing in words, and
the holder's CPD activities."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
import sqlalchemy as sa

from certification.auth.models import User
from certification.extensions import db
from certification.records.models import CpdActivity, CpdSource
from certification.records.services import record_cpd
from certification.types import utcnow
from tests.conftest import change_rules, issue_by_service

GOVERNANCE = "Informatics Governance"


@pytest.fixture
def holder(app, eligible_candidate, today):
    """A holder of EII-C (valid 60 months from today), which renews with 20 CPD points, 5 of
    them in Informatics Governance; logs in as eligible1@example.org."""
    candidate_id = eligible_candidate("Dimitar Petrov")
    code = issue_by_service(app, candidate_id, today)
    with app.app_context():
        change_rules(
            "EII-C",
            today,
            renewal_cpd_points=Decimal(20),
            renewal_domain_minimums={GOVERNANCE: Decimal(5)},
            renewal_grace_months=6,
        )
        db.session.commit()
    return candidate_id, code


def earn(app, candidate_id, points, on, domain=None, title="EuSoMII webinar"):
    with app.app_context():
        activity = record_cpd(
            db.session.get(User, candidate_id),
            title=title,
            organiser="EuSoMII",
            activity_on=on,
            points=Decimal(points),
            domain=domain,
            source=CpdSource.OFFICE,
            actor=None,
            today=on,
        )
        db.session.commit()
        return activity.id


def flat(page: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", page).split())


def test_the_renewal_bar_says_what_is_missing(app, client, auth, holder, today):
    candidate_id, code = holder
    earn(app, candidate_id, "6", today, "AI & Data Science", title="RSNA informatics session")
    earn(app, candidate_id, "2", today, GOVERNANCE, title="EuSoMII governance webinar")
    auth.login("eligible1@example.org")

    page = client.get("/me/").get_data(as_text=True)

    with app.app_context():
        from certification.dates import format_long_date

        due = format_long_date(_expiry(app, code))
    text = flat(page)
    assert "Renewal through continuing professional development (CPD)" in text
    assert "On track" in text
    assert f"On track: renewal due by {due}." in text
    assert "8 / 20 points" in text and "2 / 5 points" in text
    assert f"You need 12 more CPD points by {due}; 3 of them in Informatics Governance." in text
    # The bar: a number a screen reader says, and words, not colour alone.
    assert re.search(
        rf'<progress max="100" value="40" aria-label="CPD points towards renewing {code}">', page
    )
    assert "At least 5 CPD points in Informatics Governance (not yet met)" in text
    # The activities, listed.
    assert "My CPD activities" in text
    assert "RSNA informatics session" in text and "EuSoMII governance webinar" in text


def _expiry(app, code: str) -> dt.date:
    from certification.certificates.models import Certificate

    return db.session.scalar(sa.select(Certificate.expires_on).where(Certificate.code == code))


def test_the_bar_moves_and_fills_when_the_rule_is_met(app, client, auth, holder, today):
    candidate_id, _code = holder
    auth.login("eligible1@example.org")
    assert 'value="0"' in client.get("/me/").get_data(as_text=True)

    earn(app, candidate_id, "15", today, "AI & Data Science")
    middle = flat(client.get("/me/").get_data(as_text=True))
    assert "15 / 20 points" in middle
    assert "You need 5 more CPD points in Informatics Governance by" in middle

    earn(app, candidate_id, "5", today, GOVERNANCE, title="Governance workshop")
    page = client.get("/me/").get_data(as_text=True)
    text = flat(page)
    assert "Ready to renew" in text
    # Met years ahead of expiry: renewable in the last 180 days.
    assert "Renewal requirements met: the certificate can be renewed from" in text
    assert "Still needed for renewal" not in text
    assert 'value="100"' in page


def test_a_withdrawn_activity_is_listed_and_does_not_count(app, client, auth, holder, today):
    candidate_id, _code = holder
    activity_id = earn(app, candidate_id, "20", today, GOVERNANCE, title="Recorded by mistake")
    with app.app_context():
        activity = db.session.get(CpdActivity, activity_id)
        activity.withdrawn_at = utcnow()
        activity.withdrawal_reason = "Another candidate's attendance."
        db.session.commit()
    auth.login("eligible1@example.org")

    text = flat(client.get("/me/").get_data(as_text=True))

    assert "0 / 20 points" in text
    assert "Recorded by mistake Withdrawn: does not count" in text


def test_no_bar_for_a_programme_that_does_not_renew_through_cpd(
    app, client, auth, eligible_candidate, today
):
    candidate_id = eligible_candidate()
    issue_by_service(app, candidate_id, today)
    auth.login("eligible1@example.org")

    text = flat(client.get("/me/").get_data(as_text=True))

    assert "Renewal through continuing professional development" not in text
    assert "My CPD activities" not in text


def test_the_bar_in_the_reader_s_language(app, client, auth, holder, today):
    candidate_id, code = holder
    earn(app, candidate_id, "2.5", today, GOVERNANCE)
    auth.login("eligible1@example.org")

    text = flat(client.get("/me/", headers={"Accept-Language": "de"}).get_data(as_text=True))

    with app.app_context():
        from certification.dates import format_long_date

        due = format_long_date(_expiry(app, code), "de")
    # Numbers and days the German way inside the engine's sentences.
    assert "2,5" in text
    assert due in text


def test_someone_else_s_cpd_is_not_shown(app, client, auth, holder, make_candidate, today):
    candidate_id, _code = holder
    earn(app, candidate_id, "4", today, title="Webinar of Dimitar Petrov")
    make_candidate("Ana Silva", email="ana@example.pt")
    auth.login("ana@example.pt")

    text = flat(client.get("/me/").get_data(as_text=True))

    assert "Webinar of Dimitar Petrov" not in text
    assert "Renewal through continuing professional development" not in text


def test_a_renewal_assessment_shows_until_it_is_passed(
    app, client, auth, holder, make_assessment, today
):
    candidate_id, code = holder
    make_assessment("RECERT", pass_mark="70", title="Recertification quiz")
    with app.app_context():
        change_rules("EII-C", today, renewal_assessment="RECERT")
        db.session.commit()
    earn(app, candidate_id, "20", today, GOVERNANCE)
    auth.login("eligible1@example.org")

    text = flat(client.get("/me/").get_data(as_text=True))
    with app.app_context():
        from certification.dates import format_long_date

        due = format_long_date(_expiry(app, code))
    assert "Pass the Recertification quiz (pass mark 70) from" in text
    assert f"Pass the Recertification quiz (pass mark 70) by {due}." in text
    assert "Ready to renew" not in text

    with app.app_context():
        from certification.records.services import record_result

        record_result(
            db.session.get(User, candidate_id),
            "RECERT",
            Decimal(75),
            today,
            actor=None,
            today=today,
        )
        db.session.commit()
    text = flat(client.get("/me/").get_data(as_text=True))
    assert "Ready to renew" in text
    assert "(pass mark 70) from" in text and "passed" in text
