"""Running one attempt of a job: claim it under a lease, run it in one transaction, record the end.

A claim is its own short transaction: the row goes to ``running`` with this
worker's name, ``attempts + 1`` and a lease, and the attempt is written to
``job_attempts``. The run is a second transaction, the job's own unit of work:
it first locks the job row (``FOR UPDATE`` on PostgreSQL; SQLite's write lock
is already held) and checks the claim is still this worker's, then calls the
job, marks the row ``succeeded`` and commits once. So the job's effects and
its "succeeded" mark commit together or not at all: a worker killed mid-job
leaves no effect, only a ``running`` row whose lease runs out, and whichever
worker claims it next runs it again. While a worker is alive and running the
job it holds the row lock, so nobody else can claim the row even if its lease
has run out (claims skip locked rows); a lease only ever expires for real
once the transaction holding it is gone.

A ``phased`` job (one that does network I/O) is run with no transaction open:
it reads in short units of work, does its I/O, and records the outcome in its
``finish`` transaction, which checks the claim as above and commits the mark
with the outcome. While it runs, its live lease (not a row lock) keeps other
deliveries off it, so its I/O must end well within the lease.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import enum
import logging
import os
import socket
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from clearinghouse.jobs._context import JobContext, JobUnitOfWork, PhasedJobContext
from clearinghouse.jobs._errors import JobFencedError, UnknownJobError
from clearinghouse.jobs._metrics import JOBS_FAILED, JOBS_RETRIED, JOBS_SUCCEEDED
from clearinghouse.jobs._registry import DEFAULT_RETRY_DELAY_SECONDS, JobDefinition, get_job, retry_delay
from clearinghouse.jobs._store import QUEUE_ACTOR
from clearinghouse.jobs.models import AttemptOutcome, Job, JobAttempt, JobStatus
from clearinghouse.storage import Actor, UnitOfWork, utcnow

if TYPE_CHECKING:
    from clearinghouse.jobs._host import JobHost

logger = logging.getLogger("clearinghouse.jobs")

DEFAULT_LEASE_SECONDS = 300.0
_ERROR_HEAD_CHARS = 1000
_TRACEBACK_TAIL_CHARS = 6000

RUNNING = JobStatus.RUNNING.value
FINISHED = (JobStatus.SUCCEEDED.value, JobStatus.FAILED.value)


@dataclass(frozen=True)
class Claim:
    """A job this worker holds the lease on, for attempt number ``attempt``."""

    job_id: str
    name: str
    payload: dict[str, Any]
    attempt: int
    max_attempts: int
    worker: str


class Refusal(enum.Enum):
    """Why a claim on one given job (a procrastinate delivery) was not granted."""

    MISSING = "missing"  # no such job row
    FINISHED = "finished"  # already succeeded or failed: a redelivery, nothing to do
    BUSY = "busy"  # a live transaction holds the row: someone is running it now
    EXHAUSTED = "exhausted"  # its last attempt's worker was lost; the job is now failed


class Outcome(enum.StrEnum):
    SUCCEEDED = "succeeded"
    RETRY = "retry"  # failed, queued again for ``run_after``
    FAILED = "failed"  # failed its last attempt
    FENCED = "fenced"  # the claim had passed to another worker; nothing was run or recorded


@dataclass(frozen=True)
class RunResult:
    outcome: Outcome
    claim: Claim
    run_after: dt.datetime | None = None
    error: str | None = None


def worker_name(label: str) -> str:
    """``host:pid:label``: who holds a lease, as written to ``jobs.worker`` and ``job_attempts.worker``."""
    return f"{socket.gethostname()}:{os.getpid()}:{label}"[:200]


def describe_error(exc: BaseException) -> str:
    """The exception's type and message, then the tail of its traceback."""
    kind = type(exc)
    kind_name = kind.__qualname__
    if kind.__module__ != "builtins":
        kind_name = f"{kind.__module__}.{kind_name}"
    head = f"{kind_name}: {exc}"[:_ERROR_HEAD_CHARS]
    trace = "".join(traceback.format_exception(exc))
    return f"{head}\n{trace[-_TRACEBACK_TAIL_CHARS:]}"


