from __future__ import annotations

from flask import render_template
from flask_login import current_user

from certification.portal import bp
from certification.records.services import load_transcript, progress_reports
from certification.web import today


@bp.route("/")
def index() -> str:
    transcript = load_transcript(current_user)
    reports = progress_reports(transcript, today())
    return render_template(
        "portal/index.html", candidate=current_user, reports=reports, transcript=transcript
    )
