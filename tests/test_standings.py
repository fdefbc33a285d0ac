"""Standings kept up to date on every write: whatever changes a transcript changes who the
lists call eligible at once; a change of a programme's rules does through a standing job,
which the lists say is running; and time alone takes candidates out when their credits
leave the window."""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from certification.auth.services import create_api_token, get_candidate, get_user_by_email
from certification.catalogue.services import get_programme, programme_as_input, update_programme
from certification.certificates.services import search_candidates
from certification.extensions import db
from certification.imports.models import ImportKind
from certification.imports.services import commit_import
from certification.progress import first_day_outside_window
from certification.records import standings
from certification.records.models import (
    CreditRecord,
    ProgrammeStanding,
    StandingJob,
    StandingJobStatus,
)
from certification.records.services import record_credit, record_result, withdraw_credit
from certification.records.standings import (
    active_standing_job,
    refresh_standings,
    run_standing_job,
    stale_standing_jobs,
)
from tests.conftest import certificate_catalogue
from tests.test_api import Api


def eligible_names(programme: str, today: dt.date, query: str = "") -> list[str]:
    """Who the admin's candidate list shows as eligible for ``programme`` on ``today``."""
    statement = search_candidates(query, eligible_for=get_programme(programme), today=today)
    return [get_candidate(i).full_name for i in db.session.scalars(statement)]


def _catalogue(make_course, make_assessment, make_programme, **programme: Any) -> None:
    courses = {"EII-101": ("5", "AI"), "EII-102": ("5", "Standards"), "EII-103": ("5", "Standards")}
    factories = (make_course, make_assessment, make_programme)
    certificate_catalogue(
        *factories, courses, min_total_credits="10", domain_minimums={"Standards": "5"}, **programme
    )


def test_each_credit_and_result_moves_the_candidate_in_or_out_at_once(
    app, ctx, make_candidate, make_course, make_assessment, make_programme, today
):
    _catalogue(make_course, make_assessment, make_programme)
    person = get_candidate(make_candidate("Ada Ωmega", email="ada@example.org").id)
    record_credit(person, "EII-101", today, actor=None, today=today)
    record_credit(person, "EII-102", today, actor=None, today=today)
    assert eligible_names("EII-C", today) == []  # the examination is still to pass
    record_result(person, "CERT-EXAM", Decimal("59.5"), today, actor=None, today=today)
    assert eligible_names("EII-C", today) == []
    record_result(person, "CERT-EXAM", Decimal(60), today, actor=None, today=today)
    assert eligible_names("EII-C", today) == ["Ada Ωmega"]

    standards = db.session.scalar(
        sa.select(CreditRecord).join(CreditRecord.course).filter_by(code="EII-102")
    )
    withdraw_credit(standards, "Recorded by mistake", None, today=today)
    assert eligible_names("EII-C", today) == []
    db.session.commit()
    assert eligible_names("EII-C", today) == []


def test_an_import_makes_the_whole_cohort_eligible_in_one_go(
    app, ctx, make_candidate, make_course, make_assessment, make_programme, today
):
    _catalogue(make_course, make_assessment, make_programme)
    names = ["Željka Šimić", "Σοφία Αλεξίου", "Олена Коваленко"]
    for number, name in enumerate(names):
        make_candidate(name, email=f"c{number}@example.org")
    day = today.strftime("%d.%m.%Y")
    credits = "email;course_code;completed_on\r\n" + "".join(
        f"c{n}@example.org;{course};{day}\r\n"
        for n in range(3)
        for course in ("EII-101", "EII-102")
    )
    results = "email;assessment_code;score;taken_on\r\n" + "".join(
        f"c{n}@example.org;CERT-EXAM;{score};{day}\r\n"
        for n, score in enumerate(["61", "70,5", "12"])
    )
    commit_import(ImportKind.CREDITS, credits.encode(), actor=None, today=today)
    assert eligible_names("EII-C", today) == []
    commit_import(ImportKind.RESULTS, results.encode(), actor=None, today=today)
    db.session.commit()
    assert sorted(eligible_names("EII-C", today)) == sorted(["Željka Šimić", "Σοφία Αλεξίου"])


def test_a_rules_change_is_worked_out_for_everyone_by_a_job(
    app, ctx, eligible_candidate, make_programme, run_queue, today
):
    eligible_candidate("Jón Þórðarson")  # 10 ECTS and the examination (conftest)
    assert eligible_names("EII-C", today) == ["Jón Þórðarson"]
    programme = get_programme("EII-C")
    stricter = dataclasses.replace(programme_as_input(programme), min_total_credits=Decimal(15))
    update_programme(programme, stricter, None, today=today)
    db.session.commit()
    job = active_standing_job(programme)
    assert (job.total, job.done, job.percent_done) == (0, 0, 0)  # the worker counts them
    assert run_queue() == 1
    assert eligible_names("EII-C", today) == []
    assert active_standing_job(programme) is None

    looser = dataclasses.replace(stricter, min_total_credits=Decimal(10))
    update_programme(programme, looser, None, today=today)
    db.session.commit()
    assert run_queue() == 1
    assert eligible_names("EII-C", today) == ["Jón Þórðarson"]
    # A new programme is worked out for everyone already on the register.
    make_programme("EII-X", min_total_credits="5")
    assert run_queue() == 1
    assert eligible_names("EII-X", today) == ["Jón Þórðarson"]


