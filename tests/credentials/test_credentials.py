"""Every certificate as an Open Badges 3.0 credential: issued with it and signed by each body
that approved it, served, verified here, and verified independently of the project's own
signing code (pyld's RDFC-1.0 and ``cryptography``, against the key in the served DID
document)."""

from __future__ import annotations

import base64
import copy
import datetime as dt
import gzip
import hashlib
import html
import io
import json
import re
from typing import Any

import jwt
import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pyld import jsonld

from certification.credentials.models import IssuedCredential
from certification.credentials.pinned import PINNED, document_loader
from certification.extensions import db
from tests.certificates.test_approvals import REASON, issued_jointly
from tests.conftest import assert_error, log_in

SITE = "https://certificates.example.org"
DID = "did:web:certificates.example.org"
B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def b58decode(text: str) -> bytes:
    number = 0
    for character in text:
        number = number * 58 + B58.index(character)
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return b"\0" * (len(text) - len(text.lstrip("1"))) + raw


def canonical(document: dict) -> bytes:
    return jsonld.normalize(
        document,
        {
            "algorithm": "URDNA2015",
            "format": "application/n-quads",
            "documentLoader": document_loader,
        },
    ).encode()


def proof_holds(document: dict, proof: dict, did_document: dict) -> bool:
    """eddsa-rdfc-2022 checked by hand (vc-di-eddsa §3.3): SHA-256 of the canonical proof
    options (with the document's context) then of the canonical document without proofs,
    and the Ed25519 signature over both, with the key the served DID document publishes."""
    method = next(
        m for m in did_document["verificationMethod"] if m["id"] == proof["verificationMethod"]
    )
    assert proof["verificationMethod"] in did_document["assertionMethod"]
    assert method["controller"] == DID
    multikey = b58decode(method["publicKeyMultibase"][1:])
    assert multikey[:2] == b"\xed\x01"  # the multicodec of an Ed25519 public key
    key = Ed25519PublicKey.from_public_bytes(multikey[2:])
    options = {k: v for k, v in proof.items() if k != "proofValue"}
    options["@context"] = document["@context"]
    bare = {k: v for k, v in document.items() if k != "proof"}
    hashed = hashlib.sha256(canonical(options)).digest() + hashlib.sha256(canonical(bare)).digest()
    try:
        key.verify(b58decode(proof["proofValue"][1:]), hashed)
    except Exception:
        return False
    return True


def credential_of(client, code: str) -> dict:
    response = client.get(f"/credentials/{code}", headers={"Accept": "application/ld+json"})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/ld+json"
    return json.loads(response.get_data())


