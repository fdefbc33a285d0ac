"""CSV imports: a preview that checks every row by the rules of single entry, then a commit
that writes every row in one go, or none.

Each row is checked by the functions single entry calls (``check_person``, ``check_credit``,
``check_result``, ``attempts_refusal``, and for provider staff ``provider_scope_refusal``), so
an import and the admin form refuse alike. What differs is the looking up and the writing:
calling ``record_credit`` once per row costs a few queries and a savepoint per row (see
``bench/bench_import.py``), so an import looks up every candidate, course, assessment and
existing record it needs in a few queries first, and inserts its rows and their audit events
in bulk. Services flush, never commit.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext, ngettext
from sqlalchemy.exc import IntegrityError

from certification.audit import AuditEvent, record_event
from certification.auth.models import Role, User
from certification.auth.services import (
    PersonFields,
    check_language,
    check_person,
    normalise_email,
)
from certification.catalogue.models import Assessment, Course
from certification.dates import format_long_date
from certification.errors import Duplicate, Forbidden, InvalidInput, NotFound, ServiceError
from certification.extensions import db
from certification.imports import attendance
from certification.imports.attendance import AttendanceEvent, Attendee, Outcome
from certification.imports.csvfile import (
    DELIMITER_NAMES,
    CellError,
    CsvRow,
    CsvTable,
    Problem,
    parse_decimal,
    read_csv,
)
from certification.imports.models import ImportKind, ImportUpload
from certification.mail.services import invite_candidates
from certification.records.models import AssessmentAttempt, CpdSource, CreditRecord
from certification.records.services import (
    attempts_refusal,
    check_credit,
    check_result,
    provider_scope_refusal,
    record_cpd,
)
from certification.records.standings import refresh_standings
from certification.types import MAX_ID, utcnow
from certification.validation import FieldErrors, as_code, name_search_key

COLUMNS: dict[ImportKind, tuple[str, ...]] = {
    ImportKind.CANDIDATES: ("email", "full_name", "country"),
    ImportKind.CREDITS: ("email", "course_code", "completed_on"),
    ImportKind.RESULTS: ("email", "assessment_code", "score", "taken_on"),
    ImportKind.ATTENDANCE: attendance.COLUMNS,
}
# Read when the file has them: a candidates file may say each one's language (e.g. pl).
OPTIONAL_COLUMNS: dict[ImportKind, tuple[str, ...]] = {ImportKind.CANDIDATES: ("language",)}
DATE_COLUMNS: dict[ImportKind, tuple[str, ...]] = {
    ImportKind.CANDIDATES: (),
    ImportKind.CREDITS: ("completed_on",),
    ImportKind.RESULTS: ("taken_on",),
    ImportKind.ATTENDANCE: (),
}
# Other names of a kind's columns: webinar platforms' exports name theirs their own way.
HEADER_ALIASES: dict[ImportKind, dict[str, str]] = {
    ImportKind.ATTENDANCE: attendance.HEADER_ALIASES,
}
# The services' field names, as the file's columns are called.
_COLUMN_OF_FIELD = {"course": "course_code", "assessment": "assessment_code"}
# What a course provider's staff may import: credits on their own courses. Results are on
# assessments, which no provider owns; registering candidates is the programme office's.
PROVIDER_KINDS = (ImportKind.CREDITS,)
_LOOKUP_CHUNK = 500  # ids or e-mails per IN (...) query
_WRITE_BATCH = 1000  # rows per INSERT
SUMMARY_PROBLEMS = 200  # problems kept in an upload's stored summary
SUMMARY_ATTENDEES = 5000  # an attendance list's lines kept in its summary (a large congress)


@dataclass(frozen=True)
class ImportReport:
    """What an import found, or wrote: counts, and every problem as (row, column, message)."""

    kind: ImportKind
    rows_read: int
    new: int
    already_recorded: int
    problems: tuple[Problem, ...] = ()
    extra_columns: tuple[str, ...] = ()
    encoding: str = ""
    delimiter: str = ""
    date_format: str = ""
    invited: int = 0  # new candidates sent an invitation to set their password
    # An attendance list's: the event it is of (``AttendanceEvent.to_json``) and each attendee
    # with what importing does for them.
    event: dict[str, Any] | None = None
    attendees: tuple[Attendee, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def skipped(self) -> int:
        """Attendees skipped with their reason: not candidates, under the minimum."""
        return sum(attendee.outcome.skipped for attendee in self.attendees)

    @property
    def counts(self) -> str:
        if self.kind is ImportKind.ATTENDANCE:
            return gettext(
                "%(new)d new, %(recorded)d already credited, %(skipped)d skipped",
                new=self.new,
                recorded=self.already_recorded,
                skipped=self.skipped,
            )
        if self.invited:
            return ngettext(
                "%(recorded)d already recorded, %(new)d new, %(num)d invitation queued",
                "%(recorded)d already recorded, %(new)d new, %(num)d invitations queued",
                self.invited,
                recorded=self.already_recorded,
                new=self.new,
            )
        return gettext(
            "%(recorded)d already recorded, %(new)d new",
            recorded=self.already_recorded,
            new=self.new,
        )

    def to_summary(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "rows_read": self.rows_read,
            "new": self.new,
            "already_recorded": self.already_recorded,
            "problem_count": len(self.problems),
            "problems": [list(p) for p in self.problems[:SUMMARY_PROBLEMS]],
            "extra_columns": list(self.extra_columns),
            "encoding": self.encoding,
            "delimiter": self.delimiter,
            "date_format": self.date_format,
            "invited": self.invited,
            "event": self.event,
            "attendees": [a.to_json() for a in self.attendees[:SUMMARY_ATTENDEES]],
        }

    @classmethod
    def from_summary(cls, summary: dict[str, Any]) -> ImportReport:
        return cls(
            kind=ImportKind(summary["kind"]),
            rows_read=summary["rows_read"],
            new=summary["new"],
            already_recorded=summary["already_recorded"],
            problems=tuple(Problem(*p) for p in summary.get("problems", [])),
            extra_columns=tuple(summary.get("extra_columns", [])),
            encoding=summary.get("encoding", ""),
            delimiter=summary.get("delimiter", ""),
            date_format=summary.get("date_format", ""),
            invited=summary.get("invited", 0),
            event=summary.get("event"),
            attendees=tuple(Attendee.from_json(a) for a in summary.get("attendees", [])),
        )


class ImportRefused(ServiceError):
    """Nothing was imported: the file has problems, or the database changed meanwhile."""

    slug = "import_refused"
    http_status = 422

    def __init__(self, report: ImportReport, message: str | None = None) -> None:
        super().__init__(
            message
            or ngettext(
                "Nothing was imported: the file has %(num)d problem.",
                "Nothing was imported: the file has %(num)d problems.",
                len(report.problems),
            )
        )
        self.report = report


# ------------------------------------------------------------------ who imports what


def import_kinds(actor: User | None) -> tuple[ImportKind, ...]:
    """The kinds of file ``actor`` may import: provider staff credits only, the office (and
    the command line, ``None``) every kind."""
    if actor is not None and actor.role is Role.PROVIDER:
        return PROVIDER_KINDS
    return tuple(ImportKind)


def _refuse_kind(actor: User | None, kind: ImportKind) -> None:
    if kind not in import_kinds(actor):
        raise Forbidden(
            gettext(
                "Course providers import course credits only; the programme office imports"
                " candidates and assessment results."
            ),
            {"kind": gettext("Not a kind of file you may import.")},
            field="kind",
        )


def _uploads_visible_to(actor: User | None) -> sa.ColumnElement[bool]:
    """Which uploads ``actor`` may open: provider staff those of their own provider's staff;
    the office (and ``None``, the command line) every one."""
    if actor is None or actor.role is not Role.PROVIDER:
        return sa.true()
    if actor.provider_id is None:
        return sa.false()
    return ImportUpload.uploaded_by_id.in_(
        sa.select(User.id).where(User.role == Role.PROVIDER, User.provider_id == actor.provider_id)
    )


# ------------------------------------------------------------------ preview and commit


def preview_import(
    kind: ImportKind,
    data: bytes,
    *,
    today: dt.date,
    actor: User | None = None,
    event: AttendanceEvent | None = None,
) -> ImportReport:
    """Check every row of ``data`` as single entry would for ``actor``, and write nothing.

    Provider staff are held to their provider's scope on every row
    (``records.provider_scope_refusal``); ``None`` (the command line) and the office are not.
    An attendance list needs its ``event``.
    """
    return _planned(kind, data, today, actor, event).report


def commit_import(
    kind: ImportKind,
    data: bytes,
    *,
    actor: User | None,
    today: dt.date,
    filename: str = "",
    upload_id: int | None = None,
    invite: bool = False,
    event: AttendanceEvent | None = None,
) -> ImportReport:
    """Check every row again and write all the new ones, or nothing if any row is bad.

    The caller's transaction holds the rows, flushed; the caller commits. Should a unique
    constraint fire (someone recorded the same credit meanwhile), nothing of the import is
    kept and ``ImportRefused`` says so. With ``invite``, each new candidate gets a
    set-password link by e-mail (sent by a worker once the caller commits). An attendance
    list's ``event`` credits each attendee who qualifies through ``records.record_cpd``.
    """
    plan = _planned(kind, data, today, actor, event)
    report = plan.report
    if not report.ok:
        raise ImportRefused(report)
    now = utcnow()
    actor_id = actor.id if actor is not None else None
    try:
        with db.session.begin_nested():
            # The records go in batches, each followed by its audit events: memory holds
            # one batch of statements' parameters, not the whole file's.
            for events in _chunks(plan.write(actor_id, now), _WRITE_BATCH):
                db.session.execute(
                    sa.insert(AuditEvent),
                    [{"occurred_at": now, "actor_id": actor_id, **event} for event in events],
                )
    except (IntegrityError, Duplicate):
        raise ImportRefused(
            report,
            gettext(
                "Nothing was imported: some of these records were written by someone else while"
                " the import ran. Preview the file again to see what is new now."
            ),
        ) from None
    refresh_standings(plan.changed_transcripts, today)
    if invite and plan.new_emails:
        report = dataclasses.replace(report, invited=invite_candidates(plan.new_emails, actor))
    digest = hashlib.sha256(data).hexdigest()
    record_event(
        actor,
        "import.committed",
        "import",
        upload_id if upload_id is not None else digest[:16],
        after={
            "kind": kind.value,
            "filename": filename,
            "sha256": digest,
            "rows_read": report.rows_read,
            "new": report.new,
            "already_recorded": report.already_recorded,
            "invited": report.invited,
            **({"event": report.event} if report.event else {}),
        },
    )
    db.session.flush()
    return report


# ------------------------------------------------------------------ uploads (the admin's two steps)


def store_upload(
    kind: ImportKind,
    filename: str,
    content: bytes,
    actor: User | None,
    *,
    today: dt.date,
    event: AttendanceEvent | None = None,
) -> ImportUpload:
    """Keep an uploaded file for its preview and commit, with what a first preview found.

    Provider staff upload credits only; their uploads are their provider's
    (:func:`get_upload`, :func:`recent_uploads`). An attendance list's ``event`` is kept in
    the summary, which every later preview and the commit read it from.
    """
    _refuse_kind(actor, kind)
    report = preview_import(kind, content, today=today, actor=actor, event=event)
    upload = ImportUpload(
        kind=kind,
        filename=_display_name(filename),
        content=content,
        sha256=hashlib.sha256(content).hexdigest(),
        uploaded_by=actor,
        summary=report.to_summary(),
    )
    db.session.add(upload)
    db.session.flush()
    record_event(
        actor,
        "import.uploaded",
        "import",
        upload.id,
        after={
            "kind": kind.value,
            "filename": upload.filename,
            "sha256": upload.sha256,
            "bytes": len(content),
        },
    )
    return upload


def get_upload(upload_id: int, *, actor: User | None = None) -> ImportUpload:
    """An upload ``actor`` may open: to provider staff, one by another provider's staff or
    by the office does not exist (404)."""
    upload = (
        db.session.scalar(
            sa.select(ImportUpload).where(ImportUpload.id == upload_id, _uploads_visible_to(actor))
        )
        if 0 < upload_id <= MAX_ID
        else None
    )
    if upload is None:
        raise NotFound(gettext("There is no such upload."))
    return upload


def recent_uploads(limit: int = 20, *, actor: User | None = None) -> list[ImportUpload]:
    """The newest uploads ``actor`` may open (:func:`get_upload`)."""
    return list(
        db.session.scalars(
            sa.select(ImportUpload)
            .where(_uploads_visible_to(actor))
            .options(sa.orm.selectinload(ImportUpload.uploaded_by))
            .order_by(ImportUpload.uploaded_at.desc(), ImportUpload.id.desc())
            .limit(limit)
        )
    )


def preview_upload(
    upload: ImportUpload, *, today: dt.date, actor: User | None = None
) -> ImportReport:
    """A committed upload's report as committed; otherwise a fresh preview against the
    database as it is now, for ``actor`` (provider staff: within their provider's scope)."""
    if upload.committed_at is not None and upload.summary:
        return ImportReport.from_summary(upload.summary)
    return preview_import(
        upload.kind, upload.content, today=today, actor=actor, event=_event_of(upload)
    )


def _event_of(upload: ImportUpload) -> AttendanceEvent | None:
    """The event an attendance list's upload is of, as stated when it was uploaded."""
    event = (upload.summary or {}).get("event")
    return AttendanceEvent.from_json(event) if event else None


def commit_upload(
    upload: ImportUpload, actor: User | None, *, today: dt.date, invite: bool = False
) -> tuple[ImportReport, bool]:
    """Commit an upload once: (its report, whether this call wrote it).

    The upload is claimed with a conditional UPDATE first, so that a double submit, or two
    administrators at once, cannot both write it: the second finds it claimed and gets the
    first one's report. If the import is refused, the request rolls back and the claim too.
    """
    now = utcnow()
    claimed = db.session.execute(
        sa.update(ImportUpload)
        .where(ImportUpload.id == upload.id, ImportUpload.committed_at.is_(None))
        .values(committed_at=now)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        db.session.refresh(upload)
        return preview_upload(upload, today=today, actor=actor), False
    try:
        report = commit_import(
            upload.kind,
            upload.content,
            actor=actor,
            today=today,
            filename=upload.filename,
            upload_id=upload.id,
            invite=invite,
            event=_event_of(upload),
        )
    except ImportRefused:
        # Leave the transaction as it was: the upload is not claimed after all.
        db.session.execute(
            sa.update(ImportUpload).where(ImportUpload.id == upload.id).values(committed_at=None)
        )
        raise
    upload.summary = report.to_summary()
    db.session.flush()
    return report, True


# ------------------------------------------------------------------ planning


Event = dict[str, Any]


@dataclass
class _Plan:
    """What an import would do: its report, and how to write its new rows."""

    report: ImportReport
    write: Callable[[int | None, dt.datetime], Iterator[Event]]
    new_emails: tuple[str, ...] = ()  # the candidates an import of candidates creates
    changed_transcripts: frozenset[int] = frozenset()  # candidates given credits or results


@dataclass
class _Tally:
    """Problems and counts gathered while checking the rows."""

    table: CsvTable
    problems: list[Problem] = field(default_factory=list)
    already_recorded: int = 0

    def rows(self) -> Iterator[CsvRow]:
        """The rows whose shape is right (the others have their problem already)."""
        return (row for row in self.table.rows() if row.number not in self.table.bad_rows)

    def refuse(self, row: int, errors: FieldErrors) -> None:
        for name, message in errors.messages.items():
            self.problems.append(Problem(row, _COLUMN_OF_FIELD.get(name, name), message))

    def report(self, kind: ImportKind, new: int) -> ImportReport:
        table = self.table
        problems = sorted([*table.problems, *self.problems], key=lambda p: p.row)
        return ImportReport(
            kind=kind,
            rows_read=table.row_count,
            new=new,
            already_recorded=self.already_recorded,
            problems=tuple(problems),
            extra_columns=table.extra_columns,
            encoding=table.encoding,
            delimiter=DELIMITER_NAMES.get(table.delimiter, "") if table.encoding else "",
            date_format=table.date_format.value if DATE_COLUMNS[kind] and table.date_format else "",
        )


def _planned(
    kind: ImportKind,
    data: bytes,
    today: dt.date,
    actor: User | None,
    event: AttendanceEvent | None,
) -> _Plan:
    """The plan of an attendance list, which needs its event; of any other file, ``_plan``."""
    if kind is not ImportKind.ATTENDANCE:
        return _plan(kind, data, today, actor)
    _refuse_kind(actor, kind)
    if event is None:
        raise InvalidInput(
            gettext("Say which event the attendance list is of."),
            {"title": gettext("Say what the event was called.")},
        )
    return _plan_attendance(_Tally(_read(kind, data)), event, today, actor)


def _read(kind: ImportKind, data: bytes) -> CsvTable:
    return read_csv(
        data,
        COLUMNS[kind],
        date_columns=DATE_COLUMNS[kind],
        optional=OPTIONAL_COLUMNS.get(kind, ()),
        aliases=HEADER_ALIASES.get(kind),
    )


def _plan(kind: ImportKind, data: bytes, today: dt.date, actor: User | None) -> _Plan:
    _refuse_kind(actor, kind)
    tally = _Tally(_read(kind, data))
    if kind is ImportKind.CANDIDATES:
        return _plan_candidates(tally)
    if kind is ImportKind.CREDITS:
        return _plan_credits(tally, today, actor)
    return _plan_results(tally, today)


# ------------------------------------------------------------------ attendance lists


def _plan_attendance(
    tally: _Tally, event: AttendanceEvent, today: dt.date, actor: User | None
) -> _Plan:
    """Credit each candidate on the list who attended long enough, once per event.

    The rows go through ``record_cpd`` one by one (not inserted in bulk as credits are): an
    attendance list has hundreds of rows, not tens of thousands, and the rule that a
    candidate is credited once per event is then the service's own, audited by it.
    """
    attendees, problems = attendance.plan_attendance(tally.rows(), event)
    tally.problems.extend(problems)
    tally.already_recorded = sum(a.outcome is Outcome.ALREADY_CREDITED for a in attendees)
    new = [a for a in attendees if a.outcome is Outcome.CREDIT]
    report = dataclasses.replace(
        tally.report(ImportKind.ATTENDANCE, len(new)),
        event=event.to_json(),
        attendees=tuple(attendees),
    )

    def write(actor_id: int | None, now: dt.datetime) -> Iterator[Event]:
        candidates = attendance.credited_candidates(new)
        for attendee in new:
            assert attendee.candidate_id is not None  # noqa: S101 - only candidates earn points
            record_cpd(
                candidates[attendee.candidate_id],
                title=event.title,
                organiser=event.organiser.value,
                activity_on=event.held_on,
                points=attendee.points,
                source=CpdSource.ATTENDANCE,
                actor=actor,
                today=today,
                domain=event.domain,
                reference=event.reference,
            )
        return iter(())  # record_cpd wrote each one's audit event

    return _Plan(report, write)


# ------------------------------------------------------------------ candidates


def _plan_candidates(tally: _Tally) -> _Plan:
    people: dict[str, tuple[int, PersonFields]] = {}
    languages: dict[str, str | None] = {}
    for row in tally.rows():
        errors = FieldErrors()
        values = row.values
        person = check_person(errors, values["email"], values["full_name"], values["country"])
        language = check_language(errors, values.get("language"))
        languages.setdefault(person.email, language)
        if errors.messages:
            tally.refuse(row.number, errors)
        elif (earlier := people.get(person.email)) is None:
            people[person.email] = (row.number, person)
        elif earlier[1] == person:
            tally.already_recorded += 1
        else:
            tally.problems.append(
                Problem(
                    row.number,
                    "email",
                    gettext(
                        "This e-mail is on row %(row)d too, with another name or country.",
                        row=earlier[0],
                    ),
                )
            )
    roles = _roles_by_email(people)
    new: list[PersonFields] = []
    for email, (number, person) in people.items():
        role = roles.get(email)
        if role is None:
            new.append(person)
        elif role is Role.CANDIDATE:
            tally.already_recorded += 1  # the name on file stays as it is
        else:
            tally.problems.append(
                Problem(
                    number, "email", gettext("This e-mail belongs to an administrator's account.")
                )
            )

    def write(actor_id: int | None, now: dt.datetime) -> Iterator[Event]:
        for batch in _chunks(new, _WRITE_BATCH):
            rows = [
                {
                    "email": p.email,
                    "full_name": p.full_name,
                    "name_key": name_search_key(p.full_name),
                    "country": p.country,
                    "language": languages.get(p.email),
                    "role": Role.CANDIDATE,
                    "active": True,
                    "created_at": now,
                }
                for p in batch
            ]
            ids = db.session.scalars(
                sa.insert(User).returning(User.id, sort_by_parameter_order=True), rows
            ).all()
            for user_id, p in zip(ids, batch, strict=True):
                yield {
                    "action": f"{Role.CANDIDATE.value}.created",
                    "object_type": "user",
                    "object_id": str(user_id),
                    "after": {
                        "email": p.email,
                        "full_name": p.full_name,
                        "country": p.country,
                        "language": languages.get(p.email),
                        "role": Role.CANDIDATE.value,
                        "active": True,
                    },
                }

    return _Plan(tally.report(ImportKind.CANDIDATES, len(new)), write, tuple(p.email for p in new))


def _roles_by_email(emails: Iterable[str]) -> dict[str, Role]:
    found: dict[str, Role] = {}
    for chunk in _chunks(emails):
        statement = sa.select(User.email, User.role).where(User.email.in_(chunk))
        found.update((email, role) for email, role in db.session.execute(statement))
    return found


# ------------------------------------------------------------------ credits


@dataclass(frozen=True)
class _Candidate:
    id: int
    full_name: str


CatalogueItem = TypeVar("CatalogueItem", Course, Assessment)


def _look_up(
    tally: _Tally, code_column: str, model: type[CatalogueItem]
) -> tuple[dict[str, _Candidate], dict[str, CatalogueItem]]:
    """Every candidate and every course or assessment the file names, in a few queries."""
    emails: set[str] = set()
    codes: set[str] = set()
    for row in tally.rows():
        emails.add(normalise_email(row.values["email"]))
        if code := as_code(row.values[code_column]):
            codes.add(code)
    items = {
        item.code: item
        for chunk in _chunks(codes)
        for item in db.session.scalars(sa.select(model).where(model.code.in_(chunk)))
    }
    return _candidates_by_email(emails), items


@dataclass(frozen=True)
class _Withdrawn:
    """When and why a record was withdrawn: a row that would bring it back is a problem."""

    at: dt.datetime
    reason: str | None

    def problem(self, row: int, column: str, what: str) -> Problem:
        """The problem of a row that would bring back a withdrawn ``what`` (``credit`` or
        ``result``)."""
        day = format_long_date(
            self.at.astimezone(ZoneInfo(current_app.config["APP_TIMEZONE"])).date()
        )
        if what == "credit" and self.reason:
            message = gettext(
                "This credit was withdrawn on %(day)s (reason: %(reason)s). If it is right"
                " after all, record it on the candidate's page.",
                day=day,
                reason=self.reason,
            )
        elif what == "credit":
            message = gettext(
                "This credit was withdrawn on %(day)s. If it is right after all, record it on"
                " the candidate's page.",
                day=day,
            )
        elif self.reason:
            message = gettext(
                "This result was withdrawn on %(day)s (reason: %(reason)s). If it is right"
                " after all, record it on the candidate's page.",
                day=day,
                reason=self.reason,
            )
        else:
            message = gettext(
                "This result was withdrawn on %(day)s. If it is right after all, record it on"
                " the candidate's page.",
                day=day,
            )
        return Problem(row, column, message)


def _plan_credits(tally: _Tally, today: dt.date, actor: User | None) -> _Plan:
    candidates, courses = _look_up(tally, "course_code", Course)
    recorded: dict[tuple[int, int], dt.date] = {}
    # Withdrawn credits, by (candidate, course, completed on), read in the same query: the
    # same row imported again must not bring one back unnoticed.
    withdrawn: dict[tuple[int, int, dt.date], _Withdrawn] = {}
    for chunk in _chunks(c.id for c in candidates.values()):
        statement = sa.select(
            CreditRecord.candidate_id,
            CreditRecord.course_id,
            CreditRecord.completed_on,
            CreditRecord.withdrawn_at,
            CreditRecord.withdrawal_reason,
        ).where(CreditRecord.candidate_id.in_(chunk))
        for cid, course_id, on, withdrawn_at, reason in db.session.execute(statement):
            if withdrawn_at is None:
                recorded[(cid, course_id)] = on
            else:
                withdrawn[(cid, course_id, on)] = _Withdrawn(withdrawn_at, reason)

    new: dict[tuple[int, int], dt.date] = {}
    for row in tally.rows():
        values = row.values
        errors = FieldErrors()
        candidate = _candidate_for(errors, candidates, values["email"])
        completed_on = _date_in(tally.table, errors, row, "completed_on")
        code = as_code(values["course_code"])
        course = courses.get(code) if code else None
        check_credit(errors, course, values["course_code"], completed_on, today)
        # Provider staff: another provider's course, or a completion outside the provider's
        # accreditation, is a problem on its row, by the rule single entry raises.
        if course is not None and (refusal := provider_scope_refusal(actor, course, completed_on)):
            errors.add("course", refusal.message)
        if errors.messages:
            tally.refuse(row.number, errors)
            continue
        if candidate is None or course is None or completed_on is None:
            continue  # a date that could not be read; its problem is noted already
        pair = (candidate.id, course.id)
        earlier = recorded.get(pair) or new.get(pair)
        gone = withdrawn.get((*pair, completed_on))
        if gone is not None and recorded.get(pair) != completed_on:
            tally.problems.append(gone.problem(row.number, "completed_on", "credit"))
        elif earlier is None:
            new[pair] = completed_on
        elif earlier == completed_on:
            tally.already_recorded += 1
        else:
            tally.problems.append(
                Problem(
                    row.number,
                    "completed_on",
                    gettext(
                        "%(name)s already has %(code)s, completed on %(earlier)s; this row says"
                        " %(day)s. A course counts once: correct the file or the record.",
                        name=candidate.full_name,
                        code=course.code,
                        earlier=earlier.isoformat(),
                        day=completed_on.isoformat(),
                    ),
                )
            )
    course_by_id = {c.id: c for c in courses.values()}

    def write(actor_id: int | None, now: dt.datetime) -> Iterator[Event]:
        for batch in _chunks(new.items(), _WRITE_BATCH):
            db.session.execute(
                sa.insert(CreditRecord),
                [
                    {
                        "candidate_id": cid,
                        "course_id": course_id,
                        "completed_on": on,
                        "recorded_at": now,
                        "recorded_by_id": actor_id,
                    }
                    for (cid, course_id), on in batch
                ],
            )
            for (cid, course_id), on in batch:
                yield {
                    "action": "credit.recorded",
                    "object_type": "user",
                    "object_id": str(cid),
                    "after": {
                        "course": course_by_id[course_id].code,
                        "credits": str(course_by_id[course_id].credits),
                        "completed_on": on.isoformat(),
                    },
                }

    return _Plan(
        tally.report(ImportKind.CREDITS, len(new)),
        write,
        changed_transcripts=frozenset(cid for cid, _course_id in new),
    )


# ------------------------------------------------------------------ results


@dataclass(frozen=True, order=True)
class _Sitting:
    taken_on: dt.date
    row: int
    score: Decimal


def _plan_results(tally: _Tally, today: dt.date) -> _Plan:
    candidates, assessments = _look_up(tally, "assessment_code", Assessment)
    # Per (candidate, assessment): the attempts that count, as (taken_on, score), and the
    # last attempt number given (withdrawn attempts keep theirs; see record_result).
    recorded: dict[tuple[int, int], list[tuple[dt.date, Decimal]]] = defaultdict(list)
    last_number: dict[tuple[int, int], int] = defaultdict(int)
    # Withdrawn attempts, by (taken on, score): the same row imported again is a problem.
    withdrawn: dict[tuple[int, int], dict[tuple[dt.date, Decimal], _Withdrawn]] = defaultdict(dict)
    for chunk in _chunks(c.id for c in candidates.values()):
        statement = sa.select(
            AssessmentAttempt.candidate_id,
            AssessmentAttempt.assessment_id,
            AssessmentAttempt.taken_on,
            AssessmentAttempt.score,
            AssessmentAttempt.attempt_number,
            AssessmentAttempt.withdrawn_at,
            AssessmentAttempt.withdrawal_reason,
        ).where(AssessmentAttempt.candidate_id.in_(chunk))
        for cid, aid, sat_on, marks, number, withdrawn_at, reason in db.session.execute(statement):
            last_number[(cid, aid)] = max(last_number[(cid, aid)], number)
            if withdrawn_at is None:
                recorded[(cid, aid)].append((sat_on, marks))
            else:
                withdrawn[(cid, aid)][(sat_on, marks)] = _Withdrawn(withdrawn_at, reason)

    pending: dict[tuple[int, int], list[_Sitting]] = defaultdict(list)
    names: dict[int, str] = {}
    for row in tally.rows():
        values = row.values
        errors = FieldErrors()
        candidate = _candidate_for(errors, candidates, values["email"])
        score = _number_in(errors, "score", values["score"])
        taken_on = _date_in(tally.table, errors, row, "taken_on")
        code = as_code(values["assessment_code"])
        assessment = assessments.get(code) if code else None
        check_result(errors, assessment, values["assessment_code"], score, taken_on, today)
        if errors.messages:
            tally.refuse(row.number, errors)
            continue
        if candidate is None or assessment is None or score is None or taken_on is None:
            continue  # a date that could not be read; its problem is noted already
        key = (candidate.id, assessment.id)
        names[candidate.id] = candidate.full_name
        if (taken_on, score) in recorded[key] or any(
            (s.taken_on, s.score) == (taken_on, score) for s in pending[key]
        ):
            tally.already_recorded += 1
        elif gone := withdrawn[key].get((taken_on, score)):
            tally.problems.append(gone.problem(row.number, "taken_on", "result"))
        else:
            pending[key].append(_Sitting(taken_on, row.number, score))

    # Attempts in the file count towards the limit in the order they were taken.
    assessment_by_id = {a.id: a for a in assessments.values()}
    new: list[tuple[int, Assessment, int, _Sitting]] = []
    for (cid, aid), sittings in pending.items():
        assessment = assessment_by_id[aid]
        made, number = len(recorded[(cid, aid)]), last_number[(cid, aid)]
        for sitting in sorted(sittings):
            if refusal := attempts_refusal(names[cid], assessment, made):
                tally.problems.append(Problem(sitting.row, "assessment_code", refusal.message))
            else:
                made, number = made + 1, number + 1
                new.append((cid, assessment, number, sitting))

    def write(actor_id: int | None, now: dt.datetime) -> Iterator[Event]:
        for batch in _chunks(new, _WRITE_BATCH):
            db.session.execute(
                sa.insert(AssessmentAttempt),
                [
                    {
                        "candidate_id": cid,
                        "assessment_id": assessment.id,
                        "attempt_number": number,
                        "score": sitting.score,
                        "taken_on": sitting.taken_on,
                        "recorded_at": now,
                        "recorded_by_id": actor_id,
                    }
                    for cid, assessment, number, sitting in batch
                ],
            )
            for cid, assessment, number, sitting in batch:
                yield {
                    "action": "result.recorded",
                    "object_type": "user",
                    "object_id": str(cid),
                    "after": {
                        "assessment": assessment.code,
                        "attempt": number,
                        "score": str(sitting.score),
                        "taken_on": sitting.taken_on.isoformat(),
                    },
                }

    return _Plan(
        tally.report(ImportKind.RESULTS, len(new)),
        write,
        changed_transcripts=frozenset(cid for cid, *_rest in new),
    )


# ------------------------------------------------------------------ cells and look-ups


def _candidates_by_email(emails: Iterable[str]) -> dict[str, _Candidate]:
    found: dict[str, _Candidate] = {}
    # No database stores a NUL in text, and PostgreSQL refuses to even receive one.
    for chunk in _chunks(e for e in emails if e and "\x00" not in e):
        statement = sa.select(User.email, User.id, User.full_name).where(
            User.role == Role.CANDIDATE, User.email.in_(chunk)
        )
        found.update(
            (email, _Candidate(i, name)) for email, i, name in db.session.execute(statement)
        )
    return found


def _candidate_for(
    errors: FieldErrors, candidates: dict[str, _Candidate], email: str
) -> _Candidate | None:
    if not email:
        errors.add("email", gettext("This field is required."))
        return None
    candidate = candidates.get(normalise_email(email))
    if candidate is None:
        errors.add("email", gettext("No candidate with this e-mail."))
    return candidate


def _date_in(table: CsvTable, errors: FieldErrors, row: CsvRow, name: str) -> dt.date | None:
    text = row.values[name]
    if not text:
        errors.add(name, gettext("This field is required."))
        return None
    if table.date_format is None or (row.number, name) in table.flagged_cells:
        return None  # the file's date format is unclear, or this date's: that is said already
    try:
        return table.parse_date(text)
    except CellError as error:
        errors.add(name, str(error))
        return None


def _number_in(errors: FieldErrors, name: str, text: str) -> Decimal | None:
    if not text:
        errors.add(name, gettext("This field is required."))
        return None
    try:
        return parse_decimal(text)
    except CellError as error:
        errors.add(name, str(error))
        return None


def _chunks(values: Iterable[Any], size: int = _LOOKUP_CHUNK) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for value in values:
        chunk.append(value)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _display_name(filename: str) -> str:
    """The file's own name, without a browser's path and without control characters."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in unicodedata.normalize("NFC", name) if ch.isprintable())
    return name.strip()[:255] or "upload.csv"
