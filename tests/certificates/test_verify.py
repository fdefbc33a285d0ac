"""The public verification area, as a verifier meets it: pages, JSON and PDF checks."""

from __future__ import annotations

import datetime as dt
import html
import io
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from certification.auth.services import get_candidate
from certification.catalogue.services import get_programme
from certification.certificates.codes import new_code
from certification.certificates.services import (
    find_certificate,
    issue_certificate,
    reissue_certificate,
    revoke_certificate,
    verification_counts,
)
from certification.dates import format_long_date
from certification.extensions import db
from tests.conftest import another_app, close_app

AWARD = "European Certificate in Imaging Informatics"
BODIES = [
    "European Federation of Radiographer Societies",
    "European Society of Medical Imaging Informatics",
]
REASON = "Issued in error: an examination result was recorded for the wrong person."


@dataclass(frozen=True)
class Issued:
    id: int
    code: str
    pdf: bytes
    email: str


@pytest.fixture
def issue(app: Flask, eligible_candidate, today) -> Callable[..., Issued]:
    """Issue EII-C to a new eligible candidate, on ``issued_on`` (default today)."""

    def build(name: str = "Łukasz Wiśniewski", *, issued_on: dt.date | None = None) -> Issued:
        candidate_id = eligible_candidate(name, on=issued_on)
        with app.app_context():
            candidate = get_candidate(candidate_id)
            certificate = issue_certificate(
                candidate, get_programme("EII-C"), None, today=issued_on or today
            )
            db.session.commit()
            return Issued(certificate.id, certificate.code, certificate.pdf, candidate.email)

    return build


def revoke(app: Flask, code: str, reason: str = REASON) -> None:
    with app.app_context():
        revoke_certificate(find_certificate(code), reason, None)
        db.session.commit()


def reissue(app: Flask, code: str) -> str:
    with app.app_context():
        replacement = reissue_certificate(find_certificate(code), None)
        db.session.commit()
        return replacement.code


def count_of(app: Flask, certificate_id: int) -> int:
    with app.app_context():
        certificate = find_certificate_by_id(certificate_id)
        return verification_counts([certificate])[certificate_id][0]


def find_certificate_by_id(certificate_id: int) -> Any:
    from certification.certificates.models import Certificate

    return db.session.get(Certificate, certificate_id)


def text(response: Any) -> str:
    return response.get_data(as_text=True)


# ---------------------------------------------------------------- the certificate's page


@pytest.mark.parametrize("name", ["Αικατερίνη Παπαδοπούλου", "Димитър Петров", "Łukasz Wiśniewski"])
def test_a_valid_certificate_shows_what_it_says_and_nothing_personal(client, issue, today, name):
    issued = issue(name)
    response = client.get(f"/verify/{issued.code}")
    page = text(response)
    assert response.status_code == 200
    assert 'class="status-word" id="status-word">Valid<' in page
    assert "status-ok" in page
    assert f'<dd class="holder-name">{name}</dd>' in page
    assert AWARD in page
    assert "<dd>Certificate</dd>" in page and "<dd>6</dd>" in page
    assert "<strong>10 ECTS</strong> in total" in page
    assert "AI &amp; Data Science" in page and "Standards &amp; Interoperability" in page
    assert "5 ECTS" in page
    assert format_long_date(today) in page
    assert format_long_date(today.replace(year=today.year + 5)) in page
    for body in BODIES:
        assert body in page
    assert "(EFRS)" in page and "(EuSoMII)" in page
    assert issued.email not in page
    assert "@" not in page  # no e-mail address of anyone
    assert "CERT-EXAM" not in page and "examination" not in page  # no transcript, no results
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Robots-Tag"] == "noindex"


def test_a_loosely_typed_code_leads_to_the_canonical_page(client, issue):
    code = issue().code
    loose = code.lower().replace("-", "")
    response = client.get(f"/verify/{loose}")
    assert response.status_code == 301
    assert response.headers["Location"] == f"/verify/{code}"

    response = client.post("/verify", data={"code": f"  {code.lower().replace('-', ' ')} "})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/verify/{code}"


