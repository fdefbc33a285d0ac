"""The pages that list a candidate's records send as many SQL statements for 100 credits,
attempts, certificates and verifications as for one: no query per row (an N+1) hides in a
service or a template.

One candidate grows through the sizes (1, 5, 25 of each; 1, 10, 100 in ``make bench``), and
each page is fetched once
at every size with a listener counting what reaches the database. Only the counts at the
different sizes are compared, never an absolute number, so that a page may change what it
asks for as long as it does not ask once per row.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from certification.auth.services import get_candidate
from certification.catalogue.services import get_programme
from certification.certificates.look_ups import counter as look_up_counter
from certification.certificates.services import (
    certificates_of,
    issue_certificate,
    reissue_certificate,
)
from certification.extensions import db
from certification.records.services import load_transcript, record_credit, record_result
from tests.conftest import log_in
from tests.test_admin import page_text

pytestmark = pytest.mark.slow  # every certificate is really rendered and sealed

# A query per row shows as well at 25 as at 100, for a quarter of the certificates to seal;
# `make bench` asks for (1, 10, 100), the figures docs/PERFORMANCE.md quotes.
SIZES = tuple(int(n) for n in os.environ.get("QUERY_GROWTH_SIZES", "1,5,25").split(","))
ATTEMPTS_PER_ASSESSMENT = 10  # within the catalogue's limit of 20 attempts an assessment
CANDIDATE_EMAIL = "grows@example.org"
ADMIN_EMAIL = "office@efrs.example"
HOLDER = "Grace Growth"


def course_code(number: int) -> str:
    return f"GRO-{number:03d}"


def assessment_code(number: int) -> str:
    return f"EXAM-{number:02d}"


@contextlib.contextmanager
def counting_statements(app: Flask) -> Iterator[list[str]]:
    """The SQL statements sent while the block runs, in order."""
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)


@dataclass(frozen=True)
class Page:
    """A page to count, who looks at it, and what it fails to show of a candidate grown to
    a size (so that an empty page cannot pass)."""

    name: str
    path: Callable[[int, str], str]  # (candidate id, current certificate code) -> path
    viewer: str  # "candidate", "admin" or "anonymous"
    missing: Callable[[str, int, str, list[str]], list[str]]  # (page, size, code, codes)


def _records_missing(page: str, size: int, _code: str, codes: list[str]) -> list[str]:
    """Checks that every credit and attempt is in the transcript, every certificate is
    listed with its status, and the current certificate's verifications are counted."""
    last_course = f'<span class="code">{course_code(size)}</span>'
    last_exam, last_try = divmod(size - 1, ATTEMPTS_PER_ASSESSMENT)
    last_attempt = (
        rf'<span class="code">{assessment_code(last_exam + 1)}</span>[^<]*</td>\s*'
        rf"<td[^>]*>{last_try + 1} of {ATTEMPTS_PER_ASSESSMENT}</td>"
    )
    verified = "Verified once" if size == 1 else f"Verified {size} times"
    shown = {
        "a row per credit": page.count('<span class="code">GRO-') == size,
        f"the credit for {course_code(size)}": last_course in page,
        "a row per attempt": page.count(f" of {ATTEMPTS_PER_ASSESSMENT}</td>") == size,
        f"attempt number {size}": re.search(last_attempt, page) is not None,
        "every certificate": all(code in page for code in codes),
        "a status per certificate": page.count("cert-status-") == size,
        verified: verified in page,
    }
    return [what for what, ok in shown.items() if not ok]


def _certificate_missing(page: str, _size: int, code: str, _codes: list[str]) -> list[str]:
    shown = {"the code": code in page, "Valid": "Valid" in page, "the holder": HOLDER in page}
    return [what for what, ok in shown.items() if not ok]


PAGES = (
    Page("portal", lambda _cid, _code: "/me/", "candidate", _records_missing),
    Page(
        "candidate detail", lambda cid, _code: f"/admin/candidates/{cid}", "admin", _records_missing
    ),
    Page("verification", lambda _cid, code: f"/verify/{code}", "anonymous", _certificate_missing),
)


