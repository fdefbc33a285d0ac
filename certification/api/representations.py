"""What each model looks like in the API's JSON (the shapes openapi.py documents).

Credits and marks stay ``Decimal`` here; the app's JSON provider writes them as numbers.
"""

from __future__ import annotations

from typing import Any

from certification.auth.models import User
from certification.catalogue.models import Assessment, Course, Programme
from certification.progress import ProgressReport
from certification.records.models import AssessmentAttempt, CreditRecord


def programme_json(programme: Programme) -> dict[str, Any]:
    return {
        "code": programme.code,
        "title": programme.title,
        "level": programme.level.value,
        "eqf_level": programme.eqf_level,
        "min_total_credits": programme.min_total_credits,
        "domain_minimums": {m.domain: m.min_credits for m in programme.domain_minimums},
        "required_assessments": [a.code for a in programme.required_assessments],
        "prerequisite": programme.prerequisite.code if programme.prerequisite else None,
        "validity_months": programme.validity_months,
        "credit_window_months": programme.credit_window_months,
    }


def course_json(course: Course) -> dict[str, Any]:
    return {
        "code": course.code,
        "title": course.title,
        "credits": course.credits,
        "domain": course.domain,
        "provider": course.provider,
    }


def assessment_json(assessment: Assessment) -> dict[str, Any]:
    return {
        "code": assessment.code,
        "title": assessment.title,
        "pass_mark": assessment.pass_mark,
        "max_score": assessment.max_score,
        "max_attempts": assessment.max_attempts,
    }


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
