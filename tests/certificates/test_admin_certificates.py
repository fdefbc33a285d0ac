"""Issuing, revoking and reissuing from the administrators' pages; the ready-to-issue list,
the audit trail and the partner bodies' branding, as an administrator would use them."""

from __future__ import annotations

import hashlib
import html
import io
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from PIL import Image
from pypdf import PdfReader

from certification.audit import AuditEvent
from certification.catalogue.services import get_programme
from certification.certificates import bulk
from certification.certificates.models import Certificate, PartnerBody
from certification.certificates.services import find_certificate
from certification.extensions import db
from tests.conftest import PASSWORD, assert_pdf_download, issue_by_service, log_in
from tests.test_admin import field_error, page_text

CODE = r"EIC(?:-[0-9A-Z]{4}){4}-[0-9A-Z]"


@pytest.fixture
def admin(client, make_admin):
    """A client logged in as an administrator."""
    make_admin("office@efrs.example", "EFRS Programme Office")
    log_in(client, "office@efrs.example")
    return client


@pytest.fixture
def efrs_officer(app, make_officer):
    """A client of its own, logged in as an officer of EFRS: EFRS's branding is theirs."""
    make_officer("EFRS", "officer@efrs.example", "Sofia Andersson")
    officer = app.test_client()
    log_in(officer, "officer@efrs.example")
    return officer


def codes_on(page: str) -> list[str]:
    return list(dict.fromkeys(re.findall(CODE, page)))


def certificate_row(page: str, code: str) -> str:
    """The text of the table row of certificate ``code``."""
    row = re.search(
        rf"<tr>\s*<th scope=\"row\"><span class=\"code nowrap\">{code}</span>.*?</tr>", page, re.S
    )
    assert row, f"no row for {code}"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row.group(0)))


# ---------------------------------------------------------------- who may come in

NEW_ADMIN_PAGES = [
    ("post", "/admin/candidates/{id}/certificates"),
    ("get", "/admin/certificates/{code}.pdf"),
    ("post", "/admin/certificates/{code}/revoke"),
    ("post", "/admin/certificates/{code}/reissue"),
    ("get", "/admin/ready"),
    ("get", "/admin/programmes/EII-C/eligible"),
    ("get", "/admin/audit"),
    ("get", "/admin/branding"),
    ("post", "/admin/branding"),
    ("get", "/admin/branding/0123456789abcdef01234567.png"),
]


def test_candidates_get_404_and_visitors_the_login_on_every_new_admin_page(
    app, client, eligible_candidate, today
):
    own_id = eligible_candidate()
    code = issue_by_service(app, own_id, today)
    for method, url in NEW_ADMIN_PAGES:
        response = getattr(client, method)(url.format(id=own_id, code=code))
        assert response.status_code == 302, url
        assert response.headers["Location"].startswith("/login"), url
    client.post("/login", data={"email": "eligible1@example.org", "password": PASSWORD})
    for method, url in NEW_ADMIN_PAGES:
        response = getattr(client, method)(url.format(id=own_id, code=code))
        assert response.status_code == 404, url


def test_every_new_post_form_carries_a_csrf_token(
    app, admin, efrs_officer, eligible_candidate, today
):
    issued = eligible_candidate("Ana Novak")
    issue_by_service(app, issued, today)
    eligible_candidate("Jón Þórðarson")
    app.config["WTF_CSRF_ENABLED"] = True
    for url, client in (
        (f"/admin/candidates/{issued}", admin),
        ("/admin/programmes/EII-C/eligible", admin),
        ("/admin/branding", efrs_officer),
    ):
        page = client.get(url).get_data(as_text=True)
        forms = re.findall(r'<form method="post".*?</form>', page, re.S)
        assert len(forms) >= 2, url
        for form in forms:
            assert re.search(r'name="(\w+-)?csrf_token"', form), (url, form[:120])
    assert admin.post(f"/admin/candidates/{issued}/certificates").status_code == 400
    # Each body's form has its own prefixed token, and that one is accepted.
    page = efrs_officer.get("/admin/branding").get_data(as_text=True)
    token = re.search(r'name="efrs-csrf_token" type="hidden" value="([^"]+)"', page)
    assert token, "no EFRS token"
    saved = efrs_officer.post(
        "/admin/branding", data=branding_form(**{"efrs-csrf_token": token[1]})
    )
    assert saved.status_code == 303


