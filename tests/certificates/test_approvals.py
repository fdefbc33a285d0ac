"""Approval by both bodies: a jointly approved award is requested by the office, approved
by an officer of each body (each body's seal only after its approval), rejected, suspended
by one body and revoked or reinstated by the other; and what verifiers, holders and the
audit trail see of it. Through the API as integrators and officers' tools call it, and
through the officers' pages."""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import re
import threading

import pytest
import sqlalchemy as sa

from certification.audit import AuditEvent
from certification.catalogue.models import Programme
from certification.catalogue.services import (
    get_programme,
    programme_as_input,
    update_programme,
)
from certification.certificates.models import AwardRequest, Certificate
from certification.certificates.settings import current_settings, trust_roots
from certification.certificates.signing import check_seals
from certification.dates import format_long_date
from certification.extensions import db
from certification.mail.models import OutgoingEmail
from tests.certificates.test_admin_certificates import png
from tests.conftest import Api, assert_error, change_logo, log_in
from tests.test_cli import empty_app  # noqa: F401 - the fixture, on both databases

REASON = "The examination result was recorded against the wrong candidate."


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def make_joint(app, code: str = "EII-C") -> None:
    """Put programme ``code`` under approval by both bodies (the product's default)."""
    from certification.web import today

    with app.app_context():
        programme = get_programme(code)
        data = dataclasses.replace(programme_as_input(programme), approval="both_bodies")
        update_programme(programme, data, None, today=today())
        db.session.commit()


@pytest.fixture
def bodies(client, app, api, make_officer, make_api_token, eligible_candidate):
    """EII-C jointly approved; the office's API, and each body's officer's."""
    eligible_candidate  # noqa: B018 - the programme, before it is made joint
    make_officer("EFRS", "sofia@efrs.example", "Sofia Andersson")
    make_officer("EuSoMII", "tomasz@eusomii.example", "Tomasz Nowak")
    make_joint(app)
    return {
        "office": api,
        "EFRS": Api(client, make_api_token("sofia@efrs.example")),
        "EuSoMII": Api(client, make_api_token("tomasz@eusomii.example")),
    }


def request_for(bodies, candidate_id: int) -> str:
    response = bodies["office"].post(
        "/certificates", {"candidate_id": candidate_id, "programme": "EII-C"}
    )
    assert response.status_code == 202, response.get_json()
    return response.get_json()["code"]


