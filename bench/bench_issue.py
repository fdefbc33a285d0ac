"""How long issuing one certificate takes, against a bare reportlab + pyHanko baseline.

Run: ``.venv/bin/python bench/bench_issue.py`` (or ``make bench``). Not a test: it prints a
table of milliseconds per certificate (median and p95 of N runs after a warm-up) for

1. the BARE baseline: an A4 landscape page with two drawn marks, the same text in the same
   embedded TTF fonts and a QR code, written directly with reportlab, then two plain
   pyHanko signatures with the demo keys;
2. our renderer, ``render_certificate_pdf``;
3. our two seals, ``seal_pdf``, as they were made before long-term validation (seals
   only), and as they are made now: each seal timestamped, then the validation data (DSS)
   and a document timestamp (PAdES B-LTA), with the demo's local time-stamping authority;
4. issuing end to end: ``issue_certificate`` on a temporary SQLite database (look-ups,
   eligibility, render, seal, store, audit) and the commit, both ways;
5. checking an uploaded file's seals (``check_seals``), both ways.

and the ratios: today's path (seals only) end to end to the bare page plus its two
signatures, against the target of 1.3x; and the new path (seals, timestamps and DSS) end
to end to today's, against the target of 1.5x. Everything it makes (instance folder,
database, demo keys) lives in a temporary folder that is removed at the end.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import io
import os
import statistics
import tempfile
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import reportlab
from flask import Flask
from folder_app import app_in_folder, demo_seals  # this folder's, beside the script
from machine import describe
from machine import measure as timed
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers
from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib.colors import HexColor
from reportlab.lib.pagesizes import A4, landscape
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from certification.certificates.pdf import FONT_DIR, FONTS, CertificateSnapshot

N = 50
WARM_UP = 5
TARGET = 1.3
# Seals, timestamps and validation data (B-LTA) end to end, against seals only.
LONG_TERM_TARGET = 1.5
# Our renderer's TTF files, registered again under names of the baseline's own.
BARE_FONTS = {f"Bare{name}": filename for name, filename in FONTS.items()}
HOLDER = "Αικατερίνη Παπαδοπούλου-Wiśniewska"


def measure(work: Callable[[], object]) -> list[float]:
    return timed(work, N, WARM_UP)


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1]


# ------------------------------------------------------------------ the bare baseline


def bare_lines(snapshot: CertificateSnapshot) -> list[tuple[str, float, str]]:
    """The text our certificate prints, as (font, size, text) lines, without its layout."""
    left, right = snapshot.issuers
    domains = "   ·   ".join(f"{d}: {c} ECTS" for d, c in snapshot.credits_by_domain)
    return [
        ("BareSans-Bold", 15, left.short_name),
        ("BareSans", 8, left.name),
        ("BareSans-Bold", 15, right.short_name),
        ("BareSans", 8, right.name),
        ("BareSans", 7.5, "A JOINT AWARD OF"),
        ("BareSans-Bold", 9, f"{left.short_name} · {right.short_name}"),
        ("BareSerif-Bold", 27, snapshot.award_title),
        ("BareSans", 8.5, "CERTIFICATE · EUROPEAN QUALIFICATIONS FRAMEWORK LEVEL 6"),
        ("BareSerif-Italic", 13, "This is to certify that"),
        ("BareSerif-Bold", 30, snapshot.holder_name),
        ("BareSerif", 12, "has earned 10 ECTS credits in imaging informatics and met every"),
        ("BareSerif", 12, "requirement of this certificate, awarded jointly by EFRS and EuSoMII."),
        ("BareSans", 8, domains),
        ("BareSans-Bold", 9.5, "Issued on 1 March 2026   ·   Valid until 1 March 2031"),
        ("BareSans-Bold", 10, left.signatory_name),
        ("BareSans", 8.5, left.signatory_title),
        ("BareSans", 8.5, left.name),
        ("BareSans-Bold", 10, right.signatory_name),
        ("BareSans", 8.5, right.signatory_title),
        ("BareSans", 8.5, right.name),
        ("BareSans-Bold", 9, f"Certificate {snapshot.code}"),
        ("BareSans", 7, f"Check it at {snapshot.verify_url}"),
        ("BareSans", 6.5, "The PDF carries the digital seals of both bodies."),
    ]


def bare_page(lines: list[tuple[str, float, str]], url: str) -> bytes:
    """One A4 landscape page: two drawn marks, the lines of text and a QR code."""
    width, height = landscape(A4)
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=(width, height), invariant=1, pageCompression=1)
    for x, colour, initials in ((90, "#1f4e79", "EFRS"), (width - 90, "#0f766e", "EuSoMII")):
        canvas.setFillColor(HexColor(colour))
        canvas.circle(x, height - 72, 32, stroke=0, fill=1)
        canvas.setFillColor(HexColor("#ffffff"))
        canvas.setFont("BareSans-Bold", 10)
        canvas.drawCentredString(x, height - 75, initials)
    canvas.setFillColor(HexColor("#1b2430"))
    y = height - 130
    for font, size, text in lines:
        canvas.setFont(font, size)
        canvas.drawCentredString(width / 2, y, text)
        y -= 18
    widget = QrCodeWidget(url, barLevel="M")
    x0, y0, x1, y1 = widget.getBounds()
    drawing = Drawing(78, 78, transform=[78 / (x1 - x0), 0, 0, 78 / (y1 - y0), 0, 0])
    drawing.add(widget)
    renderPDF.draw(drawing, canvas, width - 120, 40)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def bare_signatures(pdf: bytes, seal_signers: list[signers.SimpleSigner]) -> bytes:
    """Sign ``pdf`` once per signer, with pyHanko's defaults, as incremental updates."""
    for number, signer in enumerate(seal_signers, start=1):
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
        metadata = signers.PdfSignatureMetadata(field_name=f"Signature{number}")
        pdf = signers.sign_pdf(writer, metadata, signer=signer).getvalue()
    return pdf


