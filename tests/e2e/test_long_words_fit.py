"""Long translations fit (issue 17): German and Greek run 30–40 % longer than English, and
no button, table header, label or menu item is clipped for it, at a desktop's width or a
phone's.

The demo, served as `make run` serves it, is opened in a real browser by each kind of
person: a visitor (the verification page, a valid and a revoked certificate's), a
candidate who holds a certificate (their page, their account), the programme office (the
candidates, three candidates' pages, programmes, courses, reports, imports, exports,
branding, the audit trail…) and an EFRS officer with a request awaiting them. Every page
is read in German and in Greek, at 1280 px and at 390 px, with each drop-down and each
fold-out (<details>) open, and on a phone with the menu unfolded.

An element is clipped when its content is wider (or taller) than its box where the box
hides what overflows, or an ellipsis stands for the rest; it spills when the content runs
past the box's edge where it does not hide it (a word wider than its button); on a phone,
it also must not stand beyond the screen's edge, the page must not scroll sideways, and a
stacked table's column names (drawn before each cell) must fit their column. A failure
names the page, the width, the language and the element's text. Screenshots of a page that
fails (of every page with E2E_FIT_SCREENSHOTS=1) go to tests/e2e/artifacts/fit/.

One server, one browser, one logged-in window per person for both languages.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.browser import CHROMIUM, Server, log_in_staff, words

ARTIFACTS = Path(os.environ.get("E2E_ARTIFACTS", Path(__file__).with_name("artifacts"))) / "fit"
WIDTHS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
LANGUAGES = ("de", "el")
CODE = re.compile(r"\bEIC(?:-[0-9A-Z]{4}){4}-[0-9A-Z]\b")

pytestmark = [
    pytest.mark.skipif(
        not CHROMIUM.exists() and not os.environ.get("E2E_REQUIRED"),
        reason="browser tests need: apt-get install chromium (.ci/run requires it)",
    ),
    pytest.mark.slow,
]

# What a person reads as a control, a column's name or a field's name.
WATCHED = ", ".join(
    [
        "button",
        ".button",
        "input[type=submit]",
        "input[type=button]",
        ".link-button",
        ".menu-button",
        "th",
        "label",
        "legend",
        "summary",
        ".main-nav a",
        ".tabs a",
        ".pagination a",
        ".badge",
        "dt",
    ]
)

# Returns what does not fit on the page as it is laid out now, one line each. Folded menus
# and <details> are opened for the measure and closed again after it.
MEASURE = """(watched) => {
  const undo = [];
  const toggle = document.querySelector('.menu-toggle');
  const button = document.querySelector('.menu-button');
  if (toggle && !toggle.checked && button && getComputedStyle(button).display !== 'none') {
    toggle.checked = true;
    undo.push(() => { toggle.checked = false; });
  }
  for (const details of document.querySelectorAll('details:not([open])')) {
    details.open = true;
    undo.push(() => { details.open = false; });
  }
  const found = [];
  const say = (element) => {
    const text = (element.innerText || element.value || element.getAttribute('aria-label') || '')
      .replace(/\\s+/g, ' ').trim();
    const name = element.tagName.toLowerCase() + (element.className && typeof element.className
      === 'string' ? '.' + element.className.trim().split(/\\s+/).join('.') : '');
    return `${name} "${text.slice(0, 80)}"`;
  };
  const shown = (element) => element.getClientRects().length > 0
    && getComputedStyle(element).visibility !== 'hidden'
    && !element.closest('.visually-hidden, [hidden], [aria-hidden=true]');
  const scrolls = (element) => {
    for (let box = element.parentElement; box && box !== document.body; box = box.parentElement) {
      const style = getComputedStyle(box);
      if (style.overflowX !== 'visible' && style.overflowX !== 'clip'
          && box.scrollWidth > box.clientWidth + 1) return box;
    }
    return null;
  };
  const width = document.documentElement.clientWidth;
  const phone = window.innerWidth < 640;
  for (const element of document.querySelectorAll(watched)) {
    if (!shown(element)) continue;
    const style = getComputedStyle(element);
    if (style.display === 'inline' || style.display === 'contents') continue;
    const wide = element.scrollWidth - element.clientWidth;
    const tall = element.scrollHeight - element.clientHeight;
    const hides = style.overflowX !== 'visible' || style.overflowY !== 'visible';
    if (style.textOverflow === 'ellipsis' && wide > 1) {
      found.push(`${say(element)} is cut short by an ellipsis (${wide}px more)`);
    } else if (hides && (wide > 1 || tall > 1)) {
      found.push(`${say(element)} is clipped (${Math.max(wide, 0)}px wider,`
        + ` ${Math.max(tall, 0)}px taller than its box)`);
    } else if (wide > 1) {
      found.push(`${say(element)} spills ${wide}px past its box`);
    }
    if (phone) {
      const rect = element.getBoundingClientRect();
      const box = scrolls(element);
      if (box) {
        if (element.matches('th, button, .button, input')) {
          found.push(`${say(element)} is in a box that scrolls sideways`
            + ` (${box.scrollWidth}px in ${box.clientWidth}px)`);
        }
      } else if (rect.right > width + 1 || rect.left < -1) {
        found.push(`${say(element)} stands beyond the screen's edge`
          + ` (${Math.round(rect.left)}–${Math.round(rect.right)}px of ${width}px)`);
      }
    }
  }
  // A phone stacks a table's cells and draws each column's name before its cell
  // (td[data-label]::before, a float of fixed width): a copy of it, styled as it is, in
  // the cell (so in the page's language), must not be wider than its box.
  for (const cell of document.querySelectorAll('td[data-label]:not([data-label=""])')) {
    if (!shown(cell)) continue;
    const before = getComputedStyle(cell, '::before');
    if (before.content === 'none' || before.cssFloat === 'none') continue;
    const copy = document.createElement('span');
    for (const property of ['font', 'width', 'white-space', 'overflow-wrap', 'word-break',
        'hyphens', 'letter-spacing', 'text-transform', 'line-height']) {
      copy.style.setProperty(property, before.getPropertyValue(property));
    }
    Object.assign(copy.style, {display: 'block', position: 'absolute', visibility: 'hidden'});
    copy.textContent = cell.getAttribute('data-label');
    cell.append(copy);
    const wide = copy.scrollWidth - copy.clientWidth;
    copy.remove();
    if (wide > 1) {
      found.push(`the column name "${cell.getAttribute('data-label')}" spills ${wide}px`
        + ` past its ${before.width} before a cell`);
    }
  }
  if (phone && document.documentElement.scrollWidth > window.innerWidth) {
    found.push(`the page scrolls sideways: ${document.documentElement.scrollWidth}px wide`
      + ` on a ${window.innerWidth}px screen`);
  }
  undo.reverse().forEach((step) => step());
  return [...new Set(found)];
}"""


@dataclass
class Person:
    name: str
    page: Any  # a Playwright page, in a window (context) of this person's own
    paths: list[str]


@pytest.fixture(scope="module")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The demo's database for ``server``: a SQLite file."""
    return f"sqlite:///{tmp_path_factory.mktemp('fit') / 'fit.sqlite'}"


