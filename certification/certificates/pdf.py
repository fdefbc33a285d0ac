"""The certificate PDF: a pure function from a snapshot to bytes.

It never reads the database or the clock: everything printed comes in the snapshot, so
the same snapshot always gives the same bytes. Names are drawn as real text in embedded
DejaVu fonts (shipped in ``static/fonts`` with their licence), which cover Latin
Extended, Greek and Cyrillic; a reader's copy-paste and a screen reader get the name.
"""

from __future__ import annotations

import datetime as dt
import io
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from reportlab.lib.colors import Color, HexColor, black
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from certification.dates import format_long_date
from certification.qr import encode_qr

FONT_DIR = Path(__file__).resolve().parents[2] / "static" / "fonts"
FONTS = {
    "Serif": "DejaVuSerif.ttf",
    "Serif-Bold": "DejaVuSerif-Bold.ttf",
    "Serif-Italic": "DejaVuSerif-Italic.ttf",
    "Sans": "DejaVuSans.ttf",
    "Sans-Bold": "DejaVuSans-Bold.ttf",
}
INK = HexColor("#1b2430")
MUTED = HexColor("#5b6675")
ACCENT = HexColor("#1f4e79")
ACCENT_2 = HexColor("#0f766e")
GOLD = HexColor("#b08d3c")
PAGE_WIDTH, PAGE_HEIGHT = landscape(A4)


@dataclass(frozen=True)
class Issuer:
    """One partner body as it appears on the certificate, with its signatory."""

    name: str
    short_name: str
    signatory_name: str
    signatory_title: str
    logo: bytes | None = None  # PNG or JPEG; None draws a neutral mark
    signature: bytes | None = None  # PNG or JPEG of a handwritten signature


@dataclass(frozen=True)
class CertificateSnapshot:
    """Everything a certificate prints, fixed at the moment it is issued."""

    code: str
    holder_name: str
    award_title: str
    level: str  # "certificate" or "diploma"
    eqf_level: int | None
    credits_total: Decimal
    credits_by_domain: tuple[tuple[str, Decimal], ...]
    issued_at: dt.datetime  # when the document was made (PDF metadata)
    issued_on: dt.date  # the award's date, in the programme's calendar (printed)
    expires_on: dt.date | None
    verify_url: str
    issuers: tuple[Issuer, Issuer]


def register_fonts() -> None:
    """Register the embedded fonts once per process (reportlab keeps a global registry)."""
    registered = set(pdfmetrics.getRegisteredFontNames())
    for name, filename in FONTS.items():
        if name not in registered:
            pdfmetrics.registerFont(TTFont(name, str(FONT_DIR / filename)))


def render_certificate_pdf(snapshot: CertificateSnapshot) -> bytes:
    """Draw the one-page, A4 landscape certificate for ``snapshot`` and return the PDF."""
    register_fonts()
    buffer = io.BytesIO()
    # invariant=1 keeps reportlab from stamping the current time and a random document ID,
    # so the output depends on the snapshot alone.
    canvas = Canvas(buffer, pagesize=(PAGE_WIDTH, PAGE_HEIGHT), invariant=1, pageCompression=1)
    holder = _nfc(snapshot.holder_name)
    bodies = " and ".join(issuer.name for issuer in snapshot.issuers)
    canvas.setTitle(f"{snapshot.award_title} — {holder}")
    canvas.setAuthor(bodies)
    canvas.setSubject(f"{snapshot.award_title}, certificate {snapshot.code}, awarded by {bodies}")
    canvas.setKeywords(f"certificate code {snapshot.code}; verify at {snapshot.verify_url}")
    canvas.setCreator("European Certificate and Diploma in Imaging Informatics")
    issued = snapshot.issued_at.astimezone(dt.UTC)
    canvas.setDateFormatter(lambda *_: issued.strftime("D:%Y%m%d%H%M%S+00'00'"))

    _frame(canvas)
    _issuer_header(canvas, snapshot.issuers)
    _award_and_holder(canvas, snapshot, holder)
    _dates(canvas, snapshot)
    left, right = snapshot.issuers
    _signatory(canvas, left, x=70, align="left")
    _signatory(canvas, right, x=PAGE_WIDTH - 70, align="right")
    _verification(canvas, snapshot)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _nfc(text: str) -> str:
    # Decomposed input (a letter followed by combining accents) must print as the composed
    # letter: the font has the precomposed glyph, and copy-paste should give NFC back.
    return unicodedata.normalize("NFC", text)


def _frame(canvas: Canvas) -> None:
    canvas.setFillColor(HexColor("#fbfaf6"))
    canvas.rect(0, 0, PAGE_WIDTH, PAGE_HEIGHT, stroke=0, fill=1)
    canvas.setStrokeColor(ACCENT)
    canvas.setLineWidth(3)
    canvas.rect(18, 18, PAGE_WIDTH - 36, PAGE_HEIGHT - 36)
    canvas.setStrokeColor(GOLD)
    canvas.setLineWidth(0.8)
    canvas.rect(26, 26, PAGE_WIDTH - 52, PAGE_HEIGHT - 52)
    # A thin band in each partner's colour under the header.
    canvas.setFillColor(ACCENT)
    canvas.rect(26, PAGE_HEIGHT - 140, (PAGE_WIDTH - 52) / 2, 2.5, stroke=0, fill=1)
    canvas.setFillColor(ACCENT_2)
    canvas.rect(PAGE_WIDTH / 2, PAGE_HEIGHT - 140, (PAGE_WIDTH - 52) / 2, 2.5, stroke=0, fill=1)


