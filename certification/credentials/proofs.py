"""Each body's Data Integrity proof (``eddsa-rdfc-2022``) on a credential, and the check of
every proof of a set.

A proof set, as VC Data Integrity allows: each body's proof signs the document without any
proof, so each stands alone; the credential carries both in ``proof``, and the credential
with one body's proof alone is still valid for a verifier that reads one proof.

openbadgeslib does the canonicalisation (RDFC-1.0 over the pinned contexts), the signing and
the checking. It signs and checks one proof at a time and refuses a document with two as
ambiguous, so each proof is made over the bare document and checked by presenting the
document with that proof alone. What is ours is only that glue.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from openbadgeslib.errors import ErrorSigningFile
from openbadgeslib.ob3 import OB3LdpVerifier, OB3VerificationError, add_data_integrity_proof

from certification.credentials.keys import CredentialKey

# The verifier checks validFrom/validUntil against the clock once the proof has held; the
# dates are ours to judge (an expired certificate is authentic and expired, not a forgery).
_WINDOW_PROBLEMS = ("Credential has expired", "Credential is not yet valid")


def body_proof(
    document: dict[str, Any], key: CredentialKey, did: str, *, created: dt.datetime
) -> dict[str, Any]:
    """``key``'s body's proof over ``document`` (which carries none)."""
    assert key.private_pem is not None  # noqa: S101 - signing_key() returns signing keys
    signed = add_data_integrity_proof(document, key.private_pem, key.method(did), created=created)
    proof: dict[str, Any] = signed["proof"]
    return proof


def body_jwt(document: dict[str, Any], key: CredentialKey, did: str) -> str:
    """``key``'s body's VC-JWT of ``document`` (Open Badges 3.0 §8.2: the credential is the
    payload, with ``iss``, ``jti``, ``nbf`` and, when it expires, ``exp``; ``kid`` names
    the key in the issuer's DID document)."""
    assert key.private_pem is not None  # noqa: S101 - signing_key() returns signing keys
    claims = {
        **document,
        "iss": did,
        "jti": document["id"],
        "nbf": _timestamp(document["validFrom"]),
    }
    if "validUntil" in document:
        claims["exp"] = _timestamp(document["validUntil"])
    private = serialization.load_pem_private_key(key.private_pem, password=None)
    assert isinstance(private, Ed25519PrivateKey)  # noqa: S101 - keys.py reads only these
    return jwt.encode(claims, private, algorithm="EdDSA", headers={"kid": key.method(did)})


def _timestamp(instant: str) -> int:
    return int(dt.datetime.fromisoformat(instant.replace("Z", "+00:00")).timestamp())


def with_proofs(document: dict[str, Any], proofs: list[dict[str, Any]]) -> dict[str, Any]:
    """The document as served: its proofs as a list, even one (the Open Badges 3.0 schema
    wants a list)."""
    return {**document, "proof": list(proofs)}


def proofs_of(document: dict[str, Any]) -> list[Any]:
    raw = document.get("proof")
    return raw if isinstance(raw, list) else [raw] if raw is not None else []


@dataclass(frozen=True)
class ProofCheck:
    body: str | None  # the body whose key the proof names; None: not one of ours
    method: str | None
    valid: bool
    problem: str | None = None  # in English, for integrators: why it does not hold


def check_proofs(
    document: dict[str, Any],
    did: str,
    did_document: dict[str, Any],
    keys: tuple[CredentialKey, ...],
) -> list[ProofCheck]:
    """Check each proof of ``document`` as a credential issued by ``did``, whose keys are
    those of ``did_document`` (as served; nothing is fetched)."""
    served = json.dumps(did_document).encode()
    bodies = {key.method(did): key.body for key in keys}

    def download(url: str) -> bytes:
        # The verifier resolves the proof's did:web; it can only be ours (checked before).
        return served

    checks = []
    for proof in proofs_of(document):
        method = proof.get("verificationMethod") if isinstance(proof, dict) else None
        method = method if isinstance(method, str) else None
        body = bodies.get(method) if method else None
        try:
            OB3LdpVerifier(issuer_did=did).verify({**document, "proof": proof}, download=download)
        except OB3VerificationError as error:
            problem = str(error)
            if problem.startswith(_WINDOW_PROBLEMS):
                checks.append(ProofCheck(body, method, True))
            else:
                checks.append(ProofCheck(body, method, False, problem))
        except (ErrorSigningFile, ValueError, TypeError, RecursionError) as error:
            checks.append(ProofCheck(body, method, False, str(error)))
        else:
            checks.append(ProofCheck(body, method, True))
    return checks
