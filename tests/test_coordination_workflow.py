"""The coordination workflow through the API: a validated case goes to its
vendor, the vendor answers, the case is published with a revision history;
vendors see only their own threads."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from clearinghouse.access.services import OPERATOR
from clearinghouse.api.app import create_app
from clearinghouse.coordination import case_id_for_alias, published_records, record_for_case
from clearinghouse.domain import ProductStatus, RecordSource
from clearinghouse.matching.services import AssetDraft, register_asset
from clearinghouse.runtime import Runtime
from clearinghouse.storage import Actor
from clearinghouse.triage._cases import forget_index
from tests.support.factories import make_org, make_token, make_user, subject_of
from tests.test_intake import finding

PURL = "pkg:pypi/fastparse"
VECTOR = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"


def run_jobs(runtime: Runtime) -> None:
    while runtime.jobs.run_pending():
        pass


def coordination_env(runtime: Runtime) -> Iterator[dict[str, Any]]:
    """A finder lab, the clearinghouse (a coordinator), and two software vendors with a contact each."""
    forget_index()
    lab = make_org(runtime, "Lab A", "ai_developer")
    house = make_org(runtime, "Clearinghouse", "government_agency")
    vendor = make_org(runtime, "Fastparse Inc", "software_vendor")
    other = make_org(runtime, "Other Vendor", "software_vendor")
    ids = {
        "scanner": make_user(runtime, "scanner", lab, ["partner"]),
        "coord": make_user(runtime, "coord", house, ["coordinator", "analyst"]),
        "vee": make_user(runtime, "vee", vendor, ["vendor_contact"]),
        "dub": make_user(runtime, "dub", other, ["vendor_contact"]),
    }
    with TestClient(create_app(runtime), raise_server_exceptions=False) as client:
        yield {
            "client": client,
            "runtime": runtime,
            "orgs": {"lab": lab, "house": house, "vendor": vendor, "other": other},
            "ids": ids,
            **{u: {"Authorization": f"Bearer {make_token(runtime, u)}"} for u in ids},
        }
    forget_index()


@pytest.fixture
def env(runtime: Runtime) -> Iterator[dict[str, Any]]:
    yield from coordination_env(runtime)


def validated_case(env: dict[str, Any], version: str = "2.3.0") -> str:
    """A finding in fastparse, submitted by the lab and validated by the coordinator."""
    client, runtime = env["client"], env["runtime"]
    body = finding(
        title="Heap overflow in fastparse parse_header",
        description="parse_header copies the Cookie header into a fixed buffer.",
        package={"purl": f"{PURL}@{version}"},
        cwe=["CWE-122"],
        impact={"claimed": "denial_of_service", "cvss_vector": VECTOR},
        aliases=["GHSA-abcd-efgh-jkmp"],
        references=["https://example.com/report/1"],
    )
    created = client.post("/api/v1/findings", json=body, headers=env["scanner"])
    assert created.status_code in (200, 201), created.text
    fid = created.json()["id"]
    run_jobs(runtime)
    decided = client.post(
        f"/api/v1/findings/{fid}:validate", json={"note": "reproduced"}, headers=env["coord"]
    )
    assert decided.status_code == 200, decided.text
    run_jobs(runtime)
    case_id = client.get(f"/api/v1/findings/{fid}", headers=env["coord"]).json()["case_id"]
    assert case_id
    return str(case_id)


def test_case_goes_to_vendor_who_answers_fixed_and_case_is_published(env: dict[str, Any]) -> None:
    client, runtime = env["client"], env["runtime"]
    case_id = validated_case(env)

    notified = client.post(
        f"/api/v1/cases/{case_id}/coordination/vendors",
        json={"vendor": "Fastparse Inc", "products": [{"purl": f"{PURL}@2.3.0"}]},
        headers=env["coord"],
    )
    assert notified.status_code == 200, notified.text
    thread = notified.json()
    assert [p["status"] for p in thread["products"]] == ["unknown"]
    assert thread["products"][0]["product_id"] == PURL
    # Notifying again is a no-op: still one thread.
    again = client.post(
        f"/api/v1/cases/{case_id}/coordination/vendors",
        json={"vendor": "Fastparse Inc"},
        headers=env["coord"],
    )
    assert again.json()["id"] == thread["id"]

    # The vendor sees its thread and the case's clock, in its own time zone.
    seen = client.get(f"/api/v1/cases/{case_id}/coordination?tz=Europe/Berlin", headers=env["vee"])
    assert seen.status_code == 200, seen.text
    view = seen.json()
    assert [t["id"] for t in view["threads"]] == [thread["id"]]
    deadline = view["deadline"]
    assert deadline["tz"] == "Europe/Berlin"
    utc = dt.datetime.fromisoformat(deadline["utc"])
    local = dt.datetime.fromisoformat(deadline["local"])
    assert utc == local and local.utcoffset() in (dt.timedelta(hours=1), dt.timedelta(hours=2))
    first = dt.datetime.fromisoformat(view["first_vendor_contact_at"]["utc"])
    assert utc - first == dt.timedelta(days=90)
    assert view["summary"] == ""  # the case's own text stays with staff

    # "No response" is never "not affected": the draft advisory says unknown.
    with runtime.uow(Actor.system("test"), write=False) as uow:
        draft = record_for_case(uow.session, subject_of(runtime, env["ids"]["coord"]), case_id)
    assert draft.source is RecordSource.CASE and draft.published is None
    assert [s.status for s in draft.product_statements] == [ProductStatus.UNKNOWN]

    # The vendor answers "fixed in 2.3.1".
    answered = client.post(
        f"/api/v1/coordination/threads/{thread['id']}/statuses",
        json={"statuses": [{"product": {"purl": PURL}, "status": "fixed", "fixed_versions": ["2.3.1"]}]},
        headers=env["vee"],
    )
    assert answered.status_code == 200, answered.text
    product = answered.json()["products"][0]
    assert product["status"] == "fixed" and product["fixed_versions"] == ["2.3.1"]
    assert answered.json()["first_response_at"] is not None

    message = client.post(
        f"/api/v1/coordination/threads/{thread['id']}/messages",
        json={"body": "Released 2.3.1 today."},
        headers=env["vee"],
    )
    assert message.status_code == 201

    alias = client.post(
        f"/api/v1/cases/{case_id}/coordination/aliases",
        json={"alias": "cve-2026-12345"},
        headers=env["coord"],
    )
    assert alias.status_code == 200 and alias.json()["alias"] == "CVE-2026-12345"

    published = client.post(
        f"/api/v1/cases/{case_id}/coordination/publish",
        json={"summary": "Initial public release", "tlp": "CLEAR"},
        headers=env["coord"],
    )
    assert published.status_code == 201, published.text
    assert published.json()["number"] == 1
    second = client.post(
        f"/api/v1/cases/{case_id}/coordination/publish",
        json={"summary": "Credit corrected"},
        headers=env["coord"],
    )
    assert second.json()["number"] == 2
    history = client.get(f"/api/v1/cases/{case_id}/coordination/revisions", headers=env["dub"]).json()
    assert [(r["number"], r["summary"]) for r in history] == [
        (1, "Initial public release"),
        (2, "Credit corrected"),
    ]

    with runtime.uow(Actor.system("test"), write=False) as uow:
        assert case_id_for_alias(uow.session, "CVE-2026-12345") == case_id
        assert case_id_for_alias(uow.session, "GHSA-abcd-efgh-jkmp") == case_id
        record = record_for_case(uow.session, OPERATOR, "CVE-2026-12345")
        public = published_records(uow.session, subject_of(runtime, env["ids"]["dub"]))
    assert [r.id for r in public] == [record.id]
    assert [rev.summary for rev in record.revisions] == ["Initial public release", "Credit corrected"]
    assert {"CVE-2026-12345", "GHSA-abcd-efgh-jkmp"} <= set(record.aliases)
    assert record.cwes == ("CWE-122",)
    assert record.severity[0].vector == VECTOR and record.severity[0].base_score == 9.8
    [affected] = record.affected
    assert affected.ecosystem == "PyPI" and affected.name == "fastparse"
    assert [(e.kind, e.value) for e in affected.ranges[0].events] == [("introduced", "0"), ("fixed", "2.3.1")]
    [statement] = record.product_statements
    assert statement.status is ProductStatus.FIXED and statement.fixed_versions == ("2.3.1",)
    assert statement.vendor_name == "Fastparse Inc"
    assert record.credits and "Lab A" in record.credits[0].name
    assert record.published is not None and record.tlp.value == "CLEAR"
    # Published: no longer on the deadline list.
    assert client.get("/api/v1/coordination/deadlines", headers=env["coord"]).json() == []


def test_a_vendor_never_sees_another_vendors_thread(env: dict[str, Any]) -> None:
    client = env["client"]
    case_id = validated_case(env)
    mine = client.post(
        f"/api/v1/cases/{case_id}/coordination/vendors",
        json={"vendor": "Fastparse Inc", "products": [{"purl": PURL}]},
        headers=env["coord"],
    ).json()
    theirs = client.post(
        f"/api/v1/cases/{case_id}/coordination/vendors",
        json={"vendor": env["orgs"]["other"], "products": [{"name": "Other Appliance", "version": "7"}]},
        headers=env["coord"],
    ).json()
    hidden = client.get(f"/api/v1/coordination/threads/{theirs['id']}", headers=env["vee"])
    missing = client.get("/api/v1/coordination/threads/no-such-thread", headers=env["vee"])
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == {**missing.json()}
    post = client.post(
        f"/api/v1/coordination/threads/{theirs['id']}/statuses",
        json={"statuses": [{"product": {"name": "Other Appliance"}, "status": "affected"}]},
        headers=env["vee"],
    )
    assert post.status_code == 404
    view = client.get(f"/api/v1/cases/{case_id}/coordination", headers=env["vee"]).json()
    assert [t["id"] for t in view["threads"]] == [mine["id"]]
    assert [t["id"] for t in client.get("/api/v1/coordination/threads", headers=env["vee"]).json()] == [
        mine["id"]
    ]
    staff = client.get(f"/api/v1/cases/{case_id}/coordination", headers=env["coord"]).json()
    assert {t["id"] for t in staff["threads"]} == {mine["id"], theirs["id"]}
    # The finder sees the case, not the vendors' threads; a vendor cannot publish or notify.
    assert client.get(f"/api/v1/coordination/threads/{mine['id']}", headers=env["scanner"]).status_code == 404
    assert (
        client.post(
            f"/api/v1/cases/{case_id}/coordination/publish", json={"summary": "x"}, headers=env["vee"]
        ).status_code
        == 404
    )
    # The vendor does not read the draft advisory of a case it was only notified of.
    assert client.get(f"/api/v1/cases/{case_id}/coordination/advisory", headers=env["vee"]).status_code == 404


def test_status_rules_and_time_zones(env: dict[str, Any]) -> None:
    client = env["client"]
    case_id = validated_case(env)
    thread = client.post(
        f"/api/v1/cases/{case_id}/coordination/vendors",
        json={"vendor": "Fastparse Inc", "products": [{"purl": PURL}]},
        headers=env["coord"],
    ).json()
    url = f"/api/v1/coordination/threads/{thread['id']}/statuses"

    def status(**item: Any) -> Any:
        return client.post(url, json={"statuses": [{"product": {"purl": PURL}, **item}]}, headers=env["vee"])

    no_reason = status(status="not_affected")
    assert (
        no_reason.status_code == 422
        and no_reason.json()["errors"][0]["pointer"] == "/statuses/0/justification"
    )
    no_version = status(status="fixed")
    assert (
        no_version.status_code == 422
        and no_version.json()["errors"][0]["pointer"] == "/statuses/0/fixed_versions"
    )
    stray = status(status="affected", justification="component_not_present")
    assert stray.status_code == 422
    ok = status(status="not_affected", justification="vulnerable_code_not_in_execute_path")
    assert (
        ok.status_code == 200
        and ok.json()["products"][0]["justification"] == "vulnerable_code_not_in_execute_path"
    )

    bad_tz = client.get(f"/api/v1/cases/{case_id}/coordination?tz=Mars/Olympus", headers=env["vee"])
    assert bad_tz.status_code == 422 and bad_tz.json()["errors"][0]["pointer"] == "/tz"
    # A stored time zone applies when no tz is given.
    assert (
        client.put(
            "/api/v1/notifications/preferences", json={"timezone": "Asia/Tokyo"}, headers=env["vee"]
        ).status_code
        == 200
    )
    view = client.get(f"/api/v1/cases/{case_id}/coordination", headers=env["vee"]).json()
    assert view["deadline"]["tz"] == "Asia/Tokyo"
    assert dt.datetime.fromisoformat(view["deadline"]["local"]).utcoffset() == dt.timedelta(hours=9)
    bad_pref = client.put(
        "/api/v1/notifications/preferences", json={"timezone": "Nowhere/City"}, headers=env["vee"]
    )
    assert bad_pref.status_code == 422 and bad_pref.json()["errors"][0]["pointer"] == "/timezone"


def test_vendors_come_from_matching(env: dict[str, Any]) -> None:
    client, runtime = env["client"], env["runtime"]
    with runtime.uow(Actor.system("test")) as uow:
        draft = AssetDraft(
            name="fastparse appliance", sbom=f"{PURL}@2.3.0\n".encode(), org=env["orgs"]["vendor"]
        )
        register_asset(uow, OPERATOR, draft)
        draft = AssetDraft(name="lab box", sbom=f"{PURL}@2.3.0\n".encode(), org=env["orgs"]["lab"])
        register_asset(uow, OPERATOR, draft)
        uow.commit()
    run_jobs(runtime)
    case_id = validated_case(env)
    made = client.post(f"/api/v1/cases/{case_id}/coordination/vendors:from-matching", headers=env["coord"])
    assert made.status_code == 200, made.text
    # Only the software vendor is a vendor; the lab merely runs the package.
    assert [t["vendor_org_id"] for t in made.json()] == [env["orgs"]["vendor"]]
    assert made.json()[0]["source"] == "matching"
    assert made.json()[0]["products"][0]["purl"] == PURL


def test_unvalidated_cases_are_not_coordinated(env: dict[str, Any]) -> None:
    client, runtime = env["client"], env["runtime"]
    fid = client.post("/api/v1/findings", json=finding(3), headers=env["scanner"]).json()["id"]
    run_jobs(runtime)
    case_id = client.get(f"/api/v1/findings/{fid}", headers=env["coord"]).json()["case_id"]
    refused = client.post(
        f"/api/v1/cases/{case_id}/coordination/vendors",
        json={"vendor": "Fastparse Inc"},
        headers=env["coord"],
    )
    assert refused.status_code == 409
