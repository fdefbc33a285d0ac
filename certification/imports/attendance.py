"""Attendance lists of the bodies' webinars and events, credited as CPD points.

A webinar platform exports who attended and for how long; the office states the event once
for the whole file (title, organiser, date, a reference, the rule for points) and each
candidate on the list earns points for the time they attended. Most attendees of a public
webinar are not candidates, so an e-mail that names no candidate is a row skipped with its
reason, never a problem that blocks the file; so are attendance under the minimum and a
candidate already credited for the event. Only a cell that cannot be read (minutes "abc") is
a problem, and then nothing of the file is imported.

Platforms name the columns their own way (Zoom "Duration (Minutes)", Teams "In-Meeting
Duration" as ``1h 5m``, GoToWebinar "Time in Session (minutes)"); :data:`HEADER_ALIASES`
reads them all as ``email`` and ``minutes``. Someone who left and joined again is on several
rows: their time is summed.

This module reads and checks; ``imports.services`` runs the preview and the commit, which
records each credited attendee through ``records.record_cpd``.
"""

from __future__ import annotations

import datetime as dt
import enum
import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext, lazy_gettext, ngettext

from certification.auth.models import Role, User
from certification.auth.services import normalise_email
from certification.extensions import db
from certification.i18n import format_number
from certification.imports.csvfile import CellError, CsvRow, Problem, parse_decimal
from certification.progress import format_decimal
from certification.records.models import CpdActivity
from certification.validation import FieldErrors, clean_text

COLUMNS = ("email", "minutes")
# The header names of webinar platforms' exports, normalised as ``csvfile.normalise_header``
# writes them, and the column each one is.
HEADER_ALIASES = {
    "attendee_email": "email",
    "user_email": "email",
    "email_address": "email",
    "e_mail_address": "email",
    "participant_email": "email",
    "registrant_email": "email",
    "minutes_attended": "minutes",
    "duration": "minutes",
    "duration_(minutes)": "minutes",
    "duration_(min)": "minutes",
    "total_duration_(minutes)": "minutes",
    "attendance_duration": "minutes",
    "in_meeting_duration": "minutes",
    "time_in_session": "minutes",
    "time_in_session_(minutes)": "minutes",
}
LONGEST_EVENT_MINUTES = 10_000  # about a week: a conference, not a webinar left running
MAX_POINTS = Decimal(1000)  # what ``record_cpd`` accepts for one activity
_POINTS_PLACES = Decimal("0.01")  # CPD points are kept to the hundredth

_DURATION_PART = re.compile(
    r"(\d+(?:[.,]\d+)?)\s*(hours?|hrs?|h|minutes?|mins?|m|seconds?|secs?|s)(?![a-z])",
    re.IGNORECASE,
)
_SECONDS_PER_UNIT = {"h": 3600, "m": 60, "s": 1}
_CLOCK = re.compile(r"^(\d+):([0-5]\d)(?::([0-5]\d))?$")  # 1:05 or 1:05:30


class Organiser(enum.StrEnum):
    """Who held the event: one body or both. The value is what a CPD record names."""

    EFRS = "EFRS"
    EUSOMII = "EuSoMII"
    BOTH = "EFRS, EuSoMII"


ORGANISER_LABELS = {
    Organiser.EFRS: "EFRS",
    Organiser.EUSOMII: "EuSoMII",
    Organiser.BOTH: lazy_gettext("EFRS and EuSoMII together"),
}


class MinimumUnit(enum.StrEnum):
    """How the minimum attendance is stated: in minutes or as a share of the event."""

    MINUTES = "minutes"
    PERCENT = "percent"


class Outcome(enum.StrEnum):
    """What importing does for one attendee."""

    CREDIT = "credit"
    ALREADY_CREDITED = "already_credited"
    BELOW_MINIMUM = "below_minimum"
    NOT_A_CANDIDATE = "not_a_candidate"
    NO_EMAIL = "no_email"
    WITHDRAWN = "withdrawn"

    @property
    def skipped(self) -> bool:
        return self not in (Outcome.CREDIT, Outcome.ALREADY_CREDITED)


