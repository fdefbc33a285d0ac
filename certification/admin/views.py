"""The administrators' pages: each view parses a form, calls one service and shows the answer.

A refusal (``ServiceError``) comes back as the same form, with what was typed still in it,
the messages next to the fields they concern and the status 422, so the request rolls back.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import (
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from certification.admin import bp
from certification.admin.forms import (
    AssessmentForm,
    CandidateForm,
    CandidateSearchForm,
    CourseForm,
    CreditForm,
    ProgrammeForm,
    ResultForm,
    country_name,
)
from certification.auth.models import User
from certification.auth.services import (
    create_candidate,
    create_password_setup_link,
    get_candidate,
    update_candidate,
)
from certification.catalogue import services as catalogue
from certification.catalogue.models import Course
from certification.errors import InvalidInput, NotFound, ServiceError
from certification.extensions import db
from certification.progress import format_decimal
from certification.records import services as records
from certification.web import today

Page = Response | str | tuple[str, int]

CANDIDATES_PER_PAGE = 50
# The session key that carries a new set-password token from the POST that made it to the
# one page that shows it; reading it removes it.
NEW_LINK_KEY = "admin_new_password_link"


@bp.context_processor
def _admin_helpers() -> dict[str, Any]:
    return {"country_name": country_name}


def _actor() -> User:
    """The administrator at the keyboard, as the model instance services record."""
    return current_user._get_current_object()


def _see_other(endpoint: str, **values: Any) -> Response:
    return redirect(url_for(endpoint, **values), code=303)


def _show_refusal(form: FlaskForm, refusal: ServiceError) -> None:
    """Put a refusal's messages next to the fields they name, the rest above the form."""
    unplaced = False
    for name, message in refusal.fields.items():
        if name in form and name != "csrf_token":
            form[name].errors = [*form[name].errors, message]
        else:
            unplaced = True
    # An InvalidInput's own sentence only says "correct the highlighted fields", which the
    # form_errors macro already says; other refusals explain themselves (attempts used up,
    # a duplicate), so their sentence is worth showing too.
    if unplaced or not refusal.fields or not isinstance(refusal, InvalidInput):
        form.form_errors.append(refusal.message)


def _form_page(template: str, form: FlaskForm, **context: Any) -> tuple[str, int]:
    """Show a form: 200 when it is new, 422 when it comes back with errors."""
    status = 422 if form.is_submitted() else 200
    return render_template(template, form=form, **context), status


# ---------------------------------------------------------------- candidates


@bp.route("/")
def index() -> Response:
    return redirect(url_for("admin.candidates"))


@bp.route("/candidates")
def candidates() -> Page:
    programmes = catalogue.list_programmes()
    form = CandidateSearchForm(formdata=request.args, programmes=programmes)
    status = 200 if form.validate() else 422
    eligible_for = None
    if code := form.eligible_for.data:
        try:
            eligible_for = catalogue.get_programme(code)
        except NotFound as refusal:
            form.eligible_for.errors = [refusal.message]
            status = 422
    query = "" if form.q.errors else form.q.data or ""
    statement = records.search_candidates(query, eligible_for=eligible_for, today=today())
    page = db.paginate(
        statement, page=request.args.get("page", 1, type=int), per_page=CANDIDATES_PER_PAGE
    )
    transcripts = records.load_transcripts(candidate.id for candidate in page.items)
    filters = {"q": query, "eligible_for": eligible_for.code if eligible_for else ""}
    return render_template(
        "admin/candidates.html",
        form=form,
        page=page,
        totals={i: t.total_credits for i, t in transcripts.items()},
        filters={key: value for key, value in filters.items() if value},
        eligible_for=eligible_for,
    ), status


def _link_lifetime() -> dt.timedelta:
    return dt.timedelta(hours=current_app.config["PASSWORD_SETUP_LINK_HOURS"])


def _hand_over_link(candidate: User, token: str) -> None:
    session[NEW_LINK_KEY] = {"candidate_id": candidate.id, "token": token}


@bp.route("/candidates/new", methods=["GET", "POST"])
def candidate_new() -> Page:
    form = CandidateForm()
    if form.validate_on_submit():
        try:
            candidate = create_candidate(**form.values(), actor=_actor())
            token = create_password_setup_link(candidate, _actor(), valid_for=_link_lifetime())
        except ServiceError as refusal:
            _show_refusal(form, refusal)
        else:
            _hand_over_link(candidate, token)
            flash(f"{candidate.full_name} is registered.", "success")
            return _see_other("admin.candidate", candidate_id=candidate.id)
    return _form_page("admin/candidate_form.html", form, candidate=None)


