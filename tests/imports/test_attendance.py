"""Webinar and event attendance lists imported as CPD points, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import html
import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from certification.audit import AuditEvent
from certification.auth.models import User
from certification.auth.services import get_user_by_email
from certification.errors import InvalidInput
from certification.extensions import db
from certification.imports import services as imports
from certification.imports.attendance import (
    AttendanceEvent,
    Organiser,
    Outcome,
    check_event,
    parse_minutes,
)
from certification.imports.csvfile import CellError
from certification.imports.models import ImportKind, ImportUpload
from certification.imports.services import ImportRefused, commit_import, preview_import
from certification.records.models import CpdActivity, CpdSource
from certification.records.services import record_cpd
from tests.conftest import log_in
from tests.imports import problem_places

ATTENDANCE = ImportKind.ATTENDANCE
HERE = Path(__file__).parent
ZOOM = (HERE / "attendance_zoom.csv").read_bytes()
TEAMS = (HERE / "attendance_teams.csv").read_bytes()
WINDOWS = (HERE / "attendance_gotowebinar_1250.csv").read_bytes()


@pytest.fixture
def people(make_candidate):
    make_candidate("Łukasz Wiśniewski", email="lukasz@example.org")
    make_candidate("Αικατερίνη Παπαδοπούλου", email="katerina@example.org", country="GR")
    make_candidate("Niamh Byrne", email="niamh@example.org", country="IE")
    make_candidate("Jan de Vries", email="jan@example.org", country="NL")


def webinar(today: dt.date, **changes) -> AttendanceEvent:
    """An hour-long EFRS webinar last week: 1 point an hour, at least 45 minutes."""
    stated = {
        "title": "AI in radiography: a practical introduction",
        "organiser": "EFRS",
        "held_on": today - dt.timedelta(days=7),
        "points_per_hour": Decimal(1),
        "minimum": 45,
        "minimum_unit": "minutes",
        "reference": "zoom-812-3456-7890",
        **changes,
    }
    return check_event(today=today, **stated)


def cpd_points() -> dict[str, Decimal]:
    """Each candidate's CPD points, by e-mail."""
    rows = db.session.execute(sa.select(User.email, CpdActivity.points).join(CpdActivity.candidate))
    return {email: points for email, points in rows}


def count_cpd() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(CpdActivity))


def actions() -> list[str]:
    return list(db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)))


def outcomes(report) -> list[tuple[str, Outcome]]:
    return [(attendee.email, attendee.outcome) for attendee in report.attendees]


# ------------------------------------------------------------------ the services


def test_a_zoom_list_credits_the_candidates_who_attended_long_enough(
    ctx, people, today, make_admin
):
    admin = db.session.merge(make_admin())
    event = webinar(today)
    report = preview_import(ATTENDANCE, ZOOM, today=today, event=event)
    assert report.ok and report.encoding == "UTF-8 with BOM"
    assert outcomes(report) == [
        ("lukasz@example.org", Outcome.CREDIT),
        ("katerina@example.org", Outcome.CREDIT),
        ("niamh@example.org", Outcome.CREDIT),
        ("listener@hospital.example", Outcome.NOT_A_CANDIDATE),
        ("jan@example.org", Outcome.BELOW_MINIMUM),
    ]
    assert [a.reason for a in report.attendees[3:]] == [
        "No candidate with this e-mail.",
        "Attended less than the minimum: earns nothing.",
    ]
    assert report.counts == "3 new, 0 already credited, 2 skipped"
    assert count_cpd() == 0  # a preview writes nothing

    committed = commit_import(ATTENDANCE, ZOOM, actor=admin, today=today, event=event)
    db.session.commit()
    assert committed.new == 3
    # 90, 60 and 47 minutes at one point an hour, to the hundredth.
    assert cpd_points() == {
        "lukasz@example.org": Decimal("1.50"),
        "katerina@example.org": Decimal("1.00"),
        "niamh@example.org": Decimal("0.78"),
    }
    activity = db.session.scalars(sa.select(CpdActivity)).first()
    assert activity.source is CpdSource.ATTENDANCE
    assert activity.reference == "zoom-812-3456-7890"
    assert activity.title == "AI in radiography: a practical introduction"
    assert activity.organiser == "EFRS"
    assert activity.activity_on == today - dt.timedelta(days=7)
    assert activity.recorded_by_id == admin.id
    assert actions().count("cpd.recorded") == 3
    audit = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "import.committed"))
    assert audit.after["event"]["reference"] == "zoom-812-3456-7890"
    assert audit.after["new"] == 3


