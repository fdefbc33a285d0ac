"""What the browser tests share: the demo served by gunicorn (the ``server`` fixture, on
the test module's own ``database_url``), Debian's Chromium as Playwright drives it (the
``browser`` fixture), axe-core's check of a page, a page's text as a person reads it, and a
staff member's first login (setting up the authenticator)."""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyotp
import pytest
import sqlalchemy as sa

from tests.conftest import free_port, gunicorn_server

BIN = Path(sys.executable).parent
CHROMIUM = Path(os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium"))
AXE = Path(__file__).with_name("vendor") / "axe.min.js"
CHROMIUM_ARGS = [
    "--no-sandbox",  # as root in a container
    "--disable-gpu",
    "--disable-background-networking",  # the network is closed: do not reach for it
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    """Debian's Chromium, headless, driven by Playwright (whose own browser download cannot
    reach the network here)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Server:
    url: str
    database: str  # "sqlite" or "postgresql", for the screenshots' names
    logins: dict[str, str]  # the demo's e-mail addresses and their passwords
    # What one journey leaves for the next.
    state: dict[str, str] = field(default_factory=dict)


@pytest.fixture(scope="module")
def server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The demo (init-db, seed-demo) served by gunicorn as `make run` serves it, on the test
    module's ``database_url``; one server for the module's tests."""
    folder = tmp_path_factory.mktemp("e2e-server")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    environment = {
        "INSTANCE_PATH": str(folder / "instance"),
        "DATABASE_URL": database_url,
        "SECRET_KEY": "e2e-secret-key-not-for-production",
        "PUBLIC_BASE_URL": url,
        "QUEUE_URL": f"sqlite:///{folder / 'queue.sqlite'}",
    }
    flask = [str(BIN / "flask"), "--app", "certification"]
    commands = {**os.environ, **environment}
    subprocess.run([*flask, "init-db"], env=commands, check=True, capture_output=True)  # noqa: S603
    seeded = subprocess.run(  # noqa: S603
        [*flask, "seed-demo"], env=commands, check=True, capture_output=True, text=True
    ).stdout
    logins = dict(re.findall(r"^\s+(\S+@\S+)\s+(\S+)\s", seeded, re.M))
    assert "admin@efrs.example" in logins, seeded
    with gunicorn_server(environment, port, "--workers", "2"):
        yield Server(url, sa.make_url(database_url).get_backend_name(), logins)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


@contextlib.contextmanager
def windows(browser: Any, locale: str, viewport: dict[str, int]) -> Iterator[Any]:
    """Opens browser windows of their own (cookies and all), one per person, asking for
    ``locale``'s language unless told another; closes them after, and fails if a page was
    broken by the Content-Security-Policy (it says so in the console)."""
    contexts, errors = [], []

    def open_window(language: str = locale) -> Any:
        context = browser.new_context(viewport=viewport, accept_downloads=True, locale=language)
        contexts.append(context)
        opened = context.new_page()
        opened.on("dialog", lambda dialog: dialog.accept())
        opened.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        return opened

    yield open_window
    for context in contexts:
        context.close()
    assert not [e for e in errors if "Content Security Policy" in e], errors


def serious_violations(page: Any) -> list[str]:
    """axe-core's serious and critical findings on the page as it is now, one line each."""
    result = page.evaluate(AXE.read_text() + "\n;axe.run(document, {resultTypes: ['violations']})")
    assert result["testEngine"]["name"] == "axe-core"
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def words(page: Any, selector: str = "main") -> str:
    """The text of ``selector`` as a person reads it, runs of white space made one space."""
    return re.sub(r"\s+", " ", page.inner_text(selector))


def log_in_staff(page: Any, server: Server, email: str) -> str:
    """A staff member's first login: password, then setting up the authenticator (its
    secret read from the page, the code typed), then keeping the recovery codes. Returns the
    secret; the page is where the login lands (an officer's: their body's queue)."""
    page.goto(f"{server.url}/login")
    page.get_by_label("E-mail", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(server.logins[email])
    page.get_by_label("Password", exact=True).press("Enter")
    page.wait_for_url("**/login/set-up-authenticator")
    secret = page.inner_text("#totp-secret").strip()
    page.fill("#code", pyotp.TOTP(secret).now())
    page.click("text=Finish setting up")
    page.click("text=I have kept them")
    page.wait_for_load_state()
    return secret


DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def look_and_keep(page: Any, folder: Path, name: str) -> None:
    """Check the page with axe and keep a screenshot of it in ``folder``, at a desktop and a
    phone width; on a phone a page scrolls down, never sideways (tables stack, charts
    shrink)."""
    page.wait_for_load_state("networkidle")
    serious = serious_violations(page)
    assert not serious, f"{name}: {serious}"
    page.screenshot(path=folder / f"{name}-desktop.png", full_page=True)
    page.set_viewport_size(PHONE)
    page.screenshot(path=folder / f"{name}-phone.png", full_page=True)
    wide = page.evaluate("document.documentElement.scrollWidth")
    assert wide <= PHONE["width"], f"{name}: {wide} px wide on a {PHONE['width']} px phone"
    page.set_viewport_size(DESKTOP)
