"""End to end, as an operator runs it: a request's jobs start as soon as the request commits.

On PostgreSQL, ``serve --no-jobs`` and two ``clearinghouse worker`` processes: the job row and its
procrastinate delivery are written in the request's own transaction, whose commit wakes the
listening workers. On SQLite, ``serve`` with its in-process worker, woken by the commit. For a
webhook ping and a matching job queued by requests, the delay between the job row's creation
(inside the request's transaction, so at or before its commit) and its first attempt's start is
read from the recorded timestamps; the bound is generous, the test's own clock is not used.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from clearinghouse.config import Settings
from clearinghouse.jobs import JobStatus
from clearinghouse.jobs.models import Job, JobAttempt
from clearinghouse.runtime import Runtime
from clearinghouse.storage import Actor
from tests.support.databases import PG_URL, REQUIRE_PG, create_pg_database, drop_pg_database
from tests.support.factories import make_org, make_token, make_user
from tests.test_intake import finding

START_BOUND_SECONDS = 2.0  # the bound; LISTEN/NOTIFY or the in-process wake-up take milliseconds


@dataclasses.dataclass
class Deployment:
    env: dict[str, str]
    backend: str  # "procrastinate" or "inprocess"


@pytest.fixture(params=["postgresql", "sqlite"])
def deployment(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Deployment]:
    env = {
        **os.environ,
        "CLEARINGHOUSE_HOME": str(tmp_path / "home"),
        "CLEARINGHOUSE_LOG_LEVEL": "WARNING",
        "CLEARINGHOUSE_OUTBOUND_ALLOW": "127.0.0.1/32",  # the receiver below is on loopback
    }
    env.pop("CLEARINGHOUSE_JOB_BACKEND", None)
    if request.param == "sqlite":
        env["CLEARINGHOUSE_DATABASE_URL"] = f"sqlite:///{tmp_path / 'home' / 'clearinghouse.db'}"
        yield Deployment(env, "inprocess")
        return
    if PG_URL is None:
        if REQUIRE_PG:
            pytest.fail("CLEARINGHOUSE_REQUIRE_POSTGRES=1 but CLEARINGHOUSE_TEST_POSTGRES_URL is not set")
        pytest.skip("needs PostgreSQL: set CLEARINGHOUSE_TEST_POSTGRES_URL (scripts/test does)")
    url = create_pg_database()
    env["CLEARINGHOUSE_DATABASE_URL"] = url
    yield Deployment(env, "procrastinate")
    drop_pg_database(url)


class Receiver:
    def __init__(self) -> None:
        self.received = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["Content-Length"]))
                outer.received.set()
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def clearinghouse(env: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
    """A ``clearinghouse`` process; its output goes to a file (a full pipe would stall it)."""
    log = Path(env["CLEARINGHOUSE_HOME"]) / f"{args[0]}-{time.monotonic_ns()}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "clearinghouse", *args], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    LOGS[process.pid] = log
    return process


LOGS: dict[int, Path] = {}


def wait_for(
    condition: Any, what: str, processes: list[subprocess.Popen[bytes]], timeout: float = 300.0
) -> None:
    """Poll ``condition``; the timeout only guards against a hang (no assertion on time)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for process in processes:
            if process.poll() is not None:
                pytest.fail(f"{process.args!r} exited: {LOGS[process.pid].read_text()[-3000:]}")
        if condition():
            return
        time.sleep(0.1)
    pytest.fail(f"gave up waiting for {what}")


def start_delays(runtime: Runtime, name: str) -> list[float]:
    """For each succeeded job ``name``: seconds from its row's creation to its first attempt's start."""
    with runtime.uow(Actor.system("test"), write=False) as uow:
        rows = uow.session.execute(
            select(Job.created_at, JobAttempt.started_at)
            .join(JobAttempt, (JobAttempt.job_id == Job.id) & (JobAttempt.attempt == 1))
            .where(Job.name == name, Job.status == JobStatus.SUCCEEDED.value)
        ).all()
    return [(started - created).total_seconds() for created, started in rows]


def test_jobs_queued_by_a_request_start_at_its_commit(deployment: Deployment) -> None:
    env = deployment.env
    subprocess.run([sys.executable, "-m", "clearinghouse", "init"], env=env, check=True, capture_output=True)
    settings = Settings.from_env(env)
    assert settings.job_backend == deployment.backend
    runtime = Runtime(settings)
    receiver = Receiver()
    processes: list[subprocess.Popen[bytes]] = []
    try:
        lab = make_org(runtime, "Lab A", "ai_developer")
        house = make_org(runtime, "Clearinghouse", "government_agency")
        vendor = make_org(runtime, "Fastparse Inc", "software_vendor")
        make_user(runtime, "scanner", lab, ["partner"])
        make_user(runtime, "ana", house, ["analyst"])
        make_user(runtime, "vee", vendor, ["vendor_contact"])
        headers = {
            u: {"Authorization": f"Bearer {make_token(runtime, u)}"} for u in ("scanner", "ana", "vee")
        }

        port = free_port()
        serve = ["serve", "--port", str(port)]
        if deployment.backend == "procrastinate":
            processes.append(clearinghouse(env, *serve, "--no-jobs"))
            processes += [clearinghouse(env, "worker", "--concurrency", "2") for _ in range(2)]
        else:
            processes.append(clearinghouse(env, *serve))  # its in-process worker runs the jobs
        base = f"http://127.0.0.1:{port}"

        def up() -> bool:
            try:
                return httpx.get(f"{base}/api/v1/health", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(up, "the server", processes)
        time.sleep(1.0)  # let the workers reach LISTEN (a job queued before that waits for a poll)
        with httpx.Client(base_url=base, timeout=30) as client:
            made = client.post(
                "/api/v1/notifications/webhooks", json={"url": receiver.url}, headers=headers["vee"]
            )
            assert made.status_code == 201, made.text
            sub_id = made.json()["subscription"]["id"]
            ping = client.post(f"/api/v1/notifications/webhooks/{sub_id}/ping", headers=headers["vee"])
            assert ping.status_code == 202, ping.text
            submitted = client.post("/api/v1/findings", json=finding(3), headers=headers["scanner"])
            assert submitted.status_code == 201, submitted.text
            finding_id = submitted.json()["id"]
            validated = client.post(
                f"/api/v1/findings/{finding_id}:validate", json={}, headers=headers["ana"]
            )
            assert validated.status_code == 200, validated.text

        wait_for(receiver.received.is_set, "the webhook delivery", processes)
        wait_for(
            lambda: start_delays(runtime, "notifications.webhook") and start_delays(runtime, "matching.case"),
            "the webhook and matching jobs",
            processes,
        )
        delays = {name: start_delays(runtime, name) for name in ("notifications.webhook", "matching.case")}
        report = ", ".join(f"{name} {max(values) * 1000:.0f} ms" for name, values in delays.items())
        sys.stderr.write(f"\n[{deployment.backend}] from commit to start: {report}\n")
        for name, values in delays.items():
            assert values and max(values) < START_BOUND_SECONDS, f"{name} started {values} s after its commit"
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        receiver.close()
        runtime.close()
