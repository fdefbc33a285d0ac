"""A candidate's own claims: what they did that no provider recorded, with evidence, and the
reviewers' yes (a credit or CPD record, in the same transaction) or no (with a reason).

The candidate sees every claim and what became of it; the e-mail either way is written by
the mail area, which listens for :data:`claim_reviewed` (this area does not know mail).
Evidence is checked by its content, never by its name or the type the browser said, and
kept in the database (``claim_evidence``): the app runs on several stateless hosts.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import subprocess  # nosec B404 - the PDF check runs in a child process of our own
import sys
import unicodedata
import warnings
from dataclasses import dataclass
from decimal import Decimal
from pathlib import PurePosixPath

import sqlalchemy as sa
import sqlalchemy.orm as so
from blinker import Namespace
from flask_babel import gettext, ngettext
from PIL import Image, UnidentifiedImageError

from certification.audit import record_event
from certification.auth.models import Role, User
from certification.catalogue.models import Course, RenewalDomainMinimum
from certification.catalogue.services import list_domains
from certification.claims.models import Claim, ClaimEvidence, ClaimKind, ClaimState
from certification.errors import (
    Conflict,
    Duplicate,
    Forbidden,
    InvalidInput,
    NotFound,
    RuleViolation,
    ServiceError,
)
from certification.extensions import db
from certification.records.models import CpdSource, CreditRecord
from certification.records.services import record_cpd, record_credit
from certification.types import MAX_ID
from certification.validation import (
    FieldErrors,
    as_code,
    check_marks,
    check_past_date,
    check_text,
    clean_text,
)

_signals = Namespace()
#: Sent with the claim once a reviewer approved or rejected it, inside that transaction: the
#: mail area writes the candidate's e-mail into its outbox.
claim_reviewed = _signals.signal("claim-reviewed")

# The issue's limit; the portal lets a request through a little above it, so that a file
# just over the limit is refused in words next to the field, the rest of the form kept.
EVIDENCE_MAX_BYTES = 10 * 1024 * 1024
PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
# The name a download carries ends as its content is, whatever the file was called.
EXTENSIONS = {PDF: ".pdf", PNG: ".png", JPEG: ".jpg"}
_EXTENSIONS_TAKEN = {PDF: {".pdf"}, PNG: {".png"}, JPEG: {".jpg", ".jpeg"}}
# An image with more pixels than this is refused before it is decoded (a small file can
# unpack to gigabytes); a scan of an A4 page at 600 dpi has about 35 million.
MAX_IMAGE_PIXELS = 60_000_000
# A PDF is checked in a child process held to these (see _PDF_CHECK): a genuine one takes a
# tenth of a second and some 40 MB, a decompression bomb would take gigabytes and minutes.
PDF_CHECK_SECONDS = 3
PDF_CHECK_MEMORY = 256 * 1024 * 1024
MAX_POINTS = Decimal(1000)  # as records.record_cpd
MAX_HOURS = Decimal(10000)
REASON_MAX = 500
# Claims one candidate may have waiting at once: enough for a career's backlog sent in one
# sitting, few enough that nobody fills the database with 10 MB files.
MAX_PENDING_CLAIMS = 20


@dataclass
class ClaimInput:
    """What the candidate typed. ``course_code`` names the course of a credit claim;
    ``points`` are a CPD claim's; ``hours`` are optional for both. A value that could not
    be read at all is None, and the form has said why."""

    kind: str
    title: str = ""
    organiser: str = ""
    activity_on: dt.date | None = None
    course_code: str = ""
    hours: Decimal | None = None
    points: Decimal | None = None
    domain: str = ""


@dataclass
class EvidenceUpload:
    filename: str
    data: bytes


# ---------------------------------------------------------------- the evidence


def _unreadable() -> str:
    return gettext(
        "This file is not a PDF, PNG or JPEG that can be opened (its content was checked, not"
        " its name)."
    )


def evidence_type(data: bytes) -> str:
    """The media type of ``data`` as its content shows it: PDF, PNG or JPEG by its first
    bytes, then a real parse (pypdf reads the PDF in a child process, Pillow decodes the
    image). Anything else, a file that does not open, or a PDF that would run something in
    its reader, is refused in words (``InvalidInput`` on ``evidence``)."""
    if data.startswith(b"%PDF-"):
        media_type, refusal = PDF, _pdf_refusal(data)
    elif data.startswith(b"\x89PNG\r\n\x1a\n"):
        media_type, refusal = PNG, _image_refusal(data, "PNG")
    elif data.startswith(b"\xff\xd8\xff"):
        media_type, refusal = JPEG, _image_refusal(data, "JPEG")
    else:
        media_type, refusal = "", _unreadable()
    if refusal is not None:
        raise InvalidInput.for_fields({"evidence": refusal})
    return media_type


# The PDF check, run by a Python of its own (``python -I -c``, so it imports pypdf and
# nothing of the app): a PDF is small outside and may be anything inside, and no parser's
# limits bound all of it (pypdf's stop one stream unpacking to gigabytes, not thousands of
# streams just under the limit, which take minutes). The operating system holds the child
# to PDF_CHECK_MEMORY and to PDF_CHECK_SECONDS of processor time, and the parent waits
# PDF_CHECK_SECONDS; whatever goes wrong there, the file is refused. It answers one word.
# Active content is looked for in every object the document reaches from its catalogue
# (only the object streams, which hold objects, are unpacked; pages and images are not): a
# script, an action that starts a program, sends a form or plays media, attached files, XFA
# forms. Opening at a page and links to the web are what word processors and LaTeX write,
# and are let through.
_PDF_CHECK = """
import io, resource, sys
memory, seconds = int(sys.argv[1]), int(sys.argv[2])
resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds))
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