def test_a_request_stays_pending_and_unverifiable_until_both_bodies_approve(
    app, client, bodies, eligible_candidate, today
):
    candidate_id = eligible_candidate("Αικατερίνη Παπαδοπούλου")
    response = bodies["office"].post(
        "/certificates", {"candidate_id": candidate_id, "programme": "eii-c"}
    )
    assert response.status_code == 202
    answer = response.get_json()
    code = answer["code"]
    assert answer == {
        "code": code,
        "status": "pending_approval",
        "candidate_id": candidate_id,
        "programme": "EII-C",
        "replaces": None,
        "approvals": [
            {"body": "EFRS", "approved_on": None, "by": None},
            {"body": "EuSoMII", "approved_on": None, "by": None},
        ],
        "rejected_by": None,
        "rejection_reason": None,
    }
    assert response.headers["Location"] == f"/api/v1/certificates/{code}/approvals"
    assert client.get(f"/api/v1/verify/{code}").status_code == 404
    assert client.get(f"/verify/{code}").status_code == 404
    # The holder is told where it stands.
    log_in(client, "eligible1@example.org")
    page = text(client.get("/me/"))
    assert "Awaiting approval by EFRS and EuSoMII" in page
    client.post("/logout")

    efrs = bodies["EFRS"].post(f"/certificates/{code}/approve", {})
    assert efrs.status_code == 200, efrs.get_json()
    assert efrs.get_json()["status"] == "pending_approval"
    assert efrs.get_json()["approvals"] == [
        {"body": "EFRS", "approved_on": today.isoformat(), "by": "Sofia Andersson"},
        {"body": "EuSoMII", "approved_on": None, "by": None},
    ]
    assert client.get(f"/api/v1/verify/{code}").status_code == 404
    with app.app_context():
        assert db.session.scalar(sa.select(Certificate).where(Certificate.code == code)) is None

    eusomii = bodies["EuSoMII"].post(f"/certificates/{code}/approve", {})
    assert eusomii.status_code == 200
    assert eusomii.get_json()["status"] == "valid"
    verified = client.get(f"/api/v1/verify/{code}").get_json()
    assert verified["status"] == "valid"
    assert verified["holder_name"] == "Αικατερίνη Παπαδοπούλου"
    assert verified["approvals"] == [
        {"body": "EFRS", "approved_on": today.isoformat()},
        {"body": "EuSoMII", "approved_on": today.isoformat()},
    ]
    page = client.get(f"/verify/{code}")
    words = text(page)
    assert f"by EFRS on {format_long_date(today)}" in words
    assert f"by EuSoMII on {format_long_date(today)}" in words
    # Never the officers' names or addresses.
    for secret in ("Sofia", "Tomasz", "efrs.example", "eusomii.example"):
        assert secret not in words
        assert secret not in client.get(f"/api/v1/verify/{code}").get_data(as_text=True)

    with app.app_context():
        certificate = db.session.scalar(sa.select(Certificate).where(Certificate.code == code))
        seals = check_seals(certificate.pdf, trust_roots(current_settings().trust_root_paths))
        assert sorted(s.field for s in seals) == ["Document-timestamp", "EFRS-seal", "EuSoMII-seal"]
        assert all(s.ok for s in seals)
        # The holder is told once it is issued, not before.
        sent = db.session.scalars(
            sa.select(OutgoingEmail.subject).where(
                OutgoingEmail.recipient == "eligible1@example.org"
            )
        ).all()
        assert len(sent) == 1 and code in sent[0]


def test_a_body_approves_once_and_only_for_itself(bodies, eligible_candidate):
    code = request_for(bodies, eligible_candidate())
    assert bodies["EFRS"].post(f"/certificates/{code}/approve", {}).status_code == 200
    assert_error(bodies["EFRS"].post(f"/certificates/{code}/approve", {}), 409, "already_approved")
    assert_error(
        bodies["EFRS"].post(f"/certificates/{code}/approve", {"body": "EuSoMII"}),
        403,
        "forbidden",
        {"body"},
    )
    # The programme office requests; it never approves.
    assert_error(bodies["office"].post(f"/certificates/{code}/approve", {}), 403, "forbidden")
    assert_error(
        bodies["office"].post(f"/certificates/{code}/reject", {"reason": REASON}), 403, "forbidden"
    )
    assert bodies["office"].get(f"/certificates/{code}/approvals").get_json()["status"] == (
        "pending_approval"
    )


def test_the_office_cannot_approve_even_by_calling_the_service(app, bodies, eligible_candidate):
    from certification.auth.services import get_user_by_email
    from certification.certificates.approvals import approve_request, find_request
    from certification.errors import Forbidden

    code = request_for(bodies, eligible_candidate())
    with app.app_context():
        office = get_user_by_email("integrator@example.org")
        with pytest.raises(Forbidden):
            approve_request(find_request(code), office, today=dt.date.today())
        with pytest.raises(Forbidden):
            approve_request(find_request(code), None, today=dt.date.today())