@bp.route("/candidates/<int:candidate_id>/edit", methods=["GET", "POST"])
def candidate_edit(candidate_id: int) -> Page:
    candidate = get_candidate(candidate_id)
    form = CandidateForm(obj=candidate)
    if form.validate_on_submit():
        try:
            update_candidate(candidate, **form.values(), actor=_actor())
        except ServiceError as refusal:
            _show_refusal(form, refusal)
        else:
            flash("The candidate's details are saved.", "success")
            return _see_other("admin.candidate", candidate_id=candidate.id)
    return _form_page("admin/candidate_form.html", form, candidate=candidate)


def _candidate_page(
    candidate: User,
    *,
    credit_form: CreditForm | None = None,
    result_form: ResultForm | None = None,
    new_link: str | None = None,
    status: int = 200,
) -> tuple[str, int]:
    transcript = records.load_transcript(candidate)
    return render_template(
        "admin/candidate.html",
        candidate=candidate,
        transcript=transcript,
        reports=records.progress_reports(transcript, today()),
        # The form that was not submitted starts empty (formdata=None: not this POST's data).
        credit_form=credit_form or CreditForm(formdata=None, courses=catalogue.list_courses()),
        result_form=result_form
        or ResultForm(formdata=None, assessments=catalogue.list_assessments()),
        new_link=new_link,
        link_hours=current_app.config["PASSWORD_SETUP_LINK_HOURS"],
    ), status


@bp.route("/candidates/<int:candidate_id>")
def candidate(candidate_id: int) -> Page:
    candidate = get_candidate(candidate_id)
    handed_over = session.pop(NEW_LINK_KEY, None)
    new_link = None
    if handed_over and handed_over.get("candidate_id") == candidate.id:
        new_link = url_for("auth.set_password", token=handed_over["token"], _external=True)
    return _candidate_page(candidate, new_link=new_link)


@bp.route("/candidates/<int:candidate_id>/credits", methods=["POST"])
def candidate_credits(candidate_id: int) -> Page:
    candidate = get_candidate(candidate_id)
    form = CreditForm(courses=catalogue.list_courses())
    if form.validate_on_submit():
        try:
            record = records.record_credit(
                candidate,
                form.course.data,
                form.completed_on.data,
                actor=_actor(),
                today=today(),
            )
        except ServiceError as refusal:
            _show_refusal(form, refusal)
        else:
            flash(
                f"Recorded {record.course.code} ({format_decimal(record.course.credits)} ECTS)"
                f" for {candidate.full_name}.",
                "success",
            )
            return _see_other("admin.candidate", candidate_id=candidate.id)
    return _candidate_page(candidate, credit_form=form, status=422)


@bp.route("/candidates/<int:candidate_id>/results", methods=["POST"])
def candidate_results(candidate_id: int) -> Page:
    candidate = get_candidate(candidate_id)
    form = ResultForm(assessments=catalogue.list_assessments())
    if form.validate_on_submit():
        try:
            attempt = records.record_result(
                candidate,
                form.assessment.data,
                form.score.number(),
                form.taken_on.data,
                actor=_actor(),
                today=today(),
            )
        except ServiceError as refusal:
            _show_refusal(form, refusal)
        else:
            flash(
                f"Recorded attempt {attempt.attempt_number} at {attempt.assessment.code}"
                f" (score {format_decimal(attempt.score)}) for {candidate.full_name}.",
                "success",
            )
            return _see_other("admin.candidate", candidate_id=candidate.id)
    return _candidate_page(candidate, result_form=form, status=422)


@bp.route(
    "/candidates/<int:candidate_id>/credits/<int:record_id>/delete",
    methods=["POST"],
)
def candidate_credit_delete(candidate_id: int, record_id: int) -> Page:
    candidate = get_candidate(candidate_id)
    record = records.get_credit(candidate, record_id)
    code = record.course.code
    records.delete_credit(record, _actor())
    flash(f"Removed the credit for {code}.", "success")
    return _see_other("admin.candidate", candidate_id=candidate.id)


@bp.route("/candidates/<int:candidate_id>/password-link", methods=["POST"])
def candidate_password_link(candidate_id: int) -> Page:
    candidate = get_candidate(candidate_id)
    token = create_password_setup_link(candidate, _actor(), valid_for=_link_lifetime())
    _hand_over_link(candidate, token)
    flash("A new set-password link is ready; any earlier link no longer works.", "success")
    return _see_other("admin.candidate", candidate_id=candidate.id)


# ---------------------------------------------------------------- programmes


@bp.route("/programmes")
def programmes() -> Page:
    return render_template("admin/programmes.html", programmes=catalogue.list_programmes())


def _programme_form(current: str | None = None, **kwargs: Any) -> ProgrammeForm:
    return ProgrammeForm(
        assessments=catalogue.list_assessments(),
        programmes=[p for p in catalogue.list_programmes() if p.code != current],
        **kwargs,
    )