@dataclass(frozen=True)
class AttendanceEvent:
    """The event an attendance list is of, and its rule for points, as the office stated it.

    ``minimum_minutes`` is the threshold itself; when the office gave a share of the event's
    length (``minimum_percent``), it is that share of ``length_minutes``, rounded up.
    """

    title: str
    organiser: Organiser
    held_on: dt.date
    reference: str
    points_per_hour: Decimal
    minimum_minutes: int
    domain: str | None = None
    length_minutes: int | None = None
    minimum_percent: int | None = None

    def counted_minutes(self, minutes: int) -> int:
        """The minutes that earn points: no more than the event lasted (two devices at once
        would otherwise count twice)."""
        return min(minutes, self.length_minutes) if self.length_minutes else minutes

    def points_for(self, minutes: int) -> Decimal:
        """The points ``minutes`` of attendance earn, to the hundredth; 0 under the minimum."""
        if minutes < self.minimum_minutes:
            return Decimal(0)
        points = self.points_per_hour * self.counted_minutes(minutes) / 60
        return points.quantize(_POINTS_PLACES, rounding=ROUND_HALF_UP)

    @property
    def rule(self) -> str:
        """The rule for points in words, for the preview."""
        if self.minimum_percent is not None and self.length_minutes:
            return gettext(
                "%(points)s CPD points per hour attended; at least %(percent)d%% of the event's"
                " %(length)d minutes (%(minimum)d minutes) to earn any.",
                points=format_number(self.points_per_hour),
                percent=self.minimum_percent,
                length=self.length_minutes,
                minimum=self.minimum_minutes,
            )
        return ngettext(
            "%(points)s CPD points per hour attended; at least %(num)d minute to earn any.",
            "%(points)s CPD points per hour attended; at least %(num)d minutes to earn any.",
            self.minimum_minutes,
            points=format_number(self.points_per_hour),
        )

    @property
    def organiser_label(self) -> str:
        return str(ORGANISER_LABELS[self.organiser])

    def to_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "organiser": self.organiser.value,
            "held_on": self.held_on.isoformat(),
            "reference": self.reference,
            "points_per_hour": str(self.points_per_hour),
            "minimum_minutes": self.minimum_minutes,
            "domain": self.domain,
            "length_minutes": self.length_minutes,
            "minimum_percent": self.minimum_percent,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AttendanceEvent:
        return cls(
            title=data["title"],
            organiser=Organiser(data["organiser"]),
            held_on=dt.date.fromisoformat(data["held_on"]),
            reference=data["reference"],
            points_per_hour=Decimal(data["points_per_hour"]),
            minimum_minutes=int(data["minimum_minutes"]),
            domain=data.get("domain"),
            length_minutes=data.get("length_minutes"),
            minimum_percent=data.get("minimum_percent"),
        )


def check_event(
    *,
    title: str | None,
    organiser: str | None,
    held_on: dt.date | None,
    points_per_hour: Decimal | None,
    minimum: int | None,
    minimum_unit: str | None,
    today: dt.date,
    reference: str | None = None,
    domain: str | None = None,
    length_minutes: int | None = None,
) -> AttendanceEvent:
    """The event as the office stated it, checked; ``InvalidInput`` naming each field at
    fault otherwise. Without a reference, one is made of the date and the title, so that the
    same list uploaded again names the same event."""
    errors = FieldErrors()
    title = clean_text(title)
    if not title:
        errors.add("title", gettext("Say what the event was called."))
    elif len(title) > 200:
        errors.add("title", gettext("At most 200 characters."))
    try:
        chosen_organiser = Organiser(organiser or "")
    except ValueError:
        chosen_organiser = Organiser.BOTH
        errors.add("organiser", gettext("Choose who organised the event."))
    if held_on is None:
        errors.add("held_on", gettext("Enter the day the event was held."))
    elif held_on > today:
        errors.add("held_on", gettext("The event cannot be in the future."))
    # Compared without regard to case or spacing, as the reference made from the title is:
    # the same webinar typed "ZOOM-812" once and "zoom-812" later is one event.
    reference = " ".join(clean_text(reference).split()).casefold()
    if len(reference) > 200:
        errors.add("reference", gettext("At most 200 characters."))
    domain = clean_text(domain) or None
    if domain is not None and len(domain) > 100:
        errors.add("domain", gettext("At most 100 characters."))
    if points_per_hour is None or not points_per_hour.is_finite():
        errors.add("points_per_hour", gettext("Enter the CPD points an hour earns."))
    elif not Decimal(0) < points_per_hour <= Decimal(100):
        errors.add(
            "points_per_hour", gettext("Points per hour must be more than 0 and at most 100.")
        )
    if length_minutes is not None and not 1 <= length_minutes <= LONGEST_EVENT_MINUTES:
        errors.add(
            "length_minutes",
            gettext(
                "Enter the event's length as a whole number of minutes from 1 to %(most)d.",
                most=LONGEST_EVENT_MINUTES,
            ),
        )
    try:
        unit = MinimumUnit(minimum_unit or MinimumUnit.MINUTES)
    except ValueError:
        unit = MinimumUnit.MINUTES
        errors.add("minimum_unit", gettext("Choose minutes or per cent."))
    minimum_minutes, minimum_percent = 0, None
    if minimum is None:
        errors.add("minimum", gettext("Enter the least attendance that earns points."))
    elif unit is MinimumUnit.PERCENT:
        if not 1 <= minimum <= 100:
            errors.add("minimum", gettext("Enter a share from 1 to 100 per cent."))
        elif length_minutes is None:
            errors.add(
                "length_minutes",
                gettext("Enter the event's length: the minimum is a share of it."),
            )
        elif 1 <= length_minutes <= LONGEST_EVENT_MINUTES:
            minimum_percent = minimum
            minimum_minutes = math.ceil(length_minutes * minimum / 100)
    elif not 1 <= minimum <= LONGEST_EVENT_MINUTES:
        errors.add(
            "minimum",
            gettext(
                "Enter a whole number of minutes from 1 to %(most)d.", most=LONGEST_EVENT_MINUTES
            ),
        )
    elif length_minutes is not None and minimum > length_minutes:
        errors.add("minimum", gettext("The minimum cannot be longer than the event."))
    else:
        minimum_minutes = minimum
    for name, text in (("title", title), ("reference", reference), ("domain", domain or "")):
        if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in text):
            # A NUL byte cannot even be sent to PostgreSQL.
            errors.add(name, gettext("Remove control characters from this field."))
    errors.raise_if_any()
    assert held_on is not None and points_per_hour is not None  # noqa: S101 - checked above
    return AttendanceEvent(
        title=title,
        organiser=chosen_organiser,
        held_on=held_on,
        reference=reference or default_reference(title, held_on),
        points_per_hour=points_per_hour,
        minimum_minutes=minimum_minutes,
        domain=domain,
        length_minutes=length_minutes,
        minimum_percent=minimum_percent,
    )


