"""The /admin blueprint (programme office and body officers) and its one access check (the
view modules register on it)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, request
from flask_login import current_user, login_required

from certification.auth.permissions import may_open

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
@login_required
def require_admin() -> None:
    """The one access check for this area, by the permission table: what a role may not
    use does not exist for it (404), as this whole area does not for candidates."""
    if not may_open(current_user, request.endpoint):
        abort(404)


@bp.app_template_global()
def can(endpoint: str) -> bool:
    """``can("admin.candidate_new")`` in every template and macro (the menu is in base.html):
    whether the person logged in may use that page, so nobody sees a button refused to them."""
    return bool(current_user.is_authenticated and may_open(current_user, endpoint))


@bp.context_processor
def _public_address() -> dict[str, object]:
    """Whether the office reached this page at another address than PUBLIC_BASE_URL: every
    certificate signs that address into its QR code and text for good, and e-mails link to
    it, so the office is told before it issues anything (the page names both)."""
    configured = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    if _origin(configured) == _origin(request.host_url):
        return {"public_address_mismatch": None}
    return {"public_address_mismatch": (request.host_url.rstrip("/"), configured)}


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme.lower(), f"{(parts.hostname or '').lower()}:{port}"
