"""Translation plumbing: Flask-Babel bound to the app, and the page's language for code
below the faces (dates in words, numbers, messages), which asks and never chooses.

The faces choose the language (``web.select_language``); e-mails are written in the
recipient's with ``force_locale``; the PDF renderer is told its languages in the snapshot.
Outside a request or an app context (a pure test, a script) everything is English.
"""

from __future__ import annotations

import datetime as dt
import functools
import time
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Literal

from babel.dates import format_date
from babel.lists import format_list
from babel.numbers import format_decimal
from babel.support import NullTranslations
from flask import Flask, current_app, g, has_app_context
from flask_babel import Babel, get_locale, get_translations, gettext, ngettext
from flask_babel.speaklater import LazyString
from markupsafe import Markup, escape

from certification import progress
from certification.languages import DEFAULT_LANGUAGE, formatting_locale
from certification.progress import Name, Phrase

TRANSLATIONS = Path(__file__).resolve().parent / "translations"


def _escaped_html(self: LazyString) -> Markup:
    return escape(str(self))


# Flask-Babel's lazy string tells Jinja and WTForms it is markup already (``__html__``
# returns the text as it is), so a label such as "Candidate's e-mail" reached the page
# unescaped, and a translation holding markup would be injected. A lazy string is text:
# it escapes itself like any other. (flask_babel/speaklater.py, Flask-Babel 4.0.)
LazyString.__html__ = _escaped_html

babel = Babel()

#: Where the catalogue's translations come from: a language in, English wording → its
#: translation out (``catalogue.wording.translations_in``). Set by :func:`init_app`: the
#: catalogue sits above this module, which may not import it.
_catalogue_translations: Callable[[str], Mapping[str, str]] | None = None


def init_app(
    app: Flask,
    select_language: Callable[[], str | None],
    catalogue_translations: Callable[[str], Mapping[str, str]] | None = None,
) -> None:
    global _catalogue_translations
    _catalogue_translations = catalogue_translations
    babel.init_app(
        app,
        default_locale=DEFAULT_LANGUAGE,
        default_translation_directories=str(TRANSLATIONS),
        locale_selector=select_language,
    )
    progress.translate = say  # the rules engine's sentences, in the page's language
    app.add_template_filter(catalogue_text, "translated")
    # Templates look their messages up through the memo below (Flask-Babel's own lookup
    # costs 10 µs a message, a fifth of the verification page).
    # jinja2.ext.i18n (installed by Flask-Babel) adds the method to the environment.
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda message: page_translations().ugettext(message),
        ngettext=lambda singular, plural, n: page_translations().ungettext(singular, plural, n),
        pgettext=lambda context, message: page_translations().upgettext(context, message),
        npgettext=lambda context, singular, plural, n: page_translations().unpgettext(
            context, singular, plural, n
        ),
        newstyle=True,
    )


def page_translations() -> NullTranslations:
    """The catalogue of the language being written, remembered for the rest of the request
    while that language stays the same (``force_locale`` changes it for an e-mail, and the
    memo follows). Flask-Babel keeps the request's language as ``babel_locale`` in
    ``g._flask_babel``; the memo sits beside it."""
    state = g.get("_flask_babel") if has_app_context() else None
    if state is not None:
        memo = getattr(state, "page_translations", None)
        if memo is not None and memo[0] is getattr(state, "babel_locale", None):
            return memo[1]
    translations = get_translations()
    state = g.get("_flask_babel") if has_app_context() else None
    if state is not None:
        state.page_translations = (getattr(state, "babel_locale", None), translations)
    return translations


def say(text: str) -> str:
    """``text`` in the current language: a :class:`~certification.progress.Phrase` of the
    rules engine is translated, its numbers and dates written the reader's way, and a
    :class:`~certification.progress.Name` of the catalogue too where it has a translation;
    any other text is returned as it is."""
    if isinstance(text, Name):
        return catalogue_text(text)
    if not isinstance(text, Phrase):
        return text
    values = {name: _in_words(value) for name, value in text.values.items()}
    if text.plural is None:
        return gettext(text.message, **values) if values else gettext(text.message)
    values.pop("num", None)
    return ngettext(text.message, text.plural, text.number or 0, **values)


def _in_words(value: object) -> object:
    if isinstance(value, Decimal):
        return format_number(value)
    if isinstance(value, dt.date):
        # As ``dates.format_long_date`` writes it ("14 March 2031", "14. März 2031"); that
        # module sits above this one.
        return format_date(value, format="long", locale=formatting_locale(current_language()))
    if isinstance(value, Phrase | Name):
        return say(value)
    return value


# How long a web process trusts the catalogue's translations it has read. A translation
# saved on one host reaches the pages of the others within this time (and of its own at
# once); reading them for every request cost a German verification page a third more
# than an English one.
CATALOGUE_TRANSLATIONS_TTL = 30.0


def catalogue_text(english: str, language: str | None = None) -> str:
    """Wording of the catalogue (a title, a domain, a description) in ``language`` (the
    current one by default), where the programme office has translated it; else the
    English. Read once per language and app, and again after
    :data:`CATALOGUE_TRANSLATIONS_TTL` seconds or :func:`forget_catalogue_translations`."""
    language = language or current_language()
    if language == DEFAULT_LANGUAGE or not english or _catalogue_translations is None:
        return english
    if not has_app_context():
        return english
    cache: dict[str, tuple[float, Mapping[str, str]]] = current_app.extensions.setdefault(
        "catalogue_translations", {}
    )
    now = time.monotonic()
    kept = cache.get(language)
    if kept is None or now - kept[0] > CATALOGUE_TRANSLATIONS_TTL:
        kept = cache[language] = (now, _catalogue_translations(language))
    return kept[1].get(english, english)


def forget_catalogue_translations() -> None:
    """After translations change: read them again when next asked (in this process; the
    others within :data:`CATALOGUE_TRANSLATIONS_TTL`)."""
    if has_app_context():
        current_app.extensions.pop("catalogue_translations", None)


def current_language() -> str:
    """The language of the page, e-mail or answer being written ("en" when none is)."""
    locale = get_locale()
    return locale.language if locale is not None else DEFAULT_LANGUAGE


def format_number(value: Decimal | int | float, language: str | None = None) -> str:
    """A credit total or a count as the reader writes it: 7.5 in English, 7,5 in German;
    no trailing zeros (32.50 is 32.5), and every decimal kept (a mark of 87.25 stays)."""
    return _number(value, formatting_locale(language or current_language()))


def number_to_edit(value: Decimal, language: str | None = None) -> str:
    """A number put back into a form field, the reader's way but never grouped (7,5 in
    German; 1234,5, not 1.234,5, which the field would read back as 1.2345)."""
    return _number(value, formatting_locale(language or current_language()), grouped=False)


@functools.lru_cache(maxsize=4096)
def _number(value: Decimal | int | float, locale: str, grouped: bool = True) -> str:
    # Babel takes 25 µs a number; pages write the same few credit values many times.
    exact = value.normalize() if isinstance(value, Decimal) else value
    return format_decimal(exact, locale=locale, decimal_quantization=False, group_separator=grouped)


def list_in_words(
    items: Sequence[str], language: str | None = None, style: Literal["standard", "or"] = "standard"
) -> str:
    """Names listed as the reader's sentences list them: "EFRS and EuSoMII", "EFRS und
    EuSoMII" (Babel's list patterns; ``style="or"``: "A or B"); "" for none."""
    if not items:
        return ""
    locale = formatting_locale(language or current_language())
    return format_list(list(items), style=style, locale=locale)