def default_reference(title: str, held_on: dt.date) -> str:
    """The reference of an event the office gave none: its date and title, in any case and
    spacing (``2026-11-05 ai in radiography``)."""
    return f"{held_on.isoformat()} {' '.join(title.casefold().split())}"[:200]


def parse_minutes(text: str) -> int:
    """The seconds that ``text`` says someone attended: minutes as a number (``65``,
    ``64,5``), a duration (``1h 5m``, ``65 min``, ``42m 10s``) or a clock (``1:05:00``)."""
    text = text.strip()
    if not text:
        raise CellError(gettext("This field is required."))
    try:
        seconds = _seconds_in(text)
    except (CellError, InvalidOperation):
        raise CellError(
            gettext(
                "Enter the time attended in minutes, such as 65, or as a duration, such as"
                " 1h 5m or 65 min."
            )
        ) from None
    if seconds > LONGEST_EVENT_MINUTES * 60:
        # A runaway cell (a phone number pasted in, say) is named, not credited or crashed on.
        raise CellError(
            gettext(
                "At most %(most)s minutes: no event of the bodies lasts longer.",
                most=LONGEST_EVENT_MINUTES,
            )
        )
    return seconds


def _seconds_in(text: str) -> int:
    if clock := _CLOCK.match(text):
        hours, minutes, seconds = (int(part or 0) for part in clock.groups())
        return hours * 3600 + minutes * 60 + seconds
    if text[0].isdigit() and not _DURATION_PART.search(text):
        return int(parse_decimal(text) * 60)  # a plain number: minutes
    total, end = Decimal(0), 0
    for part in _DURATION_PART.finditer(text):
        if text[end : part.start()].strip(" ,"):
            raise CellError(text)  # something between the parts that is not a duration
        amount = Decimal(part.group(1).replace(",", "."))
        total += amount * _SECONDS_PER_UNIT[part.group(2)[0].lower()]
        end = part.end()
    if end == 0 or text[end:].strip():
        raise CellError(text)
    return int(total)


