"""The OpenAPI 3.1 description of API v1, served at ``/api/v1/openapi.json``.

Written by hand next to the routes; tests check that every route is described here and that
real answers match these schemas.
"""

from __future__ import annotations

from typing import Any

from certification.api.parsing import NUMERIC_TEXT


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _object(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": required if required is not None else list(properties),
    }


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


TEXT_200 = {"type": "string", "maxLength": 200, "minLength": 1}
CODE = {
    "type": "string",
    "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]{0,19}$",
    "description": "1 to 20 letters, digits, dots, hyphens or underscores; stored upper-case.",
}
DATE = {"type": "string", "format": "date", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}
WHOLE = {"type": "integer", "description": "A JSON integer or a string of digits."}
STATUS = {"type": "string", "enum": ["valid", "revoked", "expired", "superseded"]}
SHA256 = {
    "type": "string",
    "pattern": "^[0-9a-f]{64}$",
    "description": "SHA-256 of the sealed PDF, in hex.",
}
NUMBER_IN = {
    "anyOf": [
        {"type": "number"},
        {"type": "string", "pattern": f"^{NUMERIC_TEXT.pattern}$"},
    ],
    "description": 'A JSON number or a numeric string ("2.5"); read exactly, never as a float.',
}

SCHEMAS: dict[str, Any] = {
    "Error": _object(
        {
            "error": {
                "type": "string",
                "description": "A stable slug: malformed, unauthorized, not_found, duplicate,"
                " invalid, attempts_exhausted, rule_violated, requirements_not_met,"
                " already_issued, already_revoked, superseded, not_current,"
                " method_not_allowed, too_many_requests, ...",
            },
            "message": {"type": "string", "description": "A sentence a person can act on."},
            "fields": {
                "type": "object",
                "additionalProperties": {"type": "string"},
                "description": "For each field at fault, what is wrong with it.",
            },
        },
        required=["error", "message"],
    ),
    "ProgrammeInput": _object(
        {
            "code": CODE,
            "title": TEXT_200,
            "level": {"type": "string", "enum": ["certificate", "diploma"]},
            "eqf_level": _nullable({**WHOLE, "minimum": 1, "maximum": 8}),
            "min_total_credits": NUMBER_IN,
            "domain_minimums": {
                "type": "object",
                "additionalProperties": NUMBER_IN,
                "description": 'Minimum ECTS credits per domain, e.g. {"AI & Data Science": 5}.',
            },
            "required_assessments": {"type": "array", "items": CODE},
            "prerequisite": _nullable(CODE),
            "validity_months": _nullable({**WHOLE, "minimum": 1, "maximum": 600}),
            "credit_window_months": _nullable({**WHOLE, "minimum": 1, "maximum": 600}),
        },
        required=[
            "code",
            "title",
            "level",
            "min_total_credits",
            "domain_minimums",
            "required_assessments",
            "prerequisite",
            "validity_months",
        ],
    ),
    "Programme": _object(
        {
            "code": {"type": "string"},
            "title": {"type": "string"},
            "level": {"type": "string", "enum": ["certificate", "diploma"]},
            "eqf_level": {"type": ["integer", "null"]},
            "min_total_credits": {"type": "number"},
            "domain_minimums": {"type": "object", "additionalProperties": {"type": "number"}},
            "required_assessments": {"type": "array", "items": {"type": "string"}},
            "prerequisite": {"type": ["string", "null"]},
            "validity_months": {"type": ["integer", "null"]},
            "credit_window_months": {"type": ["integer", "null"]},
        }
    ),
    "CourseInput": _object(
        {
            "code": CODE,
            "title": TEXT_200,
            "credits": {**NUMBER_IN, "description": "ECTS credits, a multiple of 0.5."},
            "domain": {"type": "string", "maxLength": 100, "minLength": 1},
            "provider": TEXT_200,
        }
    ),
    "Course": _object(
        {
            "code": {"type": "string"},
            "title": {"type": "string"},
            "credits": {"type": "number"},
            "domain": {"type": "string"},
            "provider": {"type": "string"},
        }
    ),
    "AssessmentInput": _object(
        {
            "code": CODE,
            "title": TEXT_200,
            "pass_mark": NUMBER_IN,
            "max_score": NUMBER_IN,
            "max_attempts": {**WHOLE, "minimum": 1, "maximum": 20},
        }
    ),
    "Assessment": _object(
        {
            "code": {"type": "string"},
            "title": {"type": "string"},
            "pass_mark": {"type": "number"},
            "max_score": {"type": "number"},
            "max_attempts": {"type": "integer"},
        }
    ),
    "CandidateInput": _object(
        {
            "email": {"type": "string", "format": "email", "maxLength": 254},
            "full_name": TEXT_200,
            "country": _nullable(
                {"type": "string", "pattern": "^[A-Za-z]{2}$", "description": "ISO 3166 alpha-2"}
            ),
        },
        required=["email", "full_name"],
    ),
    "Candidate": _object(
        {
            "id": {"type": "integer"},
            "email": {"type": "string"},
            "full_name": {"type": "string", "description": "Unicode NFC."},
            "country": {"type": ["string", "null"]},
        }
    ),
    "CreditInput": _object(
        {
            "course": {**CODE, "description": "The code of a course in the catalogue."},
            "completed_on": {**DATE, "description": "Not in the future."},
        }
    ),
    "Credit": _object(
        {
            "course": {"type": "string"},
            "credits": {"type": "number"},
            "domain": {"type": "string"},
            "completed_on": DATE,
        }
    ),
    "ResultInput": _object(
        {
            "assessment": {**CODE, "description": "The code of an assessment in the catalogue."},
            "score": {**NUMBER_IN, "description": "At most the assessment's max_score."},
            "taken_on": {**DATE, "description": "Not in the future."},
        }
    ),
    "Result": _object(
        {
            "assessment": {"type": "string"},
            "attempt": {"type": "integer", "description": "1 for the first attempt, and so on."},
            "score": {"type": "number"},
            "passed": {"type": "boolean"},
            "taken_on": DATE,
        }
    ),
    "Requirement": _object(
        {
            "description": {"type": "string"},
            "required": {
                "type": ["number", "string"],
                "description": "Credits or a pass mark; for a prerequisite, the programme code.",
            },
            "achieved": {
                "type": ["number", "string", "null"],
                "description": "Credits or the best score; for a prerequisite its code once"
                " met. Null while nothing counts (no attempt, prerequisite not met).",
            },
            "met": {"type": "boolean"},
        }
    ),
    "ProgrammeProgress": _object(
        {
            "code": {"type": "string"},
            "title": {"type": "string"},
            "eligible": {"type": "boolean"},
            "requirements": {"type": "array", "items": _ref("Requirement")},
            "missing": {
                "type": "array",
                "items": {"type": "string"},
                "description": "What is still missing, in words; empty when eligible.",
            },
        }
    ),
    "Progress": _object(
        {
            "programmes": {
                "type": "array",
                "items": _ref("ProgrammeProgress"),
                "description": "One entry for every programme in the catalogue. A valid"
                " certificate the candidate holds meets a prerequisite on that award.",
            }
        }
    ),
    "CertificateInput": _object(
        {
            "candidate_id": {**WHOLE, "minimum": 1},
            "programme": {**CODE, "description": "The code of the programme (the award)."},
        }
    ),
    "RevocationInput": _object(
        {
            "reason": {
                "type": "string",
                "minLength": 1,
                "maxLength": 500,
                "description": "Why, in one line; shown to anyone who verifies the certificate.",
            }
        }
    ),
    "ReissueInput": _object(
        {
            "full_name": _nullable(
                {
                    **TEXT_200,
                    "description": "The corrected name to print; it also becomes the"
                    " candidate's name. Left out or null: the name stays as printed.",
                }
            )
        },
        required=[],
    ),
    "Issuer": _object({"name": {"type": "string"}, "short_name": {"type": "string"}}),
    "Certificate": _object(
        {
            "code": {"type": "string", "description": "e.g. EIC-7KQ2-M9XD-4TRA-C1WZ-8"},
            "status": STATUS,
            "holder_name": {"type": "string", "description": "As printed."},
            "award": {"type": "string", "description": "The programme's title as printed."},
            "level": {"type": "string", "enum": ["certificate", "diploma"]},
            "eqf_level": {"type": ["integer", "null"]},
            "credits": {"type": "number", "description": "The ECTS credits that counted."},
            "credits_by_domain": {"type": "object", "additionalProperties": {"type": "number"}},
            "issued_on": DATE,
            "expires_on": _nullable(DATE),
            "verify_url": {"type": "string", "description": "Printed on it and in its QR code."},
            "pdf_sha256": SHA256,
            "issuers": {"type": "array", "items": _ref("Issuer")},
            "revoked_on": _nullable(DATE),
            "revocation_reason": {"type": ["string", "null"]},
            "superseded_by": {
                "type": ["string", "null"],
                "description": "The code of the certificate that replaced this one.",
            },
        }
    ),
    "RequirementsNotMetError": _object(
        {
            "error": {"type": "string", "enum": ["requirements_not_met"]},
            "message": {"type": "string"},
            "missing": {
                "type": "array",
                "items": {"type": "string"},
                "description": "What is still missing, in words (as in the progress report).",
            },
        }
    ),
    "AlreadyIssuedError": _object(
        {
            "error": {"type": "string", "enum": ["already_issued"]},
            "message": {"type": "string"},
            "code": {"type": "string", "description": "The current certificate's code."},
        }
    ),
    "Verification": _object(
        {
            "code": {"type": "string"},
            "status": STATUS,
            "holder_name": {"type": "string"},
            "award": {"type": "string"},
            "level": {"type": "string", "enum": ["certificate", "diploma"]},
            "eqf_level": {"type": ["integer", "null"]},
            "credits": {"type": "number"},
            "issued_on": DATE,
            "expires_on": _nullable(DATE),
            "issuers": {"type": "array", "items": _ref("Issuer")},
            "pdf_sha256": SHA256,
            "revoked_on": _nullable(DATE),
            "revocation_reason": {"type": ["string", "null"]},
            "superseded_by": {"type": ["string", "null"]},
        }
    ),
    "PdfVerification": _object(
        {
            "authentic": {
                "type": "boolean",
                "description": "The file is a certificate issued here, unchanged, with both"
                " bodies' seals intact and trusted. Says nothing about its status: see"
                " `status`.",
            },
            "code": {
                "type": ["string", "null"],
                "description": "The certificate the file is, if it is one issued here.",
            },
            "status": _nullable(STATUS),
            "signatures": {
                "type": "array",
                "items": _object({"signer": {"type": "string"}, "valid": {"type": "boolean"}}),
                "description": "Each digital seal found in the file.",
            },
        }
    ),
}


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": _ref("Error")}},
    }


