"""Seals that still verify in twenty years: each seal timestamped, then the chains and
revocation data (DSS) and a document timestamp added (PAdES B-LTA), all from a local
time-stamping authority on the demo CA; and what a verifier is told about each."""

from __future__ import annotations

import datetime as dt
import io
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID
from flask import Flask
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from certification.auth.services import get_candidate
from certification.catalogue.services import get_programme
from certification.certificates.models import Certificate
from certification.certificates.services import issue_certificate
from certification.certificates.signing import (
    DOCUMENT_TIMESTAMP_FIELD,
    SigningNotConfigured,
    check_seals,
    load_trust_roots,
    make_demo_keys,
)
from certification.extensions import db
from tests.conftest import demo_keys_settings

BODIES = [
    "European Federation of Radiographer Societies",
    "European Society of Medical Imaging Informatics",
]
AUTHORITY = "Imaging Informatics Certification (demo)"
# The seal certificates in this module last two days; the authority and the CA ten years.
SEAL_VALIDITY = dt.timedelta(days=2)


@pytest.fixture(scope="module")
def seal_keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The demo CA, short-lived seals for both bodies, and the local time-stamping
    authority: the configuration of every app in this module."""
    return {
        **demo_keys_settings(
            tmp_path_factory.mktemp("long-term-keys"), seal_validity=SEAL_VALIDITY
        ),
        "TSA_URL": "",
        "SIGNING_FETCH_REVOCATION": False,
    }


@dataclass(frozen=True)
class Issued:
    code: str
    pdf: bytes


@pytest.fixture
def issue(app: Flask, eligible_candidate, today) -> Callable[[], Issued]:
    def build() -> Issued:
        candidate_id = eligible_candidate("Łukasz Wiśniewski")
        with app.app_context():
            certificate = issue_certificate(
                get_candidate(candidate_id), get_programme("EII-C"), None, today=today
            )
            db.session.commit()
            return Issued(certificate.code, certificate.pdf)

    return build


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to open a connection fails the test: validation must be offline."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the check tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def upload(client, url: str, content: bytes) -> Any:
    boundary, body = encode_multipart({"file": FileStorage(io.BytesIO(content), "c.pdf")})
    return client.post(url, data=body, content_type=f"multipart/form-data; boundary={boundary}")


def roots(app: Flask) -> list[object]:
    return load_trust_roots([Path(p) for p in app.config["SIGNING_TRUST_ROOTS"]])


def seals_only(pdf: bytes) -> bytes:
    """The file as it was after the second seal, before the validation data and the
    document timestamp: what sealing without a timestamp authority gives."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    reader = PdfFileReader(io.BytesIO(pdf))
    last_seal = next(s for s in reader.embedded_signatures if s.field_name == "EuSoMII-seal")
    _, _, start, length = last_seal.byte_range
    return pdf[: start + length]


