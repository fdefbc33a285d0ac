"""Withdrawing credits and results recorded by mistake (kept, marked, no longer counted),
and finding what an integrator pushed: candidates by e-mail, their credits and results."""

from __future__ import annotations

import datetime as dt
import html
import re
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from certification.audit import AuditEvent
from certification.auth.services import get_candidate
from certification.certificates.services import find_certificate, reissue_certificate
from certification.extensions import db
from certification.records.models import CreditRecord, ProgrammeStanding
from certification.records.services import AlreadyWithdrawn, record_result, withdraw_credit
from tests.conftest import another_app, assert_error, close_app, issue_by_service, log_in

REASON = "Recorded against the wrong candidate"


def page_text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def credit_id(app, candidate_id: int, course: str = "EII-101") -> int:
    with app.app_context():
        return db.session.scalar(
            sa.select(CreditRecord.id)
            .join(CreditRecord.course)
            .where(CreditRecord.candidate_id == candidate_id, CreditRecord.course.has(code=course))
        )


def eligible_for_certificate(app, candidate_id: int) -> bool:
    """What the lists of everyone eligible read: the stored standing."""
    with app.app_context():
        return bool(
            db.session.scalar(
                sa.select(ProgrammeStanding.met).where(
                    ProgrammeStanding.candidate_id == candidate_id
                )
            )
        )


def audit_actions(app, candidate_id: int) -> list[tuple[str, dict | None, dict | None]]:
    with app.app_context():
        return [
            (e.action, e.before, e.after)
            for e in db.session.scalars(
                sa.select(AuditEvent)
                .where(AuditEvent.object_id == str(candidate_id))
                .order_by(AuditEvent.id)
            )
        ]


def progress_eligible(api, candidate_id: int) -> bool:
    body = api.get(f"/candidates/{candidate_id}/progress").get_json()
    return next(p for p in body["programmes"] if p["code"] == "EII-C")["eligible"]


# ---------------------------------------------------------------- the API


def test_a_withdrawn_credit_is_kept_no_longer_counts_and_a_correct_record_counts_again(
    app, api, eligible_candidate, today
):
    candidate = eligible_candidate()
    assert eligible_for_certificate(app, candidate) and progress_eligible(api, candidate)
    record = credit_id(app, candidate)

    response = api.post(
        f"/candidates/{candidate}/credits/{record}/withdraw", {"reason": f"  {REASON} "}
    )

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["id"] == record
    assert body["course"] == "EII-101"
    assert body["completed_on"] == today.isoformat()
    assert body["withdrawal_reason"] == REASON
    assert dt.datetime.fromisoformat(body["withdrawn_at"]).tzinfo is not None
    # The standing changed in the same request: no longer eligible, on every list.
    assert not eligible_for_certificate(app, candidate)
    assert not progress_eligible(api, candidate)
    action, before, after = audit_actions(app, candidate)[-1]
    assert action == "credit.withdrawn"
    assert before["course"] == "EII-101" and after == {"reason": REASON}
    # Kept: the list still shows it, withdrawn.
    items = api.get(f"/candidates/{candidate}/credits").get_json()["items"]
    assert [(i["course"], i["withdrawal_reason"]) for i in items] == [
        ("EII-101", REASON),
        ("EII-102", None),
    ]

    # The correction: the same course recorded again counts again.
    again = api.post(
        f"/candidates/{candidate}/credits", {"course": "EII-101", "completed_on": today.isoformat()}
    )
    assert again.status_code == 201, again.get_json()
    assert again.get_json()["withdrawn_at"] is None
    assert eligible_for_certificate(app, candidate) and progress_eligible(api, candidate)
    # ... but only once.
    twice = api.post(
        f"/candidates/{candidate}/credits", {"course": "EII-101", "completed_on": today.isoformat()}
    )
    assert_error(twice, 409, "duplicate", {"course"})


def test_withdrawing_twice_is_refused(app, api, eligible_candidate):
    candidate = eligible_candidate()
    record = credit_id(app, candidate)
    path = f"/candidates/{candidate}/credits/{record}/withdraw"
    assert api.post(path, {"reason": REASON}).status_code == 200
    assert_error(api.post(path, {"reason": "Again"}), 409, "already_withdrawn")
    assert [a for a, _b, _c in audit_actions(app, candidate)].count("credit.withdrawn") == 1


