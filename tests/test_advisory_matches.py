"""Every registered component against every imported public advisory: stored advisory matches,
their enrichment (ids, severity, KEV, EPSS, fixed version), BOD 26-04 clocks, remediation,
upgrades closing matches, withdrawn and informational advisories, and the exports."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from clearinghouse.api.app import create_app
from clearinghouse.intake.advisories import import_paths
from clearinghouse.ledger import unrecorded_rows
from clearinghouse.ledger.models import AuditEvent
from clearinghouse.matching import _advisories
from clearinghouse.matching.models import AdvisoryMatch
from clearinghouse.notifications.models import NotificationEvent
from clearinghouse.runtime import Runtime
from clearinghouse.storage import Actor
from clearinghouse.triage._cases import forget_index
from tests.support.exports import csaf_problems
from tests.support.factories import make_org, make_token, make_user
from tests.test_matches import cyclonedx, run_jobs

JINJA2 = ("PYSEC-2014-8", "PYSEC-2014-82", "PYSEC-2019-217", "PYSEC-2019-220", "PYSEC-2021-66")


def _extract(corpus: Path, into: Path) -> list[Path]:
    """A small extract of the shared corpus: jinja2's and pillow's PyPA advisories and the KEV catalog."""
    vulns = into / "vulns"
    for package in ("jinja2", "pillow"):
        shutil.copytree(corpus / "pypa-advisory-database" / "vulns" / package, vulns / package)
    kev = into / "kev"
    kev.mkdir()
    shutil.copy(corpus / "cisa-kev" / "known_exploited_vulnerabilities.json", kev)
    return [vulns, kev]


@pytest.fixture
def env(runtime: Runtime) -> Iterator[dict[str, Any]]:
    forget_index()
    orgs = {
        "house": make_org(runtime, "Clearinghouse", "government_agency"),
        "agency": make_org(runtime, "Dept of Examples", "government_agency"),
        "bank": make_org(runtime, "Community Bank", "critical_infrastructure_operator"),
    }
    make_user(runtime, "ana", orgs["house"], ["analyst"])
    make_user(runtime, "cio", orgs["agency"], ["partner"])
    make_user(runtime, "teller", orgs["bank"], ["partner"])
    with TestClient(create_app(runtime), raise_server_exceptions=False) as client:
        yield {
            "client": client,
            "runtime": runtime,
            "orgs": orgs,
            **{u: {"Authorization": f"Bearer {make_token(runtime, u)}"} for u in ("ana", "cio", "teller")},
        }
    forget_index()


def _register(env: dict[str, Any], who: str, name: str, *purls: str, exposed: bool = False) -> str:
    url = f"/api/v1/inventories?name={name}&internet_exposed={str(exposed).lower()}"
    r = env["client"].post(url, content=cyclonedx(*purls), headers=env[who])
    assert r.status_code in (200, 201), r.text
    return str(r.json()["id"])


def _matches(env: dict[str, Any], who: str, asset_id: str, **query: Any) -> list[dict[str, Any]]:
    r = env["client"].get(f"/api/v1/inventories/{asset_id}/matches", params=query, headers=env[who])
    assert r.status_code == 200, r.text
    body: list[dict[str, Any]] = r.json()
    return body


def test_an_agency_sbom_after_import_lists_pypa_advisories_and_a_kev_deadline(
    env: dict[str, Any], corpus: Path, tmp_path: Path
) -> None:
    runtime, client = env["runtime"], env["client"]
    report = import_paths(runtime.uow, _extract(corpus, tmp_path))
    assert report.ok and report.inserted >= 5 and report.kev_entries > 1000
    run_jobs(runtime)  # the import's matching jobs: nothing registered yet
    asset = _register(env, "cio", "web", "pkg:pypi/jinja2@2.10", "pkg:pypi/pillow@10.0.0", exposed=True)
    run_jobs(runtime)

    found = _matches(env, "cio", asset)
    jinja = {m["advisory_id"]: m for m in found if m["component_name"] == "jinja2"}
    assert set(jinja) == {"PYSEC-2019-217", "PYSEC-2021-66"}  # 2019-220 was fixed in 2.8.1
    fmt = jinja["PYSEC-2019-217"]
    assert fmt["kind"] == "advisory" and fmt["affected"] is True and fmt["rule"] == "purl-exact"
    assert fmt["vulnerability_ids"] == ["CVE-2019-10906", "GHSA-462w-v97r-4m45", "PYSEC-2019-217"]
    assert fmt["fixed_version"] == "2.10.1" and fmt["status"] == "open"
    assert jinja["PYSEC-2021-66"]["fixed_version"] == "2.11.3"
    # The upgrade path: the version that fixes every known issue of the component.
    assert {m["upgrade_to"] for m in jinja.values()} == {"2.11.3"}
    assert "jinja2 2.10 on asset 'web' is affected by CVE-2019-10906" in fmt["why"]
    assert "Version 2.10.1 fixes it; 2.11.3 fixes every known issue" in fmt["why"]
    assert "rule purl-exact" in fmt["explanation"]

    pillow = [m for m in found if m["component_name"] == "pillow" and m["kev"]]
    assert [m["advisory_id"] for m in pillow] == ["PYSEC-2023-175"]
    webp = pillow[0]
    assert webp["kev_cves"] == ["CVE-2023-4863"] and webp["kev_due_date"] == "2023-10-04"
    assert webp["fixed_version"] == "10.0.1" and webp["bod_26_04_due_at"] is not None
    # KEV items sort first (by due date).
    assert found[0]["kev"] is True
    assert all(not m["kev"] for m in jinja.values())

    now = dt.datetime.now(dt.UTC).isoformat()
    body = client.get("/api/v1/directives/bod-26-04/compliance", params={"as_of": now}, headers=env["cio"])
    assert body.status_code == 200, body.text
    agencies = body.json()["agencies"]
    assert [a["name"] for a in agencies] == ["Dept of Examples"]
    item = agencies[0]["items"][0]
    assert item["advisory_id"] == "PYSEC-2023-175" and item["case_id"] is None
    assert item["cve_ids"] == ["CVE-2023-4863"] and item["due_at"] is not None
    assert item["match_id"] == webp["id"]
    every = client.get("/api/v1/matches", params={"kev": "true", "sort": "severity"}, headers=env["cio"])
    assert [m["advisory_id"] for m in every.json()] == ["PYSEC-2023-175"]
    one = client.get(f"/api/v1/matches/{webp['id']}", headers=env["cio"]).json()
    assert one["due"] == one["bod_26_04_due_at"] and one["title"] == "CVE-2023-4863"
    newest = client.get("/api/v1/matches", params={"sort": "created", "limit": 1}, headers=env["cio"])
    assert len(newest.json()) == 1
    # A bank (not an agency) sees its own matches, no BOD 26-04 items.
    bank = _register(env, "teller", "core", "pkg:pypi/Jinja2@2.10")
    run_jobs(runtime)
    assert {m["advisory_id"] for m in _matches(env, "teller", bank)} == set(jinja)
    assert client.get(f"/api/v1/inventories/{asset}/matches", headers=env["teller"]).status_code == 404


def _osv(vid: str, *, fixed: str = "2.0.0", withdrawn: str | None = None, **extra: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "schema_version": "1.6.0",
        "id": vid,
        "modified": extra.pop("modified", "2024-01-01T00:00:00Z"),
        "summary": f"{vid} in demo-lib",
        "aliases": extra.pop("aliases", []),
        "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
        "affected": [
            {
                "package": {"ecosystem": "PyPI", "name": "demo-lib"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}],
            }
        ],
        **extra,
    }
    if withdrawn:
        record["withdrawn"] = withdrawn
    return record


def _write(folder: Path, *records: dict[str, Any]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for record in records:
        (folder / f"{record['id']}.json").write_text(json.dumps(record))
    return folder


def test_new_advisories_match_registered_components_and_withdrawn_or_informational_ones_do_not(
    env: dict[str, Any], tmp_path: Path
) -> None:
    runtime = env["runtime"]
    asset = _register(env, "teller", "core", "pkg:pypi/demo_lib@1.5")
    run_jobs(runtime)
    assert _matches(env, "teller", asset) == []
    notice = _osv("RUSTSEC-LIKE-1", database_specific={"informational": "unmaintained"})
    import_paths(runtime.uow, [_write(tmp_path / "a", _osv("DEMO-1", aliases=["CVE-2024-0001"]), notice)])
    run_jobs(runtime)
    found = _matches(env, "teller", asset)
    assert [(m["advisory_id"], m["rule"], m["severity"], m["cvss_score"]) for m in found] == [
        ("DEMO-1", "purl-exact", "critical", 9.8)
    ]
    assert found[0]["vulnerability_ids"] == ["CVE-2024-0001", "DEMO-1"]
    with runtime.uow(Actor.system("test"), write=False) as uow:
        events = list(
            uow.session.scalars(select(NotificationEvent).where(NotificationEvent.kind == "new_match"))
        )
    assert len(events) == 1 and "CVE-2024-0001" in events[0].title and "'core'" in events[0].title
    # Revised so that 1.5 is fixed: the match goes. Withdrawn: gone too, and stays gone.
    import_paths(
        runtime.uow, [_write(tmp_path / "b", _osv("DEMO-1", fixed="1.5", modified="2024-02-01T00:00:00Z"))]
    )
    run_jobs(runtime)
    assert _matches(env, "teller", asset) == []
    import_paths(runtime.uow, [_write(tmp_path / "c", _osv("DEMO-2"))])
    run_jobs(runtime)
    assert [m["advisory_id"] for m in _matches(env, "teller", asset)] == ["DEMO-2"]
    gone = _osv("DEMO-2", withdrawn="2024-03-01T00:00:00Z", modified="2024-03-01T00:00:00Z")
    import_paths(runtime.uow, [_write(tmp_path / "d", gone)])
    run_jobs(runtime)
    assert _matches(env, "teller", asset) == []
    assert _advisories.is_informational(notice)


def _csaf_vex(env: dict[str, Any], asset: str, workdir: Path) -> dict[str, Any]:
    """The inventory's CSAF VEX (every match), valid under ``csaf validate`` for CSAF 2.0."""
    got = env["client"].get(
        f"/api/v1/inventories/{asset}/matches/export",
        params={"format": "csaf-vex", "all": "true"},
        headers=env["teller"],
    )
    assert got.status_code == 200 and got.headers["content-type"].startswith("application/csaf+json")
    doc: dict[str, Any] = got.json()
    assert doc["document"]["category"] == "csaf_vex" and doc["document"]["csaf_version"] == "2.0"
    assert doc["document"]["distribution"]["tlp"]["label"] == "AMBER"
    assert csaf_problems([doc], workdir) == []
    return doc


