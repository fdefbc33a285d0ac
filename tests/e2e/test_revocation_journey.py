"""Revocation that sticks, as the programme office and the holder click it in a real
browser (Debian's Chromium, driven by Playwright) against the app served by gunicorn, on
SQLite and on PostgreSQL.

1. The office issues the Certificate to Łukasz, who meets every requirement (the demo's).
2. The office revokes it with a reason, through the revoke form on his page: an empty
   reason is refused first, then a page of its own asks to confirm.
3. Łukasz logs in: his page shows the certificate as revoked, with no "Valid until" and no
   link to share; its public page says revoked, and why.
4. Under "Ready to issue" he is listed apart, on hold, with the revoked code, the date and
   the reason, and there is no button to issue it to him.
5. The office lifts the hold with a reason, finds the lift in the audit trail, and issues
   the award again from "Ready to issue": the new certificate is valid, the old one is
   still revoked.

axe-core checks each page on the way. Screenshots at 1280×800 go to the test's temporary
folder; with E2E_SHOTS set, they are copied there too, as journey-<database>-<step>.png.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pyotp
import pytest
import sqlalchemy as sa

from certification.config import APP_TIMEZONE
from certification.dates import format_long_date
from tests.conftest import DEFAULT_POSTGRES_HINT
from tests.e2e.browser import CHROMIUM, Server, serious_violations, words

SCREEN = {"width": 1280, "height": 800}
OFFICE = "admin@efrs.example"
HOLDER, HOLDER_EMAIL = "Łukasz Wiśniewski", "lukasz.wisniewski@example.pl"
AWARD = "European Certificate in Imaging Informatics"
REVOKED_BECAUSE = "Issued in error: exam board to review"
LIFTED_BECAUSE = "Exam board reviewed the result on 4 December and confirmed the pass"
CODE = re.compile(r"\bEIC(?:-[0-9A-Z]{4}){4}-[0-9A-Z]\b")

pytestmark = [
    # A developer without Chromium is told how to get it; CI (E2E_REQUIRED=1) fails instead.
    pytest.mark.skipif(
        not CHROMIUM.exists() and not os.environ.get("E2E_REQUIRED"),
        reason="browser tests need: apt-get install chromium (.ci/run installs it)",
    ),
    pytest.mark.slow,
]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """An empty database for the served app: a SQLite file, or a PostgreSQL database of this
    process's own made next to TEST_DATABASE_URL (named so that the suite's clean-up of
    dead runs drops it if this run is killed) and dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('e2e-sqlite') / 'e2e.sqlite'}"
        return
    given = os.environ.get("TEST_DATABASE_URL")
    if not given:
        pytest.skip(f"PostgreSQL run skipped: set TEST_DATABASE_URL (e.g. {DEFAULT_POSTGRES_HINT})")
    base = sa.make_url(given)
    name = f"{base.database}_e2e_run_{os.getpid()}"
    server = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.SQLAlchemyError as error:
        server.dispose()
        pytest.skip(f"PostgreSQL run skipped: cannot make a database next to {given} ({error})")
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with server.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


class Shots:
    """A screenshot of each step as a 1280×800 screen shows it, scrolled to what the step is
    about (``focus``); axe checks the whole page first."""

    def __init__(self, folder: Path, database: str) -> None:
        self.folder, self.database = folder, database
        self.copy_to = Path(os.environ["E2E_SHOTS"]) if os.environ.get("E2E_SHOTS") else None
        if self.copy_to:
            self.copy_to.mkdir(parents=True, exist_ok=True)

    def __call__(self, page: Any, name: str, focus: str | None = None, axe: bool = True) -> None:
        page.wait_for_load_state()
        if axe:  # each kind of page once: axe takes about a second
            serious = serious_violations(page)
            assert not serious, f"{name}: {serious}"
        if focus:
            page.locator(focus).first.evaluate(
                "e => { e.scrollIntoView({block: 'start'}); window.scrollBy(0, -24); }"
            )
        shot = self.folder / f"journey-{self.database}-{name}.png"
        page.screenshot(path=shot)
        if self.copy_to:
            shutil.copy(shot, self.copy_to / shot.name)


@pytest.fixture
def shots(server: Server, tmp_path: Path) -> Shots:
    return Shots(tmp_path, server.database)