ACTIVE_KEYS = {"/JS", "/JavaScript", "/AA", "/EmbeddedFiles", "/EF", "/XFA", "/RichMediaContent"}
ACTIVE_ACTIONS = {
    "/JavaScript", "/Launch", "/SubmitForm", "/ImportData", "/RichMediaExecute", "/Rendition",
    "/GoToE",
}
ACTIVE_ANNOTATIONS = {"/RichMedia", "/FileAttachment", "/Screen"}

def resolved(item):
    return item.get_object() if isinstance(item, IndirectObject) else item

def is_active(catalogue):
    opening = resolved(dict.get(catalogue, "/OpenAction"))
    if isinstance(opening, DictionaryObject) and resolved(dict.get(opening, "/S")) != "/GoTo":
        return True
    seen, waiting = set(), [catalogue]
    while waiting:
        item = waiting.pop()
        if isinstance(item, IndirectObject):
            if (item.idnum, item.generation) in seen:
                continue
            seen.add((item.idnum, item.generation))
            item = item.get_object()
        if isinstance(item, DictionaryObject):
            if not ACTIVE_KEYS.isdisjoint(dict.keys(item)):
                return True
            if resolved(dict.get(item, "/S")) in ACTIVE_ACTIONS:
                return True
            if resolved(dict.get(item, "/Subtype")) in ACTIVE_ANNOTATIONS:
                return True
            waiting.extend(dict.values(item))
        elif isinstance(item, ArrayObject):
            waiting.extend(item)
    return False

def verdict(data):
    reader = PdfReader(io.BytesIO(data))
    if reader.is_encrypted and not reader.decrypt(""):
        return "password"
    if len(reader.pages) == 0:
        return "unreadable"
    return "active" if is_active(resolved(reader.trailer["/Root"])) else "pdf"

