"""Background jobs: issuing an award to everyone eligible, and working out standings again
after a change of rules; starting the first, and watching both run."""

from __future__ import annotations

from flask import flash, jsonify, render_template, url_for
from flask_babel import ngettext
from werkzeug.wrappers import Response

from certification.admin.blueprint import bp
from certification.admin.views import Page, _actor, _eligible_page, _see_other
from certification.catalogue import services as catalogue
from certification.certificates import bulk
from certification.errors import ServiceError
from certification.records.standings import recent_standing_jobs
from certification.web import today


@bp.route("/programmes/<code>/issue-job", methods=["POST"])
def issue_job_start(code: str) -> Page:
    """Start issuing the award to everyone eligible; the page of the job shows it run."""
    programme = catalogue.get_programme(code)
    try:
        job = bulk.start_issue_job(programme, _actor(), today=today())
    except bulk.JobAlreadyRunning as refusal:
        # A double click, or a colleague was quicker: show the job that is running.
        flash(refusal.message, "info")
        return _see_other("admin.issue_job", job_id=refusal.job_id)
    except ServiceError as refusal:
        flash(refusal.message, "error")
        return _eligible_page(programme, status=422)
    flash(
        ngettext(
            "Issuing the %(programme)s to %(num)d candidate has started.",
            "Issuing the %(programme)s to %(num)d candidates has started.",
            job.total,
            programme=programme.title,
        ),
        "success",
    )
    return _see_other("admin.issue_job", job_id=job.id)


@bp.route("/jobs")
def issue_jobs() -> Page:
    return render_template(
        "admin/jobs.html", jobs=bulk.recent_issue_jobs(), standing_jobs=recent_standing_jobs()
    )


@bp.route("/jobs/<int:job_id>")
def issue_job(job_id: int) -> Page:
    job = bulk.get_issue_job(job_id)
    return render_template("admin/job.html", job=job, progress=bulk.job_progress(job))


@bp.route("/jobs/<int:job_id>/progress.json")
def issue_job_progress(job_id: int) -> Response:
    """The job's numbers and failures, for its page to poll (static/js/job.js)."""
    answer = bulk.job_progress(bulk.get_issue_job(job_id)).as_json()
    for failure in answer["failures"]:
        failure["candidate_url"] = url_for("admin.candidate", candidate_id=failure["candidate_id"])
    return jsonify(answer)
