"""The app a bench runs in a folder of its own (a temporary one, removed at the end): its
SQLite database, its instance folder and, where the bench made them there, the demo keys."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask


def app_in_folder(folder: Path, **config: Any) -> Flask:
    """The app on ``folder/bench.sqlite``, with ``folder/instance`` as its instance folder
    and a random secret key; ``config`` on top.

    INSTANCE_PATH is set only while the app is made (it reads it then), so that the
    bench's own environment is left as it was."""
    from certification import create_app

    previous = os.environ.get("INSTANCE_PATH")
    os.environ["INSTANCE_PATH"] = str(folder / "instance")
    try:
        return create_app(
            {
                "SECRET_KEY": os.urandom(32).hex(),
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'bench.sqlite'}",
                **config,
            }
        )
    finally:
        if previous is None:
            del os.environ["INSTANCE_PATH"]
        else:
            os.environ["INSTANCE_PATH"] = previous


def demo_seals(folder: Path) -> dict[str, Any]:
    """The settings for the demo keys that ``make_demo_keys`` wrote to
    ``folder/instance/keys``, whatever the environment says, and each body's credential
    key beside them (made here when missing)."""
    from certification.credentials.keys import make_credential_key

    keys = folder / "instance" / "keys"
    credential_keys = {}
    for body, key_id in (("EFRS", "efrs-2026"), ("EuSoMII", "eusomii-2026")):
        path = keys / f"{key_id}.credential.pem"
        if not path.exists():
            make_credential_key(path)
        credential_keys[body] = [{"id": key_id, "key": str(path)}]
    return {
        "CREDENTIAL_KEYS": credential_keys,
        "SEAL_KEYS": {
            "EFRS": {"pkcs12": str(keys / "efrs-seal.p12"), "passphrase": None},
            "EuSoMII": {"pkcs12": str(keys / "eusomii-seal.p12"), "passphrase": None},
        },
        "SIGNING_TRUST_ROOTS": [str(keys / "demo-ca.pem")],
    }