# ---------------------------------------------------------------- issuing


def test_an_administrator_issues_from_the_candidate_page(admin, eligible_candidate):
    cid = eligible_candidate("Łukasz Wiśniewski")
    before = page_text(admin.get(f"/admin/candidates/{cid}"))
    assert "Issue certificate" in before
    assert "All requirements met" in before  # the progress, counted with held awards

    response = admin.post(f"/admin/candidates/{cid}/certificates", data={"programme": "EII-C"})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/admin/candidates/{cid}"
    page = page_text(admin.get(f"/admin/candidates/{cid}"))
    [code] = codes_on(page)
    assert f"Certificate {code} (European Certificate in Imaging Informatics) is issued" in page
    row = certificate_row(page, code)
    assert "Valid" in row
    assert "Not verified yet" in row
    assert "Issue certificate" not in page  # nothing left to issue
    assert f'href="/verify/{code}"' in admin.get(f"/admin/candidates/{cid}").get_data(as_text=True)

    assert_pdf_download(admin.get(f"/admin/certificates/{code}.pdf"), code)


def test_issuing_to_a_candidate_who_is_not_ready_lists_what_is_missing(
    app, admin, make_candidate, eligible_candidate
):
    eligible_candidate()  # the programme
    newcomer = make_candidate("Siobhán O'Brien", email="siobhan@example.ie")
    response = admin.post(
        f"/admin/candidates/{newcomer.id}/certificates", data={"programme": "EII-C"}
    )
    assert response.status_code == 422
    page = page_text(response)
    assert "Not issued: Siobhán O'Brien does not yet meet every requirement" in page
    assert "10 more ECTS credits in total" in page
    assert "pass the Certificate examination (not yet taken, pass mark 60)" in page
    with app.app_context():
        assert db.session.scalars(sa.select(Certificate)).all() == []


def test_a_second_certificate_for_the_same_award_is_refused_naming_the_first(
    app, admin, eligible_candidate, today
):
    cid = eligible_candidate()
    code = issue_by_service(app, cid, today)
    response = admin.post(f"/admin/candidates/{cid}/certificates", data={"programme": "EII-C"})
    assert response.status_code == 422
    assert f"already holds a current certificate for this award, {code}." in page_text(response)
    assert codes_on(page_text(response)) == [code]


def test_an_unknown_programme_is_refused_not_a_crash(admin, eligible_candidate):
    cid = eligible_candidate()
    response = admin.post(f"/admin/candidates/{cid}/certificates", data={"programme": "%00"})
    assert response.status_code == 422
    assert "There is no programme with the code" in page_text(response)


# ---------------------------------------------------------------- revoking and reissuing


def confirmation_form(response) -> dict[str, str]:
    """What the revoke confirmation page's form posts when its first button is pressed."""
    page = response.get_data(as_text=True)
    form = re.search(
        r'<form method="post" action="/admin/certificates/[^"]*/revoke.*?</form>', page, re.S
    )
    assert form, "no confirmation form"
    return {
        name: html.unescape(value)
        for name, value in re.findall(
            r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form.group(0)
        )
    }


def revoke_textarea(response, code: str) -> str:
    found = re.search(
        rf'<textarea[^>]*id="revoke-{code}-reason"[^>]*>(.*?)</textarea>',
        response.get_data(as_text=True),
        re.S,
    )
    assert found, "no reason field"
    return html.unescape(found.group(1)).strip()


