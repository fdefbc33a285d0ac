"""The API's certificate routes: issue, read, revoke, reissue and download.

Like every handler here: read the body, call one service as ``g.actor``, answer JSON. The
request commits once on success (``certification.database``); a refusal rolls back.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from flask import Response, current_app, g, request, url_for
from flask_login import current_user

from certification.api import Unauthenticated, actor_for_bearer_token, bp, sends_authorization
from certification.api.parsing import BodyReader, json_object
from certification.api.representations import certificate_json
from certification.auth.models import User
from certification.auth.services import get_candidate
from certification.catalogue.services import get_programme
from certification.certificates.models import Certificate
from certification.certificates.services import (
    can_download,
    find_certificate,
    issue_certificate,
    reissue_certificate,
    revoke_certificate,
)
from certification.errors import NotFound
from certification.web import today

Answer = tuple[dict[str, Any], int, dict[str, str]]


def _json(certificate: Certificate) -> dict[str, Any]:
    return certificate_json(certificate, today(), ZoneInfo(current_app.config["APP_TIMEZONE"]))


def _created(certificate: Certificate) -> Answer:
    location = url_for("api.get_certificate", code=certificate.code)
    return _json(certificate), 201, {"Location": location}


@bp.post("/certificates")
def post_certificate() -> Answer:
    body = BodyReader(json_object())
    candidate_id, programme_code = body.whole_number("candidate_id"), body.text("programme")
    body.raise_if_any()
    candidate, programme = get_candidate(candidate_id), get_programme(programme_code)
    return _created(issue_certificate(candidate, programme, g.actor, today=today()))


@bp.get("/certificates/<code>")
def get_certificate(code: str) -> dict[str, Any]:
    return _json(find_certificate(code))


@bp.post("/certificates/<code>/revoke")
def revoke(code: str) -> dict[str, Any]:
    certificate = find_certificate(code)
    body = BodyReader(json_object())
    reason = body.text("reason")
    body.raise_if_any()
    return _json(revoke_certificate(certificate, reason, g.actor))


@bp.post("/certificates/<code>/reissue")
def reissue(code: str) -> Answer:
    certificate = find_certificate(code)
    # Every field is optional, so an empty body is as good as {}.
    body = BodyReader(json_object() if request.content_length else {})
    full_name = body.text_or_none("full_name")
    body.raise_if_any()
    return _created(reissue_certificate(certificate, g.actor, full_name=full_name))


@bp.get("/certificates/<code>/pdf")
def get_certificate_pdf(code: str) -> Response:
    """The sealed PDF, for administrators (token or session) and the holder (session).

    Anyone else who is logged in is told the certificate does not exist, as for an unknown
    code, so that codes cannot be probed.
    """
    viewer = _token_or_session_user()
    certificate = find_certificate(code)
    if not can_download(certificate, viewer):
        raise NotFound("No certificate has this code.")
    return Response(
        certificate.pdf,
        mimetype="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{certificate.code}.pdf"',
            "X-Content-Type-Options": "nosniff",
        },
    )


def _token_or_session_user() -> User:
    """A token if one is sent (and then it must be valid), else the logged-in user."""
    if sends_authorization():
        return actor_for_bearer_token()
    if current_user.is_authenticated:
        return current_user._get_current_object()
    raise Unauthenticated(
        "Send an API token in the header Authorization: Bearer <token>, or log in first."
    )
