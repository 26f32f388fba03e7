"""The web console over HTTP: sign-in, sessions, CSRF, the sign-in rate limit,
pages per role (a hidden page is the same 404 as a missing one), and the forms."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from typer.testing import CliRunner

from clearinghouse.api.app import create_app
from clearinghouse.cli import app as cli_app
from clearinghouse.config import Settings
from clearinghouse.ledger.models import AuditEvent
from clearinghouse.runtime import Runtime
from clearinghouse.storage import Actor, utcnow
from clearinghouse.web._charts import bar_chart
from clearinghouse.web._sessions import RateLimiter, secret_digest
from clearinghouse.web.models import WebSession
from tests.support.factories import make_token
from tests.support.web import (
    PASSWORD,
    csrf_of,
    finding_doc,
    overflow,
    run_jobs,
    seed_people,
    seed_review,
    sign_in,
    variant,
)


@pytest.fixture
def env(runtime: Runtime) -> Iterator[dict[str, Any]]:
    ids = seed_people(runtime)
    with TestClient(create_app(runtime), raise_server_exceptions=False) as client:
        yield {"runtime": runtime, "client": client, "ids": ids}


def client_for(
    runtime: Runtime, username: str | None = None, base_url: str = "http://testserver"
) -> TestClient:
    client = TestClient(create_app(runtime), raise_server_exceptions=False, base_url=base_url)
    if username is not None:
        response = sign_in(client, username)
        assert response.status_code == 303, response.text
    return client


def bearer(runtime: Runtime, username: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token(runtime, username)}"}


# -- sign-in and sessions ------------------------------------------------------------


def test_sign_in_sets_a_safe_session_and_sign_out_ends_it(env: dict[str, Any]) -> None:
    runtime, client = env["runtime"], env["client"]
    assert client.get("/", follow_redirects=False).headers["location"] == "/signin?next=%2F"
    form = client.get("/signin")
    assert form.status_code == 200 and 'for="username"' in form.text and 'for="password"' in form.text
    signin_cookie = form.headers["set-cookie"]
    assert "HttpOnly" in signin_cookie and "samesite=lax" in signin_cookie.lower()

    wrong = sign_in(client, "ana", "not the password at all")
    unknown = sign_in(client, "nobody-here", "not the password at all")
    assert wrong.status_code == unknown.status_code == 401
    assert "Wrong username or password." in wrong.text and "Wrong username or password." in unknown.text

    ok = sign_in(client, "ana", next_url="/cases")
    assert ok.status_code == 303 and ok.headers["location"] == "/cases"
    cookie = ok.headers["set-cookie"]
    assert cookie.startswith("ch_session=") and "HttpOnly" in cookie and "samesite=lax" in cookie.lower()
    assert "Secure" not in cookie  # plain HTTP here
    secret = client.cookies["ch_session"]
    with runtime.uow(Actor.system("test"), write=False) as uow:
        rows = list(uow.session.scalars(select(WebSession)))
        # Only the digest of the secret is stored.
        assert [r.id for r in rows] == [secret_digest(secret)] and secret not in {r.csrf_token for r in rows}
    home = client.get("/")
    assert home.status_code == 200 and "ana" in home.text and "Sign out" in home.text
    # An open redirect is refused: after sign-in the user lands on this site.
    other = client_for(runtime)
    assert sign_in(other, "ana", next_url="//evil.example/x").headers["location"] == "/"

    assert client.post("/signout", data={"csrf": "forged"}).status_code == 403
    out = client.post("/signout", data={"csrf": csrf_of(home.text)}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/signin"
    client.cookies.set("ch_session", secret)  # the old cookie no longer works
    assert client.get("/", follow_redirects=False).status_code == 303
    with runtime.uow(Actor.system("test"), write=False) as uow:
        actions = list(
            uow.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("session.%")))
        )
    assert actions.count("session.signed_in") == 2 and "session.signed_out" in actions
    assert actions.count("session.sign_in_failed") == 2


def test_secure_cookie_over_tls(runtime: Runtime) -> None:
    seed_people(runtime)
    client = client_for(runtime, base_url="https://testserver")
    form = client.get("/signin")
    assert "Secure" in form.headers["set-cookie"]
    ok = client.post(
        "/signin",
        data={"username": "ana", "password": PASSWORD, "csrf": csrf_of(form.text)},
        follow_redirects=False,
    )
    assert ok.status_code == 303 and "Secure" in ok.headers["set-cookie"]


def test_sign_in_needs_its_csrf_cookie(env: dict[str, Any]) -> None:
    client = env["client"]
    client.get("/signin")
    forged = client.post("/signin", data={"username": "ana", "password": PASSWORD, "csrf": "x" * 43})
    assert forged.status_code == 403 and "expired" in forged.text
    assert "ch_session" not in client.cookies


def test_expired_and_idle_sessions_end(env: dict[str, Any]) -> None:
    runtime = env["runtime"]
    client = client_for(runtime, "ana")
    assert client.get("/").status_code == 200
    digest = secret_digest(client.cookies["ch_session"])
    with runtime.uow(Actor.system("test")) as uow:
        uow.session.execute(
            update(WebSession)
            .where(WebSession.id == digest)
            .values(last_seen_at=utcnow() - dt.timedelta(hours=2))
        )
        uow.commit()
    assert client.get("/", follow_redirects=False).status_code == 303
    client = client_for(runtime, "ana")
    digest = secret_digest(client.cookies["ch_session"])
    with runtime.uow(Actor.system("test")) as uow:
        uow.session.execute(
            update(WebSession)
            .where(WebSession.id == digest)
            .values(expires_at=utcnow() - dt.timedelta(seconds=1))
        )
        uow.commit()
    assert client.get("/", follow_redirects=False).status_code == 303
    # A quiet session is touched (last seen) at most once a minute.
    client = client_for(runtime, "ana")
    digest = secret_digest(client.cookies["ch_session"])
    before = utcnow() - dt.timedelta(minutes=5)
    with runtime.uow(Actor.system("test")) as uow:
        uow.session.execute(update(WebSession).where(WebSession.id == digest).values(last_seen_at=before))
        uow.commit()
    assert client.get("/").status_code == 200
    with runtime.uow(Actor.system("test"), write=False) as uow:
        row = uow.session.get(WebSession, digest)
        assert row is not None and row.last_seen_at > before


def test_sign_in_is_rate_limited_per_user_and_per_address(env: dict[str, Any]) -> None:
    client = env["client"]
    for _ in range(5):
        assert sign_in(client, "coord", "wrong password!").status_code == 401
    # Now even the right password waits: the limit does not reveal which one was right.
    blocked = sign_in(client, "coord")
    assert blocked.status_code == 429 and "Too many failed sign-ins" in blocked.text
    # Other users from this address still may, until the address's own limit.
    assert sign_in(TestClient(client.app), "ana").status_code == 303
    for i in range(15):
        sign_in(client, f"spray{i}", "wrong password!")
    assert sign_in(client, "auditor").status_code == 429
    metrics = client.get("/metrics").text
    assert 'clearinghouse_web_signins_total{outcome="rate_limited"}' in metrics
    assert 'clearinghouse_web_signins_total{outcome="bad_credentials"}' in metrics


def test_rate_limiter_window_slides(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [1000.0]
    monkeypatch.setattr("clearinghouse.web._sessions.time.monotonic", lambda: clock[0])
    limiter = RateLimiter(2, 60.0)
    limiter.fail("k")
    limiter.fail("k")
    assert limiter.blocked_for("k") == pytest.approx(60.0)
    clock[0] += 61
    assert limiter.blocked_for("k") == 0.0
    limiter.fail("k")
    limiter.clear("k")
    assert limiter.blocked_for("k") == 0.0


# -- the same policy as the API ---------------------------------------------------------


def _seed_findings(env: dict[str, Any]) -> dict[str, str]:
    runtime, client = env["runtime"], env["client"]
    finder = bearer(runtime, "finder")
    first = client.post("/api/v1/findings", json=overflow(), headers=finder).json()
    second = client.post("/api/v1/findings", json=variant(), headers=bearer(runtime, "finder2")).json()
    plain = client.post("/api/v1/findings", json=finding_doc(3), headers=finder).json()
    run_jobs(runtime)
    return {"first": first["id"], "second": second["id"], "plain": plain["id"]}


NOT_FOUND_PROBES = ("/review/no-such-page", "/cases/" + str(uuid.uuid4()), "/findings/" + str(uuid.uuid4()))
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def test_hidden_pages_are_the_same_404_as_missing_ones(env: dict[str, Any]) -> None:
    runtime = env["runtime"]
    made = _seed_findings(env)
    hidden_by_role = {
        # A finder sees its own findings, not another organization's, nor staff pages.
        "finder": [f"/findings/{made['second']}", f"/cases/{made['second']}", "/pipelines"],
        "finder2": [f"/findings/{made['first']}", f"/findings/{made['plain']}", "/pipelines"],
        "vendor": [f"/findings/{made['first']}", f"/cases/{made['first']}", "/pipelines"],
        "operator": [f"/cases/{made['first']}", "/pipelines", f"/findings/{made['plain']}"],
        # An auditor reads reputations but never submits: the submission form is hidden.
        "auditor": ["/findings/new", f"/findings/{made['first']}"],
    }
    assert "Submit a finding" not in client_for(runtime, "auditor").get("/findings").text
    reference: bytes | None = None
    for username, hidden in hidden_by_role.items():
        client = client_for(runtime, username)
        missing = [client.get(path) for path in NOT_FOUND_PROBES]
        missing.append(client.get("/no-such-page", headers=BROWSER))  # any path, asked for by a browser
        assert {r.status_code for r in missing} == {404}
        body = missing[0].content
        assert all(r.content == body for r in missing)
        reference = reference or body
        assert body == reference  # the same page whoever asks
        for path in hidden:
            response = client.get(path)
            assert response.status_code == 404, (username, path)
            assert response.content == body, (username, path)
    # The same objects are visible to those entitled to them.
    coord = client_for(runtime, "coord")
    for path in (f"/findings/{made['first']}", f"/cases/{made['first']}", "/pipelines"):
        assert coord.get(path).status_code == 200, path
    finder = client_for(runtime, "finder")
    assert finder.get(f"/findings/{made['first']}").status_code == 200


def test_pages_list_what_the_api_lists(env: dict[str, Any]) -> None:
    runtime, api = env["runtime"], env["client"]
    made = _seed_findings(env)
    for username in ("finder", "finder2", "coord", "vendor"):
        listed = api.get("/api/v1/findings", headers=bearer(runtime, username)).json()
        page = client_for(runtime, username).get("/findings").text
        for finding_id in made.values():
            shown = f'href="/findings/{finding_id}"' in page
            assert shown == (finding_id in {f["id"] for f in listed}), (username, finding_id)


def test_api_and_metrics_are_unaffected(env: dict[str, Any]) -> None:
    client = env["client"]
    missing = client.get("/api/v1/no-such-thing")
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"
    # Outside the console's sections, only a browser gets the page; API clients keep their problems.
    assert client.get("/v1/no-such-thing").headers["content-type"] == "application/problem+json"
    assert client.get("/v1/no-such-thing", headers=BROWSER).headers["content-type"].startswith("text/html")
    wrong = client.delete("/api/v1/findings")
    assert wrong.status_code == 405 and wrong.headers["content-type"] == "application/problem+json"
    hidden = client.get(f"/api/v1/findings/{uuid.uuid4()}")
    assert hidden.status_code == 404 and hidden.json()["title"] == "Not found"
    bad = client.post("/api/v1/findings", json={}, headers=bearer(env["runtime"], "finder"))
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"
    assert client.get("/metrics").status_code == 200
    assert client.get("/api/v1/health").json()["status"] == "ok"
    page = client.get("/signin")
    assert "default-src 'self'" in page.headers["content-security-policy"]


# -- forms ---------------------------------------------------------------------------------


def test_submit_a_finding_through_the_form(env: dict[str, Any]) -> None:
    runtime = env["runtime"]
    client = client_for(runtime, "finder")
    form = client.get("/findings/new")
    assert form.status_code == 200
    for field in ("title", "purl", "tool", "cwe", "steps", "poc"):
        assert f'for="{field}"' in form.text and f'id="{field}"' in form.text
    fields = {
        "csrf": csrf_of(form.text),
        "title": "Path traversal in static file handler",
        "description": "../ sequences escape the web root.",
        "purl": "pkg:npm/static-serve@1.2.3",
        "cwe": "CWE-22",
        "impact": "information_disclosure",
        "cvss_vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N",
        "steps": "GET /static/..%2f..%2fetc/passwd\nobserve the file",
        "oracle_kind": "http_exchange",
        "oracle": "HTTP/1.1 200 OK\nroot:x:0:0",
        "tool": "webscan",
        "model": "frontier-x",
        "organization": "Lab A",
        "aliases": "",
        "references": "https://example.com/report",
    }
    poc = {"poc": ("poc.sh", b"curl http://target/static/..%2f..%2fetc/passwd\n", "text/x-shellscript")}
    made = client.post("/findings/new", data=fields, files=poc, follow_redirects=False)
    assert made.status_code == 303, made.text
    page = client.get(made.headers["location"])
    assert page.status_code == 200 and "Path traversal in static file handler" in page.text
    assert "poc.sh" in page.text and "7.5" in page.text and "root:x:0:0" in page.text
    link = page.text.split('href="/findings/')[-1].split('"')[0]
    download = client.get(f"/findings/{link}")
    assert download.content.startswith(b"curl ") and "attachment" in download.headers["content-disposition"]
    # The same form again stores nothing new: the same finding comes back.
    again = client.post("/findings/new", data=fields, files=poc, follow_redirects=False)
    assert again.headers["location"] == made.headers["location"]
    # Bad input comes back on the form, naming the field, keeping what was typed.
    bad = client.post("/findings/new", data={**fields, "purl": "not a purl", "title": "Kept title"})
    assert bad.status_code == 422 and "/package/purl" in bad.text and "Kept title" in bad.text
    bad = client.post("/findings/new", data={**fields, "campaign": str(uuid.uuid4())})
    assert bad.status_code == 422 and "/campaign_id" in bad.text
    assert client.post("/findings/new", data={**fields, "csrf": "nope"}).status_code == 403


def test_validate_and_reject_through_the_form(env: dict[str, Any]) -> None:
    runtime = env["runtime"]
    made = _seed_findings(env)
    finder = client_for(runtime, "finder")
    own = finder.get(f"/findings/{made['plain']}").text
    assert "Record decision" not in own  # a submitter never decides on its own finding
    ana = client_for(runtime, "ana")
    page = ana.get(f"/findings/{made['plain']}")
    assert "Record decision" in page.text and 'for="reason"' in page.text
    token = csrf_of(page.text)
    no_reason = ana.post(f"/findings/{made['plain']}/decision", data={"csrf": token, "decision": "reject"})
    assert no_reason.status_code == 422 and "/reason" in no_reason.text
    done = ana.post(
        f"/findings/{made['plain']}/decision",
        data={"csrf": token, "decision": "validate", "note": "reproduced"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    after = ana.get(f"/findings/{made['plain']}").text
    assert "validated" in after and "reproduced" in after and "Record decision" not in after
    refused = ana.post(
        f"/findings/{made['plain']}/decision", data={"csrf": token, "decision": "reject", "reason": "spam"}
    )
    assert refused.status_code == 409
    # Forging a decision as the finder is refused by the policy.
    forged = finder.post(
        f"/findings/{made['plain']}/decision", data={"csrf": csrf_of(own), "decision": "validate"}
    )
    assert forged.status_code == 403


def test_confirm_and_split_through_the_case_page(env: dict[str, Any]) -> None:
    runtime = env["runtime"]
    made = _seed_findings(env)
    coord = client_for(runtime, "coord")
    pages = [coord.get(f"/cases/{made['first']}").text, coord.get(f"/cases/{made['second']}").text]
    page = next(p for p in pages if "Confirm merge" in p)
    assert "KEV" in page and "Timeline (from the audit ledger)" in page and "finding.created" in page
    confirmed = coord.post(
        f"/findings/{made['second']}/relation",
        data={"csrf": csrf_of(page), "action": "confirm"},
        follow_redirects=False,
    )
    assert confirmed.status_code == 303 and confirmed.headers["location"] == f"/cases/{made['first']}"
    merged = coord.get(f"/cases/{made['first']}").text
    assert "Out-of-bounds write in parse_header" in merged and "Confirm merge" not in merged
    split = coord.post(
        f"/findings/{made['second']}/relation",
        data={"csrf": csrf_of(merged), "action": "split"},
        follow_redirects=False,
    )
    assert split.headers["location"] == f"/cases/{made['second']}"
    assert coord.get(f"/cases/{made['second']}").status_code == 200
    # Partners see no timeline even of cases they may read.
    finder = client_for(runtime, "finder")
    own_case = finder.get(f"/cases/{made['first']}")
    assert own_case.status_code == 200 and "Timeline" not in own_case.text


def test_intake_queue_filters_and_pages(env: dict[str, Any]) -> None:
    runtime, api = env["runtime"], env["client"]
    finder = bearer(runtime, "finder")
    for i in range(55):
        api.post("/api/v1/findings", json=finding_doc(i + 10), headers=finder)
    api.post(
        "/api/v1/findings",
        json=finding_doc(99, package={"purl": "pkg:npm/left-pad@1.0.0"}, cwe=["CWE-79"]),
        headers=finder,
    )
    coord = client_for(runtime, "coord")
    first = coord.get("/findings")
    assert first.text.count('<tr>\n      <td><a href="/findings/') == 50 and "Next page" in first.text
    next_url = first.text.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
    second = coord.get(next_url)
    assert second.text.count('<td><a href="/findings/') == 6 and "First page" in second.text
    npm = coord.get("/findings?ecosystem=npm").text
    assert "left-pad" in npm and "example-app" not in npm
    assert "left-pad" in coord.get("/findings?cwe=CWE-79").text
    assert "left-pad" not in coord.get("/findings?cwe=CWE-89&state=checked").text
    bad = coord.get("/findings?cwe=79")
    assert bad.status_code == 200 and "A CWE looks like CWE-79." in bad.text
    assert coord.get("/findings?pipeline=nobody%7C%7C").text.count('<td><a href="/findings/') == 0
    assert coord.get("/findings?state=bogus").status_code == 422


def test_upload_an_sbom_through_the_form(env: dict[str, Any]) -> None:
    runtime = env["runtime"]
    operator = client_for(runtime, "operator")
    page = operator.get("/assets")
    assert 'for="sbom"' in page.text and 'for="name"' in page.text
    sbom = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "version": 1,
        "components": [
            {"type": "library", "name": "requests", "version": "2.31.0", "purl": "pkg:pypi/requests@2.31.0"}
        ],
    }
    made = operator.post(
        "/assets",
        data={
            "csrf": csrf_of(page.text),
            "name": "scada-hmi",
            "criticality": "critical",
            "internet_exposed": "true",
        },
        files={"sbom": ("bom.json", json.dumps(sbom).encode(), "application/json")},
        follow_redirects=False,
    )
    assert made.status_code == 303, made.text
    asset = operator.get(made.headers["location"]).text
    assert "scada-hmi" in asset and "pkg:pypi/requests@2.31.0" in asset and "internet-exposed" in asset
    bad = operator.post(
        "/assets",
        data={"csrf": csrf_of(page.text), "name": "broken"},
        files={"sbom": ("bom.json", b'{"bomFormat": "CycloneDX", "specVersion": "1.2"}', "application/json")},
    )
    assert bad.status_code == 422 and "1.2" in bad.text
    # Another operator sees neither the asset nor its page.
    other = client_for(runtime, "finder")
    assert "scada-hmi" not in other.get("/assets").text
    assert other.get(made.headers["location"]).status_code == 404


def test_campaigns_page_shows_both_sides_of_a_conflict(env: dict[str, Any]) -> None:
    runtime, api = env["runtime"], env["client"]
    now = utcnow()
    window = {"starts_at": now.isoformat(), "ends_at": (now + dt.timedelta(days=3)).isoformat()}
    for user, name in (("finder", "Lab A sweep"), ("finder2", "Lab B sweep")):
        body = {"name": name, "targets": ["pkg:pypi/fastparse"], "tool": "deepscan", **window}
        assert api.post("/api/v1/campaigns", json=body, headers=bearer(runtime, user)).status_code == 201
    page = client_for(runtime, "finder2").get("/campaigns").text
    assert "Lab B sweep" in page and "pkg:pypi/fastparse" in page
    assert "Lab A sweep" not in page and "another participant" in page


# -- transparency, charts, command line ---------------------------------------------------


def test_transparency_is_public_and_aggregate(env: dict[str, Any]) -> None:
    runtime, api = env["runtime"], env["client"]
    made = _seed_findings(env)
    ana = bearer(runtime, "ana")
    for i in range(6):
        created = api.post(
            "/api/v1/findings", json=finding_doc(40 + i), headers=bearer(runtime, "finder")
        ).json()
        verdict = "validate" if i < 4 else "reject"
        body = {} if verdict == "validate" else {"reason": "not_a_vulnerability"}
        assert (
            api.post(f"/api/v1/findings/{created['id']}:{verdict}", json=body, headers=ana).status_code == 200
        )
    api.post(f"/api/v1/findings/{made['second']}:validate", json={}, headers=ana)
    page = TestClient(create_app(runtime)).get("/transparency")
    assert page.status_code == 200 and "<svg" in page.text and 'role="img"' in page.text
    assert "Findings received" in page.text and "Findings validated" in page.text
    assert "deepscan · frontier-x · lab a" in page.text and "66.7%" in page.text  # 4 of 6
    assert "fuzzer" not in page.text  # one decision only: below the threshold
    for confidential in ("Heap buffer overflow", "SQL injection", "fastparse", made["first"]):
        assert confidential not in page.text


def test_bar_chart_escapes_and_scales() -> None:
    svg = str(bar_chart([("<b>", 5.0), ("x" * 50, 10.0)], title="T & t", description="d"))
    assert "&lt;b&gt;" in svg and "T &amp; t" in svg and 'width="360.0"' in svg and 'width="180.0"' in svg
    assert 'width="0.0"' in str(bar_chart([("none", 0.0)], title="z", description="z"))


def test_init_prints_a_console_password_that_signs_in(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLEARINGHOUSE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("CLEARINGHOUSE_DATABASE_URL", raising=False)
    runner = CliRunner()
    first = runner.invoke(cli_app, ["init"])
    assert first.exit_code == 0, first.output
    line = next(x for x in first.output.splitlines() if "Web console sign-in" in x)
    password = line.rsplit("password ", 1)[1].strip()
    again = runner.invoke(cli_app, ["init"])
    assert "Web console sign-in" not in again.output  # shown once
    runtime = Runtime(Settings.from_env())
    try:
        client = client_for(runtime)
        assert sign_in(client, "admin", password).status_code == 303
        assert "admin" in client.get("/").text
        reset = runner.invoke(cli_app, ["console", "password", "admin", "--password", "a new long password"])
        assert reset.exit_code == 0, reset.output
        assert client.get("/", follow_redirects=False).status_code == 303  # sessions ended
        assert sign_in(client, "admin", "a new long password").status_code == 303
        short = runner.invoke(cli_app, ["console", "password", "admin", "--password", "short"])
        assert short.exit_code == 2 and "12 characters" in short.output
    finally:
        runtime.close()


# -- priority, matching, coordination, notifications, model review ---------------------------


def _validated_case_with_match(env: dict[str, Any]) -> str:
    runtime, api = env["runtime"], env["client"]
    made = api.post(
        "/api/v1/findings", json=overflow(aliases=["CVE-2021-44228"]), headers=bearer(runtime, "finder")
    )
    case_id = made.json()["id"]
    run_jobs(runtime)
    assert (
        api.post(f"/api/v1/findings/{case_id}:validate", json={}, headers=bearer(runtime, "ana")).status_code
        == 200
    )
    sbom = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "version": 1,
        "components": [
            {"type": "library", "name": "fastparse", "version": "2.4.1", "purl": "pkg:pypi/fastparse@2.4.1"}
        ],
    }
    for user, name in (("vendor", "fastparse-suite"), ("operator", "substation-hmi")):
        registered = api.post(
            f"/api/v1/inventories?name={name}", content=json.dumps(sbom), headers=bearer(runtime, user)
        )
        assert registered.status_code == 201, registered.text
    run_jobs(runtime)
    return str(case_id)


def test_queue_case_facts_matches_and_coordination(env: dict[str, Any]) -> None:
    runtime = env["runtime"]
    case_id = _validated_case_with_match(env)
    coord = client_for(runtime, "coord")
    queue = coord.get("/queue").text
    assert f'href="/cases/{case_id}"' in queue and "SSVC CISA coordinator decision" in queue
    page = coord.get(f"/cases/{case_id}").text
    assert "cisa coordinator" in page and "supplier patch priority" in page and "CVSS" in page
    assert "substation-hmi" in page and "Grid Co" in page  # affected participants, with why
    assert "No vendor notified yet." in page
    notified = coord.post(
        f"/cases/{case_id}/notify",
        data={"csrf": csrf_of(page), "vendor": "Acme Software", "products": "pkg:pypi/fastparse"},
        follow_redirects=False,
    )
    assert notified.status_code == 303
    embargo = coord.post(
        f"/cases/{case_id}/disclosure",
        data={"csrf": csrf_of(page), "embargo_end": "2031-01-02T03:04", "disclosure_days": "45"},
        follow_redirects=False,
    )
    assert embargo.status_code == 303
    page = coord.get(f"/cases/{case_id}").text
    assert 'data-countdown="2031-01-02T03:04:00Z"' in page and "2031-01-02 03:04 UTC" in page
    assert "unknown" in page  # the vendor has not answered: never shown as not affected
    bad = coord.post(f"/cases/{case_id}/disclosure", data={"csrf": csrf_of(page), "embargo_end": "soon"})
    assert bad.status_code == 422 and "/embargo_end" in bad.text
    bad = coord.post(f"/cases/{case_id}/disclosure", data={"csrf": csrf_of(page), "disclosure_days": "ten"})
    assert bad.status_code == 422 and "/disclosure_days" in bad.text

    vendor = client_for(runtime, "vendor")
    inbox = vendor.get("/threads").text
    thread_id = inbox.split('href="/threads/')[1].split('"')[0]
    thread = vendor.get(f"/threads/{thread_id}").text
    assert "Record a status" in thread and 'for="status"' in thread
    wrong = vendor.post(
        f"/threads/{thread_id}/status",
        data={"csrf": csrf_of(thread), "product": "pkg:pypi/fastparse", "status": "not_affected"},
    )
    assert wrong.status_code == 422 and "justification" in wrong.text
    fixed = vendor.post(
        f"/threads/{thread_id}/status",
        data={
            "csrf": csrf_of(thread),
            "product": "pkg:pypi/fastparse",
            "status": "fixed",
            "fixed_versions": "2.4.2",
        },
        follow_redirects=False,
    )
    assert fixed.status_code == 303
    said = vendor.post(
        f"/threads/{thread_id}/messages",
        data={"csrf": csrf_of(thread), "body": "Fixed in 2.4.2."},
        follow_redirects=False,
    )
    assert said.status_code == 303
    assert "Fixed in 2.4.2." in vendor.get(f"/threads/{thread_id}").text
    vex = {
        "@context": "https://openvex.dev/ns/v0.2.0",
        "@id": "https://acme.example/vex/1",
        "author": "Acme PSIRT",
        "timestamp": "2026-11-27T00:00:00Z",
        "statements": [
            {
                "vulnerability": {"name": case_id},
                "products": [{"@id": "pkg:pypi/fastparse-lite@1.0.0"}],
                "status": "not_affected",
                "justification": "component_not_present",
            }
        ],
    }
    uploaded = vendor.post(
        f"/threads/{thread_id}/vex",
        data={"csrf": csrf_of(thread)},
        files={"document": ("vex.json", json.dumps(vex).encode(), "application/json")},
        follow_redirects=False,
    )
    assert uploaded.status_code == 303, uploaded.text
    assert "component not present" in vendor.get(f"/threads/{thread_id}").text
    unknown_reason = vendor.post(
        f"/threads/{thread_id}/status",
        data={"csrf": csrf_of(thread), "product": "x", "status": "not_affected", "justification": "because"},
    )
    assert unknown_reason.status_code == 422 and "/justification" in unknown_reason.text
    # The vendor sees its thread, not the case, the queue or another vendor's thread.
    for hidden in (f"/cases/{case_id}", "/queue", "/pipelines"):
        assert vendor.get(hidden).content == vendor.get("/review/no-such-page").content
    finder2 = client_for(runtime, "finder2")
    assert finder2.get(f"/threads/{thread_id}").content == finder2.get("/review/no-such-page").content

    page = coord.get(f"/cases/{case_id}").text
    assert "2.4.2" in page and "fixed" in page
    under_embargo = coord.post(
        f"/cases/{case_id}/publish", data={"csrf": csrf_of(page), "summary": "First", "tlp": "CLEAR"}
    )
    assert under_embargo.status_code == 409 and "embargo" in under_embargo.text
    published = coord.post(
        f"/cases/{case_id}/publish",
        data={"csrf": csrf_of(page), "summary": "First", "tlp": "CLEAR", "lift_embargo": "true"},
        follow_redirects=False,
    )
    assert published.status_code == 303
    assert "Revision 1" in coord.get(f"/cases/{case_id}").text
    public = TestClient(create_app(runtime)).get("/transparency").text
    assert "<td>Cases disclosed</td><td>1</td>" in public and "<td>Cases patched</td><td>1</td>" in public
    assert "Median" in public and "over 1 patched case." in public

    operator = client_for(runtime, "operator")
    assets = operator.get("/assets").text
    asset_id = assets.split('href="/assets/')[1].split('"')[0]
    asset = operator.get(f"/assets/{asset_id}").text
    assert "Vulnerabilities that affect it" in asset and "pkg:pypi/fastparse@2.4.1" in asset
    assert "BOD 26-04" in operator.get("/bod-26-04").text


def test_notification_settings(env: dict[str, Any]) -> None:
    runtime = env["runtime"]
    vendor = client_for(runtime, "vendor")
    page = vendor.get("/settings/notifications")
    assert page.status_code == 200 and 'for="url"' in page.text and 'for="digest_hour"' in page.text
    added = vendor.post(
        "/settings/webhooks",
        data={
            "csrf": csrf_of(page.text),
            "url": "https://hooks.acme.example/ch",
            "events": ["status_changed"],
        },
    )
    assert added.status_code == 200 and "whsec_" in added.text and "shown this once" in added.text
    again = vendor.get("/settings/notifications").text
    assert "https://hooks.acme.example/ch" in again and "whsec_" not in again
    bad = vendor.post("/settings/webhooks", data={"csrf": csrf_of(again), "url": "ftp://nope"})
    assert bad.status_code == 422 and "/url" in bad.text
    sub_id = again.split('action="/settings/webhooks/')[1].split("/")[0]
    other = client_for(runtime, "operator")
    assert "hooks.acme.example" not in other.get("/settings/notifications").text
    stolen = other.post(
        f"/settings/webhooks/{sub_id}/deactivate", data={"csrf": csrf_of(other.get("/").text)}
    )
    assert stolen.status_code == 404 and stolen.content == other.get("/review/no-such-page").content
    stopped = vendor.post(
        f"/settings/webhooks/{sub_id}/deactivate", data={"csrf": csrf_of(again)}, follow_redirects=False
    )
    assert stopped.status_code == 303 and "stopped" in vendor.get("/settings/notifications").text
    saved = vendor.post(
        "/settings/preferences",
        data={
            "csrf": csrf_of(again),
            "email_mode": "digest",
            "digest_hour": "7",
            "timezone": "America/Chicago",
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303
    after = vendor.get("/settings/notifications").text
    assert 'value="digest" selected' in after and 'value="America/Chicago"' in after
    wrong_zone = vendor.post(
        "/settings/preferences", data={"csrf": csrf_of(after), "timezone": "Mars/Olympus"}
    )
    assert wrong_zone.status_code == 422


def test_review_pages_and_the_determination_form(env: dict[str, Any]) -> None:
    runtime = env["runtime"]
    review = seed_review(runtime)
    model_url = f"/review/models/{review.model_id}"
    for username in ("evaluator", "authority", "developer"):
        client = client_for(runtime, username)
        home = client.get("/review").text
        assert "Falcon" in home and "access window" in home and "inquiry" in home
        page = client.get(model_url).text
        assert "Is Falcon 2.0 covered?" in page and "Access windows" in page
        assert ("Record determination" in page) == (username == "authority")
    # Those outside the review see neither the model nor its page.
    for username in ("coord", "vendor", "finder"):
        client = client_for(runtime, username)
        assert "Falcon" not in client.get("/review").text
        assert client.get(model_url).content == client.get("/review/no-such-page").content
    authority = client_for(runtime, "authority")
    page = authority.get(model_url).text
    missing = authority.post(
        f"{model_url}/determination", data={"csrf": csrf_of(page), "outcome": "covered", "rationale": " "}
    )
    assert missing.status_code == 422 and "/rationale" in missing.text
    done = authority.post(
        f"{model_url}/determination",
        data={"csrf": csrf_of(page), "outcome": "not_covered", "rationale": "Below every threshold."},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert "Below every threshold." in authority.get(model_url).text
    # The developer sees no determination until it is released to its organization.
    assert "Below every threshold." not in client_for(runtime, "developer").get(model_url).text
    evaluator = client_for(runtime, "evaluator")
    forged = evaluator.post(
        f"{model_url}/determination",
        data={"csrf": csrf_of(evaluator.get(model_url).text), "outcome": "covered", "rationale": "x"},
    )
    assert forged.status_code == 403
    start = evaluator.get("/review/campaigns").text
    assert "Start a campaign" in start and 'for="grant_id"' in start


def test_console_edges(env: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    runtime = env["runtime"]
    finder = client_for(runtime, "finder")
    # Signed in already: the sign-in page sends the user on; a GET where only POST is served is a page.
    assert finder.get("/signin?next=/cases", follow_redirects=False).headers["location"] == "/cases"
    wrong_method = finder.get("/signout")
    assert wrong_method.status_code == 405 and "text/html" in wrong_method.headers["content-type"]
    form = finder.get("/findings/new").text
    fields = {
        "csrf": csrf_of(form),
        "title": "Stored XSS in comment preview",
        "purl": "pkg:npm/comment-kit",
        "version": "3.1.0",
        "vers": "vers:npm/>=3.0.0|<3.2.0",
        "cvss_vector": "CVSS:9.9/nonsense",
        "tool": "xss-hunter",
        "organization": "Lab A",
        "aliases": "GHSA-aaaa-bbbb-cccc",
        "preconditions": "a signed-in attacker",
    }
    made = finder.post("/findings/new", data=fields, follow_redirects=False)
    assert made.status_code == 303, made.text
    page = finder.get(made.headers["location"]).text
    assert "vers:npm/&gt;=3.0.0|&lt;3.2.0" in page and "GHSA-aaaa-bbbb-cccc" in page
    assert "<dt>CVSS</dt><dd>—</dd>" in page  # an unreadable vector is not scored
    huge = finder.post(
        "/assets",
        data={"csrf": csrf_of(form), "name": "big"},
        files={"sbom": ("bom.json", b" " * (10 * 1024 * 1024 + 1), "application/json")},
    )
    assert huge.status_code == 413  # the server's request body limit, before any page runs

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr("clearinghouse.web._priority_views.directives.bod_26_04_compliance", broken)
    failed = finder.get("/bod-26-04")
    assert failed.status_code == 500 and "The error was logged." in failed.text and "boom" not in failed.text
    api_failure = TestClient(create_app(runtime), raise_server_exceptions=False)
    monkeypatch.setattr("clearinghouse.api.app.text", broken)
    assert api_failure.get("/api/v1/health").headers["content-type"] == "application/problem+json"


def test_transparency_reads_fixes_from_published_records() -> None:
    from clearinghouse.coordination.models import AdvisoryRevision
    from clearinghouse.web._transparency import _fix_time

    published = dt.datetime(2026, 5, 1, tzinfo=dt.UTC)

    def revision(record: dict[str, Any]) -> AdvisoryRevision:
        return AdvisoryRevision(case_id="c", number=1, summary="s", record=record, published_at=published)

    statement = {"status": "fixed", "updated_at": "2026-04-02T00:00:00"}
    assert _fix_time(revision({"product_statements": [statement]})) == dt.datetime(2026, 4, 2, tzinfo=dt.UTC)
    bad_times = [{"status": "fixed", "updated_at": "yesterday"}, {"status": "fixed", "updated_at": 5}]
    ranged = {"product_statements": bad_times, "affected": [{"ranges": [{"events": [{"kind": "fixed"}]}]}]}
    assert _fix_time(revision(ranged)) == published
    assert _fix_time(revision({"affected": [{"ranges": [{"events": [{"kind": "introduced"}]}]}]})) is None


def test_password_reset_names_the_missing_user(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLEARINGHOUSE_HOME", str(runtime.settings.home))
    monkeypatch.setenv("CLEARINGHOUSE_DATABASE_URL", runtime.settings.database_url)
    result = CliRunner().invoke(
        cli_app, ["console", "password", "ghost", "--password", "long enough password"]
    )
    assert result.exit_code == 2 and "no user 'ghost'" in result.output