def _fit_size(text: str, font: str, size: float, width: float, minimum: float) -> float:
    actual = pdfmetrics.stringWidth(text, font, size)
    if actual <= width:
        return size
    return max(minimum, size * width / actual)


def _centred(
    canvas: Canvas,
    text: str,
    y: float,
    font: str,
    size: float,
    color: Color,
    max_width: float = PAGE_WIDTH - 160,
    minimum: float = 7,
) -> None:
    size = _fit_size(text, font, size, max_width, minimum)
    size = min(size, size * max_width / max(pdfmetrics.stringWidth(text, font, size), 1))
    canvas.setFont(font, size)
    canvas.setFillColor(color)
    canvas.drawCentredString(PAGE_WIDTH / 2, y, text)


def _wrap(text: str, font: str, size: float, width: float) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}".strip()
        if current and pdfmetrics.stringWidth(candidate, font, size) > width:
            lines.append(current)
            current = word
        else:
            current = candidate
    if current:
        lines.append(current)
    return lines


def _wrap_items(items: list[str], font: str, size: float, width: float) -> list[str]:
    """Join items with a separator, breaking lines only between items."""
    separator = "   ·   "
    lines: list[str] = []
    for item in items:
        if lines and pdfmetrics.stringWidth(lines[-1] + separator + item, font, size) <= width:
            lines[-1] += separator + item
        else:
            lines.append(item)
    return lines


def _mark(canvas: Canvas, issuer: Issuer, x: float, y: float, size: float, color: Color) -> None:
    """The body's logo, or a neutral round mark with its initials (never a real logo)."""
    if issuer.logo:
        image = ImageReader(io.BytesIO(issuer.logo))
        canvas.drawImage(image, x, y, size, size, preserveAspectRatio=True, anchor="c", mask="auto")
        return
    canvas.setFillColor(color)
    canvas.circle(x + size / 2, y + size / 2, size / 2, stroke=0, fill=1)
    canvas.setStrokeColor(HexColor("#ffffff"))
    canvas.setLineWidth(1.2)
    canvas.circle(x + size / 2, y + size / 2, size / 2 - 4, stroke=1, fill=0)
    initials = issuer.short_name
    font_size = _fit_size(initials, "Sans-Bold", size * 0.3, size * 0.72, 5)
    canvas.setFont("Sans-Bold", font_size)
    canvas.setFillColor(HexColor("#ffffff"))
    canvas.drawCentredString(x + size / 2, y + size / 2 - font_size * 0.35, initials)


def _issuer_header(canvas: Canvas, issuers: tuple[Issuer, Issuer]) -> None:
    logo, top = 64, PAGE_HEIGHT - 58
    left, right = issuers
    _mark(canvas, left, 58, top - logo + 18, logo, ACCENT)
    _mark(canvas, right, PAGE_WIDTH - 58 - logo, top - logo + 18, logo, ACCENT_2)
    text_width = 230
    for issuer, x, align in (
        (left, 58 + logo + 12, "left"),
        (right, PAGE_WIDTH - 58 - logo - 12, "right"),
    ):
        canvas.setFillColor(INK)
        short_size = _fit_size(issuer.short_name, "Sans-Bold", 15, text_width, 8)
        canvas.setFont("Sans-Bold", short_size)
        draw = canvas.drawString if align == "left" else canvas.drawRightString
        draw(x, top - 4, issuer.short_name)
        canvas.setFillColor(MUTED)
        canvas.setFont("Sans", 8)
        for number, line in enumerate(_wrap(issuer.name, "Sans", 8, text_width)[:3]):
            draw(x, top - 18 - number * 10, line)
    _centred(canvas, "A JOINT AWARD OF", PAGE_HEIGHT - 62, "Sans", 7.5, MUTED, 200)
    _centred(
        canvas,
        " · ".join(i.short_name for i in issuers),
        PAGE_HEIGHT - 76,
        "Sans-Bold",
        9,
        INK,
        200,
    )


