"""Each partner body's credential keys, and the issuer's DID document that publishes them.

The credentials are issued by one DID, this deployment's ``did:web``, which lists each
body's Ed25519 key as an assertion method of its own (``#efrs-2026``, ``#eusomii-2026``).
One issuer, because mainstream verifiers accept a proof only when its key is controlled by
the credential's ``issuer.id``; a key per body, because each body's proof is that body's
and is made only on its approval.

``CREDENTIAL_KEYS`` lists each body's keys newest first: the first signs, and every key is
published, so that a credential signed before a rotation still verifies after it. A retired
key may be kept as its public half alone.
"""

from __future__ import annotations

import base64
import functools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from flask import current_app
from openbadgeslib.ob3 import multikey_from_pem

from certification.credentials.pinned import MULTIKEY_V1

CREDENTIAL_KEYS_FORM = (
    "CREDENTIAL_KEYS must be a JSON object giving each body's Ed25519 keys, newest first,"
    ' by its short name: {"EFRS": [{"id": "efrs-2026", "key": "keys/efrs-2026.credential.pem"},'
    ' {"id": "efrs-2025", "key": "keys/efrs-2025.public.pem"}], "EuSoMII": [...]}; the first'
    " key signs and must be a private key, every key is published"
)
DID_V1 = "https://www.w3.org/ns/did/v1"
_KEY_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")


class MissingCredentialKey(RuntimeError):
    """A body has no key to sign with (a configuration fault, not the user's)."""


@dataclass(frozen=True)
class CredentialKey:
    body: str
    key_id: str  # the fragment of its DID URL: "efrs-2026"
    public_pem: bytes
    private_pem: bytes | None  # None: retired, published only

    def method(self, did: str) -> str:
        """Its verification method's id: ``did:web:…#efrs-2026``."""
        return f"{did}#{self.key_id}"

    @property
    def raw_public(self) -> bytes:
        key = serialization.load_pem_public_key(self.public_pem)
        assert isinstance(key, Ed25519PublicKey)  # noqa: S101 - checked when read
        return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def issuer_did(public_base_url: str) -> str:
    """This deployment's ``did:web``: its host (a port percent-encoded) and path. Its
    document is served at ``/.well-known/did.json`` (no path) or ``<path>/did.json``."""
    parts = urlsplit(public_base_url)
    authority = parts.hostname or "localhost"
    if parts.port is not None:
        authority += f":{parts.port}"
    segments = [quote(authority, safe="")]
    segments += [quote(segment, safe="") for segment in parts.path.split("/") if segment]
    return "did:web:" + ":".join(segments)


def credential_keys() -> tuple[CredentialKey, ...]:
    """The configured keys, read once per process (again when a file changes)."""
    setting, instance = current_app.config["CREDENTIAL_KEYS"], current_app.instance_path
    resolve = _resolver(instance)
    files = [resolve(entry["key"]) for entries in _entries(setting).values() for entry in entries]
    return _read_keys(
        json.dumps(setting, sort_keys=True),
        instance,
        tuple(path.stat().st_mtime if path.exists() else 0.0 for path in files),
    )


def _resolver(instance: str) -> Callable[[str], Path]:
    """A configured path as a file: relative ones are inside the instance folder."""
    return lambda path: Path(path) if Path(path).is_absolute() else Path(instance) / path


@functools.lru_cache(maxsize=8)
def _read_keys(
    setting: str, instance: str, _mtimes: tuple[float, ...]
) -> tuple[CredentialKey, ...]:
    return keys_from(json.loads(setting), _resolver(instance))


def keys_from(setting: object, resolve: Callable[[str], Path]) -> tuple[CredentialKey, ...]:
    """Each body's keys in ``CREDENTIAL_KEYS``, or a RuntimeError naming the setting, the
    body and the expected form."""
    keys: list[CredentialKey] = []
    for body, entries in _entries(setting).items():
        for position, entry in enumerate(entries):
            keys.append(_key(body, entry, resolve, signs=position == 0))
    ids = [key.key_id for key in keys]
    if len(ids) != len(set(ids)):
        raise RuntimeError(f"CREDENTIAL_KEYS names one key id twice. {CREDENTIAL_KEYS_FORM}.")
    return tuple(keys)


