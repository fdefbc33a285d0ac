"""The rules engine: a candidate's transcript and a programme's rules in, a report out.

Pure functions over plain data. Nothing here touches the database, the request or the
clock: the date the report is made "as of" is an argument, so every answer can be
reproduced and tested.
"""

from __future__ import annotations

import calendar
import datetime as dt
import enum
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from markupsafe import Markup, escape

ZERO = Decimal(0)


class Phrase(str):
    """A sentence the engine says to a person: its English text (the string itself, so that
    code and tests read it as before) and what a translation needs, the catalogue's message
    (one whole sentence, named placeholders) and its values.

    The engine knows no language. A page translates a phrase as it prints it
    (``__html__``, through :data:`translate`, which the app sets); the API and the exports
    ask ``i18n.say``. ``pybabel extract`` finds the messages by the names ``Phrase`` and
    ``plural_phrase``.
    """

    message: str
    plural: str | None
    number: int | None  # what the plural follows
    values: dict[str, Any]

    def __new__(
        cls, message: str, *, plural: str | None = None, count: int | None = None, **values: Any
    ) -> Phrase:
        if plural is not None:
            values.setdefault("num", count)
        template = plural if plural is not None and count != 1 else message
        english = template % {k: _english(v) for k, v in values.items()} if values else template
        phrase = super().__new__(cls, english)
        phrase.message, phrase.plural, phrase.number, phrase.values = message, plural, count, values
        return phrase

    def __html__(self) -> Markup:
        return escape(translate(self) if translate is not None else str(self))


class Name(str):
    """A name from the catalogue that the engine repeats (an award's or an assessment's
    title, a domain): its English text, the string itself. A page prints it in its own
    language where the catalogue has a translation (``__html__``, through
    :data:`translate`), as it does a phrase that names it."""

    __slots__ = ()

    def __html__(self) -> Markup:
        # str(): a name with no translation comes back as itself, which escape() would
        # ask for its HTML again.
        return escape(str(translate(self) if translate is not None else self))


def plural_phrase(singular: str, plural: str, count: int, **values: Any) -> Phrase:
    """A phrase whose wording follows ``count`` (``%(num)d`` in it): 1 attempt, 2 attempts."""
    return Phrase(singular, plural=plural, count=count, **values)


#: How a page says a phrase or a name in its language; set by the app (``i18n.init_app``).
#: Unset, as in the engine's own tests, they are English.
translate: Callable[[str], str] | None = None