def _certificate_in(app: Flask, issue, today: dt.date, status: str) -> tuple[str, dict[str, Any]]:
    """A certificate in ``status``, and what its page and JSON must say about it."""
    if status == "expired":
        issued_on = today.replace(year=today.year - 6)
        code = issue(issued_on=issued_on).code
        expires_on = issued_on.replace(year=issued_on.year + 5)
        words = f"Expired on {format_long_date(expires_on + dt.timedelta(days=1))}"
        return code, {"words": [words], "tone": "warn", "expires_on": expires_on.isoformat()}
    code = issue().code
    if status == "revoked":
        revoke(app, code)
        words = [f"Revoked on {format_long_date(today)}", html.escape(REASON)]
        return code, {"words": words, "tone": "bad", "revoked_on": today.isoformat()}
    if status == "superseded":
        new = reissue(app, code)
        words = ["Superseded by", f'<a class="status-link" href="/verify/{new}">{new}</a>']
        return code, {"words": words, "tone": "warn", "superseded_by": new}
    return code, {"words": ["Valid"], "tone": "ok"}


@pytest.mark.parametrize("status", ["valid", "revoked", "expired", "superseded"])
def test_each_status_in_large_words_and_in_json(app, client, issue, today, status):
    code, expected = _certificate_in(app, issue, today, status)

    page = text(client.get(f"/verify/{code}"))
    assert f"status-banner status-{expected['tone']}" in page
    for words in expected["words"]:
        assert words in page

    response = client.get(f"/api/v1/verify/{code}")
    assert response.status_code == 200
    answer = response.get_json()
    assert answer["code"] == code
    assert answer["status"] == status
    assert answer["holder_name"] == "Łukasz Wiśniewski"
    assert answer["award"] == AWARD
    assert (answer["level"], answer["eqf_level"]) == ("certificate", 6)
    assert answer["credits"] == 10 and isinstance(answer["credits"], int)
    assert answer["issuers"] == [
        {"name": BODIES[0], "short_name": "EFRS"},
        {"name": BODIES[1], "short_name": "EuSoMII"},
    ]
    assert len(answer["pdf_sha256"]) == 64
    assert dt.date.fromisoformat(answer["issued_on"])
    assert answer["revoked_on"] == expected.get("revoked_on")
    assert answer["revocation_reason"] == (REASON if status == "revoked" else None)
    assert answer["superseded_by"] == expected.get("superseded_by")
    assert (answer["renewed"], answer["renews"]) == (False, None)  # a reissue is no renewal
    if "expires_on" in expected:
        assert answer["expires_on"] == expected["expires_on"]
    assert answer["language"] == "en"  # the holder has chosen none: English alone
    assert set(answer) == {
        "code",
        "status",
        "holder_name",
        "language",
        "award",
        "level",
        "eqf_level",
        "credits",
        "issued_on",
        "expires_on",
        "issuers",
        "pdf_sha256",
        "revoked_on",
        "revocation_reason",
        "superseded_by",
        "renewed",
        "renews",
        "approvals",
        "suspended_on",
        "suspended_by",
        "suspension_reason",
    }
    assert answer["approvals"] == []  # issued by the office alone
    assert answer["suspended_on"] is None
    assert "email" not in response.get_data(as_text=True)


def _with_a_wrong_check_symbol(code: str) -> str:
    return code[:-1] + ("0" if code[-1] != "0" else "1")


UNKNOWN_OR_MALFORMED = [
    pytest.param(new_code("EIC"), id="unknown"),
    pytest.param("EIC-1234", id="too-short"),
    pytest.param("not a code at all", id="words"),
    pytest.param(_with_a_wrong_check_symbol(new_code("EIC")), id="bad-check-symbol"),
    pytest.param("x" * 300, id="very-long"),
]


