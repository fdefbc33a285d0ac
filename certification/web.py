"""What every face shares: JSON encoding, template filters, error pages and "today"."""

from __future__ import annotations

import datetime as dt
import html
import json
import logging
import re
import time
import uuid
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

import werkzeug.exceptions
from flask import (
    Flask,
    Response,
    current_app,
    g,
    has_request_context,
    render_template,
    request,
)
from flask.json.provider import DefaultJSONProvider
from markupsafe import Markup, escape
from werkzeug.exceptions import HTTPException

from certification import i18n
from certification.dates import format_long_date, format_long_datetime
from certification.errors import NotFound
from certification.extensions import limiter
from certification.languages import (
    DEFAULT_LANGUAGE,
    LANGUAGE_NAMES,
    offered,
    offered_languages,
)

log = logging.getLogger(__name__)


def seconds_until_allowed() -> int:
    """How long the client refused by a rate limit in this request must wait: what its
    ``Retry-After`` says (Flask-Limiter's own headers are off, see RATELIMIT_HEADERS_ENABLED)."""
    current = limiter.current_limit
    return max(1, int(current.reset_at - time.time())) if current is not None else 60


def today() -> dt.date:
    """Today's date in the programme's own calendar (``APP_TIMEZONE``)."""
    return dt.datetime.now(ZoneInfo(current_app.config["APP_TIMEZONE"])).date()


def sealed_pdf_download(code: str, pdf: bytes) -> Response:
    """A certificate's PDF exactly as issued, as an attachment named after its code. Never
    kept by a cache: it carries the holder's name, and a revocation must not be outlived."""
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{code}.pdf"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


def evidence_download(file_name: str, media_type: str, data: bytes) -> Response:
    """A file a candidate sent with a claim, to them or a reviewer: always an attachment of
    the type its content was found to be (PDF, PNG or JPEG), never shown inline nor sniffed,
    never kept by a cache (it is personal data)."""
    response = Response(data, mimetype=media_type)
    response.headers["Content-Disposition"] = _attachment(file_name)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    # Opened by mistake as a page, it may run nothing and load nothing.
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def _attachment(file_name: str) -> str:
    """``Content-Disposition: attachment`` naming ``file_name``: a plain ASCII fallback and
    the name itself in RFC 6266's ``filename*``, so that "Zaświadczenie.pdf" survives."""
    fallback = "".join(
        ch if ch.isascii() and ch.isprintable() and ch not in '"\\' else "_" for ch in file_name
    )
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(file_name, safe='')}"


def credential_response(
    document: dict[str, Any], file_name: str | None = None, *, cache: str = "no-store"
) -> Response:
    """A signed credential as JSON-LD (as an attachment when ``file_name`` is given)."""
    headers = {"Cache-Control": cache, "X-Content-Type-Options": "nosniff"}
    if file_name is not None:
        headers["Content-Disposition"] = f'attachment; filename="{file_name}"'
    return Response(
        json.dumps(document, ensure_ascii=False, indent=2),
        mimetype="application/ld+json",
        headers=headers,
    )


_HEADING = re.compile(r"<th\b([^>]*)>(.*?)</th>", re.S)
_ROW_OR_CELL = re.compile(r"<tr\b|<(td|th)\b([^>]*)>")
_HIDDEN = re.compile(r'<span class="visually-hidden">.*?</span>', re.S)
_TAG = re.compile(r"<[^>]+>")
_COLSPAN = re.compile(r'colspan="(\d+)"')


def _columns(attributes: str) -> int:
    span = _COLSPAN.search(attributes)
    return int(span.group(1)) if span else 1


def label_cells(markup: str) -> Markup:
    """The tables in ``markup`` with each body cell labelled (``data-label``) by its column's
    heading.

    A phone hides the headings and stacks each row; the stylesheet then shows the label in
    front of the cell, so a bare "5" reads "ECTS 5". Headings that only screen readers see
    (an actions column) and empty cells give an empty label. Cells that already carry a
    ``data-label`` keep theirs. A table without a ``<thead>`` is left as it is.
    """
    # Only markup Jinja has already escaped is rewritten; a plain string is escaped first.
    safe = markup if isinstance(markup, Markup) else escape(markup)
    tables = str(safe).split("</table>")
    labelled = "</table>".join(_label_table(table) for table in tables)
    # Escaped markup with attributes added, each label escaped again: nothing unescaped.
    return Markup(labelled)  # noqa: S704  # nosec B704


