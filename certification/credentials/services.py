"""Every certificate as a signed, standard credential: issued with it, served, verified.

A certificate's Open Badges 3.0 credential is made in the transaction that issues the
certificate (the certificates area announces it with ``certificate_issued``; this area sits
above it and listens), with a proof by each body that sealed it: for a jointly approved
award those are the bodies that approved, exactly as for the PDF's seals; for an award the
office issues alone, both. No proof is ever made for a body that did not.

The status lists are not stored: their bits are read from the certificates' own state
(revoked or superseded: the revocation bit; suspended: the suspension bit), so a revocation,
a suspension or a reinstatement changes them in its own transaction, and no two writers can
lose each other's bit. Each process keeps the signed list it last built for the set of bits
it found, so a list is signed again only when a status changed.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import json
import threading
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app
from openbadgeslib.ob3.status_list import encode_bitstring
from sqlalchemy.exc import IntegrityError

from certification.catalogue.models import Programme
from certification.catalogue.services import get_programme, programme_rules
from certification.certificates.models import Certificate, CertificateStatus
from certification.certificates.pdf import Attachment
from certification.certificates.services import (
    CertificateStanding,
    certificate_issued,
    certificate_sealing,
)
from certification.certificates.settings import current_settings
from certification.credentials.document import (
    STATUS_PURPOSES,
    AchievementFacts,
    AwardingBody,
    CredentialFacts,
    achievement,
    instant,
    open_badge,
)
from certification.credentials.keys import (
    CredentialKey,
    credential_keys,
    did_document,
    issuer_did,
    signing_key,
)
from certification.credentials.linkedin import add_to_profile_url, organisation_name
from certification.credentials.models import IssuedCredential
from certification.credentials.pinned import CREDENTIALS_V2, OPEN_BADGES_V3
from certification.credentials.proofs import (
    ProofCheck,
    body_jwt,
    body_proof,
    check_proofs,
    proofs_of,
    with_proofs,
)
from certification.extensions import db
from certification.progress import Transcript, evaluate_progress

#: Entries per status list: the specification's minimum, 16 KB, so that a list's few set
#: bits hide among many.
STATUS_LIST_SIZE = 131_072
PROGRAMME_NAME = "European Certificate and Diploma in Imaging Informatics (EFRS and EuSoMII)"


# ---------------------------------------------------------------- where things are


@dataclass(frozen=True)
class Issuer:
    """This deployment as an issuer of credentials: its addresses, DID and keys."""

    site_url: str
    did: str
    keys: tuple[CredentialKey, ...]

    def credential_url(self, code: str) -> str:
        return f"{self.site_url}/credentials/{code}"

    def status_list_url(self, purpose: str) -> str:
        return f"{self.site_url}/credentials/status/{purpose}"

    def achievement_url(self, programme_code: str) -> str:
        return f"{self.site_url}/credentials/achievements/{programme_code}"

    @property
    def did_document(self) -> dict[str, Any]:
        return did_document(self.did, self.keys)


def current_issuer() -> Issuer:
    site_url = current_settings().public_base_url.rstrip("/")
    return Issuer(site_url, issuer_did(site_url), credential_keys())


# ---------------------------------------------------------------- issuing


@certificate_sealing.connect
def _on_certificate_sealing(certificate: Certificate, **_: object) -> Attachment:
    """The signed credential, for the certificate's PDF to carry under the seals."""
    signed = signed_credential(certificate)
    return Attachment(
        filename=f"{certificate.code}.credential.json",
        data=signed.document.encode(),
        media_type="application/ld+json",
        description=(
            "Open Badges 3.0 credential of certificate "
            f"{certificate.code}, signed by {' and '.join(signed.jwts)}"
        ),
    )


@certificate_issued.connect
def _on_certificate_issued(certificate: Certificate, **_: object) -> None:
    issue_credential(certificate)


@dataclass(frozen=True)
class SignedCredential:
    """A certificate's credential as signed: its status index, the JSON-LD document with
    each body's proof, and each body's VC-JWT."""

    status_index: int
    document: str
    jwts: dict[str, str]


