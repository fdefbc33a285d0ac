"""The kinds of value API v1 reads and writes, as pydantic types.

They decide only what a value *is*: a string the databases can store, a number in plain
decimal notation, a whole number, a date written YYYY-MM-DD. Whether it is allowed (credits
in halves, a date not in the future, a code that exists) is for the services, which the
admin pages share, so that a rule is written once and refused alike (422) everywhere.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Annotated, Any

from flask_babel import gettext
from pydantic import AfterValidator, BeforeValidator, PlainSerializer, StringConstraints
from pydantic_core import PydanticCustomError

from certification.errors import ServiceError
from certification.web import JSONProvider

# Plain decimal notation only: "2.5", "-3", "60.00". No exponents, "NaN", "1_000" or spaces
# inside, which ``Decimal`` itself would accept.
NUMERIC_TEXT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)", re.ASCII)
WHOLE_NUMBER_TEXT = re.compile(r"[+-]?[0-9]+", re.ASCII)
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
# Beyond this the value cannot be a credit, a mark or a count, and Decimal arithmetic in the
# rule checks would run out of precision (a 500) instead of refusing it.
LARGEST_NUMBER = Decimal(10) ** 15
MAX_NUMBER_TEXT = 40


class Malformed(ServiceError):
    """The request is not what the API reads: not JSON, a field missing or of the wrong type."""

    slug = "malformed"
    http_status = 400


def storable_text(value: str) -> str:
    """A string either database can store: PostgreSQL refuses NUL, and no UTF-8 encoder
    takes a lone surrogate (which a JSON "\\ud800" escape produces)."""
    if "\x00" in value:
        raise PydanticCustomError("nul_character", gettext("Must not contain a NUL character."))
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise PydanticCustomError("not_unicode", gettext("Must be valid Unicode text.")) from None
    return value


def exact_decimal(value: Any) -> Decimal:
    """A JSON number or numeric string as an exact Decimal, never through a float's error."""
    number: Decimal | None = None
    # A bool is an int to Python, but not a number to anyone else.
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = Decimal(str(value))  # str() first: Decimal(0.1) is not 0.1
    elif isinstance(value, str) and len(value) <= MAX_NUMBER_TEXT and _fits(NUMERIC_TEXT, value):
        number = Decimal(value.strip())
    if number is None or not number.is_finite() or abs(number) >= LARGEST_NUMBER:
        raise PydanticCustomError("number", gettext('Must be a number, e.g. 2.5 or "2.5".'))
    return number


def whole_number(value: Any) -> int:
    """A JSON integer or a string of digits; 3.0 and 2.5 are not whole numbers here."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and len(value) <= MAX_NUMBER_TEXT and _fits(WHOLE_NUMBER_TEXT, value):
        return int(value.strip())
    raise PydanticCustomError("whole_number", gettext("Must be a whole number, e.g. 3."))


def _fits(pattern: re.Pattern[str], text: str) -> bool:
    return pattern.fullmatch(text.strip()) is not None


def iso_date(value: Any) -> dt.date:
    """A date written YYYY-MM-DD, and only so (no timestamps, week dates or other digits)."""
    if not isinstance(value, str) or not ISO_DATE.fullmatch(value):
        raise PydanticCustomError("date", gettext("Must be a date written YYYY-MM-DD."))
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        # pydantic fills in {value}: the translated sentence keeps it where it belongs.
        message = gettext("%(value)s is not a date in the calendar.", value="{value}")
        raise PydanticCustomError("date", message, {"value": value}) from None


# What a client may send.
Text = Annotated[str, AfterValidator(storable_text)]
Number = Annotated[
    Decimal,
    BeforeValidator(
        exact_decimal,
        json_schema_input_type=float
        | Annotated[str, StringConstraints(pattern=f"^{NUMERIC_TEXT.pattern}$", max_length=40)],
    ),
]
WholeNumber = Annotated[
    int,
    BeforeValidator(
        whole_number,
        json_schema_input_type=int
        | Annotated[
            str, StringConstraints(pattern=f"^{WHOLE_NUMBER_TEXT.pattern}$", max_length=40)
        ],
    ),
]
IsoDate = Annotated[dt.date, BeforeValidator(iso_date)]

# What the API answers: credits and marks stay exact Decimals in Python and are written as
# JSON numbers the way every other JSON answer of the app writes them (10, not 10.0).
Figure = Annotated[
    Decimal, PlainSerializer(JSONProvider.default, return_type=int | float, when_used="json")
]