sys.stdout.write(verdict(sys.stdin.buffer.read()))
"""


def _pdf_refusal(data: bytes) -> str | None:
    try:
        checked = subprocess.run(  # noqa: S603 - our own program; the file goes to its stdin  # nosec B603
            [
                sys.executable,
                "-I",
                "-c",
                _PDF_CHECK,
                str(PDF_CHECK_MEMORY),
                str(PDF_CHECK_SECONDS),
            ],
            input=data,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,  # pypdf's warnings about a broken file
            timeout=PDF_CHECK_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:  # the child is killed by then
        return _unreadable()
    verdict = checked.stdout if checked.returncode == 0 else b""
    if verdict == b"pdf":
        return None
    if verdict == b"password":
        return gettext("The PDF is protected by a password; send a copy that opens without one.")
    if verdict == b"active":
        return gettext(
            "This PDF contains scripts, actions or attached files; send a plain PDF, such as one"
            " printed to PDF."
        )
    return _unreadable()


def _image_refusal(data: bytes, expected: str) -> str | None:
    try:
        with warnings.catch_warnings():
            # A decompression bomb is refused, not warned about.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                if image.format != expected or image.width * image.height > MAX_IMAGE_PIXELS:
                    return _unreadable()
                # verify() checks a PNG's every chunk but hardly reads a JPEG: a JPEG is
                # decoded, so that one cut off, or with something else in its place, is refused.
                if expected == "JPEG":
                    image.load()
                else:
                    image.verify()
    except (
        UnidentifiedImageError,
        OSError,
        SyntaxError,
        ValueError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ):
        return _unreadable()
    return None


def _check_evidence(errors: FieldErrors, evidence: EvidenceUpload | None) -> str | None:
    """The evidence's media type, or None with its problem noted on ``evidence``."""
    if evidence is None or not evidence.data:
        errors.add("evidence", gettext("Attach the evidence: a PDF, PNG or JPEG file."))
        return None
    if len(evidence.data) > EVIDENCE_MAX_BYTES:
        errors.add(
            "evidence",
            gettext(
                "The file is larger than %(megabytes)d MB; send a smaller copy or a scan at a"
                " lower resolution.",
                megabytes=EVIDENCE_MAX_BYTES // (1024 * 1024),
            ),
        )
        return None
    try:
        return evidence_type(evidence.data)
    except InvalidInput as refusal:
        errors.add("evidence", refusal.fields["evidence"])
        return None


def _stored_filename(filename: str) -> str:
    """The uploaded name without its folders or invisible characters, for the download."""
    name = PurePosixPath(clean_text(filename).replace("\\", "/")).name
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    return name[-255:] or "evidence"


def download_name(evidence: ClaimEvidence) -> str:
    """The name a download carries: the uploaded one, ending as the content is (a PNG sent
    as ``scan.pdf`` downloads as ``scan.pdf.png``, so nothing opens it as a PDF)."""
    suffix = PurePosixPath(evidence.filename).suffix.lower()
    if suffix in _EXTENSIONS_TAKEN.get(evidence.media_type, set()):
        return evidence.filename
    return evidence.filename + EXTENSIONS.get(evidence.media_type, "")


# ---------------------------------------------------------------- claiming


def claim_domains() -> list[str]:
    """The domains a CPD claim may name: the catalogue's, and those renewal rules ask CPD
    points of (a renewal rule may name a domain no course has)."""
    renewal = db.session.scalars(sa.select(RenewalDomainMinimum.domain).distinct())
    return sorted(set(list_domains()) | set(renewal))


def _find_course(code: str) -> Course | None:
    lookup = as_code(code)
    return db.session.scalar(sa.select(Course).where(Course.code == lookup)) if lookup else None


def _check_amount(errors: FieldErrors, field: str, value: Decimal | None, highest: Decimal) -> None:
    if value is None:
        return
    check_marks(errors, field, value)
    if field not in errors.messages and not Decimal(0) < value <= highest:
        shown = format(highest, "f")  # "1000", never "1E+3"
        errors.add(field, gettext("Enter more than 0 and at most %(highest)s.", highest=shown))


