"""What the load work changed (issue 14, the load target): the request thread limit, a
connection pool as large as the threads that share it, and one queued deduplication run
serving many submissions on SQLite — without losing a finding."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anyio.to_thread
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from clearinghouse.api.app import create_app
from clearinghouse.config import Settings
from clearinghouse.intake.models import Finding
from clearinghouse.jobs import queued_behind
from clearinghouse.jobs.models import Job, JobStatus
from clearinghouse.runtime import Runtime
from clearinghouse.storage import Actor, make_engine
from clearinghouse.triage.tasks import DEDUP_JOB
from tests.support.factories import make_org, make_token, make_user


def _settings(tmp_path: Any, **env: str) -> Settings:
    return Settings.from_env({"CLEARINGHOUSE_HOME": str(tmp_path / "home"), **env})


def test_request_threads_default_and_setting(tmp_path: Any) -> None:
    assert _settings(tmp_path).request_threads == 16
    assert _settings(tmp_path, CLEARINGHOUSE_REQUEST_THREADS="6").request_threads == 6


@pytest.mark.parametrize("bad", ["0", "-3", "many", "2.5"])
def test_request_threads_refuses_what_is_not_a_count(tmp_path: Any, bad: str) -> None:
    with pytest.raises(ValueError, match="CLEARINGHOUSE_REQUEST_THREADS"):
        _settings(tmp_path, CLEARINGHOUSE_REQUEST_THREADS=bad)


def test_pool_holds_a_connection_per_thread(database_url: str, tmp_path: Any) -> None:
    """The runtime's pool keeps the request threads plus the job worker's connections open, so a
    busy server does not open and close a connection per request."""
    runtime = Runtime(
        Settings.from_env(
            {
                "CLEARINGHOUSE_HOME": str(tmp_path / "home"),
                "CLEARINGHOUSE_DATABASE_URL": database_url,
                "CLEARINGHOUSE_REQUEST_THREADS": "7",
            }
        )
    )
    try:
        pool: Any = runtime.engine.pool
        assert pool.size() == 7 + 4
    finally:
        runtime.close()


def test_memory_sqlite_keeps_its_own_pool() -> None:
    engine = make_engine("sqlite:///:memory:", connections=9)
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT 1").scalar() == 1
    finally:
        engine.dispose()


def test_app_runs_blocking_work_on_the_configured_threads(runtime: Runtime) -> None:
    async def tokens() -> float:
        return anyio.to_thread.current_default_thread_limiter().total_tokens

    with TestClient(create_app(runtime)) as client:
        assert client.get("/api/v1/health").status_code == 200
        assert client.portal is not None
        assert client.portal.call(tokens) == runtime.settings.request_threads


FINDING = {
    "description": "parse_header copies the Cookie header into a fixed buffer.",
    "cwe": ["CWE-122"],
    "impact": {"claimed": "denial_of_service"},
    "reproducer": {"steps": ["send a 70000-byte Cookie header"]},
    "generator": {"tool": "bench", "model": "none", "organization": "Lab"},
}


@pytest.fixture
def api(runtime: Runtime) -> Iterator[tuple[TestClient, dict[str, str]]]:
    lab = make_org(runtime, "Lab", "ai_developer")
    make_user(runtime, "finder", lab, ["partner"])
    headers = {"Authorization": f"Bearer {make_token(runtime, 'finder')}"}
    # No job worker: what is queued stays queued until the test runs it.
    with TestClient(create_app(runtime, run_jobs=False)) as client:
        yield client, headers


def _submit(client: TestClient, headers: dict[str, str], i: int) -> str:
    body = {**FINDING, "title": f"Heap overflow #{i}", "package": {"purl": f"pkg:pypi/lib-{i}@1.0.0"}}
    response = client.post("/api/v1/findings", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _queued_dedup_runs(runtime: Runtime) -> int:
    with runtime.uow(Actor.system("test"), write=False) as uow:
        return int(
            uow.session.scalar(
                select(func.count())
                .select_from(Job)
                .where(Job.name == DEDUP_JOB, Job.status == JobStatus.QUEUED.value)
            )
            or 0
        )


def test_submissions_share_one_queued_dedup_run_and_every_finding_is_placed(
    runtime: Runtime, api: tuple[TestClient, dict[str, str]]
) -> None:
    client, headers = api
    ids = [_submit(client, headers, i) for i in range(4)]
    sqlite = runtime.engine.dialect.name == "sqlite"
    # SQLite: the first submission's run cannot start before the next ones commit (they hold the
    # one write lock), so it serves them all. PostgreSQL: a worker may be claiming it meanwhile,
    # so each submission queues its own.
    assert _queued_dedup_runs(runtime) == (1 if sqlite else 4)
    runtime.jobs.run_pending()
    assert _queued_dedup_runs(runtime) == 0
    with runtime.uow(Actor.system("test"), write=False) as uow:
        placed = {
            fid: case_id
            for fid, case_id in uow.session.execute(
                select(Finding.id, Finding.case_id).where(Finding.id.in_(ids))
            )
        }
    assert set(placed) == set(ids)
    assert all(case_id is not None for case_id in placed.values()), placed


def test_a_dedup_run_that_has_started_is_not_relied_on(
    runtime: Runtime, api: tuple[TestClient, dict[str, str]]
) -> None:
    """Once the queued run has been claimed it may already have read the pending findings: a
    later submission queues a run of its own."""
    client, headers = api
    first = _submit(client, headers, 0)
    runtime.jobs.run_pending()
    second = _submit(client, headers, 1)
    assert _queued_dedup_runs(runtime) == 1
    runtime.jobs.run_pending()
    with runtime.uow(Actor.system("test"), write=False) as uow:
        rows = uow.session.execute(select(Finding.id, Finding.case_id).where(Finding.id.in_([first, second])))
        cases = {fid: case_id for fid, case_id in rows}
    assert cases[first] is not None and cases[second] is not None


def test_queued_behind_asks_only_a_writing_sqlite_unit(runtime: Runtime) -> None:
    with runtime.uow(Actor.system("test")) as uow:
        uow.enqueue(DEDUP_JOB, {})
        uow.commit()
    with runtime.uow(Actor.system("test")) as uow:
        assert queued_behind(uow, DEDUP_JOB) is (runtime.engine.dialect.name == "sqlite")
        assert queued_behind(uow, "no.such.job") is False
    with runtime.uow(Actor.system("test"), write=False) as uow:
        assert queued_behind(uow, DEDUP_JOB) is False
