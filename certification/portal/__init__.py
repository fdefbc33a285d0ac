"""The candidate's own pages: progress towards each award and the transcript."""

from __future__ import annotations

from certification.portal import views  # noqa: F401  (registers the routes on bp)
from certification.portal.blueprint import bp

__all__ = ["bp"]
