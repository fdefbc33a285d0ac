"""CSV imports in two steps: upload and preview (every problem listed), then commit.

The uploaded file is kept in the database between the steps, so that the preview and the
commit may be served by different workers or hosts.
"""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext, lazy_gettext
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response
from wtforms import SelectChoice, SelectField
from wtforms.validators import InputRequired

from certification.admin.blueprint import bp
from certification.auth.models import User
from certification.imports import services as imports
from certification.imports.models import ImportKind, ImportUpload
from certification.imports.services import ImportReport
from certification.languages import offered_languages
from certification.web import today

Page = Response | str | tuple[str, int]

KIND_LABELS = {
    ImportKind.CANDIDATES: lazy_gettext("Candidates"),
    ImportKind.CREDITS: lazy_gettext("Course credits"),
    ImportKind.RESULTS: lazy_gettext("Assessment results"),
}
# A page with ten thousand problems helps nobody; the first ones show what to fix.
PROBLEMS_SHOWN = 500


class ImportForm(FlaskForm):
    """The upload form; ``kinds``: those the person may import (provider staff: credits)."""

    kind = SelectField(lazy_gettext("The file holds"), validators=[InputRequired()])
    file = FileField(
        lazy_gettext("CSV file"),
        validators=[FileRequired(lazy_gettext("Choose a CSV file to upload."))],
        render_kw={"accept": ".csv,.txt,text/csv,text/plain"},
    )

    def __init__(self, *args: object, kinds: tuple[ImportKind, ...], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.kind.choices = [SelectChoice(kind.value, KIND_LABELS[kind]) for kind in kinds]


def _actor() -> User:
    return current_user._get_current_object()


def _import_form(**kwargs: object) -> ImportForm:
    return ImportForm(kinds=imports.import_kinds(_actor()), **kwargs)


def _imports_page(form: ImportForm, status: int = 200) -> tuple[str, int]:
    kinds = imports.import_kinds(_actor())
    return render_template(
        "admin/imports.html",
        form=form,
        uploads=imports.recent_uploads(actor=_actor()),
        columns={KIND_LABELS[kind]: imports.COLUMNS[kind] for kind in kinds},
        # Registering candidates is the office's: provider staff are not told of the column.
        language_column="language" if ImportKind.CANDIDATES in kinds else None,
        offered_languages=offered_languages(),
        kinds=kinds,
        kind_labels=KIND_LABELS,
        upload_limit=_upload_limit(),
    ), status


def _upload_limit() -> str:
    """The largest upload, in words: ``6 MB``."""
    limit = int(current_app.config["MAX_CONTENT_LENGTH"] or 0)
    if limit >= 1024 * 1024:
        return gettext("%(megabytes)d MB", megabytes=limit // (1024 * 1024))
    return gettext("%(kilobytes)d KB", kilobytes=limit // 1024)


def _preview_page(upload: ImportUpload, report: ImportReport, status: int = 200) -> tuple[str, int]:
    return render_template(
        "admin/import_preview.html",
        upload=upload,
        report=report,
        kind_label=KIND_LABELS[upload.kind],
        problems_shown=PROBLEMS_SHOWN,
    ), status


@bp.route("/imports", methods=["GET", "POST"])
def import_upload() -> Page:
    form = _import_form()
    if form.validate_on_submit():
        upload = imports.store_upload(
            ImportKind(form.kind.data),
            form.file.data.filename or "",
            form.file.data.read(),
            _actor(),
            today=today(),
        )
        return redirect(url_for("admin.import_preview", upload_id=upload.id), code=303)
    return _imports_page(form, status=422 if form.is_submitted() else 200)


@bp.route("/imports/<int:upload_id>")
def import_preview(upload_id: int) -> Page:
    upload = imports.get_upload(upload_id, actor=_actor())
    return _preview_page(upload, imports.preview_upload(upload, today=today(), actor=_actor()))


@bp.route("/imports/<int:upload_id>/commit", methods=["POST"])
def import_commit(upload_id: int) -> Page:
    upload = imports.get_upload(upload_id, actor=_actor())
    # The box is on the preview of a candidates file, ticked by default.
    invite = request.form.get("invite") == "yes"
    try:
        report, wrote = imports.commit_upload(upload, _actor(), today=today(), invite=invite)
    except imports.ImportRefused as refusal:
        flash(refusal.message, "error")
        return _preview_page(upload, refusal.report, status=422)
    if wrote:
        flash(
            gettext("Imported %(file)s: %(counts)s.", file=upload.filename, counts=report.counts),
            "success",
        )
    else:
        flash(
            gettext(
                "%(file)s was imported already; nothing was added again (%(counts)s when it was"
                " imported).",
                file=upload.filename,
                counts=report.counts,
            ),
            "info",
        )
    return redirect(url_for("admin.import_preview", upload_id=upload.id), code=303)


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(error: RequestEntityTooLarge) -> Page:
    """A file over the upload limit: say so on the imports page, with nothing uploaded."""
    if request.endpoint != "admin.import_upload":
        return render_template("error.html", error=error), 413
    form = _import_form(formdata=None)
    form.file.errors = [
        gettext("The file is larger than %(limit)s; split it into parts.", limit=_upload_limit())
    ]
    return _imports_page(form, status=413)