# ------------------------------------------------------------------ the app


def build_app(folder: Path) -> Flask:
    """An app on a fresh SQLite database in ``folder``, with demo keys and the catalogue."""
    from certification.certificates.branding import DEFAULT_PARTNER_BODIES
    from certification.certificates.models import PartnerBody
    from certification.certificates.signing import make_demo_keys
    from certification.extensions import db

    keys = folder / "instance" / "keys"
    make_demo_keys(keys, {b["short_name"]: b["name"] for b in DEFAULT_PARTNER_BODIES})
    app = app_in_folder(
        folder, PUBLIC_BASE_URL="https://certificates.example.org", **demo_seals(folder)
    )
    with app.app_context():
        db.create_all()
        db.session.add_all(
            PartnerBody(**{**body, "signatory_name": f"Dr {body['short_name']} Signatory"})
            for body in DEFAULT_PARTNER_BODIES
        )
        db.session.commit()
    return app


def seed(app: Flask, today: dt.date, count: int, approval: str = "office") -> tuple[int, list[int]]:
    """The programme EII-C and ``count`` candidates who meet it; (admin id, candidate ids).
    EII-C is issued by the office alone unless ``approval="both_bodies"``: issuing in one
    act is the baseline the approval benchmark compares with."""
    from certification.auth.services import create_admin, create_candidate
    from certification.catalogue.services import (
        AssessmentInput,
        CourseInput,
        ProgrammeInput,
        ProviderInput,
        create_assessment,
        create_course,
        create_programme,
        create_provider,
    )
    from certification.extensions import db
    from certification.records.services import record_credit, record_result

    with app.app_context():
        admin = create_admin("bench@example.org", "Bench Admin", os.urandom(16).hex(), None)
        create_provider(ProviderInput("EuSoMII", "AT", None, None), admin)
        for code, domain in (("EII-101", "AI & Data Science"), ("EII-102", "Standards")):
            create_course(CourseInput(code, "A course", Decimal(5), domain, "EuSoMII"), admin)
        create_assessment(
            AssessmentInput("CERT-EXAM", "Examination", Decimal(60), Decimal(100), 3), admin
        )
        create_programme(
            ProgrammeInput(
                code="EII-C",
                title="European Certificate in Imaging Informatics",
                level="certificate",
                eqf_level=6,
                min_total_credits=Decimal(10),
                domain_minimums={},
                required_assessments=["CERT-EXAM"],
                validity_months=60,
                approval=approval,
            ),
            None,  # as an operator would (flask set-approval): the office may not delegate
            today=today,
        )
        ids = []
        for number in range(count):
            person = create_candidate(f"c{number}@example.org", HOLDER, "GR", admin)
            for course in ("EII-101", "EII-102"):
                record_credit(person, course, today, actor=admin, today=today)
            record_result(person, "CERT-EXAM", Decimal(75), today, actor=admin, today=today)
            ids.append(person.id)
        db.session.commit()
        return admin.id, ids


# ------------------------------------------------------------------ the report


