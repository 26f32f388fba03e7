"""Phased jobs: network I/O with no transaction open; the outcome and the "succeeded" mark commit together."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import insert, select, update

from clearinghouse.jobs import InProcessJobQueue, JobStatus, PhasedJobContext, job
from clearinghouse.jobs._runner import JobRunner, Outcome, Refusal
from clearinghouse.jobs.models import Job
from clearinghouse.runtime import Runtime
from clearinghouse.storage import Actor
from tests.support.jobs_fixtures import effects_metadata, job_effects

ACTOR = Actor.system("test")
SEEN: dict[str, Any] = {}


@job("test.phased", retries=1, retry_delay_seconds=0, phased=True)
def phased(ctx: PhasedJobContext, *, key: str, fail: bool = False, steal: bool = False) -> None:
    with ctx.read() as uow:
        SEEN["read_attempt"] = uow.session.scalar(select(Job.attempts).where(Job.id == ctx.job_id))
    # "The I/O": no transaction of this job is open, so another writer gets the write lock at once.
    with ctx.uow_factory(ACTOR) as other:
        other.session.execute(
            insert(job_effects).values(key=f"{key}-other", job_id=ctx.job_id, attempt=0, pid=0)
        )
        other.commit()
    if steal:
        with ctx.uow_factory(ACTOR) as other:
            other.session.execute(update(Job).where(Job.id == ctx.job_id).values(worker="someone-else"))
            other.commit()
    if fail and ctx.attempt == 1:
        raise ConnectionError("the receiver went away")
    with ctx.finish() as uow:
        uow.session.execute(
            insert(job_effects).values(key=key, job_id=ctx.job_id, attempt=ctx.attempt, pid=0)
        )


@job("test.phased_quiet", retries=0, phased=True)
def phased_quiet(ctx: PhasedJobContext) -> None:
    """Returns without finishing: the runner marks it succeeded in a transaction of its own."""
    assert not ctx.is_last_attempt or ctx.attempt == 1
    ctx.log.info("nothing to do")


@pytest.fixture
def queue(runtime: Runtime) -> InProcessJobQueue:
    effects_metadata.create_all(runtime.engine)
    assert isinstance(runtime.jobs, InProcessJobQueue)
    return runtime.jobs


def keys(runtime: Runtime) -> list[str]:
    with runtime.engine.connect() as conn:
        return sorted(conn.scalars(select(job_effects.c.key)))


def enqueue(runtime: Runtime, name: str, payload: dict[str, Any]) -> str:
    with runtime.uow(ACTOR) as uow:
        job_id = uow.enqueue(name, payload)
        uow.commit()
    return job_id


def test_a_phased_job_records_its_outcome_with_its_mark(runtime: Runtime, queue: InProcessJobQueue) -> None:
    ok = enqueue(runtime, "test.phased", {"key": "ok"})
    quiet = enqueue(runtime, "test.phased_quiet", {})
    assert queue.run_pending() == 2
    assert SEEN["read_attempt"] == 1
    for job_id in (ok, quiet):
        info = queue.get(job_id)
        assert info is not None and info.status == JobStatus.SUCCEEDED
    assert [a.outcome for a in queue.history(ok)] == ["succeeded"]
    assert keys(runtime) == ["ok", "ok-other"]


def test_a_failed_phase_is_retried_and_its_finish_lands_once(
    runtime: Runtime, queue: InProcessJobQueue
) -> None:
    job_id = enqueue(runtime, "test.phased", {"key": "flaky", "fail": True})
    assert queue.run_pending() == 2
    info = queue.get(job_id)
    assert info is not None and info.status == JobStatus.SUCCEEDED and info.attempts == 2
    assert [a.outcome for a in queue.history(job_id)] == ["failed", "succeeded"]
    # The bookkeeping before the I/O ran twice (at least once); the finish once.
    assert keys(runtime) == ["flaky", "flaky-other", "flaky-other"]


def test_a_phased_job_whose_claim_passed_on_records_nothing(
    runtime: Runtime, queue: InProcessJobQueue
) -> None:
    job_id = enqueue(runtime, "test.phased", {"key": "stolen", "steal": True})
    runner = JobRunner(runtime)
    claim = runner.claim_next("me")
    assert claim is not None and claim.job_id == job_id
    result = runner.execute(claim)
    assert result.outcome is Outcome.FENCED
    assert keys(runtime) == ["stolen-other"]
    info = queue.get(job_id)
    assert info is not None and info.status == JobStatus.RUNNING and info.worker == "someone-else"


def test_a_running_phased_job_is_not_claimed_by_a_second_delivery(
    runtime: Runtime, queue: InProcessJobQueue
) -> None:
    """A phased job holds no row lock while it runs; its live lease keeps a redelivery off it."""
    job_id = enqueue(runtime, "test.phased", {"key": "busy"})
    runner = JobRunner(runtime)
    first = runner.claim(job_id, "first")
    assert not isinstance(first, Refusal)
    assert runner.claim(job_id, "second") is Refusal.BUSY
    # An ordinary running job with its lease run out (a dead worker) is still taken over.
    with runtime.uow(ACTOR) as uow:
        uow.session.execute(update(Job).where(Job.id == job_id).values(lease_expires_at=None))
        uow.commit()
    assert not isinstance(runner.claim(job_id, "second"), Refusal)
