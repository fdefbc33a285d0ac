"""The domain's objects as the API's answers (the models of ``contract``).

Credits and marks stay ``Decimal`` in the models; their JSON is a number (``fields.Figure``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from zoneinfo import ZoneInfo

from flask_sqlalchemy.pagination import Pagination

from certification.api.contract import (
    Assessment,
    AwardRequest,
    BodyApproval,
    Candidate,
    Certificate,
    Course,
    Credit,
    Programme,
    ProgrammeProgress,
    Progress,
    Requirement,
    Result,
)
from certification.auth.models import User
from certification.catalogue import models as catalogue
from certification.catalogue.services import (
    assessment_as_input,
    course_as_input,
    programme_as_input,
)
from certification.certificates import models as certificates
from certification.certificates.services import partner_bodies, public_record
from certification.i18n import say
from certification.progress import ProgressReport
from certification.records.models import AssessmentAttempt, CreditRecord
from certification.records.services import attempt_ordinal


def programme_answer(programme: catalogue.Programme) -> Programme:
    return Programme.model_validate(asdict(programme_as_input(programme)))


def course_answer(course: catalogue.Course) -> Course:
    return Course.model_validate(
        {**asdict(course_as_input(course)), "provider_id": course.provider_id}
    )


def assessment_answer(assessment: catalogue.Assessment) -> Assessment:
    return Assessment.model_validate(asdict(assessment_as_input(assessment)))


def candidate_answer(candidate: User) -> Candidate:
    return Candidate(
        id=candidate.id,
        email=candidate.email,
        full_name=candidate.full_name,
        country=candidate.country,
        language=candidate.language,
    )


def credit_answer(record: CreditRecord) -> Credit:
    return Credit(
        id=record.id,
        course=record.course.code,
        credits=record.course.credits,
        domain=record.course.domain,
        completed_on=record.completed_on,
        withdrawn_at=record.withdrawn_at,
        withdrawal_reason=record.withdrawal_reason,
    )


def result_answer(attempt: AssessmentAttempt, ordinals: dict[int, int] | None = None) -> Result:
    """``ordinals``: the attempts' places among those that count (:func:`attempt_ordinals`),
    when answering many; else it is looked up."""
    return Result(
        id=attempt.id,
        assessment=attempt.assessment.code,
        attempt=attempt.attempt_number,
        counted_attempt=(
            ordinals.get(attempt.id) if ordinals is not None else attempt_ordinal(attempt)
        ),
        score=attempt.score,
        passed=attempt.score >= attempt.assessment.pass_mark,
        taken_on=attempt.taken_on,
        withdrawn_at=attempt.withdrawn_at,
        withdrawal_reason=attempt.withdrawal_reason,
    )


def page_fields(page: Pagination) -> dict[str, int]:
    """What every page of a list says besides its items."""
    return {
        "page": page.page,
        "per_page": page.per_page,
        "total": page.total or 0,
        "pages": page.pages,
    }


def progress_answer(reports: list[ProgressReport]) -> Progress:
    return Progress(
        programmes=[
            ProgrammeProgress(
                code=report.programme_code,
                title=report.programme_title,
                eligible=report.eligible,
                requirements=[
                    Requirement(
                        description=say(requirement.description),
                        required=requirement.required,
                        achieved=requirement.achieved,
                        met=requirement.met,
                        attempts_used=(
                            requirement.attempts_used
                            if requirement.attempts_allowed is not None
                            else None
                        ),
                        attempts_left=requirement.attempts_left,
                        blocked=requirement.blocked,
                    )
                    for requirement in report.requirements
                ],
                missing=[say(sentence) for sentence in report.missing],
                requirements_met=report.requirements_met,
                requirements_total=report.requirements_total,
                blocked=bool(report.blocked),
            )
            for report in reports
        ]
    )


def certificate_answer(
    certificate: certificates.Certificate, today: dt.date, zone: ZoneInfo
) -> Certificate:
    """What was printed, and what became of it: the public record (its status ``today``, a
    revocation's date in the programme's calendar ``zone`` and reason, the code that
    superseded it), with what only administrators see besides."""
    return Certificate.model_validate(
        {
            **public_record(certificate, certificate.status_on(today), zone),
            "credits_by_domain": certificate.credits_by_domain,
            "verify_url": certificate.verify_url,
        }
    )


def request_answer(request: certificates.AwardRequest) -> AwardRequest:
    """A request for a jointly approved award: each body's approval (day and officer) or
    null, in the bodies' order."""
    approvals = []
    for body in partner_bodies():
        approval = request.approved_by(body.short_name)
        approvals.append(
            BodyApproval(
                body=body.short_name,
                approved_on=approval.approved_on if approval else None,
                by=approval.approved_by.full_name if approval and approval.approved_by else None,
            )
        )
    return AwardRequest(
        code=request.code,
        status=request.state.value,
        candidate_id=request.candidate_id,
        programme=request.programme.code,
        replaces=request.replaces.code if request.replaces else None,
        approvals=approvals,
        rejected_by=request.rejected_by_body,
        rejection_reason=request.rejection_reason,
    )
