"""What every face needs to know about the session in hand: when its owner last proved who
they are, and the check that a sensitive change was asked for by someone who just did."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any, TypeVar

from flask import current_app, flash, redirect, request, session, url_for

F = TypeVar("F", bound=Callable[..., Any])

AUTHENTICATED_AT = "authenticated_at"


def mark_authenticated() -> None:
    """The owner of this session has just typed their password (and code, if they have one)."""
    session[AUTHENTICATED_AT] = int(time.time())


def is_fresh() -> bool:
    at = session.get(AUTHENTICATED_AT)
    limit = int(current_app.config["FRESH_LOGIN_MINUTES"]) * 60
    return isinstance(at, int) and time.time() - at <= limit


def fresh_login_required(view: F) -> F:
    """Send the user to confirm their password (and code) first, unless they logged in or
    confirmed within ``FRESH_LOGIN_MINUTES``: a session left open on a shared computer must
    not be enough to change a password, a second factor, API tokens or signing settings.

    Only changes are checked: a GET (the page with the form) is shown as usual. A POST that
    arrives stale is not replayed: the user confirms, comes back to the page and submits
    again."""

    @functools.wraps(view)
    def checked(*args: Any, **kwargs: Any) -> Any:
        if request.method in ("GET", "HEAD") or is_fresh():
            return view(*args, **kwargs)
        flash("Please confirm it is you before this change.", "info")
        return redirect(url_for("auth.confirm_identity", next=_path_of(request.referrer)))

    return checked  # type: ignore[return-value]


def _path_of(target: str | None) -> str | None:
    if not target:
        return None
    if "://" in target:  # a referrer is a full URL; keep only this site's path
        host_url = request.host_url
        return "/" + target[len(host_url) :] if target.startswith(host_url) else None
    return target
