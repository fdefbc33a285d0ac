"""The audit trail is append-only, and the database itself holds it to that."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask

from certification.audit import AuditEvent, record_event
from certification.extensions import db


def assert_audit_rows_cannot_change(app: Flask) -> None:
    with app.app_context():
        event = record_event(None, "test.recorded", "test", 1, after={"n": 1})
        db.session.commit()
        event_id = event.id
        for statement in (
            sa.update(AuditEvent).where(AuditEvent.id == event_id).values(action="test.forged"),
            sa.delete(AuditEvent).where(AuditEvent.id == event_id),
        ):
            with pytest.raises(sa.exc.DatabaseError, match="append-only"):
                db.session.execute(statement)
            db.session.rollback()
        kept = db.session.get(AuditEvent, event_id)
        assert (kept.action, kept.after) == ("test.recorded", {"n": 1})
        record_event(None, "test.recorded", "test", 2)  # appending still works
        db.session.commit()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == 2


def test_audit_rows_cannot_be_changed_or_deleted(app):
    assert_audit_rows_cannot_change(app)
