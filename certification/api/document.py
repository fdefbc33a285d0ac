"""The OpenAPI 3.1 document of API v1 and the validation of its requests, both derived by
spectree from each route's declaration (``@reads``, ``@writes``: its body, by the model its
``json`` parameter names, and its answers) and the models of ``certification.api.contract``.

spectree rather than flask-openapi3 because it attaches to the routes it is given, not to
the application class, and lets a refusal keep the API's own shape (see ``refuse_malformed``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from flask.typing import RouteCallable
from flask_babel import gettext, lazy_gettext
from pydantic import BaseModel, ValidationError
from spectree import Response, SecurityScheme, SecuritySchemeData, SpecTree, Tag
from spectree.model_adapter.pydantic_adapter import PydanticModelAdapter
from spectree.models import InType, SecureType, Server
from spectree.plugins.flask_plugin import FlaskPlugin
from werkzeug.routing import Rule

from certification.api.contract import Refusal
from certification.api.fields import Malformed
from certification.i18n import list_in_words

PREFIX = "/api/v1"

# The refusals most operations share, by status: the model of the body and when it comes.
REFUSALS: dict[int, tuple[type[BaseModel], str]] = {
    400: (
        Refusal,
        "malformed: the body is not a JSON object, or a field is missing or of the wrong"
        " type (`fields` names each).",
    ),
    401: (
        Refusal,
        "unauthorized: no bearer token, or one that is unknown or revoked (header"
        " WWW-Authenticate says which).",
    ),
    403: (
        Refusal,
        "forbidden: the token's user may not do this (each role has its own routes; an"
        " officer acts only for their own body).",
    ),
    404: (Refusal, "not_found: no such candidate, programme or certificate."),
    409: (Refusal, "duplicate: the code, e-mail or record already exists."),
    422: (
        Refusal,
        "A rule refused the values (slug invalid, attempts_exhausted, rule_violated,"
        " idempotency_key_reused): a future date, credits not in halves, an unknown course"
        " or assessment code, and so on.",
    ),
    429: (
        Refusal,
        "too_many_requests: slow down; the limit is per client over every verify route"
        " (header Retry-After says how many seconds).",
    ),
}

# What a route that takes a body may refuse, besides its own refusals.
WRITE_REFUSALS = (400, 401, 403, 409, 422)

# The groups the reference shows the operations in.
CATALOGUE = Tag(name="catalogue", description="Programmes (the awards), courses and assessments.")
CANDIDATES = Tag(
    name="candidates", description="Candidates, their credits and results, and their progress."
)
CERTIFICATES = Tag(
    name="certificates", description="Issuing, reading, revoking, reissuing and downloading."
)
VERIFICATION = Tag(name="verification", description="Public: is a certificate genuine and valid?")
DOCUMENT = Tag(name="document", description="This description of the API.")

# Routes another area serves under /api/v1 (the public verification routes, which share
# their rate limit with the verification pages), by endpoint, with the declaration that
# documents each: see ``served_elsewhere``.
_SERVED_ELSEWHERE: dict[str, Callable[..., Any]] = {}


class Answers(Response):
    """spectree's answers of one operation, as declared: spectree would add its validation
    refusal (400) to every route, but only a route that reads a body can be malformed, and
    those declare their 400 themselves."""

    def add_model(
        self, code: int, model: Any, replace: bool = True, description: str | None = None
    ) -> None:
        if replace:  # spectree's own addition is the one that keeps what is declared
            super().add_model(code, model, replace=replace, description=description)


def answers(
    status: int, model: type[BaseModel] | None, description: str, *refused: int, **special: Any
) -> Answers:
    """The answers of one operation: its success, the shared refusals it may give (by
    status), and any refusal of its own (``HTTP_409=(Model, "description")``)."""
    codes: dict[str, Any] = {f"HTTP_{status}": (model, description)}
    codes |= {f"HTTP_{code}": REFUSALS[code] for code in refused}
    return Answers(**codes, **special)


def refuse_malformed(
    _request: Any, _response: Any, error: Exception | None, _instance: Any, _adapter: Any
) -> None:
    """spectree's hook after it validated a request: a body or header that does not fit its
    model is the API's ordinary ``malformed`` refusal, one message per field at fault."""
    if isinstance(error, ValidationError):
        raise Malformed(
            gettext("Some fields are missing or of the wrong type."), fields_at_fault(error)
        )


# The API's own words for the type errors pydantic finds (those the hand-written parser
# gave before the contract was declared once), by pydantic's error type. A list or an
# object in a request body is always of strings or of numbers by name.
TYPE_MESSAGES = {
    "missing": lazy_gettext("This field is required."),
    "string_type": lazy_gettext("Must be a string."),
    "list_type": lazy_gettext("Must be a list of strings."),
    "dict_type": lazy_gettext("Must be an object of names to numbers."),
}


