"""The review queue of candidates' own claims: the programme office reviews them all,
provider staff those naming their own courses (``claims.services.reviews_for``). Each claim
with its evidence to download; approving makes it a record, rejecting takes a reason the
candidate reads."""

from __future__ import annotations

from typing import Any

from flask import flash, render_template, request
from flask_babel import gettext, lazy_gettext
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import TextAreaField
from wtforms.validators import InputRequired

from certification.admin.blueprint import bp
from certification.admin.paging import paginate
from certification.admin.views import Page, _actor, _done, _show_refusal
from certification.claims import services as claims
from certification.claims.models import Claim, ClaimState
from certification.errors import ServiceError
from certification.types import utcnow
from certification.web import evidence_download, today

CLAIMS_PER_PAGE = 50


def _one_line(value: Any) -> Any:
    return " ".join(value.split()) if isinstance(value, str) else value


class ClaimRejectForm(FlaskForm):
    reason = TextAreaField(
        lazy_gettext("Reason"),
        validators=[InputRequired()],
        filters=[_one_line],
        description=lazy_gettext(
            "The candidate reads it on their page and in the e-mail: say what is missing or"
            " wrong, so that they can claim again."
        ),
        render_kw={"rows": 3, "maxlength": claims.REASON_MAX},
    )


def _state_asked() -> ClaimState | None:
    """``?state=``: pending unless another state is asked for; ``all`` (or anything else)
    for every claim."""
    asked = request.args.get("state", ClaimState.PENDING.value)
    return ClaimState(asked) if asked in set(ClaimState) else None


@bp.route("/claims")
def claims_queue() -> Page:
    state = _state_asked()
    return render_template(
        "admin/claims.html",
        state=state,
        states=list(ClaimState),
        page=paginate(claims.claims_to_review(_actor(), state), CLAIMS_PER_PAGE),
        pending=claims.pending_count(_actor()),
        state_in_words=claims.state_in_words,
    )


def _claim_page(
    claim: Claim, reject_form: ClaimRejectForm | None = None, status: int = 200
) -> tuple[str, int]:
    return render_template(
        "admin/claim.html",
        claim=claim,
        reject_form=reject_form or ClaimRejectForm(formdata=None),
        state_in_words=claims.state_in_words,
        download_name=claims.download_name,
    ), status


@bp.route("/claims/<int:claim_id>")
def claim(claim_id: int) -> Page:
    return _claim_page(claims.claim_for_review(claim_id, _actor()))


@bp.route("/claims/<int:claim_id>/evidence/<int:evidence_id>")
def claim_evidence(claim_id: int, evidence_id: int) -> Response:
    evidence = claims.evidence_for_review(claim_id, evidence_id, _actor())
    assert evidence.data is not None  # noqa: S101 - a deleted file is not found
    return evidence_download(claims.download_name(evidence), evidence.media_type, evidence.data)


@bp.route("/claims/<int:claim_id>/approve", methods=["POST"])
def claim_approve(claim_id: int) -> Page:
    """Approve (the button is the whole form; CSRFProtect checks its token). A refusal is
    shown on the claim's page, and the request's rollback keeps nothing of the attempt."""
    found = claims.claim_for_review(claim_id, _actor())
    try:
        claims.approve_claim(found, _actor(), today=today(), now=utcnow())
    except ServiceError as refusal:
        flash(gettext("Not approved: %(reason)s", reason=refusal.message), "error")
        return _claim_page(found, status=refusal.http_status)
    return _done(
        gettext(
            "Approved “%(title)s” for %(name)s, who is told by e-mail.",
            title=found.title,
            name=found.candidate.full_name,
        ),
        "admin.claims_queue",
    )


@bp.route("/claims/<int:claim_id>/reject", methods=["POST"])
def claim_reject(claim_id: int) -> Page:
    found = claims.claim_for_review(claim_id, _actor())
    form = ClaimRejectForm()
    if not form.validate_on_submit():
        return _claim_page(found, form, 422)
    try:
        claims.reject_claim(found, form.reason.data or "", _actor(), now=utcnow())
    except ServiceError as refusal:
        if refusal.fields:
            _show_refusal(form, refusal)
        else:  # decided meanwhile: the page shows no form any more, so say it above
            flash(gettext("Not rejected: %(reason)s", reason=refusal.message), "error")
        return _claim_page(found, form, refusal.http_status)
    return _done(
        gettext(
            "Rejected “%(title)s” of %(name)s, who is told the reason by e-mail.",
            title=found.title,
            name=found.candidate.full_name,
        ),
        "admin.claims_queue",
    )
