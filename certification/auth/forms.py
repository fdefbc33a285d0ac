from __future__ import annotations

from flask_babel import gettext, lazy_gettext
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo

from certification.auth.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from certification.languages import LANGUAGE_NAMES, offered_languages


class LoginForm(FlaskForm):
    email = EmailField(
        lazy_gettext("E-mail"),
        validators=[DataRequired()],
        render_kw={"autocomplete": "username", "autofocus": True},
    )
    password = PasswordField(
        lazy_gettext("Password"),
        validators=[DataRequired()],
        render_kw={"autocomplete": "current-password"},
    )
    submit = SubmitField(lazy_gettext("Log in"))


class SetPasswordForm(FlaskForm):
    password = PasswordField(
        lazy_gettext("New password"),
        validators=[DataRequired()],
        description=lazy_gettext(
            "%(min)d to %(max)d characters. A few unrelated words make a strong password that is"
            " easy to remember.",
            min=MIN_PASSWORD_LENGTH,
            max=MAX_PASSWORD_LENGTH,
        ),
        render_kw={
            "autocomplete": "new-password",
            "minlength": MIN_PASSWORD_LENGTH,
            "maxlength": MAX_PASSWORD_LENGTH,
        },
    )
    confirm = PasswordField(
        lazy_gettext("Repeat the password"),
        validators=[
            DataRequired(),
            EqualTo("password", message=lazy_gettext("The two passwords differ.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField(lazy_gettext("Set password"))


class ForgotPasswordForm(FlaskForm):
    email = EmailField(
        lazy_gettext("E-mail"),
        validators=[DataRequired()],
        render_kw={"autocomplete": "username", "autofocus": True},
    )
    submit = SubmitField(lazy_gettext("Send me a link"))


class ChangePasswordForm(FlaskForm):
    current = PasswordField(
        lazy_gettext("Current password"),
        validators=[DataRequired()],
        render_kw={"autocomplete": "current-password"},
    )
    password = SetPasswordForm.password
    confirm = SetPasswordForm.confirm
    submit = SubmitField(lazy_gettext("Change password"))


class SecondFactorForm(FlaskForm):
    code = StringField(
        lazy_gettext("Code"),
        validators=[DataRequired()],
        description=lazy_gettext(
            "The six digits your authenticator app shows now, or one of your recovery codes."
        ),
        render_kw={
            "autocomplete": "one-time-code",
            "inputmode": "numeric",
            "autofocus": True,
            "maxlength": 20,
        },
    )
    submit = SubmitField(lazy_gettext("Continue"))


class EnrolForm(FlaskForm):
    code = StringField(
        lazy_gettext("Code"),
        validators=[DataRequired()],
        description=lazy_gettext("Six digits; the app shows a new code every 30 seconds."),
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric", "maxlength": 8},
    )
    submit = SubmitField(lazy_gettext("Finish setting up"))


class ConfirmIdentityForm(FlaskForm):
    password = PasswordField(
        lazy_gettext("Password"),
        validators=[DataRequired()],
        render_kw={"autocomplete": "current-password"},
    )
    code = SecondFactorForm.code
    submit = SubmitField(lazy_gettext("Confirm"))


class LanguageForm(FlaskForm):
    """The language a person reads: each named in itself, or "as my browser" (empty)."""

    language = SelectField(lazy_gettext("Language"), choices=[], validate_choice=True)
    next = HiddenField()
    submit = SubmitField(lazy_gettext("Save language"))

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.language.choices = [("", gettext("The language of my browser"))] + [
            (code, LANGUAGE_NAMES[code]) for code in offered_languages()
        ]