def check_setting(setting: object) -> None:
    """Stop the app at start on a malformed ``CREDENTIAL_KEYS`` (the files are read later:
    the demo makes its keys after the app starts)."""
    _entries(setting)


def _entries(setting: object) -> dict[str, list[dict[str, str]]]:
    if not isinstance(setting, dict) or not all(
        isinstance(entries, list)
        and entries
        and all(isinstance(e, dict) and set(e) == {"id", "key"} for e in entries)
        for entries in setting.values()
    ):
        raise RuntimeError(f"{CREDENTIAL_KEYS_FORM}.")
    return setting


def _key(
    body: str, entry: dict[str, str], resolve: Callable[[str], Path], *, signs: bool
) -> CredentialKey:
    def refuse(problem: str) -> RuntimeError:
        return RuntimeError(f"CREDENTIAL_KEYS[{body!r}] {problem}. {CREDENTIAL_KEYS_FORM}.")

    key_id, path = entry["id"], resolve(entry["key"])
    if not isinstance(key_id, str) or not _KEY_ID.fullmatch(key_id):
        raise refuse(f"has the key id {key_id!r}: lower-case letters, digits and hyphens")
    try:
        data = path.read_bytes()
    except OSError:
        raise refuse(f"names {path}, which cannot be read") from None
    if b"PRIVATE KEY" in data:
        private = serialization.load_pem_private_key(data, password=None)
        if not isinstance(private, Ed25519PrivateKey):
            raise refuse(f"names {path}, which is not an Ed25519 key")
        public = private.public_key()
        private_pem: bytes | None = data
    else:
        loaded = serialization.load_pem_public_key(data)
        if not isinstance(loaded, Ed25519PublicKey):
            raise refuse(f"names {path}, which is not an Ed25519 key")
        public, private_pem = loaded, None
        if signs:
            raise refuse(f"must sign with its first key, but {path} holds a public key only")
    public_pem = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return CredentialKey(body, key_id, public_pem, private_pem)


def signing_key(keys: tuple[CredentialKey, ...], body: str) -> CredentialKey:
    """The key ``body`` signs with now: its first."""
    for key in keys:
        if key.body == body and key.private_pem is not None:
            return key
    raise MissingCredentialKey(
        f"{body} has no credential key to sign with: add it to CREDENTIAL_KEYS."
    )


def did_document(did: str, keys: tuple[CredentialKey, ...]) -> dict[str, Any]:
    """The issuer's DID document: every key, current and retired, as a Multikey that the
    DID controls and that may assert credentials."""
    methods = [
        {
            "id": key.method(did),
            "type": "Multikey",
            "controller": did,
            "publicKeyMultibase": multikey_from_pem(key.public_pem),
        }
        for key in keys
    ]
    return {
        "@context": [DID_V1, MULTIKEY_V1],
        "id": did,
        "verificationMethod": methods,
        "assertionMethod": [method["id"] for method in methods],
    }


def jwks(did: str, keys: tuple[CredentialKey, ...]) -> dict[str, Any]:
    """The same keys as a JSON Web Key Set, each ``kid`` its verification method's id."""
    return {
        "keys": [
            {
                "kty": "OKP",
                "crv": "Ed25519",
                "x": base64.urlsafe_b64encode(key.raw_public).decode().rstrip("="),
                "kid": key.method(did),
                "alg": "EdDSA",
                "use": "sig",
            }
            for key in keys
        ]
    }


def make_credential_key(path: Path) -> None:
    """Write a new Ed25519 private key to ``path`` (PEM, readable by the owner only)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.write_bytes(pem)
    path.chmod(0o600)
