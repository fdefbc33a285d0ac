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
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

ZERO = Decimal(0)
# What a candidate is told to do when an examination has no attempts left. The office's own
# pages leave it out (``for_office``): they are the programme office.
CONTACT_THE_OFFICE = "contact the programme office"


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
            return "No attempts left"
        return self.outcome

    def missing_for(self, *, for_office: bool) -> str | None:
        """:attr:`missing` as the reader should read it (see :meth:`outcome_for`)."""
        if for_office and self.missing is not None:
            return self.missing.replace(f", {CONTACT_THE_OFFICE}", "")
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
            return "Passed"
        if self.blocked:
            return f"No attempts left: {CONTACT_THE_OFFICE}"
        left = self.attempts_left
        attempts = f"{left} attempt{'' if left == 1 else 's'}"
        if not self.failed:
            return f"Not taken yet: {attempts} allowed"
        return f"Failed — {left} of {self.attempts_allowed} attempts left"


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
        total = self.requirements_total
        return f"{self.requirements_met} of {total} requirement{'' if total == 1 else 's'} met"

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
    window_note = _window_note(rules.credit_window_months)
    requirements: list[RequirementResult] = []

    if rules.prerequisite is not None:
        requirements.append(_prerequisite(rules.prerequisite, transcript, as_of))

    total = sum((entry.credits for entry in counted), ZERO)
    requirements.append(
        _credit_requirement(
            RequirementKind.TOTAL_CREDITS,
            f"At least {format_decimal(rules.min_total_credits)} ECTS credits in total"
            + window_note,
            required=rules.min_total_credits,
            achieved=total,
            shortfall_words="in total",
        )
    )
    for domain, minimum in sorted(rules.domain_minimums.items()):
        in_domain = sum((e.credits for e in counted if e.domain == domain), ZERO)
        requirements.append(
            _credit_requirement(
                RequirementKind.DOMAIN_CREDITS,
                f"At least {format_decimal(minimum)} ECTS credits in {domain}",
                required=minimum,
                achieved=in_domain,
                shortfall_words=f"in {domain}",
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


def _window_note(window_months: int | None) -> str:
    if window_months is None:
        return ""
    return f", completed within the last {window_months} months"


def _credit_requirement(
    kind: RequirementKind,
    description: str,
    *,
    required: Decimal,
    achieved: Decimal,
    shortfall_words: str,
) -> RequirementResult:
    met = achieved >= required
    shortfall = required - achieved
    return RequirementResult(
        kind=kind,
        description=description,
        required=required,
        achieved=achieved,
        met=met,
        fraction=_fraction(achieved, required),
        missing=None if met else f"{format_decimal(shortfall)} more ECTS credits {shortfall_words}",
    )


def _assessment(rule: AssessmentRule, scores: list[Decimal]) -> RequirementResult:
    best = max(scores) if scores else None
    met = best is not None and best >= rule.pass_mark
    pass_mark = format_decimal(rule.pass_mark)
    missing = None
    if not met:
        left = max(rule.max_attempts - len(scores), 0)
        if best is None:
            situation = f"not yet taken, pass mark {pass_mark}"
        else:
            situation = f"failed: best score {format_decimal(best)}, pass mark {pass_mark}"
        if left == 0:
            situation += f"; all {rule.max_attempts} attempts used, {CONTACT_THE_OFFICE}"
        elif best is not None:
            situation += f"; {left} of {rule.max_attempts} attempts left"
        missing = f"pass the {rule.title} ({situation})"
    return RequirementResult(
        kind=RequirementKind.ASSESSMENT,
        description=f"Pass the {rule.title} (pass mark {pass_mark})",
        required=rule.pass_mark,
        achieved=best,
        met=met,
        # Passed or not: a score just under the pass mark is not nearly done.
        fraction=1.0 if met else 0.0,
        missing=missing,
        attempts_used=len(scores),
        attempts_allowed=rule.max_attempts,
        assessment=rule,
    )


def _prerequisite(
    prerequisite: ProgrammeRules, transcript: Transcript, as_of: dt.date
) -> RequirementResult:
    met = prerequisite.code in transcript.held_awards or (
        evaluate_progress(prerequisite, transcript, as_of).eligible
    )
    return RequirementResult(
        kind=RequirementKind.PREREQUISITE,
        description=f"Hold, or meet every requirement of, the {prerequisite.title}",
        required=prerequisite.code,
        achieved=prerequisite.code if met else None,
        met=met,
        fraction=1.0 if met else 0.0,
        missing=None if met else f"meet every requirement of the {prerequisite.title} first",
    )


def _fraction(achieved: Decimal, required: Decimal) -> float:
    if required <= ZERO:
        return 1.0
    return float(min(achieved / required, Decimal(1)))
