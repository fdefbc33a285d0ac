"""Dates and moments in the words pages, e-mails and the PDF use: "6 December 2026",
"6. Dezember 2026", "6 Δεκεμβρίου 2026", and "6 December 2026 at 14:05 UTC". Month names
are spelt out in the reader's language (Babel's CLDR data), so that no reader has to guess
which of 06/12 and 12/06 is the month. CSV and JSON keep ISO 8601.

``language`` defaults to the page's, e-mail's or answer's (``i18n.current_language``).
"""

from __future__ import annotations

import datetime as dt
import functools

from babel.dates import format_date
from flask_babel import gettext

from certification.i18n import current_language
from certification.languages import formatting_locale


def format_long_date(day: dt.date, language: str | None = None) -> str:
    return _long_date(day, formatting_locale(language or current_language()))


@functools.lru_cache(maxsize=4096)
def _long_date(day: dt.date, locale: str) -> str:
    # Babel takes 20 µs a date; a page or a list writes the same few days again and again.
    return format_date(day, format="long", locale=locale)


def format_long_datetime(moment: dt.datetime, language: str | None = None) -> str:
    """A moment as pages and e-mail show it: "6 December 2026 at 14:05 UTC" (CSV and JSON
    keep ISO 8601)."""
    moment = moment.astimezone(dt.UTC)
    return gettext(
        "%(date)s at %(time)s UTC",
        date=format_long_date(moment.date(), language),
        time=moment.strftime("%H:%M"),
    )