def _award_and_holder(canvas: Canvas, snapshot: CertificateSnapshot, holder: str) -> None:
    _centred(canvas, snapshot.award_title, PAGE_HEIGHT - 182, "Serif-Bold", 27, ACCENT)
    level = snapshot.level.capitalize()
    if snapshot.eqf_level:
        level += f" · European Qualifications Framework level {snapshot.eqf_level}"
    _centred(canvas, level.upper(), PAGE_HEIGHT - 204, "Sans", 8.5, MUTED)
    _centred(canvas, "This is to certify that", PAGE_HEIGHT - 240, "Serif-Italic", 13, INK)

    lines, size = _name_layout(holder, PAGE_WIDTH - 180)
    baseline = PAGE_HEIGHT - 285 + (len(lines) - 1) * size * 0.6
    for line in lines:
        _centred(canvas, line, baseline, "Serif-Bold", size, INK, PAGE_WIDTH - 180, minimum=1)
        baseline -= size * 1.2
    canvas.setStrokeColor(GOLD)
    canvas.setLineWidth(0.8)
    rule_y = baseline + size * 0.55
    canvas.line(PAGE_WIDTH / 2 - 200, rule_y, PAGE_WIDTH / 2 + 200, rule_y)

    credits = _number(snapshot.credits_total)
    bodies = " and ".join(i.short_name for i in snapshot.issuers)
    sentence = (
        f"has earned {credits} ECTS credits in imaging informatics and met every"
        f" requirement of this {snapshot.level}, awarded jointly by {bodies}."
    )
    y = rule_y - 26
    for line in _wrap(sentence, "Serif", 12, PAGE_WIDTH - 240):
        _centred(canvas, line, y, "Serif", 12, INK)
        y -= 16
    if snapshot.credits_by_domain:
        items = [f"{d}: {_number(c)} ECTS" for d, c in snapshot.credits_by_domain]
        for line in _wrap_items(items, "Sans", 8, PAGE_WIDTH - 200):
            _centred(canvas, line, y - 4, "Sans", 8, MUTED)
            y -= 11


def _name_layout(name: str, width: float) -> tuple[list[str], float]:
    """The largest size (30 down to 14 pt) at which the name fits on one line, or on two.

    A name that fits neither way even at 14 pt (one very long word) is shrunk onto one
    line: smaller, but never clipped.
    """
    for size in range(30, 13, -1):
        if pdfmetrics.stringWidth(name, "Serif-Bold", size) <= width:
            return [name], size
        if size <= 22:
            lines = _wrap(name, "Serif-Bold", size, width)
            if len(lines) == 2 and all(
                pdfmetrics.stringWidth(line, "Serif-Bold", size) <= width for line in lines
            ):
                return lines, size
    return [name], _fit_size(name, "Serif-Bold", 14, width, 1)


def _dates(canvas: Canvas, snapshot: CertificateSnapshot) -> None:
    text = f"Issued on {format_long_date(snapshot.issued_on, 'en')}"
    if snapshot.expires_on:
        text += f"   ·   Valid until {format_long_date(snapshot.expires_on, 'en')}"
    _centred(canvas, text, 192, "Sans-Bold", 9.5, INK)


def _signatory(canvas: Canvas, issuer: Issuer, x: float, align: str) -> None:
    width, line_y = 210, 110
    left = x if align == "left" else x - width
    if issuer.signature:
        image = ImageReader(io.BytesIO(issuer.signature))
        canvas.drawImage(
            image,
            left,
            line_y + 4,
            width,
            44,
            preserveAspectRatio=True,
            anchor="sw" if align == "left" else "se",
            mask="auto",
        )
    canvas.setStrokeColor(INK)
    canvas.setLineWidth(0.6)
    canvas.line(left, line_y, left + width, line_y)
    draw = canvas.drawString if align == "left" else canvas.drawRightString
    canvas.setFillColor(INK)
    canvas.setFont("Sans-Bold", _fit_size(issuer.signatory_name, "Sans-Bold", 10, width, 6))
    draw(x, line_y - 14, issuer.signatory_name)
    canvas.setFillColor(MUTED)
    canvas.setFont("Sans", _fit_size(issuer.signatory_title, "Sans", 8.5, width, 5))
    draw(x, line_y - 26, issuer.signatory_title)
    canvas.setFont("Sans", _fit_size(issuer.name, "Sans", 8.5, width, 5))
    draw(x, line_y - 37, issuer.name)


def _verification(canvas: Canvas, snapshot: CertificateSnapshot) -> None:
    _qr_code(canvas, snapshot.verify_url, PAGE_WIDTH / 2 - 78 / 2, 82, 78)
    _centred(canvas, f"Certificate {snapshot.code}", 70, "Sans-Bold", 9, INK, 300)
    _centred(canvas, f"Check it at {snapshot.verify_url}", 58, "Sans", 7, MUTED, 340)
    _centred(
        canvas, "The PDF carries the digital seals of both bodies.", 47, "Sans", 6.5, MUTED, 340
    )


def _qr_code(canvas: Canvas, value: str, left: float, bottom: float, side: float) -> None:
    """``value`` as a QR code ``side`` points square: its dark runs as one filled path."""
    code = encode_qr(value)
    module = side / code.size
    top = bottom + side
    path = canvas.beginPath()
    for row, column, length in code.runs:
        path.rect(left + column * module, top - (row + 1) * module, length * module, module)
    canvas.setFillColor(black)  # the most contrast for a phone's camera
    canvas.drawPath(path, stroke=0, fill=1)


def _number(value: Decimal) -> str:
    return f"{value.normalize():f}"
