"""The administrators' pages: each view parses a form, calls one service and shows the answer.

A refusal (``ServiceError``) comes back as the same form, with what was typed still in it,
the messages next to the fields they concern and the status 422, so the request rolls back.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from certification.admin.blueprint import bp
from certification.admin.forms import (
    AssessmentForm,
    AuditFilterForm,
    CandidateForm,
    CandidateSearchForm,
    CourseForm,
    CreditForm,
    DecisionForm,
    HoldLiftForm,
    PartnerBodyForm,
    ProgrammeForm,
    ProviderForm,
    ReissueForm,
    ResultForm,
    RevokeForm,
    WithdrawalForm,
    country_name,
)
from certification.admin.paging import paginate
from certification.audit import audit_actions, audit_actor_emails, audit_events_query
from certification.auth.models import User
from certification.auth.permissions import may_edit_body
from certification.auth.services import (
    create_candidate,
    create_password_setup_link,
    get_candidate,
    set_language,
    update_candidate,
)
from certification.auth.sessions import fresh_login_required
from certification.catalogue import services as catalogue
from certification.catalogue import wording
from certification.catalogue.models import Assessment, Course, Programme
from certification.certificates import approvals
from certification.certificates import services as certificates
from certification.certificates.branding import update_partner_body
from certification.certificates.holds import holds_of, holds_on, lift_hold
from certification.certificates.models import AwardRequest, Certificate
from certification.dates import format_long_date
from certification.errors import InvalidInput, NotFound, ServiceError
from certification.i18n import format_number, list_in_words
from certification.mail.services import queue_invitation
from certification.records import services as records
from certification.records.models import AssessmentAttempt, CreditRecord
from certification.records.standings import active_standing_job
from certification.types import MAX_ID
from certification.web import sealed_pdf_download, today

Page = Response | str | tuple[str, int]
Saved = TypeVar("Saved")

CANDIDATES_PER_PAGE = 50
AUDIT_EVENTS_PER_PAGE = 50
# The session key that carries a new set-password token from the POST that made it to the
# one page that shows it; reading it removes it.
NEW_LINK_KEY = "admin_new_password_link"


@bp.context_processor
def _admin_helpers() -> dict[str, Any]:
    return {
        "country_name": country_name,
        "pretty_json": _pretty_json,
        "utc": _utc,
    }


def _pretty_json(value: Any) -> str:
    # Plain text, escaped by the template like anything else (tojson would show \u0027).
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True)


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC)


def _zone() -> ZoneInfo:
    """The programme's calendar, in which certificate dates are told."""
    return ZoneInfo(current_app.config["APP_TIMEZONE"])


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


def _done(message: str, endpoint: str, **values: Any) -> Response:
    """Say what was saved, then go on to ``endpoint`` (303: the next page is a GET)."""
    flash(message, "success")
    return _see_other(endpoint, **values)


def _submit(
    form: FlaskForm, save: Callable[[], Saved], done: Callable[[Saved], Response]
) -> Response | None:
    """On a valid submission call ``save`` (the one service call), then ``done`` with its
    answer. None when the form is to be shown again: not sent, not valid, or refused, and
    then the refusal's messages are on it."""
    if form.validate_on_submit():
        try:
            saved = save()
        except ServiceError as refusal:
            _show_refusal(form, refusal)
        else:
            return done(saved)
    return None


def _form_view(
    form: FlaskForm,
    save: Callable[[], Saved],
    done: Callable[[Saved], Response],
    template: str,
    **context: Any,
) -> Page:
    """A create or edit page: where ``done`` goes once saved, else the form in ``template``."""
    return _submit(form, save, done) or _form_page(template, form, **context)


CatalogueItem = TypeVar("CatalogueItem", Programme, Course, Assessment)


