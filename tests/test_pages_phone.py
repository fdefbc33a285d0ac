"""Pages read well on a phone and speak one date style: every table cell carries its
column's name (a phone hides the headings and stacks each row), dates read
"6 December 2026" (ISO 8601 stays in CSV and JSON), and the main menu offers every page to
whoever is logged in, folding behind a Menu button that needs no script."""

from __future__ import annotations

import calendar
import datetime as dt
import html
import re

import pytest
from markupsafe import Markup

from certification.web import format_long_datetime, label_cells
from tests.conftest import issue_by_service, log_in

ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
ADMIN_PAGES = {
    "Candidates": "/admin/candidates",
    "Ready to issue": "/admin/ready",
    "Programmes": "/admin/programmes",
    "Courses": "/admin/courses",
    "Assessments": "/admin/assessments",
    "Jobs": "/admin/jobs",
    "E-mail": "/admin/emails",
    "Imports": "/admin/imports",
    "Exports": "/admin/exports",
    "Reports": "/admin/reports",
    "Branding": "/admin/branding",
    "API tokens": "/admin/api-tokens",
    "Audit": "/admin/audit",
}


def long(day: dt.date) -> str:
    return f"{day.day} {calendar.month_name[day.month]} {day.year}"


def visible_text(page: str) -> str:
    """What the page shows: the text, without tags (and their attributes) or scripts."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def cells(page: str) -> list[str]:
    """Every <td> opening tag of the page's tables."""
    return re.findall(r"<td\b[^>]*>", page)


def labels(page: str) -> list[str]:
    return [html.unescape(label) for label in re.findall(r'<td\b[^>]*data-label="([^"]*)"', page)]


@pytest.fixture
def candidate_with_record(app, eligible_candidate, make_admin, today):
    """A candidate with credits and a result a year ago, and the Certificate issued."""
    on = today - dt.timedelta(days=365)
    candidate_id = eligible_candidate("Zoë Ødegård-Kowalczyk", on=on)
    issue_by_service(app, candidate_id, today)
    make_admin("office@efrs.example")
    return candidate_id, on


def test_the_transcript_labels_every_cell_and_says_its_dates_in_words(
    app, candidate_with_record, today
):
    _, on = candidate_with_record
    client = app.test_client()
    log_in(client, "eligible1@example.org")
    page = client.get("/me/").get_data(as_text=True)

    assert cells(page), "the transcript has tables"
    assert all("data-label=" in cell for cell in cells(page)), cells(page)
    assert {"Course", "Domain", "Provider", "ECTS", "Completed"} <= set(labels(page))
    assert {"Assessment", "Attempt", "Score", "Result", "Taken"} <= set(labels(page))
    text = visible_text(page)
    assert long(on) in text  # completed and taken on
    assert f"Issued on {long(today)}" in " ".join(text.split())
    assert not ISO_DATE.findall(text), ISO_DATE.findall(text)


def test_the_admin_candidate_list_and_page_label_every_cell(app, candidate_with_record, today):
    candidate_id, on = candidate_with_record
    client = app.test_client()
    log_in(client, "office@efrs.example")

    listing = client.get("/admin/candidates").get_data(as_text=True)
    assert "Zoë Ødegård-Kowalczyk" in listing
    assert cells(listing) and all("data-label=" in cell for cell in cells(listing))
    assert labels(listing) == ["E-mail", "Country", "ECTS credits"]

    page = client.get(f"/admin/candidates/{candidate_id}").get_data(as_text=True)
    assert all("data-label=" in cell for cell in cells(page)), [
        cell for cell in cells(page) if "data-label=" not in cell
    ]
    assert {"Issued", "Valid until", "Completed", "Taken"} <= set(labels(page))
    text = visible_text(page)
    assert long(on) in text and long(today) in text
    assert not ISO_DATE.findall(text), ISO_DATE.findall(text)


