"""The job queue: exactly-once effects, idempotent enqueue, retries, recorded failures and lost workers,
on the in-process backend (SQLite and PostgreSQL) and the procrastinate backend (PostgreSQL, with real
worker processes)."""

from __future__ import annotations

import datetime as dt
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import Engine, func, inspect, select, text, update

from clearinghouse.config import Settings
from clearinghouse.jobs import (
    AttemptOutcome,
    InProcessJobQueue,
    JobFailedError,
    JobInfo,
    JobQueue,
    JobStatus,
    ProcrastinateJobQueue,
    UnknownJobError,
    WorkerTimings,
    get_job,
    job,
    make_job_queue,
    prepare_backend,
    registered_jobs,
)
from clearinghouse.jobs._procrastinate import _Redeliver, _RetryPolicy, libpq_url
from clearinghouse.jobs._registry import MAX_RETRY_DELAY_SECONDS
from clearinghouse.jobs._runner import JobRunner, Outcome, Refusal, describe_error
from clearinghouse.jobs.models import Job
from clearinghouse.ledger import AuditEvent
from clearinghouse.runtime import Runtime
from clearinghouse.storage import Actor, new_id, utcnow
from tests.support import jobs_fixtures  # registers the test jobs
from tests.support.jobs_fixtures import FAST_TIMINGS, SimulatedWorkerDeath, effects_metadata, job_effects

REPOSITORY = Path(__file__).resolve().parents[1]  # the worker subprocesses import tests.support from here

pg_only = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


# -- helpers ---------------------------------------------------------------------------


def ensure_tables(engine: Engine) -> None:
    """The scratch table the test jobs write to (the jobs tables come with the migration)."""
    assert inspect(engine).has_table("jobs")
    effects_metadata.create_all(engine)


def effects(runtime: Runtime, key: str) -> list[Any]:
    with runtime.engine.connect() as conn:
        return list(
            conn.execute(select(job_effects).where(job_effects.c.key == key).order_by(job_effects.c.id))
        )


def set_job(runtime: Runtime, job_id: str, **values: Any) -> None:
    with runtime.engine.begin() as conn:
        conn.execute(update(Job).where(Job.id == job_id).values(**values))


def expire_lease(runtime: Runtime, job_id: str) -> None:
    set_job(runtime, job_id, lease_expires_at=utcnow() - dt.timedelta(seconds=1))


def metric(kind: str, job_name: str) -> float:
    return REGISTRY.get_sample_value(f"clearinghouse_jobs_{kind}_total", {"job": job_name}) or 0.0


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 120.0) -> None:
    """Poll ``condition``; the timeout only guards against a hang (no test asserts on time)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    pytest.fail(f"gave up waiting for {what}")


def job_info(queue: JobQueue, job_id: str) -> JobInfo:
    info = queue.get(job_id)
    assert info is not None
    return info


def status_of(queue: JobQueue, job_id: str) -> str:
    return job_info(queue, job_id).status


# -- fixtures --------------------------------------------------------------------------


@pytest.fixture
def jobs_runtime(runtime: Runtime) -> Runtime:
    """The conftest's migrated runtime (in-process backend), with the scratch table."""
    ensure_tables(runtime.engine)
    return runtime


@pytest.fixture
def queue(jobs_runtime: Runtime) -> InProcessJobQueue:
    assert isinstance(jobs_runtime.jobs, InProcessJobQueue)
    return jobs_runtime.jobs


@pytest.fixture
def pg_settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings.from_env(
        {
            "CLEARINGHOUSE_HOME": str(tmp_path / "home"),
            "CLEARINGHOUSE_DATABASE_URL": database_url,
            "CLEARINGHOUSE_JOB_BACKEND": "procrastinate",
        }
    )


@pytest.fixture
def pg_runtime(pg_settings: Settings) -> Iterator[Runtime]:
    """A runtime on the procrastinate backend, its schema applied."""
    rt = Runtime(pg_settings)
    ensure_tables(rt.engine)
    prepare_backend(rt)
    yield rt
    rt.close()


@pytest.fixture
def pqueue(pg_runtime: Runtime) -> ProcrastinateJobQueue:
    return ProcrastinateJobQueue(pg_runtime, timings=FAST_TIMINGS)


# -- the registry ----------------------------------------------------------------------


def test_registry_binds_names_to_functions_with_retry_policy() -> None:
    definition = get_job("test.flaky")
    assert definition.fn is jobs_fixtures.flaky
    assert definition.max_attempts == 4
    assert "test.append" in registered_jobs()
    # Re-registering the same function (a module reload) is fine; another function is not.
    job("test.flaky", retries=3, retry_delay_seconds=0)(jobs_fixtures.flaky)
    with pytest.raises(ValueError, match="already registered"):
        job("test.flaky")(lambda ctx: None)
    with pytest.raises(ValueError):
        job("")
    with pytest.raises(ValueError):
        job("test.x", retries=-1)
    with pytest.raises(ValueError):
        job("test.x", retry_delay_seconds=-1)
    with pytest.raises(UnknownJobError, match="no-such-job"):
        get_job("no-such-job")


