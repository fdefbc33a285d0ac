"""A body's seal key in a hardware security module (PKCS#11), here SoftHSM2: EFRS seals
from a token, EuSoMII from its PKCS#12 file, and both seals validate; a wrong PIN, a
missing token or module refuse issuing with 503 ``signing_not_configured``; both databases.

The SoftHSM2 tests need Debian's ``softhsm2`` (``.ci/run`` installs it); without it they
are skipped."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    pkcs12,
)
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from certification.certificates import settings
from certification.certificates.models import Certificate
from tests.conftest import another_app, assert_error, count_rows

MODULE = "/usr/lib/softhsm/libsofthsm2.so"
TOKEN = "EFRS seal"
PIN = "1234"
BODIES = [
    "European Federation of Radiographer Societies",
    "European Society of Medical Imaging Informatics",
]

needs_softhsm = pytest.mark.skipif(
    shutil.which("softhsm2-util") is None or not Path(MODULE).is_file(),
    reason="SoftHSM2 is not installed (apt-get install softhsm2; .ci/run does it)",
)


@pytest.fixture(scope="session")
def efrs_token(
    seal_keys: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Path]:
    """A SoftHSM2 token "EFRS seal" (PIN 1234) holding the demo EFRS seal key twice: as
    ``efrs-seal`` with its certificate, and as ``efrs-seal-bare`` without one (its
    certificate is the PEM file this fixture returns)."""
    folder = tmp_path_factory.mktemp("softhsm")
    (folder / "tokens").mkdir()
    conf = folder / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {folder / 'tokens'}\nobjectstore.backend = file\n")
    before = os.environ.get("SOFTHSM2_CONF")
    # Set before the module is first loaded in this process: SoftHSM reads it once.
    os.environ["SOFTHSM2_CONF"] = str(conf)

    p12 = Path(seal_keys["SEAL_KEYS"]["EFRS"]["pkcs12"]).read_bytes()
    key, certificate, _ = pkcs12.load_key_and_certificates(p12, None)
    assert key is not None and certificate is not None
    key_pem, cert_pem = folder / "efrs-key.pem", folder / "efrs-cert.pem"
    key_pem.write_bytes(key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    cert_pem.write_bytes(certificate.public_bytes(Encoding.PEM))

    def softhsm(*arguments: str) -> None:
        tool = shutil.which("softhsm2-util") or "softhsm2-util"
        subprocess.run([tool, *arguments], check=True, capture_output=True)  # noqa: S603  (fixed arguments)

    softhsm("--init-token", "--free", "--label", TOKEN, "--pin", PIN, "--so-pin", "5678")
    for label, key_id in (("efrs-seal", "01"), ("efrs-seal-bare", "02")):
        softhsm(
            "--import", str(key_pem), "--token", TOKEN, "--label", label, "--id", key_id,
            "--pin", PIN,
        )  # fmt: skip
    key_pem.unlink()  # from here on the key is only on the token

    import pkcs11
    from pkcs11 import Attribute
    from pkcs11.util.x509 import decode_x509_certificate

    with pkcs11.lib(MODULE).get_token(token_label=TOKEN).open(rw=True, user_pin=PIN) as session:
        template = decode_x509_certificate(certificate.public_bytes(Encoding.DER))
        template.update(
            {Attribute.TOKEN: True, Attribute.LABEL: "efrs-seal", Attribute.ID: b"\x01"}
        )
        session.create_object(template)
    yield cert_pem
    if before is None:
        os.environ.pop("SOFTHSM2_CONF", None)
    else:
        os.environ["SOFTHSM2_CONF"] = before


@pytest.fixture
def efrs_in_hsm(app, seal_keys, efrs_token, monkeypatch) -> Any:
    """EFRS on the token, EuSoMII on its PKCS#12 file; returns a function that changes the
    EFRS entry's PKCS#11 settings."""
    monkeypatch.setenv("EFRS_SEAL_PIN", PIN)

    def configure(**token: str) -> None:
        app.config["SEAL_KEYS"] = {
            "EFRS": {
                "pkcs11": {
                    "module": MODULE,
                    "token": TOKEN,
                    "key": "efrs-seal",
                    "pin_env": "EFRS_SEAL_PIN",
                    **token,
                }
            },
            "EuSoMII": seal_keys["SEAL_KEYS"]["EuSoMII"],
        }

    configure()
    return configure


def verify_upload(client: Any, pdf: bytes) -> dict[str, Any]:
    boundary, body = encode_multipart({"file": FileStorage(io.BytesIO(pdf), "certificate.pdf")})
    response = client.post(
        "/api/v1/verify/pdf", data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )
    assert response.status_code == 200
    return response.get_json()


@needs_softhsm
@pytest.mark.parametrize("certificate_on_token", [True, False])
def test_one_body_seals_from_an_hsm_and_the_other_from_its_file_and_both_validate(
    app, client, api, efrs_in_hsm, efrs_token, eligible_candidate, certificate_on_token
):
    if not certificate_on_token:
        efrs_in_hsm(key="efrs-seal-bare", cert=str(efrs_token))
    response = api.post(
        "/certificates", {"candidate_id": eligible_candidate(), "programme": "EII-C"}
    )
    assert response.status_code == 201, response.get_json()
    code = response.get_json()["code"]

    pdf = api.get(f"/certificates/{code}/pdf").data
    answer = verify_upload(client, pdf)
    seals = [{"signer": s["signer"], "valid": s["valid"]} for s in answer.pop("signatures")]
    # A document timestamp when a timestamp authority is configured (none by default here).
    assert all(stamp["valid"] for stamp in answer.pop("timestamps"))
    assert answer == {
        "authentic": True,
        "code": code,
        "status": "valid",
        "changed_after_sealing": False,
    }
    assert seals == [{"signer": BODIES[0], "valid": True}, {"signer": BODIES[1], "valid": True}]