def main() -> None:
    from certification.auth.models import User
    from certification.auth.services import get_candidate
    from certification.catalogue.services import get_programme
    from certification.certificates.pdf import render_certificate_pdf
    from certification.certificates.services import issue_certificate, snapshot_of
    from certification.certificates.settings import (
        archiver_for,
        current_settings,
        signer_for,
        trust_roots,
    )
    from certification.certificates.signing import check_seals, seal_pdf
    from certification.extensions import db
    from certification.web import today as programme_today

    with tempfile.TemporaryDirectory(prefix="bench-issue-") as temporary:
        folder = Path(temporary)
        app = build_app(folder)  # the demo's keys, its local time-stamping authority too
        # Today's path: the same keys, database and instance, without a timestamp authority.
        seals_only_app = app_in_folder(
            folder,
            PUBLIC_BASE_URL="https://certificates.example.org",
            **demo_seals(folder),
            TSA_URL="",
            TSA_LOCAL_KEY="",
        )
        with app.test_request_context():
            today = programme_today()
        admin_id, candidates = seed(app, today, 2 * (WARM_UP + N) + 1)
        queue = iter(candidates)

        with app.app_context():
            settings = current_settings()
            sealers = [(f"{k.body}-seal", signer_for(k)) for k in settings.seal_keys]
            if settings.long_term is None:
                raise SystemExit("The demo keys have no local time-stamping authority.")
            archiver = archiver_for(settings.long_term)
            roots = trust_roots(settings.trust_root_paths)
            # The first issue also gives the snapshot the render and seal rows reuse.
            first = issue_certificate(
                get_candidate(next(queue)), get_programme("EII-C"), None, today=today
            )
            db.session.commit()
            snapshot = snapshot_of(first, settings)
            db.session.remove()

        for name, filename in BARE_FONTS.items():
            pdfmetrics.registerFont(TTFont(name, str(FONT_DIR / filename)))
        lines = bare_lines(snapshot)
        page = bare_page(lines, snapshot.verify_url)
        plain_signers = [signer for _, signer in sealers]
        ours = render_certificate_pdf(snapshot)

        sealed = seal_pdf(ours, sealers)
        archived = seal_pdf(ours, sealers, archiver)

        def issue_one(on: Flask) -> Callable[[], None]:
            def issue() -> None:
                with on.app_context():
                    admin = db.session.get(User, admin_id)
                    issue_certificate(
                        get_candidate(next(queue)), get_programme("EII-C"), admin, today=today
                    )
                    db.session.commit()

            return issue

        rows = [
            ("bare page (reportlab)", measure(lambda: bare_page(lines, snapshot.verify_url))),
            (
                "bare two signatures (pyHanko)",
                measure(lambda: bare_signatures(page, plain_signers)),
            ),
            (
                "our render (render_certificate_pdf)",
                measure(lambda: render_certificate_pdf(snapshot)),
            ),
            ("our two seals (seal_pdf)", measure(lambda: seal_pdf(ours, sealers))),
            (
                "our seals + timestamps + DSS (B-LTA)",
                measure(lambda: seal_pdf(ours, sealers, archiver)),
            ),
            ("issue end to end, with commit", measure(issue_one(seals_only_app))),
            ("issue end to end, B-LTA", measure(issue_one(app))),
            ("check_seals, seals only", measure(lambda: check_seals(sealed, roots))),
            ("check_seals, B-LTA", measure(lambda: check_seals(archived, roots))),
        ]
        for each in (app, seals_only_app):
            with each.app_context():
                db.engine.dispose()

    medians = {name: statistics.median(values) for name, values in rows}
    bare = medians["bare page (reportlab)"] + medians["bare two signatures (pyHanko)"]
    issue = medians["issue end to end, with commit"]
    ratio = issue / bare
    long_term = medians["issue end to end, B-LTA"]
    long_term_ratio = long_term / issue

    print(f"Issuing one certificate: milliseconds, N={N} runs after {WARM_UP} warm-up runs")
    versions = (
        f"reportlab {reportlab.Version}",
        f"pyHanko {importlib.metadata.version('pyhanko')}",
    )
    print(f"Machine: {describe(*versions)}")
    print()
    width = max(len(name) for name, _ in rows)
    print(f"{'':<{width}}  {'median':>8}  {'p95':>8}")
    for name, values in rows:
        print(f"{name:<{width}}  {statistics.median(values):8.1f}  {p95(values):8.1f}")
    print(f"{'bare page + two signatures':<{width}}  {bare:8.1f}")
    print()
    verdict = "pass" if ratio <= TARGET else "short"
    print(
        f"end to end / (bare page + bare two signatures) = {issue:.1f} / {bare:.1f}"
        f" = {ratio:.2f}x   (target <= {TARGET}x: {verdict})"
    )
    verdict = "pass" if long_term_ratio <= LONG_TERM_TARGET else "short"
    print(
        f"end to end B-LTA / end to end seals only = {long_term:.1f} / {issue:.1f}"
        f" = {long_term_ratio:.2f}x   (target <= {LONG_TERM_TARGET}x: {verdict})"
    )


if __name__ == "__main__":
    main()
