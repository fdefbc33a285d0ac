"""The catalogue's wording in the readers' languages: what there is to translate, the
translations kept, and what is still missing.

The office writes the catalogue in English; translations are kept per language, keyed by
the English wording (:class:`~certification.catalogue.models.CatalogueTranslation`). A
page, an e-mail or a certificate shows a translation where there is one and the English
otherwise (``i18n.catalogue_text``, which reads :func:`translations_in`). Like the other
services, these write, flush and record an audit event, and never commit.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import sqlalchemy as sa

from certification.audit import record_event
from certification.auth.models import User
from certification.catalogue.models import (
    Assessment,
    CatalogueTranslation,
    Course,
    Programme,
)
from certification.catalogue.services import list_domains
from certification.extensions import db
from certification.i18n import forget_catalogue_translations
from certification.languages import DEFAULT_LANGUAGE, offered_languages
from certification.validation import clean_text

# What a piece of wording is, as the translations page names it.
PROGRAMME_TITLE = "programme_title"
PROGRAMME_DESCRIPTION = "programme_description"
COURSE_TITLE = "course_title"
ASSESSMENT_TITLE = "assessment_title"
DOMAIN = "domain"


@dataclass(frozen=True)
class Wording:
    """One piece of English wording people read, and where it first appears: its kind and
    the code of what it belongs to (none for a domain)."""

    source: str
    kind: str
    code: str | None


def catalogue_wording() -> list[Wording]:
    """Everything in the catalogue that candidates, officers and certificates read: each
    programme's title and description, each course's and assessment's title, each domain,
    in that order. The same words listed under two items are translated once."""
    found: dict[str, Wording] = {}

    def add(source: str, kind: str, code: str | None = None) -> None:
        if source.strip() and source not in found:
            found[source] = Wording(source, kind, code)

    programmes = db.session.execute(
        sa.select(Programme.code, Programme.title, Programme.description).order_by(
            Programme.level, Programme.code
        )
    )
    descriptions = []
    for code, title, description in programmes:
        add(title, PROGRAMME_TITLE, code)
        descriptions.append((description, code))
    for description, code in descriptions:
        add(description, PROGRAMME_DESCRIPTION, code)
    for code, title in db.session.execute(
        sa.select(Course.code, Course.title).order_by(Course.code)
    ):
        add(title, COURSE_TITLE, code)
    assessments = sa.select(Assessment.code, Assessment.title).order_by(Assessment.code)
    for code, title in db.session.execute(assessments):
        add(title, ASSESSMENT_TITLE, code)
    for domain in list_domains():
        add(domain, DOMAIN)
    return list(found.values())


def translatable_languages() -> tuple[str, ...]:
    """The offered languages the catalogue is translated into (all but English)."""
    return tuple(lang for lang in offered_languages() if lang != DEFAULT_LANGUAGE)


def translations_in(language: str) -> dict[str, str]:
    """Every translation kept for ``language``: English wording → its translation."""
    if language == DEFAULT_LANGUAGE:
        return {}
    rows = db.session.execute(
        sa.select(CatalogueTranslation.source, CatalogueTranslation.text).where(
            CatalogueTranslation.language == language
        )
    )
    return {source: text for source, text in rows}


def missing_languages(sources: Iterable[str]) -> list[str]:
    """The languages in which at least one of ``sources`` has no translation."""
    wanted = {source_digest(s) for s in sources if s.strip()}
    if not wanted:
        return []
    counts = dict(
        db.session.execute(
            sa.select(CatalogueTranslation.language, sa.func.count())
            .where(CatalogueTranslation.source_sha256.in_(wanted))
            .group_by(CatalogueTranslation.language)
        ).all()
    )
    return [lang for lang in translatable_languages() if counts.get(lang, 0) < len(wanted)]


def missing_counts(wording: list[Wording]) -> dict[str, int]:
    """For each language, how many pieces of ``wording`` have no translation in it."""
    kept = translations_by_language({w.source for w in wording})
    return {
        lang: sum(1 for w in wording if w.source not in kept.get(lang, {}))
        for lang in translatable_languages()
    }


def translations_by_language(sources: set[str]) -> dict[str, dict[str, str]]:
    digests = {source_digest(s) for s in sources}
    rows = db.session.execute(
        sa.select(
            CatalogueTranslation.language, CatalogueTranslation.source, CatalogueTranslation.text
        ).where(CatalogueTranslation.source_sha256.in_(digests))
    )
    by_language: dict[str, dict[str, str]] = {}
    for language, source, text in rows:
        by_language.setdefault(language, {})[source] = text
    return by_language


def save_translations(language: str, texts: Mapping[str, str], actor: User | None) -> int:
    """Keep ``texts`` (English wording → its translation in ``language``): a new or
    changed translation is written, an empty one removed (the English shows again).
    Returns how many changed; one audit event says which."""
    kept = {
        row.source: row
        for row in db.session.scalars(
            sa.select(CatalogueTranslation).where(
                CatalogueTranslation.language == language,
                CatalogueTranslation.source_sha256.in_({source_digest(s) for s in texts}),
            )
        )
    }
    changed: dict[str, str | None] = {}
    for source, typed in texts.items():
        # As the English is kept: NFC, one paragraph (a description's line breaks are spaces).
        text = " ".join(clean_text(typed).split())
        row = kept.get(source)
        if not text:
            if row is not None:
                db.session.delete(row)
                changed[source] = None
        elif row is None:
            db.session.add(
                CatalogueTranslation(
                    language=language, source=source, source_sha256=source_digest(source), text=text
                )
            )
            changed[source] = text
        elif row.text != text:
            row.text = text
            changed[source] = text
    if changed:
        db.session.flush()
        forget_catalogue_translations()
        record_event(
            actor,
            "catalogue.translated",
            "language",
            language,
            after={"translations": changed},
        )
    return len(changed)


def source_digest(source: str) -> str:
    """What a translation is found by: the SHA-256 of the English it translates."""
    return hashlib.sha256(source.encode()).hexdigest()