def submit_claim(
    candidate: User, data: ClaimInput, evidence: EvidenceUpload | None, *, today: dt.date
) -> Claim:
    """Record ``candidate``'s claim, pending review, with its evidence and its SHA-256.
    Every problem is named at once, next to its field; nothing is kept then."""
    if candidate.role is not Role.CANDIDATE:
        raise Forbidden(gettext("Only candidates make claims."))
    errors = FieldErrors()
    kind = ClaimKind(data.kind) if data.kind in set(ClaimKind) else None
    if kind is None:
        errors.add("kind", gettext("Say whether you claim a course's credits or CPD points."))
    course = _find_course(data.course_code) if kind is ClaimKind.CREDIT else None
    if kind is ClaimKind.CREDIT and course is None:
        errors.add("course", gettext("Choose the course of the catalogue you completed."))
    title = clean_text(data.title) or (course.title if course is not None else "")
    organiser = clean_text(data.organiser) or (course.provider if course is not None else "")
    check_text(errors, "title", title, 200)
    check_text(errors, "organiser", organiser, 200)
    if data.activity_on is None:
        errors.add("activity_on", gettext("Give the date you completed or attended it."))
    else:
        check_past_date(errors, "activity_on", data.activity_on, today)
    _check_amount(errors, "hours", data.hours, MAX_HOURS)
    points = data.points if kind is ClaimKind.CPD else None
    if kind is ClaimKind.CPD and points is None:
        errors.add("points", gettext("Give the CPD points the activity is worth."))
    _check_amount(errors, "points", points, MAX_POINTS)
    domain = clean_text(data.domain) or None
    if kind is ClaimKind.CREDIT and course is not None:
        domain = course.domain
    elif domain is not None and domain not in claim_domains():
        errors.add("domain", gettext("Choose one of the programme's domains, or none."))
    media_type = _check_evidence(errors, evidence)
    errors.raise_if_any()
    assert kind is not None and data.activity_on is not None  # noqa: S101 - checked above
    assert evidence is not None and media_type is not None  # noqa: S101 - checked above
    _refuse_too_many_pending(candidate)
    if course is not None:
        _refuse_credit_held_or_claimed(candidate, course)
    claim = Claim(
        candidate=candidate,
        kind=kind,
        course=course,
        title=title,
        organiser=organiser,
        activity_on=data.activity_on,
        hours=data.hours,
        points=points,
        domain=domain,
        state=ClaimState.PENDING,
    )
    stored = ClaimEvidence(
        claim=claim,
        filename=_stored_filename(evidence.filename),
        media_type=media_type,
        size=len(evidence.data),
        sha256=hashlib.sha256(evidence.data).hexdigest(),
        data=evidence.data,
    )
    db.session.add_all([claim, stored])
    db.session.flush()
    record_event(
        candidate,
        "claim.submitted",
        "user",
        candidate.id,
        after={
            "claim": claim.id,
            "kind": kind.value,
            "course": course.code if course is not None else None,
            "title": title,
            "activity_on": data.activity_on.isoformat(),
            "points": str(points) if points is not None else None,
            "evidence_sha256": stored.sha256,
            "evidence_type": media_type,
        },
    )
    return claim


def _refuse_too_many_pending(candidate: User) -> None:
    pending = db.session.scalar(
        sa.select(sa.func.count(Claim.id)).where(
            Claim.candidate_id == candidate.id, Claim.state == ClaimState.PENDING
        )
    )
    if (pending or 0) >= MAX_PENDING_CLAIMS:
        raise RuleViolation(
            ngettext(
                "You have %(num)d claim waiting for review, the most at once; send more once"
                " it is decided.",
                "You have %(num)d claims waiting for review, the most at once; send more once"
                " some are decided.",
                MAX_PENDING_CLAIMS,
            ),
            slug="too_many_pending_claims",
        )


def _refuse_credit_held_or_claimed(candidate: User, course: Course) -> None:
    held = db.session.scalar(
        sa.select(CreditRecord.id).where(
            CreditRecord.candidate_id == candidate.id,
            CreditRecord.course_id == course.id,
            CreditRecord.withdrawn_at.is_(None),
        )
    )
    if held is not None:
        raise Duplicate(
            gettext("You already have the credits for %(code)s.", code=course.code),
            {"course": gettext("Already on your transcript.")},
        )
    pending = db.session.scalar(
        sa.select(Claim.id).where(
            Claim.candidate_id == candidate.id,
            Claim.course_id == course.id,
            Claim.state == ClaimState.PENDING,
        )
    )
    if pending is not None:
        raise Duplicate(
            gettext("Your claim for %(code)s is still waiting for review.", code=course.code),
            {"course": gettext("Already claimed; waiting for review.")},
        )


def claims_of(candidate: User) -> list[Claim]:
    """Every claim of ``candidate``'s, newest first, whatever became of it."""
    return list(
        db.session.scalars(
            sa.select(Claim)
            .where(Claim.candidate_id == candidate.id)
            .options(so.selectinload(Claim.evidence), so.joinedload(Claim.course))
            .order_by(Claim.created_at.desc(), Claim.id.desc())
        )
    )


def _evidence(claim_id: int, evidence_id: int) -> ClaimEvidence | None:
    if not (0 < claim_id <= MAX_ID and 0 < evidence_id <= MAX_ID):
        return None
    evidence = db.session.get(ClaimEvidence, evidence_id, options=[so.undefer(ClaimEvidence.data)])
    if evidence is None or evidence.claim_id != claim_id or evidence.data is None:
        return None
    return evidence


def own_evidence(candidate: User, claim_id: int, evidence_id: int) -> ClaimEvidence:
    """A file of one of ``candidate``'s claims; anyone else's, or one deleted, is not found."""
    evidence = _evidence(claim_id, evidence_id)
    if evidence is None or evidence.claim.candidate_id != candidate.id:
        raise NotFound(gettext("No such file."))
    return evidence


