"""Whole documents through the API, and `clearinghouse submit` against a live server."""

from __future__ import annotations

import json
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from clearinghouse.api.app import create_app
from clearinghouse.cli import app as cli_app
from clearinghouse.runtime import Runtime
from tests.support.factories import make_org, make_token, make_user
from tests.test_intake import finding

SARIF = {
    "version": "2.1.0",
    "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
    "runs": [
        {
            "tool": {
                "driver": {
                    "name": "CodeQL",
                    "semanticVersion": "2.19.0",
                    "rules": [
                        {
                            "id": "py/sql-injection",
                            "properties": {"tags": ["security", "external/cwe/cwe-089"]},
                        }
                    ],
                }
            },
            "results": [
                {
                    "ruleId": "py/sql-injection",
                    "message": {"text": "This SQL query depends on a user-provided value."},
                    "locations": [
                        {
                            "physicalLocation": {
                                "artifactLocation": {"uri": "app/search.py"},
                                "region": {"startLine": 42},
                            }
                        }
                    ],
                    "partialFingerprints": {"primaryLocationLineHash": "abc123:1"},
                }
            ],
        }
    ],
}


@pytest.fixture
def scanner(runtime: Runtime) -> dict[str, str]:
    make_user(runtime, "scanner", make_org(runtime, "Lab A", "ai_developer"), ["partner"])
    return {"Authorization": f"Bearer {make_token(runtime, 'scanner')}"}


def test_import_a_sarif_document(runtime: Runtime, scanner: dict[str, str]) -> None:
    with TestClient(create_app(runtime)) as client:
        url = "/api/v1/findings:import?filename=codeql.sarif&package=pkg:pypi/example-app@1.0.0"
        r = client.post(url, content=json.dumps(SARIF), headers=scanner)
        assert r.status_code == 200, r.text
        assert r.json()["created"] == 1
        stored = client.get(f"/api/v1/findings/{r.json()['items'][0]['id']}", headers=scanner).json()
        assert stored["cwe"] == ["CWE-89"] and stored["source_format"] == "sarif"
        assert stored["document"]["origin"]["rule_id"] == "py/sql-injection"
        assert stored["document"]["generator"]["tool"] == "CodeQL"
        again = client.post(url, content=json.dumps(SARIF), headers=scanner).json()
        assert (again["created"], again["existing"]) == (0, 1)
        # Without a package nothing is importable: 422 with each reason by pointer; never a 500.
        r = client.post(
            "/api/v1/findings:import?filename=x.sarif", content=json.dumps(SARIF), headers=scanner
        )
        assert r.status_code == 422 and "yields no finding" in r.json()["detail"]
        assert r.json()["errors"][0]["pointer"].startswith("/runs/0/results/0")
        # A log whose results all pass says so, also as a 422.
        passing = json.loads(json.dumps(SARIF))
        passing["runs"][0]["results"][0]["kind"] = "pass"
        r = client.post(url, content=json.dumps(passing), headers=scanner)
        assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "/runs"
        old = {**SARIF, "version": "1.0.0"}
        r = client.post("/api/v1/findings:import", content=json.dumps(old), headers=scanner)
        assert r.status_code == 422 and "1.0.0" in r.json()["detail"]
        r = client.post("/api/v1/findings:import", content=b"\x00\x01garbage", headers=scanner)
        assert r.status_code == 422


def test_sarif_package_given_wins_over_the_repository(runtime: Runtime, scanner: dict[str, str]) -> None:
    log = json.loads(json.dumps(SARIF))
    log["runs"][0]["versionControlProvenance"] = [
        {"repositoryUri": "https://github.com/acme/example-app", "revisionId": "0123456789abcdef"}
    ]
    with TestClient(create_app(runtime)) as client:
        r = client.post("/api/v1/findings:import?filename=a.sarif", content=json.dumps(log), headers=scanner)
        assert r.status_code == 200, r.text
        guessed = client.get(f"/api/v1/findings/{r.json()['items'][0]['id']}", headers=scanner).json()
        assert guessed["purl"] == "pkg:generic/example-app@0123456789abcdef"
        url = "/api/v1/findings:import?filename=a.sarif&package=pkg:pypi/example-app@1.0.0"
        r = client.post(url, content=json.dumps(log), headers=scanner)
        assert r.status_code == 200, r.text
        given = client.get(f"/api/v1/findings/{r.json()['items'][0]['id']}", headers=scanner).json()
        assert given["purl"] == "pkg:pypi/example-app@1.0.0"
        # The repository still says where the code is.
        assert given["document"]["source"]["repo"] == "https://github.com/acme/example-app"


def test_import_real_osv_records(runtime: Runtime, scanner: dict[str, str], corpus: Path) -> None:
    files = sorted((corpus / "ghsa-sample").rglob("GHSA-*.json"))[:10]
    with TestClient(create_app(runtime)) as client:
        created = 0
        for path in files:
            r = client.post(
                f"/api/v1/findings:import?filename={path.name}", content=path.read_bytes(), headers=scanner
            )
            assert r.status_code == 200, (path, r.text)
            created += r.json()["created"]
        assert created >= len(files)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def live_server(runtime: Runtime) -> Iterator[str]:
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(runtime), host="127.0.0.1", port=port, log_config=None))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def test_cli_submit_resumes_and_never_duplicates(
    live_server: str, scanner: dict[str, str], tmp_path: Path, runtime: Runtime
) -> None:
    token = scanner["Authorization"].removeprefix("Bearer ")
    folder = tmp_path / "scan"
    folder.mkdir()
    (folder / "batch.ndjson").write_text("\n".join(json.dumps(finding(i)) for i in range(30)) + "\n")
    (folder / "codeql.sarif").write_text(json.dumps(SARIF))
    bad: dict[str, Any] = finding(99)
    bad["cwe"] = ["not-a-cwe"]
    (folder / "bad.ndjson").write_text(json.dumps(bad) + "\n")
    journal = tmp_path / "journal.json"
    args = [
        "submit", str(folder), "--url", live_server, "--token", token,
        "--package", "pkg:pypi/example-app@1.0.0", "--journal", str(journal),
    ]  # fmt: skip
    runner = CliRunner()
    first = runner.invoke(cli_app, args)
    assert first.exit_code == 1, first.output  # one item was refused
    assert "31 findings stored" in first.output and "1 refused" in first.output
    assert "/cwe/0" in first.output
    second = runner.invoke(cli_app, args)
    assert "3 files done before" in second.output
    journal.unlink()
    third = runner.invoke(cli_app, args)
    assert "0 findings stored, 31 already there" in third.output
    with TestClient(create_app(runtime)) as client:
        listed = client.get("/api/v1/findings?limit=500", headers=scanner).json()
    assert len(listed) == 31
    # The server being unreachable is a clear error, and a rerun resumes.
    shutil.rmtree(folder)
    folder.mkdir()
    (folder / "late.ndjson").write_text(json.dumps(finding(200)) + "\n")
    down = runner.invoke(cli_app, [*args[:3], "http://127.0.0.1:9", *args[4:]])
    assert down.exit_code == 1 and "cannot reach" in down.output
    assert "Is the server running?" in down.output and "Traceback" not in down.output
    wrong = runner.invoke(cli_app, [*args[:5], "not-a-token", *args[6:]])
    assert wrong.exit_code == 1 and "refused the token (401" in wrong.output
    assert "clearinghouse token create" in wrong.output and "Traceback" not in wrong.output