def edit_the_page(pdf: bytes) -> bytes:
    """An incremental update after everything that draws on the first page."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    stream = generic.StreamObject(stream_data=b"BT /F1 24 Tf 100 600 Td (Distinction) Tj ET")
    writer.add_stream_to_page(0, writer.add_object(stream))
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()


# ---------------------------------------------------------------- sealing


def test_a_certificate_is_sealed_timestamped_and_carries_its_validation_data(app, issue):
    issued = issue()
    from pyhanko.pdf_utils.reader import PdfFileReader

    reader = PdfFileReader(io.BytesIO(issued.pdf))
    fields = [s.field_name for s in reader.embedded_signatures]
    assert fields == ["EFRS-seal", "EuSoMII-seal", DOCUMENT_TIMESTAMP_FIELD]
    # Each seal carries its own signature timestamp (PAdES B-T)...
    for seal in reader.embedded_signatures[:2]:
        unsigned = [a["type"].native for a in seal.signer_info["unsigned_attrs"]]
        assert "signature_time_stamp_token" in unsigned
    # ... and the DSS holds the chains and the CA's CRL, covered by the document timestamp.
    dss = reader.root["/DSS"]
    assert len(dss["/Certs"]) >= 4  # the CA, both seals and the authority
    assert len(dss["/CRLs"]) == 1

    checks = check_seals(issued.pdf, roots(app))
    assert [(c.kind, c.signer, c.ok, c.time_attested) for c in checks] == [
        ("seal", BODIES[0], True, True),
        ("seal", BODIES[1], True, True),
        ("timestamp", AUTHORITY, True, True),
    ]
    seal_time, stamp_time = checks[0].signed_at, checks[2].signed_at
    assert seal_time is not None and stamp_time is not None
    assert abs(dt.datetime.now(dt.UTC) - stamp_time) < dt.timedelta(minutes=5)
    assert seal_time <= stamp_time


def test_the_demo_authority_is_a_time_stamping_authority_under_the_demo_ca(tmp_path):
    make_demo_keys(tmp_path, {"EFRS": "European Federation of Radiographer Societies"})
    _, certificate, chain = pkcs12.load_key_and_certificates(
        (tmp_path / "demo-tsa.p12").read_bytes(), None
    )
    assert certificate is not None
    usage = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert usage.critical and list(usage.value) == [ExtendedKeyUsageOID.TIME_STAMPING]
    ca = x509.load_pem_x509_certificate((tmp_path / "demo-ca.pem").read_bytes())
    assert certificate.issuer == ca.subject and [c.subject for c in chain] == [ca.subject]
    crl = x509.load_der_x509_crl((tmp_path / "demo-ca.crl").read_bytes())
    assert crl.is_signature_valid(ca.public_key()) and len(crl) == 0


def test_an_authority_that_does_not_answer_issues_nothing(app, eligible_candidate, today):
    candidate_id = eligible_candidate("Maria Rossi")
    # Port 9 on this machine: refused at once, nothing leaves the machine.
    app.config["TSA_URL"] = "http://127.0.0.1:9/tsa"
    with app.app_context():
        with pytest.raises(SigningNotConfigured, match="timestamp authority did not answer"):
            issue_certificate(
                get_candidate(candidate_id), get_programme("EII-C"), None, today=today
            )
        db.session.rollback()
        assert db.session.scalars(db.select(Certificate)).all() == []


def test_a_missing_crl_file_is_found_before_any_work(app, eligible_candidate, today, tmp_path):
    candidate_id = eligible_candidate("Maria Rossi")
    app.config["SIGNING_CRLS"] = [str(tmp_path / "gone.crl")]
    with app.app_context():
        candidate, programme = get_candidate(candidate_id), get_programme("EII-C")
        with pytest.raises(SigningNotConfigured, match=r"gone\.crl"):
            issue_certificate(candidate, programme, None, today=today)


# ---------------------------------------------------------------- twenty years on


@pytest.mark.parametrize("years", [1, 9])
def test_the_seals_validate_offline_after_their_certificates_expired(app, issue, no_network, years):
    issued = issue()
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=365 * years)
    assert later > dt.datetime.now(dt.UTC) + SEAL_VALIDITY

    checks = check_seals(issued.pdf, roots(app), at=later)

    assert [(c.kind, c.signer, c.intact, c.valid, c.trusted) for c in checks] == [
        ("seal", BODIES[0], True, True, True),
        ("seal", BODIES[1], True, True, True),
        ("timestamp", AUTHORITY, True, True, True),
    ]
    assert not any(c.changed_after for c in checks)


def test_without_the_timestamp_and_validation_data_the_same_check_fails(app, issue, no_network):
    issued = issue()
    bare = seals_only(issued.pdf)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=365)

    assert all(c.ok for c in check_seals(bare, roots(app)))  # valid while the seals last
    expired = check_seals(bare, roots(app), at=later)
    assert [(c.kind, c.intact, c.trusted) for c in expired] == [
        ("seal", True, False),
        ("seal", True, False),
    ]


# ---------------------------------------------------------------- what a verifier sees


def test_an_untouched_certificate_reports_each_seal_and_the_timestamp(client, issue):
    issued = issue()
    answer = upload(client, "/api/v1/verify/pdf", issued.pdf).get_json()
    assert (answer["authentic"], answer["code"], answer["status"]) == (True, issued.code, "valid")
    assert answer["changed_after_sealing"] is False
    assert [(s["signer"], s["valid"], s["field"]) for s in answer["signatures"]] == [
        (BODIES[0], True, "EFRS-seal"),
        (BODIES[1], True, "EuSoMII-seal"),
    ]
    assert all(s["time_attested"] and s["signed_at"] for s in answer["signatures"])
    (stamp,) = answer["timestamps"]
    assert (stamp["authority"], stamp["valid"]) == (AUTHORITY, True)
    assert dt.datetime.fromisoformat(stamp["time"]).tzinfo is not None

    page = upload(client, "/verify", issued.pdf).get_data(as_text=True)
    assert "The file is exactly as issued" in page
    assert "Timestamps in the file" in page
    assert page.count("as a timestamp attests") == 2
    assert "Timestamped on" in page and AUTHORITY in page
    assert "Changed after sealing" not in page


def test_a_page_edited_after_sealing_is_changed_after_sealing(client, issue):
    issued = issue()
    edited = edit_the_page(issued.pdf)
    answer = upload(client, "/api/v1/verify/pdf", edited).get_json()
    assert (answer["authentic"], answer["code"]) == (False, None)
    assert answer["changed_after_sealing"] is True
    assert [s["changed_after"] for s in answer["signatures"]] == [True, True]
    assert [t["valid"] for t in answer["timestamps"]] == [False]

    page = upload(client, "/verify", edited).get_data(as_text=True)
    assert "Not authentic" in page
    assert "Changed after sealing." in page
    assert "The file was changed after this timestamp was applied." in page


def test_bytes_appended_after_sealing_are_not_matched_and_changed(client, issue):
    issued = issue()
    appended = issued.pdf + b"\n% a note added later\n"
    answer = upload(client, "/api/v1/verify/pdf", appended).get_json()
    assert (answer["authentic"], answer["code"]) == (False, None)
    assert answer["changed_after_sealing"] is True

    page = upload(client, "/verify", appended).get_data(as_text=True)
    assert "Changed after sealing." in page


def test_validation_data_added_later_is_not_a_change(app, issue, tmp_path):
    """Renewing the archive (more validation data after the document timestamp) is the
    incremental update PAdES allows: the seals and the timestamp still hold, though the
    file is no longer byte for byte the one issued."""
    from asn1crypto import x509 as asn1_x509
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign.validation import DocumentSecurityStore

    issued = issue()
    # A certificate the DSS does not hold yet, as a renewal would add (the new authority's).
    other = tmp_path / "other"
    make_demo_keys(other, {})
    new_ca = x509.load_pem_x509_certificate((other / "demo-ca.pem").read_bytes())
    writer = IncrementalPdfFileWriter(io.BytesIO(issued.pdf))
    DocumentSecurityStore.supply_dss_in_writer(
        writer, None, certs=[asn1_x509.Certificate.load(new_ca.public_bytes(Encoding.DER))]
    )
    output = io.BytesIO()
    writer.write(output)
    renewed = output.getvalue()
    assert renewed != issued.pdf

    checks = check_seals(renewed, roots(app))
    assert len(checks) == 3
    assert all(c.ok and not c.changed_after for c in checks)


def test_a_bulk_job_s_pool_of_processes_timestamps_every_certificate(
    app, eligible_candidate, today
):
    """The set-up crosses to the pool's processes as paths and settings; each process
    opens the local authority itself."""
    import sqlalchemy as sa

    from certification.certificates import bulk

    for number in range(3):
        eligible_candidate(f"Candidate {number}")
    app.config.update(ISSUE_PROCESSES=2, ISSUE_BATCH_SIZE=2)
    with app.app_context():
        job = bulk.start_issue_job(get_programme("EII-C"), None, today=today, queue=False)
        db.session.commit()
        progress = bulk.run_issue_job(job.id, today=today)
        assert progress is not None and progress.issued == 3
        pdfs = db.session.scalars(sa.select(Certificate)).all()
        for certificate in pdfs:
            checks = check_seals(certificate.pdf, roots(app))
            assert [(c.kind, c.ok) for c in checks] == [
                ("seal", True),
                ("seal", True),
                ("timestamp", True),
            ]
