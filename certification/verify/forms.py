"""The three ways to ask: type a certificate's code, upload its PDF, or paste (or upload)
its credential."""

from __future__ import annotations

from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import StringField, SubmitField, TextAreaField

CODE_EXAMPLE = "EIC-7KQ2-M9XD-4TRA-C1WZ-8"


class CodeForm(FlaskForm):
    # CSRFProtect checks the token of every POST; the template renders it once per form,
    # without an id, so that the page's two forms do not repeat one.
    class Meta:
        csrf = False

    code = StringField(
        lazy_gettext("Certificate code"),
        description=lazy_gettext(
            "e.g. %(example)s; case, spaces and hyphens do not matter", example=CODE_EXAMPLE
        ),
        render_kw={
            "autocomplete": "off",
            "autocapitalize": "characters",
            "spellcheck": "false",
            "maxlength": 60,
            "class": "code-input",
        },
    )
    check_code = SubmitField(lazy_gettext("Check code"))


class PdfForm(FlaskForm):
    class Meta:
        csrf = False

    file = FileField(
        lazy_gettext("Certificate PDF"),
        # The view adds the size limit, which is configuration (VERIFY_MAX_PDF_BYTES).
        description=lazy_gettext("The PDF file the holder received. It is checked, not kept."),
        render_kw={"accept": "application/pdf,.pdf"},
    )
    check_pdf = SubmitField(lazy_gettext("Check PDF"))


class CredentialForm(FlaskForm):
    class Meta:
        csrf = False

    credential = TextAreaField(
        lazy_gettext("Credential (JSON)"),
        description=lazy_gettext(
            "Paste the credential the holder shared (Open Badges 3.0), or choose its file below."
        ),
        render_kw={"rows": 5, "spellcheck": "false", "autocomplete": "off", "class": "code-area"},
    )
    credential_file = FileField(
        lazy_gettext("Credential file"),
        render_kw={"accept": "application/json,application/ld+json,.json,.jsonld"},
    )
    check_credential = SubmitField(lazy_gettext("Check credential"))
