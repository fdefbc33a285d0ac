"""The verification area's blueprint: every route on it counts against one look-up limit.

It has no URL prefix because it owns both the pages (``/verify``) and the two public JSON
routes (``/api/v1/verify/...``): one rate limit then covers them all.
"""

from __future__ import annotations

from flask import Blueprint

from certification.verify.throttle import count_look_up

bp = Blueprint("verify", __name__)
bp.before_request(count_look_up)
