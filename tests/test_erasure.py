"""The holder's right to erasure: they ask (password again), the office carries it out or
refuses with a reason, and the erased holder's certificates still answer verification with
the name as printed, while their e-mail and name are gone from every other table."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import zipfile
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from certification.audit import AuditEvent
from certification.auth.models import User
from certification.auth.services import authenticate, get_candidate, get_user_by_email
from certification.catalogue.services import get_programme
from certification.certificates.approvals import reject_request, request_award
from certification.certificates.models import AwardRequest, Certificate
from certification.claims.models import Claim, ClaimEvidence, ClaimKind
from certification.credentials.models import WalletDelivery, WalletGrant
from certification.extensions import Model, db
from certification.imports.models import ImportKind, ImportUpload
from certification.imports.services import store_upload
from certification.mail.models import EmailKind, EmailStatus, OutgoingEmail
from certification.privacy import ERASED_NAME, ERASURE_INVENTORY, erased_email
from certification.privacy_models import ErasureRequest, ErasureStatus
from certification.records.models import (
    AssessmentAttempt,
    CpdActivity,
    CpdSource,
    CreditRecord,
    ProgrammeStanding,
)
from certification.types import utcnow
from tests.conftest import PASSWORD, issue_by_service, log_in

HOLDER = "Αικατερίνη Παπαδοπούλου-Wiśniewska"
HOLDER_EMAIL = "eligible1@example.org"
OTHER = "Zbigniew Kowalczyk-Ostrowski"
OTHER_EMAIL = "eligible2@example.org"
OFFICE_EMAIL = "office@efrs.example"


@pytest.fixture
def world(app, make_admin, eligible_candidate, today) -> dict[str, Any]:
    """Two holders of EII-C, each with credits, a result, a certificate (and its e-mail),
    a CPD activity, a decided claim with evidence and a wallet's copy; an import file of
    the office's naming both. Nobody has asked for anything yet."""
    make_admin(OFFICE_EMAIL)
    holder_id = eligible_candidate(HOLDER)
    other_id = eligible_candidate(OTHER)
    codes = {i: issue_by_service(app, i, today) for i in (holder_id, other_id)}
    with app.app_context():
        office = get_user_by_email(OFFICE_EMAIL)
        for candidate_id, code in codes.items():
            certificate = db.session.scalar(sa.select(Certificate).where(Certificate.code == code))
            _add_records(candidate_id, certificate, today)
        store_upload(
            ImportKind.CANDIDATES,
            "people.csv",
            f"email,full_name,country\n{HOLDER_EMAIL},{HOLDER},GR\n{OTHER_EMAIL},{OTHER},PL\n".encode(),
            office,
            today=today,
        )
        db.session.add(_digest_naming(HOLDER, OTHER))
        db.session.commit()
    return {"holder_id": holder_id, "other_id": other_id, "codes": codes}


def _digest_naming(*holders: str) -> OutgoingEmail:
    """An officer's daily approvals digest, which lists the holders of the requests it is
    about: someone else's e-mail that names the holder."""
    lines = "\n".join(f"- {name}: Certificate (EU-TEST), requested on 1 March" for name in holders)
    return OutgoingEmail(
        kind=EmailKind.APPROVALS_DIGEST,
        recipient="digest-officer@efrs.example",
        recipient_name="Olga Officer",
        subject=f"Requests await EFRS's approval, the oldest {holders[0]}'s",
        text_body=f"Dear Olga Officer,\n\nThey are:\n{lines}\n",
        message_id="<digest@test.example>",
        status=EmailStatus.SENT,
        attempts=1,
    )


def _add_records(candidate_id: int, certificate: Certificate, today: dt.date) -> None:
    """Rows other areas write (CPD, claims, wallets), straight into their tables."""
    cpd = CpdActivity(
        candidate_id=candidate_id,
        title="Webinar on DICOM",
        organiser="EuSoMII",
        activity_on=today,
        points=Decimal(2),
        source=CpdSource.CLAIM,
    )
    db.session.add(cpd)
    db.session.flush()
    claim = Claim(
        candidate_id=candidate_id,
        kind=ClaimKind.CPD,
        title="Webinar on DICOM",
        organiser="EuSoMII",
        activity_on=today,
        points=Decimal(2),
        state="approved",
        cpd_activity_id=cpd.id,
    )
    claim.evidence.append(
        ClaimEvidence(
            filename="attendance.pdf",
            media_type="application/pdf",
            size=8,
            sha256="0" * 64,
            data=b"%PDF-1.7",
        )
    )
    db.session.add(claim)
    now = utcnow()
    grant = WalletGrant(
        grant_id=f"grant-{candidate_id}",
        code_id=f"code-{candidate_id}",
        state="issued",
        certificate_id=certificate.id,
        configuration_id="OpenBadgeCredential",
        credential_format="ldp_vc",
        credential_id=certificate.verify_url,
        created_at=now,
        expires_at=now + dt.timedelta(minutes=5),
    )
    db.session.add(grant)
    db.session.flush()
    db.session.add(
        WalletDelivery(
            grant_id=grant.grant_id,
            certificate_id=certificate.id,
            holder_did=f"did:key:z6Mk{candidate_id}",
            document=json.dumps({"credentialSubject": {"name": certificate.holder_name}}),
            delivered_at=now,
        )
    )