def test_two_withdrawals_at_the_same_moment_withdraw_once(app, eligible_candidate, today):
    # Two administrators (two app instances, two sessions) both read the credit before
    # either withdraws it: the second is refused, and the first reason stays.
    candidate = eligible_candidate()
    record = credit_id(app, candidate)
    other = another_app(app)
    try:
        with other.app_context():
            seen_by_second = db.session.get(CreditRecord, record)
            assert seen_by_second.withdrawn_at is None
            with app.app_context():
                seen_by_first = db.session.get(CreditRecord, record)
                withdraw_credit(seen_by_first, REASON, None, today=today)
                db.session.commit()
            with pytest.raises(AlreadyWithdrawn, match="This record was withdrawn already, on "):
                withdraw_credit(seen_by_second, "Belongs to somebody else", None, today=today)
            db.session.rollback()
    finally:
        close_app(other)
    with app.app_context():
        assert db.session.get(CreditRecord, record).withdrawal_reason == REASON
    assert [a for a, _b, _c in audit_actions(app, candidate)].count("credit.withdrawn") == 1


def test_a_withdrawal_is_dated_in_the_programmes_calendar(app, admin, api, eligible_candidate):
    # Half past eleven at night in UTC is already the next day in the programme's zone:
    # pages and the refusal say that day, in words, as they date a revocation.
    candidate = eligible_candidate()
    record = credit_id(app, candidate)
    path = f"/candidates/{candidate}/credits/{record}/withdraw"
    assert api.post(path, {"reason": REASON}).status_code == 200
    moment = dt.datetime(2026, 3, 1, 23, 30, tzinfo=dt.UTC)
    day = moment.astimezone(ZoneInfo(app.config["APP_TIMEZONE"])).date()
    assert day != moment.date()  # the test means something only if the zones disagree
    with app.app_context():
        db.session.execute(
            sa.update(CreditRecord).where(CreditRecord.id == record).values(withdrawn_at=moment)
        )
        db.session.commit()
    said = f"{day.day} {day:%B %Y}"

    refused = api.post(path, {"reason": "Again"})
    assert_error(refused, 409, "already_withdrawn")
    assert refused.get_json()["message"] == f"This record was withdrawn already, on {said}."

    office_page = page_text(admin.get(f"/admin/candidates/{candidate}"))
    assert f'<span class="badge badge-warn">Withdrawn</span> {said}<br>' in office_page
    holder = app.test_client()
    log_in(holder, "eligible1@example.org")
    assert f"withdrawn on {said}" in page_text(holder.get("/me/"))


@pytest.mark.parametrize(
    ("body", "status", "slug"),
    [
        ({}, 400, "malformed"),
        ({"reason": None}, 400, "malformed"),
        ({"reason": ""}, 422, "invalid"),
        ({"reason": "   "}, 422, "invalid"),
        ({"reason": "x" * 501}, 422, "invalid"),
        ({"reason": "two\nlines"}, 422, "invalid"),
    ],
)
def test_a_withdrawal_needs_a_reason(app, api, eligible_candidate, body, status, slug):
    candidate = eligible_candidate()
    record = credit_id(app, candidate)
    response = api.post(f"/candidates/{candidate}/credits/{record}/withdraw", body)
    assert_error(response, status, slug, {"reason"})
    assert eligible_for_certificate(app, candidate)  # nothing changed
    with app.app_context():
        assert db.session.get(CreditRecord, record).withdrawn_at is None


def test_another_candidates_record_is_not_found(app, api, eligible_candidate):
    holder, other = eligible_candidate("Ana Novak"), eligible_candidate("Jan Kowalski")
    record = credit_id(app, holder)
    results = api.get(f"/candidates/{holder}/results").get_json()["items"]
    for path in (
        f"/candidates/{other}/credits/{record}/withdraw",
        f"/candidates/{other}/results/{results[0]['id']}/withdraw",
        f"/candidates/{holder}/credits/99999999999/withdraw",
        f"/candidates/99999999/credits/{record}/withdraw",
    ):
        assert_error(api.post(path, {"reason": REASON}), 404, "not_found")
    assert eligible_for_certificate(app, holder)


