"""The API's routes: read the body, call one service as ``g.actor``, answer JSON.

No handler commits: the request commits once when the answer is a success
(``certification.database``), and a refusal rolls everything back.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import Response, current_app, g, request, url_for

from certification.api import bp
from certification.api.openapi import DOCUMENT
from certification.api.parsing import BodyReader, json_object
from certification.api.representations import (
    assessment_json,
    candidate_json,
    course_json,
    credit_json,
    programme_json,
    progress_json,
    result_json,
)
from certification.auth.services import create_candidate, get_candidate
from certification.catalogue.services import (
    AssessmentInput,
    CourseInput,
    ProgrammeInput,
    create_assessment,
    create_course,
    create_programme,
)
from certification.certificates.services import candidate_progress
from certification.idempotency import StoredAnswer, claim_key, remember_answer, request_fingerprint
from certification.records.services import record_credit, record_result
from certification.web import today

Created = tuple[dict[str, Any], int]


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
        remember_answer(claim, status, current_app.json.dumps(body))
        return body, status

    return answer


@bp.get("/openapi.json")
def openapi() -> dict[str, Any]:
    """The OpenAPI 3.1 description of this API (public)."""
    return DOCUMENT


@bp.post("/programmes")
def post_programme() -> Created:
    body = BodyReader(json_object())
    data = ProgrammeInput(
        code=body.text("code"),
        title=body.text("title"),
        level=body.text("level"),
        eqf_level=body.whole_number_or_none("eqf_level"),
        min_total_credits=body.number("min_total_credits"),
        domain_minimums=body.number_map("domain_minimums"),
        required_assessments=body.text_list("required_assessments"),
        prerequisite=body.text_or_none("prerequisite", required=True),
        validity_months=body.whole_number_or_none("validity_months", required=True),
        credit_window_months=body.whole_number_or_none("credit_window_months"),
    )
    body.raise_if_any()
    return programme_json(create_programme(data, actor=g.actor, today=today())), 201


@bp.post("/courses")
def post_course() -> Created:
    body = BodyReader(json_object())
    data = CourseInput(
        code=body.text("code"),
        title=body.text("title"),
        credits=body.number("credits"),
        domain=body.text("domain"),
        provider=body.text("provider"),
    )
    body.raise_if_any()
    return course_json(create_course(data, actor=g.actor)), 201


@bp.post("/assessments")
def post_assessment() -> Created:
    body = BodyReader(json_object())
    data = AssessmentInput(
        code=body.text("code"),
        title=body.text("title"),
        pass_mark=body.number("pass_mark"),
        max_score=body.number("max_score"),
        max_attempts=body.whole_number("max_attempts"),
    )
    body.raise_if_any()
    return assessment_json(create_assessment(data, actor=g.actor)), 201


@bp.post("/candidates")
def post_candidate() -> tuple[dict[str, Any], int, dict[str, str]]:
    body = BodyReader(json_object())
    email, full_name = body.text("email"), body.text("full_name")
    country = body.text_or_none("country")
    body.raise_if_any()
    candidate = create_candidate(email, full_name, country, actor=g.actor)
    location = url_for("api.get_candidate_by_id", candidate_id=candidate.id)
    return candidate_json(candidate), 201, {"Location": location}


@bp.get("/candidates/<int:candidate_id>")
def get_candidate_by_id(candidate_id: int) -> dict[str, Any]:
    return candidate_json(get_candidate(candidate_id))


@bp.post("/candidates/<int:candidate_id>/credits")
@idempotent
def post_credit(candidate_id: int) -> Created:
    candidate = get_candidate(candidate_id)
    body = BodyReader(json_object())
    course, completed_on = body.text("course"), body.date("completed_on")
    body.raise_if_any()
    record = record_credit(candidate, course, completed_on, actor=g.actor, today=today())
    return credit_json(record), 201


@bp.post("/candidates/<int:candidate_id>/results")
@idempotent
def post_result(candidate_id: int) -> Created:
    candidate = get_candidate(candidate_id)
    body = BodyReader(json_object())
    assessment, score = body.text("assessment"), body.number("score")
    taken_on = body.date("taken_on")
    body.raise_if_any()
    attempt = record_result(candidate, assessment, score, taken_on, actor=g.actor, today=today())
    return result_json(attempt), 201


@bp.get("/candidates/<int:candidate_id>/progress")
def get_progress(candidate_id: int) -> dict[str, Any]:
    return progress_json(candidate_progress(get_candidate(candidate_id), today()))
