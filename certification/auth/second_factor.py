"""The administrators' second factor: TOTP (RFC 6238, any authenticator app) with
single-use recovery codes.

Enrolment stores a new secret and shows it once (a QR code and the text); the secret is
in use once the administrator has typed a code it makes. Each accepted code's time step is
kept, so a code seen over a shoulder cannot be used again. Secrets are encrypted at rest
with a key derived from ``SECRET_KEY`` (so a copy of the database alone does not give
them away); changing SECRET_KEY therefore means enrolling again
(``flask --app certification reset-second-factor EMAIL``).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import secrets

import pyotp
import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from flask_babel import gettext

from certification.audit import record_event
from certification.auth.models import RecoveryCode, User
from certification.auth.services import end_sessions
from certification.errors import InvalidInput, RuleViolation
from certification.extensions import db
from certification.types import utcnow

RECOVERY_CODES = 10
# Codes of the step before and after are accepted too: a phone's clock may be 30 s off.
VALID_WINDOW = 1
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread


def _cipher() -> Fernet:
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"certification totp secrets"
    ).derive(str(current_app.config["SECRET_KEY"]).encode())
    return Fernet(base64.urlsafe_b64encode(key))


def _secret_of(user: User) -> str | None:
    if not user.totp_secret:
        return None
    try:
        return _cipher().decrypt(user.totp_secret.encode()).decode()
    except InvalidToken:  # SECRET_KEY changed since: the secret cannot be read any more
        return None


def has_second_factor(user: User) -> bool:
    return user.totp_enabled_at is not None and _secret_of(user) is not None


def begin_enrolment(user: User) -> str:
    """A new secret for ``user`` (not yet in use): returned once, to show as a QR code."""
    if has_second_factor(user):
        raise RuleViolation(gettext("A second factor is set up already."), slug="already_enrolled")
    secret = pyotp.random_base32()
    user.totp_secret = _cipher().encrypt(secret.encode()).decode()
    user.totp_enabled_at = None
    user.totp_last_step = None
    db.session.flush()
    return secret


def pending_secret(user: User) -> str | None:
    """The secret of an enrolment begun but not confirmed (to show its QR code again)."""
    return _secret_of(user) if user.totp_enabled_at is None else None


def provisioning_uri(user: User, secret: str) -> str:
    """What the QR code holds: ``otpauth://totp/...`` for an authenticator app."""
    issuer = current_app.config["TOTP_ISSUER"]
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=issuer)


def confirm_enrolment(user: User, code: str, now: dt.datetime | None = None) -> list[str]:
    """Put the pending secret in use once ``code`` is one it makes; returns the recovery
    codes, shown once."""
    secret = pending_secret(user)
    if secret is None:
        raise RuleViolation(
            gettext("Start setting up the authenticator again."), slug="no_enrolment"
        )
    now = now or utcnow()
    digits = app_code(code)
    if digits is None or not _accept_totp(user, secret, digits, now):
        raise InvalidInput(
            gettext("That code is not right. Type the six digits the app shows now."),
            {"code": gettext("Not right.")},
        )
    user.totp_enabled_at = now
    codes = _new_recovery_codes(user, now)
    record_event(user, "second_factor.enrolled", "user", user.id)
    return codes


def verify_second_factor(user: User, code: str, now: dt.datetime | None = None) -> bool:
    """Whether ``code`` is a current TOTP code of ``user`` (not used before) or one of their
    unused recovery codes (which is then used up)."""
    secret = _secret_of(user) if user.totp_enabled_at is not None else None
    if secret is None:
        return False
    now = now or utcnow()
    digits = app_code(code)
    if digits is not None:
        return _accept_totp(user, secret, digits, now)
    return _use_recovery_code(user, code, now)


def app_code(code: str) -> str | None:
    """The six digits of an authenticator app's code as typed ("123 456"), or None when
    ``code`` is not one (a recovery code, say)."""
    digits = "".join(code.split())
    return digits if digits.isdigit() and len(digits) == 6 else None


def regenerate_recovery_codes(user: User, now: dt.datetime | None = None) -> list[str]:
    """New recovery codes for ``user``; the old ones stop working."""
    if not has_second_factor(user):
        raise RuleViolation(gettext("Set up the authenticator first."), slug="no_second_factor")
    codes = _new_recovery_codes(user, now or utcnow())
    record_event(user, "second_factor.recovery_codes_renewed", "user", user.id)
    return codes


def unused_recovery_codes(user: User) -> int:
    return (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(RecoveryCode)
            .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
        )
        or 0
    )


def reset_second_factor(user: User, actor: User | None) -> None:
    """Forget ``user``'s authenticator and recovery codes, and end every session of theirs
    (the lost phone may hold one): they enrol again at their next login."""
    end_sessions(user)
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    db.session.flush()
    record_event(actor, "second_factor.reset", "user", user.id)


def _accept_totp(user: User, secret: str, digits: str, now: dt.datetime) -> bool:
    totp = pyotp.TOTP(secret)
    step = totp.timecode(now)
    for candidate in range(step - VALID_WINDOW, step + VALID_WINDOW + 1):
        if secrets.compare_digest(totp.generate_otp(candidate), digits):
            if user.totp_last_step is not None and candidate <= user.totp_last_step:
                return False  # this code, or an older one, was used already
            # One conditional UPDATE: of two logins racing with one code, only one wins.
            taken = db.session.execute(
                sa.update(User)
                .where(
                    User.id == user.id,
                    sa.or_(User.totp_last_step.is_(None), User.totp_last_step < candidate),
                )
                .values(totp_last_step=candidate)
                .execution_options(synchronize_session=False)
            ).rowcount  # type: ignore[attr-defined]
            db.session.refresh(user, ["totp_last_step"])
            return bool(taken)
    return False


def _digest(code: str) -> str:
    normalised = "".join(ch for ch in code.lower() if ch.isalnum())
    return hashlib.sha256(normalised.encode()).hexdigest()


def _new_recovery_codes(user: User, now: dt.datetime) -> list[str]:
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [
        "-".join("".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(5)) for _ in range(2))
        for _ in range(RECOVERY_CODES)
    ]
    db.session.add_all(
        RecoveryCode(user_id=user.id, code_hash=_digest(code), created_at=now) for code in codes
    )
    db.session.flush()
    return codes


def _use_recovery_code(user: User, code: str, now: dt.datetime) -> bool:
    used = db.session.execute(
        sa.update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == _digest(code),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    if used:
        record_event(user, "second_factor.recovery_code_used", "user", user.id)
    return bool(used)