def fields_at_fault(error: ValidationError) -> dict[str, str]:
    """The first problem of each field, named as the client sent it."""
    found: dict[str, str] = {}
    for problem in error.errors(include_url=False):
        field, *inside = problem["loc"] or ("body",)
        kind = problem["type"]
        if inside and isinstance(inside[0], int) and kind == "string_type":
            message = str(TYPE_MESSAGES["list_type"])  # an item of a list of strings
        elif kind in TYPE_MESSAGES:
            message = str(TYPE_MESSAGES[kind])
        elif kind == "literal_error":
            # pydantic's "'both_bodies' or 'office'", in the reader's words.
            choices = re.findall(r"'([^']*)'", str((problem.get("ctx") or {}).get("expected")))
            message = gettext(
                "Must be one of: %(choices)s.", choices=list_in_words(choices, style="or")
            )
        else:
            message = problem["msg"]
            message = message if message.endswith(".") else f"{message}."  # pydantic's have none
            if inside:
                message = gettext(
                    "%(path)s: %(message)s",
                    path=".".join(str(part) for part in inside),
                    message=message,
                )
        found.setdefault(str(field), message)
    return found


def served_elsewhere(endpoint: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare the contract of a route that another area serves, for the document only."""

    def declare(declaration: Callable[..., Any]) -> Callable[..., Any]:
        _SERVED_ELSEWHERE[endpoint] = declaration
        return declaration

    return declare


class ModelAdapter(PydanticModelAdapter):
    """spectree's pydantic adapter, rendering a validation error without the refused values:
    spectree renders it before ``refuse_malformed`` replaces it, and a value no encoder takes
    (a lone surrogate) would fail that rendering."""

    def validation_errors(self, err: ValidationError) -> Any:
        return err.errors(include_url=False, include_context=False, include_input=False)


class ApiPlugin(FlaskPlugin):
    """spectree's Flask plugin for one API: paths relative to its server URL (``/api/v1``),
    and the routes another area serves documented by their declarations here."""

    def parse_path(self, route: Any, path_parameter_descriptions: Any) -> tuple[str, list]:
        path, parameters = super().parse_path(route, path_parameter_descriptions)
        return path.removeprefix(PREFIX), parameters

    def parse_func(self, route: Rule) -> Iterator[tuple[str, Callable[..., Any]]]:
        declaration = _SERVED_ELSEWHERE.get(route.endpoint)
        if declaration is None:
            yield from super().parse_func(route)
        else:
            yield from ((method, declaration) for method in route.methods or ())


api_spec = SpecTree(
    backend=ApiPlugin,
    # spectree types its adapter protocol for any exception; its pydantic one narrows it.
    model_adapter=ModelAdapter(),  # type: ignore[arg-type]
    mode="strict",  # only what is declared: the API's routes, not the web pages
    before=refuse_malformed,
    validation_error_status=400,
    validation_error_model=Refusal,
    naming_strategy=lambda model: model.__name__,
    nested_naming_strategy=lambda _parent, child: child,
    title="European Certificate and Diploma in Imaging Informatics: API",
    version="1",
    description=(
        "For integrators (a learning platform or a registry) pushing courses, credits and"
        " results, pulling a candidate's progress, and issuing, revoking and reissuing"
        " certificates; and for anyone checking a certificate. Every call except this"
        " document and the two public `/verify` routes needs"
        " `Authorization: Bearer <token>` (a certificate's PDF also accepts the logged-in"
        " session of its holder or an administrator); an administrator makes a token at"
        " /admin/api-tokens or with `flask --app certification create-api-token EMAIL`."
        " Each request is one transaction: a refusal changes nothing. Numbers may be sent as"
        ' JSON numbers or numeric strings ("2.5"); unknown fields are ignored. Errors are'
        ' `{"error": slug, "message": sentence, "fields"?: {field: message}}`.'
    ),
    servers=[Server(url=PREFIX)],
    security_schemes=[
        SecurityScheme(
            name="bearerAuth",
            data=SecuritySchemeData(
                type=SecureType.HTTP,
                scheme="bearer",
                description="A token an administrator made (/admin/api-tokens).",
            ),
        ),
        SecurityScheme(
            name="sessionCookie",
            data=SecuritySchemeData(
                type=SecureType.API_KEY,
                field_in=InType.COOKIE,
                name="session",
                description="The web pages' login session (only for a certificate's PDF).",
            ),
        ),
    ],
    security={"bearerAuth": []},
)


def reads(
    model: type[BaseModel] | None, description: str, operation_id: str, tag: Tag, **options: Any
) -> Callable[[Callable[..., Any]], RouteCallable]:
    """Declare a route that reads one thing: its answer, or the token or the thing is not
    there (401, 404). ``options`` go to spectree's ``validate``."""
    return api_spec.validate(
        resp=answers(200, model, description, 401, 403, 404),
        operation_id=operation_id,
        tags=[tag],
        **options,
    )


def writes(
    model: type[BaseModel],
    operation_id: str,
    tag: Tag,
    *,
    status: int = 201,
    description: str = "Created.",
    refused: tuple[int, ...] = WRITE_REFUSALS,
    headers: type[BaseModel] | None = None,
    **special: Any,
) -> Callable[[Callable[..., Any]], RouteCallable]:
    """Declare a route that takes a JSON body (the model its ``json`` parameter names) and
    changes something: its answer, the shared refusals it may give, and any of its own
    (``HTTP_422=(Model, "description")``)."""
    return api_spec.validate(
        resp=answers(status, model, description, *refused, **special),
        headers=headers,
        operation_id=operation_id,
        tags=[tag],
    )