def test_approvals_by_both_bodies_at_once_give_one_certificate_with_two_seals(
    app, bodies, eligible_candidate
):
    code = request_for(bodies, eligible_candidate())
    answers: dict[str, int] = {}
    start = threading.Barrier(2)

    def approve(body: str) -> None:
        with app.test_client() as own_client:
            api = Api(own_client, bodies[body].token)
            start.wait()
            answers[body] = api.post(f"/certificates/{code}/approve", {}).status_code

    threads = [threading.Thread(target=approve, args=(body,)) for body in ("EFRS", "EuSoMII")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == {"EFRS": 200, "EuSoMII": 200}
    with app.app_context():
        certificates = db.session.scalars(sa.select(Certificate)).all()
        assert [c.code for c in certificates] == [code]
        seals = check_seals(certificates[0].pdf, trust_roots(current_settings().trust_root_paths))
        assert [s.kind for s in seals] == ["seal", "seal", "timestamp"]
        assert all(s.ok for s in seals)
        request = db.session.scalar(sa.select(AwardRequest).where(AwardRequest.code == code))
        assert request.state.value == "valid" and len(request.approvals) == 2


def test_a_rejected_request_issues_nothing_and_may_be_requested_again(
    app, client, bodies, eligible_candidate
):
    candidate_id = eligible_candidate()
    code = request_for(bodies, candidate_id)
    assert_error(
        bodies["office"].post(
            "/certificates", {"candidate_id": candidate_id, "programme": "EII-C"}
        ),
        409,
        "already_requested",
    )
    assert_error(
        bodies["EuSoMII"].post(f"/certificates/{code}/reject", {"reason": "no"}),
        422,
        "invalid",
        {"reason"},
    )
    rejected = bodies["EuSoMII"].post(f"/certificates/{code}/reject", {"reason": REASON})
    assert rejected.status_code == 200
    assert rejected.get_json()["status"] == "rejected"
    assert rejected.get_json()["rejected_by"] == "EuSoMII"
    assert rejected.get_json()["rejection_reason"] == REASON
    assert_error(bodies["EFRS"].post(f"/certificates/{code}/approve", {}), 409, "not_pending")
    assert client.get(f"/api/v1/verify/{code}").status_code == 404
    again = request_for(bodies, candidate_id)
    assert again != code


def issued_jointly(bodies, candidate_id: int) -> str:
    code = request_for(bodies, candidate_id)
    for body in ("EFRS", "EuSoMII"):
        assert bodies[body].post(f"/certificates/{code}/approve", {}).status_code == 200
    return code


def test_suspension_by_one_body_then_revocation_by_the_other(
    app, client, bodies, eligible_candidate, today
):
    code = issued_jointly(bodies, eligible_candidate())
    assert_error(
        bodies["office"].post(f"/certificates/{code}/revoke", {"reason": REASON}), 403, "forbidden"
    )
    suspended = bodies["EFRS"].post(f"/certificates/{code}/revoke", {"reason": REASON})
    assert suspended.status_code == 200
    assert suspended.get_json()["status"] == "suspended"
    answer = client.get(f"/api/v1/verify/{code}").get_json()
    assert (answer["status"], answer["suspended_by"], answer["suspension_reason"]) == (
        "suspended",
        "EFRS",
        REASON,
    )
    assert answer["suspended_on"] == today.isoformat()
    page = text(client.get(f"/verify/{code}"))
    assert "status-banner status-bad" in page
    assert f"Suspended — revocation requested by EFRS on {format_long_date(today)}" in page
    assert REASON in page
    assert "Valid until" not in page

    assert_error(
        bodies["EFRS"].post(f"/certificates/{code}/revoke", {"reason": REASON}),
        409,
        "already_suspended",
    )
    revoked = bodies["EuSoMII"].post(f"/certificates/{code}/revoke", {"reason": REASON})
    assert revoked.get_json()["status"] == "revoked"
    answer = client.get(f"/api/v1/verify/{code}").get_json()
    assert (answer["status"], answer["revoked_on"]) == ("revoked", today.isoformat())
    assert f"Revoked on {format_long_date(today)}" in text(client.get(f"/verify/{code}"))
    with app.app_context():
        events = db.session.execute(
            sa.select(AuditEvent.action, AuditEvent.after)
            .where(AuditEvent.object_id == code)
            .order_by(AuditEvent.id)
        ).all()
        actions = [action for action, _ in events]
        assert actions == [
            "certificate.requested",
            "certificate.approved",
            "certificate.approved",
            "certificate.issued",
            "certificate.suspended",
            "certificate.revoked",
            "award_hold.placed",
        ]
        assert events[4][1]["body"] == "EFRS"
        assert (events[5][1]["body"], events[5][1]["requested_by"]) == ("EuSoMII", "EFRS")


def test_suspension_then_reinstatement_by_the_other_body(client, bodies, eligible_candidate):
    code = issued_jointly(bodies, eligible_candidate())
    bodies["EuSoMII"].post(f"/certificates/{code}/revoke", {"reason": REASON})
    assert_error(
        bodies["EuSoMII"].post(f"/certificates/{code}/reinstate", {"reason": "Declined."}),
        409,
        "own_suspension",
    )
    assert_error(
        bodies["office"].post(f"/certificates/{code}/reinstate", {"reason": "Declined."}),
        403,
        "forbidden",
    )
    reinstated = bodies["EFRS"].post(
        f"/certificates/{code}/reinstate", {"reason": "The result was checked and is right."}
    )
    assert reinstated.status_code == 200
    assert reinstated.get_json()["status"] == "valid"
    answer = client.get(f"/api/v1/verify/{code}").get_json()
    assert (answer["status"], answer["suspended_on"], answer["suspension_reason"]) == (
        "valid",
        None,
        None,
    )
    assert "status-banner status-ok" in text(client.get(f"/verify/{code}"))
    assert_error(
        bodies["EFRS"].post(f"/certificates/{code}/reinstate", {"reason": "Again, why not."}),
        409,
        "not_suspended",
    )


def test_a_reissue_needs_both_approvals_and_the_old_one_stays_valid_until_then(
    client, bodies, eligible_candidate
):
    old = issued_jointly(bodies, eligible_candidate("Lukasz Wisniewski"))
    asked = bodies["office"].post(
        f"/certificates/{old}/reissue", {"full_name": "Łukasz Wiśniewski"}
    )
    assert asked.status_code == 202, asked.get_json()
    new = asked.get_json()["code"]
    assert asked.get_json()["replaces"] == old
    assert client.get(f"/api/v1/verify/{old}").get_json()["status"] == "valid"
    assert client.get(f"/api/v1/verify/{new}").status_code == 404
    for body in ("EuSoMII", "EFRS"):
        bodies[body].post(f"/certificates/{new}/approve", {})
    assert client.get(f"/api/v1/verify/{old}").get_json()["superseded_by"] == new
    replacement = client.get(f"/api/v1/verify/{new}").get_json()
    assert (replacement["status"], replacement["holder_name"]) == ("valid", "Łukasz Wiśniewski")


def test_branding_changed_between_approvals_prints_as_each_body_approved(
    app, bodies, eligible_candidate
):
    from certification.auth.services import get_user_by_email

    early = issued_jointly(bodies, eligible_candidate())
    code = request_for(bodies, eligible_candidate())
    bodies["EFRS"].post(f"/certificates/{code}/approve", {})
    with app.app_context():
        officer = get_user_by_email("tomasz@eusomii.example")
        change_logo("EuSoMII", png("purple", (40, 40)), officer)
        db.session.commit()
    bodies["EuSoMII"].post(f"/certificates/{code}/approve", {})
    with app.app_context():
        by_code = {c.code: c for c in db.session.scalars(sa.select(Certificate))}
        before, after = by_code[early].issuers[1], by_code[code].issuers[1]
        assert before["logo_sha256"] != after["logo_sha256"]  # the new logo, approved after
        assert by_code[early].issuers[0] == by_code[code].issuers[0]  # EFRS unchanged


def test_an_award_the_office_issues_alone_is_issued_at_once(app, api, eligible_candidate):
    response = api.post(
        "/certificates", {"candidate_id": eligible_candidate(), "programme": "EII-C"}
    )
    assert response.status_code == 201
    assert response.get_json()["approvals"] == []


def test_the_approval_policy_is_set_and_returned_through_the_api(api):
    base = {
        "code": "EII-X",
        "title": "Experimental award",
        "level": "certificate",
        "min_total_credits": 5,
        "domain_minimums": {},
        "required_assessments": [],
        "prerequisite": None,
        "validity_months": None,
    }
    default = api.post("/programmes", base)
    assert default.status_code == 201
    assert default.get_json()["approval"] == "both_bodies"
    # Delegating to the office is the bodies' decision, never the office's own.
    body = assert_error(
        api.post("/programmes", {**base, "code": "EII-Y", "approval": "office"}),
        403,
        "forbidden",
        {"approval"},
    )
    assert body["field"] == "approval"
    assert_error(
        api.post("/programmes", {**base, "code": "EII-Z", "approval": "anyone"}),
        400,
        "malformed",
        {"approval"},
    )


# ------------------------------------------------------------------ the officers' pages


def test_officers_approve_from_their_queue_and_the_holder_is_issued(
    app, client, bodies, eligible_candidate
):
    code = request_for(bodies, eligible_candidate("Zeynep Çelik"))
    log_in(client, "sofia@efrs.example")
    queue = client.get("/admin/")
    assert queue.status_code == 302 and queue.headers["Location"].endswith("/admin/approvals")
    page = text(client.get("/admin/approvals"))
    assert "Awaiting EFRS's approval" in page and "Zeynep Çelik" in page and code in page
    # The standing the officer approves on: the credits by domain and the results passed.
    words = re.sub(r"<[^>]+>", "", page)
    assert "AI & Data Science" in words and "Passed CERT-EXAM: 72 on" in words
    done = client.post(f"/admin/approvals/{code}/approve", follow_redirects=True)
    assert f"Approved {code} for EFRS; it awaits EuSoMII." in text(done)
    assert "Nothing is awaiting EFRS's approval." in text(done)
    client.post("/logout")

    log_in(client, "tomasz@eusomii.example")
    done = client.post(f"/admin/approvals/{code}/approve", follow_redirects=True)
    assert f"certificate {code} is sealed and issued to Zeynep Çelik" in text(done)
    assert client.get(f"/api/v1/verify/{code}").get_json()["status"] == "valid"


def test_an_officer_rejects_with_a_reason_kept_as_typed_when_refused(
    client, bodies, eligible_candidate
):
    code = request_for(bodies, eligible_candidate())
    log_in(client, "tomasz@eusomii.example")
    refused = client.post(f"/admin/approvals/{code}/reject", data={"reason": "no"})
    assert refused.status_code == 422
    assert "no</textarea>" in text(refused)  # as typed
    assert "Too short for a verifier to understand" in text(refused)
    done = client.post(
        f"/admin/approvals/{code}/reject", data={"reason": REASON}, follow_redirects=True
    )
    assert f"Rejected {code} for EuSoMII" in text(done)


def test_the_office_requests_from_the_candidate_page(app, client, bodies, eligible_candidate):
    candidate_id = eligible_candidate()
    log_in(client, "integrator@example.org")
    page = text(client.get(f"/admin/candidates/{candidate_id}"))
    assert "Request certificate" in page
    done = client.post(
        f"/admin/candidates/{candidate_id}/certificates",
        data={"programme": "EII-C"},
        follow_redirects=True,
    )
    words = text(done)
    assert "awaits approval by EFRS and EuSoMII" in words
    assert "Request certificate" not in words  # requested once: no second button
    assert client.get("/admin/approvals").status_code == 200


def test_a_bulk_job_requests_the_award_for_everyone_eligible(app, bodies, eligible_candidate):
    from certification.certificates import bulk
    from certification.web import today

    for name in ("Ana", "Bo", "Cy"):
        eligible_candidate(name)
    with app.app_context():
        job = bulk.start_issue_job(get_programme("EII-C"), None, today=today(), queue=False)
        db.session.commit()
        progress = bulk.run_issue_job(job.id, today=today(), processes=1)
        assert progress is not None and progress.issued == 3
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Certificate)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AwardRequest)) == 3