def test_retry_delay_doubles_and_is_capped() -> None:
    backoff = get_job("test.backoff")
    assert [backoff.retry_delay(n) for n in (1, 2, 3)] == [60.0, 120.0, 240.0]
    assert backoff.retry_delay(30) == MAX_RETRY_DELAY_SECONDS
    assert get_job("test.flaky").retry_delay(5) == 0.0


def test_describe_error_names_the_exception_and_keeps_the_traceback_tail() -> None:
    try:
        raise KeyError("missing")
    except KeyError as exc:
        described = describe_error(exc)
    assert described.startswith("KeyError: 'missing'\nTraceback")
    assert "test_describe_error" in described
    assert describe_error(UnknownJobError("x")).startswith("clearinghouse.jobs._errors.UnknownJobError: ")


def test_make_job_queue_follows_the_settings(jobs_runtime: Runtime) -> None:
    assert isinstance(make_job_queue(jobs_runtime), InProcessJobQueue)
    prepare_backend(jobs_runtime)  # nothing to prepare in-process
    if jobs_runtime.settings.is_postgres:
        assert isinstance(ProcrastinateJobQueue(jobs_runtime), ProcrastinateJobQueue)
    else:
        with pytest.raises(ValueError, match="PostgreSQL"):
            ProcrastinateJobQueue(jobs_runtime)


def test_libpq_url_drops_the_sqlalchemy_driver() -> None:
    url = "postgresql+psycopg://u:p%40ss@db.example:5433/ch?sslmode=require"
    assert libpq_url(url) == "postgresql://u:p%40ss@db.example:5433/ch?sslmode=require"
    with pytest.raises(ValueError):
        libpq_url("sqlite:///x.db")


def test_worker_timings_reject_a_stall_timeout_shorter_than_two_heartbeats() -> None:
    with pytest.raises(ValueError):
        WorkerTimings(heartbeat_seconds=10, stalled_after_seconds=15)


# -- in-process backend (SQLite and PostgreSQL) -----------------------------------------


def test_job_runs_once_and_its_effects_commit_with_it(
    jobs_runtime: Runtime, queue: InProcessJobQueue, caplog: pytest.LogCaptureFixture
) -> None:
    enqueued, succeeded = metric("enqueued", "test.append"), metric("succeeded", "test.append")
    caplog.set_level(logging.INFO, logger="clearinghouse.jobs")
    job_id = queue.enqueue("test.append", {"key": "k1", "audit": True})
    assert status_of(queue, job_id) == JobStatus.QUEUED

    assert queue.run_pending() == 1
    assert queue.run_pending() == 0

    [effect] = effects(jobs_runtime, "k1")
    assert (effect.job_id, effect.attempt) == (job_id, 1)
    info = job_info(queue, job_id)
    assert (info.status, info.attempts, info.max_attempts) == (JobStatus.SUCCEEDED, 1, 1)
    assert info.finished_at is not None and info.lease_expires_at is None and info.last_error is None
    [attempt] = queue.history(job_id)
    assert attempt.outcome == AttemptOutcome.SUCCEEDED and attempt.worker == info.worker
    # The job's effect is audited through ctx.uow, attributed to the job.
    with jobs_runtime.uow(Actor.system("test"), write=False) as uow:
        event = uow.session.scalars(select(AuditEvent).where(AuditEvent.action == "test.job_effect")).one()
        actor, detail = event.actor, event.detail
    assert actor == "system:job:test.append"
    assert detail == {"job": "test.append", "home": str(jobs_runtime.settings.home)}
    assert metric("enqueued", "test.append") == enqueued + 1
    assert metric("succeeded", "test.append") == succeeded + 1
    done = [r for r in caplog.records if r.getMessage() == "job succeeded"]
    assert done and getattr(done[0], "job_id", None) == job_id
    assert any(
        getattr(r, "job_id", None) == job_id and r.getMessage() == "appending an effect"
        for r in caplog.records
    )


def test_idempotency_key_returns_the_first_job(jobs_runtime: Runtime, queue: InProcessJobQueue) -> None:
    enqueued = metric("enqueued", "test.append")
    first = queue.enqueue("test.append", {"key": "idem"}, idempotency_key="once")
    again = queue.enqueue("test.append", {"key": "other"}, idempotency_key="once")
    assert again == first
    assert metric("enqueued", "test.append") == enqueued + 1
    assert [j.id for j in queue.list(name="test.append")] == [first]
    assert job_info(queue, first).idempotency_key == "once"
    assert queue.run_pending() == 1
    assert len(effects(jobs_runtime, "idem")) == 1 and effects(jobs_runtime, "other") == []


