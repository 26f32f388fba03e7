"""The operator's and vendor's day in the console (no browser): home pages by role, the match
list and page with its remediation form, the asset page and its downloads, the case list's
columns and filters, the 404 page's chrome."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from clearinghouse.api.app import create_app
from clearinghouse.intake.advisories import import_paths
from clearinghouse.runtime import Runtime
from tests.support.web import csrf_of, finding_doc, run_jobs, seed_people
from tests.test_matches import cyclonedx
from tests.test_web import bearer, client_for


def advisory_extract(corpus: Path, into: Path) -> list[Path]:
    """Pillow's and jinja2's PyPA advisories and the KEV catalog: a KEV-listed match and fixes."""
    for package in ("pillow", "jinja2"):
        shutil.copytree(corpus / "pypa-advisory-database" / "vulns" / package, into / "vulns" / package)
    (into / "kev").mkdir()
    shutil.copy(corpus / "cisa-kev" / "known_exploited_vulnerabilities.json", into / "kev")
    return [into / "vulns", into / "kev"]


@pytest.fixture
def env(runtime: Runtime, corpus: Path, tmp_path: Path) -> Iterator[dict[str, Any]]:
    ids = seed_people(runtime)
    import_paths(runtime.uow, advisory_extract(corpus, tmp_path))
    with TestClient(create_app(runtime), raise_server_exceptions=False) as client:
        asset = client.post(
            "/api/v1/inventories?name=scada-hmi&internet_exposed=true",
            content=cyclonedx("pkg:pypi/pillow@10.0.0", "pkg:pypi/jinja2@2.10"),
            headers=bearer(runtime, "operator"),
        ).json()
        run_jobs(runtime)
        yield {"runtime": runtime, "client": client, "ids": ids, "asset": asset["id"]}


def test_the_operators_home_page_says_what_to_do_next(env: dict[str, Any]) -> None:
    page = client_for(env["runtime"], "operator").get("/")
    assert page.status_code == 200
    html = page.text
    assert "What to do next on your assets" in html
    assert "Overdue and due soon, by BOD 26-04 and the KEV catalog" in html
    assert "CVE-2023-4863" in html and 'class="kev"' in html
    assert "New matches since your last visit" in html and "CVE-2019-10906" in html
    assert "Fixes available" in html and "2.11.3" in html and "10.0.1" in html
    for title in ("Matches by severity over time", "Time to remediate", "Open items by due date"):
        assert f">{title}</title>" in html
    assert '<script src="http' not in html  # no CDN


def test_match_list_filters_sorts_and_the_match_page_records_a_decision(env: dict[str, Any]) -> None:
    client = client_for(env["runtime"], "operator")
    listed = client.get("/matches?kev=yes")
    assert (
        listed.status_code == 200 and "CVE-2023-4863" in listed.text and "CVE-2019-10906" not in listed.text
    )
    by_severity = client.get("/matches?sort=severity&status=all")
    assert (
        by_severity.status_code == 200 and 'class="sorted" aria-current="true">Severity' in by_severity.text
    )
    assert client.get("/matches?sort=nonsense").status_code in (400, 422)
    items = client.get(
        f"/api/v1/inventories/{env['asset']}/matches", headers=bearer(env["runtime"], "operator")
    )
    match = next(m for m in items.json() if m["kev"])
    page = client.get(f"/matches/{match['id']}")
    assert page.status_code == 200 and "Record what you did" in page.text and "KEV" in page.text
    form = {"csrf": csrf_of(page.text), "status": "accepted_risk", "reason": ""}
    refused = client.post(f"/matches/{match['id']}/status", data=form)
    assert refused.status_code == 200 and "/reason: accepting a risk needs a reason" in refused.text
    bad_date = client.post(f"/matches/{match['id']}/status", data={**form, "expires_on": "soon"})
    assert "/expires_at: not a date" in bad_date.text
    form.update(reason="air-gapped", expires_on="2099-01-31")
    saved = client.post(f"/matches/{match['id']}/status", data=form, follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"] == f"/matches/{match['id']}"
    assert "accepted_risk — air-gapped" in client.get(f"/matches/{match['id']}").text
    # Someone else's match is the same 404 as a missing one.
    rival = client_for(env["runtime"], "vendor")
    assert rival.get(f"/matches/{match['id']}").status_code == 404
    assert rival.post(f"/matches/{match['id']}/status", data={**form, "csrf": "x"}).status_code in (403, 404)


def test_the_match_list_pages_keep_filters_and_sort(env: dict[str, Any]) -> None:
    import html as html_lib
    import re

    client = client_for(env["runtime"], "operator")
    api = bearer(env["runtime"], "operator")
    everything = client.get("/api/v1/matches?sort=severity", headers=api).json()
    assert len(everything) >= 3
    seen: list[str] = []
    url: str | None = "/matches?status=all&sort=severity&size=2"
    while url is not None:
        page = client.get(url)
        assert page.status_code == 200
        rows = re.findall(r"<tr>\s*<td>.*?</tr>", page.text, flags=re.S)
        assert 1 <= len(rows) <= 2
        seen.extend(
            re.findall(
                r'href="/assets/[^"]+">[^<]+</a></td>\s*<td><code class="pkg">([^<]+)</code>', page.text
            )
        )
        found = re.search(r'<a href="([^"]+)" rel="next">', page.text)
        url = html_lib.unescape(found.group(1)) if found else None
        if url is not None:
            assert "sort=severity" in url and "status=all" in url and "size=2" in url
    assert len(seen) == len(everything)
    assert 'rel="prev"' in page.text and f"of {len(everything)} matching" in page.text
    # The API pages the same list: offset and limit, the total and the next page's link.
    first = client.get("/api/v1/matches?sort=severity&limit=2", headers=api)
    assert first.headers["X-Total-Count"] == str(len(everything))
    assert 'rel="next"' in first.headers["Link"] and "offset=2" in first.headers["Link"]
    pages, link = [first.json()], first.headers.get("Link")
    while link:
        nxt = client.get(link.split(">")[0].lstrip("<"), headers=api)
        pages.append(nxt.json())
        link = nxt.headers.get("Link")
    assert [m["id"] for chunk in pages for m in chunk] == [m["id"] for m in everything]


def test_asset_page_and_its_downloads(env: dict[str, Any]) -> None:
    client = client_for(env["runtime"], "operator")
    page = client.get(f"/assets/{env['asset']}")
    assert page.status_code == 200
    assert (
        "CVE-2023-4863" in page.text
        and "jinja2 2.10 on asset &#39;scada-hmi&#39; is affected by" in page.text
    )
    assert (
        "<td>10.0.1</td>" in page.text and "the advisory names 2.10 among its affected versions" in page.text
    )
    vex = client.get(f"/assets/{env['asset']}/vex.cdx.json")
    assert vex.status_code == 200 and json.loads(vex.text)["bomFormat"] == "CycloneDX"
    assert f'href="/assets/{env["asset"]}/vex.csaf.json"' in page.text
    csaf = client.get(f"/assets/{env['asset']}/vex.csaf.json")
    assert csaf.status_code == 200 and json.loads(csaf.text)["document"]["category"] == "csaf_vex"
    assert (
        client_for(env["runtime"], "vendor").get(f"/assets/{env['asset']}/vex.csaf.json").status_code == 404
    )
    sheet = client.get(f"/assets/{env['asset']}/matches.csv?all=true")
    assert sheet.status_code == 200 and sheet.text.startswith("match_id,asset,component")
    assert client_for(env["runtime"], "vendor").get(f"/assets/{env['asset']}/matches.csv").status_code == 404


def test_vendor_and_analyst_homes_and_the_case_list(env: dict[str, Any]) -> None:
    runtime = env["runtime"]
    finder, ana, coord = (bearer(runtime, u) for u in ("finder", "ana", "coord"))
    client = env["client"]
    doc = finding_doc(41, title="Stack overflow in chunk parser", package={"purl": "pkg:cargo/chunky@0.3.1"})
    made = client.post("/api/v1/findings", json=doc, headers=finder).json()
    run_jobs(runtime)
    assert client.post(f"/api/v1/findings/{made['id']}:validate", json={}, headers=ana).status_code == 200
    run_jobs(runtime)
    case_id = client.get(f"/api/v1/findings/{made['id']}", headers=ana).json()["case_id"]
    notified = client.post(
        f"/api/v1/cases/{case_id}/coordination/vendors",
        json={"vendor": "Acme Software", "products": [{"purl": "pkg:cargo/chunky@0.3.1"}]},
        headers=coord,
    )
    assert notified.status_code == 200, notified.text
    vendor = client_for(runtime, "vendor").get("/").text
    assert "Threads awaiting your reply" in vendor and "Stack overflow in chunk parser" in vendor
    assert "Products with open cases" in vendor and "pkg:cargo/chunky" in vendor
    analyst = client_for(runtime, "ana")
    home = analyst.get("/").text
    assert "Intake, queue and deadlines" in home and "cases in the priority queue" in home
    cases = analyst.get("/cases?state=coordinating&sort=due")
    assert cases.status_code == 200 and "Stack overflow in chunk parser" in cases.text
    assert analyst.get("/cases?state=published").text.count("Stack overflow in chunk parser") == 0
    case = analyst.get(f"/cases/{case_id}").text
    assert 'aria-label="Summary"' in case and "coordinating" in case and "disclosure" in case
    reviewer = client_for(runtime, "evaluator").get("/").text
    assert "Model review: grants, campaigns and clocks" in reviewer


def test_not_found_has_the_consoles_chrome_and_a_way_back(env: dict[str, Any]) -> None:
    page = client_for(env["runtime"], "operator").get("/matches/no-such-match")
    assert page.status_code == 404
    assert '<nav aria-label="Sections">' in page.text and "data-back" in page.text
    assert 'href="/">Go to your home page' in page.text