def signed_credential(certificate: Certificate) -> SignedCredential:
    """``certificate``'s credential, signed by each body that seals it.

    The same certificate always gives the same bytes (its status index and identity salt
    derive from its code, Ed25519 signatures are deterministic, the proofs' time is the
    issue's): the PDF carries the credential signed before the seals, and the one stored
    at issue is that same document, whichever process rendered the PDF. Kept on the
    certificate object, so that rendering and storing it sign once."""
    issuer = current_issuer()
    bodies = [entry["short_name"] for entry in certificate.issuers]
    signers = [signing_key(issuer.keys, body) for body in bodies]
    index = _unused_status_index(certificate.code)
    document = open_badge(_facts(certificate, issuer, index))
    cache_key = (json.dumps(document, sort_keys=True, default=str), tuple(bodies))
    cached = certificate.__dict__.get("_signed_credential")
    if cached is not None and cached[0] == cache_key:
        return cached[1]
    proofs = [
        body_proof(document, key, issuer.did, created=certificate.issued_at) for key in signers
    ]
    signed = SignedCredential(
        status_index=index,
        document=json.dumps(with_proofs(document, proofs), ensure_ascii=False, indent=2),
        jwts={key.body: body_jwt(document, key, issuer.did) for key in signers},
    )
    certificate.__dict__["_signed_credential"] = (cache_key, signed)
    return signed


def issue_credential(certificate: Certificate) -> IssuedCredential:
    """Store ``certificate``'s signed credential (the one its PDF carries). Flushes; the
    caller's transaction commits it with the certificate."""
    signed = signed_credential(certificate)
    credential = IssuedCredential(
        certificate=certificate,
        status_index=signed.status_index,
        document=signed.document,
        jwts=signed.jwts,
        issued_at=certificate.issued_at,
    )
    try:
        with db.session.begin_nested():
            db.session.add(credential)
    except IntegrityError:
        # Another process issued a certificate whose index is this one's between this
        # one's rendering and now (both draws saw it free). Its PDF already carries the
        # index, so it cannot move: refused, and issued afresh (with a new code) it draws
        # again.
        raise RuntimeError(
            f"Status list index {signed.status_index} was taken by another certificate "
            "issued at the same moment; issue this one again."
        ) from None
    return credential


