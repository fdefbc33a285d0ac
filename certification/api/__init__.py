"""JSON API v1 for integrators (bearer tokens)."""

from __future__ import annotations

from flask import Blueprint

from certification.extensions import csrf

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # bearer tokens, not cookies: no cross-site request can carry one

from certification.api import views  # noqa: E402,F401  (registers the routes on bp)
