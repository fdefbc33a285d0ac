"""Eligibility in SQL gives the progress engine's answers, on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from certification.auth.models import Role, User
from certification.auth.services import get_candidate
from certification.catalogue.models import (
    Assessment,
    Course,
    DomainMinimum,
    Programme,
    programme_assessment,
)
from certification.catalogue.services import get_programme, programme_rules
from certification.certificates.eligibility import (
    eligible_ids,
    eligible_not_holding,
    eligible_not_holding_ids,
)
from certification.certificates.models import Certificate
from certification.certificates.services import (
    eligible_not_issued,
    held_awards_by_candidate,
    issue_certificate,
    revoke_certificate,
)
from certification.extensions import db
from certification.progress import evaluate_progress, subtract_months
from certification.records.eligibility import eligible_candidate_ids
from certification.records.models import AssessmentAttempt, CreditRecord, ProgrammeStanding
from certification.records.services import load_transcripts, record_credit, record_result
from certification.records.standings import refresh_standings


def ids(statement: sa.Select) -> set[int]:
    return set(db.session.scalars(statement))


# ---------------------------------------------------------------- examples


@pytest.fixture
def thirty(app, make_catalogue):
    """EII-C: 30 ECTS, 10 of them in Standards, the exam (pass mark 60), a 24-month window."""
    courses = {
        "BIG": ("29.5", "AI"),
        "HALF": ("0.5", "Standards"),
        "STD": ("9.5", "Standards"),
        "STD2": ("0.5", "Standards"),
    }
    make_catalogue(
        courses,
        exam="EXAM",
        min_total_credits="30",
        domain_minimums={"Standards": "10"},
        credit_window_months=24,
        validity_months=60,
    )


def _record(candidate_id: int, today: dt.date, courses: dict[str, dt.date], scores=()) -> None:
    person = get_candidate(candidate_id)
    for course, on in courses.items():
        record_credit(person, course, on, actor=None, today=today)
    for score in scores:
        record_result(person, "EXAM", Decimal(score), today, actor=None, today=today)
    db.session.flush()


def test_met_exactly_at_the_minimum_and_a_domain_short(thirty, make_candidate, ctx, today):
    exact = make_candidate("Exact", email="exact@example.org").id
    short = make_candidate("Short", email="short@example.org").id
    # 29.5 + 0.5 + 9.5 = 39.5 in total, but only 0.5 + 9.5 = 10 in Standards: met exactly.
    _record(exact, today, {"BIG": today, "HALF": today, "STD": today}, scores=["60"])
    # 29.5 + 0.5 + 0.5 = 30.5 in total, only 1 in Standards: a domain short.
    _record(short, today, {"BIG": today, "HALF": today, "STD2": today}, scores=["95"])
    programme = get_programme("EII-C")
    assert ids(eligible_candidate_ids(programme, today)) == {exact}


def test_credits_outside_the_window_do_not_count(thirty, make_candidate, ctx, today):
    earliest = subtract_months(today, 24)
    inside = make_candidate("Inside", email="in@example.org").id
    outside = make_candidate("Outside", email="out@example.org").id
    _record(inside, today, {"BIG": earliest, "HALF": today, "STD": today}, scores=["70"])
    _record(
        outside,
        today,
        {"BIG": earliest - dt.timedelta(days=1), "HALF": today, "STD": today},
        scores=["70"],
    )
    assert ids(eligible_candidate_ids(get_programme("EII-C"), today)) == {inside}


def test_failed_exam_then_passed(thirty, make_candidate, ctx, today):
    candidate = make_candidate().id
    _record(candidate, today, {"BIG": today, "HALF": today, "STD": today}, scores=["59.99"])
    programme = get_programme("EII-C")
    assert ids(eligible_candidate_ids(programme, today)) == set()
    _record(candidate, today, {}, scores=["60"])
    assert ids(eligible_candidate_ids(programme, today)) == {candidate}


@pytest.fixture
def diploma(thirty, make_course, make_programme):
    """EII-D: the certificate EII-C as prerequisite, plus 5 credits of its own."""
    make_course("ADV", credits="5", domain="Advanced")
    make_programme(
        "EII-D",
        level="diploma",
        min_total_credits="5",
        domain_minimums={"Advanced": "5"},
        prerequisite="EII-C",
    )


def test_prerequisite_met_by_holding_it_or_by_meeting_it(diploma, make_candidate, ctx, today):
    long_ago = subtract_months(today, 30)
    holder = make_candidate("Holder", email="holder@example.org").id
    meets = make_candidate("Meets", email="meets@example.org").id
    neither = make_candidate("Neither", email="neither@example.org").id
    # The holder earned EII-C with credits that have since left the window, then took ADV.
    _record(holder, long_ago, {"BIG": long_ago, "HALF": long_ago, "STD": long_ago}, ["80"])
    certificate = issue_certificate(
        get_candidate(holder), get_programme("EII-C"), None, today=long_ago
    )
    _record(holder, today, {"ADV": today})
    _record(meets, today, {"BIG": today, "HALF": today, "STD": today, "ADV": today}, ["61"])
    _record(neither, long_ago, {"BIG": long_ago, "HALF": long_ago, "STD": long_ago}, ["80"])
    _record(neither, today, {"ADV": today})

    diploma = get_programme("EII-D")
    assert ids(eligible_ids(diploma, today)) == {holder, meets}
    # Without knowledge of awards held, only meeting the prerequisite counts.
    assert ids(eligible_candidate_ids(diploma, today)) == {meets}
    # The holder is not eligible for EII-C again (credits lapsed), nor listed to receive it.
    certificate_programme = get_programme("EII-C")
    assert ids(eligible_ids(certificate_programme, today)) == {meets}
    assert ids(eligible_not_holding_ids(certificate_programme, today)) == {meets}

    # A revoked certificate is not held.
    revoke_certificate(certificate, "Issued in error", None)
    assert ids(eligible_ids(diploma, today)) == {meets}


def test_an_expired_certificate_is_not_held_and_may_be_renewed(
    app, make_course, make_programme, make_candidate, ctx, today
):
    make_course("X1", credits="5", domain="AI")
    make_programme("SHORT", min_total_credits="5", validity_months=1)
    make_programme("NEXT", min_total_credits="0", prerequisite="SHORT")
    candidate = make_candidate().id
    start = subtract_months(today, 2)
    _record(candidate, start, {"X1": start})
    programme = get_programme("SHORT")
    issue_certificate(get_candidate(candidate), programme, None, today=start)
    assert ids(eligible_not_holding_ids(programme, start)) == set()
    # Valid for a month: expired now, so it does not block renewal.
    assert ids(eligible_not_holding_ids(programme, today)) == {candidate}
    assert list(db.session.scalars(eligible_not_holding(programme, today))) == [candidate]
    assert ids(eligible_ids(get_programme("NEXT"), today)) == {candidate}


def test_a_programme_without_requirements_admits_every_candidate(
    make_programme, make_candidate, make_admin, ctx, today
):
    make_programme("FREE", min_total_credits="0")
    make_admin()
    people = {make_candidate(email=f"p{i}@example.org").id for i in range(3)}
    assert ids(eligible_candidate_ids(get_programme("FREE"), today)) == people


# ---------------------------------------------------------------- against the engine

TODAY = dt.date(2025, 3, 31)  # the end of a month: windows clamp to shorter months
COURSES = [  # code, domain, credits: tenths that add up unevenly in floating point
    ("C1", "AI", "0.1"),
    ("C2", "AI", "0.7"),
    ("C3", "AI", "2.5"),
    ("C4", "STD", "0.1"),
    ("C5", "STD", "0.2"),
    ("C6", "STD", "5"),
    ("C7", "SEC", "0.1"),
    ("C8", "SEC", "7.5"),
]
PASS_MARKS = {"E1": Decimal("60"), "E2": Decimal("59.99")}
SCORES = [Decimal(s) for s in ("0", "59.98", "59.99", "60", "60.01", "100")]

day_offsets = st.one_of(
    st.integers(min_value=0, max_value=800),
    st.sampled_from([0, 28, 29, 30, 31, 365, 366]),
)
credit_rows = st.lists(
    st.tuples(st.sampled_from([c[0] for c in COURSES]), day_offsets),
    max_size=6,
    unique_by=lambda row: row[0],
)
attempt_rows = st.lists(st.tuples(st.sampled_from(sorted(PASS_MARKS)), st.sampled_from(SCORES)))
held_rows = st.lists(
    st.tuples(
        st.booleans(),  # is_current
        st.sampled_from([None, -1, 0, 1, 400]),  # expires so many days from TODAY
    ),
    max_size=2,
)
candidates = st.lists(st.tuples(credit_rows, attempt_rows, held_rows), min_size=1, max_size=5)
# Standings are worked out on the day of a write and read on any day after it.
worked_out_days_before = st.sampled_from([0, 0, 1, 29, 31, 200, 400, 800])
minimums = st.sampled_from(["0", "0.1", "0.3", "1", "2.6", "8"])
rules = st.fixed_dictionaries(
    {
        "base_total": minimums,
        "base_domain": st.sampled_from([None, ("AI", "0.8"), ("STD", "0.3"), ("SEC", "0.2")]),
        "base_exam": st.sampled_from([None, "E1", "E2"]),
        "base_window": st.sampled_from([None, 1, 12, 24]),
        "top_total": minimums,
        "top_domain": st.sampled_from([None, ("SEC", "7.5"), ("AI", "0.1")]),
        "top_exam": st.sampled_from([None, "E1"]),
        "top_window": st.sampled_from([None, 1, 6]),
    }
)


def _reset() -> None:
    db.session.expunge_all()
    for table in (
        ProgrammeStanding.__table__,
        Certificate.__table__,
        AssessmentAttempt.__table__,
        CreditRecord.__table__,
        programme_assessment,
        DomainMinimum.__table__,
        Programme.__table__,
        Assessment.__table__,
        Course.__table__,
    ):
        db.session.execute(sa.delete(table))
    db.session.execute(sa.delete(User.__table__))


def _programme(code, total, domain, exam, window, prerequisite_id) -> int:
    programme_id = db.session.execute(
        sa.insert(Programme.__table__).returning(Programme.__table__.c.id),
        {
            "code": code,
            "title": code,
            "level": "certificate",
            "min_total_credits": Decimal(total),
            "prerequisite_id": prerequisite_id,
            "credit_window_months": window,
        },
    ).scalar_one()
    if domain:
        db.session.execute(
            sa.insert(DomainMinimum.__table__),
            {"programme_id": programme_id, "domain": domain[0], "min_credits": Decimal(domain[1])},
        )
    if exam:
        exam_id = db.session.scalar(sa.select(Assessment.id).where(Assessment.code == exam))
        db.session.execute(
            sa.insert(programme_assessment),
            {"programme_id": programme_id, "assessment_id": exam_id},
        )
    return programme_id


def _build(candidate_rows, rule, worked_out_on: dt.date = TODAY) -> tuple[Programme, Programme]:
    _reset()
    course_ids = {}
    for code, domain, credits in COURSES:
        course_ids[code] = db.session.execute(
            sa.insert(Course.__table__).returning(Course.__table__.c.id),
            {
                "code": code,
                "title": code,
                "credits": Decimal(credits),
                "domain": domain,
                "provider": "P",
            },
        ).scalar_one()
    exam_ids = {}
    for code, pass_mark in PASS_MARKS.items():
        exam_ids[code] = db.session.execute(
            sa.insert(Assessment.__table__).returning(Assessment.__table__.c.id),
            {
                "code": code,
                "title": code,
                "pass_mark": pass_mark,
                "max_score": Decimal(100),
                "max_attempts": 99,
            },
        ).scalar_one()
    base = _programme(
        "BASE",
        rule["base_total"],
        rule["base_domain"],
        rule["base_exam"],
        rule["base_window"],
        None,
    )
    top = _programme(
        "TOP", rule["top_total"], rule["top_domain"], rule["top_exam"], rule["top_window"], base
    )
    for number, (credits, attempts, held) in enumerate(candidate_rows):
        candidate_id = db.session.execute(
            sa.insert(User.__table__).returning(User.__table__.c.id),
            {
                "email": f"c{number}@example.org",
                "full_name": f"C {number}",
                "name_key": f"c {number}",
                "role": Role.CANDIDATE,
            },
        ).scalar_one()
        for code, offset in credits:
            db.session.execute(
                sa.insert(CreditRecord.__table__),
                {
                    "candidate_id": candidate_id,
                    "course_id": course_ids[code],
                    "completed_on": TODAY - dt.timedelta(days=offset),
                },
            )
        for attempt_number, (exam, score) in enumerate(attempts, start=1):
            db.session.execute(
                sa.insert(AssessmentAttempt.__table__),
                {
                    "candidate_id": candidate_id,
                    "assessment_id": exam_ids[exam],
                    "attempt_number": attempt_number,
                    "score": score,
                    "taken_on": TODAY,
                },
            )
        for index, (is_current, expires_in) in enumerate(held):
            programme_id = base if index == 0 else top
            db.session.execute(
                sa.insert(Certificate.__table__),
                {
                    "code": f"X-{number}-{index}",
                    "candidate_id": candidate_id,
                    "programme_id": programme_id,
                    # Only one current certificate per award and candidate.
                    "is_current": is_current,
                    "holder_name": "C",
                    "award_title": "A",
                    "level": "certificate",
                    "credits_total": Decimal(0),
                    "credits_by_domain": {},
                    "issuers": [],
                    "issued_at": dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
                    "issued_on": dt.date(2024, 1, 1),
                    "expires_on": None
                    if expires_in is None
                    else TODAY + dt.timedelta(days=expires_in),
                    "verify_url": "https://example.org",
                    "pdf_sha256": "0" * 64,
                },
            )
    db.session.flush()
    # The rows went in behind the services' backs: work out the standings as a write would.
    refresh_standings(None, worked_out_on)
    return db.session.get_one(Programme, base), db.session.get_one(Programme, top)


def _engine_eligible(programme: Programme, use_held: bool) -> set[int]:
    candidate_ids = list(db.session.scalars(sa.select(User.id).where(User.role == Role.CANDIDATE)))
    transcripts = load_transcripts(candidate_ids)
    held = held_awards_by_candidate(TODAY, candidate_ids) if use_held else {}
    rules_ = programme_rules(programme)
    return {
        i
        for i in candidate_ids
        if evaluate_progress(
            rules_,
            dataclasses.replace(transcripts[i].for_engine(), held_awards=held.get(i, frozenset())),
            TODAY,
        ).eligible
    }


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(candidate_rows=candidates, rule=rules, days_before=worked_out_days_before)
def test_sql_agrees_with_the_engine(ctx, candidate_rows, rule, days_before):
    base, top = _build(candidate_rows, rule, TODAY - dt.timedelta(days=days_before))
    for programme in (base, top):
        assert ids(eligible_candidate_ids(programme, TODAY)) == _engine_eligible(
            programme, use_held=False
        )
        assert ids(eligible_ids(programme, TODAY)) == _engine_eligible(programme, use_held=True)
        holding = {
            candidate_id
            for candidate_id, codes in held_awards_by_candidate(TODAY).items()
            if programme.code in codes
        }
        issuable = _engine_eligible(programme, use_held=True) - holding
        assert ids(eligible_not_holding_ids(programme, TODAY)) == issuable
        in_name_order = list(db.session.scalars(eligible_not_issued(programme, TODAY)))
        assert set(in_name_order) == issuable
        names = {u.id: (u.name_key, u.id) for u in db.session.scalars(sa.select(User))}
        assert in_name_order == sorted(in_name_order, key=names.__getitem__)


def test_tenths_that_floating_point_would_lose_still_add_up(ctx):
    # 0.7 + 0.1 + 0.1 + 0.1 is 0.9999999999999999 in floating point, which is how SQLite
    # sums NUMERIC; counted in tenths it is exactly the minimum of 1.
    rule = {
        "base_total": "1",
        "base_domain": None,
        "base_exam": None,
        "base_window": None,
        "top_total": "0",
        "top_domain": None,
        "top_exam": None,
        "top_window": None,
    }
    base, _top = _build([([("C2", 0), ("C1", 0), ("C4", 0), ("C7", 0)], [], [])], rule)
    assert len(ids(eligible_candidate_ids(base, TODAY))) == 1
    assert ids(eligible_candidate_ids(base, TODAY)) == _engine_eligible(base, use_held=False)
