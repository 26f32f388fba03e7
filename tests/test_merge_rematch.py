"""Confirming or splitting a merge changes which findings a case holds: matching runs again for
every case involved, queued in the same unit of work as the change."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from clearinghouse.jobs.models import Job, JobStatus
from clearinghouse.runtime import Runtime
from clearinghouse.storage import Actor
from tests.test_cases import env, overflow, run_jobs

__all__ = ["env"]


def _queued(runtime: Runtime) -> list[tuple[str, dict[str, Any]]]:
    with runtime.uow(Actor.system("test"), write=False) as uow:
        rows = uow.session.scalars(select(Job).where(Job.status == JobStatus.QUEUED).order_by(Job.name))
        return [(j.name, dict(j.payload)) for j in rows]


def _failed(runtime: Runtime) -> int:
    with runtime.uow(Actor.system("test"), write=False) as uow:
        return len(list(uow.session.scalars(select(Job).where(Job.status == JobStatus.FAILED))))


def test_confirm_and_split_queue_matching_for_both_cases(env: dict[str, Any]) -> None:
    client, runtime = env["client"], env["runtime"]
    first = client.post("/api/v1/findings", json=overflow(), headers=env["alice"]).json()
    variant = overflow(
        title="Out-of-bounds write in parse_header through an oversized Set-Cookie attribute list",
        description="When more than 64 attributes follow a Set-Cookie value, parse_header "
        "writes past the end of its attribute table.",
        package={"purl": "pkg:pypi/fastparse@2.5.0"},
        cwe=["CWE-787"],
        generator={"tool": "fuzzer"},
    )
    second = client.post("/api/v1/findings", json=variant, headers=env["bob"]).json()
    run_jobs(runtime)
    assert _queued(runtime) == []
    # Refused: nothing queued.
    assert client.post(f"/api/v1/findings/{first['id']}:confirm", headers=env["ana"]).status_code == 409
    assert client.post(f"/api/v1/findings/{second['id']}:confirm", headers=env["bob"]).status_code == 403
    assert _queued(runtime) == []

    # The variant's validation first, so the case it joins gains a validated finding.
    r = client.post(f"/api/v1/findings/{second['id']}:validate", json={}, headers=env["ana"])
    assert r.status_code == 200, r.text
    run_jobs(runtime)
    confirmed = client.post(f"/api/v1/findings/{second['id']}:confirm", headers=env["ana"])
    assert confirmed.status_code == 200 and confirmed.json()["case_id"] == first["id"]
    queued = _queued(runtime)
    assert ("matching.case", {"case_id": first["id"]}) in queued
    assert ("matching.case", {"case_id": second["id"]}) in queued  # the case it left (now gone)
    assert ("priority.case_scores", {"case_id": first["id"], "finding_id": second["id"]}) in queued
    # Confirming again changes nothing and queues nothing more.
    assert client.post(f"/api/v1/findings/{second['id']}:confirm", headers=env["ana"]).status_code == 200
    assert len(_queued(runtime)) == len(queued)
    run_jobs(runtime)
    assert _queued(runtime) == [] and _failed(runtime) == 0

    split = client.post(f"/api/v1/findings/{second['id']}:split", headers=env["ana"])
    assert split.status_code == 200 and split.json()["case_id"] == second["id"]
    queued = _queued(runtime)
    assert sorted(p["case_id"] for name, p in queued if name == "matching.case") == sorted(
        [first["id"], second["id"]]
    )
    assert ("priority.case_scores", {"case_id": second["id"], "finding_id": second["id"]}) in queued
    run_jobs(runtime)
    assert _queued(runtime) == [] and _failed(runtime) == 0
