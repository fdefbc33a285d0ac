"""A certificate as an Open Badges 3.0 credential (a W3C Verifiable Credential 2.0): the
document, before any proof. Pure, like the PDF renderer: the same facts give the same
document, and nothing here reads the database or the request.

Choices the specification leaves open, and why:

- The holder is named as printed, and identified by a salted SHA-256 of their e-mail
  (``IdentityObject``, ``hashed: true``): Open Badges 3.0 wants an ``id`` or an
  ``identifier``, and a verifier the holder gives their address to can check it, while
  nobody can read it off the credential.
- The EQF level is an ``alignment`` to the European Qualifications Framework whose
  ``targetUrl`` is the level's URI in the EU's own vocabulary
  (``http://data.europa.eu/snb/eqf/6``): Open Badges has no level field, an alignment is how
  it points into a framework, and that URI is the one the European Learning Model uses, so
  an ELM consumer matches it without a mapping.
- ``credentialStatus`` names the revocation list alone. The Open Badges 3.0 schema allows
  one status entry (an object, not a list; 1EdTech's issue 623 asks for more in 3.1), and a
  credential the schema refuses is refused by the validators that check it. The suspension
  list is published beside it, at the same index (README, "Credentials").
- ``creditsAvailable`` is what the award requires (the achievement is the same for every
  holder); what this holder earned is ``creditsEarned`` on the subject.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from certification.credentials.pinned import CREDENTIALS_V2, OPEN_BADGES_V3

EQF_LEVELS = "http://data.europa.eu/snb/eqf/"
STATUS_PURPOSES = ("revocation", "suspension")


@dataclass(frozen=True)
class AwardingBody:
    short_name: str
    name: str


@dataclass(frozen=True)
class AchievementFacts:
    """The award, the same for every holder (as its rules stood when it was issued)."""

    url: str  # its id: /credentials/achievements/<programme code>
    title: str
    achievement_type: str  # "Certificate" or "Diploma"
    description: str
    criteria: str
    credits_required: Decimal
    eqf_level: int | None
    image_url: str


@dataclass(frozen=True)
class CredentialFacts:
    """What the credential states, taken from the certificate's snapshot when it is issued."""

    code: str
    credential_url: str  # its id: /credentials/<code>
    issuer_did: str
    site_url: str  # the deployment's public address
    programme_name: str  # the joint programme, as the issuer's Profile names it
    bodies: tuple[AwardingBody, ...]
    holder_name: str
    identity_hash: str  # "sha256$<hex>" of the e-mail and the salt
    identity_salt: str
    achievement: AchievementFacts
    credits_earned: Decimal
    issued_at: dt.datetime
    valid_until: dt.datetime | None
    status_list_urls: dict[str, str]  # purpose -> the list's URL
    status_index: int


def achievement(facts: AchievementFacts) -> dict[str, Any]:
    """The Achievement: what the award is and what it asks."""
    found: dict[str, Any] = {
        "id": facts.url,
        "type": ["Achievement"],
        "achievementType": facts.achievement_type,
        "name": facts.title,
        "description": facts.description,
        "criteria": {"narrative": facts.criteria},
        "creditsAvailable": _number(facts.credits_required),
        "fieldOfStudy": "Imaging informatics",
        "inLanguage": "en",
        "image": {"id": facts.image_url, "type": "Image", "caption": facts.title},
    }
    if facts.eqf_level is not None:
        found["alignment"] = [
            {
                "type": ["Alignment"],
                "targetName": f"EQF level {facts.eqf_level}",
                "targetUrl": f"{EQF_LEVELS}{facts.eqf_level}",
                "targetCode": str(facts.eqf_level),
                "targetFramework": "European Qualifications Framework",
                "targetDescription": "The level of the award in the European"
                " Qualifications Framework for lifelong learning.",
            }
        ]
    return found


def open_badge(facts: CredentialFacts) -> dict[str, Any]:
    """The OpenBadgeCredential, without proof."""
    document: dict[str, Any] = {
        "@context": [CREDENTIALS_V2, OPEN_BADGES_V3],
        "id": facts.credential_url,
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": facts.achievement.title,
        "issuer": issuer_profile(facts),
        "validFrom": instant(facts.issued_at),
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "name": facts.holder_name,
            "identifier": [
                {
                    "type": "IdentityObject",
                    "identityHash": facts.identity_hash,
                    "identityType": "emailAddress",
                    "hashed": True,
                    "salt": facts.identity_salt,
                }
            ],
            "creditsEarned": _number(facts.credits_earned),
            "achievement": achievement(facts.achievement),
        },
        "credentialStatus": {
            "id": f"{facts.status_list_urls['revocation']}#{facts.status_index}",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": str(facts.status_index),
            "statusListCredential": facts.status_list_urls["revocation"],
        },
    }
    if facts.valid_until is not None:
        document["validUntil"] = instant(facts.valid_until)
    return document


def issuer_profile(facts: CredentialFacts) -> dict[str, Any]:
    """The joint programme as issuer, naming each body (its name, and its short name as an
    identifier of its own)."""
    names = " and ".join(f"{b.name} ({b.short_name})" for b in facts.bodies)
    return {
        "id": facts.issuer_did,
        "type": ["Profile"],
        "name": facts.programme_name,
        "url": facts.site_url,
        "description": f"Awarded jointly by the {names}.",
        "otherIdentifier": [
            {"type": "IdentifierEntry", "identifier": body.name, "identifierType": "name"}
            for body in facts.bodies
        ],
    }


def instant(moment: dt.datetime) -> str:
    """``moment`` as credentials write it: UTC, whole seconds, ``Z``."""
    return moment.astimezone(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _number(credits: Decimal) -> int | float:
    """A JSON number: 30, or 7.5."""
    return int(credits) if credits == credits.to_integral_value() else float(credits)
