"""What a verifier's look-up reads: one certificate's public fields, in one statement.

Every QR scan and every employer's check lands here, so the row is read without a Session
(:class:`certification.database.PreparedRead`) into a plain record that answers the same
questions as the mapped :class:`Certificate` (status on a day, revocation day, replacement).
It holds the printed snapshot and what became of it, and the holder's account id only so
that the page can tell a holder's own look from a verifier's.
"""

from __future__ import annotations

import datetime as dt
import decimal
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import lazy_gettext

from certification.certificates.codes import MalformedCode, normalise_code
from certification.certificates.models import Certificate, StatusFromFields
from certification.database import PreparedRead
from certification.errors import NotFound
from certification.extensions import db

# Lazy: ``str()`` it when raising, in the language of the page or answer.
NO_SUCH_CERTIFICATE = lazy_gettext("No certificate has this code.")


@dataclass(frozen=True)
class PublicCertificate(StatusFromFields):
    id: int
    code: str
    candidate_id: int
    holder_name: str
    language: str
    award_title: str
    level: str
    eqf_level: int | None
    credits_total: decimal.Decimal
    credits_by_domain: dict[str, str]
    issuers: list[dict[str, Any]]
    issued_at: dt.datetime
    issued_on: dt.date
    expires_on: dt.date | None
    pdf_sha256: str
    approvals: list[dict[str, str]]
    suspended_at: dt.datetime | None
    suspended_by_body: str | None
    suspension_reason: str | None
    revoked_at: dt.datetime | None
    revocation_reason: str | None
    superseded_by_id: int | None
    superseded_at: dt.datetime | None
    replacement_code: str | None
    renews_id: int | None  # the certificate of the period before, which this one renews
    renews_code: str | None
    replacement_renews_id: int | None

    @property
    def renewed(self) -> bool:
        """Superseded by its renewal (a new period), not by a reissue."""
        return self.replacement_renews_id is not None and self.replacement_renews_id == self.id


_replacement = so.aliased(Certificate)
_renewed = so.aliased(Certificate)  # the certificate of the period before
_READ = PreparedRead(
    sa.select(
        Certificate.id,
        Certificate.code,
        Certificate.candidate_id,
        Certificate.holder_name,
        Certificate.language,
        Certificate.award_title,
        Certificate.level,
        Certificate.eqf_level,
        Certificate.credits_total,
        Certificate.credits_by_domain,
        Certificate.issuers,
        Certificate.issued_at,
        Certificate.issued_on,
        Certificate.expires_on,
        Certificate.pdf_sha256,
        Certificate.approvals,
        Certificate.suspended_at,
        Certificate.suspended_by_body,
        Certificate.suspension_reason,
        Certificate.revoked_at,
        Certificate.revocation_reason,
        Certificate.superseded_by_id,
        Certificate.superseded_at,
        _replacement.code.label("replacement_code"),
        Certificate.renews_id,
        _renewed.code.label("renews_code"),
        _replacement.renews_id.label("replacement_renews_id"),
    )
    .outerjoin(_replacement, _replacement.id == Certificate.superseded_by_id)
    .outerjoin(_renewed, _renewed.id == Certificate.renews_id)
    .where(Certificate.code == sa.bindparam("code"))
)


def code_to_look_up(text: str) -> str:
    """A typed code in its stored form. A malformed code never reaches the database: it is
    not found, like an unknown one."""
    try:
        return normalise_code(text)
    except MalformedCode as problem:
        raise NotFound(str(problem)) from None


def public_certificate(text: str) -> PublicCertificate:
    """The certificate a typed code names, as a verifier may see it."""
    row = _READ.first(code=code_to_look_up(text))
    if row is None:
        raise NotFound(str(NO_SUCH_CERTIFICATE))
    return PublicCertificate(**row)


@dataclass(frozen=True)
class Period:
    """An earlier period of an award that was renewed: its certificate's code and dates."""

    code: str
    issued_on: dt.date
    expires_on: dt.date | None


def earlier_periods(certificate: PublicCertificate, limit: int = 20) -> list[Period]:
    """The periods ``certificate`` continues, the latest first: the certificate it renews,
    the one that one renews, and so on (a career is a handful; ``limit`` bounds a loop)."""
    periods: list[Period] = []
    renews_id = certificate.renews_id
    while renews_id is not None and len(periods) < limit:
        row = db.session.execute(
            sa.select(
                Certificate.code,
                Certificate.issued_on,
                Certificate.expires_on,
                Certificate.renews_id,
            ).where(Certificate.id == renews_id)
        ).first()
        if row is None:
            break
        periods.append(Period(row.code, row.issued_on, row.expires_on))
        renews_id = row.renews_id
    return periods
