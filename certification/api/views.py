"""The API's catalogue, candidate and record routes: take the validated body, call one
service as ``g.actor``, answer with a model of ``contract``.

Each route declares its body (the model its ``json`` parameter names) and its answers once
(``@reads``, ``@writes``): spectree validates the body against the model before the handler
runs (a misfit is a ``malformed`` refusal) and writes the route into the OpenAPI document.
No handler commits: the request commits once when the answer is a success
(``certification.database``), and a refusal rolls everything back.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import Response, current_app, g, request, url_for

from certification.api.blueprint import bp
from certification.api.contract import (
    Answer,
    Assessment,
    AssessmentInput,
    Candidate,
    CandidateInput,
    CandidatePage,
    CandidateQuery,
    Course,
    CourseInput,
    Credit,
    CreditInput,
    CreditPage,
    IdempotencyKeyHeader,
    PageQuery,
    Programme,
    ProgrammeInput,
    Progress,
    Refusal,
    Result,
    ResultInput,
    ResultPage,
    WithdrawalInput,
)
from certification.api.document import (
    CANDIDATES,
    CATALOGUE,
    DOCUMENT,
    answers,
    api_spec,
    reads,
    writes,
)
from certification.api.representations import (
    assessment_answer,
    candidate_answer,
    course_answer,
    credit_answer,
    page_fields,
    programme_answer,
    progress_answer,
    result_answer,
)
from certification.auth.services import create_candidate, get_candidate
from certification.catalogue import services as catalogue
from certification.certificates.services import candidate_progress
from certification.idempotency import StoredAnswer, claim_key, remember_answer, request_fingerprint
from certification.records import services as records
from certification.records.services import record_credit, record_result
from certification.web import today

Created = tuple[Answer, int]
CREATED_AT_LOCATION = "Created; its URL is in the Location header."
# Recording for a candidate may also find no such candidate.
RECORD_REFUSALS = (400, 401, 404, 409, 422)


def idempotent(view: Callable[..., Created]) -> Callable[..., Created | Response]:
    """Honour an ``Idempotency-Key`` header: a retry with the same key and the same request
    gets the first answer again (with ``Idempotent-Replayed: true``) and records nothing."""

    @functools.wraps(view)
    def answer(*args: Any, **kwargs: Any) -> Created | Response:
        key = request.headers.get("Idempotency-Key")
        if key is None:
            return view(*args, **kwargs)
        fingerprint = request_fingerprint(request.method, request.path, request.get_data())
        claim = claim_key(g.actor, key, fingerprint)
        if isinstance(claim, StoredAnswer):
            replay = current_app.response_class(
                claim.body, claim.status, mimetype="application/json"
            )
            replay.headers["Idempotent-Replayed"] = "true"
            return replay
        body, status = view(*args, **kwargs)
        remember_answer(claim, status, body.model_dump_json())
        return body, status

    return answer


@bp.get("/openapi.json")
@api_spec.validate(
    resp=answers(200, None, "The OpenAPI 3.1 document."),
    security={},
    operation_id="openapi",
    tags=[DOCUMENT],
)
def openapi() -> dict[str, Any]:
    """This document (no token needed)."""
    return api_spec.spec


@bp.post("/programmes")
@writes(Programme, "createProgramme", CATALOGUE)
def post_programme(json: ProgrammeInput) -> Created:
    """Create a programme (an award) with its requirements."""
    data = catalogue.ProgrammeInput(**dict(json))
    return programme_answer(catalogue.create_programme(data, actor=g.actor, today=today())), 201


@bp.post("/courses")
@writes(Course, "createCourse", CATALOGUE)
def post_course(json: CourseInput) -> Created:
    """Create a course that earns ECTS credits in one domain."""
    data = catalogue.CourseInput(**dict(json))
    return course_answer(catalogue.create_course(data, actor=g.actor)), 201


@bp.post("/assessments")
@writes(Assessment, "createAssessment", CATALOGUE)
def post_assessment(json: AssessmentInput) -> Created:
    """Create an assessment with a pass mark and a limit on attempts."""
    data = catalogue.AssessmentInput(**dict(json))
    return assessment_answer(catalogue.create_assessment(data, actor=g.actor)), 201


@bp.post("/candidates")
@writes(Candidate, "createCandidate", CANDIDATES, description=CREATED_AT_LOCATION)
def post_candidate(json: CandidateInput) -> tuple[Candidate, int, dict[str, str]]:
    """Register a candidate. Names are stored in Unicode NFC."""
    candidate = create_candidate(
        json.email, json.full_name, json.country, actor=g.actor, language=json.language
    )
    location = url_for("api.get_candidate_by_id", candidate_id=candidate.id)
    return candidate_answer(candidate), 201, {"Location": location}


@bp.get("/candidates")
@api_spec.validate(
    query=CandidateQuery,
    resp=answers(
        200,
        CandidatePage,
        "A page of candidates; with `email`, the one registered with it (or no items).",
        400,
        401,
    ),
    operation_id="listCandidates",
    tags=[CANDIDATES],
)
def list_candidates(query: CandidateQuery) -> CandidatePage:
    """Candidates, as getCandidate answers them: find the one you registered by e-mail."""
    statement = records.candidates_listed_for(g.actor, query.email, today=today())
    found = records.CandidatePage(statement, query.page, query.per_page)
    return CandidatePage(items=[candidate_answer(c) for c in found.items], **page_fields(found))


@bp.get("/candidates/<int:candidate_id>")
@reads(Candidate, "The candidate.", "getCandidate", CANDIDATES)
def get_candidate_by_id(candidate_id: int) -> Candidate:
    """A candidate."""
    return candidate_answer(get_candidate(candidate_id))


@bp.post("/candidates/<int:candidate_id>/credits")
@writes(Credit, "recordCredit", CANDIDATES, refused=RECORD_REFUSALS, headers=IdempotencyKeyHeader)
@idempotent
def post_credit(candidate_id: int, json: CreditInput) -> Created:
    """Record a completed course. A course counts once per candidate."""
    candidate = get_candidate(candidate_id)
    record = record_credit(candidate, json.course, json.completed_on, actor=g.actor, today=today())
    return credit_answer(record), 201


@bp.post("/candidates/<int:candidate_id>/results")
@writes(Result, "recordResult", CANDIDATES, refused=RECORD_REFUSALS, headers=IdempotencyKeyHeader)
@idempotent
def post_result(candidate_id: int, json: ResultInput) -> Created:
    """Record one attempt at an assessment; refused (attempts_exhausted) beyond the limit."""
    candidate = get_candidate(candidate_id)
    attempt = record_result(
        candidate, json.assessment, json.score, json.taken_on, actor=g.actor, today=today()
    )
    return result_answer(attempt), 201


@bp.get("/candidates/<int:candidate_id>/progress")
@reads(Progress, "What each programme requires and what is missing.", "getProgress", CANDIDATES)
def get_progress(candidate_id: int) -> Progress:
    """The candidate's progress towards every programme, as of today."""
    return progress_answer(candidate_progress(get_candidate(candidate_id), today()))