@dataclass(frozen=True)
class Attendee:
    """One person on an attendance list (all their rows), and what importing does for them."""

    email: str
    rows: tuple[int, ...]
    minutes: int
    points: Decimal
    outcome: Outcome
    candidate_id: int | None = None
    name: str = ""

    @property
    def reason(self) -> str:
        """What the attendee earns, or why they are skipped, in a sentence for the preview."""
        if self.outcome is Outcome.CREDIT:
            return gettext("Earns %(points)s CPD points.", points=format_number(self.points))
        if self.outcome is Outcome.ALREADY_CREDITED:
            return gettext("Already credited for this event.")
        if self.outcome is Outcome.BELOW_MINIMUM:
            return gettext("Attended less than the minimum: earns nothing.")
        if self.outcome is Outcome.NOT_A_CANDIDATE:
            return gettext("No candidate with this e-mail.")
        if self.outcome is Outcome.WITHDRAWN:
            return gettext(
                "Credited for this event before, and withdrawn. If it is right after all,"
                " record it on the candidate's page."
            )
        return gettext("No e-mail on this row.")

    def to_json(self) -> dict[str, Any]:
        return {
            "email": self.email,
            "rows": list(self.rows),
            "minutes": self.minutes,
            "points": str(self.points),
            "outcome": self.outcome.value,
            "candidate_id": self.candidate_id,
            "name": self.name,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Attendee:
        return cls(
            email=data["email"],
            rows=tuple(data["rows"]),
            minutes=data["minutes"],
            points=Decimal(data["points"]),
            outcome=Outcome(data["outcome"]),
            candidate_id=data.get("candidate_id"),
            name=data.get("name", ""),
        )


@dataclass
class _Seen:
    rows: list[int]
    seconds: int


def plan_attendance(
    rows: Iterable[CsvRow], event: AttendanceEvent
) -> tuple[list[Attendee], list[Problem]]:
    """Every attendee of ``rows`` with what importing would do for them, and the problems
    (cells that cannot be read). Reads the database, writes nothing."""
    problems: list[Problem] = []
    people: dict[str, _Seen] = {}
    for row in rows:
        email = normalise_email(row.values["email"])
        try:
            seconds = parse_minutes(row.values["minutes"])
        except CellError as error:
            problems.append(Problem(row.number, "minutes", str(error)))
            continue
        # Rows without an e-mail (guests) are not one person: each stays on its own.
        seen = people.setdefault(email or f"#{row.number}", _Seen([], 0))
        seen.rows.append(row.number)
        seen.seconds += seconds
    candidates = _candidates_by_email(people)
    credited, withdrawn = _credited_for(event.reference, (c.id for c in candidates.values()))
    attendees = []
    for key, seen in people.items():
        email = "" if key.startswith("#") else key
        minutes = seen.seconds // 60  # whole minutes attended
        candidate = candidates.get(email)
        points = event.points_for(minutes)
        if not email:
            outcome = Outcome.NO_EMAIL
        elif candidate is None:
            outcome = Outcome.NOT_A_CANDIDATE
        elif candidate.id in credited:
            outcome = Outcome.ALREADY_CREDITED
        elif candidate.id in withdrawn:
            outcome = Outcome.WITHDRAWN
        elif points <= 0:
            outcome = Outcome.BELOW_MINIMUM
        else:
            outcome = Outcome.CREDIT
        if points > MAX_POINTS and outcome is Outcome.CREDIT:
            problems.append(
                Problem(
                    seen.rows[0],
                    "minutes",
                    gettext(
                        "This attendance would earn %(points)s CPD points, more than the"
                        " %(most)s one activity may: check the minutes and the points per hour.",
                        points=format_decimal(points),
                        most=format_decimal(MAX_POINTS),
                    ),
                )
            )
        attendees.append(
            Attendee(
                email=email.replace("\x00", "\ufffd"),  # PostgreSQL keeps no NUL, in JSON too
                rows=tuple(seen.rows),
                minutes=minutes,
                points=points if outcome is Outcome.CREDIT else Decimal(0),
                outcome=outcome,
                candidate_id=candidate.id if candidate else None,
                name=candidate.full_name if candidate else "",
            )
        )
    attendees.sort(key=lambda attendee: attendee.rows[0])
    return attendees, problems


def credited_candidates(attendees: Iterable[Attendee]) -> dict[int, User]:
    """The candidates to credit, loaded for ``record_cpd`` in one query per 500."""
    ids = [a.candidate_id for a in attendees if a.outcome is Outcome.CREDIT and a.candidate_id]
    found: dict[int, User] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        found.update(
            (u.id, u) for u in db.session.scalars(sa.select(User).where(User.id.in_(chunk)))
        )
    return found


@dataclass(frozen=True)
class _Candidate:
    id: int
    full_name: str


def _candidates_by_email(emails: Iterable[str]) -> dict[str, _Candidate]:
    """The candidates among ``emails`` (normalised), matched as the other imports match."""
    wanted = [e for e in emails if e and "\x00" not in e]  # PostgreSQL refuses a NUL
    found: dict[str, _Candidate] = {}
    for start in range(0, len(wanted), 500):
        statement = sa.select(User.email, User.id, User.full_name).where(
            User.role == Role.CANDIDATE, User.email.in_(wanted[start : start + 500])
        )
        found.update((e, _Candidate(i, name)) for e, i, name in db.session.execute(statement))
    return found


def _credited_for(reference: str, candidate_ids: Iterable[int]) -> tuple[set[int], set[int]]:
    """Of ``candidate_ids``, those credited for the event ``reference`` names, and those whose
    credit for it was withdrawn (and not recorded again)."""
    ids = list(candidate_ids)
    credited: set[int] = set()
    withdrawn: set[int] = set()
    for start in range(0, len(ids), 500):
        statement = sa.select(CpdActivity.candidate_id, CpdActivity.withdrawn_at).where(
            CpdActivity.reference == reference,
            CpdActivity.candidate_id.in_(ids[start : start + 500]),
        )
        for candidate_id, withdrawn_at in db.session.execute(statement):
            (withdrawn if withdrawn_at is not None else credited).add(candidate_id)
    return credited, withdrawn - credited