def _status_draw(code: str, attempt: int) -> int:
    """The ``attempt``-th candidate index for the certificate ``code``: spread over the
    list as a random draw would be (codes are random), and the same each time it is asked."""
    digest = hashlib.sha256(f"status-index:{code}:{attempt}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % STATUS_LIST_SIZE


def _unused_status_index(code: str) -> int:
    """The first of ``code``'s draws that no stored credential has, nor another certificate
    prepared in this session (a bulk batch renders many before storing any). Drawn at most
    64 times: with the list half full, the chance that every draw is taken is 2^-64; a list
    that full needs a second list."""
    reserved: dict[int, str] = db.session.info.setdefault("reserved_status_indices", {})
    for attempt in range(64):
        index = _status_draw(code, attempt)
        holder = reserved.get(index)
        if holder == code:
            return index  # drawn for this certificate already: its PDF may carry it
        if holder is not None:
            continue
        taken = db.session.scalar(
            sa.select(IssuedCredential.certificate_id).where(IssuedCredential.status_index == index)
        )
        if taken is None:
            reserved[index] = code
            return index
    raise RuntimeError("The status list has hardly a free index left: it needs a second list.")


def _facts(certificate: Certificate, issuer: Issuer, index: int) -> CredentialFacts:
    programme = certificate.programme
    email = certificate.candidate.email.strip().lower()
    # Published in the credential beside the hash, as Open Badges intends: a salt per
    # credential keeps one holder's credentials from sharing a hash. Derived from the
    # code, so that the same certificate always signs the same document.
    salt = hashlib.sha256(f"identity-salt:{certificate.code}".encode()).hexdigest()[:32]
    return CredentialFacts(
        code=certificate.code,
        credential_url=issuer.credential_url(certificate.code),
        issuer_did=issuer.did,
        site_url=issuer.site_url,
        programme_name=PROGRAMME_NAME,
        bodies=tuple(AwardingBody(i["short_name"], i["name"]) for i in certificate.issuers),
        holder_name=certificate.holder_name,
        identity_hash="sha256$" + hashlib.sha256((email + salt).encode()).hexdigest(),
        identity_salt=salt,
        achievement=achievement_facts(
            programme, issuer, on=certificate.issued_on, printed=certificate
        ),
        credits_earned=certificate.credits_total,
        issued_at=certificate.issued_at,
        valid_until=last_moment_of(certificate.expires_on),
        status_list_urls={p: issuer.status_list_url(p) for p in STATUS_PURPOSES},
        status_index=index,
    )


def achievement_facts(
    programme: Programme, issuer: Issuer, *, on: dt.date, printed: Certificate | None = None
) -> AchievementFacts:
    """``programme`` as an Achievement, its rules as they stand ``on`` that day; its title,
    level and EQF level as ``printed`` on a certificate, if one is given."""
    title = printed.award_title if printed else programme.title
    level = printed.level if printed else programme.level
    return AchievementFacts(
        url=issuer.achievement_url(programme.code),
        title=title,
        achievement_type="Diploma" if level == "diploma" else "Certificate",
        description=programme.description or f"The {title}, awarded jointly by EFRS and EuSoMII.",
        criteria=criteria_narrative(programme, on),
        credits_required=programme.min_total_credits,
        eqf_level=printed.eqf_level if printed else programme.eqf_level,
        image_url=f"{issuer.site_url}/static/credentials/badge.png",
    )


def achievement_document(programme_code: str, today: dt.date) -> dict[str, Any]:
    """The Achievement a credential's ``achievement.id`` names, as the programme stands
    today (a NotFound for an unknown code)."""
    achieved = achievement(
        achievement_facts(get_programme(programme_code), current_issuer(), on=today)
    )
    return {"@context": [CREDENTIALS_V2, OPEN_BADGES_V3], **achieved}


def criteria_narrative(programme: Programme, on: dt.date) -> str:
    """What the award requires, in the rules engine's English sentences."""
    report = evaluate_progress(programme_rules(programme), Transcript(), on)
    return (
        "Awarded to a candidate who meets every requirement: "
        + "; ".join(str(requirement.description) for requirement in report.requirements)
        + "."
    )


def last_moment_of(day: dt.date | None) -> dt.datetime | None:
    """The last second of ``day`` in the programme's calendar ("valid until" includes it)."""
    if day is None:
        return None
    zone = ZoneInfo(current_app.config["APP_TIMEZONE"])
    next_day = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=zone)
    return next_day - dt.timedelta(seconds=1)


def issue_missing_credentials() -> int:
    """A credential for each current certificate issued before credentials were (the
    ``issue-credentials`` command). Returns how many were made."""
    missing = db.session.scalars(
        sa.select(Certificate)
        .outerjoin(IssuedCredential, IssuedCredential.certificate_id == Certificate.id)
        .where(IssuedCredential.certificate_id.is_(None), Certificate.is_current)
        .order_by(Certificate.id)
    ).all()
    for certificate in missing:
        issue_credential(certificate)
    return len(missing)


# ---------------------------------------------------------------- serving


def credential_of(certificate: Certificate) -> IssuedCredential | None:
    return db.session.get(IssuedCredential, certificate.id)


def credential_with_code(code: str) -> IssuedCredential | None:
    return db.session.scalar(
        sa.select(IssuedCredential)
        .join(Certificate, Certificate.id == IssuedCredential.certificate_id)
        .where(Certificate.code == code)
    )


def credential_document(credential: IssuedCredential, body: str | None = None) -> dict[str, Any]:
    """The signed credential; with ``body``, the same credential with that body's proof
    alone (valid on its own: each proof signs the document without proofs). A ValueError if
    ``body`` did not sign it."""
    document: dict[str, Any] = json.loads(credential.document)
    if body is None:
        return document
    issuer = current_issuer()
    methods = {key.method(issuer.did) for key in issuer.keys if key.body.lower() == body.lower()}
    proofs = [
        p
        for p in proofs_of(document)
        if isinstance(p, dict) and p.get("verificationMethod") in methods
    ]
    if not proofs:
        raise ValueError(body)
    return with_proofs({k: v for k, v in document.items() if k != "proof"}, proofs)


