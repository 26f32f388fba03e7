"""The directive tracker: the order's items with their due dates, overdue flags, admin edits, CLI."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from clearinghouse.access.services import OPERATOR
from clearinghouse.api.app import create_app
from clearinghouse.cli import app as cli_app
from clearinghouse.config import Settings
from clearinghouse.directives import Directive, list_directives, seed_document, seed_registry
from clearinghouse.ledger.models import AuditEvent
from clearinghouse.runtime import Runtime
from clearinghouse.storage import Actor
from tests.support.factories import make_org, make_token, make_user

SIGNED = dt.date(2026, 6, 2)


@pytest.fixture
def env(runtime: Runtime) -> Iterator[dict[str, Any]]:
    runtime.migrate()  # where the registry is seeded, as `clearinghouse init` does
    house = make_org(runtime, "Clearinghouse", "government_agency")
    make_user(runtime, "root", house, ["admin"])
    make_user(runtime, "ana", house, ["analyst"])
    make_user(runtime, "ops", make_org(runtime, "Grid Co", "critical_infrastructure_operator"), ["partner"])
    with TestClient(create_app(runtime), raise_server_exceptions=False) as client:
        yield {
            "client": client,
            "root": {"Authorization": f"Bearer {make_token(runtime, 'root', ['read', 'write', 'admin'])}"},
            "ana": {"Authorization": f"Bearer {make_token(runtime, 'ana')}"},
            "ops": {"Authorization": f"Bearer {make_token(runtime, 'ops')}"},
        }


def by_key(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {d["key"]: d for d in items}


def test_the_orders_items_and_their_due_dates(env: dict[str, Any]) -> None:
    client = env["client"]
    r = client.get("/api/v1/directives", params={"as_of": "2026-06-15"}, headers=env["ops"])
    assert r.status_code == 200, r.text
    items = by_key(r.json())
    thirty = (SIGNED + dt.timedelta(days=30)).isoformat()
    sixty = (SIGNED + dt.timedelta(days=60)).isoformat()
    assert thirty == "2026-07-02" and sixty == "2026-08-01"
    section2 = [d for d in items.values() if d["section"].startswith("§2")]
    assert {d["key"] for d in section2} == {
        "eo14409-2-national-security-systems",
        "eo14409-2-war-department-systems",
        "eo14409-2c-civilian-federal-systems",
        "eo14409-2d-clearinghouse",
        "eo14409-2-grant-programs",
        "eo14409-2-hiring",
    }
    for d in section2:
        assert d["due_date"] == (sixty if d["key"] == "eo14409-2-hiring" else thirty), d["key"]
        assert d["signed_on"] == "2026-06-02" and d["actor"] == d["leads"][0]["office"]
    clearinghouse = items["eo14409-2d-clearinghouse"]
    assert clearinghouse["actor"] == "Secretary of the Treasury" and clearinghouse["acting_through"] == ""
    for key in ("eo14409-3a-benchmarking", "eo14409-3b-voluntary-framework"):
        assert items[key]["due_date"] == sixty and items[key]["section"].startswith("§3")
    standing = items["eo14409-4-enforcement"]
    assert standing["standing"] and standing["due_date"] is None and standing["status"] == "standing"
    assert "1030" in standing["deliverable"] and standing["actor"] == "Attorney General"
    assert items["bod-26-04-agency-policies"]["due_date"] == "2026-08-07"
    assert items["bod-26-04-full-use"]["due_date"] == "2026-12-07"
    assert not any(d["overdue"] for d in items.values())
    # Soonest first, standing last.
    dates = [d["due_date"] for d in r.json()]
    dated = [d for d in dates if d is not None]
    assert dates[: len(dated)] == sorted(dated) and dates[len(dated) :] == [None] * (len(dates) - len(dated))
    # The seed file says where the day counts come from.
    assert any("T+30 = 2026-07-02, T+60 = 2026-08-01" in n for n in seed_document()["notes"])


def test_overdue_items_are_flagged_relative_to_the_day(env: dict[str, Any]) -> None:
    client = env["client"]
    july = by_key(client.get("/api/v1/directives", params={"as_of": "2026-07-03"}, headers=env["ana"]).json())
    overdue = {k for k, d in july.items() if d["overdue"]}
    assert overdue == {
        "eo14409-2-national-security-systems",
        "eo14409-2-war-department-systems",
        "eo14409-2c-civilian-federal-systems",
        "eo14409-2d-clearinghouse",
        "eo14409-2-grant-programs",
    }
    on_the_day = by_key(
        client.get("/api/v1/directives", params={"as_of": "2026-07-02"}, headers=env["ana"]).json()
    )
    assert not any(d["overdue"] for d in on_the_day.values())
    late = by_key(client.get("/api/v1/directives", params={"as_of": "2026-11-27"}, headers=env["ana"]).json())
    assert {k for k, d in late.items() if not d["overdue"]} == {
        "eo14409-3a-designation",
        "eo14409-3b-voluntary-framework",  # done (the framework was called complete in August)
        "eo14409-3c-no-release-gate",
        "eo14409-4-enforcement",
        "bod-26-04-full-use",
    }
    # Done is never overdue.
    root = env["root"]
    done = client.patch(
        f"/api/v1/directives/{july['eo14409-2d-clearinghouse']['id']}", json={"status": "done"}, headers=root
    )
    assert done.status_code == 200 and done.json()["status"] == "done"
    again = client.get(
        "/api/v1/directives/eo14409-2d-clearinghouse", params={"as_of": "2026-07-03"}, headers=env["ana"]
    )
    assert again.status_code == 200 and again.json()["overdue"] is False


def test_admins_edit_and_add_instruments(env: dict[str, Any]) -> None:
    client, root = env["client"], env["root"]
    listed = by_key(client.get("/api/v1/directives", headers=root).json())
    grant = listed["eo14409-2-grant-programs"]
    r = client.patch(
        f"/api/v1/directives/{grant['id']}",
        json={"due_days": 45, "consulted": ["OMB", " "], "note": "extended by memo", "acting_through": None},
        headers=root,
    )
    assert r.status_code == 200, r.text
    assert (
        r.json()["due_date"] == "2026-07-17"
        and r.json()["consulted"] == ["OMB"]
        and r.json()["acting_through"] == ""
    )
    assert (
        client.patch(f"/api/v1/directives/{grant['id']}", json={"status": "lost"}, headers=root).status_code
        == 422
    )
    assert (
        client.patch(f"/api/v1/directives/{grant['id']}", json={"title": None}, headers=root).status_code
        == 422
    )
    assert (
        client.patch(f"/api/v1/directives/{grant['id']}", json={"status": None}, headers=root).status_code
        == 422
    )
    assert (
        client.patch(f"/api/v1/directives/{grant['id']}", json={"note": "x"}, headers=env["ana"]).status_code
        == 403
    )
    assert client.patch("/api/v1/directives/nope", json={"note": "x"}, headers=root).status_code == 404
    bod = listed["bod-26-04-full-use"]
    unsigned = client.patch(
        f"/api/v1/directives/{bod['id']}",
        json={"due_on": None, "signed_on": None, "due_days": 10},
        headers=root,
    )
    assert unsigned.status_code == 422 and unsigned.json()["errors"][0]["pointer"] == "/signed_on"

    new = {
        "key": "bod-27-01-inventory",
        "instrument": "BOD 27-01",
        "section": "required actions",
        "title": "Report AI agent inventories",
        "actor": "Federal civilian executive branch agencies",
        "acting_through": "Agency CIOs",
        "consulted": ["CISA"],
        "signed_on": "2027-01-15",
        "due_days": 90,
        "deliverable": "An inventory of AI agents with network access",
    }
    made = client.post("/api/v1/directives", json=new, headers=root)
    assert made.status_code == 201, made.text
    assert made.json()["due_date"] == "2027-04-15" and made.json()["status"] == "open"
    assert client.post("/api/v1/directives", json=new, headers=root).status_code == 200
    conflict = client.post("/api/v1/directives", json={**new, "due_days": 30}, headers=root)
    assert conflict.status_code == 409 and conflict.json()["errors"][0]["pointer"] == "/key"
    assert client.post("/api/v1/directives", json={**new, "key": "x2"}, headers=env["ana"]).status_code == 403
    blank = client.post("/api/v1/directives", json={**new, "key": "x3", "actor": "  "}, headers=root)
    assert blank.status_code == 422 and blank.json()["errors"][0]["pointer"] == "/actor"
    assert client.get("/api/v1/directives").status_code == 401
    assert len(client.get("/api/v1/directives", headers=env["ops"]).json()) == len(listed) + 1


def test_directives_list_on_the_command_line(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLEARINGHOUSE_HOME", str(settings.home))
    monkeypatch.setenv("CLEARINGHOUSE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("CLEARINGHOUSE_JOB_BACKEND", "inprocess")
    monkeypatch.setenv("COLUMNS", "250")
    runtime = Runtime(settings)
    runtime.migrate()
    runtime.close()
    runner = CliRunner()
    result: Any = runner.invoke(cli_app, ["directives", "list", "--as-of", "2026-07-03"])
    assert result.exit_code == 0, result.output
    assert "Attorney General" in result.output and "2026-08-07" in result.output
    assert "5 overdue" in result.output and "OVERDUE" in result.output
    only: Any = runner.invoke(cli_app, ["directives", "list", "--as-of", "2026-07-03", "--overdue"])
    assert only.exit_code == 0 and "5 shown; 5 overdue" in only.output
    bad: Any = runner.invoke(cli_app, ["directives", "list", "--as-of", "July"])
    assert bad.exit_code == 2


def test_due_date_rules() -> None:
    d = Directive(
        key="k", instrument="i", title="t", actor="a", standing=False, signed_on=SIGNED, due_days=30
    )
    assert d.due_date == dt.date(2026, 7, 2)
    assert d.is_overdue(dt.date(2026, 7, 3)) and not d.is_overdue(dt.date(2026, 7, 2))
    d.due_on = dt.date(2026, 8, 7)
    assert d.due_date == dt.date(2026, 8, 7)
    d.standing = True
    assert d.due_date is None and not d.is_overdue(dt.date(2030, 1, 1))
    assert Directive(key="k", instrument="i", title="t", actor="a", standing=False).due_date is None


def _ledger_count(runtime: Runtime) -> int:
    with runtime.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(AuditEvent)).scalar_one())


def test_reads_never_seed_and_migrate_seeds_once(runtime: Runtime) -> None:
    make_user(runtime, "ops", make_org(runtime, "Grid Co", "critical_infrastructure_operator"), ["partner"])
    headers = {"Authorization": f"Bearer {make_token(runtime, 'ops')}"}
    with TestClient(create_app(runtime), raise_server_exceptions=False) as client:
        # Not yet prepared: a read shows the empty registry and writes nothing.
        before = _ledger_count(runtime)
        empty = client.get("/api/v1/directives", headers=headers)
        assert empty.status_code == 200 and empty.json() == []
        with runtime.uow(Actor.system("test"), write=False) as uow:
            assert list_directives(uow.session, OPERATOR) == []
        assert _ledger_count(runtime) == before
        # Preparing the schema seeds it, with one ledger event; again, nothing more.
        runtime.migrate()
        seeded = client.get("/api/v1/directives", headers=headers).json()
        assert len(seeded) == len(seed_document()["directives"])
        after = _ledger_count(runtime)
        assert after > before
        runtime.migrate()
        assert seed_registry(runtime.uow) == 0
        assert _ledger_count(runtime) == after
        assert len(client.get("/api/v1/directives", headers=headers).json()) == len(seeded)
