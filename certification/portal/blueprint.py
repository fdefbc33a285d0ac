"""The portal's blueprint and its one access check (the views register on it)."""

from __future__ import annotations

from flask import Blueprint, abort
from flask_login import current_user, login_required

bp = Blueprint("portal", __name__, url_prefix="/me")


@bp.before_request
@login_required
def require_candidate() -> None:
    """The one access check for this area: a logged-in candidate, who sees only their own."""
    if current_user.is_staff:
        abort(404)
