"""Schemathesis over the frontier-review routes, as a model developer and as
a cleared admin: no input gets a 500, and every response matches the schema."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from clearinghouse.api.app import create_app
from clearinghouse.config import Settings
from clearinghouse.runtime import Runtime
from clearinghouse.storage import utcnow
from tests.support.factories import make_org, make_token, make_user
from tests.support.frontier_fixtures import TERMS


@pytest.fixture(scope="module")
def fuzz_runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Runtime, list[str]]]:
    home: Path = tmp_path_factory.mktemp("frontier-fuzz")
    runtime = Runtime(Settings.from_env({"CLEARINGHOUSE_HOME": str(home)}))
    runtime.migrate()
    lab = make_org(runtime, "Lab", "ai_developer")
    gov = make_org(runtime, "Agency", "government_agency")
    make_user(runtime, "dev", lab, ["model_developer"])
    make_user(runtime, "root", gov, ["admin", "evaluator", "determination_authority"], clearance="TOP SECRET")
    tokens = [make_token(runtime, "dev"), make_token(runtime, "root")]
    # Something to find: a model with a grant, a policy and a determination.
    planned = utcnow() + dt.timedelta(days=10)
    with TestClient(create_app(runtime)) as client:
        dev = {"Authorization": f"Bearer {tokens[0]}"}
        root = {"Authorization": f"Bearer {tokens[1]}"}
        model = client.post(
            "/api/v1/frontier/models",
            json={"name": "M", "version": "1", "planned_partner_release_at": planned.isoformat()},
            headers=dev,
        ).json()
        client.post(
            "/api/v1/frontier/grants",
            json={
                "model_id": model["id"],
                "starts_at": utcnow().isoformat(),
                "ends_at": planned.isoformat(),
                "terms": TERMS,
                "endpoint": {"base_url": "https://m.example/v1", "api_key": "k", "model_name": "m"},
                "need_to_know": ["root"],
            },
            headers=dev,
        )
        client.post(
            "/api/v1/frontier/policies",
            json={"name": "p", "thresholds": [{"name": "t", "expression": "a.b > 1.0"}]},
            headers=root,
        )
        client.post(
            "/api/v1/frontier/determinations",
            json={"model_id": model["id"], "outcome": "covered", "rationale": "r"},
            headers=root,
        )
    yield runtime, tokens
    runtime.close()


def test_frontier_routes_never_fail(fuzz_runtime: tuple[Runtime, list[str]]) -> None:
    runtime, tokens = fuzz_runtime
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(runtime))
    results: list[Any] = list(schema.get_all_operations())
    skip = ("/api/v1/frontier/suites", "/api/v1/frontier/campaigns")  # the evaluation part's own
    operations = [
        op
        for op in (result.ok() for result in results)
        if op.path.startswith("/api/v1/frontier/") and not op.path.startswith(skip)
    ]
    assert len(operations) >= 25
    for token in tokens:
        for operation in operations:
            _fuzz(operation, {"Authorization": f"Bearer {token}"})


def _fuzz(operation: Any, headers: dict[str, str]) -> None:
    @given(case=operation.as_strategy())
    @settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def check(case: Any) -> None:
        case.call_and_validate(
            headers=headers,
            checks=[not_a_server_error, content_type_conformance, response_schema_conformance],
        )

    check()