def test_a_withdrawn_failed_attempt_frees_an_attempt(app, api, make_candidate, make_catalogue):
    make_catalogue({"EII-101": ("5", "AI & Data Science")}, min_total_credits="5")
    candidate = make_candidate("Ana Novak", email="ana@example.si").id
    taken = [
        api.post(
            f"/candidates/{candidate}/results",
            {"assessment": "CERT-EXAM", "score": score, "taken_on": "2026-01-1" + str(n)},
        ).get_json()
        for n, score in enumerate((40, 45, 50))
    ]
    assert [t["attempt"] for t in taken] == [1, 2, 3]
    fourth = {"assessment": "CERT-EXAM", "score": 80, "taken_on": "2026-02-01"}
    assert_error(api.post(f"/candidates/{candidate}/results", fourth), 422, "attempts_exhausted")

    withdrawn = api.post(
        f"/candidates/{candidate}/results/{taken[1]['id']}/withdraw", {"reason": REASON}
    )
    assert withdrawn.status_code == 200
    assert withdrawn.get_json()["attempt"] == 2  # the number it was recorded with stays
    assert withdrawn.get_json()["counted_attempt"] is None  # it no longer uses up an attempt
    assert withdrawn.get_json()["withdrawal_reason"] == REASON
    assert audit_actions(app, candidate)[-1][0] == "result.withdrawn"

    recorded = api.post(f"/candidates/{candidate}/results", fourth)
    assert recorded.status_code == 201, recorded.get_json()
    assert recorded.get_json()["attempt"] == 4  # the fourth recorded ...
    assert recorded.get_json()["counted_attempt"] == 3  # ... the third that counts
    listed = api.get(f"/candidates/{candidate}/results").get_json()["items"]
    assert [
        (i["score"], i["attempt"], i["counted_attempt"], i["withdrawal_reason"]) for i in listed
    ] == [
        (40, 1, 1, None),
        (45, 2, None, REASON),
        (50, 3, 2, None),
        (80, 4, 3, None),
    ]
    assert_error(api.post(f"/candidates/{candidate}/results", fourth), 422, "attempts_exhausted")


def test_a_withdrawn_pass_no_longer_meets_the_examination(app, api, eligible_candidate):
    candidate = eligible_candidate()
    [result] = api.get(f"/candidates/{candidate}/results").get_json()["items"]
    api.post(f"/candidates/{candidate}/results/{result['id']}/withdraw", {"reason": REASON})
    assert not eligible_for_certificate(app, candidate)
    assert not progress_eligible(api, candidate)


# ---------------------------------------------------------------- finding what was pushed


def test_a_candidate_is_found_by_email_as_it_was_registered(api, make_candidate):
    created = api.post(
        "/candidates", {"email": "Maria@Example.GR", "full_name": "Μαρία", "country": "GR"}
    ).get_json()
    make_candidate("Ana Novak", email="ana@example.si")

    found = api.get("/candidates?email=%20MARIA@example.gr%20").get_json()
    assert found["items"] == [api.get(f"/candidates/{created['id']}").get_json()]
    assert (found["total"], found["page"], found["pages"]) == (1, 1, 1)
    nobody = api.get("/candidates?email=nobody@example.org").get_json()
    assert (nobody["items"], nobody["total"], nobody["pages"]) == ([], 0, 0)
    everyone = api.get("/candidates?per_page=1&page=2").get_json()
    assert everyone["total"] == 2 and everyone["pages"] == 2
    assert [c["full_name"] for c in everyone["items"]] == ["Μαρία"]  # by name: Ana first


@pytest.mark.parametrize("query", ["page=0", "per_page=0", "per_page=101", "page=x"])
def test_a_page_out_of_shape_is_refused(api, eligible_candidate, query):
    candidate = eligible_candidate()
    field = query.split("=")[0]
    for path in ("/candidates", f"/candidates/{candidate}/credits"):
        assert_error(api.get(f"{path}?{query}"), 400, "malformed", {field})


def test_credits_and_results_are_listed_page_by_page(app, api, eligible_candidate, today):
    candidate = eligible_candidate()
    first = api.get(f"/candidates/{candidate}/credits?per_page=1").get_json()
    second = api.get(f"/candidates/{candidate}/credits?per_page=1&page=2").get_json()
    past = api.get(f"/candidates/{candidate}/credits?per_page=1&page=3").get_json()
    assert (first["total"], first["pages"], first["per_page"]) == (2, 2, 1)
    assert first["items"] == [
        {
            "id": credit_id(app, candidate),
            "course": "EII-101",
            "credits": 5,
            "domain": "AI & Data Science",
            "completed_on": today.isoformat(),
            "withdrawn_at": None,
            "withdrawal_reason": None,
        }
    ]
    assert [i["course"] for i in second["items"]] == ["EII-102"]
    assert past["items"] == []
    [result] = api.get(f"/candidates/{candidate}/results").get_json()["items"]
    fields = ("assessment", "score", "taken_on", "attempt", "counted_attempt", "passed")
    assert {k: result[k] for k in fields} == {
        "assessment": "CERT-EXAM",
        "score": 72,
        "taken_on": today.isoformat(),
        "attempt": 1,
        "counted_attempt": 1,
        "passed": True,
    }
    assert_error(api.get("/candidates/99999999/credits"), 404, "not_found")
    assert_error(api.get("/candidates/99999999/results"), 404, "not_found")


