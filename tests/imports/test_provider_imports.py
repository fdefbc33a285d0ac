"""Course-provider staff import credits from CSV: only credits, only on their provider's
courses and within its accreditation (any other row is a problem in the preview, and
nothing is committed), and only their provider's uploads are theirs to open. The office's
imports are as before, for any course."""

from __future__ import annotations

import datetime as dt
import html
import io
import re

import pytest
import sqlalchemy as sa

from certification.auth.services import get_user_by_email
from certification.catalogue.models import Course
from certification.errors import Forbidden
from certification.extensions import db
from certification.imports.models import ImportKind, ImportUpload
from certification.imports.services import import_kinds, preview_import, store_upload
from certification.records.models import CreditRecord
from tests.conftest import log_in

STAFF = "niamh@academy.example"
COLLEAGUE = "ciara@academy.example"
OTHER_STAFF = "jonas@lab.example"
OFFICE = "office@efrs.example"


@pytest.fixture
def academy(
    app, make_provider, make_course, make_provider_staff, make_candidate, make_admin, today
):
    """The Northern Imaging Academy (accredited from a year ago to a year ahead) with one
    course and two staff members; EuSoMII with a course; a course of no provider; another
    provider with its own staff; two candidates and the programme office."""
    academy_id = make_provider(
        "Northern Imaging Academy",
        "IE",
        today - dt.timedelta(days=365),
        today + dt.timedelta(days=365),
    )
    make_course("ACC-QA101", provider="Northern Imaging Academy", title="Quality of imaging IT")
    make_course("EUS-AI101", provider="EuSoMII", title="Foundations of AI")
    make_course("GEN-100", provider="", title="A course of no provider")
    make_provider_staff(academy_id, STAFF)
    make_provider_staff(academy_id, COLLEAGUE, full_name="Ciara Walsh")
    lab_id = make_provider("Baltic Imaging Lab", "LT")
    make_course("BIL-200", provider="Baltic Imaging Lab", title="PACS administration")
    make_provider_staff(lab_id, OTHER_STAFF, full_name="Jonas Kazlauskas")
    make_candidate("Zeynep Çelik", email="zeynep@example.tr")
    make_candidate("Łukasz Wiśniewski", email="lukasz@example.pl")
    make_admin(OFFICE)
    return academy_id


def csv(*rows: tuple[str, str, dt.date]) -> bytes:
    lines = ["email,course_code,completed_on", *(f"{e},{c},{d.isoformat()}" for e, c, d in rows)]
    return ("\n".join(lines) + "\n").encode()


def upload(client, data: bytes, kind: str = "credits", name: str = "credits.csv"):
    return client.post(
        "/admin/imports",
        data={"kind": kind, "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def text_of(response) -> str:
    return html.unescape(re.sub(r"\s+", " ", response.get_data(as_text=True)))


def problem_cell(row: int, column: str, message: str) -> str:
    return (
        f'<td data-label="Row" class="num">{row}</td>'
        f'<td data-label="Column"><span class="code">{column}</span></td>'
        f'<td data-label="Problem">{message}</td>'
    )


def credit_codes(app) -> list[str]:
    """The course of every credit recorded, by code."""
    with app.app_context():
        return sorted(
            db.session.scalars(
                sa.select(Course.code).join(CreditRecord, CreditRecord.course_id == Course.id)
            )
        )


def test_the_upload_page_offers_provider_staff_credits_only(client, academy):
    log_in(client, STAFF)
    courses = text_of(client.get("/admin/our-courses"))
    assert "Import course credits from a CSV file" in courses
    page = client.get("/admin/imports")
    assert page.status_code == 200
    text = text_of(page)
    assert '<option value="credits">Course credits</option>' in text
    assert 'value="candidates"' not in text and 'value="results"' not in text
    assert "Only your provider's courses" in text
    # Another kind, posted anyway, is not a choice of the form: nothing is uploaded.
    refused = upload(client, b"email,full_name,country\nx@example.org,X,IE\n", kind="candidates")
    assert refused.status_code == 422
    with client.application.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ImportUpload)) == 0


def test_another_provider_s_course_is_a_problem_and_nothing_is_committed(
    app, client, academy, today
):
    log_in(client, STAFF)
    day = today - dt.timedelta(days=10)
    data = csv(
        ("zeynep@example.tr", "ACC-QA101", day),
        ("lukasz@example.pl", "EUS-AI101", day),
        ("lukasz@example.pl", "GEN-100", day),
    )
    response = upload(client, data)
    assert response.status_code == 303
    preview = client.get(response.headers["Location"])
    assert preview.status_code == 200
    text = text_of(preview)
    assert "2 problems: nothing from this file can be imported" in text
    assert problem_cell(3, "course_code", "EUS-AI101 is not one of your provider's courses.") in (
        text
    )
    assert problem_cell(4, "course_code", "GEN-100 is not one of your provider's courses.") in text
    assert "/commit" not in text
    refused = client.post(response.headers["Location"] + "/commit")
    assert refused.status_code == 422
    assert "Nothing was imported" in text_of(refused)
    assert credit_codes(app) == []