def _holds(row: Job | None, claim: Claim) -> bool:
    return (
        row is not None
        and row.status == RUNNING
        and row.worker == claim.worker
        and row.attempts == claim.attempt
    )


def _due(now: dt.datetime) -> ColumnElement[bool]:
    return or_(
        and_(Job.status == JobStatus.QUEUED.value, Job.run_after <= now),
        and_(Job.status == RUNNING, Job.lease_expires_at <= now),
    )


def _phased(name: str) -> bool:
    try:
        return get_job(name).phased
    except UnknownJobError:
        return False


def _lease_live(row: Job, now: dt.datetime) -> bool:
    expires = row.lease_expires_at
    if expires is None:
        return False
    if expires.tzinfo is None:  # SQLite hands back naive UTC
        expires = expires.replace(tzinfo=dt.UTC)
    return expires > now


def _extra(claim: Claim, **more: Any) -> dict[str, Any]:
    return {
        "job_id": claim.job_id,
        "job_name": claim.name,
        "attempt": claim.attempt,
        "max_attempts": claim.max_attempts,
        "worker": claim.worker,
        **more,
    }


class JobRunner:
    """Claims, runs and records jobs for one runtime; shared by both backends."""

    def __init__(self, runtime: JobHost, *, lease_seconds: float = DEFAULT_LEASE_SECONDS) -> None:
        if lease_seconds <= 0:
            raise ValueError("lease_seconds must be positive")
        self._runtime = runtime
        self._lease = dt.timedelta(seconds=lease_seconds)

    # -- claiming ----------------------------------------------------------

    def claim_next(self, worker: str) -> Claim | None:
        """Claim the most overdue job: queued and due, or running with its lease run out."""
        # Look before taking SQLite's write lock, so an idle poller does not hold up writers.
        with self._runtime.uow(QUEUE_ACTOR, write=False) as look:
            if look.session.scalar(select(Job.id).where(_due(utcnow())).limit(1)) is None:
                return None
        with self._runtime.uow(QUEUE_ACTOR) as uow:
            session = uow.session
            while True:
                now = utcnow()
                row = session.scalars(
                    select(Job)
                    .where(_due(now))
                    .order_by(Job.run_after, Job.created_at, Job.id)
                    .limit(1)
                    .with_for_update(skip_locked=True)
                ).first()
                if row is None:
                    uow.commit()
                    return None
                if row.status == RUNNING and row.attempts >= row.max_attempts:
                    self._fail_exhausted(uow, row, now)
                    continue
                claim = self._take(uow, row, worker, now)
                uow.commit()
                return claim

    def claim(self, job_id: str, worker: str) -> Claim | Refusal:
        """Claim one given job, whatever its lease, unless a live transaction holds it."""
        with self._runtime.uow(QUEUE_ACTOR) as uow:
            session = uow.session
            row = session.scalars(
                select(Job).where(Job.id == job_id).with_for_update(skip_locked=True)
            ).first()
            if row is None:
                status = session.scalar(select(Job.status).where(Job.id == job_id))
                return Refusal.MISSING if status is None else Refusal.BUSY
            if row.status in FINISHED:
                return Refusal.FINISHED
            now = utcnow()
            if row.status == RUNNING and _phased(row.name) and _lease_live(row, now):
                # A phased job holds no transaction while it runs; its live lease says it is running.
                return Refusal.BUSY
            if row.status == RUNNING and row.attempts >= row.max_attempts:
                self._fail_exhausted(uow, row, now)
                uow.commit()
                return Refusal.EXHAUSTED
            claim = self._take(uow, row, worker, now)
            uow.commit()
            return claim

    def _take(self, uow: UnitOfWork, row: Job, worker: str, now: dt.datetime) -> Claim:
        session = uow.session
        if row.status == RUNNING:
            self._lose_attempt(session, row, now)
            uow.after_commit(JOBS_RETRIED.labels(job=row.name).inc)
        row.status = RUNNING
        row.attempts += 1
        row.worker = worker
        row.lease_expires_at = now + self._lease
        session.add(JobAttempt(job_id=row.id, attempt=row.attempts, worker=worker, started_at=now))
        claim = Claim(row.id, row.name, dict(row.payload), row.attempts, row.max_attempts, worker)
        logger.debug("job claimed", extra=_extra(claim, lease_expires_at=row.lease_expires_at.isoformat()))
        return claim

    @staticmethod
    def _lose_attempt(session: Session, row: Job, now: dt.datetime) -> str:
        message = (
            f"lost: worker {row.worker!r} did not finish attempt {row.attempts} "
            "(it stopped, or lost its database connection, before committing)"
        )
        attempt = session.get(JobAttempt, (row.id, row.attempts))
        if attempt is not None and attempt.outcome is None:
            attempt.outcome = AttemptOutcome.LOST.value
            attempt.finished_at = now
            attempt.error = message
        logger.warning(
            "job attempt lost",
            extra={"job_id": row.id, "job_name": row.name, "attempt": row.attempts, "worker": row.worker},
        )
        return message

    def _fail_exhausted(self, uow: UnitOfWork, row: Job, now: dt.datetime) -> None:
        row.last_error = self._lose_attempt(uow.session, row, now)
        row.status = JobStatus.FAILED.value
        row.finished_at = now
        row.lease_expires_at = None
        uow.after_commit(JOBS_FAILED.labels(job=row.name).inc)
        logger.error(
            "job failed: its last attempt was lost",
            extra={"job_id": row.id, "job_name": row.name, "attempt": row.attempts},
        )

    # -- running -----------------------------------------------------------

    def run_next(self, worker: str) -> RunResult | None:
        claim = self.claim_next(worker)
        return None if claim is None else self.execute(claim)

    def execute(self, claim: Claim) -> RunResult:
        """Run a claimed attempt: the job's effects and its "succeeded" mark commit together.

        An ``Exception`` from the job rolls its effects back and is recorded (a
        retry or, after the last attempt, a failure). Anything else (a
        ``KeyboardInterrupt``, ``SystemExit``) propagates like a killed worker:
        nothing is recorded and the lease runs out.
        """
        definition: JobDefinition | None
        try:
            definition = get_job(claim.name)
        except UnknownJobError:
            definition = None
        if definition is not None and definition.phased:
            return self._execute_phased(claim, definition)
        uow = self._job_uow(claim)
        failure: Exception | None = None
        with uow:
            row = uow.session.scalars(select(Job).where(Job.id == claim.job_id).with_for_update()).first()
            if not _holds(row, claim):
                return self._fenced(claim)
            assert row is not None
            try:
                if definition is None:
                    raise UnknownJobError(claim.name)
                context = JobContext(
                    job_id=claim.job_id,
                    name=claim.name,
                    attempt=claim.attempt,
                    max_attempts=claim.max_attempts,
                    worker=claim.worker,
                    settings=self._runtime.settings,
                    uow=uow,
                    jobs=self._runtime.jobs,
                )
                definition(context, claim.payload)
                self._mark_succeeded(uow, row, claim)
                uow.commit_for_runner()
            except Exception as exc:
                failure = exc  # the unit of work rolls back on leaving the block
        if failure is not None:
            return self._record_failure(claim, failure, definition)
        return self._succeeded(claim)

    def _job_uow(self, claim: Claim) -> JobUnitOfWork:
        factory = self._runtime.uow
        return JobUnitOfWork(
            factory.engine, factory.ledger, Actor.system(f"job:{claim.name}"), enqueuer=factory.enqueuer
        )

    def _mark_succeeded(self, uow: UnitOfWork, row: Job, claim: Claim) -> None:
        now = utcnow()
        row.status = JobStatus.SUCCEEDED.value
        row.finished_at = now
        row.lease_expires_at = None
        self._close_attempt(uow.session, claim, AttemptOutcome.SUCCEEDED, now, None)

    @staticmethod
    def _succeeded(claim: Claim) -> RunResult:
        JOBS_SUCCEEDED.labels(job=claim.name).inc()
        logger.info("job succeeded", extra=_extra(claim))
        return RunResult(Outcome.SUCCEEDED, claim)

    @contextlib.contextmanager
    def _final(self, claim: Claim) -> Iterator[JobUnitOfWork]:
        """A phased job's last transaction: check the claim, let the job write, mark it succeeded, commit."""
        uow = self._job_uow(claim)
        with uow:
            row = uow.session.scalars(select(Job).where(Job.id == claim.job_id).with_for_update()).first()
            if not _holds(row, claim):
                raise JobFencedError(f"job {claim.job_id} attempt {claim.attempt} is no longer this worker's")
            assert row is not None
            yield uow
            self._mark_succeeded(uow, row, claim)
            uow.commit_for_runner()

    def _execute_phased(self, claim: Claim, definition: JobDefinition) -> RunResult:
        """Run a phased job with no transaction open; its ``finish`` (or ours) commits the mark."""
        context = PhasedJobContext(
            job_id=claim.job_id,
            name=claim.name,
            attempt=claim.attempt,
            max_attempts=claim.max_attempts,
            worker=claim.worker,
            settings=self._runtime.settings,
            uow_factory=self._runtime.uow,
            _finish=lambda: self._final(claim),
        )
        try:
            definition(context, claim.payload)
            if not context.finished:
                with context.finish():
                    pass
        except JobFencedError:
            return self._fenced(claim)
        except Exception as exc:
            return self._record_failure(claim, exc, definition)
        return self._succeeded(claim)

    def _record_failure(self, claim: Claim, exc: Exception, definition: JobDefinition | None) -> RunResult:
        error = describe_error(exc)
        with self._runtime.uow(QUEUE_ACTOR) as uow:
            row = uow.session.scalars(select(Job).where(Job.id == claim.job_id).with_for_update()).first()
            if not _holds(row, claim):
                return self._fenced(claim)
            assert row is not None
            now = utcnow()
            self._close_attempt(uow.session, claim, AttemptOutcome.FAILED, now, error)
            row.last_error = error
            row.lease_expires_at = None
            if row.attempts >= row.max_attempts:
                row.status = JobStatus.FAILED.value
                row.finished_at = now
                result = RunResult(Outcome.FAILED, claim, error=error)
            else:
                base = definition.retry_delay_seconds if definition else DEFAULT_RETRY_DELAY_SECONDS
                row.status = JobStatus.QUEUED.value
                row.worker = None
                row.run_after = now + dt.timedelta(seconds=retry_delay(base, claim.attempt))
                result = RunResult(Outcome.RETRY, claim, run_after=row.run_after, error=error)
            uow.commit()
        error_type = type(exc).__qualname__
        if result.outcome is Outcome.FAILED:
            JOBS_FAILED.labels(job=claim.name).inc()
            logger.error("job failed", extra=_extra(claim, error_type=error_type, error=str(exc)))
        else:
            JOBS_RETRIED.labels(job=claim.name).inc()
            assert result.run_after is not None
            logger.warning(
                "job attempt failed; will retry",
                extra=_extra(
                    claim, error_type=error_type, error=str(exc), run_after=result.run_after.isoformat()
                ),
            )
        return result

    @staticmethod
    def _close_attempt(
        session: Session, claim: Claim, outcome: AttemptOutcome, now: dt.datetime, error: str | None
    ) -> None:
        attempt = session.get(JobAttempt, (claim.job_id, claim.attempt))
        if attempt is not None:
            attempt.outcome = outcome.value
            attempt.finished_at = now
            attempt.error = error

    @staticmethod
    def _fenced(claim: Claim) -> RunResult:
        logger.warning("job claim passed to another worker; not running it", extra=_extra(claim))
        return RunResult(Outcome.FENCED, claim)
