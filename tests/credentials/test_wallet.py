"""A holder takes their credential into a wallet: OpenID for Verifiable Credential Issuance
1.0, pre-authorised code flow, played here by the test as a wallet would (PyJWT for its key
proof), and the ways it must fail."""

from __future__ import annotations

import base64
import datetime as dt
import html
import json
import re
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from openbadgeslib.ob3.did import did_jwk_from_jwk
from openvc.openid4vci import parse_credential_issuer_metadata
from PIL import Image, ImageDraw

from certification.audit import AuditEvent
from certification.auth.qr_svg import qr_svg
from certification.credentials.models import WalletDelivery, WalletGrant
from certification.credentials.proofs import check_proofs
from certification.credentials.services import current_issuer, verify_credential
from certification.credentials.wallet import wallet_issuer
from certification.extensions import db
from certification.types import utcnow
from tests.certificates.test_approvals import REASON, issued_jointly
from tests.conftest import log_in
from tests.credentials.test_credentials import credential_of, proof_holds

SITE = "https://certificates.example.org"
PRE_AUTHORIZED = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
CONFIGURATION = "OpenBadgeCredential_ldp_vc"


# ---------------------------------------------------------------- the wallet's side


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def wallet_key(alg: str = "EdDSA") -> tuple[Any, dict[str, str]]:
    if alg == "EdDSA":
        private = ed25519.Ed25519PrivateKey.generate()
        return private, {
            "kty": "OKP",
            "crv": "Ed25519",
            "x": b64url(private.public_key().public_bytes_raw()),
        }
    private_ec = ec.generate_private_key(ec.SECP256R1())
    numbers = private_ec.public_key().public_numbers()
    return private_ec, {
        "kty": "EC",
        "crv": "P-256",
        "x": b64url(numbers.x.to_bytes(32, "big")),
        "y": b64url(numbers.y.to_bytes(32, "big")),
    }


def key_proof(
    key: tuple[Any, dict[str, str]],
    *,
    nonce: str | None,
    aud: str = SITE,
    alg: str = "EdDSA",
    typ: str = "openid4vci-proof+jwt",
) -> str:
    """The wallet's proof of possession (no ``iss``: the pre-authorised flow is anonymous)."""
    claims: dict[str, Any] = {"aud": aud, "iat": int(time.time())}
    if nonce is not None:
        claims["nonce"] = nonce
    return jwt.encode(claims, key[0], algorithm=alg, headers={"typ": typ, "jwk": key[1]})


def offer_on_the_page(client, code: str) -> tuple[str, str]:
    """Press "Add to a digital wallet": the page, and the offer's link as shown."""
    response = client.post(f"/me/certificates/{code}/wallet")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    link = re.search(r'<a [^>]*href="([^"]*)" id="wallet-offer-link"', page)
    assert link, page
    return page, html.unescape(link[1])


def scanned(page: str, folder: Path) -> str:
    """What a phone's camera reads from the page's QR code: its SVG drawn as pixels (each
    module 8 px, a quiet zone of 4 modules) and decoded by zbar."""
    svg = re.search(r'<svg[^>]*viewBox="0 0 (\d+) \1".*?<path d="([^"]*)"', page, re.S)
    assert svg, page
    side, scale, quiet = int(svg[1]), 8, 4
    image = Image.new("L", ((side + 2 * quiet) * scale,) * 2, 255)
    draw = ImageDraw.Draw(image)
    for column, row, length in re.findall(r"M(\d+),(\d+)h(\d+)", svg[2]):
        left, top = (int(column) + quiet) * scale, (int(row) + quiet) * scale
        draw.rectangle((left, top, left + int(length) * scale - 1, top + scale - 1), fill=0)
    image.save(folder / "offer.png")
    decoded = subprocess.run(  # noqa: S603 - our own image
        ["zbarimg", "--quiet", "--raw", str(folder / "offer.png")],  # noqa: S607
        check=True,
        capture_output=True,
        text=True,
    )
    return decoded.stdout.strip()


def code_in(uri: str) -> str:
    assert uri.startswith("openid-credential-offer://?credential_offer=")
    offer = json.loads(parse_qs(urlsplit(uri).query)["credential_offer"][0])
    assert offer["credential_issuer"] == SITE
    assert offer["credential_configuration_ids"] == [CONFIGURATION]
    return offer["grants"][PRE_AUTHORIZED]["pre-authorized_code"]


def token_for(client, code: str):
    return client.post(
        "/oid4vci/token", data={"grant_type": PRE_AUTHORIZED, "pre-authorized_code": code}
    )


def nonce(client) -> str:
    response = client.post("/oid4vci/nonce")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    return response.get_json()["c_nonce"]