# ------------------------------------------------------------------ many at once


def test_officers_approve_many_at_once_as_jobs_and_the_second_body_issues(
    app, client, bodies, eligible_candidate, run_queue, monkeypatch
):
    codes = [request_for(bodies, eligible_candidate(name)) for name in ("Ana", "Bo", "Cy")]
    # One is rejected by EuSoMII before EFRS's job runs: EFRS's job skips it.
    bodies["EuSoMII"].post(f"/certificates/{codes[2]}/reject", {"reason": REASON})

    log_in(client, "sofia@efrs.example")
    started = client.post("/admin/approvals/approve-many", data={"codes": codes})
    assert started.status_code == 303 and "/admin/jobs/" in started.headers["Location"]
    assert run_queue() >= 1
    job_page = text(client.get(started.headers["Location"]))
    assert "Approving requests for the European Certificate in Imaging Informatics for EFRS" in (
        job_page
    )
    with app.app_context():
        requests = {r.code: r for r in db.session.scalars(sa.select(AwardRequest)).all()}
        assert [a.body for a in requests[codes[0]].approvals] == ["EFRS"]
        assert requests[codes[2]].approvals == []  # rejected: skipped
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Certificate)) == 0
    client.post("/logout")

    # EuSoMII approves everything awaiting it, in a pool of two processes; the PDFs sealed
    # there are the ones stored (the job never renders one again while storing).
    log_in(client, "tomasz@eusomii.example")
    app.config["ISSUE_PROCESSES"] = 2

    def rendered_again(*_):
        raise AssertionError("rendered again while storing")

    monkeypatch.setattr("certification.certificates.approvals.render_and_seal", rendered_again)
    started = client.post("/admin/approvals/approve-many", data={"everything": "yes"})
    assert started.status_code == 303
    assert run_queue() >= 1
    with app.app_context():
        issued = db.session.scalars(sa.select(Certificate).order_by(Certificate.code)).all()
        assert sorted(c.code for c in issued) == sorted(codes[:2])
        for certificate in issued:
            seals = check_seals(certificate.pdf, trust_roots(current_settings().trust_root_paths))
            assert sorted(s.field for s in seals if not s.is_timestamp) == [
                "EFRS-seal",
                "EuSoMII-seal",
            ]
            assert all(s.ok for s in seals)
            assert [a["body"] for a in certificate.approvals] == ["EFRS", "EuSoMII"]
    page = text(client.get("/admin/approvals"))
    assert "Nothing is awaiting EuSoMII's approval." in page


