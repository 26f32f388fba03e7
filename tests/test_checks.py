"""Intake checks against loaded advisory data (an OSV record written here)."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient

from clearinghouse.api.app import create_app
from clearinghouse.intake.advisories import import_paths
from clearinghouse.runtime import Runtime
from tests.support.factories import make_org, make_token, make_user
from tests.test_intake import finding

OSV = {
    "schema_version": "1.6.0",
    "id": "PYSEC-2099-1",
    "modified": "2099-01-02T00:00:00Z",
    "published": "2099-01-01T00:00:00Z",
    "aliases": ["CVE-2099-0001"],
    "summary": "Path traversal in example-app",
    "affected": [
        {
            "package": {"ecosystem": "PyPI", "name": "Example_App"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "1.0.0"}, {"fixed": "1.5.0"}]}],
            "versions": ["1.0.0", "1.1.0", "1.4.0"],
        }
    ],
}


def test_checks_use_the_loaded_advisories(runtime: Runtime, tmp_path: Path) -> None:
    (tmp_path / "PYSEC-2099-1.json").write_text(json.dumps(OSV))
    report = import_paths(runtime.uow, [tmp_path])
    assert report.ok and report.inserted == 1
    make_user(runtime, "scanner", make_org(runtime, "Lab A", "ai_developer"), ["partner"])
    headers = {"Authorization": f"Bearer {make_token(runtime, 'scanner')}"}

    def checks(purl: str, **package: str) -> dict[str, tuple[str, str]]:
        body = finding(package={"purl": purl, **package})
        made = client.post("/api/v1/findings", json=body, headers=headers).json()
        return {c["name"]: (c["result"], c["reason"]) for c in made["checks"]}

    with TestClient(create_app(runtime)) as client:
        affected = checks("pkg:pypi/example-app@1.1.0")
        assert affected["package_known"][0] == "pass"
        assert affected["version_known"][0] == "pass"
        assert affected["not_already_public"] == (
            "fail",
            "version 1.1.0 is already affected by public advisories: PYSEC-2099-1",
        )
        newer = checks("pkg:pypi/example-app@2.0.0")
        assert newer["version_known"][0] == "unknown" and newer["not_already_public"][0] == "pass"
        ranged = checks("pkg:pypi/example-app", vers="vers:pypi/>=2.0")
        assert ranged["version_known"][0] == "unknown"
        unknown = checks("pkg:pypi/never-heard-of-it@1.0")
        assert unknown["package_known"][0] == "unknown"  # no advisory yet: cannot know, not a fail
        assert "cannot tell" in unknown["package_known"][1]
        generic = checks("pkg:generic/openssl@3.0.0")
        assert generic["package_known"][0] == "unknown"
        maven = checks("pkg:maven/org.example/lib@1.0")
        assert maven["package_known"][0] == "unknown" and "org.example:lib" in maven["package_known"][1]