def test_revoking_needs_a_reason_and_then_says_when(app, admin, eligible_candidate, today):
    cid = eligible_candidate()
    code = issue_by_service(app, cid, today)
    refused = admin.post(f"/admin/certificates/{code}/revoke", data={"reason": "  "})
    assert refused.status_code == 422
    assert field_error(refused, f"revoke-{code}-reason") == "This field is required."
    assert "Valid" in certificate_row(page_text(refused), code)

    asked = admin.post(
        f"/admin/certificates/{code}/revoke",
        data={"reason": "Issued in error:\nthe result belonged to someone else."},
    )
    assert asked.status_code == 200 and "This cannot be undone." in page_text(asked)
    response = admin.post(f"/admin/certificates/{code}/revoke", data=confirmation_form(asked))
    assert response.status_code == 303
    page = page_text(admin.get(f"/admin/candidates/{cid}"))
    row = certificate_row(page, code)
    assert "Revoked on" in row
    assert "Reason: Issued in error: the result belonged to someone else." in row
    assert f"/admin/certificates/{code}/revoke" not in page  # no form for a revoked one
    # The award is on hold for the holder: not offered again until the hold is lifted.
    assert "Issue certificate" not in page and "On hold" in page

    # A page left open elsewhere: no confirmation is asked for what is revoked already.
    again = admin.post(f"/admin/certificates/{code}/revoke", data={"reason": "Twice"})
    assert again.status_code == 422
    assert f"Certificate {code} was revoked or superseded already." in page_text(again)
    confirmed = admin.post(
        f"/admin/certificates/{code}/revoke", data={"reason": "Twice", "confirmed": "yes"}
    )
    assert confirmed.status_code == 422
    assert "This certificate is already revoked." in page_text(confirmed)


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "This field is required."),
        ("   ", "This field is required."),
        ("typo", "Too short for a verifier to understand: say why, in at least 5 characters."),
    ],
)
def test_the_reason_is_checked_before_anyone_is_asked_to_confirm(
    app, admin, eligible_candidate, today, typed, message
):
    cid = eligible_candidate()
    code = issue_by_service(app, cid, today)
    page = admin.get(f"/admin/candidates/{cid}").get_data(as_text=True)
    assert 'data-confirm="Revoke' not in page  # no question asked before the reason is

    refused = admin.post(f"/admin/certificates/{code}/revoke", data={"reason": typed})
    assert refused.status_code == 422
    assert field_error(refused, f"revoke-{code}-reason") == message
    assert revoke_textarea(refused, code) == typed.strip()
    assert re.search(r'<details class="certificate-actions" open>', refused.get_data(as_text=True))
    assert "This cannot be undone" not in page_text(refused)
    with app.app_context():
        assert find_certificate(code).revoked_at is None


def test_the_confirmation_step_shows_the_reason_and_can_go_back_to_change_it(
    app, admin, eligible_candidate, today
):
    cid = eligible_candidate("Αικατερίνη Παπαδοπούλου")
    code = issue_by_service(app, cid, today)
    reason = 'Result <b>annulled</b> by the board & "withdrawn"'
    asked = admin.post(f"/admin/certificates/{code}/revoke", data={"reason": reason})
    assert asked.status_code == 200
    text = page_text(asked)
    assert f"Revoke certificate {code}?" in text
    assert "issued to Αικατερίνη Παπαδοπούλου" in text
    assert "This cannot be undone." in text
    assert "<b>annulled</b>" not in asked.get_data(as_text=True)  # escaped
    assert reason in text
    with app.app_context():
        assert find_certificate(code).revoked_at is None  # asking revokes nothing

    back = admin.post(
        f"/admin/certificates/{code}/revoke", data={**confirmation_form(asked), "change": "y"}
    )
    assert back.status_code == 200
    assert revoke_textarea(back, code) == reason
    assert re.search(r'<details class="certificate-actions" open>', back.get_data(as_text=True))
    with app.app_context():
        assert find_certificate(code).revoked_at is None

    # A reason tampered with on the way is checked again on confirming.
    short = admin.post(
        f"/admin/certificates/{code}/revoke", data={"reason": "no", "confirmed": "yes"}
    )
    assert short.status_code == 422
    assert field_error(short, f"revoke-{code}-reason").startswith("Too short")
    assert revoke_textarea(short, code) == "no"

    done = admin.post(
        f"/admin/certificates/{code}/revoke", data=confirmation_form(asked), follow_redirects=True
    )
    assert f"Certificate {code} is revoked." in page_text(done)
    with app.app_context():
        assert find_certificate(code).revocation_reason == reason