def ask_credential(client, token: str | None, proof: str, configuration: str = CONFIGURATION):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    body = {"credential_configuration_id": configuration, "proofs": {"jwt": [proof]}}
    return client.post("/oid4vci/credential", json=body, headers=headers)


def error_of(response) -> str:
    assert response.headers["Cache-Control"] == "no-store"
    answer = response.get_json()
    assert set(answer) == {"error", "error_description"}, answer
    return answer["error"]


@pytest.fixture
def holder(app, client, bodies, eligible_candidate) -> str:
    """A jointly approved certificate's code; its holder logged in on ``client``."""
    code = issued_jointly(bodies, eligible_candidate("Zoë Łukasiewicz"))
    log_in(client, "eligible1@example.org")
    return code


def redeemed(client, code: str) -> str:
    _, uri = offer_on_the_page(client, code)
    response = token_for(client, code_in(uri))
    assert response.status_code == 200, response.get_json()
    return response.get_json()["access_token"]


# ---------------------------------------------------------------- the whole flow


@pytest.mark.parametrize("alg", ["EdDSA", "ES256"])
def test_a_wallet_takes_the_credential_bound_to_its_key(app, client, holder, alg, today, tmp_path):
    code = holder
    page = client.get("/me/").get_data(as_text=True)
    assert f'action="/me/certificates/{code}/wallet"' in page
    assert "Add to a digital wallet" in page

    page, uri = offer_on_the_page(client, code)
    assert 'role="img" aria-label="QR code to scan with your digital wallet"' in page
    assert "valid for 10 minutes and works once" in page
    # The QR code is the link's own text, encoded; and a camera reads it back.
    assert str(qr_svg(uri, label="QR code to scan with your digital wallet")) in page
    if shutil.which("zbarimg"):
        assert scanned(page, tmp_path) == uri
    pre_authorized_code = code_in(uri)

    metadata = client.get("/.well-known/openid-credential-issuer")
    assert metadata.status_code == 200
    issuer = metadata.get_json()
    parse_credential_issuer_metadata(issuer)
    assert issuer["credential_issuer"] == SITE
    assert issuer["credential_configurations_supported"][CONFIGURATION]["format"] == "ldp_vc"
    server = client.get("/.well-known/oauth-authorization-server").get_json()
    assert server["token_endpoint"] == f"{SITE}/oid4vci/token"
    assert issuer["credential_endpoint"] == f"{SITE}/oid4vci/credential"

    token = client.post(
        urlsplit(server["token_endpoint"]).path,
        data={"grant_type": PRE_AUTHORIZED, "pre-authorized_code": pre_authorized_code},
    )
    assert token.status_code == 200, token.get_json()
    assert token.headers["Cache-Control"] == "no-store"
    assert token.get_json()["token_type"] == "Bearer"
    access = token.get_json()["access_token"]

    c_nonce = client.post(urlsplit(issuer["nonce_endpoint"]).path).get_json()["c_nonce"]
    key = wallet_key(alg)
    proof = key_proof(key, nonce=c_nonce, aud=issuer["credential_issuer"], alg=alg)
    answer = ask_credential(client, access, proof)
    assert answer.status_code == 200, answer.get_json()
    assert answer.headers["Cache-Control"] == "no-store"
    credential = answer.get_json()["credentials"][0]["credential"]

    # Bound to the wallet's key; otherwise the stored credential, signed by both bodies.
    assert credential["credentialSubject"]["id"] == did_jwk_from_jwk(key[1])
    stored = credential_of(client, code)
    bare = {k: v for k, v in credential.items() if k != "proof"}
    bare["credentialSubject"] = {
        k: v for k, v in credential["credentialSubject"].items() if k != "id"
    }
    assert bare == {k: v for k, v in stored.items() if k != "proof"}
    did_document = client.get("/.well-known/did.json").get_json(force=True)
    assert [p["verificationMethod"] for p in credential["proof"]] == [
        p["verificationMethod"] for p in stored["proof"]
    ]
    assert all(proof_holds(credential, p, did_document) for p in credential["proof"])
    with app.app_context():
        served = current_issuer()
        checks = check_proofs(credential, served.did, served.did_document, served.keys)
        assert [(c.body, c.valid) for c in checks] == [("EFRS", True), ("EuSoMII", True)]
        verdict = verify_credential(credential, today)
        assert verdict.authentic and verdict.status is not None
        assert verdict.status.value == "valid"
        assert verdict.problems == []
        delivery = db.session.get(WalletDelivery, _grant_ids(app)[0])
        assert delivery is not None and delivery.holder_did == did_jwk_from_jwk(key[1])
        assert (
            db.session.scalar(
                sa.select(sa.func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "credential.wallet_delivered")
            )
            == 1
        )

    # The answer lost, the wallet asks again with the same key: the same document.
    again = ask_credential(client, access, key_proof(key, nonce=nonce(client), alg=alg))
    assert again.status_code == 200
    assert again.get_json()["credentials"][0]["credential"] == credential

    # The code works once; using it again also ends the token it bought.
    second = token_for(client, pre_authorized_code)
    assert (second.status_code, error_of(second)) == (400, "invalid_grant")
    after = ask_credential(client, access, key_proof(key, nonce=nonce(client), alg=alg))
    assert (after.status_code, error_of(after)) == (401, "invalid_token")


