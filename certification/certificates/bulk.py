"""Issuing one award to everyone eligible, as a job that runs in the background.

:func:`start_issue_job` records the job and one item per eligible candidate, and queues the
job for a worker. :func:`run_issue_job` works through the items in batches:

1. *prepare* (reads only): check each candidate again and build their certificate's
   snapshot; who no longer qualifies, or already holds the award, is settled with the
   reason in words;
2. *render and seal* the batch in a pool of processes (one per core), with no transaction
   open and no lock held, while the previous batch is being stored;
3. *store* (one short write transaction per batch): renew the job's heartbeat (which also
   proves this runner still owns the job), lock the batch's candidates, check each again,
   insert the certificates with their audit events and mark the items.

The items, not the queue, are the record of what is left: a runner killed mid-job leaves
its items pending, and whoever runs the job next (the periodic sweep, a restarted worker,
the CLI) carries on with them. A certificate is issued at most once because the store step
settles an item only while it is still pending, under the job's heartbeat and the
candidates' locks, re-checks that the candidate holds no current certificate, and the
partial unique index on current certificates stands behind all of that.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing.context import BaseContext
from types import TracebackType
from typing import Any

import sqlalchemy as sa
from blinker import Namespace
from flask import current_app
from flask_babel import gettext
from sqlalchemy.exc import OperationalError

from certification.audit import record_event
from certification.auth.models import Role, User
from certification.catalogue.models import ApprovalPolicy, Programme
from certification.catalogue.services import programme_rules
from certification.certificates.approvals import (
    Sealed,
    approve_request,
    awaiting,
    prepared_approval,
    request_award,
)
from certification.certificates.holds import AwardOnHold
from certification.certificates.models import (
    ACTIVE_JOB_STATUSES,
    AwardRequest,
    Certificate,
    IssueItemState,
    IssueJob,
    IssueJobItem,
    IssueJobStatus,
    RequestState,
)
from certification.certificates.pdf import CertificateSnapshot, register_fonts
from certification.certificates.services import (
    AlreadyIssued,
    AlreadyRequested,
    RequirementsNotMet,
    SealingSetup,
    current_issuers,
    eligible_not_issued,
    held_awards_by_candidate,
    issuer_images,
    lock_candidates,
    prepare_certificate,
    render_and_seal,
    sealing_setup,
    snapshot_of,
    store_certificate,
)
from certification.certificates.settings import current_settings, signer_for
from certification.certificates.signing import SigningNotConfigured
from certification.errors import Forbidden, NotFound, RuleViolation, ServiceError
from certification.extensions import db
from certification.progress import ProgrammeRules, evaluate_progress
from certification.records.services import TranscriptView, load_transcripts
from certification.records.standings import active_standing_job
from certification.runners import claim_run, end_when_gone, runner_name, unrun_jobs
from certification.types import MAX_ID, utcnow

log = logging.getLogger(__name__)

_signals = Namespace()
#: Sent with a new job's id when a worker should run it, inside the transaction that
#: records it: the certificates' tasks listen and queue it once that commits. (This module
#: does not know the queue; the tasks module knows this one.)
issue_job_ready = _signals.signal("issue-job-ready")

FAILURES_SHOWN = 500


class JobAlreadyRunning(RuleViolation):
    """A job for this award is queued or running: a second one would only race it."""

    slug = "job_already_running"

    def __init__(self, job: IssueJob) -> None:
        super().__init__(
            gettext(
                "%(award)s is already being issued to everyone eligible (job %(job)s).",
                award=job.programme.title,
                job=job.id,
            )
        )
        self.job_id = job.id


class _LostClaim(Exception):
    """Another runner took this job over (ours had stopped beating): stop quietly."""


# ---------------------------------------------------------------- reading


@dataclass(frozen=True)
class ItemFailure:
    """A candidate the job did not issue to, and why."""

    candidate_id: int
    candidate_name: str
    state: IssueItemState
    reason: str


@dataclass(frozen=True)
class JobProgress:
    """Where a job stands: what its page and its JSON show."""

    job_id: int
    status: IssueJobStatus
    total: int
    issued: int
    failed: int
    skipped: int
    error: str | None = None
    failures: tuple[ItemFailure, ...] = ()

    @property
    def settled(self) -> int:
        return self.issued + self.failed + self.skipped

    @property
    def remaining(self) -> int:
        return self.total - self.settled

    @property
    def finished(self) -> bool:
        return self.status not in ACTIVE_JOB_STATUSES

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.job_id,
            "status": self.status.value,
            "finished": self.finished,
            "total": self.total,
            "issued": self.issued,
            "failed": self.failed,
            "skipped": self.skipped,
            "remaining": self.remaining,
            "error": self.error,
            "failures": [
                {
                    "candidate_id": f.candidate_id,
                    "candidate": f.candidate_name,
                    "outcome": f.state.value,
                    "reason": f.reason,
                }
                for f in self.failures
            ],
        }


def get_issue_job(job_id: int) -> IssueJob:
    job = db.session.get(IssueJob, job_id) if 0 < job_id <= MAX_ID else None
    if job is None:
        raise NotFound(gettext("There is no issuing job %(job)s.", job=job_id))
    return job


def active_issue_job(programme: Programme, approving_body: str | None = None) -> IssueJob | None:
    """The issuing job of ``programme`` queued or running (or ``approving_body``'s approving
    job), if there is one."""
    return db.session.scalar(
        sa.select(IssueJob).where(
            IssueJob.programme_id == programme.id,
            IssueJob.status.in_(ACTIVE_JOB_STATUSES),
            IssueJob.approving_body.is_(None)
            if approving_body is None
            else IssueJob.approving_body == approving_body,
        )
    )


def job_progress(job: IssueJob, *, failures: int = FAILURES_SHOWN) -> JobProgress:
    """Counts of ``job``'s items by outcome, and the first ``failures`` items not issued."""
    counts = _item_counts([job.id]).get(job.id, {})
    shown: list[ItemFailure] = []
    if failures:
        rows = db.session.execute(
            sa.select(IssueJobItem, User.full_name)
            .join(User, User.id == IssueJobItem.candidate_id)
            .where(
                IssueJobItem.job_id == job.id,
                IssueJobItem.state.in_((IssueItemState.FAILED, IssueItemState.SKIPPED)),
            )
            .order_by(IssueJobItem.id)
            .limit(failures)
        )
        shown = [
            ItemFailure(item.candidate_id, name, item.state, item.error or "")
            for item, name in rows
        ]
    return JobProgress(
        job_id=job.id,
        status=job.status,
        total=job.total,
        issued=counts.get(IssueItemState.ISSUED, 0),
        failed=counts.get(IssueItemState.FAILED, 0),
        skipped=counts.get(IssueItemState.SKIPPED, 0),
        error=job.error,
        failures=tuple(shown),
    )


