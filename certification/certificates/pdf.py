"""The certificate PDF: a pure function from a snapshot to bytes.

It never reads the database or the clock: everything printed comes in the snapshot, so
the same snapshot always gives the same bytes. Names are drawn as real text in embedded
DejaVu fonts (shipped in ``static/fonts`` with their licence), which cover Latin
Extended, Greek and Cyrillic; a reader's copy-paste and a screen reader get the name.
The page is drawn with reportlab and then made PDF/A-3b by ``pdfa.make_pdf_a3b``, which
embeds the snapshot's attachments (the signed credential) before anyone seals it.
"""

from __future__ import annotations

import datetime as dt
import io
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from babel.numbers import format_decimal
from reportlab.lib.colors import Color, HexColor, black
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from certification.certificates.pdfa import Attachment, make_pdf_a3b
from certification.dates import format_long_date
from certification.languages import formatting_locale
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
    # The signatory's title in other languages, by language code (English where missing).
    signatory_titles: Mapping[str, str] = field(default_factory=dict)


Translate = Callable[..., str]


@dataclass(frozen=True)
class Wording:
    """The certificate's words in one language, written by the caller (gettext, Babel) so
    that the renderer stays pure and the same snapshot always prints the same bytes."""

    language: str
    joint_award: str  # "A JOINT AWARD OF"
    award_title: str
    level_line: str  # "Certificate · European Qualifications Framework level 6"
    certify: str  # "This is to certify that"
    achievement: str  # "has earned 32.5 ECTS credits … awarded jointly by EFRS and EuSoMII."
    credits_by_domain: str  # "AI & Data Science: 7.5 ECTS   ·   …"
    issued: str  # "Issued on 28 November 2026"
    valid_until: str | None  # "Valid until 28 November 2031"
    code_line: str  # "Certificate EIC-…"
    code_label: str  # "Certificate": the code's name where both languages share one code
    check_at: str  # "Check it at https://…"
    sealed: str  # "The PDF carries the digital seals of both bodies."
    signatory_titles: tuple[str, ...] = ()  # each body's signatory's title, left then right


@dataclass(frozen=True)
class CertificateSnapshot:
    """Everything a certificate prints, fixed at the moment it is issued.

    ``wordings`` is English alone, or the holder's language and English: a bilingual
    certificate prints each line in both, the holder's language first and as large."""

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
    wordings: tuple[Wording, ...] = ()
    # Files carried inside the PDF (the signed credential), embedded before the seals.
    attachments: tuple[Attachment, ...] = ()

    @property
    def language(self) -> str:
        """The holder's language: the second on a bilingual certificate, else English."""
        return self.wordings[0].language if self.wordings else "en"


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
    # so the output depends on the snapshot alone. The initial font is an embedded one:
    # reportlab's default, Helvetica, would otherwise sit unembedded in the page's
    # resources, which PDF/A forbids.
    canvas = Canvas(
        buffer,
        pagesize=(PAGE_WIDTH, PAGE_HEIGHT),
        invariant=1,
        pageCompression=1,
        initialFontName="Sans",
    )
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
    if len(snapshot.wordings) == 2:
        first, english = snapshot.wordings
        _issuer_header(canvas, snapshot.issuers, f"{first.joint_award} · {english.joint_award}")
        _bilingual_award_and_holder(canvas, first, english, holder)
        _bilingual_dates(canvas, first, english)
        _bilingual_verification(canvas, snapshot.code, snapshot.verify_url, first, english)
    else:
        wording = snapshot.wordings[0] if snapshot.wordings else write_wording(snapshot)
        _issuer_header(canvas, snapshot.issuers, wording.joint_award)
        _award_and_holder(canvas, wording, holder)
        _dates(canvas, wording)
        _verification(canvas, snapshot.verify_url, wording)
    left, right = snapshot.issuers
    translated = snapshot.wordings[0].signatory_titles if len(snapshot.wordings) == 2 else ()
    for issuer, x, align, title in zip(
        (left, right),
        (70, PAGE_WIDTH - 70),
        ("left", "right"),
        translated or (None, None),
        strict=True,
    ):
        # The holder's language's title above the English one, where the body gave one.
        titles = (
            (title, issuer.signatory_title) if title and title != issuer.signatory_title else ()
        )
        _signatory(canvas, issuer, x=x, align=align, titles=titles)
    canvas.showPage()
    canvas.save()
    return make_pdf_a3b(buffer.getvalue(), snapshot.issued_at, snapshot.attachments)