class GrowingCandidate:
    """One candidate whose credits, attempts, certificates (a chain of reissues) and
    verifications of the current certificate are brought up to a size, through the
    services and the public API as in real use."""

    def __init__(self, app: Flask, candidate_id: int, today: dt.date) -> None:
        self.app, self.id, self.today = app, candidate_id, today
        self.anonymous = app.test_client()

    def grow_to(self, size: int) -> str:
        """Bring every record up to ``size``; the code of the current certificate."""
        with self.app.app_context():
            candidate = get_candidate(self.id)
            transcript = load_transcript(candidate)
            for number in range(len(transcript.credits) + 1, size + 1):
                record_credit(
                    candidate, course_code(number), self.today, actor=None, today=self.today
                )
            for number in range(len(transcript.attempts), size):
                record_result(
                    candidate,
                    assessment_code(number // ATTEMPTS_PER_ASSESSMENT + 1),
                    Decimal(40 + number % 50),
                    self.today,
                    actor=None,
                    today=self.today,
                )
            db.session.commit()
            certificates = certificates_of(candidate)
            if not certificates:
                programme = get_programme("GRO-C")
                certificates = [issue_certificate(candidate, programme, None, today=self.today)]
                db.session.commit()
            current = certificates[0]
            for _ in range(len(certificates), size):
                current = reissue_certificate(current, None)
                db.session.commit()
            code = current.code
        for _ in range(size):
            assert self.anonymous.get(f"/api/v1/verify/{code}").status_code == 200
        with self.app.app_context():
            # The look-ups are written by a timer a second later: now, so that the write
            # does not land among the statements of the page counted next.
            look_up_counter().write()
        return code

    def codes(self) -> list[str]:
        with self.app.app_context():
            return [c.code for c in certificates_of(get_candidate(self.id))]


def test_pages_send_as_many_statements_for_many_records_as_for_one(
    app: Flask,
    make_admin: Callable[..., Any],
    make_candidate: Callable[..., Any],
    make_course: Callable[..., str],
    make_assessment: Callable[..., str],
    make_programme: Callable[..., str],
    today: dt.date,
) -> None:
    """One test for every page: the certificates are real (rendered and sealed, about
    0.1 s each), so the candidate is grown once per database and every page counted at
    each size."""
    for number in range(1, max(SIZES) + 1):
        make_course(course_code(number), credits="1", title=f"Growth course {number}")
    for number in range(1, -(-max(SIZES) // ATTEMPTS_PER_ASSESSMENT) + 1):  # rounded up
        make_assessment(
            assessment_code(number),
            max_attempts=ATTEMPTS_PER_ASSESSMENT,
            title=f"Growth examination {number}",
        )
    make_programme("GRO-C", title="Growth Certificate", min_total_credits="1")
    make_admin(ADMIN_EMAIL)
    candidate = make_candidate(HOLDER, email=CANDIDATE_EMAIL)
    growing = GrowingCandidate(app, candidate.id, today)

    clients: dict[str, FlaskClient] = {
        "candidate": app.test_client(),
        "admin": app.test_client(),
        "anonymous": app.test_client(),
    }
    log_in(clients["candidate"], CANDIDATE_EMAIL)
    log_in(clients["admin"], ADMIN_EMAIL)

    counts: dict[str, dict[int, int]] = {page.name: {} for page in PAGES}
    statements: dict[str, dict[int, list[str]]] = {page.name: {} for page in PAGES}
    for size in SIZES:
        code = growing.grow_to(size)
        codes = growing.codes()
        assert len(codes) == size
        for page in PAGES:
            with counting_statements(app) as sent:
                response = clients[page.viewer].get(page.path(candidate.id, code))
            assert response.status_code == 200, (page.name, size)
            missing = page.missing(page_text(response), size, code, codes)
            assert not missing, f"{page.name} at size {size} does not show {missing}"
            assert sent, f"no statement of {page.name} reached the listener: nothing to compare"
            counts[page.name][size] = len(sent)
            statements[page.name][size] = sent

    # What `make bench` shows (pytest -s): the statements per page at each size.
    with app.app_context():
        database = db.engine.dialect.name
    print(f"\nSQL statements per page on {database}, with {SIZES} of every record:")
    for name, by_size in counts.items():
        counted = "  ".join(f"{by_size[size]:>3}" for size in SIZES)
        flat = "pass" if len(set(by_size.values())) == 1 else "short"
        print(f"  {name:<36} {counted}   (target: equal) {flat}")
    grew = {name: by_size for name, by_size in counts.items() if len(set(by_size.values())) > 1}
    assert not grew, "\n".join(
        f"{name}: {by_size} statements at sizes {SIZES}; sent more often at {size}:"
        f" {_repeated(statements[name][min(SIZES)], statements[name][size])}"
        for name, by_size in grew.items()
        for size in SIZES
        if by_size[size] != by_size[min(SIZES)]
    )


def _repeated(few: list[str], many: list[str]) -> dict[str, int]:
    """The statements sent more often in ``many`` than in ``few``, and how many more times
    (an IN list counts as one statement whatever its length)."""
    return dict((Counter(map(_shape, many)) - Counter(map(_shape, few))).most_common(3))


def _shape(statement: str) -> str:
    return re.sub(r"IN \([^()]*\)", "IN (...)", " ".join(statement.split()))