@dataclass(frozen=True)
class CredentialOffer:
    """What the holder is offered for a certificate's credential: its public address, and
    LinkedIn's form filled in while the certificate is valid (None otherwise)."""

    url: str
    linkedin_url: str | None


def credential_offers(standings: list[CertificateStanding]) -> dict[str, CredentialOffer]:
    """By code, what the holder's page offers for each of their certificates that has a
    credential."""
    ids = _with_credential([s.certificate.id for s in standings])
    with_credential = [s for s in standings if s.certificate.id in ids]
    if not with_credential:
        return {}  # no keys need be configured to show a page without credentials
    issuer = current_issuer()
    offers = {}
    for standing in with_credential:
        certificate = standing.certificate
        url = issuer.credential_url(certificate.code)
        valid = standing.status is CertificateStatus.VALID
        offers[certificate.code] = CredentialOffer(
            url, _linkedin_url(certificate, url) if valid else None
        )
    return offers


def _linkedin_url(certificate: Certificate, url: str) -> str:
    return add_to_profile_url(
        # The title as the holder's copy prints it, in their language where it was translated.
        name=(certificate.translated or {}).get("award_title") or certificate.award_title,
        organisation=organisation_name([issuer["short_name"] for issuer in certificate.issuers]),
        issued_on=certificate.issued_on,
        expires_on=certificate.expires_on,
        certificate_url=url,
        certificate_id=certificate.code,
    )


def _with_credential(certificate_ids: list[int]) -> set[int]:
    """Which of these certificates have a credential, in one statement (one per certificate
    would grow with them), reading the ids alone, not the documents."""
    if not certificate_ids:
        return set()
    return set(
        db.session.scalars(
            sa.select(IssuedCredential.certificate_id).where(
                IssuedCredential.certificate_id.in_(certificate_ids)
            )
        )
    )


# ---------------------------------------------------------------- status lists


@dataclass(frozen=True)
class StatusList:
    body: bytes  # the signed BitstringStatusListCredential, JSON
    etag: str


_lists: dict[tuple[str, str, str], StatusList] = {}
_lists_lock = threading.Lock()


def set_bits(purpose: str) -> list[int]:
    """The indices whose bit is set in ``purpose``'s list, from the certificates' state."""
    if purpose == "revocation":
        # A certificate superseded by its renewal is not revoked: its credential stays good
        # for the period it states (validUntil), and the renewal's for the next.
        renewal = so.aliased(Certificate)
        renewed = (
            sa.select(renewal.id)
            .where(renewal.id == Certificate.superseded_by_id, renewal.renews_id == Certificate.id)
            .exists()
        )
        condition = sa.or_(
            Certificate.revoked_at.is_not(None),
            sa.and_(Certificate.superseded_by_id.is_not(None), ~renewed),
        )
    else:
        condition = sa.and_(
            Certificate.suspended_at.is_not(None),
            Certificate.revoked_at.is_(None),
            Certificate.superseded_by_id.is_(None),
        )
    return list(
        db.session.scalars(
            sa.select(IssuedCredential.status_index)
            .join(Certificate, Certificate.id == IssuedCredential.certificate_id)
            .where(condition)
            .order_by(IssuedCredential.status_index)
        )
    )


