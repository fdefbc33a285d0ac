"""Field checks shared by every service, so the admin UI and the API refuse the same values."""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from decimal import Decimal

import pycountry
from flask_babel import gettext, ngettext

from certification.errors import InvalidInput

CODE_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9._-]{0,19}$")
HALF = Decimal("0.5")


class FieldErrors:
    """Collects one message per field, then raises them together."""

    def __init__(self) -> None:
        self.messages: dict[str, str] = {}

    def add(self, field: str, message: str) -> None:
        self.messages.setdefault(field, message)

    def raise_if_any(self) -> None:
        if self.messages:
            raise InvalidInput.for_fields(self.messages)


def clean_text(value: str | None) -> str:
    """NFC-normalise and trim text a person typed, so the same name is stored one way."""
    return unicodedata.normalize("NFC", value or "").strip()


# Letters that Unicode does not decompose into a base letter and a mark.
_FOLDED_LETTERS = str.maketrans(
    {
        "ł": "l",
        "ø": "o",
        "đ": "d",
        "ð": "d",
        "þ": "th",
        "æ": "ae",
        "œ": "oe",
        "ß": "ss",
        "ı": "i",
        "ħ": "h",
        "ŀ": "l",
    }
)


def name_search_key(name: str) -> str:
    """Fold a name for searching: case, accents and special letters, so that typing
    ``lukasz`` finds Łukasz and ``thorarson`` finds Þórarson. Greek and Cyrillic are kept,
    case-folded and without accents."""
    folded = unicodedata.normalize("NFKD", name.casefold())
    stripped = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return " ".join(stripped.translate(_FOLDED_LETTERS).split())


def check_text(errors: FieldErrors, field: str, value: str, max_length: int) -> str:
    if not value:
        errors.add(field, gettext("This field is required."))
    elif len(value) > max_length:
        errors.add(
            field,
            ngettext("At most %(num)d character.", "At most %(num)d characters.", max_length),
        )
    elif any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp") for ch in value):
        errors.add(field, gettext("Remove line breaks and invisible control characters."))
    return value


def as_code(text: str) -> str | None:
    """``text`` as a catalogue code to look up, or None when no code could look like it
    (so that odd input, a NUL byte say, never reaches the database)."""
    code = clean_text(text).upper()
    return code if CODE_PATTERN.match(code) else None


def check_code(errors: FieldErrors, field: str, value: str) -> str:
    code = clean_text(value).upper()
    if not CODE_PATTERN.match(code):
        errors.add(
            field,
            gettext(
                "Use 1 to 20 letters, digits, dots, hyphens or underscores, starting with a"
                " letter or digit."
            ),
        )
    return code


def check_credits(
    errors: FieldErrors, field: str, value: Decimal, *, allow_zero: bool = False
) -> Decimal:
    if not value.is_finite():
        errors.add(field, gettext("Enter a number."))
    elif value < 0 or (value == 0 and not allow_zero):
        errors.add(
            field,
            gettext("Must be more than 0.") if not allow_zero else gettext("Must not be negative."),
        )
    elif value > 999:
        errors.add(field, gettext("At most 999 ECTS credits."))
    elif value % HALF != 0:
        errors.add(field, gettext("ECTS credits come in multiples of 0.5."))
    return value


def check_marks(errors: FieldErrors, field: str, value: Decimal) -> Decimal:
    if not value.is_finite():
        errors.add(field, gettext("Enter a number."))
    elif value < 0:
        errors.add(field, gettext("Must not be negative."))
    elif value > Decimal("99999.99"):
        errors.add(field, gettext("At most 99999.99."))
    elif value != value.quantize(Decimal("0.01")):
        errors.add(field, gettext("At most two decimal places."))
    return value


def check_whole_number(
    errors: FieldErrors, field: str, value: int | None, low: int, high: int
) -> int | None:
    if value is not None and not low <= value <= high:
        errors.add(
            field, gettext("Enter a whole number from %(low)d to %(high)d.", low=low, high=high)
        )
    return value


def check_past_date(errors: FieldErrors, field: str, value: dt.date, today: dt.date) -> dt.date:
    if value > today:
        errors.add(
            field,
            gettext(
                "The date cannot be in the future (today is %(today)s).",
                today=today.isoformat(),
            ),
        )
    elif value.year < 1990:
        errors.add(field, gettext("The date is too far in the past."))
    return value


# Kosovo's code is user-assigned, not ISO 3166's, but the European lists (and ours) use it.
_CODES_BEYOND_ISO = {"XK": "Kosovo"}

# What people write that ISO 3166 (pycountry's name, official_name and common_name) does
# not have: older names, short forms, and the EU's own codes for Greece and the UK.
COMMON_COUNTRY_NAMES = {
    "UK": "GB",
    "Great Britain": "GB",
    "Britain": "GB",
    "England": "GB",
    "Scotland": "GB",
    "Wales": "GB",
    "Northern Ireland": "GB",
    "EL": "GR",
    "Holland": "NL",
    "Turkey": "TR",
    "Republic of Turkey": "TR",
    "Macedonia": "MK",
    "Republic of Macedonia": "MK",
    "Russia": "RU",
    "Vatican": "VA",
    "Vatican City": "VA",
    "Holy See": "VA",
    "Kosovo": "XK",
    "Republic of Ireland": "IE",
    "Éire": "IE",
    "Bosnia": "BA",
    "Bosnia-Herzegovina": "BA",
    "Swaziland": "SZ",
    "Cape Verde": "CV",
    "Burma": "MM",
    "Ivory Coast": "CI",
    "East Timor": "TL",
    "Brunei": "BN",
    "Palestine": "PS",
    "USA": "US",
    "America": "US",
    "UAE": "AE",
}


def _country_key(text: str) -> str:
    """``text`` folded for looking a country up: case, accents, punctuation and a leading
    "the" do not count, so ``the Czech republic`` and ``Côte d’Ivoire`` are found."""
    folded = re.sub(r"[.'’]", "", name_search_key(text))
    words = re.sub(r"[^\w ]", " ", folded).split()
    return " ".join(words[1:] if words[:1] == ["the"] and len(words) > 1 else words)


@functools.cache
def _countries_by_key() -> dict[str, str]:
    found: dict[str, str] = {}
    for country in pycountry.countries:
        found[country.alpha_2.casefold()] = country.alpha_2
        for attribute in ("name", "official_name", "common_name"):
            if name := getattr(country, attribute, None):
                found[_country_key(name)] = country.alpha_2
    for code, name in _CODES_BEYOND_ISO.items():
        found[code.casefold()] = code
        found[_country_key(name)] = code
    found.update((_country_key(name), code) for name, code in COMMON_COUNTRY_NAMES.items())
    return found


def country_code(text: str) -> str | None:
    """The ISO 3166 two-letter code for a code or an English country name as people write
    it (``de``, ``Germany``, ``Türkiye`` or ``turkey``, ``UK``); None if it is neither."""
    return _countries_by_key().get(_country_key(clean_text(text)))
