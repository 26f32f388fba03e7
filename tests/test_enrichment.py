"""KEV and EPSS: the bundled snapshot, refreshing from files, and what cases show."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from clearinghouse.api.app import create_app
from clearinghouse.cli import app as cli_app
from clearinghouse.config import Settings
from clearinghouse.intake.advisories.models import KevEntry
from clearinghouse.priority.models import EpssScore
from clearinghouse.runtime import Runtime
from clearinghouse.storage import Actor
from tests.support.factories import make_org, make_token, make_user
from tests.test_intake import finding

runner = CliRunner()


def counts(runtime: Runtime) -> tuple[int, int]:
    with runtime.uow(Actor.system("test"), write=False) as uow:
        kev = uow.session.scalar(select(func.count()).select_from(KevEntry)) or 0
        epss = uow.session.scalar(select(func.count()).select_from(EpssScore)) or 0
    return kev, epss


@pytest.fixture
def cli_runtime(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Runtime:
    monkeypatch.setenv("CLEARINGHOUSE_HOME", str(settings.home))
    monkeypatch.setenv("CLEARINGHOUSE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("CLEARINGHOUSE_JOB_BACKEND", "inprocess")
    result = runner.invoke(cli_app, ["init"])
    assert result.exit_code == 0, result.output
    assert "loaded the bundled KEV (1404 entries) and EPSS (1556 scores)" in result.output
    return Runtime(settings)


def test_init_loads_the_bundled_snapshot_and_enrich_refreshes(cli_runtime: Runtime, tmp_path: Path) -> None:
    assert counts(cli_runtime) == (1404, 1556)
    daily = tmp_path / "epss_scores-2026-11-25.csv.gz"
    daily.write_bytes(
        gzip.compress(
            b"#model_version:v2025.03.14,score_date:2026-11-25T12:55:00Z\n"
            b"cve,epss,percentile\nCVE-2021-44228,0.94358,0.99957\nCVE-2099-0001,0.0004,0.1\n"
        )
    )
    result = runner.invoke(cli_app, ["enrich", "--epss", str(daily)])
    assert result.exit_code == 0, result.output
    assert "EPSS: 2 scores" in result.output
    with cli_runtime.uow(Actor.system("test"), write=False) as uow:
        log4shell = uow.session.get(EpssScore, "CVE-2021-44228")
        assert log4shell is not None and log4shell.score_date == "2026-11-25"
    kev = tmp_path / "kev.json"
    kev.write_text(
        json.dumps(
            {
                "title": "CISA Catalog of Known Exploited Vulnerabilities",
                "catalogVersion": "2026.11.25",
                "dateReleased": "2026-11-25T00:00:00.000Z",
                "count": 1,
                "vulnerabilities": [
                    {
                        "cveID": "CVE-2099-0001",
                        "vendorProject": "Example",
                        "product": "App",
                        "vulnerabilityName": "Example App Path Traversal",
                        "dateAdded": "2026-11-25",
                        "shortDescription": "A path traversal.",
                        "requiredAction": "Apply updates.",
                        "dueDate": "2026-12-16",
                        "knownRansomwareCampaignUse": "Unknown",
                        "notes": "",
                        "cwes": ["CWE-22"],
                    }
                ],
            }
        )
    )
    result = runner.invoke(cli_app, ["enrich", "--kev", str(kev)])
    assert result.exit_code == 0, result.output
    assert "KEV: 1 entries" in result.output
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    result = runner.invoke(cli_app, ["enrich", "--epss", str(bad)])
    assert result.exit_code == 2 and "not an EPSS file" in result.output
    assert runner.invoke(cli_app, ["enrich"]).exit_code == 2
    assert runner.invoke(cli_app, ["enrich", "--kev", str(tmp_path / "missing.json")]).exit_code == 2
    cli_runtime.close()


def test_cases_show_kev_and_epss(cli_runtime: Runtime) -> None:
    make_user(cli_runtime, "scanner", make_org(cli_runtime, "Lab A", "ai_developer"), ["partner"])
    make_user(cli_runtime, "ana", make_org(cli_runtime, "Analysts", "government_agency"), ["analyst"])
    scanner = {"Authorization": f"Bearer {make_token(cli_runtime, 'scanner')}"}
    ana = {"Authorization": f"Bearer {make_token(cli_runtime, 'ana')}"}
    with TestClient(create_app(cli_runtime)) as client:
        body = finding(package={"purl": "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"})
        body["aliases"] = ["CVE-2021-44228", "GHSA-jfh8-c2jp-5v3q"]
        made = client.post("/api/v1/findings", json=body, headers=scanner).json()
        while cli_runtime.jobs.run_pending():
            pass
        case = client.get(f"/api/v1/cases/{made['id']}", headers=ana).json()
    assert case["cves"] == ["CVE-2021-44228"]
    assert case["kev"][0]["cve_id"] == "CVE-2021-44228" and case["kev"][0]["ransomware_use"] == "Known"
    assert case["kev"][0]["due_date"] == "2021-12-24"
    assert 0.9 < case["epss"][0]["probability"] <= 1 and 0.99 < case["epss"][0]["percentile"] <= 1
    cli_runtime.close()
