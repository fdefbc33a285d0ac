"""One rate limit per client over every verification route, pages and JSON alike.

A look-up that finds nothing costs the same as one that does, so nobody can walk through
codes faster by switching channels or by guessing. The count is kept in Flask-Limiter's
storage (memory, or Redis shared by every worker and host) with its strategy, but taken
here directly: one storage call per look-up. Flask-Limiter's own decorator spends about
three times a bare Flask request's instructions deciding which of its limits apply, on the
busiest pages of the site (callgrind, bench/bench_verify.py); it still guards the login.
"""

from __future__ import annotations

import functools
import time

from flask import abort, current_app, g, request
from flask_limiter.util import get_remote_address
from limits import RateLimitItem, parse_many

from certification.extensions import limiter

SCOPE = "verify"


def count_look_up() -> None:
    """Count this request against its client's limit; 429 once the limit is spent."""
    config = current_app.config
    if not config.get("RATELIMIT_ENABLED", True):
        return
    prefix = config.get("RATELIMIT_KEY_PREFIX")
    keys = (prefix, SCOPE, get_remote_address()) if prefix else (SCOPE, get_remote_address())
    for item in _parsed(config["VERIFY_RATE_LIMIT"]):
        if not limiter.limiter.hit(item, *keys):
            g.verify_limit_spent = (item, keys)
            abort(429)


def seconds_until_allowed() -> int:
    """For a look-up just refused: how long until its client's window ends."""
    item, keys = g.get("verify_limit_spent", (None, ()))
    if item is None:
        return 60
    reset_at = limiter.limiter.get_window_stats(item, *keys).reset_time
    return max(1, int(reset_at - time.time()))


@functools.lru_cache(maxsize=16)
def _parsed(limit: str) -> tuple[RateLimitItem, ...]:
    return tuple(parse_many(limit))


@limiter.request_filter
def _counted_here() -> bool:
    """Flask-Limiter leaves the verification routes to :func:`count_look_up`."""
    return request.blueprint == SCOPE
