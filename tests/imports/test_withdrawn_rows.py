"""A withdrawn credit or result stays withdrawn when the same file is imported again: the
row that would bring it back is a problem, and the import writes nothing. A correction
(the same course on another date, the same examination with another date or score) is new.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import html
import io
import re
from collections.abc import Iterator
from decimal import Decimal

import pytest
import sqlalchemy as sa

from certification.auth.services import get_user_by_email
from certification.dates import format_long_date
from certification.extensions import db
from certification.imports.models import ImportKind
from certification.imports.services import ImportRefused, commit_import, preview_import
from certification.records.models import AssessmentAttempt, CreditRecord
from certification.records.services import (
    record_credit,
    record_result,
    withdraw_credit,
    withdraw_result,
)
from tests.conftest import log_in
from tests.imports import problem_places

CREDITS = ImportKind.CREDITS
RESULTS = ImportKind.RESULTS
REASON = "Recorded against the wrong candidate"


@pytest.fixture
def setting(make_course, make_assessment, make_candidate):
    make_course("EII-101")
    make_course("EII-102")
    make_assessment("CERT-EXAM", max_attempts=3)
    make_candidate("Łukasz Wiśniewski", email="lukasz@example.org")


def withdrawn_credit(email: str, course: str, on: dt.date, today: dt.date) -> CreditRecord:
    candidate = get_user_by_email(email)
    credit = record_credit(candidate, course, on, actor=None, today=today)
    withdraw_credit(credit, REASON, None, today=today)
    db.session.commit()
    return credit


def withdrawn_result(
    email: str, score: str, on: dt.date, today: dt.date, reason: str = REASON
) -> AssessmentAttempt:
    candidate = get_user_by_email(email)
    attempt = record_result(candidate, "CERT-EXAM", Decimal(score), on, actor=None, today=today)
    withdraw_result(attempt, reason, None, today=today)
    db.session.commit()
    return attempt


def stored(model) -> list[tuple]:
    """Every row of ``model``: what it is, and whether it is withdrawn."""
    if model is CreditRecord:
        columns = (CreditRecord.course_id, CreditRecord.completed_on, CreditRecord.withdrawn_at)
    else:
        columns = (
            AssessmentAttempt.taken_on,
            AssessmentAttempt.score,
            AssessmentAttempt.withdrawn_at,
        )
    rows = db.session.execute(sa.select(*columns).order_by(model.id)).all()
    return [(*row[:-1], row[-1] is not None) for row in rows]


def withdrawal_message(what: str, record: CreditRecord | AssessmentAttempt) -> str:
    assert record.withdrawn_at is not None
    return (
        f"This {what} was withdrawn on {format_long_date(record.withdrawn_at.date())}"
        f" (reason: {REASON}). If it is right after all, record it on the candidate's page."
    )


def test_reimporting_a_withdrawn_credit_is_refused_on_its_row(ctx, setting, today):
    credit = withdrawn_credit("lukasz@example.org", "EII-101", dt.date(2024, 5, 31), today)
    before = stored(CreditRecord)
    data = (
        b"email;course_code;completed_on\n"
        b"lukasz@example.org;EII-102;01/06/2024\n"
        b"LUKASZ@example.org;eii-101;31/05/2024\n"
    )
    report = preview_import(CREDITS, data, today=today)
    assert problem_places(report) == [(3, "completed_on")]
    assert report.problems[0].message == withdrawal_message("credit", credit)
    assert report.new == 1  # the good row, which is not written either
    with pytest.raises(ImportRefused):
        commit_import(CREDITS, data, actor=None, today=today)
    db.session.commit()
    assert stored(CreditRecord) == before  # still one credit, still withdrawn


def test_a_corrected_completion_date_is_imported_as_new(ctx, setting, today):
    withdrawn_credit("lukasz@example.org", "EII-101", dt.date(2024, 5, 31), today)
    data = b"email,course_code,completed_on\nlukasz@example.org,EII-101,2024-05-13\n"
    report = preview_import(CREDITS, data, today=today)
    assert report.problems == ()
    assert report.counts == "0 already recorded, 1 new"
    commit_import(CREDITS, data, actor=None, today=today)
    db.session.commit()
    assert [(on, gone) for _course, on, gone in stored(CreditRecord)] == [
        (dt.date(2024, 5, 31), True),
        (dt.date(2024, 5, 13), False),
    ]


def test_a_credit_recorded_again_after_its_withdrawal_counts_as_recorded(ctx, setting, today):
    """The office put it back by hand: the file's row is then simply already recorded."""
    withdrawn_credit("lukasz@example.org", "EII-101", dt.date(2024, 5, 31), today)
    again = get_user_by_email("lukasz@example.org")
    record_credit(again, "EII-101", dt.date(2024, 5, 31), actor=None, today=today)
    db.session.commit()
    data = b"email,course_code,completed_on\nlukasz@example.org,EII-101,2024-05-31\n"
    report = preview_import(CREDITS, data, today=today)
    assert report.problems == ()
    assert report.counts == "1 already recorded, 0 new"