def test_enqueue_in_the_callers_unit_of_work_is_all_or_nothing(
    jobs_runtime: Runtime, queue: InProcessJobQueue
) -> None:
    with jobs_runtime.uow(Actor.system("test")) as uow:
        dropped = queue.enqueue("test.append", {"key": "dropped"}, uow=uow)
        uow.rollback()
    assert queue.get(dropped) is None

    with jobs_runtime.uow(Actor.system("test")) as uow:
        kept = queue.enqueue("test.append", {"key": "kept"}, uow=uow, idempotency_key="outbox")
        assert queue.enqueue("test.append", {"key": "kept"}, uow=uow, idempotency_key="outbox") == kept
        uow.commit()
    assert status_of(queue, kept) == JobStatus.QUEUED
    assert queue.run_pending() == 1
    assert len(effects(jobs_runtime, "kept")) == 1 and effects(jobs_runtime, "dropped") == []


def test_enqueue_rejects_unknown_jobs_and_bad_arguments(queue: InProcessJobQueue) -> None:
    with pytest.raises(UnknownJobError):
        queue.enqueue("no-such-job", {})
    with pytest.raises(TypeError, match="JSON"):
        queue.enqueue("test.append", {"key": object()})
    with pytest.raises(TypeError, match="dict"):
        queue.enqueue("test.append", ["not", "a", "dict"])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="timezone"):
        queue.enqueue("test.append", {"key": "x"}, run_after=dt.datetime(2030, 1, 1))
    assert queue.list() == []


def test_failed_attempts_roll_back_and_are_retried_until_success(
    jobs_runtime: Runtime, queue: InProcessJobQueue
) -> None:
    retried = metric("retried", "test.flaky")
    job_id = queue.enqueue("test.flaky", {"key": "flaky", "fail_times": 2})
    assert queue.run_pending() == 3  # no back-off for this job: all three attempts are due at once

    [effect] = effects(jobs_runtime, "flaky")  # the failed attempts' writes rolled back
    assert effect.attempt == 3
    info = job_info(queue, job_id)
    assert (info.status, info.attempts) == (JobStatus.SUCCEEDED, 3)
    assert info.last_error is not None and info.last_error.startswith("RuntimeError: flaky failure 2")
    history = queue.history(job_id)
    assert [a.outcome for a in history] == ["failed", "failed", "succeeded"]
    assert history[0].error is not None and history[0].error.startswith("RuntimeError: flaky failure 1")
    assert metric("retried", "test.flaky") == retried + 2


def test_a_failed_attempt_waits_for_its_back_off(jobs_runtime: Runtime, queue: InProcessJobQueue) -> None:
    job_id = queue.enqueue("test.backoff", {"key": "backoff", "fail_times": 1})
    assert queue.run_pending() == 1
    info = job_info(queue, job_id)
    [failed] = queue.history(job_id)
    assert info.status == JobStatus.QUEUED and info.worker is None
    assert failed.finished_at is not None
    assert info.run_after == failed.finished_at + dt.timedelta(seconds=60)
    assert queue.run_pending() == 0  # not due yet

    set_job(jobs_runtime, job_id, run_after=utcnow() - dt.timedelta(seconds=1))
    assert queue.run_pending() == 1
    assert status_of(queue, job_id) == JobStatus.SUCCEEDED
    assert [e.attempt for e in effects(jobs_runtime, "backoff")] == [2]


def test_a_job_failing_every_attempt_is_recorded_with_its_error(
    jobs_runtime: Runtime, queue: InProcessJobQueue
) -> None:
    failed = metric("failed", "test.always_fails")
    job_id = queue.enqueue("test.always_fails", {"key": "bad"})
    assert queue.run_pending() == 2
    assert queue.run_pending() == 0

    info = job_info(queue, job_id)
    assert (info.status, info.attempts, info.max_attempts) == (JobStatus.FAILED, 2, 2)
    assert info.finished_at is not None
    assert info.last_error is not None
    assert info.last_error.startswith("ValueError: boom bad (last attempt: True)\nTraceback")
    assert "jobs_fixtures.py" in info.last_error
    history = queue.history(job_id)
    assert [a.outcome for a in history] == ["failed", "failed"]
    assert history[0].error is not None and "last attempt: False" in history[0].error
    assert effects(jobs_runtime, "bad") == []
    assert metric("failed", "test.always_fails") == failed + 1
    assert [j.id for j in queue.list(JobStatus.FAILED)] == [job_id]
    assert queue.list(JobStatus.QUEUED) == []