class Windows:
    """A browser window of its own (cookies and all) for each person. Every pop-up dialog
    is accepted and kept in ``dialogs``; console errors are kept in ``errors``."""

    def __init__(self, browser: Any) -> None:
        self.browser = browser
        self.contexts: list[Any] = []
        self.dialogs: list[str] = []
        self.errors: list[str] = []

    def open(self) -> Any:
        context = self.browser.new_context(viewport=SCREEN, locale="en-GB")
        self.contexts.append(context)
        page = context.new_page()
        page.on("dialog", self._accept)
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        return page

    def _accept(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.accept()


@pytest.fixture
def windows(browser: Any) -> Iterator[Windows]:
    opened = Windows(browser)
    yield opened
    for context in opened.contexts:
        context.close()
    # A page broken by the Content-Security-Policy says so in the console.
    assert not [e for e in opened.errors if "Content Security Policy" in e], opened.errors


def log_in(page: Any, server: Server, email: str) -> None:
    page.goto(f"{server.url}/login")
    page.get_by_label("E-mail", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(server.logins[email])
    page.get_by_label("Password", exact=True).press("Enter")


def log_in_office(page: Any, server: Server) -> None:
    """The office's first login: it sets up the authenticator, then keeps its codes."""
    log_in(page, server, OFFICE)
    page.wait_for_url("**/login/set-up-authenticator")
    secret = page.inner_text("#totp-secret").strip()
    page.fill("#code", pyotp.TOTP(secret).now())
    page.click("text=Finish setting up")
    page.click("text=I have kept them")


def seen(page: Any, selector: str = "main") -> str:
    """What the page now shows in ``selector``, once the page a click led to has loaded."""
    page.wait_for_load_state()
    return words(page, selector)


def flash(page: Any) -> str:
    """The messages at the top of the page, once the page a click led to has loaded."""
    page.wait_for_load_state()
    return " ".join(re.sub(r"\s+", " ", t) for t in page.locator(".flash").all_inner_texts())


def code_in(message: str) -> str:
    found = CODE.search(message)
    assert found, message
    return found.group(0)


def today_in_brussels() -> str:
    """Today as the pages word it: the programme's own calendar (APP_TIMEZONE)."""
    return format_long_date(dt.datetime.now(ZoneInfo(APP_TIMEZONE)).date())


def test_revoked_award_stays_on_hold_until_an_officer_lifts_it(
    server: Server, windows: Windows, shots: Shots
) -> None:
    today = today_in_brussels()
    office = windows.open()
    log_in_office(office, server)

    # 1. Ready to issue lists Łukasz; on his page the office issues the certificate.
    office.get_by_role("link", name="Ready to issue", exact=True).click()
    assert HOLDER in seen(office).partition("On hold (")[0]
    assert office.get_by_role("button", name=f"Issue the certificate to {HOLDER}").count() == 1
    office.get_by_role("link", name=HOLDER, exact=True).click()
    office.get_by_role("button", name="Issue certificate").click()
    issued = flash(office)
    assert f"({AWARD}) is issued to {HOLDER}" in issued, issued
    first = code_in(issued)
    shots(office, "01-issued", axe=False)

    # 2. The office revokes it. A missing reason is refused before anything is confirmed;
    #    with one, a page shows it and asks to confirm what cannot be undone.
    office.get_by_text(f"Correct or revoke {first}").click()
    office.get_by_role("button", name="Revoke certificate").click()
    assert "This field is required." in seen(office, "#certificates")
    assert office.locator("tr", has_text=first).get_by_text("Valid", exact=True).count() == 1
    shots(office, "02-revoke-needs-a-reason", focus="details.certificate-actions")
    office.get_by_label("Reason for revoking").fill(REVOKED_BECAUSE)
    office.get_by_role("button", name="Revoke certificate").click()
    text = seen(office)
    assert office.get_by_role("heading", level=1).inner_text() == f"Revoke certificate {first}?"
    assert REVOKED_BECAUSE in text and "This cannot be undone." in text, text
    shots(office, "03-revoke-confirm")
    office.get_by_role("button", name="Revoke certificate").click()
    assert f"Certificate {first} is revoked." in flash(office)
    text = seen(office, "#certificates")
    assert f"Revoked on {today}" in text and f"Reason: {REVOKED_BECAUSE}" in text, text
    hold = seen(office, ".hold")
    assert f"On hold The {AWARD} is on hold for {HOLDER} since certificate {first}" in hold
    assert f"({REVOKED_BECAUSE})" in hold and "until the hold is lifted" in hold, hold
    assert f"was revoked on {today} (" in hold, hold  # the programme's day, as the status
    assert office.get_by_role("button", name="Issue certificate").count() == 0
    assert not windows.dialogs, windows.dialogs  # the confirmation is a page, not a pop-up
    shots(office, "04-revoked-on-hold", focus="#certificates")

    # 3. The holder sees it revoked, with nothing to share; so does anyone who checks it.
    holder = windows.open()
    log_in(holder, server, HOLDER_EMAIL)
    holder.wait_for_url("**/me/")
    card = re.sub(r"\s+", " ", holder.locator("article", has_text=first).inner_text())
    assert f"Revoked on {today}" in card and f"Reason given: {REVOKED_BECAUSE}" in card, card
    assert "Valid until" not in card and "Link to share" not in card, card
    assert holder.locator(f"#share-{first}").count() == 0
    assert "Download the revoked copy, for your records" in card
    shots(holder, "05-holder-sees-revoked", focus="#certificates")
    holder.goto(f"{server.url}/verify/{first}")
    text = seen(holder)
    assert f"Revoked on {today} Reason: {REVOKED_BECAUSE}" in text, text
    assert "It is no longer valid." in text and HOLDER in text
    shots(holder, "06-verify-revoked")

    # 4. Ready to issue: Łukasz only under On hold, with the code, date and reason; no
    #    button issues it to him.
    office.get_by_role("link", name="Ready to issue", exact=True).click()
    ready, on_hold, _ = seen(office).partition("On hold (")
    assert on_hold and HOLDER not in ready, ready
    assert office.get_by_role("button", name=f"Issue the certificate to {HOLDER}").count() == 0
    row = office.locator("#on-hold ~ div tr", has_text=HOLDER)
    name, code, since, reason = (
        re.sub(r"\s+", " ", c) for c in row.locator("th, td").all_inner_texts()
    )
    assert (name, code, reason) == (HOLDER, first, REVOKED_BECAUSE) and since == today, since
    assert row.get_by_role("button").count() == 0
    shots(office, "07-ready-lists-on-hold", focus="#on-hold")

    # 5. The office lifts the hold with a reason, finds the lift audited, and issues again.
    row.get_by_role("link", name=HOLDER).click()
    office.locator("summary", has_text="Lift the hold").click()
    office.get_by_label("Why it may be issued again").fill(LIFTED_BECAUSE)
    shots(office, "08-lift-the-hold", focus=".hold", axe=False)
    office.get_by_role("button", name="Lift the hold").click()
    lifted = flash(office)
    assert f"The hold on the {AWARD} is lifted for {HOLDER}" in lifted, lifted
    assert office.locator(".hold").count() == 0
    assert office.get_by_role("button", name="Issue certificate").count() == 1

    office.locator("summary", has_text="Settings").click()
    office.get_by_role("link", name="Audit", exact=True).click()
    office.get_by_label("Object").fill(first)
    office.get_by_role("button", name="Filter").click()
    assert "4 events match the filters." in seen(office)
    trail = office.locator("table tbody tr")
    events = [row.split("\t") for row in trail.all_inner_texts()]
    assert [e[2] for e in events] == [
        "award_hold.lifted",
        "award_hold.placed",
        "certificate.revoked",
        "certificate.issued",
    ], events
    assert {e[1] for e in events} == {OFFICE}
    trail.first.get_by_text("Before and after").click()
    change = re.sub(r"\s+", " ", trail.first.inner_text())
    before, _, after = change.lower().partition("after {")  # the headings are in capitals
    assert f'"reason": "{REVOKED_BECAUSE}"'.lower() in before, change
    assert f'"reason": "{LIFTED_BECAUSE}"'.lower() in after, change
    shots(office, "09-audit-shows-the-lift")

    office.get_by_role("link", name="Ready to issue", exact=True).click()
    assert HOLDER not in seen(office).partition("On hold (")[2]
    office.get_by_role("button", name=f"Issue the certificate to {HOLDER}").click()
    issued = flash(office)
    assert f"is issued to {HOLDER}" in issued, issued
    second = code_in(issued)
    assert second != first
    shots(office, "10-issued-again", axe=False)

    holder.goto(f"{server.url}/verify/{second}")
    text = seen(holder)
    assert text.startswith(f"✓ Certificate {second} Valid") and HOLDER in text, text
    shots(holder, "11-verify-new-valid", axe=False)
    holder.goto(f"{server.url}/verify/{first}")
    assert f"Revoked on {today} Reason: {REVOKED_BECAUSE}" in seen(holder)
    holder.goto(f"{server.url}/me/")
    assert holder.input_value(f"#share-{second}") == f"{server.url}/verify/{second}"
    assert holder.locator(f"#share-{first}").count() == 0
    shots(holder, "12-holder-sees-both", focus="#certificates", axe=False)
