"""API v1's blueprint: the one access check, and every refusal in the API's one shape."""

from __future__ import annotations

from flask import Blueprint, Response, g, request
from flask_babel import gettext
from werkzeug.exceptions import BadRequest

from certification.api.contract import (
    AlreadyIssuedRefusal,
    AwardOnHoldRefusal,
    Refusal,
    RequirementsNotMetRefusal,
)
from certification.api.document import PREFIX
from certification.api.fields import Malformed
from certification.auth.models import User
from certification.auth.permissions import may_call
from certification.auth.services import user_for_api_token
from certification.certificates.holds import AwardOnHold
from certification.certificates.services import AlreadyIssued, RequirementsNotMet
from certification.errors import Forbidden, ServiceError
from certification.extensions import csrf

bp = Blueprint("api", __name__, url_prefix=PREFIX)
csrf.exempt(bp)  # bearer tokens, not cookies: no cross-site request can carry one

# Endpoints anyone may call without a token.
PUBLIC_ENDPOINTS = frozenset({"api.openapi"})
# Endpoints that check who is asking themselves: a token, or else a browser session. Only
# GET routes belong here (the blueprint is exempt from CSRF because it ignores cookies).
OWN_CHECK_ENDPOINTS = frozenset(
    {"api.get_certificate_pdf", "api.get_certificate_credential", "api.get_certificate_elm"}
)
# Far longer than any token we issue; anything longer is refused without hashing it.
MAX_TOKEN_LENGTH = 200


class Unauthenticated(ServiceError):
    """No credentials the API accepts, or a token that is not (or no longer) valid."""

    slug = "unauthorized"
    http_status = 401

    def __init__(self, message: str, challenge_error: str | None = None) -> None:
        super().__init__(message)
        self.challenge_error = challenge_error


def sends_authorization() -> bool:
    """Whether the request carries an Authorization header at all."""
    return bool(request.headers.get("Authorization", "").strip())


def actor_for_bearer_token() -> User:
    """The administrator whose valid token is in ``Authorization: Bearer <token>``.

    Raises :class:`Unauthenticated` when there is no bearer token or it is not valid.
    """
    scheme, _, token = request.headers.get("Authorization", "").strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthenticated(
            gettext("Send an API token in the header Authorization: Bearer <token>.")
        )
    actor = user_for_api_token(token) if len(token) <= MAX_TOKEN_LENGTH else None
    if actor is None:
        raise Unauthenticated(
            gettext(
                "This API token is not valid: it is unknown, revoked, or its administrator's"
                " account is closed."
            ),
            challenge_error="invalid_token",
        )
    return actor


@bp.before_request
def require_token() -> None:
    """The one access check for this area: a valid bearer token, never a session cookie.

    The token's administrator becomes ``g.actor``, the acting user every service is given.
    """
    if request.endpoint in PUBLIC_ENDPOINTS or request.endpoint in OWN_CHECK_ENDPOINTS:
        return
    g.actor = actor_for_bearer_token()
    if not may_call(g.actor, request.endpoint):
        raise Forbidden(gettext("This token's user may not do this here."))


@bp.before_request
def require_a_json_object() -> None:
    """Every body this API reads is a JSON object; an empty body reads as ``{}``.

    Checked before the models see the body: they would read anything else as ``{}`` too
    and name every field as missing, and a body nested too deeply for Python's parser is
    refused here rather than failing there.
    """
    if request.method != "POST":
        return
    if not request.is_json and (request.mimetype or request.get_data()):
        raise Malformed(
            gettext("Send a JSON object with the header Content-Type: application/json.")
        )
    if not request.get_data():
        return
    try:
        body = request.get_json()  # parsed once: the models read this cached value
    except (BadRequest, RecursionError):  # a UnicodeDecodeError is a BadRequest here too
        raise Malformed(gettext("The request body is not valid JSON.")) from None
    if not isinstance(body, dict):
        raise Malformed(gettext("The request body must be a JSON object."))


@bp.errorhandler(Unauthenticated)
def unauthorized(error: Unauthenticated) -> tuple[dict[str, object], int, dict[str, str]]:
    challenge = 'Bearer realm="api"'
    if error.challenge_error:
        challenge += f', error="{error.challenge_error}"'
    return (
        _body(Refusal(error=error.slug, message=error.message)),
        error.http_status,
        {"WWW-Authenticate": challenge},
    )


@bp.errorhandler(ServiceError)
def refusal(error: ServiceError) -> tuple[dict[str, object], int]:
    """A service's refusal (or a model's) as ``{"error", "message", "fields"?}``.

    Issuing adds what a client acts on: ``missing`` (the requirements still unmet) or
    ``code`` (the certificate that already exists).
    """
    answer = Refusal(
        error=error.slug, message=error.message, field=error.field, fields=error.fields
    )
    if isinstance(error, RequirementsNotMet):
        answer = RequirementsNotMetRefusal(**dict(answer), missing=error.missing)
    elif isinstance(error, AwardOnHold):
        answer = AwardOnHoldRefusal(
            **dict(answer),
            code=error.code,
            on_hold_since=error.since.date(),
            reason=error.reason,
        )
    elif isinstance(error, AlreadyIssued):
        answer = AlreadyIssuedRefusal(**dict(answer), code=error.code)
    return _body(answer), error.http_status


def _body(answer: Refusal) -> dict[str, object]:
    return answer.model_dump(mode="json", exclude_defaults=True)


@bp.after_request
def never_cache(response: Response) -> Response:
    # Answers carry personal data and depend on the token; no shared cache may keep them.
    if request.endpoint not in PUBLIC_ENDPOINTS:
        response.headers["Cache-Control"] = "no-store"
    return response
