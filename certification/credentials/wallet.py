"""A certificate's credential into a holder's wallet: OpenID for Verifiable Credential
Issuance 1.0, pre-authorised code flow.

The holder asks for an offer on their page (:func:`make_offer`); the wallet reads it (a QR
code or a link), redeems its one-time code for an access token, asks for a nonce, proves
possession of its key with it, and receives the credential, bound to that key.

openbadgeslib.oid4vci does what it can: the token endpoint (:func:`handle_token_request`),
the stateless nonces (``NonceIssuer``), the authorisation server's metadata, the secrets and
their hashes (``codes``), the grant record and the issuance claim, and its errors; openvc-core
checks the wallet's request and key proof. What is ours — the offer, the issuer metadata and
the credential endpoint's last steps — is ours because the library offers and issues only
``jwt_vc_json`` and ``vc+sd-jwt``, minted afresh from its own configuration: it has no
``ldp_vc`` and its credential handler has no hook to deliver a credential made elsewhere.
:func:`request_credential` therefore repeats that handler's checks step for step and ends in
our delivery of the stored, signed credential.

The copy a wallet receives is the stored credential with ``credentialSubject.id`` set to the
wallet key's ``did:jwk`` (so that a wallet presenting it can prove it is the holder), signed
again at delivery by exactly the bodies whose proofs the stored credential carries — the
bodies that approved the facts, which the copy does not change (same id, status entry and
dates). Each copy is kept (``WalletDelivery``) and recorded in the audit trail.
"""

from __future__ import annotations

import configparser
import datetime as dt
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext
from openbadgeslib.confparser import oid4vci_config
from openbadgeslib.ob3.did import did_jwk_from_jwk
from openbadgeslib.oid4vci import (
    NonceIssuer,
    OID4VCIError,
    OID4VCIStoreError,
    PreAuthorizedGrant,
    build_authorization_server_metadata,
    handle_nonce_request,
    handle_token_request,
    issuance_fingerprint,
)
from openbadgeslib.oid4vci.codes import new_id, new_secret, secret_id
from openbadgeslib.oid4vci.errors import (
    INVALID_CREDENTIAL_REQUEST,
    INVALID_ENCRYPTION_PARAMETERS,
    INVALID_GRANT,
    INVALID_TOKEN,
    as_oid4vci_error,
)
from openbadgeslib.oid4vci.handler import MAX_REQUEST_BYTES
from openbadgeslib.oid4vci.store import CLAIM_CONFLICT, CLAIM_GONE, STATE_OFFERED
from openvc.openid4vci import (
    parse_credential_issuer_metadata,
    parse_credential_offer,
    parse_credential_request,
    verify_credential_request_proofs,
)
from sqlalchemy.exc import IntegrityError

from certification.audit import record_event
from certification.auth.models import User
from certification.certificates.models import Certificate, CertificateStatus
from certification.certificates.public import NO_SUCH_CERTIFICATE
from certification.credentials.keys import signing_key
from certification.credentials.models import WalletDelivery, WalletGrant
from certification.credentials.pinned import CREDENTIALS_V2, OPEN_BADGES_V3
from certification.credentials.proofs import body_proof, proofs_of, with_proofs
from certification.credentials.services import PROGRAMME_NAME, credential_of, current_issuer
from certification.credentials.wallet_store import DatabaseOID4VCIStore, grant_record
from certification.errors import Conflict, NotFound
from certification.extensions import db

CONFIGURATION_ID = "OpenBadgeCredential_ldp_vc"
CREDENTIAL_FORMAT = "ldp_vc"
PRE_AUTHORIZED_GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
OFFER_SCHEME = "openid-credential-offer://"
CREDENTIAL_REQUEST_DENIED = "credential_request_denied"
# How old a wallet's key proof may be (its iat), as the library defaults it.
PROOF_MAX_AGE_SECONDS = 300


def wallets_enabled() -> bool:
    """Whether wallets are offered at all. OpenID4VCI requires every one of the issuer's
    addresses to be https (the library refuses others): with a plain http PUBLIC_BASE_URL
    (a developer's machine) the feature is off — the protocol's routes answer 404 and the
    holder's page offers nothing."""
    return str(current_app.config["PUBLIC_BASE_URL"]).startswith("https://")


