"""CSV exports (escaping, encoding, filters) and certificates' PDFs merged or zipped."""

from __future__ import annotations

import csv
import io
import zipfile
from decimal import Decimal

import pytest
from pypdf import PdfReader

from certification.auth.services import get_candidate
from certification.certificates import exports
from certification.certificates.models import Certificate
from certification.extensions import db
from certification.records.services import record_credit, record_result


@pytest.fixture
def admin_client(known, client, auth, make_admin):
    auth.login(make_admin().email)
    return client


def _rows(response) -> list[list[str]]:
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    raw = response.get_data()
    assert raw.startswith("\ufeff".encode())  # the BOM, so Excel reads UTF-8
    text = raw.decode("utf-8-sig")
    assert "\r\n" in text
    return list(csv.reader(io.StringIO(text, newline="")))


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+Łukasz", "'+Łukasz"),
        ("-Anna", "'-Anna"),
        ("@Zoë", "'@Zoë"),
        ("\tTab", "'\tTab"),
        ("\rReturn", "'\rReturn"),
        ("Anna-Maria", "Anna-Maria"),
        ("", ""),
        (None, ""),
        (42, "42"),
    ],
)
def test_formulas_are_neutralised(value, cell):
    assert exports.neutralise(value) == cell


def test_lines_are_quoted_and_end_in_crlf():
    lines = list(exports.csv_lines(["a", "b"], [['x, "y"', "=1+1"], ["multi\nline", "ok"]]))
    assert lines[0] == "\ufeffa,b\r\n"
    assert lines[1] == '"x, ""y""",\'=1+1\r\n'
    assert lines[2] == '"multi\nline",ok\r\n'


def test_certificates_csv(admin_client, known):
    rows = _rows(admin_client.get("/admin/exports/certificates.csv"))
    assert rows[0] == list(exports.CERTIFICATE_COLUMNS)
    by_code = {row[0]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    assert set(by_code) == set(known.codes.values())
    anna = by_code[known.codes["anna"]]
    assert anna["holder_name"] == "'-Anna Kowalska"
    assert anna["status"] == "valid"
    assert anna["issued_on"] == known.eleven_months_ago.isoformat()
    lukasz = by_code[known.codes["lukasz"]]
    assert lukasz["holder_name"] == "'+Łukasz Wiśniewski"
    assert lukasz["status"] == "revoked"
    assert lukasz["reason"] == "Issued in error"
    assert lukasz["revoked_on"] == known.today.isoformat()
    chloe = by_code[known.codes["chloe"]]
    assert chloe["holder_name"] == "Χλόη Παπαδοπούλου"  # Greek survives the round trip
    assert chloe["status"] == "superseded"
    assert chloe["superseded_by"] == known.codes["chloe2"]
    assert len(anna["pdf_sha256"]) == 64


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=revoked", {"lukasz"}),
        ("status=superseded", {"chloe"}),
        ("status=valid", {"anna", "chloe2"}),
        ("status=expired", set()),
        ("programme=EII-D", set()),
        ("programme=eii-c&status=valid", {"anna", "chloe2"}),
        ("issued_from={last_month}", {"lukasz", "chloe", "chloe2"}),
        ("issued_to={before_last_month}", {"anna"}),
        ("issued_from={eleven}&issued_to={eleven}", {"anna"}),
    ],
)
def test_certificate_filters(admin_client, known, query, expected):
    import datetime as dt

    query = query.format(
        last_month=known.last_month.isoformat(),
        before_last_month=(known.last_month - dt.timedelta(days=1)).isoformat(),
        eleven=known.eleven_months_ago.isoformat(),
    )
    rows = _rows(admin_client.get(f"/admin/exports/certificates.csv?{query}"))
    assert {row[0] for row in rows[1:]} == {known.codes[key] for key in expected}
    page = admin_client.get(f"/admin/exports?{query}")
    assert page.status_code == 200
    for key, code in known.codes.items():
        assert (code in page.get_data(as_text=True)) == (key in expected)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("status=lost", "Choose valid, suspended, revoked, expired or superseded."),
        ("programme=NOPE", "There is no programme with the code"),
        ("issued_from=31-12-2024", "Enter a date as YYYY-MM-DD"),
        (
            "issued_from=2025-02-01&issued_to=2025-01-01",
            "The end of the range is before its start.",
        ),
    ],
)
def test_invalid_filters_show_the_page_again(admin_client, query, message):
    for url in ("/admin/exports", "/admin/exports/certificates.csv"):
        response = admin_client.get(f"{url}?{query}")
        assert response.status_code == 422
        assert response.mimetype == "text/html"
        assert message in response.get_data(as_text=True)


