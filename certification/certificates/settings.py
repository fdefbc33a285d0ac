"""Where the certificate machinery finds its keys, trust roots and public address.

Read from the app's configuration (``SEAL_KEYS``, ``SIGNING_TRUST_ROOTS``,
``PUBLIC_BASE_URL``, and for seals that outlive their certificates ``TSA_URL``,
``TSA_LOCAL_KEY``, ``SIGNING_CRLS``, ``SIGNING_FETCH_REVOCATION``); relative paths are inside
the instance folder. Opening a PKCS#12 file costs a few milliseconds, and logging in to a
PKCS#11 token more, so opened signers (a PKCS#11 signer holds a logged-in session), trust
roots and the timestamp set-up are kept per process.
"""

from __future__ import annotations

import functools
import hmac
import os
import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import current_app
from pyhanko.sign.signers import Signer

from certification.certificates.signing import (
    AnySealKey,
    Archiver,
    LongTermSetup,
    PinRefused,
    Pkcs11SealKey,
    SealKey,
    TimestampAuthority,
    close_session,
    load_signer,
    load_trust_roots,
    open_archiver,
    session_lost,
)

SEAL_KEYS_FORM = (
    "SEAL_KEYS must be a JSON object giving each body's seal by its short name, either"
    ' {"pkcs12": "<file>", "passphrase": "<text or null>"} or {"pkcs11": {"module":'
    ' "<PKCS#11 module path>", "token": "<token label>", "key": "<key label>", "pin_env":'
    ' "<environment variable holding the PIN>", "cert": "<PEM file, optional>"}}, e.g.'
    ' SEAL_KEYS=\'{"EFRS": {"pkcs11": {"module": "/usr/lib/softhsm/libsofthsm2.so", "token":'
    ' "EFRS seal", "key": "efrs-seal", "pin_env": "EFRS_SEAL_PIN"}}, "EuSoMII": {"pkcs12":'
    ' "keys/eusomii-seal.p12", "passphrase": null}}\''
)
_PKCS11_REQUIRED = ("module", "token", "key", "pin_env")


@dataclass(frozen=True)
class CertificateSettings:
    public_base_url: str
    seal_keys: tuple[AnySealKey, ...]
    trust_root_paths: tuple[Path, ...]
    # None: no timestamp authority (neither TSA_URL nor the local one's file), so seals are
    # made without timestamps and last only as long as their certificates.
    long_term: LongTermSetup | None = None

    def verify_url(self, code: str) -> str:
        return f"{self.public_base_url.rstrip('/')}/verify/{code}"

    def seal_key(self, short_name: str) -> AnySealKey | None:
        return next((k for k in self.seal_keys if k.body == short_name), None)


def current_settings() -> CertificateSettings:
    config, instance = current_app.config, Path(current_app.instance_path)

    def resolve(path: str) -> Path:
        return Path(path) if Path(path).is_absolute() else instance / path

    trust_root_paths = tuple(resolve(p) for p in config["SIGNING_TRUST_ROOTS"])
    return CertificateSettings(
        public_base_url=config["PUBLIC_BASE_URL"],
        seal_keys=seal_keys_from(config["SEAL_KEYS"], resolve),
        trust_root_paths=trust_root_paths,
        long_term=_long_term_setup(config, resolve, trust_root_paths),
    )


def _long_term_setup(
    config: Mapping[str, Any], resolve: Callable[[str], Path], trust_root_paths: tuple[Path, ...]
) -> LongTermSetup | None:
    """The timestamp authority: ``TSA_URL`` if set; else the local one in ``TSA_LOCAL_KEY``
    if its file is there (the demo's, which make-demo-keys writes); else none."""
    url = (config.get("TSA_URL") or "").strip()
    local = config.get("TSA_LOCAL_KEY") or ""
    if url:
        authority = TimestampAuthority(url=url)
    elif local and resolve(local).is_file():
        authority = TimestampAuthority(pkcs12_path=resolve(local))
    else:
        return None
    return LongTermSetup(
        authority=authority,
        trust_root_paths=trust_root_paths,
        crl_paths=tuple(resolve(p) for p in config.get("SIGNING_CRLS") or ()),
        fetch_revocation=bool(config.get("SIGNING_FETCH_REVOCATION")),
    )


def archiver_for(setup: LongTermSetup) -> Archiver:
    """The opened timestamp set-up, kept per process until one of its files changes."""
    files = (
        *setup.trust_root_paths,
        *setup.crl_paths,
        *((setup.authority.pkcs12_path,) if setup.authority.pkcs12_path else ()),
    )
    return _cached_archiver(setup, tuple(_modified(path) for path in files))


def seal_keys_from(setting: object, resolve: Callable[[str], Path]) -> tuple[AnySealKey, ...]:
    """Each body's seal in ``SEAL_KEYS``, or a RuntimeError naming the setting, the body and
    the expected form (the app factory checks it at start)."""
    if not isinstance(setting, dict):
        # The type only: the value may hold a passphrase (broken JSON is kept as text).
        raise RuntimeError(f"{SEAL_KEYS_FORM}; got {type(setting).__name__}.")
    keys = tuple(_seal_key(str(body), entry, resolve) for body, entry in setting.items())
    tokens = [(k.module, k.token) for k in keys if isinstance(k, Pkcs11SealKey)]
    if len(tokens) != len(set(tokens)):
        # Each body's key in its own keeping; and a process logs in to a token only once.
        raise RuntimeError(
            "SEAL_KEYS names one PKCS#11 token for two bodies: each body's seal key must be"
            f" on a token of its own. {SEAL_KEYS_FORM}."
        )
    return keys


