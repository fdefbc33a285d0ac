"""The rules engine on plain data: no app, no database."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from certification.progress import (
    AssessmentRule,
    AttemptEntry,
    CreditEntry,
    ProgrammeRules,
    Standing,
    Transcript,
    evaluate_progress,
    evaluate_standing,
    first_day_outside_window,
    subtract_months,
)

AS_OF = dt.date(2026, 11, 28)
AI = "AI & Data Science"
SI = "Standards & Interoperability"
EXAM = AssessmentRule("CERT-EXAM", "Certificate examination", Decimal(60), 3)
CERTIFICATE = ProgrammeRules(
    code="EII-C",
    title="European Certificate in Imaging Informatics",
    min_total_credits=Decimal(30),
    domain_minimums={AI: Decimal(10), SI: Decimal(5)},
    required_assessments=(EXAM,),
)
DIPLOMA = ProgrammeRules(
    code="EII-D",
    title="European Diploma in Imaging Informatics",
    min_total_credits=Decimal(60),
    prerequisite=CERTIFICATE,
)


def credit(code: str, domain: str, credits: str, on: dt.date = dt.date(2025, 5, 1)) -> CreditEntry:
    return CreditEntry(code, domain, Decimal(credits), on)


def attempt(score: str, on: dt.date = dt.date(2026, 6, 1)) -> AttemptEntry:
    return AttemptEntry("CERT-EXAM", Decimal(score), on)


def test_nothing_recorded_lists_every_requirement_as_missing():
    report = evaluate_progress(CERTIFICATE, Transcript(), AS_OF)
    assert not report.eligible
    assert report.missing == [
        "30 more ECTS credits in total",
        "10 more ECTS credits in AI & Data Science",
        "5 more ECTS credits in Standards & Interoperability",
        "pass the Certificate examination (not yet taken, pass mark 60)",
    ]


def test_shortfalls_are_written_as_a_person_would_read_them():
    transcript = Transcript(
        credits=(credit("A", AI, "7.5"), credit("S", SI, "5"), credit("X", "Other", "15")),
        attempts=(attempt("41"),),
    )
    report = evaluate_progress(CERTIFICATE, transcript, AS_OF)
    assert report.missing == [
        "2.5 more ECTS credits in total",
        "2.5 more ECTS credits in AI & Data Science",
        "pass the Certificate examination (failed: best score 41, pass mark 60; 2 of 3 attempts"
        " left)",
    ]
    total, ai, si, exam = report.requirements
    assert (total.required, total.achieved, total.met) == (Decimal(30), Decimal("27.5"), False)
    assert (si.achieved, si.met, si.missing) == (Decimal(5), True, None)
    assert (exam.required, exam.achieved) == (Decimal(60), Decimal(41))
    assert ai.description == "At least 10 ECTS credits in AI & Data Science"


def test_all_requirements_met_is_eligible():
    transcript = Transcript(
        credits=(credit("A1", AI, "10"), credit("S1", SI, "5"), credit("X", "Other", "15")),
        attempts=(attempt("52"), attempt("60")),
    )
    report = evaluate_progress(CERTIFICATE, transcript, AS_OF)
    assert report.eligible
    assert report.missing == []
    assert report.fraction == 1.0


def test_best_attempt_counts_and_used_up_attempts_are_said():
    transcript = Transcript(attempts=(attempt("41"), attempt("55"), attempt("30")))
    exam = evaluate_progress(CERTIFICATE, transcript, AS_OF).requirements[-1]
    assert exam.achieved == Decimal(55)
    assert exam.missing == (
        "pass the Certificate examination (failed: best score 55, pass mark 60;"
        " all 3 attempts used, contact the programme office)"
    )
    assert exam.fraction == 0
    assert exam.blocked and exam.attempts_left == 0
    assert exam.outcome == "No attempts left: contact the programme office"


def test_score_just_below_the_pass_mark_never_shows_a_full_bar():
    rule = AssessmentRule("E", "Exam", Decimal(60), 3)
    programme = ProgrammeRules("P", "P", Decimal(0), required_assessments=(rule,))
    transcript = Transcript(attempts=(AttemptEntry("E", Decimal("59.99"), AS_OF),))
    exam = evaluate_progress(programme, transcript, AS_OF).requirements[-1]
    assert not exam.met
    assert exam.fraction < 1


SIX_REQUIREMENTS = ProgrammeRules(
    code="EII-C",
    title="European Certificate in Imaging Informatics",
    min_total_credits=Decimal(30),
    domain_minimums={
        AI: Decimal(10),
        SI: Decimal(5),
        "Information Security & Data Protection": Decimal("2.5"),
        "Clinical Informatics": Decimal("2.5"),
    },
    required_assessments=(EXAM,),
)
NEARLY_THERE_ON_CREDITS = (
    credit("A1", AI, "12.5"),
    credit("S1", SI, "5"),
    credit("P1", "Information Security & Data Protection", "2.5"),
    credit("C1", "Clinical Informatics", "2.5"),
)


def test_a_failed_examination_is_counted_as_unmet_not_as_nearly_done():
    """7.5 ECTS short and every attempt at the examination failed: 4 of 6 requirements
    met, the examination blocked, and no share of the exam's pass mark counted."""
    transcript = Transcript(
        credits=NEARLY_THERE_ON_CREDITS,
        attempts=(attempt("41"), attempt("55"), attempt("58")),
    )
    report = evaluate_progress(SIX_REQUIREMENTS, transcript, AS_OF)
    assert (report.requirements_met, report.requirements_total) == (4, 6)
    assert report.summary == "4 of 6 requirements met"
    assert report.fraction == pytest.approx(4 / 6)
    exam = report.requirements[-1]
    assert report.blocked == (exam,)
    assert exam.failed and exam.blocked and exam.fraction == 0
    assert exam.outcome == "No attempts left: contact the programme office"
    assert report.missing == [
        "7.5 more ECTS credits in total",
        "pass the Certificate examination (failed: best score 58, pass mark 60;"
        " all 3 attempts used, contact the programme office)",
    ]


