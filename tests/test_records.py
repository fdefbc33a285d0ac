"""Recording credits and results through the services, on both databases."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from certification.auth.services import get_candidate
from certification.catalogue.services import (
    CourseInput,
    ProgrammeInput,
    delete_assessment,
    delete_course,
    get_assessment,
    get_course,
    update_course,
)
from certification.errors import Duplicate, InvalidInput, RuleViolation
from certification.extensions import db
from certification.records.services import (
    candidate_progress,
    load_transcript,
    record_credit,
    record_result,
)
from tests.conftest import change_rules


@pytest.fixture
def candidate_id(make_candidate):
    return make_candidate().id


def test_a_course_counts_once_per_candidate(ctx, candidate_id, make_course, today):
    make_course("EII-101", credits="5")
    candidate = get_candidate(candidate_id)
    record_credit(candidate, "eii-101", today, actor=None, today=today)
    with pytest.raises(Duplicate) as refusal:
        record_credit(candidate, "EII-101", today, actor=None, today=today)
    assert refusal.value.fields == {"course": "Already recorded for this candidate."}
    db.session.commit()  # the transaction is still usable after the refusal
    assert load_transcript(candidate).total_credits == Decimal(5)


def test_future_dates_are_refused(ctx, candidate_id, make_course, make_assessment, today):
    make_course()
    make_assessment()
    candidate = get_candidate(candidate_id)
    tomorrow = today + dt.timedelta(days=1)
    with pytest.raises(InvalidInput) as refusal:
        record_credit(candidate, "EII-101", tomorrow, actor=None, today=today)
    assert "completed_on" in refusal.value.fields
    with pytest.raises(InvalidInput) as refusal:
        record_result(candidate, "CERT-EXAM", Decimal(70), tomorrow, actor=None, today=today)
    assert "taken_on" in refusal.value.fields


def test_attempts_beyond_the_limit_are_refused(ctx, candidate_id, make_assessment, today):
    make_assessment(max_attempts=2)
    candidate = get_candidate(candidate_id)
    record_result(candidate, "CERT-EXAM", Decimal(40), today, actor=None, today=today)
    record_result(candidate, "CERT-EXAM", Decimal("45.5"), today, actor=None, today=today)
    with pytest.raises(RuleViolation) as refusal:
        record_result(candidate, "CERT-EXAM", Decimal(90), today, actor=None, today=today)
    assert refusal.value.slug == "attempts_exhausted"
    attempts = load_transcript(candidate).attempts
    assert [(a.attempt_number, a.score) for a in attempts] == [
        (1, Decimal(40)),
        (2, Decimal("45.5")),
    ]


@pytest.mark.parametrize("score", ["-1", "100.01", "50.005"])
def test_scores_outside_the_scale_are_refused(ctx, candidate_id, make_assessment, today, score):
    make_assessment()
    with pytest.raises(InvalidInput) as refusal:
        record_result(
            get_candidate(candidate_id), "CERT-EXAM", Decimal(score), today, actor=None, today=today
        )
    assert "score" in refusal.value.fields


def test_progress_moves_when_a_credit_is_recorded(
    ctx, candidate_id, make_course, make_programme, today
):
    make_course("EII-101", credits="2.5")
    make_programme(min_total_credits="10")
    candidate = get_candidate(candidate_id)
    before = candidate_progress(candidate, today)[0]
    record_credit(candidate, "EII-101", today, actor=None, today=today)
    after = candidate_progress(candidate, today)[0]
    assert before.requirements[0].achieved == Decimal(0)
    assert after.requirements[0].achieved == Decimal("2.5")
    assert after.missing == ["7.5 more ECTS credits in total"]


def test_a_course_with_records_cannot_be_deleted_or_revalued(ctx, candidate_id, make_course, today):
    make_course("EII-101", credits="5")
    record_credit(get_candidate(candidate_id), "EII-101", today, actor=None, today=today)
    course = get_course("EII-101")
    with pytest.raises(RuleViolation, match="1 candidates have credits"):
        delete_course(course, None)
    with pytest.raises(RuleViolation) as refusal:
        update_course(
            course,
            CourseInput("EII-101", "New title", Decimal(10), course.domain, course.provider),
            None,
        )
    assert "credits" in refusal.value.fields
    renamed = update_course(
        course,
        CourseInput("EII-101", "New title", Decimal(5), course.domain, course.provider),
        None,
    )
    assert renamed.title == "New title"


def test_an_assessment_required_by_a_programme_cannot_be_deleted(
    ctx, make_assessment, make_programme
):
    make_assessment("CERT-EXAM")
    make_programme(required_assessments=("CERT-EXAM",))
    with pytest.raises(RuleViolation, match="programme EII-C requires it"):
        delete_assessment(get_assessment("CERT-EXAM"), None)


def test_a_programme_cannot_require_itself(ctx, make_programme):
    make_programme("EII-C")
    make_programme("EII-D", prerequisite="EII-C", level="diploma")
    with pytest.raises(InvalidInput) as refusal:
        change_rules("EII-C", dt.date(2026, 1, 1), prerequisite="EII-D")
    assert refusal.value.fields["prerequisite"] == (
        "A programme cannot require itself, even indirectly."
    )


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"min_total_credits": Decimal("0.3")}, "min_total_credits"),
        ({"eqf_level": 9}, "eqf_level"),
        ({"level": "masters"}, "level"),
        ({"required_assessments": ["NOPE"]}, "required_assessments"),
        ({"domain_minimums": {"AI": Decimal(50)}}, "domain_minimums"),
        ({"code": "has space"}, "code"),
        ({"validity_months": 0}, "validity_months"),
    ],
)
def test_programme_rules_are_checked(ctx, changes, field):
    from certification.catalogue.services import create_programme

    data = ProgrammeInput(
        code="P1", title="Programme", level="certificate", min_total_credits=Decimal(30)
    )
    for key, value in changes.items():
        setattr(data, key, value)
    with pytest.raises(InvalidInput) as refusal:
        create_programme(data, None, today=dt.date(2026, 1, 1))
    assert field in refusal.value.fields


def test_every_change_is_audited(ctx, candidate_id, make_course, today):
    from sqlalchemy import select

    from certification.audit import AuditEvent

    make_course()
    record_credit(get_candidate(candidate_id), "EII-101", today, actor=None, today=today)
    db.session.commit()
    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions == [
        "candidate.created",
        "provider.created",  # make_course puts the course's provider in the catalogue first
        "course.created",
        "credit.recorded",
    ]
