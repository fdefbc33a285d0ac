"""The holder asks for their certificate's renewal once their CPD points are enough."""

from __future__ import annotations

from flask import flash, redirect, url_for
from flask_babel import gettext
from flask_login import current_user
from werkzeug.wrappers import Response

from certification.certificates.approvals import renew_award
from certification.certificates.models import Certificate
from certification.certificates.services import (
    AlreadyRequested,
    RequirementsNotMet,
    find_certificate,
)
from certification.errors import NotFound, RuleViolation
from certification.portal.blueprint import bp
from certification.web import today


@bp.post("/certificates/<code>/renew")
def renew(code: str) -> Response:
    """Renew the holder's own certificate: a request both bodies approve (or, for an award
    the office issues alone, the renewed certificate at once). Anyone else's code is not
    found; a refusal says why on the holder's page."""
    certificate = find_certificate(code)
    if certificate.candidate_id != current_user.id:
        raise NotFound(gettext("No certificate has this code."))
    try:
        outcome = renew_award(certificate, current_user._get_current_object(), today=today())
    except RequirementsNotMet as refusal:
        flash(
            gettext(
                "Not renewed yet. Still needed: %(missing)s", missing=" ".join(refusal.missing)
            ),
            "error",
        )
    except AlreadyRequested as refusal:
        flash(
            gettext(
                "A request for this award awaits the bodies' approval already (%(code)s).",
                code=refusal.code,
            ),
            "info",
        )
    except RuleViolation as refusal:
        flash(refusal.message, "error")
    else:
        if isinstance(outcome, Certificate):
            flash(
                gettext(
                    "Renewed: certificate %(code)s continues your award; it was e-mailed to you.",
                    code=outcome.code,
                ),
                "success",
            )
        else:
            flash(
                gettext(
                    "Renewal requested as %(code)s. It is issued, and you are told by e-mail,"
                    " once an officer of each partner body has approved it.",
                    code=outcome.code,
                ),
                "success",
            )
    return redirect(url_for("portal.index", _anchor="certificates"), 303)