def test_remediation_statuses_an_upgrade_closes_with_evidence_and_the_exports(
    env: dict[str, Any], tmp_path: Path
) -> None:
    runtime, client = env["runtime"], env["client"]
    import_paths(
        runtime.uow, [_write(tmp_path / "a", _osv("DEMO-1", aliases=["CVE-2024-0001"]), _osv("DEMO-3"))]
    )
    asset = _register(env, "teller", "core", "pkg:pypi/demo-lib@1.5", "pkg:pypi/other@1.0")
    run_jobs(runtime)
    first, second = _matches(env, "teller", asset)
    url = f"/api/v1/matches/{first['id']}/status"
    # Accepted risk needs a reason and a future expiry; not affected a VEX justification.
    bad = client.put(url, json={"status": "accepted_risk", "reason": "legacy"}, headers=env["teller"])
    assert bad.status_code == 422 and bad.json()["errors"][0]["pointer"] == "/expires_at"
    bad = client.put(url, json={"status": "not_affected"}, headers=env["teller"])
    assert bad.status_code == 422 and bad.json()["errors"][0]["pointer"] == "/justification"
    assert client.put(url, json={"status": "fixed"}, headers=env["cio"]).status_code == 404
    expiry = (dt.datetime.now(dt.UTC) + dt.timedelta(days=30)).isoformat()
    ok = client.put(
        url,
        json={"status": "accepted_risk", "reason": "isolated network", "expires_at": expiry},
        headers=env["teller"],
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["status"] == "accepted_risk" and ok.json()["status_reason"] == "isolated network"
    ok = client.put(
        f"/api/v1/matches/{second['id']}/status",
        json={"status": "not_affected", "justification": "vulnerable_code_not_in_execute_path"},
        headers=env["teller"],
    )
    assert ok.status_code == 200, ok.text
    assert [m["status"] for m in _matches(env, "teller", asset, status="open")] == []

    vex = client.get(
        f"/api/v1/inventories/{asset}/matches/export", params={"all": "true"}, headers=env["teller"]
    )
    assert vex.status_code == 200 and vex.headers["content-type"].startswith("application/vnd.cyclonedx+json")
    doc = vex.json()
    states = {v["id"]: v["analysis"] for v in doc["vulnerabilities"]}
    assert doc["bomFormat"] == "CycloneDX" and doc["specVersion"] == "1.6"
    assert {a["state"] for a in states.values()} == {"exploitable", "not_affected"}
    assert any(a.get("justification") == "code_not_reachable" for a in states.values())
    assert all(
        v["affects"]
        == [{"ref": "pkg:pypi/demo-lib@1.5", "versions": [{"version": "1.5", "status": "affected"}]}]
        for v in doc["vulnerabilities"]
    )

    csaf_vex = _csaf_vex(env, asset, tmp_path / "csaf-1")
    by_id = {v["cve"] if "cve" in v else v["ids"][0]["text"]: v for v in csaf_vex["vulnerabilities"]}
    risk, quiet = by_id["CVE-2024-0001"], by_id["DEMO-3"]
    assert list(risk["product_status"]) == ["known_affected"]
    assert risk["remediations"][0]["category"] == "no_fix_planned"
    assert "isolated network" in risk["remediations"][0]["details"]
    assert list(quiet["product_status"]) == ["known_not_affected"]
    assert quiet["flags"][0]["label"] == "vulnerable_code_not_in_execute_path"
    assert quiet["threats"][0]["category"] == "impact"
    (product,) = csaf_vex["product_tree"]["branches"][0]["branches"][0]["branches"]
    assert product["product"]["product_identification_helper"] == {"purl": "pkg:pypi/demo-lib@1.5"}

    # Reopen one, then upload a newer SBOM: the upgraded component's open match is closed as fixed.
    client.put(url, json={"status": "open"}, headers=env["teller"])
    rows = list(
        csv.DictReader(
            io.StringIO(
                client.get(
                    f"/api/v1/inventories/{asset}/matches/export",
                    params={"format": "csv"},
                    headers=env["teller"],
                ).text
            )
        )
    )
    assert [r["vulnerability_ids"] for r in rows] == ["CVE-2024-0001 DEMO-1"]
    assert rows[0]["fixed_version"] == "2.0.0" and rows[0]["status"] == "open"
    _register(env, "teller", "core", "pkg:pypi/demo-lib@2.1", "pkg:pypi/other@1.0")
    run_jobs(runtime)
    after = {m["advisory_id"]: m for m in _matches(env, "teller", asset)}
    assert after["DEMO-1"]["status"] == "fixed"
    assert "lists demo-lib at 2.1" in after["DEMO-1"]["evidence"]
    assert after["DEMO-3"]["status"] == "not_affected"  # the operator's answer stays
    fixed = _csaf_vex(env, asset, tmp_path / "csaf-2")
    statuses = {next(iter(v["product_status"])) for v in fixed["vulnerabilities"]}
    assert statuses == {"fixed", "known_not_affected"}
    with runtime.uow(Actor.system("test"), write=False) as uow:
        exported = uow.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "matches.exported", AuditEvent.object_id == asset)
        ).all()
        assert [e.detail["format"] for e in exported].count("csaf-vex") == 2
        assert unrecorded_rows(uow.session) == []  # rows inserted in bulk are named by batch events
    with runtime.uow(Actor.system("test"), write=False) as uow:
        assert uow.session.scalar(select(AdvisoryMatch).where(AdvisoryMatch.id == first["id"])) is not None
    # Running the jobs again changes nothing.
    run_jobs(runtime)
    assert {m["id"]: m["status"] for m in _matches(env, "teller", asset)} == {
        m["id"]: m["status"] for m in after.values()
    }
    missing = client.get("/api/v1/matches/nope", headers=env["teller"])
    assert missing.status_code == 404


