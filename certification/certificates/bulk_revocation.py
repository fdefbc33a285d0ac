"""Revoking many certificates at once: a list of codes previewed (each code's holder, status
and what this person's revocation would do), then revoked in one transaction.

Each certificate goes through :func:`certification.certificates.approvals.revoke_award`,
so the approval rules are those of a single revocation: for a jointly approved award the
first body's officer suspends and the other body's revokes; the office revokes an award it
issues alone. Each certificate gets its own audit event and e-mail, and its bit in the
credential status lists follows its state in the same transaction.

**All or nothing.** :func:`revoke_many` refuses the whole batch, changing nothing, when any
code would now do something other than what the preview showed (another officer suspended,
revoked or reissued one meanwhile, or a code is unknown). The person confirmed a list of
decisions; applying part of it, or a revocation for good where they saw a suspension, would
be a decision they did not take. Refused, they see the preview again with what changed,
and confirm the rest in one more click.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import gettext, lazy_gettext, ngettext

from certification.auth.models import User
from certification.certificates.approvals import revocation_effect, revoke_award
from certification.certificates.codes import normalise_code
from certification.certificates.models import Certificate, CertificateStatus
from certification.certificates.services import lock_candidate, revocation_reason
from certification.errors import Conflict, InvalidInput, ServiceError
from certification.extensions import db
from certification.types import utcnow

MAX_CODES = 1000
UNKNOWN_CODE = lazy_gettext("No certificate has this code.")
LISTED_TWICE = lazy_gettext("Listed twice: it is revoked once.")


class Effect(enum.StrEnum):
    SUSPEND = "suspend"
    REVOKE = "revoke"
    REFUSED = "refused"


@dataclass(frozen=True)
class RevocationRow:
    """One code of the list: as typed, normalised (None: not a code), its certificate's
    holder as printed, award and status today, and what revoking it would do (or why not)."""

    typed: str
    code: str | None
    holder_name: str | None
    programme: str | None
    award_title: str | None
    status: CertificateStatus | None
    effect: Effect
    refusal: str | None = None
    slug: str | None = None

    @property
    def revocable(self) -> bool:
        return self.effect is not Effect.REFUSED


@dataclass
class RevocationOutcome:
    """What :func:`revoke_many` did: the codes suspended and those revoked, in list order."""

    suspended: list[str] = field(default_factory=list)
    revoked: list[str] = field(default_factory=list)
    rows: list[RevocationRow] = field(default_factory=list)


class BatchChanged(Conflict):
    """Some codes would no longer do what the preview showed: nothing was revoked.
    ``rows``: the whole list as it stands now; ``changed``: the codes that differ."""

    def __init__(self, rows: list[RevocationRow], changed: list[str]) -> None:
        super().__init__(
            ngettext(
                "Nothing was revoked: %(num)d certificate changed since the preview (%(codes)s)."
                " Check the list again and confirm.",
                "Nothing was revoked: %(num)d certificates changed since the preview"
                " (%(codes)s). Check the list again and confirm.",
                len(changed),
                codes=", ".join(changed[:10]) + (" …" if len(changed) > 10 else ""),
            ),
            slug="changed_since_preview",
        )
        self.rows = rows
        self.changed = changed


def checked_codes(codes: Iterable[str]) -> list[str]:
    """The non-empty codes of a list, as typed; ``InvalidInput`` naming ``codes`` if there
    are none or more than :data:`MAX_CODES`."""
    typed = [code.strip() for code in codes if code and code.strip()]
    if not typed:
        raise InvalidInput.for_fields({"codes": gettext("Enter at least one certificate code.")})
    if len(typed) > MAX_CODES:
        raise InvalidInput.for_fields(
            {
                "codes": gettext(
                    "At most %(max)d codes at once; this list has %(num)d. Split it into parts.",
                    max=MAX_CODES,
                    num=len(typed),
                )
            }
        )
    return typed


def preview_revocations(
    codes: Iterable[str], actor: User | None, *, today: dt.date
) -> list[RevocationRow]:
    """Each code of ``codes`` (at most :data:`MAX_CODES`) with its holder, award and status
    on ``today``, and what ``actor``'s revocation would do: suspend, revoke, or refused and
    why (unknown code, already revoked, superseded, their body already asked, not theirs to
    revoke, listed twice). Reads only."""
    typed = checked_codes(codes)
    normalised = [_normalised(text) for text in typed]
    found = _certificates([code for code in normalised if code])
    rows: list[RevocationRow] = []
    seen: set[str] = set()
    for text, code in zip(typed, normalised, strict=True):
        certificate = found.get(code) if code else None
        if certificate is None:
            rows.append(_refused(text, code, None, str(UNKNOWN_CODE), "unknown", today))
        elif certificate.code in seen:
            rows.append(_refused(text, code, certificate, str(LISTED_TWICE), "duplicate", today))
        else:
            seen.add(certificate.code)
            rows.append(_row(text, certificate, actor, today))
    return rows


def revoke_many(
    codes: Iterable[str],
    reason: str,
    actor: User | None,
    *,
    today: dt.date,
    now: dt.datetime | None = None,
    expected: Mapping[str, Effect] | None = None,
) -> RevocationOutcome:
    """Revoke every certificate of ``codes`` with ``reason``, as :func:`revoke_award` would
    one by one, in the caller's transaction (flushes only).

    All or nothing (see the module): ``BatchChanged`` if any code is now refused, or would
    do other than ``expected`` says (the effects the preview showed, by normalised code).
    The reason is checked as a single revocation's; ``InvalidInput`` names ``reason`` or
    ``codes``."""
    reason = revocation_reason(reason)
    typed = checked_codes(codes)
    now = now or utcnow()
    _lock_holders(typed)
    rows = preview_revocations(typed, actor, today=today)
    changed = [
        row.code or row.typed
        for row in rows
        if not row.revocable
        or (expected is not None and row.code is not None and expected.get(row.code) != row.effect)
    ]
    if changed:
        raise BatchChanged(rows, changed)
    found = _certificates([row.code for row in rows if row.code])
    outcome = RevocationOutcome(rows=rows)
    for row in rows:
        assert row.code is not None  # noqa: S101 - every row is revocable here
        certificate = found[row.code]
        try:
            revoke_award(certificate, reason, actor, now=now)
        except ServiceError:
            # Only if another transaction slipped past the locks: refuse the batch whole.
            raise BatchChanged(preview_revocations(typed, actor, today=today), [row.code]) from None
        done = outcome.revoked if certificate.revoked_at is not None else outcome.suspended
        done.append(certificate.code)
    return outcome


def _normalised(text: str) -> str | None:
    try:
        return normalise_code(text)
    except ValueError:
        return None


def _certificates(codes: list[str]) -> dict[str, Certificate]:
    """The certificates of ``codes`` by code, read afresh, with their programmes."""
    found: dict[str, Certificate] = {}
    for start in range(0, len(codes), 500):
        chunk = codes[start : start + 500]
        for certificate in db.session.scalars(
            sa.select(Certificate)
            .where(Certificate.code.in_(chunk))
            .options(so.joinedload(Certificate.programme))
            .execution_options(populate_existing=True)
        ).unique():
            found[certificate.code] = certificate
    return found


def _lock_holders(typed: list[str]) -> None:
    """Serialise with every other change to these holders' certificates (as
    :func:`services.lock_fresh` does for one), holders in id order so that two batches
    cannot wait for each other."""
    codes = [code for code in map(_normalised, typed) if code]
    holder_ids = sorted(
        set(
            db.session.scalars(
                sa.select(Certificate.candidate_id).where(Certificate.code.in_(codes))
            )
        )
    )
    if not holder_ids:
        return
    if db.session.get_bind().dialect.name == "postgresql":
        for start in range(0, len(holder_ids), 500):
            db.session.execute(
                sa.select(User.id)
                .where(User.id.in_(holder_ids[start : start + 500]))
                .order_by(User.id)
                .with_for_update()
            )
    else:
        # SQLite: the first write takes the database's write lock for the transaction.
        lock_candidate(db.session.get_one(User, holder_ids[0]))


def _row(text: str, certificate: Certificate, actor: User | None, today: dt.date) -> RevocationRow:
    try:
        effect = Effect(revocation_effect(certificate, actor))
    except ServiceError as refusal:
        return _refused(text, certificate.code, certificate, refusal.message, refusal.slug, today)
    return RevocationRow(
        typed=text,
        code=certificate.code,
        holder_name=certificate.holder_name,
        programme=certificate.programme.code,
        award_title=certificate.award_title,
        status=certificate.status_on(today),
        effect=effect,
    )


def _refused(
    text: str,
    code: str | None,
    certificate: Certificate | None,
    message: str,
    slug: str | None,
    today: dt.date,
) -> RevocationRow:
    return RevocationRow(
        typed=text,
        code=code,
        holder_name=certificate.holder_name if certificate else None,
        programme=certificate.programme.code if certificate else None,
        award_title=certificate.award_title if certificate else None,
        status=certificate.status_on(today) if certificate else None,
        effect=Effect.REFUSED,
        refusal=message,
        slug=slug,
    )
