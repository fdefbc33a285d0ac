"""Protections every response and every log line gets, whatever face served it.

- Security headers: a strict Content-Security-Policy (scripts, styles, images and fonts from
  this site only; no inline script or style anywhere, so the templates keep theirs in
  ``static/``), no framing, no MIME sniffing, a same-origin referrer, and HSTS once the
  site is served over HTTPS.
- The real client address behind a reverse proxy (``PROXY_FIX``), so that rate limits
  count each client, not the proxy.
- Log lines that cannot be forged: line breaks in logged values are written as ``\\n``.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, request
from werkzeug.middleware.proxy_fix import ProxyFix

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",  # frame-ancestors, for browsers that predate it
    # Verification addresses carry a certificate's code: never hand them to another site.
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}
HSTS = "max-age=31536000; includeSubDomains"
_SECURITY_HEADERS = tuple(SECURITY_HEADERS.items())
_HSTS = (("Strict-Transport-Security", HSTS),)


PROXY_FIX_KEYS = ("x_for", "x_proto", "x_host", "x_port", "x_prefix")
PROXY_FIX_FORM = (
    "PROXY_FIX must be a JSON object giving, for each X-Forwarded-* header, how many proxies"
    ' in front of the app set it, e.g. PROXY_FIX=\'{"x_for": 1, "x_proto": 1}\' (keys: '
    + ", ".join(PROXY_FIX_KEYS)
    + ")"
)


def proxy_fix_hops(setting: object) -> dict[str, int]:
    """The hop counts in ``PROXY_FIX``, or a RuntimeError naming the setting and its form
    (a bare ``PROXY_FIX=1`` used to stop the app with an AttributeError)."""
    if not setting:
        return {}
    if not isinstance(setting, dict):
        raise RuntimeError(f"{PROXY_FIX_FORM}; got {setting!r}.")
    unknown = sorted(set(setting) - set(PROXY_FIX_KEYS))
    counts = [
        value
        for value in setting.values()
        if isinstance(value, int) and not isinstance(value, bool)
    ]
    if unknown or len(counts) != len(setting) or any(count < 0 for count in counts):
        raise RuntimeError(f"{PROXY_FIX_FORM}; got {setting!r}.")
    return dict(setting)


def init_app(app: Flask) -> None:
    app.after_request(_add_security_headers)
    hops = proxy_fix_hops(app.config.get("PROXY_FIX"))
    if any(hops.values()):
        # Trust exactly as many X-Forwarded-* hops as there are proxies in front of the app;
        # with none configured the headers are ignored, so a client cannot fake its address.
        app.wsgi_app = ProxyFix(app.wsgi_app, **hops)  # type: ignore[method-assign]
    _neutralise_line_breaks_in_logs()


def _add_security_headers(response: Response) -> Response:
    # One pass over the headers a view already set (it may set its own policy), instead of
    # a scan per header: this runs on every answer, the busiest ones included.
    present = {name.lower() for name, _ in response.headers}
    wanted = [*_SECURITY_HEADERS, *(_HSTS if request.is_secure else ())]
    response.headers.extend([(n, v) for n, v in wanted if n.lower() not in present])
    return response


_factory_installed = False


def _neutralise_line_breaks_in_logs() -> None:
    """Make every log record's arguments single-line: a name or an e-mail address typed as
    ``x\\n[...] INFO admin logged in`` must not be able to add a line of its own to a log."""
    global _factory_installed
    if _factory_installed:
        return
    previous = logging.getLogRecordFactory()

    def single_line_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        if isinstance(record.args, tuple):
            record.args = tuple(_single_line(value) for value in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: _single_line(value) for key, value in record.args.items()}
        return record

    logging.setLogRecordFactory(single_line_record)
    _factory_installed = True


def _single_line(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\r", "\\r").replace("\n", "\\n")
    return value
