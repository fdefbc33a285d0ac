"""Schemathesis against /api/v1/openapi.json: generated requests, valid and not, for every
operation. No answer may be a 500, and every answer must match the document: status,
content type and body schema.

The operations are walked in a plain test, not through ``schema.parametrize``, whose lazy
fixture loading does not work with this pytest."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

EXAMPLES_PER_OPERATION = 25
# A request can match the document and still break a rule the document cannot state (a
# course code that does not exist, a date in the future, a score above the maximum, a
# control character in a name): the API answers those 422, as documented. Every other
# check stays on: no 5xx, and status, content type, headers and body as documented.
EXCLUDED = [positive_data_acceptance]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_api_answers_as_its_document_says(app, api_token, eligible_candidate):
    eligible_candidate()  # a programme, courses, an assessment and someone to find
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            derandomize=True,  # the same requests on every run: CI does not flicker
            suppress_health_check=list(HealthCheck),
        )
        def answers_as_documented(case) -> None:
            case.call_and_validate(
                headers={"Authorization": f"Bearer {api_token}"}, excluded_checks=EXCLUDED
            )

        answers_as_documented()
