"""Idempotency keys: an integrator's retry of a POST records nothing twice.

A client that did not hear the answer to ``POST .../credits`` (a timeout, a dropped
connection) sends the same request again with the same ``Idempotency-Key`` header; it gets
the first answer back and nothing new is recorded. The key is claimed in the same
transaction as the work it guards, so either both commit or neither does: a refused request
(4xx) leaves no trace and may be retried with the same key once corrected.

Keys are scoped to the acting administrator (two integrators cannot collide), and a key
reused for a *different* request is refused rather than answered with an unrelated record.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

import sqlalchemy as sa
import sqlalchemy.orm as so
from sqlalchemy.exc import IntegrityError

from certification.auth.models import User
from certification.errors import ServiceError
from certification.extensions import Model, db
from certification.types import UTCDateTime, utcnow

MAX_KEY_LENGTH = 255


class IdempotencyKey(Model):
    """A key an integrator sent, the request it came with, and the answer it got."""

    __tablename__ = "idempotency_key"
    __table_args__ = (sa.UniqueConstraint("actor_id", "key"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    actor_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"))
    key: so.Mapped[str] = so.mapped_column(sa.String(MAX_KEY_LENGTH))
    # SHA-256 of method, path and body: the same key must come with the same request.
    request_sha256: so.Mapped[str] = so.mapped_column(sa.String(64))
    response_status: so.Mapped[int | None]
    response_body: so.Mapped[str | None] = so.mapped_column(sa.Text)
    created_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow, index=True)


class KeyReused(ServiceError):
    slug = "idempotency_key_reused"
    http_status = 422

    def __init__(self) -> None:
        super().__init__(
            "This Idempotency-Key was already used for a different request; send a new key.",
            {"Idempotency-Key": "Already used for a different request."},
        )


class MalformedKey(ServiceError):
    slug = "malformed"
    http_status = 400

    def __init__(self) -> None:
        super().__init__(
            f"An Idempotency-Key is 1 to {MAX_KEY_LENGTH} visible ASCII characters.",
            {"Idempotency-Key": f"1 to {MAX_KEY_LENGTH} visible ASCII characters."},
        )


@dataclass(frozen=True)
class StoredAnswer:
    status: int
    body: str


def request_fingerprint(method: str, path: str, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode(), body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def check_key(key: str) -> str:
    if not 0 < len(key) <= MAX_KEY_LENGTH or not all(" " < c <= "~" for c in key):
        raise MalformedKey
    return key


def claim_key(actor: User, key: str, fingerprint: str) -> IdempotencyKey | StoredAnswer:
    """Claim ``key`` for this request, or return the answer its first use got.

    Returns the new (unanswered) claim, to be completed with :func:`remember_answer` once the
    work is done in the same transaction. A concurrent request with the same key waits on
    the unique constraint (PostgreSQL) or the write lock (SQLite) and then replays the
    winner's answer.
    """
    check_key(key)
    existing = _stored(actor, key)
    if existing is None:
        claim = IdempotencyKey(actor_id=actor.id, key=key, request_sha256=fingerprint)
        try:
            with db.session.begin_nested():
                db.session.add(claim)
            return claim
        except IntegrityError:
            existing = _stored(actor, key)  # the concurrent request committed first
            if existing is None:
                raise
    if existing.request_sha256 != fingerprint:
        raise KeyReused
    assert existing.response_status is not None  # noqa: S101 - claims commit with an answer
    return StoredAnswer(existing.response_status, existing.response_body or "")


def remember_answer(claim: IdempotencyKey, status: int, body: str) -> None:
    claim.response_status = status
    claim.response_body = body
    db.session.flush()


def _stored(actor: User, key: str) -> IdempotencyKey | None:
    return db.session.scalar(
        sa.select(IdempotencyKey).where(
            IdempotencyKey.actor_id == actor.id, IdempotencyKey.key == key
        )
    )


def prune_expired_keys(now: dt.datetime, keep_days: int) -> int:
    """Delete keys older than ``keep_days`` (a retry comes within hours, not months)."""
    cutoff = now - dt.timedelta(days=keep_days)
    result = db.session.execute(sa.delete(IdempotencyKey).where(IdempotencyKey.created_at < cutoff))
    return int(getattr(result, "rowcount", 0) or 0)