def test_the_whole_pypa_database_and_kev_catalog_match_an_agency_sbom(
    env: dict[str, Any], corpus: Path
) -> None:
    """The issue's check on the real corpus: import PyPA's database and the KEV catalog, then
    register an agency SBOM; the jobs list jinja2 2.10's advisories and pillow's KEV deadline."""
    runtime, client = env["runtime"], env["client"]
    report = import_paths(runtime.uow, [corpus / "pypa-advisory-database", corpus / "cisa-kev"])
    assert report.ok and report.inserted > 2600
    run_jobs(runtime)
    asset = _register(env, "cio", "portal", "pkg:pypi/jinja2@2.10", "pkg:pypi/pillow@10.0.0", exposed=True)
    run_jobs(runtime)
    found = _matches(env, "cio", asset)
    jinja = {m["advisory_id"]: m["fixed_version"] for m in found if m["component_name"] == "jinja2"}
    assert jinja == {"PYSEC-2019-217": "2.10.1", "PYSEC-2021-66": "2.11.3"}
    assert any(m["kev"] and m["bod_26_04_due_at"] for m in found if m["component_name"] == "pillow")
    agencies = client.get("/api/v1/directives/bod-26-04/compliance", headers=env["cio"]).json()["agencies"]
    assert agencies and all(i["due_at"] for i in agencies[0]["items"])
    assert {i["advisory_id"] for i in agencies[0]["items"]} >= {"PYSEC-2023-175"}


