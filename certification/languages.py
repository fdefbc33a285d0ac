"""The languages the product speaks. Pure: codes, names and formatting locales.

Each language is named in itself on the language menu ("Deutsch", "Polski", "Ελληνικά"),
so that a reader finds theirs whatever language the page is in. A language is *offered*
(menu, settings, a candidate's ``language``) only once its catalogue is complete: a page
half in Polish and half in English is worse than one in English. A test keeps each offered
catalogue complete.
"""

from __future__ import annotations

DEFAULT_LANGUAGE = "en"

# Every language a catalogue is kept for, by ISO 639-1 code, in the menu's order.
LANGUAGE_NAMES: dict[str, str] = {
    "en": "English",
    "de": "Deutsch",
    "fr": "Français",
    "es": "Español",
    "it": "Italiano",
    "pt": "Português",
    "pl": "Polski",
    "nl": "Nederlands",
    "el": "Ελληνικά",
}

# The languages with every string translated and none fuzzy: the ones offered.
OFFERED_LANGUAGES: tuple[str, ...] = ("en", "de", "fr", "es", "it", "pt", "pl", "nl", "el")

# Dates and numbers follow Europe's conventions: "6 December 2026" in English (not
# "December 6, 2026"), and European rather than Brazilian Portuguese.
_FORMATTING_LOCALES = {"en": "en_GB", "pt": "pt_PT"}


def formatting_locale(language: str) -> str:
    """The Babel locale that formats dates and numbers for ``language``."""
    return _FORMATTING_LOCALES.get(language, language)


def offered_languages() -> tuple[str, ...]:
    return OFFERED_LANGUAGES


def offered(language: str | None) -> str | None:
    """``language`` if it is offered (case and region ignored: "de-AT" is "de"), else None."""
    if not language:
        return None
    code = language.strip().lower().replace("_", "-").split("-", 1)[0]
    return code if code in offered_languages() else None
