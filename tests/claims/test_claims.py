"""Candidates' own claims: a credit or CPD points no provider recorded, with evidence checked
by its content; the review queue (the office, provider staff for their own courses);
approving makes a record, rejecting gives a reason; the candidate is e-mailed either way;
and a rejected claim's evidence is deleted once the retention period has passed."""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import io
import json
import re
import time
import zipfile
import zlib
from decimal import Decimal

import pikepdf
import pytest
import sqlalchemy as sa
from PIL import Image
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from certification.audit import AuditEvent
from certification.auth.services import get_candidate, get_user_by_email
from certification.catalogue.models import Provider
from certification.claims import services as claim_services
from certification.claims.models import Claim, ClaimEvidence, ClaimState
from certification.claims.services import (
    ClaimInput,
    EvidenceUpload,
    approve_claim,
    claim_for_review,
    delete_rejected_evidence,
    reject_claim,
    submit_claim,
)
from certification.errors import Conflict, NotFound
from certification.extensions import db
from certification.mail.models import EmailKind, OutgoingEmail
from certification.privacy import personal_data_zip
from certification.records.models import CpdActivity, CpdSource, CreditRecord
from certification.records.services import record_credit
from certification.types import utcnow
from tests.conftest import PASSWORD, log_in

CANDIDATE = "maren@example.no"
OTHER = "other@example.org"
OFFICE = "office@efrs.example"
ACADEMY_STAFF = "niamh@academy.example"
TEN_MB = 10 * 1024 * 1024


def pdf_bytes(padding: int = 0) -> bytes:
    """A one-page PDF; ``padding`` bytes of an extra stream make it that much larger."""
    document = pikepdf.new()
    document.add_blank_page()
    if padding:
        document.Root.Padding = pikepdf.Stream(document, b"\0" * padding)
    out = io.BytesIO()
    document.save(out, compress_streams=False)
    return out.getvalue()


def image_bytes(kind: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), "navy").save(out, format=kind)
    return out.getvalue()


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


@pytest.fixture
def people(app, make_candidate, make_admin, make_provider, make_course, make_provider_staff):
    """Two candidates, the office, the Northern Imaging Academy with a course and a member
    of its staff, and a course of EuSoMII's."""
    make_candidate("Maren Solberg", email=CANDIDATE)
    make_candidate("Łukasz Wiśniewski", email=OTHER)
    make_admin(OFFICE)
    academy = make_provider("Northern Imaging Academy", "IE")
    make_course(
        "ACC-QA101", provider="Northern Imaging Academy", title="Quality of imaging IT", credits="5"
    )
    make_course("EUS-AI101", provider="EuSoMII", title="Foundations of AI")
    make_provider_staff(academy, ACADEMY_STAFF)


@pytest.fixture
def candidate(app, people):
    client = app.test_client()
    assert log_in(client, CANDIDATE).status_code == 302
    return client


@pytest.fixture
def office(app, people):
    client = app.test_client()
    assert log_in(client, OFFICE).status_code == 302
    return client


def cpd_form(today: dt.date, evidence: bytes, filename: str = "attendance.pdf", **changes):
    return {
        "kind": "cpd",
        "title": "Webinar: FHIR imaging study resources",
        "organiser": "EuSoMII",
        "activity_on": (today - dt.timedelta(days=7)).isoformat(),
        "hours": "1,5",
        "points": "1,5",
        "domain": "",
        "course": "",
        "evidence": FileStorage(io.BytesIO(evidence), filename),
        **changes,
    }


def send(client, data):
    # Encoded here, in memory: the test client would spool a large body to a temporary file
    # that it never closes (a ResourceWarning, which this suite treats as an error).
    boundary, body = encode_multipart(data)
    return client.post(
        "/me/claims/new", data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )


def claims_in_database(app) -> list[Claim]:
    with app.app_context():
        return list(db.session.scalars(sa.select(Claim).order_by(Claim.id)))


def only_claim_id(app) -> int:
    (claim,) = claims_in_database(app)
    return claim.id


def evidence_of(app, claim_id: int) -> ClaimEvidence:
    with app.app_context():
        return db.session.scalar(sa.select(ClaimEvidence).where(ClaimEvidence.claim_id == claim_id))


