"""The catalogues: every offered language complete (each string translated, none fuzzy,
plural forms as its grammar has them), and each catalogue in step with the template.

That the template holds every string the code marks is checked by `make check-translations`
(part of `make lint`): it extracts again and compares.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po

from certification.languages import DEFAULT_LANGUAGE, LANGUAGE_NAMES, OFFERED_LANGUAGES

TRANSLATIONS = Path(__file__).resolve().parents[1] / "certification" / "translations"
CATALOGUES = sorted(TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"))


def read(path: Path) -> Catalog:
    with path.open("rb") as file:
        return read_po(file)


def message_ids(catalog: Catalog) -> set[object]:
    return {message.id for message in catalog if message.id}


def test_each_catalogue_is_a_language_of_the_product():
    languages = {path.parent.parent.name for path in CATALOGUES}
    assert languages <= set(LANGUAGE_NAMES) - {DEFAULT_LANGUAGE}


@pytest.mark.parametrize("path", CATALOGUES, ids=lambda path: path.parent.parent.name)
def test_each_catalogue_has_exactly_the_template_s_strings(path):
    """`make translations` merges the template into every catalogue after a change."""
    template, catalog = read(TRANSLATIONS / "messages.pot"), read(path)
    assert message_ids(catalog) == message_ids(template), (
        f"{path} is not in step with messages.pot: run 'make translations'"
    )


@pytest.mark.parametrize("language", [code for code in OFFERED_LANGUAGES if code != "en"])
def test_an_offered_language_has_every_string_translated_and_none_fuzzy(language):
    catalog = read(TRANSLATIONS / language / "LC_MESSAGES" / "messages.po")
    assert catalog.num_plurals == get_plural(language).num_plurals  # Polish: three
    untranslated = [
        message.id
        for message in catalog
        if message.id
        and (not all(message.string) if isinstance(message.string, tuple) else not message.string)
    ]
    fuzzy = [message.id for message in catalog if message.id and message.fuzzy]
    assert not untranslated, (
        f"{language}: {len(untranslated)} untranslated, e.g. {untranslated[:5]}"
    )
    assert not fuzzy, f"{language}: {len(fuzzy)} fuzzy, e.g. {fuzzy[:5]}"
