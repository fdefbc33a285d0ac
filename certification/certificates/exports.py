"""Exports: CSV files for spreadsheets, and certificates' PDFs for printing or archiving.

CSV files are UTF-8 with a byte-order mark (so that Excel reads names as UTF-8), lines end
in CRLF, and any cell a spreadsheet would take for a formula is neutralised with a leading
apostrophe (OWASP's advice against CSV injection). Rows are produced one chunk of the
database at a time, so an export of 100,000 rows keeps memory flat.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import gettext, ngettext
from pypdf import PdfReader, PdfWriter

from certification.auth.models import Role, User
from certification.catalogue.services import get_programme, list_programmes, programme_rules
from certification.certificates.models import Certificate, CertificatePdf, CertificateStatus
from certification.certificates.services import held_awards_by_candidate
from certification.errors import InvalidInput, NotFound, RuleViolation
from certification.extensions import db
from certification.i18n import say
from certification.progress import ProgrammeRules, ProgressReport, evaluate_progress
from certification.records.services import load_transcripts

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CHUNK = 500
MAX_PDFS = 500


# ---------------------------------------------------------------- CSV


def neutralise(value: object) -> str:
    """A cell as text; one a spreadsheet would run as a formula gets a leading apostrophe."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_lines(header: Sequence[str], rows: Iterable[Sequence[object]]) -> Iterator[str]:
    """The CSV file, a line at a time: BOM and header first, then each row, neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")

    def line(cells: Sequence[object]) -> str:
        writer.writerow([neutralise(cell) for cell in cells])
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    yield BOM + line(header)
    for row in rows:
        yield line(row)


# ---------------------------------------------------------------- certificates


def status_expression(today: dt.date) -> sa.ColumnElement[str]:
    """A certificate's status on ``today`` in SQL, as :meth:`Certificate.status_on` says it."""
    return sa.case(
        (Certificate.revoked_at.is_not(None), sa.literal(CertificateStatus.REVOKED.value)),
        (
            Certificate.superseded_by_id.is_not(None),
            sa.literal(CertificateStatus.SUPERSEDED.value),
        ),
        (Certificate.expires_on < today, sa.literal(CertificateStatus.EXPIRED.value)),
        (Certificate.suspended_at.is_not(None), sa.literal(CertificateStatus.SUSPENDED.value)),
        else_=sa.literal(CertificateStatus.VALID.value),
    )


@dataclass(frozen=True)
class CertificateFilter:
    """Which certificates: of one award, in one status, issued within a range of dates."""

    programme: str = ""  # a programme code; empty for all
    status: str = ""  # a CertificateStatus value; empty for all
    issued_from: dt.date | None = None
    issued_to: dt.date | None = None

    def as_query_args(self) -> dict[str, str]:
        args = {
            "programme": self.programme,
            "status": self.status,
            "issued_from": self.issued_from.isoformat() if self.issued_from else "",
            "issued_to": self.issued_to.isoformat() if self.issued_to else "",
        }
        return {key: value for key, value in args.items() if value}


def certificates_matching(filters: CertificateFilter, today: dt.date) -> sa.Select[int]:
    """A SELECT of the ids of the certificates the filter names, by date of issue then
    code. ``InvalidInput`` names the filters that make no sense."""
    problems: dict[str, str] = {}
    statement = sa.select(Certificate.id)
    if filters.programme:
        try:
            programme = get_programme(filters.programme)
        except NotFound:
            problems["programme"] = gettext(
                "There is no programme with the code %(code)s.", code=repr(filters.programme)
            )
        else:
            statement = statement.where(Certificate.programme_id == programme.id)
    if filters.status:
        try:
            status = CertificateStatus(filters.status)
        except ValueError:
            problems["status"] = gettext("Choose valid, suspended, revoked, expired or superseded.")
        else:
            statement = statement.where(status_expression(today) == status.value)
    if filters.issued_from and filters.issued_to and filters.issued_from > filters.issued_to:
        problems["issued_to"] = gettext("The end of the range is before its start.")
    if problems:
        raise InvalidInput.for_fields(problems)
    if filters.issued_from:
        statement = statement.where(Certificate.issued_on >= filters.issued_from)
    if filters.issued_to:
        statement = statement.where(Certificate.issued_on <= filters.issued_to)
    return statement.order_by(Certificate.issued_on, Certificate.code)


