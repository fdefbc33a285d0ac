"""Approval by both bodies and revocation that sticks, as the programme office, each
body's officer and the holder click them in a real browser (Debian's Chromium, driven by
Playwright), each in a window of their own, against the app served by gunicorn, on SQLite
(and on PostgreSQL: test_revocation_journey_on_postgresql.py).

1. The office requests the Certificate for Łukasz, who meets every requirement (the
   demo's): it awaits approval by EFRS and EuSoMII; his page says so, and its code is not
   known to verification yet.
2. An EFRS officer (setting up the authenticator at the first login) lands on "Awaiting
   EFRS's approval" and approves it; it still awaits EuSoMII. A EuSoMII officer approves it:
   sealed and issued. Łukasz sees it valid; its public page names each body's approval day.
3. The EFRS officer revokes it with a reason, through the revoke form on his page: an
   empty reason is refused first, then a page of its own asks to confirm. It is suspended
   at once: his page and its public page say "Suspended — revocation requested by EFRS",
   and why.
4. The EuSoMII officer, offered to reinstate it or revoke it, revokes it: the award is put
   on hold. Łukasz's page shows it revoked, with no "Valid until" and no link to share; its
   public page says revoked, and why.
5. Under "Ready to issue" he is listed apart, on hold, with the revoked code, the date and
   the reason, and there is no button to request it for him.
6. The office lifts the hold with a reason and finds the whole story in the audit trail
   (requested, approved by each body, issued, suspended, revoked, hold placed and lifted,
   each by whom); it requests the award again from "Ready to issue", both officers approve
   the new request: the new certificate is valid, the old one is still revoked.

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

import pytest
import sqlalchemy as sa

from certification.config import APP_TIMEZONE
from certification.dates import format_long_date
from tests.conftest import DEFAULT_POSTGRES_HINT
from tests.e2e.browser import CHROMIUM, Server, log_in_staff, serious_violations, words

SCREEN = {"width": 1280, "height": 800}
OFFICE = "admin@efrs.example"
EFRS_OFFICER, EUSOMII_OFFICER = "officer@efrs.example", "officer@eusomii.example"
HOLDER, HOLDER_EMAIL = "Łukasz Wiśniewski", "lukasz.wisniewski@example.pl"
AWARD = "European Certificate in Imaging Informatics"
SUSPENDED_BECAUSE = "Issued in error: exam board to review"
REVOKED_BECAUSE = "Exam board confirmed the result was recorded against the wrong sitting"
LIFTED_BECAUSE = "Exam board reviewed the result on 4 December and confirmed the pass"
CODE = re.compile(r"\bEIC(?:-[0-9A-Z]{4}){4}-[0-9A-Z]\b")

MARKS = [
    # A developer without Chromium is told how to get it; CI (E2E_REQUIRED=1) fails instead.
    pytest.mark.skipif(
        not CHROMIUM.exists() and not os.environ.get("E2E_REQUIRED"),
        reason="browser tests need: apt-get install chromium (.ci/run installs it)",
    ),
    pytest.mark.slow,
]
# SQLite here; PostgreSQL in test_revocation_journey_on_postgresql.py, a file of its own so
# that the suite (a file to a worker) runs the two side by side.
pytestmark = [
    *MARKS,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True, scope="module"),
]


@pytest.fixture(scope="module")
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


def card_of(page: Any, code: str) -> str:
    """The holder's card of one certificate (or request) on their page, as read."""
    return re.sub(r"\s+", " ", page.locator("article", has_text=code).inner_text())


def awaiting(officer: Any, code: str) -> str:
    """Whom the request ``code`` still awaits, as the officer's queue says."""
    cells = officer.locator(f"#request-{code} td").all_inner_texts()
    return cells[-2].strip()  # the last is the decision


def approve(officer: Any, body: str, code: str) -> str:
    """An officer approves ``code`` for their body from their queue; the flash message."""
    officer.get_by_role("link", name=f"Awaiting {body}", exact=True).click()
    # Chromium names it "Approve for EFRS : Łukasz …" (the hidden span is blockified by
    # its position: absolute, so a space comes before the colon): either spelling will do.
    named = re.compile(rf"^Approve for {body} ?: {re.escape(HOLDER)}, {code}$")
    officer.get_by_role("button", name=named).click()
    return flash(officer)


