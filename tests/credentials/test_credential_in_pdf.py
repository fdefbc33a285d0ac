"""The certificate's PDF carries its signed credential, embedded before the seals so that they
cover it: the file a holder keeps is the paper and the machine-readable award at once, and
the credential in it is byte for byte the one served and stored."""

from __future__ import annotations

import io
import json

import pikepdf
import sqlalchemy as sa

from certification.certificates.models import Certificate
from certification.certificates.settings import current_settings, trust_roots
from certification.certificates.signing import check_seals
from certification.credentials import services
from certification.credentials.models import IssuedCredential
from certification.extensions import db
from tests.certificates.test_approvals import issued_jointly
from tests.credentials.test_credentials import credential_of, proof_holds


def carried(pdf: bytes) -> dict[str, bytes]:
    with pikepdf.open(io.BytesIO(pdf)) as document:
        return {name: spec.get_file().read_bytes() for name, spec in document.attachments.items()}


def test_the_sealed_pdf_carries_the_credential_that_is_served_and_its_seals_cover_it(
    app, client, bodies, eligible_candidate
):
    code = issued_jointly(bodies, eligible_candidate())
    with app.app_context():
        certificate = db.session.scalar(sa.select(Certificate).where(Certificate.code == code))
        pdf = certificate.pdf
        stored = db.session.scalar(
            sa.select(IssuedCredential.document).where(
                IssuedCredential.certificate_id == certificate.id
            )
        )
        seals = check_seals(pdf, trust_roots(current_settings().trust_root_paths))
    files = carried(pdf)
    assert list(files) == [f"{code}.credential.json"]
    inside = json.loads(files[f"{code}.credential.json"])
    assert files[f"{code}.credential.json"] == stored.encode()
    assert inside == credential_of(client, code)
    did_document = json.loads(client.get("/.well-known/did.json").get_data())
    assert [proof_holds(inside, proof, did_document) for proof in inside["proof"]] == [True, True]
    # Both seals are intact over the file that carries it: the credential was in the PDF
    # before the first seal was applied.
    assert [(s.field, s.ok) for s in seals] == [
        ("EFRS-seal", True),
        ("EuSoMII-seal", True),
        ("Document-timestamp", True),
    ]


def test_certificates_rendered_together_before_any_is_stored_draw_different_status_indices(
    app, monkeypatch
):
    # A bulk batch renders many certificates (and signs their credentials) before it
    # stores any: the database cannot tell them apart yet, the session's reservations do.
    monkeypatch.setattr(services, "_status_draw", lambda code, attempt: 7 + attempt)
    with app.test_request_context():
        first = services._unused_status_index("EIC-FIRST")
        second = services._unused_status_index("EIC-SECOND")
        again = services._unused_status_index("EIC-FIRST")
    assert (first, second, again) == (7, 8, 7)
