"""A certificate as a European Learning Model (ELM 3) credential, unsigned, for a European
Digital Credentials (EDC) deployment to import and seal. Pure like :mod:`document`: the
builder takes plain values; :func:`elm_of` collects them from a certificate.

Sources (the European Commission's own repositories, read at the commits named):

- ``european-commission-empl/European-Learning-Model`` (archived February 2024; commit
  9d7c5d22002237c3afeb1750b7038e6fe2cdd371):
  ``Credentials/JSON-LD Examples (ELM v3)/Sample-MC-Annex1-unsigned.jsonld`` and
  ``Sample-CertOfPart-unsigned.jsonld`` (the shape followed here: the two contexts, the
  types, ``credentialProfiles`` "Generic", ``credentialSchema`` edc-generic-full,
  ``hasClaim`` -> ``LearningAchievement`` -> ``specifiedBy`` ``Qualification`` with
  ``eqfLevel`` and an ECTS ``creditPoint``, ``awardedBy`` -> ``AwardingProcess``);
  ``Sample-MC-Annex1-signed.jsonld`` (what EDC adds when it seals: ``issued``,
  ``issuanceDate``, ``evidence``, its own ``issuer``, all inside a JAdES envelope);
  ``rdf/ap/edc/EDC-generic-no-cv.ttl`` (SHACL: which properties EDC requires).
- ``european-commission-empl/european-digital-credentials`` (EDC 2.0.6; commit
  ec562a46f54253bf7ad63af78516b17349502c5c): ``edci-data-model/.../jsonld/model/*DTO.java``
  (``eqfLevel`` exists on ``QualificationDTO`` only; ``OrganisationDTO`` requires
  ``legalName`` and ``location``); ``edci-issuer/.../consumers/CredentialIdentifierConsumer``
  (the issuer gives the credential a new ``urn:credential:<uuid>`` id and adds missing node
  ids), ``CredentialFullNameConsumer`` (``fullName`` alone is enough),
  ``CredentialLanguageConsumer`` and ``DiplomaService`` (EDC fills in the display
  parameters and renders the page images itself).

The vendored context, ``contexts/edc-ap-context.jsonld``, is byte for byte the
Commission's ``rdf/ap/edc/edc-ap-context.jsonld`` from the European-Learning-Model
repository (blob e70306734c01fd5cec47546447d0a2d9dd2e7076, last changed in commit
e38b4d894b78b6aff191185f36faae103e357133, June 2023, ELM 3.1), SHA-256
528f8a0e86dbbec7db2216c61806e6311feedac77a51d1a38b0a1d49e4c337fb. It is the document the
repository publishes for ``http://data.europa.eu/snb/model/context/edc-ap``; whether that
address serves these same bytes today (it may serve a later ELM 3.2 revision) could not be
checked from here. Nothing in this module loads it: only the tests expand with it.

Choices, and why:

- Only the holder's name, as printed, in ``fullName``: ELM's ``givenNames``/``familyName``
  cannot be split reliably from one printed name, and EDC composes ``fullName`` only when
  it is missing. No e-mail, date of birth or national identifier.
- ``specifiedBy`` is a ``Qualification`` (ELM's subclass of
  ``LearningAchievementSpecification``), as in the Commission's sample: only a
  Qualification carries ``eqfLevel`` in ELM 3 and in EDC's data model. Its ``creditPoint``
  is what the award requires; what this holder earned is ``creditReceived`` on the
  achievement (as ``creditsAvailable`` and ``creditsEarned`` in the Open Badge).
- The credential's ``id`` is its URL here. EDC replaces it with an id of its own when it
  seals, so the certificate's code is also an ``identifier`` and the public verification
  page a ``supplementaryDocument``. Other nodes get no id: EDC adds ``urn:epass:...`` ids
  where they are missing, and the vocabularies' concepts are named by their own URIs.
- ELM requires each ``Organisation`` to have a ``location`` with a country. The project does
  not record where EFRS and EuSoMII are registered, so a body's location is written only
  when the caller says its country (``seats``); without it EDC's SHACL check reports it.
- ``displayParameter`` names the title and the languages; the page images
  (``individualDisplay``) are left to EDC, which renders them from its template.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources
from typing import Any

from certification.certificates.models import Certificate
from certification.credentials.document import EQF_LEVELS, instant
from certification.credentials.services import PROGRAMME_NAME, Issuer, last_moment_of

VC_V1 = "https://www.w3.org/2018/credentials/v1"
EDC_AP = "http://data.europa.eu/snb/model/context/edc-ap"
EDC_AP_FILE = "edc-ap-context.jsonld"
EDC_AP_SHA256 = "528f8a0e86dbbec7db2216c61806e6311feedac77a51d1a38b0a1d49e4c337fb"

GENERIC_PROFILE = "http://data.europa.eu/snb/credential/e34929035b"
CREDENTIAL_PROFILES = "http://data.europa.eu/snb/credential/25831c2"
GENERIC_FULL_SCHEMA = "http://data.europa.eu/snb/model/ap/edc-generic-full"
ECTS = "http://data.europa.eu/snb/education-credit/6fcec5c5af"
EDUCATION_CREDITS = "http://data.europa.eu/snb/education-credit/25831c2"
EQF_SCHEME = "http://data.europa.eu/snb/eqf/25831c2"
LANGUAGE_TABLE = "http://publications.europa.eu/resource/authority/language"
COUNTRY_TABLE = "http://publications.europa.eu/resource/authority/country"

#: The EU's language table names a language by a three-letter code; those of the EU's
#: official languages, by their ISO 639-1 code.
EU_LANGUAGES = {
    "bg": ("BUL", "Bulgarian"),
    "cs": ("CES", "Czech"),
    "da": ("DAN", "Danish"),
    "de": ("DEU", "German"),
    "el": ("ELL", "Greek"),
    "en": ("ENG", "English"),
    "es": ("SPA", "Spanish"),
    "et": ("EST", "Estonian"),
    "fi": ("FIN", "Finnish"),
    "fr": ("FRA", "French"),
    "ga": ("GLE", "Irish"),
    "hr": ("HRV", "Croatian"),
    "hu": ("HUN", "Hungarian"),
    "it": ("ITA", "Italian"),
    "lt": ("LIT", "Lithuanian"),
    "lv": ("LAV", "Latvian"),
    "mt": ("MLT", "Maltese"),
    "nl": ("NLD", "Dutch"),
    "pl": ("POL", "Polish"),
    "pt": ("POR", "Portuguese"),
    "ro": ("RON", "Romanian"),
    "sk": ("SLK", "Slovak"),
    "sl": ("SLV", "Slovenian"),
    "sv": ("SWE", "Swedish"),
}


@dataclass(frozen=True)
class ElmBody:
    """An awarding body. ``country``: where it is registered, as the EU's country table
    codes it (ISO 3166-1 alpha-3, "NLD"); None where the project does not know."""

    short_name: str
    name: str
    country: str | None = None


@dataclass(frozen=True)
class ElmFacts:
    """What the ELM credential states. Language maps are keyed by ISO 639-1 code, English
    first."""

    credential_url: str  # its id here: /credentials/<code>
    code: str
    verify_url: str
    holder_name: str
    award_titles: dict[str, str]
    description: str  # English
    credits_required: Decimal
    credits_earned: Decimal
    eqf_level: int | None
    awarding_bodies: tuple[ElmBody, ...]
    issuer: ElmBody
    issued_at: dt.datetime
    valid_until: dt.datetime | None


def elm_credential(facts: ElmFacts) -> dict[str, Any]:
    """The EuropeanDigitalCredential, unsigned, as EDC imports it."""
    languages = list(facts.award_titles)
    specification: dict[str, Any] = {
        "type": "Qualification",
        "title": dict(facts.award_titles),
        "description": {"en": facts.description},
        "creditPoint": _ects(facts.credits_required),
        "language": [_language(code) for code in languages if code in EU_LANGUAGES],
    }
    if facts.eqf_level is not None:
        specification["eqfLevel"] = {
            "id": f"{EQF_LEVELS}{facts.eqf_level}",
            "type": "Concept",
            "inScheme": {"id": EQF_SCHEME, "type": "ConceptScheme"},
            "prefLabel": {"en": f"Level {facts.eqf_level}"},
        }
    achievement = {
        "type": "LearningAchievement",
        "title": dict(facts.award_titles),
        "awardedBy": {
            "type": "AwardingProcess",
            "awardingBody": [_organisation(body) for body in facts.awarding_bodies],
            "awardingDate": instant(facts.issued_at),
        },
        "creditReceived": _ects(facts.credits_earned),
        "specifiedBy": specification,
        "supplementaryDocument": {
            "type": "WebResource",
            "contentURL": facts.verify_url,
            "title": {"en": "Verification of this certificate"},
        },
    }
    document: dict[str, Any] = {
        "@context": [VC_V1, EDC_AP],
        "id": facts.credential_url,
        "type": ["VerifiableCredential", "EuropeanDigitalCredential"],
        "credentialProfiles": {
            "id": GENERIC_PROFILE,
            "type": "Concept",
            "inScheme": {"id": CREDENTIAL_PROFILES, "type": "ConceptScheme"},
            "prefLabel": {"en": "Generic"},
        },
        "credentialSchema": {"id": GENERIC_FULL_SCHEMA, "type": "ShaclValidator2017"},
        "displayParameter": {
            "type": "DisplayParameter",
            "title": dict(facts.award_titles),
            "primaryLanguage": _language("en"),
            "language": [_language(code) for code in languages if code in EU_LANGUAGES],
        },
        "identifier": {
            "type": "Identifier",
            "schemeName": "Certificate code",
            "notation": facts.code,
        },
        "credentialSubject": {
            "type": "Person",
            # The name as printed, under each language the credential is in.
            "fullName": dict.fromkeys(languages, facts.holder_name),
            "hasClaim": achievement,
        },
        "issuer": _organisation(facts.issuer),
        "validFrom": instant(facts.issued_at),
    }
    if facts.valid_until is not None:
        # ELM's term, and VC 1.1's for verifiers that know only that one.
        document["validUntil"] = instant(facts.valid_until)
        document["expirationDate"] = instant(facts.valid_until)
    return document


def elm_of(
    certificate: Certificate,
    issuer: Issuer,
    *,
    seats: Mapping[str, str] | None = None,
    issuing_body: str | None = None,
) -> dict[str, Any]:
    """``certificate`` as an ELM credential. ``seats``: each body's country by short name
    ("EFRS": "NLD"), for the locations ELM requires; ``issuing_body``: the short name of the
    body that will seal it in EDC (the first of the certificate's bodies unless named).
    Inside an application context (the programme's calendar gives the end of validity)."""
    seats = seats or {}
    bodies = tuple(
        ElmBody(entry["short_name"], entry["name"], seats.get(entry["short_name"]))
        for entry in certificate.issuers
    )
    wanted = issuing_body or bodies[0].short_name
    sealer = next((b for b in bodies if b.short_name.lower() == wanted.lower()), None)
    if sealer is None:
        raise ValueError(f"{wanted!r} did not award this certificate.")
    titles = {"en": certificate.award_title}
    translated = (certificate.translated or {}).get("award_title")
    if translated and certificate.language != "en":
        titles[certificate.language] = translated
    programme = certificate.programme
    return elm_credential(
        ElmFacts(
            credential_url=issuer.credential_url(certificate.code),
            code=certificate.code,
            verify_url=certificate.verify_url,
            holder_name=certificate.holder_name,
            award_titles=titles,
            description=programme.description
            or f"The {certificate.award_title}, awarded jointly by EFRS and EuSoMII"
            f" ({PROGRAMME_NAME}).",
            credits_required=programme.min_total_credits,
            credits_earned=certificate.credits_total,
            eqf_level=certificate.eqf_level,
            awarding_bodies=bodies,
            issuer=sealer,
            issued_at=certificate.issued_at,
            valid_until=last_moment_of(certificate.expires_on),
        )
    )


def edc_ap_context() -> dict[str, Any]:
    """The vendored ELM context, checked against its SHA-256 (for JSON-LD processing in
    tests and tools; the credential itself names the context by its URL)."""
    data = (resources.files(__package__) / "contexts" / EDC_AP_FILE).read_bytes()
    if hashlib.sha256(data).hexdigest() != EDC_AP_SHA256:
        raise RuntimeError(f"The vendored context {EDC_AP_FILE} does not match its SHA-256.")
    context: dict[str, Any] = json.loads(data)
    return context


def _organisation(body: ElmBody) -> dict[str, Any]:
    organisation: dict[str, Any] = {
        "type": "Organisation",
        "legalName": {"en": body.name},
        "altLabel": {"en": body.short_name},
    }
    if body.country is not None:
        organisation["location"] = {
            "type": "Location",
            "address": {
                "type": "Address",
                "countryCode": {
                    "id": f"{COUNTRY_TABLE}/{body.country}",
                    "type": "Concept",
                    "inScheme": {"id": COUNTRY_TABLE, "type": "ConceptScheme"},
                    "notation": "country",
                },
            },
        }
    return organisation


def _ects(credits: Decimal) -> dict[str, Any]:
    return {
        "type": "CreditPoint",
        "framework": {
            "id": ECTS,
            "type": "Concept",
            "inScheme": {"id": EDUCATION_CREDITS, "type": "ConceptScheme"},
            "prefLabel": {"en": "European Credit Transfer System"},
        },
        "point": _points(credits),
    }


def _language(code: str) -> dict[str, Any]:
    table_code, name = EU_LANGUAGES[code]
    return {
        "id": f"{LANGUAGE_TABLE}/{table_code}",
        "type": "Concept",
        "inScheme": {"id": LANGUAGE_TABLE, "type": "ConceptScheme"},
        "notation": "language",
        "prefLabel": {"en": name},
    }


def _points(credits: Decimal) -> str:
    """ELM's ``point`` is a string: "10", or "7.5"."""
    return format(credits.normalize(), "f")