def status_list(purpose: str, *, now: dt.datetime | None = None) -> StatusList:
    """``purpose``'s signed status list credential (``revocation`` or ``suspension``),
    built and signed again only when its bits changed."""
    if purpose not in STATUS_PURPOSES:
        raise ValueError(purpose)
    issuer = current_issuer()
    bits = set_bits(purpose)
    digest = hashlib.sha256(f"{purpose}:{bits}".encode()).hexdigest()
    cache_key = (issuer.site_url, purpose, digest)
    with _lists_lock:
        found = _lists.get(cache_key)
    if found is not None:
        return found
    now = now or dt.datetime.now(dt.UTC)
    url = issuer.status_list_url(purpose)
    document = {
        "@context": [CREDENTIALS_V2],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer.did,
        "validFrom": instant(now),
        "credentialSubject": {
            "id": f"{url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": purpose,
            "encodedList": encode_bitstring(bits, STATUS_LIST_SIZE),
        },
    }
    bodies = sorted({key.body for key in issuer.keys})
    proofs = [
        body_proof(document, signing_key(issuer.keys, body), issuer.did, created=now)
        for body in bodies
    ]
    built = StatusList(
        json.dumps(with_proofs(document, proofs), indent=2).encode(), f'W/"{digest[:32]}"'
    )
    with _lists_lock:
        # Only the newest list of each purpose is asked for: forget this purpose's older one.
        for key in [k for k in _lists if k[:2] == cache_key[:2]]:
            del _lists[key]
        _lists[cache_key] = built
    return built


# ---------------------------------------------------------------- verifying


class Unauthentic(enum.StrEnum):
    """Why a credential is not one we issued, as it stands."""

    NOT_OURS = "not_ours"  # another issuer, or not a credential at all
    UNSIGNED = "unsigned"  # no proof
    CHANGED = "changed"  # a proof does not hold: changed since it was signed, or forged
    UNKNOWN = "unknown"  # signed with our keys, but no certificate here has its id


@dataclass(frozen=True)
class CredentialVerdict:
    """What a pasted or uploaded credential turned out to be."""

    authentic: bool
    certificate: Certificate | None
    status: CertificateStatus | None
    proofs: list[ProofCheck]
    problems: list[str]  # in English, for integrators
    unauthentic: Unauthentic | None = None


def verify_credential(document: object, today: dt.date) -> CredentialVerdict:
    """Check a credential someone holds: that it is one of ours, each proof against the
    published keys (so a changed character fails), and what became of it since: the
    certificate's status today, whose bits the status lists publish."""
    issuer = current_issuer()
    if not isinstance(document, dict):
        return _not_authentic(Unauthentic.NOT_OURS, "The credential is not a JSON object.")
    issuer_id = document.get("issuer")
    issuer_id = issuer_id.get("id") if isinstance(issuer_id, dict) else issuer_id
    if issuer_id != issuer.did:
        return _not_authentic(
            Unauthentic.NOT_OURS, f"The credential was not issued here (issuer {issuer_id!r})."
        )
    checks = check_proofs(document, issuer.did, issuer.did_document, issuer.keys)
    if not checks:
        return _not_authentic(Unauthentic.UNSIGNED, "The credential carries no proof.")
    problems = [f"{c.body or c.method}: {c.problem}" for c in checks if not c.valid]
    if problems:
        return CredentialVerdict(False, None, None, checks, problems, Unauthentic.CHANGED)
    certificate = _certificate_named(document, issuer)
    if certificate is None:
        problem = "No certificate issued here has this credential's id."
        return CredentialVerdict(False, None, None, checks, [problem], Unauthentic.UNKNOWN)
    if {c.body for c in checks} != {entry["short_name"] for entry in certificate.issuers}:
        # Authentic: each proof stands alone. Said, because it is not the whole set.
        problems.append("The credential carries the proofs of only some of its issuers.")
    return CredentialVerdict(True, certificate, certificate.status_on(today), checks, problems)


def _certificate_named(document: dict[str, Any], issuer: Issuer) -> Certificate | None:
    credential_id = document.get("id")
    prefix = issuer.credential_url("")
    if not isinstance(credential_id, str) or not credential_id.startswith(prefix):
        return None
    return db.session.scalar(
        sa.select(Certificate)
        .join(IssuedCredential, IssuedCredential.certificate_id == Certificate.id)
        .where(Certificate.code == credential_id[len(prefix) :])
    )


def _not_authentic(reason: Unauthentic, problem: str) -> CredentialVerdict:
    return CredentialVerdict(False, None, None, [], [problem], reason)
