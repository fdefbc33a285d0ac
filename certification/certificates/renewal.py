"""Renewal through CPD: how each certificate a holder holds stands towards its renewal.

The programme's renewal rule (``catalogue``) and the holder's CPD activities (``records``)
are handed to the rules engine (``progress.evaluate_renewal``), which answers in words; the
portal's renewal bar and the reminder e-mails read its report. Issuing the renewed
certificate is not here: it goes through the approvals like any award.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from certification.auth.models import User
from certification.catalogue.services import renewal_rule
from certification.certificates.models import Certificate, CertificateStatus
from certification.certificates.services import certificates_of
from certification.progress import AttemptEntry, CpdEntry, RenewalReport, evaluate_renewal
from certification.records.models import CpdActivity
from certification.records.services import cpd_activities, load_transcript

# A renewal is worked out for a certificate in force or lapsed by time; a revoked,
# superseded or suspended one is not renewed by its holder's CPD.
_RENEWABLE = (CertificateStatus.VALID, CertificateStatus.EXPIRED)


@dataclass(frozen=True)
class RenewalOverview:
    """A holder's renewals: the report for each certificate whose programme renews through
    CPD, by certificate code, and every CPD activity on file (withdrawn ones included, as
    the transcript lists withdrawn credits)."""

    reports: dict[str, RenewalReport]
    activities: list[CpdActivity]


def cpd_entries(activities: list[CpdActivity]) -> tuple[CpdEntry, ...]:
    """The plain data the engine reads."""
    return tuple(
        CpdEntry(
            title=activity.title,
            points=activity.points,
            activity_on=activity.activity_on,
            domain=activity.domain,
            withdrawn=activity.is_withdrawn,
        )
        for activity in activities
    )


def certificate_renewal(
    certificate: Certificate,
    activities: list[CpdActivity],
    today: dt.date,
    attempts: tuple[AttemptEntry, ...] = (),
) -> RenewalReport | None:
    """How ``certificate`` stands towards its renewal on ``today``, given its holder's
    ``activities`` (and assessment ``attempts`` that count, for a rule with a renewal
    assessment); None if it is not renewed through CPD (no rule, no expiry, revoked,
    superseded or suspended)."""
    rule = renewal_rule(certificate.programme)
    if (
        rule is None
        or certificate.expires_on is None
        or not certificate.is_current
        or certificate.status_on(today) not in _RENEWABLE
    ):
        return None
    # A renewal's period starts the day after it was issued: the points that renewed the
    # period before (all earned by then) do not count twice.
    starts_on = certificate.issued_on + dt.timedelta(days=int(certificate.renews_id is not None))
    return evaluate_renewal(
        rule,
        cpd_entries(activities),
        issued_on=starts_on,
        expires_on=certificate.expires_on,
        today=today,
        grace_months=certificate.programme.renewal_grace_months,
        attempts=attempts,
    )


def _attempts(candidate: User) -> tuple[AttemptEntry, ...]:
    """The attempts that count (not withdrawn), as the engine reads them."""
    return load_transcript(candidate).for_engine().attempts


def renewal_of(certificate: Certificate, today: dt.date) -> RenewalReport | None:
    """:func:`certificate_renewal` with the holder's activities read here (a reminder)."""
    rule = renewal_rule(certificate.programme)
    if rule is None:
        return None
    holder = certificate.candidate
    attempts = _attempts(holder) if rule.assessment is not None else ()
    return certificate_renewal(certificate, cpd_activities(holder), today, attempts)


def renewal_overview(candidate: User, today: dt.date) -> RenewalOverview:
    """``candidate``'s renewals and CPD activities, for their portal."""
    activities = cpd_activities(candidate)
    certificates = certificates_of(candidate)
    # The transcript is read only when a programme asks for a renewal assessment.
    attempts = (
        _attempts(candidate)
        if any(c.programme.renewal_assessment_id is not None for c in certificates)
        else ()
    )
    reports: dict[str, RenewalReport] = {}
    for certificate in certificates:
        report = certificate_renewal(certificate, activities, today, attempts)
        if report is not None:
            reports[certificate.code] = report
    return RenewalOverview(reports=reports, activities=activities)
