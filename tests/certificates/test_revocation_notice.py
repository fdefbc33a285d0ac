"""Revoking announces itself once, for the certificate revoked, and only when it happens:
the holder's e-mail follows a revocation, never a refused one."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask

from certification.certificates.services import (
    find_certificate,
    reissue_certificate,
    revoke_certificate,
)
from certification.errors import InvalidInput, RuleViolation
from certification.extensions import db
from certification.mail.models import EmailKind, OutgoingEmail
from tests.conftest import issue_by_service


def _revocation_notices(app: Flask) -> list[tuple[str, str]]:
    """(recipient, subject) of every revocation e-mail written."""
    with app.app_context():
        return [
            (row.recipient, row.subject)
            for row in db.session.execute(
                sa.select(OutgoingEmail.recipient, OutgoingEmail.subject)
                .where(OutgoingEmail.kind == EmailKind.CERTIFICATE_REVOKED)
                .order_by(OutgoingEmail.id)
            )
        ]


@pytest.mark.parametrize(
    ("reason", "refusal"),
    [("   ", InvalidInput), ("abc", InvalidInput), ("x" * 501, InvalidInput)],
)
def test_a_refused_revocation_tells_nobody(app, eligible_candidate, today, reason, refusal):
    code = issue_by_service(app, eligible_candidate(), today)
    with app.app_context():
        with pytest.raises(refusal):
            revoke_certificate(find_certificate(code), reason, None)
        # Keep whatever the refused call wrote, so that a notice written before the
        # refusal would be found below rather than rolled back with it.
        db.session.commit()
    with app.app_context():
        assert find_certificate(code).revoked_at is None
    assert _revocation_notices(app) == []


def test_a_superseded_certificate_cannot_be_revoked_and_its_successors_revocation_names_it(
    app, eligible_candidate, today
):
    code = issue_by_service(app, eligible_candidate("Jānis Bērziņš"), today)
    with app.app_context():
        new_code = reissue_certificate(find_certificate(code), None).code
        db.session.commit()
        with pytest.raises(RuleViolation, match="superseded"):
            revoke_certificate(find_certificate(code), "Wrong one", None)
        db.session.commit()  # as above: what the refused call wrote, kept
    assert _revocation_notices(app) == []

    with app.app_context():
        revoke_certificate(find_certificate(new_code), "Issued in error", None)
        db.session.commit()
    assert _revocation_notices(app) == [
        (
            "eligible1@example.org",
            f"Your European Certificate in Imaging Informatics ({new_code}) has been revoked",
        )
    ]
