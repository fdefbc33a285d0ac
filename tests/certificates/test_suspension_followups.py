"""What follows a suspension of a jointly approved certificate: the holder is told (by
whom, when, why, who decides, whom to ask) and told again when it is reinstated; a reissue
of it still awaiting approval is rejected, since it could never be issued."""

from __future__ import annotations

import sqlalchemy as sa

from certification.audit import AuditEvent
from certification.certificates.models import Certificate
from certification.dates import format_long_date
from certification.extensions import db
from certification.mail.models import EmailKind, OutgoingEmail
from certification.types import utcnow
from tests.certificates.test_approvals import (
    REASON,
    issued_jointly,
)
from tests.conftest import assert_error

CHECKED = "The result was checked with the examination board and is right."


def _mails(app, kind: EmailKind) -> list[OutgoingEmail]:
    with app.app_context():
        found = list(
            db.session.scalars(
                sa.select(OutgoingEmail)
                .where(OutgoingEmail.kind == kind)
                .order_by(OutgoingEmail.id)
            )
        )
        db.session.expunge_all()
        return found


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_the_holder_is_told_of_the_suspension_and_of_the_reinstatement(
    app, bodies, eligible_candidate, today
):
    app.config["PROGRAMME_OFFICE_EMAIL"] = "office@efrs.example"
    code = issued_jointly(bodies, eligible_candidate("Zeynep Çelik"))
    assert (
        bodies["EFRS"].post(f"/certificates/{code}/revoke", {"reason": REASON}).status_code == 200
    )

    (suspended,) = _mails(app, EmailKind.CERTIFICATE_SUSPENDED)
    assert suspended.recipient == "eligible1@example.org"
    assert code in suspended.subject and "suspended" in suspended.subject
    text = _flat(suspended.text_body)
    award = "European Certificate in Imaging Informatics"
    assert "Dear Zeynep Çelik," in text
    assert (
        f"On {format_long_date(today)}, EFRS asked for the revocation of your {award},"
        f" certificate {code}." in text
    )
    assert REASON in suspended.text_body.splitlines()
    assert "EuSoMII now decides whether to revoke the certificate or to reinstate it." in text
    assert "write to the programme office at office@efrs.example." in text
    assert "valid until" not in text
    assert _mails(app, EmailKind.CERTIFICATE_REVOKED) == []

    reinstated = bodies["EuSoMII"].post(f"/certificates/{code}/reinstate", {"reason": CHECKED})
    assert reinstated.status_code == 200
    (back,) = _mails(app, EmailKind.CERTIFICATE_REINSTATED)
    assert back.recipient == "eligible1@example.org" and code in back.subject
    text = _flat(back.text_body)
    assert (
        f"On {format_long_date(today)}, EuSoMII declined the revocation of your {award},"
        f" certificate {code}, that EFRS had asked for on {format_long_date(today)}." in text
    )
    assert "it is valid again, until" in text
    assert CHECKED in back.text_body.splitlines()
    assert "write to the programme office at office@efrs.example." in text

    # A second suspension is a second message, however soon after the first.
    assert (
        bodies["EuSoMII"].post(f"/certificates/{code}/revoke", {"reason": REASON}).status_code
        == 200
    )
    _, second = _mails(app, EmailKind.CERTIFICATE_SUSPENDED)
    assert "EuSoMII asked for the revocation" in _flat(second.text_body)
    assert "EFRS now decides" in _flat(second.text_body)


def test_a_pending_reissue_is_rejected_when_its_certificate_is_suspended(
    app, client, bodies, eligible_candidate
):
    old = issued_jointly(bodies, eligible_candidate("Lukasz Wisniewski"))
    asked = bodies["office"].post(
        f"/certificates/{old}/reissue", {"full_name": "Łukasz Wiśniewski"}
    )
    assert asked.status_code == 202, asked.get_json()
    new = asked.get_json()["code"]
    assert bodies["EFRS"].post(f"/certificates/{new}/approve", {}).status_code == 200

    assert (
        bodies["EuSoMII"].post(f"/certificates/{old}/revoke", {"reason": REASON}).status_code == 200
    )
    answer = bodies["office"].get(f"/certificates/{new}/approvals").get_json()
    assert (answer["status"], answer["rejected_by"]) == ("rejected", "EuSoMII")
    assert (
        f"Ended because {old}, the certificate it would replace, was suspended by EuSoMII"
        in (answer["rejection_reason"])
    )
    # It can no longer be approved, nor be the last approval that fails after rendering.
    assert_error(bodies["EuSoMII"].post(f"/certificates/{new}/approve", {}), 409, "not_pending")
    with app.app_context():
        (event,) = db.session.scalars(
            sa.select(AuditEvent).where(
                AuditEvent.object_id == new, AuditEvent.action == "certificate.rejected"
            )
        ).all()
        assert event.after["body"] == "EuSoMII" and event.after["replaces"] == old
        assert event.after["because"] == "suspended"

    # Reinstated, it may be reissued again.
    assert (
        bodies["EFRS"].post(f"/certificates/{old}/reinstate", {"reason": CHECKED}).status_code
        == 200
    )
    again = bodies["office"].post(
        f"/certificates/{old}/reissue", {"full_name": "Łukasz Wiśniewski"}
    )
    assert again.status_code == 202, again.get_json()


def test_a_reissue_pending_on_a_certificate_suspended_before_is_rejected_by_its_revocation(
    app, bodies, eligible_candidate
):
    """A reissue left pending by a suspension recorded before this rule: the revocation
    ends it."""
    old = issued_jointly(bodies, eligible_candidate())
    new = bodies["office"].post(f"/certificates/{old}/reissue", {}).get_json()["code"]
    with app.app_context():
        certificate = db.session.scalar(sa.select(Certificate).where(Certificate.code == old))
        certificate.suspended_at = utcnow()
        certificate.suspended_by_body = "EFRS"
        certificate.suspension_reason = REASON
        db.session.commit()
    assert (
        bodies["EuSoMII"].post(f"/certificates/{old}/revoke", {"reason": REASON}).status_code == 200
    )
    answer = bodies["office"].get(f"/certificates/{new}/approvals").get_json()
    assert (answer["status"], answer["rejected_by"]) == ("rejected", "EuSoMII")
    assert (
        f"{old}, the certificate it would replace, was revoked by EuSoMII"
        in (answer["rejection_reason"])
    )
