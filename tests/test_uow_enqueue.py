"""``uow.enqueue``: a job is written in the unit of work's own transaction (the outbox), exists iff
the change commits, and is deliverable the moment it commits, on both backends."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from sqlalchemy import select, text

from clearinghouse.jobs import InProcessJobQueue, JobStatus, ProcrastinateJobQueue, prepare_backend
from clearinghouse.jobs.models import Job, JobAttempt
from clearinghouse.runtime import Runtime
from clearinghouse.storage import Actor, NoJobQueueError, UnitOfWorkFactory
from tests.support import jobs_fixtures  # noqa: F401  (registers the test jobs)
from tests.support.jobs_fixtures import effects_metadata
from tests.test_jobs import wait_for

ACTOR = Actor.system("test")


def test_a_unit_of_work_without_a_job_backend_refuses_to_enqueue(runtime: Runtime) -> None:
    bare = UnitOfWorkFactory(runtime.engine, runtime.ledger)
    with bare(ACTOR) as uow, pytest.raises(NoJobQueueError):
        uow.enqueue("test.append", {"key": "nowhere"})


def test_the_job_exists_iff_the_change_commits(runtime: Runtime) -> None:
    effects_metadata.create_all(runtime.engine)
    with runtime.uow(ACTOR) as uow:
        dropped = uow.enqueue("test.append", {"key": "dropped"})
        uow.rollback()
    with runtime.uow(ACTOR) as uow:
        kept = uow.enqueue("test.append", {"key": "kept"}, idempotency_key="k")
        assert uow.enqueue("test.append", {"key": "kept"}, idempotency_key="k") == kept
        uow.commit()
    assert runtime.jobs.get(dropped) is None
    info = runtime.jobs.get(kept)
    assert info is not None and info.status == JobStatus.QUEUED
    # The queue's own enqueue with a unit of work is the same path.
    with runtime.uow(ACTOR) as uow:
        assert runtime.jobs.enqueue("test.append", {"key": "kept"}, idempotency_key="k", uow=uow) == kept


def test_the_in_process_worker_wakes_on_commit_not_on_its_poll(runtime: Runtime) -> None:
    """With a one-hour poll, only the after-commit wake-up can start the job."""
    effects_metadata.create_all(runtime.engine)
    queue = InProcessJobQueue(runtime, poll_seconds=3600)
    runtime.uow.enqueuer = queue.enqueue_in
    queue.start()
    try:
        wait_for(lambda: queue.running, "the worker thread")
        # Let the worker finish its first (empty) drain and go to sleep on its poll.
        with runtime.uow(ACTOR) as uow:
            first = uow.enqueue("test.append", {"key": "wake-1"})
            uow.commit()
        wait_for(lambda: _status(queue, first) == JobStatus.SUCCEEDED, "the first job")
        with runtime.uow(ACTOR) as uow:
            second = uow.enqueue("test.append", {"key": "wake-2"})
            uow.commit()
        wait_for(lambda: _status(queue, second) == JobStatus.SUCCEEDED, "the job queued after a commit")
    finally:
        queue.stop()
    delay = _start_delay(runtime, second)
    assert delay < 60, f"started {delay:.1f} s after its commit"


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_procrastinate_gets_its_delivery_in_the_same_transaction(database_url: str, tmp_path: Path) -> None:
    from clearinghouse.config import Settings

    settings = Settings.from_env(
        {
            "CLEARINGHOUSE_HOME": str(tmp_path / "pg-home"),
            "CLEARINGHOUSE_DATABASE_URL": database_url,
            "CLEARINGHOUSE_JOB_BACKEND": "procrastinate",
        }
    )
    runtime = Runtime(settings)
    try:
        prepare_backend(runtime)
        assert isinstance(runtime.jobs, ProcrastinateJobQueue)
        effects_metadata.create_all(runtime.engine)
        with runtime.uow(ACTOR) as uow:
            dropped = uow.enqueue("test.append", {"key": "pd"})
            uow.rollback()
        with runtime.uow(ACTOR) as uow:
            kept = uow.enqueue("test.append", {"key": "pk"})
            # Visible to this transaction already: the delivery row was written on its connection.
            assert _deliveries(uow.session, kept) == ["todo"]
            uow.commit()
        with runtime.uow(ACTOR, write=False) as uow:
            assert _deliveries(uow.session, dropped) == []
            assert _deliveries(uow.session, kept) == ["todo"]
    finally:
        runtime.close()


def _deliveries(session: object, job_id: str) -> list[str]:
    query = text("SELECT status::text FROM procrastinate_jobs WHERE args->>'job_id' = :id")
    return list(session.scalars(query, {"id": job_id}))  # type: ignore[attr-defined]


def _status(queue: InProcessJobQueue, job_id: str) -> str | None:
    info = queue.get(job_id)
    return None if info is None else info.status


def _start_delay(runtime: Runtime, job_id: str) -> float:
    with runtime.uow(ACTOR, write=False) as uow:
        created = uow.session.scalar(select(Job.created_at).where(Job.id == job_id))
        started = uow.session.scalar(
            select(JobAttempt.started_at).where(JobAttempt.job_id == job_id, JobAttempt.attempt == 1)
        )
    assert created is not None and started is not None
    return (started - created).total_seconds()


FEATURES = (
    "coordination",
    "directives",
    "enforcement",
    "frontier",
    "intake",
    "matching",
    "notifications",
    "priority",
    "programs",
    "sharing",
    "triage",
    "web",
    "api",
)


def test_the_runtime_imports_no_feature() -> None:
    """Jobs register at the entrypoints (the app, the CLI and its worker), not through the runtime."""
    import subprocess

    code = "import sys, clearinghouse.runtime; print('\\n'.join(sorted(sys.modules)))"
    loaded = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    features = {
        name.split(".")[1]
        for name in loaded.split()
        if name.startswith("clearinghouse.") and name.split(".")[1] in FEATURES
    }
    assert features == set()
    code = "import clearinghouse.cli, clearinghouse.jobs as j; print('\\n'.join(sorted(j.registered_jobs())))"
    jobs = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert {"notifications.webhook", "matching.case", "triage.deduplicate"} <= set(jobs.split())