def test_the_same_list_imported_again_records_nothing(ctx, people, today):
    event = webinar(today)
    commit_import(ATTENDANCE, ZOOM, actor=None, today=today, event=event)
    db.session.commit()

    again = preview_import(ATTENDANCE, ZOOM, today=today, event=event)
    assert again.ok and again.new == 0 and again.already_recorded == 3
    assert again.attendees[0].reason == "Already credited for this event."
    report = commit_import(ATTENDANCE, ZOOM, actor=None, today=today, event=event)
    db.session.commit()
    assert report.counts == "0 new, 3 already credited, 2 skipped"
    assert count_cpd() == 3


def test_without_a_reference_the_same_title_and_day_is_the_same_event(ctx, people, today):
    commit_import(ATTENDANCE, ZOOM, actor=None, today=today, event=webinar(today, reference=""))
    db.session.commit()
    retyped = webinar(today, reference=None, title="  AI in Radiography:  a practical introduction")
    assert retyped.reference == webinar(today, reference="").reference
    assert preview_import(ATTENDANCE, ZOOM, today=today, event=retyped).new == 0
    # Another day is another event: the same people earn its points too.
    next_one = webinar(today, reference="", held_on=today)
    assert preview_import(ATTENDANCE, ZOOM, today=today, event=next_one).new == 3


def test_a_reference_typed_in_another_case_is_the_same_event(ctx, people, today):
    commit_import(
        ATTENDANCE, ZOOM, actor=None, today=today, event=webinar(today, reference="ZOOM-812")
    )
    db.session.commit()
    again = webinar(today, reference=" zoom-812 ")
    assert preview_import(ATTENDANCE, ZOOM, today=today, event=again).new == 0


def test_a_runaway_minutes_cell_is_named_not_credited_or_crashed_on(ctx, people, today):
    # A stranger's row too: every row's time is read before the office sees the list.
    runaway = ZOOM.replace(b",47,No", b",1000000000000000000000000000000,No")
    report = preview_import(ATTENDANCE, runaway, today=today, event=webinar(today))
    assert problem_places(report) == [(4, "minutes")]
    assert report.problems[0].message == (
        "At most 10000 minutes: no event of the bodies lasts longer."
    )


def test_an_unreadable_minutes_cell_commits_nothing_and_names_row_and_column(ctx, people, today):
    bad = ZOOM.replace(b",47,No", b",abc,No")
    report = preview_import(ATTENDANCE, bad, today=today, event=webinar(today))
    assert problem_places(report) == [(4, "minutes")]
    assert report.problems[0].message == (
        "Enter the time attended in minutes, such as 65, or as a duration, such as 1h 5m or 65 min."
    )
    with pytest.raises(ImportRefused) as refused:
        commit_import(ATTENDANCE, bad, actor=None, today=today, event=webinar(today))
    assert refused.value.message == "Nothing was imported: the file has 1 problem."
    db.session.commit()
    assert count_cpd() == 0
    assert "cpd.recorded" not in actions()


