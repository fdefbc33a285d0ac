"""The dashboard's figures, each computed by the database in one aggregate query.

No figure loops over candidates in Python: the number of statements depends on nothing but
the (small) catalogue. Still, aggregating a register of 100,000 candidates and a million
credits takes the database seconds, too long for a page view: the figures are kept as a
snapshot (:class:`ReportSnapshot`) that a queue worker computes every few minutes, and a
page shows the latest one, with its time, computing it only when it is older than
``REPORTS_MAX_AGE_SECONDS`` (or an administrator asks for fresh figures).
"""

from __future__ import annotations

import datetime as dt
import enum
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import gettext

from certification.auth.models import Role, User
from certification.catalogue.models import Assessment, Programme
from certification.certificates.eligibility import eligible_ids, holders
from certification.certificates.exports import status_expression
from certification.certificates.models import Certificate, CertificateStatus
from certification.extensions import db
from certification.records.eligibility import Column
from certification.records.models import AssessmentAttempt, ProgrammeStanding
from certification.reports.models import ReportSnapshot
from certification.types import utcnow

MONTHS_SHOWN = 12
EXPIRING_DAYS = 90
SCORE_BINS = 10
# Raised whenever the snapshot's figures change shape: a snapshot of another version is
# computed again rather than read.
FIGURES_VERSION = 3


# ---------------------------------------------------------------- the catalogue, loaded once


def programmes_with_rules() -> list[Programme]:
    """Every programme with what its eligibility needs, in a fixed number of queries."""
    return list(
        db.session.scalars(
            sa.select(Programme)
            # A prerequisite is one of these programmes: found in the session, no query.
            .options(
                so.selectinload(Programme.domain_minimums),
                so.selectinload(Programme.required_assessments),
            )
            .order_by(Programme.level, Programme.code)
        )
    )


# ---------------------------------------------------------------- certificates per month


@dataclass(frozen=True)
class AwardSeries:
    code: str
    title: str
    counts: tuple[int, ...]  # one per month of IssuedPerMonth.months

    @property
    def total(self) -> int:
        return sum(self.counts)


@dataclass(frozen=True)
class IssuedPerMonth:
    months: tuple[dt.date, ...]  # the first day of each month, oldest first
    series: tuple[AwardSeries, ...]

    def month_total(self, index: int) -> int:
        return sum(s.counts[index] for s in self.series)

    @property
    def total(self) -> int:
        return sum(s.total for s in self.series)


