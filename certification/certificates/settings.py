"""Where the certificate machinery finds its keys, trust roots and public address.

Read from the app's configuration (``SEAL_KEYS``, ``SIGNING_TRUST_ROOTS``,
``PUBLIC_BASE_URL``); relative paths are inside the instance folder. Opening a PKCS#12
file costs a few milliseconds, so opened signers and trust roots are kept per process.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from pyhanko.sign.signers import SimpleSigner

from certification.certificates.signing import SealKey, load_signer, load_trust_roots


@dataclass(frozen=True)
class CertificateSettings:
    public_base_url: str
    seal_keys: tuple[SealKey, ...]
    trust_root_paths: tuple[Path, ...]

    def verify_url(self, code: str) -> str:
        return f"{self.public_base_url.rstrip('/')}/verify/{code}"

    def seal_key(self, short_name: str) -> SealKey | None:
        return next((k for k in self.seal_keys if k.body == short_name), None)


def current_settings() -> CertificateSettings:
    config, instance = current_app.config, Path(current_app.instance_path)

    def resolve(path: str) -> Path:
        return Path(path) if Path(path).is_absolute() else instance / path

    keys = []
    for body, entry in config["SEAL_KEYS"].items():
        passphrase = entry.get("passphrase")
        keys.append(
            SealKey(
                body=body,
                pkcs12_path=resolve(str(entry["pkcs12"])),
                passphrase=passphrase.encode() if passphrase else None,
            )
        )
    return CertificateSettings(
        public_base_url=config["PUBLIC_BASE_URL"],
        seal_keys=tuple(keys),
        trust_root_paths=tuple(resolve(p) for p in config["SIGNING_TRUST_ROOTS"]),
    )


def signer_for(key: SealKey) -> SimpleSigner:
    return _cached_signer(key, _modified(key.pkcs12_path))


def trust_roots(paths: tuple[Path, ...]) -> list[object]:
    return _cached_roots(paths, tuple(_modified(p) for p in paths))


def _modified(path: Path) -> float:
    # Part of the cache key, so that replacing a key file takes effect without a restart.
    return path.stat().st_mtime if path.exists() else 0.0


@functools.lru_cache(maxsize=16)
def _cached_signer(key: SealKey, _mtime: float) -> SimpleSigner:
    return load_signer(key)


@functools.lru_cache(maxsize=4)
def _cached_roots(paths: tuple[Path, ...], _mtimes: tuple[float, ...]) -> list[object]:
    return load_trust_roots(list(paths))