def _english(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format_decimal(value)
    if isinstance(value, dt.date):
        return english_date(value)
    return value


@dataclass(frozen=True)
class AssessmentRule:
    code: str
    title: str
    pass_mark: Decimal
    max_attempts: int


@dataclass(frozen=True)
class ProgrammeRules:
    """What a programme (an award) requires."""

    code: str
    title: str
    min_total_credits: Decimal
    domain_minimums: Mapping[str, Decimal] = field(default_factory=dict)
    required_assessments: tuple[AssessmentRule, ...] = ()
    prerequisite: ProgrammeRules | None = None
    credit_window_months: int | None = None


@dataclass(frozen=True)
class CreditEntry:
    course_code: str
    domain: str
    credits: Decimal
    completed_on: dt.date


@dataclass(frozen=True)
class AttemptEntry:
    assessment_code: str
    score: Decimal
    taken_on: dt.date


@dataclass(frozen=True)
class Transcript:
    """A candidate's record. ``held_awards`` are codes of awards already conferred."""

    credits: tuple[CreditEntry, ...] = ()
    attempts: tuple[AttemptEntry, ...] = ()
    held_awards: frozenset[str] = frozenset()


class RequirementKind(enum.StrEnum):
    PREREQUISITE = "prerequisite"
    TOTAL_CREDITS = "total_credits"
    DOMAIN_CREDITS = "domain_credits"
    ASSESSMENT = "assessment"


@dataclass(frozen=True)
class RequirementResult:
    """One requirement: what it asks, what the candidate has, and what is missing in words.

    ``required`` and ``achieved`` are numbers (credits, marks) or, for a prerequisite, the
    programme code. ``achieved`` is None where nothing counts yet (no attempt taken, the
    prerequisite not met). ``fraction`` (0 to 1) is for a credit requirement's bar: the
    share of the credits gained; a pass-or-fail requirement (an assessment, a prerequisite)
    is 0 until it is met, however close the best score came. For an assessment,
    ``assessment`` is its rule (code, title, limit) and ``attempts_used`` and
    ``attempts_allowed`` count the attempts.
    """

    kind: RequirementKind
    description: str
    required: Decimal | str
    achieved: Decimal | str | None
    met: bool
    fraction: float
    missing: str | None = None
    # What the programme office reads instead, where it differs: it is not told to contact
    # itself.
    missing_for_office: str | None = None
    attempts_used: int = 0
    attempts_allowed: int | None = None
    assessment: AssessmentRule | None = None

    @property
    def attempts_left(self) -> int | None:
        """Attempts still open at an assessment; None for any other requirement."""
        if self.attempts_allowed is None:
            return None
        return max(self.attempts_allowed - self.attempts_used, 0)

    def outcome_for(self, *, for_office: bool) -> str | None:
        """:attr:`outcome` as the reader should read it: the programme office is not told
        to contact itself."""
        if for_office and self.blocked and self.kind is RequirementKind.ASSESSMENT:
            return Phrase("No attempts left")
        return self.outcome

    def missing_for(self, *, for_office: bool) -> str | None:
        """:attr:`missing` as the reader should read it (see :meth:`outcome_for`)."""
        if for_office and self.missing_for_office is not None:
            return self.missing_for_office
        return self.missing

    @property
    def failed(self) -> bool:
        """An assessment taken and not passed (yet)."""
        return self.kind is RequirementKind.ASSESSMENT and not self.met and self.attempts_used > 0

    @property
    def blocked(self) -> bool:
        """Not met, and the candidate cannot meet it by themselves: every attempt is used.
        Only the programme office can open a way (another attempt, an exception)."""
        return not self.met and self.attempts_left == 0

    @property
    def outcome(self) -> str | None:
        """An assessment's state in a few words; None for any other requirement."""
        if self.kind is not RequirementKind.ASSESSMENT:
            return None
        if self.met:
            return Phrase("Passed")
        if self.blocked:
            return Phrase("No attempts left: contact the programme office")
        left = self.attempts_left or 0
        if not self.failed:
            return plural_phrase(
                "Not taken yet: %(num)d attempt allowed",
                "Not taken yet: %(num)d attempts allowed",
                left,
            )
        return Phrase(
            "Failed — %(left)s of %(allowed)s attempts left",
            left=left,
            allowed=self.attempts_allowed,
        )


@dataclass(frozen=True)
class ProgressReport:
    programme_code: str
    programme_title: str
    as_of: dt.date
    requirements: tuple[RequirementResult, ...]
    # Credits left out because they were completed before the programme's credit window.
    lapsed_credits: tuple[CreditEntry, ...] = ()

    @property
    def eligible(self) -> bool:
        return all(requirement.met for requirement in self.requirements)

    @property
    def missing(self) -> list[str]:
        return [r.missing for r in self.requirements if r.missing is not None]

    def missing_for(self, *, for_office: bool) -> list[str]:
        """:attr:`missing` as the reader should read it: the office is not told to contact
        itself."""
        sentences = (r.missing_for(for_office=for_office) for r in self.requirements)
        return [sentence for sentence in sentences if sentence is not None]

    @property
    def requirements_met(self) -> int:
        return sum(1 for requirement in self.requirements if requirement.met)

    @property
    def requirements_total(self) -> int:
        return len(self.requirements)

    @property
    def blocked(self) -> tuple[RequirementResult, ...]:
        """The requirements the candidate cannot meet by themselves (every attempt used)."""
        return tuple(r for r in self.requirements if r.blocked)

    @property
    def summary(self) -> str:
        """How far the candidate is, as a count: "4 of 6 requirements met"."""
        return plural_phrase(
            "%(met)s of %(num)d requirement met",
            "%(met)s of %(num)d requirements met",
            self.requirements_total,
            met=self.requirements_met,
        )

    @property
    def fraction(self) -> float:
        """The share of the requirements met (0 to 1), not of credits or marks: 4 of 6 met
        is 0.67, however close the other two are. Credits gained never make a failed
        examination look nearly done."""
        if not self.requirements:
            return 1.0
        return self.requirements_met / self.requirements_total


def evaluate_progress(
    rules: ProgrammeRules, transcript: Transcript, as_of: dt.date
) -> ProgressReport:
    """Evaluate every requirement of ``rules`` against ``transcript`` on the date ``as_of``."""
    counted, lapsed = _credits_in_window(transcript.credits, rules.credit_window_months, as_of)
    requirements: list[RequirementResult] = []

    if rules.prerequisite is not None:
        requirements.append(_prerequisite(rules.prerequisite, transcript, as_of))

    total = sum((entry.credits for entry in counted), ZERO)
    requirements.append(
        _credit_requirement(
            RequirementKind.TOTAL_CREDITS,
            _total_description(rules.min_total_credits, rules.credit_window_months),
            required=rules.min_total_credits,
            achieved=total,
        )
    )
    for domain, minimum in sorted(rules.domain_minimums.items()):
        in_domain = sum((e.credits for e in counted if e.domain == domain), ZERO)
        requirements.append(
            _credit_requirement(
                RequirementKind.DOMAIN_CREDITS,
                Phrase(
                    "At least %(credits)s ECTS credits in %(domain)s",
                    credits=minimum,
                    domain=domain,
                ),
                required=minimum,
                achieved=in_domain,
                domain=domain,
            )
        )
    for assessment in rules.required_assessments:
        scores = [a.score for a in transcript.attempts if a.assessment_code == assessment.code]
        requirements.append(_assessment(assessment, scores))

    return ProgressReport(
        programme_code=rules.code,
        programme_title=rules.title,
        as_of=as_of,
        requirements=tuple(requirements),
        lapsed_credits=lapsed,
    )


@dataclass(frozen=True)
class Standing:
    """Whether a transcript meets a programme's *own* requirements (its prerequisite aside)
    on a day, and the first later day it stops meeting them, as credits leave the
    programme's window (``lapses_on``; None: never, as the transcript stands).

    Time alone can only take eligibility away (credits lapse; nothing is gained by
    waiting), so a standing worked out on any day up to today answers exactly for today
    and every day after, until the transcript or the rules change.
    """

    met: bool
    lapses_on: dt.date | None = None

    def met_on(self, day: dt.date) -> bool:
        return self.met and (self.lapses_on is None or day < self.lapses_on)


def evaluate_standing(rules: ProgrammeRules, transcript: Transcript, as_of: dt.date) -> Standing:
    """The standing of ``transcript`` towards ``rules``' own requirements on ``as_of``:
    what :func:`evaluate_progress` says of them on that day and on every later one.

    The same rules as :func:`evaluate_progress` without the words: it runs for every
    candidate when a programme's rules change (100,000 of them in seconds, not a minute).
    The tests hold the two to the same answers."""
    window = rules.credit_window_months
    counted, _lapsed = _credits_in_window(transcript.credits, window, as_of)
    total = sum((e.credits for e in counted), ZERO)
    by_domain: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for entry in counted:
        by_domain[entry.domain] += entry.credits

    def credits_short() -> bool:
        return total < rules.min_total_credits or any(
            by_domain[domain] < minimum for domain, minimum in rules.domain_minimums.items()
        )

    if credits_short() or not all(
        any(
            a.assessment_code == rule.code and a.score >= rule.pass_mark
            for a in transcript.attempts
        )
        for rule in rules.required_assessments
    ):
        return Standing(met=False)
    if window is None:
        return Standing(met=True)
    # Take the counted credits away oldest first, a day's worth at a time, and find the
    # first removal that leaves the total or a domain short: its day is when it happens.
    for completed_on in sorted({e.completed_on for e in counted}):
        for entry in counted:
            if entry.completed_on == completed_on:
                total -= entry.credits
                by_domain[entry.domain] -= entry.credits
        if credits_short():
            return Standing(met=True, lapses_on=first_day_outside_window(completed_on, window))
    return Standing(met=True)  # nothing in the window was needed (no credit requirement)


def first_day_outside_window(completed_on: dt.date, window_months: int) -> dt.date:
    """The first day on which a credit completed on ``completed_on`` no longer counts for
    a programme whose credits must be completed within the last ``window_months``."""
    # A credit counts on day d while completed_on >= subtract_months(d, window), which
    # never decreases as d advances; the same day ``window`` months on is the last or
    # within a few days of the last (months differ in length), so step from there.
    day = _add_months(completed_on, window_months)
    while subtract_months(day, window_months) <= completed_on:
        day += dt.timedelta(days=1)
    return day


def format_decimal(value: Decimal) -> str:
    """Write a number the way a person would: ``60`` not ``60.0``, ``2.5`` not ``2.50``."""
    text = f"{value.normalize():f}"
    return text


def subtract_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` earlier, clamped to the end of a shorter month."""
    month_index = day.year * 12 + (day.month - 1) - months
    year, month = divmod(month_index, 12)
    last_day = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last_day))


def _add_months(day: dt.date, months: int) -> dt.date:
    return subtract_months(day, -months)


def _credits_in_window(
    credits: tuple[CreditEntry, ...], window_months: int | None, as_of: dt.date
) -> tuple[tuple[CreditEntry, ...], tuple[CreditEntry, ...]]:
    if window_months is None:
        return credits, ()
    earliest = subtract_months(as_of, window_months)
    counted = tuple(e for e in credits if e.completed_on >= earliest)
    lapsed = tuple(e for e in credits if e.completed_on < earliest)
    return counted, lapsed


def _total_description(minimum: Decimal, window_months: int | None) -> Phrase:
    if window_months is None:
        return Phrase("At least %(credits)s ECTS credits in total", credits=minimum)
    return plural_phrase(
        "At least %(credits)s ECTS credits in total, completed within the last %(num)d month",
        "At least %(credits)s ECTS credits in total, completed within the last %(num)d months",
        window_months,
        credits=minimum,
    )


def _credit_requirement(
    kind: RequirementKind,
    description: Phrase,
    *,
    required: Decimal,
    achieved: Decimal,
    domain: str | None = None,
) -> RequirementResult:
    met = achieved >= required
    shortfall = required - achieved
    missing = None
    if not met:
        missing = (
            Phrase("%(credits)s more ECTS credits in total", credits=shortfall)
            if domain is None
            else Phrase(
                "%(credits)s more ECTS credits in %(domain)s", credits=shortfall, domain=domain
            )
        )
    return RequirementResult(
        kind=kind,
        description=description,
        required=required,
        achieved=achieved,
        met=met,
        fraction=_fraction(achieved, required),
        missing=missing,
    )


def _assessment(rule: AssessmentRule, scores: list[Decimal]) -> RequirementResult:
    best = max(scores) if scores else None
    met = best is not None and best >= rule.pass_mark
    missing = missing_for_office = None
    if not met:
        missing, missing_for_office = _assessment_missing(rule, best, len(scores))
    return RequirementResult(
        kind=RequirementKind.ASSESSMENT,
        description=Phrase(
            "Pass the %(assessment)s (pass mark %(pass_mark)s)",
            assessment=rule.title,
            pass_mark=rule.pass_mark,
        ),
        required=rule.pass_mark,
        achieved=best,
        met=met,
        # Passed or not: a score just under the pass mark is not nearly done.
        fraction=1.0 if met else 0.0,
        missing=missing,
        missing_for_office=missing_for_office,
        attempts_used=len(scores),
        attempts_allowed=rule.max_attempts,
        assessment=rule,
    )


def _assessment_missing(
    rule: AssessmentRule, best: Decimal | None, taken: int
) -> tuple[Phrase, Phrase]:
    """What is missing at an assessment not passed, for the candidate and for the office
    (which is not told to contact itself): each case one whole sentence."""
    left = max(rule.max_attempts - taken, 0)
    values: dict[str, Any] = {
        "assessment": rule.title,
        "pass_mark": rule.pass_mark,
        "allowed": rule.max_attempts,
    }
    if best is None and left:
        said = Phrase("pass the %(assessment)s (not yet taken, pass mark %(pass_mark)s)", **values)
        return said, said
    if best is None:
        return (
            Phrase(
                "pass the %(assessment)s (not yet taken, pass mark %(pass_mark)s; all"
                " %(allowed)s attempts used, contact the programme office)",
                **values,
            ),
            Phrase(
                "pass the %(assessment)s (not yet taken, pass mark %(pass_mark)s; all"
                " %(allowed)s attempts used)",
                **values,
            ),
        )
    if left:
        said = Phrase(
            "pass the %(assessment)s (failed: best score %(best)s, pass mark %(pass_mark)s;"
            " %(left)s of %(allowed)s attempts left)",
            best=best,
            left=left,
            **values,
        )
        return said, said
    return (
        Phrase(
            "pass the %(assessment)s (failed: best score %(best)s, pass mark %(pass_mark)s;"
            " all %(allowed)s attempts used, contact the programme office)",
            best=best,
            **values,
        ),
        Phrase(
            "pass the %(assessment)s (failed: best score %(best)s, pass mark %(pass_mark)s;"
            " all %(allowed)s attempts used)",
            best=best,
            **values,
        ),
    )


def _prerequisite(
    prerequisite: ProgrammeRules, transcript: Transcript, as_of: dt.date
) -> RequirementResult:
    met = prerequisite.code in transcript.held_awards or (
        evaluate_progress(prerequisite, transcript, as_of).eligible
    )
    return RequirementResult(
        kind=RequirementKind.PREREQUISITE,
        description=Phrase(
            "Hold, or meet every requirement of, the %(award)s", award=prerequisite.title
        ),
        required=prerequisite.code,
        achieved=prerequisite.code if met else None,
        met=met,
        fraction=1.0 if met else 0.0,
        missing=None
        if met
        else Phrase("meet every requirement of the %(award)s first", award=prerequisite.title),
    )


def _fraction(achieved: Decimal, required: Decimal) -> float:
    if required <= ZERO:
        return 1.0
    return float(min(achieved / required, Decimal(1)))


# --- Renewal through continuing professional development (CPD) -------------------------

#: A renewal not yet met is "due soon" from this many days before the certificate expires
#: (the first of the reminders goes out then too).
RENEWAL_DUE_SOON_DAYS = 180

_ENGLISH_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def english_date(day: dt.date) -> str:
    """A day in English words, "14 March 2031", as the engine's phrases say it until a page
    or an e-mail writes it in its reader's language (``i18n.say``). Not ``strftime``: its
    month names follow the process's locale."""
    return f"{day.day} {_ENGLISH_MONTHS[day.month - 1]} {day.year}"


@dataclass(frozen=True)
class RenewalRule:
    """What renewing a programme's certificate asks: at least ``min_points`` CPD points
    earned within the certificate's validity (its issue day to its expiry day, both
    counted), of which at least so many in some domains, and, if ``assessment`` is set,
    that assessment passed within the validity too."""

    min_points: Decimal
    domain_minimums: Mapping[str, Decimal] = field(default_factory=dict)
    assessment: AssessmentRule | None = None


@dataclass(frozen=True)
class CpdEntry:
    """One CPD activity of a holder's. A withdrawn one (recorded by mistake) never counts."""

    title: str
    points: Decimal
    activity_on: dt.date
    domain: str | None = None
    withdrawn: bool = False


class RenewalState(enum.StrEnum):
    ON_TRACK = "on_track"  # not met yet, expiry more than RENEWAL_DUE_SOON_DAYS away
    DUE_SOON = "due_soon"  # not met yet, expiry within RENEWAL_DUE_SOON_DAYS
    MET = "met"  # the points are there: the certificate can be renewed
    GRACE = "grace"  # expired with the points met, still renewable in the grace period
    OVERDUE = "overdue"  # expired, points not met yet, in the grace period: still time
    LAPSED = "lapsed"  # expired, and no longer renewable through CPD


@dataclass(frozen=True)
class DomainPoints:
    """A renewal's minimum in one domain: what it asks and what counts towards it."""

    domain: Name
    required: Decimal
    earned: Decimal

    @property
    def met(self) -> bool:
        return self.earned >= self.required

    @property
    def shortfall(self) -> Decimal:
        return max(self.required - self.earned, ZERO)

    @property
    def fraction(self) -> float:
        return _fraction(self.earned, self.required)

    @property
    def description(self) -> Phrase:
        return Phrase(
            "At least %(points)s CPD points in %(domain)s", points=self.required, domain=self.domain
        )


@dataclass(frozen=True)
class RenewalReport:
    """How a held certificate stands towards its renewal on ``as_of``.

    ``counted`` are the activities inside the validity window, oldest first. ``missing`` is
    what is still to do, in whole sentences ("You need 12 more CPD points by 14 March 2031;
    3 of them in Informatics Governance."); empty when nothing is left to do, or nothing can
    be done any more (``state`` LAPSED, which :attr:`status` explains)."""

    as_of: dt.date
    state: RenewalState
    points_required: Decimal
    points_earned: Decimal
    domains: tuple[DomainPoints, ...]
    issued_on: dt.date
    due_on: dt.date
    renewable_until: dt.date
    counted: tuple[CpdEntry, ...]
    missing: tuple[Phrase, ...]
    # The renewal assessment, if the rule asks for one, and whether it was passed in the
    # validity window (None: the rule asks for none).
    assessment: AssessmentRule | None = None
    assessment_passed: bool | None = None

    @property
    def met(self) -> bool:
        return _renewal_met(
            self.points_earned, self.points_required, self.domains, self.assessment_passed
        )

    @property
    def opens_on(self) -> dt.date:
        """The first day the certificate may be renewed: a renewal continues the award from
        the end of this period, so it is asked for near that end, not years ahead."""
        return self.due_on - dt.timedelta(days=RENEWAL_DUE_SOON_DAYS)

    @property
    def renewable_now(self) -> bool:
        """Whether the holder may ask for the renewal on ``as_of``."""
        return self.state is RenewalState.GRACE or (
            self.state is RenewalState.MET and self.as_of >= self.opens_on
        )

    @property
    def assessment_description(self) -> Phrase | None:
        """The renewal assessment as a requirement, in words; None if there is none."""
        if self.assessment is None:
            return None
        return Phrase(
            "Pass the %(assessment)s (pass mark %(pass_mark)s) from %(issued)s to %(expires)s",
            assessment=self.assessment.title,
            pass_mark=self.assessment.pass_mark,
            issued=self.issued_on,
            expires=self.due_on,
        )

    @property
    def fraction(self) -> float:
        """The share of the points asked for that are earned (0 to 1), for the bar. A domain
        minimum not met keeps it just short of full, so a full bar always means met."""
        share = _fraction(self.points_earned, self.points_required)
        if share >= 1.0 and not self.met:
            return 0.99
        return share

    @property
    def summary(self) -> Phrase:
        """ "8 of 20 CPD points earned" """
        return Phrase(
            "%(earned)s of %(required)s CPD points earned",
            earned=self.points_earned,
            required=self.points_required,
        )

    @property
    def status(self) -> Phrase:
        """The renewal's state in one sentence, with its day."""
        if self.state is RenewalState.MET and self.as_of < self.opens_on:
            return Phrase(
                "Renewal requirements met: the certificate can be renewed from %(opens)s"
                " until %(day)s.",
                opens=self.opens_on,
                day=self.due_on,
            )
        if self.state is RenewalState.MET:
            return Phrase(
                "Renewal requirements met: the certificate can be renewed before %(day)s.",
                day=self.due_on,
            )
        if self.state is RenewalState.GRACE:
            return Phrase(
                "Expired on %(expired)s; it can still be renewed until %(until)s.",
                expired=self.due_on,
                until=self.renewable_until,
            )
        if self.state is RenewalState.OVERDUE:
            return Phrase(
                "Expired on %(expired)s; it can still be renewed until %(until)s with the CPD"
                " points still needed.",
                expired=self.due_on,
                until=self.renewable_until,
            )
        if self.state is RenewalState.LAPSED:
            return Phrase(
                "Expired on %(expired)s; it can no longer be renewed through CPD.",
                expired=self.due_on,
            )
        if self.state is RenewalState.DUE_SOON:
            return Phrase("Renewal due soon: by %(day)s.", day=self.due_on)
        return Phrase("On track: renewal due by %(day)s.", day=self.due_on)


def evaluate_renewal(
    rule: RenewalRule,
    activities: tuple[CpdEntry, ...] | list[CpdEntry],
    *,
    issued_on: dt.date,
    expires_on: dt.date,
    today: dt.date,
    grace_months: int | None = None,
    attempts: tuple[AttemptEntry, ...] | list[AttemptEntry] = (),
) -> RenewalReport:
    """Evaluate ``rule`` for a certificate valid from ``issued_on`` to ``expires_on`` (both
    days inside its window) against the holder's CPD ``activities`` (and assessment
    ``attempts``, for a rule with a renewal assessment), on ``today``.

    Points count when earned inside the window: from the issue day to the expiry day, both
    counted, and on through the grace period (``grace_months`` after expiry), in which a
    holder who lapsed may still catch up and renew; without a grace period, an activity the
    day after expiry does not count. So for a pass of the renewal assessment."""
    renewable_until = _add_months(expires_on, grace_months or 0)
    counted = tuple(
        sorted(
            (
                entry
                for entry in activities
                if not entry.withdrawn and issued_on <= entry.activity_on <= renewable_until
            ),
            key=lambda entry: (entry.activity_on, entry.title),
        )
    )
    earned = sum((entry.points for entry in counted), ZERO)
    domains = tuple(
        DomainPoints(
            domain=Name(domain),
            required=minimum,
            # Domains are typed by people (an import, a claim): "informatics governance"
            # counts for "Informatics Governance".
            earned=sum(
                (e.points for e in counted if (e.domain or "").casefold() == domain.casefold()),
                ZERO,
            ),
        )
        for domain, minimum in sorted(rule.domain_minimums.items())
    )
    passed: bool | None = None
    if rule.assessment is not None:
        passed = any(
            a.assessment_code == rule.assessment.code
            and a.score >= rule.assessment.pass_mark
            and issued_on <= a.taken_on <= renewable_until
            for a in attempts
        )
    met = _renewal_met(earned, rule.min_points, domains, passed)

    if today > renewable_until:
        state = RenewalState.LAPSED
    elif today > expires_on:
        state = RenewalState.GRACE if met else RenewalState.OVERDUE
    elif met:
        state = RenewalState.MET
    elif (expires_on - today).days <= RENEWAL_DUE_SOON_DAYS:
        state = RenewalState.DUE_SOON
    else:
        state = RenewalState.ON_TRACK

    missing: tuple[Phrase, ...] = ()
    if state in (RenewalState.ON_TRACK, RenewalState.DUE_SOON, RenewalState.OVERDUE):
        by = renewable_until if state is RenewalState.OVERDUE else expires_on
        missing = _renewal_missing(rule.min_points - earned, domains, by)
        if rule.assessment is not None and not passed:
            missing += (
                Phrase(
                    "Pass the %(assessment)s (pass mark %(pass_mark)s) by %(day)s.",
                    assessment=rule.assessment.title,
                    pass_mark=rule.assessment.pass_mark,
                    day=by,
                ),
            )
    return RenewalReport(
        as_of=today,
        state=state,
        points_required=rule.min_points,
        points_earned=earned,
        domains=domains,
        issued_on=issued_on,
        due_on=expires_on,
        renewable_until=renewable_until,
        counted=counted,
        missing=missing,
        assessment=rule.assessment,
        assessment_passed=passed,
    )


def _renewal_met(
    earned: Decimal, required: Decimal, domains: tuple[DomainPoints, ...], passed: bool | None
) -> bool:
    """The renewal rule is met: the points, each domain's minimum, and the renewal
    assessment if the rule asks for one."""
    return earned >= required and all(d.met for d in domains) and passed is not False


def _renewal_missing(
    total_short: Decimal, domains: tuple[DomainPoints, ...], due_on: dt.date
) -> tuple[Phrase, ...]:
    """What is still to earn, each case one whole sentence: the points in total, and those
    of them that must be in a domain. Points earned in a domain count towards the total
    too, so the points still needed are the larger of the two shortfalls."""
    short = [d for d in domains if not d.met]
    needed = max(total_short, sum((d.shortfall for d in short), ZERO), ZERO)
    if needed <= ZERO:
        return ()
    if not short:
        return (
            Phrase("You need %(points)s more CPD points by %(day)s.", points=needed, day=due_on),
        )
    if len(short) == 1:
        (domain,) = short
        if domain.shortfall >= needed:
            return (
                Phrase(
                    "You need %(points)s more CPD points in %(domain)s by %(day)s.",
                    points=needed,
                    domain=domain.domain,
                    day=due_on,
                ),
            )
        return (
            Phrase(
                "You need %(points)s more CPD points by %(day)s; %(in_domain)s of them in"
                " %(domain)s.",
                points=needed,
                day=due_on,
                in_domain=domain.shortfall,
                domain=domain.domain,
            ),
        )
    return (
        Phrase("You need %(points)s more CPD points by %(day)s.", points=needed, day=due_on),
        *(
            Phrase(
                "At least %(points)s of them must be in %(domain)s.",
                points=d.shortfall,
                domain=d.domain,
            )
            for d in short
        ),
    )
