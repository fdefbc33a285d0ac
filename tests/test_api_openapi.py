"""The OpenAPI document is generated from the API's declarations: it describes every route
that is served under /api/v1 with its answers, and real answers fit the schemas it gives.

Answers are checked with jsonschema-rs (JSON Schema 2020-12, the dialect of OpenAPI 3.1).
"""

from __future__ import annotations

import io
import re
from typing import Any

import jsonschema_rs
import pytest

from certification.api.document import api_spec

PREFIX = "/api/v1"
IGNORED_METHODS = {"HEAD", "OPTIONS"}
# Served by the public verification area's blueprint, and public like the document itself.
VERIFY_OPERATIONS = {
    ("/verify/{code}", "get"),
    ("/verify/pdf", "post"),
    ("/verify/credential", "post"),
}
PUBLIC_OPERATIONS = {("/openapi.json", "get"), *VERIFY_OPERATIONS}


@pytest.fixture
def document(client) -> dict[str, Any]:
    response = client.get(f"{PREFIX}/openapi.json")
    assert response.status_code == 200
    assert "Authorization" not in response.request.headers
    return response.get_json()


def operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (path, method): operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
    }


def resolve(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        for part in node["$ref"].removeprefix("#/").split("/"):
            document = document[part]
        node = document
    return node


def problems(document: dict[str, Any], value: Any, schema: dict[str, Any]) -> list[str]:
    """Every way ``value`` breaks ``schema`` (a schema of the document, or a $ref into it)."""
    validator = jsonschema_rs.Draft202012Validator({**schema, "components": document["components"]})
    return [f"{error.instance_path}: {error.message}" for error in validator.iter_errors(value)]


def openapi_path(rule: str) -> str:
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.removeprefix(PREFIX))


def served_api_routes(app) -> set[tuple[str, str]]:
    """Every (path, method) the whole app serves under /api/v1, whichever blueprint."""
    return {
        (openapi_path(rule.rule), method.lower())
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith(PREFIX + "/")
        for method in rule.methods - IGNORED_METHODS
    }


# ------------------------------------------------------------------ the document itself


def test_every_route_served_is_documented_and_nothing_else(app, document):
    routes = served_api_routes(app)
    assert routes >= VERIFY_OPERATIONS, "the verification area's API routes are served"
    assert set(operations(document)) == routes


def test_it_is_openapi_3_1_for_the_api_v1_server(document):
    assert document["openapi"].startswith("3.1")
    assert document["servers"] == [{"url": PREFIX}]
    assert document["info"]["title"] and document["info"]["version"] == "1"


def test_the_served_document_is_the_generated_one(app, document):
    with app.app_context():
        assert document == api_spec.spec


def test_every_operation_is_named_summarised_and_answers_as_documented(document):
    ids = [operation["operationId"] for operation in operations(document).values()]
    assert len(ids) == len(set(ids))
    for (path, method), operation in operations(document).items():
        assert operation["summary"], (path, method)
        assert operation["responses"], (path, method)
        successes = [status for status in operation["responses"] if status.startswith("2")]
        # One success; or, to request an award, 201 (issued by the office alone) or 202
        # (requested, awaiting both bodies' approval).
        assert len(successes) == 1 or successes == ["201", "202"], (path, method)
        for status, answer in operation["responses"].items():
            assert answer["description"], (path, method, status)