def test_reimporting_a_withdrawn_result_is_refused_on_its_row(ctx, setting, today):
    attempt = withdrawn_result("lukasz@example.org", "55", dt.date(2024, 3, 13), today)
    before = stored(AssessmentAttempt)
    data = b"email;assessment_code;score;taken_on\nlukasz@example.org;CERT-EXAM;55,00;13/03/2024\n"
    report = preview_import(RESULTS, data, today=today)
    assert problem_places(report) == [(2, "taken_on")]
    assert report.problems[0].message == withdrawal_message("result", attempt)
    assert report.new == 0
    with pytest.raises(ImportRefused):
        commit_import(RESULTS, data, actor=None, today=today)
    db.session.commit()
    assert stored(AssessmentAttempt) == before


def test_a_corrected_result_is_imported_as_new(ctx, setting, today):
    withdrawn_result("lukasz@example.org", "55", dt.date(2024, 3, 1), today)
    data = (
        b"email,assessment_code,score,taken_on\n"
        b"lukasz@example.org,CERT-EXAM,65,2024-03-01\n"  # the score corrected
        b"lukasz@example.org,CERT-EXAM,70,2024-03-02\n"  # another sitting
    )
    report = preview_import(RESULTS, data, today=today)
    assert report.problems == ()
    assert report.counts == "0 already recorded, 2 new"
    commit_import(RESULTS, data, actor=None, today=today)
    db.session.commit()
    assert stored(AssessmentAttempt) == [
        (dt.date(2024, 3, 1), Decimal("55"), True),
        (dt.date(2024, 3, 1), Decimal("65"), False),
        (dt.date(2024, 3, 2), Decimal("70"), False),
    ]


@contextlib.contextmanager
def statements() -> Iterator[list[str]]:
    seen: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)


def test_the_withdrawn_records_cost_no_query_per_row(ctx, setting, today, make_candidate):
    queries: dict[int, tuple[int, int]] = {}
    for size in (1, 12):
        credits = [b"email,course_code,completed_on"]
        results = [b"email,assessment_code,score,taken_on"]
        for i in range(size):
            email = f"q{size}-{i}@example.org"
            make_candidate(f"Candidate {i}", email=email)
            withdrawn_credit(email, "EII-101", dt.date(2024, 5, 31), today)
            withdrawn_result(email, "55", dt.date(2024, 3, 1), today)
            credits.append(f"{email},EII-101,2024-05-31".encode())
            results.append(f"{email},CERT-EXAM,55,2024-03-01".encode())
        db.session.expire_all()
        with statements() as credit_queries:
            credit_report = preview_import(CREDITS, b"\n".join(credits), today=today)
        with statements() as result_queries:
            result_report = preview_import(RESULTS, b"\n".join(results), today=today)
        assert len(credit_report.problems) == len(result_report.problems) == size
        queries[size] = (len(credit_queries), len(result_queries))
    assert queries[12] == queries[1]


def test_the_import_page_shows_the_withdrawal_escaped(
    app, client, make_admin, make_course, make_candidate, today
):
    make_course("EII-101")
    make_candidate("Łukasz Wiśniewski", email="lukasz@example.org")
    make_admin("office@efrs.example")
    with app.app_context():
        credit = withdrawn_credit("lukasz@example.org", "EII-101", dt.date(2024, 5, 31), today)
        credit.withdrawal_reason = "Typed <b>twice</b> & sent"
        db.session.commit()
        withdrawn_on = format_long_date(credit.withdrawn_at.date())
    log_in(client, "office@efrs.example")
    help_text = html.unescape(
        re.sub(r"\s+", " ", client.get("/admin/imports").get_data(as_text=True))
    )
    assert "A credit or result that was withdrawn is a problem on its row" in help_text
    response = client.post(
        "/admin/imports",
        data={
            "kind": "credits",
            "file": (
                io.BytesIO(
                    b"email;course_code;completed_on\nlukasz@example.org;EII-101;31/05/2024\n"
                ),
                "credits.csv",
            ),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Typed &lt;b&gt;twice&lt;/b&gt; &amp; sent" in page
    text = html.unescape(re.sub(r"\s+", " ", page))
    assert "1 problem: nothing from this file can be imported" in text
    assert (
        f"This credit was withdrawn on {withdrawn_on} (reason: Typed <b>twice</b> & sent)."
        " If it is right after all, record it on the candidate's page." in text
    )
    assert "/commit" not in text