@dataclass(frozen=True)
class WalletIssuer:
    """What the library's functions are given: its configuration, the store and the
    nonces, for this app's settings."""

    conf: configparser.ConfigParser
    store: DatabaseOID4VCIStore
    nonces: NonceIssuer

    @property
    def credential_issuer(self) -> str:
        return str(self.conf["oid4vci"]["credential_issuer"])


def wallet_issuer() -> WalletIssuer:
    """This app's :class:`WalletIssuer`, made again only when its settings change."""
    config = current_app.config
    base = str(config["PUBLIC_BASE_URL"]).rstrip("/")
    settings = (
        base,
        int(config["WALLET_OFFER_SECONDS"]),
        int(config["WALLET_TOKEN_SECONDS"]),
        int(config["WALLET_NONCE_SECONDS"]),
        config["SECRET_KEY"],
    )
    made = current_app.extensions.get("wallet_issuer")
    if made is not None and made[0] == settings:
        issuer: WalletIssuer = made[1]
        return issuer
    conf = configparser.ConfigParser(interpolation=None)
    conf.read_dict(
        {
            # [paths] and store_path are read by the library's file store, unused here.
            "paths": {"base": current_app.instance_path},
            "issuer": {"name": "EFRS and EuSoMII", "publish_url": base + "/"},
            "oid4vci": {
                # Byte for byte what every key proof's aud must be: no trailing slash.
                "credential_issuer": base,
                "credential_endpoint": base + "/oid4vci/credential",
                "nonce_endpoint": base + "/oid4vci/nonce",
                "token_endpoint": base + "/oid4vci/token",
                "store_path": "unused",
                "offer_ttl_s": str(settings[1]),
                "token_ttl_s": str(settings[2]),
                "nonce_ttl_s": str(settings[3]),
                "proof_max_age_s": str(PROOF_MAX_AGE_SECONDS),
            },
        }
    )
    store = DatabaseOID4VCIStore(str(config["SECRET_KEY"]))
    # The library trusts its store to coordinate every worker and host; refuse one that
    # cannot (the library itself does not check).
    if not store.multiprocess_safe:
        raise RuntimeError("The wallet offers' store must be safe across processes.")
    issuer = WalletIssuer(conf, store, NonceIssuer(store, ttl_s=settings[3]))
    current_app.extensions["wallet_issuer"] = (settings, issuer)
    return issuer


# ---------------------------------------------------------------- the holder's offer


@dataclass(frozen=True)
class WalletOffer:
    uri: str  # openid-credential-offer://?credential_offer=…, the QR code's content
    expires_at: dt.datetime
    minutes: int  # how long it is valid