# Greek writes capitals without their accents (tonos, and the polytonic breathings and
# perispomeni): "ΚΟΙΝΟΣ ΤΙΤΛΟΣ", not "ΚΟΙΝΌΣ ΤΊΤΛΟΣ", which str.upper() gives; a diaeresis
# stays. Other scripts keep theirs: Polish "Ó", French "É".
_GREEK_CAPITAL_DROPS = {"\u0301", "\u0300", "\u0342", "\u0313", "\u0314", "\u0345"}


def _capitals(text: str) -> str:
    """``text`` in capitals, as each script writes them."""
    decomposed = unicodedata.normalize("NFD", text.upper())
    kept: list[str] = []
    base = ""
    for char in decomposed:
        if unicodedata.combining(char):
            if char in _GREEK_CAPITAL_DROPS and _is_greek(base):
                continue
        else:
            base = char
        kept.append(char)
    return unicodedata.normalize("NFC", "".join(kept))


def _is_greek(char: str) -> bool:
    return "\u0370" <= char <= "\u03ff" or "\u1f00" <= char <= "\u1fff"


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


def _issuer_header(canvas: Canvas, issuers: tuple[Issuer, Issuer], joint_award: str) -> None:
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
    _centred(canvas, _capitals(joint_award), PAGE_HEIGHT - 62, "Sans", 7.5, MUTED, 200, minimum=5)
    _centred(
        canvas,
        " · ".join(i.short_name for i in issuers),
        PAGE_HEIGHT - 76,
        "Sans-Bold",
        9,
        INK,
        200,
    )


def _award_and_holder(canvas: Canvas, wording: Wording, holder: str) -> None:
    _centred(canvas, wording.award_title, PAGE_HEIGHT - 182, "Serif-Bold", 27, ACCENT)
    _centred(canvas, _capitals(wording.level_line), PAGE_HEIGHT - 204, "Sans", 8.5, MUTED)
    _centred(canvas, wording.certify, PAGE_HEIGHT - 240, "Serif-Italic", 13, INK)
    rule_y = _holder(canvas, holder)
    y = rule_y - 26
    for line in _wrap(wording.achievement, "Serif", 12, PAGE_WIDTH - 240):
        _centred(canvas, line, y, "Serif", 12, INK)
        y -= 16
    _domains(canvas, wording, y, floor=192 + 9.5)  # the dates' line, 9.5 pt


def _bilingual_award_and_holder(
    canvas: Canvas, first: Wording, english: Wording, holder: str
) -> None:
    """Each line in the holder's language, then in English: the title as large as the
    page allows in both, one line for both levels, and a paragraph each for what was met."""
    if first.award_title == english.award_title:  # a title not translated yet: once
        _centred(canvas, first.award_title, PAGE_HEIGHT - 182, "Serif-Bold", 27, ACCENT)
    else:
        _centred(canvas, first.award_title, PAGE_HEIGHT - 174, "Serif-Bold", 24, ACCENT)
        _centred(canvas, english.award_title, PAGE_HEIGHT - 197, "Serif-Bold", 16, ACCENT)
    levels = _capitals(f"{first.level_line}   /   {english.level_line}")
    _centred(canvas, levels, PAGE_HEIGHT - 214, "Sans", 8, MUTED, minimum=5)
    certify = f"{first.certify}  /  {english.certify}"
    _centred(canvas, certify, PAGE_HEIGHT - 241, "Serif-Italic", 12.5, INK, minimum=8)
    rule_y = _holder(canvas, holder, from_top=280)
    y = rule_y - 22
    for line in _wrap(first.achievement, "Serif", 11, PAGE_WIDTH - 240):
        _centred(canvas, line, y, "Serif", 11, INK)
        y -= 14
    y -= 3
    for line in _wrap(english.achievement, "Serif-Italic", 10, PAGE_WIDTH - 240):
        _centred(canvas, line, y, "Serif-Italic", 10, INK)
        y -= 13
    _domains(canvas, first, y, size=7.5, floor=184 + 9)  # the dates' first line, 9 pt