def test_an_expired_lease_is_run_again_exactly_once(jobs_runtime: Runtime, queue: InProcessJobQueue) -> None:
    job_id = queue.enqueue("test.flaky", {"key": "lease", "fail_times": 0})
    dead = JobRunner(jobs_runtime).claim_next("dead-worker")  # claims, then never finishes
    assert dead is not None and dead.job_id == job_id
    assert queue.run_pending() == 0  # its lease still runs

    expire_lease(jobs_runtime, job_id)
    assert queue.run_pending() == 1
    assert queue.run_pending() == 0
    [effect] = effects(jobs_runtime, "lease")
    assert effect.attempt == 2
    history = queue.history(job_id)
    assert [(a.worker, a.outcome) for a in history] == [
        ("dead-worker", AttemptOutcome.LOST),
        (job_info(queue, job_id).worker, AttemptOutcome.SUCCEEDED),
    ]
    assert history[0].error is not None and history[0].error.startswith("lost: worker 'dead-worker'")


def test_a_worker_killed_mid_job_leaves_no_effect_and_the_job_runs_again(
    jobs_runtime: Runtime, queue: InProcessJobQueue
) -> None:
    job_id = queue.enqueue("test.dies_once", {"key": "killed"})
    with pytest.raises(SimulatedWorkerDeath):
        queue.run_pending()
    assert effects(jobs_runtime, "killed") == []  # the half-done attempt rolled back
    assert status_of(queue, job_id) == JobStatus.RUNNING

    expire_lease(jobs_runtime, job_id)
    assert queue.run_pending() == 1
    assert [e.attempt for e in effects(jobs_runtime, "killed")] == [2]
    assert [a.outcome for a in queue.history(job_id)] == ["lost", "succeeded"]


def test_losing_the_last_attempt_fails_the_job(jobs_runtime: Runtime, queue: InProcessJobQueue) -> None:
    job_id = queue.enqueue("test.append", {"key": "last"})  # a single attempt
    assert JobRunner(jobs_runtime).claim_next("dead-worker") is not None
    expire_lease(jobs_runtime, job_id)
    assert queue.run_pending() == 0
    info = job_info(queue, job_id)
    assert info.status == JobStatus.FAILED
    assert info.last_error is not None and info.last_error.startswith("lost:")
    assert effects(jobs_runtime, "last") == []


def test_a_claim_that_passed_to_another_worker_is_not_run(
    jobs_runtime: Runtime, queue: InProcessJobQueue
) -> None:
    runner = JobRunner(jobs_runtime)
    job_id = queue.enqueue("test.flaky", {"key": "fenced", "fail_times": 0})
    slow = runner.claim_next("slow-worker")
    assert slow is not None
    expire_lease(jobs_runtime, job_id)
    fast = runner.claim_next("fast-worker")
    assert fast is not None and fast.attempt == 2

    assert runner.execute(slow).outcome is Outcome.FENCED
    assert effects(jobs_runtime, "fenced") == []
    assert runner.execute(fast).outcome is Outcome.SUCCEEDED
    assert len(effects(jobs_runtime, "fenced")) == 1


def test_a_job_may_not_commit_its_unit_of_work(jobs_runtime: Runtime, queue: InProcessJobQueue) -> None:
    job_id = queue.enqueue("test.commits", {"key": "commits"})
    assert queue.run_pending() == 1
    info = job_info(queue, job_id)
    assert info.status == JobStatus.FAILED
    assert info.last_error is not None and "JobCommitError: a job must not commit ctx.uow" in info.last_error
    assert effects(jobs_runtime, "commits") == []


def test_a_job_nobody_registered_fails_with_a_clear_error(
    jobs_runtime: Runtime, queue: InProcessJobQueue
) -> None:
    job_id = new_id()
    with jobs_runtime.uow(Actor.system("test")) as uow:  # e.g. queued by a newer release
        uow.session.add(Job(id=job_id, name="test.unregistered", payload={}, max_attempts=2))
        uow.commit()
    assert queue.run_pending() == 1  # retried after the default back-off, in case a worker lags behind
    assert status_of(queue, job_id) == JobStatus.QUEUED
    set_job(jobs_runtime, job_id, run_after=utcnow())
    assert queue.run_pending() == 1
    info = job_info(queue, job_id)
    assert info.status == JobStatus.FAILED
    assert info.last_error is not None and "UnknownJobError" in info.last_error
    assert "'test.unregistered'" in info.last_error


def test_follow_up_jobs_exist_only_if_the_attempt_commits(
    jobs_runtime: Runtime, queue: InProcessJobQueue
) -> None:
    job_id = queue.enqueue("test.chain", {"key": "chain", "fail_first": True})
    assert queue.run_pending() == 3  # the failed attempt, the one that committed, its follow-up
    assert status_of(queue, job_id) == JobStatus.SUCCEEDED
    [follow_up] = queue.list(name="test.append")
    assert follow_up.status == JobStatus.SUCCEEDED and follow_up.payload == {"key": "chain-next"}
    assert len(effects(jobs_runtime, "chain-next")) == 1