@bp.get("/candidates/<int:candidate_id>/credits")
@api_spec.validate(
    query=PageQuery,
    resp=answers(200, CreditPage, "A page of the candidate's credits.", 400, 401, 404),
    operation_id="listCredits",
    tags=[CANDIDATES],
)
def list_credits(candidate_id: int, query: PageQuery) -> CreditPage:
    """The candidate's credits, withdrawn ones included (they count towards nothing)."""
    found = records.credits_page(get_candidate(candidate_id), query.page, query.per_page)
    return CreditPage(items=[credit_answer(r) for r in found.items], **page_fields(found))


@bp.get("/candidates/<int:candidate_id>/results")
@api_spec.validate(
    query=PageQuery,
    resp=answers(200, ResultPage, "A page of the candidate's results.", 400, 401, 404),
    operation_id="listResults",
    tags=[CANDIDATES],
)
def list_results(candidate_id: int, query: PageQuery) -> ResultPage:
    """The candidate's results, withdrawn ones included (they count towards nothing, and
    not against the limit of attempts)."""
    found, ordinals = records.results_page(get_candidate(candidate_id), query.page, query.per_page)
    return ResultPage(items=[result_answer(a, ordinals) for a in found.items], **page_fields(found))


WITHDRAWAL_REFUSALS = (400, 401, 404)
ALREADY_WITHDRAWN = (Refusal, "already_withdrawn: the record was withdrawn before.")
REASON_REFUSED = (Refusal, "invalid: an empty or over-long reason (`fields.reason`).")


@bp.post("/candidates/<int:candidate_id>/credits/<int:credit_id>/withdraw")
@writes(
    Credit,
    "withdrawCredit",
    CANDIDATES,
    status=200,
    description="Withdrawn: kept, with `withdrawn_at` and `withdrawal_reason`.",
    refused=WITHDRAWAL_REFUSALS,
    HTTP_409=ALREADY_WITHDRAWN,
    HTTP_422=REASON_REFUSED,
)
def withdraw_credit(candidate_id: int, credit_id: int, json: WithdrawalInput) -> Credit:
    """Withdraw a credit recorded by mistake (e.g. against the wrong candidate), with a
    reason. It stays on record, marked, and no longer counts; to correct it, withdraw it and
    record the right one. Another candidate's credit is not found (404)."""
    record = records.get_credit(get_candidate(candidate_id), credit_id)
    return credit_answer(records.withdraw_credit(record, json.reason, g.actor, today=today()))


@bp.post("/candidates/<int:candidate_id>/results/<int:result_id>/withdraw")
@writes(
    Result,
    "withdrawResult",
    CANDIDATES,
    status=200,
    description="Withdrawn: kept, with `withdrawn_at` and `withdrawal_reason`.",
    refused=WITHDRAWAL_REFUSALS,
    HTTP_409=ALREADY_WITHDRAWN,
    HTTP_422=REASON_REFUSED,
)
def withdraw_result(candidate_id: int, result_id: int, json: WithdrawalInput) -> Result:
    """Withdraw a result recorded by mistake (e.g. against the wrong candidate), with a
    reason. It stays on record, marked, counts towards nothing and no longer uses up an
    attempt. Another candidate's result is not found (404)."""
    attempt = records.get_result(get_candidate(candidate_id), result_id)
    return result_answer(records.withdraw_result(attempt, json.reason, g.actor, today=today()))
