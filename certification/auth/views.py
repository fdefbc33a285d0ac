from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from certification.auth.forms import LoginForm, SetPasswordForm
from certification.auth.models import User
from certification.auth.services import (
    authenticate,
    find_password_setup_link,
    set_password_with_link,
)
from certification.errors import InvalidInput, NotFound
from certification.extensions import db, login_manager

bp = Blueprint("auth", __name__)

login_manager.login_view = "auth.login"
login_manager.login_message = "Please log in to see that page."
login_manager.login_message_category = "info"

LOGIN_FAILED = "The e-mail address or password is not right."


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    return user if user is not None and user.active else None


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


@bp.route("/")
def index() -> Response:
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    return redirect(url_for("auth.login"))


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | str | tuple[str, int]:
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(form.email.data or "", form.password.data or "")
        if user is not None:
            session.clear()  # a fresh session on login: nothing carried over from before
            login_user(user)
            return redirect(_safe_next(request.args.get("next")) or home_for(user))
        form.password.errors = [LOGIN_FAILED]
        return render_template("auth/login.html", form=form), 401
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout() -> Response:
    logout_user()
    session.clear()
    flash("You have logged out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/set-password/<token>", methods=["GET", "POST"])
def set_password(token: str) -> Response | str | tuple[str, int]:
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
        session.clear()
        login_user(user)
        flash("Your password is set. Welcome!", "success")
        return redirect(home_for(user))
    return render_template("auth/set_password.html", form=form, user=link.user)