def test_a_teams_list_adds_up_rejoins_and_reads_durations(ctx, people, today):
    report = preview_import(ATTENDANCE, TEAMS, today=today, event=webinar(today))
    assert report.ok
    lines = {a.email: a for a in report.attendees}
    # 40m 52s and, after rejoining, 25m 10s: 66 whole minutes.
    assert lines["lukasz@example.org"].rows == (2, 4)
    assert lines["lukasz@example.org"].minutes == 66
    assert lines["lukasz@example.org"].points == Decimal("1.10")
    assert lines["katerina@example.org"].minutes == 65  # "1h 5m"
    assert lines["jan@example.org"].outcome is Outcome.BELOW_MINIMUM  # "20 min"
    assert lines[""].outcome is Outcome.NO_EMAIL  # the organiser, without an e-mail
    assert "Participant ID (UPN)" in report.extra_columns


def test_a_windows_1252_list_with_semicolons_and_decimal_commas(ctx, make_candidate, today):
    make_candidate("Łukasz Żółć", email="lukasz.zolc@example.org")
    report = preview_import(ATTENDANCE, WINDOWS, today=today, event=webinar(today))
    assert (report.encoding, report.delimiter) == ("Windows-1252", "semicolon")
    assert outcomes(report) == [
        ("lukasz.zolc@example.org", Outcome.CREDIT),
        ("soren@example.org", Outcome.NOT_A_CANDIDATE),
    ]
    assert report.attendees[0].name == "Łukasz Żółć"
    assert report.attendees[0].minutes == 52  # "52,5"
    commit_import(ATTENDANCE, WINDOWS, actor=None, today=today, event=webinar(today))
    db.session.commit()
    assert cpd_points() == {"lukasz.zolc@example.org": Decimal("0.87")}


def test_a_minimum_as_a_share_of_the_event_and_time_beyond_its_length(ctx, people, today):
    event = webinar(today, minimum=80, minimum_unit="percent", length_minutes=60)
    assert event.minimum_minutes == 48
    assert event.rule == (
        "1 CPD points per hour attended; at least 80% of the event's 60 minutes"
        " (48 minutes) to earn any."
    )
    report = preview_import(ATTENDANCE, ZOOM, today=today, event=event)
    lines = {a.email: a for a in report.attendees}
    assert lines["niamh@example.org"].outcome is Outcome.BELOW_MINIMUM  # 47 of 48
    assert lines["lukasz@example.org"].points == Decimal("1.00")  # 90 minutes of a 60-minute event


def test_a_withdrawn_credit_for_the_event_is_not_brought_back(ctx, people, today):
    event = webinar(today)
    commit_import(ATTENDANCE, ZOOM, actor=None, today=today, event=event)
    lukasz = get_user_by_email("lukasz@example.org")
    activity = db.session.scalar(
        sa.select(CpdActivity).where(CpdActivity.candidate_id == lukasz.id)
    )
    activity.withdrawn_at = dt.datetime.now(dt.UTC)
    activity.withdrawal_reason = "Was not there: a colleague used his link."
    db.session.commit()
    report = preview_import(ATTENDANCE, ZOOM, today=today, event=event)
    assert report.ok and report.new == 0
    assert report.attendees[0].outcome is Outcome.WITHDRAWN


