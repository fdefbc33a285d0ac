"""The JSON-LD contexts a credential names, kept in this repository and pinned by SHA-256.

A Data Integrity proof signs the RDF a document expands to, and the expansion follows the
contexts: a context fetched at run time could change what a proof means, or fail when the
network does. So nothing is fetched. The files in ``contexts/`` are exactly those
openbadgeslib bundles (a test holds the two copies to the same bytes), and
:func:`document_loader` serves them, and only them, to a JSON-LD processor: any other URL is
refused.
"""

from __future__ import annotations

import functools
import hashlib
import json
from importlib import resources
from typing import Any

CREDENTIALS_V2 = "https://www.w3.org/ns/credentials/v2"
OPEN_BADGES_V3 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
DATA_INTEGRITY_V2 = "https://w3id.org/security/data-integrity/v2"
MULTIKEY_V1 = "https://w3id.org/security/multikey/v1"

#: URL -> (file in contexts/, its SHA-256). Changing a file is changing what every issued
#: credential means: the hashes are checked each time a file is read.
PINNED: dict[str, tuple[str, str]] = {
    CREDENTIALS_V2: (
        "credentials-v2.json",
        "59955ced6697d61e03f2b2556febe5308ab16842846f5b586d7f1f7adec92734",
    ),
    OPEN_BADGES_V3: (
        "ob-v3p0-context-3.0.3.json",
        "3d34f4d4ef1bce691106e63798beb5e7b862ba841423f5ee1e53ab7ddf3bca84",
    ),
    DATA_INTEGRITY_V2: (
        "security-data-integrity-v2.json",
        "67f21e6e33a6c14e5ccfd2fc7865f7474fb71a04af7e94136cb399dfac8ae8f4",
    ),
    MULTIKEY_V1: (
        "security-multikey-v1.json",
        "ba2c182de2d92f7e47184bcca8fcf0beaee6d3986c527bf664c195bbc7c58597",
    ),
}


class UnpinnedContext(LookupError):
    """A document names a context that is not pinned here."""


def context_bytes(url: str) -> bytes:
    """The pinned file for ``url``, checked against its hash."""
    try:
        name, digest = PINNED[url]
    except KeyError:
        raise UnpinnedContext(f"The JSON-LD context {url!r} is not pinned here.") from None
    data = (resources.files(__package__) / "contexts" / name).read_bytes()
    if hashlib.sha256(data).hexdigest() != digest:
        raise RuntimeError(f"The pinned context file {name} does not match its SHA-256.")
    return data


@functools.cache
def context(url: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(context_bytes(url))
    return document


def document_loader(url: str, _options: object = None) -> dict[str, Any]:
    """A JSON-LD document loader, in the form pyld calls, that serves the pinned contexts
    and refuses every other URL."""
    return {"contextUrl": None, "documentUrl": url, "document": context(url)}
