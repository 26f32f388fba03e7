"""The one interface for background work, and the read-only views it returns."""

from __future__ import annotations

import builtins
import datetime as dt
import threading
from dataclasses import dataclass
from typing import Any, Protocol

from clearinghouse.jobs.models import Job, JobAttempt
from clearinghouse.storage import UnitOfWork


@dataclass(frozen=True)
class JobInfo:
    """A job row as it stood when read."""

    id: str
    name: str
    payload: dict[str, Any]
    status: str
    attempts: int
    max_attempts: int
    run_after: dt.datetime
    lease_expires_at: dt.datetime | None
    worker: str | None
    idempotency_key: str | None
    last_error: str | None
    created_at: dt.datetime
    finished_at: dt.datetime | None

    @classmethod
    def of(cls, row: Job) -> JobInfo:
        return cls(
            id=row.id,
            name=row.name,
            payload=dict(row.payload),
            status=row.status,
            attempts=row.attempts,
            max_attempts=row.max_attempts,
            run_after=row.run_after,
            lease_expires_at=row.lease_expires_at,
            worker=row.worker,
            idempotency_key=row.idempotency_key,
            last_error=row.last_error,
            created_at=row.created_at,
            finished_at=row.finished_at,
        )


@dataclass(frozen=True)
class JobAttemptInfo:
    """One attempt at a job, as recorded in ``job_attempts``."""

    job_id: str
    attempt: int
    worker: str
    started_at: dt.datetime
    finished_at: dt.datetime | None
    outcome: str | None
    error: str | None

    @classmethod
    def of(cls, row: JobAttempt) -> JobAttemptInfo:
        return cls(
            job_id=row.job_id,
            attempt=row.attempt,
            worker=row.worker,
            started_at=row.started_at,
            finished_at=row.finished_at,
            outcome=row.outcome,
            error=row.error,
        )


class JobQueue(Protocol):
    """Background work: enqueue by name, run by workers, each job's effects committed exactly once."""

    def enqueue_in(
        self,
        uow: UnitOfWork,
        name: str,
        payload: dict[str, Any],
        *,
        idempotency_key: str | None = None,
        run_after: dt.datetime | None = None,
    ) -> str:
        """The hook behind :meth:`UnitOfWork.enqueue <clearinghouse.storage.UnitOfWork.enqueue>`.

        Writes the job (and, on procrastinate, its delivery) in ``uow``'s
        transaction, so it exists if and only if the caller's change commits and
        is deliverable the moment it does. A second enqueue with the same
        ``idempotency_key`` returns the first job's id and queues nothing.
        """
        ...

    def enqueue(
        self,
        name: str,
        payload: dict[str, Any],
        *,
        idempotency_key: str | None = None,
        run_after: dt.datetime | None = None,
        uow: UnitOfWork | None = None,
    ) -> str:
        """Queue job ``name`` with ``payload``; return its id.

        Prefer ``uow.enqueue(...)`` in a use case. Without ``uow`` the job gets a
        unit of work of its own; with one this is ``uow.enqueue`` (the same path).
        """
        ...

    def get(self, job_id: str) -> JobInfo | None: ...

    def list(
        self, status: str | None = None, limit: int = 100, *, name: str | None = None
    ) -> builtins.list[JobInfo]:
        """Jobs, newest first, optionally of one status and/or name."""
        ...

    def history(self, job_id: str) -> builtins.list[JobAttemptInfo]:
        """The attempts at a job, oldest first."""
        ...

    def run_pending(self, max_jobs: int | None = None) -> int:
        """Run the jobs that are due now, in this thread; return how many attempts ran."""
        ...

    def start(self) -> None:
        """Start running jobs in the background of this process (where the backend does that)."""
        ...

    def stop(self) -> None:
        """Stop what :meth:`start` started, waiting for a running job to finish."""
        ...

    def run_worker(
        self,
        *,
        concurrency: int = 1,
        once: bool = False,
        stop_event: threading.Event | None = None,
    ) -> None:
        """Work until ``stop_event`` is set (or SIGINT/SIGTERM without one); ``once``: until none is due."""
        ...
