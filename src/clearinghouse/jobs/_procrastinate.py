"""The procrastinate backend (PostgreSQL): any number of ``clearinghouse worker`` processes share the work.

Our ``jobs`` row stays the record of a job; procrastinate only delivers it.
Each row gets one procrastinate job (task :data:`TASK_NAME`, args
``{"job_id": ...}``, ``lock`` and ``queueing_lock`` both the row id) that is
inserted **in the same transaction as the row** — through the caller's unit of
work when one is given — so a committed job always has a delivery and a rolled
back one has neither: no crash window can lose a job.

A delivery claims the row through the same :class:`JobRunner` as the
in-process backend and runs it there, so the job's effects and its
"succeeded" mark commit together. A redelivery (a worker killed after our
commit but before procrastinate recorded the end) finds the row finished and
does nothing; a delivery that finds the row locked by a live run is put back
for later. Our attempts and back-off drive procrastinate's retries: a failed
attempt re-queues the delivery for the row's ``run_after``; the last one fails
it.

Each worker also runs maintenance every ``maintenance_seconds``: it re-queues
the deliveries of workers whose heartbeat stopped (procrastinate prunes such
workers but leaves their jobs "doing"), and it sweeps for rows left without a
live delivery (rows queued by the in-process backend before a switch, or whose
delivery procrastinate gave up on) and defers one for each.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import datetime as dt
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import psycopg
from procrastinate import App, BaseRetryStrategy, PsycopgConnector, RetryDecision, SyncPsycopgConnector
from procrastinate import JobContext as DeliveryContext
from procrastinate import exceptions as procrastinate_errors
from procrastinate import jobs as procrastinate_jobs
from procrastinate.manager import JobManager
from procrastinate.schema import SchemaManager
from procrastinate.worker import Worker
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from clearinghouse.jobs._protocol import JobAttemptInfo, JobInfo
from clearinghouse.jobs._runner import DEFAULT_LEASE_SECONDS, JobRunner, Outcome, Refusal, worker_name
from clearinghouse.jobs._signals import stop_on_signals
from clearinghouse.jobs._store import QUEUE_ACTOR, JobStore
from clearinghouse.jobs.models import Job
from clearinghouse.storage import UnitOfWork, utcnow

if TYPE_CHECKING:
    from clearinghouse.jobs._host import JobHost

logger = logging.getLogger("clearinghouse.jobs")

TASK_NAME = "clearinghouse.jobs.run"
QUEUE_NAME = "clearinghouse"
# pg_advisory_xact_lock keys: applying procrastinate's schema; one sweeper at a time.
_SCHEMA_LOCK_KEY = 7_261_880_001
_SWEEP_LOCK_KEY = 7_261_880_002
_SWEEP_BATCH = 500
_MAX_ERROR_REDELIVERIES = 100

_ORPHANS = text(
    """
    SELECT j.id, j.run_after
      FROM jobs AS j
     WHERE j.status IN ('queued', 'running')
       AND j.created_at < :cutoff
       AND NOT EXISTS (SELECT 1 FROM procrastinate_jobs AS p
                        WHERE p.queueing_lock = j.id AND p.status = 'todo')
       AND NOT EXISTS (SELECT 1 FROM procrastinate_jobs AS p
                        WHERE p.lock = j.id AND p.status = 'doing')
     ORDER BY j.created_at
     LIMIT :limit
    """
)


@dataclass(frozen=True)
class WorkerTimings:
    """How often a procrastinate worker checks in and tidies up (seconds)."""

    heartbeat_seconds: float = 10.0
    stalled_after_seconds: float = 30.0  # no heartbeat for this long: the worker is dead
    poll_seconds: float = 5.0  # fallback poll; LISTEN/NOTIFY wakes workers at once
    maintenance_seconds: float = 15.0
    sweep_after_seconds: float = 120.0  # a row this old with no live delivery gets a new one
    busy_retry_seconds: float = 5.0
    error_retry_seconds: float = 10.0

    def __post_init__(self) -> None:
        if self.stalled_after_seconds < 2 * self.heartbeat_seconds:
            raise ValueError("stalled_after_seconds must be at least twice heartbeat_seconds")


def libpq_url(database_url: str) -> str:
    """``postgresql+psycopg://...`` (SQLAlchemy) as a plain libpq ``postgresql://...`` URL."""
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        raise ValueError("the procrastinate job backend needs a PostgreSQL database")
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def apply_schema(conninfo: str) -> bool:
    """Create procrastinate's tables and functions unless they exist; True if it created them."""
    with psycopg.connect(conninfo) as conn:
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK_KEY,))
        row = conn.execute("SELECT to_regclass('procrastinate_jobs') IS NOT NULL").fetchone()
        if row is not None and row[0]:
            return False
        conn.execute(SchemaManager.get_schema())
    logger.info("procrastinate schema applied")
    return True