def revoke_form(page: Any, code: str, summary: str) -> None:
    """Open the certificate's actions (``summary``: "Ask to revoke", "Revoke" or "Decide
    on the suspension of") on the candidate's page."""
    page.locator("details.certificate-actions summary", has_text=f"{summary} {code}").click()


def test_revoked_award_stays_on_hold_until_the_office_lifts_it(
    server: Server, windows: Windows, shots: Shots
) -> None:
    today = today_in_brussels()
    office = windows.open()
    log_in_staff(office, server, OFFICE)

    # 1. Ready to issue lists Łukasz; on his page the office requests the certificate,
    #    which awaits both bodies: nothing to verify yet, on his page "Awaiting approval".
    office.get_by_role("link", name="Ready to issue", exact=True).click()
    assert HOLDER in seen(office).partition("On hold (")[0]
    assert office.get_by_role("button", name=f"Request the certificate for {HOLDER}").count() == 1
    office.get_by_role("link", name=HOLDER, exact=True).click()
    holder_page = office.url
    office.get_by_role("button", name="Request certificate").click()
    requested = flash(office)
    assert f"({AWARD}) for {HOLDER}: it awaits approval by EFRS and EuSoMII" in requested
    assert "is not valid until both have approved." in requested, requested
    first = code_in(requested)
    pending = seen(office, f"#request-{first}")
    assert "Awaiting approval" in pending and "awaits approval by EFRS and EuSoMII" in pending
    assert office.get_by_role("button", name="Request certificate").count() == 0
    shots(office, "01-requested", focus="#certificates")

    holder = windows.open()
    log_in(holder, server, HOLDER_EMAIL)
    holder.wait_for_url("**/me/")
    card = card_of(holder, "was requested on")
    assert "Awaiting approval by EFRS and EuSoMII" in card and f"requested on {today}" in card
    assert holder.locator(f"#share-{first}").count() == 0
    shots(holder, "02-holder-sees-awaiting", focus="#certificates")
    assert holder.goto(f"{server.url}/verify/{first}").status == 404

    # 2. An officer of each body approves it, each in their own window, from the queue they
    #    land on; the second approval seals and issues it.
    efrs = windows.open()
    log_in_staff(efrs, server, EFRS_OFFICER)
    assert efrs.url.endswith("/admin/approvals")
    assert efrs.get_by_role("heading", level=1).inner_text() == "Awaiting EFRS's approval"
    row = seen(efrs, f"#request-{first}")
    assert HOLDER in row and AWARD in row and f"{today} by EFRS Programme Office" in row, row
    assert awaiting(efrs, first) == "EFRS and EuSoMII"
    shots(efrs, "03-efrs-queue", focus=f"#request-{first}")
    assert approve(efrs, "EFRS", first) == f"Approved {first} for EFRS; it awaits EuSoMII."
    assert efrs.locator(f"#request-{first}").count() == 0
    holder.goto(f"{server.url}/me/")
    assert "Awaiting approval by EuSoMII" in card_of(holder, "was requested on")
    assert holder.goto(f"{server.url}/verify/{first}").status == 404

    eusomii = windows.open()
    log_in_staff(eusomii, server, EUSOMII_OFFICER)
    assert eusomii.get_by_role("heading", level=1).inner_text() == "Awaiting EuSoMII's approval"
    assert awaiting(eusomii, first) == "EuSoMII"
    shots(eusomii, "04-eusomii-queue", focus=f"#request-{first}", axe=False)
    assert approve(eusomii, "EuSoMII", first) == (
        f"Approved by both bodies: certificate {first} is sealed and issued to {HOLDER},"
        " who is told by e-mail."
    )
    shots(eusomii, "05-approved-by-both")

    holder.goto(f"{server.url}/me/")
    card = card_of(holder, first)
    assert "Valid until" in card and "Awaiting approval" not in card, card
    assert holder.input_value(f"#share-{first}") == f"{server.url}/verify/{first}"
    holder.goto(f"{server.url}/verify/{first}")
    text = seen(holder)
    assert text.startswith(f"✓ Certificate {first} Valid") and HOLDER in text, text
    assert f"Approved by EFRS on {today} by EuSoMII on {today}" in text, text
    shots(holder, "06-verify-valid", axe=False)

    # 3. EFRS's officer revokes it. A missing reason is refused before anything is
    #    confirmed; with one, a page asks to confirm; it is suspended at once.
    efrs.goto(holder_page)
    revoke_form(efrs, first, "Ask to revoke")
    efrs.get_by_role("button", name="Ask to revoke for EFRS").click()
    assert "This field is required." in seen(efrs, "#certificates")
    assert efrs.locator("tr", has_text=first).get_by_text("Valid", exact=True).count() == 1
    shots(efrs, "07-revoke-needs-a-reason", focus="details.certificate-actions")
    efrs.get_by_label("Reason for revoking").fill(SUSPENDED_BECAUSE)
    efrs.get_by_role("button", name="Ask to revoke for EFRS").click()
    text = seen(efrs)
    assert efrs.get_by_role("heading", level=1).inner_text() == (
        f"Suspend {first} and ask EuSoMII to revoke it?"
    )
    assert "It is suspended at once" in text and SUSPENDED_BECAUSE in text, text
    assert "This cannot be undone." not in text, text
    shots(efrs, "08-suspend-confirm")
    efrs.get_by_role("button", name="Suspend and ask EuSoMII to revoke").click()
    assert f"Certificate {first} is suspended: it is not in force until the other body" in flash(
        efrs
    )
    suspended = f"Suspended — revocation requested by EFRS on {today}"
    text = seen(efrs, "#certificates")
    assert suspended in text and f"Reason: {SUSPENDED_BECAUSE}" in text, text
    assert efrs.locator(".hold").count() == 0  # not yet revoked: no hold
    assert efrs.locator("details.certificate-actions").count() == 0  # the other body decides
    shots(efrs, "09-suspended", focus="#certificates")

    holder.goto(f"{server.url}/me/")
    card = card_of(holder, first)
    assert suspended in card and f"Reason given: {SUSPENDED_BECAUSE}." in card, card
    assert "Valid until" not in card and "Link to share" not in card, card
    assert "Download the suspended copy, for your records" in card, card
    shots(holder, "10-holder-sees-suspended", focus="#certificates", axe=False)
    holder.goto(f"{server.url}/verify/{first}")
    text = seen(holder)
    assert f"{suspended} Reason: {SUSPENDED_BECAUSE}" in text and "not in force" in text, text
    shots(holder, "11-verify-suspended")

    # 4. EuSoMII's officer decides: revoked, for good; the award goes on hold.
    eusomii.goto(holder_page)
    revoke_form(eusomii, first, "Decide on the suspension of")
    assert eusomii.get_by_role("button", name="Reinstate for EuSoMII").count() == 1
    shots(eusomii, "12-decide-on-the-suspension", focus="details.certificate-actions")
    eusomii.get_by_label("Reason for revoking").fill(REVOKED_BECAUSE)
    eusomii.get_by_role("button", name="Revoke certificate").click()
    text = seen(eusomii)
    assert REVOKED_BECAUSE in text and "This cannot be undone." in text, text
    eusomii.get_by_role("button", name="Revoke certificate").click()
    assert f"Certificate {first} is revoked." in flash(eusomii)
    text = seen(eusomii, "#certificates")
    assert f"Revoked on {today}" in text and f"Reason: {REVOKED_BECAUSE}" in text, text
    hold = seen(eusomii, ".hold")
    assert f"On hold The {AWARD} is on hold for {HOLDER} since certificate {first}" in hold
    assert f"({REVOKED_BECAUSE})" in hold and "until the hold is lifted" in hold, hold
    assert f"was revoked on {today} (" in hold, hold  # the programme's day, as the status
    assert not windows.dialogs, windows.dialogs  # the confirmations are pages, not pop-ups
    shots(eusomii, "13-revoked-on-hold", focus="#certificates")

    # 5. The holder sees it revoked, with nothing to share; so does anyone who checks it.
    holder.goto(f"{server.url}/me/")
    card = card_of(holder, first)
    assert f"Revoked on {today}" in card and f"Reason given: {REVOKED_BECAUSE}" in card, card
    assert "Valid until" not in card and "Link to share" not in card, card
    assert holder.locator(f"#share-{first}").count() == 0
    assert "Download the revoked copy, for your records" in card
    shots(holder, "14-holder-sees-revoked", focus="#certificates")
    holder.goto(f"{server.url}/verify/{first}")
    text = seen(holder)
    assert f"Revoked on {today} Reason: {REVOKED_BECAUSE}" in text, text
    assert "It is no longer valid." in text and HOLDER in text
    shots(holder, "15-verify-revoked")

    # 6. Ready to issue: Łukasz only under On hold, with the code, date and reason; no
    #    button requests it for him.
    office.get_by_role("link", name="Ready to issue", exact=True).click()
    ready, on_hold, _ = seen(office).partition("On hold (")
    assert on_hold and HOLDER not in ready, ready
    assert office.get_by_role("button", name=f"Request the certificate for {HOLDER}").count() == 0
    row = office.locator("#on-hold ~ div tr", has_text=HOLDER)
    name, code, since, reason = (
        re.sub(r"\s+", " ", c) for c in row.locator("th, td").all_inner_texts()
    )
    assert (name, code, reason) == (HOLDER, first, REVOKED_BECAUSE) and since == today, since
    assert row.get_by_role("button").count() == 0
    shots(office, "16-ready-lists-on-hold", focus="#on-hold")

    # 7. The office lifts the hold with a reason and finds the whole story in the audit
    #    trail: who requested, approved, suspended, revoked and lifted, each in turn.
    row.get_by_role("link", name=HOLDER).click()
    office.locator("summary", has_text="Lift the hold").click()
    office.get_by_label("Why it may be issued again").fill(LIFTED_BECAUSE)
    shots(office, "17-lift-the-hold", focus=".hold", axe=False)
    office.get_by_role("button", name="Lift the hold").click()
    lifted = flash(office)
    assert f"The hold on the {AWARD} is lifted for {HOLDER}" in lifted, lifted
    assert office.locator(".hold").count() == 0
    assert office.get_by_role("button", name="Request certificate").count() == 1

    office.locator("summary", has_text="Settings").click()
    office.get_by_role("link", name="Audit", exact=True).click()
    office.get_by_label("Object").fill(first)
    office.get_by_role("button", name="Filter").click()
    assert "8 events match the filters." in seen(office)
    trail = office.locator("table tbody tr")
    events = [row.split("\t") for row in trail.all_inner_texts()]
    assert [(e[2], e[1]) for e in events] == [
        ("award_hold.lifted", OFFICE),
        ("award_hold.placed", EUSOMII_OFFICER),
        ("certificate.revoked", EUSOMII_OFFICER),
        ("certificate.suspended", EFRS_OFFICER),
        ("certificate.issued", EUSOMII_OFFICER),
        ("certificate.approved", EUSOMII_OFFICER),
        ("certificate.approved", EFRS_OFFICER),
        ("certificate.requested", OFFICE),
    ], events
    trail.first.get_by_text("Before and after").click()
    change = re.sub(r"\s+", " ", trail.first.inner_text())
    before, _, after = change.lower().partition("after {")  # the headings are in capitals
    assert f'"reason": "{REVOKED_BECAUSE}"'.lower() in before, change
    assert f'"reason": "{LIFTED_BECAUSE}"'.lower() in after, change
    shots(office, "18-audit-shows-the-story")

    # 8. The office requests the award again from Ready to issue; both bodies approve the
    #    new request: the new certificate is valid, the old one still revoked.
    office.get_by_role("link", name="Ready to issue", exact=True).click()
    assert HOLDER not in seen(office).partition("On hold (")[2]
    office.get_by_role("button", name=f"Request the certificate for {HOLDER}").click()
    requested = flash(office)
    assert f"for {HOLDER}: it awaits approval by EFRS and EuSoMII" in requested, requested
    second = code_in(requested)
    assert second != first
    shots(office, "19-requested-again", axe=False)
    holder.goto(f"{server.url}/me/")
    assert "Awaiting approval by EFRS and EuSoMII" in card_of(holder, "was requested on")
    assert holder.goto(f"{server.url}/verify/{second}").status == 404

    assert approve(efrs, "EFRS", second) == f"Approved {second} for EFRS; it awaits EuSoMII."
    assert approve(eusomii, "EuSoMII", second).startswith(
        f"Approved by both bodies: certificate {second} is sealed and issued to {HOLDER}"
    )
    holder.goto(f"{server.url}/verify/{second}")
    text = seen(holder)
    assert text.startswith(f"✓ Certificate {second} Valid") and HOLDER in text, text
    shots(holder, "20-verify-new-valid", axe=False)
    holder.goto(f"{server.url}/verify/{first}")
    assert f"Revoked on {today} Reason: {REVOKED_BECAUSE}" in seen(holder)
    holder.goto(f"{server.url}/me/")
    assert holder.input_value(f"#share-{second}") == f"{server.url}/verify/{second}"
    assert holder.locator(f"#share-{first}").count() == 0
    assert holder.locator("article", has_text="was requested on").count() == 0
    shots(holder, "21-holder-sees-both", focus="#certificates", axe=False)
