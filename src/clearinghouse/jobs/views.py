"""HTTP routes for background jobs' records."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from clearinghouse.http_deps import SignedIn
from clearinghouse.jobs import services
from clearinghouse.jobs._protocol import JobAttemptInfo, JobInfo
from clearinghouse.jobs.models import JobStatus

router = APIRouter(prefix="/jobs", tags=["jobs"])


class JobAttemptOut(BaseModel):
    attempt: int
    worker: str
    started_at: dt.datetime
    finished_at: dt.datetime | None
    outcome: str | None
    error: str | None

    @classmethod
    def of(cls, a: JobAttemptInfo) -> JobAttemptOut:
        return cls(
            attempt=a.attempt,
            worker=a.worker,
            started_at=a.started_at,
            finished_at=a.finished_at,
            outcome=a.outcome,
            error=a.error,
        )


class JobOut(BaseModel):
    id: str
    name: str
    payload: dict[str, Any]
    status: str
    attempts: int
    max_attempts: int
    run_after: dt.datetime
    last_error: str | None
    created_at: dt.datetime
    finished_at: dt.datetime | None
    history: list[JobAttemptOut] | None = None

    @classmethod
    def of(cls, j: JobInfo, history: list[JobAttemptInfo] | None = None) -> JobOut:
        return cls(
            id=j.id,
            name=j.name,
            payload=j.payload,
            status=j.status,
            attempts=j.attempts,
            max_attempts=j.max_attempts,
            run_after=j.run_after,
            last_error=j.last_error,
            created_at=j.created_at,
            finished_at=j.finished_at,
            history=[JobAttemptOut.of(a) for a in history] if history is not None else None,
        )


@router.get("", summary="Background jobs, newest first (operators, coordinators, auditors)")
def list_jobs(
    context: SignedIn,
    status: JobStatus | None = None,
    name: str | None = Query(None, max_length=100),
    limit: int = Query(100, ge=1, le=1000),
) -> list[JobOut]:
    jobs = services.list_jobs(
        context.runtime.jobs, context.subject, status=status.value if status else None, name=name, limit=limit
    )
    return [JobOut.of(j) for j in jobs]


@router.get("/{job_id}", summary="One job with every attempt and its error")
def get_job(job_id: str, context: SignedIn) -> JobOut:
    info, history = services.get_job(context.runtime.jobs, context.subject, job_id)
    return JobOut.of(info, history)
