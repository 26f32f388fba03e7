"""Writing and reading job rows: the outbox insert (idempotent, in the caller's transaction), get, list."""

from __future__ import annotations

import builtins
import datetime as dt
import json
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from clearinghouse.jobs._metrics import JOBS_ENQUEUED
from clearinghouse.jobs._protocol import JobAttemptInfo, JobInfo
from clearinghouse.jobs._registry import get_job
from clearinghouse.jobs.models import Job, JobAttempt, JobStatus
from clearinghouse.storage import Actor, UnitOfWork, UnitOfWorkFactory, new_id, utcnow

logger = logging.getLogger("clearinghouse.jobs")

QUEUE_ACTOR = Actor.system("jobs")

OnInsert = Callable[[Session, Job], None]
"""Called in the inserting transaction once a new job row is flushed (a backend's hand-off)."""


class JobStore:
    def __init__(self, uow: UnitOfWorkFactory, *, on_insert: OnInsert | None = None) -> None:
        self._uow = uow
        self._on_insert = on_insert

    def enqueue_in(
        self,
        uow: UnitOfWork,
        name: str,
        payload: dict[str, Any],
        *,
        idempotency_key: str | None = None,
        run_after: dt.datetime | None = None,
    ) -> str:
        """Write job ``name`` in ``uow``'s transaction (the outbox row); return its id.

        Metrics and the log line follow the commit; ``on_insert`` (the
        backend's hand-off) runs in the same transaction.
        """
        row = _new_row(name, payload, idempotency_key, run_after)
        job_id, created = self._insert(uow.session, row)
        if created:
            extra = {
                "job_id": row.id,
                "job_name": name,
                "run_after": row.run_after.isoformat(),
                "idempotency_key": idempotency_key,
            }
            uow.after_commit(lambda: _enqueued(extra))
        return job_id

    def enqueue(
        self,
        name: str,
        payload: dict[str, Any],
        *,
        idempotency_key: str | None = None,
        run_after: dt.datetime | None = None,
    ) -> str:
        """Queue a job in a unit of work of its own (for callers with no change to commit with it)."""
        with self._uow(QUEUE_ACTOR) as own:
            job_id = self.enqueue_in(own, name, payload, idempotency_key=idempotency_key, run_after=run_after)
            own.commit()
        return job_id

    def _insert(self, session: Session, row: Job) -> tuple[str, bool]:
        key = row.idempotency_key
        if key is None:
            self._add(session, row)
            return row.id, True
        existing = session.scalar(select(Job.id).where(Job.idempotency_key == key))
        if existing is not None:
            return existing, False
        try:
            # A savepoint, so losing a race on the key leaves the caller's transaction usable.
            with session.begin_nested():
                self._add(session, row)
        except IntegrityError:
            existing = session.scalar(select(Job.id).where(Job.idempotency_key == key))
            if existing is None:
                raise
            return existing, False
        return row.id, True

    def _add(self, session: Session, row: Job) -> None:
        session.add(row)
        session.flush()
        if self._on_insert is not None:
            self._on_insert(session, row)

    def get(self, job_id: str) -> JobInfo | None:
        with self._uow(QUEUE_ACTOR, write=False) as uow:
            row = uow.session.get(Job, job_id)
            return None if row is None else JobInfo.of(row)

    def list(
        self, status: str | None = None, limit: int = 100, *, name: str | None = None
    ) -> builtins.list[JobInfo]:
        query = select(Job).order_by(Job.created_at.desc(), Job.id).limit(limit)
        if status is not None:
            query = query.where(Job.status == JobStatus(status).value)
        if name is not None:
            query = query.where(Job.name == name)
        with self._uow(QUEUE_ACTOR, write=False) as uow:
            return [JobInfo.of(row) for row in uow.session.scalars(query)]

    def history(self, job_id: str) -> builtins.list[JobAttemptInfo]:
        query = select(JobAttempt).where(JobAttempt.job_id == job_id).order_by(JobAttempt.attempt)
        with self._uow(QUEUE_ACTOR, write=False) as uow:
            return [JobAttemptInfo.of(row) for row in uow.session.scalars(query)]


def queued_behind(uow: UnitOfWork, name: str) -> bool:
    """Whether a job ``name`` is queued, due, and cannot start before ``uow`` commits, so that it
    will see what ``uow`` writes: queuing another would only repeat its work (a job that sweeps
    "everything pending", such as deduplication).

    Only SQLite can promise that: a writing unit of work holds its one write lock from BEGIN,
    and claiming a job needs that lock, so the queued job stays queued until this commits and runs
    in a later transaction. On PostgreSQL a worker may be claiming it right now: False, and the
    caller queues its own.
    """
    if uow.engine.dialect.name != "sqlite" or not uow.write:
        return False
    found = uow.session.scalar(
        select(Job.id)
        .where(Job.name == name, Job.status == JobStatus.QUEUED.value, Job.run_after <= utcnow())
        .limit(1)
    )
    return found is not None


def _new_row(
    name: str, payload: dict[str, Any], idempotency_key: str | None, run_after: dt.datetime | None
) -> Job:
    definition = get_job(name)
    try:
        payload = json.loads(json.dumps(payload))
    except (TypeError, ValueError) as exc:
        raise TypeError(f"a job payload must be JSON: {exc}") from exc
    if not isinstance(payload, dict):
        raise TypeError("a job payload is a JSON object (a dict)")
    if run_after is not None and run_after.tzinfo is None:
        raise ValueError("run_after must be timezone-aware")
    return Job(
        id=new_id(),
        name=name,
        payload=payload,
        status=JobStatus.QUEUED.value,
        attempts=0,
        max_attempts=definition.max_attempts,
        run_after=run_after or utcnow(),
        idempotency_key=idempotency_key,
    )


def _enqueued(extra: dict[str, Any]) -> None:
    JOBS_ENQUEUED.labels(job=extra["job_name"]).inc()
    logger.info("job enqueued", extra=extra)
