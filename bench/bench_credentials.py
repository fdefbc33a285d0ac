"""What the Open Badges 3.0 credentials cost: signing, checking, and the status lists.

Run: ``.venv/bin/python bench/bench_credentials.py`` (under a minute). Not a test: it prints
milliseconds (median, min and max of N or N_SLOW runs after a warm-up, garbage collection
off), each beside a baseline measured in the same run where there is one:

1. signing both bodies' ``eddsa-rdfc-2022`` proofs of one credential (``body_proof`` for
   each, then ``with_proofs``), against two plain Ed25519 signatures over the same
   document's JSON bytes: the ratio is what the JSON-LD expansion and the RDF
   canonicalisation cost; and the first signing in a fresh process (pyld and the pinned
   contexts loading), in COLD_PROCESSES new interpreters;
2. checking both proofs of a credential (``check_proofs``), as issued and with one
   character of the holder's name changed, against two plain Ed25519 verifications;
3. a status list of ``STATUS_LIST_SIZE`` entries with 0, 1,000 and 10,000 set bits:
   the bitstring built, gzipped and base64url-encoded (``encode_bitstring``), both
   bodies' proofs over the list credential (``body_proof`` each), and the whole
   regeneration (``services.status_list``, its bits and issuer given directly rather than
   read from a database), with the sizes.

The credential is built by hand from plausible facts (a Greek-Polish holder, a diploma of
30 ECTS at EQF 6) with ``open_badge``; the keys are made with ``make_credential_key`` in a
temporary folder and read with ``keys_from``. No database, no Flask app.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import importlib.metadata
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from machine import describe
from machine import measure as timed  # this folder's, beside the script

N = 200  # signing
N_SLOW = 60  # checking and status lists, the slower rows, to stay within a minute
WARM_UP = 10
COLD_PROCESSES = 3
SET_BITS = (0, 1_000, 10_000)
SITE = "https://certificates.example.org"
DID = "did:web:certificates.example.org"
HOLDER = "Αικατερίνη Παπαδοπούλου-Wiśniewska"
KEY_SETTING = {
    "EFRS": [{"id": "efrs-2026", "key": "efrs-2026.credential.pem"}],
    "EuSoMII": [{"id": "eusomii-2026", "key": "eusomii-2026.credential.pem"}],
}


def measure(work: Callable[[], object], runs: int = N) -> list[float]:
    return timed(work, runs, WARM_UP)


# ------------------------------------------------------------------ the credential


def make_keys(folder: Path) -> tuple[Any, ...]:
    """Each body's signing key, made in ``folder`` and read back as the app reads them."""
    from certification.credentials.keys import keys_from, make_credential_key

    for entries in KEY_SETTING.values():
        for entry in entries:
            make_credential_key(folder / entry["key"])
    return keys_from(KEY_SETTING, lambda path: folder / path)


def facts() -> Any:
    """What a certificate issued on 1 March 2026 would state."""
    from certification.credentials.document import (
        AchievementFacts,
        AwardingBody,
        CredentialFacts,
    )
    from certification.credentials.services import PROGRAMME_NAME

    code = "EII-D-2026-00417"
    salt = "5f0c2a9e7b1d4c3f8a6e2b0d9c7f1e3a"
    email = "aikaterini.papadopoulou@example.gr"
    issued = dt.datetime(2026, 3, 1, 10, 30, tzinfo=dt.UTC)
    return CredentialFacts(
        code=code,
        credential_url=f"{SITE}/credentials/{code}",
        issuer_did=DID,
        site_url=SITE,
        programme_name=PROGRAMME_NAME,
        bodies=(
            AwardingBody("EFRS", "European Federation of Radiographer Societies"),
            AwardingBody("EuSoMII", "European Society of Medical Imaging Informatics"),
        ),
        holder_name=HOLDER,
        identity_hash="sha256$" + hashlib.sha256((email + salt).encode()).hexdigest(),
        identity_salt=salt,
        achievement=AchievementFacts(
            url=f"{SITE}/credentials/achievements/EII-D",
            title="European Diploma in Imaging Informatics",
            achievement_type="Diploma",
            description="The European Diploma in Imaging Informatics, awarded jointly by EFRS"
            " and EuSoMII.",
            criteria="Awarded to a candidate who meets every requirement: at least 30 ECTS"
            " credits in total; at least 10 ECTS credits in AI & Data Science; at least 5 ECTS"
            " credits in Standards & Interoperability; the Diploma Examination passed.",
            credits_required=Decimal(30),
            eqf_level=6,
            image_url=f"{SITE}/static/credentials/badge.png",
        ),
        credits_earned=Decimal("32.5"),
        issued_at=issued,
        valid_until=dt.datetime(2031, 3, 1, 22, 59, 59, tzinfo=dt.UTC),
        status_list_urls={
            p: f"{SITE}/credentials/status/{p}" for p in ("revocation", "suspension")
        },
        status_index=48_213,
    )