def test_a_phone_shows_each_cell_with_its_label():
    """The stylesheet stacks the rows under 640 px and puts the label in front of a cell."""
    from pathlib import Path

    css = (Path(__file__).resolve().parent.parent / "static/css/app.css").read_text()
    phone = css[css.index("@media (max-width: 640px)") :]
    assert ".table thead { display: none; }" in phone
    assert "content: attr(data-label)" in phone


def test_label_cells_names_each_column_and_leaves_the_rest_alone():
    table = (
        '<table class="table"><thead><tr><th scope="col">Name</th><th scope="col">R&amp;D</th>'
        '<th scope="col" class="num">ECTS</th>'
        '<th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>'
        '<tbody><tr><th scope="row">Anna</th><td>yes</td><td class="num">5</td>'
        "<td><button>Remove</button></td></tr></tbody>"
        '<tfoot><tr><th scope="row" colspan="2">Total</th><td class="num">5</td><td></td></tr>'
        "</tfoot></table>"
        '<table><tbody><tr><th scope="row">Issued</th><td>3</td></tr></tbody></table>'
    )
    labelled = str(label_cells(Markup(table)))  # noqa: S704 - a template's own markup
    assert '<td data-label="R&amp;D">yes</td>' in labelled
    assert '<td data-label="ECTS" class="num">5</td>' in labelled
    assert '<td data-label=""><button>Remove</button></td>' in labelled  # screen readers only
    assert '<td data-label="ECTS" class="num">5</td><td data-label=""></td></tr></tfoot>' in (
        labelled
    )
    assert labelled.endswith("<td>3</td></tr></tbody></table>")  # no headings: as it was


def test_label_cells_never_marks_an_unescaped_string_safe():
    typed = "<table><thead><tr><th>Name</th></tr></thead><tbody><tr><td><script>x</script>"
    assert "<script>" not in label_cells(typed)


def test_a_moment_reads_as_a_long_date_and_a_time_in_utc():
    moment = dt.datetime(2026, 12, 7, 1, 5, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert format_long_datetime(moment) == "6 December 2026 at 23:05 UTC"


def nav(page: str) -> str:
    found = re.search(r'<nav class="main-nav".*?</nav>', page, re.S)
    assert found, "no main menu"
    return found.group(0)


def test_the_menu_offers_every_admin_page_and_marks_the_current_one(app, make_admin):
    make_admin("office@efrs.example", full_name="Αικατερίνη Παπαδοπούλου")
    client = app.test_client()
    log_in(client, "office@efrs.example")
    menu = nav(client.get("/admin/courses").get_data(as_text=True))

    links = dict(
        (html.unescape(text), href)
        for href, text in re.findall(r'<a href="([^"]+)"[^>]*>([^<]+)</a>', menu)
    )
    for name, path in ADMIN_PAGES.items():
        assert links.get(name) == path, name
        assert client.get(path, follow_redirects=True).status_code == 200, path
    assert re.search(r'<a href="/admin/courses" aria-current="page">Courses</a>', menu)
    assert menu.count('aria-current="page"') == 1
    # Folded on a phone behind a button that is a checkbox's label: it opens without script.
    assert '<input type="checkbox" id="menu-toggle"' in menu
    assert '<label for="menu-toggle" class="menu-button">Menu</label>' in menu
    assert "Αικατερίνη Παπαδοπούλου" in menu and "Log out" in menu
    assert "Settings" in menu


def test_the_menu_of_a_candidate_and_of_a_visitor(app, make_candidate):
    make_candidate("Zoë Ødegård-Kowalczyk", email="zoe@example.org")
    client = app.test_client()
    log_in(client, "zoe@example.org")
    menu = nav(client.get("/me/").get_data(as_text=True))
    assert re.search(r'<a href="/me/" aria-current="page">My progress</a>', menu)
    assert "Zoë Ødegård-Kowalczyk" in menu and "Log out" in menu
    assert not any(path in menu for path in ADMIN_PAGES.values())

    visitor = nav(app.test_client().get("/verify").get_data(as_text=True))
    assert "Check a certificate" in visitor and "Log in" in visitor
    assert "menu-toggle" not in visitor  # two links need no folding
