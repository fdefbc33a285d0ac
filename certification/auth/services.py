"""Accounts: creating them, logging in, one-time set-password links and API tokens.

Services flush and never commit; the request or CLI command commits once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import NamedTuple

import sqlalchemy as sa
from blinker import Namespace
from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext

from certification.audit import record_event
from certification.auth.models import STAFF_ROLES, ApiToken, PasswordSetupLink, Role, User
from certification.auth.passwords import (
    dummy_check,
    hash_password,
    password_matches,
    password_problem,
)
from certification.errors import Duplicate, InvalidInput, NotFound
from certification.extensions import db
from certification.languages import offered, offered_languages
from certification.types import MAX_ID, utcnow
from certification.unique import add_unique
from certification.validation import (
    FieldErrors,
    check_text,
    clean_text,
    country_code,
    name_search_key,
)

_signals = Namespace()
#: Sent with the candidate when their name changes, in the same transaction: the records
#: area keeps a copy of the name its lists are sorted by, and may not be called from here.
candidate_renamed = _signals.signal("candidate-renamed")

LAST_USED_PRECISION = dt.timedelta(minutes=1)
API_TOKEN_PREFIX = "eii_"  # noqa: S105 - a label marking our tokens  # nosec B105


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def normalise_email(email: str) -> str:
    return clean_text(email).lower()


def _check_email(errors: FieldErrors, email: str) -> str:
    email = normalise_email(email)
    if not email:
        errors.add("email", gettext("This field is required."))
        return email
    try:
        return validate_email(email, check_deliverability=False).normalized.lower()
    except EmailNotValidError as error:
        errors.add("email", str(error))
        return email


def _check_country(errors: FieldErrors, country: str | None) -> str | None:
    """The ISO code of a code or an English country name (``Germany``, ``Czechia``), as stored."""
    typed = clean_text(country)
    if not typed:
        return None
    code = country_code(typed)
    if code is None:
        shown = typed if len(typed) <= 40 else typed[:39] + "…"
        errors.add(
            "country",
            gettext(
                "“%(typed)s” is not a country we know. Write its English name or its two-letter"
                " ISO code, e.g. Germany or DE.",
                typed=shown,
            ),
        )
        return typed.upper()
    return code


class PersonFields(NamedTuple):
    email: str
    full_name: str
    country: str | None


def check_person(
    errors: FieldErrors, email: str, full_name: str, country: str | None
) -> PersonFields:
    """The e-mail, name and country rules of every account, and the values as stored.

    Registering, editing and importing candidates all call this, so they refuse alike.
    """
    return PersonFields(
        _check_email(errors, email),
        check_text(errors, "full_name", clean_text(full_name), 200),
        _check_country(errors, country),
    )


def user_snapshot(user: User) -> dict[str, object]:
    return {
        "email": user.email,
        "full_name": user.full_name,
        "country": user.country,
        "role": user.role.value,
        "active": user.active,
        **({"partner_body": user.partner_body} if user.partner_body else {}),
    }


def get_user_by_email(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == normalise_email(email)))


def get_candidate(candidate_id: int) -> User:
    user = db.session.get(User, candidate_id) if 0 < candidate_id <= MAX_ID else None
    if user is None or user.role is not Role.CANDIDATE:
        raise NotFound(gettext("There is no candidate %(id)s.", id=candidate_id))
    return user


def _create_user(
    *,
    email: str,
    full_name: str,
    country: str | None,
    role: Role,
    actor: User | None,
    password: str | None = None,
    partner_body: str | None = None,
    provider_id: int | None = None,
    language: str | None = None,
) -> User:
    errors = FieldErrors()
    email, full_name, country = check_person(errors, email, full_name, country)
    language = check_language(errors, language)
    if password is not None and (problem := password_problem(password)):
        errors.add("password", problem)
    errors.raise_if_any()
    taken = Duplicate(
        gettext("An account for %(email)s already exists.", email=email),
        {"email": gettext("Already registered.")},
    )
    if get_user_by_email(email) is not None:
        raise taken
    user = User(
        email=email,
        full_name=full_name,
        name_key=name_search_key(full_name),
        country=country,
        role=role,
        partner_body=partner_body,
        provider_id=provider_id,
        language=language,
    )
    if password is not None:
        user.password_hash = hash_password(password)
    add_unique(user, taken)
    record_event(actor, f"{role.value}.created", "user", user.id, after=user_snapshot(user))
    return user


def create_candidate(
    email: str,
    full_name: str,
    country: str | None,
    actor: User | None,
    *,
    language: str | None = None,
) -> User:
    """Register a candidate. They choose a password through a one-time link. ``language``
    (one of the offered ones, or None) is the language of their e-mails and certificates."""
    return _create_user(
        email=email,
        full_name=full_name,
        country=country,
        role=Role.CANDIDATE,
        actor=actor,
        language=language,
    )


def create_admin(email: str, full_name: str, password: str, actor: User | None) -> User:
    """A programme-office user (``create-admin``, kept from before there were officers)."""
    return create_staff(email, full_name, password, Role.OFFICE, None, actor)


def create_staff(
    email: str,
    full_name: str,
    password: str,
    role: Role,
    partner_body: str | None,
    actor: User | None,
    *,
    provider_id: int | None = None,
) -> User:
    """A programme-office user, an officer of one partner body (``partner_body``, its
    short name, which the caller has checked against the bodies), or a member of staff of
    one course provider (``provider_id``, checked by the caller). All log in with the
    second factor, set up at their first login."""
    if role not in STAFF_ROLES:
        raise InvalidInput(
            gettext(
                "Only programme-office users, body officers and provider staff are created"
                " this way."
            ),
            {"role": gettext("Choose office, officer or provider.")},
        )
    if (role is Role.PROVIDER) != (provider_id is not None):
        raise InvalidInput(
            gettext("Provider staff belong to one course provider, and only they do."),
            {"provider": gettext("Name the provider for provider staff, and only for them.")},
        )
    if role is Role.OFFICER and not partner_body:
        raise InvalidInput(
            gettext("An officer belongs to one partner body: name it."),
            {"body": gettext("Name the officer's partner body.")},
        )
    if role is not Role.OFFICER and partner_body:
        raise InvalidInput(
            gettext("Only officers belong to a partner body; the programme office serves both."),
            {"body": gettext("Leave it out for the programme office.")},
        )
    return _create_user(
        email=email,
        full_name=full_name,
        country=None,
        role=role,
        actor=actor,
        password=password,
        partner_body=partner_body,
        provider_id=provider_id,
    )


def update_candidate(
    candidate: User, *, email: str, full_name: str, country: str | None, actor: User | None
) -> User:
    errors = FieldErrors()
    email, full_name, country = check_person(errors, email, full_name, country)
    errors.raise_if_any()
    existing = get_user_by_email(email)
    if existing is not None and existing.id != candidate.id:
        raise Duplicate(
            gettext("An account for %(email)s already exists.", email=email),
            {"email": gettext("Already registered.")},
        )
    before = user_snapshot(candidate)
    renamed = full_name != candidate.full_name
    candidate.email, candidate.full_name, candidate.country = email, full_name, country
    candidate.name_key = name_search_key(full_name)
    db.session.flush()
    if renamed:
        candidate_renamed.send(candidate)
    record_event(
        actor,
        "candidate.updated",
        "user",
        candidate.id,
        before=before,
        after=user_snapshot(candidate),
    )
    return candidate


def check_language(errors: FieldErrors, language: str | None) -> str | None:
    """An offered language's code ("de-AT" is "de"), or None for none; a language the site
    is not offered in is refused."""
    chosen = offered(language)
    if language and chosen is None:
        names = ", ".join(offered_languages())
        errors.add(
            "language", gettext("Choose one of the languages offered: %(names)s.", names=names)
        )
    return chosen


def set_language(user: User, language: str | None, actor: User | None = None) -> User:
    """``user`` reads ``language`` from now on (pages, e-mails, certificates); None or ""
    lets their pages follow the browser again and writes to them in English."""
    errors = FieldErrors()
    chosen = check_language(errors, language)
    errors.raise_if_any()
    if chosen != user.language:
        before = user.language
        user.language = chosen
        db.session.flush()
        record_event(
            None,
            "user.language_changed",
            "user",
            user.id,
            before={"language": before},
            after={"language": chosen},
        )
    return user


def authenticate(email: str, password: str) -> User | None:
    """The active user with this e-mail and password, or None (never saying which was wrong)."""
    user = get_user_by_email(email)
    if user is None:
        dummy_check(password)
        return None
    if not password_matches(user.password_hash, password) or not user.active:
        return None
    return user


def user_for_session(session_id: str) -> User | None:
    """The active user a session cookie's ``id:epoch`` names, unless that session has been
    ended since (by :func:`end_sessions`)."""
    user_id, _, epoch = session_id.partition(":")
    if not (user_id.isdigit() and epoch.isdigit()) or int(user_id) > MAX_ID:
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.active or user.session_epoch != int(epoch):
        return None
    return user


def end_sessions(user: User) -> None:
    """End every session of ``user``, on every device: each must log in again. The caller
    logs the current one in again where it should go on (after a new password, say)."""
    db.session.execute(
        sa.update(User)
        .where(User.id == user.id)
        .values(session_epoch=User.session_epoch + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(user, ["session_epoch"])


def change_password(user: User, current: str, new: str) -> User:
    """Change a logged-in user's password, given the current one; ends every session."""
    if not password_matches(user.password_hash, current):
        raise InvalidInput(
            gettext("The current password is not right."), {"current": gettext("Not right.")}
        )
    if problem := password_problem(new):
        raise InvalidInput(problem, {"password": problem})
    user.password_hash = hash_password(new)
    end_sessions(user)
    record_event(user, "password.changed", "user", user.id)
    return user