def _ask(client, password: str = PASSWORD) -> Any:
    return client.post("/me/erasure", data={"password": password})


def _office(app) -> Any:
    office = app.test_client()
    assert log_in(office, OFFICE_EMAIL).status_code == 302
    return office


def _carry_out(office, candidate_id: int) -> Any:
    return office.post(f"/admin/candidates/{candidate_id}/erasure/carry-out")


def _rows_mentioning(needle: str) -> dict[str, int]:
    """Each table whose rows hold ``needle`` (any column, text or bytes, in any case), and
    how many rows do."""
    lowered = needle.lower()
    found: dict[str, int] = {}
    for table in Model.metadata.sorted_tables:
        hits = 0
        for row in db.session.execute(sa.select(table)):
            for value in row:
                if isinstance(value, bytes):
                    text = value.decode("utf-8", "replace")
                elif isinstance(value, str):
                    text = value
                elif isinstance(value, dict | list):
                    text = repr(value)
                else:
                    continue
                if lowered in text.lower():
                    hits += 1
                    break
        if hits:
            found[table.name] = hits
    return found


def test_an_erased_holder_is_gone_but_their_certificate_still_answers(app, client, world):
    holder_id, other_id = world["holder_id"], world["other_id"]
    code = world["codes"][holder_id]
    assert log_in(client, HOLDER_EMAIL).status_code == 302
    page = client.get("/me/erasure").get_data(as_text=True)
    assert "What would be erased" in page and code in page
    assert f"printed as {HOLDER}" in page

    wrong = _ask(client, "not my password")
    assert wrong.status_code == 422
    assert "The password is not right." in wrong.get_data(as_text=True)
    asked = _ask(client)
    assert asked.status_code == 303
    assert "Your request is pending" in client.get("/me/erasure").get_data(as_text=True)

    office = _office(app)
    queue = office.get("/admin/erasure").get_data(as_text=True)
    assert HOLDER in queue and HOLDER_EMAIL in queue and code in queue
    done = _carry_out(office, holder_id)
    assert done.status_code == 303
    assert "No holder is waiting" in office.get("/admin/erasure").get_data(as_text=True)

    # The holder's session has ended, and the password no longer opens anything.
    ended = client.get("/me/")
    assert ended.status_code == 302 and "/login" in ended.headers["Location"]
    assert log_in(client, HOLDER_EMAIL).status_code != 302

    with app.app_context():
        assert authenticate(HOLDER_EMAIL, PASSWORD) is None
        erased = db.session.get(User, holder_id)
        assert (erased.full_name, erased.email) == (ERASED_NAME, erased_email(holder_id))
        assert erased.password_hash is None and not erased.active and erased.country is None
        # The old e-mail is nowhere but in the audit trail, which cannot be changed.
        assert set(_rows_mentioning(HOLDER_EMAIL)) <= {"audit_event"}
        # The name stays only where a certificate printed it: its record, its sealed PDF
        # and its signed credential (and in the audit trail).
        printed = {"certificate", "certificate_pdf", "issued_credential", "audit_event"}
        assert set(_rows_mentioning(HOLDER)) <= printed
        certificate = db.session.scalar(sa.select(Certificate).where(Certificate.code == code))
        assert certificate.holder_name == HOLDER and certificate.pdf.startswith(b"%PDF")
        pdf = certificate.pdf
        for model in (CreditRecord, AssessmentAttempt, CpdActivity, ProgrammeStanding, Claim):
            assert not db.session.scalars(
                sa.select(model).where(model.candidate_id == holder_id)
            ).all(), model.__name__
        assert not db.session.scalars(
            sa.select(WalletDelivery).where(WalletDelivery.certificate_id == certificate.id)
        ).all()
        assert not db.session.scalars(
            sa.select(OutgoingEmail).where(OutgoingEmail.candidate_id == holder_id)
        ).all()
        (upload,) = db.session.scalars(sa.select(ImportUpload)).all()
        assert HOLDER_EMAIL.encode() not in upload.content
        assert OTHER_EMAIL.encode() in upload.content and OTHER.encode() in upload.content

        # Audited, naming the account's id only.
        (event,) = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "erasure.carried_out")
        ).all()
        assert (event.object_type, event.object_id) == ("user", str(holder_id))
        assert HOLDER_EMAIL not in repr(event.after) and HOLDER not in repr(event.after)
        assert event.after["credits"] == 2 and event.after["emails"] == 1

        # The other holder: untouched.
        other = get_candidate(other_id)
        assert (other.full_name, other.email, other.active) == (OTHER, OTHER_EMAIL, True)
        for model, count in ((CreditRecord, 2), (AssessmentAttempt, 1), (CpdActivity, 1)):
            rows = db.session.scalars(sa.select(model).where(model.candidate_id == other_id))
            assert len(rows.all()) == count
        assert db.session.scalar(
            sa.select(sa.func.count()).select_from(Claim).where(Claim.candidate_id == other_id)
        )
        assert db.session.scalar(
            sa.select(sa.func.count())
            .select_from(OutgoingEmail)
            .where(OutgoingEmail.candidate_id == other_id)
        )
        assert authenticate(OTHER_EMAIL, PASSWORD) is not None

    # Verification: the page and the API still answer, valid, with the name as printed.
    anyone = app.test_client()
    verify_page = anyone.get(f"/verify/{code}")
    assert verify_page.status_code == 200
    text = verify_page.get_data(as_text=True)
    assert HOLDER in text and "Valid" in text and ERASED_NAME not in text
    answer = anyone.get(f"/api/v1/verify/{code}")
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["holder_name"] == HOLDER and body["status"] == "valid"
    assert HOLDER_EMAIL not in answer.get_data(as_text=True)
    # The sealed PDF the holder still has is matched to its record, as before.
    boundary, form = encode_multipart({"file": FileStorage(io.BytesIO(pdf), "certificate.pdf")})
    checked = anyone.post(
        "/api/v1/verify/pdf", data=form, content_type=f"multipart/form-data; boundary={boundary}"
    ).get_json()
    assert (checked["authentic"], checked["code"], checked["status"]) == (True, code, "valid")


