"""Intake through the API: one finding, batches with bad items, idempotency,
encrypted proofs of concept, checks, states and who may see them."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from clearinghouse.api.app import create_app
from clearinghouse.intake.models import Attachment, Finding
from clearinghouse.ledger import AuditEvent
from clearinghouse.runtime import Runtime
from clearinghouse.storage import Actor
from tests.support.factories import make_org, make_token, make_user


def finding(i: int = 0, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": f"SQL injection in search endpoint #{i}",
        "description": "The q parameter is concatenated into a SQL query.",
        "package": {"purl": f"pkg:pypi/example-app@1.{i}.0"},
        "source": {"repo": "https://github.com/example/app", "commit": "a1b2c3d", "file": "app/search.py"},
        "cwe": ["CWE-89"],
        "impact": {"claimed": "information_disclosure"},
        "preconditions": ["unauthenticated network access"],
        "reproducer": {"steps": ["GET /search?q=' OR 1=1 --"]},
        "generator": {"tool": "deepscan", "model": "frontier-x", "organization": "Lab A"},
    }
    body.update(extra)
    return body


@pytest.fixture
def env(runtime: Runtime) -> Iterator[dict[str, Any]]:
    lab = make_org(runtime, "Lab A", "ai_developer")
    other = make_org(runtime, "Lab B", "ai_developer")
    house = make_org(runtime, "Clearinghouse", "government_agency")
    make_user(runtime, "scanner", lab, ["partner"])
    make_user(runtime, "rival", other, ["partner"])
    make_user(runtime, "ana", house, ["analyst"])
    with TestClient(create_app(runtime), raise_server_exceptions=False) as client:
        yield {
            "client": client,
            "scanner": {"Authorization": f"Bearer {make_token(runtime, 'scanner')}"},
            "rival": {"Authorization": f"Bearer {make_token(runtime, 'rival')}"},
            "ana": {"Authorization": f"Bearer {make_token(runtime, 'ana')}"},
        }


def ndjson(items: list[Any]) -> bytes:
    return (
        b"\n".join(json.dumps(item).encode() if not isinstance(item, bytes) else item for item in items)
        + b"\n"
    )


def test_schema_is_published(env: dict[str, Any]) -> None:
    schema = env["client"].get("/api/v1/schemas/finding").json()
    assert schema["$schema"].startswith("https://json-schema.org/draft/2020-12")
    assert {"package", "impact", "generator", "reproducer"} <= set(schema["properties"])


def test_one_finding_is_stored_checked_and_idempotent(env: dict[str, Any]) -> None:
    client = env["client"]
    first = client.post("/api/v1/findings", json=finding(), headers=env["scanner"])
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["state"] == "checked" and body["queue"] == "main"
    checks = {c["name"]: c["result"] for c in body["checks"]}
    assert checks["schema_valid"] == "pass"
    assert checks["cwe_exists"] == "pass"
    assert checks["reproducer_present"] == "pass"
    assert checks["package_known"] in {"pass", "unknown"}  # unknown: no advisory names it yet
    again = client.post("/api/v1/findings", json=finding(), headers=env["scanner"])
    assert again.status_code == 200 and again.json()["id"] == body["id"]
    keyed = finding(idempotency_key="scan-42")
    a = client.post("/api/v1/findings", json=keyed, headers=env["scanner"]).json()
    b = client.post("/api/v1/findings", json={**keyed, "title": "retitled"}, headers=env["scanner"]).json()
    assert a["id"] == b["id"]


def test_unknown_cwe_and_missing_reproducer_fail_their_checks(env: dict[str, Any]) -> None:
    r = env["client"].post(
        "/api/v1/findings", json=finding(cwe=["CWE-99999"], reproducer=None), headers=env["scanner"]
    )
    checks = {c["name"]: c for c in r.json()["checks"]}
    assert checks["cwe_exists"]["result"] == "fail" and "CWE-99999" in checks["cwe_exists"]["reason"]
    assert checks["reproducer_present"]["result"] == "fail"


def test_bad_finding_names_the_field(env: dict[str, Any]) -> None:
    r = env["client"].post(
        "/api/v1/findings", json=finding(package={"purl": "not a purl"}), headers=env["scanner"]
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["pointer"] == "/package/purl"
    r = env["client"].post(
        "/api/v1/findings", json=finding(package={"purl": "pkg:pypi/x"}), headers=env["scanner"]
    )
    assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "/package"


def test_batch_stores_good_reports_bad_and_replays_cleanly(env: dict[str, Any], runtime: Runtime) -> None:
    items: list[Any] = [finding(i) for i in range(1000)]
    bad = {7: b"{not json", 100: finding(100, cwe=["XSS"]), 250: finding(250, impact={"claimed": "fun"})}
    for offset in range(7):
        bad[300 + offset * 100] = finding(300 + offset * 100, generator={})
    for index, item in bad.items():
        items[index] = item
    assert len(bad) == 10
    r = env["client"].post("/api/v1/findings:batch", content=ndjson(items), headers=env["scanner"])
    assert r.status_code == 200, r.text
    report = r.json()
    assert (report["received"], report["created"], report["existing"], report["rejected"]) == (
        1000,
        990,
        0,
        10,
    )
    assert [p["index"] for p in report["problems"]] == sorted(bad)
    pointers = {p["index"]: p["pointer"] for p in report["problems"]}
    assert pointers[7] == "" and pointers[100] == "/cwe/0" and pointers[250] == "/impact/claimed"
    assert pointers[300] == "/generator/tool"
    again = env["client"].post("/api/v1/findings:batch", content=ndjson(items), headers=env["scanner"]).json()
    assert (again["created"], again["existing"], again["rejected"]) == (0, 990, 10)
    with runtime.uow(Actor.system("test"), write=False) as uow:
        assert len(uow.session.scalars(select(Finding.id)).all()) == 990


def test_an_interrupted_batch_resent_stores_each_finding_once(env: dict[str, Any], runtime: Runtime) -> None:
    items = [finding(i) for i in range(1200)]
    # The first 700 arrived before the interruption; the client then resends everything.
    env["client"].post("/api/v1/findings:batch", content=ndjson(items[:700]), headers=env["scanner"])
    report = (
        env["client"].post("/api/v1/findings:batch", content=ndjson(items), headers=env["scanner"]).json()
    )
    assert (report["created"], report["existing"]) == (500, 700)
    with runtime.uow(Actor.system("test"), write=False) as uow:
        keys = uow.session.scalars(select(Finding.idempotency_key)).all()
    assert len(keys) == len(set(keys)) == 1200


def test_empty_batch_is_refused(env: dict[str, Any]) -> None:
    r = env["client"].post("/api/v1/findings:batch", content=b"\n\n", headers=env["scanner"])
    assert r.status_code == 422


def test_proof_of_concept_is_encrypted_and_hashed_into_the_ledger(
    env: dict[str, Any], runtime: Runtime
) -> None:
    poc = b"#!/bin/sh\ncurl 'http://target/search?q=%27%20OR%201=1'\n"
    body = finding(
        reproducer={
            "steps": ["run poc.sh"],
            "poc": {
                "filename": "poc.sh",
                "media_type": "text/x-sh",
                "content_base64": base64.b64encode(poc).decode(),
            },
            "oracle": {"kind": "http_exchange", "content": "HTTP/1.1 200 OK ... all rows"},
        }
    )
    made = env["client"].post("/api/v1/findings", json=body, headers=env["scanner"]).json()
    assert "content_base64" not in json.dumps(made)
    digest = hashlib.sha256(poc).hexdigest()
    with runtime.uow(Actor.system("test"), write=False) as uow:
        attachment = uow.session.scalars(select(Attachment)).one()
        assert poc not in attachment.ciphertext and attachment.sha256 == digest
        stored = uow.session.scalars(select(AuditEvent).where(AuditEvent.action == "attachment.stored")).one()
        assert stored.detail["sha256"] == digest
    url = f"/api/v1/findings/{made['id']}/attachments/{attachment.id}"
    r = env["client"].get(url, headers=env["ana"])
    assert r.status_code == 200 and r.content == poc
    assert env["client"].get(url, headers=env["rival"]).status_code == 404
    with runtime.uow(Actor.system("test"), write=False) as uow:
        reads = uow.session.scalars(select(AuditEvent).where(AuditEvent.action == "attachment.read")).all()
    assert len(reads) == 1


def test_oversized_proof_of_concept_is_refused(env: dict[str, Any]) -> None:
    big = base64.b64encode(b"x" * (1024 * 1024 + 1)).decode()
    body = finding(reproducer={"poc": {"filename": "big.bin", "content_base64": big}})
    r = env["client"].post("/api/v1/findings", json=body, headers=env["scanner"])
    assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "/reproducer/poc/content_base64"


def test_submitter_sees_own_state_and_nothing_else(env: dict[str, Any]) -> None:
    client = env["client"]
    made = client.post("/api/v1/findings", json=finding(), headers=env["scanner"]).json()
    url = f"/api/v1/findings/{made['id']}"
    assert client.get(url, headers=env["rival"]).status_code == 404
    assert client.get(url).status_code == 404
    assert client.get("/api/v1/findings", headers=env["rival"]).json() == []
    # Analysts decide; submitters cannot.
    assert client.post(f"{url}:reject", json={"reason": "spam"}, headers=env["scanner"]).status_code == 403
    r = client.post(f"{url}:reject", json={}, headers=env["ana"])
    assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "/reason"
    r = client.post(
        f"{url}:reject", json={"reason": "cannot_reproduce", "note": "no crash"}, headers=env["ana"]
    )
    assert r.status_code == 200 and r.json()["state"] == "rejected"
    mine = client.get(url, headers=env["scanner"]).json()
    assert mine["state"] == "rejected" and mine["rejection_reason"] == "cannot_reproduce"
    assert client.post(f"{url}:validate", json={}, headers=env["ana"]).status_code == 409
    assert (
        client.post(f"{url}:reject", json={"reason": "cannot_reproduce"}, headers=env["ana"]).status_code
        == 200
    )


def test_listing_filters_and_pages(env: dict[str, Any]) -> None:
    client = env["client"]
    client.post(
        "/api/v1/findings:batch",
        content=ndjson([finding(i, cwe=["CWE-79"] if i % 2 else ["CWE-89"]) for i in range(30)]),
        headers=env["scanner"],
    )
    page1 = client.get("/api/v1/findings?limit=10&cwe=CWE-79", headers=env["ana"]).json()
    page2 = client.get(
        f"/api/v1/findings?limit=10&cwe=CWE-79&after={page1[-1]['id']}", headers=env["ana"]
    ).json()
    assert len(page1) == 10 and len(page2) == 5
    assert not {f["id"] for f in page1} & {f["id"] for f in page2}
    assert len(client.get("/api/v1/findings?ecosystem=npm", headers=env["ana"]).json()) == 0
    assert (
        len(client.get("/api/v1/findings?state=checked&queue=main&limit=500", headers=env["ana"]).json())
        == 30
    )


def test_reputation_moves_low_signal_pipelines_to_the_cold_queue(env: dict[str, Any]) -> None:
    client = env["client"]
    noisy = {"tool": "noisy", "organization": "Lab A"}
    report = client.post(
        "/api/v1/findings:batch",
        content=ndjson([finding(i, generator=noisy) for i in range(12)]),
        headers=env["scanner"],
    ).json()
    for item in report["items"][:10]:
        client.post(f"/api/v1/findings/{item['id']}:reject", json={"reason": "spam"}, headers=env["ana"])
    later = client.post("/api/v1/findings", json=finding(99, generator=noisy), headers=env["scanner"]).json()
    assert later["queue"] == "cold"
    # Cold findings are still there for analysts.
    cold = client.get("/api/v1/findings?queue=cold", headers=env["ana"]).json()
    assert [f["id"] for f in cold] == [later["id"]]
    pipelines = {p["generator_key"]: p for p in client.get("/api/v1/pipelines", headers=env["ana"]).json()}
    noisy_key = "noisy||lab a"
    assert pipelines[noisy_key]["rejected"] == 10 and pipelines[noisy_key]["low_signal"]
    assert pipelines[noisy_key]["validity"] == pytest.approx(1 / 12)
    assert client.get("/api/v1/pipelines", headers=env["scanner"]).status_code == 403


def test_budget_grows_with_validated_findings(env: dict[str, Any]) -> None:
    from clearinghouse.triage._reputation import BASE_BUDGET

    client = env["client"]
    report = client.post(
        "/api/v1/findings:batch",
        content=ndjson([finding(i) for i in range(BASE_BUDGET + 5)]),
        headers=env["scanner"],
    ).json()
    queues = [
        client.get(f"/api/v1/findings/{i['id']}", headers=env["ana"]).json()["queue"] for i in report["items"]
    ]
    assert queues.count("main") == BASE_BUDGET and queues.count("cold") == 5
    client.post(f"/api/v1/findings/{report['items'][0]['id']}:validate", json={}, headers=env["ana"])
    after = client.post("/api/v1/findings", json=finding(999), headers=env["scanner"]).json()
    assert after["queue"] == "main"


def test_scan_campaigns_report_overlaps_to_both_sides(env: dict[str, Any]) -> None:
    client = env["client"]
    window = {"starts_at": "2026-11-01T00:00:00Z", "ends_at": "2099-01-01T00:00:00Z"}
    mine = client.post(
        "/api/v1/campaigns",
        json={
            "name": "py sweep",
            "targets": ["pkg:pypi/Example_App", "https://github.com/example/app.git"],
            "tool": "deepscan",
            **window,
        },
        headers=env["scanner"],
    )
    assert mine.status_code == 201 and mine.json()["conflicts"] == []
    theirs = client.post(
        "/api/v1/campaigns",
        json={
            "name": "overlap",
            "targets": ["pkg:pypi/example-app@2.0", "github.com/example/app/"],
            "tool": "other",
            **window,
        },
        headers=env["rival"],
    ).json()
    assert len(theirs["conflicts"]) == 1
    assert sorted(theirs["conflicts"][0]["overlapping_targets"]) == [
        "purl:pypi//example-app",
        "repo:github.com/example/app",
    ]
    for who in ("scanner", "rival", "ana"):
        listed = client.get("/api/v1/campaigns/conflicts", headers=env[who]).json()
        assert len(listed) == 1, who
    # Each side still sees only its own campaigns.
    assert [c["name"] for c in client.get("/api/v1/campaigns", headers=env["rival"]).json()] == ["overlap"]
    bad = client.post(
        "/api/v1/campaigns",
        json={"name": "x", "targets": ["pkg:pypi/x", "::"], "tool": "t", **window},
        headers=env["scanner"],
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["pointer"] == "/targets/1"
    # Findings can name their campaign, but only one they can see.
    ok = client.post(
        "/api/v1/findings", json=finding(campaign_id=mine.json()["campaign"]["id"]), headers=env["scanner"]
    )
    assert ok.status_code == 201 and ok.json()["campaign_id"] == mine.json()["campaign"]["id"]
    r = client.post(
        "/api/v1/findings", json=finding(1, campaign_id=theirs["campaign"]["id"]), headers=env["scanner"]
    )
    assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "/campaign_id"


def test_the_documented_schema_is_the_served_one() -> None:
    from pathlib import Path

    from clearinghouse.intake import finding_json_schema

    documented = json.loads((Path(__file__).parents[1] / "docs" / "finding.schema.json").read_text())
    assert documented == finding_json_schema()


def test_items_beyond_the_batch_limit_are_reported(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, Any]
) -> None:
    from clearinghouse.intake import services

    monkeypatch.setattr(services, "MAX_BATCH_ITEMS", 5)
    report = (
        env["client"]
        .post(
            "/api/v1/findings:batch", content=ndjson([finding(i) for i in range(7)]), headers=env["scanner"]
        )
        .json()
    )
    assert report["created"] == 5 and [p["index"] for p in report["problems"]] == [5, 6]
    assert "5-item limit" in report["problems"][0]["detail"]
