"""Revocation that sticks: revoking a certificate puts its award on hold for the holder, in
the office's pages and in bulk jobs, until an officer lifts it with a reason."""

from __future__ import annotations

import html

import sqlalchemy as sa

from certification.audit import AuditEvent
from certification.catalogue.services import get_programme
from certification.certificates import bulk
from certification.certificates.models import IssueItemState, IssueJobItem
from certification.certificates.services import find_certificate, revoke_certificate
from certification.extensions import db
from tests.conftest import issue_by_service, log_in


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_a_revoked_holder_leaves_ready_to_issue_until_the_hold_is_lifted(
    app, client, make_admin, eligible_candidate, today
):
    make_admin("office@efrs.example")
    log_in(client, "office@efrs.example")
    holder = eligible_candidate("Αικατερίνη Παπαδοπούλου")
    code = issue_by_service(app, holder, today)
    revoked = client.post(
        f"/admin/certificates/{code}/revoke",
        data={"reason": "Issued before the examination board met", "confirmed": "yes"},
    )
    assert revoked.status_code == 303

    ready = _text(client.get("/admin/programmes/EII-C/eligible"))
    assert "Issue to everyone eligible" not in ready  # nobody left to issue to
    listed_apart = ready.split('id="on-hold"', 1)[1]
    assert "Αικατερίνη Παπαδοπούλου" in listed_apart and code in listed_apart
    assert "Issued before the examination board met" in listed_apart

    page = _text(client.get(f"/admin/candidates/{holder}"))
    assert "On hold" in page and "Issue certificate" not in page
    refused = client.post(f"/admin/candidates/{holder}/certificates", data={"programme": "EII-C"})
    assert refused.status_code == 422 and "is on hold for Αικατερίνη Παπαδοπούλου" in _text(refused)

    no_reason = client.post(f"/admin/candidates/{holder}/holds/EII-C/lift", data={"reason": " "})
    assert no_reason.status_code == 422
    assert "This field is required" in _text(no_reason)
    lifted = client.post(
        f"/admin/candidates/{holder}/holds/EII-C/lift",
        data={"reason": "The board confirmed the result"},
        follow_redirects=True,
    )
    assert "The hold on the European Certificate in Imaging Informatics is lifted" in _text(lifted)
    assert "Issue certificate" in _text(lifted)
    assert "Αικατερίνη Παπαδοπούλου" in _text(client.get("/admin/programmes/EII-C/eligible"))
    with app.app_context():
        actions = list(db.session.scalars(sa.select(AuditEvent.action)))
        assert "award_hold.placed" in actions and "award_hold.lifted" in actions


def test_a_bulk_job_skips_a_holder_revoked_after_it_started_and_says_why(
    app, eligible_candidate, today
):
    first, second = eligible_candidate("Jan Novák"), eligible_candidate("Ana Horvat")
    old_code = issue_by_service(app, second, today)
    with app.app_context():
        revoke_certificate(find_certificate(old_code), "Issued in error", None)
        db.session.commit()
        # The second is on hold: the job takes only the first...
        job = bulk.start_issue_job(get_programme("EII-C"), None, today=today, queue=False)
        assert job.total == 1
        db.session.commit()
        job_id = job.id
        # ... who is revoked a certificate of the award too before the job runs (an
        # expired one, say, renewed meanwhile by hand, then revoked).
        code = issue_by_service(app, first, today)
        revoke_certificate(find_certificate(code), "Wrong person", None)
        db.session.commit()
        bulk.run_issue_job(job_id, today=today, processes=1)
        (item,) = db.session.scalars(sa.select(IssueJobItem).where(IssueJobItem.job_id == job_id))
        assert item.state is IssueItemState.SKIPPED
        assert "On hold since certificate" in item.error and "Wrong person" in item.error


def test_the_holder_and_verifiers_are_not_told_a_revoked_award_is_in_force(
    app, client, make_admin, eligible_candidate, today
):
    """The holder's award says it is on hold, with the revocation's day and reason, even
    though every requirement is met; a verifier reads no 'Valid until' under the red
    banner; the office's empty Ready to issue list does not claim that nobody waits."""
    holder = eligible_candidate("Zeynep Çelik")
    code = issue_by_service(app, holder, today)
    with app.app_context():
        revoke_certificate(find_certificate(code), "Issued before the board met", None)
        email = find_certificate(code).candidate.email
        db.session.commit()

    log_in(client, email)
    award = _text(client.get("/me/")).split("<h2>Awards</h2>", 1)[1]
    note = award.split('class="hold-note"', 1)[1].split("</p>", 1)[0]
    assert code in note and "Issued before the board met" in note
    assert "even though every requirement is met" in note
    client.post("/logout")

    verified = _text(client.get(f"/verify/{code}"))
    assert "Revoked on" in verified and "Valid until" not in verified

    make_admin("office@efrs.example")
    log_in(client, "office@efrs.example")
    ready = _text(client.get("/admin/programmes/EII-C/eligible"))
    assert "Nobody is waiting" not in ready
    assert "those below are on hold" in ready
