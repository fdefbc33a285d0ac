"""The administrators' blueprint and its one access check (the view modules register on it)."""

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
