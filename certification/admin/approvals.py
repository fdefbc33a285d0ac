"""Approval by each body: the officers' queue of requests awaiting their body, approving
and rejecting; and the certificate decisions of a jointly approved award (an officer's
revocation, the other body's reinstatement)."""

from __future__ import annotations

from flask import flash, render_template, request
from flask_babel import gettext, ngettext
from flask_login import current_user

from certification.admin.blueprint import bp
from certification.admin.forms import DecisionForm
from certification.admin.paging import paginate
from certification.admin.views import (
    Page,
    _actor,
    _candidate_page,
    _done,
    _see_other,
    _submit,
)
from certification.certificates import approvals, bulk
from certification.certificates import services as certificates
from certification.certificates.models import AwardRequest
from certification.errors import ServiceError
from certification.i18n import list_in_words
from certification.web import today

REQUESTS_PER_PAGE = 50


def _queue_page(reject_form: DecisionForm | None = None, status: int = 200) -> tuple[str, int]:
    """An officer's requests awaiting their body; to the office, every pending request."""
    body = current_user.partner_body
    statement = approvals.awaiting(body or None)
    page = paginate(statement, REQUESTS_PER_PAGE)
    reject_forms = {
        r.code: DecisionForm(formdata=None, action="reject", code=r.code) for r in page.items
    }
    if reject_form is not None:
        reject_forms[reject_form.code] = reject_form
    return render_template(
        "admin/approvals.html",
        body=body,
        page=page,
        still_to_approve={r.code: approvals.still_to_approve(r) for r in page.items},
        reject_forms=reject_forms,
    ), status


@bp.route("/approvals")
def approvals_queue() -> Page:
    return _queue_page()


def _request_done(award_request: AwardRequest) -> str:
    if award_request.certificate is not None:
        return gettext(
            "Approved by both bodies: certificate %(code)s is sealed and issued to %(name)s,"
            " who is told by e-mail.",
            code=award_request.code,
            name=award_request.candidate.full_name,
        )
    return gettext(
        "Approved %(code)s for %(body)s; it awaits %(bodies)s.",
        code=award_request.code,
        body=current_user.partner_body,
        bodies=list_in_words(approvals.still_to_approve(award_request)),
    )


@bp.route("/approvals/<code>/approve", methods=["POST"])
def request_approve(code: str) -> Page:
    """Approve for the officer's own body (the button is the whole form; CSRFProtect checks
    its token, as for every POST)."""
    award_request = approvals.find_request(code)
    try:
        approvals.approve_request(award_request, _actor(), today=today())
    except ServiceError as refusal:
        flash(gettext("Not approved: %(reason)s", reason=refusal.message), "error")
        return _queue_page(status=refusal.http_status)
    return _done(_request_done(award_request), "admin.approvals_queue", page=_page())


@bp.route("/approvals/approve-many", methods=["POST"])
def approvals_job_start() -> Page:
    """Approve the ticked requests (or, with ``everything``, all awaiting the officer's
    body) in the background: one job per award; its page shows it run."""
    codes = None if request.form.get("everything") == "yes" else request.form.getlist("codes")
    try:
        jobs = bulk.start_approval_jobs(_actor(), codes, today=today())
    except bulk.JobAlreadyRunning as refusal:
        flash(refusal.message, "info")
        return _see_other("admin.issue_job", job_id=refusal.job_id)
    except ServiceError as refusal:
        flash(gettext("Not approved: %(reason)s", reason=refusal.message), "error")
        return _queue_page(status=refusal.http_status)
    total = sum(job.total for job in jobs)
    flash(
        ngettext(
            "Approving %(num)d request for %(body)s has started.",
            "Approving %(num)d requests for %(body)s has started.",
            total,
            body=current_user.partner_body,
        ),
        "success",
    )
    if len(jobs) == 1:
        return _see_other("admin.issue_job", job_id=jobs[0].id)
    return _see_other("admin.issue_jobs")


@bp.route("/approvals/<code>/reject", methods=["POST"])
def request_reject(code: str) -> Page:
    award_request = approvals.find_request(code)
    form = DecisionForm(action="reject", code=award_request.code)
    return _submit(
        form,
        lambda: approvals.reject_request(award_request, _actor(), form.reason.data),
        lambda done: _done(
            gettext(
                "Rejected %(code)s for %(body)s: nothing is issued to %(name)s; the office may"
                " request it again later.",
                code=done.code,
                body=current_user.partner_body,
                name=done.candidate.full_name,
            ),
            "admin.approvals_queue",
            page=_page(),
        ),
    ) or _queue_page(reject_form=form, status=422)


@bp.route("/certificates/<code>/reinstate", methods=["POST"])
def certificate_reinstate(code: str) -> Page:
    certificate = certificates.find_certificate(code)
    form = DecisionForm(action="reinstate", code=certificate.code)
    return _submit(
        form,
        lambda: approvals.reinstate_certificate(certificate, form.reason.data, _actor()),
        lambda _: _done(
            gettext("Certificate %(code)s is reinstated: valid again.", code=certificate.code),
            "admin.candidate",
            candidate_id=certificate.candidate_id,
        ),
    ) or _candidate_page(certificate.candidate, reinstate_form=form, status=422)


def _page() -> int:
    return request.args.get("page", 1, type=int)
