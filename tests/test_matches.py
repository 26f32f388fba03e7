"""Stored matches: a validated case against registered inventories, through the jobs and the API."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from clearinghouse.api.app import create_app
from clearinghouse.jobs import JobContext
from clearinghouse.jobs.models import Job
from clearinghouse.matching import CaseMatch, matches_for_asset, matches_for_case
from clearinghouse.matching._stored import match_asset, match_case
from clearinghouse.matching.tasks import CaseNotPlacedYet, match_case_job
from clearinghouse.priority.tasks import store_case_scores
from clearinghouse.runtime import Runtime
from clearinghouse.storage import Actor
from clearinghouse.triage._cases import forget_index
from tests.support.factories import make_org, make_token, make_user, subject_of
from tests.test_intake import finding


def run_jobs(runtime: Runtime) -> None:
    while runtime.jobs.run_pending():
        pass


def cyclonedx(*purls: str) -> bytes:
    components = []
    for purl in purls:
        name, _, version = purl.rsplit("/", 1)[1].partition("@")
        components.append(
            {"type": "library", "name": name, "version": version, "purl": purl, "bom-ref": purl}
        )
    doc = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79",
        "version": 1,
        "components": components,
    }
    return json.dumps(doc).encode()


def vulnerable_finding(**extra: Any) -> dict[str, Any]:
    """A finding in fastparse 2.0 up to (not including) 2.4.2."""
    body = finding(
        title="Heap overflow in fastparse parse_header via long cookies",
        description="parse_header copies the Cookie header into a fixed stack buffer.",
        package={"purl": "pkg:pypi/fastparse", "vers": "vers:pypi/>=2.0.0|<2.4.2"},
        impact={"claimed": "code_execution", "cvss_vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"},
        aliases=["CVE-2024-11111"],
    )
    body.update(extra)
    return body


@pytest.fixture
def env(runtime: Runtime) -> Iterator[dict[str, Any]]:
    forget_index()
    orgs = {
        "lab": make_org(runtime, "Lab A", "ai_developer"),
        "grid": make_org(runtime, "Grid Co", "critical_infrastructure_operator"),
        "rival": make_org(runtime, "Rival Co", "critical_infrastructure_operator"),
        "house": make_org(runtime, "Clearinghouse", "government_agency"),
        "agency": make_org(runtime, "Dept of Examples", "government_agency"),
    }
    make_user(runtime, "alice", orgs["lab"], ["partner"])
    make_user(runtime, "ops", orgs["grid"], ["partner"])
    make_user(runtime, "rival", orgs["rival"], ["partner"])
    make_user(runtime, "ana", orgs["house"], ["analyst"])
    make_user(runtime, "cio", orgs["agency"], ["partner"])
    with TestClient(create_app(runtime), raise_server_exceptions=False) as client:
        yield {
            "client": client,
            "runtime": runtime,
            "orgs": orgs,
            **{
                u: {"Authorization": f"Bearer {make_token(runtime, u)}"}
                for u in ("alice", "ops", "rival", "ana", "cio")
            },
        }
    forget_index()


def register(env: dict[str, Any], who: str, name: str, *purls: str, **query: Any) -> dict[str, Any]:
    params = "&".join(f"{k}={str(v).lower() if isinstance(v, bool) else v}" for k, v in query.items())
    url = f"/api/v1/inventories?name={name}" + (f"&{params}" if params else "")
    r = env["client"].post(url, content=cyclonedx(*purls), headers=env[who])
    assert r.status_code in (200, 201), r.text
    body: dict[str, Any] = r.json()
    return body


def validated_case(env: dict[str, Any], body: dict[str, Any] | None = None) -> str:
    client, runtime = env["client"], env["runtime"]
    made = client.post("/api/v1/findings", json=body or vulnerable_finding(), headers=env["alice"])
    assert made.status_code == 201, made.text
    run_jobs(runtime)
    r = client.post(f"/api/v1/findings/{made.json()['id']}:validate", json={}, headers=env["ana"])
    assert r.status_code == 200, r.text
    run_jobs(runtime)
    case_id = r.json()["case_id"]
    assert case_id
    return str(case_id)


def test_a_listed_version_matches_with_its_explanation_and_one_just_outside_does_not(
    env: dict[str, Any],
) -> None:
    client, runtime = env["client"], env["runtime"]
    inside = register(env, "ops", "scada", "pkg:pypi/fastparse@2.4.1", "pkg:pypi/requests@2.31.0")
    outside = register(env, "ops", "historian", "pkg:pypi/fastparse@2.4.2")
    case_id = validated_case(env)

    matches = client.get(f"/api/v1/cases/{case_id}/matches", headers=env["ana"]).json()
    assert len(matches) == 1
    m = matches[0]
    assert m["asset_id"] == inside["id"] and m["asset_owner_org_id"] == env["orgs"]["grid"]
    assert (m["component_purl"], m["component_name"], m["component_version"]) == (
        "pkg:pypi/fastparse@2.4.1",
        "fastparse",
        "2.4.1",
    )
    assert m["rule"] == "purl-exact" and m["confidence"] == 1.0 and m["affected"] is True
    assert ">=2.0.0" in m["matched_range"] and "<2.4.2" in m["matched_range"]
    explanation = m["explanation"]
    assert "pkg:pypi/fastparse@2.4.1" in explanation and "'scada'" in explanation
    assert "is affected by" in explanation and "rule purl-exact" in explanation
    # Just outside the range (the fixed version): no match.
    assert client.get(f"/api/v1/inventories/{outside['id']}/matches", headers=env["ops"]).json() == []
    assert [
        x["id"] for x in client.get(f"/api/v1/inventories/{inside['id']}/matches", headers=env["ops"]).json()
    ] == [m["id"]]

    # The other direction: an asset registered after validation is matched by its own job.
    later = register(env, "rival", "plant", "pkg:pypi/fastparse@2.0.0")
    run_jobs(runtime)
    theirs = client.get(f"/api/v1/inventories/{later['id']}/matches", headers=env["rival"]).json()
    assert [(x["case_id"], x["component_version"]) for x in theirs] == [(case_id, "2.0.0")]
    # The asset's owner sees its own matches of the case, not another participant's.
    own = client.get(f"/api/v1/cases/{case_id}/matches", headers=env["rival"]).json()
    assert [x["asset_id"] for x in own] == [later["id"]]
    assert len(client.get(f"/api/v1/cases/{case_id}/matches", headers=env["ana"]).json()) == 2

    # A new SBOM under the same name, now patched: the match goes away.
    register(env, "rival", "plant", "pkg:pypi/fastparse@2.4.2")
    run_jobs(runtime)
    assert client.get(f"/api/v1/inventories/{later['id']}/matches", headers=env["rival"]).json() == []


def test_policy_a_partner_does_not_see_another_orgs_matches(env: dict[str, Any]) -> None:
    client = env["client"]
    asset = register(env, "ops", "scada", "pkg:pypi/fastparse@2.3.0")
    case_id = validated_case(env)
    assert client.get(f"/api/v1/inventories/{asset['id']}/matches", headers=env["rival"]).status_code == 404
    missing = client.get("/api/v1/inventories/nope/matches", headers=env["rival"])
    assert missing.status_code == 404
    hidden = client.get(f"/api/v1/cases/{case_id}/matches", headers=env["rival"])
    assert hidden.status_code == 404 and hidden.json()["detail"] == missing.json()["detail"].replace(
        "asset", "case"
    )
    assert client.get("/api/v1/cases/nope/matches", headers=env["ana"]).status_code == 404
    # The finder can read its case: it sees that it exists, but no one's assets.
    assert client.get(f"/api/v1/cases/{case_id}/matches", headers=env["alice"]).json() == []
    assert client.get(f"/api/v1/cases/{case_id}/matches").status_code == 401


def test_jobs_are_idempotent_and_queued_with_the_change(env: dict[str, Any]) -> None:
    runtime = env["runtime"]
    asset = register(env, "ops", "scada", "pkg:pypi/fastparse@2.4.1", "pkg:pypi/fastparse@2.1.0")
    with runtime.uow(Actor.system("test"), write=False) as uow:
        queued = uow.session.scalar(select(func.count()).select_from(Job).where(Job.name == "matching.asset"))
    assert queued == 1
    case_id = validated_case(env)
    with runtime.uow(Actor.system("test"), write=False) as uow:
        names = set(uow.session.scalars(select(Job.name)))
        assert {"matching.case", "matching.asset", "priority.case_scores"} <= names
        before = {(m.id, m.key, m.created_at) for m in uow.session.scalars(select(CaseMatch))}
    assert len(before) == 2
    for _ in range(2):
        with runtime.uow(Actor.system("test")) as uow:
            case_report = match_case(uow.session, case_id)
            asset_report = match_asset(uow.session, asset["id"])
            uow.commit()
        assert (case_report.created, case_report.updated, case_report.deleted) == (0, 0, 0)
        assert (asset_report.created, asset_report.updated, asset_report.deleted) == (0, 0, 0)
    with runtime.uow(Actor.system("test"), write=False) as uow:
        after = {(m.id, m.key, m.created_at) for m in uow.session.scalars(select(CaseMatch))}
        ana = subject_of(runtime, _user_id(runtime, "ana"))
        ops = subject_of(runtime, _user_id(runtime, "ops"))
        assert {m.id for m in matches_for_case(uow.session, ana, case_id)} == {m[0] for m in after}
        assert {m.component_version for m in matches_for_asset(uow.session, ops, asset["id"])} == {
            "2.4.1",
            "2.1.0",
        }
    assert after == before
    # A case that is gone, or not validated: nothing stored for it.
    with runtime.uow(Actor.system("test")) as uow:
        assert match_case(uow.session, "no-such-case").created == 0
        assert match_asset(uow.session, "no-such-asset").created == 0
        uow.commit()


def _user_id(runtime: Runtime, username: str) -> str:
    from clearinghouse.access import services as access

    with runtime.uow(Actor.system("test"), write=False) as uow:
        user = access.find_user(uow.session, username)
        assert user is not None
        return user.id


def test_a_finding_validated_before_deduplication_gets_its_case_and_its_matches(env: dict[str, Any]) -> None:
    client, runtime = env["client"], env["runtime"]
    register(env, "ops", "scada", "pkg:pypi/fastparse@2.4.1")
    run_jobs(runtime)
    made = client.post("/api/v1/findings", json=vulnerable_finding(), headers=env["alice"]).json()
    assert made["case_id"] is None
    with runtime.uow(Actor.system("test")) as uow:
        ctx = cast(JobContext, SimpleNamespace(uow=uow))
        with pytest.raises(CaseNotPlacedYet):
            match_case_job(ctx, finding_id=made["id"])
        with pytest.raises(RuntimeError):
            store_case_scores(ctx, finding_id=made["id"])
        match_case_job(ctx, finding_id="no-such-finding")
        match_case_job(ctx)
        store_case_scores(ctx, finding_id="no-such-finding")
        assert uow.session.scalar(select(func.count()).select_from(CaseMatch)) == 0
    r = client.post(f"/api/v1/findings/{made['id']}:validate", json={}, headers=env["ana"])
    assert r.status_code == 200, r.text
    # Deciding places the finding through the deduplication index at once, so the
    # matching job finds its case on the first attempt.
    assert r.json()["case_id"] == made["id"] and r.json()["state"] == "validated"
    run_jobs(runtime)
    jobs = [j for j in runtime.jobs.list(name="matching.case") if j.payload.get("finding_id") == made["id"]]
    assert len(jobs) == 1 and jobs[0].status == "succeeded"
    matches = client.get(f"/api/v1/cases/{made['id']}/matches", headers=env["ana"]).json()
    assert len(matches) == 1


def test_a_version_listed_in_a_real_advisory_matches_and_the_fixed_one_does_not(
    env: dict[str, Any], corpus: Path
) -> None:
    """PYSEC-2019-217 (Jinja2 sandbox escape): introduced 0, fixed 2.10.1, 2.10 listed."""
    client, runtime = env["client"], env["runtime"]
    record = corpus / "pypa-advisory-database" / "vulns" / "jinja2" / "PYSEC-2019-217.yaml"
    listed = register(env, "ops", "airflow", "pkg:pypi/jinja2@2.10")
    fixed = register(env, "ops", "airflow-next", "pkg:pypi/jinja2@2.10.1")
    r = client.post(
        "/api/v1/findings:import?filename=PYSEC-2019-217.yaml",
        content=record.read_bytes(),
        headers=env["alice"],
    )
    assert r.status_code in (200, 201), r.text
    finding_id = r.json()["items"][0]["id"]
    run_jobs(runtime)
    v = client.post(f"/api/v1/findings/{finding_id}:validate", json={}, headers=env["ana"])
    assert v.status_code == 200, v.text
    run_jobs(runtime)
    case_id = v.json()["case_id"]
    matches = client.get(f"/api/v1/cases/{case_id}/matches", headers=env["ana"]).json()
    assert [(m["asset_id"], m["component_version"]) for m in matches] == [(listed["id"], "2.10")]
    m = matches[0]
    assert m["rule"] == "purl-exact" and m["affected"] is True and "2.10.1" in m["matched_range"]
    assert m["explanation"].startswith("pkg:pypi/jinja2@2.10 (version 2.10; asset 'airflow'")
    assert client.get(f"/api/v1/inventories/{fixed['id']}/matches", headers=env["ops"]).json() == []