RESPONSES: dict[str, Any] = {
    "Malformed": _error(
        "malformed: the body is not a JSON object, or a field is missing or of the wrong type"
        " (`fields` names each)."
    ),
    "Unauthorized": {
        **_error("unauthorized: no bearer token, or one that is unknown or revoked."),
        "headers": {"WWW-Authenticate": {"schema": {"type": "string"}}},
    },
    "NotFound": _error("not_found: no such candidate, programme or certificate."),
    "Duplicate": _error("duplicate: the code, e-mail or record already exists."),
    "Unprocessable": _error(
        "A rule refused the values (slug invalid, attempts_exhausted, rule_violated,"
        " idempotency_key_reused): a future date, credits not in halves, an unknown course or"
        " assessment code, and so on."
    ),
    "TooManyRequests": {
        **_error("too_many_requests: slow down; the limit is per client over every verify route."),
        "headers": {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds."}},
    },
}


def _json(schema_name: str, description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": _ref(schema_name)}},
    }


def _errors(*names: str) -> dict[str, Any]:
    codes = {
        "Malformed": "400",
        "Unauthorized": "401",
        "NotFound": "404",
        "Duplicate": "409",
        "Unprocessable": "422",
        "TooManyRequests": "429",
    }
    return {codes[name]: {"$ref": f"#/components/responses/{name}"} for name in names}


def _create(
    operation_id: str,
    summary: str,
    body: str,
    answer: str,
    *errors: str,
    headers: dict[str, Any] | None = None,
) -> dict[str, Any]:
    created = _json(answer, "Created.")
    if headers:
        created["headers"] = headers
    return {
        "operationId": operation_id,
        "summary": summary,
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": _ref(body)}},
        },
        "responses": {
            "201": created,
            **_errors("Malformed", "Unauthorized", *errors),
        },
    }


IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"},
    "description": (
        "Any unique string per intended write, e.g. a UUID. A retry with the same key and the"
        " same body gets the first answer again (header Idempotent-Replayed: true) and"
        " records nothing; the same key with a different body is refused"
        " (422 idempotency_key_reused). Keys are kept for 30 days."
    ),
}


def _idempotent(operation: dict[str, Any]) -> dict[str, Any]:
    """An operation that honours the Idempotency-Key header."""
    replayed = {
        "Idempotent-Replayed": {
            "schema": {"type": "string", "enum": ["true"]},
            "required": False,
            "description": "Sent when this is the stored answer to an earlier request.",
        }
    }
    created = dict(operation["responses"]["201"])
    created["headers"] = {**created.get("headers", {}), **replayed}
    return {
        **operation,
        "parameters": [IDEMPOTENCY_KEY],
        "responses": {**operation["responses"], "201": created},
    }


CANDIDATE_ID = {
    "name": "candidate_id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "minimum": 1},
}

PATHS: dict[str, Any] = {
    "/openapi.json": {
        "get": {
            "operationId": "openapi",
            "summary": "This document (no token needed).",
            "security": [],
            "responses": {"200": {"description": "The OpenAPI 3.1 document."}},
        }
    },
    "/programmes": {
        "post": _create(
            "createProgramme",
            "Create a programme (an award) with its requirements.",
            "ProgrammeInput",
            "Programme",
            "Duplicate",
            "Unprocessable",
        )
    },
    "/courses": {
        "post": _create(
            "createCourse",
            "Create a course that earns ECTS credits in one domain.",
            "CourseInput",
            "Course",
            "Duplicate",
            "Unprocessable",
        )
    },
    "/assessments": {
        "post": _create(
            "createAssessment",
            "Create an assessment with a pass mark and a limit on attempts.",
            "AssessmentInput",
            "Assessment",
            "Duplicate",
            "Unprocessable",
        )
    },
    "/candidates": {
        "post": _create(
            "createCandidate",
            "Register a candidate. Names are stored in Unicode NFC.",
            "CandidateInput",
            "Candidate",
            "Duplicate",
            "Unprocessable",
            headers={"Location": {"schema": {"type": "string"}, "description": "Its URL."}},
        )
    },
    "/candidates/{candidate_id}": {
        "parameters": [CANDIDATE_ID],
        "get": {
            "operationId": "getCandidate",
            "summary": "A candidate.",
            "responses": {
                "200": _json("Candidate", "The candidate."),
                **_errors("Unauthorized", "NotFound"),
            },
        },
    },
    "/candidates/{candidate_id}/credits": {
        "parameters": [CANDIDATE_ID],
        "post": _idempotent(
            _create(
                "recordCredit",
                "Record a completed course. A course counts once per candidate.",
                "CreditInput",
                "Credit",
                "NotFound",
                "Duplicate",
                "Unprocessable",
            )
        ),
    },
    "/candidates/{candidate_id}/results": {
        "parameters": [CANDIDATE_ID],
        "post": _idempotent(
            _create(
                "recordResult",
                "Record one attempt at an assessment; refused (attempts_exhausted) beyond the"
                " limit.",
                "ResultInput",
                "Result",
                "NotFound",
                "Duplicate",
                "Unprocessable",
            )
        ),
    },
    "/candidates/{candidate_id}/progress": {
        "parameters": [CANDIDATE_ID],
        "get": {
            "operationId": "getProgress",
            "summary": "The candidate's progress towards every programme, as of today.",
            "responses": {
                "200": _json("Progress", "What each programme requires and what is missing."),
                **_errors("Unauthorized", "NotFound"),
            },
        },
    },
}

