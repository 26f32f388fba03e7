"""Background jobs: the job registry, the queue (in-process or procrastinate) and its ``jobs`` tables.

Register work with ``@job("name")`` on ``fn(ctx: JobContext, **payload)``;
queue it with ``uow.enqueue("name", payload)`` in the unit of work of the
change that calls for it (the runtime wires every unit of work to the job
backend), so the job exists iff the change commits and is deliverable at once.
The runner opens one unit of work per attempt (``ctx.uow``), marks the job
succeeded in that same transaction and commits once, so a job's effects commit
exactly once even when a worker dies mid-job; failures are retried with
back-off and recorded with their error, attempt by attempt. A job that does
network I/O is ``@job(..., phased=True)``: it gets a :class:`PhasedJobContext`
and no transaction is open while it talks to the network.

``make_job_queue`` picks the backend from ``Settings.job_backend``: the
in-process one (threads claiming from the ``jobs`` table, SQLite or
PostgreSQL) or procrastinate (PostgreSQL; ``clearinghouse worker`` processes on
any number of machines). ``prepare_backend`` readies the database for it.
"""

from clearinghouse.jobs._context import JobContext, JobUnitOfWork, PhasedJobContext
from clearinghouse.jobs._errors import JobCommitError, JobFencedError, UnknownJobError
from clearinghouse.jobs._factory import make_job_queue, prepare_backend
from clearinghouse.jobs._inprocess import InProcessJobQueue
from clearinghouse.jobs._procrastinate import JobFailedError, ProcrastinateJobQueue, WorkerTimings
from clearinghouse.jobs._protocol import JobAttemptInfo, JobInfo, JobQueue
from clearinghouse.jobs._registry import JobDefinition, get_job, job, on_first_lookup, registered_jobs
from clearinghouse.jobs._store import queued_behind
from clearinghouse.jobs.models import AttemptOutcome, JobStatus

__all__ = [
    "AttemptOutcome",
    "InProcessJobQueue",
    "JobAttemptInfo",
    "JobCommitError",
    "JobContext",
    "JobDefinition",
    "JobFailedError",
    "JobFencedError",
    "JobInfo",
    "JobQueue",
    "JobStatus",
    "JobUnitOfWork",
    "PhasedJobContext",
    "ProcrastinateJobQueue",
    "UnknownJobError",
    "WorkerTimings",
    "get_job",
    "job",
    "make_job_queue",
    "on_first_lookup",
    "prepare_backend",
    "queued_behind",
    "registered_jobs",
]