@bp.route("/programmes/new", methods=["GET", "POST"])
def programme_new() -> Page:
    form = _programme_form()
    if form.validate_on_submit():
        try:
            programme = catalogue.create_programme(form.to_input(), _actor())
        except ServiceError as refusal:
            _show_refusal(form, refusal)
        else:
            flash(f"Programme {programme.code} is created.", "success")
            return _see_other("admin.programmes")
    return _form_page("admin/programme_form.html", form, programme=None)


@bp.route("/programmes/<code>/edit", methods=["GET", "POST"])
def programme_edit(code: str) -> Page:
    programme = catalogue.get_programme(code)
    form = _programme_form(programme.code, data=ProgrammeForm.data_of(programme))
    if form.validate_on_submit():
        try:
            catalogue.update_programme(programme, form.to_input(), _actor())
        except ServiceError as refusal:
            _show_refusal(form, refusal)
        else:
            flash(f"Programme {programme.code} is saved.", "success")
            return _see_other("admin.programmes")
    return _form_page("admin/programme_form.html", form, programme=programme)


# ---------------------------------------------------------------- courses


@bp.route("/courses")
def courses() -> Page:
    return render_template("admin/courses.html", courses=catalogue.list_courses())


def _course_form_page(form: CourseForm, course: Course | None = None) -> tuple[str, int]:
    return _form_page(
        "admin/course_form.html", form, course=course, domains=catalogue.list_domains()
    )


@bp.route("/courses/new", methods=["GET", "POST"])
def course_new() -> Page:
    form = CourseForm()
    if form.validate_on_submit():
        try:
            course = catalogue.create_course(form.to_input(), _actor())
        except ServiceError as refusal:
            _show_refusal(form, refusal)
        else:
            flash(f"Course {course.code} is created.", "success")
            return _see_other("admin.courses")
    return _course_form_page(form)


@bp.route("/courses/<code>/edit", methods=["GET", "POST"])
def course_edit(code: str) -> Page:
    course = catalogue.get_course(code)
    form = CourseForm(obj=course)
    if form.validate_on_submit():
        try:
            catalogue.update_course(course, form.to_input(), _actor())
        except ServiceError as refusal:
            _show_refusal(form, refusal)
        else:
            flash(f"Course {course.code} is saved.", "success")
            return _see_other("admin.courses")
    return _course_form_page(form, course)


@bp.route("/courses/<code>/delete", methods=["POST"])
def course_delete(code: str) -> Page:
    course = catalogue.get_course(code)
    code = course.code
    try:
        catalogue.delete_course(course, _actor())
    except ServiceError as refusal:
        flash(refusal.message, "error")
        return render_template(
            "admin/course_form.html",
            form=CourseForm(formdata=None, obj=course),
            course=course,
            domains=catalogue.list_domains(),
        ), 422
    flash(f"Course {code} is deleted.", "success")
    return _see_other("admin.courses")


# ---------------------------------------------------------------- assessments


@bp.route("/assessments")
def assessments() -> Page:
    return render_template("admin/assessments.html", assessments=catalogue.list_assessments())


@bp.route("/assessments/new", methods=["GET", "POST"])
def assessment_new() -> Page:
    form = AssessmentForm()
    if form.validate_on_submit():
        try:
            assessment = catalogue.create_assessment(form.to_input(), _actor())
        except ServiceError as refusal:
            _show_refusal(form, refusal)
        else:
            flash(f"Assessment {assessment.code} is created.", "success")
            return _see_other("admin.assessments")
    return _form_page("admin/assessment_form.html", form, assessment=None)


@bp.route("/assessments/<code>/edit", methods=["GET", "POST"])
def assessment_edit(code: str) -> Page:
    assessment = catalogue.get_assessment(code)
    form = AssessmentForm(obj=assessment)
    if form.validate_on_submit():
        try:
            catalogue.update_assessment(assessment, form.to_input(), _actor())
        except ServiceError as refusal:
            _show_refusal(form, refusal)
        else:
            flash(f"Assessment {assessment.code} is saved.", "success")
            return _see_other("admin.assessments")
    return _form_page("admin/assessment_form.html", form, assessment=assessment)


@bp.route("/assessments/<code>/delete", methods=["POST"])
def assessment_delete(code: str) -> Page:
    assessment = catalogue.get_assessment(code)
    code = assessment.code
    try:
        catalogue.delete_assessment(assessment, _actor())
    except ServiceError as refusal:
        flash(refusal.message, "error")
        return render_template(
            "admin/assessment_form.html",
            form=AssessmentForm(formdata=None, obj=assessment),
            assessment=assessment,
        ), 422
    flash(f"Assessment {code} is deleted.", "success")
    return _see_other("admin.assessments")