def _holder(canvas: Canvas, holder: str, from_top: float = 285) -> float:
    """The holder's name, as large as fits on one line or two, ``from_top`` down the page,
    and the rule under it; the rule's height."""
    lines, size = _name_layout(holder, PAGE_WIDTH - 180)
    baseline = PAGE_HEIGHT - from_top + (len(lines) - 1) * size * 0.6
    for line in lines:
        _centred(canvas, line, baseline, "Serif-Bold", size, INK, PAGE_WIDTH - 180, minimum=1)
        baseline -= size * 1.2
    canvas.setStrokeColor(GOLD)
    canvas.setLineWidth(0.8)
    rule_y = baseline + size * 0.55
    canvas.line(PAGE_WIDTH / 2 - 200, rule_y, PAGE_WIDTH / 2 + 200, rule_y)
    return rule_y


def _domains(canvas: Canvas, wording: Wording, y: float, size: float = 8, floor: float = 0) -> None:
    """The credits by domain, from ``y`` down. Lines that would reach below ``floor`` (the
    dates' top) start closer to the paragraph above, set tighter and smaller (5.5 pt at
    least): long domain names wrap onto more lines, most of all beside a long language."""
    if not wording.credits_by_domain:
        return
    items = wording.credits_by_domain.split(DOMAIN_SEPARATOR)
    lines = _wrap_items(items, "Sans", size, PAGE_WIDTH - 200)
    y, leading = y - 4, size + 3
    if y - (len(lines) - 1) * leading - size * 0.25 < floor:
        y += 6
        while True:
            lines = _wrap_items(items, "Sans", size, PAGE_WIDTH - 200)
            leading = size * 1.25
            if size <= 5.5 or y - (len(lines) - 1) * leading - size * 0.25 >= floor:
                break
            size -= 0.25
    for line in lines:
        _centred(canvas, line, y, "Sans", size, MUTED, minimum=size)
        y -= leading


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


def _dates(canvas: Canvas, wording: Wording) -> None:
    text = wording.issued
    if wording.valid_until:
        text += f"   ·   {wording.valid_until}"
    _centred(canvas, text, 192, "Sans-Bold", 9.5, INK)


def _bilingual_dates(canvas: Canvas, first: Wording, english: Wording) -> None:
    for wording, y, font in ((first, 184, "Sans-Bold"), (english, 172, "Sans")):
        text = wording.issued
        if wording.valid_until:
            text += f"   ·   {wording.valid_until}"
        _centred(canvas, text, y, font, 9, INK, minimum=6)


def _signatory(
    canvas: Canvas, issuer: Issuer, x: float, align: str, titles: tuple[str, ...] = ()
) -> None:
    """A body's signature, its signatory's name and title (``titles``: the title in the
    holder's language and in English, when they differ), and the body's name."""
    titles = titles or (issuer.signatory_title,)
    width, line_y = 210, 110 + 9 * (len(titles) - 1)
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
    for index, title in enumerate(titles):
        size = 8.5 if index == 0 else 7.5
        canvas.setFont("Sans", _fit_size(title, "Sans", size, width, 5))
        draw(x, line_y - 26 - 9 * index, title)
    canvas.setFont("Sans", _fit_size(issuer.name, "Sans", 8.5, width, 5))
    draw(x, 73, issuer.name)


def _verification(canvas: Canvas, verify_url: str, wording: Wording) -> None:
    _qr_code(canvas, verify_url, PAGE_WIDTH / 2 - 78 / 2, 82, 78)
    _centred(canvas, wording.code_line, 70, "Sans-Bold", 9, INK, 300)
    _centred(canvas, wording.check_at, 58, "Sans", 7, MUTED, 340)
    _centred(canvas, wording.sealed, 47, "Sans", 6.5, MUTED, 340)