def recent_issue_jobs(limit: int = 50) -> list[tuple[IssueJob, JobProgress]]:
    """The newest jobs with their counts (no failure lists), in two queries."""
    jobs = list(
        db.session.scalars(
            sa.select(IssueJob)
            .options(sa.orm.joinedload(IssueJob.programme), sa.orm.joinedload(IssueJob.created_by))
            .order_by(IssueJob.created_at.desc(), IssueJob.id.desc())
            .limit(limit)
        )
    )
    counts = _item_counts([j.id for j in jobs])
    return [
        (
            job,
            JobProgress(
                job_id=job.id,
                status=job.status,
                total=job.total,
                issued=counts.get(job.id, {}).get(IssueItemState.ISSUED, 0),
                failed=counts.get(job.id, {}).get(IssueItemState.FAILED, 0),
                skipped=counts.get(job.id, {}).get(IssueItemState.SKIPPED, 0),
                error=job.error,
            ),
        )
        for job in jobs
    ]


def _item_counts(job_ids: list[int]) -> dict[int, dict[IssueItemState, int]]:
    counts: dict[int, dict[IssueItemState, int]] = {}
    if job_ids:
        for job_id, state, count in db.session.execute(
            sa.select(IssueJobItem.job_id, IssueJobItem.state, sa.func.count())
            .where(IssueJobItem.job_id.in_(job_ids))
            .group_by(IssueJobItem.job_id, IssueJobItem.state)
        ):
            counts.setdefault(job_id, {})[IssueItemState(state)] = count
    return counts


# ---------------------------------------------------------------- starting


