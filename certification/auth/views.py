from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext, lazy_gettext, ngettext, refresh
from flask_limiter.errors import RateLimitExceeded
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from certification.auth.forms import (
    ChangePasswordForm,
    ConfirmIdentityForm,
    EnrolForm,
    ForgotPasswordForm,
    LanguageForm,
    LoginForm,
    SecondFactorForm,
    SetPasswordForm,
)
from certification.auth.models import User
from certification.auth.passwords import password_matches
from certification.auth.qr_svg import qr_svg
from certification.auth.second_factor import (
    app_code,
    begin_enrolment,
    confirm_enrolment,
    has_second_factor,
    pending_secret,
    provisioning_uri,
    regenerate_recovery_codes,
    reset_second_factor,
    unused_recovery_codes,
    verify_second_factor,
)
from certification.auth.services import (
    authenticate,
    change_password,
    end_sessions,
    find_password_setup_link,
    set_language,
    set_password_with_link,
    user_for_session,
)
from certification.auth.sessions import (
    fresh_login_required,
    is_fresh,
    logged_in,
    mark_authenticated,
)
from certification.errors import InvalidInput, NotFound, RuleViolation
from certification.extensions import limiter, login_manager
from certification.mail.services import queue_password_reset
from certification.web import seconds_until_allowed

bp = Blueprint("auth", __name__)

login_manager.login_view = "auth.login"
login_manager.login_message = lazy_gettext("Please log in to see that page.")
login_manager.login_message_category = "info"
# Flask-Login flashes the message through this: a plain string in the page's language (the
# session, where flashed messages wait, keeps only plain strings).
login_manager.localize_callback = str

# Lazy: each is put on a form or flashed as a plain string (str()), in the page's language.
LOGIN_FAILED = lazy_gettext("The e-mail address or password is not right.")
TOO_MANY_ATTEMPTS = lazy_gettext(
    "Too many attempts. For your account's safety, wait a few minutes and try again,"
    " or choose a new password with the link below."
)
Page = Response | str | tuple[str, int]


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    return user_for_session(session_id)


def home_for(user: User) -> str:
    return url_for("admin.index") if user.is_staff else url_for("portal.index")


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
    mark_authenticated()


def _log_out() -> None:
    """Log out of this session and forget everything it held."""
    logout_user()
    session.clear()


# Between the password and the code: whose password was right, when, and where to go next.
# Not a login yet: nothing behind a login opens until the second step is done.
PENDING = "second_factor_pending"


def _after_password(user: User, next_url: str | None) -> Response:
    """Candidates are in; administrators go on to their code (or set up their app)."""
    if not user.is_staff:
        _start_session(user)
        return redirect(next_url or home_for(user))
    session.clear()
    session[PENDING] = {"user": user.get_id(), "at": int(time.time()), "next": next_url}
    return redirect(url_for("auth.second_factor" if has_second_factor(user) else "auth.enrol"))


def _pending_user() -> User | None:
    pending = session.get(PENDING)
    if not isinstance(pending, dict):
        return None
    limit = int(current_app.config["SECOND_FACTOR_MINUTES"]) * 60
    if time.time() - int(pending.get("at", 0)) > limit:
        session.pop(PENDING, None)
        return None
    user = user_for_session(str(pending.get("user", "")))
    return user if user is not None and user.is_staff else None


def _finish_login(user: User) -> str:
    next_url = _safe_next(session.get(PENDING, {}).get("next"))
    _start_session(user)
    return next_url or home_for(user)


def _start_again() -> Response:
    flash(gettext("Please log in again: that step took too long, or was not started."), "info")
    return redirect(url_for("auth.login"))


def _pending_key() -> str:
    pending = session.get(PENDING)
    who = pending.get("user", "") if isinstance(pending, dict) else ""
    return f"second-factor:{str(who).partition(':')[0]}"


# ---------------------------------------------------------------- idle sessions


def _idle_limit(user: User) -> int:
    config = current_app.config
    minutes = config["ADMIN_IDLE_MINUTES"] if user.is_staff else config["CANDIDATE_IDLE_MINUTES"]
    return int(minutes) * 60


@bp.before_app_request
def end_idle_sessions() -> Response | None:
    """Log out a session that has had no request for longer than its role allows."""
    if request.endpoint == "static" or not logged_in():
        return None
    now = int(time.time())
    seen_at = session.get("seen_at")
    if isinstance(seen_at, int) and now - seen_at > _idle_limit(current_user):
        minutes = _idle_limit(current_user) // 60
        _log_out()
        if request.path.startswith("/api/"):
            return None  # the API then answers as it does to anyone without a session
        flash(
            ngettext(
                "You were logged out after %(num)d minute without activity.",
                "You were logged out after %(num)d minutes without activity.",
                minutes,
            ),
            "info",
        )
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