def _bilingual_verification(
    canvas: Canvas, code: str, verify_url: str, first: Wording, english: Wording
) -> None:
    _qr_code(canvas, verify_url, PAGE_WIDTH / 2 - 74 / 2, 88, 74)
    # The code once, named in both languages: the line must pass between the signatories.
    code_line = f"{first.code_label} · {english.code_label}   {code}"
    _centred(canvas, code_line, 77, "Sans-Bold", 8.5, INK, 270, minimum=6)
    _centred(canvas, first.check_at, 66, "Sans", 6.5, MUTED, 360, minimum=4.5)
    _centred(canvas, english.check_at, 57, "Sans", 6.5, MUTED, 360, minimum=4.5)
    sealed = f"{first.sealed}  ·  {english.sealed}"
    _centred(canvas, sealed, 46, "Sans", 6, MUTED, 380, minimum=4.5)


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


DOMAIN_SEPARATOR = "\x1f"  # between a wording's domains: the renderer wraps between them


def _english(message: str, **values: object) -> str:
    return message % values if values else message


def write_wording(
    snapshot: CertificateSnapshot,
    language: str = "en",
    gettext: Translate = _english,
    translated: Mapping[str, Any] | None = None,
) -> Wording:
    """The words of ``snapshot`` in ``language``: ``gettext`` translates (the caller's,
    with the language forced; English by default), Babel writes the dates and numbers, and
    ``translated`` holds the catalogue's wording in that language (the award's title, the
    domains' names; English where it lacks one). The sentences live here once, for every
    language and for a snapshot given none."""
    translated = translated or {}
    domain_names: Mapping[str, str] = translated.get("domains") or {}

    def number(value: Decimal) -> str:
        locale = formatting_locale(language)
        return format_decimal(value.normalize(), locale=locale, decimal_quantization=False)

    certificate = snapshot.level == "certificate"
    if snapshot.eqf_level:
        level_line = (
            gettext(
                "Certificate · European Qualifications Framework level %(level)s",
                level=snapshot.eqf_level,
            )
            if certificate
            else gettext(
                "Diploma · European Qualifications Framework level %(level)s",
                level=snapshot.eqf_level,
            )
        )
    else:
        level_line = gettext("Certificate") if certificate else gettext("Diploma")
    first, second = (issuer.short_name for issuer in snapshot.issuers)
    bodies = gettext("%(first)s and %(second)s", first=first, second=second)
    credits = number(snapshot.credits_total)
    achievement = (
        gettext(
            "has earned %(credits)s ECTS credits in imaging informatics and met every"
            " requirement of this certificate, awarded jointly by %(bodies)s.",
            credits=credits,
            bodies=bodies,
        )
        if certificate
        else gettext(
            "has earned %(credits)s ECTS credits in imaging informatics and met every"
            " requirement of this diploma, awarded jointly by %(bodies)s.",
            credits=credits,
            bodies=bodies,
        )
    )
    return Wording(
        language=language,
        joint_award=gettext("A joint award of"),
        award_title=translated.get("award_title") or snapshot.award_title,
        level_line=level_line,
        certify=gettext("This is to certify that"),
        achievement=achievement,
        credits_by_domain=DOMAIN_SEPARATOR.join(
            gettext(
                "%(domain)s: %(credits)s ECTS",
                domain=domain_names.get(domain, domain),
                credits=number(value),
            )
            for domain, value in snapshot.credits_by_domain
        ),
        issued=gettext("Issued on %(date)s", date=format_long_date(snapshot.issued_on, language)),
        valid_until=(
            gettext("Valid until %(date)s", date=format_long_date(snapshot.expires_on, language))
            if snapshot.expires_on
            else None
        ),
        code_line=gettext("Certificate %(code)s", code=snapshot.code),
        code_label=gettext("Certificate"),
        check_at=gettext("Check it at %(url)s", url=snapshot.verify_url),
        sealed=gettext("The PDF carries the digital seals of both bodies."),
        signatory_titles=tuple(
            issuer.signatory_titles.get(language) or issuer.signatory_title
            for issuer in snapshot.issuers
        ),
    )