def start_issue_job(
    programme: Programme, actor: User | None, *, today: dt.date, queue: bool = True
) -> IssueJob:
    """Record a job issuing ``programme`` to every candidate eligible ``today`` who does not
    hold it, and announce it for a worker (:data:`issue_job_ready`; ``queue=False``: the
    caller runs it itself). Flushes; does not commit.

    Refused with :class:`JobAlreadyRunning` while a job for the same award is queued or
    running (a double click starts one job), and with ``RuleViolation`` if nobody is
    waiting for the award or its standings are still being worked out after a change of
    its rules (the list of who is eligible would be out of date)."""
    active = active_issue_job(programme)
    if active is not None:
        raise JobAlreadyRunning(active)
    restanding = active_standing_job(programme)
    if restanding is not None:
        raise RuleViolation(
            gettext(
                "Who is eligible for the %(award)s is being worked out again after its"
                " rules changed (%(percent)s %% done). Start the job once that is finished.",
                award=programme.title,
                percent=restanding.percent_done,
            ),
            slug="standings_being_recomputed",
        )
    candidates = list(db.session.scalars(eligible_not_issued(programme, today)))
    if not candidates:
        raise RuleViolation(
            gettext(
                "Nobody is waiting for the %(award)s: every candidate who meets its"
                " requirements already holds it.",
                award=programme.title,
            ),
            slug="nobody_eligible",
        )
    job = IssueJob(
        programme=programme,
        status=IssueJobStatus.QUEUED,
        total=len(candidates),
        created_by_id=actor.id if actor else None,
        created_at=utcnow(),
    )
    try:
        with db.session.begin_nested():
            db.session.add(job)
    except sa.exc.IntegrityError:
        # Two clicks at once: the partial unique index lets one job per award be active.
        active = active_issue_job(programme)
        if active is None:
            raise
        raise JobAlreadyRunning(active) from None
    db.session.execute(
        sa.insert(IssueJobItem),
        [
            {"job_id": job.id, "candidate_id": candidate_id, "state": IssueItemState.PENDING}
            for candidate_id in candidates
        ],
    )
    record_event(
        actor,
        "issue_job.started",
        "issue_job",
        job.id,
        after={"programme": programme.code, "candidates": len(candidates)},
    )
    if queue:
        issue_job_ready.send(job.id)
    return job


def start_approval_job(
    programme: Programme,
    officer: User,
    codes: Iterable[str],
    *,
    today: dt.date,
    queue: bool = True,
) -> IssueJob:
    """Record a job approving, for ``officer``'s body, the requests of ``programme`` named
    by ``codes`` that still await that body, and announce it for a worker (as
    :func:`start_issue_job`; the job page shows it run). Each request the body's approval
    completes is rendered and sealed as a bulk issue is. Flushes; does not commit."""
    body = officer.partner_body
    if officer.role is not Role.OFFICER or not body:
        raise Forbidden(gettext("Only an officer of a partner body approves, for their own body."))
    active = active_issue_job(programme, body)
    if active is not None:
        raise JobAlreadyRunning(active)
    wanted = {code.strip().upper() for code in codes if code.strip()}
    chosen = list(
        db.session.execute(
            awaiting(body)
            .with_only_columns(AwardRequest.candidate_id, AwardRequest.code)
            .where(AwardRequest.programme_id == programme.id, AwardRequest.code.in_(wanted))
        )
    )
    if not chosen:
        raise RuleViolation(
            gettext("None of the requests chosen awaits %(body)s's approval any more.", body=body),
            slug="nothing_to_approve",
        )
    job = IssueJob(
        programme=programme,
        status=IssueJobStatus.QUEUED,
        total=len(chosen),
        created_by_id=officer.id,
        approving_body=body,
        created_at=utcnow(),
    )
    try:
        with db.session.begin_nested():
            db.session.add(job)
    except sa.exc.IntegrityError:
        active = active_issue_job(programme, body)
        if active is None:
            raise
        raise JobAlreadyRunning(active) from None
    db.session.execute(
        sa.insert(IssueJobItem),
        [
            # The request chosen, by its code: the job approves that request and no other
            # (a later request for the same candidate was never shown to the officer).
            {
                "job_id": job.id,
                "candidate_id": candidate_id,
                "certificate_code": code,
                "state": IssueItemState.PENDING,
            }
            for candidate_id, code in chosen
        ],
    )
    record_event(
        officer,
        "approval_job.started",
        "issue_job",
        job.id,
        after={"programme": programme.code, "body": body, "requests": len(chosen)},
    )
    if queue:
        issue_job_ready.send(job.id)
    return job


