"""The disclosure clock: deadlines after first contact, shorter when exploited,
embargoes, reminders, SLA breaches; and the command line."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

from clearinghouse.cli import app
from clearinghouse.coordination import EXPLOITED_DISCLOSURE_DAYS, disclosure_deadline
from clearinghouse.coordination._clock import DeadlineState, state_of
from clearinghouse.coordination.models import VendorThread
from clearinghouse.domain import zone
from clearinghouse.jobs.models import Job
from clearinghouse.notifications.models import NotificationEvent
from clearinghouse.runtime import Runtime
from clearinghouse.storage import Actor, utcnow
from tests.test_coordination_workflow import PURL, coordination_env, run_jobs, validated_case


@pytest.fixture
def env(runtime: Runtime) -> Iterator[dict[str, Any]]:
    yield from coordination_env(runtime)


T0 = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC)


def test_deadline_rules() -> None:
    assert disclosure_deadline(None) is None
    assert disclosure_deadline(T0) == T0 + dt.timedelta(days=90)
    assert disclosure_deadline(T0, 45) == T0 + dt.timedelta(days=45)
    # Exploited from the start: seven days after first contact.
    assert disclosure_deadline(T0, 90, T0 - dt.timedelta(days=3)) == T0 + dt.timedelta(
        days=EXPLOITED_DISCLOSURE_DAYS
    )
    # Exploitation learned later: seven days from then, never later than the normal deadline.
    later = T0 + dt.timedelta(days=30)
    assert disclosure_deadline(T0, 90, later) == later + dt.timedelta(days=7)
    assert disclosure_deadline(T0, 10, later) == T0 + dt.timedelta(days=10)
    assert state_of(T0, T0 + dt.timedelta(seconds=1)) is DeadlineState.BREACHED
    assert state_of(T0, T0 - dt.timedelta(days=2)) is DeadlineState.REMINDER
    assert state_of(T0, T0 - dt.timedelta(days=30)) is DeadlineState.UPCOMING
    for bad in ("", "Mars/Olympus", "../etc/passwd", "/etc/localtime"):
        with pytest.raises(ValueError):
            zone(bad)


def test_exploitation_embargo_reminders_and_breaches(env: dict[str, Any]) -> None:
    client, runtime = env["client"], env["runtime"]
    case_id = validated_case(env)
    thread = client.post(
        f"/api/v1/cases/{case_id}/coordination/vendors",
        json={"vendor": "Fastparse Inc", "products": [{"purl": PURL}]},
        headers=env["coord"],
    ).json()
    embargo = (utcnow() + dt.timedelta(days=30)).replace(microsecond=0)
    put = client.put(
        f"/api/v1/cases/{case_id}/coordination/disclosure",
        json={"embargo_end": embargo.isoformat(), "disclosure_days": 60, "exploited": True},
        headers=env["coord"],
    )
    assert put.status_code == 200, put.text
    view = put.json()
    first = dt.datetime.fromisoformat(view["first_vendor_contact_at"]["utc"])
    assert dt.datetime.fromisoformat(view["deadline"]["utc"]) - first <= dt.timedelta(days=7, seconds=1)
    assert dt.datetime.fromisoformat(view["embargo_end"]["utc"]) == embargo
    assert (
        client.put(
            f"/api/v1/cases/{case_id}/coordination/disclosure",
            json={"disclosure_days": 0},
            headers=env["coord"],
        ).status_code
        == 422
    )
    assert (
        client.put(
            f"/api/v1/cases/{case_id}/coordination/disclosure", json={"exploited": True}, headers=env["vee"]
        ).status_code
        == 404
    )

    items = client.get("/api/v1/coordination/deadlines?tz=America/Chicago", headers=env["coord"]).json()
    kinds = {(i["kind"], i["state"]) for i in items}
    assert ("disclosure_deadline", "reminder") in kinds and ("embargo_end", "upcoming") in kinds
    assert ("vendor_response", "reminder") in kinds  # due in seven days
    assert all(i["due"]["tz"] == "America/Chicago" for i in items)
    assert client.get("/api/v1/coordination/deadlines", headers=env["dub"]).json() == []
    assert {i["kind"] for i in client.get("/api/v1/coordination/deadlines", headers=env["vee"]).json()} == {
        "disclosure_deadline",
        "embargo_end",
        "vendor_response",
    }

    # The vendor stays silent past its response SLA: a breach, listed as such.
    with runtime.uow(Actor.system("test")) as uow:
        uow.session.execute(update(VendorThread).values(notified_at=utcnow() - dt.timedelta(days=8)))
        uow.commit()
    breached = client.get("/api/v1/coordination/deadlines?state=breached", headers=env["coord"]).json()
    assert [(b["kind"], b["thread_id"]) for b in breached] == [("vendor_response", thread["id"])]

    # Reminders were queued before the embargo end; when due, they notify staff and vendor.
    with runtime.uow(Actor.system("test")) as uow:
        reminders = list(uow.session.scalars(select(Job).where(Job.name == "coordination.reminder")))
        due = [r for r in reminders if r.payload["due_at"] == embargo.isoformat()]
        assert sorted(r.payload["days"] for r in due) == [1, 7]
        uow.session.execute(update(Job).where(Job.id.in_([r.id for r in due])).values(run_after=utcnow()))
        uow.commit()
    run_jobs(runtime)
    with runtime.uow(Actor.system("test"), write=False) as uow:
        events = list(
            uow.session.scalars(select(NotificationEvent).where(NotificationEvent.kind == "reminder"))
        )
    assert sorted(e.payload["days_left"] for e in events) == [1, 7]
    assert all("Embargo end" in e.title for e in events)

    # Public release before the embargo end is refused unless the embargo is lifted.
    early = client.post(
        f"/api/v1/cases/{case_id}/coordination/publish", json={"summary": "Early"}, headers=env["coord"]
    )
    assert early.status_code == 409 and early.json()["errors"][0]["pointer"] == "/tlp"
    amber = client.post(
        f"/api/v1/cases/{case_id}/coordination/publish",
        json={"summary": "Partners only", "tlp": "AMBER"},
        headers=env["coord"],
    )
    assert amber.status_code == 201
    # A TLP:AMBER revision is hidden from a vendor outside it.
    assert client.get(f"/api/v1/cases/{case_id}/coordination/revisions", headers=env["dub"]).json() == []
    lifted = client.post(
        f"/api/v1/cases/{case_id}/coordination/publish",
        json={"summary": "Public", "lift_embargo": True},
        headers=env["coord"],
    )
    assert lifted.status_code == 201 and lifted.json()["number"] == 2


def test_cli_workflow(env: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    runtime = env["runtime"]
    monkeypatch.setenv("CLEARINGHOUSE_HOME", str(runtime.settings.home))
    monkeypatch.setenv("CLEARINGHOUSE_DATABASE_URL", runtime.settings.database_url)
    monkeypatch.setenv("CLEARINGHOUSE_JOB_BACKEND", "inprocess")
    monkeypatch.setenv("COLUMNS", "250")
    runner = CliRunner()

    def cli(*args: str, code: int = 0) -> str:
        result = runner.invoke(app, list(args))
        assert result.exit_code == code, (result.output, result.exception)
        return result.output

    case_id = validated_case(env)
    out = cli("coordinate", "notify", case_id, "--vendor", "Fastparse Inc", "--product", f"{PURL}@2.3.0")
    thread_id = out.split("thread ")[1].split()[0]
    vex = tmp_path / "answer.json"
    vex.write_text(
        json.dumps(
            {
                "@context": "https://openvex.dev/ns/v0.2.0",
                "@id": "https://fastparse.example/vex/1",
                "author": "Fastparse Inc",
                "timestamp": "2026-11-27T00:00:00Z",
                "statements": [
                    {
                        "vulnerability": {"name": case_id},
                        "products": [{"@id": f"{PURL}@2.3.1"}],
                        "status": "fixed",
                    }
                ],
            }
        )
    )
    assert "fixed 2.3.1" in cli("coordinate", "vex", thread_id, str(vex))
    assert "under_investigation" in cli(
        "coordinate", "status", thread_id, "--product", "Appliance", "--status", "under_investigation"
    )
    assert "CVE-2026-55555" in cli("coordinate", "alias", case_id, "CVE-2026-55555")
    assert "deadline" in cli("coordinate", "disclosure", case_id, "--days", "30", "--exploited")
    listed = cli("coordinate", "deadlines", "--json", "--tz", "Europe/Paris")
    assert json.loads(listed.splitlines()[0])["case_id"] == case_id
    deadlines = json.loads(cli("coordinate", "deadlines", "--format", "json"))
    deadline = next(d for d in deadlines if d["case_id"] == case_id)
    table = cli("coordinate", "deadlines", "--tz", "Europe/Paris")  # not a terminal: ids and times whole
    assert case_id in table and deadline["due_utc"][:16] in table and "…" not in table
    assert "revision 1" in cli("coordinate", "publish", case_id, "--summary", "Fixed in 2.3.1")
    assert "no such file" in cli("coordinate", "vex", thread_id, str(tmp_path / "missing.json"), code=2)
    assert "alias looks like" in cli("coordinate", "alias", case_id, "not an alias", code=2)
    assert "from clearinghouse@example.gov" in cli(
        "notifications",
        "smtp",
        "--host",
        "127.0.0.1",
        "--port",
        "2525",
        "--from",
        "clearinghouse@example.gov",
    )
    added = cli("notifications", "webhook", "add", "--user", "vee", "--url", "https://hooks.example/x")
    assert "whsec_" in added
    assert "https://hooks.example/x" in cli("notifications", "webhook", "list")
    (hook,) = json.loads(cli("notifications", "webhook", "list", "--format", "json"))
    assert hook["url"] == "https://hooks.example/x" and hook["active"] is True
    assert "no software vendor" in cli("coordinate", "from-matching", case_id)