@pytest.mark.parametrize(
    ("scores", "outcome", "failed", "attempts_left"),
    [
        ((), "Not taken yet: 3 attempts allowed", False, 3),
        (("41",), "Failed — 2 of 3 attempts left", True, 2),
        (("41", "52"), "Failed — 1 of 3 attempts left", True, 1),
        (("41", "52", "30"), "No attempts left: contact the programme office", True, 0),
        # Passed at the last attempt: met, nothing blocked although no attempt is left.
        (("41", "52", "60"), "Passed", False, 0),
    ],
)
def test_an_assessment_says_how_it_stands_and_how_many_attempts_are_left(
    scores, outcome, failed, attempts_left
):
    transcript = Transcript(attempts=tuple(attempt(score) for score in scores))
    report = evaluate_progress(CERTIFICATE, transcript, AS_OF)
    exam = report.requirements[-1]
    assert (exam.outcome, exam.failed, exam.attempts_left) == (outcome, failed, attempts_left)
    assert (exam.attempts_used, exam.attempts_allowed) == (len(scores), 3)
    assert exam.blocked == (attempts_left == 0 and not exam.met)
    assert bool(report.blocked) == exam.blocked


def test_credit_requirements_have_no_attempts_and_are_never_blocked():
    report = evaluate_progress(CERTIFICATE, Transcript(), AS_OF)
    total = report.requirements[0]
    assert (total.attempts_left, total.outcome, total.failed, total.blocked) == (
        None,
        None,
        False,
        False,
    )
    assert report.summary == "0 of 4 requirements met"
    one = ProgrammeRules("P", "P", Decimal(5))
    assert evaluate_progress(one, Transcript(), AS_OF).summary == "0 of 1 requirement met"


def test_prerequisite_is_met_by_meeting_the_certificate_or_holding_it():
    not_yet = evaluate_progress(DIPLOMA, Transcript(), AS_OF)
    assert not_yet.requirements[0].missing == (
        "meet every requirement of the European Certificate in Imaging Informatics first"
    )
    held = evaluate_progress(DIPLOMA, Transcript(held_awards=frozenset({"EII-C"})), AS_OF)
    assert held.requirements[0].met
    certificate_met = Transcript(
        credits=(credit("A1", AI, "10"), credit("S1", SI, "5"), credit("X", "Other", "15")),
        attempts=(attempt("70"),),
    )
    assert evaluate_progress(DIPLOMA, certificate_met, AS_OF).requirements[0].met


