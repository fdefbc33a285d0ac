"""The public verification area: anyone checks a certificate's code or PDF, no login.

The blueprint has no URL prefix because it owns both the pages (``/verify``) and the two
public JSON routes (``/api/v1/verify/...``): one rate limit then covers them all.
"""

from __future__ import annotations

from flask import Blueprint

from certification.verify.throttle import count_look_up

bp = Blueprint("verify", __name__)
bp.before_request(count_look_up)

from certification.verify import views  # noqa: E402,F401  (registers the routes on bp)