def test_bearer_auth_is_required_except_for_the_public_routes(document):
    scheme = document["components"]["securitySchemes"]["bearerAuth"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    assert document["security"] == [{"bearerAuth": []}]
    for key, operation in operations(document).items():
        public = key in PUBLIC_OPERATIONS
        assert (operation.get("security") == []) is public, key
        if not public:
            assert "401" in operation["responses"], key
            assert {"bearerAuth": []} in operation.get("security", document["security"])


def test_only_the_holders_downloads_accept_a_session_too(document):
    with_session = [
        key
        for key, operation in operations(document).items()
        if {"sessionCookie": []} in operation.get("security", [])
    ]
    assert sorted(with_session) == [
        ("/certificates/{code}/credential", "get"),
        ("/certificates/{code}/elm", "get"),
        ("/certificates/{code}/pdf", "get"),
    ]
    assert document["components"]["securitySchemes"]["sessionCookie"]["in"] == "cookie"


def test_every_refusal_has_the_error_shape(document):
    refusal = document["components"]["schemas"]["Refusal"]
    assert set(refusal["required"]) == {"error", "message"}
    assert refusal["properties"]["fields"]["additionalProperties"] == {"type": "string"}
    for key, operation in operations(document).items():
        for status, answer in operation["responses"].items():
            if status.startswith("4"):
                schema = resolve(document, answer["content"]["application/json"]["schema"])
                assert {"error", "message"} <= set(schema["required"]), (key, status)


def test_every_json_body_is_declared_and_may_be_refused_as_malformed(document):
    for key, operation in operations(document).items():
        body = operation.get("requestBody")
        if key[1] == "post" and key not in VERIFY_OPERATIONS:
            assert set(body["content"]) == {"application/json"}, key
            assert resolve(document, body["content"]["application/json"]["schema"]), key
            assert "400" in operation["responses"], key
        elif key[1] == "get":
            assert body is None, key


def test_numbers_are_read_as_numbers_or_plain_numeric_strings(document):
    credits = document["components"]["schemas"]["CourseInput"]["properties"]["credits"]
    kinds = {option["type"]: option for option in credits["anyOf"]}
    assert set(kinds) == {"number", "string"}
    pattern = re.compile(kinds["string"]["pattern"])
    assert pattern.search("2.5") and pattern.search("-3") and pattern.search(".5")
    assert not any(pattern.search(text) for text in ("1e3", "NaN", "1_000", " 2", "2,5"))


def test_the_writes_that_take_an_idempotency_key_say_so(document):
    for path in ("/candidates/{candidate_id}/credits", "/candidates/{candidate_id}/results"):
        parameters = document["paths"][path]["post"]["parameters"]
        (header,) = [p for p in parameters if p["in"] == "header"]
        assert (header["name"], header["required"]) == ("Idempotency-Key", False)


def test_every_reference_resolves(document):
    def references(node: Any) -> list[str]:
        if isinstance(node, dict):
            own = [node["$ref"]] if "$ref" in node else []
            return own + [ref for value in node.values() for ref in references(value)]
        if isinstance(node, list):
            return [ref for value in node for ref in references(value)]
        return []

    found = references(document)
    assert found
    for ref in found:
        assert resolve(document, {"$ref": ref}), ref


def test_the_checker_catches_a_wrong_answer(document):
    assert problems(document, {"code": "X"}, {"$ref": "#/components/schemas/Course"})
    refusal = {"$ref": "#/components/schemas/Refusal"}
    assert problems(document, {"error": 1, "message": "m"}, refusal)
    assert problems(document, True, {"type": "number"})


# ------------------------------------------------------------------ real answers fit it


@pytest.fixture
def call(client, api, document):
    """Send a request to /api/v1 with the token and check that the answer is documented."""

    def send(method: str, path: str, body: Any = None, **headers: Any) -> Any:
        response = client.open(
            PREFIX + path, method=method, json=body, headers={**api.headers(), **headers}
        )
        assert_documented(document, method, path, response)
        return response

    return send


def operation_for(document: dict[str, Any], path: str, method: str) -> dict[str, Any]:
    """The documented operation for a concrete request path like /candidates/7/credits."""
    for template, item in document["paths"].items():
        pattern = re.sub(r"\\\{[a-z_]+\\\}", "[^/]+", re.escape(template))
        # /verify/pdf also fits /verify/{code}: the method tells which one is meant.
        if re.fullmatch(pattern, path) and method.lower() in item:
            return item[method.lower()]
    raise AssertionError(f"{method} {path} is not documented")


def assert_documented(document: dict[str, Any], method: str, path: str, response: Any) -> None:
    """The response's status is documented for this operation, and its body fits."""
    operation = operation_for(document, path, method)
    status = str(response.status_code)
    assert status in operation["responses"], f"{method} {path}: {status} is not documented"
    content = operation["responses"][status].get("content")
    if content is None:  # the PDF: described in words, not by a schema
        assert response.mimetype == "application/pdf"
        return
    assert response.mimetype in content, f"{method} {path}: {response.mimetype} not documented"
    schema = content["application/json"]["schema"]
    assert problems(document, response.get_json(), schema) == [], (method, path)


def test_real_answers_match_the_documented_schemas(call, today, make_provider):
    make_provider("P")
    past = today.replace(day=1).isoformat()
    assessment = {"code": "EX", "title": "Exam", "pass_mark": 50, "max_score": 100}
    assert call("POST", "/assessments", {**assessment, "max_attempts": 1}).status_code == 201
    assert call("POST", "/assessments", {**assessment, "max_attempts": 1}).status_code == 409
    assert call("POST", "/assessments", {**assessment, "max_attempts": 1.5}).status_code == 400
    course = {"code": "C1", "title": "Course", "credits": "2.5", "domain": "AI", "provider": "P"}
    assert call("POST", "/courses", course).status_code == 201
    assert call("POST", "/courses", {**course, "code": "C2", "credits": 0.3}).status_code == 422
    programme = {
        "code": "P1",
        "title": "Programme",
        "level": "certificate",
        "min_total_credits": 2.5,
        "domain_minimums": {"AI": 2.5},
        "required_assessments": ["EX"],
        "prerequisite": None,
        "validity_months": None,
    }
    assert call("POST", "/programmes", programme).status_code == 201
    follow_on = {**programme, "code": "P2", "prerequisite": "P1", "validity_months": 60}
    assert call("POST", "/programmes", follow_on).status_code == 201
    candidate = call("POST", "/candidates", {"email": "c@example.org", "full_name": "Ólöf"})
    assert candidate.status_code == 201
    person = candidate.get_json()["id"]
    assert call("GET", f"/candidates/{person}").status_code == 200
    assert call("GET", "/candidates/999").status_code == 404
    assert call("GET", f"/candidates/{person}", Authorization="Bearer nope").status_code == 401
    assert call("GET", f"/candidates/{person}/progress").status_code == 200
    credit = {"course": "C1", "completed_on": past}
    assert call("POST", f"/candidates/{person}/credits", credit).status_code == 201
    assert call("POST", f"/candidates/{person}/credits", credit).status_code == 409
    result = {"assessment": "EX", "score": 49.5, "taken_on": past}
    assert call("POST", f"/candidates/{person}/results", result).status_code == 201
    assert call("POST", f"/candidates/{person}/results", result).status_code == 422
    replayed = call("POST", f"/candidates/{person}/credits", credit, **{"Idempotency-Key": "k"})
    assert replayed.status_code == 409
    progress = call("GET", f"/candidates/{person}/progress").get_json()
    # Both kinds of "required" and "achieved" appear: numbers, a code and nulls.
    requirements = [r for p in progress["programmes"] for r in p["requirements"]]
    assert {type(r["required"]) for r in requirements} >= {int, float, str}
    assert None in {r["achieved"] for r in requirements}


def test_certificate_answers_match_the_documented_schemas(call, eligible_candidate, make_candidate):
    candidate = eligible_candidate()
    newcomer = make_candidate(email="newcomer@example.org").id
    issue = {"candidate_id": candidate, "programme": "EII-C"}
    assert call("POST", "/certificates", {**issue, "candidate_id": newcomer}).status_code == 422
    assert call("POST", "/certificates", {"candidate_id": "x"}).status_code == 400
    assert call("POST", "/certificates", {**issue, "programme": "NOPE"}).status_code == 404
    assert call("POST", "/certificates", issue, Authorization="Bearer x").status_code == 401
    first = call("POST", "/certificates", issue)
    assert first.status_code == 201
    code = first.get_json()["code"]
    assert call("POST", "/certificates", issue).status_code == 409
    assert call("GET", f"/certificates/{code}").status_code == 200
    assert call("GET", "/certificates/EIC-0000").status_code == 404
    assert call("GET", f"/certificates/{code}/pdf").status_code == 200
    assert call("GET", f"/certificates/{code}/pdf", Authorization="").status_code == 401
    assert call("GET", "/certificates/EIC-0000/pdf").status_code == 404
    assert call("POST", f"/certificates/{code}/reissue", {"full_name": 5}).status_code == 400
    replacement = call("POST", f"/certificates/{code}/reissue", {"full_name": "Łukasz W."})
    assert replacement.status_code == 201
    new_code = replacement.get_json()["code"]
    assert call("POST", f"/certificates/{code}/reissue").status_code == 422
    assert call("POST", f"/certificates/{new_code}/revoke", {}).status_code == 400
    assert call("POST", f"/certificates/{new_code}/revoke", {"reason": " "}).status_code == 422
    assert call("POST", f"/certificates/{new_code}/revoke", {"reason": "Error"}).status_code == 200
    assert call("POST", f"/certificates/{new_code}/revoke", {"reason": "Again"}).status_code == 422
    superseded = call("GET", f"/certificates/{code}").get_json()
    assert (superseded["status"], superseded["superseded_by"]) == ("superseded", new_code)
    assert call("GET", f"/certificates/{new_code}").get_json()["status"] == "revoked"


def test_public_verify_answers_match_the_documented_schemas(
    client, api, document, eligible_candidate
):
    def check(method: str, path: str, **options: Any) -> Any:
        response = client.open(PREFIX + path, method=method, **options)
        assert_documented(document, method, path, response)
        return response

    issue = {"candidate_id": eligible_candidate(), "programme": "EII-C"}
    code = api.post("/certificates", issue).get_json()["code"]
    pdf = api.get(f"/certificates/{code}/pdf").data

    found = check("GET", f"/verify/{code}").get_json()
    assert (found["code"], found["status"]) == (code, "valid")
    assert check("GET", "/verify/EIC-0000-0000-0000-0000-0").status_code == 404
    assert check("GET", "/verify/nonsense").status_code == 404

    def upload(data: bytes) -> Any:
        return check(
            "POST",
            "/verify/pdf",
            data={"file": (io.BytesIO(data), "certificate.pdf", "application/pdf")},
            content_type="multipart/form-data",
        )

    verdict = upload(pdf).get_json()
    assert (verdict["authentic"], verdict["code"], verdict["status"]) == (True, code, "valid")
    assert [s["valid"] for s in verdict["signatures"]] == [True, True]
    tampered = bytearray(pdf)
    tampered[len(tampered) // 3] ^= 0x01
    assert upload(bytes(tampered)).get_json()["authentic"] is False
    assert upload(b"GIF89a not a pdf").status_code == 400
    assert (
        check("POST", "/verify/pdf", data={}, content_type="multipart/form-data").status_code == 400
    )

    api.post(f"/certificates/{code}/revoke", {"reason": "Issued in error"})
    revoked = check("GET", f"/verify/{code}").get_json()
    assert (revoked["status"], revoked["revocation_reason"]) == ("revoked", "Issued in error")