def test_a_pending_request_can_be_withdrawn(app, client, world):
    assert log_in(client, HOLDER_EMAIL).status_code == 302
    assert _ask(client).status_code == 303
    assert _ask(client).status_code == 409  # once is enough
    withdrawn = client.post("/me/erasure/withdraw")
    assert withdrawn.status_code == 303
    page = client.get("/me/erasure").get_data(as_text=True)
    assert "Your request is pending" not in page
    assert client.post("/me/erasure/withdraw").status_code == 409  # nothing left to withdraw

    office = _office(app)
    assert "No holder is waiting" in office.get("/admin/erasure").get_data(as_text=True)
    assert _carry_out(office, world["holder_id"]).status_code == 409
    with app.app_context():
        holder = get_candidate(world["holder_id"])
        assert holder.full_name == HOLDER and holder.email == HOLDER_EMAIL
        statuses = db.session.scalars(sa.select(ErasureRequest.status)).all()
        assert statuses == [ErasureStatus.WITHDRAWN]


def test_the_office_refuses_with_a_reason_the_holder_reads(app, client, world):
    assert log_in(client, HOLDER_EMAIL).status_code == 302
    assert _ask(client).status_code == 303
    office = _office(app)
    url = f"/admin/candidates/{world['holder_id']}/erasure/refuse"
    empty = office.post(url, data={"reason": "  "})
    assert empty.status_code == 422
    assert "Say why, for the holder to read." in empty.get_data(as_text=True)
    reason = "Your claim of 3 March awaits its review; we will settle it first."
    assert office.post(url, data={"reason": reason}).status_code == 303

    page = client.get("/me/erasure").get_data(as_text=True)
    assert "Your last request was not carried out" in page and "settle it first" in page
    with app.app_context():
        (mail,) = db.session.scalars(
            sa.select(OutgoingEmail).where(OutgoingEmail.kind == EmailKind.ERASURE_REFUSED)
        ).all()
        assert mail.recipient == HOLDER_EMAIL and reason in mail.text_body
        assert get_candidate(world["holder_id"]).full_name == HOLDER  # nothing erased
    assert _ask(client).status_code == 303  # and they may ask again