def emails(app, kind: EmailKind) -> list[OutgoingEmail]:
    with app.app_context():
        return list(db.session.scalars(sa.select(OutgoingEmail).where(OutgoingEmail.kind == kind)))


# ---------------------------------------------------------------- the evidence, by its content


@pytest.mark.parametrize(
    ("content", "filename"),
    [
        (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\0" * 512, "certificate.pdf"),
        (b"<html><script>alert(1)</script></html>", "certificate.pdf"),
        (b"%PDF-1.7\nnot really a PDF at all", "certificate.pdf"),
        (image_bytes("PNG")[:40], "scan.png"),  # the signature, then cut off
        (b"\xff\xd8\xff\xe0 a JPEG's first bytes and nothing else", "photo.jpg"),
    ],
    ids=["renamed-exe", "html", "pdf-header-only", "truncated-png", "jpeg-header-only"],
)
def test_a_file_that_is_not_really_a_pdf_png_or_jpeg_is_refused_by_its_content(
    app, candidate, today, content, filename
):
    response = send(candidate, cpd_form(today, content, filename))
    assert response.status_code == 422
    page = text(response)
    assert "This file is not a PDF, PNG or JPEG that can be opened" in page
    assert "its content was checked, not its name" in page
    # The form keeps what was typed; nothing was kept.
    assert 'value="Webinar: FHIR imaging study resources"' in page
    assert 'value="1,5"' in page
    assert claims_in_database(app) == []


def test_a_pdf_locked_with_a_password_is_refused_in_words(app, candidate, today):
    document = pikepdf.new()
    document.add_blank_page()
    locked = io.BytesIO()
    document.save(locked, encryption=pikepdf.Encryption(owner="owner", user="secret"))
    response = send(candidate, cpd_form(today, locked.getvalue()))
    assert response.status_code == 422
    assert "The PDF is protected by a password" in text(response)
    assert claims_in_database(app) == []


def test_a_png_named_pdf_is_taken_as_the_png_it_is(app, candidate, today):
    """The type comes from the content; the name is only a label. The file is stored and
    served as image/png, and its download name says .png, so that nothing opens it as a
    PDF."""
    png = image_bytes("PNG")
    response = send(candidate, cpd_form(today, png, "certificate.pdf"))
    assert response.status_code == 303
    claim_id = only_claim_id(app)
    evidence = evidence_of(app, claim_id)
    assert (evidence.media_type, evidence.filename, evidence.size) == (
        "image/png",
        "certificate.pdf",
        len(png),
    )
    download = candidate.get(f"/me/claims/{claim_id}/evidence/{evidence.id}")
    assert download.status_code == 200
    assert download.mimetype == "image/png"
    assert download.data == png
    assert 'filename="certificate.pdf.png"' in download.headers["Content-Disposition"]


def test_a_jpeg_is_accepted_and_its_sha256_kept(app, candidate, today):
    jpeg = image_bytes("JPEG")
    assert send(candidate, cpd_form(today, jpeg, "Zaświadczenie.JPG")).status_code == 303
    evidence = evidence_of(app, only_claim_id(app))
    assert evidence.media_type == "image/jpeg"
    assert evidence.sha256 == hashlib.sha256(jpeg).hexdigest()


def _deflated_spaces(prefix: bytes, megabytes: int) -> bytes:
    """``prefix`` and ``megabytes`` MB of spaces, deflated, without compressing them all: after
    a full flush the compressor starts afresh, so every megabyte compresses to the same block."""
    megabyte = b" " * (1 << 20)
    compressor = zlib.compressobj(9)
    head = compressor.compress(prefix) + compressor.flush(zlib.Z_FULL_FLUSH)
    block = compressor.compress(megabyte) + compressor.flush(zlib.Z_FULL_FLUSH)
    checksum = zlib.adler32(prefix)
    for _ in range(megabytes):
        checksum = zlib.adler32(megabyte, checksum)
    # The last, empty block, then the checksum of everything.
    return head + block * megabytes + b"\x03\x00" + checksum.to_bytes(4, "big")


def pdf_of_object_streams(unpacked_megabytes: list[int]) -> bytes:
    """A valid PDF with one page per entry, each page alone in an object stream padded to
    that many MB of spaces (a few KB each in the file)."""
    count = len(unpacked_megabytes)
    document = bytearray(b"%PDF-1.5\n")
    rows: dict[int, tuple[int, int, int]] = {}

    def add(number: int, body: bytes) -> None:
        rows[number] = (1, len(document), 0)
        document.extend(b"%d 0 obj\n%s\nendobj\n" % (number, body))

    kids = b" ".join(b"%d 0 R" % (3 + n) for n in range(count))
    add(1, b"<</Type/Catalog/Pages 2 0 R>>")
    add(2, b"<</Type/Pages/Kids[%s]/Count %d>>" % (kids, count))
    for n, megabytes in enumerate(unpacked_megabytes):
        page, stream = 3 + n, 3 + count + n
        header = b"%d 0 " % page
        data = _deflated_spaces(
            header + b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>", megabytes
        )
        add(
            stream,
            b"<</Type/ObjStm/N 1/First %d/Filter/FlateDecode/Length %d>>\nstream\n%s\nendstream"
            % (len(header), len(data), data),
        )
        rows[page] = (2, stream, 0)
    xref = 3 + 2 * count
    rows[xref] = (1, len(document), 0)
    table = b"\x00\x00\x00\x00\x00\xff" + b"".join(
        bytes([kind]) + field.to_bytes(4, "big") + bytes([index])
        for kind, field, index in (rows[number] for number in range(1, xref + 1))
    )
    document.extend(
        b"%d 0 obj\n<</Type/XRef/Size %d/W[1 4 1]/Root 1 0 R/Length %d>>\nstream\n%s\nendstream"
        b"\nendobj\nstartxref\n%d\n%%%%EOF\n" % (xref, xref + 1, len(table), table, rows[xref][1])
    )
    return bytes(document)


def test_a_pdf_that_unpacks_to_gigabytes_is_refused_at_once(app, candidate, today):
    """A decompression bomb: half a megabyte that unpacks to 512 MB. The check gives up at
    its limits instead of unpacking it all (seconds and gigabytes of memory)."""
    bomb = pdf_of_object_streams([512])
    assert len(bomb) < 1024 * 1024
    started = time.monotonic()
    response = send(candidate, cpd_form(today, bomb))
    assert time.monotonic() - started < 3
    assert response.status_code == 422
    assert "This file is not a PDF, PNG or JPEG that can be opened" in text(response)
    assert claims_in_database(app) == []


def test_a_pdf_slower_to_check_than_the_time_allowed_is_refused(app, candidate, today, monkeypatch):
    """Each of these 60 object streams is within every limit of the parser, but together
    they take it longer than the check may take: the check is stopped and the file
    refused."""
    monkeypatch.setattr(claim_services, "PDF_CHECK_SECONDS", 1)
    slow = pdf_of_object_streams([1] * 60)
    started = time.monotonic()
    response = send(candidate, cpd_form(today, slow))
    assert time.monotonic() - started < 3
    assert response.status_code == 422
    assert "This file is not a PDF, PNG or JPEG that can be opened" in text(response)


def _pdf_with(change) -> bytes:
    document = pikepdf.new()
    document.add_blank_page()
    change(document)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _action(document, kind: str, **values):
    return document.make_indirect(pikepdf.Dictionary(S=pikepdf.Name("/" + kind), **values))


def _script_on_opening(document) -> None:
    document.Root.OpenAction = _action(document, "JavaScript", JS=pikepdf.String("app.alert(1)"))


def _document_script(document) -> None:
    script = _action(document, "JavaScript", JS=pikepdf.String("app.alert(1)"))
    names = pikepdf.Array([pikepdf.String("x"), script])
    document.Root.Names = pikepdf.Dictionary(JavaScript=pikepdf.Dictionary(Names=names))


def _launch_on_page_opening(document) -> None:
    launch = _action(document, "Launch", F=pikepdf.String("cmd.exe"))
    document.pages[0].AA = pikepdf.Dictionary(O=launch)


def _attached_program(document) -> None:
    document.attachments["setup.exe"] = pikepdf.AttachedFileSpec(
        document, b"MZ\x90\x00", filename="setup.exe"
    )


def _xfa_form(document) -> None:
    document.Root.AcroForm = pikepdf.Dictionary(
        Fields=pikepdf.Array(), XFA=pikepdf.Stream(document, b"<xdp:xdp/>")
    )


def _launch_link(document) -> None:
    link = pikepdf.Dictionary(
        Type=pikepdf.Name.Annot,
        Subtype=pikepdf.Name.Link,
        Rect=pikepdf.Array([0, 0, 100, 100]),
        A=_action(document, "Launch", F=pikepdf.String("cmd.exe")),
    )
    document.pages[0].Annots = pikepdf.Array([document.make_indirect(link)])


@pytest.mark.parametrize(
    "change",
    [
        _script_on_opening,
        _document_script,
        _launch_on_page_opening,
        _attached_program,
        _xfa_form,
        _launch_link,
    ],
    ids=["script-on-opening", "document-script", "launch", "attachment", "xfa", "launch-link"],
)
def test_a_pdf_with_scripts_actions_or_attached_files_is_refused(app, candidate, today, change):
    """A reviewer opens the evidence in a PDF reader, which would run it."""
    response = send(candidate, cpd_form(today, _pdf_with(change)))
    assert response.status_code == 422
    assert "This PDF contains scripts, actions or attached files" in text(response)
    assert claims_in_database(app) == []


def test_a_pdf_opening_at_a_page_with_links_to_the_web_is_taken(app, candidate, today):
    """What word processors and LaTeX write: open at the first page, links to web pages."""

    def change(document) -> None:
        first = document.pages[0].obj
        document.Root.OpenAction = pikepdf.Dictionary(
            S=pikepdf.Name.GoTo, D=pikepdf.Array([first, pikepdf.Name.Fit])
        )
        link = pikepdf.Dictionary(
            Type=pikepdf.Name.Annot,
            Subtype=pikepdf.Name.Link,
            Rect=pikepdf.Array([0, 0, 100, 100]),
            A=pikepdf.Dictionary(S=pikepdf.Name.URI, URI=pikepdf.String("https://efrs.eu")),
        )
        document.pages[0].Annots = pikepdf.Array([document.make_indirect(link)])

    assert send(candidate, cpd_form(today, _pdf_with(change))).status_code == 303


def test_a_jpeg_cut_off_with_something_else_after_it_is_refused(app, candidate, today):
    out = io.BytesIO()
    Image.effect_noise((400, 300), 64).convert("RGB").save(out, format="JPEG")
    jpeg = out.getvalue()
    cut = jpeg[: len(jpeg) // 2] + b"<html><script>alert(1)</script></html>" * 20
    response = send(candidate, cpd_form(today, cut, "photo.jpg"))
    assert response.status_code == 422
    assert "This file is not a PDF, PNG or JPEG that can be opened" in text(response)
    assert send(candidate, cpd_form(today, jpeg, "photo.jpg")).status_code == 303


def test_a_file_over_10_mb_is_refused_and_the_form_keeps_what_was_typed(app, candidate, today):
    too_large = pdf_bytes(padding=TEN_MB)
    assert len(too_large) > TEN_MB
    response = send(candidate, cpd_form(today, too_large))
    assert response.status_code == 422
    page = text(response)
    assert "The file is larger than 10 MB" in page
    assert 'value="Webinar: FHIR imaging study resources"' in page
    assert claims_in_database(app) == []


def test_a_file_just_under_10_mb_is_taken(app, candidate, today):
    large = pdf_bytes(padding=TEN_MB - 4096)
    assert 6 * 1024 * 1024 < len(large) <= TEN_MB  # past the site's usual request limit
    assert send(candidate, cpd_form(today, large)).status_code == 303
    assert evidence_of(app, only_claim_id(app)).size == len(large)


def test_a_request_far_over_the_limit_says_so_on_the_form(app, candidate, today):
    response = send(candidate, cpd_form(today, b"%PDF-" + b"\0" * (2 * TEN_MB + 10)))
    assert response.status_code == 413
    assert "The file is larger than 10 MB" in text(response)
    assert claims_in_database(app) == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_claim_form_checks_its_csrf_token_after_reading_a_large_file(
    app, people, second_app, today
):
    """The CSRF check reads the form before the view runs: the claim's own request limit
    must already apply then (an 8 MB file is over the site's usual 6 MB)."""
    guarded = second_app(WTF_CSRF_ENABLED=True)
    client = guarded.test_client()
    login_page = client.get("/login")
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', login_page.text)[1]
    client.post(
        "/login",
        data={"email": CANDIDATE, "password": PASSWORD, "csrf_token": token},
    )
    form_page = client.get("/me/claims/new")
    assert form_page.status_code == 200
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form_page.text)[1]
    large = pdf_bytes(padding=8 * 1024 * 1024)
    assert send(client, {**cpd_form(today, large), "csrf_token": token}).status_code == 303
    assert send(client, cpd_form(today, pdf_bytes())).status_code == 400  # no token


def test_a_candidate_has_at_most_twenty_claims_waiting(app, people, candidate, today):
    with app.app_context():
        person = get_user_by_email(CANDIDATE)
        for number in range(20):
            submit_claim(
                person,
                ClaimInput("cpd", f"Webinar {number}", "EuSoMII", today, points=Decimal(1)),
                EvidenceUpload("a.png", image_bytes("PNG")),
                today=today,
            )
        db.session.commit()
    refused = send(candidate, cpd_form(today, pdf_bytes()))
    assert refused.status_code == 422
    assert "You have 20 claims waiting for review, the most at once" in text(refused)
    assert len(claims_in_database(app)) == 20


# ---------------------------------------------------------------- approving and rejecting


def test_an_approved_cpd_claim_becomes_cpd_points_and_the_candidate_is_told(
    app, candidate, office, today
):
    unknown = send(candidate, cpd_form(today, pdf_bytes(), domain="Astrology"))
    assert unknown.status_code == 422
    assert "Choose one of the programme's domains, or none." in text(unknown)
    sent = send(candidate, cpd_form(today, pdf_bytes(), domain="AI & Data Science"))
    assert sent.status_code == 303
    claim_id = only_claim_id(app)
    assert "Waiting for review" in text(candidate.get("/me/claims"))

    queue = text(office.get("/admin/claims"))
    assert "Maren Solberg" in queue and "Webinar: FHIR imaging study resources" in queue
    page = office.get(f"/admin/claims/{claim_id}")
    assert "attendance.pdf" in text(page)
    approved = office.post(f"/admin/claims/{claim_id}/approve")
    assert approved.status_code == 303

    with app.app_context():
        (activity,) = db.session.scalars(sa.select(CpdActivity)).all()
        assert (activity.points, activity.source, activity.title, activity.domain) == (
            Decimal("1.50"),
            CpdSource.CLAIM,
            "Webinar: FHIR imaging study resources",
            "AI & Data Science",
        )
        claim = db.session.get(Claim, claim_id)
        assert (claim.state, claim.cpd_activity_id) == (ClaimState.APPROVED, activity.id)
        actions = set(db.session.scalars(sa.select(AuditEvent.action)))
        assert {"claim.submitted", "claim.approved", "cpd.recorded"} <= actions
    (mail,) = emails(app, EmailKind.CLAIM_APPROVED)
    assert mail.recipient == CANDIDATE
    assert "Webinar: FHIR imaging study resources" in mail.subject
    assert "1.5 CPD points" in mail.text_body
    mine = text(candidate.get("/me/claims"))
    assert "Approved" in mine and "On your record as CPD" in mine
    # Decided once: a second decision is refused, and changes nothing.
    again = office.post(f"/admin/claims/{claim_id}/reject", data={"reason": "Too late."})
    assert again.status_code == 409
    assert "This claim was approved already." in text(again)
    assert len(emails(app, EmailKind.CLAIM_REJECTED)) == 0


def test_of_two_reviewers_deciding_at_once_the_second_is_told_and_records_nothing(
    app, candidate, today
):
    """The claim as the second reviewer loaded it still says pending; the decision is one
    conditional write, which finds it decided and refuses, recording nothing."""
    send(candidate, cpd_form(today, pdf_bytes()))
    with app.app_context():
        claim = db.session.get(Claim, only_claim_id(app))
        assert claim.state is ClaimState.PENDING
        db.session.execute(  # the first reviewer's rejection, unseen by ``claim``
            sa.update(Claim)
            .values(state=ClaimState.REJECTED, rejection_reason="Not attended.")
            .execution_options(synchronize_session=False)
        )
        with pytest.raises(Conflict, match=r"This claim was rejected already\."):
            approve_claim(claim, get_user_by_email(OFFICE), today=today, now=utcnow())
        assert db.session.scalars(sa.select(CpdActivity)).all() == []
        assert db.session.get(Claim, claim.id).rejection_reason == "Not attended."


def test_an_approved_credit_claim_becomes_the_course_s_credits(app, candidate, office, today):
    data = cpd_form(today, pdf_bytes(), kind="credit", course="ACC-QA101", title="", organiser="")
    assert send(candidate, data).status_code == 303
    claim_id = only_claim_id(app)
    with app.app_context():
        claim = db.session.get(Claim, claim_id)
        # Left empty, the title and the organiser are the course's.
        assert (claim.title, claim.organiser, claim.points) == (
            "Quality of imaging IT",
            "Northern Imaging Academy",
            None,
        )
    assert office.post(f"/admin/claims/{claim_id}/approve").status_code == 303
    with app.app_context():
        (record,) = db.session.scalars(sa.select(CreditRecord)).all()
        assert record.course.code == "ACC-QA101"
        assert db.session.get(Claim, claim_id).credit_record_id == record.id
    (mail,) = emails(app, EmailKind.CLAIM_APPROVED)
    assert "ACC-QA101" in mail.text_body and "5 ECTS" in mail.text_body
    # Held now: claiming it again is refused.
    again = send(candidate, cpd_form(today, pdf_bytes(), kind="credit", course="ACC-QA101"))
    assert again.status_code == 422
    assert "You already have the credits for ACC-QA101." in text(again)


def test_an_approval_the_records_refuse_leaves_the_claim_waiting_on_its_page(
    app, candidate, office, today
):
    """The candidate got the credits meanwhile: recording them again is refused, and the
    page shown with the refusal says the claim is still waiting, with its decision."""
    send(candidate, cpd_form(today, pdf_bytes(), kind="credit", course="ACC-QA101", title=""))
    claim_id = only_claim_id(app)
    with app.app_context():
        record_credit(get_user_by_email(CANDIDATE), "ACC-QA101", today, actor=None, today=today)
        db.session.commit()
    refused = office.post(f"/admin/claims/{claim_id}/approve")
    assert refused.status_code == 409
    page = text(refused)
    assert "Not approved:" in page
    badge = re.search(r'<span class="badge[^"]*">([^<]*)</span>', page)
    assert badge is not None and badge[1] == "Waiting for review"
    assert "Approve and record the credit" in page and "Reject the claim" in page
    with app.app_context():
        assert db.session.get(Claim, claim_id).state is ClaimState.PENDING


def test_a_rejected_claim_shows_its_reason_and_the_candidate_is_told(app, candidate, office, today):
    assert send(candidate, cpd_form(today, pdf_bytes())).status_code == 303
    claim_id = only_claim_id(app)
    no_reason = office.post(f"/admin/claims/{claim_id}/reject", data={"reason": " "})
    assert no_reason.status_code == 422
    reason = "The attendance certificate names another person; send your own."
    rejected = office.post(f"/admin/claims/{claim_id}/reject", data={"reason": reason})
    assert rejected.status_code == 303
    mine = text(candidate.get("/me/claims"))
    assert "Rejected" in mine and f"Reason given: {reason}" in mine
    (mail,) = emails(app, EmailKind.CLAIM_REJECTED)
    assert mail.recipient == CANDIDATE and reason in mail.text_body
    assert "deleted 180 days after this decision" in mail.text_body
    with app.app_context():
        assert db.session.scalars(sa.select(CpdActivity)).all() == []


def test_a_claim_is_told_in_the_candidate_s_language(app, candidate, office, today):
    with app.app_context():
        get_user_by_email(CANDIDATE).language = "de"
        db.session.commit()
    assert send(candidate, cpd_form(today, pdf_bytes())).status_code == 303
    office.post(f"/admin/claims/{only_claim_id(app)}/reject", data={"reason": "Unleserlich."})
    (mail,) = emails(app, EmailKind.CLAIM_REJECTED)
    assert mail.text_body.startswith("Guten Tag Maren Solberg,")
    assert "Unleserlich." in mail.text_body


# ---------------------------------------------------------------- who sees the evidence


def test_the_evidence_is_its_sender_s_and_the_reviewers_alone(app, candidate, office, today):
    document = pdf_bytes()
    send(candidate, cpd_form(today, document))
    claim_id = only_claim_id(app)
    evidence_id = evidence_of(app, claim_id).id
    address = f"/me/claims/{claim_id}/evidence/{evidence_id}"

    own = candidate.get(address)
    assert own.status_code == 200 and own.data == document
    assert own.mimetype == "application/pdf"
    assert own.headers["Content-Disposition"].startswith("attachment;")
    assert own.headers["X-Content-Type-Options"] == "nosniff"
    assert own.headers["Cache-Control"] == "no-store"

    other = app.test_client()
    log_in(other, OTHER)
    assert other.get(address).status_code == 404
    assert other.get(f"/admin/claims/{claim_id}/evidence/{evidence_id}").status_code == 404
    assert other.get(f"/me/claims/{claim_id}/evidence/{evidence_id + 1}").status_code == 404
    assert app.test_client().get(address).status_code == 302  # to the login page

    reviewed = office.get(f"/admin/claims/{claim_id}/evidence/{evidence_id}")
    assert reviewed.status_code == 200 and reviewed.data == document
    assert reviewed.headers["Content-Disposition"].startswith("attachment;")
    with app.app_context():
        assert db.session.scalar(
            sa.select(sa.func.count()).where(AuditEvent.action == "claim.evidence_opened")
        )


def test_provider_staff_review_only_claims_on_their_own_courses(app, candidate, today):
    for course in ("ACC-QA101", "EUS-AI101"):
        send(candidate, cpd_form(today, pdf_bytes(), kind="credit", course=course, title=""))
    send(candidate, cpd_form(today, pdf_bytes()))  # CPD: the office's
    ours, theirs, cpd = (c.id for c in claims_in_database(app))
    staff = app.test_client()
    assert log_in(staff, ACADEMY_STAFF).status_code == 302

    queue = text(staff.get("/admin/claims"))
    assert "Quality of imaging IT" in queue
    assert "Foundations of AI" not in queue and "FHIR" not in queue
    for claim_id in (theirs, cpd):
        assert staff.get(f"/admin/claims/{claim_id}").status_code == 404
        evidence_id = evidence_of(app, claim_id).id
        assert staff.get(f"/admin/claims/{claim_id}/evidence/{evidence_id}").status_code == 404
        assert staff.post(f"/admin/claims/{claim_id}/approve").status_code == 404
    assert staff.get(f"/admin/claims/{ours}").status_code == 200
    assert staff.post(f"/admin/claims/{ours}/approve").status_code == 303
    with app.app_context():
        (record,) = db.session.scalars(sa.select(CreditRecord)).all()
        assert record.course.code == "ACC-QA101"
        assert record.recorded_by_id == get_user_by_email(ACADEMY_STAFF).id


def test_provider_staff_cannot_approve_a_course_completed_outside_their_accreditation(
    app, people, candidate, today
):
    """The records' rule applies to an approval as to any credit they record: refused in
    words, and the claim stays waiting, with nothing recorded."""
    with app.app_context():
        academy = db.session.scalar(
            sa.select(Provider).where(Provider.name == "Northern Imaging Academy")
        )
        academy.accredited_from = today - dt.timedelta(days=3)
        db.session.commit()
    send(candidate, cpd_form(today, pdf_bytes(), kind="credit", course="ACC-QA101", title=""))
    claim_id = only_claim_id(app)
    staff = app.test_client()
    assert log_in(staff, ACADEMY_STAFF).status_code == 302
    refused = staff.post(f"/admin/claims/{claim_id}/approve")
    assert refused.status_code == 422
    assert "was not accredited on" in text(refused)
    with app.app_context():
        assert db.session.get(Claim, claim_id).state is ClaimState.PENDING
        assert db.session.scalars(sa.select(CreditRecord)).all() == []
    assert emails(app, EmailKind.CLAIM_APPROVED) == []


def test_an_officer_reviews_no_claims(app, people, make_officer):
    make_officer("EFRS", "officer@efrs.example")
    officer = app.test_client()
    assert log_in(officer, "officer@efrs.example").status_code == 302
    assert officer.get("/admin/claims").status_code == 404


# ---------------------------------------------------------------- retention


def _claim_at(app, title: str, *, decided: str | None, days_ago: int) -> int:
    """A CPD claim, rejected (``decided="rejected"``), approved or pending, decided
    ``days_ago``."""
    now = utcnow()
    with app.app_context():
        candidate = get_user_by_email(CANDIDATE)
        office = get_user_by_email(OFFICE)
        claim = submit_claim(
            candidate,
            ClaimInput(
                kind="cpd",
                title=title,
                organiser="EuSoMII",
                activity_on=dt.date(2026, 1, 15),
                points=Decimal(2),
            ),
            EvidenceUpload(f"{title}.pdf", pdf_bytes()),
            today=dt.date(2026, 12, 1),
        )
        moment = now - dt.timedelta(days=days_ago)
        if decided == "rejected":
            reject_claim(claim, "Not a recognised activity.", office, now=moment)
        elif decided == "approved":
            approve_claim(claim, office, today=dt.date(2026, 12, 1), now=moment)
        claim.created_at = moment
        db.session.commit()
        return claim.id


def test_retention_deletes_only_rejected_evidence_older_than_the_period(app, people):
    old_rejected = _claim_at(app, "old-rejected", decided="rejected", days_ago=181)
    new_rejected = _claim_at(app, "new-rejected", decided="rejected", days_ago=179)
    old_approved = _claim_at(app, "old-approved", decided="approved", days_ago=400)
    old_pending = _claim_at(app, "old-pending", decided=None, days_ago=400)
    now = utcnow()
    with app.app_context():
        assert delete_rejected_evidence(now, 180) == 1
        db.session.commit()
        assert delete_rejected_evidence(now, 180) == 0  # a second run finds nothing
        db.session.commit()
    gone = evidence_of(app, old_rejected)
    assert gone.deleted_at == now and gone.sha256 and gone.filename == "old-rejected.pdf"
    with app.app_context():
        kept = {
            claim_id: db.session.scalar(
                sa.select(ClaimEvidence.data).where(ClaimEvidence.claim_id == claim_id)
            )
            for claim_id in (old_rejected, new_rejected, old_approved, old_pending)
        }
        (event,) = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "claim.evidence_deleted")
        ).all()
        assert event.after["claim"] == old_rejected
    assert kept[old_rejected] is None
    assert all(kept[c] for c in (new_rejected, old_approved, old_pending))

    candidate = app.test_client()
    log_in(candidate, CANDIDATE)
    page = text(candidate.get("/me/claims"))
    assert "old-rejected.pdf: deleted on" in page  # the claim and its reason stay
    assert "Not a recognised activity." in page
    assert candidate.get(f"/me/claims/{old_rejected}/evidence/{gone.id}").status_code == 404


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_daily_task_follows_the_configured_period(app, people):
    from certification.claims.tasks import delete_expired_rejected_evidence

    rejected = _claim_at(app, "rejected", decided="rejected", days_ago=40)
    app.config["REJECTED_EVIDENCE_RETENTION_DAYS"] = 60
    with app.app_context():
        delete_expired_rejected_evidence.call_local()
    assert evidence_of(app, rejected).deleted_at is None
    app.config["REJECTED_EVIDENCE_RETENTION_DAYS"] = 30
    with app.app_context():
        delete_expired_rejected_evidence.call_local()
    assert evidence_of(app, rejected).deleted_at is not None


# ---------------------------------------------------------------- the candidate's data


def test_the_data_export_holds_the_claims_and_their_evidence(app, candidate, today):
    document = pdf_bytes()
    send(candidate, cpd_form(today, document))
    claim_id = only_claim_id(app)
    with app.app_context():
        archive = zipfile.ZipFile(
            io.BytesIO(personal_data_zip(get_candidate(get_user_by_email(CANDIDATE).id), utcnow()))
        )
        evidence_id = db.session.scalar(sa.select(ClaimEvidence.id))
    (listed,) = json.loads(archive.read("claims.json"))
    assert (listed["title"], listed["points"], listed["state"]) == (
        "Webinar: FHIR imaging study resources",
        "1.50",
        "pending",
    )
    path = listed["evidence"][0]["file"]
    assert path == f"claims/{claim_id}/{evidence_id}-attendance.pdf"
    assert archive.read(path) == document


def test_a_claim_id_out_of_range_is_not_found(app, people):
    with app.app_context(), pytest.raises(NotFound):
        claim_for_review(2**40, get_user_by_email(OFFICE))