def _label_table(table: str) -> str:
    head, separator, body = table.partition("</thead>")
    if not separator:
        return table
    labels: list[str] = []
    for attributes, text in _HEADING.findall(head.rsplit("<tr", 1)[-1]):
        words = html.unescape(_TAG.sub("", _HIDDEN.sub("", text))).split()
        labels.extend([" ".join(words)] * _columns(attributes))
    column = 0

    def labelled(match: re.Match[str]) -> str:
        nonlocal column
        if match.group(1) is None:  # a new row
            column = 0
            return match.group(0)
        attributes = match.group(2)
        empty = match.string.startswith("</td>", match.end())
        label = labels[column] if column < len(labels) and not empty else ""
        column += _columns(attributes)
        if match.group(1) != "td" or "data-label=" in attributes:
            return match.group(0)
        return f'<td data-label="{escape(label)}"{attributes}>'

    return head + separator + _ROW_OR_CELL.sub(labelled, body)


class JSONProvider(DefaultJSONProvider):
    """Writes credits and marks as JSON numbers, not strings."""

    @staticmethod
    def default(o: Any) -> Any:
        if isinstance(o, Decimal):
            # Values here have at most two decimal places, so the float's shortest repr is
            # the same digits as the Decimal.
            return int(o) if o == o.to_integral_value() else float(o)
        return DefaultJSONProvider.default(o)


def _who_is_logged_in() -> dict[str, Any]:
    """``current_user`` for templates as Flask-Login's proxy, so that a page loads the user
    only if it asks about them, and ``logged_in()``, which asks a session that names nobody
    (every verifier's) without loading anyone: about 4 % of a verification page's work,
    hashing the client's address for session protection (callgrind)."""
    from flask_login import current_user

    from certification.auth.sessions import logged_in

    return {"current_user": current_user, "logged_in": logged_in}


LANGUAGE_COOKIE = "language"
LANGUAGE_COOKIE_DAYS = 365


def select_language() -> str | None:
    """The language of this request's page: the logged-in user's saved choice, then one
    made on the language menu (``?lang=de``, kept in a cookie), then the browser's
    (``Accept-Language``), then English. The API answers in ``Accept-Language``'s only: a
    client's messages should not change with a cookie."""
    if not has_request_context():
        return None  # a command or a queue worker: English, unless a caller forces one
    browser = request.accept_languages.best_match(offered_languages())
    if _wants_json():
        return browser or DEFAULT_LANGUAGE
    from flask_login import current_user

    from certification.auth.sessions import logged_in

    # Asking logged_in() first keeps a verifier's page from loading anybody.
    saved = (
        offered(current_user.language) if logged_in() and current_user.is_authenticated else None
    )
    if saved:
        return saved
    chosen = offered(request.args.get("lang")) or offered(request.cookies.get(LANGUAGE_COOKIE))
    return chosen or browser or DEFAULT_LANGUAGE


def _keep_language_choice(response: Response) -> Response:
    """A language picked from the menu (``?lang=``) is remembered for the next pages, and
    every page says which language it is in (and that it depends on the visitor's)."""
    if not _wants_json():
        chosen = offered(request.args.get("lang"))
        if chosen and chosen != request.cookies.get(LANGUAGE_COOKIE):
            response.set_cookie(
                LANGUAGE_COOKIE,
                chosen,
                max_age=LANGUAGE_COOKIE_DAYS * 24 * 3600,
                secure=current_app.config["SESSION_COOKIE_SECURE"],
                httponly=True,
                samesite="Lax",
            )
    response.headers.setdefault("Content-Language", i18n.current_language())
    response.vary.update(("Accept-Language", "Cookie"))
    return response