def test_run_pending_stops_after_max_jobs(queue: InProcessJobQueue) -> None:
    ids = [queue.enqueue("test.append", {"key": f"max-{i}"}) for i in range(3)]
    assert queue.run_pending(max_jobs=2) == 2
    assert sorted(status_of(queue, i) for i in ids) == ["queued", "succeeded", "succeeded"]
    assert queue.list(limit=1)[0].id in ids


def test_background_thread_runs_jobs_until_stopped(jobs_runtime: Runtime, queue: InProcessJobQueue) -> None:
    queue.start()
    queue.start()  # already running: no second thread
    assert queue.running
    ids = [queue.enqueue("test.append", {"key": f"bg-{i}"}) for i in range(3)]
    wait_for(lambda: all(status_of(queue, i) == JobStatus.SUCCEEDED for i in ids), "background jobs")
    queue.stop()
    assert not queue.running
    queue.stop()  # stopping twice is harmless
    assert all(len(effects(jobs_runtime, f"bg-{i}")) == 1 for i in range(3))


def test_run_worker_works_until_its_stop_event(jobs_runtime: Runtime, queue: InProcessJobQueue) -> None:
    stop = threading.Event()
    worker = threading.Thread(target=queue.run_worker, kwargs={"concurrency": 2, "stop_event": stop})
    worker.start()
    try:
        ids = [queue.enqueue("test.sleepy", {"key": f"w-{i}", "seconds": 0.01}) for i in range(6)]
        wait_for(lambda: all(status_of(queue, i) == JobStatus.SUCCEEDED for i in ids), "worker threads")
    finally:
        stop.set()
        worker.join()
    assert all(len(effects(jobs_runtime, f"w-{i}")) == 1 for i in range(6))
    with pytest.raises(ValueError):
        queue.run_worker(concurrency=0)


def test_run_worker_once_runs_what_is_due_and_returns(queue: InProcessJobQueue) -> None:
    ids = [queue.enqueue("test.append", {"key": f"once-{i}"}) for i in range(2)]
    queue.run_worker(once=True)
    assert [status_of(queue, i) for i in ids] == ["succeeded", "succeeded"]


def test_run_worker_stops_on_sigterm(queue: InProcessJobQueue) -> None:
    job_id = queue.enqueue("test.append", {"key": "sigterm"})
    original = signal.getsignal(signal.SIGTERM)

    def terminate_when_done() -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if signal.getsignal(signal.SIGTERM) is not original and status_of(queue, job_id) == "succeeded":
                os.kill(os.getpid(), signal.SIGTERM)
                return
            time.sleep(0.05)

    threading.Thread(target=terminate_when_done, daemon=True).start()
    queue.run_worker()  # in the main thread: SIGTERM stops it
    assert signal.getsignal(signal.SIGTERM) is original
    assert status_of(queue, job_id) == JobStatus.SUCCEEDED


@pg_only
def test_concurrent_enqueues_with_one_key_make_one_job(
    jobs_runtime: Runtime, queue: InProcessJobQueue
) -> None:
    results: list[str] = []
    with jobs_runtime.uow(Actor.system("test")) as uow:
        first = queue.enqueue("test.append", {"key": "race"}, idempotency_key="race", uow=uow)
        racer = threading.Thread(
            target=lambda: results.append(
                queue.enqueue("test.append", {"key": "race"}, idempotency_key="race")
            )
        )
        racer.start()

        def racer_waits_on_our_row() -> bool:
            with jobs_runtime.engine.connect() as conn:
                waiting = conn.scalar(
                    text(
                        "SELECT count(*) FROM pg_stat_activity"
                        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
                    )
                )
            return bool(waiting)

        wait_for(racer_waits_on_our_row, "the racing insert to wait on the unique key")
        uow.commit()
    racer.join()
    assert results == [first]
    assert len(queue.list(name="test.append")) == 1


# -- procrastinate backend, in this process (PostgreSQL) ---------------------------------


def deliveries(runtime: Runtime, job_id: str) -> list[str]:
    with runtime.engine.connect() as conn:
        return list(
            conn.scalars(
                text("SELECT status::text FROM procrastinate_jobs WHERE args->>'job_id' = :id ORDER BY id"),
                {"id": job_id},
            )
        )


