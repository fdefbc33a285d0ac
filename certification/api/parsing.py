"""Reading a JSON request body into typed Python values.

This is the API's half of input handling: it only decides whether a value *is* a string, a
number, a whole number or a date. Whether the value is allowed (credits in halves, a date
not in the future, a code that exists) is for the services, which the admin pages share.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal
from typing import Any

from flask import request

from certification.errors import ServiceError

# Plain decimal notation only: "2.5", "-3", "60.00". No exponents, "NaN", "1_000" or spaces
# inside, which ``Decimal`` itself would accept.
NUMERIC_TEXT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)", re.ASCII)
WHOLE_NUMBER_TEXT = re.compile(r"[+-]?[0-9]+", re.ASCII)
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
# Beyond this the value cannot be a credit, a mark or a count, and Decimal arithmetic in the
# rule checks would run out of precision (a 500) instead of refusing it.
LARGEST_NUMBER = Decimal(10) ** 15
MAX_NUMBER_TEXT = 40

REQUIRED = "This field is required."


class Malformed(ServiceError):
    """The request is not what the API reads: not JSON, a field missing or of the wrong type."""

    slug = "malformed"
    http_status = 400


def json_object() -> dict[str, Any]:
    """The request body as a JSON object, or Malformed."""
    if not request.is_json:
        raise Malformed("Send a JSON object with the header Content-Type: application/json.")
    try:
        body = json.loads(request.get_data())
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        raise Malformed("The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise Malformed("The request body must be a JSON object.")
    return body


class BodyReader:
    """Reads typed fields from a JSON object, collecting one message per bad field.

    Each reader returns a placeholder for a bad field; call :meth:`raise_if_any` before
    using the values. Fields the reader is not asked for are ignored.
    """

    def __init__(self, body: dict[str, Any]) -> None:
        self.body = body
        self.messages: dict[str, str] = {}

    def raise_if_any(self) -> None:
        if self.messages:
            raise Malformed("Some fields are missing or of the wrong type.", self.messages)

    def _fail(self, field: str, message: str) -> None:
        self.messages.setdefault(field, message)

    def _present(self, field: str) -> bool:
        if field not in self.body:
            self._fail(field, REQUIRED)
            return False
        return True

    # ------------------------------------------------------------ strings

    def text(self, field: str) -> str:
        if not self._present(field):
            return ""
        return self._text_value(field, self.body[field]) or ""

    def text_or_none(self, field: str, *, required: bool = False) -> str | None:
        """A string or null; an absent field is null unless ``required``."""
        if field not in self.body:
            if required:
                self._fail(field, REQUIRED + " Send null for none.")
            return None
        value = self.body[field]
        return None if value is None else self._text_value(field, value)

    def _text_value(self, field: str, value: Any) -> str | None:
        if not isinstance(value, str):
            self._fail(field, "Must be a string.")
            return None
        if problem := _text_problem(value):
            self._fail(field, problem)
            return None
        return value

    def text_list(self, field: str) -> list[str]:
        if not self._present(field):
            return []
        value = self.body[field]
        if not isinstance(value, list):
            self._fail(field, "Must be a list of strings.")
            return []
        found: list[str] = []
        for item in value:
            if not isinstance(item, str) or _text_problem(item):
                self._fail(field, "Must be a list of strings.")
                return []
            found.append(item)
        return found

    # ------------------------------------------------------------ numbers

    def number(self, field: str) -> Decimal:
        if not self._present(field):
            return Decimal(0)
        number = _decimal(self.body[field])
        if number is None:
            self._fail(field, 'Must be a number, e.g. 2.5 or "2.5".')
            return Decimal(0)
        return number

    def whole_number(self, field: str) -> int:
        if not self._present(field):
            return 0
        number = _integer(self.body[field])
        if number is None:
            self._fail(field, "Must be a whole number, e.g. 3.")
            return 0
        return number

    def whole_number_or_none(self, field: str, *, required: bool = False) -> int | None:
        """A whole number or null; an absent field is null unless ``required``."""
        if field not in self.body:
            if required:
                self._fail(field, REQUIRED + " Send null for none.")
            return None
        value = self.body[field]
        if value is None:
            return None
        number = _integer(value)
        if number is None:
            self._fail(field, "Must be a whole number or null.")
        return number

    def number_map(self, field: str) -> dict[str, Decimal]:
        """An object of names to numbers, e.g. ``{"AI & Data Science": 5}``."""
        if not self._present(field):
            return {}
        value = self.body[field]
        if not isinstance(value, dict):
            self._fail(field, "Must be an object of names to numbers.")
            return {}
        found: dict[str, Decimal] = {}
        for key, item in value.items():
            number = _decimal(item)
            if _text_problem(key) or number is None:
                self._fail(field, f"{key!r} must map to a number.")
                return {}
            found[key] = number
        return found

    # ------------------------------------------------------------ dates

    def date(self, field: str) -> dt.date:
        if not self._present(field):
            return dt.date.min
        value = self.body[field]
        if isinstance(value, str) and ISO_DATE.fullmatch(value):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                self._fail(field, f"{value} is not a date in the calendar.")
                return dt.date.min
        self._fail(field, "Must be a date written YYYY-MM-DD.")
        return dt.date.min


def _text_problem(value: str) -> str | None:
    # Neither database can store these: PostgreSQL refuses NUL and no UTF-8 encoder takes a
    # lone surrogate (which a JSON "\ud800" escape produces).
    if "\x00" in value:
        return "Must not contain a NUL character."
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "Must be valid Unicode text."
    return None


def _decimal(value: Any) -> Decimal | None:
    """A JSON number or numeric string as an exact Decimal; None if it is neither."""
    if isinstance(value, bool):  # a bool is an int to Python, but not a number to anyone
        return None
    if isinstance(value, int | float):
        # str() first: Decimal(2.5) is exact, but Decimal(0.1) is not 0.1.
        number = Decimal(str(value))
    elif (
        isinstance(value, str)
        and len(value) <= MAX_NUMBER_TEXT
        and NUMERIC_TEXT.fullmatch(value.strip())
    ):
        number = Decimal(value.strip())
    else:
        return None
    if not number.is_finite() or abs(number) >= LARGEST_NUMBER:
        return None
    return number


def _integer(value: Any) -> int | None:
    """A JSON integer or a string of digits; floats such as 3.0 or 2.5 are not accepted."""
    if isinstance(value, bool | float):  # a bool is an int to Python, but not to anyone else
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and len(value) <= MAX_NUMBER_TEXT:
        text = value.strip()
        if WHOLE_NUMBER_TEXT.fullmatch(text):
            return int(text)
    return None