def test_credit_window_leaves_out_old_credits_and_says_so():
    windowed = ProgrammeRules("W", "Windowed", Decimal(10), credit_window_months=24)
    old = credit("OLD", AI, "5", dt.date(2024, 11, 27))
    edge = credit("EDGE", AI, "5", dt.date(2024, 11, 28))
    report = evaluate_progress(windowed, Transcript(credits=(old, edge)), AS_OF)
    assert report.requirements[0].achieved == Decimal(5)
    assert report.lapsed_credits == (old,)
    assert "completed within the last 24 months" in report.requirements[0].description


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (dt.date(2026, 3, 31), 1, dt.date(2026, 2, 28)),
        (dt.date(2024, 3, 31), 1, dt.date(2024, 2, 29)),
        (dt.date(2026, 1, 15), 13, dt.date(2024, 12, 15)),
        (dt.date(2026, 11, 28), 60, dt.date(2021, 11, 28)),
    ],
)
def test_subtract_months_clamps_to_the_end_of_short_months(day, months, expected):
    assert subtract_months(day, months) == expected


@pytest.mark.parametrize(
    ("completed_on", "months", "first_day_out"),
    [
        (dt.date(2021, 11, 28), 60, dt.date(2026, 11, 29)),
        # No 31 February: the last day it counts is 28 February, 31 January's window end.
        (dt.date(2026, 1, 31), 1, dt.date(2026, 3, 1)),
        (dt.date(2026, 1, 29), 1, dt.date(2026, 3, 1)),
        (dt.date(2024, 1, 30), 1, dt.date(2024, 3, 1)),  # a leap year
        # 29 to 31 March look back to 28 February (clamped), so it counts through March.
        (dt.date(2026, 2, 28), 1, dt.date(2026, 4, 1)),
        (dt.date(2025, 12, 31), 2, dt.date(2026, 3, 1)),
    ],
)
def test_a_credit_leaves_the_window_on_the_day_the_engine_stops_counting_it(
    completed_on, months, first_day_out
):
    assert first_day_outside_window(completed_on, months) == first_day_out
    rules = ProgrammeRules("P", "P", Decimal(5), credit_window_months=months)
    transcript = Transcript(credits=(credit("C1", AI, "5", completed_on),))
    last_day_in = first_day_out - dt.timedelta(days=1)
    assert evaluate_progress(rules, transcript, last_day_in).eligible
    assert not evaluate_progress(rules, transcript, first_day_out).eligible


def test_a_standing_lapses_when_the_credits_it_needs_leave_the_window():
    rules = dataclasses.replace(CERTIFICATE, credit_window_months=60)
    transcript = Transcript(
        credits=(
            credit("OLD", AI, "5", dt.date(2022, 3, 10)),  # out from 2027-03-11
            credit("AI1", AI, "10", dt.date(2024, 1, 5)),
            credit("SI1", SI, "5", dt.date(2022, 6, 1)),  # out from 2027-06-02: SI falls short
            credit("SI2", SI, "15", dt.date(2025, 1, 1)),
        ),
        attempts=(attempt("75"),),
    )
    standing = evaluate_standing(rules, transcript, AS_OF)
    # 35 in total: losing OLD (5) still leaves 30; losing SI1 as well leaves 25.
    assert standing == Standing(met=True, lapses_on=dt.date(2027, 6, 2))
    assert standing.met_on(dt.date(2027, 6, 1)) and not standing.met_on(dt.date(2027, 6, 2))


def test_a_standing_is_the_programmes_own_requirements_not_its_prerequisite():
    transcript = Transcript(credits=(credit("BIG", AI, "60"),))
    assert not evaluate_progress(DIPLOMA, transcript, AS_OF).eligible  # no Certificate
    assert evaluate_standing(DIPLOMA, transcript, AS_OF) == Standing(met=True)