def test_a_bulk_approval_of_nothing_left_says_so(client, bodies, eligible_candidate):
    code = request_for(bodies, eligible_candidate())
    bodies["EFRS"].post(f"/certificates/{code}/approve", {})
    log_in(client, "sofia@efrs.example")
    refused = client.post("/admin/approvals/approve-many", data={"codes": [code]})
    assert refused.status_code == 422
    assert "Nothing chosen awaits EFRS's approval any more." in text(refused)


# ------------------------------------------------------------------ the migration

BEFORE_APPROVALS = "a4d7c2e9f1b3"  # the revision before approval by both bodies


def test_the_migration_takes_existing_certificates_as_approved_by_both_on_their_issue_day(
    empty_app,  # noqa: F811
):
    runner = empty_app.test_cli_runner()
    assert runner.invoke(args=["init-db"]).exit_code == 0
    seeded = runner.invoke(args=["seed-demo"])
    assert seeded.exit_code == 0, seeded.output
    for _ in range(2):  # down to the release before, and up again, twice
        down = runner.invoke(args=["db", "downgrade", BEFORE_APPROVALS])
        assert down.exit_code == 0, down.output
        up = runner.invoke(args=["db", "upgrade", "heads"])
        assert up.exit_code == 0, up.output
        with empty_app.app_context():
            certificates = db.session.scalars(sa.select(Certificate)).all()
            assert len(certificates) == 2
            for certificate in certificates:
                day = certificate.issued_on.isoformat()
                assert certificate.approvals == [
                    {"body": "EFRS", "approved_on": day},
                    {"body": "EuSoMII", "approved_on": day},
                ]
                noted = db.session.scalars(
                    sa.select(AuditEvent.after).where(
                        AuditEvent.object_id == certificate.code,
                        AuditEvent.action == "certificate.approved",
                        AuditEvent.actor_id.is_(None),
                    )
                ).all()
                assert noted and "taken as approved by both bodies" in noted[-1]["note"]
            approvals = db.session.scalars(sa.select(Programme.approval)).all()
            assert {a.value for a in approvals} == {"both_bodies"}
            db.session.remove()