def test_work_in_progress_is_settled_before_erasing(app, client, world, make_programme, today):
    make_programme(
        "EII-J", required_assessments=("CERT-EXAM",), approval="both_bodies", title="Joint"
    )
    with app.app_context():
        request_award(
            get_candidate(world["holder_id"]),
            get_programme("EII-J"),
            get_user_by_email(OFFICE_EMAIL),
            today=today,
        )
        db.session.commit()
    assert log_in(client, HOLDER_EMAIL).status_code == 302
    assert _ask(client).status_code == 303
    office = _office(app)
    queue = office.get("/admin/erasure").get_data(as_text=True)
    assert "awaits the bodies" in queue and "Carry out: erase now" not in queue
    refused = _carry_out(office, world["holder_id"])
    assert refused.status_code == 409
    page = refused.get_data(as_text=True)
    assert "awaits the bodies" in page
    # The refusal shows the queue as it is: the request still waiting, with its obstacle.
    assert HOLDER in page and "No holder is waiting" not in page
    with app.app_context():
        holder = get_candidate(world["holder_id"])
        assert holder.email == HOLDER_EMAIL and holder.active  # nothing erased
        assert db.session.scalar(sa.select(ErasureRequest.status)) is ErasureStatus.PENDING


def test_only_the_office_sees_the_queue_and_carries_it_out(app, client, world, make_officer):
    assert log_in(client, HOLDER_EMAIL).status_code == 302
    assert _ask(client).status_code == 303
    assert client.get("/admin/erasure").status_code == 404
    assert _carry_out(client, world["holder_id"]).status_code == 404
    make_officer("EFRS", email="officer@efrs.example")
    officer = app.test_client()
    assert log_in(officer, "officer@efrs.example").status_code == 302
    assert officer.get("/admin/erasure").status_code == 404
    assert _carry_out(officer, world["holder_id"]).status_code == 404
    assert officer.get("/me/erasure").status_code == 404  # staff have no portal
    with app.app_context():
        assert get_candidate(world["holder_id"]).email == HOLDER_EMAIL


def test_asking_withdrawing_and_carrying_out_need_the_csrf_token(app, client, world):
    assert log_in(client, HOLDER_EMAIL).status_code == 302
    office = _office(app)
    app.config["WTF_CSRF_ENABLED"] = True
    assert _ask(client).status_code == 400
    page = client.get("/me/erasure").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    assert (
        client.post("/me/erasure", data={"password": PASSWORD, "csrf_token": token}).status_code
        == 303
    )
    assert client.post("/me/erasure/withdraw").status_code == 400
    assert _carry_out(office, world["holder_id"]).status_code == 400
    with app.app_context():
        assert get_candidate(world["holder_id"]).email == HOLDER_EMAIL
        assert db.session.scalar(sa.select(ErasureRequest.status)) is ErasureStatus.PENDING


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_guessing_the_password_on_the_erasure_form_is_throttled(rate_limited_app, world):
    holder = rate_limited_app.test_client()
    assert log_in(holder, HOLDER_EMAIL).status_code == 302
    answers = [_ask(holder, f"guess {n}").status_code for n in range(6)]
    assert answers == [422] * 5 + [429]
    assert _ask(holder).status_code == 429  # the right one too, for a while
    with rate_limited_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ErasureRequest)) == 0


def test_the_privacy_page_says_what_erasure_keeps(client):
    page = client.get("/privacy")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    for words in ("name as printed", "sealed PDF", "audit trail", "17(3)(b)", "/login"):
        assert words in text
    assert 'href="/privacy"' in client.get("/verify").get_data(as_text=True)  # the footer


def test_every_table_that_refers_to_a_person_is_decided_for_erasure():
    """A new table pointing at an account or a certificate must say what erasure does with
    it (privacy.ERASURE_INVENTORY), or a holder's data would silently outlive erasure."""
    personal = {
        table.name
        for table in Model.metadata.sorted_tables
        if any(
            fk.column.table.name in ("user_account", "certificate", "claim", "wallet_grant")
            for fk in table.foreign_keys
        )
    } | {"user_account", "certificate"}
    assert personal - set(ERASURE_INVENTORY) == set()


def _erase_holder(app, client, holder_id: int) -> None:
    assert log_in(client, HOLDER_EMAIL).status_code == 302
    assert _ask(client).status_code == 303
    assert _carry_out(_office(app), holder_id).status_code == 303


