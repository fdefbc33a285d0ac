"""The journeys of test_journeys.py once in German and once in Greek, as a German or a Greek
reader meets them: the page says ``<html lang="de">``, its headings, buttons and messages
are the catalogue's, its dates are that language's long form ("6. Dezember 2026") and its
numbers have the decimal comma (7,5 ECTS); the candidate's PDF is in English and in their
language.

The expected words are looked up in the compiled catalogues (``make catalogues``), never
written here, so a changed translation changes the test with it; two literal words ("Gültig",
"Έγκυρο") check that the lookup is not silently English. Elements are found by id, name,
form action or data attribute, or by their translated role name, never by English text.

Each language reaches the page its own way:

* German: every window's browser asks for it (``Accept-Language: de-DE``). The EFRS office
  and both officers log in for the first time (setting up their authenticators); the office
  makes Łukasz Wiśniewski's language German, records a course of 7,5 ECTS and a result,
  and requests his certificate; EFRS asks for the revocation of Димитър Петров's (the demo's
  valid one) and EuSoMII revokes it.
* Greek: the EuSoMII office and both officers (logging in again, now with a code) have
  Greek browsers; the office also saves Ελληνικά on its Settings page, which then wins over
  ``?lang=``. The office makes Αικατερίνη Παπαδοπούλου's language Greek and requests hers;
  the officers revoke the certificate the German journey issued. The verifier's browser is
  English: they pick Ελληνικά from the language menu, and its cookie keeps the next pages,
  the QR code's address too, in Greek.

A fifth test reads the German journeys' certificate (7,5 ECTS in two domains) on the
verification page in each language: its credits are written the reader's way too.

One server (the demo) and one browser serve the file; the Greek journeys follow the German
ones on it. axe-core checks each page looked at; screenshots at a desktop and a phone width
go to tests/e2e/artifacts/<language>/ (or E2E_ARTIFACTS/<language>/), kept for people to
look at. SQLite, as the English journeys; E2E_POSTGRESQL=1 serves it from a PostgreSQL
database made next to TEST_DATABASE_URL instead.
"""

from __future__ import annotations

import datetime as dt
import html
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyotp
import pytest
import sqlalchemy as sa
from babel.dates import format_date
from babel.lists import format_list
from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations

from certification.languages import formatting_locale
from tests.e2e.browser import DESKTOP, PHONE, serious_violations, windows, words
from tests.e2e.test_journeys import (
    ARTIFACTS,
    CODE,
    PDFTOPPM,
    ZBARIMG,
    pytestmark,  # noqa: F401 - the same skip (Chromium, poppler, zbar) and the slow mark
)

TRANSLATIONS = Path(__file__).resolve().parents[2] / "certification" / "translations"
PDFTOTEXT = shutil.which("pdftotext") or "pdftotext"
AWARD = "European Certificate in Imaging Informatics"
BOTH = ["EFRS", "EuSoMII"]


