"""Webhooks talk to the network with no database transaction open, within timeouts and a total
deadline; and they never reach internal addresses (SSRF), checked at registration and at delivery."""

from __future__ import annotations

import dataclasses
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from clearinghouse.config import Settings
from clearinghouse.notifications.models import DeliveryAttempt, WebhookDelivery
from clearinghouse.runtime import Runtime
from clearinghouse.storage import Actor
from tests.test_coordination_workflow import coordination_env, run_jobs
from tests.test_intake import finding


class TrickleReceiver:
    """Reads a request, then answers one byte every ``interval`` seconds, as a slow or hostile receiver."""

    def __init__(self, interval: float = 0.5) -> None:
        self.interval = interval
        self.request_received = threading.Event()
        self.done = threading.Event()
        self.sent = 0
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/hook"
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        conn, _ = self.sock.accept()
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                data += conn.recv(65536)
            head, body = data.split(b"\r\n\r\n", 1)
            length = next(
                int(line.split(b":", 1)[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            while len(body) < length:
                body += conn.recv(65536)
            self.request_received.set()
            answer = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n" + b"X-Padding: " + b"." * 200
            try:
                for byte in answer:
                    conn.sendall(bytes([byte]))
                    self.sent += 1
                    time.sleep(self.interval)
            except OSError:
                pass  # the client gave up: what we want
        self.done.set()

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Loopback receivers allowed explicitly; short timeouts keep this test's own duration bounded."""
    return dataclasses.replace(
        settings,
        outbound_allow=("127.0.0.1/32",),
        outbound_connect_timeout=2.0,
        outbound_read_timeout=2.0,
        outbound_total_timeout=4.0,
    )


@pytest.fixture
def env(runtime: Runtime) -> Iterator[dict[str, Any]]:
    yield from coordination_env(runtime)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_trickling_receiver_does_not_stop_writes(env: dict[str, Any]) -> None:
    """On SQLite a webhook POST inside the job's write transaction held the one write lock for as
    long as the receiver liked: a concurrent POST /api/v1/findings waited and failed with
    "database is locked". Now the POST runs with no transaction open."""
    client, runtime = env["client"], env["runtime"]
    receiver = TrickleReceiver(interval=0.5)
    try:
        made = client.post("/api/v1/notifications/webhooks", json={"url": receiver.url}, headers=env["vee"])
        assert made.status_code == 201, made.text
        sub_id = made.json()["subscription"]["id"]
        assert client.post(f"/api/v1/notifications/webhooks/{sub_id}/ping", headers=env["vee"]).status_code == 202
        worker = threading.Thread(target=run_jobs, args=(runtime,))
        worker.start()
        assert receiver.request_received.wait(30), "the webhook job never sent its request"
        # The job is now waiting on the receiver: writers must not be waiting on the job.
        answer = client.post("/api/v1/findings", json=finding(7), headers=env["scanner"])
        assert answer.status_code == 201, answer.text
        assert not receiver.done.is_set(), "the finding was stored only after the receiver was done"
        worker.join(60)
        assert not worker.is_alive()
    finally:
        receiver.close()
    with runtime.uow(Actor.system("test"), write=False) as uow:
        [attempt] = uow.session.scalars(select(DeliveryAttempt)).all()
        delivery = uow.session.scalars(select(WebhookDelivery)).one()
    # The total deadline ended the trickle: an attempt that failed, retried later.
    assert not attempt.ok and attempt.status_code is None
    assert attempt.error is not None and "deadline" in attempt.error
    assert delivery.status == "pending" and delivery.next_attempt_at is not None
    assert receiver.sent < 200  # cut off long before the receiver's answer was complete