def start_approval_jobs(
    officer: User, codes: Iterable[str] | None, *, today: dt.date, queue: bool = True
) -> list[IssueJob]:
    """Approve for ``officer``'s body the requests named by ``codes`` (None: every request
    awaiting the body), as one job per award (:func:`start_approval_job`)."""
    body = officer.partner_body
    if officer.role is not Role.OFFICER or not body:
        raise Forbidden(gettext("Only an officer of a partner body approves, for their own body."))
    statement = awaiting(body).with_only_columns(AwardRequest.programme_id, AwardRequest.code)
    if codes is not None:
        wanted = {code.strip().upper() for code in codes if code.strip()}
        statement = statement.where(AwardRequest.code.in_(wanted))
    by_programme: dict[int, list[str]] = {}
    for programme_id, code in db.session.execute(statement):
        by_programme.setdefault(programme_id, []).append(code)
    if not by_programme:
        raise RuleViolation(
            gettext("Nothing chosen awaits %(body)s's approval any more.", body=body),
            slug="nothing_to_approve",
        )
    return [
        start_approval_job(
            db.session.get_one(Programme, programme_id), officer, chosen, today=today, queue=queue
        )
        for programme_id, chosen in sorted(by_programme.items())
    ]


def stale_issue_jobs(now: dt.datetime | None = None) -> tuple[list[int], list[int]]:
    """Active jobs nobody is running, and those still beating (see :func:`unrun_jobs`:
    a dead runner on this host loses its claim here; the caller commits)."""
    return unrun_jobs(IssueJob, ACTIVE_JOB_STATUSES, now)


# ---------------------------------------------------------------- running


@dataclass
class _Ready:
    """A candidate whose certificate is prepared and being rendered; in an approving job,
    also a request whose approval renders nothing (``snapshot`` None: another body has yet
    to approve)."""

    item_id: int
    candidate_id: int
    certificate: Certificate | None  # not in the session: it is added when stored
    snapshot: CertificateSnapshot | None
    result: Future[tuple[bytes, str]] | None = None


@dataclass
class _Batch:
    ready: list[_Ready] = field(default_factory=list)
    # Settled while preparing: item id -> (state, reason)
    settled: dict[int, tuple[IssueItemState, str]] = field(default_factory=dict)
    last_item_id: int = 0
    # When an approving job's batch was prepared: its approvals and certificates are dated
    # then, so that the snapshots sealed ahead match those stored.
    now: dt.datetime = field(default_factory=utcnow)


ProgressCallback = Callable[[JobProgress], None]


def run_issue_job(
    job_id: int,
    *,
    today: dt.date,
    processes: int | None = None,
    batch_size: int | None = None,
    on_progress: ProgressCallback | None = None,
    runner: str | None = None,
) -> JobProgress | None:
    """Run (or carry on with) a job until no item is pending. Returns where it stands, or
    None if another runner holds the job.

    Unlike services, this owns its transactions: it commits once per batch, so that a crash
    loses at most the batch in hand. Call it from a queue task or a CLI command, never
    inside a request."""
    config = current_app.config
    processes = max(1, int(processes or config["ISSUE_PROCESSES"] or 1))
    batch_size = max(1, int(batch_size or config["ISSUE_BATCH_SIZE"]))
    runner = runner or runner_name()
    if not _claim(job_id, runner):
        return None
    try:
        job = get_issue_job(job_id)
        approving = job.approving_body is not None
        if not approving and job.programme.approval is ApprovalPolicy.BOTH_BODIES:
            # A jointly approved award: each candidate's award is requested (no PDF, no
            # seal); the bodies' officers approve the requests in their own time.
            _request_all(job_id, runner, batch_size, today, on_progress)
            _finish(job_id, runner)
            return job_progress(get_issue_job(job_id))
        prepare = _prepare_approvals if approving else _prepare_batch
        store = _store_approvals if approving else _store_batch
        setup = sealing_setup()
        db.session.rollback()  # end the read; nothing is held while rendering
        with _Renderer(processes, setup) as renderer:
            prepared_any = True
            while prepared_any:  # a second pass finds nothing unless something was missed
                prepared_any = False
                cursor = 0
                in_flight: deque[_Batch] = deque()
                while True:
                    batch = prepare(job_id, cursor, batch_size, today)
                    if batch is not None:
                        prepared_any = True
                        cursor = batch.last_item_id
                        renderer.submit(batch.ready)
                        in_flight.append(batch)
                    # Keep one batch rendering while the one before it is stored.
                    while in_flight and (batch is None or len(in_flight) > 1):
                        store(job_id, runner, in_flight.popleft(), today)
                        if on_progress is not None:
                            on_progress(job_progress(get_issue_job(job_id), failures=0))
                    if batch is None:
                        break
        _finish(job_id, runner)
    except _LostClaim:
        db.session.rollback()
        log.info("Issuing job %s was taken over by another runner; %s stops.", job_id, runner)
        return None
    except SigningNotConfigured as problem:
        db.session.rollback()
        _fail(job_id, runner, problem.message)
    except OperationalError:
        # The database went away: leave the job as it is, for the sweep to resume.
        db.session.rollback()
        raise
    except Exception:
        db.session.rollback()
        log.exception("Issuing job %s failed", job_id)
        _fail(
            job_id,
            runner,
            gettext(
                "The job stopped on an unexpected error (the worker's log has the details)."
                " Candidates not yet issued can be issued by starting a new job."
            ),
        )
        raise
    return job_progress(get_issue_job(job_id))


