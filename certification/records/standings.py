"""Each candidate's standing towards each programme, kept up to date on every write.

Eligibility over the whole register (the candidate list's "eligible for" filter, the
ready-to-issue list, bulk jobs, the dashboard) cannot sum a million credit records on
every page view. Instead, whatever changes a transcript (a credit or a result recorded or
withdrawn, an import) calls :func:`refresh_standings` in the same transaction, and the rows
it writes (:class:`ProgrammeStanding`) say, per candidate and
programme, whether the programme's own requirements are met and on which day that lapses
as credits leave the window. The pure engine decides (:func:`evaluate_standing`), so the
rows say exactly what :func:`certification.progress.evaluate_progress` would;
:mod:`certification.records.eligibility` turns them into SQL conditions.

Concurrent writers for the same candidate are serialised (a row lock on PostgreSQL; SQLite
has one writer at a time), so a standing is always worked out from a committed transcript.

A rules change (or a new programme) touches every candidate: at 100,000 candidates that is
half a minute, too long for a web request. It records a :class:`StandingJob` instead and
announces it (:data:`standing_job_ready`); a queue worker runs it in chunks of candidates,
each chunk committed with the job's cursor (:func:`run_standing_job`). Until it is done,
the lists that read standings say so (:func:`active_standing_job`).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
import sqlalchemy.orm as so
from blinker import Namespace

from certification.auth.models import User
from certification.auth.services import candidate_renamed
from certification.catalogue.models import Assessment, Course, Programme
from certification.catalogue.services import programme_rules, programme_rules_changed
from certification.extensions import db
from certification.progress import AttemptEntry, CreditEntry, Transcript, evaluate_standing
from certification.records.models import (
    ACTIVE_STANDING_JOB_STATUSES,
    AssessmentAttempt,
    CreditRecord,
    ProgrammeStanding,
    StandingJob,
    StandingJobStatus,
)
from certification.runners import claim_run, runner_name, unrun_jobs
from certification.types import utcnow

# Candidates whose transcripts are read, evaluated and written together: a few MB at most.
CHUNK = 2000

_signals = Namespace()
#: Sent with a new standing job's id, inside the transaction that records it: the records
#: tasks queue it once that commits (this module does not know the queue).
standing_job_ready = _signals.signal("standing-job-ready")


def refresh_standings(
    candidate_ids: Iterable[int] | None,
    today: dt.date,
    programmes: list[Programme] | None = None,
    *,
    contiguous: bool = False,
) -> int:
    """Work out again the standings of ``candidate_ids`` (None: every candidate with
    anything recorded) towards ``programmes`` (None: all), as of ``today``, and flush.
    ``contiguous``: the ids are every candidate with records from the first to the last
    (a standing job's chunk), read as one range of the indexes.
    Returns the number of candidates with records whose standings were written."""
    everyone = candidate_ids is None
    ids = sorted(set(candidate_ids)) if candidate_ids is not None else None
    if ids == []:
        return 0
    loaded = _with_rules(programmes)
    rules = {p.id: programme_rules(p) for p in loaded}
    if not rules:
        return 0
    programme_ids = sorted(rules)
    mine = ProgrammeStanding.programme_id.in_(programme_ids)
    if ids is None:
        ids = list(db.session.scalars(_recorded_ids()))
        db.session.execute(sa.delete(ProgrammeStanding).where(mine))
    else:
        _lock_candidates(ids)
    catalogue = _Catalogue.load()
    users = User.__table__.c
    standings = ProgrammeStanding.__table__.c
    written = 0
    for chunk in _chunks(ids, CHUNK):
        among = _picking(chunk, contiguous=everyone or contiguous)
        if not everyone:
            # By id, never by range: a candidate inside the range whose first record was
            # committed meanwhile is not locked here, and keeps what its writer wrote.
            db.session.execute(
                sa.delete(ProgrammeStanding).where(standings.candidate_id.in_(chunk), mine)
            )
        transcripts = _transcripts(among, catalogue)
        if contiguous:
            wanted = set(chunk)
            transcripts = {i: t for i, t in transcripts.items() if i in wanted}
        name_keys = {
            user_id: name_key
            for user_id, name_key in db.session.execute(
                sa.select(users.id, users.name_key).where(among(users.id))
            )
            if user_id in transcripts
        }
        rows = [
            {
                "candidate_id": candidate_id,
                "programme_id": programme_id,
                "met": standing.met,
                "lapses_on": standing.lapses_on,
                "name_key": name_keys[candidate_id],
            }
            for candidate_id, transcript in transcripts.items()
            for programme_id in programme_ids
            for standing in [evaluate_standing(rules[programme_id], transcript, today)]
        ]
        if rows:  # on the connection: a plain INSERT of many rows, no ORM bookkeeping
            db.session.connection().execute(sa.insert(ProgrammeStanding), rows)
        written += len(transcripts)
    db.session.flush()
    return written


def standings_missing() -> bool:
    """True when candidates have records but no standing at all: a register upgraded to
    the release that added standings (or restored from before it)."""
    any_standing = db.session.scalar(sa.select(ProgrammeStanding.candidate_id).limit(1))
    any_record = db.session.scalar(_recorded_ids().limit(1))
    return any_standing is None and any_record is not None


def _with_rules(programmes: list[Programme] | None) -> list[Programme]:
    """The programmes (locked against a concurrent rules change on PostgreSQL), with what
    their rules need loaded in a fixed number of queries."""
    statement = sa.select(Programme).options(
        so.selectinload(Programme.domain_minimums),
        so.selectinload(Programme.required_assessments),
    )
    if programmes is not None:
        statement = statement.where(Programme.id.in_([p.id for p in programmes]))
    if _is_postgresql():
        # Shared: writers of different candidates go on side by side, while a rules change
        # (which locks its programme for update) waits for them, and they for it.
        statement = statement.with_for_update(read=True)
    return list(db.session.scalars(statement.order_by(Programme.id)))


def _lock_candidates(ids: list[int]) -> None:
    """Serialise refreshes of the same candidates until the transaction ends, so that the
    transcript read next includes whatever a concurrent writer committed first. (NO KEY
    UPDATE, not UPDATE: the credit just inserted holds a KEY SHARE lock on its candidate,
    and two writers upgrading theirs to UPDATE would deadlock.)"""
    if ids and _is_postgresql():
        db.session.execute(
            sa.select(User.id)
            .where(User.id.in_(ids))
            .order_by(User.id)
            .with_for_update(key_share=True)
        )


def _is_postgresql() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


@dataclass(frozen=True)
class _Catalogue:
    """What a transcript's rows point at: each course's code, domain and credits, and each
    assessment's code."""

    courses: dict[int, tuple[str, str, Decimal]]
    assessments: dict[int, str]

    @classmethod
    def load(cls) -> _Catalogue:
        courses = Course.__table__.c
        assessments = Assessment.__table__.c
        return cls(
            courses={
                course_id: (code, domain, credits)
                for course_id, code, domain, credits in db.session.execute(
                    sa.select(courses.id, courses.code, courses.domain, courses.credits)
                )
            },
            assessments={
                assessment_id: code
                for assessment_id, code in db.session.execute(
                    sa.select(assessments.id, assessments.code)
                )
            },
        )


def _transcripts(among: Picker, catalogue: _Catalogue) -> dict[int, Transcript]:
    """The transcripts, as the engine reads them, of the candidates ``among`` picks who have
    anything recorded. Plain rows from the tables, not models: when a programme's rules
    change this reads a million of them."""
    credit_rows = CreditRecord.__table__.c
    attempt_rows = AssessmentAttempt.__table__.c
    credits: dict[int, list[CreditEntry]] = defaultdict(list)
    for candidate_id, course_id, completed_on in db.session.execute(
        sa.select(credit_rows.candidate_id, credit_rows.course_id, credit_rows.completed_on).where(
            among(credit_rows.candidate_id), credit_rows.withdrawn_at.is_(None)
        )
    ):
        code, domain, amount = catalogue.courses[course_id]
        credits[candidate_id].append(CreditEntry(code, domain, amount, completed_on))
    attempts: dict[int, list[AttemptEntry]] = defaultdict(list)
    for candidate_id, assessment_id, score, taken_on in db.session.execute(
        sa.select(
            attempt_rows.candidate_id,
            attempt_rows.assessment_id,
            attempt_rows.score,
            attempt_rows.taken_on,
        ).where(among(attempt_rows.candidate_id), attempt_rows.withdrawn_at.is_(None))
    ):
        code = catalogue.assessments[assessment_id]
        attempts[candidate_id].append(AttemptEntry(code, score, taken_on))
    return {
        candidate_id: Transcript(
            credits=tuple(credits.get(candidate_id, ())),
            attempts=tuple(attempts.get(candidate_id, ())),
        )
        for candidate_id in sorted(credits.keys() | attempts.keys())
    }


Picker = Callable[[sa.ColumnElement[int]], sa.ColumnElement[bool]]


def _picking(chunk: list[int], *, contiguous: bool) -> Picker:
    """The condition "a candidate of ``chunk``" on a column of candidate ids. A contiguous
    chunk holds every candidate with records between its first and last id: a range of
    the index, not 2,000 parameters."""
    if contiguous:
        return lambda column: column.between(chunk[0], chunk[-1])
    return lambda column: column.in_(chunk)


def _chunks(values: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


@candidate_renamed.connect
def _on_candidate_renamed(candidate: User, **_: object) -> None:
    """Keep the copy of the name the candidate lists are sorted by."""
    db.session.execute(
        sa.update(ProgrammeStanding)
        .where(ProgrammeStanding.candidate_id == candidate.id)
        .values(name_key=candidate.name_key)
    )


@programme_rules_changed.connect
def _on_rules_changed(programme: Programme, *, today: dt.date, **_: object) -> None:
    """A programme's rules changed (or it is new): every candidate's standing towards it is
    to be worked out again under the new rules, by a job. (Programmes that require it keep
    theirs: a standing covers a programme's own requirements, and its prerequisite is
    judged when asked, in :mod:`certification.records.eligibility`.)"""
    request_restanding(programme)


# ---------------------------------------------------------------- standing jobs


def request_restanding(programme: Programme) -> StandingJob | None:
    """Record a job that works out every standing towards ``programme`` again, replacing
    any job still running for it (its cursor belongs to the old rules), and announce it.
    None when nobody has anything recorded. Flushes; does not commit.

    Single writers meanwhile work out their candidate's standing under the new rules
    (they read the rules in their own transaction), so the job only has to catch up."""
    if _is_postgresql():
        # Writers of single transcripts hold this programme FOR SHARE while they work out
        # its standing: wait for those that read the old rules, and make the next ones wait
        # for the new. (At most a chunk of a running job's work: seconds, not minutes.)
        db.session.execute(
            sa.select(Programme.id).where(Programme.id == programme.id).with_for_update()
        )
    now = utcnow()
    db.session.execute(
        sa.update(StandingJob)
        .where(
            StandingJob.programme_id == programme.id,
            StandingJob.status.in_(ACTIVE_STANDING_JOB_STATUSES),
        )
        .values(status=StandingJobStatus.SUPERSEDED, finished_at=now)
    )
    if not _anyone_recorded():
        db.session.execute(sa.delete(ProgrammeStanding).where(_of(programme.id)))
        db.session.flush()
        return None
    # How many candidates it covers is counted by the worker when it starts: over a million
    # credit records that takes the database a good part of a second, not the request's.
    job = StandingJob(programme_id=programme.id, total=0, created_at=now)
    db.session.add(job)
    db.session.flush()
    standing_job_ready.send(job.id)
    return job


def active_standing_job(programme: Programme) -> StandingJob | None:
    """The job still working out standings towards ``programme``, if any: until it is done,
    lists by standing may follow the old rules for some candidates."""
    return db.session.scalar(
        sa.select(StandingJob)
        .where(
            StandingJob.programme_id == programme.id,
            StandingJob.status.in_(ACTIVE_STANDING_JOB_STATUSES),
        )
        .order_by(StandingJob.id.desc())
        .limit(1)
    )


def recent_standing_jobs(limit: int = 20) -> list[StandingJob]:
    return list(
        db.session.scalars(
            sa.select(StandingJob)
            .options(so.joinedload(StandingJob.programme))
            .order_by(StandingJob.id.desc())
            .limit(limit)
        )
    )


ChunkCallback = Callable[[StandingJob], None]


def run_standing_job(
    job_id: int,
    today: dt.date,
    *,
    chunk_size: int = CHUNK,
    runner: str | None = None,
    after_chunk: ChunkCallback | None = None,
) -> StandingJob | None:
    """Run (or carry on with) a standing job until it is done or replaced; returns it, or
    None when another live runner holds it.

    Unlike services, this owns its transactions. The runner first claims the job (as a
    bulk job's runner does: nobody else holds it with a fresh heartbeat, or its holder's
    process on this host has died); each chunk's standings and the move of the job's cursor
    then commit together, and only while the claim is still this runner's and the cursor
    where it found it. So a runner killed mid-chunk loses that chunk's work and the next
    one redoes it, a second task for the same job (a sweep, a second worker thread) stops
    at once, and nothing committed is worked out again. Call it from a queue task or a
    command, never inside a request."""
    runner = runner or runner_name()
    if not _claim(job_id, runner):
        job = db.session.get(StandingJob, job_id, populate_existing=True)
        db.session.rollback()
        return job if job is None or not job.is_active else None
    while True:
        job = db.session.get(StandingJob, job_id, populate_existing=True)
        if job is None or not job.is_active:
            db.session.rollback()
            return job
        if job.runner != runner:
            db.session.rollback()  # taken over: this runner was thought dead
            return None
        cursor = job.after_candidate_id
        chunk: list[int] = list(db.session.scalars(_recorded_ids(after=cursor).limit(chunk_size)))
        now = utcnow()
        values: dict[str, object] = {
            "status": StandingJobStatus.RUNNING,
            "heartbeat_at": now,
            "started_at": sa.func.coalesce(StandingJob.started_at, now),
        }
        if job.total == 0:
            values["total"] = db.session.scalar(
                sa.select(sa.func.count()).select_from(_recorded_ids(after=0).subquery())
            )
        if chunk:
            _refresh_range(chunk, today, job.programme)
            values |= {"after_candidate_id": chunk[-1], "done": StandingJob.done + len(chunk)}
        else:
            values |= {"status": StandingJobStatus.DONE, "finished_at": now}
        moved = db.session.execute(
            sa.update(StandingJob)
            .where(
                StandingJob.id == job_id,
                StandingJob.runner == runner,
                StandingJob.after_candidate_id == cursor,
                StandingJob.status.in_(ACTIVE_STANDING_JOB_STATUSES),
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if getattr(moved, "rowcount", 0) != 1:
            db.session.rollback()  # replaced by a change of the rules, or taken over
            continue
        db.session.commit()
        if after_chunk is not None:
            after_chunk(db.session.get(StandingJob, job_id, populate_existing=True) or job)
        if not chunk:
            return db.session.get(StandingJob, job_id)


def _claim(job_id: int, runner: str) -> bool:
    """Take the job unless another runner holds it with a fresh heartbeat and is not known
    to have died; commits."""
    claimed = claim_run(StandingJob, job_id, runner, ACTIVE_STANDING_JOB_STATUSES)
    db.session.commit()
    return claimed


def stale_standing_jobs(now: dt.datetime | None = None) -> list[int]:
    """Active jobs nobody seems to run (see :func:`unrun_jobs`: a dead runner on this host
    loses its claim here, so that a worker on any host carries on at once; the caller
    commits)."""
    return unrun_jobs(StandingJob, ACTIVE_STANDING_JOB_STATUSES, now)[0]


def _refresh_range(chunk: list[int], today: dt.date, programme: Programme) -> None:
    """Work out the standings of ``chunk`` (consecutive candidates with records, by id)
    towards ``programme`` and flush."""
    refresh_standings(chunk, today, [programme], contiguous=True)


def _recorded_ids(after: int = 0) -> sa.Select[tuple[int]]:
    """The ids of the candidates with a credit or a result that counts, past ``after``, in
    order."""
    recorded = sa.union(
        sa.select(CreditRecord.candidate_id.label("candidate_id")).where(
            CreditRecord.candidate_id > after, CreditRecord.withdrawn_at.is_(None)
        ),
        sa.select(AssessmentAttempt.candidate_id.label("candidate_id")).where(
            AssessmentAttempt.candidate_id > after, AssessmentAttempt.withdrawn_at.is_(None)
        ),
    ).subquery()
    return sa.select(recorded.c.candidate_id).order_by(recorded.c.candidate_id)


def _anyone_recorded() -> bool:
    return bool(
        db.session.scalar(
            sa.select(
                sa.exists(sa.select(CreditRecord.id).where(CreditRecord.withdrawn_at.is_(None)))
            )
        )
        or db.session.scalar(
            sa.select(
                sa.exists(
                    sa.select(AssessmentAttempt.id).where(AssessmentAttempt.withdrawn_at.is_(None))
                )
            )
        )
    )


def _of(programme_id: int) -> sa.ColumnElement[bool]:
    return ProgrammeStanding.programme_id == programme_id