@pg_only
def test_procrastinate_runs_retries_and_fails_jobs(
    pg_runtime: Runtime, pqueue: ProcrastinateJobQueue
) -> None:
    assert isinstance(pg_runtime.jobs, ProcrastinateJobQueue)
    ok = pqueue.enqueue("test.append", {"key": "p-ok"})
    flaky = pqueue.enqueue("test.flaky", {"key": "p-flaky", "fail_times": 1})
    bad = pqueue.enqueue("test.always_fails", {"key": "p-bad"})
    assert deliveries(pg_runtime, ok) == ["todo"]  # deferred with the row, in its transaction

    assert pqueue.run_pending() == 1 + 2 + 2
    assert pqueue.run_pending() == 0

    assert status_of(pqueue, ok) == JobStatus.SUCCEEDED
    assert deliveries(pg_runtime, ok) == []  # successful deliveries are deleted
    assert (status_of(pqueue, flaky), job_info(pqueue, flaky).attempts) == (JobStatus.SUCCEEDED, 2)
    assert [e.attempt for e in effects(pg_runtime, "p-flaky")] == [2]
    info = job_info(pqueue, bad)
    assert (info.status, info.attempts) == (JobStatus.FAILED, 2)
    assert info.last_error is not None and info.last_error.startswith("ValueError: boom p-bad")
    assert [a.outcome for a in pqueue.history(bad)] == ["failed", "failed"]
    assert deliveries(pg_runtime, bad) == ["failed"]
    assert [j.id for j in pqueue.list(JobStatus.FAILED)] == [bad]
    pqueue.start()  # the web process runs nothing for this backend
    pqueue.stop()


@pg_only
def test_procrastinate_enqueue_in_the_callers_transaction(
    pg_runtime: Runtime, pqueue: ProcrastinateJobQueue
) -> None:
    with pg_runtime.uow(Actor.system("test")) as uow:
        dropped = pqueue.enqueue("test.append", {"key": "pd"}, uow=uow)
        uow.rollback()
    assert pqueue.get(dropped) is None and deliveries(pg_runtime, dropped) == []

    with pg_runtime.uow(Actor.system("test")) as uow:
        kept = pqueue.enqueue("test.append", {"key": "pk"}, uow=uow, idempotency_key="pk")
        assert pqueue.enqueue("test.append", {"key": "pk"}, uow=uow, idempotency_key="pk") == kept
        uow.commit()
    assert deliveries(pg_runtime, kept) == ["todo"]
    later = pqueue.enqueue("test.append", {"key": "later"}, run_after=utcnow() + dt.timedelta(hours=1))
    assert pqueue.run_pending() == 1
    assert status_of(pqueue, later) == JobStatus.QUEUED and deliveries(pg_runtime, later) == ["todo"]
    assert pqueue.run_pending(max_jobs=0) == 0


@pg_only
def test_procrastinate_run_pending_stops_after_max_jobs(pqueue: ProcrastinateJobQueue) -> None:
    ids = [pqueue.enqueue("test.append", {"key": f"pmax-{i}"}) for i in range(3)]
    assert pqueue.run_pending(max_jobs=2) == 2
    assert sorted(status_of(pqueue, i) for i in ids) == ["queued", "succeeded", "succeeded"]
    assert pqueue.run_pending() == 1


@pg_only
def test_procrastinate_redelivery_of_a_finished_job_does_nothing(
    pg_runtime: Runtime, pqueue: ProcrastinateJobQueue
) -> None:
    job_id = pqueue.enqueue("test.append", {"key": "redeliver"})
    assert pqueue.run_pending() == 1
    # As if a worker was killed after our commit but before procrastinate recorded the end:
    with pg_runtime.uow(Actor.system("test")) as uow:
        pqueue._defer(uow.session, job_id, utcnow())
        pqueue._defer(uow.session, new_id(), utcnow())  # and a delivery for a job that does not exist
        uow.commit()
    assert pqueue.run_pending() == 0
    assert len(effects(pg_runtime, "redeliver")) == 1


@pg_only
def test_procrastinate_retries_the_delivery_of_a_stalled_worker(
    pg_runtime: Runtime, pqueue: ProcrastinateJobQueue
) -> None:
    job_id = pqueue.enqueue("test.flaky", {"key": "stalled", "fail_times": 0})
    assert JobRunner(pg_runtime).claim(job_id, "dead-worker") is not None
    with pg_runtime.engine.begin() as conn:  # a worker that stopped heart-beating mid-job
        dead = conn.scalar(
            text(
                "INSERT INTO procrastinate_workers (last_heartbeat)"
                " VALUES (now() - interval '1 hour') RETURNING id"
            )
        )
        conn.execute(
            text(
                "UPDATE procrastinate_jobs SET status = 'doing', worker_id = :w WHERE args->>'job_id' = :id"
            ),
            {"w": dead, "id": job_id},
        )
    assert pqueue.run_pending() == 1
    lost, won = pqueue.history(job_id)
    assert (lost.worker, lost.outcome, won.outcome) == ("dead-worker", "lost", "succeeded")
    assert status_of(pqueue, job_id) == JobStatus.SUCCEEDED
    assert [e.attempt for e in effects(pg_runtime, "stalled")] == [2]


