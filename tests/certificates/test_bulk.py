"""Issuing an award to everyone eligible as a background job, on both databases."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading

import pytest
import sqlalchemy as sa

from certification.audit import AuditEvent
from certification.auth.services import get_candidate
from certification.catalogue.services import get_programme
from certification.certificates import bulk, tasks
from certification.certificates.models import (
    Certificate,
    IssueItemState,
    IssueJob,
    IssueJobItem,
    IssueJobStatus,
)
from certification.certificates.services import issue_certificate
from certification.errors import RuleViolation
from certification.extensions import db
from certification.mail.models import EmailStatus, OutgoingEmail
from certification.queue import huey, queued_count
from certification.records.models import CreditRecord
from certification.records.services import withdraw_credit
from certification.runners import claim_run
from certification.types import utcnow


@pytest.fixture(autouse=True)
def one_process(app):
    # Rendering in this process keeps these tests quick; the crash test uses a pool.
    app.config.update(ISSUE_PROCESSES=1, ISSUE_BATCH_SIZE=2)


def certificates_by_candidate() -> dict[int, int]:
    return dict(
        db.session.execute(
            sa.select(Certificate.candidate_id, sa.func.count())
            .where(Certificate.is_current)
            .group_by(Certificate.candidate_id)
        ).all()
    )


def start(today) -> int:
    job = bulk.start_issue_job(get_programme("EII-C"), None, today=today, queue=False)
    db.session.commit()
    return job.id


def items_of(job_id: int) -> list[IssueJobItem]:
    return list(
        db.session.scalars(
            sa.select(IssueJobItem).where(IssueJobItem.job_id == job_id).order_by(IssueJobItem.id)
        )
    )


def test_the_ready_page_starts_a_job_that_a_worker_runs(
    app, client, auth, make_admin, eligible_candidate, run_queue
):
    names = ["Αικατερίνη Παπαδοπούλου", "Łukasz Wiśniewski", "Дмитрий Шостакович"]
    ids = [eligible_candidate(name) for name in names]
    admin = make_admin()
    auth.login(admin.email)
    page = client.get("/admin/programmes/EII-C/eligible")
    assert "Issue to everyone eligible (3)" in page.get_data(as_text=True)

    response = client.post("/admin/programmes/EII-C/issue-job")
    assert response.status_code == 303
    job_url = response.headers["Location"]
    assert job_url.endswith("/admin/jobs/1")
    with app.app_context():
        assert certificates_by_candidate() == {}  # the request only queued the work
    waiting = client.get(job_url).get_data(as_text=True)
    assert "Waiting for a worker" in waiting
    assert 'value="0"' in waiting and ">Refresh<" in waiting

    assert run_queue() >= 1
    with app.app_context():
        assert certificates_by_candidate() == {i: 1 for i in ids}
        codes = {i.candidate_id: i.certificate_code for i in items_of(1)}
        held = dict(db.session.execute(sa.select(Certificate.candidate_id, Certificate.code)).all())
        assert codes == held
        actions = list(db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)))
        assert actions.count("certificate.issued") == 3
        assert actions.count("issue_job.started") == actions.count("issue_job.finished") == 1
        issued_by = set(db.session.scalars(sa.select(Certificate.issued_by_id)))
        assert issued_by == {admin.id}
        # Each holder got their certificate by e-mail once (the outbox folder, by default).
        emails = db.session.execute(
            sa.select(OutgoingEmail.recipient, OutgoingEmail.status, Certificate.code).join(
                Certificate, Certificate.id == OutgoingEmail.certificate_id
            )
        ).all()
        assert sorted(e.code for e in emails) == sorted(held.values())
        assert {e.status for e in emails} == {EmailStatus.SENT}

    done = client.get(job_url).get_data(as_text=True)
    assert ">Done<" in done and ">Refresh<" not in done
    assert 'max="3" value="3"' in done
    progress = client.get(job_url + "/progress.json").get_json()
    assert progress == {
        "id": 1,
        "status": "done",
        "finished": True,
        "total": 3,
        "issued": 3,
        "failed": 0,
        "skipped": 0,
        "remaining": 0,
        "error": None,
        "failures": [],
    }
    listing = client.get("/admin/jobs").get_data(as_text=True)
    assert "Job 1" in listing and "EII-C" in listing


def test_someone_no_longer_eligible_is_listed_with_the_reason(
    app, client, auth, make_admin, eligible_candidate, today
):
    ids = [eligible_candidate(f"Candidate {n}") for n in range(3)]
    late = eligible_candidate("Zoë <script>alert(1)</script> Müller")
    with app.app_context():
        job_id = start(today)
        record = db.session.scalar(sa.select(CreditRecord).where(CreditRecord.candidate_id == late))
        withdraw_credit(record, "Recorded by mistake", None, today=today)
        db.session.commit()
        progress = bulk.run_issue_job(job_id, today=today)
        assert progress is not None
        assert (progress.status, progress.issued, progress.failed, progress.remaining) == (
            IssueJobStatus.DONE,
            3,
            1,
            0,
        )
        assert certificates_by_candidate() == {i: 1 for i in ids}
        [failure] = progress.failures
        assert failure.candidate_id == late
        assert failure.reason.startswith("No longer meets every requirement of this award.")
        assert "5 more ECTS credits in total" in failure.reason

    auth.login(make_admin().email)
    page = client.get(f"/admin/jobs/{job_id}").get_data(as_text=True)
    assert "Zoë &lt;script&gt;alert(1)&lt;/script&gt; Müller" in page
    assert "<script>alert" not in page
    assert "5 more ECTS credits in total" in page
    answer = client.get(f"/admin/jobs/{job_id}/progress.json").get_json()
    assert answer["failures"] == [
        {
            "candidate_id": late,
            "candidate": "Zoë <script>alert(1)</script> Müller",
            "candidate_url": f"/admin/candidates/{late}",
            "outcome": "failed",
            "reason": failure.reason,
        }
    ]


def test_a_second_start_is_refused_and_shows_the_running_job(
    app, client, auth, make_admin, eligible_candidate, today
):
    eligible_candidate()
    auth.login(make_admin().email)
    first = client.post("/admin/programmes/EII-C/issue-job")
    second = client.post("/admin/programmes/EII-C/issue-job", follow_redirects=True)
    assert second.status_code == 200
    assert "already being issued to everyone eligible (job 1)" in second.get_data(as_text=True)
    assert second.request.path == first.headers["Location"]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(IssueJob.id))) == 1
        with pytest.raises(bulk.JobAlreadyRunning):
            start(today)


def test_nobody_waiting_starts_no_job(app, client, auth, make_admin, eligible_candidate, today):
    candidate_id = eligible_candidate()
    with app.app_context():
        issue_certificate(get_candidate(candidate_id), get_programme("EII-C"), None, today=today)
        db.session.commit()
        with pytest.raises(RuleViolation, match="Nobody is waiting"):
            start(today)
    auth.login(make_admin().email)
    response = client.post("/admin/programmes/EII-C/issue-job")
    assert response.status_code == 422
    assert "Nobody is waiting" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(IssueJob.id))) == 0


def test_the_command_issues_with_a_summary(app, runner, eligible_candidate):
    ids = [eligible_candidate(f"Candidate {n}") for n in range(3)]
    result = runner.invoke(args=["issue-eligible", "EII-C"])
    assert result.exit_code == 0, result.output
    assert "issuing the European Certificate in Imaging Informatics to 3" in result.output
    assert "Job 1: 3 issued, 0 not issued, 0 skipped (already held), 0 remaining, of 3." in (
        result.output
    )
    with app.app_context():
        assert certificates_by_candidate() == {i: 1 for i in ids}
    again = runner.invoke(args=["issue-eligible", "EII-C"])
    assert again.exit_code == 0 and "Nobody is waiting" in again.output
    unknown = runner.invoke(args=["issue-eligible", "NOPE"])
    assert unknown.exit_code != 0 and "NOPE" in unknown.output


def test_jobs_are_for_administrators_only(app, client, auth, make_candidate, eligible_candidate):
    eligible_candidate()
    candidate = make_candidate(email="someone@example.org")
    auth.login(candidate.email)
    assert client.post("/admin/programmes/EII-C/issue-job").status_code == 404
    for path in ("/admin/jobs", "/admin/jobs/1", "/admin/jobs/1/progress.json"):
        assert client.get(path).status_code == 404
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(IssueJob.id))) == 0


def test_starting_needs_the_csrf_token(app, client, auth, make_admin, eligible_candidate):
    eligible_candidate()
    auth.login(make_admin().email)
    app.config["WTF_CSRF_ENABLED"] = True
    assert client.post("/admin/programmes/EII-C/issue-job").status_code == 400


def test_running_a_job_again_or_twice_at_once_issues_nobody_twice(app, eligible_candidate, today):
    ids = [eligible_candidate(f"Candidate {n}") for n in range(6)]
    with app.app_context():
        job_id = start(today)
    app.config["JOB_STALE_SECONDS"] = 0  # each runner may take the job from the other

    def run(name: str) -> None:
        with app.app_context():
            bulk.run_issue_job(job_id, today=today, runner=name)

    threads = [threading.Thread(target=run, args=(f"runner-{n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    with app.app_context():
        run("runner-again")  # a finished job is not run again
        assert certificates_by_candidate() == {i: 1 for i in ids}
        assert {i.state for i in items_of(job_id)} == {IssueItemState.ISSUED}
        assert db.session.get(IssueJob, job_id).status is IssueJobStatus.DONE


def test_a_certificate_issued_by_hand_meanwhile_is_skipped(
    app, eligible_candidate, today, monkeypatch
):
    ids = [eligible_candidate(f"Candidate {n}") for n in range(3)]
    with app.app_context():
        job_id = start(today)
    by_hand: list[str] = []
    real_submit = bulk._Renderer.submit

    def submit_then_issue_by_hand(self, ready):
        real_submit(self, ready)
        if not by_hand:  # while the first batch renders, an administrator clicks Issue
            with app.app_context():
                candidate = get_candidate(ids[0])
                certificate = issue_certificate(
                    candidate, get_programme("EII-C"), None, today=today
                )
                by_hand.append(certificate.code)
                db.session.commit()

    monkeypatch.setattr(bulk._Renderer, "submit", submit_then_issue_by_hand)
    with app.app_context():
        progress = bulk.run_issue_job(job_id, today=today)
        assert progress is not None
        assert (progress.issued, progress.skipped) == (2, 1)
        assert progress.failures[0].reason == (
            f"Already holds a current certificate for this award: {by_hand[0]}."
        )
        assert certificates_by_candidate() == {i: 1 for i in ids}


def test_no_seal_key_stops_the_job_with_the_reason(app, eligible_candidate, today, tmp_path):
    eligible_candidate()
    with app.app_context():
        job_id = start(today)
    app.config["SEAL_KEYS"] = {
        "EFRS": {"pkcs12": str(tmp_path / "missing.p12")},
        "EuSoMII": {"pkcs12": str(tmp_path / "missing.p12")},
    }
    with app.app_context():
        progress = bulk.run_issue_job(job_id, today=today)
        assert progress is not None
        assert progress.status is IssueJobStatus.FAILED
        assert progress.error is not None and "missing.p12 does not exist" in progress.error
        assert progress.remaining == 1
        assert certificates_by_candidate() == {}


def test_a_job_is_taken_over_at_once_only_when_its_runner_s_process_has_died(
    app, eligible_candidate, today
):
    """The heartbeat of a runner killed a moment ago is still fresh; a worker on the same
    host sees that the process is gone and carries on without waiting. A live runner, on
    this host or another, keeps its job."""
    eligible_candidate()
    host = socket.gethostname()[:40]
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    try:
        with app.app_context():
            job_id = start(today)
            job = db.session.get(IssueJob, job_id)
            job.status, job.heartbeat_at = IssueJobStatus.RUNNING, utcnow()
            for runner, expected in [
                (f"{host}:{alive.pid}:a1", ([], [job_id])),
                (f"elsewhere:{gone.pid}:b2", ([], [job_id])),
                (f"{host}:{gone.pid}:c3", ([job_id], [])),
            ]:
                job.runner = runner
                db.session.commit()
                assert bulk.stale_issue_jobs() == expected, runner
            progress = bulk.run_issue_job(job_id, today=today)
            assert progress is not None and progress.issued == 1
    finally:
        alive.kill()
        alive.wait()


def test_a_restarted_worker_frees_its_dead_predecessor_s_job_for_any_host(
    app, eligible_candidate, today
):
    """The worker restarting on the host where a runner died sweeps there, in its own
    process: it clears the dead runner's claim and queues the job, and the worker that takes
    the task, on another host, claims it at once instead of waiting for the heartbeat to
    grow stale (JOB_STALE_SECONDS)."""
    eligible_candidate()
    host = socket.gethostname()[:40]
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    with app.app_context():
        job_id = start(today)
        job = db.session.get(IssueJob, job_id)
        job.status, job.heartbeat_at = IssueJobStatus.RUNNING, utcnow()
        job.runner = f"{host}:{gone.pid}:a1"
        db.session.commit()
        huey.storage.flush_all()

        tasks._resume_issue_jobs_on_startup()  # what huey_consumer calls as it starts

        assert db.session.get(IssueJob, job_id, populate_existing=True).runner is None
        assert queued_count() == 1, "the job's task is queued for any worker to take"
        elsewhere = "another-host:4242:b2"  # a live process this host cannot look for
        assert claim_run(IssueJob, job_id, elsewhere, bulk.ACTIVE_JOB_STATUSES)
        db.session.commit()
        assert db.session.get(IssueJob, job_id, populate_existing=True).runner == elsewhere
        huey.storage.flush_all()
