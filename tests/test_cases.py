"""Deduplication into cases, through the API and the job queue."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from clearinghouse.api.app import create_app
from clearinghouse.runtime import Runtime
from clearinghouse.triage._cases import forget_index
from tests.support.factories import make_org, make_token, make_user
from tests.test_intake import finding


@pytest.fixture
def env(runtime: Runtime) -> Iterator[dict[str, Any]]:
    forget_index()
    make_user(runtime, "alice", make_org(runtime, "Lab A", "ai_developer"), ["partner"])
    make_user(runtime, "bob", make_org(runtime, "Lab B", "security_researcher"), ["partner"])
    make_user(runtime, "ana", make_org(runtime, "Clearinghouse", "government_agency"), ["analyst"])
    with TestClient(create_app(runtime), raise_server_exceptions=False) as client:
        yield {
            "client": client,
            "runtime": runtime,
            **{u: {"Authorization": f"Bearer {make_token(runtime, u)}"} for u in ("alice", "bob", "ana")},
        }
    forget_index()


def overflow(**extra: Any) -> dict[str, Any]:
    body = finding(
        title="Heap buffer overflow in parse_header when reading long cookie values",
        description="parse_header copies the Cookie header into a fixed 256 byte stack buffer "
        "without checking "
        "its length, so a request with a longer cookie overflows the buffer and can crash the server.",
        package={"purl": "pkg:pypi/fastparse@2.4.1"},
        source={
            "repo": "https://github.com/example/fastparse",
            "file": "src/fastparse/_header.c",
            "symbol": "parse_header",
        },
        cwe=["CWE-122"],
        impact={"claimed": "denial_of_service"},
    )
    body.update(extra)
    return body


def run_jobs(runtime: Runtime) -> None:
    while runtime.jobs.run_pending():
        pass


def test_duplicates_merge_into_one_case_crediting_the_first_reporter(env: dict[str, Any]) -> None:
    client, runtime = env["client"], env["runtime"]
    first = client.post("/api/v1/findings", json=overflow(), headers=env["alice"]).json()
    paraphrase = overflow(
        title="parse_header heap overflow via long Cookie header values",
        description="Our AI agent discovered that parse_header copies the Cookie header into a "
        "fixed 256-byte "
        "buffer on the stack with no length check; a longer cookie overflows it and crashes the server.",
        generator={"tool": "auto-auditor", "model": "llm-9"},
    )
    second = client.post("/api/v1/findings", json=paraphrase, headers=env["bob"]).json()
    other = client.post("/api/v1/findings", json=finding(7), headers=env["bob"]).json()
    run_jobs(runtime)

    mine = client.get(f"/api/v1/findings/{second['id']}", headers=env["bob"]).json()
    assert mine["state"] == "rejected" and mine["rejection_reason"] == "duplicate"
    assert mine["case_id"] == first["id"]
    duplicate_check = {c["name"]: c for c in mine["checks"]}["duplicate"]
    assert duplicate_check["result"] == "fail" and first["id"] in duplicate_check["reason"]
    lead = client.get(f"/api/v1/findings/{first['id']}", headers=env["alice"]).json()
    assert {c["name"]: c["result"] for c in lead["checks"]}["duplicate"] == "pass"
    case = client.get(f"/api/v1/cases/{first['id']}", headers=env["ana"]).json()
    assert case["member_count"] == 2
    assert case["first_reporter_finding_id"] == first["id"]
    assert {f["id"] for f in case["findings"]} == {first["id"], second["id"]}
    assert case["relations"][0]["relation"] == "duplicate_of" and case["relations"][0]["status"] == "merged"
    assert client.get(f"/api/v1/findings/{first['id']}", headers=env["alice"]).json()["state"] == "triaged"
    separate = client.get(f"/api/v1/findings/{other['id']}", headers=env["ana"]).json()
    assert separate["case_id"] == other["id"]
    # Bob sees his own finding's state, and nothing of Alice's.
    assert client.get(f"/api/v1/cases/{first['id']}", headers=env["bob"]).status_code == 404
    listed = client.get("/api/v1/cases?min_members=2", headers=env["ana"]).json()
    assert [c["id"] for c in listed] == [first["id"]]

    # An analyst splits the merge: Bob's finding leads its own case again.
    split = client.post(f"/api/v1/findings/{second['id']}:split", headers=env["ana"])
    assert split.status_code == 200 and split.json()["case_id"] == second["id"]
    assert split.json()["state"] == "triaged"
    assert client.get(f"/api/v1/cases/{first['id']}", headers=env["ana"]).json()["member_count"] == 1
    assert client.post(f"/api/v1/findings/{second['id']}:split", headers=env["ana"]).status_code == 409
    assert client.post(f"/api/v1/findings/{second['id']}:split", headers=env["bob"]).status_code == 403


def test_the_index_is_rebuilt_from_storage(env: dict[str, Any]) -> None:
    client, runtime = env["client"], env["runtime"]
    first = client.post("/api/v1/findings", json=overflow(), headers=env["alice"]).json()
    run_jobs(runtime)
    forget_index()  # as if a new worker process took over
    again = overflow(
        title="Heap overflow in parse_header with long cookie values", generator={"tool": "other"}
    )
    second = client.post("/api/v1/findings", json=again, headers=env["bob"]).json()
    run_jobs(runtime)
    assert client.get(f"/api/v1/findings/{second['id']}", headers=env["ana"]).json()["case_id"] == first["id"]


def test_proposals_wait_for_an_analyst(env: dict[str, Any]) -> None:
    client, runtime = env["client"], env["runtime"]
    first = client.post("/api/v1/findings", json=overflow(), headers=env["alice"]).json()
    # Same code location and weakness, but a different account of it: a variant, not a sure duplicate.
    variant = overflow(
        title="Out-of-bounds write in parse_header through an oversized Set-Cookie attribute list",
        description="When more than 64 attributes follow a Set-Cookie value, parse_header "
        "writes past the end "
        "of its attribute table.",
        package={"purl": "pkg:pypi/fastparse@2.5.0"},
        cwe=["CWE-787"],
        generator={"tool": "fuzzer"},
    )
    second = client.post("/api/v1/findings", json=variant, headers=env["bob"]).json()
    run_jobs(runtime)
    placed = client.get(f"/api/v1/findings/{second['id']}", headers=env["ana"]).json()
    assert placed["state"] == "triaged" and placed["case_id"] == second["id"]
    own = client.get(f"/api/v1/cases/{second['id']}", headers=env["ana"]).json()
    relations = client.get(f"/api/v1/cases/{first['id']}", headers=env["ana"]).json()["relations"]
    proposals = [r for r in own["relations"] + relations if r["status"] == "proposed"]
    assert proposals and proposals[0]["target_finding_id"] == first["id"]
    confirmed = client.post(f"/api/v1/findings/{second['id']}:confirm", headers=env["ana"])
    assert confirmed.status_code == 200 and confirmed.json()["case_id"] == first["id"]
    assert client.get(f"/api/v1/cases/{first['id']}", headers=env["ana"]).json()["member_count"] == 2
    assert client.get(f"/api/v1/cases/{second['id']}", headers=env["ana"]).status_code == 404
    assert client.post(f"/api/v1/findings/{first['id']}:confirm", headers=env["ana"]).status_code == 409