@pg_only
def test_procrastinate_fails_a_job_whose_last_attempt_was_lost(
    pg_runtime: Runtime, pqueue: ProcrastinateJobQueue
) -> None:
    job_id = pqueue.enqueue("test.append", {"key": "lost-last"})
    assert JobRunner(pg_runtime).claim(job_id, "dead-worker") is not None
    assert pqueue.run_pending() == 0
    assert status_of(pqueue, job_id) == JobStatus.FAILED
    assert deliveries(pg_runtime, job_id) == ["failed"]


@pg_only
def test_procrastinate_puts_back_a_delivery_while_the_job_is_locked(
    pg_runtime: Runtime, pqueue: ProcrastinateJobQueue
) -> None:
    job_id = pqueue.enqueue("test.append", {"key": "busy"})
    with pg_runtime.engine.connect() as conn:  # a live run holds the row
        conn.execute(text("SELECT id FROM jobs WHERE id = :id FOR UPDATE"), {"id": job_id})
        assert pqueue.run_pending() == 0
        assert deliveries(pg_runtime, job_id) == ["todo"]
        conn.rollback()
    wait_for(lambda: pqueue.run_pending() == 1, "the put-back delivery")
    assert len(effects(pg_runtime, "busy")) == 1


@pg_only
def test_procrastinate_sweep_gives_orphaned_rows_a_delivery(
    pg_runtime: Runtime, pqueue: ProcrastinateJobQueue
) -> None:
    # A job queued by the in-process backend before the switch has no delivery.
    orphan = InProcessJobQueue(pg_runtime).enqueue("test.append", {"key": "orphan"})
    assert deliveries(pg_runtime, orphan) == []
    assert pqueue.sweep() == 0  # too young to be an orphan
    set_job(pg_runtime, orphan, created_at=utcnow() - dt.timedelta(hours=1))
    assert pqueue.run_pending() == 1  # maintenance sweeps before working
    assert status_of(pqueue, orphan) == JobStatus.SUCCEEDED
    assert pqueue.sweep() == 0


@pg_only
def test_procrastinate_run_worker_until_its_stop_event(
    pg_runtime: Runtime, pqueue: ProcrastinateJobQueue
) -> None:
    stop = threading.Event()
    worker = threading.Thread(target=pqueue.run_worker, kwargs={"concurrency": 2, "stop_event": stop})
    worker.start()
    try:
        ids = [pqueue.enqueue("test.sleepy", {"key": f"pw-{i}", "seconds": 0.01}) for i in range(4)]
        wait_for(lambda: all(status_of(pqueue, i) == JobStatus.SUCCEEDED for i in ids), "the worker")
        time.sleep(2 * FAST_TIMINGS.maintenance_seconds)  # let the maintenance loop come round
    finally:
        stop.set()
        worker.join()
    assert all(len(effects(pg_runtime, f"pw-{i}")) == 1 for i in range(4))
    last = pqueue.enqueue("test.append", {"key": "pw-once"})
    once = threading.Thread(target=pqueue.run_worker, kwargs={"once": True})  # no signals off the main thread
    once.start()
    once.join()
    assert status_of(pqueue, last) == JobStatus.SUCCEEDED
    with pytest.raises(ValueError):
        pqueue.run_worker(concurrency=0)


def test_procrastinate_retry_policy_follows_the_runner() -> None:
    from procrastinate.jobs import Job as Delivery

    policy = _RetryPolicy(error_retry_seconds=5)
    delivery = Delivery(queue="q", lock=None, queueing_lock=None, task_name="t", attempts=3)
    at = utcnow()
    decision = policy.get_retry_decision(exception=_Redeliver(at, "test"), job=delivery)
    assert decision is not None and decision.retry_at == at
    assert policy.get_retry_decision(exception=JobFailedError("x"), job=delivery) is None
    decision = policy.get_retry_decision(exception=OSError("db down"), job=delivery)
    assert decision is not None and decision.retry_at is not None and decision.retry_at > at
    worn_out = Delivery(queue="q", lock=None, queueing_lock=None, task_name="t", attempts=100)
    assert policy.get_retry_decision(exception=OSError("db down"), job=worn_out) is None


@pg_only
def test_runner_refuses_missing_and_finished_jobs(pg_runtime: Runtime, pqueue: ProcrastinateJobQueue) -> None:
    runner = JobRunner(pg_runtime)
    assert runner.claim(new_id(), "w") is Refusal.MISSING
    job_id = pqueue.enqueue("test.append", {"key": "refuse"})
    claim = runner.claim(job_id, "w")
    assert not isinstance(claim, Refusal)
    assert runner.execute(claim).outcome is Outcome.SUCCEEDED
    assert runner.claim(job_id, "w") is Refusal.FINISHED


# -- procrastinate backend, competing worker processes (PostgreSQL) -----------------------