def create_password_setup_link(
    user: User, actor: User | None, *, valid_for: dt.timedelta, now: dt.datetime | None = None
) -> str:
    """Make a one-time set-password token for ``user``; earlier unused ones stop working.

    The token is returned once, to be shown to the administrator; only its hash is stored.
    """
    now = now or utcnow()
    for link in db.session.scalars(
        sa.select(PasswordSetupLink).where(
            PasswordSetupLink.user_id == user.id, PasswordSetupLink.used_at.is_(None)
        )
    ):
        link.used_at = now
    token = secrets.token_urlsafe(32)
    db.session.add(
        PasswordSetupLink(
            user=user, token_hash=_digest(token), created_at=now, expires_at=now + valid_for
        )
    )
    db.session.flush()
    record_event(actor, "password_link.created", "user", user.id)
    return token


def find_password_setup_link(token: str, now: dt.datetime | None = None) -> PasswordSetupLink:
    """The unused, unexpired link for ``token``; NotFound otherwise."""
    now = now or utcnow()
    link = db.session.scalar(
        sa.select(PasswordSetupLink).where(PasswordSetupLink.token_hash == _digest(token))
    )
    if link is None or link.used_at is not None or link.expires_at <= now:
        raise NotFound(
            gettext(
                "This link has expired or has already been used. Ask the programme office"
                " for a new one."
            )
        )
    return link


