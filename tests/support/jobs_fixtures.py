"""Job functions and a scratch table for ``test_jobs.py``.

A module of its own so that worker subprocesses (``python -c``, with the
repository on ``PYTHONPATH``) register exactly the same jobs as the tests.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from sqlalchemy import Column, Integer, MetaData, String, Table, insert

from clearinghouse.jobs import JobContext, WorkerTimings, job

effects_metadata = MetaData()

# One row per effect a job commits; ``key`` is unique per job, so a job that ran
# twice shows up as two rows with the same key.
job_effects = Table(
    "test_job_effects",
    effects_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(100), nullable=False),
    Column("job_id", String(36), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("pid", Integer, nullable=False),
)

# A worker subprocess: runs a procrastinate worker on a Runtime built from the
# environment (CLEARINGHOUSE_HOME, CLEARINGHOUSE_DATABASE_URL,
# CLEARINGHOUSE_JOB_BACKEND=procrastinate), with short timings for tests.
WORKER_SCRIPT = """
import sys
from tests.support import jobs_fixtures
from clearinghouse.jobs import ProcrastinateJobQueue
from clearinghouse.runtime import Runtime

runtime = Runtime.from_env()
try:
    queue = ProcrastinateJobQueue(runtime, timings=jobs_fixtures.FAST_TIMINGS)
    queue.run_worker(concurrency=int(sys.argv[1]))
finally:
    runtime.close()
"""


FAST_TIMINGS = WorkerTimings(
    heartbeat_seconds=0.5,
    stalled_after_seconds=2.0,
    poll_seconds=0.2,
    maintenance_seconds=0.5,
    sweep_after_seconds=60.0,
    busy_retry_seconds=0.2,
    error_retry_seconds=0.5,
)


class SimulatedWorkerDeath(BaseException):
    """Raised mid-job to stand in for the worker process being killed."""


def _append(ctx: JobContext, key: str) -> None:
    ctx.uow.session.execute(
        insert(job_effects).values(key=key, job_id=ctx.job_id, attempt=ctx.attempt, pid=os.getpid())
    )


@job("test.append", retries=0)
def append(ctx: JobContext, *, key: str, audit: bool = False) -> None:
    ctx.log.info("appending an effect")
    _append(ctx, key)
    if audit:
        ctx.uow.record("test.job_effect", "test_job_effect", key, job=ctx.name, home=str(ctx.settings.home))


@job("test.flaky", retries=3, retry_delay_seconds=0)
def flaky(ctx: JobContext, *, key: str, fail_times: int) -> None:
    _append(ctx, key)  # written on every attempt; only the successful one may commit
    if ctx.attempt <= fail_times:
        raise RuntimeError(f"flaky failure {ctx.attempt}")


@job("test.backoff", retries=2, retry_delay_seconds=60)
def backoff(ctx: JobContext, *, key: str, fail_times: int) -> None:
    _append(ctx, key)
    if ctx.attempt <= fail_times:
        raise RuntimeError(f"backoff failure {ctx.attempt}")


@job("test.always_fails", retries=1, retry_delay_seconds=0)
def always_fails(ctx: JobContext, *, key: str) -> None:
    _append(ctx, key)
    raise ValueError(f"boom {key} (last attempt: {ctx.is_last_attempt})")


@job("test.dies_once", retries=2, retry_delay_seconds=0)
def dies_once(ctx: JobContext, *, key: str) -> None:
    _append(ctx, key)
    if ctx.attempt == 1:
        raise SimulatedWorkerDeath


@job("test.slow_once", retries=3, retry_delay_seconds=0)
def slow_once(ctx: JobContext, *, key: str, marker_dir: str, sleep_seconds: float = 120.0) -> None:
    """First attempt: write the effect, tell the test which process runs it, then hang (to be killed)."""
    _append(ctx, key)
    if ctx.attempt == 1:
        marker = Path(marker_dir) / f"{os.getpid()}.started"
        marker.write_text(ctx.job_id)
        time.sleep(sleep_seconds)


@job("test.sleepy", retries=0)
def sleepy(ctx: JobContext, *, key: str, seconds: float = 0.05) -> None:
    time.sleep(seconds)
    _append(ctx, key)


@job("test.commits", retries=0)
def commits(ctx: JobContext, *, key: str) -> None:
    _append(ctx, key)
    ctx.uow.commit()


@job("test.chain", retries=1, retry_delay_seconds=0)
def chain(ctx: JobContext, *, key: str, fail_first: bool) -> None:
    """Queues a follow-up in its own transaction, then maybe fails (taking the follow-up with it)."""
    ctx.enqueue("test.append", {"key": f"{key}-next"})
    if fail_first and ctx.attempt == 1:
        raise RuntimeError("chain failure")
