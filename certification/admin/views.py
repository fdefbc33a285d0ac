from __future__ import annotations

from flask import redirect, url_for
from werkzeug.wrappers import Response

from certification.admin import bp


@bp.route("/")
def index() -> Response:
    return redirect(url_for("admin.candidates"))


@bp.route("/candidates")
def candidates() -> str:
    return "todo"


@bp.route("/programmes")
def programmes() -> str:
    return "todo"


@bp.route("/courses")
def courses() -> str:
    return "todo"


@bp.route("/assessments")
def assessments() -> str:
    return "todo"
