"""Every word a person reads goes through gettext: the pseudo-locale test.

A catalogue is made here from the template in which every string is itself between
⟦ and ⟧. The demo is seeded, and each role (the programme office, a body's officer, a
course provider's staff, a candidate, a visitor) walks every page it can reach by its
links, in that pseudo-language. On each page, the visible text and the attributes people
read (titles, labels, placeholders, button values) are taken; the marked spans are taken
out; what is left must be the database's own data (names, course titles, codes, reasons),
numbers, punctuation, or the date words Babel writes for the locale. A word left over is a
string someone forgot to mark, and the failure names the page and the words.
"""

from __future__ import annotations

import re
from collections import deque
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
import sqlalchemy as sa
from babel import Locale
from babel.dates import get_day_names, get_month_names
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from certification.extensions import db
from certification.languages import LANGUAGE_NAMES
from tests.conftest import _fresh_sqlite_database, enrol_authenticator, log_in

pytestmark = pytest.mark.slow

TRANSLATIONS = Path(__file__).resolve().parents[1] / "certification" / "translations"
# A locale Babel knows (for dates) and the product never offers: its catalogue is made here.
PSEUDO = "eo"
OPEN, CLOSE = "⟦", "⟧"
MARKED = re.compile(f"{OPEN}[^{OPEN}{CLOSE}]*{CLOSE}")
WORD = re.compile(r"[^\W\d_]+")
READ_ATTRIBUTES = {"title", "aria-label", "placeholder", "alt", "data-confirm"}
# Not read as words: scripts, and code (setting names, CSV columns, JSON) which no language
# translates.
HIDDEN_TAGS = {"script", "style", "template", "code", "pre", "kbd", "samp"}
VOID_TAGS = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "source",
    "wbr",
}
# Links a walk does not follow: files, the API, leaving, and pages that change something.
NOT_FOLLOWED = re.compile(r"^/(static|api)/|/logout$|\.(pdf|csv|zip|json)$|/download|/export")
# The language menu's links: the same page in another language.
OTHER_LANGUAGE = re.compile(r"(^|&)lang=")
# Marks, not words: the logo's initials, the bodies' names and SHA-256, which no language
# translates.
NOT_WORDS = {"EF", "Eu", "EFRS", "EuSoMII", "SHA"}
PAGES_PER_ROLE = 80


@pytest.fixture
def database_url(tmp_path) -> str:
    """Language does not depend on the database: SQLite only."""
    return _fresh_sqlite_database(tmp_path)


def pseudo_catalogue(folder: Path) -> None:
    with (TRANSLATIONS / "messages.pot").open("rb") as file:
        template = read_po(file)
    catalog = Catalog(locale=PSEUDO)
    for message in template:
        if not message.id:
            continue
        if isinstance(message.id, tuple):
            forms = tuple(f"{OPEN}{form}{CLOSE}" for form in message.id)
            catalog.add(message.id, forms, flags=message.flags)
        else:
            catalog.add(message.id, f"{OPEN}{message.id}{CLOSE}", flags=message.flags)
    target = folder / PSEUDO / "LC_MESSAGES"
    target.mkdir(parents=True)
    with (target / "messages.mo").open("wb") as file:
        write_mo(file, catalog)


class ReadableText(HTMLParser):
    """The text of a page as a reader meets it, and the attributes read out to them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.attributes: list[str] = []
        self.links: list[str] = []
        self._hidden = 0
        self._open: list[bool] = []  # for each open element: is it one not read as words?

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        code = "code" in (values.get("class") or "").split()  # a code, a column's name
        if tag not in VOID_TAGS:
            self._open.append(tag in HIDDEN_TAGS or code)
            self._hidden += self._open[-1]
        if tag == "a" and values.get("href"):
            self.links.append(values["href"] or "")
        for name, value in attrs:
            if value and name in READ_ATTRIBUTES:
                self.attributes.append(value)
        if tag == "input" and values.get("type") in {"submit", "button"} and values.get("value"):
            self.attributes.append(values["value"] or "")
        self.text.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag not in VOID_TAGS and self._open:
            self._hidden -= self._open.pop()
        self.text.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.text.append(data)


def unmarked_words(text: str) -> list[str]:
    previous = None
    while previous != text:
        previous, text = text, MARKED.sub(" ", text)
    return WORD.findall(text.replace(OPEN, " ").replace(CLOSE, " "))


def words_of_the_data() -> set[str]:
    """Every word the database holds in a text or JSON column: what people typed or
    imported (a body's signatory's title in each language is kept as JSON)."""
    found: set[str] = set()

    def add(value: object) -> None:
        if isinstance(value, str):
            found.update(word.casefold() for word in WORD.findall(value))
        elif isinstance(value, dict):
            for key, item in value.items():
                add(key)
                add(item)
        elif isinstance(value, list):
            for item in value:
                add(item)

    for table in db.metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, sa.String | sa.Text | sa.JSON)]
        if not columns:
            continue
        for row in db.session.execute(sa.select(*columns)):
            for value in row:
                add(value)
    return found


def words_babel_writes() -> set[str]:
    """Month, day and country names: Babel's (the CLDR's), not the catalogue's."""
    words: set[str] = {
        word.casefold()
        for name in Locale.parse(PSEUDO).territories.values()
        for word in WORD.findall(name)
    }
    for width in ("wide", "abbreviated"):
        for names in (get_month_names(width, locale=PSEUDO), get_day_names(width, locale=PSEUDO)):
            for name in names.values():
                words.update(word.casefold() for word in WORD.findall(name))
    return words