def _catalogue_message(kind: str, done: str, code: str) -> str:
    """What was done (``created``, ``saved`` or ``deleted``) to the programme, course or
    assessment (``kind``) with ``code``, as one sentence for the translators."""
    messages = {
        ("programme", "created"): gettext("Programme %(code)s is created.", code=code),
        ("programme", "saved"): gettext("Programme %(code)s is saved.", code=code),
        ("programme", "deleted"): gettext("Programme %(code)s is deleted.", code=code),
        ("course", "created"): gettext("Course %(code)s is created.", code=code),
        ("course", "saved"): gettext("Course %(code)s is saved.", code=code),
        ("course", "deleted"): gettext("Course %(code)s is deleted.", code=code),
        ("assessment", "created"): gettext("Assessment %(code)s is created.", code=code),
        ("assessment", "saved"): gettext("Assessment %(code)s is saved.", code=code),
        ("assessment", "deleted"): gettext("Assessment %(code)s is deleted.", code=code),
    }
    return messages[kind, done]


def _catalogue_form(
    kind: str,
    form: FlaskForm,
    save: Callable[[Any, User], CatalogueItem],
    item: CatalogueItem | None = None,
    **context: Any,
) -> Page:
    """The new or edit page of a programme, course or assessment (``kind``).

    ``save`` is the catalogue service that creates or updates one from the form's values;
    once it has, the list of its kind, with a word of what was done.
    """
    if item is not None:
        context["missing_translations"] = wording.missing_languages(_wording_of(item))
    return _form_view(
        form,
        lambda: save(form.to_input(), _actor()),
        lambda saved: _done(
            _catalogue_message(kind, "created" if item is None else "saved", saved.code),
            f"admin.{kind}s",
        ),
        f"admin/{kind}_form.html",
        **{kind: item},
        **context,
    )


def _wording_of(item: Programme | Course | Assessment) -> list[str]:
    """The English wording of ``item`` that candidates read, and that is translated."""
    if isinstance(item, Programme):
        return [item.title, item.description, *(m.domain for m in item.domain_minimums)]
    if isinstance(item, Course):
        return [item.title, item.domain]
    return [item.title]


def _catalogue_delete(
    kind: str,
    item: CatalogueItem,
    delete: Callable[[CatalogueItem, User], None],
    form: FlaskForm,
    **context: Any,
) -> Page:
    """Delete a programme, course or assessment (``kind``), then back to the list of its
    kind; refused, its form again with the reason."""
    message = _catalogue_message(kind, "deleted", item.code)  # worded before it is gone
    try:
        delete(item, _actor())
    except ServiceError as refusal:
        flash(refusal.message, "error")
        return render_template(f"admin/{kind}_form.html", form=form, **{kind: item}, **context), 422
    return _done(message, f"admin.{kind}s")


# ---------------------------------------------------------------- candidates


@bp.route("/")
def index() -> Response:
    """Each role's home is what it came for: an officer, the requests awaiting their body."""
    if current_user.partner_body:
        return redirect(url_for("admin.approvals_queue"))
    if current_user.is_provider_staff:
        return redirect(url_for("admin.our_courses"))
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
    statement = certificates.search_candidates(query, eligible_for=eligible_for, today=today())
    page = records.CandidatePage(statement, _page_number(), CANDIDATES_PER_PAGE)
    filters = {"q": query, "eligible_for": eligible_for.code if eligible_for else ""}
    return render_template(
        "admin/candidates.html",
        form=form,
        page=page,
        totals=records.credit_totals(c.id for c in page.items),
        filters={key: value for key, value in filters.items() if value},
        eligible_for=eligible_for,
    ), status


def _page_number() -> int:
    """The ``?page=`` asked for; anything that is not a page number is the first page."""
    number = request.args.get("page", 1, type=int)
    return number if 0 < number <= MAX_ID else 1


def _link_lifetime() -> dt.timedelta:
    return dt.timedelta(hours=current_app.config["PASSWORD_SETUP_LINK_HOURS"])


def _hand_over_link(candidate: User, token: str) -> None:
    session[NEW_LINK_KEY] = {"candidate_id": candidate.id, "token": token}


def _send_invitation(candidate: User, token: str) -> None:
    """E-mail the candidate the same link the page shows (a worker sends it after commit)."""
    url = url_for("auth.set_password", token=token, _external=True)
    queue_invitation(candidate, url, _actor())
    flash(gettext("An invitation was queued to %(email)s.", email=candidate.email), "info")