# ------------------------------------------------------------------ the officers' digest


def test_each_officer_gets_one_digest_a_day_of_what_awaits_their_body(
    app, bodies, eligible_candidate, today
):
    from certification.mail.services import queue_approval_digests

    first = request_for(bodies, eligible_candidate("Ana Novak"))
    second = request_for(bodies, eligible_candidate("Jón Þórðarson"))
    bodies["EFRS"].post(f"/certificates/{first}/approve", {})
    with app.app_context():
        assert queue_approval_digests(today) == 2
        db.session.commit()
        assert queue_approval_digests(today) == 0  # once a day
        digests = {
            e.recipient: e
            for e in db.session.scalars(
                sa.select(OutgoingEmail).where(OutgoingEmail.kind == "approvals_digest")
            )
        }
    efrs, eusomii = digests["sofia@efrs.example"], digests["tomasz@eusomii.example"]
    assert efrs.subject == "1 certificate request awaits EFRS's approval"
    assert "Jón Þórðarson" in efrs.text_body and "Ana Novak" not in efrs.text_body
    assert eusomii.subject == "2 certificate requests await EuSoMII's approval"
    assert "Ana Novak" in eusomii.text_body and "Jón Þórðarson" in eusomii.text_body
    assert "/admin/approvals" in eusomii.text_body
    with app.app_context():  # still waiting the next day: written again
        assert queue_approval_digests(today + dt.timedelta(days=1)) == 2
        db.session.commit()
    for code in (first, second):
        bodies["EuSoMII"].post(f"/certificates/{code}/reject", {"reason": REASON})
    with app.app_context():  # nothing waits any more: nothing written
        assert queue_approval_digests(today + dt.timedelta(days=2)) == 0