CERTIFICATE_COLUMNS = (
    "code",
    "holder_name",
    "award",
    "status",
    "issued_on",
    "expires_on",
    "revoked_on",
    "reason",
    "superseded_by",
    "pdf_sha256",
)


def certificate_rows(
    filters: CertificateFilter, today: dt.date, zone: dt.tzinfo
) -> Iterator[tuple[object, ...]]:
    """The certificates the filter names, as CSV rows, read a chunk at a time."""
    matching = certificates_matching(filters, today).subquery()
    replacement = so.aliased(Certificate)
    statement = (
        sa.select(
            Certificate.code,
            Certificate.holder_name,
            Certificate.award_title,
            status_expression(today),
            Certificate.issued_on,
            Certificate.expires_on,
            Certificate.revoked_at,
            Certificate.revocation_reason,
            replacement.code,
            Certificate.pdf_sha256,
        )
        .join(matching, matching.c.id == Certificate.id)
        .outerjoin(replacement, replacement.id == Certificate.superseded_by_id)
        .order_by(Certificate.issued_on, Certificate.code)
    )
    for offset in _chunks():
        rows = db.session.execute(statement.limit(CHUNK).offset(offset)).all()
        for code, name, award, status, issued, expires, revoked_at, reason, by, sha in rows:
            yield (
                code,
                name,
                award,
                status,
                issued.isoformat(),
                expires.isoformat() if expires else "",
                revoked_at.astimezone(zone).date().isoformat() if revoked_at else "",
                reason or "",
                by or "",
                sha,
            )
        if len(rows) < CHUNK:
            return


def _chunks() -> Iterator[int]:
    offset = 0
    while True:
        yield offset
        offset += CHUNK


def certificates_csv(filters: CertificateFilter, today: dt.date, zone: dt.tzinfo) -> Iterator[str]:
    """The issued-certificates export. Checks the filter before the first line is made."""
    certificates_matching(filters, today)  # raises InvalidInput now, not mid-download
    return csv_lines(CERTIFICATE_COLUMNS, certificate_rows(filters, today, zone))


EXPIRING_COLUMNS = ("code", "holder_name", "email", "award", "issued_on", "expires_on")


def expiring_csv(certificates: sa.Select[Certificate]) -> Iterator[str]:
    """The expiring-soon list (``reports.services.expiring_soon``) as a CSV file."""

    def rows() -> Iterator[tuple[object, ...]]:
        for certificate in db.session.scalars(certificates):
            yield (
                certificate.code,
                certificate.holder_name,
                certificate.candidate.email,
                certificate.award_title,
                certificate.issued_on.isoformat(),
                certificate.expires_on.isoformat() if certificate.expires_on else "",
            )

    return csv_lines(EXPIRING_COLUMNS, rows())


# ---------------------------------------------------------------- candidates' progress


def progress_words(*, certified: bool, started: bool, report: ProgressReport) -> str:
    """A candidate's standing towards one award in a few words, in the words of the
    progress pages: Certified, Eligible, "In progress: 5 of 6 requirements met", "Blocked:
    5 of 6 requirements met, no attempts left at CERT-EXAM" (a required examination failed
    with every attempt used), or Not started. A count, never a percentage: credits gained
    must not make a failed examination look nearly done."""
    if certified:
        return gettext("Certified")
    if report.eligible:
        return gettext("Eligible")
    if report.blocked:
        codes = [r.assessment.code for r in report.blocked if r.assessment is not None]
        return gettext(
            "Blocked: %(summary)s, no attempts left at %(codes)s",
            summary=say(report.summary),
            codes=_and_list(codes),
        )
    if started:
        return gettext("In progress: %(summary)s", summary=say(report.summary))
    return gettext("Not started")


def _and_list(codes: list[str]) -> str:
    """``A and B and C``: each code joined to the ones before it by the word "and"."""
    joined = codes[0] if codes else ""
    for code in codes[1:]:
        joined = gettext("%(first)s and %(second)s", first=joined, second=code)
    return joined


def candidates_csv(today: dt.date) -> Iterator[str]:
    """Every candidate with their standing towards each award, a chunk of candidates at a
    time (the progress engine judges each; awards held count as prerequisites)."""
    # The rules are read now, as plain data: the rows are made while the response streams,
    # after the request's transaction has ended.
    rules = [programme_rules(p) for p in list_programmes()]
    header = ["email", "full_name", "country", *(r.code for r in rules)]
    return csv_lines(header, _candidate_rows(rules, today))


