"""What every face needs to know about the session in hand: when its owner last proved who
they are, and the check that a sensitive change was asked for by someone who just did."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, Response, current_app, flash, redirect, request, session, url_for
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin

F = TypeVar("F", bound=Callable[..., Any])

AUTHENTICATED_AT = "authenticated_at"


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, with no work for a request that brings no cookie and
    leaves its session empty (every verifier's, every API call's): Flask builds the cookie
    signer for each request and works out every cookie setting before looking."""

    def open_session(self, app: Flask, request: Any) -> SecureCookieSession | None:
        if app.secret_key and self.get_cookie_name(app) not in request.cookies:
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if not session and not session.modified:
            if session.accessed:
                response.vary.add("Cookie")
            return
        super().save_session(app, session, response)


def logged_in() -> bool:
    """Is someone logged in on this request? Asked of every answer, so a session that names
    nobody (every verifier's) says no without loading a user. The session is the only way
    in: no remember-me cookie is ever set."""
    from flask_login import current_user

    return "_user_id" in session and bool(current_user.is_authenticated)


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