def _grant_ids(app) -> list[str]:
    return list(db.session.scalars(sa.select(WalletGrant.grant_id)))


# ---------------------------------------------------------------- what must fail


def test_a_replayed_nonce_a_wrong_audience_another_key_and_no_token_are_refused(client, holder):
    access = redeemed(client, holder)
    key = wallet_key()

    no_token = ask_credential(client, None, key_proof(key, nonce=nonce(client)))
    assert (no_token.status_code, error_of(no_token)) == (401, "invalid_token")
    assert no_token.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    unknown = ask_credential(client, "not-a-token", key_proof(key, nonce=nonce(client)))
    assert (unknown.status_code, error_of(unknown)) == (401, "invalid_token")

    wrong_audience = ask_credential(
        client, access, key_proof(key, nonce=nonce(client), aud="https://evil.example")
    )
    assert (wrong_audience.status_code, error_of(wrong_audience)) == (400, "invalid_proof")
    wrong_type = ask_credential(client, access, key_proof(key, nonce=nonce(client), typ="JWT"))
    assert (wrong_type.status_code, error_of(wrong_type)) == (400, "invalid_proof")
    without_nonce = ask_credential(client, access, key_proof(key, nonce=None))
    assert (without_nonce.status_code, error_of(without_nonce)) == (400, "invalid_nonce")
    other_configuration = ask_credential(
        client, access, key_proof(key, nonce=nonce(client)), configuration="Other_ldp_vc"
    )
    assert error_of(other_configuration) == "invalid_credential_request"

    proof = key_proof(key, nonce=nonce(client))
    assert ask_credential(client, access, proof).status_code == 200
    replayed = ask_credential(client, access, proof)
    assert (replayed.status_code, error_of(replayed)) == (400, "invalid_nonce")

    other_key = ask_credential(client, access, key_proof(wallet_key(), nonce=nonce(client)))
    assert (other_key.status_code, error_of(other_key)) == (400, "invalid_credential_request")


def test_an_expired_offer_is_refused(app, client, holder):
    app.config["WALLET_OFFER_SECONDS"] = 1
    page, uri = offer_on_the_page(client, holder)
    assert "valid for 1 minute and works once" in page
    time.sleep(1.2)
    expired = token_for(client, code_in(uri))
    assert (expired.status_code, error_of(expired)) == (400, "invalid_grant")
    wrong_grant_type = client.post(
        "/oid4vci/token", data={"grant_type": "password", "pre-authorized_code": "x"}
    )
    assert error_of(wrong_grant_type) == "invalid_request"


def test_a_new_offer_cancels_the_one_before(client, holder):
    _, first = offer_on_the_page(client, holder)
    _, second = offer_on_the_page(client, holder)
    assert error_of(token_for(client, code_in(first))) == "invalid_grant"
    assert token_for(client, code_in(second)).status_code == 200


def test_a_certificate_suspended_between_offer_and_redemption_is_not_delivered(
    app, client, bodies, holder
):
    access = redeemed(client, holder)
    suspended = bodies["EFRS"].post(f"/certificates/{holder}/revoke", {"reason": REASON})
    assert suspended.status_code == 200
    key = wallet_key()
    proof = key_proof(key, nonce=nonce(client))
    denied = ask_credential(client, access, proof)
    assert (denied.status_code, error_of(denied)) == (400, "credential_request_denied")
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(WalletDelivery)) == 0
    # Nor is a new offer made, nor offered on the page.
    assert client.post(f"/me/certificates/{holder}/wallet").status_code == 409
    assert "Add to a digital wallet" not in client.get("/me/").get_data(as_text=True)

    # Reinstated, the certificate is delivered again; the refused request's nonce stays
    # spent although that request's transaction was rolled back.
    reinstated = bodies["EuSoMII"].post(f"/certificates/{holder}/reinstate", {"reason": REASON})
    assert reinstated.status_code == 200
    assert error_of(ask_credential(client, access, proof)) == "invalid_nonce"
    assert ask_credential(client, access, key_proof(key, nonce=nonce(client))).status_code == 200


