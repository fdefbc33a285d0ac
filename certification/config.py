"""Configuration defaults.

Configuration flows one way: these defaults, then ``instance/config.py``, then environment
variables of the same name, then (for tests) the mapping given to ``create_app``.
"""

from __future__ import annotations

import json
import os
from typing import Any

# Defaults. Nothing secret lives here: SECRET_KEY has no default on purpose.
SECRET_KEY: str | None = None
SQLALCHEMY_DATABASE_URI: str | None = None  # None: SQLite file in the instance folder
SQLALCHEMY_ENGINE_OPTIONS: dict[str, Any] = {"pool_pre_ping": True}
SQLALCHEMY_RECORD_QUERIES = False
# The calendar the bodies work in: "today" for refusing future dates and for credit windows.
APP_TIMEZONE = "Europe/Brussels"
# How long a candidate's one-time set-password link stays valid.
PASSWORD_SETUP_LINK_HOURS = 72
# How long a "forgot password" link stays valid.
PASSWORD_RESET_MINUTES = 30
# Administrators' second factor: the name authenticator apps show, how long the step
# between password and code may take, and how recent a login must be for changes to
# passwords, second factors, API tokens and signing settings.
TOTP_ISSUER = "EFRS–EuSoMII Certification"
SECOND_FACTOR_MINUTES = 5
FRESH_LOGIN_MINUTES = 10
# A session with no request for this long is ended (administrators hold more power).
ADMIN_IDLE_MINUTES = 30
CANDIDATE_IDLE_MINUTES = 60
# Failed logins allowed per account and per client: once a window is full, the next try
# waits for it to pass, and the windows grow (minutes, then an hour, then a day).
LOGIN_RATE_LIMIT_PER_ACCOUNT = "5 per 5 minutes; 10 per hour; 20 per day"
LOGIN_RATE_LIMIT_PER_CLIENT = "20 per 5 minutes; 100 per day"
# "Forgot password" requests per address and per client.
RESET_REQUEST_RATE_LIMIT = "3 per hour; 10 per day"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = False
REMEMBER_COOKIE_HTTPONLY = True
WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
MAX_CONTENT_LENGTH = 6 * 1024 * 1024  # a 5 MB PDF plus the multipart envelope

# Certificates. The address printed on certificates and in their QR codes.
PUBLIC_BASE_URL = "http://127.0.0.1:5000"
# Where candidates, verifiers and anyone who suspects a forged certificate write to; the
# pages that say "contact the programme office" give this address (empty: no address).
PROGRAMME_OFFICE_EMAIL = ""
# Each partner body's seal: a PKCS#12 file (relative paths are inside the instance folder)
# and its passphrase, keyed by the body's short name; or a key in a hardware security module,
# {"pkcs11": {"module": …, "token": …, "key": …, "pin_env": …}} (README). The demo's keys
# are made by `flask --app certification make-demo-keys` (seed-demo does it too).
SEAL_KEYS: dict[str, dict[str, str | None]] = {
    "EFRS": {"pkcs12": "keys/efrs-seal.p12", "passphrase": None},  # none here  # nosec B105
    "EuSoMII": {"pkcs12": "keys/eusomii-seal.p12", "passphrase": None},  # nosec B105
}
# Each body's Ed25519 keys for its proofs on the credentials (Open Badges 3.0), newest first:
# the first signs, every one stays published in the DID document (/.well-known/did.json)
# so that credentials signed before a rotation still verify. A retired key may be kept as
# its public half alone. The demo's are made by make-demo-keys, like the seals.
CREDENTIAL_KEYS: dict[str, list[dict[str, str]]] = {
    "EFRS": [{"id": "efrs-2026", "key": "keys/efrs-2026.credential.pem"}],
    "EuSoMII": [{"id": "eusomii-2026", "key": "keys/eusomii-2026.credential.pem"}],
}
# PEM certificates that seals must chain to for a PDF to count as authentic.
SIGNING_TRUST_ROOTS = ["keys/demo-ca.pem"]
# Seals that still verify when their certificates have expired (PAdES B-LTA): each seal gets
# an RFC 3161 timestamp, and after both, the chains and revocation data (the DSS) and a
# document timestamp are added. TSA_URL: a time-stamping authority over HTTP(S), whose root
# must be among SIGNING_TRUST_ROOTS. Empty: the local authority in TSA_LOCAL_KEY (a PKCS#12
# file make-demo-keys writes; demo and tests only). Neither: sealed without a timestamp, as
# before, and the log says so. SIGNING_CRLS are CRL files (DER or PEM) embedded as
# revocation data; SIGNING_FETCH_REVOCATION lets sealing fetch OCSP answers and CRLs from
# the addresses in the seal certificates (a real CA's; the demo's are never fetched).
TSA_URL = ""
TSA_LOCAL_KEY = "keys/demo-tsa.p12"
SIGNING_CRLS = ["keys/demo-ca.crl"]
SIGNING_FETCH_REVOCATION = False
# The largest PDF the verification upload accepts.
VERIFY_MAX_PDF_BYTES = 5 * 1024 * 1024
# The largest credential (JSON) the verification accepts; ours are about 5 KB.
VERIFY_MAX_CREDENTIAL_BYTES = 256 * 1024
# Wallets (OpenID for Verifiable Credential Issuance, pre-authorised code): how long the
# offer a holder is shown (QR code and link) may be redeemed, how long the access token it
# buys lasts, and how long a nonce for the wallet's key proof. Offered only when
# PUBLIC_BASE_URL is https (the protocol allows nothing else).
WALLET_OFFER_SECONDS = 600
WALLET_TOKEN_SECONDS = 300
WALLET_NONCE_SECONDS = 120