def month_starts(today: dt.date, count: int = MONTHS_SHOWN) -> tuple[dt.date, ...]:
    """The first days of the ``count`` months up to and including ``today``'s."""
    index = today.year * 12 + today.month - 1
    return tuple(dt.date(i // 12, i % 12 + 1, 1) for i in range(index - count + 1, index + 1))


def issued_per_month(today: dt.date, programmes: list[Programme] | None = None) -> IssuedPerMonth:
    """Certificates issued per month and award over the last twelve months, by their date
    of issue.

    Each award conferred counts once: a reissue (a corrected replacement) carries the
    original's date of issue and is not counted again. A certificate revoked or superseded
    later still counts in the month it was issued.
    """
    programmes = programmes if programmes is not None else programmes_with_rules()
    months = month_starts(today)
    replacement = so.aliased(Certificate)
    year = sa.extract("year", Certificate.issued_on)
    month = sa.extract("month", Certificate.issued_on)
    rows = db.session.execute(
        sa.select(Certificate.programme_id, year, month, sa.func.count())
        .where(
            Certificate.issued_on >= months[0],
            Certificate.issued_on <= today,
            ~sa.exists().where(replacement.superseded_by_id == Certificate.id),
        )
        .group_by(Certificate.programme_id, year, month)
    )
    counts = {(pid, int(y), int(m)): n for pid, y, m, n in rows}
    return IssuedPerMonth(
        months=months,
        series=tuple(
            AwardSeries(
                p.code,
                p.title,
                tuple(counts.get((p.id, m.year, m.month), 0) for m in months),
            )
            for p in programmes
        ),
    )


# ---------------------------------------------------------------- certificates by status


@dataclass(frozen=True)
class StatusCounts:
    """Certificates on record by their status on the day, with the candidates who hold a
    valid one; for one award, or (``code`` empty) for every award together.

    The statuses are those of the certificates' CSV export: revoked, else superseded (by a
    reissue), else expired, else suspended (one partner body asked for its revocation and
    the other has not decided yet), else valid. ``holders`` counts candidates, not certificates:
    someone holding two awards is one holder of all awards together.
    """

    code: str
    title: str
    valid: int
    suspended: int
    expired: int
    revoked: int
    superseded: int
    holders: int

    @property
    def total(self) -> int:
        return self.valid + self.suspended + self.expired + self.revoked + self.superseded

    def of(self, status: CertificateStatus) -> int:
        return int(getattr(self, status.value))


@dataclass(frozen=True)
class CertificateCounts:
    overall: StatusCounts
    by_award: tuple[StatusCounts, ...]


def certificates_by_status(
    today: dt.date, programmes: list[Programme] | None = None
) -> CertificateCounts:
    """Every certificate on record counted once, by its status on ``today``, per award and
    for all awards; the holders are distinct candidates. One statement."""
    programmes = programmes if programmes is not None else programmes_with_rules()
    status = status_expression(today)

    def tally(which: CertificateStatus) -> sa.ColumnElement[int]:
        return sa.func.coalesce(sa.func.sum(sa.case((status == which.value, 1), else_=0)), 0)

    figures = (
        tally(CertificateStatus.VALID),
        tally(CertificateStatus.SUSPENDED),
        tally(CertificateStatus.EXPIRED),
        tally(CertificateStatus.REVOKED),
        tally(CertificateStatus.SUPERSEDED),
        sa.func.count(
            sa.distinct(
                sa.case((status == CertificateStatus.VALID.value, Certificate.candidate_id))
            )
        ),
    )
    per_award = sa.select(Certificate.programme_id, *figures).group_by(Certificate.programme_id)
    every_award = sa.select(sa.cast(sa.null(), sa.Integer), *figures)
    rows: dict[int | None, tuple[int, ...]] = {
        row[0]: tuple(int(n or 0) for n in row[1:])
        for row in db.session.execute(sa.union_all(per_award, every_award))
    }
    empty = (0, 0, 0, 0, 0, 0)
    return CertificateCounts(
        overall=StatusCounts("", "Every award", *rows.get(None, empty)),
        by_award=tuple(StatusCounts(p.code, p.title, *rows.get(p.id, empty)) for p in programmes),
    )


# ---------------------------------------------------------------- candidates by stage


class Stage(enum.StrEnum):
    REGISTERED = "registered"  # nothing recorded yet
    IN_PROGRESS = "in_progress"  # something recorded, requirements not all met
    ELIGIBLE = "eligible"  # every requirement met, no valid certificate yet
    CERTIFIED = "certified"  # holds a valid certificate of the award

    @property
    def label(self) -> str:
        """The stage as people read it: ``Registered``, ``In progress``..."""
        labels = {
            Stage.REGISTERED: gettext("Registered"),
            Stage.IN_PROGRESS: gettext("In progress"),
            Stage.ELIGIBLE: gettext("Eligible"),
            Stage.CERTIFIED: gettext("Certified"),
        }
        return labels.get(self, self.value.replace("_", " ").capitalize())


@dataclass(frozen=True)
class StageCounts:
    code: str
    title: str
    counts: dict[Stage, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def candidates_by_stage(
    today: dt.date, programmes: list[Programme] | None = None
) -> list[StageCounts]:
    """For every award, how many candidates are at each stage. The stages are exclusive,
    taken in the order certified, eligible, in progress, registered, so that the four add
    up to the number of candidates. One statement for all awards."""
    programmes = programmes if programmes is not None else programmes_with_rules()
    if not programmes:
        return []
    parts = []
    for programme in programmes:
        # Everyone with a credit or a result has a standing towards every programme.
        has_record = User.id.in_(
            sa.select(ProgrammeStanding.candidate_id).where(
                ProgrammeStanding.programme_id == programme.id
            )
        )
        stage = sa.case(
            (User.id.in_(holders(today)(programme)), sa.literal(Stage.CERTIFIED.value)),
            (User.id.in_(eligible_ids(programme, today)), sa.literal(Stage.ELIGIBLE.value)),
            (has_record, sa.literal(Stage.IN_PROGRESS.value)),
            else_=sa.literal(Stage.REGISTERED.value),
        )
        staged = sa.select(stage.label("stage")).where(User.role == Role.CANDIDATE).subquery()
        parts.append(
            sa.select(
                sa.literal(programme.id).label("programme_id"),
                staged.c.stage,
                sa.func.count().label("n"),
            ).group_by(staged.c.stage)
        )
    counts: dict[int, dict[Stage, int]] = {p.id: dict.fromkeys(Stage, 0) for p in programmes}
    for programme_id, stage_value, n in db.session.execute(sa.union_all(*parts)):
        counts[programme_id][Stage(stage_value)] = n
    return [StageCounts(p.code, p.title, counts[p.id]) for p in programmes]


# ---------------------------------------------------------------- assessments


@dataclass(frozen=True)
class AssessmentFigures:
    code: str
    title: str
    pass_mark: Decimal
    max_score: Decimal
    attempts: int
    sat: int  # candidates who sat it at least once
    passed: int  # candidates whose best score reached the pass mark
    bins: tuple[int, ...]  # attempts per tenth of the maximum score; the last includes it

    @property
    def pass_rate(self) -> float | None:
        """Candidates who passed out of those who sat, 0 to 1; None if nobody sat."""
        return self.passed / self.sat if self.sat else None

    def bin_edges(self) -> list[str]:
        """Where the bins begin and end: 0, a tenth of the maximum score, …, the maximum."""
        step = self.max_score / SCORE_BINS
        return [_short(step * i) for i in range(SCORE_BINS + 1)]

    def bin_labels(self) -> list[str]:
        edges = self.bin_edges()
        return [f"{edges[i]}–{edges[i + 1]}" for i in range(SCORE_BINS)]


def _short(value: Decimal) -> str:
    text = f"{value.quantize(Decimal('0.01')).normalize():f}"
    return text


def _hundredths(column: Column[Decimal]) -> sa.ColumnElement[int]:
    return sa.cast(sa.func.round(column * sa.literal_column("100")), sa.Integer)


def assessment_figures() -> list[AssessmentFigures]:
    """Per assessment: attempts, candidates who sat and who passed (best score at least the
    pass mark), and the distribution of every attempt's score in ten equal bins of the
    maximum score. Two statements for all assessments."""
    passed_candidate = sa.case(
        (AssessmentAttempt.score >= Assessment.pass_mark, AssessmentAttempt.candidate_id)
    )
    summary = db.session.execute(
        sa.select(
            Assessment.id,
            Assessment.code,
            Assessment.title,
            Assessment.pass_mark,
            Assessment.max_score,
            sa.func.count(AssessmentAttempt.id),
            sa.func.count(sa.distinct(AssessmentAttempt.candidate_id)),
            sa.func.count(sa.distinct(passed_candidate)),
        )
        .outerjoin(
            AssessmentAttempt,
            sa.and_(
                AssessmentAttempt.assessment_id == Assessment.id,
                AssessmentAttempt.withdrawn_at.is_(None),  # recorded by mistake: not counted
            ),
        )
        .group_by(
            Assessment.id,
            Assessment.code,
            Assessment.title,
            Assessment.pass_mark,
            Assessment.max_score,
        )
        .order_by(Assessment.code)
    ).all()

    # Whole hundredths divided as integers: the same bin on every database.
    raw_bin = (_hundredths(AssessmentAttempt.score) * sa.literal_column("10")) // _hundredths(
        Assessment.max_score
    )
    binned = (
        sa.select(AssessmentAttempt.assessment_id, raw_bin.label("bin"))
        .join(Assessment, Assessment.id == AssessmentAttempt.assessment_id)
        .where(Assessment.max_score > 0, AssessmentAttempt.withdrawn_at.is_(None))
        .subquery()
    )
    bins: dict[int, list[int]] = {row[0]: [0] * SCORE_BINS for row in summary}
    for assessment_id, bin_number, n in db.session.execute(
        sa.select(binned.c.assessment_id, binned.c.bin, sa.func.count()).group_by(
            binned.c.assessment_id, binned.c.bin
        )
    ):
        # A full score falls in the last bin, not an eleventh.
        bins[assessment_id][min(max(int(bin_number), 0), SCORE_BINS - 1)] += n
    return [
        AssessmentFigures(
            code=code,
            title=title,
            pass_mark=pass_mark,
            max_score=max_score,
            attempts=attempts,
            sat=sat,
            passed=passed,
            bins=tuple(bins[assessment_id]),
        )
        for assessment_id, code, title, pass_mark, max_score, attempts, sat, passed in summary
    ]


# ---------------------------------------------------------------- countries


@dataclass(frozen=True)
class CountryCount:
    code: str | None  # ISO 3166-1 alpha-2; None where not given
    candidates: int


def candidates_by_country() -> list[CountryCount]:
    """Candidates per country, most first (the face turns codes into names)."""
    rows = db.session.execute(
        sa.select(User.country, sa.func.count())
        .where(User.role == Role.CANDIDATE)
        .group_by(User.country)
    )
    counts = [CountryCount(code or None, n) for code, n in rows]
    return sorted(counts, key=lambda c: (-c.candidates, c.code is None, c.code or ""))


# ---------------------------------------------------------------- expiring soon


def _expiring(today: dt.date, days: int) -> sa.ColumnElement[bool]:
    return sa.and_(
        Certificate.is_current,
        Certificate.revoked_at.is_(None),
        Certificate.suspended_at.is_(None),  # not valid while a body asks for its revocation
        Certificate.expires_on >= today,
        Certificate.expires_on <= today + dt.timedelta(days=days),
    )


def expiring_soon(today: dt.date, days: int = EXPIRING_DAYS) -> sa.Select[Certificate]:
    """Valid certificates whose last valid day falls within the next ``days`` days (today
    included), soonest first."""
    return (
        sa.select(Certificate)
        .where(_expiring(today, days))
        .options(so.joinedload(Certificate.candidate), so.joinedload(Certificate.programme))
        .order_by(Certificate.expires_on, Certificate.code)
    )


def count_expiring_soon(today: dt.date, days: int = EXPIRING_DAYS) -> int:
    return (
        db.session.scalar(sa.select(sa.func.count(Certificate.id)).where(_expiring(today, days)))
        or 0
    )


# ---------------------------------------------------------------- everything at once


@dataclass(frozen=True)
class Dashboard:
    today: dt.date
    candidates: int
    certificates: CertificateCounts
    issued: IssuedPerMonth
    stages: list[StageCounts]
    assessments: list[AssessmentFigures]
    countries: list[CountryCount]
    expiring: int
    computed_at: dt.datetime
    seconds: float = 0.0  # how long computing the figures took


def dashboard(today: dt.date) -> Dashboard:
    """Every figure of the dashboard, computed now, in a fixed number of statements."""
    started = time.perf_counter()
    programmes = programmes_with_rules()
    countries = candidates_by_country()
    certificates = certificates_by_status(today, programmes)
    issued = issued_per_month(today, programmes)
    stages = candidates_by_stage(today, programmes)
    assessments = assessment_figures()
    expiring = count_expiring_soon(today)
    return Dashboard(
        today=today,
        candidates=sum(c.candidates for c in countries),
        certificates=certificates,
        issued=issued,
        stages=stages,
        assessments=assessments,
        countries=countries,
        expiring=expiring,
        computed_at=utcnow(),
        seconds=time.perf_counter() - started,
    )


def refresh_dashboard(today: dt.date) -> Dashboard:
    """Compute every figure now and keep them as the latest snapshot (older ones go)."""
    figures = dashboard(today)
    db.session.execute(sa.delete(ReportSnapshot))
    db.session.add(
        ReportSnapshot(
            computed_at=figures.computed_at,
            as_of=figures.today,
            seconds=figures.seconds,
            figures=_as_json(figures),
        )
    )
    db.session.flush()
    return figures


def current_dashboard(today: dt.date, max_age: dt.timedelta) -> Dashboard:
    """The latest snapshot if it is for ``today`` and younger than ``max_age``; else the
    figures computed now (and kept)."""
    latest = db.session.scalar(
        sa.select(ReportSnapshot).order_by(ReportSnapshot.computed_at.desc()).limit(1)
    )
    if (
        latest is not None
        and latest.as_of == today
        and utcnow() - latest.computed_at < max_age
        and latest.figures.get("version") == FIGURES_VERSION
    ):
        return _from_json(latest.figures, latest.computed_at, latest.seconds)
    return refresh_dashboard(today)


def _as_json(figures: Dashboard) -> dict[str, Any]:
    return {
        "version": FIGURES_VERSION,
        "today": figures.today.isoformat(),
        "candidates": figures.candidates,
        "certificates": [
            _status_json(figures.certificates.overall),
            *(_status_json(s) for s in figures.certificates.by_award),
        ],
        "issued": {
            "months": [m.isoformat() for m in figures.issued.months],
            "series": [[s.code, s.title, list(s.counts)] for s in figures.issued.series],
        },
        "stages": [
            [s.code, s.title, {k.value: n for k, n in s.counts.items()}] for s in figures.stages
        ],
        "assessments": [
            {
                "code": a.code,
                "title": a.title,
                "pass_mark": str(a.pass_mark),
                "max_score": str(a.max_score),
                "attempts": a.attempts,
                "sat": a.sat,
                "passed": a.passed,
                "bins": list(a.bins),
            }
            for a in figures.assessments
        ],
        "countries": [[c.code, c.candidates] for c in figures.countries],
        "expiring": figures.expiring,
    }


def _status_json(counts: StatusCounts) -> dict[str, Any]:
    return {
        "code": counts.code,
        "title": counts.title,
        "valid": counts.valid,
        "suspended": counts.suspended,
        "expired": counts.expired,
        "revoked": counts.revoked,
        "superseded": counts.superseded,
        "holders": counts.holders,
    }


def _from_json(data: dict[str, Any], computed_at: dt.datetime, seconds: float) -> Dashboard:
    overall, *by_award = (StatusCounts(**counts) for counts in data["certificates"])
    return Dashboard(
        today=dt.date.fromisoformat(data["today"]),
        candidates=data["candidates"],
        certificates=CertificateCounts(overall, tuple(by_award)),
        issued=IssuedPerMonth(
            months=tuple(dt.date.fromisoformat(m) for m in data["issued"]["months"]),
            series=tuple(
                AwardSeries(code, title, tuple(counts))
                for code, title, counts in data["issued"]["series"]
            ),
        ),
        stages=[
            StageCounts(code, title, {Stage(k): n for k, n in counts.items()})
            for code, title, counts in data["stages"]
        ],
        assessments=[
            AssessmentFigures(
                **{
                    **a,
                    "pass_mark": Decimal(a["pass_mark"]),
                    "max_score": Decimal(a["max_score"]),
                    "bins": tuple(a["bins"]),
                }
            )
            for a in data["assessments"]
        ],
        countries=[CountryCount(code, n) for code, n in data["countries"]],
        expiring=data["expiring"],
        computed_at=computed_at,
        seconds=seconds,
    )


# ---------------------------------------------------------------- the figures as data


STATUS_COLUMNS = (
    "as_of",
    "award",
    "title",
    "valid",
    "holders",
    "suspended",
    "expired",
    "revoked",
    "superseded",
    "total",
)


def status_rows(figures: Dashboard) -> list[list[object]]:
    """The certificates by status as rows of :data:`STATUS_COLUMNS`: one per award, then
    every award together (award ``all``), whose holders are distinct candidates."""
    counts = figures.certificates
    return [
        [
            figures.today.isoformat(),
            s.code or "all",
            s.title if s.code else gettext("Every award"),
            s.valid,
            s.holders,
            s.suspended,
            s.expired,
            s.revoked,
            s.superseded,
            s.total,
        ]
        for s in (*counts.by_award, counts.overall)
    ]


def _status_data(counts: StatusCounts) -> dict[str, Any]:
    data = _status_json(counts)
    data["total"] = counts.total
    if not counts.code:
        del data["code"], data["title"]
    return data


def figures_data(figures: Dashboard) -> dict[str, Any]:
    """Every figure of the dashboard as JSON-ready data, dates and times in ISO 8601."""
    issued = figures.issued
    return {
        "as_of": figures.today.isoformat(),
        "computed_at": figures.computed_at.isoformat(),
        "candidates": figures.candidates,
        "certificates": _status_data(figures.certificates.overall),
        "certificates_by_award": [_status_data(s) for s in figures.certificates.by_award],
        "conferred_per_month": [
            {
                "month": month.strftime("%Y-%m"),
                **{s.code: s.counts[i] for s in issued.series},
                "total": issued.month_total(i),
            }
            for i, month in enumerate(issued.months)
        ],
        "candidates_by_stage": [
            {"award": s.code, **{k.value: n for k, n in s.counts.items()}, "total": s.total}
            for s in figures.stages
        ],
        "assessments": [
            {
                "code": a.code,
                "title": a.title,
                "pass_mark": str(a.pass_mark),
                "max_score": str(a.max_score),
                "attempts": a.attempts,
                "sat": a.sat,
                "passed": a.passed,
                "score_bins": list(a.bins),
            }
            for a in figures.assessments
        ],
        "candidates_by_country": [
            {"country": c.code, "candidates": c.candidates} for c in figures.countries
        ],
        "expiring_within_days": {"days": EXPIRING_DAYS, "certificates": figures.expiring},
    }
