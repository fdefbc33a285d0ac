"""The renderer on its own: a pure function from a snapshot to one page of real text."""

from __future__ import annotations

import datetime as dt
import io
import shutil
import subprocess
import unicodedata
from decimal import Decimal

import pytest
from pypdf import PdfReader

from certification.certificates.codes import new_code
from certification.certificates.pdf import CertificateSnapshot, Issuer, render_certificate_pdf

ISSUERS = (
    Issuer(
        "European Federation of Radiographer Societies", "EFRS", "Dr Jana Nováková", "President"
    ),
    Issuer(
        "European Society of Medical Imaging Informatics",
        "EuSoMII",
        "Σωκράτης Αλεξίου",
        "President",
    ),
)


def snapshot(name: str, **changes: object) -> CertificateSnapshot:
    code = new_code("EIC")
    values: dict[str, object] = {
        "code": code,
        "holder_name": name,
        "award_title": "European Certificate in Imaging Informatics",
        "level": "certificate",
        "eqf_level": 6,
        "credits_total": Decimal("32.5"),
        "credits_by_domain": (
            ("AI & Data Science", Decimal("7.5")),
            ("Standards & Interoperability", Decimal(25)),
        ),
        "issued_at": dt.datetime(2026, 11, 28, 9, 30, tzinfo=dt.UTC),
        "issued_on": dt.date(2026, 11, 28),
        "expires_on": dt.date(2031, 11, 28),
        "verify_url": f"https://certificates.example.org/verify/{code}",
        "issuers": ISSUERS,
    }
    values.update(changes)
    return CertificateSnapshot(**values)  # type: ignore[arg-type]


def page_text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    return unicodedata.normalize("NFC", reader.pages[0].extract_text())


NAMES = {
    "polish": "Łukasz Żółkiewski-Wiśniewski",
    "czech": "Kateřina Dvořáková",
    "turkish": "Zeynep Çağlayan Işıkoğlu",
    "vietnamese": "Nguyễn Thị Minh Khai",
    "icelandic": "Þórunn Guðmundsdóttir",
    "greek": "Αικατερίνη Παπαδοπούλου",
    "cyrillic": "Дмитрий Иванович Соколов",
    "irish": "Siobhán Ní Bhriain-O'Brien",
}


@pytest.mark.parametrize("name", NAMES.values(), ids=NAMES.keys())
def test_every_european_name_prints_as_real_text(name):
    sheet = snapshot(name)
    text = page_text(render_certificate_pdf(sheet))
    assert name in text
    assert sheet.code in text


def test_decomposed_input_prints_the_composed_name():
    decomposed = unicodedata.normalize("NFD", "Nguyễn Thị Minh Khai")
    assert decomposed != "Nguyễn Thị Minh Khai"
    text = page_text(render_certificate_pdf(snapshot(decomposed)))
    assert "Nguyễn Thị Minh Khai" in text


def test_a_120_character_name_fits_on_the_page():
    name = (
        "Maria-Magdalena Alexandrescu-Papadopoulou von Hohenzollern-Sigmaringen "
        "Þórðardóttir Nguyễn Thị Minh Khai Wiśniewska-Kowalczyk"
    )[:120]
    assert len(name) == 120
    pdf = render_certificate_pdf(snapshot(name))
    # It may wrap onto two lines, but every word is there, in order.
    assert " ".join(name.split()) in " ".join(page_text(pdf).split())
    # Centred lines that start inside the inner frame also end inside it: nothing clipped.
    starts: list[float] = []

    def visit(text, cm, tm, font, size):  # pypdf's text visitor
        if text.strip() and text.strip().split()[0] in name.split():
            starts.append(tm[4] * cm[0] + cm[4])

    PdfReader(io.BytesIO(pdf)).pages[0].extract_text(visitor_text=visit)
    assert starts, "the name was not found as text"
    assert min(starts) >= 26


def test_the_same_snapshot_always_gives_the_same_bytes():
    sheet = snapshot("Jón Þórðarson")
    assert render_certificate_pdf(sheet) == render_certificate_pdf(sheet)


def test_metadata_names_the_award_the_bodies_and_the_code():
    sheet = snapshot("Jón Þórðarson")
    info = PdfReader(io.BytesIO(render_certificate_pdf(sheet))).metadata
    assert info.title == "European Certificate in Imaging Informatics — Jón Þórðarson"
    assert "European Federation of Radiographer Societies" in info.author
    assert "European Society of Medical Imaging Informatics" in info.author
    assert sheet.code in info.subject
    assert info.creation_date.date() == dt.date(2026, 11, 28)


def test_markup_in_a_name_is_printed_not_interpreted():
    text = page_text(render_certificate_pdf(snapshot("<b>Anna</b> & Co")))
    assert "<b>Anna</b> & Co" in text


@pytest.mark.skipif(
    not (shutil.which("pdftoppm") and shutil.which("zbarimg")),
    reason="needs poppler-utils and zbar-tools (.ci/run installs them)",
)
def test_a_phone_reads_the_verification_address_from_the_printed_qr_code(tmp_path):
    printed = snapshot("Σωκράτης Αλεξίου")
    (tmp_path / "certificate.pdf").write_bytes(render_certificate_pdf(printed))
    subprocess.run(
        ["pdftoppm", "-png", "-r", "100", "-singlefile", "certificate.pdf", "page"],  # noqa: S607
        cwd=tmp_path,
        check=True,
    )
    decoded = subprocess.run(
        ["zbarimg", "--quiet", "--raw", "page.png"],  # noqa: S607
        cwd=tmp_path,
        check=True,
        capture_output=True,
        text=True,
    )
    assert decoded.stdout.strip() == printed.verify_url