# Rate limits (Flask-Limiter). memory:// is per process; several workers or hosts need a
# shared store, e.g. RATELIMIT_STORAGE_URI=redis://127.0.0.1:6379. Every host of one
# deployment uses the same RATELIMIT_KEY_PREFIX; another deployment (or a test run) sharing
# that Redis uses a different one, so their counts never mix.
RATELIMIT_STORAGE_URI = "memory://"
RATELIMIT_KEY_PREFIX = ""
# No X-RateLimit-* headers: with Redis they cost two more round trips on every look-up
# (measured: bench/bench_verify.py), and nobody reads them; a refusal still says
# Retry-After.
RATELIMIT_HEADERS_ENABLED = False
VERIFY_RATE_LIMIT = "60 per minute"
# Requests per client to the wallets' token, nonce and credential endpoints together.
WALLET_RATE_LIMIT = "30 per minute"

# Behind a reverse proxy: how many proxies set each X-Forwarded-* header, e.g.
# {"x_for": 1, "x_proto": 1} for one load balancer that terminates TLS. Empty: the headers
# are ignored (a client could otherwise pick its own address and escape the rate limits).
PROXY_FIX: dict[str, int] = {}

# The job queue (Huey). Empty: a SQLite file in the instance folder, for one machine.
# redis://127.0.0.1:6379/0 lets workers on several hosts share the queue.
QUEUE_URL = ""
# Every host and worker of one deployment uses the same QUEUE_NAME; another deployment (or a
# test run) sharing that Redis uses its own, so that neither runs the other's tasks.
QUEUE_NAME = "certification"
# Bulk issuing ("issue to everyone eligible"): how many processes render and seal PDFs
# (default: every core), how many candidates each database write takes, and after how many
# seconds without a heartbeat a job's worker counts as dead and another may carry on.
ISSUE_PROCESSES = os.cpu_count() or 1
ISSUE_BATCH_SIZE = 40
JOB_STALE_SECONDS = 120
# A change of a programme's rules is worked out again by a standing job, this many
# candidates to a transaction (a killed worker loses at most one chunk's work).
STANDING_JOB_CHUNK = 2000
# The dashboard's figures are computed by a queue worker every REPORTS_REFRESH_MINUTES and
# kept; a page view older than REPORTS_MAX_AGE_SECONDS computes them itself (seconds with
# 100,000 candidates).
REPORTS_REFRESH_MINUTES = 5
REPORTS_MAX_AGE_SECONDS = 900
# How long the API remembers an Idempotency-Key and the answer it got.
IDEMPOTENCY_KEY_DAYS = 30
# How long the evidence of a rejected claim (a candidate's own claim of a credit or of CPD)
# is kept after the rejection; then a daily queue task deletes its bytes.
REJECTED_EVIDENCE_RETENTION_DAYS = 180