@pytest.fixture(scope="module")
def people(browser: Any, server: Server) -> Iterator[dict[str, Person]]:
    """A window per person, logged in once (in English), with the pages each opens."""
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    contexts = []

    def window() -> Any:
        context = browser.new_context(viewport=WIDTHS["desktop"], locale="en-GB")
        contexts.append(context)
        return context.new_page()

    office = window()
    log_in_staff(office, server, "admin@efrs.example")
    candidate_pages = {}
    for search, name in [
        ("Petrov", "Димитър Петров"),  # holds a certificate: its actions fold out
        ("Çelik", "Zeynep Çelik"),  # revoked, on hold
        ("Wiśniewski", "Łukasz Wiśniewski"),  # meets every requirement
    ]:
        office.goto(f"{server.url}/admin/candidates?q={search}")
        office.click(f"text={name}")
        candidate_pages[search] = office.url.removeprefix(server.url)
    office.goto(server.url + candidate_pages["Çelik"])
    revoked = CODE.search(words(office))
    assert revoked, "Zeynep Çelik's page names no certificate"
    # Łukasz's certificate, requested: it waits in the EFRS officer's queue.
    office.goto(server.url + candidate_pages["Wiśniewski"])
    office.click("button:has-text('Request certificate')")
    office.wait_for_load_state()

    officer = window()
    log_in_staff(officer, server, "officer@efrs.example")
    assert officer.url.endswith("/admin/approvals"), officer.url
    assert officer.locator("[id^=request-]").count() == 1, words(officer)

    candidate = window()
    candidate.goto(f"{server.url}/login")
    candidate.fill("#email", "dimitar.petrov@example.bg")
    candidate.fill("#password", server.logins["dimitar.petrov@example.bg"])
    candidate.press("#password", "Enter")
    candidate.wait_for_url("**/me/")
    valid = CODE.search(words(candidate))
    assert valid, "Димитър Петров's page names no certificate"

    visitor = window()
    yield {
        "visitor": Person(
            "visitor",
            visitor,
            ["/verify", f"/verify/{valid.group(0)}", f"/verify/{revoked.group(0)}", "/login"],
        ),
        "candidate": Person("candidate", candidate, ["/me/", "/account/password"]),
        "office": Person(
            "office",
            office,
            [
                "/admin/candidates",
                *candidate_pages.values(),
                "/admin/ready",
                "/admin/programmes",
                "/admin/programmes/EII-C/eligible",
                "/admin/programmes/EII-C/edit",
                "/admin/courses",
                "/admin/assessments",
                "/admin/providers",
                "/admin/reports",
                "/admin/reports/expiring",
                "/admin/imports",
                "/admin/exports",
                "/admin/branding",
                "/admin/audit",
                "/admin/jobs",
                "/admin/emails",
                "/admin/api-tokens",
                "/account/security",
            ],
        ),
        "officer": Person("officer", officer, ["/admin/approvals"]),
    }
    for context in contexts:
        context.close()


@pytest.mark.parametrize("language", LANGUAGES)
def test_nothing_is_clipped(people: dict[str, Person], server: Server, language: str) -> None:
    everything = bool(os.environ.get("E2E_FIT_SCREENSHOTS"))
    failures = []
    for person in people.values():
        page = person.page
        for path in person.paths:
            answer = page.goto(f"{server.url}{path}{'&' if '?' in path else '?'}lang={language}")
            assert answer is not None and answer.ok, f"{path}: {answer and answer.status}"
            assert page.get_attribute("html", "lang") == language, f"{path} is not in {language}"
            for width, viewport in WIDTHS.items():
                page.set_viewport_size(viewport)
                found = page.evaluate(MEASURE, WATCHED)
                failures += [f"{path} ({person.name}), {width}, {language}: {f}" for f in found]
                if found or everything:
                    name = re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-") or "home"
                    page.screenshot(
                        path=ARTIFACTS / f"{language}-{name}-{width}.png", full_page=True
                    )
            page.set_viewport_size(WIDTHS["desktop"])
    assert not failures, f"{len(failures)} clipped:\n" + "\n".join(failures)