def test_reissuing_with_a_corrected_name_supersedes_the_old_certificate(
    app, admin, eligible_candidate, today
):
    cid = eligible_candidate("Lukasz Wisniewski")
    old = issue_by_service(app, cid, today)
    page = admin.get(f"/admin/candidates/{cid}").get_data(as_text=True)
    assert re.search(rf'id="reissue-{old}-full_name"[^>]*value="Lukasz Wisniewski"', page)

    blank = admin.post(f"/admin/certificates/{old}/reissue", data={"full_name": ""})
    assert blank.status_code == 422
    assert field_error(blank, f"reissue-{old}-full_name") == "This field is required."

    response = admin.post(
        f"/admin/certificates/{old}/reissue", data={"full_name": "Łukasz Wiśniewski"}
    )
    assert response.status_code == 303
    page = page_text(admin.get(f"/admin/candidates/{cid}"))
    new = next(code for code in codes_on(page) if code != old)
    assert f"Reissued as {new}; {old} is superseded by it." in page
    assert "Valid" in certificate_row(page, new)
    assert f"Superseded by {new}" in certificate_row(page, old)
    assert "<h1>Łukasz Wiśniewski</h1>" in page  # the record is corrected too
    with app.app_context():
        assert find_certificate(new).holder_name == "Łukasz Wiśniewski"


def test_unknown_certificate_codes_are_not_found(admin, eligible_candidate):
    eligible_candidate()
    assert admin.get("/admin/certificates/EIC-0000-0000-0000-0000-0.pdf").status_code == 404
    assert admin.get("/admin/certificates/nonsense.pdf").status_code == 404
    refused = admin.post("/admin/certificates/nonsense/revoke", data={"reason": "x"})
    assert refused.status_code == 404


# ---------------------------------------------------------------- ready to issue


def test_the_ready_list_shows_only_eligible_candidates_without_a_certificate(
    app, admin, make_candidate, eligible_candidate, today
):
    waiting = eligible_candidate("Αικατερίνη Παπαδοπούλου")
    holder = eligible_candidate("Димитър Петров")
    issue_by_service(app, holder, today)
    make_candidate("Jón Þórðarson", email="jon@example.is")  # nothing recorded

    assert admin.get("/admin/ready").headers["Location"] == "/admin/programmes/EII-C/eligible"
    assert 'href="/admin/programmes/EII-C/eligible"' in admin.get("/admin/programmes").get_data(
        as_text=True
    )
    page = page_text(admin.get("/admin/programmes/EII-C/eligible"))
    assert "Αικατερίνη Παπαδοπούλου" in page
    assert "Димитър Петров" not in page
    assert "Jón Þórðarson" not in page

    response = admin.post(
        f"/admin/candidates/{waiting}/certificates",
        data={"programme": "EII-C", "return_to": "eligible"},
    )
    assert response.headers["Location"] == "/admin/programmes/EII-C/eligible"
    page = page_text(admin.get("/admin/programmes/EII-C/eligible"))
    assert "is issued to Αικατερίνη Παπαδοπούλου" in page  # the flash message
    assert "Nobody is waiting" in page
    assert admin.get("/admin/programmes/NOPE/eligible").status_code == 404


# ---------------------------------------------------------------- audit


def test_the_audit_trail_shows_who_issued_and_revoked_and_filters_by_action(
    app, admin, make_admin, eligible_candidate
):
    cid = eligible_candidate()
    admin.post(f"/admin/candidates/{cid}/certificates", data={"programme": "EII-C"})
    with app.app_context():
        [code] = db.session.scalars(sa.select(Certificate.code)).all()
    admin.post(
        f"/admin/certificates/{code}/revoke",
        data={"reason": "A typo in the record", "confirmed": "yes"},
    )

    page = page_text(admin.get("/admin/audit"))
    issued_at = page.index("certificate.issued</span>")
    revoked_at = page.index("certificate.revoked</span>")
    assert revoked_at < issued_at  # newest first
    assert page.count("office@efrs.example") >= 2
    assert '"reason": "A typo in the record"' in page  # the change, pretty-printed
    assert re.search(r"\d{1,2} [A-Z][a-z]+ \d{4} at \d\d:\d\d UTC</time>", page)

    only_revoked = page_text(admin.get("/admin/audit?action=certificate.revoked"))
    assert "certificate.revoked</span>" in only_revoked
    assert "certificate.issued</span>" not in only_revoked
    assert "credit.recorded</span>" not in only_revoked
    by_object = page_text(admin.get(f"/admin/audit?object={code.lower()}"))
    assert "certificate.issued</span>" in by_object
    assert "credit.recorded</span>" not in by_object
    by_actor = page_text(admin.get("/admin/audit?actor=office@efrs.example"))
    assert "certificate.issued</span>" in by_actor
    assert "credit.recorded</span>" not in by_actor  # recorded by nobody (the fixture)
    nobody = admin.get("/admin/audit?actor=someone@else.example&object=%00")
    assert nobody.status_code == 422
    assert "No event matches these filters." in page_text(nobody)


