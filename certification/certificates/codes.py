"""Certificate codes: random, short enough to type, and checked before any look-up.

A code is an award prefix and 80 random bits in Crockford base32, in groups of four, with
a check symbol at the end: ``EIC-7KQ2-M9XD-4TRA-C1WZ-8``. Crockford's alphabet leaves out
I, L, O and U, so what a person reads aloud or types is forgiving: case, spaces and
hyphens do not matter, O reads as 0 and I or L as 1.

The check symbol is the Luhn mod N algorithm over the same 32 symbols, not Crockford's
own mod-37 check: that one needs five extra symbols (``* ~ $ = U``) for values 32 to 36,
and a code printed on a diploma ending in ``=`` or ``~`` looks broken and is awkward to
type or put in a URL. Luhn mod 32 catches every single mistyped symbol and every swap of
two neighbours but one pair (0 and Z), without touching the database.
Pure functions; no Flask, no database.
"""

from __future__ import annotations

import re
import secrets

from flask_babel import gettext

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
RANDOM_SYMBOLS = 16  # 16 x 5 bits = 80 bits
GROUP = 4
_VALUE = {symbol: value for value, symbol in enumerate(ALPHABET)}
_CONFUSABLES = str.maketrans({"O": "0", "I": "1", "L": "1"})
_PREFIX = re.compile(r"^[A-Z]{2,5}$")


class MalformedCode(ValueError):
    """The text cannot be a certificate code (wrong length, symbols or check symbol)."""


def check_symbol(symbols: str) -> str:
    """The Luhn mod 32 check symbol for ``symbols`` (all from :data:`ALPHABET`)."""
    base, total, factor = len(ALPHABET), 0, 2
    for symbol in reversed(symbols):
        addend = factor * _VALUE[symbol]
        total += addend // base + addend % base
        factor = 3 - factor  # alternate 2, 1, 2, 1 ... from the right
    return ALPHABET[(base - total % base) % base]


def new_code(prefix: str) -> str:
    """A fresh random code for an award with ``prefix`` (two to five letters)."""
    if not _PREFIX.match(prefix):
        raise ValueError(f"an award prefix is 2 to 5 capital letters, not {prefix!r}")
    body = "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_SYMBOLS))
    return format_code(prefix, body + check_symbol(body))


def format_code(prefix: str, symbols: str) -> str:
    groups = [symbols[i : i + GROUP] for i in range(0, RANDOM_SYMBOLS, GROUP)]
    return "-".join([prefix, *groups, symbols[RANDOM_SYMBOLS:]])


def normalise_code(text: str) -> str:
    """The canonical form of a typed code, or :class:`MalformedCode`.

    Accepts lower case, spaces, hyphens (or none), and O/I/L for 0/1/1.
    """
    compact = re.sub(r"[\s\-‐‑‒–—]", "", text or "").upper()
    match = re.fullmatch(r"([A-Z]{2,5}?)([0-9A-Z]{17})", compact)
    if match is None:
        raise MalformedCode(gettext("A certificate code has a prefix and 17 letters or digits."))
    prefix, rest = match.groups()
    symbols = rest.translate(_CONFUSABLES)
    if any(symbol not in _VALUE for symbol in symbols):
        raise MalformedCode(
            gettext("The code contains a letter that certificate codes never use (U).")
        )
    body, given_check = symbols[:RANDOM_SYMBOLS], symbols[RANDOM_SYMBOLS:]
    if check_symbol(body) != given_check:
        raise MalformedCode(
            gettext("The code's last symbol does not match: please check for a typo.")
        )
    return format_code(prefix, body + given_check)