def _request_all(
    job_id: int,
    runner: str,
    batch_size: int,
    today: dt.date,
    on_progress: ProgressCallback | None,
) -> None:
    """Request the award for every pending item, a batch per transaction. An item settles
    as issued with the request's code (the job's part is done; the job page says
    "requested"), or skipped or failed as when issuing."""
    while True:
        _beat(job_id, runner)
        job = get_issue_job(job_id)
        items = list(
            db.session.scalars(
                sa.select(IssueJobItem)
                .where(IssueJobItem.job_id == job_id, IssueJobItem.state == IssueItemState.PENDING)
                .order_by(IssueJobItem.id)
                .limit(batch_size)
            )
        )
        if not items:
            db.session.rollback()
            return
        now = utcnow()
        for item in items:
            try:
                with db.session.begin_nested():
                    request = request_award(
                        item.candidate, job.programme, job.created_by, today=today, now=now
                    )
            except (AlreadyIssued, AwardOnHold, RequirementsNotMet) as refusal:
                item.state, item.error = _refusal_outcome(refusal)
            else:
                item.state, item.certificate_code = IssueItemState.ISSUED, request.code
            item.done_at = now
        db.session.commit()
        if on_progress is not None:
            on_progress(job_progress(get_issue_job(job_id), failures=0))


def _claim(job_id: int, runner: str) -> bool:
    """Take the job unless another runner holds it with a fresh heartbeat and is not known
    to have died; commits."""
    claimed = claim_run(
        IssueJob, job_id, runner, ACTIVE_JOB_STATUSES, status=IssueJobStatus.RUNNING
    )
    if claimed:
        db.session.execute(
            sa.update(IssueJob)
            .where(IssueJob.id == job_id, IssueJob.started_at.is_(None))
            .values(started_at=utcnow())
            .execution_options(synchronize_session=False)
        )
    db.session.commit()
    return bool(claimed)


