"""A candidate downloads everything held about them as one ZIP (GDPR articles 15 and 20),
and nobody else's personal data comes with it."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import zipfile
from decimal import Decimal

import pytest
import sqlalchemy as sa

from certification.audit import AuditEvent
from certification.auth.services import get_candidate, get_user_by_email
from certification.certificates.look_ups import counter as look_up_counter
from certification.certificates.models import Certificate
from certification.credentials.models import IssuedCredential
from certification.extensions import db
from certification.privacy import personal_data_zip
from certification.records.models import CpdSource, CreditRecord
from certification.records.services import record_cpd, record_credit, withdraw_credit
from tests.conftest import API_ADMIN_EMAIL, log_in

HOLDER = "Αικατερίνη Παπαδοπούλου-Wiśniewska"
OTHER = "Zbigniew Kowalczyk-Ostrowski"
REASON = "Recorded against the wrong candidate"


@pytest.fixture
def exported(app, client, api, eligible_candidate, make_course, today):
    """A holder with credits (one withdrawn), results and an issued certificate checked
    twice; another candidate with a certificate of their own. The holder's ZIP, as
    downloaded, and what else the test needs."""
    holder_id = eligible_candidate(HOLDER)
    other_id = eligible_candidate(OTHER)
    make_course("EII-103", credits="2.5", domain="AI & Data Science")
    with app.app_context():
        office = get_user_by_email(API_ADMIN_EMAIL)
        record = record_credit(
            get_candidate(holder_id), "EII-103", today, actor=office, today=today
        )
        withdraw_credit(record, REASON, office, today=today)
        record_cpd(
            get_candidate(holder_id),
            title="EuSoMII webinar: Ethik der KI in der Radiologie",
            organiser="EuSoMII",
            activity_on=today,
            points=Decimal("1.5"),
            source=CpdSource.ATTENDANCE,
            reference="eusomii-2026-11",
            actor=office,
            today=today,
        )
        db.session.commit()
    codes = {}
    for candidate_id in (holder_id, other_id):
        issued = api.post("/certificates", {"candidate_id": candidate_id, "programme": "EII-C"})
        assert issued.status_code == 201, issued.get_json()
        codes[candidate_id] = issued.get_json()["code"]
    code = codes[holder_id]
    assert client.get(f"/verify/{code}").status_code == 200
    assert client.get(f"/api/v1/verify/{code}").status_code == 200
    assert client.get(f"/verify/{codes[other_id]}").status_code == 200
    with app.app_context():
        look_up_counter().write()
    assert log_in(client, "eligible1@example.org").status_code == 302
    served_credential = client.get(f"/api/v1/certificates/{code}/credential").get_data()
    response = client.post("/me/my-data.zip")
    return {
        "response": response,
        "archive": zipfile.ZipFile(io.BytesIO(response.data)),
        "code": code,
        "other_code": codes[other_id],
        "holder_id": holder_id,
        "other_id": other_id,
        "served_credential": served_credential,
    }


def _json(archive: zipfile.ZipFile, name: str) -> object:
    return json.loads(archive.read(name).decode("utf-8"))


def test_the_zip_holds_every_file_in_a_fixed_order(exported):
    response, archive, code = exported["response"], exported["archive"], exported["code"]
    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    assert response.headers["Cache-Control"] == "no-store"
    assert re.fullmatch(
        r'attachment; filename="my-data-\d{4}-\d{2}-\d{2}\.zip"',
        response.headers["Content-Disposition"],
    )
    assert archive.testzip() is None
    assert archive.namelist() == [
        "README.txt",
        "audit.json",
        "certificates.json",
        f"certificates/{code}.pdf",
        "claims.json",
        "cpd.json",
        f"credentials/{code}.json",
        "credits.json",
        "emails.json",
        "holds.json",
        "profile.json",
        "requests.json",
        "results.json",
    ]


def test_the_files_are_the_ones_issued_and_the_records_as_kept(app, exported):
    archive, code = exported["archive"], exported["code"]
    with app.app_context():
        certificate = db.session.scalar(sa.select(Certificate).where(Certificate.code == code))
        assert archive.read(f"certificates/{code}.pdf") == certificate.pdf
        stored = db.session.get(IssuedCredential, certificate.id)
        assert archive.read(f"credentials/{code}.json") == stored.document.encode()
    assert json.loads(archive.read(f"credentials/{code}.json")) == json.loads(
        exported["served_credential"]
    )

    profile = _json(archive, "profile.json")
    assert profile["full_name"] == HOLDER
    assert profile["email"] == "eligible1@example.org"
    assert HOLDER.encode() in archive.read("profile.json")  # UTF-8, not \\u escapes

    credits = _json(archive, "credits.json")
    assert [(c["course"], Decimal(c["credits"]), c["withdrawn"]) for c in credits] == [
        ("EII-101", Decimal(5), False),
        ("EII-102", Decimal(5), False),
        ("EII-103", Decimal("2.5"), True),
    ]
    assert all(isinstance(c["credits"], str) for c in credits)
    withdrawn = credits[-1]
    assert withdrawn["withdrawal_reason"] == REASON
    assert withdrawn["withdrawn_by"] == {"role": "programme_office"}
    assert dt.datetime.fromisoformat(withdrawn["withdrawn_at"]).tzinfo is not None

    (result,) = _json(archive, "results.json")
    assert (result["assessment"], Decimal(result["score"]), result["passed"]) == (
        "CERT-EXAM",
        Decimal(72),
        True,
    )

    (listed,) = _json(archive, "certificates.json")
    assert listed["code"] == code
    assert listed["status_today"] == "valid"
    assert listed["printed"]["holder_name"] == HOLDER
    assert listed["pdf"] == f"certificates/{code}.pdf"
    assert listed["credential"] == f"credentials/{code}.json"
    assert dt.date.fromisoformat(listed["issued_on"])
    counts = listed["verifications"]
    assert counts["total"] == 2
    assert sorted((c["channel"], c["count"]) for c in counts["by_channel_and_day"]) == [
        ("api", 1),
        ("page", 1),
    ]
    assert all(dt.date.fromisoformat(c["day"]) for c in counts["by_channel_and_day"])
    (cpd,) = _json(archive, "cpd.json")
    assert (cpd["title"], cpd["points"], cpd["source"], cpd["withdrawn"]) == (
        "EuSoMII webinar: Ethik der KI in der Radiologie",
        "1.50",
        "attendance",
        False,
    )
    assert cpd["recorded_by"] == {"role": "programme_office"}
    assert _json(archive, "requests.json") == []
    assert "README.txt" in archive.namelist()
    assert (
        "claims.json: the credits and CPD points you claimed yourself"
        in archive.read("README.txt").decode()
    )
    assert _json(archive, "claims.json") == []  # none made (tests/claims: with evidence)


def test_the_audit_rows_are_the_candidates_own_and_name_no_officer(app, exported):
    archive, code = exported["archive"], exported["code"]
    rows = _json(archive, "audit.json")
    actions = {row["action"] for row in rows}
    assert {
        "candidate.created",
        "credit.recorded",
        "credit.withdrawn",
        "result.recorded",
        "certificate.issued",
    } <= actions
    emails = {e["id"] for e in _json(archive, "emails.json")}
    for row in rows:
        assert (row["object_type"], row["object_id"]) in {
            ("user", str(exported["holder_id"])),
            ("certificate", code),
        } or (row["object_type"] == "outgoing_email" and int(row["object_id"]) in emails), row
        assert set(row["by"]) <= {"role", "body", "provider"}
    issued = next(row for row in rows if row["action"] == "certificate.issued")
    assert issued["by"] == {"role": "programme_office"}
    # The download itself is audited, with nothing of the data in it; the ZIP just made
    # does not list it (it was recorded after).
    with app.app_context():
        (event,) = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "privacy.exported")
        ).all()
        assert (event.object_type, event.object_id) == ("user", str(exported["holder_id"]))
        assert event.actor_id == exported["holder_id"]
        assert event.before is None and event.after is None


def test_no_one_elses_personal_data_is_in_the_zip(app, exported):
    archive = exported["archive"]
    with app.app_context():
        office = get_user_by_email(API_ADMIN_EMAIL)
        other = get_candidate(exported["other_id"])
        strangers = [other.full_name, other.email, office.full_name, office.email]
        strangers.append(exported["other_code"])
        other_records = db.session.scalars(
            sa.select(CreditRecord.id).where(CreditRecord.candidate_id == other.id)
        ).all()
    assert other_records
    for name in archive.namelist():
        if name.endswith(".pdf"):
            continue  # the PDF is compared byte for byte with the one issued to the holder
        text = archive.read(name).decode("utf-8")
        for stranger in strangers:
            assert stranger not in text, (name, stranger)


def test_the_same_data_and_moment_give_the_same_bytes(app, exported):
    now = dt.datetime(2026, 12, 6, 12, 0, tzinfo=dt.UTC)
    with app.app_context():
        holder = get_candidate(exported["holder_id"])
        first = personal_data_zip(holder, now)
        assert personal_data_zip(holder, now) == first


def test_the_words_are_in_the_candidates_language(app, exported):
    now = dt.datetime(2026, 12, 6, 12, 0, tzinfo=dt.UTC)
    with app.app_context():
        holder = get_candidate(exported["holder_id"])
        holder.language = "de"
        archive = zipfile.ZipFile(io.BytesIO(personal_data_zip(holder, now)))
    (listed,) = _json(archive, "certificates.json")
    assert listed["status_in_words"] == "Gültig"
    assert listed["status_today"] == "valid"  # the machine's word stays
    assert HOLDER in archive.read("README.txt").decode()


def test_the_portal_offers_the_download_as_a_protected_post(app, client, eligible_candidate):
    eligible_candidate(HOLDER)
    assert log_in(client, "eligible1@example.org").status_code == 302
    app.config["WTF_CSRF_ENABLED"] = True
    page = client.get("/me/").get_data(as_text=True)
    form = re.search(r'<form method="post" action="/me/my-data\.zip".*?</form>', page, re.S)
    assert form, page
    assert 'name="csrf_token"' in form.group(0)
    assert "Download all my data (ZIP)" in form.group(0)
    assert client.get("/me/my-data.zip").status_code == 405
    assert client.post("/me/my-data.zip").status_code == 400  # no token: refused
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.group(0)).group(1)
    answer = client.post("/me/my-data.zip", data={"csrf_token": token})
    assert answer.status_code == 200 and answer.mimetype == "application/zip"


def test_only_a_candidate_may_download(client, make_admin, make_officer):
    anonymous = client.post("/me/my-data.zip")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    make_officer("EFRS", email="officer@efrs.example")
    assert log_in(client, "officer@efrs.example").status_code == 302
    assert client.post("/me/my-data.zip").status_code == 404
