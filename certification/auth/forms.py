from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo

from certification.auth.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from certification.languages import LANGUAGE_NAMES, offered_languages


class LoginForm(FlaskForm):
    email = EmailField(
        "E-mail",
        validators=[DataRequired()],
        render_kw={"autocomplete": "username", "autofocus": True},
    )
    password = PasswordField(
        "Password", validators=[DataRequired()], render_kw={"autocomplete": "current-password"}
    )
    submit = SubmitField("Log in")


class SetPasswordForm(FlaskForm):
    password = PasswordField(
        "New password",
        validators=[DataRequired()],
        description=f"{MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters. A few unrelated"
        " words make a strong password that is easy to remember.",
        render_kw={
            "autocomplete": "new-password",
            "minlength": MIN_PASSWORD_LENGTH,
            "maxlength": MAX_PASSWORD_LENGTH,
        },
    )
    confirm = PasswordField(
        "Repeat the password",
        validators=[DataRequired(), EqualTo("password", message="The two passwords differ.")],
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField("Set password")


class ForgotPasswordForm(FlaskForm):
    email = EmailField(
        "E-mail",
        validators=[DataRequired()],
        render_kw={"autocomplete": "username", "autofocus": True},
    )
    submit = SubmitField("Send me a link")


class ChangePasswordForm(FlaskForm):
    current = PasswordField(
        "Current password",
        validators=[DataRequired()],
        render_kw={"autocomplete": "current-password"},
    )
    password = SetPasswordForm.password
    confirm = SetPasswordForm.confirm
    submit = SubmitField("Change password")


class SecondFactorForm(FlaskForm):
    code = StringField(
        "Code",
        validators=[DataRequired()],
        description="The six digits your authenticator app shows now, or one of your"
        " recovery codes.",
        render_kw={
            "autocomplete": "one-time-code",
            "inputmode": "numeric",
            "autofocus": True,
            "maxlength": 20,
        },
    )
    submit = SubmitField("Continue")


class EnrolForm(FlaskForm):
    code = StringField(
        "Code",
        validators=[DataRequired()],
        description="Six digits; the app shows a new code every 30 seconds.",
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric", "maxlength": 8},
    )
    submit = SubmitField("Finish setting up")


class ConfirmIdentityForm(FlaskForm):
    password = PasswordField(
        "Password", validators=[DataRequired()], render_kw={"autocomplete": "current-password"}
    )
    code = SecondFactorForm.code
    submit = SubmitField("Confirm")


class LanguageForm(FlaskForm):
    """The language a person reads: each named in itself, or "as my browser" (empty)."""

    language = SelectField("Language", choices=[], validate_choice=True)
    next = HiddenField()
    submit = SubmitField("Save language")

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.language.choices = [("", "The language of my browser")] + [
            (code, LANGUAGE_NAMES[code]) for code in offered_languages()
        ]