# ---------------------------------------------------------------- reviewing


def reviews_for(actor: User) -> sa.ColumnElement[bool]:
    """The claims ``actor`` reviews: the programme office all of them; provider staff the
    credit claims naming their provider's courses; nobody else any."""
    if actor.role is Role.OFFICE:
        return sa.true()
    if actor.role is Role.PROVIDER and actor.provider_id is not None:
        return Claim.course_id.in_(
            sa.select(Course.id).where(Course.provider_id == actor.provider_id)
        )
    return sa.false()


def claims_to_review(actor: User, state: ClaimState | None) -> sa.Select[Claim]:
    """The claims ``actor`` reviews, in ``state`` (None: all), oldest first while pending
    (first come, first served), newest first otherwise."""
    statement = (
        sa.select(Claim)
        .where(reviews_for(actor))
        .options(
            so.joinedload(Claim.candidate),
            so.joinedload(Claim.course),
            so.selectinload(Claim.evidence),
        )
    )
    if state is not None:
        statement = statement.where(Claim.state == state)
    if state is ClaimState.PENDING:
        return statement.order_by(Claim.created_at, Claim.id)
    return statement.order_by(Claim.created_at.desc(), Claim.id.desc())


def pending_count(actor: User) -> int:
    statement = sa.select(sa.func.count(Claim.id)).where(
        reviews_for(actor), Claim.state == ClaimState.PENDING
    )
    return db.session.scalar(statement) or 0


def claim_for_review(claim_id: int, actor: User) -> Claim:
    """One claim ``actor`` reviews; any other is not found (as another provider's upload)."""
    claim = None
    if 0 < claim_id <= MAX_ID:
        claim = db.session.scalar(sa.select(Claim).where(Claim.id == claim_id, reviews_for(actor)))
    if claim is None:
        raise NotFound(gettext("No such claim."))
    return claim


def evidence_for_review(claim_id: int, evidence_id: int, actor: User) -> ClaimEvidence:
    """A file of a claim ``actor`` reviews (audited: evidence is personal data)."""
    claim = claim_for_review(claim_id, actor)
    evidence = _evidence(claim.id, evidence_id)
    if evidence is None:
        raise NotFound(gettext("No such file."))
    record_event(
        actor,
        "claim.evidence_opened",
        "user",
        claim.candidate_id,
        after={"claim": claim.id, "evidence": evidence.id, "sha256": evidence.sha256},
    )
    return evidence


