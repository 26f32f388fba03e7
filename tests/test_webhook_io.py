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
def env(settings: Settings) -> Iterator[dict[str, Any]]:
    """Loopback receivers allowed explicitly; short timeouts keep this test's own duration bounded."""
    runtime = Runtime(
        dataclasses.replace(
            settings,
            outbound_allow=("127.0.0.1/32",),
            outbound_connect_timeout=2.0,
            outbound_read_timeout=2.0,
            outbound_total_timeout=4.0,
        )
    )
    try:
        yield from coordination_env(runtime)
    finally:
        runtime.close()


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
        assert (
            client.post(f"/api/v1/notifications/webhooks/{sub_id}/ping", headers=env["vee"]).status_code
            == 202
        )
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


# -- SSRF ---------------------------------------------------------------------------------

INTERNAL_URLS = [
    "http://127.0.0.1:{port}/",
    "http://localhost:{port}/",
    "http://[::1]:{port}/",
    "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.7/hook",
    "http://192.168.1.1/hook",
    "http://172.16.0.1/hook",
    "http://100.64.0.1/hook",
    "http://0.0.0.0:{port}/",
    "http://[::]/",
    "http://224.0.0.1/",
    "http://240.0.0.1/",
    "http://2130706433:{port}/",  # 127.0.0.1 as one decimal number
    "http://0x7f000001:{port}/",  # ... in hex
    "http://0177.0.0.1:{port}/",  # ... in octal
    "http://127.1:{port}/",  # ... shortened
    "http://[::ffff:127.0.0.1]:{port}/",  # IPv4-mapped
    "http://[::ffff:a9fe:a9fe]/",  # 169.254.169.254, mapped, in hex
    "http://[::127.0.0.1]/",  # IPv4-compatible
    "http://[64:ff9b::a00:1]/",  # NAT64 of 10.0.0.1
    "http://[2002:7f00:1::]/",  # 6to4 of 127.0.0.1
    "http://[fe80::1]/",
    "http://[fc00::1]/",
]


@pytest.fixture
def open_env(runtime: Runtime) -> Iterator[dict[str, Any]]:
    """The default settings: no allow-list."""
    yield from coordination_env(runtime)


@pytest.mark.parametrize("template", INTERNAL_URLS)
def test_internal_addresses_are_refused_whatever_the_spelling(template: str) -> None:
    from clearinghouse import outbound

    policy = outbound.OutboundPolicy()
    with pytest.raises(outbound.OutboundRefused):
        outbound.resolve(template.format(port=8080), policy)


def test_the_guard_accepts_public_addresses_and_the_allow_list() -> None:
    import ipaddress

    from clearinghouse import outbound

    assert outbound.forbidden_reason(ipaddress.ip_address("93.184.215.14")) is None
    assert outbound.forbidden_reason(ipaddress.ip_address("2606:4700::1111")) is None
    assert outbound.forbidden_reason(ipaddress.ip_address("::ffff:8.8.8.8")) is None
    assert outbound.resolve("https://8.8.8.8/x", outbound.OutboundPolicy()).address == "8.8.8.8"
    networks, hosts = outbound.parse_allow_list(["10.1.0.0/16", " hooks.internal. ", "::1", ""])
    policy = outbound.OutboundPolicy(allow_networks=networks, allow_hosts=hosts)
    assert policy.allows("x", ipaddress.ip_address("10.1.2.3"))
    assert not policy.allows("x", ipaddress.ip_address("10.2.0.1"))
    assert policy.allows("HOOKS.internal", ipaddress.ip_address("192.168.9.9"))
    assert policy.allows("x", ipaddress.ip_address("::1"))
    with pytest.raises(ValueError, match="allow-list"):
        outbound.parse_allow_list(["not a/host"])
    for bad in ("ftp://x/", "http:///nohost", "http://user:pw@8.8.8.8/", "http://8.8.8.8:99999/"):
        with pytest.raises(outbound.OutboundRefused):
            outbound.resolve(bad, policy)


def test_registration_refuses_internal_urls_with_a_problem_naming_url(open_env: dict[str, Any]) -> None:
    client = open_env["client"]
    for template in ("http://127.0.0.1:{port}/", "http://169.254.169.254/", "http://2130706433:{port}/"):
        url = template.format(port=8123)
        answer = client.post("/api/v1/notifications/webhooks", json={"url": url}, headers=open_env["vee"])
        assert answer.status_code == 422, answer.text
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert [e["pointer"] for e in answer.json()["errors"]] == ["/url"]
    # A public address, and a name that does not resolve now (checked again at delivery), are taken.
    for url in ("https://8.8.8.8/hook", "https://hooks.invalid/x"):
        answer = client.post("/api/v1/notifications/webhooks", json={"url": url}, headers=open_env["vee"])
        assert answer.status_code == 201, answer.text


