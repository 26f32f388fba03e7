"""Reading job records, as the policy allows (operators, coordinators, auditors)."""

from __future__ import annotations

from clearinghouse.access import Action, NotFound, Subject, authorize
from clearinghouse.jobs._protocol import JobAttemptInfo, JobInfo, JobQueue


def list_jobs(
    queue: JobQueue, subject: Subject, *, status: str | None = None, name: str | None = None, limit: int = 100
) -> list[JobInfo]:
    authorize(subject, Action.READ_JOBS)
    return queue.list(status, limit, name=name)


def get_job(queue: JobQueue, subject: Subject, job_id: str) -> tuple[JobInfo, list[JobAttemptInfo]]:
    authorize(subject, Action.READ_JOBS)
    info = queue.get(job_id)
    if info is None:
        raise NotFound("job", job_id)
    return info, queue.history(job_id)
