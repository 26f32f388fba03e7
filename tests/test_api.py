"""The HTTP API as a client sees it (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from clearinghouse.api.app import create_app
from clearinghouse.runtime import Runtime
from tests.support.factories import make_org, make_token, make_user


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime), raise_server_exceptions=False) as c:
        yield c


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def people(runtime: Runtime) -> dict[str, str]:
    """Two organizations: a vendor with a SECRET-cleared member, and a researcher."""
    vendor = make_org(runtime, "Vendor")
    finder = make_org(runtime, "Finder", "security_researcher")
    make_user(runtime, "vera", vendor, ["vendor_contact"], clearance="SECRET")
    make_user(runtime, "uma", finder, ["partner"])
    make_user(runtime, "ann", vendor, ["analyst"])
    return {
        "vendor": vendor,
        "finder": finder,
        "vera": make_token(runtime, "vera"),
        "uma": make_token(runtime, "uma"),
        "ann": make_token(runtime, "ann"),
    }


def test_health_and_openapi(client: TestClient) -> None:
    health = client.get("/api/v1/health")
    assert health.status_code == 200
    assert health.json()["status"] == "ok"
    spec = client.get("/openapi.json").json()
    assert "/api/v1/bulletins" in spec["paths"]
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"


def test_denied_and_missing_objects_look_the_same(client: TestClient, people: dict[str, str]) -> None:
    secret = client.post(
        "/api/v1/bulletins",
        json={"title": "classified", "marking": {"tlp": "AMBER", "classification": "SECRET"}},
        headers=bearer(people["vera"]),
    )
    assert secret.status_code == 201, secret.text
    red = client.post(
        "/api/v1/bulletins",
        json={"title": "vendor only", "marking": {"tlp": "RED"}},
        headers=bearer(people["ann"]),
    )
    assert red.status_code == 201, red.text
    uma = bearer(people["uma"])  # UNCLASSIFIED, another organization
    responses = [
        client.get(f"/api/v1/bulletins/{secret.json()['id']}", headers=uma),
        client.get(f"/api/v1/bulletins/{red.json()['id']}", headers=uma),
        client.get("/api/v1/bulletins/00000000-0000-0000-0000-000000000000", headers=uma),
    ]
    assert [r.status_code for r in responses] == [404, 404, 404]
    assert len({r.content for r in responses}) == 1
    assert {r.headers["content-type"] for r in responses} == {"application/problem+json"}
    # The owner still sees them, and the list hides them from others.
    assert (
        client.get(f"/api/v1/bulletins/{red.json()['id']}", headers=bearer(people["ann"])).status_code == 200
    )
    assert client.get("/api/v1/bulletins", headers=uma).json() == []


def test_container_marking_wins(client: TestClient, people: dict[str, str]) -> None:
    green = {"tlp": "GREEN"}
    collection = client.post(
        "/api/v1/collections",
        json={"title": "vendor internal", "marking": {"tlp": "AMBER+STRICT"}},
        headers=bearer(people["ann"]),
    ).json()
    inside = client.post(
        "/api/v1/bulletins",
        json={"title": "green inside strict", "collection_id": collection["id"], "marking": green},
        headers=bearer(people["ann"]),
    ).json()
    outside = client.post(
        "/api/v1/bulletins", json={"title": "green", "marking": green}, headers=bearer(people["ann"])
    ).json()
    uma = bearer(people["uma"])
    assert client.get(f"/api/v1/bulletins/{inside['id']}", headers=uma).status_code == 404
    assert client.get(f"/api/v1/bulletins/{outside['id']}", headers=uma).status_code == 200
    assert client.get(f"/api/v1/bulletins/{outside['id']}").status_code == 404  # GREEN needs sign-in


def test_clear_is_public(client: TestClient, people: dict[str, str]) -> None:
    made = client.post(
        "/api/v1/bulletins",
        json={"title": "public", "marking": {"tlp": "CLEAR"}},
        headers=bearer(people["ann"]),
    ).json()
    assert client.get(f"/api/v1/bulletins/{made['id']}").status_code == 200
    assert [b["id"] for b in client.get("/api/v1/bulletins").json()] == [made["id"]]


def test_bad_input_names_the_field(client: TestClient, people: dict[str, str]) -> None:
    r = client.post(
        "/api/v1/bulletins",
        json={"title": "x", "marking": {"tlp": "PURPLE"}},
        headers=bearer(people["ann"]),
    )
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["status"] == 422
    assert body["errors"][0]["pointer"] == "/marking/tlp"
    assert body["detail"].startswith("/marking/tlp")

    r = client.post("/api/v1/bulletins", content=b"{not json", headers=bearer(people["ann"]))
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"

    r = client.get("/api/v1/bulletins?limit=0", headers=bearer(people["ann"]))
    assert r.status_code == 422
    assert r.json()["errors"][0]["parameter"] == "limit"


def test_service_errors_name_the_field(client: TestClient, people: dict[str, str]) -> None:
    r = client.post(
        "/api/v1/bulletins",
        json={"title": "x", "marking": {"sharing_groups": ["nope"]}},
        headers=bearer(people["ann"]),
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["pointer"] == "/marking/sharing_groups/0"


def test_cannot_create_above_own_clearance(client: TestClient, people: dict[str, str]) -> None:
    r = client.post(
        "/api/v1/bulletins",
        json={"title": "x", "marking": {"classification": "TOP SECRET"}},
        headers=bearer(people["vera"]),
    )
    assert r.status_code == 403  # the would-be object's marking is not one the caller could read
    r = client.post(
        "/api/v1/bulletins",
        json={"title": "x", "marking": {"owner_org": people["finder"]}},
        headers=bearer(people["vera"]),
    )
    assert r.status_code == 403


def test_auth_errors(client: TestClient, runtime: Runtime) -> None:
    r = client.get("/api/v1/users", headers=bearer("chs_not-a-real-token"))
    assert r.status_code == 401
    assert r.headers["www-authenticate"].startswith("Bearer")
    assert client.get("/api/v1/users").status_code == 401


def test_request_size_limit(client: TestClient, people: dict[str, str], runtime: Runtime) -> None:
    big = "x" * (runtime.settings.max_request_bytes + 10)
    r = client.post("/api/v1/bulletins", json={"title": "big", "body": big}, headers=bearer(people["ann"]))
    assert r.status_code == 413
    assert r.headers["content-type"] == "application/problem+json"


def test_idempotent_writes(client: TestClient, people: dict[str, str]) -> None:
    headers = {**bearer(people["ann"]), "Idempotency-Key": "bulletin-1"}
    first = client.post("/api/v1/bulletins", json={"title": "once"}, headers=headers)
    again = client.post("/api/v1/bulletins", json={"title": "once"}, headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    other = client.post("/api/v1/bulletins", json={"title": "different"}, headers=headers)
    assert other.status_code == 409
    assert other.json()["errors"][0]["pointer"] == "/idempotency_key"


def test_update_and_delete(client: TestClient, people: dict[str, str]) -> None:
    made = client.post("/api/v1/bulletins", json={"title": "draft"}, headers=bearer(people["ann"])).json()
    url = f"/api/v1/bulletins/{made['id']}"
    r = client.patch(url, json={"title": "final", "marking": {"tlp": "GREEN"}}, headers=bearer(people["ann"]))
    assert r.status_code == 200
    assert r.json()["title"] == "final" and r.json()["marking"]["banner"] == "UNCLASSIFIED TLP:GREEN"
    # Another org can now read it but not change it.
    assert client.get(url, headers=bearer(people["uma"])).status_code == 200
    assert client.patch(url, json={"title": "mine"}, headers=bearer(people["uma"])).status_code == 403
    assert client.delete(url, headers=bearer(people["ann"])).status_code == 204
    assert client.get(url, headers=bearer(people["ann"])).status_code == 404


def test_identity_endpoints(client: TestClient, runtime: Runtime, people: dict[str, str]) -> None:
    admin_org = make_org(runtime, "Clearinghouse", "government_agency")
    make_user(runtime, "root", admin_org, ["admin"])
    admin = bearer(make_token(runtime, "root", ["read", "write", "admin"]))
    r = client.post(
        "/api/v1/organizations",
        json={"name": "Grid Co", "kind": "critical_infrastructure_operator"},
        headers=admin,
    )
    assert r.status_code == 201
    again = client.post(
        "/api/v1/organizations",
        json={"name": "Grid Co", "kind": "critical_infrastructure_operator"},
        headers=admin,
    )
    assert again.status_code == 200 and again.json()["id"] == r.json()["id"]
    clash = client.post(
        "/api/v1/organizations", json={"name": "Grid Co", "kind": "ai_developer"}, headers=admin
    )
    assert clash.status_code == 409
    # A non-admin may not create organizations.
    assert (
        client.post(
            "/api/v1/organizations", json={"name": "X", "kind": "ai_developer"}, headers=bearer(people["ann"])
        ).status_code
        == 403
    )

    r = client.post(
        "/api/v1/users",
        json={
            "username": "gina",
            "org": "Grid Co",
            "roles": ["partner"],
            "password": "correct horse battery",
        },
        headers=admin,
    )
    assert r.status_code == 201, r.text
    assert client.get("/api/v1/users/gina", headers=admin).json()["org_id"] == again.json()["id"]
    r = client.post(
        "/api/v1/users", json={"username": "bad", "org": "Nowhere", "roles": ["partner"]}, headers=admin
    )
    assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "/org"

    group = client.post(
        "/api/v1/sharing-groups",
        json={"name": "energy", "members": ["Grid Co", people["vendor"]]},
        headers=admin,
    )
    assert group.status_code == 201
    assert len(group.json()["members"]) == 2
    assert [g["name"] for g in client.get("/api/v1/sharing-groups", headers=admin).json()] == ["energy"]
    names = [o["name"] for o in client.get("/api/v1/organizations", headers=bearer(people["uma"])).json()]
    assert "Grid Co" in names

    # Tokens: issue for gina, use it, revoke it.
    issued = client.post("/api/v1/tokens", json={"user": "gina", "scopes": ["read"]}, headers=admin)
    assert issued.status_code == 201
    secret = issued.json()["secret"]
    who = client.get("/api/v1/whoami", headers=bearer(secret)).json()
    assert who["user"]["username"] == "gina" and who["scopes"] == ["read"] and who["sharing_groups"]
    assert client.delete(f"/api/v1/tokens/{issued.json()['id']}", headers=admin).status_code == 200
    assert client.delete(f"/api/v1/tokens/{issued.json()['id']}", headers=admin).status_code == 200
    assert client.get("/api/v1/whoami", headers=bearer(secret)).status_code == 401
    assert any(t["id"] == issued.json()["id"] for t in client.get("/api/v1/tokens", headers=admin).json())


def test_token_scope_escalation_refused(client: TestClient, people: dict[str, str], runtime: Runtime) -> None:
    limited = make_token(runtime, "ann", ["read", "admin"])
    r = client.post("/api/v1/tokens", json={"scopes": ["read", "write"]}, headers=bearer(limited))
    assert r.status_code == 403
    r = client.post("/api/v1/tokens", json={"scopes": ["read"]}, headers=bearer(limited))
    assert r.status_code == 201


def test_audit_endpoints(client: TestClient, runtime: Runtime, people: dict[str, str]) -> None:
    admin_org = make_org(runtime, "Auditors", "government_agency")
    make_user(runtime, "aud", admin_org, ["auditor"])
    auditor = bearer(make_token(runtime, "aud", ["read"]))
    events = client.get("/api/v1/audit/events?limit=3", headers=auditor).json()
    assert [e["seq"] for e in events] == [1, 2, 3]
    assert client.get("/api/v1/audit/events", headers=bearer(people["uma"])).status_code == 403
    report = client.post("/api/v1/audit/verify", headers=auditor).json()
    assert report["ok"] and report["first_bad_event"] is None and report["events_checked"] > 5


def test_metrics_and_request_id(client: TestClient) -> None:
    r = client.get("/api/v1/health")
    assert len(r.headers["x-request-id"]) == 32
    client.get("/api/v1/nowhere")
    metrics = client.get("/metrics").text
    assert 'clearinghouse_http_requests_total{method="GET",route="/api/v1/health",status="200"}' in metrics
    assert "clearinghouse_http_problems_total" in metrics


def test_unknown_route_and_method_are_problems(client: TestClient) -> None:
    r = client.get("/api/v1/nowhere")
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
    r = client.put("/api/v1/health")
    assert r.status_code == 405 and r.headers["content-type"] == "application/problem+json"
