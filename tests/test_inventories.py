"""Registering assets with SBOMs: through the API and the command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from clearinghouse.api.app import create_app
from clearinghouse.cli import app as cli_app
from clearinghouse.config import Settings
from clearinghouse.runtime import Runtime
from tests.support.factories import make_org, make_token, make_user


def cyclonedx(*purls: str, version: str = "1.6") -> bytes:
    components = []
    for purl in purls:
        name, _, ver = purl.rsplit("/", 1)[1].partition("@")
        components.append({"type": "library", "name": name, "version": ver, "purl": purl, "bom-ref": purl})
    doc = {
        "bomFormat": "CycloneDX",
        "specVersion": version,
        "serialNumber": "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79",
        "version": 1,
        "metadata": {"component": {"type": "application", "name": "grid-scada"}},
        "components": components,
    }
    return json.dumps(doc).encode()


def test_register_read_and_replace_assets(runtime: Runtime) -> None:
    grid = make_org(runtime, "Grid Co", "critical_infrastructure_operator")
    make_user(runtime, "ops", grid, ["partner"])
    make_user(runtime, "rival", make_org(runtime, "Other"), ["partner"])
    make_user(runtime, "ana", make_org(runtime, "Analysts", "government_agency"), ["analyst"])
    ops = {"Authorization": f"Bearer {make_token(runtime, 'ops')}"}
    rival = {"Authorization": f"Bearer {make_token(runtime, 'rival')}"}
    ana = {"Authorization": f"Bearer {make_token(runtime, 'ana')}"}
    sbom = cyclonedx("pkg:pypi/requests@2.31.0", "pkg:npm/%40babel/core@7.22.0")
    url = "/api/v1/inventories?name=scada&internet_exposed=true&criticality=critical"
    with TestClient(create_app(runtime)) as client:
        made = client.post(url, content=sbom, headers=ops)
        assert made.status_code == 201, made.text
        body = made.json()
        # The two libraries and the described product itself (metadata.component, no purl).
        assert body["component_count"] == 3 and body["internet_exposed"] and body["criticality"] == "critical"
        assert body["sbom_format"] == "cyclonedx-json" and body["marking"]["tlp"] == "AMBER+STRICT"
        assert client.post(url, content=sbom, headers=ops).status_code == 200  # same SBOM: no change
        detail = client.get(f"/api/v1/inventories/{body['id']}", headers=ana).json()
        assert {c["purl"] for c in detail["components"] if c["purl"]} == {
            "pkg:pypi/requests@2.31.0",
            "pkg:npm/%40babel/core@7.22.0",
        }
        assert client.get(f"/api/v1/inventories/{body['id']}", headers=rival).status_code == 404
        assert client.get("/api/v1/inventories", headers=rival).json() == []
        # A new SBOM under the same name replaces the components.
        newer = client.post(url, content=cyclonedx("pkg:pypi/requests@2.32.3"), headers=ops).json()
        assert newer["id"] == body["id"] and newer["component_count"] == 2
        # Invalid SBOMs are refused with the validator's reason; old versions too.
        bad = json.loads(sbom)
        bad["components"][0]["type"] = "spaceship"
        r = client.post(url, content=json.dumps(bad).encode(), headers=ops)
        assert r.status_code == 422 and r.json()["detail"]
        r = client.post(url, content=cyclonedx("pkg:pypi/x@1", version="1.2"), headers=ops)
        assert r.status_code == 422 and "1.2" in r.json()["detail"]
        r = client.post(url, content=b"pkg:pypi/ok@1\nnot a purl\n", headers=ops)
        assert r.status_code == 422 and "line 2" in r.json()["detail"]
        # Nobody registers assets for another organization but staff.
        r = client.post("/api/v1/inventories?name=x&org=Grid%20Co", content=sbom, headers=rival)
        assert r.status_code == 403
        r = client.post("/api/v1/inventories?name=x&org=Nowhere", content=sbom, headers=ops)
        assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "/org"


def test_inventory_add_from_the_command_line(
    settings: Settings, runtime: Runtime, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CLEARINGHOUSE_HOME", str(settings.home))
    monkeypatch.setenv("CLEARINGHOUSE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("CLEARINGHOUSE_JOB_BACKEND", "inprocess")
    runner = CliRunner()
    assert runner.invoke(cli_app, ["org", "add", "Agency X", "--kind", "government_agency"]).exit_code == 0
    purls = tmp_path / "purls.txt"
    purls.write_text(
        "# servers\npkg:pypi/django@4.2.0\npkg:maven/org.apache.logging.log4j/log4j-core@2.14.1\n"
    )
    result: Any = runner.invoke(cli_app, ["inventory", "add", str(purls), "--org", "Agency X", "--exposed"])
    assert result.exit_code == 0, result.output
    assert "registered asset purls.txt" in result.output and "2 components (purl-list)" in result.output
    again = runner.invoke(cli_app, ["inventory", "add", str(purls), "--org", "Agency X", "--exposed"])
    assert "unchanged asset" in again.output
    bad = runner.invoke(
        cli_app, ["inventory", "add", str(purls), "--org", "Agency X", "--criticality", "huge"]
    )
    assert bad.exit_code == 2 and "huge" in bad.output
    missing = runner.invoke(cli_app, ["inventory", "add", str(tmp_path / "nope.json"), "--org", "Agency X"])
    assert missing.exit_code == 2
