"""The words of a jointly approved award: the office requests, each body approves, and the
first body's revocation is a request that suspends. Job pages, the command line, the
holder's empty portal, and the officers' revoke buttons say so."""

from __future__ import annotations

import re

from tests.certificates.test_approvals import (
    REASON,
    issued_jointly,
    request_for,
    text,
)
from tests.conftest import log_in


def _words(response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", text(response)).split())


def test_an_approving_job_page_speaks_of_requests_approved(
    client, bodies, eligible_candidate, run_queue
):
    codes = [request_for(bodies, eligible_candidate(name)) for name in ("Ana", "Bo")]
    bodies["EuSoMII"].post(f"/certificates/{codes[1]}/reject", {"reason": REASON})
    log_in(client, "sofia@efrs.example")
    started = client.post("/admin/approvals/approve-many", data={"codes": codes})
    assert started.status_code == 303
    assert run_queue() >= 1
    job_id = started.headers["Location"].rstrip("/").rsplit("/", 1)[-1]
    page = _words(client.get(started.headers["Location"]))
    assert f"<title>Approving job {job_id}" in text(client.get(started.headers["Location"]))
    assert "Approved 1" in page
    assert "Skipped: no longer awaits EFRS's approval" in page
    assert "Requests not approved" in page
    assert "Back to what awaits EFRS's approval" in page
    for wrong in ("Not issued", "not issued", "Issuing job", "already holds a current", "who is"):
        assert wrong not in page, wrong
    jobs = _words(client.get("/admin/jobs"))
    assert "Approving for EFRS" in jobs and "A job of a body's officer approves" in jobs


def test_a_requesting_job_page_and_the_command_speak_of_requests(
    app, client, runner, bodies, eligible_candidate
):
    eligible_candidate("Ana")
    result = runner.invoke(args=["issue-eligible", "EII-C"])
    assert result.exit_code == 0, result.output
    assert "requesting the European Certificate in Imaging Informatics for 1 candidates" in (
        result.output
    )
    assert "1 requested, 0 not requested, 0 skipped" in result.output
    assert " issued" not in result.output

    log_in(client, "integrator@example.org")
    job_id = re.search(r"Job (\d+):", result.output)[1]
    response = client.get(f"/admin/jobs/{job_id}")
    assert f"<title>Requesting job {job_id}" in text(response)
    page = _words(response)
    assert "Requested 1" in page and "Candidates not requested" in page
    assert "Not requested: no longer eligible" in page
    assert "Not issued" not in page and "Candidates not issued" not in page


def test_the_holders_empty_portal_says_the_bodies_approve(client, bodies, eligible_candidate):
    eligible_candidate()
    log_in(client, "eligible1@example.org")
    page = _words(client.get("/me/"))
    assert (
        "the programme office requests your certificate, EFRS and EuSoMII each approve it,"
        " and it appears here once issued." in page
    )
    assert "the programme office issues your certificate" not in page


def test_the_first_bodys_revocation_is_a_request_that_suspends(client, bodies, eligible_candidate):
    candidate_id = eligible_candidate()
    code = issued_jointly(bodies, candidate_id)
    log_in(client, "sofia@efrs.example")
    page = _words(client.get(f"/admin/candidates/{candidate_id}"))
    assert f"Ask to revoke {code}" in page and "Ask to revoke for EFRS" in page
    assert "EuSoMII then revokes it or reinstates it" in page
    assert "Revoke certificate" not in page
    confirm = client.post(f"/admin/certificates/{code}/revoke", data={"reason": REASON})
    assert confirm.status_code == 200
    words = _words(confirm)
    assert f"Suspend {code} and ask EuSoMII to revoke it?" in words
    assert "Suspend and ask EuSoMII to revoke" in words
    assert "Revoke certificate" not in words
    done = client.post(
        f"/admin/certificates/{code}/revoke",
        data={"reason": REASON, "confirmed": "yes"},
        follow_redirects=True,
    )
    assert f"Certificate {code} is suspended" in _words(done)
    client.post("/logout")

    # The second body's is a revocation.
    log_in(client, "tomasz@eusomii.example")
    page = _words(client.get(f"/admin/candidates/{candidate_id}"))
    assert "Revoke certificate" in page and "Ask to revoke" not in page
    assert "Revoke for EuSoMII" in page
    confirm = _words(client.post(f"/admin/certificates/{code}/revoke", data={"reason": REASON}))
    assert f"Revoke certificate {code}?" in confirm and "Suspend" not in confirm
