"""The public verification area: anyone checks a certificate's code or PDF, no login.

The blueprint has no URL prefix because it owns both the pages (``/verify``) and the two
public JSON routes (``/api/v1/verify/...``): one rate limit then covers them all.
"""

from __future__ import annotations

from flask import Blueprint, current_app

from certification.extensions import limiter

bp = Blueprint("verify", __name__)

# One limit per client over every route here, pages and JSON alike, and a look-up that
# finds nothing costs the same as one that does: nobody can walk through codes faster
# by switching channels or by guessing.
limiter.shared_limit(lambda: current_app.config["VERIFY_RATE_LIMIT"], scope="verify")(bp)

from certification.verify import views  # noqa: E402,F401  (registers the routes on bp)
