"""The in-process backend: workers are threads that claim due jobs straight from the ``jobs`` table.

Works on SQLite and PostgreSQL. A claim takes the most overdue job under a
lease (PostgreSQL: ``FOR UPDATE SKIP LOCKED``; SQLite: the write lock of a
``BEGIN IMMEDIATE`` unit of work). On SQLite a running job holds the database
write lock until it commits, so one worker thread is all SQLite can use.
"""

from __future__ import annotations

import builtins
import contextlib
import datetime as dt
import logging
import threading
from typing import TYPE_CHECKING, Any

from clearinghouse.jobs._protocol import JobAttemptInfo, JobInfo
from clearinghouse.jobs._runner import DEFAULT_LEASE_SECONDS, JobRunner, Outcome, worker_name
from clearinghouse.jobs._signals import stop_on_signals
from clearinghouse.jobs._store import QUEUE_ACTOR, JobStore
from clearinghouse.storage import UnitOfWork

if TYPE_CHECKING:
    from clearinghouse.jobs._host import JobHost

logger = logging.getLogger("clearinghouse.jobs")

DEFAULT_POLL_SECONDS = 0.5
STOP_TIMEOUT_SECONDS = 60.0


class InProcessJobQueue:
    """:class:`~clearinghouse.jobs.JobQueue` run by threads of this process (or ``clearinghouse worker``)."""

    def __init__(
        self,
        runtime: JobHost,
        *,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        poll_seconds: float = DEFAULT_POLL_SECONDS,
    ) -> None:
        self._runtime_uow = runtime.uow
        self._store = JobStore(runtime.uow)
        self._sqlite = runtime.engine.dialect.name == "sqlite"
        self._runner = JobRunner(runtime, lease_seconds=lease_seconds)
        self._poll_seconds = poll_seconds
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        # Set after every commit that queued a job here: this process's workers wake at once.
        self._wake = threading.Event()

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
        job_id = self._store.enqueue_in(
            uow, name, payload, idempotency_key=idempotency_key, run_after=run_after
        )
        uow.after_commit(self._wake.set)
        return job_id

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
        with self._runtime_uow(QUEUE_ACTOR) as own:
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

    # -- running -----------------------------------------------------------

    def run_pending(self, max_jobs: int | None = None) -> int:
        return self._drain(worker_name(f"run-pending:{threading.current_thread().name}"), max_jobs, None)

    def _drain(self, worker: str, max_jobs: int | None, stop: threading.Event | None) -> int:
        ran = 0
        while max_jobs is None or ran < max_jobs:
            if stop is not None and stop.is_set():
                break
            result = self._runner.run_next(worker)
            if result is None:
                break
            if result.outcome is not Outcome.FENCED:
                ran += 1
        return ran

    def _work(self, stop: threading.Event, label: str) -> None:
        worker = worker_name(label)
        logger.info("job worker started", extra={"worker": worker})
        while not stop.is_set():
            self._wake.clear()
            try:
                ran = self._drain(worker, None, stop)
            except Exception:
                logger.exception("job worker error; pausing before the next poll", extra={"worker": worker})
                stop.wait(self._poll_seconds)
                continue
            if ran == 0:
                # Woken at once by a commit in this process that queued a job; the
                # poll finds jobs queued by other processes (and ones now due).
                self._wake.wait(self._poll_seconds)
        logger.info("job worker stopped", extra={"worker": worker})

    @property
    def running(self) -> bool:
        """Whether the background thread of :meth:`start` is alive."""
        thread = self._thread
        return thread is not None and thread.is_alive()

    def start(self) -> None:
        with self._lock:
            if self.running:
                return
            self._stop = threading.Event()
            self._thread = threading.Thread(
                target=self._work, args=(self._stop, "background"), name="clearinghouse-jobs", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        with self._lock:
            thread, self._thread = self._thread, None
            self._stop.set()
            self._wake.set()
        if thread is not None:
            thread.join(STOP_TIMEOUT_SECONDS)
            if thread.is_alive():
                logger.warning(
                    "job thread still running a job after the stop timeout; leaving it as a daemon"
                )

    def run_worker(
        self,
        *,
        concurrency: int = 1,
        once: bool = False,
        stop_event: threading.Event | None = None,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        if once:
            self.run_pending()
            return
        if concurrency > 1 and self._sqlite:
            # A running job holds SQLite's one write lock until it commits: more threads only wait.
            logger.warning("SQLite runs one job at a time; using one worker thread", extra={"concurrency": 1})
            concurrency = 1
        stop = stop_event if stop_event is not None else threading.Event()
        signals = stop_on_signals(stop) if stop_event is None else contextlib.nullcontext()
        with signals:
            threads = [
                threading.Thread(
                    target=self._work,
                    args=(stop, f"worker-{i}"),
                    name=f"clearinghouse-worker-{i}",
                    daemon=True,
                )
                for i in range(concurrency)
            ]
            for thread in threads:
                thread.start()
            while not stop.wait(self._poll_seconds):
                if not any(thread.is_alive() for thread in threads):
                    break
            stop.set()
            self._wake.set()
            for thread in threads:
                thread.join()
