"""Imports through the services, on SQLite and PostgreSQL: all or nothing, once only."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from certification.audit import AuditEvent
from certification.auth.models import Role
from certification.auth.services import get_candidate, get_user_by_email
from certification.extensions import db
from certification.imports import services as imports
from certification.imports.models import ImportKind
from certification.imports.services import (
    ImportRefused,
    commit_import,
    commit_upload,
    preview_import,
    store_upload,
)
from certification.records.models import AssessmentAttempt, CreditRecord
from certification.records.services import record_credit
from tests.imports import problem_places

CREDITS = ImportKind.CREDITS
RESULTS = ImportKind.RESULTS
CANDIDATES = ImportKind.CANDIDATES


@pytest.fixture
def catalogue(make_course, make_assessment):
    make_course("EII-101")
    make_course("EII-102")
    make_assessment("CERT-EXAM", max_attempts=3)


@pytest.fixture
def people(make_candidate):
    make_candidate("Łukasz Wiśniewski", email="lukasz@example.org")
    make_candidate("Αικατερίνη Παπαδοπούλου", email="katerina@example.org", country="GR")


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def actions() -> list[str]:
    return list(db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)))


GOOD_CREDITS = (
    b"email;course_code;completed_on\n"
    b"LUKASZ@example.org;eii-101;31/05/2024\n"
    b"lukasz@example.org;EII-102;01/06/2024\n"
    b"katerina@example.org;EII-101;15/01/2024\n"
)


def test_a_file_with_one_bad_row_commits_nothing(ctx, catalogue, people, today):
    future = (today + dt.timedelta(days=3)).isoformat()
    data = (
        "email,course_code,completed_on\n"
        "lukasz@example.org,EII-101,2024-05-31\n"
        f"katerina@example.org,EII-102,{future}\n"
        "nobody@example.org,EII-101,2024-05-31\n"
        "katerina@example.org,EII-999,2024-05-31\n"
    ).encode()
    report = preview_import(CREDITS, data, today=today)
    assert problem_places(report) == [(3, "completed_on"), (4, "email"), (5, "course_code")]
    assert report.problems[1].message == "No candidate with this e-mail."
    assert "future" in report.problems[0].message  # the words of single entry
    with pytest.raises(ImportRefused) as refused:
        commit_import(CREDITS, data, actor=None, today=today)
    assert refused.value.report.problems == report.problems
    db.session.commit()
    assert count(CreditRecord) == 0
    assert "credit.recorded" not in actions()
    assert "import.committed" not in actions()


def test_credits_commit_then_a_reimport_adds_nothing(ctx, catalogue, people, today, make_admin):
    admin = db.session.merge(make_admin())
    report = commit_import(CREDITS, GOOD_CREDITS, actor=admin, today=today, filename="a.csv")
    assert (report.new, report.already_recorded) == (3, 0)
    db.session.commit()
    assert count(CreditRecord) == 3
    lukasz = get_user_by_email("lukasz@example.org")
    on = db.session.scalar(
        sa.select(CreditRecord.completed_on).where(CreditRecord.candidate_id == lukasz.id).limit(1)
    )
    assert on in (dt.date(2024, 5, 31), dt.date(2024, 6, 1))
    assert actions().count("credit.recorded") == 3
    committed = db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.action == "import.committed")
    )
    assert committed.actor_id == admin.id
    assert committed.after["new"] == 3 and committed.after["filename"] == "a.csv"
    assert len(committed.after["sha256"]) == 64

    again = commit_import(CREDITS, GOOD_CREDITS, actor=admin, today=today)
    assert again.counts == "3 already recorded, 0 new"
    db.session.commit()
    assert count(CreditRecord) == 3


def test_a_credit_recorded_with_another_date_is_a_problem(ctx, catalogue, people, today):
    record_credit(
        get_user_by_email("lukasz@example.org"),
        "EII-101",
        dt.date(2024, 1, 2),
        actor=None,
        today=today,
    )
    data = (
        b"email,course_code,completed_on\n"
        b"lukasz@example.org,EII-101,2024-05-31\n"
        b"katerina@example.org,EII-101,2024-05-31\n"
        b"katerina@example.org,EII-101,2024-05-31\n"
        b"katerina@example.org,EII-101,2024-06-30\n"
    )
    report = preview_import(CREDITS, data, today=today)
    assert problem_places(report) == [(2, "completed_on"), (5, "completed_on")]
    assert "2024-01-02" in report.problems[0].message
    assert (report.new, report.already_recorded) == (1, 1)


def test_results_count_towards_the_attempts_limit_in_date_order(ctx, catalogue, people, today):
    data = (
        b"email;assessment_code;score;taken_on\n"
        b"katerina@example.org;CERT-EXAM;55,5;2024-03-01\n"
        b"katerina@example.org;CERT-EXAM;65;2024-04-01\n"  # the fourth by date: over the limit
        b"katerina@example.org;CERT-EXAM;40;2024-01-01\n"
        b"katerina@example.org;CERT-EXAM;50;2024-02-01\n"
        b"katerina@example.org;cert-exam;55.50;2024-03-01\n"  # row 2 again
        b"lukasz@example.org;CERT-EXAM;101;2024-03-01\n"
        b"lukasz@example.org;CERT-EXAM;70,125;2024-03-01\n"
        b"lukasz@example.org;CERT-EXAM;seventy;2024-03-01\n"
    )
    report = preview_import(RESULTS, data, today=today)
    assert problem_places(report) == [
        (3, "assessment_code"),
        (7, "score"),
        (8, "score"),
        (9, "score"),
    ]
    assert "has used all 3 attempts" in report.problems[0].message
    assert report.problems[1].message == "The maximum score is 100."
    assert report.problems[2].message == "At most two decimal places."

    good = b"\n".join(data.split(b"\n")[:2] + data.split(b"\n")[3:6]) + b"\n"
    report = commit_import(RESULTS, good, actor=None, today=today)
    assert (report.new, report.already_recorded) == (3, 1)
    db.session.commit()
    katerina = get_user_by_email("katerina@example.org")
    attempts = db.session.execute(
        sa.select(AssessmentAttempt.attempt_number, AssessmentAttempt.taken_on)
        .where(AssessmentAttempt.candidate_id == katerina.id)
        .order_by(AssessmentAttempt.attempt_number)
    ).all()
    assert [(n, on.month) for n, on in attempts] == [(1, 1), (2, 2), (3, 3)]
    # The limit now holds against the database: a fourth sitting is refused.
    later = b"email;assessment_code;score;taken_on\nkaterina@example.org;CERT-EXAM;90;2024-05-01\n"
    assert (
        "has used all 3 attempts" in preview_import(RESULTS, later, today=today).problems[0].message
    )
    assert preview_import(RESULTS, good, today=today).counts == "4 already recorded, 0 new"


NAMES = [
    ("Łukasz Wiśniewski", "PL"),
    ("Αικατερίνη Παπαδοπούλου", "GR"),
    ("Анастасия Кузнецова", "UA"),
    ("Þórunn Guðmundsdóttir", "IS"),
    ("Şükrü Çağlayan İnönü", "TR"),
    ("Nguyễn Thị Minh Khai", "CZ"),
    ("Søren Kierkegaard-Ødegård", "DK"),
]


def test_every_european_name_survives_a_round_trip(ctx, today, make_candidate):
    make_candidate("Anna Kowalska", email="anna@example.org")
    lines = [
        f"person{i}@example.org,{name},{country.lower()}" for i, (name, country) in enumerate(NAMES)
    ]
    lines.append("ANNA@example.org,Someone Else,PL")
    data = ("\ufeffEmail,Full name,Country\n" + "\n".join(lines) + "\n").encode()
    report = commit_import(CANDIDATES, data, actor=None, today=today)
    assert report.counts == f"1 already recorded, {len(NAMES)} new"
    db.session.commit()
    db.session.expunge_all()
    for i, (name, country) in enumerate(NAMES):
        person = get_user_by_email(f"person{i}@example.org")
        assert (person.full_name, person.country, person.role) == (name, country, Role.CANDIDATE)
        assert person.name_key  # searchable like single entry
    assert get_user_by_email("anna@example.org").full_name == "Anna Kowalska"  # not overwritten
    assert actions().count("candidate.created") == len(NAMES) + 1  # Anna's own, and the import's
    assert commit_import(CANDIDATES, data, actor=None, today=today).counts == (
        f"{len(NAMES) + 1} already recorded, 0 new"
    )


def test_candidates_are_checked_as_single_entry_checks_them(ctx, today, make_admin):
    make_admin("office@example.org")
    data = (
        b"email;full_name;country\n"
        b"not-an-email;Anna Kowalska;PL\n"
        b"anna@example.org;;PL\n"
        b"bob@example.org;Bob;Polonia\n"
        b"office@example.org;Ada;\n"
        b"eve@example.org;Eve;\n"
        b"EVE@example.org;Eva;\n"
    )
    report = preview_import(CANDIDATES, data, today=today)
    assert problem_places(report) == [
        (2, "email"),
        (3, "full_name"),
        (4, "country"),
        (5, "email"),
        (7, "email"),
    ]
    assert report.problems[2].message.startswith("“Polonia” is not a country we know.")
    assert (report.new, report.already_recorded) == (1, 0)


def test_an_upload_commits_once_however_often_it_is_submitted(ctx, catalogue, people, today):
    upload = store_upload(CREDITS, "C:\\Users\\me\\crédits.csv", GOOD_CREDITS, None, today=today)
    assert upload.filename == "crédits.csv"
    assert upload.summary["new"] == 3
    report, wrote = commit_upload(upload, None, today=today)
    assert wrote and report.new == 3
    db.session.commit()
    report, wrote = commit_upload(imports.get_upload(upload.id), None, today=today)
    assert not wrote
    assert report.counts == "0 already recorded, 3 new"  # what the commit did, shown again
    db.session.commit()
    assert count(CreditRecord) == 3
    assert actions().count("import.committed") == 1


def test_a_refused_upload_stays_uncommitted(ctx, catalogue, people, today):
    data = GOOD_CREDITS + b"nobody@example.org;EII-101;01/01/2024\n"
    upload = store_upload(CREDITS, "c.csv", data, None, today=today)
    with pytest.raises(ImportRefused):
        commit_upload(upload, None, today=today)
    assert upload.committed_at is None
    assert count(CreditRecord) == 0


def test_a_record_written_meanwhile_refuses_the_whole_import(
    ctx, catalogue, people, today, monkeypatch
):
    """The unique constraint is the last line of defence against a concurrent writer."""
    plan = imports._plan

    def plan_then_someone_records(kind, data, today, actor):
        planned = plan(kind, data, today, actor)
        record_credit(get_candidate(1), "EII-101", dt.date(2024, 5, 31), actor=None, today=today)
        return planned

    monkeypatch.setattr(imports, "_plan", plan_then_someone_records)
    with pytest.raises(ImportRefused) as refused:
        commit_import(CREDITS, GOOD_CREDITS, actor=None, today=today)
    assert "someone else" in refused.value.message
    assert count(CreditRecord) == 1  # the other writer's record; none of the import's
    assert "import.committed" not in actions()
    db.session.commit()  # the transaction is still usable


def test_a_nul_far_into_the_file_is_a_problem_not_a_crash(ctx, catalogue, people, today):
    padding = b"".join(b"lukasz@example.org;EII-101;31/05/2024\n" for _ in range(2000))
    data = b"email;course_code;completed_on\n" + padding + b"luk\x00asz@example.org;EII-101;\n"
    report = preview_import(CREDITS, data, today=today)
    assert problem_places(report) == [(2002, "email"), (2002, "completed_on")]
    assert (report.new, report.already_recorded) == (1, 1999)


def test_a_candidates_file_may_give_each_one_s_language(ctx, today, monkeypatch):
    monkeypatch.setattr("certification.languages.OFFERED_LANGUAGES", ("en", "pl", "el"))
    data = (
        b"email,full_name,country,language\n"
        b"anna@example.org,Anna Kowalska,PL,pl\n"
        b"eleni@example.org,Eleni Pappa,GR,EL\n"
        b"jan@example.org,Jan de Vries,NL,\n"
        b"kaisa@example.org,Kaisa Virtanen,FI,fi\n"
    )
    refused = preview_import(CANDIDATES, data, today=today)
    assert problem_places(refused) == [(5, "language")]
    assert "Choose one of the languages offered: en, pl, el." in refused.problems[0].message
    report = commit_import(CANDIDATES, data.rsplit(b"kaisa", 1)[0], actor=None, today=today)
    assert report.new == 3
    db.session.commit()
    assert get_user_by_email("anna@example.org").language == "pl"
    assert get_user_by_email("eleni@example.org").language == "el"
    assert get_user_by_email("jan@example.org").language is None


def test_a_candidates_file_without_a_language_column_still_imports(ctx, today):
    data = b"email,full_name,country\nanna@example.org,Anna Kowalska,PL\n"
    assert commit_import(CANDIDATES, data, actor=None, today=today).new == 1
