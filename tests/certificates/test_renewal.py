"""Renewal through CPD: the holder asks once their points are enough, both bodies approve as
for an issue, and the new certificate continues the award for a new period; the earlier one
is superseded by renewal, not revoked, and verifiers see the chain of periods."""

from __future__ import annotations

import datetime as dt
import html
import re
from decimal import Decimal

import sqlalchemy as sa

from certification.auth.models import User
from certification.catalogue.services import get_programme
from certification.certificates.models import (
    AwardRequest,
    Certificate,
    CertificateStatus,
    RequestState,
)
from certification.credentials.models import IssuedCredential
from certification.dates import format_long_date
from certification.extensions import db
from certification.mail.models import EmailKind, OutgoingEmail
from certification.progress import subtract_months
from certification.records.models import CpdSource
from certification.records.services import record_cpd
from tests.certificates.test_approvals import issued_jointly
from tests.conftest import log_in
from tests.credentials.test_credentials import bits, credential_of, index_of


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def pending_requests() -> int:
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(AwardRequest)
        .where(AwardRequest.state == RequestState.PENDING)
    )


def renewable(app, code: str, points: str, *, today: dt.date, expires_in_days: int = 100) -> str:
    """EII-C renews with 10 CPD points (grace 6 months); the certificate ``code`` is in the
    last ``expires_in_days`` of its five years (negative: it expired that long ago), and
    its holder earned ``points`` in its period. Returns the holder's e-mail."""
    with app.app_context():
        programme = get_programme("EII-C")
        programme.renewal_cpd_points = Decimal(10)
        programme.renewal_grace_months = 6
        certificate = db.session.scalar(sa.select(Certificate).where(Certificate.code == code))
        certificate.expires_on = today + dt.timedelta(days=expires_in_days)
        certificate.issued_on = subtract_months(certificate.expires_on, 60)
        record_cpd(
            certificate.candidate,
            title="Webinar: FHIR for imaging",
            organiser="EuSoMII",
            activity_on=certificate.issued_on,
            points=Decimal(points),
            source=CpdSource.OFFICE,
            actor=None,
            today=today,
        )
        email = certificate.candidate.email
        db.session.commit()
    return email


def test_a_renewal_through_both_approvals_continues_the_award_and_supersedes_the_period(
    app, client, bodies, eligible_candidate, today
):
    code = issued_jointly(bodies, eligible_candidate("Zoë Ó Súilleabháin"))
    email = renewable(app, code, "10", today=today)
    with app.app_context():
        old_expiry = db.session.scalar(
            sa.select(Certificate.expires_on).where(Certificate.code == code)
        )
    old_index = index_of(credential_of(client, code))
    log_in(client, email)
    assert "Ask for renewal" in text(client.get("/me/"))
    asked = client.post(f"/me/certificates/{code}/renew")
    assert asked.status_code == 303
    page = text(client.get("/me/"))
    assert "Renewal requested as" in page
    assert "Ask for renewal" not in page  # asked once: the request is shown instead
    with app.app_context():
        request = db.session.scalar(
            sa.select(AwardRequest).where(AwardRequest.replaces.has(Certificate.code == code))
        )
        renewal_code = request.code
    # Nothing changes before both bodies approve: the old certificate stays valid.
    assert client.get(f"/api/v1/verify/{code}").get_json()["status"] == "valid"
    for body in ("EFRS", "EuSoMII"):
        approved = bodies[body].post(f"/certificates/{renewal_code}/approve", {})
        assert approved.status_code == 200, approved.get_json()

    with app.app_context():
        old = db.session.scalar(sa.select(Certificate).where(Certificate.code == code))
        new = db.session.scalar(sa.select(Certificate).where(Certificate.code == renewal_code))
        assert old.status_on(today) is CertificateStatus.SUPERSEDED and old.renewed
        assert old.revoked_at is None
        assert new.renews_id == old.id and new.issued_on == today
        assert new.expires_on == subtract_months(old_expiry, -60)
        assert new.holder_name == "Zoë Ó Súilleabháin"
        assert db.session.scalar(
            sa.select(IssuedCredential.certificate_id).where(
                IssuedCredential.certificate_id == new.id
            )
        )
        kinds = set(
            db.session.scalars(
                sa.select(OutgoingEmail.kind).where(OutgoingEmail.certificate_id == new.id)
            )
        )
        assert kinds == {EmailKind.CERTIFICATE_RENEWED}
        valid_until = format_long_date(new.expires_on)

    renewed_answer = client.get(f"/api/v1/verify/{renewal_code}").get_json()
    assert (renewed_answer["status"], renewed_answer["renews"]) == ("valid", code)
    old_answer = client.get(f"/api/v1/verify/{code}").get_json()
    assert (old_answer["status"], old_answer["superseded_by"], old_answer["renewed"]) == (
        "superseded",
        renewal_code,
        True,
    )
    renewed_page = text(client.get(f"/verify/{renewal_code}"))
    assert f"Renewed — valid until {valid_until}" in renewed_page
    assert "Earlier periods of this award" in renewed_page and code in renewed_page
    old_page = text(client.get(f"/verify/{code}"))
    assert re.search(rf"Renewed as\s*<a[^>]*>{renewal_code}</a>", old_page)
    assert "Revoked" not in old_page
    # The earlier period's credential is not revoked: it stays good for the dates it states.
    assert old_index not in bits(client, "revocation")


