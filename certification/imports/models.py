"""An uploaded CSV file, kept between its preview and its commit."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from certification.auth.models import User
from certification.extensions import Model
from certification.types import UTCDateTime, text_enum, utcnow


class ImportKind(enum.StrEnum):
    CANDIDATES = "candidates"
    CREDITS = "credits"
    RESULTS = "results"
    # A webinar's or an event's attendance list, credited as CPD points. The event, stated
    # once for the whole file at upload, is kept in the upload's summary.
    ATTENDANCE = "attendance"


class ImportUpload(Model):
    """A file an administrator uploaded to import.

    Kept in the database, not in a worker's memory or on its disk, so that the preview and
    the commit may be served by different workers or hosts. ``committed_at`` is set once,
    by the commit that wrote its rows; the summary is what the last preview or the commit
    found.
    """

    __tablename__ = "import_upload"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    kind: so.Mapped[ImportKind] = so.mapped_column(text_enum(ImportKind))
    filename: so.Mapped[str] = so.mapped_column(sa.String(255))
    # Deferred: lists of uploads need not read every file's bytes.
    content: so.Mapped[bytes] = so.mapped_column(sa.LargeBinary, deferred=True)
    sha256: so.Mapped[str] = so.mapped_column(sa.String(64), index=True)
    uploaded_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    uploaded_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow, index=True)
    committed_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime)
    summary: so.Mapped[dict[str, Any] | None] = so.mapped_column(sa.JSON)

    uploaded_by: so.Mapped[User | None] = so.relationship()

    def __repr__(self) -> str:
        return f"<ImportUpload {self.id} {self.kind.value}>"
