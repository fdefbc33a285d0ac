"""How gunicorn serves the app: ``gunicorn -c python:certification.gunicorn_conf ...``.

No control socket: gunicorn (since 25) opens one at a path shared by every server of the same user
(``~/.gunicorn/gunicorn.ctl``), so a second server on the host (another deployment, the
test suite's parallel workers) would take it over; nothing here uses it.

Logging: a set-password or reset link carries its one-time token in the
path, and an access log must not hand it to whoever reads the logs (it works like a
password until it is used). The token is replaced by ``[redacted]`` in the request line,
the path and the referrer.
"""

from __future__ import annotations

import re
from typing import Any

from gunicorn.glogging import Logger

_TOKEN_IN_PATH = re.compile(r"(/set-password/)[^/?#\s\"]+")
_ATOMS_WITH_PATHS = ("r", "U", "f", "{referer}i")


def redact(text: str) -> str:
    return _TOKEN_IN_PATH.sub(r"\1[redacted]", text)


class RedactingLogger(Logger):
    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        atoms: dict[str, Any] = super().atoms(resp, req, environ, request_time)
        for key in _ATOMS_WITH_PATHS:
            if isinstance(atoms.get(key), str):
                atoms[key] = redact(atoms[key])
        return atoms


logger_class = RedactingLogger
control_socket_disable = True