def _limit_failures_per_account(
    key_func: Callable[[], str],
    scope: str,
    deduct_when: Callable[[Response], bool] = _login_failed,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """At most LOGIN_RATE_LIMIT_PER_ACCOUNT failed attempts per account (``key_func``):
    only a POST that ``deduct_when`` calls a failure counts."""
    return limiter.limit(
        lambda: current_app.config["LOGIN_RATE_LIMIT_PER_ACCOUNT"],
        key_func=key_func,
        methods=["POST"],
        deduct_when=deduct_when,
        scope=scope,
    )


@bp.route("/")
def index() -> Response:
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    return redirect(url_for("auth.login"))


@bp.route("/login", methods=["GET", "POST"])
# Only failed attempts count, per account (whether or not it exists, so the limit says
# nothing about who has one) and per client.
@_limit_failures_per_account(_account_key, "login-account")
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
            return _after_password(user, _safe_next(request.args.get("next")))
        form.password.errors = [str(LOGIN_FAILED)]
        return render_template("auth/login.html", form=form), 401
    return render_template("auth/login.html", form=form)


@bp.route("/login/code", methods=["GET", "POST"])
@_limit_failures_per_account(_pending_key, "second-factor")
def second_factor() -> Page:
    user = _pending_user()
    if user is None:
        return _start_again()
    if not has_second_factor(user):
        return redirect(url_for("auth.enrol"))
    form = SecondFactorForm()
    if form.validate_on_submit():
        code = form.code.data or ""
        if verify_second_factor(user, code):
            next_url = _finish_login(user)  # a fresh session: flash after it, not before
            if app_code(code) is None:
                flash(
                    ngettext(
                        "You used a recovery code; %(num)d is left. Make new ones under Settings.",
                        "You used a recovery code; %(num)d are left. Make new ones under Settings.",
                        unused_recovery_codes(user),
                    ),
                    "info",
                )
            return redirect(next_url)
        form.code.errors = [gettext("That code is not right, or was used already.")]
        return render_template("auth/second_factor.html", form=form), 401
    return render_template("auth/second_factor.html", form=form)


@bp.route("/login/set-up-authenticator", methods=["GET", "POST"])
@_limit_failures_per_account(
    _pending_key, "second-factor", deduct_when=lambda response: response.status_code == 422
)
def enrol() -> Page:
    """First login of an administrator: set up the authenticator app, then log in."""
    user = _pending_user()
    if user is None:
        return _start_again()
    if has_second_factor(user):
        return redirect(url_for("auth.second_factor"))
    secret = pending_secret(user) or begin_enrolment(user)
    form = EnrolForm()
    status = 200
    if form.validate_on_submit():
        try:
            codes = confirm_enrolment(user, form.code.data or "")
        except InvalidInput as refusal:
            form.code.errors = [refusal.message]
            status = 422
        else:
            next_url = _finish_login(user)
            return (
                render_template(
                    "auth/recovery_codes.html", codes=codes, next_url=next_url, first_time=True
                ),
                201,
                {"Cache-Control": "no-store"},
            )  # type: ignore[return-value]
    uri = provisioning_uri(user, secret)
    page = render_template(
        "auth/enrol.html",
        form=form,
        user=user,
        secret=secret,
        qr=qr_svg(uri, label=gettext("QR code to scan with an authenticator app")),
    )
    return page, status, {"Cache-Control": "no-store"}  # type: ignore[return-value]


@bp.route("/login/confirm", methods=["GET", "POST"])
@login_required
@_limit_failures_per_account(lambda: f"confirm:{current_user.get_id()}", "login-account")
def confirm_identity() -> Page:
    """Type the password (and code) again before a sensitive change."""
    user = current_user._get_current_object()
    form = ConfirmIdentityForm()
    needs_code = has_second_factor(user)
    if not needs_code:
        del form.code
    if form.validate_on_submit():
        right = password_matches(user.password_hash, form.password.data or "") and (
            not needs_code or verify_second_factor(user, form.code.data or "")
        )
        if right:
            mark_authenticated()
            return redirect(_safe_next(request.args.get("next")) or home_for(user), code=303)
        form.password.errors = [gettext("The password or the code is not right.")]
        return render_template("auth/confirm.html", form=form), 401
    return render_template("auth/confirm.html", form=form)


@bp.errorhandler(RateLimitExceeded)
def _too_many_attempts(error: RateLimitExceeded) -> Page:
    headers = {**dict(error.get_headers()), "Retry-After": str(seconds_until_allowed())}
    if request.endpoint in ("auth.second_factor", "auth.enrol"):
        flash(str(TOO_MANY_ATTEMPTS), "error")
        return redirect(url_for("auth.login")), 303, headers  # type: ignore[return-value]
    if request.endpoint == "auth.confirm_identity":
        form = ConfirmIdentityForm()
        form.password.errors = [str(TOO_MANY_ATTEMPTS)]
        return render_template("auth/confirm.html", form=form), 429, headers  # type: ignore[return-value]
    if request.endpoint == "auth.forgot_password":
        form = ForgotPasswordForm()
        form.email.errors = [gettext("Too many requests. Wait a while, then try again.")]
        return render_template("auth/forgot_password.html", form=form), 429, headers  # type: ignore[return-value]
    form = LoginForm()
    form.password.errors = [str(TOO_MANY_ATTEMPTS)]
    return render_template("auth/login.html", form=form), 429, headers  # type: ignore[return-value]


@bp.route("/logout", methods=["POST"])
def logout() -> Response:
    if current_user.is_authenticated:
        end_sessions(current_user)  # on this device and every other one
    _log_out()
    flash(gettext("You have logged out."), "info")
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
        flash(
            ngettext(
                "If an account uses this address, a link to choose a new password is on its way"
                " to it. The link works once, for %(num)d minute.",
                "If an account uses this address, a link to choose a new password is on its way"
                " to it. The link works once, for %(num)d minutes.",
                int(current_app.config["PASSWORD_RESET_MINUTES"]),
            ),
            "info",
        )
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
        answer = _after_password(user, None)  # an administrator still gives their code
        flash(gettext("Your password is set."), "success")  # after: the session was started anew
        return answer
    return render_template("auth/set_password.html", form=form, user=link.user)


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
@fresh_login_required
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
            gettext("Your password is changed. Every other session of yours has been logged out."),
            "success",
        )
        return redirect(home_for(user), code=303)
    return render_template("auth/change_password.html", form=form)


