"""A freshly issued credential is an Open Badges 3.0 ``AchievementCredential`` by 1EdTech's own
JSON Schema, vendored byte for byte in schemas/ (its README says where from). The schema
declares JSON Schema draft 2019-09, which jsonschema_rs implements (its meta-schema is
built in); it has no remote ``$ref`` (only ``#/$defs/...``), and the validator's retriever
refuses every URI, so nothing is fetched at run time."""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path

import jsonschema_rs
import pytest

from tests.certificates.test_approvals import bodies, issued_jointly  # noqa: F401
from tests.credentials.test_credentials import credential_of

SCHEMA = Path(__file__).parent / "schemas" / "ob_v3p0_achievementcredential_schema.json"
SCHEMA_SHA256 = "5753fb3ecf7d024ed273dd364bd683f483eb47257e718e6618832cf89eb2083a"


def refuse(uri: str):
    raise AssertionError(f"the schema asked for {uri}: nothing may be fetched")


@pytest.fixture(scope="module")
def validator() -> jsonschema_rs.Draft201909Validator:
    raw = SCHEMA.read_bytes()
    assert hashlib.sha256(raw).hexdigest() == SCHEMA_SHA256, "the vendored schema was changed"
    schema = json.loads(raw)
    assert schema["$schema"] == "https://json-schema.org/draft/2019-09/schema#"
    assert "Draft201909" in type(jsonschema_rs.validator_for(schema)).__name__
    # The retriever replaces the default (network) one: any remote $ref would fail here.
    return jsonschema_rs.Draft201909Validator(schema, validate_formats=True, retriever=refuse)


def problems(validator, document: dict) -> list[str]:
    return [
        f"{'/'.join(map(str, e.instance_path)) or '(root)'}: {e.message}"
        for e in validator.iter_errors(document)
    ]


def test_a_jointly_issued_credential_is_valid_by_the_open_badges_schema(
    app,
    client,
    bodies,  # noqa: F811
    eligible_candidate,
    validator,
):
    code = issued_jointly(bodies, eligible_candidate())
    credential = credential_of(client, code)
    assert isinstance(credential["proof"], list) and len(credential["proof"]) == 2

    # The schema is not vacuous: it names what is wrong with a credential missing a required
    # member, or that is not an OpenBadgeCredential (checked by the errors it reports, not
    # by mere invalidity, so this holds whatever else it finds).
    for required in ("credentialSubject", "issuer", "validFrom", "@context"):
        broken = copy.deepcopy(credential)
        del broken[required]
        assert f'(root): "{required}" is a required property' in problems(validator, broken)
    retyped = dict(credential, type=["VerifiableCredential"])
    assert any(p.startswith("type: ") for p in problems(validator, retyped))
    no_criteria = copy.deepcopy(credential)
    del no_criteria["credentialSubject"]["achievement"]["criteria"]
    assert 'credentialSubject/achievement: "criteria" is a required property' in problems(
        validator, no_criteria
    )

    # Each body's proof alone, as the office's API serves it.
    with app.app_context():
        alone = bodies["office"].get(f"/certificates/{code}/credential?proof=EFRS")
        assert alone.status_code == 200
        single = json.loads(alone.get_data())
    assert isinstance(single["proof"], list) and len(single["proof"]) == 1

    found = {
        "both proofs": problems(validator, credential),
        "one proof": problems(validator, single),
    }
    assert found == {"both proofs": [], "one proof": []}
