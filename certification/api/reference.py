"""The API reference for people: Swagger UI at ``/api/docs``, rendering the OpenAPI document.

Everything it loads is served from ``static/`` (``static/vendor/swagger-ui``, started by
``static/js/api-docs.js``): no CDN, nothing fetched at run time, and no inline script, so the
app's Content-Security-Policy holds on this page too (images may also be data: URLs).
"""

from __future__ import annotations

from flask import Blueprint, render_template

from certification.security import CONTENT_SECURITY_POLICY

bp = Blueprint("api_reference", __name__, url_prefix="/api")

# The app's policy, but for the icons Swagger UI's stylesheet draws as data: SVG images.
DOCS_POLICY = CONTENT_SECURITY_POLICY.replace("img-src 'self'", "img-src 'self' data:")


@bp.get("/docs")
def docs() -> tuple[str, dict[str, str]]:
    return render_template("api/docs.html"), {"Content-Security-Policy": DOCS_POLICY}