class AnswerReceiver:
    """A loopback HTTP receiver that answers every POST with ``status`` and a body it must not leak."""

    def __init__(self, status: int = 200) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.requests: list[dict[str, str]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["Content-Length"]))
                outer.requests.append(dict(self.headers.items()))
                self.send_response(status)
                self.send_header("Location", "http://169.254.169.254/")
                self.end_headers()
                self.wfile.write(b"internal-secret-answer")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _deliveries(env: dict[str, Any], sub_id: str) -> list[dict[str, Any]]:
    answer = env["client"].get(f"/api/v1/notifications/webhooks/{sub_id}/deliveries", headers=env["vee"])
    assert answer.status_code == 200
    result: list[dict[str, Any]] = answer.json()
    return result


def test_delivery_checks_again_and_connects_to_the_checked_address(
    open_env: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A name that resolved to a public address at registration and to loopback at delivery (DNS
    rebinding) is refused at delivery; the answer's body and redirects are never followed or shown."""
    client, runtime = open_env["client"], open_env["runtime"]
    receiver = AnswerReceiver(status=302)
    answers = {"rebind.test": "8.8.8.8"}
    lookups: list[str] = []
    real = socket.getaddrinfo

    def fake_getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host in answers:
            lookups.append(host)
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answers[host], port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    try:
        url = f"http://rebind.test:{receiver.port}/hook"
        made = client.post("/api/v1/notifications/webhooks", json={"url": url}, headers=open_env["vee"])
        assert made.status_code == 201, made.text
        sub_id = made.json()["subscription"]["id"]
        answers["rebind.test"] = "127.0.0.1"
        client.post(f"/api/v1/notifications/webhooks/{sub_id}/ping", headers=open_env["vee"])
        run_jobs(runtime)
        [delivery] = _deliveries(open_env, sub_id)
        [attempt] = delivery["history"]
        assert not attempt["ok"] and attempt["status_code"] is None
        assert "loopback" in attempt["error"] and receiver.requests == []

        # The operator allows the internal receiver by name: one lookup, a connection to the
        # checked address, the name in Host; a 302 is an answer (not followed), shown by status only.
        monkeypatch.setattr(
            runtime, "settings", dataclasses.replace(runtime.settings, outbound_allow=("rebind.test",))
        )
        lookups.clear()
        client.post(f"/api/v1/notifications/webhooks/{sub_id}/ping", headers=open_env["vee"])
        run_jobs(runtime)
        assert lookups == ["rebind.test"]
        [request] = receiver.requests
        assert request["Host"] == f"rebind.test:{receiver.port}"
        latest = _deliveries(open_env, sub_id)[0]
        assert [a["status_code"] for a in latest["history"]] == [302]
        assert latest["history"][0]["error"] == "HTTP 302" and latest["last_error"] == "HTTP 302"
        assert "internal-secret-answer" not in str(_deliveries(open_env, sub_id))
    finally:
        receiver.close()
    with runtime.uow(Actor.system("test"), write=False) as uow:
        errors = list(uow.session.scalars(select(DeliveryAttempt.error)))
    assert not any("internal-secret-answer" in (e or "") for e in errors)


def test_outbound_post_fails_cleanly_within_its_deadline() -> None:
    """TLS to a plain-HTTP port, a port nobody listens on, and a silent server: each an
    ``OutboundFailed`` naming the cause, never a hang or a stray exception."""
    from clearinghouse import outbound

    allow = outbound.OutboundPolicy(
        allow_networks=outbound.parse_allow_list(["127.0.0.1"])[0],
        connect_timeout=1.0,
        read_timeout=0.5,
        total_timeout=1.0,
    )
    receiver = AnswerReceiver(status=204)
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    closed_port = closed.getsockname()[1]
    closed.close()
    try:
        ok = outbound.post(f"http://127.0.0.1:{receiver.port}/x", b"{}", {"Host": "ignored"}, allow)
        assert ok.status_code == 204 and ok.address == "127.0.0.1"
        assert receiver.requests[0]["Host"] == f"127.0.0.1:{receiver.port}"
        with pytest.raises(outbound.OutboundFailed, match=r"TLS|SSL|ConnectError|ReadError"):
            outbound.post(f"https://127.0.0.1:{receiver.port}/x", b"{}", {}, allow)
        with pytest.raises(outbound.OutboundFailed, match="ConnectError"):
            outbound.post(f"http://127.0.0.1:{closed_port}/x", b"{}", {}, allow)
        with pytest.raises(outbound.OutboundFailed, match="timed out"):
            outbound.post(f"http://127.0.0.1:{silent.getsockname()[1]}/x", b"{}", {}, allow)
        with pytest.raises(outbound.OutboundRefused):
            outbound.post(f"http://127.0.0.2:{receiver.port}/x", b"{}", {}, allow)
    finally:
        receiver.close()
        silent.close()
    assert outbound.Target(
        "https://[2606:4700::1]/", "https", "2606:4700::1", 443, "2606:4700::1"
    ).host_header == ("[2606:4700::1]")
