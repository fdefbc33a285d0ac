"""JSON API v1 for integrators (bearer tokens)."""

from __future__ import annotations

from flask import Blueprint, Response, g, request

from certification.auth.services import user_for_api_token
from certification.errors import ServiceError
from certification.extensions import csrf

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # bearer tokens, not cookies: no cross-site request can carry one

# Endpoints anyone may call without a token.
PUBLIC_ENDPOINTS = frozenset({"api.openapi"})
# Far longer than any token we issue; anything longer is refused without hashing it.
MAX_TOKEN_LENGTH = 200


@bp.before_request
def require_token() -> tuple[dict[str, str], int, dict[str, str]] | None:
    """The one access check for this area: a valid bearer token, never a session cookie.

    The token's administrator becomes ``g.actor``, the acting user every service is given.
    """
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    scheme, _, token = request.headers.get("Authorization", "").strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return _unauthorized("Send an API token in the header Authorization: Bearer <token>.")
    actor = user_for_api_token(token) if len(token) <= MAX_TOKEN_LENGTH else None
    if actor is None:
        return _unauthorized(
            "This API token is not valid: it is unknown, revoked, or its administrator's"
            " account is closed.",
            error="invalid_token",
        )
    g.actor = actor
    return None


def _unauthorized(
    message: str, error: str | None = None
) -> tuple[dict[str, str], int, dict[str, str]]:
    challenge = 'Bearer realm="api"' + (f', error="{error}"' if error else "")
    return {"error": "unauthorized", "message": message}, 401, {"WWW-Authenticate": challenge}


@bp.errorhandler(ServiceError)
def refusal(error: ServiceError) -> tuple[dict[str, object], int]:
    """A service's refusal (or the parser's) as ``{"error", "message", "fields"?}``."""
    body: dict[str, object] = {"error": error.slug, "message": error.message}
    if error.fields:
        body["fields"] = error.fields
    return body, error.http_status


@bp.after_request
def never_cache(response: Response) -> Response:
    # Answers carry personal data and depend on the token; no shared cache may keep them.
    if request.endpoint not in PUBLIC_ENDPOINTS:
        response.headers["Cache-Control"] = "no-store"
    return response


from certification.api import views  # noqa: E402,F401  (registers the routes on bp)