def test_a_credit_recorded_meanwhile_refuses_the_whole_list(ctx, people, today, monkeypatch):
    """The unique index on (candidate, reference) is the last line of defence."""
    event = webinar(today)
    plan = imports._plan_attendance

    def plan_then_someone_credits(*args):
        planned = plan(*args)
        record_cpd(
            get_user_by_email("katerina@example.org"),
            title=event.title,
            organiser="EFRS",
            activity_on=event.held_on,
            points=Decimal(1),
            source=CpdSource.OFFICE,
            actor=None,
            today=today,
            reference=event.reference,
        )
        return planned

    monkeypatch.setattr(imports, "_plan_attendance", plan_then_someone_credits)
    with pytest.raises(ImportRefused) as refused:
        commit_import(ATTENDANCE, ZOOM, actor=None, today=today, event=event)
    assert "someone else" in refused.value.message
    db.session.commit()  # the transaction is still usable
    assert count_cpd() == 1  # the other writer's record; none of the list's


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"title": "  "}, "title"),
        ({"organiser": "ESR"}, "organiser"),
        ({"held_on": None}, "held_on"),
        ({"points_per_hour": Decimal(0)}, "points_per_hour"),
        ({"minimum": None}, "minimum"),
        ({"minimum": 0}, "minimum"),
        ({"minimum": 80, "minimum_unit": "percent"}, "length_minutes"),
        ({"minimum": 120, "minimum_unit": "percent", "length_minutes": 60}, "minimum"),
        ({"minimum": 90, "length_minutes": 60}, "minimum"),
        ({"reference": "x" * 201}, "reference"),
        ({"minimum_unit": "hours"}, "minimum_unit"),
        ({"reference": "zoom\x00812"}, "reference"),
        ({"title": "AI\x07 in radiography"}, "title"),
    ],
)
def test_an_event_stated_wrongly_is_refused_naming_the_field(ctx, today, changes, field):
    with pytest.raises(InvalidInput) as refused:
        webinar(today, **changes)
    assert list(refused.value.fields) == [field]


def test_an_event_in_the_future_is_refused(ctx, today):
    with pytest.raises(InvalidInput) as refused:
        webinar(today, held_on=today + dt.timedelta(days=1))
    assert refused.value.fields == {"held_on": "The event cannot be in the future."}


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("65", 3900),
        ("64,5", 3870),
        ("64.5", 3870),
        ("1h 5m", 3900),
        ("1 h 5 min", 3900),
        ("65 min", 3900),
        ("65 minutes", 3900),
        ("42m 10s", 2530),
        ("1:05", 3900),
        ("01:05:30", 3930),
        ("2 hours", 7200),
    ],
)
def test_minutes_as_platforms_write_them(text, seconds):
    assert parse_minutes(text) == seconds


@pytest.mark.parametrize("text", ["abc", "1h abc", "-5", "", "h", "5 apples", "1:75"])
def test_minutes_that_are_not_a_time(app, text):
    with app.test_request_context(), pytest.raises(CellError):
        parse_minutes(text)


def test_an_attendance_list_needs_its_event(ctx, today):
    with pytest.raises(InvalidInput):
        preview_import(ATTENDANCE, ZOOM, today=today)


def test_organisers_are_the_two_bodies_or_both():
    assert [o.value for o in Organiser] == ["EFRS", "EuSoMII", "EFRS, EuSoMII"]


# ------------------------------------------------------------------ the admin's page


def text_of(response) -> str:
    return html.unescape(re.sub(r"\s+", " ", response.get_data(as_text=True)))


def upload(client, data: bytes, name: str = "zoom.csv", **event):
    return client.post(
        "/admin/imports",
        data={"kind": "attendance", "file": (io.BytesIO(data), name), **event},
        content_type="multipart/form-data",
    )


def event_form(today: dt.date) -> dict[str, str]:
    return {
        "title": "AI in radiography: a practical introduction",
        "organiser": "EFRS, EuSoMII",
        "held_on": (today - dt.timedelta(days=7)).isoformat(),
        "reference": "",
        "points_per_hour": "1,5",
        "minimum": "45",
        "minimum_unit": "minutes",
        "length_minutes": "",
        "domain": "Informatics Governance",
    }


@pytest.fixture
def office(client, make_admin, people):
    make_admin("office@efrs.example")
    log_in(client, "office@efrs.example")
    return client