# ------------------------------------------------------------------ properties

DOMAINS = [AI, SI, "Information Security & Data Protection"]
credits_strategy = st.builds(
    CreditEntry,
    course_code=st.text(alphabet="ABCDEFGH0123456789", min_size=1, max_size=6),
    domain=st.sampled_from(DOMAINS),
    credits=st.integers(min_value=1, max_value=20).map(lambda halves: Decimal(halves) / 2),
    completed_on=st.dates(min_value=dt.date(2015, 1, 1), max_value=AS_OF),
)
attempts_strategy = st.builds(
    AttemptEntry,
    assessment_code=st.just("CERT-EXAM"),
    score=st.integers(min_value=0, max_value=10000).map(
        lambda hundredths: Decimal(hundredths) / 100
    ),
    taken_on=st.dates(min_value=dt.date(2015, 1, 1), max_value=AS_OF),
)
programmes_strategy = st.builds(
    ProgrammeRules,
    code=st.just("P"),
    title=st.just("Programme"),
    min_total_credits=st.integers(min_value=0, max_value=120).map(Decimal),
    domain_minimums=st.dictionaries(
        st.sampled_from(DOMAINS), st.integers(min_value=1, max_value=20).map(Decimal), max_size=3
    ),
    required_assessments=st.sampled_from([(), (EXAM,)]),
    credit_window_months=st.sampled_from([None, 12, 60]),
)
transcripts_strategy = st.builds(
    Transcript,
    credits=st.lists(credits_strategy, max_size=12).map(tuple),
    attempts=st.lists(attempts_strategy, max_size=3).map(tuple),
)


@given(programmes_strategy, transcripts_strategy, credits_strategy)
def test_adding_a_credit_never_lowers_progress(programme, transcript, new_credit):
    before = evaluate_progress(programme, transcript, AS_OF)
    more = Transcript(credits=(*transcript.credits, new_credit), attempts=transcript.attempts)
    after = evaluate_progress(programme, more, AS_OF)
    for was, now in zip(before.requirements, after.requirements, strict=True):
        assert now.fraction >= was.fraction
        assert now.met or not was.met
        if isinstance(was.achieved, Decimal) and isinstance(now.achieved, Decimal):
            assert now.achieved >= was.achieved
    assert after.fraction >= before.fraction
    assert after.eligible or not before.eligible


@given(
    programmes_strategy,
    transcripts_strategy,
    st.lists(st.integers(min_value=0, max_value=6 * 366), min_size=1, max_size=8),
)
def test_a_standing_answers_for_every_later_day_as_the_engine_would(programme, transcript, later):
    standing = evaluate_standing(programme, transcript, AS_OF)
    days = [AS_OF, *(AS_OF + dt.timedelta(days=n) for n in later)]
    if standing.lapses_on is not None:  # the days either side of the lapse itself
        days += [standing.lapses_on, standing.lapses_on - dt.timedelta(days=1)]
    for day in days:
        assert standing.met_on(day) == evaluate_progress(programme, transcript, day).eligible


@given(programmes_strategy, transcripts_strategy)
def test_progress_is_the_count_of_requirements_met(programme, transcript):
    report = evaluate_progress(programme, transcript, AS_OF)
    met = sum(1 for r in report.requirements if r.met)
    assert report.requirements_met == met
    assert report.summary.startswith(f"{met} of {len(report.requirements)} requirement")
    assert report.fraction == (met / len(report.requirements) if report.requirements else 1.0)
    # Only meeting a requirement moves it: an assessment not passed counts nothing.
    for r in report.requirements:
        if r.kind == "assessment":
            assert r.fraction == (1.0 if r.met else 0.0)
    assert not (report.blocked and report.eligible)


@given(programmes_strategy, transcripts_strategy)
def test_eligible_exactly_when_every_requirement_is_met(programme, transcript):
    report = evaluate_progress(programme, transcript, AS_OF)
    assert report.eligible == all(r.met for r in report.requirements)
    assert report.eligible == (report.missing == [])
    assert all((r.missing is None) == r.met for r in report.requirements)
