from __future__ import annotations

import time
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_limiter.errors import RateLimitExceeded
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from certification.auth.forms import (
    ChangePasswordForm,
    ForgotPasswordForm,
    LoginForm,
    SetPasswordForm,
)
from certification.auth.models import User
from certification.auth.services import (
    authenticate,
    change_password,
    end_sessions,
    find_password_setup_link,
    set_password_with_link,
    user_for_session,
)
from certification.errors import InvalidInput, NotFound
from certification.extensions import limiter, login_manager
from certification.mail.services import queue_password_reset

bp = Blueprint("auth", __name__)

login_manager.login_view = "auth.login"
login_manager.login_message = "Please log in to see that page."
login_manager.login_message_category = "info"

LOGIN_FAILED = "The e-mail address or password is not right."
TOO_MANY_ATTEMPTS = (
    "Too many attempts. For your account's safety, wait a few minutes and try again,"
    " or choose a new password with the link below."
)
RESET_SENT = (
    "If an account uses this address, a link to choose a new password is on its way to it."
    " The link works once, for {minutes} minutes."
)
Page = Response | str | tuple[str, int]


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    return user_for_session(session_id)


def home_for(user: User) -> str:
    return url_for("admin.index") if user.is_admin else url_for("portal.index")


def _safe_next(target: str | None) -> str | None:
    """Only ever follow ``?next=`` to a path on this site."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target:
        return None
    return target


def _start_session(user: User) -> None:
    """A fresh session for ``user``: nothing carried over from before (no fixation)."""
    session.clear()
    login_user(user)
    session["seen_at"] = int(time.time())


# ---------------------------------------------------------------- idle sessions


def _idle_limit(user: User) -> int:
    config = current_app.config
    minutes = config["ADMIN_IDLE_MINUTES"] if user.is_admin else config["CANDIDATE_IDLE_MINUTES"]
    return int(minutes) * 60


@bp.before_app_request
def end_idle_sessions() -> Response | None:
    """Log out a session that has had no request for longer than its role allows."""
    if request.endpoint == "static" or not current_user.is_authenticated:
        return None
    now = int(time.time())
    seen_at = session.get("seen_at")
    if isinstance(seen_at, int) and now - seen_at > _idle_limit(current_user):
        minutes = _idle_limit(current_user) // 60
        logout_user()
        session.clear()
        if request.path.startswith("/api/"):
            return None  # the API then answers as it does to anyone without a session
        flash(f"You were logged out after {minutes} minutes without activity.", "info")
        target = request.full_path if request.method == "GET" else None
        return redirect(url_for("auth.login", next=_safe_next(target)))
    if not isinstance(seen_at, int) or now - seen_at >= 30:  # no new cookie on every click
        session["seen_at"] = now
    return None


# ---------------------------------------------------------------- logging in and out


def _login_failed(response: Response) -> bool:
    return response.status_code == 401


def _account_key() -> str:
    return "login:" + (request.form.get("email") or "").strip().lower()


def _reset_key() -> str:
    return "reset:" + (request.form.get("email") or "").strip().lower()


@bp.route("/")
def index() -> Response:
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    return redirect(url_for("auth.login"))


@bp.route("/login", methods=["GET", "POST"])
# Only failed attempts count, per account (whether or not it exists, so the limit says
# nothing about who has one) and per client.
@limiter.limit(
    lambda: current_app.config["LOGIN_RATE_LIMIT_PER_ACCOUNT"],
    key_func=_account_key,
    methods=["POST"],
    deduct_when=_login_failed,
    scope="login-account",
)
@limiter.limit(
    lambda: current_app.config["LOGIN_RATE_LIMIT_PER_CLIENT"],
    methods=["POST"],
    deduct_when=_login_failed,
    scope="login-client",
)
def login() -> Page:
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(form.email.data or "", form.password.data or "")
        if user is not None:
            _start_session(user)
            return redirect(_safe_next(request.args.get("next")) or home_for(user))
        form.password.errors = [LOGIN_FAILED]
        return render_template("auth/login.html", form=form), 401
    return render_template("auth/login.html", form=form)


@bp.errorhandler(RateLimitExceeded)
def _too_many_attempts(error: RateLimitExceeded) -> Page:
    headers = dict(error.get_headers())
    if request.endpoint == "auth.forgot_password":
        form = ForgotPasswordForm()
        form.email.errors = ["Too many requests. Wait a while, then try again."]
        return render_template("auth/forgot_password.html", form=form), 429, headers  # type: ignore[return-value]
    form = LoginForm()
    form.password.errors = [TOO_MANY_ATTEMPTS]
    return render_template("auth/login.html", form=form), 429, headers  # type: ignore[return-value]


@bp.route("/logout", methods=["POST"])
def logout() -> Response:
    if current_user.is_authenticated:
        end_sessions(current_user)  # on this device and every other one
    logout_user()
    session.clear()
    flash("You have logged out.", "info")
    return redirect(url_for("auth.login"))


# ---------------------------------------------------------------- passwords


@bp.route("/forgot-password", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["RESET_REQUEST_RATE_LIMIT"],
    key_func=_reset_key,
    methods=["POST"],
    scope="reset-account",
)
@limiter.limit(
    lambda: current_app.config["RESET_REQUEST_RATE_LIMIT"],
    methods=["POST"],
    scope="reset-client",
)
def forgot_password() -> Page:
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        queue_password_reset(form.email.data or "")
        # The same answer whether or not the address has an account.
        flash(RESET_SENT.format(minutes=current_app.config["PASSWORD_RESET_MINUTES"]), "info")
        return redirect(url_for("auth.login"), code=303)
    return render_template("auth/forgot_password.html", form=form)


@bp.route("/set-password/<token>", methods=["GET", "POST"])
def set_password(token: str) -> Page:
    try:
        link = find_password_setup_link(token)
    except NotFound as refusal:
        return render_template("auth/link_expired.html", message=refusal.message), 404
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            user = set_password_with_link(token, form.password.data or "")
        except InvalidInput as refusal:
            form.password.errors = [refusal.fields.get("password", refusal.message)]
            return render_template("auth/set_password.html", form=form, user=link.user), 422
        _start_session(user)
        flash("Your password is set. Welcome!", "success")
        return redirect(home_for(user))
    return render_template("auth/set_password.html", form=form, user=link.user)


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def account_password() -> Page:
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            change_password(user, form.current.data or "", form.password.data or "")
        except InvalidInput as refusal:
            form.current.errors = [refusal.fields["current"]] if "current" in refusal.fields else []
            form.password.errors = (
                [refusal.fields["password"]] if "password" in refusal.fields else []
            )
            return render_template("auth/change_password.html", form=form), 422
        _start_session(user)  # this session goes on; every other one has ended
        flash(
            "Your password is changed. Every other session of yours has been logged out.", "success"
        )
        return redirect(home_for(user), code=303)
    return render_template("auth/change_password.html", form=form)