class Workers:
    """``clearinghouse worker``-like subprocesses on the test's database."""

    def __init__(self, settings: Settings, tmp_path: Path) -> None:
        self.env = {
            **os.environ,
            "CLEARINGHOUSE_HOME": str(settings.home),
            "CLEARINGHOUSE_DATABASE_URL": settings.database_url,
            "CLEARINGHOUSE_JOB_BACKEND": "procrastinate",
            "PYTHONPATH": os.pathsep.join([str(REPOSITORY), os.environ.get("PYTHONPATH", "")]),
        }
        self.logs = tmp_path / "worker-logs"
        self.logs.mkdir()
        self.procs: list[subprocess.Popen[bytes]] = []

    def spawn(self, concurrency: int = 1) -> subprocess.Popen[bytes]:
        log = (self.logs / f"worker-{len(self.procs)}.log").open("wb")
        proc = subprocess.Popen(
            [sys.executable, "-c", jobs_fixtures.WORKER_SCRIPT, str(concurrency)],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        self.procs.append(proc)
        return proc

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def output(self) -> str:
        return "\n".join(
            f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}" for p in sorted(self.logs.iterdir())
        )


@pytest.fixture
def workers(pg_runtime: Runtime, tmp_path: Path) -> Iterator[Workers]:
    group = Workers(pg_runtime.settings, tmp_path)
    yield group
    group.stop_all()


def registered_workers(runtime: Runtime) -> int:
    with runtime.engine.connect() as conn:
        return int(conn.scalar(text("SELECT count(*) FROM procrastinate_workers")) or 0)


def start_two_workers(runtime: Runtime, workers: Workers, concurrency: int = 1) -> None:
    workers.spawn(concurrency)
    workers.spawn(concurrency)

    def both_up() -> bool:
        if any(p.poll() is not None for p in workers.procs):
            pytest.fail(f"a worker exited early:\n{workers.output()}")
        return registered_workers(runtime) == 2

    wait_for(both_up, "two workers to register")


@pg_only
def test_two_worker_processes_run_each_job_exactly_once(pg_runtime: Runtime, workers: Workers) -> None:
    start_two_workers(pg_runtime, workers, concurrency=2)
    queue = pg_runtime.jobs
    n = 40
    ids = [queue.enqueue("test.sleepy", {"key": f"many-{i}", "seconds": 0.05}) for i in range(n)]

    def all_done() -> bool:
        return len(queue.list(JobStatus.SUCCEEDED, limit=n + 1)) == n

    wait_for(all_done, f"{n} jobs\n{workers.output()}")
    with pg_runtime.engine.connect() as conn:
        total, distinct, pids = conn.execute(
            select(
                func.count(),
                func.count(job_effects.c.key.distinct()),
                func.count(job_effects.c.pid.distinct()),
            )
        ).one()
    assert (total, distinct) == (n, n)
    assert pids == 2  # both processes took work
    assert {job_info(queue, i).attempts for i in ids} == {1}


@pg_only
def test_a_killed_worker_process_job_is_finished_by_the_other(
    pg_runtime: Runtime, workers: Workers, tmp_path: Path
) -> None:
    start_two_workers(pg_runtime, workers)
    markers = tmp_path / "markers"
    markers.mkdir()
    job_id = pg_runtime.jobs.enqueue("test.slow_once", {"key": "kill", "marker_dir": str(markers)})

    wait_for(lambda: any(markers.iterdir()), f"the job to start\n{workers.output()}")
    [marker] = markers.iterdir()
    victim = int(marker.stem.split(".")[0])
    assert victim in {p.pid for p in workers.procs}
    os.kill(victim, signal.SIGKILL)

    wait_for(
        lambda: status_of(pg_runtime.jobs, job_id) == "succeeded", f"the other worker\n{workers.output()}"
    )
    [effect] = effects(pg_runtime, "kill")  # the killed attempt's write never committed
    assert effect.attempt == 2 and effect.pid != victim
    history = pg_runtime.jobs.history(job_id)
    assert [a.outcome for a in history] == ["lost", "succeeded"]
    assert f":{victim}:" in history[0].worker and f":{effect.pid}:" in history[1].worker


@pg_only
def test_a_job_failing_in_worker_processes_is_recorded(pg_runtime: Runtime, workers: Workers) -> None:
    start_two_workers(pg_runtime, workers)
    job_id = pg_runtime.jobs.enqueue("test.always_fails", {"key": "wbad"})
    wait_for(lambda: status_of(pg_runtime.jobs, job_id) == "failed", f"the failure\n{workers.output()}")
    info = job_info(pg_runtime.jobs, job_id)
    assert info.attempts == 2
    assert info.last_error is not None and info.last_error.startswith(
        "ValueError: boom wbad (last attempt: True)"
    )
    assert [a.outcome for a in pg_runtime.jobs.history(job_id)] == ["failed", "failed"]
    assert effects(pg_runtime, "wbad") == []