def test_two_wallets_racing_with_one_code_one_wins(app, client, holder):
    _, uri = offer_on_the_page(client, holder)
    code = code_in(uri)
    start = threading.Barrier(2)
    statuses: list[int] = []

    def redeem() -> None:
        wallet = app.test_client()
        start.wait()
        statuses.append(token_for(wallet, code).status_code)

    threads = [threading.Thread(target=redeem) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 400]


def test_two_redemptions_racing_in_the_store_one_wins(app, client, holder):
    """The store's own decision, without the HTTP around it: one conditional UPDATE each."""
    offer_on_the_page(client, holder)
    with app.app_context():
        grant_id = _grant_ids(app)[0]
        store = wallet_issuer().store
    start = threading.Barrier(8)
    won: list[bool] = []

    def redeem() -> None:
        with app.app_context():
            start.wait()
            won.append(store.redeem_grant(grant_id, now=utcnow()))

    threads = [threading.Thread(target=redeem) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(won) == [False] * 7 + [True]


def test_only_the_holder_makes_an_offer(app, client, bodies, eligible_candidate):
    code = issued_jointly(bodies, eligible_candidate("Alice Example"))
    eligible_candidate("Bob Example")
    anonymous = client.post(f"/me/certificates/{code}/wallet")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    log_in(client, "eligible2@example.org")
    assert client.post(f"/me/certificates/{code}/wallet").status_code == 404
    with app.app_context():
        assert _grant_ids(app) == []


def test_without_https_there_are_no_wallets(app, client, holder):
    app.config["PUBLIC_BASE_URL"] = "http://127.0.0.1:5000"
    assert "Add to a digital wallet" not in client.get("/me/").get_data(as_text=True)
    assert client.post(f"/me/certificates/{holder}/wallet").status_code == 404
    assert client.get("/.well-known/openid-credential-issuer").status_code == 404
    assert client.get("/.well-known/oauth-authorization-server").status_code == 404
    for endpoint in ("token", "nonce", "credential"):
        assert client.post(f"/oid4vci/{endpoint}").status_code == 404


def test_the_wallet_endpoints_are_rate_limited_per_client(second_app):
    limited = second_app(
        RATELIMIT_ENABLED=True,
        RATELIMIT_STORAGE_URI="memory://",
        PUBLIC_BASE_URL=SITE,
        WALLET_RATE_LIMIT="3 per minute",
    )
    wallet = limited.test_client()
    assert [wallet.post("/oid4vci/nonce").status_code for _ in range(2)] == [200, 200]
    assert wallet.post("/oid4vci/token", data={}).status_code == 400
    assert wallet.post("/oid4vci/credential").status_code == 429
    # What a wallet only reads is not counted.
    assert wallet.get("/.well-known/openid-credential-issuer").status_code == 200


def test_expired_state_is_purged_but_issued_grants_are_kept(app, client, holder):
    access = redeemed(client, holder)
    assert (
        ask_credential(client, access, key_proof(wallet_key(), nonce=nonce(client))).status_code
        == 200
    )
    offer_on_the_page(client, holder)  # a second grant, never redeemed
    with app.app_context():
        store = wallet_issuer().store
        later = utcnow() + dt.timedelta(hours=1)
        stats = store.purge_expired(now=later)
        assert (stats.grants, stats.tokens, stats.nonces, stats.more) == (1, 1, 1, False)
        assert db.session.scalars(sa.select(WalletGrant.state)).all() == ["issued"]


def test_each_step_may_reach_another_host(client, holder, second_app, seal_keys):
    """Nothing lives in one process: a nonce from one host is good on another (the key is
    derived from the shared SECRET_KEY), and so is the token."""
    # Its rate limit off: the limiter is one object across the apps of a test process, and
    # this test is about shared state, not limits (the test above is about those).
    other = second_app(PUBLIC_BASE_URL=SITE, RATELIMIT_ENABLED=False, **seal_keys)
    other_host = other.test_client()
    access = redeemed(client, holder)
    answer = ask_credential(other_host, access, key_proof(wallet_key(), nonce=nonce(client)))
    assert answer.status_code == 200, answer.get_json()


def test_the_hourly_task_clears_offers_that_ran_out(app, client, holder):
    from certification.credentials.tasks import purge_expired_wallet_offers

    offer_on_the_page(client, holder)
    with app.app_context():
        db.session.execute(
            sa.update(WalletGrant).values(expires_at=utcnow() - dt.timedelta(minutes=1))
        )
        db.session.commit()
        purge_expired_wallet_offers.call_local()
        assert db.session.scalars(sa.select(WalletGrant)).all() == []