def test_a_kev_match_on_an_agency_asset_queues_deadline_reminders(
    env: dict[str, Any], corpus: Path, tmp_path: Path
) -> None:
    from clearinghouse.jobs.models import Job
    from clearinghouse.matching.tasks import DEADLINE_JOB, send_deadline_reminder

    runtime, client = env["runtime"], env["client"]
    import_paths(runtime.uow, _extract(corpus, tmp_path))
    asset = _register(env, "cio", "web", "pkg:pypi/pillow@10.0.0", exposed=True)
    run_jobs(runtime)
    kev = [m for m in _matches(env, "cio", asset) if m["kev"]]
    assert len(kev) == 1 and kev[0]["due"] == kev[0]["bod_26_04_due_at"]
    with runtime.uow(Actor.system("test"), write=False) as uow:
        queued = [j.payload for j in uow.session.scalars(select(Job).where(Job.name == DEADLINE_JOB))]
    assert queued and all(p["match_id"] == kev[0]["id"] for p in queued)
    due = queued[0]["due_at"]
    with runtime.uow(Actor.system("test")) as uow:
        assert send_deadline_reminder(uow, kev[0]["id"], due, 1) is True
        assert send_deadline_reminder(uow, kev[0]["id"], "2020-01-01T00:00:00+00:00", 1) is False
        uow.commit()
    with runtime.uow(Actor.system("test"), write=False) as uow:
        titles = [
            e.title
            for e in uow.session.scalars(
                select(NotificationEvent).where(NotificationEvent.kind == "deadline_near")
            )
        ]
    assert titles == ["Deadline in 1 day: CVE-2023-4863, CVE-2023-5129 on pillow 10.0.0 (asset 'web')"]
    done = client.put(f"/api/v1/matches/{kev[0]['id']}/status", json={"status": "fixed"}, headers=env["cio"])
    assert done.status_code == 200, done.text
    with runtime.uow(Actor.system("test")) as uow:
        assert send_deadline_reminder(uow, kev[0]["id"], due, 1) is False
    # A fixed match leaves BOD 26-04 compliance.
    agencies = client.get("/api/v1/directives/bod-26-04/compliance", headers=env["cio"]).json()["agencies"]
    assert agencies == []


