"""CSV imports in two steps: upload and preview (every problem listed), then commit.

The uploaded file is kept in the database between the steps, so that the preview and the
commit may be served by different workers or hosts. An attendance list of a webinar or an
event is one more kind of file: its event and rule for points are stated on the same form.
"""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext, lazy_gettext
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response
from wtforms import SelectChoice, SelectField, StringField
from wtforms.validators import InputRequired, Optional

from certification.admin.blueprint import bp
from certification.admin.forms import DayField, LocalDecimalField, WholeNumberField
from certification.admin.views import _show_refusal
from certification.auth.models import User
from certification.catalogue.services import list_domains
from certification.errors import InvalidInput
from certification.imports import attendance
from certification.imports import services as imports
from certification.imports.attendance import AttendanceEvent, MinimumUnit
from certification.imports.models import ImportKind, ImportUpload
from certification.imports.services import ImportReport
from certification.languages import offered_languages
from certification.web import today

Page = Response | str | tuple[str, int]

KIND_LABELS = {
    ImportKind.CANDIDATES: lazy_gettext("Candidates"),
    ImportKind.CREDITS: lazy_gettext("Course credits"),
    ImportKind.RESULTS: lazy_gettext("Assessment results"),
    ImportKind.ATTENDANCE: lazy_gettext("Attendance list of a webinar or event (CPD points)"),
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

    # The event of an attendance list, stated once for the whole file. Left empty for the
    # other kinds; ``attendance.check_event`` says what an attendance list lacks.
    title = StringField(lazy_gettext("Event title"), validators=[Optional()])
    organiser = SelectField(
        lazy_gettext("Organised by"),
        choices=[
            SelectChoice("", lazy_gettext("Choose…")),
            *(SelectChoice(o.value, label) for o, label in attendance.ORGANISER_LABELS.items()),
        ],
        validate_choice=False,  # attendance.check_event names a missing or unknown one
    )
    held_on = DayField(lazy_gettext("Held on"), validators=[Optional()])
    reference = StringField(
        lazy_gettext("Reference"),
        validators=[Optional()],
        description=lazy_gettext(
            "The webinar's ID, say. Left empty, it is made of the date and the title. A"
            " candidate is credited once per reference, so the same list imported again adds"
            " nothing."
        ),
    )
    domain = StringField(
        lazy_gettext("Domain (optional)"),
        validators=[Optional()],
        render_kw={"list": "domain-suggestions"},
    )
    points_per_hour = LocalDecimalField(
        lazy_gettext("CPD points per hour attended"), validators=[Optional()]
    )
    minimum = WholeNumberField(
        lazy_gettext("Least attendance that earns points"), validators=[Optional()]
    )
    minimum_unit = SelectField(
        lazy_gettext("Counted in"),
        choices=[
            SelectChoice(MinimumUnit.MINUTES.value, lazy_gettext("minutes")),
            SelectChoice(MinimumUnit.PERCENT.value, lazy_gettext("per cent of the event's length")),
        ],
        default=MinimumUnit.MINUTES.value,
        validate_choice=False,
    )
    length_minutes = WholeNumberField(
        lazy_gettext("The event's length in minutes"),
        validators=[Optional()],
        description=lazy_gettext(
            "Needed for a minimum in per cent. Time beyond it (two devices at once) earns"
            " nothing more."
        ),
    )

    def __init__(self, *args: object, kinds: tuple[ImportKind, ...], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.kind.choices = [SelectChoice(kind.value, KIND_LABELS[kind]) for kind in kinds]

    def event(self) -> AttendanceEvent | None:
        """The attendance list's event, checked (``InvalidInput`` names the fields at
        fault); None for the other kinds of file."""
        if self.kind.data != ImportKind.ATTENDANCE.value:
            return None
        return attendance.check_event(
            title=self.title.data,
            organiser=self.organiser.data,
            held_on=self.held_on.data,
            reference=self.reference.data,
            domain=self.domain.data,
            points_per_hour=self.points_per_hour.data,
            minimum=self.minimum.data,
            minimum_unit=self.minimum_unit.data,
            length_minutes=self.length_minutes.data,
            today=today(),
        )


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
        attendance=ImportKind.ATTENDANCE in kinds,
        domains=list_domains() if ImportKind.ATTENDANCE in kinds else [],
    ), status


def _upload_limit() -> str:
    """The largest upload, in words: ``6 MB``."""
    limit = int(current_app.config["MAX_CONTENT_LENGTH"] or 0)
    if limit >= 1024 * 1024:
        return gettext("%(megabytes)d MB", megabytes=limit // (1024 * 1024))
    return gettext("%(kilobytes)d KB", kilobytes=limit // 1024)


def _preview_page(upload: ImportUpload, report: ImportReport, status: int = 200) -> tuple[str, int]:
    event = AttendanceEvent.from_json(report.event) if report.event else None
    return render_template(
        "admin/import_preview.html",
        upload=upload,
        report=report,
        kind_label=KIND_LABELS[upload.kind],
        problems_shown=PROBLEMS_SHOWN,
        organiser_labels={o.value: label for o, label in attendance.ORGANISER_LABELS.items()},
        event_day=event.held_on if event else None,
        event_rule=event.rule if event else "",
    ), status


@bp.route("/imports", methods=["GET", "POST"])
def import_upload() -> Page:
    form = _import_form()
    if form.validate_on_submit():
        try:
            upload = imports.store_upload(
                ImportKind(form.kind.data),
                form.file.data.filename or "",
                form.file.data.read(),
                _actor(),
                today=today(),
                event=form.event(),
            )
        except InvalidInput as refusal:
            _show_refusal(form, refusal)  # the event as typed stays; the file is chosen again
        else:
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