def _decide(
    claim: Claim, actor: User, state: ClaimState, now: dt.datetime, **values: object
) -> None:
    """Move ``claim`` from pending to ``state``, once: of two reviewers deciding at the same
    moment, the second is told it was decided (the row is updated only while pending)."""
    decided = db.session.execute(
        sa.update(Claim)
        .where(Claim.id == claim.id, Claim.state == ClaimState.PENDING)
        .values(state=state, reviewed_by_id=actor.id, reviewed_at=now, **values)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(claim)
    if decided.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(
            gettext("This claim was %(state)s already.", state=state_in_words(claim.state)),
            slug="already_decided",
        )


def _refuse_unless_pending(claim: Claim) -> None:
    if claim.state is not ClaimState.PENDING:
        raise Conflict(
            gettext("This claim was %(state)s already.", state=state_in_words(claim.state)),
            slug="already_decided",
        )


def approve_claim(claim: Claim, actor: User, *, today: dt.date, now: dt.datetime) -> Claim:
    """Approve ``claim``: it becomes a credit record (the provider's scope and the rules of
    :func:`~certification.records.services.record_credit` apply) or a CPD record, in this
    transaction, audited; the candidate is told by e-mail. A refusal changes nothing."""
    _refuse_unless_pending(claim)
    if claim.kind is ClaimKind.CREDIT and claim.course is None:
        raise RuleViolation(
            gettext(
                "The course this claim named was deleted from the catalogue; reject the claim"
                " and say so."
            ),
            slug="course_deleted",
        )
    try:
        with db.session.begin_nested():
            _approve_and_record(claim, actor, today=today, now=now)
    except ServiceError:
        # The savepoint's rollback undid the decision in the database, but ``claim`` was
        # read back as approved: read it again, so that the page showing the refusal shows
        # the claim as it is, waiting (or as another reviewer decided it).
        db.session.refresh(claim)
        raise
    record_event(
        actor,
        "claim.approved",
        "user",
        claim.candidate_id,
        before={"claim": claim.id, "state": ClaimState.PENDING.value},
        after={
            "claim": claim.id,
            "state": ClaimState.APPROVED.value,
            "credit_record": claim.credit_record_id,
            "cpd_activity": claim.cpd_activity_id,
        },
    )
    claim_reviewed.send(claim)
    return claim


def _approve_and_record(claim: Claim, actor: User, *, today: dt.date, now: dt.datetime) -> None:
    """The decision and the record it makes, in :func:`approve_claim`'s savepoint."""
    _decide(claim, actor, ClaimState.APPROVED, now)
    if claim.kind is ClaimKind.CREDIT:
        assert claim.course is not None  # noqa: S101 - approve_claim refused it
        record = record_credit(
            claim.candidate, claim.course.code, claim.activity_on, actor=actor, today=today
        )
        claim.credit_record_id = record.id
    else:
        assert claim.points is not None  # noqa: S101 - a CPD claim has its points
        activity = record_cpd(
            claim.candidate,
            title=claim.title,
            organiser=claim.organiser,
            activity_on=claim.activity_on,
            points=claim.points,
            source=CpdSource.CLAIM,
            actor=actor,
            today=today,
            domain=claim.domain,
            reference=f"claim-{claim.id}",
        )
        claim.cpd_activity_id = activity.id
    db.session.flush()


def reject_claim(claim: Claim, reason: str, actor: User, *, now: dt.datetime) -> Claim:
    """Reject ``claim`` with ``reason``, which the candidate reads (on their page and in
    the e-mail); audited. The evidence is deleted once the retention period has passed."""
    _refuse_unless_pending(claim)
    reason = " ".join(clean_text(reason).split())
    errors = FieldErrors()
    check_text(errors, "reason", reason, REASON_MAX)
    errors.raise_if_any()
    with db.session.begin_nested():
        _decide(claim, actor, ClaimState.REJECTED, now, rejection_reason=reason)
    record_event(
        actor,
        "claim.rejected",
        "user",
        claim.candidate_id,
        before={"claim": claim.id, "state": ClaimState.PENDING.value},
        after={"claim": claim.id, "state": ClaimState.REJECTED.value, "reason": reason},
    )
    claim_reviewed.send(claim)
    return claim


def state_in_words(state: ClaimState) -> str:
    return {
        ClaimState.PENDING: gettext("waiting for review"),
        ClaimState.APPROVED: gettext("approved"),
        ClaimState.REJECTED: gettext("rejected"),
    }[state]


# ---------------------------------------------------------------- retention


def delete_rejected_evidence(now: dt.datetime, retention_days: int) -> int:
    """Delete the bytes of every rejected claim's evidence rejected more than
    ``retention_days`` before ``now``; each file keeps its row (name, type, size, SHA-256,
    ``deleted_at``) and an audit event says so. Returns how many files were deleted.
    Pending and approved claims' evidence is never touched."""
    cutoff = now - dt.timedelta(days=retention_days)
    due = db.session.execute(
        sa.select(ClaimEvidence.id, ClaimEvidence.sha256, Claim.id, Claim.candidate_id)
        .join(Claim, Claim.id == ClaimEvidence.claim_id)
        .where(
            Claim.state == ClaimState.REJECTED,
            Claim.reviewed_at < cutoff,
            ClaimEvidence.deleted_at.is_(None),
        )
        .order_by(ClaimEvidence.id)
    ).all()
    deleted = 0
    for evidence_id, sha256, claim_id, candidate_id in due:
        # Conditional, so that a sweep running on another host at the same moment clears
        # and audits each file once.
        cleared = db.session.execute(
            sa.update(ClaimEvidence)
            .where(ClaimEvidence.id == evidence_id, ClaimEvidence.deleted_at.is_(None))
            .values(data=None, deleted_at=now)
            .execution_options(synchronize_session=False)
        )
        if cleared.rowcount != 1:  # type: ignore[attr-defined]
            continue
        deleted += 1
        record_event(
            None,
            "claim.evidence_deleted",
            "user",
            candidate_id,
            after={
                "claim": claim_id,
                "evidence": evidence_id,
                "sha256": sha256,
                "retention_days": retention_days,
            },
        )
    return deleted
