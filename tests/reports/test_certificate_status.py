"""The dashboard tells valid certificates from suspended, expired, revoked and superseded
ones, counts holders as people, and draws charts a reader can trust: whole-number count
axes, labels in full, a size that fits a phone. The page, its JSON and its CSV say the same."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import xml.etree.ElementTree as ET

import pytest

from certification.auth.services import get_candidate
from certification.catalogue.services import get_programme
from certification.certificates.services import issue_certificate
from certification.extensions import db
from certification.reports import charts
from certification.reports.services import dashboard

SVG = "{http://www.w3.org/2000/svg}"
LONG_TITLE = "Advanced Certificate in Imaging Informatics for Radiographers and Radiologists"


@pytest.fixture
def more(known, app, make_programme):
    """The known data, and: Chloé also holds the diploma (two valid certificates, two
    awards, one holder); Zoë's first certificate expired and she was issued another (two
    certificates of one award, one holder); an award with a long title nobody holds yet."""
    make_programme("EII-AR", title=LONG_TITLE, min_total_credits="500")
    with app.app_context():
        chloe, zoe = get_candidate(known.ids["chloe"]), get_candidate(known.ids["zoe"])
        issue_certificate(chloe, get_programme("EII-D"), None, today=known.today)
        issue_certificate(
            zoe, get_programme("EII-C"), None, today=known.today - dt.timedelta(days=380)
        )
        issue_certificate(zoe, get_programme("EII-C"), None, today=known.today)
        db.session.commit()
    return known


def test_the_known_data_by_status(known, ctx):
    """Anna's and Chloé's replacement are valid, Łukasz's revoked, Chloé's first superseded."""
    counts = dashboard(known.today).certificates
    overall = counts.overall
    assert (overall.valid, overall.expired, overall.revoked, overall.superseded) == (2, 0, 1, 1)
    assert overall.holders == 2
    assert overall.total == 4
    by_award = {s.code: s for s in counts.by_award}
    assert (by_award["EII-C"].valid, by_award["EII-C"].holders) == (2, 2)
    assert by_award["EII-D"].total == 0


def test_holders_are_people_not_certificates(more, ctx):
    counts = dashboard(more.today).certificates
    overall = counts.overall
    # Valid: Anna's, Chloé's replacement, Chloé's diploma, Zoë's second. Held by three people.
    assert (overall.valid, overall.holders) == (4, 3)
    assert (overall.expired, overall.revoked, overall.superseded, overall.total) == (1, 1, 1, 7)
    by_award = {
        s.code: (s.valid, s.holders, s.expired, s.revoked, s.superseded) for s in counts.by_award
    }
    assert by_award == {
        "EII-C": (3, 3, 1, 1, 1),
        "EII-D": (1, 1, 0, 0, 0),
        "EII-AR": (0, 0, 0, 0, 0),
    }


def _admin_get(client, auth, make_admin, url: str):
    auth.login(make_admin().email)
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response


def test_the_page_names_each_status(more, client, auth, make_admin):
    html = _admin_get(client, auth, make_admin, "/admin/reports").get_data(as_text=True)
    headline = re.sub(
        r"\s+", " ", re.search(r'<p class="meta" id="headline">(.*?)</p>', html, re.S)[1]
    )
    assert "6 candidates; 4 valid certificates, held by 3 candidates." in headline
    totals = dict(re.findall(r'<dd data-status="(\w+)">(\d+)</dd>', html))
    assert totals == {
        "valid": "4",
        "holders": "3",
        "suspended": "0",
        "expired": "1",
        "revoked": "1",
        "superseded": "1",
        "total": "7",
    }
    table = re.search(r'<table class="table" id="table-status">(.*?)</table>', html, re.S)[1]
    rows = [
        [
            re.sub(r"<[^>]+>", "", c).strip()
            for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        ]
        for row in re.findall(r"<tr>(.*?)</tr>", table, re.S)
    ]
    assert rows[0] == [
        "Award",
        "Valid",
        "Holders",
        "Suspended",
        "Expired",
        "Revoked",
        "Superseded by a reissue",
        "On record",
    ]
    assert rows[1:] == [
        ["EII-AR " + LONG_TITLE, "0", "0", "0", "0", "0", "0", "0"],
        ["EII-C European Certificate in Imaging Informatics", "3", "3", "0", "1", "1", "1", "6"],
        ["EII-D European Diploma in Imaging Informatics", "1", "1", "0", "0", "0", "0", "1"],
        ["Every award", "4", "3", "0", "1", "1", "1", "7"],
    ]
    # On a phone, where the headings are hidden, each figure carries its column's name.
    assert re.findall(r'<td data-label="([^"]*)" class="num">(\d+)</td>', table)[-7:] == [
        ("Valid", "4"),
        ("Holders", "3"),
        ("Suspended", "0"),
        ("Expired", "1"),
        ("Revoked", "1"),
        ("Superseded by a reissue", "1"),
        ("On record", "7"),
    ]


def test_json_and_csv_say_the_same(more, client, auth, make_admin):
    data = _admin_get(client, auth, make_admin, "/admin/reports/figures.json").get_json()
    assert data["as_of"] == more.today.isoformat()
    assert dt.datetime.fromisoformat(data["computed_at"]).tzinfo is not None
    assert data["certificates"] == {
        "valid": 4,
        "holders": 3,
        "suspended": 0,
        "expired": 1,
        "revoked": 1,
        "superseded": 1,
        "total": 7,
    }
    by_award = {a["code"]: a for a in data["certificates_by_award"]}
    assert by_award["EII-C"]["valid"] == 3 and by_award["EII-C"]["superseded"] == 1
    assert by_award["EII-AR"]["title"] == LONG_TITLE
    months = [m["month"] for m in data["conferred_per_month"]]
    assert months[-1] == more.today.strftime("%Y-%m") and len(months) == 12
    assert all(re.fullmatch(r"\d{4}-\d\d", m) for m in months)

    response = client.get("/admin/reports/certificates.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert (
        f"certificates-by-status-{more.today.isoformat()}.csv"
        in (response.headers["Content-Disposition"])
    )
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"), newline="")))
    assert rows[0] == [
        "as_of",
        "award",
        "title",
        "valid",
        "holders",
        "suspended",
        "expired",
        "revoked",
        "superseded",
        "total",
    ]
    by_code = {row[1]: row for row in rows[1:]}
    assert by_code["all"] == [
        more.today.isoformat(),
        "all",
        "Every award",
        "4",
        "3",
        "0",
        "1",
        "1",
        "1",
        "7",
    ]
    assert by_code["EII-C"][3:] == ["3", "3", "0", "1", "1", "1", "6"]

    # The certificates' own export names the same statuses, one row each.
    listed = list(
        csv.reader(
            io.StringIO(
                client.get("/admin/exports/certificates.csv").get_data().decode("utf-8-sig"),
                newline="",
            )
        )
    )
    statuses = [row[listed[0].index("status")] for row in listed[1:]]
    assert {s: statuses.count(s) for s in set(statuses)} == {
        "valid": 4,
        "expired": 1,
        "revoked": 1,
        "superseded": 1,
    }


def test_a_suspended_certificate_counts_once_as_suspended_and_is_not_expiring(
    more, client, auth, make_admin
):
    """A certificate one partner body asked to revoke is neither valid nor in any other
    status: it counts once, as suspended, on the page, in its JSON and in both CSVs, makes
    nobody a holder, and is not listed as expiring soon (its holder is not reminded)."""
    from certification.certificates.services import find_certificate
    from certification.reports.services import count_expiring_soon
    from certification.types import utcnow

    with client.application.app_context():
        expiring_before = count_expiring_soon(more.today)
        anna = find_certificate(more.codes["anna"])  # issued eleven months ago: expiring
        assert expiring_before >= 1 and anna.expires_on is not None
        anna.suspended_at = utcnow()
        anna.suspended_by_body = "EFRS"
        anna.suspension_reason = "The examination result is being checked."
        db.session.commit()
        counts = dashboard(more.today).certificates
        assert count_expiring_soon(more.today) == expiring_before - 1
    overall = counts.overall
    assert (overall.valid, overall.suspended, overall.holders, overall.total) == (3, 1, 2, 7)
    assert (
        overall.valid + overall.suspended + overall.expired + overall.revoked + (overall.superseded)
        == overall.total
    )
    by_award = {s.code: s for s in counts.by_award}
    assert (by_award["EII-C"].valid, by_award["EII-C"].suspended) == (2, 1)

    html = _admin_get(client, auth, make_admin, "/admin/reports").get_data(as_text=True)
    totals = dict(re.findall(r'<dd data-status="(\w+)">(\d+)</dd>', html))
    assert (totals["valid"], totals["suspended"], totals["total"]) == ("3", "1", "7")
    assert "suspended (one partner body asked for its revocation" in html
    data = client.get("/admin/reports/figures.json").get_json()
    assert (data["certificates"]["suspended"], data["certificates"]["valid"]) == (1, 3)
    rows = list(
        csv.reader(
            io.StringIO(
                client.get("/admin/reports/certificates.csv").get_data().decode("utf-8-sig"),
                newline="",
            )
        )
    )
    every = dict(zip(rows[0], next(row for row in rows[1:] if row[1] == "all"), strict=True))
    assert (every["valid"], every["suspended"], every["total"]) == ("3", "1", "7")
    listed = list(
        csv.reader(
            io.StringIO(
                client.get("/admin/exports/certificates.csv").get_data().decode("utf-8-sig"),
                newline="",
            )
        )
    )
    statuses = [row[listed[0].index("status")] for row in listed[1:]]
    assert statuses.count("suspended") == 1 and statuses.count("valid") == 3


# ---------------------------------------------------------------- the charts


def _svgs(html: str) -> dict[str, ET.Element]:
    found = {}
    for svg in re.findall(r"<svg .*?</svg>", html, re.S):
        root = ET.fromstring(svg)  # noqa: S314 - our own output
        found[root.get("id")] = root
    return found


def _texts(root: ET.Element, css: str) -> list[str]:
    return [
        " ".join(t.strip() for t in text.itertext() if t.strip())
        for text in root.iter(f"{SVG}text")
        if text.get("class") == f"chart-{css}"
    ]


def _count_ticks(root: ET.Element) -> list[str]:
    return [
        "".join(text.itertext())
        for text in root.iter(f"{SVG}text")
        if text.get("class") == "chart-axis" and text.get("text-anchor") == "end"
    ]


def test_the_page_charts_count_in_whole_numbers_and_show_labels_in_full(
    more, client, auth, make_admin
):
    html = _admin_get(client, auth, make_admin, "/admin/reports").get_data(as_text=True)
    svgs = _svgs(html)
    assert "…" not in "".join(re.findall(r"<svg .*?</svg>", html, re.S))
    for chart_id in (
        "chart-issued",
        "chart-issued-narrow",
        "chart-scores-EXAM",
        "chart-scores-DEXAM-narrow",
    ):
        ticks = _count_ticks(svgs[chart_id])
        assert ticks and all(re.fullmatch(r"\d+", tick) for tick in ticks), (chart_id, ticks)
        assert ticks == [str(n) for n in range(0, int(ticks[-1]) + 1, int(ticks[1]))]
    # The monthly chart's legend and the stages' labels name every award in full.
    for suffix in ("", "-narrow"):
        assert f"EII-AR · {LONG_TITLE}" in _texts(svgs[f"chart-issued{suffix}"], "legend")
        assert f"EII-AR · {LONG_TITLE}" in _texts(svgs[f"chart-stages{suffix}"], "label")
    # Every chart scales down to a phone's width: drawn to a viewBox, sized by the page.
    for root in svgs.values():
        assert root.get("viewBox", "").startswith("0 0 ")
        assert root.get("style") is None


@pytest.mark.parametrize(
    ("values", "ticks"),
    [
        ([0], ["0", "1"]),
        ([1], ["0", "1"]),
        ([2], ["0", "1", "2"]),  # was 0, 0.5, 1, 1.5, 2
        ([3], ["0", "1", "2", "3"]),  # was 0, 1.25, 2.5, 3.75, 5
        ([7], ["0", "2", "4", "6", "8"]),  # was 0, 2.5, 5, 7.5, 10
        ([13, 4], ["0", "5", "10", "15"]),
    ],
)
def test_count_axes_have_whole_ticks(values, ticks):
    svg = charts.column_chart("c", "t", "d", [str(i) for i in range(len(values))], [("A", values)])
    assert _count_ticks(ET.fromstring(str(svg))) == ticks  # noqa: S314 - our own output


def test_long_labels_wrap_and_the_chart_grows():
    names = [f"Award number {i} with a title far longer than any legend line" for i in range(4)]
    short = charts.column_chart("c", "t", "d", ["Jan"], [("A", [1]), ("B", [2])])
    long = charts.column_chart("c", "t", "d", ["Jan"], [(name, [1]) for name in names])
    root = ET.fromstring(str(long))  # noqa: S314 - our own output
    assert _texts(root, "legend") == names
    width = int(root.get("width"))
    assert int(root.get("height")) > int(ET.fromstring(str(short)).get("height"))  # noqa: S314
    # Each legend line's estimated extent stays inside the drawing.
    for text in root.iter(f"{SVG}text"):
        if text.get("class") == "chart-legend":
            for line in text.itertext():
                assert float(text.get("x")) + len(line) * charts.CHAR <= width
    bars = charts.bar_chart("b", "t", "d", [(names[0], [3])])
    assert _texts(ET.fromstring(str(bars)), "label") == [names[0]]  # noqa: S314
