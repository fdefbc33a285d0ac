"""The programme office's queue of holders' requests to erase their data: what each would
remove and keep, carrying it out, or refusing it with a reason the holder reads."""

from __future__ import annotations

from typing import Any

from flask import flash, render_template
from flask_babel import gettext, lazy_gettext
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import InputRequired, Length

from certification.admin.blueprint import bp
from certification.admin.views import Page, _actor, _done, _show_refusal
from certification.errors import ServiceError
from certification.privacy import (
    REFUSAL_REASON_MAX,
    carry_out_erasure,
    erasure_plan,
    pending_erasure_request_for,
    pending_erasure_requests,
    refuse_erasure,
)
from certification.types import utcnow


class ErasureRefusalForm(FlaskForm):
    reason = TextAreaField(
        lazy_gettext("Why not yet"),
        validators=[InputRequired(), Length(max=REFUSAL_REASON_MAX)],
        description=lazy_gettext(
            "The holder reads it on their page and by e-mail, and may ask again once it is settled."
        ),
        render_kw={"rows": 2, "maxlength": REFUSAL_REASON_MAX},
    )

    def __init__(self, *args: Any, candidate_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.candidate_id = candidate_id
        self.reason.id = f"refuse-{candidate_id}-reason"


def _queue_page(
    refusal_form: ErasureRefusalForm | None = None, status: int = 200
) -> tuple[str, int]:
    requests = pending_erasure_requests()
    forms = {
        r.candidate_id: ErasureRefusalForm(formdata=None, candidate_id=r.candidate_id)
        for r in requests
    }
    if refusal_form is not None:
        forms[refusal_form.candidate_id] = refusal_form
    return render_template(
        "admin/erasure.html",
        requests=requests,
        plans={r.id: erasure_plan(r.candidate) for r in requests},
        refusal_forms=forms,
    ), status


@bp.route("/erasure")
def erasure_queue() -> Page:
    return _queue_page()


@bp.route("/candidates/<int:candidate_id>/erasure/carry-out", methods=["POST"])
def erasure_carry_out(candidate_id: int) -> Page:
    """Erase the holder's data now (the button is the whole form; CSRF is checked as for
    every POST). What is kept for verification stays; the audit names the account's id."""
    try:
        request = pending_erasure_request_for(candidate_id)
        carry_out_erasure(request, _actor(), utcnow())
    except ServiceError as refusal:
        flash(gettext("Not erased: %(reason)s", reason=refusal.message), "error")
        return _queue_page(status=refusal.http_status)
    return _done(
        gettext(
            "Erased: account %(id)s is anonymised and can no longer log in; its certificates"
            " still answer verification.",
            id=candidate_id,
        ),
        "admin.erasure_queue",
    )


@bp.route("/candidates/<int:candidate_id>/erasure/refuse", methods=["POST"])
def erasure_refuse(candidate_id: int) -> Page:
    form = ErasureRefusalForm(candidate_id=candidate_id)
    if form.validate_on_submit():
        try:
            request = pending_erasure_request_for(candidate_id)
            refuse_erasure(request, form.reason.data or "", _actor(), utcnow())
        except ServiceError as refusal:
            _show_refusal(form, refusal)
            return _queue_page(form, refusal.http_status)
        return _done(
            gettext(
                "Not carried out; %(name)s is told why by e-mail.",
                name=request.candidate.full_name,
            ),
            "admin.erasure_queue",
        )
    return _queue_page(form, 422)
