"""The CSAF trusted provider, and the published cases through every distribution
channel: a TLP:AMBER advisory shared with one sharing group never reaches a partner
outside it (OSV API, CSAF directory, exports), a TLP:CLEAR one reaches everyone."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pgpy  # type: ignore[import-untyped]
import pytest
from fastapi.testclient import TestClient
from jsonschema import Draft202012Validator, FormatChecker  # type: ignore[import-untyped]
from referencing import Registry, Resource
from typer.testing import CliRunner

from clearinghouse.access import services as access
from clearinghouse.api.app import create_app
from clearinghouse.cli import app as cli_app
from clearinghouse.runtime import Runtime
from clearinghouse.sharing import _provider
from clearinghouse.storage import Actor
from clearinghouse.triage._cases import forget_index
from tests.support.exports import (
    csaf_problems,
    cve5_problems,
    openvex_problems,
    osv_problems,
    stix_problems,
)
from tests.support.factories import make_org, make_token, make_user
from tests.test_intake import finding

VECTOR = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"


def run_jobs(runtime: Runtime) -> None:
    while runtime.jobs.run_pending():
        pass


@pytest.fixture
def env(runtime: Runtime) -> Iterator[dict[str, Any]]:
    forget_index()
    lab = make_org(runtime, "Lab A", "ai_developer")
    house = make_org(runtime, "Clearinghouse", "government_agency")
    vendor = make_org(runtime, "Gridctl Inc", "software_vendor")
    inside = make_org(runtime, "Grid Co", "critical_infrastructure_operator")
    outside = make_org(runtime, "Water Co", "critical_infrastructure_operator")
    users = {
        "scanner": make_user(runtime, "scanner", lab, ["partner"]),
        "coord": make_user(runtime, "coord", house, ["coordinator", "analyst"]),
        "vee": make_user(runtime, "vee", vendor, ["vendor_contact"]),
        "inside": make_user(runtime, "inside", inside, ["partner"]),
        "outside": make_user(runtime, "outside", outside, ["partner"]),
    }
    with runtime.uow(Actor.system("test")) as uow:
        group, _ = access.create_sharing_group(uow, access.OPERATOR, "grid-isac", "Grid ISAC", [inside])
        uow.commit()
    # https: the provider's URLs must be (CSAF 2.0 7.1.1), and the metadata schema says so.
    with TestClient(
        create_app(runtime), base_url="https://testserver", raise_server_exceptions=False
    ) as client:
        yield {
            "client": client,
            "runtime": runtime,
            "group": group.id,
            **{u: {"Authorization": f"Bearer {make_token(runtime, u)}"} for u in users},
        }
    forget_index()


def published_case(env: dict[str, Any], package: str, tlp: str, groups: list[str] | None = None) -> str:
    """A finding in ``package`` validated, sent to its vendor, answered "fixed in 2.3.1" by
    OpenVEX, and published at ``tlp``; returns the case id."""
    client, runtime = env["client"], env["runtime"]
    body = finding(
        title=f"Heap overflow in {package} parse_header",
        description=f"{package} copies the Cookie header into a fixed buffer.",
        package={"purl": f"pkg:pypi/{package}@2.3.0"},
        cwe=["CWE-122"],
        impact={"claimed": "denial_of_service", "cvss_vector": VECTOR},
        references=[f"https://example.com/report/{package}"],
    )
    created = client.post("/api/v1/findings", json=body, headers=env["scanner"])
    assert created.status_code in (200, 201), created.text
    fid = created.json()["id"]
    run_jobs(runtime)
    assert (
        client.post(f"/api/v1/findings/{fid}:validate", json={"note": "ok"}, headers=env["coord"]).status_code
        == 200
    )
    run_jobs(runtime)
    case_id = str(client.get(f"/api/v1/findings/{fid}", headers=env["coord"]).json()["case_id"])
    thread = client.post(
        f"/api/v1/cases/{case_id}/coordination/vendors",
        json={"vendor": "Gridctl Inc", "products": [{"purl": f"pkg:pypi/{package}@2.3.0"}]},
        headers=env["coord"],
    )
    assert thread.status_code == 200, thread.text
    vex = {
        "@context": "https://openvex.dev/ns/v0.2.0",
        "@id": f"https://gridctl.example/vex/{package}",
        "author": "Gridctl Inc",
        "timestamp": "2026-03-01T00:00:00Z",
        "version": 1,
        "statements": [
            {
                "vulnerability": {"name": case_id},
                "products": [{"@id": f"pkg:pypi/{package}@2.3.1"}],
                "status": "fixed",
            }
        ],
    }
    answered = client.post(
        f"/api/v1/coordination/threads/{thread.json()['id']}/vex", json=vex, headers=env["vee"]
    )
    assert answered.status_code == 200, answered.text
    assert answered.json()["products"][0]["fixed_versions"] == ["2.3.1"]
    published = client.post(
        f"/api/v1/cases/{case_id}/coordination/publish",
        json={"summary": "Initial release", "tlp": tlp, "sharing_group_ids": groups or []},
        headers=env["coord"],
    )
    assert published.status_code == 201, published.text
    return case_id


def _schema_validator(corpus: Path) -> Draft202012Validator:
    base = corpus / "csaf" / "csaf_2.0" / "json_schema"
    csaf = json.loads((base / "csaf_json_schema.json").read_text())
    provider = json.loads((base / "provider_json_schema.json").read_text())
    registry: Registry[Any] = Registry().with_resource(csaf["$id"], Resource.from_contents(csaf))
    return Draft202012Validator(provider, registry=registry, format_checker=FormatChecker())


def test_provider_metadata_directories_hashes_and_signatures(
    env: dict[str, Any], corpus: Path, tmp_path: Path
) -> None:
    client, runtime = env["client"], env["runtime"]
    case_id = published_case(env, "gridctl", "CLEAR")
    meta = client.get("/.well-known/csaf/provider-metadata.json")
    assert meta.status_code == 200
    metadata = meta.json()
    assert list(_schema_validator(corpus).iter_errors(metadata)) == []
    assert metadata["role"] == "csaf_trusted_provider"
    assert [d["directory_url"] for d in metadata["distributions"]] == [
        f"https://testserver/.well-known/csaf/{f}/" for f in ("white", "green", "amber", "red")
    ]
    key_path = runtime.settings.keys_dir / _provider.KEY_FILE
    assert stat.S_IMODE(os.stat(key_path).st_mode) == 0o600
    [key_ref] = metadata["public_openpgp_keys"]
    public = client.get(key_ref["url"].removeprefix("https://testserver"))
    assert public.status_code == 200 and public.headers["content-type"] == "application/pgp-keys"
    pubkey, _ = pgpy.PGPKey.from_blob(public.text)
    assert pubkey.fingerprint.replace(" ", "") == key_ref["fingerprint"] and pubkey.is_public
    assert client.get("/.well-known/csaf/openpgp/0000.asc").status_code == 404

    index = client.get("/.well-known/csaf/white/index.txt")
    assert index.status_code == 200 and index.headers["content-type"].startswith("text/plain")
    [path] = index.text.split()
    year, name = path.split("/")
    assert len(year) == 4 and name.endswith(".json")
    changes = client.get("/.well-known/csaf/white/changes.csv")
    assert changes.text.startswith(f'"{path}","') and changes.headers["content-type"].startswith("text/csv")
    doc = client.get(f"/.well-known/csaf/white/{path}")
    assert doc.status_code == 200
    document = doc.json()
    assert document["document"]["distribution"]["tlp"]["label"] == "WHITE"
    assert document["document"]["references"][0]["url"] == f"https://testserver/.well-known/csaf/white/{path}"
    assert document["vulnerabilities"][0]["product_status"]["fixed"]
    sha256 = client.get(f"/.well-known/csaf/white/{path}.sha256").text
    sha512 = client.get(f"/.well-known/csaf/white/{path}.sha512").text
    assert sha256 == f"{hashlib.sha256(doc.content).hexdigest()}  {name}\n"
    assert sha512 == f"{hashlib.sha512(doc.content).hexdigest()}  {name}\n"
    signature = client.get(f"/.well-known/csaf/white/{path}.asc")
    assert signature.headers["content-type"] == "application/pgp-signature"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert pubkey.verify(doc.content, pgpy.PGPSignature.from_blob(signature.text))
        assert not pubkey.verify(doc.content + b" ", pgpy.PGPSignature.from_blob(signature.text))
    assert client.get(f"/.well-known/csaf/white/{path}.asc").text == signature.text  # stable
    assert csaf_problems([document], tmp_path) == []
    # Directory listings (7.1.14) name the same files.
    top = client.get("/.well-known/csaf/white/")
    assert top.status_code == 200 and f'href="{year}/"' in top.text and 'href="index.txt"' in top.text
    listing = client.get(f"/.well-known/csaf/white/{year}/").text
    for suffix in ("", ".asc", ".sha256", ".sha512"):
        assert f'href="{name}{suffix}"' in listing
    assert client.get("/.well-known/csaf/white/1999/").status_code == 404
    assert client.get("/.well-known/csaf/amber/").status_code == 401
    # Nothing else is served there.
    for missing in (
        f"/.well-known/csaf/white/{year}/other.json",
        f"/.well-known/csaf/white/{path}.md5",
        "/.well-known/csaf/purple/index.txt",
    ):
        assert client.get(missing).status_code == 404
    # The case id, its advisory id and its aliases all export it.
    for fmt in ("csaf", "osv", "cve5", "stix", "openvex"):
        r = client.get(f"/api/v1/advisories/{case_id}/export?format={fmt}")
        assert r.status_code == 200, r.text
    assert client.get(f"/api/v1/advisories/{case_id}/export?format=pdf").status_code == 422


def test_amber_never_reaches_a_partner_outside_its_group(env: dict[str, Any], tmp_path: Path) -> None:
    client = env["client"]
    public_case = published_case(env, "gridctl", "CLEAR")
    amber_case = published_case(env, "scadalib", "AMBER", [env["group"]])
    inside, outside, coord = env["inside"], env["outside"], env["coord"]

    # CSAF directory: AMBER needs a token, and then shows only what the policy lets through.
    assert client.get("/.well-known/csaf/amber/index.txt").status_code == 401
    assert client.get("/.well-known/csaf/green/changes.csv").status_code == 401
    listed = client.get("/.well-known/csaf/amber/index.txt", headers=inside).text.split()
    assert len(listed) == 1
    assert client.get("/.well-known/csaf/amber/index.txt", headers=outside).text == ""
    assert client.get("/.well-known/csaf/amber/changes.csv", headers=outside).text == ""
    for suffix in ("", ".sha256", ".sha512", ".asc"):
        url = f"/.well-known/csaf/amber/{listed[0]}{suffix}"
        assert client.get(url, headers=inside).status_code == 200
        assert client.get(url, headers=outside).status_code == 404
        assert client.get(url).status_code == 401
    amber_doc = client.get(f"/.well-known/csaf/amber/{listed[0]}", headers=inside).json()
    assert amber_doc["document"]["distribution"]["tlp"]["label"] == "AMBER"
    assert csaf_problems([amber_doc], tmp_path) == []
    # The public directory has the CLEAR case only, for everyone.
    assert len(client.get("/.well-known/csaf/white/index.txt").text.split()) == 1
    assert (
        client.get("/.well-known/csaf/white/index.txt", headers=outside).text
        == client.get("/.well-known/csaf/white/index.txt").text
    )

    # Exports: the same 404 as for a missing advisory.
    for fmt in ("csaf", "osv", "cve5", "stix", "openvex"):
        url = f"/api/v1/advisories/{amber_case}/export?format={fmt}"
        ok = client.get(url, headers=inside)
        assert ok.status_code == 200, ok.text
        denied, missing = (
            client.get(url, headers=outside),
            client.get(url.replace(amber_case, "no-such-case")),
        )
        assert denied.status_code == missing.status_code == 404
        assert denied.json()["detail"] == missing.json()["detail"]
        assert client.get(url).status_code == 404
    documents = {
        fmt: client.get(f"/api/v1/advisories/{amber_case}/export?format={fmt}", headers=coord).json()
        for fmt in ("csaf", "osv", "cve5", "stix", "openvex")
    }
    assert osv_problems(documents["osv"]) == [] and cve5_problems(documents["cve5"]) == []
    assert stix_problems(documents["stix"]) == [] and openvex_problems(documents["openvex"]) == []
    assert csaf_problems([documents["csaf"]], tmp_path / "coord") == []
    amber_id = documents["osv"]["id"]

    # OSV API.
    query = {"package": {"ecosystem": "PyPI", "name": "scadalib"}, "version": "2.3.0"}
    seen = client.post("/v1/query", json=query, headers=inside).json()
    assert [v["id"] for v in seen["vulns"]] == [amber_id]
    assert seen["vulns"][0]["database_specific"]["clearinghouse"]["tlp"] == "AMBER"
    assert client.post("/v1/query", json=query, headers=outside).json() == {}
    assert client.post("/v1/query", json=query).json() == {}
    batch = {"queries": [query, {"package": {"purl": "pkg:pypi/gridctl@2.3.0"}}]}
    assert client.post("/v1/querybatch", json=batch, headers=outside).json()["results"][0] == {}
    assert (
        client.post("/v1/querybatch", json=batch, headers=inside).json()["results"][0]["vulns"][0]["id"]
        == amber_id
    )
    assert client.get(f"/v1/vulns/{amber_id}", headers=inside).status_code == 200
    assert client.get(f"/v1/vulns/{amber_id}", headers=outside).status_code == 404
    assert client.get(f"/v1/vulns/{amber_id}").status_code == 404
    # Fixed in 2.3.1: that version is no longer affected.
    fixed = client.post("/v1/query", json={**query, "version": "2.3.1"}, headers=inside).json()
    assert fixed == {}
    # The CLEAR case reaches everyone, anonymous included.
    public = client.post("/v1/query", json={"package": {"purl": "pkg:pypi/gridctl@2.3.0"}}).json()
    assert len(public["vulns"]) == 1
    assert client.get(f"/api/v1/advisories/{public_case}/export?format=osv").status_code == 200


def test_export_from_the_command_line(env: dict[str, Any], tmp_path: Path) -> None:
    runtime = env["runtime"]
    case_id = published_case(env, "gridctl", "CLEAR")
    cli_env = {
        "CLEARINGHOUSE_HOME": str(runtime.settings.home),
        "CLEARINGHOUSE_DATABASE_URL": runtime.settings.database_url,
        "CLEARINGHOUSE_JOB_BACKEND": "inprocess",
    }
    out = tmp_path / "case.csaf.json"
    runner = CliRunner()
    result = runner.invoke(
        cli_app, ["export", "--format", "csaf", case_id, "--output", str(out)], env=cli_env
    )
    assert result.exit_code == 0, result.output
    assert csaf_problems([json.loads(out.read_text())], tmp_path / "v") == []
    result = runner.invoke(cli_app, ["export", "--format", "osv", case_id], env=cli_env)
    assert result.exit_code == 0 and osv_problems(json.loads(result.stdout)) == []
    result = runner.invoke(cli_app, ["export", "--format", "osv", "CVE-1999-0001"], env=cli_env)
    assert result.exit_code == 2 and "no advisory" in result.output
    result = runner.invoke(cli_app, ["export", "--format", "pdf", case_id], env=cli_env)
    assert result.exit_code == 2