@bp.route("/account/security")
@login_required
def account_security() -> Page:
    user = current_user._get_current_object()
    return _settings_page(user, LanguageForm(language=user.language or ""))


def _settings_page(user: User, language_form: LanguageForm) -> str:
    return render_template(
        "auth/security.html",
        language_form=language_form,
        has_second_factor=has_second_factor(user),
        codes_left=unused_recovery_codes(user) if user.is_staff else 0,
        fresh=is_fresh(),
    )


@bp.route("/account/language", methods=["POST"])
@login_required
def account_language() -> Page:
    """Save the language the user reads (the settings page, or the header's language menu),
    then go back where they were."""
    user = current_user._get_current_object()
    form = LanguageForm()
    if not form.validate_on_submit():
        return _settings_page(user, form), 422
    set_language(user, form.language.data)
    refresh()  # the message below is in the new language
    flash(gettext("Your language is saved."), "success")
    return redirect(_safe_next(form.next.data) or url_for("auth.account_security"), code=303)


def _administrator() -> User:
    """The second factor is the administrators': to a candidate these pages do not exist."""
    if not current_user.is_staff:
        abort(404)
    return current_user._get_current_object()


@bp.route("/account/recovery-codes", methods=["POST"])
@login_required
@fresh_login_required
def new_recovery_codes() -> Page:
    try:
        codes = regenerate_recovery_codes(_administrator())
    except RuleViolation as refusal:  # no authenticator set up yet
        flash(refusal.message, "error")
        return redirect(url_for("auth.account_security"), code=303)
    page = render_template("auth/recovery_codes.html", codes=codes, next_url=None, first_time=False)
    return page, 201, {"Cache-Control": "no-store"}  # type: ignore[return-value]


@bp.route("/account/authenticator", methods=["POST"])
@login_required
@fresh_login_required
def replace_authenticator() -> Response:
    """Forget the authenticator app; the next login sets up the new one."""
    user = _administrator()
    reset_second_factor(user, user)  # ends every session, this one too
    _log_out()
    flash(gettext("Your old authenticator no longer works. Log in to set up the new one."), "info")
    return redirect(url_for("auth.login"), code=303)
