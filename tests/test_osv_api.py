"""The OSV-compatible API: ``/v1/query``, ``/v1/querybatch`` and ``/v1/vulns/{id}``
answer as api.osv.dev does, from the imported advisories, through the policy."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from clearinghouse.api.app import create_app
from clearinghouse.intake.advisories import Advisory, AdvisoryAffected, advisories_affecting, import_paths
from clearinghouse.runtime import Runtime
from clearinghouse.sharing import _osv_api
from clearinghouse.storage import Actor
from tests.support.exports import osv_problems
from tests.support.factories import make_org, make_token, make_user

PYPA = ("django", "jinja2", "pillow", "requests", "urllib3")


@pytest.fixture
def osv(runtime: Runtime, corpus: Path) -> Iterator[dict[str, Any]]:
    vulns = corpus / "pypa-advisory-database" / "vulns"
    report = import_paths(runtime.uow, [*(vulns / p for p in PYPA), corpus / "ghsa-sample"])
    assert report.ok and report.inserted > 150
    org = make_org(runtime, "Grid Co", "critical_infrastructure_operator")
    make_user(runtime, "ops", org, ["partner"])
    make_user(runtime, "writer", org, ["partner"])
    with TestClient(create_app(runtime)) as client:
        yield {
            "client": client,
            "runtime": runtime,
            "token": {"Authorization": f"Bearer {make_token(runtime, 'ops', ['read'])}"},
            "no_read": {"Authorization": f"Bearer {make_token(runtime, 'writer', ['write'])}"},
        }


def _ids(body: dict[str, Any]) -> list[str]:
    return [v["id"] for v in body.get("vulns", [])]


def test_query_by_package_and_version_agrees_with_the_intake_lookup(osv: dict[str, Any]) -> None:
    client, runtime = osv["client"], osv["runtime"]
    with runtime.uow(Actor.system("test"), write=False) as uow:
        rows = uow.session.execute(
            select(AdvisoryAffected.ecosystem, AdvisoryAffected.name, AdvisoryAffected.versions).where(
                AdvisoryAffected.normalized_name.in_(PYPA)
            )
        ).all()
        probes = sorted({(r.ecosystem, r.name, v) for r in rows for v in r.versions[::7]})[:120]
        probes += [("PyPI", "Django", "1.2"), ("PyPI", "jinja2", "3.1.4"), ("PyPI", "requests", "99.0")]
        expected = {p: advisories_affecting(uow.session, *p) for p in probes}
    assert any(expected.values()) and not all(expected.values())
    for (ecosystem, name, version), ids in expected.items():
        r = client.post(
            "/v1/query", json={"package": {"ecosystem": ecosystem, "name": name}, "version": version}
        )
        assert r.status_code == 200, r.text
        assert _ids(r.json()) == ids, (name, version)
        if not ids:
            assert r.json() == {}  # OSV answers an empty object when nothing matches


def test_query_answers_full_valid_osv_records(osv: dict[str, Any]) -> None:
    client, runtime = osv["client"], osv["runtime"]
    r = client.post("/v1/query", json={"package": {"ecosystem": "PyPI", "name": "Jinja2"}, "version": "2.10"})
    body = r.json()
    assert r.status_code == 200 and body["vulns"]
    with runtime.uow(Actor.system("test"), write=False) as uow:
        for vuln in body["vulns"]:
            assert osv_problems(vuln) == []
            assert vuln == uow.session.get(Advisory, vuln["id"]).raw  # as stored, every field kept
    by_purl = client.post("/v1/query", json={"package": {"purl": "pkg:pypi/jinja2@2.10"}})
    assert _ids(by_purl.json()) == _ids(body)
    same = client.post("/v1/query", json={"package": {"purl": "pkg:pypi/jinja2"}, "version": "2.10"})
    assert _ids(same.json()) == _ids(body)
    every = client.post("/v1/query", json={"package": {"ecosystem": "PyPI", "name": "jinja2"}})
    assert set(_ids(body)) < set(_ids(every.json()))
    go = client.post(
        "/v1/query", json={"package": {"purl": "pkg:golang/github.com/gin-gonic/gin"}, "version": "1.9.0"}
    )
    assert go.status_code == 200


def test_querybatch_ids_modified_and_page_tokens(
    osv: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    client = osv["client"]
    queries: list[dict[str, Any]] = [
        {"package": {"ecosystem": "PyPI", "name": "django"}},
        {"package": {"ecosystem": "PyPI", "name": "django"}, "version": "3.2.1"},
        {"package": {"purl": "pkg:pypi/no-such-package@1.0"}},
    ]
    r = client.post("/v1/querybatch", json={"queries": queries})
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert len(results) == 3 and results[2] == {}
    for result in results[:2]:
        assert all(set(v) == {"id", "modified"} for v in result["vulns"])
    every = [v["id"] for v in results[0]["vulns"]]
    assert len(every) > 50 and "next_page_token" not in results[0]
    # Pages of 7: each id exactly once, in order, following next_page_token.
    monkeypatch.setattr(_osv_api, "PAGE_SIZE", 7)
    seen: list[str] = []
    query: dict[str, Any] = dict(queries[0])
    for _ in range(100):
        page = client.post("/v1/querybatch", json={"queries": [query]}).json()["results"][0]
        seen.extend(v["id"] for v in page["vulns"])
        if "next_page_token" not in page:
            break
        query = {**queries[0], "page_token": page["next_page_token"]}
    assert seen == every
    single: list[str] = []
    query = dict(queries[0])
    while True:
        page = client.post("/v1/query", json=query).json()
        single.extend(_ids(page))
        if "next_page_token" not in page:
            break
        query = {**queries[0], "page_token": page["next_page_token"]}
    assert single == every


def test_vulns_by_id(osv: dict[str, Any]) -> None:
    client, runtime = osv["client"], osv["runtime"]
    with runtime.uow(Actor.system("test"), write=False) as uow:
        advisory = uow.session.scalars(select(Advisory).where(Advisory.id.like("PYSEC-%"))).first()
        assert advisory is not None and advisory.aliases
        expected = advisory.raw
    r = client.get(f"/v1/vulns/{advisory.id}")
    assert r.status_code == 200 and r.json() == expected
    # OSV answers ids, not aliases; unknown ids are 404.
    assert client.get(f"/v1/vulns/{advisory.aliases[0]}").status_code == 404
    assert client.get("/v1/vulns/PYSEC-0000-0").status_code == 404


def test_bad_queries_name_the_field(osv: dict[str, Any]) -> None:
    client = osv["client"]

    def problem(path: str, body: Any) -> str:
        r = client.post(path, json=body)
        assert r.status_code == 400, r.text  # as api.osv.dev answers
        assert r.headers["content-type"].startswith("application/problem+json")
        return str(r.json()["errors"][0]["pointer"])

    assert problem("/v1/query", {"package": {"purl": "pkg:pypi/a@1"}, "version": "2"}) == "/version"
    assert problem("/v1/query", {"version": "1.0"}) == "/package"
    assert problem("/v1/query", {"package": {"purl": "not a purl"}}) == "/package/purl"
    assert problem("/v1/query", {"package": {"purl": "pkg:generic/a@1"}}) == "/package/purl"
    assert problem("/v1/query", {"package": {"purl": "pkg:pypi/a", "name": "a"}}) == "/package"
    token = {"package": {"ecosystem": "PyPI", "name": "django"}, "page_token": "bm9wZQ"}
    assert problem("/v1/query", token) == "/page_token"
    assert problem("/v1/query", {"commit": "a" * 40}).startswith("/commit")
    batch = {"queries": [{"package": {"ecosystem": "PyPI", "name": "x"}}, {"version": "1"}]}
    assert problem("/v1/querybatch", batch) == "/queries/1/package"
    assert problem("/v1/querybatch", {"queries": [{}] * 1001}).startswith("/queries")


def test_who_sees_what(osv: dict[str, Any]) -> None:
    client = osv["client"]
    query = {"package": {"ecosystem": "PyPI", "name": "django"}, "version": "3.2.1"}
    anonymous = client.post("/v1/query", json=query).json()
    signed_in = client.post("/v1/query", json=query, headers=osv["token"]).json()
    assert _ids(anonymous) and _ids(signed_in) == _ids(anonymous)
    # A token without the read scope reads nothing, not even public data.
    assert client.post("/v1/query", json=query, headers=osv["no_read"]).json() == {}
    some_id = _ids(anonymous)[0]
    assert client.get(f"/v1/vulns/{some_id}", headers=osv["no_read"]).status_code == 404
    assert client.get("/v1/vulns/x", headers={"Authorization": "Bearer nope"}).status_code == 401


class OsvClient:
    """A client written for the public OSV service (api.osv.dev): what osv-scanner does, a
    batch query for ids then each record by id. Only its base URL is ours."""

    def __init__(self, http: httpx.Client | TestClient, base_url: str = "https://api.osv.dev") -> None:
        self.http = http
        self.base_url = base_url

    def scan(self, packages: list[tuple[str, str, str]]) -> dict[tuple[str, str, str], list[dict[str, Any]]]:
        queries = [{"package": {"ecosystem": e, "name": n}, "version": v} for e, n, v in packages]
        found: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
        response = self.http.post(f"{self.base_url}/v1/querybatch", json={"queries": queries})
        response.raise_for_status()
        for package, result in zip(packages, response.json()["results"], strict=True):
            vulns = []
            for hit in result.get("vulns", []):
                vuln = self.http.get(f"{self.base_url}/v1/vulns/{hit['id']}")
                vuln.raise_for_status()
                vulns.append(vuln.json())
            found[package] = vulns
        return found


def test_a_client_of_the_public_osv_service_works_with_our_base_url(osv: dict[str, Any]) -> None:
    client = OsvClient(osv["client"], base_url="http://testserver")
    found = client.scan(
        [("PyPI", "urllib3", "1.26.4"), ("PyPI", "requests", "2.31.0"), ("npm", "left-pad", "1.0")]
    )
    assert found[("PyPI", "urllib3", "1.26.4")]
    assert all(v["modified"] and v["id"] for vs in found.values() for v in vs)
    assert found[("npm", "left-pad", "1.0")] == []


def test_the_index_follows_new_imports(osv: dict[str, Any], corpus: Path) -> None:
    client, runtime = osv["client"], osv["runtime"]
    query = {"package": {"ecosystem": "PyPI", "name": "lxml"}}
    assert client.post("/v1/query", json=query).json() == {}
    import_paths(runtime.uow, [corpus / "pypa-advisory-database" / "vulns" / "lxml"])
    assert _ids(client.post("/v1/query", json=query).json())


def test_bodies_are_json_whatever_the_content_type(osv: dict[str, Any]) -> None:
    """api.osv.dev's own examples post with ``curl -d``, which labels the body as a form."""
    body = json.dumps({"package": {"purl": "pkg:pypi/urllib3@1.26.4"}})
    for content_type in ("application/x-www-form-urlencoded", "text/plain", None):
        headers = {"Content-Type": content_type} if content_type else {}
        r = osv["client"].post("/v1/query", content=body, headers=headers)
        assert r.status_code == 200, (content_type, r.text)
        assert r.json()["vulns"]
    r = osv["client"].post(
        "/v1/querybatch",
        content=json.dumps({"queries": [{"package": {"purl": "pkg:pypi/urllib3@1.26.4"}}]}),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 200 and r.json()["results"][0]["vulns"]


def test_vulns_keep_every_stored_field(osv: dict[str, Any], corpus: Path, tmp_path: Path) -> None:
    client, runtime = osv["client"], osv["runtime"]
    testdata = corpus / "osv-schema/tools/osv-linter/testdata"
    import_paths(runtime.uow, [testdata / "GO-2020-0001.json", testdata / "GO-2024-2963.json"])
    for name in ("GO-2020-0001", "GO-2024-2963"):
        stored = json.loads((testdata / f"{name}.json").read_text())
        got = client.get(f"/v1/vulns/{name}").json()
        assert got["database_specific"] == stored["database_specific"]
        assert [a.get("ecosystem_specific") for a in got["affected"]] == [
            a.get("ecosystem_specific") for a in stored["affected"]
        ]
        assert got["affected"][0]["ecosystem_specific"]["imports"]  # govulncheck's symbols
        assert got == stored
    # RustSec's informational advisories are not vulnerabilities: stored and served, never matched.
    base = {
        "schema_version": "1.6.0",
        "modified": "2024-01-01T00:00:00Z",
        "published": "2024-01-01T00:00:00Z",
        "summary": "crate is unmaintained",
        "affected": [
            {
                "package": {"ecosystem": "crates.io", "name": "oldcrate"},
                "ranges": [{"type": "SEMVER", "events": [{"introduced": "0.0.0-0"}]}],
            }
        ],
    }
    records = [
        {**base, "id": "RUSTSEC-2024-0001", "database_specific": {"informational": "unmaintained"}},
        {**base, "id": "RUSTSEC-2024-0002", "summary": "memory corruption", "related": ["CVE-2024-1"]},
    ]
    for record in records:
        (tmp_path / f"{record['id']}.json").write_text(json.dumps(record))
    import_paths(runtime.uow, [tmp_path])
    hits = client.post("/v1/query", json={"package": {"ecosystem": "crates.io", "name": "oldcrate"}}).json()
    assert _ids(hits) == ["RUSTSEC-2024-0002"]
    assert hits["vulns"][0]["related"] == ["CVE-2024-1"]
    informational = client.get("/v1/vulns/RUSTSEC-2024-0001").json()
    assert informational["database_specific"] == {"informational": "unmaintained"}
    with runtime.uow(Actor.system("test"), write=False) as uow:
        assert advisories_affecting(uow.session, "crates.io", "oldcrate", "1.0.0") == ["RUSTSEC-2024-0002"]


def test_a_query_matching_thousands_pages(osv: dict[str, Any], tmp_path: Path) -> None:
    client, runtime = osv["client"], osv["runtime"]
    folder = tmp_path / "many"
    folder.mkdir()
    lines = []
    for i in range(2100):
        record = {
            "schema_version": "1.6.0",
            "id": f"TEST-2024-{i:05d}",
            "modified": "2024-01-01T00:00:00Z",
            "affected": [
                {
                    "package": {"ecosystem": "npm", "name": "popular"},
                    "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": f"9.{i}.0"}]}],
                }
            ],
        }
        lines.append(json.dumps(record))
    (folder / "many.jsonl").write_text("\n".join(lines) + "\n")
    report = import_paths(runtime.uow, [folder / "many.jsonl"])
    assert report.inserted == 2100
    query: dict[str, Any] = {"package": {"ecosystem": "npm", "name": "popular"}, "version": "1.0.0"}
    seen: list[str] = []
    pages = 0
    while True:
        page = client.post("/v1/query", json=query).json()
        pages += 1
        seen.extend(_ids(page))
        if "next_page_token" not in page:
            break
        query = {**query, "page_token": page["next_page_token"]}
    assert pages == 3 and len(seen) == len(set(seen)) == 2100