@pytest.fixture(scope="module")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A SQLite file; with E2E_POSTGRESQL=1, a PostgreSQL database of this process's own made
    next to TEST_DATABASE_URL and dropped afterwards."""
    given = os.environ.get("TEST_DATABASE_URL")
    if not (os.environ.get("E2E_POSTGRESQL") and given):
        yield f"sqlite:///{tmp_path_factory.mktemp('e2e-languages') / 'e2e.sqlite'}"
        return
    base = sa.make_url(given)
    name = f"{base.database}_e2e_run_{os.getpid()}_languages"
    engine = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    drop = sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    with engine.connect() as connection:
        connection.execute(drop)
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with engine.connect() as connection:
            connection.execute(drop)
        engine.dispose()


class Catalogue:
    """A language's words as the app's compiled catalogue has them, and its dates and
    numbers as Babel writes them for that language."""

    def __init__(self, language: str) -> None:
        self.language = language
        self.translations: NullTranslations = NullTranslations()  # English: the messages
        if language != "en":
            self.translations = Translations.load(str(TRANSLATIONS), [language])
            # Without a compiled catalogue Babel falls back to English without a word.
            assert isinstance(self.translations, Translations), "no catalogue: make catalogues"

    def __call__(self, message: str, **values: str) -> str:
        """``message`` in this language, its markup gone, white space as a reader sees it."""
        text = self.translations.ugettext(message)
        text = text % values if values else text
        return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", "", text))).strip()

    def date(self, day: dt.date) -> str:
        return format_date(day, format="long", locale=formatting_locale(self.language))

    def number(self, value: str) -> str:
        return format_decimal(Decimal(value), locale=formatting_locale(self.language))

    def both(self) -> str:
        return format_list(BOTH, locale=formatting_locale(self.language))


def today() -> dt.date:
    return dt.date.today()


class Journeys:
    """The four journeys; a subclass names the language and who takes part."""

    language: str
    locale: str  # the Accept-Language of the office's, officers' and candidate's browsers
    verifier_locale: str
    office: str
    candidate: str
    search: str  # finds the candidate on the candidates page
    course: str
    provider: str
    attempt: str  # the candidate's attempt at the examination the office records
    annulled: str  # the officers' reason for revoking, in their language
    valid: str  # "Valid" as a literal, to check the catalogue look-up

    @staticmethod
    def revokes(server: Any) -> tuple[str, str]:
        """Whose certificate the officers revoke: a search that finds them, their name."""
        raise NotImplementedError

    @pytest.fixture(scope="class")
    @classmethod
    def t(cls) -> Catalogue:
        return Catalogue(cls.language)

    @pytest.fixture(scope="class")
    @classmethod
    def shots(cls) -> Path:
        """This language's screenshots and files, this run's only."""
        folder = ARTIFACTS / cls.language
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        return folder

    @pytest.fixture
    def window(self, browser, server):
        """A browser window of its own (cookies and all) for each person, asking for
        ``locale``'s language unless told another."""
        with windows(browser, self.locale, DESKTOP) as open_window:
            yield open_window

    # ------------------------------------------------------------------ helpers

    def look(self, page: Any, shots: Path, name: str) -> None:
        """The page is in this language; axe finds nothing serious; screenshots at a desktop
        and a phone width, and the phone's page does not scroll sideways."""
        # "load", not "networkidle" (half a second of quiet on every page): no script of
        # the app fetches anything once a page has loaded.
        page.wait_for_load_state("load")
        assert page.locator("html").get_attribute("lang") == self.language, name
        serious = serious_violations(page)
        assert not serious, f"{self.language} {name}: {serious}"
        page.screenshot(path=shots / f"{name}-desktop.png", full_page=True)
        page.set_viewport_size(PHONE)
        page.screenshot(path=shots / f"{name}-phone.png", full_page=True)
        wide = page.evaluate("document.documentElement.scrollWidth")
        assert wide <= PHONE["width"], f"{self.language} {name}: {wide} px wide on a phone"
        page.set_viewport_size(DESKTOP)

    @staticmethod
    def flash(page: Any) -> str:
        page.wait_for_load_state()
        return " ".join(re.sub(r"\s+", " ", t) for t in page.locator(".flash").all_inner_texts())

    @staticmethod
    def heading(page: Any) -> str:
        return re.sub(r"\s+", " ", page.locator("main h1").first.inner_text()).strip()

    @staticmethod
    def code_in(text: str) -> str:
        found = CODE.search(text)
        assert found, text
        return found.group(0)

    def log_in(
        self, page: Any, server: Any, t: Catalogue, email: str, shots: Path | None = None
    ) -> None:
        """Password, then the authenticator: set up on a first login (its key kept in
        ``server.state``), a code from it on a later one; with ``shots``, that page is looked
        at. The page is where the login lands."""
        page.goto(f"{server.url}/login")
        page.fill("#email", email)
        page.fill("#password", server.logins[email])
        page.press("#password", "Enter")
        page.wait_for_url(re.compile(r"/login/(set-up-authenticator|code)$"))
        steps = server.state.setdefault("totp", {})
        if page.url.endswith("/set-up-authenticator"):
            assert self.heading(page) == t("Set up your authenticator")
            if shots:
                self.look(page, shots, "1-02-set-up-authenticator")
            secret = page.inner_text("#totp-secret").strip()
            totp = pyotp.TOTP(secret)
            steps[email] = (secret, totp.timecode(dt.datetime.now()))
            page.fill("#code", totp.now())
            page.press("#code", "Enter")
            page.wait_for_selector("#recovery-codes")
            assert self.heading(page) == t("Your recovery codes")
            page.get_by_role("link", name=t("I have kept them")).click()
        else:
            assert self.heading(page) == t("Your code")
            if shots:
                self.look(page, shots, "2-00-code")
            secret, used = steps[email]
            totp = pyotp.TOTP(secret)
            # A code is good once: the next step's, if this step's was used already.
            step = max(totp.timecode(dt.datetime.now()), used + 1)
            steps[email] = (secret, step)
            page.fill("#code", totp.generate_otp(step))
            page.press("#code", "Enter")
        page.wait_for_url(lambda url: "/login" not in url)

    def open_certificate_actions(
        self, page: Any, server: Any, search: str, name: str, summary: str
    ) -> Any:
        """On ``name``'s page, open the actions on their certificate, whose summary reads
        ``summary`` (its code left out), and give the reason for revoking it."""
        page.goto(f"{server.url}/admin/candidates?q={search}")
        page.get_by_role("link", name=name, exact=True).click()
        actions = page.locator("details.certificate-actions").first
        said = re.sub(r"\s+", " ", actions.locator("summary").inner_text()).strip()
        code = self.code_in(said)
        # The summary is the catalogue's sentence around the code.
        assert said == summary.replace("\0", code), said
        actions.locator("summary").click()
        actions.locator("form[action*='/revoke'] [name=reason]").fill(self.annulled)
        return actions

    # ------------------------------------------------------------------ journeys

    def test_1_office_requests_the_certificate(self, window, server, t, shots):
        page = window()
        page.goto(f"{server.url}/login")
        assert self.heading(page) == t("Log in")
        self.look(page, shots, "1-01-login")
        self.log_in(page, server, t, self.office, shots)

        if self.language == "el":
            # The office saves its language on the Settings page; it then wins over ?lang=.
            page.goto(f"{server.url}/account/security")
            assert self.heading(page) == t("Settings")
            page.select_option("#language", self.language)
            page.click("main form[action$='/account/language'] [type=submit]")
            assert t("Your language is saved.") in self.flash(page)
            assert page.input_value("#language") == self.language
            self.look(page, shots, "1-03-settings")
            page.goto(f"{server.url}/admin/candidates?lang=de")
            assert page.locator("html").get_attribute("lang") == "el"

        page.goto(f"{server.url}/admin/courses/new")
        self.look(page, shots, "1-04-new-course")
        page.fill("#code", self.course)
        page.fill("#title", "Cybersecurity for PACS and modalities")
        page.fill("#credits", t.number("7.5"))  # typed the reader's way: 7,5
        page.fill("#domain", "Information Security & Data Protection")
        page.select_option("#provider", self.provider)
        page.click("main button[type=submit]")
        assert t("Course %(code)s is created.", code=self.course.upper()) in self.flash(page)

        # The candidate's language: their pages, e-mails and their certificate's second one.
        page.goto(f"{server.url}/admin/candidates?q={self.search}")
        self.look(page, shots, "1-05-candidates")
        page.get_by_role("link", name=self.candidate, exact=True).click()
        server.state[f"{self.language}-candidate"] = page.url
        page.click(".page-head a[href$='/edit']")
        page.select_option("#language", self.language)
        self.look(page, shots, "1-06-candidate-language")
        page.click("main button[type=submit]")
        assert t("The candidate's details are saved.") in self.flash(page)

        page.select_option("#course", self.course.upper())
        page.fill("#completed_on", (today() - dt.timedelta(days=3)).isoformat())
        page.click("form[action$='/credits'] [type=submit]")
        recorded = self.flash(page)
        assert (
            t(
                "Recorded %(course)s (%(credits)s ECTS) for %(name)s.",
                course=self.course.upper(),
                credits=t.number("7.5"),
                name=self.candidate,
            )
            in recorded
        ), recorded
        assert "7,5 ECTS" in recorded  # the decimal comma, in German and in Greek alike
        page.select_option("#assessment", "CERT-EXAM")
        page.fill("#score", t.number("71.5"))
        page.fill("#taken_on", (today() - dt.timedelta(days=1)).isoformat())
        page.click("form[action$='/results'] [type=submit]")
        scored = self.flash(page)
        assert (
            t(
                "Recorded attempt %(ordinal)s at %(assessment)s (score %(score)s) for %(name)s.",
                ordinal=self.attempt,
                assessment="CERT-EXAM",
                score=t.number("71.5"),
                name=self.candidate,
            )
            in scored
        ), scored
        assert "71,5" in scored
        self.look(page, shots, "1-07-candidate-eligible")

        page.click("form:has(input[name=programme][value='EII-C']) [type=submit]")
        requested = self.flash(page)
        code = self.code_in(requested)
        server.state[f"{self.language}-code"] = code
        assert requested == t(
            "Requested %(code)s (%(programme)s) for %(name)s: it awaits approval by"
            " %(bodies)s, and is not valid until both have approved.",
            code=code,
            programme=AWARD,
            name=self.candidate,
            bodies=t.both(),
        ), requested
        pending = words(page, f"#request-{code}")
        assert t("Awaiting approval") in pending and t.date(today()) in pending, pending
        assert t("It is not valid until both bodies have approved.") in pending
        self.look(page, shots, "1-08-requested")
        page.click("form[action$='/password-link'] [type=submit]")
        assert t("A new set-password link is ready; any earlier link no longer works.") in (
            self.flash(page)
        )
        link = page.inner_text(".secret-link").strip()
        assert "/set-password/" in link
        server.state[f"{self.language}-link"] = link

    def test_2_each_body_approves_and_revokes(self, window, server, t, shots):
        code = server.state[f"{self.language}-code"]
        search, name = self.revokes(server)

        efrs = window()
        self.log_in(efrs, server, t, "officer@efrs.example", shots)
        assert efrs.url.endswith("/admin/approvals")
        assert self.heading(efrs) == t("Awaiting %(body)s's approval", body="EFRS")
        row = words(efrs, f"#request-{code}")
        assert self.candidate in row and t.date(today()) in row, row
        self.look(efrs, shots, "2-01-approvals-queue")
        efrs.click(f"#request-{code} form[action*='/approve'] [type=submit]")
        assert self.flash(efrs) == t(
            "Approved %(code)s for %(body)s; it awaits %(bodies)s.",
            code=code,
            body="EFRS",
            bodies="EuSoMII",
        )
        assert efrs.locator(f"#request-{code}").count() == 0

        # EFRS asks for the revocation: the certificate is suspended at once.
        actions = self.open_certificate_actions(
            efrs,
            server,
            search,
            name,
            t('Ask to revoke <span class="code">%(code)s</span>', code="\0"),
        )
        revoked = self.code_in(actions.locator("summary").inner_text())
        server.state[f"{self.language}-revoked"] = revoked
        self.look(efrs, shots, "2-02-officer-revokes")
        actions.locator("form[action*='/revoke'] [type=submit]").click()
        efrs.wait_for_load_state()
        assert self.heading(efrs) == t(
            'Suspend <span class="code">%(code)s</span> and ask %(other)s to revoke it?',
            code=revoked,
            other="EuSoMII",
        )
        assert t(
            "It is suspended at once: anyone who verifies it will see that %(body)s asked for"
            " its revocation, with this reason:",
            body="EFRS",
        ) in words(efrs)
        self.look(efrs, shots, "2-03-suspend-confirm")
        efrs.click("main form[action*='/revoke'] button.danger")
        assert t(
            "Certificate %(code)s is suspended: it is not in force until the other body"
            " revokes it or reinstates it.",
            code=revoked,
        ) in self.flash(efrs)
        suspended = t(
            "Suspended — revocation requested by %(body)s on %(day)s",
            body="EFRS",
            day=t.date(today()),
        )
        assert suspended in words(efrs, "#certificates")
        efrs.goto(f"{server.url}/verify/{revoked}")
        assert words(efrs, "#status-word").strip() == suspended
        assert self.annulled in words(efrs)
        self.look(efrs, shots, "2-04-verify-suspended")

        eusomii = window()
        self.log_in(eusomii, server, t, "officer@eusomii.example")
        assert self.heading(eusomii) == t("Awaiting %(body)s's approval", body="EuSoMII")
        self.look(eusomii, shots, "2-05-approvals-queue-eusomii")
        eusomii.click(f"#request-{code} form[action*='/approve'] [type=submit]")
        assert self.flash(eusomii) == t(
            "Approved by both bodies: certificate %(code)s is sealed and issued to %(name)s,"
            " who is told by e-mail.",
            code=code,
            name=self.candidate,
        )
        self.look(eusomii, shots, "2-06-issued")
        eusomii.goto(f"{server.url}/verify/{code}")
        assert words(eusomii, "#status-word").strip() == t("Valid") == self.valid

        actions = self.open_certificate_actions(
            eusomii,
            server,
            search,
            name,
            t('Decide on the suspension of <span class="code">%(code)s</span>', code="\0"),
        )
        reinstate = actions.locator("form[action*='/reinstate'] [type=submit]")
        assert reinstate.inner_text().strip() == t("Reinstate for %(body)s", body="EuSoMII")
        self.look(eusomii, shots, "2-07-decide-on-the-suspension")
        actions.locator("form[action*='/revoke'] [type=submit]").click()
        eusomii.wait_for_load_state()
        assert self.heading(eusomii) == t(
            'Revoke certificate <span class="code">%(code)s</span>?', code=revoked
        )
        assert t(
            "<strong>This cannot be undone.</strong> The award is also put on hold for"
            " %(name)s until the programme office lifts the hold.",
            name=name,
        ) in words(eusomii)
        self.look(eusomii, shots, "2-08-revoke-confirm")
        eusomii.click("main form[action*='/revoke'] button.danger")
        assert t("Certificate %(code)s is revoked.", code=revoked) in self.flash(eusomii)
        assert t("Revoked on %(day)s", day=t.date(today())) in words(eusomii, "#certificates")
        self.look(eusomii, shots, "2-09-revoked")

        eusomii.goto(f"{server.url}/admin/reports")
        assert self.heading(eusomii) == t("Reports")
        counted = eusomii.locator("dd[data-status=revoked]")
        label = counted.locator("xpath=preceding-sibling::dt[1]").text_content() or ""
        assert label.strip() == t("Revoked")
        assert int(counted.inner_text()) >= 2  # the demo's and this one
        # The status table's longer headings scroll in German and Greek: its box is
        # reachable by keyboard (axe's scrollable-region-focusable).
        self.look(eusomii, shots, "2-10-reports")

    def test_3_candidate_sets_a_password_and_shares_the_certificate(self, window, server, t, shots):
        code = server.state[f"{self.language}-code"]
        page = window()
        page.goto(server.state[f"{self.language}-link"])
        assert self.heading(page) == t("Choose a new password")
        self.look(page, shots, "3-01-choose-password")
        password = "Ζugspitze και Όλυμπος 2026"
        page.fill("#password", password)
        page.fill("#confirm", password)
        page.press("#confirm", "Enter")
        page.wait_for_url("**/me/")
        assert t("Your password is set.") in self.flash(page)
        assert self.heading(page) == self.candidate
        assert t(
            "Your progress towards the awards of EFRS and EuSoMII, as of %(day)s.",
            day=t.date(today()),
        ) in words(page)
        card = words(page, f"article:has(#cert-{code}-title)")
        assert t("Valid") in card and t.date(today()) in card, card  # issued today
        self.look(page, shots, "3-02-progress")

        with page.expect_download() as download:
            page.click(f"a[href$='{code}.pdf']")
        pdf = shots / f"{code}.pdf"
        download.value.save_as(pdf)
        server.state[f"{self.language}-pdf"] = str(pdf)
        # Bilingual: the holder's language beside English, each with its own long dates.
        text = re.sub(
            r"\s+",
            " ",
            subprocess.run(  # noqa: S603
                [PDFTOTEXT, str(pdf), "-"], capture_output=True, text=True, check=True
            ).stdout,
        )
        english = Catalogue("en")
        for language in (t, english):
            assert language("This is to certify that") in text, text
            issued = language("Issued on %(date)s", date=language.date(today()))
            assert issued in text, (issued, text)
        assert t("This is to certify that") != english("This is to certify that")

        share = page.input_value(f"#share-{code}")
        page.goto(share)
        assert words(page, "#status-word").strip() == t("Valid")
        assert self.candidate in words(page)
        self.look(page, shots, "3-03-share-link")

    def test_4_verifier_checks_by_code_pdf_revocation_and_qr(self, window, server, t, shots):
        code = server.state[f"{self.language}-code"]
        page = window(self.verifier_locale)
        page.goto(f"{server.url}/verify")
        if page.locator("html").get_attribute("lang") != self.language:
            # An English browser: the reader picks their language from the menu once.
            page.click("details.nav-language summary")
            page.click(f"details.nav-language a[hreflang={self.language}]")
            page.wait_for_url(f"**lang={self.language}")
        assert self.heading(page) == t("Check a certificate")
        self.look(page, shots, "4-01-verify")
        page.fill("#code", code.lower().replace("-", ""))
        page.press("#code", "Enter")
        page.wait_for_url(f"**/verify/{code}")
        assert words(page, "#status-word").strip() == t("Valid") == self.valid
        text = words(page)
        assert code in text and self.candidate in text
        for body in BOTH:  # each body's approval day, the reader's long date
            assert t("by %(body)s on %(day)s", body=body, day=t.date(today())) in text, text
        self.look(page, shots, "4-02-valid")

        page.goto(f"{server.url}/verify")
        page.set_input_files("#file", server.state[f"{self.language}-pdf"])
        page.click("#check_pdf")
        page.wait_for_load_state()
        assert words(page, "#status-word").strip() == t("Valid")
        assert (
            words(page, "#file-fact")
            .strip()
            .endswith(
                t("The file is exactly as issued, and both bodies' digital seals are intact.")
            )
        )
        self.look(page, shots, "4-03-authentic")

        page.goto(f"{server.url}/verify/{server.state[f'{self.language}-revoked']}")
        assert words(page, "#status-word").strip() == t("Revoked on %(day)s", day=t.date(today()))
        assert self.annulled in words(page)
        self.look(page, shots, "4-04-revoked")

        pdf = server.state[f"{self.language}-pdf"]
        # The QR code as printed, decoded from the rendered first page: its address carries no
        # language, and the page is still in the reader's.
        stem = shots / "certificate-page"
        subprocess.run(  # noqa: S603
            [PDFTOPPM, "-png", "-r", "150", "-f", "1", "-l", "1", pdf, str(stem)],
            check=True,
        )
        (image,) = shots.glob("certificate-page*.png")
        scanned = subprocess.run(  # noqa: S603
            [ZBARIMG, "-q", "--raw", str(image)], capture_output=True, text=True, check=True
        ).stdout.strip()
        assert scanned == f"{server.url}/verify/{code}"
        page.goto(scanned)
        assert words(page, "#status-word").strip() == t("Valid")
        self.look(page, shots, "4-05-scanned")

    def test_5_the_verify_page_writes_credits_the_readers_way(self, window, server, t):
        """The German journeys' certificate has 7,5 ECTS in two domains: its page writes them
        the reader's way, 7,5 in German and in Greek."""
        page = window(self.locale)
        page.goto(f"{server.url}/verify/{server.state['de-code']}")
        assert page.locator("html").get_attribute("lang") == self.language
        figures = page.locator(".domain-figure").all_inner_texts()
        assert t("%(credits)s ECTS", credits=t.number("7.5")) in figures, figures