def ed25519_keys(keys: tuple[Any, ...]) -> list[Any]:
    """The same keys as loaded ``cryptography`` objects, for the plain baseline."""
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    return [load_pem_private_key(key.private_pem, password=None) for key in keys]


# ------------------------------------------------------------------ a fresh process


def cold(folder: Path) -> None:
    """In a new interpreter: import, then sign both proofs twice; prints the three times."""
    start = time.perf_counter()
    from certification.credentials.document import open_badge
    from certification.credentials.proofs import body_proof

    imported = time.perf_counter()
    from certification.credentials.keys import keys_from

    keys = keys_from(KEY_SETTING, lambda path: folder / path)
    document = open_badge(facts())
    made = facts().issued_at
    timings = []
    for _ in range(2):
        begin = time.perf_counter()
        [body_proof(document, key, DID, created=made) for key in keys]
        timings.append((time.perf_counter() - begin) * 1000)
    print(
        json.dumps({"import": (imported - start) * 1000, "first": timings[0], "next": timings[1]})
    )


def cold_runs(folder: Path) -> list[dict[str, float]]:
    runs = []
    for _ in range(COLD_PROCESSES):
        out = subprocess.run(  # noqa: S603 - this script, with this interpreter
            [sys.executable, "-W", "ignore", __file__, "--cold", str(folder)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        runs.append(json.loads(out.strip().splitlines()[-1]))
    return runs


# ------------------------------------------------------------------ the report


def row(name: str, values: list[float], width: int) -> str:
    median = statistics.median(values)
    return f"{name:<{width}}  {median:8.2f}  {min(values):8.2f}  {max(values):8.2f}"


def main() -> None:
    from openbadgeslib.ob3.status_list import encode_bitstring

    from certification.credentials import services
    from certification.credentials.document import open_badge
    from certification.credentials.keys import did_document, signing_key
    from certification.credentials.proofs import body_proof, check_proofs, with_proofs

    with tempfile.TemporaryDirectory(prefix="bench-credentials-") as temporary:
        folder = Path(temporary)
        keys = make_keys(folder)
        cold_figures = cold_runs(folder)

    the_facts = facts()
    document = open_badge(the_facts)
    plain_keys = ed25519_keys(keys)
    published = did_document(DID, keys)

    def sign_both() -> dict[str, Any]:
        proofs = [body_proof(document, key, DID, created=the_facts.issued_at) for key in keys]
        return with_proofs(document, proofs)

    def plain_sign_both() -> list[bytes]:
        data = json.dumps(document, ensure_ascii=False).encode()
        return [key.sign(data) for key in plain_keys]

    signed = sign_both()
    tampered = copy.deepcopy(signed)
    tampered["credentialSubject"]["name"] = HOLDER.replace("ί", "ι", 1)
    assert all(check.valid for check in check_proofs(signed, DID, published, keys))
    assert not any(check.valid for check in check_proofs(tampered, DID, published, keys))
    plain_data = json.dumps(document, ensure_ascii=False).encode()
    plain_signatures = plain_sign_both()
    plain_public = [key.public_key() for key in plain_keys]

    def plain_verify_both() -> None:
        data = json.dumps(document, ensure_ascii=False).encode()
        for public, signature in zip(plain_public, plain_signatures, strict=True):
            public.verify(signature, data)

    signing = [
        ("baseline: two Ed25519 over the JSON bytes", measure(plain_sign_both)),
        (
            "one proof (body_proof, EFRS)",
            measure(lambda: body_proof(document, keys[0], DID, created=the_facts.issued_at)),
        ),
        ("both proofs (body_proof x2 + with_proofs)", measure(sign_both)),
    ]
    checking = [
        ("baseline: two Ed25519 verifications", measure(plain_verify_both, N_SLOW)),
        (
            "check_proofs, both proofs, as issued",
            measure(lambda: check_proofs(signed, DID, published, keys), N_SLOW),
        ),
        (
            "check_proofs, both proofs, tampered",
            measure(lambda: check_proofs(tampered, DID, published, keys), N_SLOW),
        ),
    ]

    # services.status_list as the app runs it, with its issuer and its bits given here
    # instead of read from the settings and the database.
    issuer = services.Issuer(SITE, DID, keys)
    services.current_issuer = lambda: issuer
    now = dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC)
    draw = random.Random(2026)
    lists = []
    for count in SET_BITS:
        bits = sorted(draw.sample(range(services.STATUS_LIST_SIZE), count))
        services.set_bits = lambda _purpose, bits=bits: bits

        def regenerate() -> services.StatusList:
            services._lists.clear()  # as after a status changed: built and signed again
            return services.status_list("revocation", now=now)

        encoded = encode_bitstring(bits, services.STATUS_LIST_SIZE)
        signed_list = regenerate()
        listed = json.loads(signed_list.body)
        assert listed["credentialSubject"]["encodedList"] == encoded
        assert len(listed["proof"]) == len(keys)
        gzipped = len(encoded[1:]) * 3 // 4  # unpadded base64url: 4 characters, 3 bytes
        unsigned = {key: value for key, value in listed.items() if key != "proof"}

        def sign_list(unsigned: dict[str, Any] = unsigned) -> list[dict[str, Any]]:
            # What status_list does once the list is encoded: each body's proof.
            return [
                body_proof(unsigned, signing_key(keys, body), DID, created=now)
                for body in sorted({key.body for key in keys})
            ]

        lists.append(
            (
                count,
                measure(
                    lambda bits=bits: encode_bitstring(bits, services.STATUS_LIST_SIZE), N_SLOW
                ),
                measure(sign_list, N_SLOW),
                measure(regenerate, N_SLOW),
                gzipped,
                len(signed_list.body),
            )
        )

    versions = (
        f"openbadgeslib {importlib.metadata.version('openbadgeslib')}",
        f"PyLD {importlib.metadata.version('pyld')}",
        f"cryptography {importlib.metadata.version('cryptography')}",
    )
    print(
        f"Open Badges 3.0 credentials: milliseconds, N={N} runs (signing) and {N_SLOW}"
        f" (checking, status lists) after {WARM_UP} warm-up runs"
    )
    print(f"Machine: {describe(*versions)}")
    print(
        f"Credential: {len(plain_data):,} bytes of JSON unsigned,"
        f" {len(json.dumps(signed, ensure_ascii=False).encode()):,} with both proofs"
    )
    width = max(len(name) for name, _ in (*signing, *checking)) + 2
    header = f"{'':<{width}}  {'median':>8}  {'min':>8}  {'max':>8}"

    print()
    print("1. Signing one credential")
    print(header)
    for name, values in signing:
        print(row(name, values, width))
    baseline = statistics.median(signing[0][1])
    both = statistics.median(signing[2][1])
    print(f"both proofs / baseline = {both:.2f} / {baseline:.3f} = {both / baseline:,.0f}x")
    print(f"In a fresh process ({COLD_PROCESSES} runs; import, then sign both proofs twice):")
    for number, figures in enumerate(cold_figures, start=1):
        print(
            f"  run {number}: import of the package {figures['import']:7.1f}   first signing"
            f" {figures['first']:7.1f}   second {figures['next']:6.1f}"
        )
    firsts = [figures["first"] for figures in cold_figures]
    print(
        f"  first (cold) signing, median {statistics.median(firsts):.1f} ="
        f" {statistics.median(firsts) / both:.1f}x the warm median"
    )

    print()
    print("2. Checking a credential's two proofs")
    print(header)
    for name, values in checking:
        print(row(name, values, width))
    baseline = statistics.median(checking[0][1])
    for name, values in checking[1:]:
        median = statistics.median(values)
        print(f"{name.split(', ')[-1]} / baseline = {median / baseline:,.0f}x")

    print()
    print(f"3. A status list of {services.STATUS_LIST_SIZE:,} entries, regenerated")
    print(
        f"{'set bits':>8}  {'encode_bitstring':>22}  {'both proofs':>22}  {'status_list':>22}"
        f"  {'gzip B':>6}  {'list B':>6}"
    )
    print(f"{'':>8}  " + "  ".join(f"{'median/min/max':>22}" for _ in range(3)))
    for count, encode, sign, whole, gzipped, body in lists:
        cells = "  ".join(
            f"{statistics.median(v):6.2f} / {min(v):5.2f} / {max(v):5.2f}".rjust(22)
            for v in (encode, sign, whole)
        )
        print(f"{count:>8,}  {cells}  {gzipped:>6,}  {body:>6,}")
    print(
        "encode_bitstring: build, gzip, base64url; both proofs: body_proof for each body over"
        " the list credential; status_list: the whole regeneration (encode, document, proofs,"
        " JSON; its cache emptied each time); gzip B: the gzipped bitstring; list B: the"
        " signed list credential as served"
    )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--cold"]:
        cold(Path(sys.argv[2]))
    else:
        main()
