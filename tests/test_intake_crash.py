"""The service killed (SIGKILL) in the middle of a large batch; the client sends
the whole batch again to a restarted service: every finding is stored exactly once."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from sqlalchemy import func, select

from clearinghouse.config import Settings
from clearinghouse.intake.models import Finding
from clearinghouse.runtime import Runtime
from clearinghouse.storage import Actor
from tests.support.factories import make_org, make_token, make_user
from tests.test_intake import finding

ITEMS = 8_000


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _serve(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(
        [sys.executable, "-m", "clearinghouse", "serve", "--port", str(port), "--no-jobs"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=1)
            return server
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.1)
    server.kill()
    raise AssertionError("the service did not start")


def _post(port: int, token: str, body: bytes) -> dict[str, object] | None:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/findings:batch",
        data=body,
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/x-ndjson"},
    )
    try:
        with urllib.request.urlopen(request, timeout=300) as response:
            result: dict[str, object] = json.loads(response.read())
            return result
    except (urllib.error.URLError, ConnectionError, OSError):
        return None  # the service died under us


def _count(runtime: Runtime) -> tuple[int, int]:
    with runtime.uow(Actor.system("test"), write=False) as uow:
        total = uow.session.scalar(select(func.count()).select_from(Finding)) or 0
        distinct = uow.session.scalar(select(func.count(func.distinct(Finding.idempotency_key)))) or 0
    return total, distinct


def test_killed_mid_batch_then_resent(tmp_path: Path) -> None:
    env = {**os.environ, "CLEARINGHOUSE_HOME": str(tmp_path / "home"), "CLEARINGHOUSE_LOG_LEVEL": "WARNING"}
    env.pop("CLEARINGHOUSE_DATABASE_URL", None)
    env.pop("CLEARINGHOUSE_JOB_BACKEND", None)
    runtime = Runtime(Settings.from_env(env))
    runtime.migrate()
    make_user(runtime, "scanner", make_org(runtime, "Lab A", "ai_developer"), ["partner"])
    token = make_token(runtime, "scanner")
    body = b"\n".join(json.dumps(finding(i)).encode() for i in range(ITEMS)) + b"\n"

    port = _port()
    server = _serve(env, port)
    sender = threading.Thread(target=_post, args=(port, token, body))
    sender.start()
    try:
        deadline = time.monotonic() + 120
        while _count(runtime)[0] < 1000 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _count(runtime)[0] >= 1000, "nothing was stored before the deadline"
    finally:
        server.send_signal(signal.SIGKILL)
        server.wait()
        sender.join()
    stored_before, _ = _count(runtime)
    assert 0 < stored_before < ITEMS  # killed part way

    server = _serve(env, port)
    try:
        report = _post(port, token, body)
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert report is not None
    assert report["created"] == ITEMS - stored_before and report["existing"] == stored_before
    assert _count(runtime) == (ITEMS, ITEMS)
    runtime.close()
