"""The dashboard's figures against the known data set, and the page that shows them."""

from __future__ import annotations

import calendar
import re
import xml.etree.ElementTree as ET
from html import unescape

import pytest
import sqlalchemy as sa

from certification.extensions import db
from certification.reports import charts
from certification.reports.services import Stage, dashboard, month_starts


def test_certificates_issued_per_month(known, ctx):
    issued = dashboard(known.today).issued
    assert issued.months == month_starts(known.today)
    assert len(issued.months) == 12
    by_code = {s.code: s.counts for s in issued.series}
    # Anna's eleven months ago; Łukasz's (since revoked) and Chloé's last month. Chloé's
    # replacement keeps the original's date and is not counted a second time.
    assert by_code["EII-C"] == (1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0)
    assert by_code["EII-D"] == (0,) * 12
    assert issued.total == 3


def test_candidates_by_stage_add_up(known, ctx):
    stages = {s.code: s.counts for s in dashboard(known.today).stages}
    assert stages["EII-C"] == {
        Stage.CERTIFIED: 2,  # Anna; Chloé (by her replacement)
        Stage.ELIGIBLE: 2,  # Łukasz (revoked, still meets it); Zoë (exactly the pass mark)
        Stage.IN_PROGRESS: 1,  # Dmytro
        Stage.REGISTERED: 1,  # Eleni
    }
    assert stages["EII-D"] == {
        Stage.CERTIFIED: 0,
        Stage.ELIGIBLE: 1,  # Chloé: holds EII-C, D1, and the diploma exam at full marks
        Stage.IN_PROGRESS: 4,
        Stage.REGISTERED: 1,
    }
    assert all(sum(counts.values()) == 6 for counts in stages.values())


def test_assessments_pass_rate_and_scores(known, ctx):
    figures = {a.code: a for a in dashboard(known.today).assessments}
    exam = figures["EXAM"]
    assert (exam.attempts, exam.sat, exam.passed) == (6, 5, 4)
    assert exam.pass_rate == pytest.approx(0.8)
    # 30, 55, 60, 65, 72, 90 out of 100.
    assert exam.bins == (0, 0, 0, 1, 0, 1, 2, 1, 0, 1)
    diploma = figures["DEXAM"]
    assert (diploma.attempts, diploma.sat, diploma.passed) == (2, 2, 1)
    assert diploma.pass_rate == pytest.approx(0.5)
    # 40 and a full 80 out of 80: the full score falls in the last bin.
    assert diploma.bins == (0, 0, 0, 0, 0, 1, 0, 0, 0, 1)
    assert diploma.bin_labels()[0] == "0–8" and diploma.bin_labels()[-1] == "72–80"


def test_candidates_by_country_and_expiring(known, ctx):
    figures = dashboard(known.today)
    assert [(c.code, c.candidates) for c in figures.countries] == [
        ("PL", 3),
        ("GR", 2),
        ("UA", 1),
    ]
    assert figures.candidates == 6
    assert figures.expiring == 1  # Anna's: issued eleven months ago, valid for twelve


def _count_statements(action) -> int:
    seen: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        seen.append(statement)

    engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        action()
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    return len(seen)


def test_the_number_of_statements_does_not_grow_with_candidates(known, make_candidate, app, today):
    with app.app_context():
        before = _count_statements(lambda: dashboard(today))
    for number in range(20):
        make_candidate(f"Extra {number}", email=f"extra{number}@example.org", country="FR")
    with app.app_context():
        after = _count_statements(lambda: dashboard(today))
        assert dashboard(today).candidates == 26
    assert before == after
    # Programmes (3 with their rules), then one per figure; certificates by status is one
    # statement for every award and the holders of all of them together.
    assert before == 10


def _month(day) -> str:
    return f"{calendar.month_name[day.month]} {day.year}"


def _table(html: str, table_id: str, *, phone: bool = False) -> list[list[str]]:
    """The cells' text as a desktop shows it; ``phone``: each cell with the label that
    narrow screens show in front of it (its ``data-label``), where the column headings are
    hidden."""
    body = re.search(rf'<table class="table[^"]*" id="{table_id}">(.*?)</table>', html, re.S)
    assert body, table_id
    rows = re.findall(r"<tr>(.*?)</tr>", body.group(1), re.S)

    def shown(attributes: str, cell: str) -> str:
        text = re.sub(r"<[^>]+>", "", cell).strip()
        label = re.search(r'data-label="([^"]*)"', attributes)
        return f"{unescape(label[1])} {text}" if phone and label and label[1] else text

    return [
        [shown(*cell) for cell in re.findall(r"<t[hd]([^>]*)>(.*?)</t[hd]>", row, re.S)]
        for row in rows
    ]


