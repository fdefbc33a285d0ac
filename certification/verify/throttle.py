"""One rate limit per client over every verification route, pages and JSON alike.

A look-up that finds nothing costs the same as one that does, so nobody can walk through
codes faster by switching channels or by guessing. The count is kept in Flask-Limiter's
storage (memory, or Redis shared by every worker and host) with its strategy, but taken
here directly: one storage call per look-up. Flask-Limiter's own decorator spends about
three times a bare Flask request's instructions deciding which of its limits apply, on the
busiest pages of the site (callgrind, bench/bench_verify.py); it still guards the login,
and its hooks are not run here at all (:func:`init_limiter`).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, abort, current_app, g, request
from flask_limiter.util import get_remote_address
from limits import RateLimitItem, parse_many

from certification.extensions import limiter

SCOPE = "verify"


def count_look_up() -> None:
    """Count this request against its client's limit; 429 once the limit is spent. Opening
    the empty form looks nothing up, and is not counted."""
    config = current_app.config
    if not config.get("RATELIMIT_ENABLED", True):
        return
    if request.method == "GET" and request.endpoint == "verify.index":
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


def init_limiter(app: Flask) -> None:
    """Bind Flask-Limiter to ``app``, its hooks left out of the verification routes.

    Flask-Limiter runs three hooks on every request: before it, working out which of its
    limits apply (a request filter is asked only at the end of that work), after it,
    deducting and writing headers, and at teardown, forgetting. None of its limits ever
    applies to a verification route, where :func:`count_look_up` keeps the limit, so there
    they are skipped: a seventh of a look-up's instructions (callgrind, docs/PERFORMANCE.md).
    The hooks are told apart as the ones ``init_app`` adds, not by Flask-Limiter's names."""
    registries: tuple[dict[Any, list[Any]], ...] = (
        app.before_request_funcs,
        app.after_request_funcs,
        app.teardown_request_funcs,
    )
    already = [list(registry.get(None, ())) for registry in registries]
    limiter.init_app(app)
    for registry, kept in zip(registries, already, strict=True):
        registry[None] = [
            hook if hook in kept else _not_on_verification(hook) for hook in registry.get(None, ())
        ]


def _not_on_verification(hook: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(hook)
    def elsewhere(*args: Any) -> Any:
        if request.blueprint == SCOPE:
            # An after-request hook hands the response on; a teardown's answer is ignored.
            return args[0] if args else None
        return hook(*args)

    return elsewhere