def test_an_operator_records_the_bodies_delegation_and_the_audit_keeps_it(app, runner, api):
    from certification.catalogue.services import get_programme as programme_named

    base = {
        "code": "EII-X",
        "title": "Experimental award",
        "level": "certificate",
        "min_total_credits": 5,
        "domain_minimums": {},
        "required_assessments": [],
        "prerequisite": None,
        "validity_months": None,
    }
    assert api.post("/programmes", base).status_code == 201
    done = runner.invoke(
        args=["set-approval", "eii-x", "office", "--decision", "Joint board minutes 2026-11"]
    )
    assert done.exit_code == 0, done.output
    with app.app_context():
        assert programme_named("EII-X").approval.value == "office"
        event = db.session.scalar(
            sa.select(AuditEvent).where(AuditEvent.action == "programme.approval_set")
        )
        assert event.after == {"approval": "office", "decision": "Joint board minutes 2026-11"}


def test_the_last_approval_checks_the_requirements_again(app, bodies, eligible_candidate):
    from certification.auth.services import get_candidate
    from certification.records.services import load_transcript, withdraw_credit
    from certification.web import today

    candidate_id = eligible_candidate()
    code = request_for(bodies, candidate_id)
    bodies["EFRS"].post(f"/certificates/{code}/approve", {})
    with app.app_context():
        credit = load_transcript(get_candidate(candidate_id)).credits[0]
        withdraw_credit(credit, "Recorded against the wrong candidate.", None, today=today())
        db.session.commit()
    refused = bodies["EuSoMII"].post(f"/certificates/{code}/approve", {})
    assert_error(refused, 422, "requirements_not_met")
    assert count_certificates(app) == 0