def test_a_holder_without_the_points_is_told_what_is_missing_and_nothing_is_requested(
    app, client, bodies, eligible_candidate, today
):
    code = issued_jointly(bodies, eligible_candidate())
    email = renewable(app, code, "4", today=today)
    log_in(client, email)
    assert "Ask for renewal" not in text(client.get("/me/"))
    asked = client.post(f"/me/certificates/{code}/renew")
    assert asked.status_code == 303
    page = text(client.get("/me/"))
    assert "Not renewed yet." in page and "You need 6 more CPD points by" in page
    with app.app_context():
        assert pending_requests() == 0


def test_a_lapsed_certificate_renews_within_its_grace_period_but_not_after(
    app, client, bodies, eligible_candidate, today
):
    in_grace = issued_jointly(bodies, eligible_candidate())
    email = renewable(app, in_grace, "12", today=today, expires_in_days=-30)
    assert client.get(f"/api/v1/verify/{in_grace}").get_json()["status"] == "expired"
    log_in(client, email)
    client.post(f"/me/certificates/{in_grace}/renew")
    assert "Renewal requested as" in text(client.get("/me/"))

    client.post("/logout")
    too_late = issued_jointly(bodies, eligible_candidate())
    email = renewable(app, too_late, "12", today=today, expires_in_days=-400)
    log_in(client, email)
    client.post(f"/me/certificates/{too_late}/renew")
    assert "This certificate cannot be renewed" in text(client.get("/me/"))


def test_nobody_renews_another_holders_certificate(
    app, client, bodies, eligible_candidate, make_candidate, today
):
    code = issued_jointly(bodies, eligible_candidate())
    renewable(app, code, "10", today=today)
    stranger = make_candidate("Jan Novák", email="jan@example.cz")
    log_in(client, stranger.email)
    assert client.post(f"/me/certificates/{code}/renew").status_code == 404
    with app.app_context():
        assert pending_requests() == 0
        assert db.session.scalar(sa.select(User.id).where(User.email == "jan@example.cz"))


def test_a_renewal_opens_180_days_before_expiry_and_its_points_do_not_count_twice(
    app, client, bodies, eligible_candidate, today
):
    code = issued_jointly(bodies, eligible_candidate())
    email = renewable(app, code, "10", today=today, expires_in_days=400)
    log_in(client, email)
    assert "Ask for renewal" not in text(client.get("/me/"))
    client.post(f"/me/certificates/{code}/renew")
    with app.app_context():
        opens = format_long_date(today + dt.timedelta(days=400 - 180))
    assert f"Renewal opens on {opens}, 180 days before the certificate expires." in text(
        client.get("/me/")
    )
    assert "can be renewed from" in text(client.get("/me/"))

    # In its last 180 days it renews; the renewal's own period starts the next day, so the
    # points that renewed it do not renew the next one as well.
    with app.app_context():
        certificate = db.session.scalar(sa.select(Certificate).where(Certificate.code == code))
        certificate.expires_on = today + dt.timedelta(days=100)
        db.session.commit()
    client.post(f"/me/certificates/{code}/renew")
    with app.app_context():
        request = db.session.scalar(
            sa.select(AwardRequest).where(AwardRequest.state == RequestState.PENDING)
        )
        renewal_code = request.code
    for body in ("EFRS", "EuSoMII"):
        assert bodies[body].post(f"/certificates/{renewal_code}/approve", {}).status_code == 200
    page = text(client.get("/me/"))
    assert "You need 10 more CPD points by" in page
    assert "Ask for renewal" not in page


def test_the_office_asks_for_a_renewal_through_the_api_and_an_officer_may_not(
    app, client, bodies, eligible_candidate, today
):
    code = issued_jointly(bodies, eligible_candidate())
    renewable(app, code, "10", today=today)
    refused = bodies["EFRS"].post(f"/certificates/{code}/renew", {})
    assert refused.status_code == 403, refused.get_json()
    asked = bodies["office"].post(f"/certificates/{code}/renew", {})
    assert asked.status_code == 202, asked.get_json()
    requested = asked.get_json()
    assert (requested["status"], requested["replaces"]) == ("pending_approval", code)
    again = bodies["office"].post(f"/certificates/{code}/renew", {})
    assert again.status_code == 409 and again.get_json()["error"] == "already_requested"


def test_the_api_says_what_a_renewal_still_needs(app, client, bodies, eligible_candidate, today):
    code = issued_jointly(bodies, eligible_candidate())
    renewable(app, code, "4", today=today)
    refused = bodies["office"].post(f"/certificates/{code}/renew", {})
    assert refused.status_code == 422
    answer = refused.get_json()
    assert answer["error"] == "requirements_not_met"
    assert answer["missing"][0].startswith("You need 6 more CPD points by")
