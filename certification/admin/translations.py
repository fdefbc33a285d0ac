"""The catalogue's wording in the offered languages: how much of it each language has, and
one page per language where the programme office writes the translations."""

from __future__ import annotations

from flask import abort, render_template
from flask_babel import gettext, ngettext
from werkzeug.wrappers import Response

from certification.admin.blueprint import bp
from certification.admin.forms import catalogue_translations_form
from certification.admin.views import Page, _actor, _done, _form_page, _submit
from certification.catalogue import wording
from certification.languages import LANGUAGE_NAMES


@bp.route("/translations")
def translations() -> Page:
    items = wording.catalogue_wording()
    return render_template(
        "admin/translations.html",
        total=len(items),
        missing=wording.missing_counts(items),
    )


@bp.route("/translations/<language>", methods=["GET", "POST"])
def translations_edit(language: str) -> Page:
    if language not in wording.translatable_languages():
        abort(404)
    items = wording.catalogue_wording()
    kept = wording.translations_in(language)
    form = catalogue_translations_form(items, kept, language)

    def save() -> int:
        return wording.save_translations(language, form.typed(), _actor())

    def done(changed: int) -> Response:
        name = LANGUAGE_NAMES[language]
        message = (
            ngettext(
                "%(num)d translation into %(language)s is saved.",
                "%(num)d translations into %(language)s are saved.",
                changed,
                language=name,
            )
            if changed
            else gettext("Nothing was changed in %(language)s.", language=name)
        )
        return _done(message, "admin.translations")

    return _submit(form, save, done) or _form_page(
        "admin/translations_edit.html",
        form,
        language=language,
        missing=sum(1 for item in items if item.source not in kept),
    )
