"""JSON API v1 for integrators (bearer tokens), and its reference at ``/api/docs``.

The contract is declared once, in ``contract`` (the models) and on each route
(``@api_spec.validate``); ``document`` derives the OpenAPI document and the request
validation from it.
"""

from __future__ import annotations

from certification.api import (
    certificates,  # noqa: F401  (each registers its routes on bp)
    verification,  # noqa: F401  (declares the verification area's API routes)
    views,  # noqa: F401
)
from certification.api.blueprint import bp
from certification.api.reference import bp as reference_bp

__all__ = ["bp", "reference_bp"]
