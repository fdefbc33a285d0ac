"""What services raise when they refuse. Each face turns these into a page or JSON."""

from __future__ import annotations

from flask_babel import gettext


class ServiceError(Exception):
    """A refusal a person can act on: a slug, a sentence, and the fields at fault."""

    slug = "invalid"
    http_status = 422

    # The one input a client should look at first, by the name integrators know it by
    # (``course_code``), when the refusal is about one.
    field: str | None = None

    def __init__(
        self,
        message: str,
        fields: dict[str, str] | None = None,
        slug: str | None = None,
        *,
        field: str | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}
        if slug is not None:
            self.slug = slug
        if field is not None:
            self.field = field


class InvalidInput(ServiceError):
    """Values that are well-formed but break a rule (a future date, credits of 0.3)."""

    slug = "invalid"
    http_status = 422

    @classmethod
    def for_fields(cls, fields: dict[str, str]) -> InvalidInput:
        return cls(gettext("Please correct the highlighted fields."), fields)


class Duplicate(ServiceError):
    """The thing already exists (a code, an e-mail, a credit for the same course)."""

    slug = "duplicate"
    http_status = 409


class RuleViolation(ServiceError):
    """The request is valid but the rules of the programme forbid it (attempts used up)."""

    slug = "rule_violated"
    http_status = 422


class NotFound(ServiceError):
    slug = "not_found"
    http_status = 404


class Forbidden(ServiceError):
    """The person is known but their role may not do this (an office user approving for a
    body, an officer approving for the other body)."""

    slug = "forbidden"
    http_status = 403


class Conflict(ServiceError):
    """The thing is in a state where this is already done or no longer possible (a second
    approval by the same body)."""

    slug = "conflict"
    http_status = 409
