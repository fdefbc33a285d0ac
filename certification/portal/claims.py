"""A candidate's own claims: the list of them with what became of each, the form that makes
one (with its evidence), and the download of a file they sent."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext, lazy_gettext
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response
from wtforms import DateField, RadioField, SelectChoice, SelectField, StringField, SubmitField

from certification.catalogue.models import Course
from certification.catalogue.services import list_courses
from certification.claims import services as claims
from certification.claims.models import ClaimKind
from certification.errors import InvalidInput, ServiceError
from certification.i18n import catalogue_text
from certification.portal.blueprint import bp
from certification.web import evidence_download, today

# The whole request may be this large, twice the evidence's own limit, so that a file just
# over the limit is read and refused in words with the form kept as typed; only a far
# larger one meets the server's plain "too large".
CLAIM_REQUEST_MAX_BYTES = 2 * claims.EVIDENCE_MAX_BYTES
# Digits with at most one decimal point or comma: "2.5", "2,5", "10".
_NUMBER = re.compile(r"^\+?(\d+([.,]\d*)?|[.,]\d+)$")


class NumberField(StringField):
    """A number typed with a point or a comma, kept as typed; ``number`` is its value
    (None when empty)."""

    def __init__(self, label: Any = None, validators: Any = None, **kwargs: Any) -> None:
        kwargs["render_kw"] = {"inputmode": "decimal", **(kwargs.get("render_kw") or {})}
        super().__init__(label, validators, **kwargs)
        self.number: Decimal | None = None

    def process_formdata(self, valuelist: list[Any]) -> None:
        super().process_formdata(valuelist)
        text = (self.data or "").strip()
        self.number = None
        if not text:
            return
        if not _NUMBER.match(text):
            raise ValueError(gettext("Enter a number, such as 2.5 or 2,5."))
        self.number = Decimal(text.replace(",", "."))


class ClaimForm(FlaskForm):
    kind = RadioField(
        lazy_gettext("What you claim"),
        choices=[
            SelectChoice(
                ClaimKind.CREDIT.value, lazy_gettext("The credits of a course of the programme")
            ),
            SelectChoice(
                ClaimKind.CPD.value, lazy_gettext("CPD points for a webinar, event or other course")
            ),
        ],
        # The service names a missing or unknown kind, as it does every other problem.
        validate_choice=False,
    )
    course = SelectField(
        lazy_gettext("Course of the programme"),
        description=lazy_gettext("For a course's credits only."),
        validate_choice=False,
    )
    title = StringField(
        lazy_gettext("Activity"),
        description=lazy_gettext(
            "As the evidence names it, e.g. the webinar's title. For a course of the"
            " programme, leave it empty to use the course's title."
        ),
        render_kw={"maxlength": 200},
    )
    organiser = StringField(
        lazy_gettext("Provider or organiser"),
        description=lazy_gettext("Who ran it. For a course, leave it empty to use its provider."),
        render_kw={"maxlength": 200},
    )
    activity_on = DateField(
        lazy_gettext("Date completed or attended"),
        description=lazy_gettext("The last day, for an activity over several days."),
        invalid_value_message=lazy_gettext("Enter a date as YYYY-MM-DD, such as 2024-05-31."),
    )
    hours = NumberField(lazy_gettext("Hours"), description=lazy_gettext("Optional."))
    points = NumberField(
        lazy_gettext("CPD points"),
        description=lazy_gettext("For CPD only: as the evidence states."),
    )
    domain = SelectField(
        lazy_gettext("Domain"),
        description=lazy_gettext("For CPD, optional: the domain the activity belongs to."),
        validate_choice=False,
    )
    evidence = FileField(
        lazy_gettext("Evidence"),
        description=lazy_gettext(
            "A certificate of completion or attendance: PDF, PNG or JPEG, at most 10 MB."
            " Only you and the reviewers can open it. If the form comes back with a problem,"
            " choose the file again."
        ),
        render_kw={"accept": "application/pdf,image/png,image/jpeg,.pdf,.png,.jpg,.jpeg"},
    )
    submit = SubmitField(lazy_gettext("Send the claim"))

    def __init__(self, *args: Any, courses: list[Course], domains: list[str], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.course.choices = [SelectChoice("", gettext("None (CPD)"))] + [
            SelectChoice(course.code, f"{course.code}: {catalogue_text(course.title)}")
            for course in courses
        ]
        self.domain.choices = [SelectChoice("", gettext("None"))] + [
            SelectChoice(domain, catalogue_text(domain)) for domain in domains
        ]

    def claim_input(self) -> claims.ClaimInput:
        return claims.ClaimInput(
            kind=self.kind.data or "",
            title=self.title.data or "",
            organiser=self.organiser.data or "",
            activity_on=self.activity_on.data,
            course_code=self.course.data or "",
            hours=self.hours.number,
            points=self.points.number,
            domain=self.domain.data or "",
        )

    def upload(self) -> claims.EvidenceUpload | None:
        file = self.evidence.data
        if not isinstance(file, FileStorage) or not file.filename:
            return None
        return claims.EvidenceUpload(file.filename, file.read())


@bp.url_value_preprocessor
def _allow_the_evidence(endpoint: str | None, _values: dict[str, Any] | None) -> None:
    # The claim's own request limit, set before anything reads the form: URL preprocessors
    # run before every before_request function, the CSRF check's too, which reads it.
    if endpoint == "portal.claim_new":
        request.max_content_length = CLAIM_REQUEST_MAX_BYTES


def _claim_form(**kwargs: Any) -> ClaimForm:
    return ClaimForm(courses=list_courses(), domains=claims.claim_domains(), **kwargs)


def _form_page(form: ClaimForm, status: int = 200) -> tuple[str, int]:
    return render_template("portal/claim_form.html", form=form), status


def _show_refusal(form: ClaimForm, refusal: ServiceError) -> None:
    """The refusal's messages next to the fields they name, the rest above the form."""
    for name, message in refusal.fields.items():
        if name in form and name != "csrf_token":
            form[name].errors = [*form[name].errors, message]
        else:
            form.form_errors.append(message)
    if not refusal.fields or not isinstance(refusal, InvalidInput):
        form.form_errors.append(refusal.message)


