"""A holder's request that their data be erased (GDPR article 17), and what became of it."""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
import sqlalchemy.orm as so

from certification.auth.models import User
from certification.extensions import Model
from certification.types import UTCDateTime, text_enum, utcnow


class ErasureStatus(enum.StrEnum):
    PENDING = "pending"  # the office has not decided yet; the holder may withdraw it
    WITHDRAWN = "withdrawn"  # the holder changed their mind
    REFUSED = "refused"  # the office said why not yet (an open request or claim, say)
    CARRIED_OUT = "carried_out"


class ErasureRequest(Model):
    """One request to erase a holder's data. At most one is pending per holder at a time.

    The row stays once decided: it is the record that the holder asked and what was done,
    and it names only the (then anonymised) account, never the person."""

    __tablename__ = "erasure_request"
    __table_args__ = (
        sa.Index(
            "uq_erasure_request_pending",
            "candidate_id",
            unique=True,
            sqlite_where=sa.text("status = 'pending'"),
            postgresql_where=sa.text("status = 'pending'"),
        ),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    candidate_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"), index=True)
    status: so.Mapped[ErasureStatus] = so.mapped_column(
        text_enum(ErasureStatus), default=ErasureStatus.PENDING
    )
    requested_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    decided_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime)
    decided_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    # Why the office did not carry it out (yet): the holder reads it, on their page and by
    # e-mail.
    refusal_reason: so.Mapped[str | None] = so.mapped_column(sa.String(500))

    candidate: so.Mapped[User] = so.relationship(foreign_keys=[candidate_id])

    @property
    def is_pending(self) -> bool:
        return self.status is ErasureStatus.PENDING

    def __repr__(self) -> str:
        return f"<ErasureRequest {self.id} {self.status.value}>"