class TestInGerman(Journeys):
    language = "de"
    locale = verifier_locale = "de-DE"
    office = "admin@efrs.example"
    candidate = "Łukasz Wiśniewski"
    search = "wisniewski"
    attempt = "3"  # after the demo's 52 and 74
    course = "efrs-sec210"
    provider = "EFRS"
    annulled = "Die Prüfungskommission hat die Prüfung vom 12. Mai annulliert."
    valid = "Gültig"

    @staticmethod
    def revokes(server: Any) -> tuple[str, str]:
        """The demo's valid certificate: Димитър Петров's."""
        return "petrov", "Димитър Петров"


class TestInGreek(Journeys):
    language = "el"
    locale = "el-GR"
    verifier_locale = "en-GB"
    office = "admin@eusomii.example"
    candidate = "Αικατερίνη Παπαδοπούλου"
    search = "papadopoulou"
    attempt = "2"  # after the demo's 41
    course = "eus-sec220"
    provider = "EuSoMII"
    annulled = "Η εξεταστική επιτροπή ακύρωσε την εξέταση της 12ης Μαΐου."
    valid = "Έγκυρο"

    @staticmethod
    def revokes(server: Any) -> tuple[str, str]:
        """The certificate the German journeys issued: Łukasz Wiśniewski's."""
        assert "de-code" in server.state, "the Greek journeys follow the German ones"
        return TestInGerman.search, TestInGerman.candidate
