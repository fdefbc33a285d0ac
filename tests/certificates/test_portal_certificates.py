"""A candidate's own certificates on /me: status, the PDF, the link to share, the count of
verifications; and nobody else's."""

from __future__ import annotations

import html
import re

from certification.certificates.services import (
    find_certificate,
    record_verification,
    revoke_certificate,
)
from certification.extensions import db
from tests.conftest import assert_pdf_download, issue_by_service
from tests.test_admin import page_text


def share_link(response, code: str) -> str:
    """The value of the read-only input that holds the link to share, found by its label."""
    page = response.get_data(as_text=True)
    label = re.search(rf'<label for="(share-{code})">([^<]+)</label>', page)
    assert label, "the share link has no label"
    field = re.search(rf'<input[^>]*id="{label[1]}"[^>]*>', page)
    assert field and "readonly" in field[0]
    return html.unescape(re.search(r'value="([^"]*)"', field[0])[1])


def test_a_holder_sees_their_certificate_and_downloads_it(
    app, client, auth, eligible_candidate, today
):
    cid = eligible_candidate("Димитър Петров")
    auth.login("eligible1@example.org")
    assert "No certificates yet." in page_text(client.get("/me/"))

    code = issue_by_service(app, cid, today)
    response = client.get("/me/")
    page = page_text(response)
    assert "My certificates" in page
    assert code in page
    assert "European Certificate in Imaging Informatics" in page
    assert "Valid" in page
    assert "Not verified yet" in page
    assert share_link(response, code) == f"https://certificates.example.org/verify/{code}"

    assert_pdf_download(client.get(f"/me/certificates/{code}.pdf"), code)
    assert f'href="/me/certificates/{code}.pdf"' in response.get_data(as_text=True)
    # A code typed loosely still finds one's own certificate.
    assert client.get(f"/me/certificates/{code.lower()}.pdf").status_code == 200


def test_someone_elses_certificate_is_not_found(app, client, auth, eligible_candidate, today):
    theirs = issue_by_service(app, eligible_candidate("Alice Example"), today)
    eligible_candidate("Bob Example")
    auth.login("eligible2@example.org")
    assert theirs not in page_text(client.get("/me/"))
    assert client.get(f"/me/certificates/{theirs}.pdf").status_code == 404
    assert client.get("/me/certificates/EIC-0000-0000-0000-0000-0.pdf").status_code == 404
    assert client.get("/me/certificates/nonsense.pdf").status_code == 404


def test_the_count_of_verifications_follows_the_verifiers(
    app, client, auth, eligible_candidate, today
):
    code = issue_by_service(app, eligible_candidate(), today)
    auth.login("eligible1@example.org")
    assert "Not verified yet" in page_text(client.get("/me/"))
    for _ in range(2):
        with app.app_context():
            record_verification(find_certificate(code), "page", today)
            db.session.commit()
    page = page_text(client.get("/me/"))
    assert re.search(r"Verified 2 times, last on \d{1,2} [A-Z][a-z]+ \d{4}", page)
    assert "Not verified yet" not in page


def test_a_revoked_certificate_says_so_with_the_reason(
    app, client, auth, eligible_candidate, today
):
    code = issue_by_service(app, eligible_candidate(), today)
    with app.app_context():
        revoke_certificate(find_certificate(code), "Issued in error.", None)
        db.session.commit()
    auth.login("eligible1@example.org")
    page = page_text(client.get("/me/"))
    assert "Revoked on" in page
    assert "Reason given: Issued in error." in page
    # Revoked only: nothing presented as if it still proved something.
    assert "Valid until" not in page
    assert (
        "Link to share" not in page
        and f'value="https://certificates.example.org/verify/{code}"' not in page
    )
    assert "Download the revoked copy, for your records" in page
    assert client.get(f"/me/certificates/{code}.pdf").status_code == 200


def test_administrators_and_visitors_do_not_reach_the_portal_download(
    app, client, auth, make_admin, eligible_candidate, today
):
    code = issue_by_service(app, eligible_candidate(), today)
    response = client.get(f"/me/certificates/{code}.pdf")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    make_admin("office@efrs.example")
    auth.login("office@efrs.example")
    assert client.get(f"/me/certificates/{code}.pdf").status_code == 404
