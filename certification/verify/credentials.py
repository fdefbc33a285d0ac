"""The credentials' public side: the issuer's DID document and keys, the status lists, a
certificate's credential by its URL, and the verification of a credential someone holds.

The DID document, the key set and the status lists are what any verifier fetches to check a
credential without asking us: they name nobody, are the same for everyone, and may be kept
by caches that ask again (``no-cache`` with an ETag), so they are on a blueprint of their own
without the look-up limit. A credential by its code, and the check of a pasted one, name a
person: they are look-ups like any other, on the verification blueprint and its limit.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, current_app, redirect, request, url_for
from flask_babel import gettext
from werkzeug.wrappers import Response

from certification.certificates.codes import MalformedCode, normalise_code
from certification.certificates.public import public_certificate
from certification.certificates.services import record_verification
from certification.credentials.document import STATUS_PURPOSES
from certification.credentials.keys import jwks
from certification.credentials.services import (
    CredentialVerdict,
    achievement_document,
    credential_document,
    credential_with_code,
    current_issuer,
    status_list,
    verify_credential,
)
from certification.errors import NotFound
from certification.extensions import csrf
from certification.verify.blueprint import bp
from certification.verify.views import credential_too_large_message
from certification.web import credential_response, today

credentials_bp = Blueprint("credentials", __name__)

JSON_LD = "application/ld+json"
# What a verifier may keep: the copy, as long as it asks again (an ETag answers 304).
REVALIDATE = "no-cache"


@credentials_bp.get("/.well-known/did.json")
@credentials_bp.get("/did.json")  # where did:web looks when the public address has a path
def did_document() -> Response:
    return _public_json(current_issuer().did_document, "application/did+ld+json")


@credentials_bp.get("/.well-known/jwks.json")
def key_set() -> Response:
    issuer = current_issuer()
    return _public_json(jwks(issuer.did, issuer.keys), "application/jwk-set+json")


@credentials_bp.get("/credentials/status/<purpose>")
def status_list_credential(purpose: str) -> Response:
    if purpose not in STATUS_PURPOSES:
        return Response(status=404)
    built = status_list(purpose)
    response = Response(built.body, mimetype="application/vc+ld+json")
    response.headers["ETag"] = built.etag
    response.headers["Cache-Control"] = REVALIDATE
    response.headers["Access-Control-Allow-Origin"] = "*"  # wallets check from the browser
    return response.make_conditional(request)


@credentials_bp.get("/credentials/achievements/<programme_code>")
def achievement(programme_code: str) -> Response:
    """The award a credential's ``achievement.id`` names: what it is and what it asks."""
    try:
        found = achievement_document(programme_code, today())
    except NotFound:
        return _not_found()
    return _public_json(found, JSON_LD)


def _public_json(document: dict[str, Any], media_type: str) -> Response:
    response = Response(json.dumps(document, indent=2), mimetype=media_type)
    response.headers["Cache-Control"] = REVALIDATE
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.add_etag()
    return response.make_conditional(request)


# ---------------------------------------------------------------- on the look-up limit


@bp.get("/credentials/<code>")
def credential(code: str) -> Response:
    """A certificate's credential by its id: to a browser, the verification page; to a
    client that asks for JSON-LD, the signed credential."""
    wanted = request.accept_mimetypes.best_match(["text/html", JSON_LD, "application/json"])
    if wanted == "text/html" or wanted is None:
        return redirect(url_for("verify.certificate_page", code=code), 303)
    try:
        certificate = public_certificate(normalise_code(code))
    except (MalformedCode, NotFound):
        return _not_found()
    issued = credential_with_code(certificate.code)
    if issued is None:
        return _not_found()
    record_verification(certificate, "api", today())
    return credential_response(credential_document(issued))


def _not_found() -> Response:
    answer = {"error": "not_found", "message": gettext("No certificate has this code.")}
    return Response(json.dumps(answer), status=404, mimetype="application/json")


@bp.post("/api/v1/verify/credential")
@csrf.exempt  # no session, no cookie: nothing a cross-site request could borrow
def credential_json() -> tuple[dict[str, Any], int]:
    limit = current_app.config["VERIFY_MAX_CREDENTIAL_BYTES"]
    data = request.get_data(cache=False)
    if len(data) > limit:
        return {"error": "too_large", "message": credential_too_large_message(limit)}, 400
    try:
        document = json.loads(data)
    except (ValueError, RecursionError):
        message = gettext("This is not JSON. Send the credential's JSON as the request's body.")
        return {"error": "not_json", "message": message}, 400
    verdict = verify_credential(document, today())
    if verdict.certificate is not None:
        record_verification(verdict.certificate, "api", today())
    return verdict_answer(verdict), 200


def verdict_answer(verdict: CredentialVerdict) -> dict[str, Any]:
    return {
        "authentic": verdict.authentic,
        "code": verdict.certificate.code if verdict.authentic and verdict.certificate else None,
        "status": verdict.status.value if verdict.status else None,
        "proofs": [{"body": check.body, "valid": check.valid} for check in verdict.proofs],
        "problems": verdict.problems,
    }