@bp.route("/claims")
def claims_list() -> str:
    return render_template(
        "portal/claims.html",
        claims=claims.claims_of(current_user),
        state_in_words=claims.state_in_words,
        download_name=claims.download_name,
    )


@bp.route("/claims/new", methods=["GET", "POST"])
def claim_new() -> Response | tuple[str, int]:
    form = _claim_form()
    if not form.validate_on_submit():
        return _form_page(form, 422 if form.is_submitted() else 200)
    try:
        claim = claims.submit_claim(
            current_user._get_current_object(), form.claim_input(), form.upload(), today=today()
        )
    except ServiceError as refusal:
        _show_refusal(form, refusal)
        return _form_page(form, 422)
    flash(gettext("Your claim of “%(title)s” is sent for review.", title=claim.title), "success")
    return redirect(url_for("portal.claims_list"), code=303)


@bp.route("/claims/<int:claim_id>/evidence/<int:evidence_id>")
def claim_evidence(claim_id: int, evidence_id: int) -> Response:
    """A file the candidate sent, to them alone; anyone else's is not found."""
    evidence = claims.own_evidence(current_user, claim_id, evidence_id)
    assert evidence.data is not None  # noqa: S101 - a deleted file is not found
    return evidence_download(claims.download_name(evidence), evidence.media_type, evidence.data)


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(error: RequestEntityTooLarge) -> tuple[str, int]:
    """A request far over the claim's limit could not be read: the form again, empty, with
    the limit in words (the portal has no other upload)."""
    if request.endpoint != "portal.claim_new":
        return render_template("error.html", error=error), 413
    form = _claim_form(formdata=None)
    form.evidence.errors = [
        gettext(
            "The file is larger than %(megabytes)d MB; send a smaller copy or a scan at a"
            " lower resolution.",
            megabytes=claims.EVIDENCE_MAX_BYTES // (1024 * 1024),
        )
    ]
    return _form_page(form, 413)
