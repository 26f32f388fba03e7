"""BOD 26-04 compliance per agency: the table's timeline from four facts, the clock from the notice.

Time is passed in (``as_of``, ``now``), never waited for."""

from __future__ import annotations

import datetime as dt
from typing import Any

from clearinghouse.directives import bod_26_04_compliance
from clearinghouse.priority import bod_26_04
from clearinghouse.runtime import Runtime
from clearinghouse.storage import Actor
from tests.support.factories import subject_of
from tests.test_matches import _user_id, env, register, validated_case
from tests.test_queue import load_kev_and_epss

__all__ = ["env"]


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def compliance(env: dict[str, Any], who: str, as_of: dt.datetime) -> dict[str, Any]:
    r = env["client"].get(
        "/api/v1/directives/bod-26-04/compliance", params={"as_of": _iso(as_of)}, headers=env[who]
    )
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def test_exposed_automatable_total_kev_asset_gets_three_days_with_forensics_then_turns_overdue(
    env: dict[str, Any],
) -> None:
    client, runtime = env["client"], env["runtime"]
    load_kev_and_epss(runtime)
    exposed = register(
        env, "cio", "portal", "pkg:pypi/fastparse@2.4.1", internet_exposed=True, criticality="high"
    )
    inside = register(env, "cio", "intranet", "pkg:pypi/fastparse@2.2.0")
    register(env, "ops", "scada", "pkg:pypi/fastparse@2.4.1", internet_exposed=True)  # not an agency
    case_id = validated_case(env)

    match = client.get(f"/api/v1/inventories/{exposed['id']}/matches", headers=env["cio"]).json()[0]
    created = dt.datetime.fromisoformat(match["created_at"])
    body = compliance(env, "ana", created + dt.timedelta(days=1))
    assert [a["name"] for a in body["agencies"]] == ["Dept of Examples"]
    agency = body["agencies"][0]
    items = {i["asset_name"]: i for i in agency["items"]}
    assert set(items) == {"portal", "intranet"}
    portal = items["portal"]
    assert portal["inputs"] == {
        "in_kev": "yes",
        "publicly_exposed": "yes",
        "automatable": "yes",
        "technical_impact": "total",
    }
    assert portal["outcome"] == "3 days & forensic investigation" and portal["forensic_triage"] is True
    assert portal["cve_ids"] == ["CVE-2024-11111"] and portal["case_id"] == case_id
    assert dt.datetime.fromisoformat(portal["notified_at"]) == created and not portal["notified_explicitly"]
    assert dt.datetime.fromisoformat(portal["due_at"]) == created + dt.timedelta(days=3)
    assert portal["overdue"] is False and agency["overdue"] == 0
    # The unexposed asset: the table's own outcome for (yes, no, yes, total).
    intranet = items["intranet"]
    assert intranet["inputs"]["publicly_exposed"] == "no"
    expected = bod_26_04(in_kev="yes", publicly_exposed="no", automatable="yes", technical_impact="total")
    assert intranet["outcome"] == expected.value and intranet["asset_id"] == inside["id"]

    # Three days later and a second: overdue.
    late = compliance(env, "ana", created + dt.timedelta(days=3, seconds=1))["agencies"][0]
    assert {i["asset_name"]: i["overdue"] for i in late["items"]}["portal"] is True
    assert late["overdue"] >= 1
    on_time = compliance(env, "ana", created + dt.timedelta(days=3))["agencies"][0]
    assert {i["asset_name"]: i["overdue"] for i in on_time["items"]}["portal"] is False

    # The same through the service, with the clock in hand.
    with runtime.uow(Actor.system("test"), write=False) as uow:
        cio = subject_of(runtime, _user_id(runtime, "cio"))
        seen = bod_26_04_compliance(uow.session, cio, created + dt.timedelta(days=4))
    assert [a.name for a in seen] == ["Dept of Examples"]
    assert {i.asset_name: i.overdue for i in seen[0].items}["portal"] is True
    assert "portal" in [i.asset_name for i in seen[0].overdue]
    assert len(seen[0].due) + len(seen[0].overdue) + len(seen[0].at_upgrade) == 2


def test_an_explicit_notice_moves_the_clock_and_only_staff_record_it(env: dict[str, Any]) -> None:
    client, runtime = env["client"], env["runtime"]
    load_kev_and_epss(runtime)
    asset = register(env, "cio", "portal", "pkg:pypi/fastparse@2.4.1", internet_exposed=True)
    validated_case(env)
    match_id = client.get(f"/api/v1/inventories/{asset['id']}/matches", headers=env["cio"]).json()[0]["id"]
    url = f"/api/v1/directives/bod-26-04/notices/{match_id}"
    notice = {"notified_at": "2030-06-10T00:00:00Z", "note": "letter sent"}
    assert client.put(url, json=notice, headers=env["cio"]).status_code == 403
    assert client.put(url, json=notice, headers=env["rival"]).status_code == 404
    assert (
        client.put("/api/v1/directives/bod-26-04/notices/nope", json=notice, headers=env["ana"]).status_code
        == 404
    )
    r = client.put(url, json=notice, headers=env["ana"])
    assert r.status_code == 200 and r.json()["note"] == "letter sent"
    assert client.put(url, json=notice, headers=env["ana"]).status_code == 200  # the same again
    naive = client.put(url, json={"notified_at": "2030-06-10T00:00:00"}, headers=env["ana"])
    assert naive.status_code == 422 and naive.json()["errors"][0]["pointer"] == "/notified_at"

    before = compliance(env, "cio", dt.datetime(2030, 6, 12, tzinfo=dt.UTC))["agencies"][0]["items"][0]
    assert before["notified_explicitly"] and before["due_at"].startswith("2030-06-13")
    assert before["overdue"] is False
    after = compliance(env, "cio", dt.datetime(2030, 6, 14, tzinfo=dt.UTC))["agencies"][0]["items"][0]
    assert after["overdue"] is True
    # Others see no agency's assets; a naive as_of is read as UTC.
    assert compliance(env, "rival", dt.datetime(2030, 6, 14, tzinfo=dt.UTC))["agencies"] == []
    naive_as_of = client.get(
        "/api/v1/directives/bod-26-04/compliance", params={"as_of": "2030-06-14T00:00:00"}, headers=env["ana"]
    )
    assert naive_as_of.status_code == 200 and naive_as_of.json()["agencies"][0]["overdue"] == 1


def test_no_agencies_no_kev_no_items(runtime: Runtime) -> None:
    from clearinghouse.access import services as access

    with runtime.uow(Actor.system("test"), write=False) as uow:
        assert bod_26_04_compliance(uow.session, access.OPERATOR, dt.datetime.now(dt.UTC)) == []