def test_the_office_previews_and_credits_an_attendance_list(app, office, today):
    page = office.get("/admin/imports")
    assert "Attendance list of a webinar or event (CPD points)" in text_of(page)
    assert "In-Meeting Duration" in text_of(page)

    response = upload(office, ZOOM, **event_form(today))
    assert response.status_code == 303
    preview = office.get(response.headers["Location"])
    text = text_of(preview)
    assert "AI in radiography: a practical introduction" in text
    assert "EFRS and EuSoMII together" in text
    assert "1.5 CPD points per hour attended; at least 45 minutes to earn any." in text
    assert "No candidate with this e-mail." in text
    assert "Attended less than the minimum: earns nothing." in text
    assert "Earns 2.25 CPD points." in text  # 90 minutes at 1.5 an hour
    assert "Credit 3 candidates with CPD points" in text

    upload_id = int(response.headers["Location"].rsplit("/", 1)[1])
    done = office.post(f"/admin/imports/{upload_id}/commit")
    assert done.status_code == 303
    assert "3 new, 0 already credited, 2 skipped" in text_of(office.get(done.headers["Location"]))
    with app.app_context():
        assert count_cpd() == 3
        assert set(db.session.scalars(sa.select(CpdActivity.domain))) == {"Informatics Governance"}
        assert set(db.session.scalars(sa.select(CpdActivity.organiser))) == {"EFRS, EuSoMII"}

    # The same list again: everyone credited already, nothing to confirm.
    again = office.get(upload(office, ZOOM, **event_form(today)).headers["Location"])
    text = text_of(again)
    assert "Already credited for this event." in text
    assert "Nothing to credit" in text
    assert "/commit" not in text
    with app.app_context():
        assert count_cpd() == 3


def test_an_attendance_list_without_its_event_keeps_what_was_typed(app, office, today):
    response = upload(office, ZOOM, **{**event_form(today), "title": ""})
    assert response.status_code == 422
    text = text_of(response)
    assert "Say what the event was called." in text
    assert 'value="Informatics Governance"' in text  # the rest of the form as typed
    assert 'value="1,5"' in text
    unreadable = upload(office, ZOOM, **{**event_form(today), "points_per_hour": "lots"})
    assert unreadable.status_code == 422
    assert "Enter a number, such as 2.5 or 2,5." in text_of(unreadable)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ImportUpload)) == 0


def test_a_bad_minutes_cell_is_shown_by_row_and_nothing_can_be_credited(app, office, today):
    bad = ZOOM.replace(b",47,No", b",abc,No")
    response = upload(office, bad, **event_form(today))
    text = text_of(office.get(response.headers["Location"]))
    assert "1 problem: nothing from this file can be imported" in text
    assert re.search(
        r"<td data-label=\"Row\" class=\"num\">4</td>"
        r"<td data-label=\"Column\"><span class=\"code\">minutes</span></td>",
        text,
    )
    upload_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert office.post(f"/admin/imports/{upload_id}/commit").status_code == 422
    with app.app_context():
        assert count_cpd() == 0


def test_a_nul_in_an_e_mail_is_a_stranger_not_a_crash(app, office, today):
    # Far into the file: a NUL near the start makes it "not a CSV text file" at once.
    listeners = b"".join(
        b"Listener %d,listener%d@hospital.example,,,60,Yes\r\n" % (n, n) for n in range(1500)
    )
    broken = ZOOM + listeners + b"Someone,some\x00one@hospital.example,,,60,Yes\r\n"
    response = upload(office, broken, **event_form(today))
    assert response.status_code == 303
    text = text_of(office.get(response.headers["Location"]))
    assert "some\ufffdone@hospital.example" in text
    assert "Credit 3 candidates with CPD points" in text


def test_provider_staff_cannot_import_attendance(app, client, make_provider, make_provider_staff):
    staff = make_provider_staff(make_provider("Radiology Academy"))
    log_in(client, staff.email)
    assert "Attendance list" not in text_of(client.get("/admin/imports"))
    response = upload(client, ZOOM, **event_form(dt.date(2026, 1, 1)))
    assert response.status_code == 422
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ImportUpload)) == 0


def test_the_command_line_leaves_attendance_lists_to_the_page(runner, tmp_path):
    file = tmp_path / "zoom.csv"
    file.write_bytes(ZOOM)
    result = runner.invoke(args=["import-csv", "attendance", str(file)])
    assert result.exit_code == 2
    assert "'attendance' is not one of" in result.output
