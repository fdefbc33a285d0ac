"""API tokens for integrators: issued here (shown once), listed with when each was last
used, and revoked. The token itself is never stored, only its hash."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext, lazy_gettext
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import IntegerField, StringField
from wtforms.validators import NumberRange, Optional

from certification.admin.blueprint import bp
from certification.auth.models import User
from certification.auth.services import (
    MAX_TOKEN_DAYS,
    api_tokens,
    create_api_token,
    revoke_api_token,
)
from certification.auth.sessions import fresh_login_required
from certification.errors import InvalidInput
from certification.types import utcnow

Page = Response | str | tuple[str, int] | tuple[str, int, dict[str, str]]


class ApiTokenForm(FlaskForm):
    label = StringField(
        lazy_gettext("What it is for"),
        description=lazy_gettext("The system that will use it, e.g. “Moodle of the EFRS academy”."),
        render_kw={"maxlength": 100},
    )
    valid_days = IntegerField(
        lazy_gettext("Valid for (days)"),
        validators=[
            Optional(),
            NumberRange(1, MAX_TOKEN_DAYS, lazy_gettext("From 1 to %(max)s days.")),
        ],
        description=lazy_gettext("Leave empty for a token that works until it is revoked."),
        render_kw={"inputmode": "numeric", "min": 1, "max": MAX_TOKEN_DAYS},
    )


def _actor() -> User:
    return current_user._get_current_object()


def _tokens_page(form: ApiTokenForm, new_token: str | None = None, status: int = 200) -> Page:
    page = render_template(
        "admin/api_tokens.html", form=form, tokens=api_tokens(), now=utcnow(), new_token=new_token
    )
    # A page that shows a token once must not be kept by a cache or the back button.
    return page, status, {"Cache-Control": "no-store"}


@bp.route("/api-tokens")
def api_tokens_page() -> Page:
    return _tokens_page(ApiTokenForm())


@bp.route("/api-tokens", methods=["POST"])
@fresh_login_required
def api_token_create() -> Page:
    form = ApiTokenForm()
    if not form.validate_on_submit():
        return _tokens_page(form, status=422)
    try:
        token = create_api_token(
            _actor(), form.label.data or "", valid_days=form.valid_days.data, actor=_actor()
        )
    except InvalidInput as refusal:
        for name, message in refusal.fields.items():
            getattr(form, name, form.label).errors = [message]
        return _tokens_page(form, status=422)
    # Shown in this answer only: not put in the session (a cookie) nor stored in clear.
    return _tokens_page(ApiTokenForm(formdata=None), new_token=token, status=201)


@bp.route("/api-tokens/<int:token_id>/revoke", methods=["POST"])
@fresh_login_required
def api_token_revoke(token_id: int) -> Response:
    record = revoke_api_token(token_id, _actor())
    flash(
        gettext("The token “%(label)s” no longer works.", label=record.label or record.id),
        "success",
    )
    return redirect(url_for("admin.api_tokens_page"), code=303)
