"""What each model looks like in the API's JSON (the shapes openapi.py documents).

Credits and marks stay ``Decimal`` here; the app's JSON provider writes them as numbers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from certification.auth.models import User
from certification.catalogue.models import Assessment, Course, Programme
from certification.catalogue.services import (
    assessment_as_input,
    course_as_input,
    programme_as_input,
)
from certification.certificates.models import Certificate
from certification.certificates.services import public_record
from certification.progress import ProgressReport
from certification.records.models import AssessmentAttempt, CreditRecord


def programme_json(programme: Programme) -> dict[str, Any]:
    return asdict(programme_as_input(programme))


def course_json(course: Course) -> dict[str, Any]:
    return asdict(course_as_input(course))


def assessment_json(assessment: Assessment) -> dict[str, Any]:
    return asdict(assessment_as_input(assessment))


def candidate_json(candidate: User) -> dict[str, Any]:
    return {
        "id": candidate.id,
        "email": candidate.email,
        "full_name": candidate.full_name,
        "country": candidate.country,
    }


def credit_json(record: CreditRecord) -> dict[str, Any]:
    return {
        "course": record.course.code,
        "credits": record.course.credits,
        "domain": record.course.domain,
        "completed_on": record.completed_on.isoformat(),
    }


def result_json(attempt: AssessmentAttempt) -> dict[str, Any]:
    return {
        "assessment": attempt.assessment.code,
        "attempt": attempt.attempt_number,
        "score": attempt.score,
        "passed": attempt.score >= attempt.assessment.pass_mark,
        "taken_on": attempt.taken_on.isoformat(),
    }


def progress_json(reports: list[ProgressReport]) -> dict[str, Any]:
    return {
        "programmes": [
            {
                "code": report.programme_code,
                "title": report.programme_title,
                "eligible": report.eligible,
                "requirements": [
                    {
                        "description": requirement.description,
                        "required": requirement.required,
                        "achieved": requirement.achieved,
                        "met": requirement.met,
                    }
                    for requirement in report.requirements
                ],
                "missing": report.missing,
            }
            for report in reports
        ]
    }


def certificate_json(certificate: Certificate, today: dt.date, zone: ZoneInfo) -> dict[str, Any]:
    """What was printed, and what became of it: the public record (its status ``today``, a
    revocation's date in the programme's calendar ``zone`` and reason, the code that
    superseded it), with what only administrators see besides."""
    return {
        **public_record(certificate, certificate.status_on(today), zone),
        "credits_by_domain": {
            domain: Decimal(value) for domain, value in certificate.credits_by_domain.items()
        },
        "verify_url": certificate.verify_url,
    }
