"""The wallet's side of OpenID for Verifiable Credential Issuance: the issuer's and the
authorisation server's metadata, the token, the nonce and the credential endpoints.

Public (a wallet has no session; what it may have is decided by the one-time code the holder
was shown), so on the credentials' blueprint, outside the look-up limit; the three POSTs
count against a limit of their own per client. No cookie authorises anything here, so no
CSRF token is asked for. Every answer is ``no-store``: codes, tokens, nonces and credentials
must not sit in a cache. With a plain http PUBLIC_BASE_URL the feature is off and every
route answers 404 (:func:`wallets_enabled`).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

from flask import abort, current_app, request
from openbadgeslib.oid4vci import OID4VCIError
from werkzeug.wrappers import Response

from certification.credentials.wallet import (
    authorization_server_metadata,
    issuer_metadata,
    new_nonce,
    redeem_code,
    request_credential,
    wallets_enabled,
)
from certification.extensions import csrf, limiter
from certification.types import utcnow
from certification.verify.credentials import credentials_bp


def _json(document: dict[str, Any], status: int = 200) -> Response:
    response = Response(json.dumps(document), status=status, mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


def _protocol(view: Callable[[], Response]) -> Callable[[], Response]:
    """Off without https; an OpenID4VCI error as the protocol's JSON."""

    @functools.wraps(view)
    def answered() -> Response:
        if not wallets_enabled():
            abort(404)
        try:
            return view()
        except OID4VCIError as error:
            response = _json(error.to_dict(), error.http_status)
            if error.http_status == 401:
                response.headers["WWW-Authenticate"] = f'Bearer error="{error.error}"'
            return response

    return answered


# Per client, over the three endpoints together (each unknown code costs the token endpoint
# a deliberate key derivation); tests run with RATELIMIT_ENABLED off.
_limited = limiter.shared_limit(
    lambda: current_app.config["WALLET_RATE_LIMIT"], scope="oid4vci", methods=["POST"]
)


@credentials_bp.get("/.well-known/openid-credential-issuer")
@_protocol
def wallet_issuer_metadata() -> Response:
    response = _json(issuer_metadata())
    response.headers["Access-Control-Allow-Origin"] = "*"  # web wallets read it too
    return response


@credentials_bp.get("/.well-known/oauth-authorization-server")
@_protocol
def wallet_authorization_server() -> Response:
    response = _json(authorization_server_metadata())
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@credentials_bp.post("/oid4vci/token")
@csrf.exempt
@_limited
@_protocol
def wallet_token() -> Response:
    form = request.form
    return _json(
        redeem_code(
            form.get("grant_type", ""), form.get("pre-authorized_code", ""), form.get("tx_code")
        )
    )


@credentials_bp.post("/oid4vci/nonce")
@csrf.exempt
@_limited
@_protocol
def wallet_nonce() -> Response:
    return _json(new_nonce())


@credentials_bp.post("/oid4vci/credential")
@csrf.exempt
@_limited
@_protocol
def wallet_credential() -> Response:
    authorization = request.headers.get("Authorization", "")
    scheme, _, token = authorization.partition(" ")
    bearer = token.strip() if scheme.lower() == "bearer" else None
    return _json(request_credential(request.get_data(cache=False), bearer, utcnow()))
