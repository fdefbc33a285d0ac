"""Append-only audit events: who changed what, when, with the before and after."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from certification.auth.models import User
from certification.extensions import Model, db
from certification.types import UTCDateTime, utcnow


class AuditEvent(Model):
    """One change of state that matters. Rows are only ever inserted."""

    __tablename__ = "audit_event"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    occurred_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    action: so.Mapped[str] = so.mapped_column(sa.String(60), index=True)
    object_type: so.Mapped[str] = so.mapped_column(sa.String(40))
    object_id: so.Mapped[str] = so.mapped_column(sa.String(60))
    before: so.Mapped[dict[str, Any] | None] = so.mapped_column(sa.JSON)
    after: so.Mapped[dict[str, Any] | None] = so.mapped_column(sa.JSON)

    actor: so.Mapped[User | None] = so.relationship()


# The database itself refuses to change or delete an audit row, whoever asks: a bug, a
# stray script or someone with the application's credentials. (TRUNCATE and DROP need the
# table owner's rights, which the application's role in production should not have.)
# The same statements are in the migration that added them.
APPEND_ONLY_POSTGRESQL = [
    """CREATE OR REPLACE FUNCTION audit_event_is_append_only() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'audit events are append-only: %% refused', TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END
    $$""",
    """CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event
    FOR EACH ROW EXECUTE FUNCTION audit_event_is_append_only()""",
]
APPEND_ONLY_SQLITE = [
    f"""CREATE TRIGGER audit_event_no_{operation.lower()} BEFORE {operation} ON audit_event
    BEGIN SELECT RAISE(ABORT, 'audit events are append-only: {operation} refused'); END"""
    for operation in ("UPDATE", "DELETE")
]
for _statement in APPEND_ONLY_POSTGRESQL:
    sa.event.listen(
        AuditEvent.__table__, "after_create", sa.DDL(_statement).execute_if(dialect="postgresql")
    )
for _statement in APPEND_ONLY_SQLITE:
    sa.event.listen(
        AuditEvent.__table__, "after_create", sa.DDL(_statement).execute_if(dialect="sqlite")
    )


def record_event(
    actor: User | None,
    action: str,
    object_type: str,
    object_id: object,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append an audit event to the current transaction (flushed with the change it records)."""
    event = AuditEvent(
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        before=before,
        after=after,
    )
    db.session.add(event)
    return event


# ---------------------------------------------------------------- reading the trail


def audit_events_query(
    action: str | None = None, actor_email: str | None = None, object_id: str | None = None
) -> sa.Select[AuditEvent]:
    """Audit events, newest first, optionally of one action, one actor (by e-mail) or one
    object (a certificate code, a candidate id). A statement, so the face can paginate it."""
    statement = (
        sa.select(AuditEvent)
        .options(so.selectinload(AuditEvent.actor))
        .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
    )
    if action := _searchable(action):
        statement = statement.where(AuditEvent.action == action)
    if actor_email := _searchable(actor_email):
        statement = statement.join(User, AuditEvent.actor_id == User.id).where(
            sa.func.lower(User.email) == actor_email.lower()
        )
    if object_id := _searchable(object_id):
        # Codes are stored in capitals; a typed one may not be.
        statement = statement.where(AuditEvent.object_id.in_({object_id, object_id.upper()}))
    return statement


def audit_actions() -> list[str]:
    """The actions the trail holds, for a filter's choices."""
    return list(db.session.scalars(sa.select(AuditEvent.action).distinct().order_by("action")))


def audit_actor_emails() -> list[str]:
    """The e-mail addresses of everyone who appears in the trail as an actor."""
    return list(
        db.session.scalars(
            sa.select(User.email)
            .join(AuditEvent, AuditEvent.actor_id == User.id)
            .distinct()
            .order_by(User.email)
        )
    )


def _searchable(text: str | None) -> str:
    # No database stores a NUL in text, and PostgreSQL refuses to even receive one.
    return (text or "").replace("\x00", "").strip()
