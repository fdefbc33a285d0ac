"""Logging in and out, and choosing a password from a one-time link."""

from __future__ import annotations

from flask import Blueprint

from certification.auth.models import User
from certification.extensions import db, login_manager

bp = Blueprint("auth", __name__)

login_manager.login_view = "auth.login"
login_manager.login_message = "Please log in to see that page."
login_manager.login_message_category = "info"


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    return user if user is not None and user.active else None


from certification.auth import views  # noqa: E402,F401  (registers the routes on bp)