def _candidate_rows(rules: list[ProgrammeRules], today: dt.date) -> Iterator[list[object]]:
    last_id = 0
    while True:
        people = db.session.execute(
            sa.select(User.id, User.email, User.full_name, User.country)
            .where(User.role == Role.CANDIDATE, User.id > last_id)
            .order_by(User.id)
            .limit(CHUNK)
        ).all()
        if not people:
            return
        ids = [person.id for person in people]
        transcripts = load_transcripts(ids)
        held = held_awards_by_candidate(today, ids)
        for person in people:
            view = transcripts[person.id]
            awards = held.get(person.id, frozenset())
            plain = dataclasses.replace(view.for_engine(), held_awards=awards)
            started = bool(view.credits or view.attempts)
            row: list[object] = [person.email, person.full_name, person.country or ""]
            for rule in rules:
                row.append(
                    progress_words(
                        certified=rule.code in awards,
                        started=started,
                        report=evaluate_progress(rule, plain, today),
                    )
                )
            yield row
        # The session holds loaded records weakly: once this chunk's transcripts are
        # dropped, so are they, and memory stays flat however many candidates there are.
        last_id = ids[-1]


# ---------------------------------------------------------------- PDFs


class TooManyCertificates(RuleViolation):
    slug = "too_many"

    def __init__(self, count: int) -> None:
        super().__init__(
            ngettext(
                "%(num)d certificate is selected; at most %(max)d fit in one file."
                " Narrow the filter (an award, a status or a range of dates) and try again.",
                "%(num)d certificates are selected; at most %(max)d fit in one file."
                " Narrow the filter (an award, a status or a range of dates) and try again.",
                count,
                max=MAX_PDFS,
            )
        )


def selected_certificates(
    codes: Sequence[str], filters: CertificateFilter | None, today: dt.date
) -> list[int]:
    """The ids of the certificates chosen: the given codes, or (with ``filters``) every
    certificate the filter names. Refuses none, and more than :data:`MAX_PDFS`."""
    if filters is not None:
        statement = certificates_matching(filters, today)
    else:
        wanted = sorted({code.strip().upper() for code in codes if code.strip()})[: MAX_PDFS + 1]
        statement = (
            sa.select(Certificate.id)
            .where(Certificate.code.in_(wanted))
            .order_by(Certificate.issued_on, Certificate.code)
        )
    found = list(db.session.scalars(statement.limit(MAX_PDFS + 1)))
    if not found:
        raise InvalidInput(
            gettext("Choose at least one certificate."), {"code": gettext("Nothing selected.")}
        )
    if len(found) > MAX_PDFS:
        total = db.session.scalar(sa.select(sa.func.count()).select_from(statement.subquery()))
        raise TooManyCertificates(total or len(found))
    return found


def _stored_pdfs(certificate_ids: Sequence[int]) -> Iterator[tuple[str, bytes]]:
    """Each certificate's code and stored PDF, in the given order, a few at a time."""
    for start in range(0, len(certificate_ids), 50):
        part = certificate_ids[start : start + 50]
        rows = {
            row.id: (row.code, row.pdf)
            for row in db.session.execute(
                sa.select(Certificate.id, Certificate.code, CertificatePdf.pdf)
                .join(CertificatePdf, CertificatePdf.certificate_id == Certificate.id)
                .where(Certificate.id.in_(part))
            )
        }
        for certificate_id in part:
            yield rows[certificate_id]


def merged_pdf(certificate_ids: Sequence[int]) -> bytes:
    """One PDF of every chosen certificate, in order, for printing. Merging copies the pages
    only: the digital seals do not survive it (the ZIP keeps the signed originals)."""
    writer = PdfWriter()
    for _code, pdf in _stored_pdfs(certificate_ids):
        writer.append(PdfReader(io.BytesIO(pdf)), import_outline=False)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def pdf_zip(certificate_ids: Sequence[int]) -> bytes:
    """A ZIP of the chosen certificates' signed PDFs, byte for byte as stored, each named
    ``<code>.pdf``. Stored, not compressed: PDFs are compressed already and this is faster."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as archive:
        for code, pdf in _stored_pdfs(certificate_ids):
            archive.writestr(f"{code}.pdf", pdf)
    return out.getvalue()
