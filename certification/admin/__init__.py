"""The administrators' pages: catalogue, candidates and their records."""

from __future__ import annotations

from certification.admin import (  # noqa: F401  (each registers its routes on bp)
    approvals,
    claims,
    emails,
    erasure,
    imports,
    jobs,
    provider_staff,
    reports,
    revocations,
    tokens,
    translations,
    views,
)
from certification.admin.blueprint import bp

__all__ = ["bp"]
