"""Password hashing (argon2id) and the rules a new password must meet."""

from __future__ import annotations

import contextlib
import functools
import gzip
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_babel import gettext, ngettext

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 128
# The 20,000 passwords people choose most often (the list Django ships; its licence is in
# COMMON-PASSWORDS-LICENSE.txt beside it). An attacker tries these first, whatever the rules.
COMMON_PASSWORDS_FILE = Path(__file__).with_name("common-passwords.txt.gz")

_hasher = PasswordHasher()  # argon2id with the library's RFC 9106 low-memory profile


def use_cheap_hashing() -> None:
    """Make hashing fast for the test suite; never called by the application."""
    global _hasher
    _hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def password_matches(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        # An invited account has no password yet: answer no as slowly as a wrong password
        # does, or the timing would tell which e-mail addresses have accounts.
        dummy_check(password)
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def dummy_check(password: str) -> None:
    """Check ``password`` against a hash no account has, as long as a real check takes: for
    an e-mail without an account, or an account without a password."""
    with contextlib.suppress(VerificationError, InvalidHashError):
        _hasher.verify(_dummy_hash(_hasher), password)


@functools.cache
def _dummy_hash(hasher: PasswordHasher) -> str:
    # Made by the hasher in use, so that it costs what that hasher's hashes cost.
    return hasher.hash("no account has this password")


def password_problem(password: str) -> str | None:
    """Why ``password`` is not acceptable, or None. Length and commonness only: no rules
    about digits or symbols, which make passwords harder to remember, not to guess."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return ngettext(
            "Use at least %(num)d character.",
            "Use at least %(num)d characters.",
            MIN_PASSWORD_LENGTH,
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        return ngettext(
            "Use at most %(num)d character.", "Use at most %(num)d characters.", MAX_PASSWORD_LENGTH
        )
    if password.strip().lower() in _common_passwords():
        return gettext(
            "This password is one of the most common ones; choose one less easy to guess."
        )
    return None


@functools.cache
def _common_passwords() -> frozenset[str]:
    with gzip.open(COMMON_PASSWORDS_FILE, "rt", encoding="utf-8") as lines:
        return frozenset(line.strip() for line in lines if line.strip())
