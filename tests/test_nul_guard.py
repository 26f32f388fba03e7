"""NUL characters are refused with a 422 naming where they are, on every database
(PostgreSQL cannot store them in text, SQLite can: the answer must not differ)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from clearinghouse.api.app import create_app
from clearinghouse.errors import nul_pointer
from clearinghouse.intake.services import ItemProblem, parse_ndjson
from clearinghouse.runtime import Runtime
from tests.support.factories import make_org, make_token, make_user


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime), raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def token(runtime: Runtime) -> str:
    org = make_org(runtime, "Vendor")
    make_user(runtime, "ann", org, ["analyst"])
    return make_token(runtime, "ann")


def test_nul_pointer_finds_keys_values_and_items() -> None:
    assert nul_pointer({"a": ["ok", {"b/c": "x\x00"}]}) == "/a/1/b~1c"
    assert nul_pointer({"bad\x00key": 1}) == "/bad\x00key"
    assert nul_pointer(["fine", 3, None, {"x": True}]) is None
    assert nul_pointer("\x00") == ""


def test_json_body_with_nul_is_refused_naming_the_field(client: TestClient, token: str) -> None:
    r = client.post(
        "/api/v1/bulletins",
        json={"title": "a\x00b", "marking": {"tlp": "CLEAR"}},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["errors"] == [{"detail": "NUL in a string", "pointer": "/title"}]
    # An escaped backslash followed by "u0000" is no NUL: the request goes through.
    r = client.post(
        "/api/v1/bulletins",
        json={"title": "a\\u0000b", "marking": {"tlp": "CLEAR"}},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status_code == 201, r.text
    assert r.json()["title"] == "a\\u0000b"


def test_query_and_form_nul_are_refused(client: TestClient, token: str) -> None:
    r = client.get("/api/v1/bulletins?limit=1&q=%00", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 422
    assert r.json()["errors"][0] == {"detail": "NUL in a parameter", "in": "query", "parameter": "q"}
    r = client.post("/signin", data={"username": "ann\x00", "password": "x"})
    assert r.status_code == 422
    assert r.json()["errors"][0]["parameter"] == "username"


def test_bad_json_is_left_to_the_route(client: TestClient, token: str) -> None:
    r = client.post(
        "/api/v1/bulletins",
        content=b'{"title": "\\u0000',
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"


def test_one_bad_line_of_a_batch_costs_only_itself() -> None:
    good = b'{"title": "t"}'
    items = list(parse_ndjson([b'{"title": "a\\u0000"}', good]))
    first = items[0][1]
    assert isinstance(first, ItemProblem) and first.pointer == "/title"
    assert items[1][0] == 1


def test_taxii_gets_its_own_error_format(client: TestClient, token: str) -> None:
    r = client.get(
        "/taxii2/clearinghouse/collections/x/objects/?match[id]=%00",
        headers={"Authorization": f"Bearer {token}", "Accept": "application/taxii+json;version=2.1"},
    )
    assert r.status_code == 400
    assert r.headers["content-type"].startswith("application/taxii+json")
    assert r.json()["details"] == {"detail": "NUL in a parameter", "in": "query", "parameter": "match[id]"}