def _beat(job_id: int, runner: str) -> None:
    """Renew the heartbeat as the first write of a transaction, or find the job taken over.

    On SQLite this write takes the database's write lock; on PostgreSQL it locks the job's
    row: either way two runners of one job never store at the same time."""
    beat = db.session.execute(
        sa.update(IssueJob)
        .where(
            IssueJob.id == job_id,
            IssueJob.runner == runner,
            IssueJob.status == IssueJobStatus.RUNNING,
        )
        .values(heartbeat_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    if not beat:
        raise _LostClaim


def _prepare_batch(job_id: int, after_id: int, size: int, today: dt.date) -> _Batch | None:
    """Phase 1: the next pending items after ``after_id``, checked and prepared (reads only)."""
    job = get_issue_job(job_id)
    rows = db.session.execute(
        sa.select(IssueJobItem.id, User)
        .join(User, User.id == IssueJobItem.candidate_id)
        .where(*_pending_after(job_id, after_id))
        .order_by(IssueJobItem.id)
        .limit(size)
    ).all()
    if not rows:
        db.session.rollback()
        return None
    ids = [candidate.id for _, candidate in rows]
    transcripts = load_transcripts(ids)
    held = held_awards_by_candidate(today, ids)
    issuers = current_issuers()
    images = issuer_images(issuers)  # once for the batch, not once per certificate
    settings = current_settings()
    now = utcnow()
    batch = _Batch(last_item_id=rows[-1][0])
    for item_id, candidate in rows:
        try:
            certificate = prepare_certificate(
                candidate,
                job.programme,
                job.created_by,
                today=today,
                now=now,
                transcript=transcripts[candidate.id].for_engine(),
                held=held.get(candidate.id, frozenset()),
                issuers=issuers,
            )
        except (AlreadyIssued, AwardOnHold, RequirementsNotMet) as refusal:
            batch.settled[item_id] = _refusal_outcome(refusal)
        else:
            snapshot = snapshot_of(certificate, settings, images)
            batch.ready.append(_Ready(item_id, candidate.id, certificate, snapshot))
    db.session.rollback()
    return batch


def _refusal_outcome(
    refusal: AlreadyIssued | AwardOnHold | RequirementsNotMet,
) -> tuple[IssueItemState, str]:
    if isinstance(refusal, AlreadyRequested):
        return (
            IssueItemState.SKIPPED,
            gettext(
                "Already requested, awaiting the bodies' approval: %(code)s.", code=refusal.code
            ),
        )
    if isinstance(refusal, AlreadyIssued):
        return (
            IssueItemState.SKIPPED,
            gettext(
                "Already holds a current certificate for this award: %(code)s.",
                code=refusal.code,
            ),
        )
    if isinstance(refusal, AwardOnHold):
        return (
            IssueItemState.SKIPPED,
            gettext(
                "On hold since certificate %(code)s was revoked (%(reason)s).",
                code=refusal.code,
                reason=refusal.reason,
            ),
        )
    return (
        IssueItemState.FAILED,
        gettext(
            "No longer meets every requirement of this award. Still needed: %(missing)s.",
            missing="; ".join(refusal.missing),
        ),
    )


@dataclass
class _Settling:
    """The items of the batch being stored, and how each is settled."""

    items: dict[int, IssueJobItem]
    done_at: dt.datetime

    def settle(
        self, item_id: int, state: IssueItemState, reason: str | None, code: str | None
    ) -> None:
        item = self.items[item_id]
        item.state, item.certificate_code, item.done_at = state, code, self.done_at
        item.error = reason[:2000] if reason else None


def _begin_store(
    job_id: int, runner: str, batch: _Batch
) -> tuple[IssueJob, _Settling, list[_Ready]]:
    """Phase 3 begins: renew the heartbeat (the first write), load the batch's items, settle
    those decided while preparing; the job, and the entries still to store (an item settled
    meanwhile by another runner is left alone)."""
    _beat(job_id, runner)
    job = get_issue_job(job_id)
    item_ids = [r.item_id for r in batch.ready] + list(batch.settled)
    items = {
        i.id: i
        for i in db.session.scalars(sa.select(IssueJobItem).where(IssueJobItem.id.in_(item_ids)))
    }
    settling = _Settling(items, utcnow())
    for item_id, (state, reason) in batch.settled.items():
        if items[item_id].state is IssueItemState.PENDING:
            settling.settle(item_id, state, reason, None)
    ready = [r for r in batch.ready if items[r.item_id].state is IssueItemState.PENDING]
    return job, settling, ready


def _store_batch(job_id: int, runner: str, batch: _Batch, today: dt.date) -> None:
    """Phase 3: one short write transaction that settles the batch's items; commits."""
    job, settling, ready = _begin_store(job_id, runner, batch)
    settle = settling.settle
    ids = [r.candidate_id for r in ready]
    # Lock the candidates, then look again: meanwhile a credit may have been removed or an
    # administrator may have issued by hand.
    lock_candidates(ids)
    candidates = {
        u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_(ids)))
    }  # also refreshes the candidates the prepared certificates refer to
    transcripts = load_transcripts(ids)
    held = held_awards_by_candidate(today, ids)
    rules = programme_rules(job.programme)
    for entry in ready:
        if entry.result is None:
            raise RuntimeError("A prepared certificate was never sent to be rendered.")
        try:
            pdf, digest = entry.result.result()
        except SigningNotConfigured:
            raise
        except Exception as error:
            log.exception("Rendering the certificate of candidate %s failed", entry.candidate_id)
            settle(
                entry.item_id,
                IssueItemState.FAILED,
                gettext("The PDF could not be made: %(error)s", error=error),
                None,
            )
            continue
        unmet = _unmet(rules, transcripts, held, entry.candidate_id, today)
        if unmet is not None:
            settle(entry.item_id, *_refusal_outcome(unmet), None)
            continue
        certificate = entry.certificate
        if certificate is None:
            raise RuntimeError("An issuing job's item was prepared without a certificate.")
        # The instances of this transaction (those of the prepare step may be detached).
        certificate.candidate = candidates[entry.candidate_id]
        certificate.programme = job.programme
        certificate.pdf, certificate.pdf_sha256 = pdf, digest
        try:
            store_certificate(certificate, job.created_by, today=today)
        except (AlreadyIssued, AwardOnHold) as refusal:
            settle(entry.item_id, *_refusal_outcome(refusal), None)
        else:
            settle(entry.item_id, IssueItemState.ISSUED, None, certificate.code)
    db.session.commit()
    db.session.expunge_all()  # nothing of this batch needs to stay in memory