def test_the_cli_lists_and_exports_an_assets_matches(
    settings: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from clearinghouse.cli import app

    monkeypatch.setenv("CLEARINGHOUSE_HOME", str(settings.home))
    monkeypatch.setenv("CLEARINGHOUSE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("CLEARINGHOUSE_JOB_BACKEND", "inprocess")
    monkeypatch.setenv("COLUMNS", "250")
    runner = CliRunner()

    def cli(*args: str, code: int = 0) -> str:
        result = runner.invoke(app, list(args))
        assert result.exit_code == code, (result.output, result.exception)
        return result.output

    cli("init")
    cli("org", "add", "Community Bank", "--kind", "critical_infrastructure_operator")
    cli("user", "add", "teller", "--org", "Community Bank", "--role", "partner")
    cli("import", str(_write(tmp_path / "adv", _osv("DEMO-1", aliases=["CVE-2024-0001"]))))
    bom = tmp_path / "bom.json"
    bom.write_bytes(cyclonedx("pkg:pypi/demo-lib@1.5"))
    out = cli("inventory", "add", str(bom), "--org", "Community Bank", "--name", "core")
    asset = out.split("id=")[1].split(":")[0]
    runtime = Runtime.from_env()
    try:
        run_jobs(runtime)
    finally:
        runtime.close()
    table = cli("inventory", "matches", asset, "--as", "teller")
    assert "CVE-2024-0001" in table and "2.0.0" in table and "critical" in table
    listed = json.loads(cli("inventory", "matches", asset, "--as", "teller", "--format", "json"))
    assert [m["advisory_id"] for m in listed] == ["DEMO-1"]
    assert cli("inventory", "matches", asset, "--as", "teller", "--format", "csv").startswith("match_id,")
    target = tmp_path / "vex.json"
    cli("inventory", "matches", asset, "--as", "teller", "--format", "cyclonedx-vex", "--output", str(target))
    assert json.loads(target.read_text())["vulnerabilities"][0]["id"] == "CVE-2024-0001"
    csaf_doc = json.loads(cli("inventory", "matches", asset, "--as", "teller", "--format", "csaf-vex"))
    assert csaf_doc["document"]["category"] == "csaf_vex"
    assert csaf_doc["vulnerabilities"][0]["cve"] == "CVE-2024-0001"
    assert "--format" in cli("inventory", "matches", asset, "--as", "teller", "--format", "xml", code=2)
    assert "not found" in cli("inventory", "matches", "nope", "--as", "teller", code=2).lower()