def set_password_with_link(token: str, password: str, now: dt.datetime | None = None) -> User:
    now = now or utcnow()
    link = find_password_setup_link(token, now)
    if problem := password_problem(password):
        raise InvalidInput(problem, {"password": problem})
    # Mark the link used with a conditional UPDATE, so two submissions cannot both use it.
    claimed = db.session.execute(
        sa.update(PasswordSetupLink)
        .where(PasswordSetupLink.id == link.id, PasswordSetupLink.used_at.is_(None))
        .values(used_at=now)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise NotFound(gettext("This link has already been used."))
    user = link.user
    user.password_hash = hash_password(password)
    db.session.flush()
    end_sessions(user)  # a reset link used by the owner shuts out whoever knew the old one
    record_event(user, "password.set", "user", user.id)
    return user


MAX_TOKEN_DAYS = 3660  # ten years: a longer "expiry" is a typing mistake


def create_api_token(
    user: User,
    label: str = "",
    *,
    valid_days: int | None = None,
    actor: User | None = None,
    now: dt.datetime | None = None,
) -> str:
    """Issue a bearer token for an office user or an officer, valid ``valid_days`` (None:
    until revoked). It may call what its user's role may (``auth.permissions``).

    The token is returned once; only its hash is kept."""
    if not user.is_staff:
        raise InvalidInput(
            gettext(
                "Only the programme office, the bodies' officers and provider staff hold API"
                " tokens."
            ),
            {"email": gettext("Not the office, an officer or provider staff.")},
        )
    errors = FieldErrors()
    if label := clean_text(label):
        check_text(errors, "label", label, 100)
    if valid_days is not None and not 1 <= valid_days <= MAX_TOKEN_DAYS:
        errors.add(
            "valid_days",
            gettext("Give a number of days from 1 to %(max)d, or none.", max=MAX_TOKEN_DAYS),
        )
    errors.raise_if_any()
    now = now or utcnow()
    token = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    record = ApiToken(
        user=user,
        token_hash=_digest(token),
        label=label,
        created_at=now,
        expires_at=now + dt.timedelta(days=valid_days) if valid_days is not None else None,
    )
    db.session.add(record)
    db.session.flush()
    record_event(
        actor or user,
        "api_token.created",
        "api_token",
        record.id,
        after={
            "holder": user.email,
            "label": label,
            "expires_at": record.expires_at.isoformat() if record.expires_at else None,
        },
    )
    return token


def api_tokens() -> list[ApiToken]:
    """Every API token, newest first, with its holder (revoked and expired ones too)."""
    return list(
        db.session.scalars(
            sa.select(ApiToken)
            .options(sa.orm.joinedload(ApiToken.user))
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        )
    )


def revoke_api_token(token_id: int, actor: User, now: dt.datetime | None = None) -> ApiToken:
    """Stop a token working from now on; the record stays, saying who revoked it and when."""
    record = db.session.get(ApiToken, token_id) if 0 < token_id <= MAX_ID else None
    if record is None:
        raise NotFound(gettext("There is no such API token."))
    if record.revoked_at is None:
        record.revoked_at = now or utcnow()
        record.revoked_by_id = actor.id
        db.session.flush()
        record_event(
            actor, "api_token.revoked", "api_token", record.id, after={"label": record.label}
        )
    return record


def user_for_api_token(token: str, now: dt.datetime | None = None) -> User | None:
    """The active office user or officer holding ``token``, recording when it was last
    used. What the token may call is its user's role's (``auth.permissions``)."""
    api_token = db.session.scalar(sa.select(ApiToken).where(ApiToken.token_hash == _digest(token)))
    now = now or utcnow()
    if api_token is None or not api_token.usable_at(now):
        return None
    user = api_token.user
    if not (user.active and user.is_staff):
        return None
    # At most one write a minute: otherwise every API call would write, and on PostgreSQL
    # concurrent calls with one token would queue on this row until each commits.
    if api_token.last_used_at is None or now - api_token.last_used_at > LAST_USED_PRECISION:
        api_token.last_used_at = now
    return user