def make_offer(certificate: Certificate, holder: User, now: dt.datetime) -> WalletOffer:
    """A new one-time offer of ``certificate``'s credential to ``holder``'s wallet; the
    holder's earlier offers of it that no wallet redeemed stop working. Flushes."""
    if certificate.candidate_id != holder.id:
        raise NotFound(str(NO_SUCH_CERTIFICATE))
    credential = credential_of(certificate)
    if credential is None or certificate.status_on(_day(now)) is not CertificateStatus.VALID:
        raise Conflict(gettext("Only a valid certificate's credential can be taken into a wallet."))
    issuer = wallet_issuer()
    seconds = int(current_app.config["WALLET_OFFER_SECONDS"])
    code = new_secret()
    grant = PreAuthorizedGrant(
        grant_id=new_id(),
        code_id=secret_id(code),
        badge="certificate",
        credential_configuration_id=CONFIGURATION_ID,
        credential_format=CREDENTIAL_FORMAT,
        recipient=str(certificate.id),
        expires_at=now + dt.timedelta(seconds=seconds),
        credential_id=current_issuer().credential_url(certificate.code),
        created_at=now,
    )
    offer = {
        "credential_issuer": issuer.credential_issuer,
        "credential_configuration_ids": [CONFIGURATION_ID],
        "grants": {PRE_AUTHORIZED_GRANT: {"pre-authorized_code": code}},
    }
    parse_credential_offer(offer)  # openvc's check of what a wallet will read
    db.session.execute(
        sa.update(WalletGrant)
        .where(WalletGrant.certificate_id == certificate.id, WalletGrant.state == STATE_OFFERED)
        .values(state="invalidated")
    )
    db.session.add(grant_record(grant, certificate.id))
    record_event(
        holder,
        "credential.wallet_offered",
        "certificate",
        certificate.code,
        after={"grant": grant.grant_id, "expires_at": grant.expires_at.isoformat()},
    )
    db.session.flush()
    uri = OFFER_SCHEME + "?credential_offer=" + quote(json.dumps(offer, separators=(",", ":")))
    return WalletOffer(uri, grant.expires_at, max(1, seconds // 60))


def _day(now: dt.datetime) -> dt.date:
    return now.astimezone(ZoneInfo(current_app.config["APP_TIMEZONE"])).date()


# ---------------------------------------------------------------- discovery


def issuer_metadata() -> dict[str, Any]:
    """The Credential Issuer Metadata: one configuration, the Open Badges 3.0 credential as
    a Data Integrity signed JSON-LD document (``ldp_vc``)."""
    issuer = wallet_issuer()
    config = oid4vci_config(issuer.conf)
    display = [
        {
            "name": PROGRAMME_NAME,
            "locale": "en",
            "logo": {"uri": f"{config.credential_issuer}/static/credentials/badge.png"},
        }
    ]
    metadata = {
        "credential_issuer": config.credential_issuer,
        "authorization_servers": [config.credential_issuer],
        "credential_endpoint": config.credential_endpoint,
        "nonce_endpoint": config.nonce_endpoint,
        "display": [{"name": "EFRS and EuSoMII", "locale": "en"}],
        "credential_configurations_supported": {
            CONFIGURATION_ID: {
                "format": CREDENTIAL_FORMAT,
                "scope": CONFIGURATION_ID,
                "cryptographic_binding_methods_supported": ["did:jwk"],
                "credential_signing_alg_values_supported": ["eddsa-rdfc-2022"],
                "proof_types_supported": {
                    "jwt": {"proof_signing_alg_values_supported": ["EdDSA", "ES256", "ES384"]}
                },
                "credential_definition": {
                    "@context": [CREDENTIALS_V2, OPEN_BADGES_V3],
                    "type": ["VerifiableCredential", "OpenBadgeCredential"],
                },
                "credential_metadata": {"display": display},  # where OpenID4VCI 1.0 has it
                "display": display,  # where wallets of its drafts look
            }
        },
    }
    parse_credential_issuer_metadata(metadata)  # openvc's check of what wallets will read
    return metadata


def authorization_server_metadata() -> dict[str, Any]:
    return dict(build_authorization_server_metadata(wallet_issuer().conf))


# ---------------------------------------------------------------- token and nonce


def redeem_code(grant_type: str, code: str, tx_code: str | None) -> dict[str, Any]:
    """The token endpoint: a pre-authorised code for an access token, once."""
    issuer = wallet_issuer()
    answer = handle_token_request(
        issuer.conf, code=code, tx_code=tx_code, grant_type=grant_type, store=issuer.store
    )
    return dict(answer.to_dict())


def new_nonce() -> dict[str, Any]:
    issuer = wallet_issuer()
    return dict(handle_nonce_request(issuer.conf, nonces=issuer.nonces))


# ---------------------------------------------------------------- the credential


def request_credential(body: bytes, access_token: str | None, now: dt.datetime) -> dict[str, Any]:
    """The credential endpoint: openbadgeslib's ``handle_credential_request`` check for
    check, then our delivery instead of its minting. Every store decision (the nonce's burn,
    the issuance claim) is taken before this request's own transaction writes anything."""
    issuer = wallet_issuer()
    config = oid4vci_config(issuer.conf)
    if not access_token:
        raise OID4VCIError(INVALID_TOKEN, "an access token is required", http_status=401)
    grant = issuer.store.grant_for_token(secret_id(access_token), now=now)
    if grant is None:
        raise OID4VCIError(
            INVALID_TOKEN, "the access token is not valid or has expired", http_status=401
        )
    if len(body) > MAX_REQUEST_BYTES:
        raise OID4VCIError(INVALID_CREDENTIAL_REQUEST, "the request is too large")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise OID4VCIError(INVALID_CREDENTIAL_REQUEST, "the request is not UTF-8") from error
    try:
        request = parse_credential_request(
            text,
            batch_size=grant.max_proofs,
            supported_configuration_ids=[grant.credential_configuration_id],
        )
    except Exception as error:
        raise as_oid4vci_error(error) from error
    if request.response_encryption is not None:
        raise OID4VCIError(INVALID_ENCRYPTION_PARAMETERS, "response encryption is not supported")
    if request.credential_identifier is not None:
        raise OID4VCIError(
            INVALID_CREDENTIAL_REQUEST, "ask by credential_configuration_id, not identifier"
        )
    try:
        proofs = verify_credential_request_proofs(
            request,
            credential_issuer=config.credential_issuer,
            check_nonce=issuer.nonces.consume,
            require_nonce=True,
            resolve_proof_key=None,
            trust_anchors=None,
            max_age_s=config.proof_max_age_s,
            now=now,
            batch_size=grant.max_proofs,
        )
    except OID4VCIStoreError:
        raise  # the database failed: a server error, not the wallet's fault
    except Exception as error:
        raise as_oid4vci_error(error) from error
    certificate = _certificate_still_valid(grant, now)
    fingerprint = issuance_fingerprint(
        grant.credential_configuration_id, [proof.thumbprint for proof in proofs]
    )
    claim = issuer.store.claim_issuance(grant.grant_id, fingerprint, now=now)
    if claim == CLAIM_CONFLICT:
        raise OID4VCIError(
            INVALID_CREDENTIAL_REQUEST,
            "this grant has already issued a credential to a different key",
        )
    if claim == CLAIM_GONE:
        raise OID4VCIError(INVALID_GRANT, "the grant is no longer valid")
    document = _deliver(grant, certificate, proofs[0].public_jwk, now)
    return {"credentials": [{"credential": document}]}


def _certificate_still_valid(grant: PreAuthorizedGrant, now: dt.datetime) -> Certificate:
    certificate = db.session.get(Certificate, int(grant.recipient))
    if certificate is None or certificate.status_on(_day(now)) is not CertificateStatus.VALID:
        raise OID4VCIError(
            CREDENTIAL_REQUEST_DENIED,
            "the certificate is no longer valid (revoked, suspended, replaced or expired)",
        )
    return certificate


def _deliver(
    grant: PreAuthorizedGrant,
    certificate: Certificate,
    holder_jwk: dict[str, Any],
    now: dt.datetime,
) -> dict[str, Any]:
    """The holder-bound copy for this grant: the one made before, if the wallet asks again
    (the claim let it: the same keys), else a new one, kept and recorded."""
    holder_did = did_jwk_from_jwk(holder_jwk)
    kept = db.session.get(WalletDelivery, grant.grant_id)
    if kept is not None and kept.holder_did == holder_did:
        document: dict[str, Any] = json.loads(kept.document)
        return document
    credential = credential_of(certificate)
    if credential is None:
        raise OID4VCIError(CREDENTIAL_REQUEST_DENIED, "the certificate has no credential")
    document = holder_bound_copy(json.loads(credential.document), holder_did, now)
    delivery = WalletDelivery(
        grant_id=grant.grant_id,
        certificate_id=certificate.id,
        holder_did=holder_did,
        document=json.dumps(document, ensure_ascii=False, indent=2),
        delivered_at=now,
    )
    try:
        with db.session.begin_nested():
            db.session.add(delivery)
    except IntegrityError:
        # The same wallet asked twice at once and the other request kept its copy first.
        db.session.expire_all()
        kept = db.session.get(WalletDelivery, grant.grant_id)
        if kept is None:
            raise
        document = json.loads(kept.document)
        return document
    record_event(
        None,
        "credential.wallet_delivered",
        "certificate",
        certificate.code,
        after={"grant": grant.grant_id, "holder": holder_did},
    )
    return document


def holder_bound_copy(stored: dict[str, Any], holder_did: str, now: dt.datetime) -> dict[str, Any]:
    """``stored`` with ``credentialSubject.id`` = ``holder_did``, signed again by each body
    that signed ``stored`` (with its current key), and by no other."""
    issuer = current_issuer()
    signed_by = [proof.get("verificationMethod") for proof in proofs_of(stored)]
    bodies: list[str] = []
    for method in signed_by:
        body = next((k.body for k in issuer.keys if k.method(issuer.did) == method), None)
        if body is None:
            raise RuntimeError(f"The stored credential carries a proof by {method!r}.")
        if body not in bodies:
            bodies.append(body)
    bare = {key: value for key, value in stored.items() if key != "proof"}
    bare["credentialSubject"] = {"id": holder_did, **stored["credentialSubject"]}
    created = now.replace(microsecond=0)
    proofs = [
        body_proof(bare, signing_key(issuer.keys, body), issuer.did, created=created)
        for body in bodies
    ]
    return with_proofs(bare, proofs)
