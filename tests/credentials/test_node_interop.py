"""The credentials verify with another implementation than ours: Digital Bazaar's JavaScript
libraries (``@digitalbazaar/vc`` with ``DataIntegrityProof`` and ``eddsa-rdfc-2022``), run
by Node on the credential and the DID document exactly as this app serves them, with only
the pinned contexts (tests/interop/verify.mjs; its packages are pinned by
tests/interop/package-lock.json and installed by ``make test``)."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from importlib import resources
from pathlib import Path

import pytest

from certification.credentials.pinned import PINNED
from certification.credentials.proofs import proofs_of
from tests.certificates.test_approvals import bodies, issued_jointly  # noqa: F401
from tests.credentials.test_credentials import DID, credential_of

INTEROP = Path(__file__).resolve().parents[1] / "interop"
INSTALL = (
    "run `npm ci --prefix tests/interop` (make test and make test-fast do it when npm is there)"
)


def node() -> str:
    """Node, or a skip without it; wherever Node is, its packages must be installed."""
    found = shutil.which("node")
    if found is None:
        pytest.skip(
            "Node.js is not on PATH: install Node.js 20 or later with npm (e.g. apt-get install"
            f" nodejs npm, or from https://nodejs.org), then {INSTALL}"
        )
    if not (INTEROP / "node_modules" / "@digitalbazaar" / "vc").is_dir():
        pytest.fail(
            f"Node.js is here but tests/interop/node_modules is not: {INSTALL}", pytrace=False
        )
    return found


def node_verify(node_path: str, folder: Path, did_document: bytes, **credentials: bytes) -> dict:
    """verify.mjs's answer on each of ``credentials`` (bytes as served, by name), in one
    run of Node, against ``did_document``."""
    (folder / "did.json").write_bytes(did_document)
    (folder / "pinned.json").write_text(json.dumps(PINNED))
    for name, credential in credentials.items():
        (folder / f"{name}.json").write_bytes(credential)
    contexts = resources.files("certification.credentials") / "contexts"
    command = [
        node_path,
        str(INTEROP / "verify.mjs"),
        str(folder / "did.json"),
        str(contexts),
        str(folder / "pinned.json"),
        *(str(folder / f"{name}.json") for name in credentials),
    ]
    done = subprocess.run(  # noqa: S603 - our own script, on our own files
        command, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode in (0, 1), done.stdout + done.stderr
    answers = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(answers) == len(credentials), done.stdout + done.stderr
    assert (done.returncode == 0) == all(a["allProofsVerified"] for a in answers)
    return dict(zip(credentials, answers, strict=True))


def test_each_proof_verifies_with_digital_bazaars_libraries(
    app,
    client,
    bodies,  # noqa: F811
    eligible_candidate,
    tmp_path,
):
    node_path = node()
    code = issued_jointly(bodies, eligible_candidate("Zoë Łukasiewicz-Παπαδοπούλου"))
    served = client.get(f"/credentials/{code}", headers={"Accept": "application/ld+json"})
    assert served.status_code == 200
    did_response = client.get("/.well-known/did.json")
    assert did_response.status_code == 200
    did_document = did_response.get_data()
    assert json.loads(did_document)["id"] == DID  # did:web:host is served at /.well-known/

    # The credential as served, with both proofs; each body's proof alone; and the
    # credential with one character of the holder's name changed.
    credentials = {"both": served.get_data()}
    for body, key_id in (("EFRS", "efrs-2026"), ("EuSoMII", "eusomii-2026")):
        with app.app_context():
            alone = bodies["office"].get(f"/certificates/{code}/credential?proof={body}")
        assert alone.status_code == 200, alone.get_data(as_text=True)
        proofs = proofs_of(json.loads(alone.get_data()))  # one proof, as an object or a list
        assert [p["verificationMethod"] for p in proofs] == [f"{DID}#{key_id}"]
        credentials[body] = alone.get_data()
    changed = copy.deepcopy(credential_of(client, code))
    changed["credentialSubject"]["name"] = "Zoe Łukasiewicz-Παπαδοπούλου"
    credentials["changed"] = json.dumps(changed, ensure_ascii=False).encode()

    answers = node_verify(node_path, tmp_path, did_document, **credentials)

    both = answers["both"]
    assert both["verified"] and both["allProofsVerified"], both
    assert [(p["verificationMethod"], p["verified"]) for p in both["proofs"]] == [
        (f"{DID}#efrs-2026", True),
        (f"{DID}#eusomii-2026", True),
    ], both
    for body, key_id in (("EFRS", "efrs-2026"), ("EuSoMII", "eusomii-2026")):
        alone = answers[body]
        assert alone["verified"] and alone["allProofsVerified"], alone
        assert [(p["verificationMethod"], p["verified"]) for p in alone["proofs"]] == [
            (f"{DID}#{key_id}", True)
        ], alone
    # The library says "verified" when any proof of a set holds: each is checked.
    tampered = answers["changed"]
    assert not tampered["verified"] and not tampered["allProofsVerified"], tampered
    assert [p["verified"] for p in tampered["proofs"]] == [False, False], tampered
    assert all("Invalid signature" in (p["error"] or "") for p in tampered["proofs"]), tampered
