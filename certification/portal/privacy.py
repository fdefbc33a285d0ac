"""The holder's right to erasure (asking, withdrawing) and the public privacy notice."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext, lazy_gettext
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import PasswordField, SubmitField
from wtforms.validators import DataRequired

from certification.auth.models import User
from certification.errors import ServiceError
from certification.extensions import limiter
from certification.portal.blueprint import bp
from certification.privacy import (
    erasure_plan,
    erasure_request_of,
    request_erasure,
    withdraw_erasure_request,
)
from certification.types import utcnow

# The public notice: no login, no look-up limit (it names nobody). Registered by the app
# factory beside the portal's blueprint.
notice_bp = Blueprint("privacy", __name__)

Page = Response | str | tuple[str, int]


class ErasureForm(FlaskForm):
    password = PasswordField(
        lazy_gettext("Your password"),
        validators=[DataRequired()],
        description=lazy_gettext("Type it again: erasure cannot be undone once carried out."),
        render_kw={"autocomplete": "current-password"},
    )
    submit = SubmitField(lazy_gettext("Ask for my data to be erased"))


def _holder() -> User:
    return current_user._get_current_object()


def _refused_password(response: Response) -> bool:
    return response.status_code == 422


def _erasure_page(form: ErasureForm, status: int = 200) -> tuple[str, int]:
    holder = _holder()
    return render_template(
        "portal/erasure.html",
        form=form,
        plan=erasure_plan(holder),
        latest=erasure_request_of(holder),
        username=holder.email,
    ), status


@bp.route("/erasure", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_RATE_LIMIT_PER_ACCOUNT"],
    key_func=lambda: f"erasure:{current_user.get_id()}",
    methods=["POST"],
    deduct_when=_refused_password,
    scope="login-account",
)
def erasure() -> Page:
    """What erasure removes and keeps, and the request itself (the password typed again:
    a session left open on a shared computer must not be enough)."""
    form = ErasureForm()
    if form.validate_on_submit():
        try:
            request_erasure(_holder(), form.password.data or "", utcnow())
        except ServiceError as refusal:
            if "password" in refusal.fields:
                form.password.errors = [refusal.fields["password"]]
            else:
                form.form_errors.append(refusal.message)
            return _erasure_page(form, refusal.http_status)
        flash(
            gettext(
                "Your request is with the programme office. You can withdraw it on this page"
                " until they carry it out."
            ),
            "success",
        )
        return redirect(url_for("portal.erasure"), code=303)
    return _erasure_page(form, 422 if form.is_submitted() else 200)


@bp.post("/erasure/withdraw")
def erasure_withdraw() -> Page:
    """Withdraw a pending request (the button is the whole form; CSRF is checked as for
    every POST)."""
    try:
        withdraw_erasure_request(_holder(), utcnow())
    except ServiceError as refusal:
        flash(refusal.message, "error")
        return _erasure_page(ErasureForm(formdata=None), refusal.http_status)
    flash(gettext("Your request is withdrawn: nothing will be erased."), "success")
    return redirect(url_for("portal.erasure"), code=303)


@notice_bp.route("/privacy")
def notice() -> str:
    """What is held about a person, why, for how long, what erasure keeps, how to ask."""
    return render_template("portal/privacy.html")
