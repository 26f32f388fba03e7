"""The console in a real browser: Debian's chromium, headless, driven by
Playwright against a server started here (uvicorn in a thread).

Screenshots of the main pages go to ``build/screenshots/`` for review. Without
chromium these tests skip, unless ``CLEARINGHOUSE_REQUIRE_BROWSER=1`` (set by
``scripts/test``), which turns a missing browser into a failure.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from clearinghouse.api.app import create_app
from clearinghouse.config import Settings
from clearinghouse.runtime import Runtime
from tests.support.factories import make_token
from tests.support.web import PASSWORD, finding_doc, overflow, seed_people, variant

SCREENSHOTS = Path(__file__).resolve().parents[1] / "build" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def _chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        if os.environ.get("CLEARINGHOUSE_REQUIRE_BROWSER") == "1":
            pytest.fail("CLEARINGHOUSE_REQUIRE_BROWSER=1 but no chromium on PATH (apt-get install chromium)")
        pytest.skip("browser tests need Debian's chromium on PATH (scripts/test installs it)")
    return path


class Server:
    def __init__(self, runtime: Runtime) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            create_app(runtime, run_jobs=True),
            host="127.0.0.1",
            port=self.port,
            log_config=None,
            lifespan="on",
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> Server:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline:  # pragma: no cover - a broken start
                raise RuntimeError("the test server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    executable = _chromium()
    from playwright.sync_api import sync_playwright

    home = tmp_path_factory.mktemp("console")
    runtime = Runtime(
        Settings.from_env({"CLEARINGHOUSE_HOME": str(home), "CLEARINGHOUSE_JOB_BACKEND": "inprocess"})
    )
    runtime.migrate()
    seed_people(runtime)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with Server(runtime) as server, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        try:
            yield {"runtime": runtime, "url": server.url, "browser": browser}
        finally:
            browser.close()
    runtime.close()


def api(site: dict[str, Any], username: str) -> httpx.Client:
    token = make_token(site["runtime"], username)
    return httpx.Client(base_url=site["url"], headers={"Authorization": f"Bearer {token}"}, timeout=30)


def open_page(site: dict[str, Any], username: str | None = None, *, javascript: bool = True) -> Any:
    context = site["browser"].new_context(
        base_url=site["url"], java_script_enabled=javascript, viewport={"width": 1280, "height": 900}
    )
    page = context.new_page()
    if username is not None:
        page.goto("/signin")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_label("Password").press("Enter")
        page.wait_for_url(f"{site['url']}/")
    return page


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def wait_for(predicate: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.2)


def test_sign_in_and_keyboard_navigation(site: dict[str, Any]) -> None:
    page = open_page(site)
    page.goto("/")
    assert page.url.endswith("/signin?next=%2F")
    shot(page, "signin")
    page.get_by_label("Username").fill("ana")
    page.get_by_label("Password").fill("wrong password here")
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("alert").inner_text() == "Wrong username or password."
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Password").press("Enter")
    page.wait_for_url(f"{site['url']}/")
    assert page.get_by_role("heading", level=1).inner_text() == "Welcome, ana"
    shot(page, "home")
    # The first Tab reaches the skip link; following it puts focus on the content.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{site['url']}/signin")
    page.context.close()


def test_submit_a_finding_and_decide_it(site: dict[str, Any]) -> None:
    page = open_page(site, "finder")
    page.get_by_role("link", name="Intake queue").click()
    page.get_by_role("link", name="Submit a finding").click()
    page.get_by_label("Title").fill("Command injection in backup scheduler")
    page.get_by_label("Description").fill("The cron expression reaches a shell unquoted.")
    page.get_by_label("CWE ids (comma-separated)").fill("CWE-78")
    page.get_by_label("Claimed impact").select_option("code_execution")
    page.get_by_label("CVSS vector (optional)").fill("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H")
    page.get_by_label("Package URL").fill("pkg:pypi/backup-sched@0.9.1")
    page.get_by_label("Steps to reproduce (one per line)").fill("schedule '* * * * *; id'\nwait a minute")
    page.get_by_label("Proof of concept file (at most 1 MiB; stored encrypted)").set_input_files(
        files=[{"name": "poc.txt", "mimeType": "text/plain", "buffer": b"; id > /tmp/pwned"}]
    )
    page.get_by_label("Tool", exact=True).fill("agent-audit")
    page.get_by_label("AI model (if one was used)").fill("frontier-x")
    shot(page, "finding-new")
    page.get_by_role("button", name="Submit finding").click()
    page.wait_for_url("**/findings/*")
    assert page.get_by_role("heading", level=1).inner_text() == "Command injection in backup scheduler"
    assert "8.8 (High)" in page.content() and "poc.txt" in page.content()
    finding_url = page.url
    page.context.close()

    analyst = open_page(site, "ana")
    analyst.goto(finding_url)
    shot(analyst, "finding")
    analyst.get_by_label("Validate").check()
    analyst.get_by_label("Note").fill("reproduced in a sandbox")
    analyst.get_by_role("button", name="Record decision").click()
    analyst.wait_for_url(finding_url)
    assert "validated" in analyst.locator("main").inner_text()
    analyst.goto("/findings?state=validated")
    assert analyst.get_by_role("link", name="Command injection in backup scheduler").is_visible()
    shot(analyst, "intake-queue")
    analyst.context.close()


def test_confirm_a_proposed_merge(site: dict[str, Any]) -> None:
    with api(site, "finder") as finder, api(site, "finder2") as finder2:
        first = finder.post("/api/v1/findings", json=overflow()).json()
        second = finder2.post("/api/v1/findings", json=variant()).json()
    page = open_page(site, "coord")

    def proposed() -> bool:
        page.goto(f"/cases/{first['id']}")
        return bool(page.get_by_role("button", name="Confirm merge").count() > 0)

    wait_for(proposed)  # the server's own worker deduplicates in the background
    shot(page, "case")
    page.get_by_role("button", name="Confirm merge").click()
    page.wait_for_url(f"**/cases/{first['id']}")
    members = page.locator("#sources + table").inner_text()
    assert "Out-of-bounds write in parse_header" in members and second["id"]
    assert page.get_by_role("button", name="Confirm merge").count() == 0
    page.context.close()


def test_upload_an_sbom(site: dict[str, Any]) -> None:
    page = open_page(site, "operator")
    page.get_by_role("link", name="Assets").click()
    page.get_by_label("Asset name").fill("substation-hmi")
    bom = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "version": 1,
        "components": [
            {"type": "library", "name": "fastparse", "version": "2.4.1", "purl": "pkg:pypi/fastparse@2.4.1"}
        ],
    }
    page.get_by_label("SBOM file").set_input_files(
        files=[{"name": "bom.json", "mimeType": "application/json", "buffer": json.dumps(bom).encode()}]
    )
    page.get_by_label("Criticality").select_option("critical")
    page.get_by_label("Exposed to the internet").check()
    page.get_by_role("button", name="Upload SBOM").click()
    page.wait_for_url("**/assets/*")
    assert page.get_by_role("heading", level=1).inner_text() == "substation-hmi"
    assert "pkg:pypi/fastparse@2.4.1" in page.content()
    shot(page, "asset")
    page.context.close()


def test_transparency_page_needs_no_sign_in(site: dict[str, Any]) -> None:
    page = open_page(site)
    page.goto("/transparency")
    assert page.get_by_role("heading", level=1).inner_text() == "Transparency report"
    assert page.get_by_role("img", name="From received to patched").is_visible()
    shot(page, "transparency")
    page.context.close()


def test_pages_read_without_javascript_and_show_local_time_with_it(site: dict[str, Any]) -> None:
    with api(site, "finder") as finder:
        made = finder.post(
            "/api/v1/findings", json=overflow(title="Use after free in the session cache")
        ).json()
    plain = open_page(site, javascript=False)
    plain.goto("/signin")
    plain.get_by_label("Username").fill("coord")
    plain.get_by_label("Password").fill(PASSWORD)
    plain.get_by_role("button", name="Sign in").click()
    plain.goto(f"/findings/{made['id']}")
    assert "Use after free in the session cache" in plain.locator("h1").inner_text()
    assert " UTC" in plain.locator("time.utc").first.inner_text()
    assert plain.locator(".local-time").count() == 0
    plain.context.close()
    scripted = open_page(site, "coord")
    scripted.goto(f"/findings/{made['id']}")
    scripted.locator(".local-time").first.wait_for()
    assert "your time" in scripted.locator(".local-time").first.inner_text()
    scripted.context.close()


def test_record_a_vendor_status(site: dict[str, Any]) -> None:
    runtime = site["runtime"]
    with api(site, "finder") as finder, api(site, "ana") as analyst:
        doc = finding_doc(
            77, title="Integer overflow in chunk parser", package={"purl": "pkg:cargo/chunky@0.3.1"}
        )
        made = finder.post("/api/v1/findings", json=doc).json()
        # The server's own worker places the finding in a case; then an analyst validates it.
        wait_for(lambda: analyst.get(f"/api/v1/findings/{made['id']}").json()["case_id"] is not None)
        case_id = analyst.get(f"/api/v1/findings/{made['id']}").json()["case_id"]
        assert analyst.post(f"/api/v1/findings/{made['id']}:validate", json={}).status_code == 200
    assert runtime is not None
    coord = open_page(site, "coord")
    coord.goto(f"/cases/{case_id}")
    coord.get_by_label("Vendor organization (name or id)").fill("Acme Software")
    coord.get_by_role("button", name="Notify vendor").click()
    coord.wait_for_url(f"**/cases/{case_id}#coordination")
    coord.get_by_label("Embargo ends (UTC)").fill("2031-01-02T03:04")
    coord.get_by_role("button", name="Save clock").click()
    coord.wait_for_url(f"**/cases/{case_id}#coordination")
    countdown = coord.locator("[data-countdown]")
    assert countdown.inner_text().startswith("ends in ")  # kept live by the page's script
    shot(coord, "case-coordination")

    vendor = open_page(site, "vendor")
    vendor.get_by_role("link", name="Vendor threads").click()
    vendor.get_by_role("link", name="Integer overflow in chunk parser").click()
    vendor.get_by_label("Status", exact=True).select_option("fixed")
    vendor.get_by_label("Fixed versions (comma-separated; only for fixed)").fill("2.4.2")
    vendor.get_by_role("button", name="Record status").click()
    vendor.wait_for_load_state()
    assert "2.4.2" in vendor.locator("#products + table").inner_text()
    shot(vendor, "vendor-thread")
    vendor.context.close()
    coord.reload()
    assert "fixed" in coord.locator("#coordination").locator("..").inner_text()
    coord.context.close()


def test_run_a_review_campaign_against_a_scripted_endpoint(site: dict[str, Any]) -> None:
    from tests.support.web import seed_review
    from tests.test_frontier_eval import ScriptedEndpoint, script

    with ScriptedEndpoint("sk-console-test", script) as endpoint:
        review = seed_review(site["runtime"], endpoint.base_url, "sk-console-test")
        evaluator = open_page(site, "evaluator")
        polls: list[str] = []
        evaluator.on("request", lambda r: polls.append(r.url) if r.url.endswith("/progress") else None)
        evaluator.get_by_role("link", name="Model review").click()
        evaluator.get_by_role("link", name="Start or list campaigns").click()
        evaluator.get_by_label("Name").fill("falcon-2 baseline")
        evaluator.get_by_role("checkbox").first.check()
        evaluator.get_by_role("button", name="Start campaign").click()
        evaluator.wait_for_url("**/review/campaigns/*")
        campaign_url = evaluator.url
        status = evaluator.locator("#campaign-status")
        first_seen = status.inner_text()
        assert first_seen in ("queued", "running", "succeeded")
        # No reload: htmx polls the progress block until the campaign is done.
        status.filter(has_text="succeeded").wait_for(timeout=240_000)
        assert evaluator.url == campaign_url
        if first_seen != "succeeded":
            assert polls, "the progress block was not refreshed in place"
        assert "ctf.tier2.pass_at_3" in evaluator.locator("#live").inner_text()
        shot(evaluator, "review-campaign")
        evaluator.context.close()

    authority = open_page(site, "authority")
    authority.goto(campaign_url)
    authority.get_by_role("button", name="Recommend").click()
    authority.wait_for_url("**#recommendations")
    authority.goto(f"/review/models/{review.model_id}")
    recommendation = authority.locator("#recommendations + article").inner_text()
    assert "vuln_id.f1 >= 0.8" in recommendation and "Covered" in recommendation
    authority.get_by_label("Outcome").select_option("covered")
    authority.get_by_label("Based on recommendation").select_option(index=1)
    authority.get_by_label("Rationale").fill("Vulnerability identification F1 above the threshold.")
    authority.get_by_role("button", name="Record determination").click()
    authority.wait_for_url("**#determinations")
    assert (
        "Vulnerability identification F1" in authority.locator("#determinations").locator("..").inner_text()
    )
    shot(authority, "review-model")
    authority.context.close()