def _register_of(count: int, make_candidate, make_course, make_assessment, make_programme, today):
    """``count`` candidates; every third meets EII-C under 10 ECTS, none under 15."""
    _catalogue(make_course, make_assessment, make_programme)
    for number in range(count):
        person = get_candidate(make_candidate(f"Kandidát {number:02}").id)
        record_credit(person, "EII-101", today, actor=None, today=today)
        if number % 3 == 0:
            record_credit(person, "EII-102", today, actor=None, today=today)
            record_result(person, "CERT-EXAM", Decimal(75), today, actor=None, today=today)
        db.session.commit()  # the factory writes in a session of its own


def _standings() -> list[tuple[int, int, bool, dt.date | None]]:
    return [
        tuple(row)
        for row in db.session.execute(
            sa.select(
                ProgrammeStanding.candidate_id,
                ProgrammeStanding.programme_id,
                ProgrammeStanding.met,
                ProgrammeStanding.lapses_on,
            ).order_by(ProgrammeStanding.candidate_id, ProgrammeStanding.programme_id)
        )
    ]


def _change_rules(today: dt.date, **changes: Any) -> StandingJob:
    programme = get_programme("EII-C")
    update_programme(
        programme, dataclasses.replace(programme_as_input(programme), **changes), None, today=today
    )
    db.session.commit()
    job = active_standing_job(programme)
    assert job is not None
    return job


class Killed(BaseException):
    """What a SIGKILL does to a runner: it stops, and nothing after it runs."""


def test_a_job_killed_mid_way_carries_on_and_ends_as_an_uninterrupted_run_would(
    app, ctx, make_candidate, make_course, make_assessment, make_programme, today, monkeypatch
):
    _register_of(11, make_candidate, make_course, make_assessment, make_programme, today)
    assert len(eligible_names("EII-C", today)) == 4
    ids = sorted(db.session.scalars(sa.select(CreditRecord.candidate_id).distinct()))
    job = _change_rules(
        today, min_total_credits=Decimal(5), domain_minimums={}, required_assessments=()
    )
    job_id = job.id
    assert len(eligible_names("EII-C", today)) == 4  # not yet worked out again

    computed: list[list[int]] = []
    real_refresh = standings._refresh_range

    def refresh(chunk: list[int], *args: Any) -> None:
        real_refresh(chunk, *args)
        computed.append(chunk)
        if len(computed) == 3:
            raise Killed  # the third chunk is worked out, but never committed

    monkeypatch.setattr(standings, "_refresh_range", refresh)
    seen: list[int] = []
    with pytest.raises(Killed):
        run_standing_job(job_id, today, chunk_size=2, after_chunk=lambda j: seen.append(j.done))
    db.session.rollback()
    assert seen == [2, 4]  # two chunks committed, and the jobs page showed them
    job = db.session.get(StandingJob, job_id, populate_existing=True)
    assert (job.done, job.percent_done, job.is_active) == (4, 36, True)

    # Nobody runs it now: the sweep finds it (at once for a dead process on this host;
    # here, the same process, once the heartbeat is old), and a new runner may claim it.
    later = job.heartbeat_at + dt.timedelta(seconds=app.config["JOB_STALE_SECONDS"] + 1)
    assert stale_standing_jobs() == []
    assert stale_standing_jobs(now=later) == [job_id]
    assert run_standing_job(job_id, today, chunk_size=2) is None  # held, and beating
    app.config["JOB_STALE_SECONDS"] = 0  # as much later as the sweep said
    run_standing_job(job_id, today, chunk_size=2)
    job = db.session.get(StandingJob, job_id, populate_existing=True)
    assert (job.status, job.done, job.percent_done) == (StandingJobStatus.DONE, 11, 100)

    # Each committed chunk was worked out once; only the one killed before its commit twice.
    chunks = [ids[start : start + 2] for start in range(0, 11, 2)]
    assert computed == [*chunks[:3], *chunks[2:]]
    assert len(eligible_names("EII-C", today)) == 11
    resumed = _standings()
    refresh_standings(None, today)  # the uninterrupted way: everyone, in one go
    db.session.commit()
    assert _standings() == resumed