@needs_softhsm
def test_a_wrong_pin_is_a_503_naming_the_body_and_issues_nothing(
    app, api, efrs_in_hsm, eligible_candidate, monkeypatch
):
    candidate_id = eligible_candidate()
    monkeypatch.setenv("EFRS_SEAL_PIN", "9999")
    for _ in range(2):  # the same wrong PIN is not tried on the token again, still refused
        refusal = assert_error(
            api.post("/certificates", {"candidate_id": candidate_id, "programme": "EII-C"}),
            503,
            "signing_not_configured",
        )
        assert (
            "The EFRS seal token 'EFRS seal' refused the PIN in EFRS_SEAL_PIN" in refusal["message"]
        )
        assert "9999" not in refusal["message"]
    assert count_rows(app, Certificate) == 0

    monkeypatch.setenv("EFRS_SEAL_PIN", PIN)  # put right: issuing works again
    response = api.post("/certificates", {"candidate_id": candidate_id, "programme": "EII-C"})
    assert response.status_code == 201, response.get_json()
    assert count_rows(app, Certificate) == 1


@needs_softhsm
def test_a_token_session_lost_while_sealing_is_a_503_and_the_next_issue_logs_in_again(
    app, api, efrs_in_hsm, eligible_candidate
):
    """An HSM restarted under a running app: the session the process kept is gone. That
    certificate is refused (nothing stored), and the next one opens a new session."""
    first, second = eligible_candidate("Jan Novák"), eligible_candidate("Ana Horvat")
    assert (
        api.post("/certificates", {"candidate_id": first, "programme": "EII-C"}).status_code == 201
    )
    for _, signer in settings._token_signers.values():
        signer.pkcs11_session.close()  # as a restarted HSM would forget it

    refusal = assert_error(
        api.post("/certificates", {"candidate_id": second, "programme": "EII-C"}),
        503,
        "signing_not_configured",
    )
    assert "The token behind the EFRS-seal signature stopped answering" in refusal["message"]
    assert count_rows(app, Certificate) == 1
    response = api.post("/certificates", {"candidate_id": second, "programme": "EII-C"})
    assert response.status_code == 201, response.get_json()
    assert count_rows(app, Certificate) == 2


@needs_softhsm
@pytest.mark.parametrize(
    ("change", "said"),
    [
        ({"token": "No such token"}, "The EFRS seal token 'No such token' cannot be opened"),
        (
            {"module": "/nonexistent/libpkcs11.so"},
            "PKCS#11 module /nonexistent/libpkcs11.so does not exist",
        ),
        ({"key": "no-such-key"}, "has no usable key 'no-such-key'"),
        (
            {"pin_env": "NO_SUCH_PIN_VARIABLE"},
            "the environment variable NO_SUCH_PIN_VARIABLE is empty",
        ),
    ],
)
def test_a_missing_token_module_key_or_pin_is_a_503_and_issues_nothing(
    app, api, efrs_in_hsm, eligible_candidate, change, said
):
    efrs_in_hsm(**change)
    refusal = assert_error(
        api.post("/certificates", {"candidate_id": eligible_candidate(), "programme": "EII-C"}),
        503,
        "signing_not_configured",
    )
    assert said in refusal["message"]
    assert count_rows(app, Certificate) == 0


@pytest.mark.parametrize(
    ("entry", "said"),
    [
        (
            {"pkcs11": {"module": MODULE, "token": TOKEN, "key": "k", "pin": PIN}},
            "must not hold the PIN",
        ),
        ({"pkcs11": {"module": MODULE, "token": TOKEN}}, "lacks key, pin_env"),
        (
            {"pkcs11": {"module": MODULE, "token": TOKEN, "key": "k", "pin_env": "P", "slot": "1"}},
            "has unknown keys slot",
        ),
        ({"pkcs12": "efrs.p12", "pkcs11": {}}, 'needs exactly one of "pkcs12" or "pkcs11"'),
        ("efrs.p12", 'needs exactly one of "pkcs12" or "pkcs11"'),
        ({"pkcs12": "efrs.p12", "passphrase": 1234}, 'needs "passphrase" to be text or null'),
    ],
)
def test_a_malformed_seal_entry_stops_the_app_at_start_saying_the_form(app, entry, said):
    with pytest.raises(RuntimeError) as stopped:
        another_app(app, SEAL_KEYS={"EFRS": entry})
    message = str(stopped.value)
    assert message.startswith(f"SEAL_KEYS['EFRS'] {said}")
    assert '{"pkcs11": {"module":' in message and '"pin_env"' in message


def test_two_bodies_on_one_token_or_unreadable_seal_keys_stop_the_app_without_secrets(app):
    on_one_token = {
        body: {"pkcs11": {"module": MODULE, "token": TOKEN, "key": key, "pin_env": "P"}}
        for body, key in (("EFRS", "efrs-seal"), ("EuSoMII", "eusomii-seal"))
    }
    with pytest.raises(RuntimeError, match="each body's seal key must be on a token of its own"):
        another_app(app, SEAL_KEYS=on_one_token)
    # Broken JSON in the environment arrives as text: it may hold a passphrase, never echoed.
    with pytest.raises(RuntimeError) as stopped:
        another_app(app, SEAL_KEYS='{"EFRS": {"pkcs12": "e.p12", "passphrase": "s3cret"')
    assert "s3cret" not in str(stopped.value) and "got str" in str(stopped.value)
