"""The administrators' pages: catalogue, candidates and their records."""

from __future__ import annotations

from flask import Blueprint, abort
from flask_login import current_user, login_required

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
@login_required
def require_admin() -> None:
    """The one access check for this area: only administrators, and others see nothing here."""
    if not current_user.is_admin:
        abort(404)


from certification.admin import (  # noqa: E402,F401  (registers the routes on bp)
    emails,
    imports,
    jobs,
    reports,
    tokens,
    views,
)