def test_a_jointly_approved_certificate_carries_each_bodys_proof_which_verifies_independently(
    app,
    client,
    bodies,
    eligible_candidate,
    today,
):
    code = issued_jointly(bodies, eligible_candidate("Zoë Łukasiewicz-Παπαδοπούλου"))
    credential = credential_of(client, code)
    did_document = client.get("/.well-known/did.json").get_json(force=True)

    assert credential["@context"] == [
        "https://www.w3.org/ns/credentials/v2",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    ]
    assert credential["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert credential["id"] == f"{SITE}/credentials/{code}"
    assert credential["issuer"]["id"] == DID
    subject = credential["credentialSubject"]
    assert subject["name"] == "Zoë Łukasiewicz-Παπαδοπούλου"
    # Nothing personal but the name as printed: the e-mail only salted and hashed.
    assert "eligible" not in json.dumps(credential)
    identity = subject["identifier"][0]
    assert identity["hashed"] is True
    email = "eligible1@example.org"
    expected = hashlib.sha256((email + identity["salt"]).encode()).hexdigest()
    assert identity["identityHash"] == f"sha256${expected}"
    achievement = subject["achievement"]
    assert achievement["creditsAvailable"] == 10
    assert achievement["alignment"][0]["targetUrl"] == "http://data.europa.eu/snb/eqf/6"
    assert "At least 10 ECTS credits" in achievement["criteria"]["narrative"]

    proofs = credential["proof"]
    assert [p["verificationMethod"] for p in proofs] == [f"{DID}#efrs-2026", f"{DID}#eusomii-2026"]
    assert all(p["cryptosuite"] == "eddsa-rdfc-2022" for p in proofs)
    assert all(proof_holds(credential, proof, did_document) for proof in proofs)

    changed = copy.deepcopy(credential)
    changed["credentialSubject"]["name"] = "Zoe Łukasiewicz-Παπαδοπούλου"
    assert not any(proof_holds(changed, proof, did_document) for proof in proofs)

    # Each body's proof alone is the same credential, valid on its own.
    with app.app_context():
        api = bodies["office"]
        alone = api.get(f"/certificates/{code}/credential?proof=EFRS")
        assert alone.status_code == 200
        single = json.loads(alone.get_data())
        assert len(single["proof"]) == 1
        assert single["proof"][0]["verificationMethod"] == f"{DID}#efrs-2026"
        assert proof_holds(single, single["proof"][0], did_document)
        assert_error(
            api.get(f"/certificates/{code}/credential?proof=XYZ"), 422, "invalid", {"proof"}
        )


def test_only_the_pinned_contexts_are_served_and_they_are_the_librarys(app):
    from importlib import resources

    for url, (name, digest) in PINNED.items():
        ours = (resources.files("certification.credentials") / "contexts" / name).read_bytes()
        assert hashlib.sha256(ours).hexdigest() == digest
        bundled = resources.files("openbadgeslib.ob3.contexts").joinpath(name).read_bytes()
        assert bundled == ours, name
        assert document_loader(url)["document"] == json.loads(ours)
    with pytest.raises(LookupError):
        document_loader("https://example.org/evil-context.jsonld")


def bits(client, purpose: str) -> set[int]:
    served = client.get(f"/credentials/status/{purpose}")
    assert served.status_code == 200
    listed = json.loads(served.get_data())
    assert listed["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    encoded = listed["credentialSubject"]["encodedList"]
    assert encoded[0] == "u"
    raw = gzip.decompress(base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4)))
    assert len(raw) * 8 >= 131_072
    return {i for i in range(len(raw) * 8) if raw[i // 8] & (0x80 >> (i % 8))}


def index_of(credential: dict) -> int:
    """The credential's bit: its revocation entry's, and the same in the suspension list."""
    entry = credential["credentialStatus"]
    assert entry["type"] == "BitstringStatusListEntry"
    assert entry["statusPurpose"] == "revocation"
    assert entry["statusListCredential"] == f"{SITE}/credentials/status/revocation"
    return int(entry["statusListIndex"])


def test_suspension_reinstatement_and_revocation_flip_the_served_bits(
    app,
    client,
    bodies,
    eligible_candidate,
):
    code = issued_jointly(bodies, eligible_candidate())
    credential = credential_of(client, code)
    index = index_of(credential)
    assert index not in bits(client, "revocation") | bits(client, "suspension")

    assert (
        bodies["EFRS"].post(f"/certificates/{code}/revoke", {"reason": REASON}).status_code == 200
    )
    assert index in bits(client, "suspension")
    assert index not in bits(client, "revocation")
    reinstated = bodies["EuSoMII"].post(f"/certificates/{code}/reinstate", {"reason": REASON})
    assert reinstated.status_code == 200, reinstated.get_json()
    assert index not in bits(client, "suspension")

    bodies["EFRS"].post(f"/certificates/{code}/revoke", {"reason": REASON})
    bodies["EuSoMII"].post(f"/certificates/{code}/revoke", {"reason": REASON})
    assert index in bits(client, "revocation")
    assert index not in bits(client, "suspension")


def test_the_status_list_is_signed_cacheable_and_answers_304_until_a_bit_changes(
    app,
    client,
    bodies,
    eligible_candidate,
):
    code = issued_jointly(bodies, eligible_candidate())
    first = client.get("/credentials/status/revocation")
    did_document = client.get("/.well-known/did.json").get_json(force=True)
    listed = json.loads(first.get_data())
    assert all(proof_holds(listed, proof, did_document) for proof in listed["proof"])
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "no-cache"
    again = client.get("/credentials/status/revocation", headers={"If-None-Match": etag})
    assert again.status_code == 304
    bodies["EFRS"].post(f"/certificates/{code}/revoke", {"reason": REASON})
    bodies["EuSoMII"].post(f"/certificates/{code}/revoke", {"reason": REASON})
    changed = client.get("/credentials/status/revocation", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert client.get("/credentials/status/other").status_code == 404


def test_verifying_a_credential_through_the_api(app, client, bodies, eligible_candidate):
    code = issued_jointly(bodies, eligible_candidate())
    credential = credential_of(client, code)

    answer = client.post("/api/v1/verify/credential", json=credential).get_json()
    assert answer == {
        "authentic": True,
        "code": code,
        "status": "valid",
        "proofs": [{"body": "EFRS", "valid": True}, {"body": "EuSoMII", "valid": True}],
        "problems": [],
    }
    changed = copy.deepcopy(credential)
    changed["credentialSubject"]["name"] += "x"
    answer = client.post("/api/v1/verify/credential", json=changed).get_json()
    assert answer["authentic"] is False and answer["status"] is None
    assert answer["proofs"] == [
        {"body": "EFRS", "valid": False},
        {"body": "EuSoMII", "valid": False},
    ]
    assert answer["problems"]

    bodies["EFRS"].post(f"/certificates/{code}/revoke", {"reason": REASON})
    answer = client.post("/api/v1/verify/credential", json=credential).get_json()
    assert (answer["authentic"], answer["status"]) == (True, "suspended")

    other_issuer = dict(
        credential, issuer={**credential["issuer"], "id": "did:web:elsewhere.example"}
    )
    answer = client.post("/api/v1/verify/credential", json=other_issuer).get_json()
    assert answer["authentic"] is False and "not issued here" in answer["problems"][0]

    for garbage in (b"not json", b"\xff\xfe", b"[1, 2]", b"{}", b'{"proof": 5}', b"null"):
        response = client.post(
            "/api/v1/verify/credential", data=garbage, content_type="application/json"
        )
        assert response.status_code in (200, 400), garbage
        assert response.get_json()["authentic" if response.status_code == 200 else "error"] in (
            False,
            "not_json",
        )
    huge = b'{"a": "' + b"x" * (5 * 1024 * 1024) + b'"}'
    response = client.post("/api/v1/verify/credential", data=huge, content_type="application/json")
    assert response.status_code in (400, 413)


def test_a_credential_is_issued_for_an_award_the_office_issues_alone(
    app, client, api, eligible_candidate
):
    candidate_id = eligible_candidate()
    response = api.post("/certificates", {"candidate_id": candidate_id, "programme": "EII-C"})
    assert response.status_code == 201, response.get_json()
    code = response.get_json()["code"]
    credential = credential_of(client, code)
    assert len(credential["proof"]) == 2
    with app.app_context():
        stored = db.session.scalars(sa.select(IssuedCredential)).all()
        assert len(stored) == 1
        assert stored[0].issued_at.tzinfo is not None
    # The holder downloads it; another candidate is told it does not exist.
    log_in(client, "eligible1@example.org")
    mine = client.get(f"/api/v1/certificates/{code}/credential")
    assert mine.status_code == 200
    assert mine.headers["Content-Disposition"] == f'attachment; filename="{code}.json"'
    assert json.loads(mine.get_data()) == credential
    # A browser asking for the credential's URL sees the verification page.
    page = client.get(f"/credentials/{code}", headers={"Accept": "text/html"})
    assert page.status_code == 303 and page.headers["Location"].endswith(f"/verify/{code}")
    assert dt.date.fromisoformat(credential["validFrom"][:10])


def headline(page) -> str:
    found = re.search(
        r'class="status-word" id="[a-z-]+">(.*?)</h1>', page.get_data(as_text=True), re.S
    )
    assert found, page.get_data(as_text=True)
    return html.unescape(re.sub(r"<[^>]+>", "", found.group(1))).strip()


@pytest.mark.parametrize("language", ["en", "de"])
def test_the_verify_page_says_valid_suspended_or_revoked_for_a_pasted_credential_as_for_its_code(
    app, client, bodies, eligible_candidate, language
):
    code = issued_jointly(bodies, eligible_candidate("Αικατερίνη Παπαδοπούλου"))
    credential = credential_of(client, code)
    pasted = json.dumps(credential, ensure_ascii=False)
    asked = {"Accept-Language": language}

    def check(**form) -> Any:
        return client.post("/verify", data={"check_credential": "1", **form}, headers=asked)

    for then in ("valid", "suspended", "revoked"):
        if then == "suspended":
            bodies["EFRS"].post(f"/certificates/{code}/revoke", {"reason": REASON})
        if then == "revoked":
            bodies["EuSoMII"].post(f"/certificates/{code}/revoke", {"reason": REASON})
        by_code = client.get(f"/verify/{code}", headers=asked)
        by_credential = check(credential=pasted)
        assert by_credential.status_code == 200
        assert headline(by_credential) == headline(by_code)
        assert "Αικατερίνη Παπαδοπούλου" in by_credential.get_data(as_text=True)
    if language == "de":
        assert headline(by_credential).startswith("Widerrufen")
    # The same as a file.
    uploaded = check(credential_file=(io.BytesIO(pasted.encode()), "credential.json"))
    assert headline(uploaded) == headline(by_code)

    changed = pasted.replace("Αικατερίνη", "Αικατερινη")
    assert headline(check(credential=changed)) != headline(by_code)
    assert "Not authentic" in check(credential=changed).get_data(as_text=True) or language == "de"
    # Bad input keeps what was typed and says what is wrong; nothing is a 500.
    typed = check(credential="{not json")
    assert typed.status_code == 422
    assert "{not json" in html.unescape(typed.get_data(as_text=True))
    assert check().status_code == 422


def test_each_body_offers_a_vc_jwt_whose_kid_the_served_key_set_resolves(
    app, client, bodies, eligible_candidate
):
    code = issued_jointly(bodies, eligible_candidate("Zoë Łukasiewicz"))
    credential = credential_of(client, code)
    key_set = client.get("/.well-known/jwks.json").get_json(force=True)
    for body in ("EFRS", "EuSoMII"):
        answer = bodies["office"].get(f"/certificates/{code}/credential?format=jwt&proof={body}")
        assert answer.status_code == 200 and answer.mimetype == "application/jwt"
        token = answer.get_data(as_text=True)
        kid = jwt.get_unverified_header(token)["kid"]
        assert kid == f"{DID}#{body.lower()}-2026"
        key = jwt.PyJWK(next(k for k in key_set["keys"] if k["kid"] == kid))
        claims = jwt.decode(token, key, algorithms=["EdDSA"])
        assert claims["iss"] == DID and claims["jti"] == credential["id"]
        assert claims["credentialSubject"] == credential["credentialSubject"]
        assert "proof" not in claims
        other = next(k for k in key_set["keys"] if k["kid"] != kid)
        with pytest.raises(jwt.InvalidSignatureError):
            jwt.decode(token, jwt.PyJWK(other), algorithms=["EdDSA"])
    assert_error(
        bodies["office"].get(f"/certificates/{code}/credential?format=jwt"), 422, "invalid"
    )


def test_certificates_issued_before_credentials_get_one_from_the_command(
    app, api, eligible_candidate
):
    response = api.post(
        "/certificates", {"candidate_id": eligible_candidate(), "programme": "EII-C"}
    )
    code = response.get_json()["code"]
    with app.app_context():
        db.session.execute(sa.delete(IssuedCredential))  # as before this release
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["issue-credentials"])
    assert result.exit_code == 0 and "1 credentials issued." in result.output
    assert app.test_cli_runner().invoke(args=["issue-credentials"]).output.startswith("0 ")
    answer = api.client.post(
        "/api/v1/verify/credential", json=credential_of(api.client, code)
    ).get_json()
    assert (answer["authentic"], answer["status"]) == (True, "valid")


def test_the_achievement_and_its_image_are_served_where_the_credential_names_them(
    app, client, bodies, eligible_candidate
):
    code = issued_jointly(bodies, eligible_candidate())
    named = credential_of(client, code)["credentialSubject"]["achievement"]
    served = client.get(named["id"].removeprefix(SITE))
    assert served.status_code == 200 and served.mimetype == "application/ld+json"
    achievement = json.loads(served.get_data())
    assert achievement["@context"][0] == "https://www.w3.org/ns/credentials/v2"
    assert {k: v for k, v in achievement.items() if k != "@context"} == named
    image = client.get(named["image"]["id"].removeprefix(SITE))
    assert image.status_code == 200 and image.mimetype == "image/png"
    image.close()
    assert client.get("/credentials/achievements/NO-SUCH").status_code == 404


def test_a_full_status_list_refuses_the_next_credential_instead_of_drawing_forever(
    app, api, eligible_candidate, monkeypatch
):
    from certification.credentials import services

    first = api.post("/certificates", {"candidate_id": eligible_candidate(), "programme": "EII-C"})
    assert first.status_code == 201
    with app.app_context():
        taken = db.session.scalar(sa.select(IssuedCredential.status_index))
        # As a list with no index left: every draw lands on a taken one.
        monkeypatch.setattr(services, "_status_draw", lambda _code, _attempt: taken)
        with pytest.raises(RuntimeError, match="hardly a free index"):
            services._unused_status_index("EIC-NEXT")