@bp.route("/candidates/new", methods=["GET", "POST"])
def candidate_new() -> Page:
    form = CandidateForm()

    def register() -> tuple[User, str]:
        candidate = create_candidate(
            **form.values(), actor=_actor(), language=form.chosen_language()
        )
        return candidate, create_password_setup_link(
            candidate, _actor(), valid_for=_link_lifetime()
        )

    def registered(saved: tuple[User, str]) -> Response:
        candidate, token = saved
        _hand_over_link(candidate, token)
        flash(gettext("%(name)s is registered.", name=candidate.full_name), "success")
        _send_invitation(candidate, token)
        return _see_other("admin.candidate", candidate_id=candidate.id)

    return _form_view(form, register, registered, "admin/candidate_form.html", candidate=None)


@bp.route("/candidates/<int:candidate_id>/edit", methods=["GET", "POST"])
@fresh_login_required  # a changed e-mail is where the next set-password link goes
def candidate_edit(candidate_id: int) -> Page:
    candidate = get_candidate(candidate_id)
    form = CandidateForm(obj=candidate)
    return _form_view(
        form,
        lambda: set_language(
            update_candidate(candidate, **form.values(), actor=_actor()),
            form.chosen_language(),
            _actor(),
        ),
        lambda _: _done(
            gettext("The candidate's details are saved."),
            "admin.candidate",
            candidate_id=candidate.id,
        ),
        "admin/candidate_form.html",
        candidate=candidate,
    )