def _language_menu() -> dict[str, Any]:
    """The page's language for ``<html lang>``, and the menu's entries, each named in its
    own language. The menu is left out while English is the only language offered."""
    language = i18n.current_language()
    return {
        "page_language": language,
        "language_choices": [(code, LANGUAGE_NAMES[code]) for code in offered_languages()]
        if len(offered_languages()) > 1
        else [],
        "language_name": LANGUAGE_NAMES.get(language, language),
    }


def url_in_language(language: str) -> str:
    """This page's address with ``lang`` set: the language menu's link for a visitor. The
    address without ``lang`` is worked out once per page, not once per language."""
    base = g.get("_address_for_language")
    if base is None:
        kept = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"]
        base = f"{request.base_url}?{urlencode(kept) + '&' if kept else ''}lang="
        g._address_for_language = base
    return base + quote(language)


def _capitalize_first(text: str) -> str:
    said = i18n.say(text)  # a phrase of the rules engine: in the page's language first
    return said[:1].upper() + said[1:]


def init_app(
    app: Flask, catalogue_translations: Callable[[str], Mapping[str, str]] | None = None
) -> None:
    """Plumbing every face shares; ``catalogue_translations`` gives the catalogue's
    wording in a language (``catalogue.wording.translations_in``: passed in, as the
    catalogue sits above this module)."""
    i18n.init_app(app, select_language, catalogue_translations=catalogue_translations)
    app.after_request(_keep_language_choice)
    app.context_processor(_language_menu)
    app.jinja_env.globals["url_in_language"] = url_in_language
    app.json_provider_class = JSONProvider
    app.json = JSONProvider(app)
    app.json.ensure_ascii = False  # names in every script, readable in the answer
    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.filters["number"] = i18n.format_number
    app.jinja_env.filters["list_in_words"] = i18n.list_in_words
    app.jinja_env.filters["capitalize_first"] = _capitalize_first
    app.jinja_env.filters["percent"] = lambda fraction: f"{round(fraction * 100)}"
    app.jinja_env.filters["label_cells"] = label_cells
    app.jinja_env.filters["language_name"] = lambda code: LANGUAGE_NAMES.get(code, code)
    # Dates kept as ISO text in JSON columns (a certificate's approvals) back to dates.
    app.jinja_env.filters["iso_date"] = dt.date.fromisoformat
    app.jinja_env.filters["iso_decimal"] = Decimal  # and credits kept there as text
    # Every page's dates in one style: long_date(day) "6 December 2026", long_datetime(moment)
    # "6 December 2026 at 14:05 UTC". Globals, so that macros imported without context have them.
    app.jinja_env.globals["long_date"] = format_long_date
    app.jinja_env.globals["long_datetime"] = format_long_datetime
    app.context_processor(_who_is_logged_in)
    # Set once, not per render: the verification page is the busiest one.
    app.jinja_env.globals["office_email"] = app.config["PROGRAMME_OFFICE_EMAIL"]
    app.register_error_handler(NotFound, _not_found)
    app.register_error_handler(HTTPException, _http_error_page)
    app.register_error_handler(Exception, _unexpected_error_page)


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def _http_error_page(error: HTTPException) -> Any:
    if _wants_json():
        return _json_error(error)
    headers = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
    return render_template("error.html", error=error), error.code or 500, headers


def _json_error(error: HTTPException) -> Any:
    slug = (error.name or "error").lower().replace(" ", "_")
    body = {"error": slug, "message": error.description}
    # Keep what the error says in its headers (Allow on a 405, WWW-Authenticate on a 401).
    headers = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
    return body, error.code or 500, headers


def _not_found(refusal: NotFound) -> Any:
    """A service could not find what the URL names: the ordinary 404, page or JSON."""
    if _wants_json():
        return {"error": refusal.slug, "message": refusal.message}, 404
    return _http_error_page(werkzeug.exceptions.NotFound())


def _unexpected_error_page(error: Exception) -> Any:
    if isinstance(error, HTTPException):
        return _http_error_page(error)
    incident = uuid.uuid4().hex[:12]
    log.exception("Unexpected error, incident %s", incident)
    if _wants_json():
        return {
            "error": "internal_error",
            "message": "Something went wrong on our side.",
            "incident": incident,
        }, 500
    return render_template("error.html", error=None, incident=incident), 500
