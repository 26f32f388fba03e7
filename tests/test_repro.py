"""The reproduction lab end to end, on hermetic local package indexes (no network): a PyPI wheel and
an npm tarball whose bug lives in 0.9-1.0 and is fixed in 1.1."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from clearinghouse.api.app import create_app
from clearinghouse.ledger.models import AuditEvent
from clearinghouse.repro import _worker, services
from clearinghouse.repro._settings import ReproSettings
from clearinghouse.repro.models import ReproJob, ReproRun, ReproWatch
from clearinghouse.runtime import Runtime
from clearinghouse.storage import Actor
from tests.repro_fixtures import JS_POC, PY_POC, LocalIndex, build_index
from tests.sandbox_support import make_sandbox, shared_dir
from tests.support.factories import make_org, make_token, make_user


@pytest.fixture(scope="module")
def index() -> Iterator[LocalIndex]:
    make_sandbox()  # skips (or fails where required) without a sandbox
    base = shared_dir()
    yield build_index(base / "index")
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def env(runtime: Runtime, index: LocalIndex, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    for key, value in index.env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("CLEARINGHOUSE_REPRO_ATTEMPTS", "3")
    lab = make_org(runtime, "Lab A", "ai_developer")
    other = make_org(runtime, "Lab B", "ai_developer")
    house = make_org(runtime, "Clearinghouse", "government_agency")
    make_user(runtime, "scanner", lab, ["partner"])
    make_user(runtime, "rival", other, ["partner"])
    make_user(runtime, "ana", house, ["analyst"])
    with TestClient(create_app(runtime), raise_server_exceptions=False) as client:
        yield {
            "client": client,
            "runtime": runtime,
            "scanner": {"Authorization": f"Bearer {make_token(runtime, 'scanner')}"},
            "rival": {"Authorization": f"Bearer {make_token(runtime, 'rival')}"},
            "ana": {"Authorization": f"Bearer {make_token(runtime, 'ana')}"},
        }


def finding(
    purl: str, poc: bytes, filename: str, runtime: str, expect: dict[str, Any], **extra: Any
) -> dict[str, Any]:
    reproducer: dict[str, Any] = {
        "steps": ["run the proof of concept"],
        "poc": {
            "filename": filename,
            "media_type": "text/plain",
            "content_base64": base64.b64encode(poc).decode(),
        },
        "run": {"runtime": runtime, "entrypoint": filename, "expect": expect, "timeout_s": 20},
    }
    reproducer.update(extra.pop("reproducer_extra", {}))
    body: dict[str, Any] = {
        "title": f"bug in {purl}",
        "package": {"purl": purl},
        "cwe": ["CWE-20"],
        "impact": {"claimed": "data_tampering"},
        "reproducer": reproducer,
        "generator": {"tool": "scanner-x"},
    }
    body.update(extra)
    return body


def py_finding(**extra: Any) -> dict[str, Any]:
    return finding(
        "pkg:pypi/tinyvuln@1.0", PY_POC, "poc.py", "python3", {"stdout_contains": "PWNED"}, **extra
    )


def js_finding(**extra: Any) -> dict[str, Any]:
    return finding(
        "pkg:npm/tinyvuln-js@1.0.0", JS_POC, "poc.js", "node", {"stdout_contains": "POLLUTED"}, **extra
    )


def submit(env: dict[str, Any], body: dict[str, Any]) -> str:
    r = env["client"].post("/api/v1/findings", json=body, headers=env["scanner"])
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def run_queued(runtime: Runtime) -> list[str]:
    repro = ReproSettings.from_env(runtime.settings)
    lab = _worker.make_lab(runtime.settings, repro)
    done = []
    while (
        job := _worker.execute_next(runtime.uow, runtime.envelope, runtime.settings, repro, lab=lab)
    ) is not None:
        done.append(job)
    return done


def test_pypi_reproduction_through_the_api(env: dict[str, Any]) -> None:
    client, runtime = env["client"], env["runtime"]
    fid = submit(env, py_finding(package={"purl": "pkg:pypi/tinyvuln@1.0", "vers": "vers:pypi/>=0.9|<1.1"}))
    assert client.get(f"/api/v1/findings/{fid}/reproductions", headers=env["ana"]).json()["status"] is None
    queued = client.post(f"/api/v1/findings/{fid}:reproduce", headers=env["ana"])
    assert queued.status_code == 202, queued.text
    assert queued.json()["status"] == "queued" and queued.json()["runs"] == []
    # A second request while queued is the same reproduction.
    again = client.post(f"/api/v1/findings/{fid}:reproduce", headers=env["ana"]).json()
    assert again["job"]["id"] == queued.json()["job"]["id"]
    assert len(run_queued(runtime)) == 1
    body = client.get(f"/api/v1/findings/{fid}/reproductions", headers=env["ana"]).json()
    assert body["status"] == "done"
    assert body["job"]["verdict"] == "reliable"
    runs = {r["version"]: r for r in body["runs"]}
    assert runs["1.0"]["verdict"] == "reliable" and runs["1.0"]["attempts"] == 3 and runs["1.0"]["reproduced"]
    assert runs["1.2"]["role"] == "fixed" and runs["1.2"]["verdict"] == "not_reproduced"
    assert body["job"]["fix_version"] == "1.2" and body["job"]["fix_verified"] is True
    bis = body["bisection"]
    assert (bis["first_affected"], bis["first_fixed"], bis["last_affected"]) == ("0.9", "1.1", "1.0")
    assert bis["agrees"] is True and bis["comparisons"] == [
        {"source": "finding", "first_fixed": "1.1", "agrees": True}
    ]
    # The finding carries the check; the submitter reads it too.
    f = client.get(f"/api/v1/findings/{fid}", headers=env["scanner"]).json()
    check = next(c for c in f["checks"] if c["name"] == "reproduced")
    assert check["result"] == "pass" and "reliable" in check["reason"]
    assert client.get(f"/api/v1/findings/{fid}/reproductions", headers=env["scanner"]).status_code == 200
    # The log is encrypted at rest, its hash and the verdict are in the ledger.
    run_id = _run_id(runtime, fid, "1.0")
    log = client.get(f"/api/v1/findings/{fid}/reproductions/runs/{run_id}/log", headers=env["ana"])
    assert log.status_code == 200
    assert hashlib.sha256(log.content).hexdigest() == runs["1.0"]["log_sha256"]
    assert json.loads(log.content)["attempts"][0]["stdout_tail"].strip() == "PWNED"
    with runtime.uow(Actor.system("test"), write=False) as uow:
        row = uow.session.get(ReproRun, run_id)
        assert row is not None and row.log_ciphertext is not None and b"PWNED" not in row.log_ciphertext
        events = uow.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "reproduction.verdict")
        ).all()
        details = [e.detail for e in events]
    assert {"version": "1.0", "verdict": "reliable"}.items() <= next(
        d for d in details if d["version"] == "1.0"
    ).items()
    assert any(d["log_sha256"] == runs["1.0"]["log_sha256"] for d in details)
    metrics = client.get("/metrics").text
    assert 'clearinghouse_repro_runs_total{verdict="reliable"}' in metrics


def _run_id(runtime: Runtime, finding_id: str, version: str) -> str:
    with runtime.uow(Actor.system("test"), write=False) as uow:
        return str(
            uow.session.scalars(
                select(ReproRun.id).where(ReproRun.finding_id == finding_id, ReproRun.version == version)
            ).first()
        )


def test_npm_reproduction_compares_with_public_advisories(env: dict[str, Any]) -> None:
    from clearinghouse.intake.advisories.models import Advisory, AdvisoryAffected, AdvisoryAlias
    from clearinghouse.storage import utcnow

    runtime = env["runtime"]
    with runtime.uow(Actor.system("test")) as uow:
        adv = Advisory(
            id="GHSA-test-0001",
            modified=utcnow(),
            published=None,
            withdrawn=None,
            summary="prototype pollution",
            aliases=["CVE-2099-0001"],
            severity=[],
            database="ghsa",
            source_format="osv",
            source="test",
            raw={},
            content_hash="x",
        )
        uow.session.add(adv)
        uow.session.add(AdvisoryAlias(alias="CVE-2099-0001", advisory_id="GHSA-test-0001"))
        uow.session.add(
            AdvisoryAffected(
                advisory_id="GHSA-test-0001",
                ecosystem="npm",
                ecosystem_variant=None,
                name="tinyvuln-js",
                normalized_name="tinyvuln-js",
                purl=None,
                ranges=[{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "1.2.0"}]}],
                versions=[],
            )
        )
        uow.commit()
    fid = submit(env, js_finding(aliases=["CVE-2099-0001"], reproducer_extra={"fixed_version": "1.1.0"}))
    env["client"].post(f"/api/v1/findings/{fid}:reproduce", headers=env["ana"])
    run_queued(runtime)
    body = env["client"].get(f"/api/v1/findings/{fid}/reproductions", headers=env["ana"]).json()
    assert body["job"]["verdict"] == "reliable" and body["job"]["fix_verified"] is True
    assert body["job"]["fix_version"] == "1.1.0"
    bis = body["bisection"]
    assert bis["first_fixed"] == "1.1.0" and bis["first_affected"] == "0.9.0"
    # The advisory says 1.2.0: the lab shows the disagreement with both versions.
    assert bis["agrees"] is False
    by_source = {c["source"]: c for c in bis["comparisons"]}
    assert by_source["GHSA-test-0001"]["first_fixed"] == "1.2.0" and not by_source["GHSA-test-0001"]["agrees"]
    assert by_source["finding"]["agrees"] is True


def test_not_reproduced_lowers_priority_but_keeps_the_finding(env: dict[str, Any]) -> None:
    runtime = env["runtime"]
    body = finding("pkg:pypi/tinyvuln@1.1", PY_POC, "poc.py", "python3", {"stdout_contains": "PWNED"})
    fid = submit(env, body)
    env["client"].post(f"/api/v1/findings/{fid}:reproduce", headers=env["ana"])
    run_queued(runtime)
    status = env["client"].get(f"/api/v1/findings/{fid}/reproductions", headers=env["ana"]).json()
    assert status["job"]["verdict"] == "not_reproduced" and status["bisection"] is None
    f = env["client"].get(f"/api/v1/findings/{fid}", headers=env["ana"]).json()
    assert f["queue"] == "cold" and f["state"] in ("checked", "triaged")
    assert next(c for c in f["checks"] if c["name"] == "reproduced")["result"] == "fail"


def test_uninstallable_version_is_an_error_with_the_reason(env: dict[str, Any]) -> None:
    fid = submit(
        env, finding("pkg:pypi/tinyvuln@9.9", PY_POC, "poc.py", "python3", {"stdout_contains": "PWNED"})
    )
    env["client"].post(f"/api/v1/findings/{fid}:reproduce", headers=env["ana"])
    run_queued(env["runtime"])
    status = env["client"].get(f"/api/v1/findings/{fid}/reproductions", headers=env["ana"]).json()
    assert status["job"]["verdict"] == "error"
    assert "no release 9.9" in status["runs"][0]["reason"]
    f = env["client"].get(f"/api/v1/findings/{fid}", headers=env["ana"]).json()
    assert next(c for c in f["checks"] if c["name"] == "reproduced")["result"] == "unknown"
    assert f["queue"] == "main"


@pytest.mark.parametrize(
    ("purl", "runtime_name", "expected"),
    [
        ("pkg:maven/org.example/tiny@1.0", "sh", "no adapter for maven"),
        ("pkg:pypi/tinyvuln@1.0", "node", "runtime node"),
    ],
)
def test_unsupported(env: dict[str, Any], purl: str, runtime_name: str, expected: str) -> None:
    fid = submit(env, finding(purl, b"echo hi\n", "poc.sh", runtime_name, {"exit_code": 0}))
    env["client"].post(f"/api/v1/findings/{fid}:reproduce", headers=env["ana"])
    run_queued(env["runtime"])
    status = env["client"].get(f"/api/v1/findings/{fid}/reproductions", headers=env["ana"]).json()
    assert status["job"]["verdict"] == "unsupported"
    assert expected in (status["job"]["reason"] or "")


def test_finding_without_executable_reproducer_is_unsupported(env: dict[str, Any]) -> None:
    body = py_finding()
    del body["reproducer"]["run"]
    fid = submit(env, body)
    env["client"].post(f"/api/v1/findings/{fid}:reproduce", headers=env["ana"])
    run_queued(env["runtime"])
    status = env["client"].get(f"/api/v1/findings/{fid}/reproductions", headers=env["ana"]).json()
    assert status["job"]["verdict"] == "unsupported" and "reproducer.run" in status["job"]["reason"]


def test_entrypoint_must_be_the_poc(env: dict[str, Any]) -> None:
    body = py_finding()
    body["reproducer"]["run"]["entrypoint"] = "other.py"
    r = env["client"].post("/api/v1/findings", json=body, headers=env["scanner"])
    assert r.status_code == 422
    assert r.json()["errors"][0]["pointer"].startswith("/reproducer")


def test_access_follows_the_finding(env: dict[str, Any]) -> None:
    client = env["client"]
    fid = submit(env, py_finding())
    missing = client.get("/api/v1/findings/nope/reproductions", headers=env["rival"])
    hidden = client.get(f"/api/v1/findings/{fid}/reproductions", headers=env["rival"])
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["detail"].replace(fid, "nope") == missing.json()["detail"]
    assert client.post(f"/api/v1/findings/{fid}:reproduce", headers=env["rival"]).status_code == 404
    # The submitter (a partner, not a triager) reads but does not start reproductions.
    assert client.post(f"/api/v1/findings/{fid}:reproduce", headers=env["scanner"]).status_code == 403


def test_reruns_reuse_verdicts_of_the_same_case_and_spec(env: dict[str, Any]) -> None:
    runtime = env["runtime"]
    fid = submit(env, py_finding(reproducer_extra={"fixed_version": "1.1"}))
    env["client"].post(f"/api/v1/findings/{fid}:reproduce", headers=env["ana"])
    run_queued(runtime)
    env["client"].post(f"/api/v1/findings/{fid}:reproduce", headers=env["ana"])
    run_queued(runtime)
    body = env["client"].get(f"/api/v1/findings/{fid}/reproductions", headers=env["ana"]).json()
    assert body["runs"] and all(r["reused_from"] for r in body["runs"])
    assert body["job"]["verdict"] == "reliable" and body["bisection"]["first_fixed"] == "1.1"


def test_auto_validation_rule(env: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLEARINGHOUSE_REPRO_AUTO_VALIDATE", "1")
    fid = submit(env, py_finding())
    env["client"].post(f"/api/v1/findings/{fid}:reproduce", headers=env["ana"])
    run_queued(env["runtime"])
    f = env["client"].get(f"/api/v1/findings/{fid}", headers=env["ana"]).json()
    assert f["state"] == "validated"


def test_recheck_verifies_the_fix_when_a_release_appears(env: dict[str, Any]) -> None:
    runtime = env["runtime"]
    fid = submit(env, py_finding())
    env["client"].post(f"/api/v1/findings/{fid}:reproduce", headers=env["ana"])
    run_queued(runtime)
    # The polling job is scheduled for a fix that is not verified yet.
    from clearinghouse.jobs.models import Job

    with runtime.uow(Actor.system("test"), write=False) as uow:
        polls = uow.session.scalars(select(Job).where(Job.name == services.RECHECK_JOB)).all()
    assert polls == []  # this one was verified (1.2 is clean)
    # Pretend that, at the first run, 1.0 was the newest release and the fix was unknown.
    with runtime.uow(Actor.system("test")) as uow:
        job = uow.session.scalars(select(ReproJob).where(ReproJob.finding_id == fid)).one()
        job.fix_verified, job.fix_version = None, None
        for watch in uow.session.scalars(select(ReproWatch)):
            watch.newest_version = "1.0"
        uow.commit()
    repro = ReproSettings.from_env(runtime.settings)
    queued = services.recheck(runtime.uow, repro)
    assert len(queued) == 1
    run_queued(runtime)
    status = env["client"].get(f"/api/v1/findings/{fid}/reproductions", headers=env["ana"]).json()
    assert status["job"]["trigger"] == "recheck" and status["job"]["fix_verified"] is True
    # Nothing new since: nothing queued.
    assert services.recheck(runtime.uow, repro) == []


def test_console_panel_on_finding_and_case_pages(
    runtime: Runtime, index: LocalIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.support.web import csrf_of, seed_people, sign_in

    for key, value in index.env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("CLEARINGHOUSE_REPRO_ATTEMPTS", "2")
    seed_people(runtime)
    with TestClient(create_app(runtime), raise_server_exceptions=False) as api:
        token = make_token(runtime, "finder")
        r = api.post("/api/v1/findings", json=py_finding(), headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 201, r.text
        fid = r.json()["id"]
    ana = TestClient(create_app(runtime), raise_server_exceptions=False)
    assert sign_in(ana, "ana").status_code == 303
    page = ana.get(f"/findings/{fid}")
    assert "Not reproduced yet." in page.text and "Reproduce in the sandbox" in page.text
    assert ana.post(f"/findings/{fid}/reproduce", data={"csrf": "forged"}).status_code == 403
    queued = ana.post(f"/findings/{fid}/reproduce", data={"csrf": csrf_of(page.text)}, follow_redirects=False)
    assert queued.status_code == 303
    run_queued(runtime)
    page = ana.get(f"/findings/{fid}")
    assert (
        "verdict <strong>reliable</strong>" in page.text and "first fixed <strong>1.1</strong>" in page.text
    )
    case_id = ana.get(
        f"/api/v1/findings/{fid}", headers={"Authorization": f"Bearer {make_token(runtime, 'ana')}"}
    ).json()["case_id"]
    if case_id:
        assert "verdict <strong>reliable</strong>" in ana.get(f"/cases/{case_id}").text
    finder = TestClient(create_app(runtime), raise_server_exceptions=False)
    assert sign_in(finder, "finder").status_code == 303
    own = finder.get(f"/findings/{fid}").text
    assert "verdict <strong>reliable</strong>" in own and "Reproduce in the sandbox" not in own


def test_cli_run_and_status(env: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from clearinghouse.cli import app as cli_app

    runtime = env["runtime"]
    monkeypatch.setenv("CLEARINGHOUSE_HOME", str(runtime.settings.home))
    monkeypatch.setenv("CLEARINGHOUSE_DATABASE_URL", runtime.settings.database_url)
    monkeypatch.setenv("CLEARINGHOUSE_JOB_BACKEND", "inprocess")
    fid = submit(env, js_finding())
    runner = CliRunner()
    out = runner.invoke(cli_app, ["repro", "run", fid, "--as", "ana"])
    assert out.exit_code == 0, out.output
    assert "reliable" in out.output and "first fixed 1.1.0" in out.output
    as_json = runner.invoke(cli_app, ["repro", "status", fid, "--format", "json"])
    assert json.loads(as_json.output)["job"]["verdict"] == "reliable"
    as_csv = runner.invoke(cli_app, ["repro", "status", fid, "--format", "csv"])
    assert as_csv.output.splitlines()[0].startswith("version,role,verdict")
    assert runner.invoke(cli_app, ["repro", "status", fid, "--format", "xml"]).exit_code == 2
    assert runner.invoke(cli_app, ["repro", "status", "missing"]).exit_code == 2
    recheck = runner.invoke(cli_app, ["repro", "recheck", "--format", "json"])
    assert recheck.exit_code == 0 and json.loads(recheck.output) == []
    for fmt, expected in (("csv", "finding_id,status,verdict"), ("table", "Rechecked: 1")):
        with runtime.uow(Actor.system("test")) as uow:
            for job in uow.session.scalars(select(ReproJob).where(ReproJob.finding_id == fid)):
                job.fix_verified = None
            for watch in uow.session.scalars(select(ReproWatch)):
                watch.newest_version = "1.0.0"
            uow.commit()
        again = runner.invoke(cli_app, ["repro", "recheck", "--format", fmt])
        assert again.exit_code == 0 and expected in again.output, again.output


def test_published_advisory_gets_the_bisected_range(env: dict[str, Any]) -> None:
    from clearinghouse.access import TLP
    from clearinghouse.access import services as access
    from clearinghouse.coordination._workflow import publish
    from clearinghouse.coordination.models import AdvisoryRevision

    runtime, client = env["runtime"], env["client"]
    fid = submit(env, py_finding())
    decided = client.post(f"/api/v1/findings/{fid}:validate", json={}, headers=env["ana"])
    assert decided.status_code == 200, decided.text
    case_id = decided.json()["case_id"]
    with runtime.uow(Actor.system("test")) as uow:
        publish(uow, access.OPERATOR, case_id, "first publication", tlp=TLP.CLEAR)
        uow.commit()
    client.post(f"/api/v1/findings/{fid}:reproduce", headers=env["ana"])
    run_queued(runtime)
    with runtime.uow(Actor.system("test"), write=False) as uow:
        revisions = uow.session.scalars(
            select(AdvisoryRevision)
            .where(AdvisoryRevision.case_id == case_id)
            .order_by(AdvisoryRevision.number)
        ).all()
        events = uow.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "advisory.revised_by_reproduction")
        ).all()
    assert [r.number for r in revisions] == [1, 2]
    latest = revisions[-1]
    assert "verified by reproduction" in latest.summary
    affected = [a for a in latest.record["affected"] if a["name"] == "tinyvuln"]
    assert affected[0]["ranges"][0]["events"] == [
        {"kind": "introduced", "value": "0.9"},
        {"kind": "fixed", "value": "1.1"},
    ]
    assert latest.tlp == revisions[0].tlp and len(events) == 1


def test_a_wrong_fix_claim_is_not_verified_and_the_poll_is_scheduled(env: dict[str, Any]) -> None:
    from clearinghouse.jobs.models import Job

    runtime = env["runtime"]
    body = finding(
        "pkg:pypi/tinyvuln@0.9",
        PY_POC,
        "poc.py",
        "python3",
        {"stdout_contains": "PWNED"},
        reproducer_extra={"fixed_version": "1.0"},
    )
    fid = submit(env, body)
    env["client"].post(f"/api/v1/findings/{fid}:reproduce", headers=env["ana"])
    run_queued(runtime)
    status = env["client"].get(f"/api/v1/findings/{fid}/reproductions", headers=env["ana"]).json()
    assert status["job"]["fix_version"] == "1.0" and status["job"]["fix_verified"] is False
    bis = status["bisection"]
    assert bis["first_fixed"] == "1.1" and bis["agrees"] is False
    assert bis["comparisons"] == [{"source": "finding", "first_fixed": "1.0", "agrees": False}]
    with runtime.uow(Actor.system("test"), write=False) as uow:
        polls = uow.session.scalars(select(Job).where(Job.name == services.RECHECK_JOB)).all()
    assert len(polls) == 1 and polls[0].run_after is not None


def test_the_job_wakes_a_drainer_and_the_recheck_job_polls(env: dict[str, Any]) -> None:
    import threading

    from clearinghouse.jobs.models import Job

    runtime, client = env["runtime"], env["client"]
    fid = submit(env, py_finding())
    client.post(f"/api/v1/findings/{fid}:reproduce", headers=env["ana"])
    while runtime.jobs.run_pending():  # repro.run (and the finding's own jobs)
        pass
    for thread in [t for t in threading.enumerate() if t.name == "repro-drainer"]:
        thread.join(120)
    status = client.get(f"/api/v1/findings/{fid}/reproductions", headers=env["ana"]).json()
    assert status["status"] == "done" and status["job"]["verdict"] == "reliable"
    # The polling job looks for new releases after it commits and queues its next run.
    runtime.jobs.enqueue(services.RECHECK_JOB, {})
    while runtime.jobs.run_pending():
        pass
    for thread in [t for t in threading.enumerate() if t.name == "repro-drainer"]:
        thread.join(120)
    with runtime.uow(Actor.system("test"), write=False) as uow:
        later = uow.session.scalars(
            select(Job).where(Job.name == services.RECHECK_JOB, Job.status == "queued")
        ).all()
    assert len(later) == 1 and later[0].run_after is not None
    # A run's log is not readable under another finding.
    run_id = _run_id(runtime, fid, "1.0")
    other = submit(env, py_finding(title="another"))
    assert (
        client.get(
            f"/api/v1/findings/{other}/reproductions/runs/{run_id}/log", headers=env["ana"]
        ).status_code
        == 404
    )
