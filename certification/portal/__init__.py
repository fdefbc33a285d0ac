"""The candidate's own pages: progress towards each award and the transcript."""

from __future__ import annotations

from certification.portal import (  # noqa: F401  (each registers its routes on bp)
    claims,
    privacy,
    renewals,
    views,
)
from certification.portal.blueprint import bp
from certification.portal.privacy import notice_bp

__all__ = ["bp", "notice_bp"]