def _prepare_approvals(job_id: int, after_id: int, size: int, today: dt.date) -> _Batch | None:
    """Phase 1 of an approving job: the next pending items after ``after_id``; for each
    request this body's approval completes, the certificate to render and seal (reads
    only). Requests no longer awaiting the body are settled as skipped."""
    job = get_issue_job(job_id)
    officer, body = job.created_by, job.approving_body
    if officer is None or body is None:
        raise RuntimeError(f"Approving job {job_id} has no officer.")
    rows = db.session.execute(
        sa.select(IssueJobItem.id, AwardRequest)
        .join(
            AwardRequest,
            sa.and_(
                AwardRequest.code == IssueJobItem.certificate_code,
                AwardRequest.state == RequestState.PENDING,
            ),
            isouter=True,
        )
        .where(*_pending_after(job_id, after_id))
        .order_by(IssueJobItem.id)
        .limit(size)
    ).all()
    if not rows:
        db.session.rollback()
        return None
    now = utcnow()
    batch = _Batch(last_item_id=rows[-1][0], now=now)
    for item_id, request in rows:
        if request is None or request.approved_by(body) is not None:
            batch.settled[item_id] = (
                IssueItemState.SKIPPED,
                gettext(
                    "No longer awaits %(body)s's approval (approved, rejected or withdrawn).",
                    body=body,
                ),
            )
            continue
        ahead = prepared_approval(request, officer, today=today, now=now, body=body)
        certificate, snapshot = ahead if ahead is not None else (None, None)
        batch.ready.append(_Ready(item_id, request.candidate_id, certificate, snapshot))
    db.session.rollback()
    return batch


def _store_approvals(job_id: int, runner: str, batch: _Batch, today: dt.date) -> None:
    """Phase 3 of an approving job: one short write transaction approving the batch's
    requests (with the PDFs sealed in phase 2 where the approval completes one); commits."""
    job, settling, ready = _begin_store(job_id, runner, batch)
    settle, items, officer = settling.settle, settling.items, job.created_by
    ids = [r.candidate_id for r in ready]
    # Lock the candidates, then read the requests and the records again, for the batch at
    # once: meanwhile a request may have been rejected, or a credit withdrawn.
    lock_candidates(ids)
    pending = {
        r.code: r
        for r in db.session.scalars(
            sa.select(AwardRequest).where(
                AwardRequest.code.in_([items[r.item_id].certificate_code for r in ready]),
                AwardRequest.state == RequestState.PENDING,
            )
        )
    }
    transcripts = load_transcripts(ids)
    held = held_awards_by_candidate(today, ids)
    rules = programme_rules(job.programme)
    for entry in ready:
        request = pending.get(items[entry.item_id].certificate_code or "")
        if request is None:
            settle(
                entry.item_id, IssueItemState.SKIPPED, gettext("No longer awaits approval."), None
            )
            continue
        unmet = (
            _unmet(rules, transcripts, held, entry.candidate_id, today)
            if request.replaces_id is None  # a reissue keeps the award it corrects
            else None
        )
        if unmet is not None:
            settle(entry.item_id, *_refusal_outcome(unmet), None)
            continue
        prepared = None
        if entry.result is not None and entry.snapshot is not None:
            try:
                pdf, digest = entry.result.result()
            except SigningNotConfigured:
                raise
            except Exception:
                log.exception("Rendering the certificate of request %s failed", request.code)
            else:
                issuers = entry.certificate.issuers if entry.certificate else []
                prepared = Sealed(entry.snapshot, issuers, pdf, digest)
        try:
            with db.session.begin_nested():
                approve_request(
                    request,
                    officer,
                    today=today,
                    body=job.approving_body,
                    now=batch.now,
                    prepared=prepared,
                    in_batch=True,
                )
        except ServiceError as refusal:
            state = IssueItemState.SKIPPED if refusal.http_status == 409 else IssueItemState.FAILED
            settle(entry.item_id, state, refusal.message, None)
        else:
            settle(entry.item_id, IssueItemState.ISSUED, None, request.code)
    db.session.commit()
    db.session.expunge_all()


