"""Renewal through CPD in the rules engine, on plain data: the points counted in a
certificate's validity window, the domain minimums, the state on a day, and the words."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from certification.progress import (
    AssessmentRule,
    AttemptEntry,
    CpdEntry,
    RenewalRule,
    RenewalState,
    evaluate_renewal,
)

GOVERNANCE = "Informatics Governance"
AI = "AI & Data Science"
ISSUED = dt.date(2026, 3, 14)
EXPIRES = dt.date(2031, 3, 14)
RULE = RenewalRule(min_points=Decimal(20), domain_minimums={GOVERNANCE: Decimal(5)})


def activity(points: str, on: dt.date, domain: str | None = None, **extra) -> CpdEntry:
    return CpdEntry(
        title=f"Webinar of {on.isoformat()}",
        points=Decimal(points),
        activity_on=on,
        domain=domain,
        **extra,
    )


def renewal(activities, *, today=dt.date(2028, 1, 10), rule=RULE, grace_months=6, attempts=()):
    return evaluate_renewal(
        rule,
        activities,
        issued_on=ISSUED,
        expires_on=EXPIRES,
        today=today,
        grace_months=grace_months,
        attempts=attempts,
    )


def test_the_issue_s_own_sentence():
    report = renewal(
        [activity("6", dt.date(2027, 5, 2), AI), activity("2", dt.date(2027, 9, 1), GOVERNANCE)]
    )

    assert report.missing == (
        "You need 12 more CPD points by 14 March 2031; 3 of them in Informatics Governance.",
    )
    assert report.state is RenewalState.ON_TRACK
    assert report.status == "On track: renewal due by 14 March 2031."
    assert report.summary == "8 of 20 CPD points earned"
    assert (report.points_earned, report.points_required) == (Decimal(8), Decimal(20))
    assert report.fraction == pytest.approx(0.4)
    (governance,) = report.domains
    assert (governance.domain, governance.earned, governance.met) == (GOVERNANCE, 2, False)
    assert governance.description == "At least 5 CPD points in Informatics Governance"


def test_an_activity_on_the_expiry_day_counts_and_the_day_after_does_not():
    # Without a grace period: with one, the window runs on through it (below).
    on_the_day = renewal([activity("20", EXPIRES, GOVERNANCE)], grace_months=None)
    day_after = renewal(
        [activity("20", EXPIRES + dt.timedelta(days=1), GOVERNANCE)], grace_months=None
    )

    assert on_the_day.points_earned == 20
    assert on_the_day.missing == ()
    assert day_after.points_earned == 0
    assert day_after.missing == (
        "You need 20 more CPD points by 14 March 2031; 5 of them in Informatics Governance.",
    )


def test_an_activity_before_the_issue_day_does_not_count_and_on_it_does():
    report = renewal(
        [
            activity("4", ISSUED - dt.timedelta(days=1), GOVERNANCE),
            activity("3", ISSUED, GOVERNANCE),
        ]
    )

    assert report.points_earned == 3
    assert [entry.activity_on for entry in report.counted] == [ISSUED]


def test_withdrawn_activities_never_count():
    report = renewal(
        [
            activity("15", dt.date(2028, 1, 1), AI, withdrawn=True),
            activity("5", dt.date(2028, 1, 2), GOVERNANCE),
        ]
    )

    assert report.points_earned == 5
    assert report.missing == ("You need 15 more CPD points by 14 March 2031.",)


def test_a_domain_minimum_not_met_although_the_total_is():
    report = renewal(
        [activity("19", dt.date(2027, 1, 1), AI), activity("2.5", dt.date(2027, 2, 1), GOVERNANCE)]
    )

    assert report.points_earned == Decimal("21.5")
    assert not report.met
    assert report.missing == (
        "You need 2.5 more CPD points in Informatics Governance by 14 March 2031.",
    )
    # A full bar means met: the domain keeps it short.
    assert report.fraction < 1.0


def test_several_domains_short_are_each_named():
    rule = RenewalRule(Decimal(20), {GOVERNANCE: Decimal(5), AI: Decimal(5)})

    report = renewal([activity("1", dt.date(2027, 1, 1), AI)], rule=rule)

    assert report.missing == (
        "You need 19 more CPD points by 14 March 2031.",
        "At least 4 of them must be in AI & Data Science.",
        "At least 5 of them must be in Informatics Governance.",
    )


def test_met_before_expiry():
    report = renewal([activity("20", dt.date(2029, 6, 1), GOVERNANCE)])

    assert report.state is RenewalState.MET
    assert report.met and report.fraction == 1.0
    assert report.missing == ()
    # Met three years ahead: the renewal opens in the last 180 days.
    assert not report.renewable_now
    assert report.status == (
        "Renewal requirements met: the certificate can be renewed from 15 September 2030"
        " until 14 March 2031."
    )
    in_time = renewal([activity("20", dt.date(2029, 6, 1), GOVERNANCE)], today=dt.date(2031, 1, 1))
    assert in_time.renewable_now
    assert in_time.status == (
        "Renewal requirements met: the certificate can be renewed before 14 March 2031."
    )


def test_a_domain_counts_whatever_the_case_it_was_typed_in():
    report = renewal([activity("20", dt.date(2029, 6, 1), GOVERNANCE.lower())])

    assert report.met and report.domains[0].earned == 20


@pytest.mark.parametrize(
    ("today", "state"),
    [
        (EXPIRES - dt.timedelta(days=181), RenewalState.ON_TRACK),
        (EXPIRES - dt.timedelta(days=180), RenewalState.DUE_SOON),
        (EXPIRES, RenewalState.DUE_SOON),
        (EXPIRES + dt.timedelta(days=1), RenewalState.OVERDUE),
        (dt.date(2031, 9, 14), RenewalState.OVERDUE),  # the last day of 6 months' grace
        (dt.date(2031, 9, 15), RenewalState.LAPSED),
    ],
)
def test_the_state_of_a_renewal_not_met_follows_the_clock(today, state):
    assert renewal([activity("3", dt.date(2027, 1, 1))], today=today).state is state


def test_due_soon_says_so():
    report = renewal([], today=dt.date(2031, 1, 1))

    assert report.status == "Renewal due soon: by 14 March 2031."
    assert report.missing == (
        "You need 20 more CPD points by 14 March 2031; 5 of them in Informatics Governance.",
    )


def test_a_lapsed_certificate_with_its_points_is_renewable_in_the_grace_period():
    points = [activity("20", dt.date(2030, 1, 1), GOVERNANCE)]

    in_grace = renewal(points, today=dt.date(2031, 9, 14))
    after_grace = renewal(points, today=dt.date(2031, 9, 15))
    without_grace = renewal(points, today=dt.date(2031, 3, 15), grace_months=None)

    assert in_grace.state is RenewalState.GRACE
    assert in_grace.status == (
        "Expired on 14 March 2031; it can still be renewed until 14 September 2031."
    )
    assert after_grace.state is RenewalState.LAPSED
    assert without_grace.state is RenewalState.LAPSED
    assert (
        after_grace.status == "Expired on 14 March 2031; it can no longer be renewed through CPD."
    )
    assert after_grace.missing == ()


def test_a_holder_who_lapsed_catches_up_in_the_grace_period_but_not_after_it():
    """A lapsed certificate can still be renewed in the grace period the programme sets:
    points earned then count, and say by when; after it, nothing renews it."""
    behind = renewal(
        [activity("12", dt.date(2029, 5, 1), GOVERNANCE)], today=EXPIRES + dt.timedelta(days=5)
    )
    assert behind.state is RenewalState.OVERDUE
    assert behind.status == (
        "Expired on 14 March 2031; it can still be renewed until 14 September 2031 with the"
        " CPD points still needed."
    )
    assert behind.missing == ("You need 8 more CPD points by 14 September 2031.",)

    caught_up = renewal(
        [
            activity("12", dt.date(2029, 5, 1), GOVERNANCE),
            activity("8", EXPIRES + dt.timedelta(days=10)),
        ],
        today=EXPIRES + dt.timedelta(days=30),
    )
    assert caught_up.state is RenewalState.GRACE and caught_up.points_earned == 20

    too_late = renewal(
        [activity("20", dt.date(2031, 9, 15), GOVERNANCE)], today=dt.date(2031, 9, 20)
    )
    assert too_late.state is RenewalState.LAPSED
    assert too_late.points_earned == 0 and too_late.missing == ()


def test_a_rule_without_domains_and_fractional_points():
    report = renewal(
        [activity("0.5", dt.date(2027, 1, 1)), activity("1.25", dt.date(2027, 1, 2))],
        rule=RenewalRule(Decimal(10)),
    )

    assert report.domains == ()
    assert report.missing == ("You need 8.25 more CPD points by 14 March 2031.",)


RECERTIFICATION = AssessmentRule("RECERT", "Recertification quiz", Decimal(70), 3)


def test_a_renewal_assessment_must_be_passed_within_the_validity():
    rule = RenewalRule(Decimal(10), assessment=RECERTIFICATION)
    points = [activity("10", dt.date(2027, 1, 1))]

    not_taken = renewal(points, rule=rule)
    failed = renewal(
        points, rule=rule, attempts=[AttemptEntry("RECERT", Decimal(65), dt.date(2028, 1, 1))]
    )
    passed_before_issue = renewal(
        points,
        rule=rule,
        attempts=[AttemptEntry("RECERT", Decimal(90), ISSUED - dt.timedelta(days=1))],
    )
    passed_on_expiry_day = renewal(
        points,
        rule=rule,
        today=EXPIRES,
        attempts=[AttemptEntry("RECERT", Decimal(70), EXPIRES)],
    )

    for report in (not_taken, failed, passed_before_issue):
        assert not report.met and report.assessment_passed is False
        assert report.missing == ("Pass the Recertification quiz (pass mark 70) by 14 March 2031.",)
        assert report.fraction < 1.0  # the points alone do not fill the bar
    assert passed_on_expiry_day.met and passed_on_expiry_day.state is RenewalState.MET
    assert passed_on_expiry_day.assessment_description == (
        "Pass the Recertification quiz (pass mark 70) from 14 March 2026 to 14 March 2031"
    )


def test_without_a_renewal_assessment_attempts_do_not_matter():
    report = renewal([activity("20", dt.date(2027, 1, 1), GOVERNANCE)])

    assert report.assessment_passed is None and report.assessment_description is None
    assert report.met
