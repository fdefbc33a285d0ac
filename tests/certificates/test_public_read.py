"""The verifier's look-up reads a certificate without a Session (``PreparedRead``): what it
reads must be what the mapped certificate says, whichever way the read goes."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from decimal import Decimal

import sqlalchemy as sa
from flask import Flask

from certification.auth.services import get_candidate
from certification.catalogue.services import get_programme
from certification.certificates.public import public_certificate
from certification.certificates.services import (
    issue_certificate,
    reissue_certificate,
    revoke_certificate,
)
from certification.extensions import db


def _listening(app: Flask) -> Callable[[], None]:
    """Something listens to the engine's statements (as a tracer would); returns the undo."""
    with app.app_context():
        engine = db.engine

    def listener(*_: object) -> None:
        return None

    sa.event.listen(engine, "before_cursor_execute", listener)
    return lambda: sa.event.remove(engine, "before_cursor_execute", listener)


def test_the_public_record_is_the_certificate_whether_or_not_statements_are_traced(
    app: Flask, eligible_candidate: Callable[..., int], today: dt.date
) -> None:
    candidate_id = eligible_candidate("Ærøskøbing Ørsted-Łódź")
    with app.app_context():
        first = issue_certificate(
            get_candidate(candidate_id), get_programme("EII-C"), None, today=today
        )
        db.session.commit()
        second = reissue_certificate(first, None)
        db.session.commit()
        revoke_certificate(second, "Issued in error", None)
        db.session.commit()
        codes = {"superseded": first.code, "revoked": second.code}

        untraced = {name: public_certificate(code) for name, code in codes.items()}
        stop_listening = _listening(app)
        try:
            traced = {name: public_certificate(code) for name, code in codes.items()}
        finally:
            stop_listening()

        assert traced == untraced
        for name, code in codes.items():
            record = untraced[name]
            assert record.code == code
            assert record.holder_name == "Ærøskøbing Ørsted-Łódź"
            assert record.credits_total == Decimal(10)
            assert isinstance(record.issued_on, dt.date)
            assert record.issued_at.tzinfo is not None
        assert untraced["superseded"].replacement_code == second.code
        assert untraced["superseded"].status_on(today).value == "superseded"
        assert untraced["revoked"].status_on(today).value == "revoked"
        assert untraced["revoked"].revocation_reason == "Issued in error"
        # Every field the mapped certificate has, the record has alike.
        for field in dataclasses.fields(untraced["revoked"]):
            if hasattr(second, field.name):
                assert getattr(untraced["revoked"], field.name) == getattr(second, field.name)
