"""The operator's and vendor's day in a real browser (Debian's chromium, headless): the
operator's home page shows the due item and the new match; the vendor's shows the waiting
thread. Screenshots go to ``build/screenshots/`` for review."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from clearinghouse.intake.advisories import import_paths
from tests.support.web import finding_doc
from tests.test_matches import cyclonedx
from tests.test_web_browser import api, open_page, shot, site, wait_for
from tests.test_web_operator import advisory_extract

__all__ = ["site"]  # the module's browser and server


def test_the_operators_home_page_shows_the_due_item_and_the_new_match(
    site: dict[str, Any], corpus: Path, tmp_path: Path
) -> None:
    import_paths(site["runtime"].uow, advisory_extract(corpus, tmp_path))
    with api(site, "operator") as operator:
        made = operator.post(
            "/api/v1/inventories?name=substation-scada&internet_exposed=true&criticality=critical",
            content=cyclonedx("pkg:pypi/pillow@10.0.0", "pkg:pypi/jinja2@2.10", "pkg:pypi/requests@2.31.0"),
        )
        assert made.status_code == 201, made.text
        asset = made.json()["id"]
        # The server's own worker matches the new SBOM against every imported advisory.
        wait_for(lambda: len(operator.get(f"/api/v1/inventories/{asset}/matches").json()) >= 3)
    page = open_page(site, "operator")
    main = page.locator("main")
    assert page.get_by_role("heading", name="What to do next on your assets").is_visible()
    urgent = page.locator("table", has=page.locator("caption", has_text="Overdue and due soon"))
    assert "CVE-2023-4863" in urgent.inner_text() and "substation-scada" in urgent.inner_text()
    new = page.locator("table", has=page.locator("caption", has_text="New matches since your last visit"))
    assert "CVE-2019-10906" in new.inner_text()
    assert page.get_by_role("img", name="Open items by due date").is_visible()
    assert "overdue" in main.inner_text()
    shot(page, "home-operator")

    page.get_by_role("link", name="CVE-2023-4863").first.click()
    page.wait_for_url("**/matches/*")
    assert "pillow 10.0.0 on asset 'substation-scada' is affected by CVE-2023-4863" in main.inner_text()
    page.get_by_label("Status").select_option("mitigated")
    page.get_by_label("Reason (needed to accept a risk)").fill("WebP decoding disabled at the proxy")
    page.get_by_role("button", name="Save").click()
    page.wait_for_load_state()
    assert "mitigated — WebP decoding disabled at the proxy" in main.inner_text()
    shot(page, "match")
    page.goto(f"/assets/{asset}")
    assert "Fixed in" in main.inner_text() and "10.0.1" in main.inner_text()
    shot(page, "asset-matches")
    page.goto("/matches?status=all&sort=severity")
    shot(page, "matches")
    # Two a page: the next page keeps the filters and the sort, and leads back.
    page.goto("/matches?status=all&sort=severity&size=2")
    page.get_by_role("link", name="Next →").click()
    page.wait_for_load_state()
    assert "page=2" in page.url and "sort=severity" in page.url and "status=all" in page.url
    assert "page 2 of" in main.inner_text()
    shot(page, "matches-page-2")
    page.get_by_role("link", name="← Previous").click()
    page.wait_for_load_state()
    assert "page=1" in page.url and "sort=severity" in page.url
    page.goto("/no-such-page")
    assert page.get_by_role("navigation", name="Sections").is_visible()
    shot(page, "not-found")
    page.context.close()


def test_the_vendors_home_page_shows_the_waiting_thread(site: dict[str, Any]) -> None:
    with api(site, "finder") as finder, api(site, "ana") as analyst, api(site, "coord") as coord:
        doc = finding_doc(
            88, title="Heap overflow in tile decoder", package={"purl": "pkg:cargo/tiles@1.2.0"}
        )
        made = finder.post("/api/v1/findings", json=doc).json()
        wait_for(lambda: analyst.get(f"/api/v1/findings/{made['id']}").json()["case_id"] is not None)
        case_id = analyst.get(f"/api/v1/findings/{made['id']}").json()["case_id"]
        assert analyst.post(f"/api/v1/findings/{made['id']}:validate", json={}).status_code == 200
        notified = coord.post(
            f"/api/v1/cases/{case_id}/coordination/vendors",
            json={"vendor": "Acme Software", "products": [{"purl": "pkg:cargo/tiles@1.2.0"}]},
        )
        assert notified.status_code == 200, notified.text
    page = open_page(site, "vendor")
    waiting = page.locator("table", has=page.locator("caption", has_text="Threads awaiting your reply"))
    assert "Heap overflow in tile decoder" in waiting.inner_text()
    shot(page, "home-vendor")
    page.get_by_role("link", name="Heap overflow in tile decoder").first.click()
    page.wait_for_url("**/threads/*")
    page.context.close()
    analyst_page = open_page(site, "ana")
    assert analyst_page.get_by_role("heading", name="Intake, queue and deadlines").is_visible()
    shot(analyst_page, "home-analyst")
    analyst_page.goto("/cases?sort=severity")
    shot(analyst_page, "cases")
    analyst_page.goto(f"/cases/{case_id}")
    assert analyst_page.get_by_role("region", name="Summary").is_visible()
    shot(analyst_page, "case-summary")
    analyst_page.context.close()