@pytest.mark.parametrize("code", UNKNOWN_OR_MALFORMED)
def test_unknown_and_malformed_codes_get_the_same_404(client, code):
    page = client.get(f"/verify/{code}")
    assert page.status_code == 404
    assert "No certificate has this code." in text(page)
    assert "Traceback" not in text(page)

    response = client.get(f"/api/v1/verify/{code}")
    assert response.status_code == 404
    assert response.get_json() == {
        "error": "not_found",
        "message": "No certificate has this code.",
    }


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Type the code printed on the certificate."),
        ("EIC-7KQ2", "A certificate code has a prefix and 17 letters or digits."),
        ("EIC-7KQ2-M9XD-4TRA-C1WZ-9", "The code&#39;s last symbol does not match"),
    ],
)
def test_a_mistyped_code_is_shown_again_with_the_problem_next_to_it(client, typed, message):
    response = client.post("/verify", data={"code": typed})
    page = text(response)
    assert response.status_code == 422
    assert message in page
    assert f'value="{typed}"' in page
    assert 'aria-invalid="true"' in page
    assert 'aria-describedby="code-help code-error"' in page


def test_markup_in_a_name_is_shown_as_text(client, issue):
    code = issue("<script>alert(1)</script> Ana").code
    page = text(client.get(f"/verify/{code}"))
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Ana" in page
    answer = client.get(f"/api/v1/verify/{code}").get_json()
    assert answer["holder_name"] == "<script>alert(1)</script> Ana"


def test_every_look_up_is_counted_and_misses_are_not(app, client, issue):
    issued = issue()
    assert count_of(app, issued.id) == 0
    client.get(f"/verify/{issued.code.lower()}")  # the redirect is not a look-up
    client.get(f"/verify/{issued.code}")
    client.get(f"/api/v1/verify/{issued.code}")
    upload(client, "/api/v1/verify/pdf", issued.pdf)
    client.get(f"/verify/{new_code('EIC')}")
    assert count_of(app, issued.id) == 3


def test_the_holder_and_administrators_looking_are_not_counted(
    app, client, auth, issue, make_admin
):
    issued = issue()
    auth.login(issued.email)
    client.get(f"/verify/{issued.code}")
    auth.logout()
    make_admin("office@example.org")
    auth.login("office@example.org")
    client.get(f"/verify/{issued.code}")
    auth.logout()
    assert count_of(app, issued.id) == 0
    client.get(f"/verify/{issued.code}")  # an anonymous verifier
    assert count_of(app, issued.id) == 1


def test_the_form_page_has_both_ways_to_check(client):
    response = client.get("/verify")
    page = text(response)
    assert response.status_code == 200
    assert page.count("<h1") == 1
    assert '<label for="code">Certificate code</label>' in page
    assert "e.g. EIC-7KQ2-M9XD-4TRA-C1WZ-8; case, spaces and hyphens do not matter" in page
    assert '<label for="file">Certificate PDF</label>' in page
    assert 'enctype="multipart/form-data"' in page
    assert 'value="Check code"' in page and 'value="Check PDF"' in page
    assert " style=" not in page and "<script>" not in page
    assert "X-Robots-Tag" not in response.headers


# ---------------------------------------------------------------- PDF checks


