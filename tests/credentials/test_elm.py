"""A certificate as a European Learning Model (ELM 3) credential for EDC to import: what it
states, and that it expands as JSON-LD with the vendored ELM context alone (nothing
fetched, nothing dropped)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
import sqlalchemy as sa
from pyld import jsonld
from pyld.documentloader.frozen import BUNDLED_CONTEXTS, FrozenDocumentLoader

from certification.certificates.models import Certificate
from certification.credentials.elm import (
    EDC_AP,
    VC_V1,
    ElmBody,
    ElmFacts,
    edc_ap_context,
    elm_credential,
    elm_of,
)
from certification.credentials.services import current_issuer
from certification.extensions import db
from tests.certificates.test_approvals import bodies, issued_jointly  # noqa: F401

SITE = "https://certificates.example.org"
NAME = "Zoë Łukasiewicz-Παπαδοπούλου"
ELM = "http://data.europa.eu/snb/model/elm/"


def loader() -> FrozenDocumentLoader:
    """The VC 1.1 context as pyld bundles it, the ELM context as vendored here; any other
    URL is refused."""
    return FrozenDocumentLoader({VC_V1: BUNDLED_CONTEXTS[VC_V1], EDC_AP: edc_ap_context()})


def leaves(node: object) -> list[str]:
    """Every scalar of a compact document but its contexts, as text."""
    if isinstance(node, dict):
        return [x for k, v in node.items() if k != "@context" for x in leaves(v)]
    if isinstance(node, list):
        return [x for item in node for x in leaves(item)]
    return [str(node).lower() if isinstance(node, bool) else str(node)]


def expanded_leaves(node: object) -> list[str]:
    """Every @id, node @type and @value of an expanded document, as text."""
    if isinstance(node, list):
        return [x for item in node for x in expanded_leaves(item)]
    if not isinstance(node, dict):
        return []
    if "@value" in node:
        value = node["@value"]
        return [str(value).lower() if isinstance(value, bool) else str(value)]
    found = [node["@id"]] if "@id" in node else []
    found += list(node.get("@type", []))
    return found + [x for k, v in node.items() if not k.startswith("@") for x in expanded_leaves(v)]


def expand(document: dict) -> list:
    """The document expanded; fails if any term or value was dropped (a term the context
    does not define disappears silently from an expansion)."""
    expanded = jsonld.expand(document, {"documentLoader": loader()})
    assert len(expanded_leaves(expanded)) == len(leaves(document))
    return expanded


def test_a_jointly_issued_certificate_as_an_elm_credential(
    app,
    client,
    bodies,  # noqa: F811
    eligible_candidate,
):
    code = issued_jointly(bodies, eligible_candidate(NAME))
    with app.app_context():
        certificate = db.session.scalar(sa.select(Certificate).where(Certificate.code == code))
        assert certificate is not None
        document = elm_of(certificate, current_issuer(), seats={"EuSoMII": "AUT"})
        issued_at = certificate.issued_at
        expires_on = certificate.expires_on

    assert document["@context"] == [
        "https://www.w3.org/2018/credentials/v1",
        "http://data.europa.eu/snb/model/context/edc-ap",
    ]
    assert document["type"] == ["VerifiableCredential", "EuropeanDigitalCredential"]
    assert document["id"] == f"{SITE}/credentials/{code}"
    assert document["identifier"]["notation"] == code
    assert document["credentialProfiles"]["id"] == "http://data.europa.eu/snb/credential/e34929035b"
    assert document["credentialSchema"]["type"] == "ShaclValidator2017"

    subject = document["credentialSubject"]
    assert subject["type"] == "Person"
    assert subject["fullName"] == {"en": NAME}
    # The name alone: no e-mail, no date of birth, no split into given and family names.
    text = json.dumps(document, ensure_ascii=False)
    for absent in ("eligible", "mailto:", "dateOfBirth", "givenName", "familyName", "Mailbox"):
        assert absent not in text, absent

    achievement = subject["hasClaim"]
    assert achievement["type"] == "LearningAchievement"
    assert achievement["title"] == {"en": "European Certificate in Imaging Informatics"}
    assert achievement["supplementaryDocument"]["contentURL"].endswith(f"/verify/{code}")
    specification = achievement["specifiedBy"]
    assert specification["type"] == "Qualification"
    assert specification["eqfLevel"]["id"] == "http://data.europa.eu/snb/eqf/6"
    for credits in (specification["creditPoint"], achievement["creditReceived"]):
        assert credits["type"] == "CreditPoint"
        assert credits["framework"]["id"] == "http://data.europa.eu/snb/education-credit/6fcec5c5af"
        assert credits["point"] == "10"

    process = achievement["awardedBy"]
    assert process["type"] == "AwardingProcess"
    assert [body["legalName"] for body in process["awardingBody"]] == [
        {"en": "European Federation of Radiographer Societies"},
        {"en": "European Society of Medical Imaging Informatics"},
    ]
    assert [body["type"] for body in process["awardingBody"]] == ["Organisation"] * 2
    efrs, eusomii = process["awardingBody"]
    assert "location" not in efrs  # its seat was not given: nothing invented
    country = eusomii["location"]["address"]["countryCode"]["id"]
    assert country == "http://publications.europa.eu/resource/authority/country/AUT"
    assert document["issuer"]["legalName"] == {
        "en": "European Federation of Radiographer Societies"
    }

    instant = issued_at.astimezone(dt.UTC).replace(microsecond=0).isoformat()[:19] + "Z"
    assert process["awardingDate"] == document["validFrom"] == instant
    assert expires_on is not None
    assert document["validUntil"] == document["expirationDate"]
    until = dt.datetime.fromisoformat(document["validUntil"])
    assert until.astimezone(dt.UTC) > dt.datetime.combine(expires_on, dt.time(), tzinfo=dt.UTC)

    expanded = expand(document)[0]
    assert f"{ELM}EuropeanDigitalCredential" in expanded["@type"]
    subject = expanded["https://www.w3.org/2018/credentials#credentialSubject"][0]
    assert subject["http://xmlns.com/foaf/0.1/fullName"] == [{"@value": NAME, "@language": "en"}]
    claim = subject[f"{ELM}hasClaim"][0]
    level = claim[f"{ELM}specifiedBy"][0][f"{ELM}EQFLevel"][0]["@id"]
    assert level == "http://data.europa.eu/snb/eqf/6"


def test_the_holders_language_beside_english_and_another_issuing_body(
    app,
    client,
    bodies,  # noqa: F811
    eligible_candidate,
):
    code = issued_jointly(bodies, eligible_candidate(NAME))
    with app.app_context():
        certificate = db.session.scalar(sa.select(Certificate).where(Certificate.code == code))
        assert certificate is not None
        # As a Greek copy would have been drafted (not stored: only read by elm_of).
        certificate.language = "el"
        certificate.translated = {
            "award_title": "Ευρωπαϊκό Πιστοποιητικό στην Πληροφορική Απεικόνισης"
        }
        document = elm_of(certificate, current_issuer(), issuing_body="eusomii")
        with pytest.raises(ValueError):
            elm_of(certificate, current_issuer(), issuing_body="ESR")
        db.session.rollback()

    titles = {
        "en": "European Certificate in Imaging Informatics",
        "el": "Ευρωπαϊκό Πιστοποιητικό στην Πληροφορική Απεικόνισης",
    }
    achievement = document["credentialSubject"]["hasClaim"]
    assert achievement["title"] == achievement["specifiedBy"]["title"] == titles
    assert document["displayParameter"]["title"] == titles
    assert document["credentialSubject"]["fullName"] == {"en": NAME, "el": NAME}
    languages = [c["id"].rsplit("/", 1)[1] for c in document["displayParameter"]["language"]]
    assert languages == ["ENG", "ELL"]
    assert document["issuer"]["altLabel"] == {"en": "EuSoMII"}
    expanded = expand(document)[0]
    claim = expanded["https://www.w3.org/2018/credentials#credentialSubject"][0][f"{ELM}hasClaim"][
        0
    ]
    assert {"@value": titles["el"], "@language": "el"} in claim["http://purl.org/dc/terms/title"]


def test_the_builder_alone_gives_half_credits_and_no_end_without_an_expiry():
    facts = ElmFacts(
        credential_url=f"{SITE}/credentials/ABC",
        code="ABC",
        verify_url=f"{SITE}/verify/ABC",
        holder_name=NAME,
        award_titles={"en": "European Diploma in Imaging Informatics"},
        description="A diploma.",
        credits_required=Decimal("7.50"),
        credits_earned=Decimal("12.5"),
        eqf_level=None,
        awarding_bodies=(ElmBody("EFRS", "European Federation of Radiographer Societies", "BEL"),),
        issuer=ElmBody("EFRS", "European Federation of Radiographer Societies", "BEL"),
        issued_at=dt.datetime(2026, 12, 6, 10, 30, tzinfo=dt.UTC),
        valid_until=None,
    )
    document = elm_credential(facts)
    specification = document["credentialSubject"]["hasClaim"]["specifiedBy"]
    assert specification["creditPoint"]["point"] == "7.5"
    assert document["credentialSubject"]["hasClaim"]["creditReceived"]["point"] == "12.5"
    assert "eqfLevel" not in specification
    assert "validUntil" not in document and "expirationDate" not in document
    assert document["validFrom"] == "2026-12-06T10:30:00Z"
    expand(document)
    # A term the context does not define is caught; a context not vendored is refused.
    with pytest.raises(AssertionError):
        expand(dict(document, nickname="Zoë"))
    elsewhere = dict(document, **{"@context": [*document["@context"], "https://example.org/x"]})
    with pytest.raises(jsonld.JsonLdError, match="loading remote context failed"):
        jsonld.expand(elsewhere, {"documentLoader": loader()})
