"""The dashboard's figures as last computed."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from certification.extensions import Model
from certification.types import UTCDateTime


class ReportSnapshot(Model):
    """Every figure of the dashboard, as computed at ``computed_at`` for the day ``as_of``.

    Aggregating the whole register takes seconds at 100,000 candidates and a million
    credits; a page view reads the latest of these rows instead, and a queue worker (or an
    administrator's "Refresh now") computes a new one.
    """

    __tablename__ = "report_snapshot"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    computed_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, index=True)
    as_of: so.Mapped[dt.date]
    seconds: so.Mapped[float] = so.mapped_column(sa.Float)  # how long computing them took
    figures: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON)