def test_the_page_shows_the_figures(known, client, auth, make_admin):
    admin = make_admin()
    auth.login(admin.email)
    response = client.get("/admin/reports")
    assert response.status_code == 200
    html = response.get_data(as_text=True)

    stages = _table(html, "table-stages")
    assert stages[0] == ["Award", "Registered", "In progress", "Eligible", "Certified", "Total"]
    assert stages[1][1:] == ["1", "1", "2", "2", "6"]
    assert stages[2][1:] == ["1", "4", "1", "0", "6"]

    assessments = _table(html, "table-assessments")
    assert assessments[2][2:] == ["6", "5", "4", "80%"]  # EXAM, after DEXAM by code
    assert assessments[1][2:] == ["2", "2", "1", "50%"]
    # On a phone the headings are hidden, so each figure says what it is.
    assert _table(html, "table-assessments", phone=True)[2][2:] == [
        "Attempts 6",
        "Candidates who sat 5",
        "Passed 4",
        "Pass rate 80%",
    ]

    countries = _table(html, "table-countries")
    assert countries[1:] == [
        ["Poland (PL)", "3"],
        ["Greece (GR)", "2"],
        ["Ukraine (UA)", "1"],
        ["Total", "6"],
    ]

    issued = _table(html, "table-issued")
    assert issued[1] == [_month(known.eleven_months_ago), "1", "0", "1"]
    assert issued[11] == [_month(known.last_month), "2", "0", "2"]
    assert issued[-1] == ["Total", "3", "0", "3"]

    scores = _table(html, "table-scores-EXAM")
    assert [row[1] for row in scores[1:]] == ["0", "0", "0", "1", "0", "1", "2", "1", "0", "1"]

    # The charts are inline SVG with a title, a description and no script or style; each
    # twice, drawn for a desktop and for a phone (the stylesheet shows one).
    assert html.count('role="img"') == 10
    assert "<script" not in html.split("<main", 1)[1]
    assert "style=" not in html


def test_the_page_shows_kept_figures_until_they_are_refreshed(
    known, app, client, auth, make_admin, make_candidate
):
    """A page view reads the latest snapshot; it is worked out again when it is too old, on
    "Refresh now", and by the queue worker's periodic task."""
    from certification.reports.tasks import refresh_dashboard_when_due

    admin = make_admin()
    auth.login(admin.email)

    def candidates_shown() -> str:
        html = client.get("/admin/reports").get_data(as_text=True)
        assert re.search(r"Figures computed at <time datetime=\"[^\"]+\">\d\d:\d\d</time>", html)
        return re.search(r"(\d+) candidates;", html)[1]

    assert candidates_shown() == "6"
    make_candidate("Newcomer", email="new@example.org")
    assert candidates_shown() == "6"  # the kept figures, not yet the newcomer
    refreshed = client.post("/admin/reports/refresh")
    assert refreshed.status_code == 303
    assert candidates_shown() == "7"

    make_candidate("Later", email="later@example.org")
    app.config["REPORTS_REFRESH_MINUTES"] = 1  # due every minute, so now
    with app.app_context():
        refresh_dashboard_when_due.call_local()
    assert candidates_shown() == "8"

    make_candidate("Last", email="last@example.org")
    app.config["REPORTS_MAX_AGE_SECONDS"] = 0  # every kept figure is too old
    assert candidates_shown() == "9"


def test_only_administrators_see_reports(known, client, auth, make_candidate):
    candidate = make_candidate("Someone", email="someone@example.org")
    auth.login(candidate.email)
    assert client.get("/admin/reports").status_code == 404
    assert client.get("/admin/exports/certificates.csv").status_code == 404


# ---------------------------------------------------------------- the charts themselves


def test_charts_escape_labels_and_are_well_formed():
    hostile = '<script>alert("x")</script> & Ünïcode'
    svg = charts.bar_chart("c1", hostile, "desc & more", [(hostile, [3])])
    assert "<script>" not in svg
    root = ET.fromstring(str(svg))  # noqa: S314 - our own output  # well-formed XML
    ns = "{http://www.w3.org/2000/svg}"
    assert root.get("role") == "img"
    assert root.get("aria-label") == hostile
    assert root.find(f"{ns}title").text == hostile
    assert root.find(f"{ns}desc").text == "desc & more"
    column = charts.column_chart(
        "c2", "t", "d", ["Jan", "Feb"], [("A & B", [1, 2]), ('"C"', [0, 3])]
    )
    ET.fromstring(str(column))  # noqa: S314 - our own output
    histogram = charts.histogram("c3", "t", "d", [str(i) for i in range(10)], [0] * 10)
    ET.fromstring(str(histogram))  # noqa: S314 - our own output