def test_a_second_change_replaces_the_running_job(
    app, ctx, make_candidate, make_course, make_assessment, make_programme, today
):
    _register_of(5, make_candidate, make_course, make_assessment, make_programme, today)
    first = _change_rules(today, min_total_credits=Decimal(15))
    with pytest.raises(Killed):
        run_standing_job(first.id, today, chunk_size=2, after_chunk=lambda _: _stop())
    db.session.rollback()
    second = _change_rules(today, min_total_credits=Decimal(10))
    assert db.session.get(StandingJob, first.id).status == StandingJobStatus.SUPERSEDED
    assert run_standing_job(first.id, today).status == StandingJobStatus.SUPERSEDED
    assert run_standing_job(second.id, today).status == StandingJobStatus.DONE
    assert len(eligible_names("EII-C", today)) == 2


def _stop() -> None:
    raise Killed


def test_time_alone_takes_a_candidate_out_when_the_credits_leave_the_window(
    app, ctx, make_candidate, make_course, make_assessment, make_programme, today
):
    _catalogue(make_course, make_assessment, make_programme, credit_window_months=24)
    person = get_candidate(make_candidate("Ana Ćosić").id)
    old = today - dt.timedelta(days=700)  # inside 24 months, for another month or so
    record_credit(person, "EII-101", old, actor=None, today=today)
    record_credit(person, "EII-102", today, actor=None, today=today)
    record_credit(person, "EII-103", today, actor=None, today=today)
    record_result(person, "CERT-EXAM", Decimal(80), today, actor=None, today=today)
    db.session.commit()

    # 15 credits; the old 5 are not needed for the total. Nothing is written from now on.
    lapse = first_day_outside_window(old, 24)
    assert eligible_names("EII-C", lapse) == ["Ana Ćosić"]
    later = first_day_outside_window(today, 24)
    assert eligible_names("EII-C", later - dt.timedelta(days=1)) == ["Ana Ćosić"]
    assert eligible_names("EII-C", later) == []
    standing = db.session.scalars(sa.select(ProgrammeStanding)).one()
    assert (standing.met, standing.lapses_on) == (True, later)


def test_two_credits_recorded_at_the_same_moment_both_count(
    app, make_admin, make_candidate, make_course, make_assessment, make_programme, today
):
    """Each writer works out the standing from what the other committed: on PostgreSQL
    the candidate's row is locked, and neither writer deadlocks on the other's foreign-key
    lock; on SQLite the writers take turns."""
    _catalogue(make_course, make_assessment, make_programme)
    admin = make_admin()
    with app.app_context():
        token = create_api_token(get_user_by_email(admin.email), "LMS")
        db.session.commit()
    rounds = 12
    people = [make_candidate(f"Person {n}", email=f"p{n}@example.org").id for n in range(rounds)]
    taken_on = (today - dt.timedelta(days=10)).isoformat()
    for person in people:
        passed = Api(app.test_client(), token).post(
            f"/candidates/{person}/results",
            {"assessment": "CERT-EXAM", "score": 90, "taken_on": taken_on},
        )
        assert passed.status_code == 201

    def record_both_at_once(person: int) -> list[int]:
        barrier = threading.Barrier(2)
        statuses: list[int] = []

        def record(course: str) -> None:
            api = Api(app.test_client(), token)
            barrier.wait()
            response = api.post(
                f"/candidates/{person}/credits", {"course": course, "completed_on": taken_on}
            )
            statuses.append(response.status_code)

        threads = [threading.Thread(target=record, args=(c,)) for c in ("EII-101", "EII-102")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return statuses

    for person in people:
        assert record_both_at_once(person) == [201, 201]

    with app.app_context():
        assert sorted(eligible_names("EII-C", today)) == sorted(
            f"Person {n}" for n in range(rounds)
        )


def test_while_standings_are_recomputed_the_ready_list_says_so_and_starts_no_job(
    app, client, auth, make_admin, eligible_candidate, run_queue, today
):
    for name in ("Αικατερίνη Παπαδοπούλου", "Jan Novák"):
        eligible_candidate(name)
    auth.login(make_admin().email)
    with app.app_context():
        _change_rules(today, min_total_credits=Decimal(15))  # nobody meets it any more

    page = client.get("/admin/programmes/EII-C/eligible").get_data(as_text=True)
    assert "Standings being recomputed: 0 %" in page
    assert "Jan Novák" in page  # the old rules, said to be so
    assert "Issue to everyone eligible" not in page
    refused = client.post("/admin/programmes/EII-C/issue-job")
    assert refused.status_code == 422
    assert "being worked out again after its rules changed (0 % done)" in refused.get_data(
        as_text=True
    )
    jobs = client.get("/admin/jobs").get_data(as_text=True)
    assert "Waiting for a worker" in jobs and "Standings worked out again" in jobs

    assert run_queue() == 1
    page = client.get("/admin/programmes/EII-C/eligible").get_data(as_text=True)
    assert "Standings being recomputed" not in page
    assert "Jan Novák" not in page
    jobs = client.get("/admin/jobs").get_data(as_text=True)
    assert "100 %" in jobs