def count_certificates(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(Certificate)) or 0


def test_a_bulk_approval_approves_only_the_requests_chosen(app, bodies, eligible_candidate):
    from certification.auth.services import get_user_by_email
    from certification.certificates import bulk
    from certification.web import today

    candidate_id = eligible_candidate()
    chosen = request_for(bodies, candidate_id)
    with app.app_context():
        officer = get_user_by_email("sofia@efrs.example")
        (job,) = bulk.start_approval_jobs(officer, [chosen], today=today(), queue=False)
        db.session.commit()
        job_id = job.id
    # Before the job runs, the chosen request is rejected and the award requested again.
    bodies["EuSoMII"].post(f"/certificates/{chosen}/reject", {"reason": REASON})
    again = request_for(bodies, candidate_id)
    with app.app_context():
        progress = bulk.run_issue_job(job_id, today=today(), processes=1)
        assert progress is not None and progress.skipped == 1 and progress.issued == 0
    answer = bodies["office"].get(f"/certificates/{again}/approvals").get_json()
    assert answer["approvals"][0] == {"body": "EFRS", "approved_on": None, "by": None}


def test_a_suspension_pending_when_the_certificate_lapses_ends_with_it(
    client, bodies, eligible_candidate, today
):
    code = issued_jointly(bodies, eligible_candidate())
    bodies["EFRS"].post(f"/certificates/{code}/revoke", {"reason": REASON})
    answer = client.get(f"/api/v1/verify/{code}").get_json()
    assert answer["status"] == "suspended"
    later = dt.date.fromisoformat(answer["expires_on"]) + dt.timedelta(days=1)
    from certification.certificates.public import public_certificate

    with client.application.app_context():
        assert public_certificate(code).status_on(later).value == "expired"


def test_officers_do_not_reinstate_an_award_the_office_issues_alone(
    app, client, api, make_officer, make_api_token, eligible_candidate
):
    make_officer("EFRS", "sofia@efrs.example")
    code = api.post(
        "/certificates", {"candidate_id": eligible_candidate(), "programme": "EII-C"}
    ).get_json()["code"]
    officer = Api(client, make_api_token("sofia@efrs.example"))
    assert_error(officer.post(f"/certificates/{code}/revoke", {"reason": REASON}), 403, "forbidden")
    assert_error(
        officer.post(f"/certificates/{code}/reinstate", {"reason": REASON}), 403, "forbidden"
    )


def test_a_sample_certificate_is_never_sealed_with_the_bodies_keys(app, today):
    from certification.certificates.services import sample_certificate, verify_pdf

    with app.app_context():
        sample = sample_certificate("Αικατερίνη Παπαδοπούλου")
        seals = check_seals(sample.pdf, trust_roots(current_settings().trust_root_paths))
        assert sorted(s.field for s in seals) == ["EFRS-seal", "EuSoMII-seal"]
        assert all(s.intact and s.valid for s in seals)  # a real seal, of throwaway keys
        assert not any(s.trusted for s in seals)  # that the bodies' roots do not vouch for
        assert not verify_pdf(sample.pdf, today).authentic