def tampered(pdf: bytes) -> bytes:
    changed = bytearray(pdf)
    changed[len(changed) // 3] ^= 0x01
    return bytes(changed)


def upload(client, url: str, content: bytes, name: str = "certificate.pdf") -> Any:
    # Encoded here, in memory: the test client would spool a large body to a temporary
    # file that it never closes (a ResourceWarning, which this suite treats as an error).
    boundary, body = encode_multipart({"file": FileStorage(io.BytesIO(content), name)})
    return client.post(url, data=body, content_type=f"multipart/form-data; boundary={boundary}")


def test_the_issued_pdf_is_authentic_and_a_changed_one_is_not(client, issue):
    issued = issue()
    answer = upload(client, "/api/v1/verify/pdf", issued.pdf).get_json()
    seals = [{"signer": s["signer"], "valid": s["valid"]} for s in answer.pop("signatures")]
    # A document timestamp when a timestamp authority is configured (none by default here).
    assert all(stamp["valid"] for stamp in answer.pop("timestamps"))
    assert answer == {
        "authentic": True,
        "code": issued.code,
        "status": "valid",
        "changed_after_sealing": False,
    }
    assert seals == [{"signer": BODIES[0], "valid": True}, {"signer": BODIES[1], "valid": True}]

    response = upload(client, "/api/v1/verify/pdf", tampered(issued.pdf))
    assert response.status_code == 200
    answer = response.get_json()
    assert answer["authentic"] is False
    assert (answer["code"], answer["status"]) == (None, None)
    assert not all(s["valid"] for s in answer["signatures"])


def test_a_revoked_certificate_s_pdf_is_authentic_but_says_revoked(app, client, issue):
    issued = issue()
    revoke(app, issued.code)
    answer = upload(client, "/api/v1/verify/pdf", issued.pdf).get_json()
    assert (answer["authentic"], answer["status"]) == (True, "revoked")
    page = text(upload(client, "/verify", issued.pdf))
    # The status leads: an unaltered file of a revoked certificate is no proof of anything.
    assert page.index('class="status-word" id="status-word">Revoked') < page.index(
        "The file is exactly as issued"
    )
    assert "status-bad" in page and "status-ok" not in page
    assert ">Authentic<" not in page
    assert "Revoked on" in page


PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
BAD_FILES = [
    pytest.param(PNG, "picture.pdf", "not_a_pdf", id="png-named-pdf"),
    pytest.param(b"Just some text, honestly a certificate", "c.txt", "not_a_pdf", id="text"),
    pytest.param(b"", "empty.pdf", "file_required", id="empty"),
    pytest.param(
        b"%PDF-1.7\n" + b"0" * (5 * 1024 * 1024 - 8), "big.pdf", "file_too_large", id="5MB+1"
    ),
]


@pytest.mark.parametrize(("content", "name", "slug"), BAD_FILES)
def test_files_that_are_not_certificate_pdfs_are_refused(client, content, name, slug):
    if slug == "file_too_large":
        assert len(content) == 5 * 1024 * 1024 + 1
    response = upload(client, "/api/v1/verify/pdf", content, name)
    assert response.status_code == 400
    assert response.get_json()["error"] == slug
    assert response.get_json()["message"]

    page = upload(client, "/verify", content, name)
    assert page.status_code == 422
    assert 'aria-describedby="file-help file-error"' in text(page)


def test_no_file_at_all_is_refused(client):
    response = client.post("/api/v1/verify/pdf", data={})
    assert response.status_code == 400
    assert response.get_json()["error"] == "file_required"


def test_a_body_over_the_request_limit_is_refused_in_json(client):
    response = upload(client, "/api/v1/verify/pdf", b"%PDF-" + b"0" * (6 * 1024 * 1024))
    assert response.status_code == 413
    assert response.get_json()["error"] == "file_too_large"
    page = upload(client, "/verify", b"%PDF-" + b"0" * (6 * 1024 * 1024))
    assert page.status_code == 413
    assert "larger than 5 MB" in text(page)


def test_a_damaged_file_that_starts_like_a_pdf_is_not_authentic(client):
    response = upload(client, "/api/v1/verify/pdf", b"%PDF-1.7\nthis is not really a pdf")
    assert response.status_code == 200
    assert response.get_json() == {
        "authentic": False,
        "code": None,
        "status": None,
        "signatures": [],
        "timestamps": [],
        "changed_after_sealing": False,
    }


def test_the_upload_page_says_authentic_or_not_in_large_words(client, issue):
    issued = issue("Αικατερίνη Παπαδοπούλου")
    page = text(upload(client, "/verify", issued.pdf))
    assert '<h1 class="status-word" id="status-word">Valid' in page
    assert "The file is exactly as issued, and both bodies' digital seals are intact." in page
    # Both seals, and the timestamp over them.
    assert page.count('<span class="badge badge-ok">Valid</span>') == 3
    for body in BODIES:
        assert body in page
    assert "Αικατερίνη Παπαδοπούλου" in page
    assert issued.code in page
    assert issued.email not in page

    page = text(upload(client, "/verify", tampered(issued.pdf)))
    assert '<h1 class="status-word" id="verdict-word">Not authentic</h1>' in page
    assert "status-bad" in page
    assert "Not valid" in page
    assert "Αικατερίνη Παπαδοπούλου" not in page


# ---------------------------------------------------------------- CSRF


@pytest.fixture
def protected_client(app: Flask) -> Iterator[Any]:
    """A second app on the same database, with CSRF protection on as in production."""
    protected = another_app(
        app,
        WTF_CSRF_ENABLED=True,
        RATELIMIT_ENABLED=False,
        SEAL_KEYS=app.config["SEAL_KEYS"],
        SIGNING_TRUST_ROOTS=app.config["SIGNING_TRUST_ROOTS"],
    )
    yield protected.test_client()
    close_app(protected)


def test_the_forms_need_the_csrf_token_and_the_json_route_does_not(protected_client, issue):
    issued = issue()
    refused = protected_client.post("/verify", data={"code": issued.code})
    assert refused.status_code == 400
    assert "CSRF" in text(refused)

    form = text(protected_client.get("/verify"))
    token = form.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    accepted = protected_client.post("/verify", data={"code": issued.code, "csrf_token": token})
    assert accepted.status_code == 303

    answer = upload(protected_client, "/api/v1/verify/pdf", issued.pdf)
    assert answer.status_code == 200
    assert answer.get_json()["authentic"] is True


def changed_after_sealing(pdf: bytes) -> bytes:
    """``pdf`` with an incremental update after both seals: its first page turned."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    page = writer.root["/Pages"]["/Kids"][0].get_object()
    page["/Rotate"] = generic.NumberObject(90)
    writer.update_container(page)
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()


@pytest.mark.parametrize("change", [tampered, changed_after_sealing])
def test_an_altered_upload_is_logged_in_one_line_without_a_traceback(client, issue, caplog, change):
    """pyHanko reports a file changed after sealing as warnings with a traceback each; the
    log of a public upload gets one line with the finding instead."""
    issued = issue()
    caplog.set_level(logging.DEBUG, logger="pyhanko")
    caplog.set_level(logging.INFO, logger="certification")
    caplog.clear()
    answer = upload(client, "/api/v1/verify/pdf", change(issued.pdf)).get_json()
    assert answer["authentic"] is False
    noisy = [r for r in caplog.records if r.exc_info or "\n" in r.getMessage()]
    assert noisy == []
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert warnings == []
    (finding,) = [r.getMessage() for r in caplog.records if r.name.startswith("certification")]
    assert finding.startswith("PDF checked: 2 seals")


def test_seals_of_a_file_changed_after_sealing_are_intact_but_cover_an_earlier_revision(
    client, issue
):
    issued = issue()
    changed = changed_after_sealing(issued.pdf)
    answer = upload(client, "/api/v1/verify/pdf", changed).get_json()
    assert (answer["authentic"], answer["code"]) == (False, None)
    page = text(upload(client, "/verify", changed))
    assert '<h1 class="status-word" id="verdict-word">Not authentic</h1>' in page
    assert page.count("Covers an earlier revision") == 2
    assert '<span class="badge badge-ok">Valid</span>' not in page
    # The original file is revision 1; each seal adds one, the validation data and the
    # document timestamp a fourth, the change a fifth.
    assert "covers only revision 2 of the file&#39;s 5" in page
    assert "covers only revision 3 of the file&#39;s 5" in page


def test_a_file_whose_seal_bytes_were_damaged_carries_a_broken_seal_not_none(client, issue):
    issued = issue()
    inside = issued.pdf.index(b"/Contents <") + len(b"/Contents <") + 200
    damaged = issued.pdf[:inside] + b"z" + issued.pdf[inside + 1 :]  # not hex: unreadable
    assert upload(client, "/api/v1/verify/pdf", damaged).get_json()["signatures"] == []
    page = text(upload(client, "/verify", damaged))
    assert '<h1 class="status-word" id="verdict-word">Not authentic</h1>' in page
    assert "carries no digital seals" not in page
    assert "carries digital seals, but they are broken" in page