def _seal_key(body: str, entry: object, resolve: Callable[[str], Path]) -> AnySealKey:
    def refuse(problem: str) -> RuntimeError:
        return RuntimeError(f"SEAL_KEYS[{body!r}] {problem}. {SEAL_KEYS_FORM}.")

    if not isinstance(entry, dict) or ("pkcs12" in entry) == ("pkcs11" in entry):
        raise refuse('needs exactly one of "pkcs12" or "pkcs11"')
    if "pkcs12" in entry:
        passphrase = entry.get("passphrase")
        if set(entry) - {"pkcs12", "passphrase"}:
            raise refuse(f"has unknown keys {sorted(set(entry) - {'pkcs12', 'passphrase'})}")
        if not isinstance(entry["pkcs12"], str) or not entry["pkcs12"]:
            raise refuse('needs "pkcs12": the path of the PKCS#12 file')
        if passphrase is not None and not isinstance(passphrase, str):
            raise refuse('needs "passphrase" to be text or null')
        return SealKey(
            body=body,
            pkcs12_path=resolve(entry["pkcs12"]),
            passphrase=passphrase.encode() if passphrase else None,
        )
    token = entry["pkcs11"]
    if set(entry) != {"pkcs11"} or not isinstance(token, dict):
        raise refuse('needs "pkcs11" to be an object, and nothing beside it')
    if "pin" in token:
        raise refuse('must not hold the PIN: "pin_env" names the environment variable with it')
    unknown = sorted(set(token) - {*_PKCS11_REQUIRED, "cert"})
    missing = [name for name in _PKCS11_REQUIRED if not token.get(name)]
    if missing:
        raise refuse(f'lacks {", ".join(missing)} in "pkcs11"')
    if unknown:
        raise refuse(f'has unknown keys {", ".join(unknown)} in "pkcs11"')
    if not all(isinstance(value, str) for value in token.values()):
        raise refuse('needs text for "module", "token", "key", "pin_env" and "cert"')
    return Pkcs11SealKey(
        body=body,
        module=Path(token["module"]),
        token=token["token"],
        key_label=token["key"],
        pin_env=token["pin_env"],
        cert_path=resolve(token["cert"]) if token.get("cert") else None,
    )


def signer_for(key: AnySealKey) -> Signer:
    if isinstance(key, Pkcs11SealKey):
        return _token_signer(key)
    return _cached_signer(key, _modified(key.pkcs12_path))


# PKCS#11 logs a process in to a token, not a session: one session per token and process,
# replaced (logged out first) when the configuration, the PIN or the certificate changes.
_token_signers: dict[tuple[Path, str], tuple[tuple[object, ...], Signer]] = {}
_refused_pins: dict[tuple[Pkcs11SealKey, str], PinRefused] = {}
_tokens_lock = threading.Lock()
_PIN_DIGEST_KEY = secrets.token_bytes(32)  # this process's own


def _token_signer(key: Pkcs11SealKey) -> Signer:
    # A keyed digest tells a changed PIN; neither the PIN nor a plain hash of it (a few
    # digits, found again at once) is kept.
    pin = hmac.new(_PIN_DIGEST_KEY, os.environ.get(key.pin_env, "").encode(), "sha256").hexdigest()
    version = (key, pin, _modified(key.cert_path) if key.cert_path else 0.0)
    with _tokens_lock:
        refusal = _refused_pins.get((key, pin))
        if refusal is not None:  # a token locks its PIN after a few wrong tries: do not add one
            raise PinRefused(refusal.message)
        opened = _token_signers.get((key.module, key.token))
        if opened is not None:
            if opened[0] == version and not session_lost(opened[1]):
                return opened[1]
            del _token_signers[(key.module, key.token)]
            close_session(opened[1])
        try:
            signer = load_signer(key)
        except PinRefused as error:
            _refused_pins[(key, pin)] = error
            raise
        _token_signers[(key.module, key.token)] = (version, signer)
        return signer


def trust_roots(paths: tuple[Path, ...]) -> list[object]:
    return _cached_roots(paths, tuple(_modified(p) for p in paths))


def _modified(path: Path) -> float:
    # Part of the cache key, so that replacing a key file takes effect without a restart.
    return path.stat().st_mtime if path.exists() else 0.0


@functools.lru_cache(maxsize=16)
def _cached_signer(key: SealKey, _mtime: float) -> Signer:
    return load_signer(key)


@functools.lru_cache(maxsize=4)
def _cached_archiver(setup: LongTermSetup, _mtimes: tuple[float, ...]) -> Archiver:
    return open_archiver(setup)


@functools.lru_cache(maxsize=4)
def _cached_roots(paths: tuple[Path, ...], _mtimes: tuple[float, ...]) -> list[object]:
    return load_trust_roots(list(paths))