def test_erasing_an_address_leaves_the_longer_addresses_that_contain_it(app, client, world, today):
    """eligible1@example.org is erased; xeligible1@example.org and
    eligible1@example.org.uk are other people, whose lines and words stay as they were."""
    others = ["x" + HOLDER_EMAIL, HOLDER_EMAIL + ".uk", "a.b+" + HOLDER_EMAIL]
    rows = [f"{address},Someone Else,DE" for address in others]
    content = "\n".join(["email,full_name,country", *rows, f"{HOLDER_EMAIL.upper()},{HOLDER},GR"])
    with app.app_context():
        office = get_user_by_email(OFFICE_EMAIL)
        upload = store_upload(
            ImportKind.CANDIDATES, "others.csv", content.encode(), office, today=today
        )
        upload.summary = {**upload.summary, "note": f"{others[0]}; {HOLDER_EMAIL}."}
        db.session.commit()
        upload_id = upload.id
    _erase_holder(app, client, world["holder_id"])
    with app.app_context():
        upload = db.session.get(ImportUpload, upload_id)
        assert upload.content.decode().splitlines() == ["email,full_name,country", *rows]
        erased = erased_email(world["holder_id"])
        assert upload.summary["note"] == f"{others[0]}; {erased}."


def test_an_officers_digest_no_longer_names_the_erased_holder(app, client, world):
    _erase_holder(app, client, world["holder_id"])
    with app.app_context():
        (digest,) = db.session.scalars(
            sa.select(OutgoingEmail).where(OutgoingEmail.kind == EmailKind.APPROVALS_DIGEST)
        ).all()
        for text in (digest.subject, digest.text_body):
            assert HOLDER not in text and ERASED_NAME in text
        assert OTHER in digest.text_body  # the other holder's request is still listed


def test_a_rejected_request_keeps_no_scores_of_the_erased_holder(
    app, client, world, make_programme, make_officer, today
):
    make_programme(
        "EII-J", required_assessments=("CERT-EXAM",), approval="both_bodies", title="Joint"
    )
    make_officer("EFRS", "olga@efrs.example")
    with app.app_context():
        request_award(
            get_candidate(world["holder_id"]),
            get_programme("EII-J"),
            get_user_by_email(OFFICE_EMAIL),
            today=today,
        )
        award_request = db.session.scalar(sa.select(AwardRequest))
        assert award_request.snapshot["results"]
        reject_request(award_request, get_user_by_email("olga@efrs.example"), "Not yet.")
        db.session.commit()
    _erase_holder(app, client, world["holder_id"])
    with app.app_context():
        snapshot = db.session.scalar(sa.select(AwardRequest)).snapshot
        assert "results" not in snapshot and snapshot["holder_name"] == ERASED_NAME


def test_an_upload_refused_as_not_csv_text_does_not_outlive_the_erasure(app, client, world, today):
    """A UTF-16 file or a workbook was never read as text, so no line of it can be cut:
    such an upload, which can never be imported, goes."""
    utf16 = f"email,full_name\n{HOLDER_EMAIL},{HOLDER}\n".encode("utf-16")
    workbook = io.BytesIO()
    with zipfile.ZipFile(workbook, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/sharedStrings.xml", f"<sst><si><t>{HOLDER_EMAIL}</t></si></sst>")
    with app.app_context():
        office = get_user_by_email(OFFICE_EMAIL)
        for name, content in (("people16.csv", utf16), ("people.xlsx", workbook.getvalue())):
            upload = store_upload(ImportKind.CANDIDATES, name, content, office, today=today)
            assert upload.summary["problem_count"] == 1
        db.session.commit()
    _erase_holder(app, client, world["holder_id"])
    with app.app_context():
        names = db.session.scalars(sa.select(ImportUpload.filename)).all()
        assert names == ["people.csv"]


@pytest.mark.parametrize("reason", ["Wait\x00", "Wait\u200b please"])
def test_a_refusal_reason_with_control_characters_is_refused(app, client, world, reason):
    assert log_in(client, HOLDER_EMAIL).status_code == 302
    assert _ask(client).status_code == 303
    url = f"/admin/candidates/{world['holder_id']}/erasure/refuse"
    answer = _office(app).post(url, data={"reason": reason})
    assert answer.status_code == 422
    assert "Remove line breaks and invisible control characters." in answer.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(ErasureRequest.status)) is ErasureStatus.PENDING