CODE_PARAMETER = {
    "name": "code",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "maxLength": 60},
    "description": "A certificate code; case, spaces and hyphens do not matter.",
}
LOCATION = {"Location": {"schema": {"type": "string"}, "description": "Its URL."}}


def _certificate(description: str, *, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    answer = _json("Certificate", description)
    if headers:
        answer["headers"] = headers
    return answer


PATHS.update(
    {
        "/certificates": {
            "post": {
                "operationId": "issueCertificate",
                "summary": "Issue a programme's certificate to a candidate who meets every"
                " requirement: rendered, sealed by both bodies and stored.",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref("CertificateInput")}},
                },
                "responses": {
                    "201": _certificate("Issued.", headers=LOCATION),
                    **_errors("Malformed", "Unauthorized", "NotFound"),
                    "409": {
                        "description": "already_issued: the candidate holds a current"
                        " certificate for this award; `code` names it.",
                        "content": {"application/json": {"schema": _ref("AlreadyIssuedError")}},
                    },
                    "422": {
                        "description": "requirements_not_met: `missing` says what is missing.",
                        "content": {
                            "application/json": {"schema": _ref("RequirementsNotMetError")}
                        },
                    },
                },
            }
        },
        "/certificates/{code}": {
            "parameters": [CODE_PARAMETER],
            "get": {
                "operationId": "getCertificate",
                "summary": "A certificate: what was printed, and its status today.",
                "responses": {
                    "200": _certificate("The certificate."),
                    **_errors("Unauthorized", "NotFound"),
                },
            },
        },
        "/certificates/{code}/revoke": {
            "parameters": [CODE_PARAMETER],
            "post": {
                "operationId": "revokeCertificate",
                "summary": "Revoke a current certificate. The record stays; verifiers see"
                " the date and the reason.",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref("RevocationInput")}},
                },
                "responses": {
                    "200": _certificate("Revoked."),
                    **_errors("Malformed", "Unauthorized", "NotFound"),
                    "422": _error(
                        "invalid (an empty or over-long reason), already_revoked, or"
                        " superseded (revoke the certificate that replaced it)."
                    ),
                },
            },
        },
        "/certificates/{code}/reissue": {
            "parameters": [CODE_PARAMETER],
            "post": {
                "operationId": "reissueCertificate",
                "summary": "Replace a current certificate with a new one (new code, new"
                " PDF; same award, credits and dates), e.g. to correct the name. The old"
                " one becomes superseded. The body may be left out.",
                "requestBody": {
                    "required": False,
                    "content": {"application/json": {"schema": _ref("ReissueInput")}},
                },
                "responses": {
                    "201": _certificate("The new certificate.", headers=LOCATION),
                    **_errors("Malformed", "Unauthorized", "NotFound"),
                    "422": _error(
                        "invalid (an empty or over-long name), or not_current: only a"
                        " certificate that is neither revoked nor superseded is reissued."
                    ),
                },
            },
        },
        "/certificates/{code}/pdf": {
            "parameters": [CODE_PARAMETER],
            "get": {
                "operationId": "downloadCertificatePdf",
                "summary": "The sealed PDF, for an administrator (token or logged-in"
                " session) or its holder (logged-in session).",
                "description": "The one route that also accepts the browser session of the"
                " web pages. A token, when sent, must be valid. To a logged-in person who"
                " may not download it, the certificate does not exist (404).",
                "security": [{"bearerAuth": []}, {"sessionCookie": []}],
                "responses": {
                    "200": {
                        "description": "The PDF exactly as issued; its SHA-256 is the"
                        " certificate's `pdf_sha256`.",
                        "headers": {
                            "Content-Disposition": {
                                "schema": {"type": "string"},
                                "description": 'attachment; filename="<code>.pdf"',
                            },
                            "Cache-Control": {"schema": {"type": "string", "enum": ["no-store"]}},
                        },
                        "content": {
                            "application/pdf": {
                                "schema": {"type": "string", "contentMediaType": "application/pdf"}
                            }
                        },
                    },
                    **_errors("Unauthorized", "NotFound"),
                },
            },
        },
        "/verify/{code}": {
            "parameters": [CODE_PARAMETER],
            "get": {
                "operationId": "verifyCode",
                "summary": "Public: is the certificate with this code genuine, and is it"
                " valid today? (No token needed; rate-limited per client.)",
                "security": [],
                "responses": {
                    "200": _json("Verification", "What the certificate says and its status."),
                    "404": _error(
                        "not_found: no certificate has this code (a malformed code gets the"
                        " same answer)."
                    ),
                    **_errors("TooManyRequests"),
                },
            },
        },
        "/verify/pdf": {
            "post": {
                "operationId": "verifyPdf",
                "summary": "Public: is this PDF a certificate issued here, unchanged and"
                " sealed by both bodies? (No token needed; rate-limited per client. The"
                " file is checked, not kept.)",
                "security": [],
                "requestBody": {
                    "required": True,
                    "content": {
                        "multipart/form-data": {
                            "schema": _object(
                                {
                                    "file": {
                                        "type": "string",
                                        "contentMediaType": "application/pdf",
                                        "description": "The certificate PDF, at most 5 MB.",
                                    }
                                }
                            )
                        }
                    },
                },
                "responses": {
                    "200": _json(
                        "PdfVerification",
                        "The verdict on the file. A damaged PDF, or one that matches no"
                        " certificate, is `authentic: false` with `code` and `status` null.",
                    ),
                    "400": _error(
                        "`file_required` (no file), `not_a_pdf` (the content is not a PDF)"
                        " or `file_too_large` (over 5 MB)."
                    ),
                    "413": _error("The whole request is over the server's 6 MB limit."),
                    **_errors("TooManyRequests"),
                },
            },
        },
    }
)

DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "European Certificate and Diploma in Imaging Informatics: API",
        "version": "1",
        "description": (
            "For integrators (a learning platform or a registry) pushing courses, credits and"
            " results, pulling a candidate's progress, and issuing, revoking and reissuing"
            " certificates; and for anyone checking a certificate. Every call except this"
            " document and the two public `/verify` routes needs"
            " `Authorization: Bearer <token>` (a certificate's PDF also accepts the logged-in"
            " session of its holder or an administrator); an administrator makes a token with"
            " `flask --app certification create-api-token EMAIL`. Each request is one"
            " transaction: a refusal changes nothing. Numbers may be sent as JSON numbers or"
            ' numeric strings ("2.5"); unknown fields are ignored. Errors are'
            ' `{"error": slug, "message": sentence, "fields"?: {field: message}}`.'
        ),
    },
    "servers": [{"url": "/api/v1"}],
    "security": [{"bearerAuth": []}],
    "paths": PATHS,
    "components": {
        "securitySchemes": {
            "bearerAuth": {
                "type": "http",
                "scheme": "bearer",
                "description": "A token from `flask create-api-token`, held by an administrator.",
            },
            "sessionCookie": {
                "type": "apiKey",
                "in": "cookie",
                "name": "session",
                "description": "The web pages' login session (only for a certificate's PDF).",
            },
        },
        "schemas": SCHEMAS,
        "responses": RESPONSES,
    },
}