# ---------------------------------------------------------------- branding


def png(colour: str = "navy", size: tuple[int, int] = (60, 40)) -> bytes:
    output = io.BytesIO()
    Image.new("RGB", size, colour).save(output, format="PNG")
    return output.getvalue()


def printed_images(pdf: bytes) -> list[tuple[tuple[int, int], tuple[int, ...]]]:
    """Each raster image on the certificate's page: its size in pixels and its colour."""
    return sorted(
        (found.image.size, found.image.convert("RGB").getpixel((0, 0)))
        for found in PdfReader(io.BytesIO(pdf)).pages[0].images
    )


NAVY_LOGO = ((60, 40), (0, 0, 128))


def efrs() -> PartnerBody:
    return db.session.scalars(sa.select(PartnerBody).where(PartnerBody.short_name == "EFRS")).one()


def branding_form(**changes) -> dict:
    data = {
        "body": "EFRS",
        "efrs-name": "European Federation of Radiographer Societies",
        "efrs-signatory_name": "Dr Ingrid Halvorsen",
        "efrs-signatory_title": "President",
    }
    return {**data, **changes}


def test_an_uploaded_logo_is_printed_on_the_next_certificate(
    app, efrs_officer, eligible_candidate, today
):
    page = page_text(efrs_officer.get("/admin/branding"))
    assert "Changes apply to certificates approved from now on." in page
    assert "European Society of Medical Imaging Informatics" in page  # both bodies

    response = efrs_officer.post(
        "/admin/branding",
        data=branding_form(**{"efrs-logo": (io.BytesIO(png()), "logo.png")}),
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    page = efrs_officer.get("/admin/branding").get_data(as_text=True)
    shown = re.search(r'src="(/admin/branding/[^"]+)" alt="The EFRS logo now in use"', page)
    assert shown, "the page shows no EFRS logo"
    image = efrs_officer.get(shown[1])
    assert image.content_type == "image/png"
    assert image.data.startswith(b"\x89PNG")
    assert efrs_officer.get("/admin/branding/demo-logins.txt").status_code == 404
    # Nothing is written to this host's instance folder: there is nothing to copy.
    assert not (Path(app.instance_path) / "branding").exists()

    code = issue_by_service(app, eligible_candidate(), today)
    with app.app_context():
        certificate = find_certificate(code)
        issuers, pdf = certificate.issuers, certificate.pdf
    digest = hashlib.sha256(image.data).hexdigest()
    assert [i["logo_sha256"] for i in issuers] == [digest, None]
    assert issuers[0]["signatory_name"] == "Dr Ingrid Halvorsen"
    assert printed_images(pdf) == [NAVY_LOGO]


def test_a_new_logo_leaves_issued_certificates_and_the_audit_trail_names_both(
    app, efrs_officer, eligible_candidate, today
):
    def upload_logo(colour: str) -> tuple[str, str]:
        """Upload a logo of that colour; the address the branding page then shows it at,
        and the SHA-256 of what it shows."""
        efrs_officer.post(
            "/admin/branding",
            data=branding_form(**{"efrs-logo": (io.BytesIO(png(colour)), "logo.png")}),
            content_type="multipart/form-data",
        )
        page = efrs_officer.get("/admin/branding").get_data(as_text=True)
        url = re.search(r'src="(/admin/branding/[^"]+)" alt="The EFRS logo', page)[1]
        return url, hashlib.sha256(efrs_officer.get(url).data).hexdigest()

    navy_url, navy = upload_logo("navy")
    first = issue_by_service(app, eligible_candidate(), today)
    maroon_url, maroon = upload_logo("maroon")
    second = issue_by_service(app, eligible_candidate(), today)

    assert navy_url != maroon_url
    assert efrs_officer.get(navy_url).status_code == 404  # only what is printed now is shown
    with app.app_context():
        first_pdf, second_pdf = (find_certificate(code).pdf for code in (first, second))
        events = db.session.scalars(
            sa.select(AuditEvent)
            .where(AuditEvent.action == "partner_body.updated")
            .order_by(AuditEvent.id)
        ).all()
        logos = [(e.before["logo_sha256"], e.after["logo_sha256"]) for e in events]
    assert printed_images(first_pdf) == [NAVY_LOGO]
    assert printed_images(second_pdf) == [((60, 40), (128, 0, 0))]
    assert logos == [(None, navy), (navy, maroon)]


def test_images_uploaded_on_one_host_show_and_print_on_another(
    app, efrs_officer, second_app, seal_keys, eligible_candidate, today, tmp_path, monkeypatch
):
    holders = [eligible_candidate(f"Candidate {n}") for n in range(2)]
    efrs_officer.post(
        "/admin/branding",
        data=branding_form(
            **{
                "efrs-logo": (io.BytesIO(png()), "logo.png"),
                "efrs-signature": (io.BytesIO(png("black", (90, 30))), "signature.jpg"),
            }
        ),
        content_type="multipart/form-data",
    )
    # Another host (or a queue worker elsewhere): the same database, its own instance folder.
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "host-b"))
    host_b = second_app(
        RATELIMIT_ENABLED=True,
        PUBLIC_BASE_URL=app.config["PUBLIC_BASE_URL"],
        ISSUE_PROCESSES=1,
        **seal_keys,
    )
    assert host_b.instance_path != app.instance_path

    on_b = host_b.test_client()
    log_in(on_b, "officer@efrs.example")
    page = on_b.get("/admin/branding").get_data(as_text=True)
    shown = re.findall(r'src="(/admin/branding/[^"]+)" alt="The (EFRS logo|signature)', page)
    assert [what for _, what in shown] == ["EFRS logo", "signature"]
    assert all(on_b.get(url).data.startswith(b"\x89PNG") for url, _ in shown)

    with app.app_context():
        job = bulk.start_issue_job(get_programme("EII-C"), None, today=today, queue=False)
        db.session.commit()
        job_id = job.id
    with host_b.app_context():
        bulk.run_issue_job(job_id, today=today, runner="worker-on-host-b")
        pdfs = [
            c.pdf
            for c in db.session.scalars(
                sa.select(Certificate).where(Certificate.candidate_id.in_(holders))
            )
        ]
    assert len(pdfs) == 2
    for pdf in pdfs:
        assert printed_images(pdf) == [NAVY_LOGO, ((90, 30), (0, 0, 0))]


def test_a_text_file_named_png_is_refused_next_to_the_field(app, efrs_officer):
    response = efrs_officer.post(
        "/admin/branding",
        data=branding_form(**{"efrs-logo": (io.BytesIO(b"not an image at all"), "logo.png")}),
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert field_error(response, "efrs-logo") == "This file is not a PNG or JPEG image."
    wrong_kind = efrs_officer.post(
        "/admin/branding",
        data=branding_form(**{"efrs-signature": (io.BytesIO(png()), "signature.gif")}),
        content_type="multipart/form-data",
    )
    assert field_error(wrong_kind, "efrs-signature") == "Upload a PNG or JPEG image."
    unnamed = efrs_officer.post("/admin/branding", data=branding_form(**{"efrs-name": ""}))
    assert unnamed.status_code == 422
    assert field_error(unnamed, "efrs-name") == "This field is required."
    with app.app_context():
        body = efrs()
        assert body.logo_image is None
        assert body.signatory_name != "Dr Ingrid Halvorsen"  # nothing was saved
