"""The admin's two steps: upload and preview, then commit, all or nothing and only once."""

from __future__ import annotations

import html
import io
import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from certification.extensions import db
from certification.imports.models import ImportUpload
from certification.mail.models import EmailKind, EmailStatus, OutgoingEmail
from certification.records.models import CreditRecord
from tests.conftest import PASSWORD, log_in
from tests.mail import receive

GOOD = (
    b"Email;Course code;Completed on;Notes\n"
    b"wisniewski@example.org;EII-101;31/05/2024;on time\n"
    b"papadopoulou@example.org;EII-101;01/06/2024;\n"
)


@pytest.fixture
def admin(client, make_admin, make_course, make_candidate):
    make_course("EII-101")
    make_candidate(email="wisniewski@example.org")
    make_candidate("Αικατερίνη Παπαδοπούλου", email="papadopoulou@example.org", country="GR")
    make_admin("office@efrs.example")
    log_in(client, "office@efrs.example")
    return client


def upload(client, data: bytes, kind: str = "credits", name: str = "credits.csv"):
    return client.post(
        "/admin/imports",
        data={"kind": kind, "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def text_of(response) -> str:
    return html.unescape(re.sub(r"\s+", " ", response.get_data(as_text=True)))


def credits_in(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(CreditRecord))


def test_a_file_with_problems_shows_them_and_offers_no_commit(app, admin):
    bad = GOOD + b"nobody@example.org;EII-101;30/02/2024;\n"
    response = upload(admin, bad)
    assert response.status_code == 303
    page = admin.get(response.headers["Location"])
    assert page.status_code == 200
    text = text_of(page)
    assert "2 problems: nothing from this file can be imported" in text
    assert re.search(
        r"<td data-label=\"Row\" class=\"num\">4</td>"
        r"<td data-label=\"Column\"><span class=\"code\">email</span></td>"
        r"<td data-label=\"Problem\">No candidate with this e-mail.</td>",
        text,
    )
    assert "30/02/2024 is not a date on the calendar." in text
    assert "/commit" not in text
    assert "Columns left out" in text and "Notes" in text
    # Posting the commit anyway is refused, and nothing is written.
    upload_id = int(response.headers["Location"].rsplit("/", 1)[1])
    refused = admin.post(f"/admin/imports/{upload_id}/commit")
    assert refused.status_code == 422
    assert "Nothing was imported" in text_of(refused)
    assert credits_in(app) == 0


def test_a_good_file_commits_once(app, admin):
    response = upload(admin, GOOD)
    preview = admin.get(response.headers["Location"])
    text = text_of(preview)
    assert "Every row is good" in text
    assert "Read as UTF-8, semicolon-separated, dates as DD/MM/YYYY." in text
    assert "Import 2 new rows" in text
    commit_url = response.headers["Location"] + "/commit"
    done = admin.post(commit_url, follow_redirects=True)
    assert done.status_code == 200
    assert "Imported credits.csv: 0 already recorded, 2 new." in text_of(done)
    assert credits_in(app) == 2
    # A double submit adds nothing and says so.
    twice = admin.post(commit_url, follow_redirects=True)
    assert "was imported already; nothing was added again" in text_of(twice)
    assert credits_in(app) == 2
    # The same file uploaded again is all "already recorded".
    again = text_of(admin.get(upload(admin, GOOD).headers["Location"]))
    assert "Nothing new: every row of this file is already recorded" in again
    assert "(2 already recorded, 0 new)" in again
    assert "/commit" not in again
    assert "Imported" in text_of(admin.get("/admin/imports"))


CANDIDATES = (
    "email,full_name,country\n"
    "jan.kowalski@example.pl,Jan Kowalski,PL\n"
    "sigrun@example.is,Sigrún Þórsdóttir,IS\n"
    "wisniewski@example.org,Łukasz Wiśniewski,PL\n"
).encode()


def test_new_candidates_are_invited_by_default(app, admin, run_queue):
    response = upload(admin, CANDIDATES, kind="candidates", name="cohort.csv")
    preview = text_of(admin.get(response.headers["Location"]))
    assert 'name="invite" value="yes" checked' in preview
    done = admin.post(
        response.headers["Location"] + "/commit", data={"invite": "yes"}, follow_redirects=True
    )
    assert "Imported cohort.csv: 1 already recorded, 2 new, 2 invitations queued." in text_of(done)
    assert run_queue() == 2
    with app.app_context():
        sent = db.session.execute(
            sa.select(OutgoingEmail.recipient, OutgoingEmail.status, OutgoingEmail.kind)
        ).all()
    assert sorted(sent) == [
        ("jan.kowalski@example.pl", EmailStatus.SENT, EmailKind.INVITATION),
        ("sigrun@example.is", EmailStatus.SENT, EmailKind.INVITATION),
    ]
    # The written message carries a set-password link that works.
    (eml,) = [
        p for p in (Path(app.instance_path) / "outbox").glob("*.eml") if b"sigrun" in p.read_bytes()
    ]
    message = receive(eml.read_bytes())
    link = re.search(r"https?://\S+/set-password/\S+", message.get_body(("plain",)).get_content())
    assert link is not None
    path = link.group(0).split("://", 1)[1].split("/", 1)[1]
    assert admin.get("/" + path).status_code == 200


def test_unticking_the_box_invites_nobody(app, admin, run_queue):
    response = upload(admin, CANDIDATES, kind="candidates", name="cohort.csv")
    done = admin.post(response.headers["Location"] + "/commit", follow_redirects=True)
    assert "Imported cohort.csv: 1 already recorded, 2 new." in text_of(done)
    assert run_queue() == 0
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OutgoingEmail)) == 0


def test_an_upload_without_a_file_comes_back_with_the_error(admin):
    response = admin.post("/admin/imports", data={"kind": "credits"})
    assert response.status_code == 422
    assert "Choose a CSV file to upload." in text_of(response)


def test_a_file_over_the_limit_is_refused_on_the_page(app, admin):
    # Small enough that the test client keeps the body in memory, not in a temporary file.
    app.config["MAX_CONTENT_LENGTH"] = 2048
    response = upload(admin, GOOD * 100)
    assert response.status_code == 413
    assert "larger than 2 KB" in text_of(response)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ImportUpload)) == 0


def test_only_administrators_see_imports(client, make_candidate):
    assert client.get("/admin/imports").status_code == 302  # to the login page
    make_candidate(email="someone@example.org")
    client.post("/login", data={"email": "someone@example.org", "password": PASSWORD})
    assert client.get("/admin/imports").status_code == 404
    assert upload(client, GOOD).status_code == 404
    assert client.post("/admin/imports/1/commit").status_code == 404