def test_a_clean_file_commits_as_the_staff_member(app, client, academy, today):
    log_in(client, STAFF)
    day = today - dt.timedelta(days=10)
    data = csv(("zeynep@example.tr", "acc-qa101", day), ("lukasz@example.pl", "ACC-QA101", day))
    response = upload(client, data)
    assert "Every row is good" in text_of(client.get(response.headers["Location"]))
    done = client.post(response.headers["Location"] + "/commit", follow_redirects=True)
    assert done.status_code == 200
    assert "Imported credits.csv: 0 already recorded, 2 new." in text_of(done)
    assert credit_codes(app) == ["ACC-QA101", "ACC-QA101"]
    with app.app_context():
        staff = get_user_by_email(STAFF)
        recorders = set(db.session.scalars(sa.select(CreditRecord.recorded_by_id)))
        assert recorders == {staff.id}
    # The credits show on their page, as single entry's do.
    assert "zeynep@example.tr" in text_of(client.get("/admin/our-courses"))


def test_a_completion_outside_the_accreditation_is_a_problem(app, client, academy, today):
    log_in(client, STAFF)
    before = today - dt.timedelta(days=400)
    data = csv(
        ("zeynep@example.tr", "ACC-QA101", before),
        ("lukasz@example.pl", "ACC-QA101", today - dt.timedelta(days=1)),
    )
    response = upload(client, data)
    text = text_of(client.get(response.headers["Location"]))
    assert "1 problem: nothing from this file can be imported" in text
    assert re.search(
        r'<td data-label="Row" class="num">2</td>'
        r'<td data-label="Column"><span class="code">course_code</span></td>'
        r'<td data-label="Problem">Northern Imaging Academy was not accredited on [^<]+, when'
        r" ACC-QA101 was completed: the programme office decides on such credits.</td>",
        text,
    )
    assert client.post(response.headers["Location"] + "/commit").status_code == 422
    assert credit_codes(app) == []


def test_uploads_are_their_provider_s_own(app, client, academy, today):
    day = today - dt.timedelta(days=10)
    with app.app_context():
        office = store_upload(
            ImportKind.CREDITS,
            "office.csv",
            csv(("zeynep@example.tr", "EUS-AI101", day)),
            get_user_by_email(OFFICE),
            today=today,
        )
        db.session.commit()
        office_id = office.id
    log_in(client, STAFF)
    # The office's upload does not exist for provider staff: not listed, not opened, not
    # committed.
    assert "office.csv" not in text_of(client.get("/admin/imports"))
    assert client.get(f"/admin/imports/{office_id}").status_code == 404
    assert client.post(f"/admin/imports/{office_id}/commit").status_code == 404
    assert credit_codes(app) == []
    ours = upload(client, csv(("zeynep@example.tr", "ACC-QA101", day)), name="ours.csv")
    ours_url = ours.headers["Location"]
    assert "ours.csv" in text_of(client.get("/admin/imports"))
    client.post("/logout")

    # A colleague at the same provider opens it; another provider's staff do not.
    log_in(client, OTHER_STAFF)
    assert "ours.csv" not in text_of(client.get("/admin/imports"))
    assert client.get(ours_url).status_code == 404
    assert client.post(ours_url + "/commit").status_code == 404
    client.post("/logout")
    log_in(client, COLLEAGUE)
    assert "ours.csv" in text_of(client.get("/admin/imports"))
    assert client.get(ours_url).status_code == 200
    client.post("/logout")

    # The office sees every upload, the providers' too.
    log_in(client, OFFICE)
    listed = text_of(client.get("/admin/imports"))
    assert "ours.csv" in listed and "office.csv" in listed
    assert client.get(ours_url).status_code == 200
    assert credit_codes(app) == []


def test_the_office_still_imports_credits_on_any_course(app, client, academy, today):
    log_in(client, OFFICE)
    day = today - dt.timedelta(days=400)  # before the academy's accreditation: the office decides
    data = csv(
        ("zeynep@example.tr", "ACC-QA101", day),
        ("zeynep@example.tr", "EUS-AI101", day),
        ("lukasz@example.pl", "GEN-100", day),
        ("lukasz@example.pl", "BIL-200", day),
    )
    response = upload(client, data)
    page = client.get("/admin/imports")
    assert 'value="candidates"' in text_of(page) and 'value="results"' in text_of(page)
    assert "Every row is good" in text_of(client.get(response.headers["Location"]))
    done = client.post(response.headers["Location"] + "/commit", follow_redirects=True)
    assert "Imported credits.csv: 0 already recorded, 4 new." in text_of(done)
    assert credit_codes(app) == ["ACC-QA101", "BIL-200", "EUS-AI101", "GEN-100"]


def test_the_service_holds_provider_staff_to_credits(app, academy, today):
    with app.app_context():
        staff = get_user_by_email(STAFF)
        assert import_kinds(staff) == (ImportKind.CREDITS,)
        assert import_kinds(get_user_by_email(OFFICE)) == tuple(ImportKind)
        assert import_kinds(None) == tuple(ImportKind)
        for kind in (ImportKind.CANDIDATES, ImportKind.RESULTS):
            with pytest.raises(Forbidden):
                preview_import(kind, b"email\n", today=today, actor=staff)
            with pytest.raises(Forbidden):
                store_upload(kind, "x.csv", b"email\n", staff, today=today)
        # The command line (no actor) is not held to any provider's scope.
        report = preview_import(
            ImportKind.CREDITS,
            csv(("zeynep@example.tr", "EUS-AI101", today - dt.timedelta(days=1))),
            today=today,
        )
        assert report.ok and report.new == 1