def test_candidates_csv(admin_client, known):
    rows = _rows(admin_client.get("/admin/exports/candidates.csv"))
    assert rows[0] == ["email", "full_name", "country", "EII-C", "EII-D"]
    by_email = {row[0]: row[1:] for row in rows[1:]}
    assert by_email["anna@example.org"][:3] == ["'-Anna Kowalska", "PL", "Certified"]
    # Progress as the pages count it, never a percentage: the diploma's examination failed
    # once (two attempts left), its prerequisite and credits met.
    assert by_email["anna@example.org"][3] == "In progress: 3 of 4 requirements met"
    assert by_email["dmytro@example.org"][2:] == [
        "In progress: 0 of 2 requirements met",
        "In progress: 1 of 4 requirements met",
    ]
    assert not [cell for row in rows for cell in row if "%" in cell]
    assert by_email["lukasz@example.org"][2] == "Eligible"
    assert by_email["chloe@example.org"][2:] == ["Certified", "Eligible"]
    assert by_email["dmytro@example.org"][0] == "Дмитро Шевченко"  # Cyrillic survives
    assert by_email["eleni@example.org"] == [
        '\'=HYPERLINK("http://x")',
        "GR",
        "Not started",
        "Not started",
    ]
    assert by_email["zoe@example.org"][:3] == ["'@Zoë Müller", "PL", "Eligible"]


def test_candidates_csv_says_an_award_is_blocked(admin_client, known, app, make_candidate):
    """A required examination failed with every attempt used: the cell says so, and where,
    however many credits are gained."""
    candidate_id = make_candidate("Ana Blocată", email="blocked@example.org", country="RO").id
    with app.app_context():
        candidate = get_candidate(candidate_id)
        for course in ("A1", "S1"):
            record_credit(candidate, course, known.last_month, actor=None, today=known.today)
        for score in ("41", "55", "58"):
            record_result(
                candidate, "EXAM", Decimal(score), known.last_month, actor=None, today=known.today
            )
        db.session.commit()
    rows = _rows(admin_client.get("/admin/exports/candidates.csv"))
    assert rows[0] == ["email", "full_name", "country", "EII-C", "EII-D"]
    by_email = {row[0]: row[1:] for row in rows[1:]}
    assert by_email["blocked@example.org"] == [
        "Ana Blocată",
        "RO",
        "Blocked: 1 of 2 requirements met, no attempts left at EXAM",
        "In progress: 1 of 4 requirements met",
    ]


def test_expiring_soon_page_and_csv(admin_client, known):
    page = admin_client.get("/admin/reports/expiring")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert known.codes["anna"] in html
    assert known.codes["chloe2"] not in html  # valid for another eleven months
    rows = _rows(admin_client.get("/admin/exports/expiring.csv"))
    assert rows[0] == list(exports.EXPIRING_COLUMNS)
    assert [row[:3] for row in rows[1:]] == [
        [known.codes["anna"], "'-Anna Kowalska", "anna@example.org"]
    ]


def _stored(app, *codes: str) -> dict[str, bytes]:
    with app.app_context():
        return {
            c.code: c.pdf
            for c in db.session.scalars(db.select(Certificate).where(Certificate.code.in_(codes)))
        }


def test_merged_pdf_has_every_selected_certificate(admin_client, known, app):
    selected = [known.codes["anna"], known.codes["chloe2"], known.codes["lukasz"]]
    response = admin_client.post("/admin/exports/certificates.pdf", data={"code": selected})
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    merged = PdfReader(io.BytesIO(response.get_data()))
    originals = _stored(app, *selected)
    pages_each = [len(PdfReader(io.BytesIO(pdf)).pages) for pdf in originals.values()]
    assert len(merged.pages) == sum(pages_each) == len(selected) * pages_each[0]
    text = " ".join(page.extract_text() for page in merged.pages)
    assert "Kowalska" in text and "Wiśniewski" in text


def test_zip_holds_the_signed_originals(admin_client, known, app):
    response = admin_client.post(
        "/admin/exports/certificates.zip", data={"scope": "all", "status": "valid"}
    )
    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.get_data()))
    expected = _stored(app, known.codes["anna"], known.codes["chloe2"])
    assert sorted(archive.namelist()) == sorted(f"{code}.pdf" for code in expected)
    for code, pdf in expected.items():
        assert archive.read(f"{code}.pdf") == pdf


def test_selection_is_required_and_capped(admin_client, known, monkeypatch):
    response = admin_client.post("/admin/exports/certificates.zip", data={})
    assert response.status_code == 422
    assert "Choose at least one certificate." in response.get_data(as_text=True)
    monkeypatch.setattr(exports, "MAX_PDFS", 2)
    response = admin_client.post("/admin/exports/certificates.pdf", data={"scope": "all"})
    assert response.status_code == 422
    assert "4 certificates are selected; at most 2 fit in one file." in response.get_data(
        as_text=True
    )
