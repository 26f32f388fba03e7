"""Regression tests for issue 12's causes 1 and 2, through the service.

1. A finder's own report id (an OSV document's ``id``) is provenance, not an alias:
   the same OSV record posted twice under two finders' ids must not read as an
   alias conflict ("possibly related 0.50").
2. Verbatim-identical findings with neither a code location nor a CWE merge.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from clearinghouse.api.app import create_app
from clearinghouse.runtime import Runtime
from clearinghouse.triage._cases import forget_index
from tests.support.factories import make_org, make_token, make_user

OSV_RECORD: dict[str, Any] = {
    "schema_version": "1.6.0",
    "id": "FINDER-1",
    "modified": "2026-01-02T00:00:00Z",
    "summary": "Path traversal in archive extraction of tarsafe",
    "details": "The extract_members function of tarsafe joins member names onto the destination "
    "directory without resolving them, so a crafted archive with ../ entries writes files outside "
    "the target directory. Versions before 0.0.5 are affected; upgrade to 0.0.5.",
    "affected": [
        {
            "package": {"ecosystem": "PyPI", "name": "tarsafe"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "0.0.5"}]}],
        }
    ],
}


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


def run_jobs(runtime: Runtime) -> None:
    while runtime.jobs.run_pending():
        pass


def _import(env: dict[str, Any], who: str, doc: dict[str, Any]) -> str:
    r = env["client"].post(
        "/api/v1/findings:import?filename=record.json", content=json.dumps(doc), headers=env[who]
    )
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["created"] == 1, report
    return str(report["items"][0]["id"])


def test_two_finders_report_ids_are_origin_not_conflicting_aliases(env: dict[str, Any]) -> None:
    first = _import(env, "alice", OSV_RECORD)
    second_doc = copy.deepcopy(OSV_RECORD)
    second_doc["id"] = "FINDER-2"
    second = _import(env, "bob", second_doc)
    run_jobs(env["runtime"])
    client = env["client"]
    mine = client.get(f"/api/v1/findings/{second}", headers=env["ana"]).json()
    check = {c["name"]: c for c in mine["checks"]}["duplicate"]
    assert "related" not in check["reason"], check
    assert mine["case_id"] == first, check
    assert mine["document"].get("aliases", []) == []
    assert mine["document"]["origin"]["document_id"] == "FINDER-2"


def test_verbatim_findings_without_location_or_cwe_merge(env: dict[str, Any]) -> None:
    body: dict[str, Any] = {
        "title": "Denial of service through unbounded recursion in the YAML loader",
        "description": "Loading a document with deeply nested flow sequences makes load_nested recurse "
        "once per level until the interpreter's stack is exhausted and the process dies.",
        "package": {"purl": "pkg:pypi/fastyaml", "vers": "vers:pypi/>=1.0|<1.4.2"},
        "impact": {"claimed": "denial_of_service"},
        "generator": {"tool": "fuzzer-a"},
    }
    client = env["client"]
    first = client.post("/api/v1/findings", json=body, headers=env["alice"]).json()
    again = dict(body, generator={"tool": "fuzzer-b"})
    second = client.post("/api/v1/findings", json=again, headers=env["bob"]).json()
    run_jobs(env["runtime"])
    mine = client.get(f"/api/v1/findings/{second['id']}", headers=env["ana"]).json()
    assert mine["case_id"] == first["id"], mine["checks"]
    assert mine["state"] == "rejected" and mine["rejection_reason"] == "duplicate"