# E-mail. MAIL_SERVER empty (the embedded default): every message is written as an .eml
# file into MAIL_OUTBOX (relative paths are inside the instance folder) instead of being
# sent, so a new installation shows its e-mails without a mail server. Queue workers send;
# web requests never do.
MAIL_SERVER = ""
MAIL_PORT = 587
MAIL_USERNAME = ""
MAIL_PASSWORD: str | None = None  # from instance/config.py or the environment, never here
MAIL_USE_STARTTLS = True  # set false only for a relay on the same machine or network
MAIL_USE_SSL = False  # implicit TLS, usually port 465
MAIL_TIMEOUT = 30  # seconds, per network operation
MAIL_DEFAULT_SENDER = "Imaging Informatics Certification <no-reply@localhost>"
MAIL_OUTBOX = "outbox"
# A failed attempt is tried again after MAIL_RETRY_DELAY seconds, up to MAIL_MAX_ATTEMPTS
# attempts in all; then the message is marked failed for an administrator to send again.
MAIL_RETRY_DELAY = 60
MAIL_MAX_ATTEMPTS = 4

# Values that must never be accepted as a real SECRET_KEY outside development.
PLACEHOLDER_SECRETS = frozenset({"", "dev", "change-me", "changeme", "secret", "development"})

# Keys that may be overridden from the environment. DATABASE_URL is the conventional name
# for the database; it maps onto SQLALCHEMY_DATABASE_URI.
ENVIRONMENT_KEYS = (
    "SECRET_KEY",
    "APP_TIMEZONE",
    "PASSWORD_SETUP_LINK_HOURS",
    "PASSWORD_RESET_MINUTES",
    "TOTP_ISSUER",
    "SECOND_FACTOR_MINUTES",
    "FRESH_LOGIN_MINUTES",
    "ADMIN_IDLE_MINUTES",
    "CANDIDATE_IDLE_MINUTES",
    "LOGIN_RATE_LIMIT_PER_ACCOUNT",
    "LOGIN_RATE_LIMIT_PER_CLIENT",
    "RESET_REQUEST_RATE_LIMIT",
    "SESSION_COOKIE_SECURE",
    "MAX_CONTENT_LENGTH",
    "PUBLIC_BASE_URL",
    "PROGRAMME_OFFICE_EMAIL",
    "SEAL_KEYS",
    "CREDENTIAL_KEYS",
    "SIGNING_TRUST_ROOTS",
    "TSA_URL",
    "TSA_LOCAL_KEY",
    "SIGNING_CRLS",
    "SIGNING_FETCH_REVOCATION",
    "VERIFY_MAX_PDF_BYTES",
    "VERIFY_MAX_CREDENTIAL_BYTES",
    "WALLET_OFFER_SECONDS",
    "WALLET_TOKEN_SECONDS",
    "WALLET_NONCE_SECONDS",
    "RATELIMIT_STORAGE_URI",
    "RATELIMIT_KEY_PREFIX",
    "RATELIMIT_ENABLED",
    "VERIFY_RATE_LIMIT",
    "WALLET_RATE_LIMIT",
    "PROXY_FIX",
    "QUEUE_URL",
    "QUEUE_NAME",
    "ISSUE_PROCESSES",
    "ISSUE_BATCH_SIZE",
    "JOB_STALE_SECONDS",
    "STANDING_JOB_CHUNK",
    "IDEMPOTENCY_KEY_DAYS",
    "REJECTED_EVIDENCE_RETENTION_DAYS",
    "REPORTS_REFRESH_MINUTES",
    "REPORTS_MAX_AGE_SECONDS",
    "MAIL_SERVER",
    "MAIL_PORT",
    "MAIL_USERNAME",
    "MAIL_PASSWORD",
    "MAIL_USE_STARTTLS",
    "MAIL_USE_SSL",
    "MAIL_TIMEOUT",
    "MAIL_DEFAULT_SENDER",
    "MAIL_OUTBOX",
    "MAIL_RETRY_DELAY",
    "MAIL_MAX_ATTEMPTS",
)


def from_environment(environ: os._Environ[str] | dict[str, str]) -> dict[str, Any]:
    """Read the overridable keys from the environment, decoding JSON-looking values."""
    found: dict[str, Any] = {}
    for key in ENVIRONMENT_KEYS:
        if key in environ:
            found[key] = _decode(environ[key])
    if environ.get("DATABASE_URL"):
        found["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(environ["DATABASE_URL"])
    return found


def normalise_database_url(url: str) -> str:
    """Point plain ``postgres://`` URLs (as hosting platforms hand them out) at psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _decode(raw: str) -> Any:
    # "true", "3600" and the like arrive as strings; plain strings stay strings.
    try:
        return json.loads(raw)
    except ValueError:
        return raw