def walk(client, start: str) -> dict[str, list[str]]:
    """Each page reachable from ``start`` by links, and the unmarked words on it."""
    seen, queue, found = {start}, deque([start]), {}
    # One page per path with a query (?object=… on the audit trail, ?page=2): the others
    # are the same template.
    paths_with_query: set[str] = set()
    while queue and len(seen) <= PAGES_PER_ROLE:
        path = queue.popleft()
        response = client.get(path, follow_redirects=True)
        if response.status_code != 200 or response.mimetype != "text/html":
            continue
        path = response.request.path + (
            f"?{response.request.query_string.decode()}" if response.request.query_string else ""
        )
        page = ReadableText()
        page.feed(response.get_data(as_text=True))
        words = unmarked_words("".join(page.text))
        for value in page.attributes:
            words += unmarked_words(value)
        found[path] = words
        for href in page.links:
            target = urlsplit(urljoin(path, href))
            if target.netloc and target.netloc != "localhost":
                continue
            link = target.path + (f"?{target.query}" if target.query else "")
            if link in seen or NOT_FOLLOWED.search(target.path):
                continue
            if OTHER_LANGUAGE.search(target.query):
                continue
            if target.query:
                if target.path in paths_with_query:
                    continue
                paths_with_query.add(target.path)
            seen.add(link)
            queue.append(link)
    return found


def test_every_page_of_every_role_reads_only_translated_text_and_data(
    app, second_app, tmp_path, monkeypatch
):
    from certification.auth.models import User
    from certification.auth.passwords import hash_password

    assert app.test_cli_runner().invoke(args=["seed-demo"]).exit_code == 0
    people = {
        "office": "admin@efrs.example",
        "officer": "officer@efrs.example",
        "provider": "staff@northern-imaging.example",
        "candidate": "lukasz.wisniewski@example.pl",
    }
    with app.app_context():
        for email in people.values():
            user = db.session.scalar(sa.select(User).where(User.email == email))
            user.password_hash = hash_password("correct horse battery staple")
            if user.is_staff and user.totp_enabled_at is None:
                enrol_authenticator(user)
        db.session.commit()
        allowed = words_of_the_data() | words_babel_writes()
    # The language menu names each language in itself, in every language.
    endonyms = {word for name in LANGUAGE_NAMES.values() for word in WORD.findall(name)}
    endonyms.add("Pseudo")  # the pseudo-language's own name on the menu
    allowed |= {word.casefold() for word in NOT_WORDS | endonyms}
    pseudo_catalogue(tmp_path / "pseudo")
    monkeypatch.setattr("certification.languages.OFFERED_LANGUAGES", ("en", PSEUDO))
    monkeypatch.setitem(LANGUAGE_NAMES, PSEUDO, "Pseudo")
    pseudo_app = second_app(
        BABEL_TRANSLATION_DIRECTORIES=f"{TRANSLATIONS};{tmp_path / 'pseudo'}",
        PUBLIC_BASE_URL="https://certificates.example.org",
    )

    problems: dict[str, list[str]] = {}
    visitor = pseudo_app.test_client()
    visitor.set_cookie("language", PSEUDO)
    walks = {"visitor": walk(visitor, "/verify")}
    for role, email in people.items():
        client = pseudo_app.test_client()
        client.set_cookie("language", PSEUDO)
        log_in(client, email)
        walks[role] = walk(client, "/")
    for role, pages in walks.items():
        assert len(pages) > 1, f"the {role}'s walk found no pages"
        for path, words in pages.items():
            left = sorted({word for word in words if word.casefold() not in allowed})
            if left:
                problems[f"{role} {path}"] = left
    assert not problems, "words not marked for translation:\n" + "\n".join(
        f"  {page}: {' '.join(words[:12])}" for page, words in sorted(problems.items())
    )