def _unmet(
    rules: ProgrammeRules,
    transcripts: Mapping[int, TranscriptView],
    held: Mapping[int, frozenset[str]],
    candidate_id: int,
    today: dt.date,
) -> RequirementsNotMet | None:
    """What the candidate no longer meets, judged on the batch's records read under lock
    (None: every requirement is met), as a store step checks before it stores."""
    transcript = dataclasses.replace(
        transcripts[candidate_id].for_engine(), held_awards=held.get(candidate_id, frozenset())
    )
    report = evaluate_progress(rules, transcript, today)
    return None if report.eligible else RequirementsNotMet(report.missing)


def _pending_after(job_id: int, after_id: int) -> tuple[sa.ColumnElement[bool], ...]:
    """The items of ``job_id`` still pending after ``after_id``: the next batch's."""
    return (
        IssueJobItem.job_id == job_id,
        IssueJobItem.state == IssueItemState.PENDING,
        IssueJobItem.id > after_id,
    )


def _finish(job_id: int, runner: str) -> None:
    _beat(job_id, runner)
    job = get_issue_job(job_id)
    job.status, job.finished_at, job.runner = IssueJobStatus.DONE, utcnow(), None
    progress = job_progress(job, failures=0)
    record_event(
        None,
        "issue_job.finished",
        "issue_job",
        job.id,
        after={
            "programme": job.programme.code,
            "issued": progress.issued,
            "failed": progress.failed,
            "skipped": progress.skipped,
        },
    )
    db.session.commit()


def _fail(job_id: int, runner: str, reason: str) -> None:
    """Stop the job for a reason that concerns every candidate (no seal key, say)."""
    job = get_issue_job(job_id)
    if job.runner != runner or not job.is_active:
        db.session.rollback()
        return
    job.status, job.finished_at, job.runner, job.error = (
        IssueJobStatus.FAILED,
        utcnow(),
        None,
        reason[:1000],
    )
    record_event(None, "issue_job.failed", "issue_job", job.id, after={"reason": reason})
    db.session.commit()


# ---------------------------------------------------------------- rendering in processes


class _Renderer:
    """Phase 2: renders and seals snapshots, in a pool of ``processes`` processes (or in
    this one when there is one). The pool starts its processes with ``forkserver`` (or
    ``spawn``): forking a threaded queue worker is not safe."""

    def __init__(self, processes: int, setup: SealingSetup) -> None:
        self._setup = setup
        self._pool = (
            ProcessPoolExecutor(
                max_workers=processes,
                mp_context=_process_context(),
                initializer=_start_sealer,
                initargs=(setup, os.getpid()),
            )
            if processes > 1
            else None
        )

    def submit(self, ready: Iterable[_Ready]) -> None:
        for entry in ready:
            if entry.snapshot is None:
                continue  # an approval that completes nothing: there is nothing to render
            if self._pool is not None:
                entry.result = self._pool.submit(_seal_in_worker, entry.snapshot)
                continue
            entry.result = Future()
            try:
                entry.result.set_result(render_and_seal(entry.snapshot, self._setup))
            except Exception as error:
                entry.result.set_exception(error)

    def __enter__(self) -> _Renderer:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)


def _process_context() -> BaseContext:
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        # The server imports this module (and so the renderer and pyHanko) once; each pool
        # process is forked from it, ready to work.
        context.set_forkserver_preload([__name__])
        return context
    return multiprocessing.get_context("spawn")


_worker_setup: SealingSetup | None = None


def _start_sealer(setup: SealingSetup, owner: int) -> None:
    """Open both seal keys and register the fonts once per pool process, which ends when
    ``owner``, the process running the job, does."""
    global _worker_setup
    end_when_gone(owner)
    _worker_setup = setup
    register_fonts()
    for _, key in setup.sealers:
        signer_for(key)


def _seal_in_worker(snapshot: CertificateSnapshot) -> tuple[bytes, str]:
    if _worker_setup is None:
        raise RuntimeError("This process was not started with the seal keys.")
    return render_and_seal(snapshot, _worker_setup)