class _Redeliver(Exception):
    """Raised by the delivery task: have procrastinate deliver this job again at ``retry_at``."""

    def __init__(self, retry_at: dt.datetime, reason: str) -> None:
        super().__init__(f"{reason}; delivering again at {retry_at.isoformat()}")
        self.retry_at = retry_at


class JobFailedError(Exception):
    """Raised by the delivery task when the job has failed for good (procrastinate marks it failed)."""


class _RetryPolicy(BaseRetryStrategy):
    def __init__(self, error_retry_seconds: float) -> None:
        self.error_retry_seconds = error_retry_seconds

    def get_retry_decision(
        self, *, exception: BaseException, job: procrastinate_jobs.Job
    ) -> RetryDecision | None:
        if isinstance(exception, _Redeliver):
            return RetryDecision(retry_at=exception.retry_at)
        if isinstance(exception, JobFailedError) or job.attempts >= _MAX_ERROR_REDELIVERIES:
            return None
        # The runner could not reach the database (or the like): the row is unchanged, try later.
        return RetryDecision(retry_at=utcnow() + dt.timedelta(seconds=self.error_retry_seconds))


class _RunCounter:
    """Counts attempts run by one worker session and stops it after ``limit``."""

    def __init__(self, limit: int | None) -> None:
        self.count = 0
        self.limit = limit
        self.on_limit: Callable[[], None] | None = None
        self._lock = threading.Lock()

    def add(self) -> None:
        with self._lock:
            self.count += 1
            reached = self.limit is not None and self.count >= self.limit
        if reached and self.on_limit is not None:
            self.on_limit()