def _candidate_page(
    candidate: User,
    *,
    credit_form: CreditForm | None = None,
    result_form: ResultForm | None = None,
    revoke_form: RevokeForm | None = None,
    reissue_form: ReissueForm | None = None,
    lift_form: HoldLiftForm | None = None,
    withdrawal_form: WithdrawalForm | None = None,
    reinstate_form: DecisionForm | None = None,
    new_link: str | None = None,
    status: int = 200,
) -> tuple[str, int]:
    transcript = records.load_transcript(candidate)
    # One withdrawal form per record that counts; the one just refused keeps the reason typed.
    withdrawal_forms = {
        f"{kind}-{r.id}": WithdrawalForm(formdata=None, kind=kind, record_id=r.id)
        for kind, rows in (("credit", transcript.credits), ("result", transcript.attempts))
        for r in rows
    }
    if withdrawal_form is not None:
        withdrawal_forms[f"{withdrawal_form.kind}-{withdrawal_form.record_id}"] = withdrawal_form
    reports = certificates.candidate_progress(candidate, today())
    standings = certificates.certificate_standings(candidate, today(), _zone())
    held = {s.certificate.programme_id for s in standings if s.certificate.is_current}
    current = [s.certificate for s in standings if s.certificate.is_current]
    # One revoke and one reissue form per current certificate; the one just refused keeps
    # what was typed and its messages.
    revoke_forms = {c.code: RevokeForm(formdata=None, code=c.code) for c in current}
    reissue_forms = {
        c.code: ReissueForm(
            formdata=None,
            code=c.code,
            data={"full_name": candidate.full_name, "language": c.language},
        )
        for c in current
    }
    if revoke_form is not None:
        revoke_forms[revoke_form.code] = revoke_form
    if reissue_form is not None:
        reissue_forms[reissue_form.code] = reissue_form
    reinstate_forms = {
        c.code: DecisionForm(formdata=None, action="reinstate", code=c.code) for c in current
    }
    if reinstate_form is not None:
        reinstate_forms[reinstate_form.code] = reinstate_form
    # What the person at the keyboard may do to each certificate (their role, the award's
    # approval policy, a suspension); and the awards requested and awaiting the bodies.
    actions = {c.code: approvals.certificate_actions(c, _actor()) for c in current}
    pending = approvals.pending_requests_of(candidate)
    requested = {r.programme_id for r in pending}
    # An award on hold since a revocation: one form to lift each hold, with a reason.
    holds = holds_of(candidate)
    on_hold = {h.programme_id for h in holds}
    lift_forms = {
        h.programme.code: HoldLiftForm(formdata=None, programme=h.programme.code) for h in holds
    }
    if lift_form is not None:
        lift_forms[lift_form.programme] = lift_form
    # A current certificate issued while a record now withdrawn was on file may rest on it:
    # the office decides whether to revoke it.
    resting_on_withdrawn = certificates.resting_on_withdrawn(current, transcript)
    programmes = {p.code: p for p in catalogue.list_programmes()}
    # A course counts once: the credit form offers only those not yet on the transcript.
    credited = {record.course_id for record in transcript.credits}
    not_yet_credited = [c for c in catalogue.list_courses() if c.id not in credited]
    return render_template(
        "admin/candidate.html",
        candidate=candidate,
        transcript=transcript,
        reports=reports,
        issuable=[
            programmes[r.programme_code]
            for r in reports
            if r.eligible and programmes[r.programme_code].id not in held | on_hold | requested
        ],
        standings=standings,
        revoke_forms=revoke_forms,
        reissue_forms=reissue_forms,
        reinstate_forms=reinstate_forms,
        actions=actions,
        pending=pending,
        still_to_approve={r.code: approvals.still_to_approve(r) for r in pending},
        holds=holds,
        lift_forms=lift_forms,
        withdrawal_forms=withdrawal_forms,
        resting_on_withdrawn=resting_on_withdrawn,
        zone=_zone(),  # withdrawals are dated in the programme's calendar, as revocations
        # The form that was not submitted starts empty (formdata=None: not this POST's data).
        credit_form=credit_form or CreditForm(formdata=None, courses=not_yet_credited),
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


def _recorded(candidate: User, message: str) -> Response:
    """Say what was recorded for ``candidate`` (``message``), then back to their page."""
    return _done(message, "admin.candidate", candidate_id=candidate.id)


@bp.route("/candidates/<int:candidate_id>/credits", methods=["POST"])
def candidate_credits(candidate_id: int) -> Page:
    candidate = get_candidate(candidate_id)
    form = CreditForm(courses=catalogue.list_courses())
    return _submit(
        form,
        lambda: records.record_credit(
            candidate, form.course.data, form.completed_on.data, actor=_actor(), today=today()
        ),
        lambda record: _recorded(
            candidate,
            gettext(
                "Recorded %(course)s (%(credits)s ECTS) for %(name)s.",
                course=record.course.code,
                credits=format_number(record.course.credits),
                name=candidate.full_name,
            ),
        ),
    ) or _candidate_page(candidate, credit_form=form, status=422)


@bp.route("/candidates/<int:candidate_id>/results", methods=["POST"])
def candidate_results(candidate_id: int) -> Page:
    candidate = get_candidate(candidate_id)
    form = ResultForm(assessments=catalogue.list_assessments())
    return _submit(
        form,
        lambda: records.record_result(
            candidate,
            form.assessment.data,
            form.score.number(),
            form.taken_on.data,
            actor=_actor(),
            today=today(),
        ),
        lambda attempt: _recorded(
            candidate,
            gettext(
                "Recorded attempt %(ordinal)s at %(assessment)s (score %(score)s) for %(name)s.",
                ordinal=records.attempt_ordinal(attempt),
                assessment=attempt.assessment.code,
                score=format_number(attempt.score),
                name=candidate.full_name,
            ),
        ),
    ) or _candidate_page(candidate, result_form=form, status=422)


def _withdrawal(
    candidate: User,
    record: CreditRecord | AssessmentAttempt,
    form: WithdrawalForm,
    withdraw: Callable[[], object],
    withdrew: str,
    withdrawn_already: str,
) -> Page:
    """Withdraw ``record`` with the reason on ``form``, or show the form again with what is
    wrong (a record withdrawn already has no form any more: then say so up top). The two
    messages: once it is withdrawn, and when it was already."""
    done = _submit(
        form,
        withdraw,
        lambda _: _done(
            withdrew,
            "admin.candidate",
            candidate_id=candidate.id,
            _anchor="transcript",
        ),
    )
    if done is not None:
        return done
    if record.withdrawn_at is not None:
        flash(" ".join(form.form_errors) or withdrawn_already, "error")
    return _candidate_page(candidate, withdrawal_form=form, status=422)


@bp.route("/candidates/<int:candidate_id>/credits/<int:credit_id>/withdraw", methods=["POST"])
def candidate_credit_withdraw(candidate_id: int, credit_id: int) -> Page:
    candidate = get_candidate(candidate_id)
    record = records.get_credit(candidate, credit_id)
    form = WithdrawalForm(kind="credit", record_id=record.id)
    return _withdrawal(
        candidate,
        record,
        form,
        lambda: records.withdraw_credit(record, form.reason.data, _actor(), today=today()),
        gettext(
            "Withdrew the credit for %(course)s from %(name)s's transcript; it no longer counts."
            " To correct it, record the right one.",
            course=record.course.code,
            name=candidate.full_name,
        ),
        gettext("the credit for %(course)s was withdrawn already.", course=record.course.code),
    )


@bp.route("/candidates/<int:candidate_id>/results/<int:result_id>/withdraw", methods=["POST"])
def candidate_result_withdraw(candidate_id: int, result_id: int) -> Page:
    candidate = get_candidate(candidate_id)
    attempt = records.get_result(candidate, result_id)
    form = WithdrawalForm(kind="result", record_id=attempt.id)
    return _withdrawal(
        candidate,
        attempt,
        form,
        lambda: records.withdraw_result(attempt, form.reason.data, _actor(), today=today()),
        gettext(
            "Withdrew the result at %(assessment)s taken on %(day)s from %(name)s's transcript;"
            " it no longer counts. To correct it, record the right one.",
            assessment=attempt.assessment.code,
            day=format_long_date(attempt.taken_on),
            name=candidate.full_name,
        ),
        gettext(
            "the result at %(assessment)s taken on %(day)s was withdrawn already.",
            assessment=attempt.assessment.code,
            day=format_long_date(attempt.taken_on),
        ),
    )


@bp.route("/candidates/<int:candidate_id>/password-link", methods=["POST"])
def candidate_password_link(candidate_id: int) -> Page:
    candidate = get_candidate(candidate_id)
    token = create_password_setup_link(candidate, _actor(), valid_for=_link_lifetime())
    _hand_over_link(candidate, token)
    flash(gettext("A new set-password link is ready; any earlier link no longer works."), "success")
    _send_invitation(candidate, token)
    return _see_other("admin.candidate", candidate_id=candidate.id)


# ---------------------------------------------------------------- certificates


def _issue_refusal(candidate: User, refusal: ServiceError) -> str:
    if isinstance(refusal, certificates.RequirementsNotMet):
        return gettext(
            "Not issued: %(name)s does not yet meet every requirement of this award."
            " Still needed: %(missing)s.",
            name=candidate.full_name,
            missing="; ".join(refusal.missing),
        )
    if isinstance(refusal, certificates.AlreadyRequested):
        return gettext(
            "Not requested again: the award was requested for %(name)s already (%(code)s)"
            " and awaits the bodies' approval.",
            name=candidate.full_name,
            code=refusal.code,
        )
    if isinstance(refusal, certificates.AlreadyIssued):
        return gettext(
            "Not issued: %(name)s already holds a current certificate for this award, %(code)s.",
            name=candidate.full_name,
            code=refusal.code,
        )
    return gettext("Not issued: %(reason)s", reason=refusal.message)


@bp.route("/candidates/<int:candidate_id>/certificates", methods=["POST"])
def candidate_issue(candidate_id: int) -> Page:
    candidate = get_candidate(candidate_id)
    # The ready-to-issue list sends its people back to the list; anything else, this page.
    back_to_list = request.form.get("return_to") == "eligible"
    programme: Programme | None = None
    try:
        programme = catalogue.get_programme(request.form.get("programme", ""))
        done = approvals.request_award(candidate, programme, _actor(), today=today())
    except ServiceError as refusal:
        flash(_issue_refusal(candidate, refusal), "error")
    else:
        flash(_issued_or_requested(done, programme, candidate), "success")
        if back_to_list:
            return _see_other("admin.eligible", code=programme.code)
        return _see_other("admin.candidate", candidate_id=candidate.id)
    if back_to_list and programme is not None:
        return _eligible_page(programme, status=422)
    return _candidate_page(candidate, status=422)


def _issued_or_requested(
    done: Certificate | AwardRequest, programme: Programme, candidate: User
) -> str:
    if isinstance(done, AwardRequest):
        return gettext(
            "Requested %(code)s (%(programme)s) for %(name)s: it awaits approval by"
            " %(bodies)s, and is not valid until both have approved.",
            code=done.code,
            programme=programme.title,
            name=candidate.full_name,
            bodies=list_in_words(approvals.still_to_approve(done)),
        )
    return gettext(
        "Certificate %(code)s (%(programme)s) is issued to %(name)s.",
        code=done.code,
        programme=programme.title,
        name=candidate.full_name,
    )


@bp.route("/certificates/<code>.pdf")
def certificate_pdf(code: str) -> Response:
    certificate = certificates.find_certificate(code)
    return sealed_pdf_download(certificate.code, certificate.pdf)


def _certificate_refused(
    certificate: Certificate,
    *,
    revoke_form: RevokeForm | None = None,
    reissue_form: ReissueForm | None = None,
) -> tuple[str, int]:
    """The candidate's page again with the refused form. A revoked or superseded
    certificate has no forms on the page: then say why up top."""
    form = revoke_form or reissue_form
    assert form is not None  # noqa: S101 - each caller passes the form it refused
    if not certificate.is_current:
        flash(
            " ".join(form.form_errors)
            or gettext(
                "Certificate %(code)s was revoked or superseded already.", code=certificate.code
            ),
            "error",
        )
    return _candidate_page(
        certificate.candidate, revoke_form=revoke_form, reissue_form=reissue_form, status=422
    )


@bp.route("/certificates/<code>/revoke", methods=["POST"])
def certificate_revoke(code: str) -> Page:
    """Revoke in two steps: the reason first (refused, it comes back as typed with the
    error beside it); once it is right, a page asking to confirm what cannot be undone,
    whose button posts again with ``confirmed``."""
    certificate = certificates.find_certificate(code)
    form = RevokeForm(code=certificate.code)
    if form.change.data:  # back from the confirmation, to edit the reason
        return _candidate_page(certificate.candidate, revoke_form=form)
    if form.confirmed.data != "yes":
        if not certificate.is_current:
            return _certificate_refused(certificate, revoke_form=form)
        if form.validate_on_submit():
            return render_template(
                "admin/certificate_revoke.html", certificate=certificate, form=form
            )
        return _certificate_refused(certificate, revoke_form=form)
    return _submit(
        form,
        lambda: approvals.revoke_award(certificate, form.reason.data, _actor()),
        lambda done: _done(
            gettext("Certificate %(code)s is revoked.", code=certificate.code)
            if done.revoked_at
            else gettext(
                "Certificate %(code)s is suspended: it is not in force until the other body"
                " revokes it or reinstates it.",
                code=certificate.code,
            ),
            "admin.candidate",
            candidate_id=certificate.candidate_id,
        ),
    ) or _certificate_refused(certificate, revoke_form=form)


@bp.route("/candidates/<int:candidate_id>/holds/<code>/lift", methods=["POST"])
def hold_lift(candidate_id: int, code: str) -> Page:
    """Lift the hold a revocation put on an award for the candidate, with a reason."""
    candidate = get_candidate(candidate_id)
    programme = catalogue.get_programme(code)
    form = HoldLiftForm(programme=programme.code)
    return _submit(
        form,
        lambda: lift_hold(candidate, programme, form.reason.data, _actor()),
        lambda _: _done(
            gettext(
                "The hold on the %(programme)s is lifted for %(name)s: it may be issued to them"
                " again.",
                programme=programme.title,
                name=candidate.full_name,
            ),
            "admin.candidate",
            candidate_id=candidate.id,
        ),
    ) or _candidate_page(candidate, lift_form=form, status=422)


@bp.route("/certificates/<code>/reissue", methods=["POST"])
def certificate_reissue(code: str) -> Page:
    certificate = certificates.find_certificate(code)
    form = ReissueForm(code=certificate.code)
    return _submit(
        form,
        lambda: approvals.reissue_award(
            certificate,
            _actor(),
            full_name=form.full_name.data,
            language=form.language.data or None,
        ),
        lambda replacement: _done(
            gettext(
                "Reissued as %(new)s; %(old)s is superseded by it.",
                new=replacement.code,
                old=certificate.code,
            )
            if isinstance(replacement, Certificate)
            else gettext(
                "Requested the reissue as %(new)s: it awaits approval by %(bodies)s; %(old)s"
                " stays valid until then.",
                new=replacement.code,
                bodies=list_in_words(approvals.still_to_approve(replacement)),
                old=certificate.code,
            ),
            "admin.candidate",
            candidate_id=certificate.candidate_id,
        ),
    ) or _certificate_refused(certificate, reissue_form=form)


def _eligible_page(programme: Programme, status: int = 200) -> tuple[str, int]:
    statement = certificates.eligible_not_issued(programme, today())
    page = records.CandidatePage(statement, _page_number(), CANDIDATES_PER_PAGE)
    return render_template(
        "admin/eligible.html",
        programme=programme,
        programmes=catalogue.list_programmes(),
        page=page,
        totals=records.credit_totals(c.id for c in page.items),
        restanding=active_standing_job(programme),
        holds=holds_on(programme),
        zone=_zone(),  # a hold is dated in the programme's calendar, as its revocation
    ), status


@bp.route("/ready")
def ready() -> Page:
    """The nav's way in: the first programme's list, which links to the others."""
    programmes = catalogue.list_programmes()
    if not programmes:
        flash(gettext("There are no programmes yet, so nobody is ready for a certificate."), "info")
        return redirect(url_for("admin.programmes"))
    return redirect(url_for("admin.eligible", code=programmes[0].code))


@bp.route("/programmes/<code>/eligible")
def eligible(code: str) -> Page:
    return _eligible_page(catalogue.get_programme(code))


# ---------------------------------------------------------------- audit


@bp.route("/audit")
def audit() -> Page:
    form = AuditFilterForm(
        formdata=request.args, actions=audit_actions(), actor_emails=audit_actor_emails()
    )
    status = 200 if form.validate() else 422
    filters = {
        "action": form.action.data or "",
        "actor": form.actor.data or "",
        "object": "" if form.object.errors else (form.object.data or "").strip(),
    }
    statement = audit_events_query(
        action=filters["action"], actor_email=filters["actor"], object_id=filters["object"]
    )
    page = paginate(statement, AUDIT_EVENTS_PER_PAGE)
    return render_template(
        "admin/audit.html",
        form=form,
        page=page,
        filters={key: value for key, value in filters.items() if value},
    ), status


# ---------------------------------------------------------------- branding


def _branding_page(forms: dict[str, PartnerBodyForm], status: int = 200) -> tuple[str, int]:
    bodies = certificates.partner_bodies()
    editable = {b.short_name for b in bodies if may_edit_body(current_user, b.short_name)}
    return render_template(
        "admin/branding.html", bodies=bodies, forms=forms, editable=editable
    ), status


@bp.route("/branding", methods=["GET", "POST"])
@fresh_login_required  # what both bodies' seals and signatures print on every certificate
def branding() -> Page:
    bodies = {b.short_name: b for b in certificates.partner_bodies()}
    forms = {
        name: PartnerBodyForm(
            formdata=None, obj=body, data=PartnerBodyForm.titles_of(body), prefix=name.lower()
        )
        for name, body in bodies.items()
    }
    if request.method == "GET":
        return _branding_page(forms)
    body = bodies.get(request.form.get("body", ""))
    if body is None:
        abort(400)
    if not may_edit_body(current_user, body.short_name):
        abort(403)  # an officer of the other body: each body's branding is its own act
    form = forms[body.short_name] = PartnerBodyForm(
        obj=body, data=PartnerBodyForm.titles_of(body), prefix=body.short_name.lower()
    )
    return _submit(
        form,
        lambda: update_partner_body(body, form.to_input(), _actor()),
        lambda _: _done(
            gettext(
                "%(body)s is saved. Certificates issued from now on carry it.",
                body=body.short_name,
            ),
            "admin.branding",
        ),
    ) or _branding_page(forms, status=422)


@bp.route("/branding/<filename>")
def branding_image(filename: str) -> Response:
    image = certificates.current_branding_image(filename)
    return Response(
        image.content,
        mimetype=image.media_type,
        headers={"X-Content-Type-Options": "nosniff"},
    )


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
    create = partial(catalogue.create_programme, today=today())
    return _catalogue_form("programme", _programme_form(), create)


@bp.route("/programmes/<code>/edit", methods=["GET", "POST"])
def programme_edit(code: str) -> Page:
    programme = catalogue.get_programme(code)
    form = _programme_form(programme.code, data=ProgrammeForm.data_of(programme))
    update = partial(catalogue.update_programme, programme, today=today())
    return _catalogue_form("programme", form, update, programme)


# ---------------------------------------------------------------- courses


@bp.route("/courses")
def courses() -> Page:
    return render_template("admin/courses.html", courses=catalogue.list_courses())


@bp.route("/courses/new", methods=["GET", "POST"])
def course_new() -> Page:
    domains = catalogue.list_domains()
    form = CourseForm(providers=catalogue.list_providers())
    return _catalogue_form("course", form, catalogue.create_course, domains=domains)


@bp.route("/courses/<code>/edit", methods=["GET", "POST"])
def course_edit(code: str) -> Page:
    course = catalogue.get_course(code)
    update = partial(catalogue.update_course, course)
    domains = catalogue.list_domains()
    form = CourseForm(obj=course, providers=catalogue.list_providers())
    return _catalogue_form("course", form, update, course, domains=domains)


@bp.route("/courses/<code>/delete", methods=["POST"])
def course_delete(code: str) -> Page:
    course = catalogue.get_course(code)
    form = CourseForm(formdata=None, obj=course, providers=catalogue.list_providers())
    domains = catalogue.list_domains()
    return _catalogue_delete("course", course, catalogue.delete_course, form, domains=domains)


# ---------------------------------------------------------------- providers


@bp.route("/providers")
def providers() -> Page:
    return render_template("admin/providers.html", providers=catalogue.list_providers())


def _provider_form(form: ProviderForm, provider: Any = None) -> Page:
    """The new or edit page of a course provider; once saved, the list of providers."""

    def save() -> Any:
        if provider is None:
            return catalogue.create_provider(form.to_input(), _actor())
        return catalogue.update_provider(provider, form.to_input(), _actor())

    return _form_view(
        form,
        save,
        lambda saved: _done(
            gettext("Provider %(name)s is created.", name=saved.name)
            if provider is None
            else gettext("Provider %(name)s is saved.", name=saved.name),
            "admin.providers",
        ),
        "admin/provider_form.html",
        provider=provider,
    )


@bp.route("/providers/new", methods=["GET", "POST"])
def provider_new() -> Page:
    return _provider_form(ProviderForm())


@bp.route("/providers/<int:provider_id>/edit", methods=["GET", "POST"])
def provider_edit(provider_id: int) -> Page:
    provider = catalogue.get_provider(provider_id)
    return _provider_form(ProviderForm(obj=provider), provider)


# ---------------------------------------------------------------- assessments


@bp.route("/assessments")
def assessments() -> Page:
    return render_template("admin/assessments.html", assessments=catalogue.list_assessments())


@bp.route("/assessments/new", methods=["GET", "POST"])
def assessment_new() -> Page:
    return _catalogue_form("assessment", AssessmentForm(), catalogue.create_assessment)


@bp.route("/assessments/<code>/edit", methods=["GET", "POST"])
def assessment_edit(code: str) -> Page:
    assessment = catalogue.get_assessment(code)
    update = partial(catalogue.update_assessment, assessment)
    return _catalogue_form("assessment", AssessmentForm(obj=assessment), update, assessment)


@bp.route("/assessments/<code>/delete", methods=["POST"])
def assessment_delete(code: str) -> Page:
    assessment = catalogue.get_assessment(code)
    form = AssessmentForm(formdata=None, obj=assessment)
    return _catalogue_delete("assessment", assessment, catalogue.delete_assessment, form)