def test_the_lists_and_withdrawals_are_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert paths["/candidates"]["get"]["operationId"] == "listCandidates"
    assert paths["/candidates/{candidate_id}/credits"]["get"]["operationId"] == "listCredits"
    assert paths["/candidates/{candidate_id}/results"]["get"]["operationId"] == "listResults"
    withdraw = paths["/candidates/{candidate_id}/credits/{credit_id}/withdraw"]["post"]
    assert withdraw["operationId"] == "withdrawCredit"
    assert {"200", "404", "409", "422"} <= set(withdraw["responses"])
    assert "/candidates/{candidate_id}/results/{result_id}/withdraw" in paths


# ---------------------------------------------------------------- the pages


@pytest.fixture
def admin(client, make_admin):
    make_admin("office@efrs.example", "EFRS Programme Office")
    log_in(client, "office@efrs.example")
    return client


def test_the_office_withdraws_a_result_with_a_reason(app, admin, eligible_candidate):
    candidate = eligible_candidate()
    page = admin.get(f"/admin/candidates/{candidate}").get_data(as_text=True)
    result = re.search(r"/results/(\d+)/withdraw", page).group(1)
    path = f"/admin/candidates/{candidate}/results/{result}/withdraw"

    refused = admin.post(path, data={"reason": ""})
    assert refused.status_code == 422
    assert "This field is required." in page_text(refused)
    too_long = "Belongs to Jan Kowalski " + "x" * 500
    refused = admin.post(path, data={"reason": too_long})
    assert refused.status_code == 422
    assert "At most 500 characters." in page_text(refused)
    assert too_long in page_text(refused)  # what was typed comes back
    assert eligible_for_certificate(app, candidate)

    done = admin.post(path, data={"reason": "Belongs to <Jan> Kowalski"}, follow_redirects=True)
    text = page_text(done)
    assert "Withdrew the result at CERT-EXAM" in text
    assert "Reason: Belongs to <Jan> Kowalski" in text
    assert "&lt;Jan&gt;" in done.get_data(as_text=True)  # escaped
    assert "not counted" in text
    assert not eligible_for_certificate(app, candidate)
    assert audit_actions(app, candidate)[-1][0] == "result.withdrawn"


def test_a_certificate_issued_on_a_record_since_withdrawn_says_so(
    app, admin, api, eligible_candidate, today
):
    candidate = eligible_candidate()
    code = issue_by_service(app, candidate, today)
    page = page_text(admin.get(f"/admin/candidates/{candidate}"))
    assert "since withdrawn" not in page

    api.post(
        f"/candidates/{candidate}/credits/{credit_id(app, candidate)}/withdraw", {"reason": REASON}
    )

    page = page_text(admin.get(f"/admin/candidates/{candidate}"))
    assert (
        f"Issued on a record since withdrawn: EII-101 Foundations of AI in imaging,"
        f" {today.day} {today:%B %Y}, {REASON}"
    ) in page
    assert f'Certificate <span class="code">{code}</span> was issued on a record since' in page
    assert "Revoke certificate" in page  # the office decides; nothing was revoked
    assert api.get(f"/certificates/{code}").get_json()["status"] == "valid"


def test_a_record_withdrawn_before_the_certificate_does_not_flag_it(
    app, admin, api, eligible_candidate, today
):
    candidate = eligible_candidate()
    with app.app_context():
        person = get_candidate(candidate)
        record_result(person, "CERT-EXAM", Decimal(30), today, actor=None, today=today)
        db.session.commit()
    results = api.get(f"/candidates/{candidate}/results").get_json()["items"]
    api.post(f"/candidates/{candidate}/results/{results[-1]['id']}/withdraw", {"reason": REASON})
    issue_by_service(app, candidate, today)
    assert "since withdrawn" not in page_text(admin.get(f"/admin/candidates/{candidate}"))


