"""Notifications: signed webhooks with back-off, SMTP e-mail, daily digests,
preferences; only recipients the policy lets read an event hear of it."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import socket
import threading
from collections.abc import Iterator
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select, update

from clearinghouse.access.models import User
from clearinghouse.config import Settings
from clearinghouse.envelope import Sealed
from clearinghouse.jobs.models import Job
from clearinghouse.notifications import backoff, next_digest_time, passes, sign, verify
from clearinghouse.notifications.models import (
    DeliveryAttempt,
    EmailDelivery,
    NotificationEvent,
    WebhookDelivery,
    WebhookSubscription,
)
from clearinghouse.runtime import Runtime
from clearinghouse.storage import Actor, utcnow
from tests.support.factories import make_token, make_user
from tests.test_coordination_workflow import PURL, coordination_env, run_jobs, validated_case


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The receivers here listen on 127.0.0.1: the operator's allow-list admits loopback, explicitly."""
    return dataclasses.replace(settings, outbound_allow=("127.0.0.1/32",))


@pytest.fixture
def env(runtime: Runtime) -> Iterator[dict[str, Any]]:
    yield from coordination_env(runtime)


class Receiver:
    """A local HTTP endpoint that records each POST and answers with the queued status codes."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.statuses: list[int] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.received.append((dict(self.headers.items()), body))
                status = outer.statuses.pop(0) if outer.statuses else 200
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


def give_emails(runtime: Runtime) -> None:
    with runtime.uow(Actor.system("test")) as uow:
        for user in uow.session.scalars(select(User)):
            user.email = f"{user.username}@example.org"
        uow.commit()


def admin_headers(env: dict[str, Any]) -> dict[str, str]:
    runtime = env["runtime"]
    make_user(runtime, "root", env["orgs"]["house"], ["admin"])
    return {"Authorization": f"Bearer {make_token(runtime, 'root', ['read', 'write', 'admin'])}"}


def notify(env: dict[str, Any], case_id: str, vendor: str = "Fastparse Inc") -> dict[str, Any]:
    made = env["client"].post(
        f"/api/v1/cases/{case_id}/coordination/vendors",
        json={"vendor": vendor, "products": [{"purl": PURL}]},
        headers=env["coord"],
    )
    assert made.status_code == 200, made.text
    result: dict[str, Any] = made.json()
    return result


def test_webhook_is_signed_and_reaches_only_readers(env: dict[str, Any], receiver: Receiver) -> None:
    client, runtime = env["client"], env["runtime"]
    mine = client.post(
        "/api/v1/notifications/webhooks",
        json={"url": receiver.url, "org_wide": True, "events": ["vendor_notified", "status_changed"]},
        headers=env["vee"],
    )
    assert mine.status_code == 201, mine.text
    secret = mine.json()["secret"]
    assert mine.json()["subscription"]["org_id"] == env["orgs"]["vendor"]
    other = client.post(
        "/api/v1/notifications/webhooks", json={"url": receiver.url + "/other"}, headers=env["dub"]
    )
    assert other.status_code == 201
    case_id = validated_case(env)
    thread = notify(env, case_id)
    run_jobs(runtime)

    assert len(receiver.received) == 1  # not to the other vendor, who cannot read the thread
    headers, body = receiver.received[0]
    assert verify(secret, headers["X-Clearinghouse-Timestamp"], body, headers["X-Clearinghouse-Signature"])
    assert headers["X-Clearinghouse-Signature"] == sign(
        secret, int(headers["X-Clearinghouse-Timestamp"]), body
    )
    assert not verify(
        "whsec_wrong-secret-000000",
        headers["X-Clearinghouse-Timestamp"],
        body,
        headers["X-Clearinghouse-Signature"],
    )
    assert not verify(
        secret, headers["X-Clearinghouse-Timestamp"], body + b" ", headers["X-Clearinghouse-Signature"]
    )
    stale = str(int(headers["X-Clearinghouse-Timestamp"]) - 3600)
    assert not verify(secret, stale, body, sign(secret, int(stale), body))
    event = json.loads(body)
    assert event["kind"] == "vendor_notified" and event["case_id"] == case_id
    assert event["data"]["thread_id"] == thread["id"] and event["severity"] == "critical"
    assert headers["X-Clearinghouse-Event"] == "vendor_notified"

    # The secret is stored encrypted, never in clear.
    with runtime.uow(Actor.system("test"), write=False) as uow:
        row = uow.session.scalars(select(WebhookDelivery)).one()
        assert row.status == "delivered" and row.attempts == 1
        sub_row = uow.session.scalars(select(WebhookSubscription)).first()
        assert sub_row is not None and secret.encode() not in sub_row.secret_ciphertext
        sealed = Sealed(sub_row.secret_ciphertext, sub_row.secret_wrapped_key)
        assert runtime.envelope.open(sealed, f"webhook:{sub_row.id}".encode()).decode() == secret

    listed = client.get("/api/v1/notifications/webhooks", headers=env["vee"]).json()
    assert [s["id"] for s in listed] == [mine.json()["subscription"]["id"]]
    sub_id = mine.json()["subscription"]["id"]
    assert client.get(f"/api/v1/notifications/webhooks/{sub_id}", headers=env["dub"]).status_code == 404
    assert client.post(f"/api/v1/notifications/webhooks/{sub_id}/ping", headers=env["vee"]).status_code == 202
    run_jobs(runtime)
    assert json.loads(receiver.received[-1][1])["kind"] == "test"
    assert (
        client.delete(f"/api/v1/notifications/webhooks/{sub_id}", headers=env["vee"]).json()["active"]
        is False
    )
    bad = client.post("/api/v1/notifications/webhooks", json={"url": "ftp://x"}, headers=env["vee"])
    assert bad.status_code == 422 and bad.json()["errors"][0]["pointer"] == "/url"


def force_due(runtime: Runtime, name: str) -> None:
    """Make the queued jobs of one kind due now, as if their time had come."""
    with runtime.uow(Actor.system("test")) as uow:
        due = (Job.status == "queued") & (Job.name == name)
        uow.session.execute(update(Job).where(due).values(run_after=utcnow()))
        uow.commit()


def test_failed_webhooks_retry_with_exponential_backoff(env: dict[str, Any], receiver: Receiver) -> None:
    client, runtime = env["client"], env["runtime"]
    sub = client.post("/api/v1/notifications/webhooks", json={"url": receiver.url}, headers=env["vee"]).json()
    case_id = validated_case(env)
    receiver.statuses = [500, 503]
    notify(env, case_id)
    run_jobs(runtime)
    with runtime.uow(Actor.system("test"), write=False) as uow:
        first = uow.session.scalars(select(DeliveryAttempt)).one()
        delivery = uow.session.scalars(select(WebhookDelivery)).one()
        assert not first.ok and first.status_code == 500 and delivery.status == "pending"
        assert delivery.next_attempt_at is not None
        gap1 = delivery.next_attempt_at - first.attempted_at
    assert dt.timedelta(seconds=29) < gap1 <= dt.timedelta(seconds=31)
    force_due(runtime, "notifications.webhook")
    run_jobs(runtime)
    with runtime.uow(Actor.system("test"), write=False) as uow:
        attempts = list(uow.session.scalars(select(DeliveryAttempt).order_by(DeliveryAttempt.attempt)))
        delivery = uow.session.scalars(select(WebhookDelivery)).one()
        assert delivery.next_attempt_at is not None
        gap2 = delivery.next_attempt_at - attempts[-1].attempted_at
    assert [a.status_code for a in attempts] == [500, 503]
    assert dt.timedelta(seconds=59) < gap2 <= dt.timedelta(seconds=61)  # twice the first wait
    force_due(runtime, "notifications.webhook")
    run_jobs(runtime)
    history = client.get(
        f"/api/v1/notifications/webhooks/{sub['subscription']['id']}/deliveries", headers=env["vee"]
    )
    [delivery_out] = history.json()
    assert delivery_out["status"] == "delivered" and delivery_out["attempts"] == 3
    assert [a["status_code"] for a in delivery_out["history"]] == [500, 503, 200]
    assert [backoff(n).total_seconds() for n in (1, 2, 3, 10)] == [30, 60, 120, 3600]
    # Every attempt carried the same signed event.
    assert len({body for _, body in receiver.received}) == 1


def test_smtp_delivers_to_the_notified_vendor(env: dict[str, Any], mailbox: tuple[Mailbox, int]) -> None:
    client, runtime = env["client"], env["runtime"]
    box, port = mailbox
    give_emails(runtime)
    admin = admin_headers(env)
    set_smtp = client.put(
        "/api/v1/notifications/smtp",
        json={"host": "127.0.0.1", "port": port, "from": "clearinghouse@example.gov"},
        headers=admin,
    )
    assert set_smtp.status_code == 200, set_smtp.text
    assert (
        client.put(
            "/api/v1/notifications/smtp", json={"host": "x", "port": 25, "from": "a@b"}, headers=env["coord"]
        ).status_code
        == 403
    )
    case_id = validated_case(env)
    notify(env, case_id)
    run_jobs(runtime)
    [message] = box.messages
    assert message["To"] == "vee@example.org" and message["From"] == "clearinghouse@example.gov"
    assert "Fastparse Inc" in message["Subject"] and case_id in message.get_payload()
    with runtime.uow(Actor.system("test"), write=False) as uow:
        mail = uow.session.scalars(select(EmailDelivery)).one()
        assert mail.status == "delivered" and mail.sent_at is not None


def test_digest_bundles_events_and_filters_apply(env: dict[str, Any], mailbox: tuple[Mailbox, int]) -> None:
    client, runtime = env["client"], env["runtime"]
    box, port = mailbox
    give_emails(runtime)
    client.put(
        "/api/v1/notifications/smtp",
        json={"host": "127.0.0.1", "port": port, "from": "clearinghouse@example.gov"},
        headers=admin_headers(env),
    )
    pref = client.put(
        "/api/v1/notifications/preferences",
        json={
            "email_mode": "digest",
            "timezone": "America/New_York",
            "digest_hour": 7,
            "min_severity": "high",
        },
        headers=env["coord"],
    )
    assert pref.status_code == 200 and pref.json()["email_mode"] == "digest"
    # The other vendor only wants SSVC "act" decisions: this case has none, so it hears nothing.
    client.put("/api/v1/notifications/preferences", json={"ssvc_decisions": ["act"]}, headers=env["dub"])
    client.put("/api/v1/notifications/preferences", json={"email_mode": "off"}, headers=env["vee"])
    case_id = validated_case(env)
    thread = notify(env, case_id)
    client.post(
        f"/api/v1/coordination/threads/{thread['id']}/statuses",
        json={"statuses": [{"product": {"purl": PURL}, "status": "affected"}]},
        headers=env["vee"],
    )
    run_jobs(runtime)
    # Only the vendor's formal notice went out (it always does); the coordinator waits for the digest hour.
    assert [m["To"] for m in box.messages] == ["vee@example.org"]
    with runtime.uow(Actor.system("test"), write=False) as uow:
        digest_job = uow.session.scalars(select(Job).where(Job.name == "notifications.digest")).one()
    local = digest_job.run_after.astimezone(dt.timezone(dt.timedelta(hours=-5)))
    assert digest_job.run_after > utcnow() and digest_job.run_after.minute == 0
    assert local.hour in (7, 8)  # 07:00 in New York (EST or EDT)
    force_due(runtime, "notifications.digest")
    run_jobs(runtime)
    [notice, digest] = box.messages
    assert "Fastparse Inc" in notice["Subject"]
    assert digest["To"] == "coord@example.org" and "Daily digest: 2 updates" in digest["Subject"]
    text = digest.get_payload()
    assert "vendor_notified" in text and "status_changed" in text


def test_filters_and_digest_times() -> None:
    assert passes("critical", None, "high", [])
    assert not passes("medium", None, "high", [])
    assert not passes(None, None, "low", [])
    assert passes(None, "act", None, ["act"]) and not passes("critical", "track", None, ["act"])
    now = dt.datetime(2026, 11, 27, 13, 0, tzinfo=dt.UTC)
    assert next_digest_time(now, "Europe/Berlin", 8) == dt.datetime(2026, 11, 28, 7, 0, tzinfo=dt.UTC)
    assert next_digest_time(now, "Not/AZone", 15) == dt.datetime(2026, 11, 27, 15, 0, tzinfo=dt.UTC)


def test_a_validated_case_matching_an_asset_reaches_its_owners_webhook_as_new_match(
    env: dict[str, Any], receiver: Receiver
) -> None:
    from tests.support.factories import make_org
    from tests.test_matches import cyclonedx

    client, runtime = env["client"], env["runtime"]
    grid = make_org(runtime, "Grid Co", "critical_infrastructure_operator")
    make_user(runtime, "ops", grid, ["partner"])
    ops = {"Authorization": f"Bearer {make_token(runtime, 'ops')}"}
    hook = client.post(
        "/api/v1/notifications/webhooks",
        json={"url": receiver.url, "org_wide": True, "events": ["new_match"]},
        headers=ops,
    )
    assert hook.status_code == 201, hook.text
    made = client.post(
        "/api/v1/inventories?name=scada",
        content=cyclonedx(f"{PURL}@2.3.0", "pkg:pypi/other@1.0"),
        headers=ops,
    )
    assert made.status_code in (200, 201), made.text
    run_jobs(runtime)
    assert receiver.received == []  # no case yet
    case_id = validated_case(env)
    run_jobs(runtime)
    events = [json.loads(body) for _, body in receiver.received]
    assert [e["kind"] for e in events] == ["new_match"]
    payload = events[0]["data"]
    assert payload["asset"] == "scada" and payload["matches"][0]["case_id"] == case_id
    assert payload["matches"][0]["component"] == f"{PURL}@2.3.0"
    # Running the matching again raises nothing new; the vendor, who cannot read the asset, got nothing.
    with runtime.uow(Actor.system("test")) as uow:
        uow.enqueue("matching.case", {"case_id": case_id})
        uow.commit()
    run_jobs(runtime)
    assert len(receiver.received) == 1
    with runtime.uow(Actor.system("test"), write=False) as uow:
        kinds = [e.kind for e in uow.session.scalars(select(NotificationEvent))]
    assert kinds.count("new_match") == 1
