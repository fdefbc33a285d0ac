"""The public verification area: anyone checks a certificate's code or PDF, no login."""

from __future__ import annotations

from certification.verify import (
    views,  # noqa: F401  (registers the routes on bp)
    wallet,  # noqa: F401  (registers the wallets' routes)
)
from certification.verify.blueprint import bp
from certification.verify.credentials import credentials_bp

__all__ = ["bp", "credentials_bp"]