@pytest.mark.parametrize("withdrawn", ["before the reissue", "after the reissue"])
def test_a_reissue_still_says_the_award_was_issued_on_a_record_since_withdrawn(
    app, admin, api, eligible_candidate, today, withdrawn
):
    # A reissue (a corrected name) keeps the original award: what it rests on is what was
    # on file when the first certificate was issued, not when the replacement was made.
    candidate = eligible_candidate()
    original = issue_by_service(app, candidate, today)
    withdraw = f"/candidates/{candidate}/credits/{credit_id(app, candidate)}/withdraw"
    if withdrawn == "before the reissue":
        assert api.post(withdraw, {"reason": REASON}).status_code == 200
    with app.app_context():
        replacement = reissue_certificate(
            find_certificate(original), None, full_name="Łukasz Wiśniewski-Nowak"
        ).code
        db.session.commit()
    if withdrawn == "after the reissue":
        assert api.post(withdraw, {"reason": REASON}).status_code == 200

    page = page_text(admin.get(f"/admin/candidates/{candidate}"))
    assert (
        f'Certificate <span class="code">{replacement}</span> was issued on a record since' in page
    )
    assert f'Certificate <span class="code">{original}</span>' not in page  # superseded


def test_the_candidate_sees_a_withdrawn_record_labelled_without_the_reason(
    app, client, api, eligible_candidate
):
    candidate = eligible_candidate()
    api.post(
        f"/candidates/{candidate}/credits/{credit_id(app, candidate)}/withdraw",
        {"reason": "Belongs to Jan Kowalski"},
    )
    log_in(client, "eligible1@example.org")
    page = page_text(client.get("/me/"))
    assert "Withdrawn records" in page
    assert re.search(r"Withdrawn</span> <s><span class=\"code\">EII-101</span>", page)
    assert "Jan Kowalski" not in page


# ---------------------------------------------------------------- elsewhere it counts


def test_imports_reports_and_the_catalogue_leave_a_withdrawn_attempt_out(
    app, api, make_candidate, make_catalogue, today
):
    from certification.catalogue.models import Assessment
    from certification.catalogue.services import (
        AssessmentInput,
        get_assessment,
        update_assessment,
    )
    from certification.imports.models import ImportKind
    from certification.imports.services import commit_import, preview_import
    from certification.reports.services import assessment_figures

    make_catalogue({"EII-101": ("5", "AI & Data Science")}, min_total_credits="5")
    candidate = make_candidate("Ana Novak", email="ana@example.si").id
    taken = [
        api.post(
            f"/candidates/{candidate}/results",
            {"assessment": "CERT-EXAM", "score": score, "taken_on": f"2026-01-1{n}"},
        ).get_json()
        for n, score in enumerate((40, 95, 50))
    ]
    api.post(f"/candidates/{candidate}/results/{taken[1]['id']}/withdraw", {"reason": REASON})

    with app.app_context():
        [figures] = assessment_figures()
        # Two attempts, nobody passed: the 95 was someone else's.
        assert (figures.attempts, figures.sat, figures.passed) == (2, 1, 0)

        # An import sees one attempt left, and records it after the others.
        rows = (
            b"email,assessment_code,score,taken_on\n"
            b"ana@example.si,CERT-EXAM,70,2026-02-01\n"
            b"ana@example.si,CERT-EXAM,80,2026-03-01\n"
        )
        preview = preview_import(ImportKind.RESULTS, rows, today=today)
        assert preview.new == 1
        assert [p.row for p in preview.problems] == [3]
        assert "has used all 3 attempts" in preview.problems[0].message
        first_row = rows.rsplit(b"\n", 2)[0] + b"\n"
        report = commit_import(ImportKind.RESULTS, first_row, actor=None, today=today)
        assert report.new == 1
        db.session.commit()

        # Three attempts count: the limit may not go below three, but need not stay at four.
        exam = get_assessment("CERT-EXAM")
        numbers = AssessmentInput("CERT-EXAM", exam.title, exam.pass_mark, exam.max_score, 3)
        update_assessment(exam, numbers, None)
        db.session.commit()
        assert db.session.scalar(sa.select(Assessment.max_attempts)) == 3
    listed = api.get(f"/candidates/{candidate}/results").get_json()["items"]
    assert [(i["score"], i["attempt"], i["counted_attempt"]) for i in listed] == [
        (40, 1, 1),
        (95, 2, None),
        (50, 3, 2),
        (70, 4, 3),
    ]
