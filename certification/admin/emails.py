"""The outbox, for administrators: what was sent, what is waiting, what failed and why."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from certification.admin.blueprint import bp
from certification.admin.paging import paginate
from certification.errors import ServiceError
from certification.mail.models import EmailStatus
from certification.mail.services import get_email, outbox_counts, outbox_query, retry

EMAILS_PER_PAGE = 50


def _status_filter(value: str | None) -> EmailStatus | None:
    try:
        return EmailStatus(value) if value else None
    except ValueError:
        return None


@bp.route("/emails")
def emails() -> str:
    status = _status_filter(request.args.get("status"))
    page = paginate(outbox_query(status), EMAILS_PER_PAGE)
    return render_template(
        "admin/emails.html",
        page=page,
        status=status,
        counts=outbox_counts(),
        statuses=list(EmailStatus),
        filters={"status": status.value} if status else {},
    )


@bp.route("/emails/<int:email_id>/retry", methods=["POST"])
def email_retry(email_id: int) -> Response:
    outgoing = get_email(email_id)
    back = _status_filter(request.form.get("status"))
    try:
        retry(outgoing, current_user._get_current_object())
    except ServiceError as refusal:
        flash(refusal.message, "error")
    else:
        flash(f"The e-mail to {outgoing.recipient} is queued to be sent again.", "success")
    return redirect(url_for("admin.emails", status=back.value if back else None), code=303)
