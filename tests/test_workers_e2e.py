"""End to end, as an operator runs it on PostgreSQL: `clearinghouse init`, jobs
queued, and two competing `clearinghouse worker` processes that run each job
exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from clearinghouse.access.services import OPERATOR
from clearinghouse.config import Settings
from clearinghouse.jobs import JobStatus
from clearinghouse.jobs.models import JobAttempt
from clearinghouse.ledger import AuditEvent
from clearinghouse.ledger import services as ledger
from clearinghouse.runtime import Runtime
from clearinghouse.storage import Actor
from tests.support.databases import PG_URL, REQUIRE_PG, create_pg_database, drop_pg_database

JOBS = 30


@pytest.fixture
def pg_home(tmp_path: Path) -> dict[str, str]:
    if PG_URL is None:
        if REQUIRE_PG:
            pytest.fail("CLEARINGHOUSE_REQUIRE_POSTGRES=1 but CLEARINGHOUSE_TEST_POSTGRES_URL is not set")
        pytest.skip("needs PostgreSQL: set CLEARINGHOUSE_TEST_POSTGRES_URL (scripts/test does)")
    url = create_pg_database()
    env = {
        **os.environ,
        "CLEARINGHOUSE_HOME": str(tmp_path / "home"),
        "CLEARINGHOUSE_DATABASE_URL": url,
        "CLEARINGHOUSE_LOG_LEVEL": "WARNING",
    }
    env.pop("CLEARINGHOUSE_JOB_BACKEND", None)  # PostgreSQL's default: procrastinate
    yield env
    drop_pg_database(url)


def cli(env: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "clearinghouse", *args], env=env)


def test_two_workers_run_each_job_exactly_once(pg_home: dict[str, str]) -> None:
    init = [sys.executable, "-m", "clearinghouse", "init"]
    subprocess.run(init, env=pg_home, check=True, capture_output=True)
    settings = Settings.from_env(pg_home)
    assert settings.job_backend == "procrastinate"
    runtime = Runtime(settings)
    try:
        with runtime.uow(Actor.system("test")) as uow:
            job_ids = {ledger.schedule_verification(uow, OPERATOR) for _ in range(JOBS)}
            uow.commit()
        workers = [cli(pg_home, "worker", "--concurrency", "2") for _ in range(2)]
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                done = [runtime.jobs.get(j) for j in job_ids]
                if all(info is not None and info.status == JobStatus.SUCCEEDED for info in done):
                    break
                assert all(w.poll() is None for w in workers), "a worker exited early"
                time.sleep(0.2)
        finally:
            for w in workers:
                w.send_signal(signal.SIGTERM)
            codes = [w.wait(timeout=30) for w in workers]
        assert codes == [0, 0]
        with runtime.uow(Actor.system("test"), write=False) as uow:
            verified = uow.session.scalars(
                select(AuditEvent).where(AuditEvent.action == "audit.verified")
            ).all()
            attempts = uow.session.scalar(
                select(func.count()).select_from(JobAttempt).where(JobAttempt.job_id.in_(job_ids))
            )
        assert sorted(e.object_id for e in verified) == sorted(job_ids)  # each job's effect, once
        assert all(e.detail["ok"] for e in verified)
        assert attempts == JOBS  # no job was even started twice
        with runtime.uow(Actor.system("test"), write=False) as uow:
            assert ledger.verify(uow.session, OPERATOR, settings.keys_dir, runtime.signing_key).ok
    finally:
        runtime.close()
