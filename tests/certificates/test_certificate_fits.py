"""Long words fit on the certificate: in each of the nine languages, with a long holder's
name and long domain names, every printed line stays inside the page's printable area
(the gold frame, less a margin), clear of the QR code, and clear of every other line.

German and Greek run 30–40 % longer than English; the renderer shrinks or wraps a line
rather than let it run off the page or into its neighbour. The lines are read back from
the PDF (pypdf: each line's start, font and size), and measured in the embedded fonts."""

from __future__ import annotations

import dataclasses
import io
from dataclasses import dataclass
from decimal import Decimal

import pytest
from pypdf import PdfReader
from reportlab.pdfbase import pdfmetrics

from certification.certificates.pdf import FONTS, PAGE_HEIGHT, PAGE_WIDTH, render_certificate_pdf
from certification.certificates.services import snapshot_of, wording
from certification.certificates.settings import current_settings
from certification.languages import OFFERED_LANGUAGES
from tests.certificates.test_certificate_language import issued_to

# The gold frame is drawn 26 pt in from each edge; text keeps 10 pt inside it.
MARGIN = 36
HOLDER = "Αικατερίνη-Μαργαρίτα Κωνσταντινοπούλου-Χατζηγεωργίου von Hohenzollern-Sigmaringen"
DOMAINS = (
    ("Information Security, Data Protection & Cybersecurity Governance", Decimal("7.5")),
    ("Standards, Interoperability & Terminologies (DICOM, HL7 FHIR, IHE)", Decimal("5")),
    ("Artificial Intelligence, Machine Learning & Data Science", Decimal("12.5")),
    ("Enterprise Imaging, Workflow Orchestration & Structured Reporting", Decimal("5")),
    ("Radiation Dose Monitoring, Quality Assurance & Registries", Decimal("2.5")),
)
SIGNATORY_TITLE = "Chair of the Education and Professional Development Committee"
TRANSLATED_SIGNATORY_TITLE = "Vorsitzende des Ausschusses für Aus-, Fort- und Weiterbildung"
LONG_TITLE = "Europäisches Zertifikat für Informatik der medizinischen Bildgebung und Therapie"
FONT_NAMES = {filename.removesuffix(".ttf"): name for name, filename in FONTS.items()}


@dataclass(frozen=True)
class Line:
    """One run of text as printed: its box in points (y upwards, as in PDF)."""

    text: str
    left: float
    right: float
    bottom: float
    top: float

    def overlaps(self, other: Line) -> bool:
        return (
            self.left < other.right
            and other.left < self.right
            and self.bottom < other.top
            and other.bottom < self.top
        )


def printed_lines(pdf: bytes) -> tuple[list[Line], Line | None]:
    """The page's text runs, each measured in its own font and size, and the QR code's box
    (the bounding box of its small filled squares)."""
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    lines: list[Line] = []
    squares: list[tuple[float, float, float, float]] = []

    def text(run: str, cm: list[float], tm: list[float], font: dict, size: float) -> None:
        run = run.rstrip("\n")
        if not run.strip():
            return
        assert cm[:4] == [1, 0, 0, 1] and tm[:4] == [1, 0, 0, 1], (run, cm, tm)  # no scaling
        name = FONT_NAMES[str(font["/BaseFont"]).split("+", 1)[-1]]
        x, y = tm[4] + cm[4], tm[5] + cm[5]
        width = pdfmetrics.stringWidth(run, name, size)
        # A capital's top and a descender's bottom: rows of text set closer would collide.
        lines.append(Line(run, x, x + width, y - 0.22 * size, y + 0.74 * size))

    def operator(op: bytes, args: list, cm: list[float], tm: list[float]) -> None:
        if op == b"re":
            x, y, w, h = (float(a) for a in args)
            if 0 < w < 12 and 0 < h < 12:
                squares.append((x, y, x + w, y + h))

    page.extract_text(visitor_text=text, visitor_operand_before=operator)
    qr = None
    if squares:
        qr = Line(
            "QR code",
            min(s[0] for s in squares),
            max(s[2] for s in squares),
            min(s[1] for s in squares),
            max(s[3] for s in squares),
        )
    return lines, qr


def misfits(lines: list[Line], qr: Line | None) -> list[str]:
    found = [
        f"{line.text!r} runs outside the printable area: x {line.left:.1f}–{line.right:.1f},"
        f" y {line.bottom:.1f}–{line.top:.1f} (page {PAGE_WIDTH:.0f} × {PAGE_HEIGHT:.0f},"
        f" margin {MARGIN})"
        for line in lines
        if line.left < MARGIN
        or line.right > PAGE_WIDTH - MARGIN
        or line.bottom < MARGIN
        or line.top > PAGE_HEIGHT - MARGIN
    ]
    if qr is not None:
        found += [f"{line.text!r} runs into the QR code" for line in lines if line.overlaps(qr)]
    found += [
        f"{a.text!r} runs into {b.text!r}"
        for number, a in enumerate(lines)
        for b in lines[number + 1 :]
        if a.overlaps(b)
    ]
    return found


@pytest.mark.parametrize("language", OFFERED_LANGUAGES)
def test_every_line_fits_in_each_language(ctx, eligible_candidate, today, language):
    certificate = issued_to(eligible_candidate(HOLDER), None, today)
    snapshot = snapshot_of(certificate, current_settings())
    # Long signatories' titles, in English and (printed above it) in the holder's language.
    issuers = tuple(
        dataclasses.replace(
            issuer,
            signatory_title=SIGNATORY_TITLE,
            signatory_titles={language: TRANSLATED_SIGNATORY_TITLE},
        )
        for issuer in snapshot.issuers
    )
    snapshot = dataclasses.replace(snapshot, credits_by_domain=DOMAINS, issuers=issuers)
    both = (wording(snapshot, language, {"award_title": LONG_TITLE}), wording(snapshot, "en"))
    snapshot = dataclasses.replace(snapshot, wordings=both[1:] if language == "en" else both)
    lines, qr = printed_lines(render_certificate_pdf(snapshot))

    assert qr is not None and qr.right - qr.left > 50, qr
    printed = " ".join(line.text for line in lines)
    assert certificate.code in printed
    assert all(domain.split(",")[0] in printed for domain, _ in DOMAINS), printed
    assert not misfits(lines, qr), "\n".join(misfits(lines, qr))


def test_the_checks_see_a_line_off_the_page_and_two_lines_that_collide():
    """The measure itself: a line pushed past the right margin, and two lines on one
    baseline, are both found."""
    from reportlab.pdfgen.canvas import Canvas

    from certification.certificates.pdf import register_fonts

    register_fonts()
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=(PAGE_WIDTH, PAGE_HEIGHT))
    canvas.setFont("Serif-Bold", 20)
    canvas.drawString(PAGE_WIDTH - 150, 300, "Κωνσταντινοπούλου")
    canvas.drawString(200, 200, "Zertifizierungsstelle")
    canvas.drawString(300, 205, "Bescheinigung")
    canvas.save()
    found = misfits(*printed_lines(buffer.getvalue()))
    assert len(found) == 2, found
    assert "'Κωνσταντινοπούλου' runs outside the printable area" in found[0]
    assert found[1] == "'Zertifizierungsstelle' runs into 'Bescheinigung'"
