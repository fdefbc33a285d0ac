"""The outbox, for administrators: what was written, what was handed over, what failed and
why, and each message as it was written."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user
from werkzeug.wrappers import Response

from certification.admin.blueprint import bp
from certification.admin.paging import paginate
from certification.errors import ServiceError
from certification.mail.models import EmailStatus
from certification.mail.services import (
    attached_file_name,
    delivery_state,
    get_email,
    kinds_in_words,
    mail_transport_in_words,
    outbox_counts,
    outbox_query,
    readable_body,
    retry,
    status_filters_in_words,
)

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
        statuses=status_filters_in_words(),
        kinds=kinds_in_words(page.items),
        states={e.id: delivery_state(e) for e in page.items},
        transport=mail_transport_in_words(),
        filters={"status": status.value} if status else {},
    )


@bp.route("/emails/<int:email_id>")
def email(email_id: int) -> str:
    outgoing = get_email(email_id)
    return render_template(
        "admin/email.html",
        e=outgoing,
        kind=kinds_in_words([outgoing])[outgoing.id],
        state=delivery_state(outgoing),
        body=readable_body(outgoing),
        attachment=attached_file_name(outgoing),
        max_attempts=int(current_app.config["MAIL_MAX_ATTEMPTS"]),
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
        flash(
            gettext(
                "The e-mail to %(recipient)s is queued to be sent again.",
                recipient=outgoing.recipient,
            ),
            "success",
        )
    if request.form.get("back") == "message":
        return redirect(url_for("admin.email", email_id=outgoing.id), code=303)
    return redirect(url_for("admin.emails", status=back.value if back else None), code=303)