class ProcrastinateJobQueue:
    """:class:`~clearinghouse.jobs.JobQueue` delivered by procrastinate to ``clearinghouse worker``s."""

    def __init__(
        self,
        runtime: JobHost,
        *,
        timings: WorkerTimings | None = None,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
    ) -> None:
        self._runtime = runtime
        self._conninfo = libpq_url(runtime.settings.database_url)
        self.timings = timings or WorkerTimings()
        # Only ever used with the caller's own connection (no pool is opened).
        self._deferrer = JobManager(SyncPsycopgConnector(conninfo=self._conninfo))
        self._store = JobStore(runtime.uow, on_insert=self._defer_new)
        self._runner = JobRunner(runtime, lease_seconds=lease_seconds)
        self._schema_lock = threading.Lock()
        self._schema_ready = False

    def prepare(self) -> None:
        """Apply procrastinate's schema if it is missing (once per process; safe to race)."""
        with self._schema_lock:
            if not self._schema_ready:
                apply_schema(self._conninfo)
                self._schema_ready = True

    # -- the queue ---------------------------------------------------------

    def enqueue_in(
        self,
        uow: UnitOfWork,
        name: str,
        payload: dict[str, Any],
        *,
        idempotency_key: str | None = None,
        run_after: dt.datetime | None = None,
    ) -> str:
        """Write the row and its procrastinate delivery on ``uow``'s connection, in its transaction.

        procrastinate's insert trigger sends its NOTIFY, which PostgreSQL
        delivers at commit: listening workers pick the job up at once.
        """
        self.prepare()
        return self._store.enqueue_in(
            uow, name, payload, idempotency_key=idempotency_key, run_after=run_after
        )

    def enqueue(
        self,
        name: str,
        payload: dict[str, Any],
        *,
        idempotency_key: str | None = None,
        run_after: dt.datetime | None = None,
        uow: UnitOfWork | None = None,
    ) -> str:
        if uow is not None:
            return self.enqueue_in(uow, name, payload, idempotency_key=idempotency_key, run_after=run_after)
        with self._runtime.uow(QUEUE_ACTOR) as own:
            job_id = self.enqueue_in(own, name, payload, idempotency_key=idempotency_key, run_after=run_after)
            own.commit()
        return job_id

    def get(self, job_id: str) -> JobInfo | None:
        return self._store.get(job_id)

    def list(
        self, status: str | None = None, limit: int = 100, *, name: str | None = None
    ) -> builtins.list[JobInfo]:
        return self._store.list(status, limit, name=name)

    def history(self, job_id: str) -> builtins.list[JobAttemptInfo]:
        return self._store.history(job_id)

    def _defer_new(self, session: Session, row: Job) -> None:
        self._defer(session, row.id, row.run_after)

    def _defer(self, session: Session, job_id: str, run_after: dt.datetime) -> None:
        """Insert the delivery for ``job_id`` on ``session``'s connection, inside its transaction."""
        connection = session.connection().connection.driver_connection
        delivery = procrastinate_jobs.Job(
            queue=QUEUE_NAME,
            task_name=TASK_NAME,
            lock=job_id,
            queueing_lock=job_id,
            task_kwargs={"job_id": job_id},
            scheduled_at=run_after if run_after > utcnow() else None,
        )
        self._deferrer.batch_defer_jobs([delivery], connection=connection)

    # -- delivering --------------------------------------------------------

    def _deliver(self, context: DeliveryContext, job_id: str, runs: _RunCounter) -> None:
        claim = self._runner.claim(job_id, worker_name(f"procrastinate:{context.job.id}"))
        extra = {"job_id": job_id, "procrastinate_job_id": context.job.id}
        if claim is Refusal.MISSING:
            logger.warning("delivery for a job that does not exist; dropped", extra=extra)
            return
        if claim is Refusal.FINISHED:
            logger.info("delivery for a finished job; nothing to do", extra=extra)
            return
        if claim is Refusal.BUSY:
            raise _Redeliver(
                utcnow() + dt.timedelta(seconds=self.timings.busy_retry_seconds), "job is running"
            )
        if claim is Refusal.EXHAUSTED:
            raise JobFailedError("the worker running the job's last attempt was lost")
        result = self._runner.execute(claim)
        if result.outcome is not Outcome.FENCED:
            runs.add()
        if result.outcome is Outcome.RETRY:
            assert result.run_after is not None
            raise _Redeliver(result.run_after, f"attempt {claim.attempt} failed")
        if result.outcome is Outcome.FAILED:
            assert result.error is not None
            raise JobFailedError(result.error.splitlines()[0])

    def _app(self, runs: _RunCounter, pool_size: int) -> App:
        app = App(connector=PsycopgConnector(conninfo=self._conninfo, min_size=1, max_size=pool_size))

        def run_job(context: DeliveryContext, job_id: str) -> None:
            self._deliver(context, job_id, runs)

        app.task(
            name=TASK_NAME,
            queue=QUEUE_NAME,
            pass_context=True,
            retry=_RetryPolicy(self.timings.error_retry_seconds),
        )(run_job)
        return app

    # -- maintenance -------------------------------------------------------

    async def _maintain(self, app: App) -> None:
        """Re-queue deliveries stuck with dead workers; give orphaned rows a delivery."""
        manager = app.job_manager
        stalled_after = self.timings.stalled_after_seconds
        try:
            for stalled in await manager.get_stalled_jobs(
                task_name=TASK_NAME, seconds_since_heartbeat=stalled_after
            ):
                try:
                    await manager.retry_job(stalled)
                except procrastinate_errors.ConnectorException:
                    logger.exception(
                        "could not re-queue a stalled delivery", extra={"procrastinate_job_id": stalled.id}
                    )
                    continue
                logger.warning(
                    "re-queued the delivery of a stalled worker",
                    extra={"procrastinate_job_id": stalled.id, "job_id": stalled.task_kwargs.get("job_id")},
                )
            await manager.prune_stalled_workers(stalled_after)
            await asyncio.to_thread(self.sweep)
        except Exception:
            logger.exception("job maintenance failed; trying again later")

    def sweep(self) -> int:
        """Defer a delivery for each old enough queued or running row that has none; return how many."""
        cutoff = utcnow() - dt.timedelta(seconds=self.timings.sweep_after_seconds)
        deferred = 0
        with self._runtime.uow(QUEUE_ACTOR) as uow:
            session = uow.session
            if not session.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": _SWEEP_LOCK_KEY}):
                return 0
            for job_id, run_after in session.execute(
                _ORPHANS, {"cutoff": cutoff, "limit": _SWEEP_BATCH}
            ).all():
                try:
                    with session.begin_nested():
                        self._defer(session, job_id, run_after)
                except procrastinate_errors.UniqueViolation:
                    continue  # a delivery appeared meanwhile
                deferred += 1
                logger.warning("deferred a delivery for a job that had none", extra={"job_id": job_id})
            uow.commit()
        return deferred

    async def _maintenance_loop(self, app: App) -> None:
        while True:
            await asyncio.sleep(self.timings.maintenance_seconds)
            await self._maintain(app)

    # -- workers -----------------------------------------------------------

    async def _serve(
        self, *, concurrency: int, once: bool, stop: threading.Event | None, max_jobs: int | None
    ) -> int:
        runs = _RunCounter(max_jobs)
        app = self._app(runs, pool_size=concurrency + 4)
        async with app.open_async():
            await self._maintain(app)
            worker = Worker(
                app,
                queues=[QUEUE_NAME],
                name=f"clearinghouse-{os.getpid()}",
                concurrency=concurrency,
                wait=not once,
                listen_notify=not once,
                fetch_job_polling_interval=self.timings.poll_seconds,
                delete_jobs="successful",
                install_signal_handlers=False,
                update_heartbeat_interval=self.timings.heartbeat_seconds,
                stalled_worker_timeout=self.timings.stalled_after_seconds,
            )
            runs.on_limit = worker.stop
            side: builtins.list[asyncio.Task[None]] = []
            if not once:
                side.append(asyncio.create_task(self._maintenance_loop(app)))
            if stop is not None:
                side.append(asyncio.create_task(_stop_when_set(stop, worker)))
            try:
                await worker.run()  # type: ignore[no-untyped-call]  # procrastinate leaves it unannotated
            finally:
                for task in side:
                    task.cancel()
                await asyncio.gather(*side, return_exceptions=True)
        return runs.count

    def run_pending(self, max_jobs: int | None = None) -> int:
        """Deliver what is due now through a procrastinate worker in this thread; return attempts run."""
        if max_jobs is not None and max_jobs < 1:
            return 0
        self.prepare()
        return asyncio.run(self._serve(concurrency=1, once=True, stop=None, max_jobs=max_jobs))

    def start(self) -> None:
        """Nothing to start: ``clearinghouse worker`` processes run the jobs."""

    def stop(self) -> None:
        """Nothing to stop (see :meth:`start`)."""

    def run_worker(
        self,
        *,
        concurrency: int = 1,
        once: bool = False,
        stop_event: threading.Event | None = None,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.prepare()
        stop = stop_event if stop_event is not None else threading.Event()
        signals = stop_on_signals(stop) if stop_event is None else contextlib.nullcontext()
        with signals:
            asyncio.run(self._serve(concurrency=concurrency, once=once, stop=stop, max_jobs=None))


async def _stop_when_set(stop: threading.Event, worker: Worker, interval: float = 0.2) -> None:
    while not stop.is_set():
        await asyncio.sleep(interval)
    worker.stop()  # type: ignore[no-untyped-call]  # procrastinate leaves it unannotated
