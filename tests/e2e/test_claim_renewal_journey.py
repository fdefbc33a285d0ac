"""A holder's CPD, in a real browser (Chromium, driven by Playwright, against the demo served
by gunicorn as `make run` serves it):

1. Димитър Петров, who holds the demo's certificate, reads his renewal bar (the demo gave
   him 7 of the 20 CPD points), claims a EuSoMII webinar with its PDF certificate of
   attendance, and sees the claim waiting for review.
2. The programme office opens the claims queue, the claim and its evidence, and approves it.
3. Петров sees the claim approved, the webinar among his CPD activities, and the renewal
   bar moved on by its points.

axe-core checks every page on the way; screenshots at a desktop and a phone width go to
tests/e2e/artifacts/claims/. The tests run in file order and share one server.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
from pathlib import Path

import pyotp
import pytest
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from tests.e2e.browser import CHROMIUM, DESKTOP, look_and_keep, windows, words

ARTIFACTS = Path(os.environ.get("E2E_ARTIFACTS", Path(__file__).with_name("artifacts"))) / "claims"
HOLDER = "dimitar.petrov@example.bg"
WEBINAR = "EuSoMII webinar: DICOMweb and FHIR ImagingStudy in practice"

pytestmark = [
    pytest.mark.skipif(
        not CHROMIUM.exists() and not os.environ.get("E2E_REQUIRED"),
        reason="browser tests need: apt-get install chromium (.ci/run requires it)",
    ),
    pytest.mark.slow,
]


@pytest.fixture(scope="module")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('e2e-claims') / 'e2e.sqlite'}"


@pytest.fixture(scope="module", autouse=True)
def artifacts() -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for earlier in ARTIFACTS.iterdir():
        earlier.unlink()


@pytest.fixture
def page(browser, server):
    with windows(browser, "en-GB", DESKTOP) as open_window:
        yield open_window()


def look(page, name: str) -> None:
    """Check the page with axe and keep a screenshot of it, desktop and phone width."""
    look_and_keep(page, ARTIFACTS, name)


def attendance_certificate() -> bytes:
    """What a webinar platform sends its attendees: a one-page PDF."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4)
    canvas.drawString(72, 760, "Certificate of attendance")
    canvas.drawString(72, 730, f"Dimitar Petrov attended {WEBINAR} (4 CPD points).")
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def points_figure(page) -> str:
    """The renewal bar's "earned / required points" figure for the total."""
    figure = page.locator(".renewal .requirement .req-figure").first.inner_text()
    return re.sub(r"\s+", " ", figure)


def log_in_holder(page, server) -> None:
    page.goto(f"{server.url}/login")
    page.get_by_label("E-mail", exact=True).fill(HOLDER)
    page.get_by_label("Password", exact=True).fill(server.logins[HOLDER])
    page.get_by_label("Password", exact=True).press("Enter")
    page.wait_for_url("**/me/")


def test_1_the_holder_claims_a_webinar_with_its_certificate_of_attendance(page, server, tmp_path):
    log_in_holder(page, server)
    assert points_figure(page) == "7 / 20 points"
    server.state["before"] = words(page, ".renewal")
    look(page, "1-01-renewal-bar")

    page.click("text=Claim it with your evidence")
    look(page, "1-02-claim-form")
    evidence = tmp_path / "attendance.pdf"
    evidence.write_bytes(attendance_certificate())
    page.get_by_label("CPD points for a webinar, event or other course").check()
    page.get_by_label("Activity", exact=True).fill(WEBINAR)
    page.get_by_label("Provider or organiser").fill("EuSoMII")
    # Today: the demo's certificate was issued today too, and only CPD in its period counts.
    page.get_by_label("Date completed or attended").fill(dt.date.today().isoformat())
    page.get_by_label("CPD points", exact=True).fill("4")
    page.get_by_label("Evidence").set_input_files(str(evidence))
    page.click("text=Send the claim")
    page.wait_for_load_state()
    listed = words(page)
    assert WEBINAR in listed and "Waiting for review" in listed, listed
    look(page, "1-03-claim-pending")


def test_2_the_office_approves_the_claim(page, server):
    page.goto(f"{server.url}/login")
    page.get_by_label("E-mail", exact=True).fill("admin@efrs.example")
    page.get_by_label("Password", exact=True).fill(server.logins["admin@efrs.example"])
    page.get_by_label("Password", exact=True).press("Enter")
    page.wait_for_url("**/login/set-up-authenticator")
    page.fill("#code", pyotp.TOTP(page.inner_text("#totp-secret").strip()).now())
    page.click("text=Finish setting up")
    page.click("text=I have kept them")

    page.goto(f"{server.url}/admin/claims")
    look(page, "2-01-claims-queue")
    page.click("text=Димитър Петров")
    claim = words(page)
    assert WEBINAR in claim and "EuSoMII" in claim
    with page.expect_download() as download:
        page.click("a:has-text('attendance.pdf')")
    assert download.value.suggested_filename.endswith(".pdf")
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF-")
    look(page, "2-02-claim")
    page.click("text=Approve and record the CPD points")
    page.wait_for_load_state()
    assert "Approved" in words(page)
    look(page, "2-03-approved")


def test_3_the_renewal_bar_moves_on_by_the_webinar_s_points(page, server):
    log_in_holder(page, server)
    assert points_figure(page) == "11 / 20 points"
    assert words(page, ".renewal") != server.state["before"]
    assert WEBINAR in words(page, "#cpd")
    look(page, "3-01-renewal-bar-moved")
    page.click("text=your claims")
    assert "Approved" in words(page)
    look(page, "3-02-claims-approved")
