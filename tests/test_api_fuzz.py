"""Schemathesis over the whole OpenAPI: no input, valid or not, gets a 500,
and every response matches the schema (SQLite; the PostgreSQL run of the
same services is covered by the other API tests)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from clearinghouse.api.app import create_app
from clearinghouse.config import Settings
from clearinghouse.runtime import Runtime
from tests.support.factories import make_org, make_token, make_user

# The batch endpoint reads NDJSON; generated bodies go out as text, one line each.
schemathesis.serializer.alias("application/x-ndjson", "text/plain")


@pytest.fixture(scope="module")
def fuzz_runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Runtime, str]]:
    home: Path = tmp_path_factory.mktemp("fuzz")
    runtime = Runtime(Settings.from_env({"CLEARINGHOUSE_HOME": str(home)}))
    runtime.migrate()
    org = make_org(runtime, "Clearinghouse", "government_agency")
    make_user(runtime, "root", org, ["admin", "coordinator", "auditor"], clearance="SECRET")
    token = make_token(runtime, "root", ["read", "write", "admin"])
    yield runtime, token
    runtime.close()


def test_no_server_errors_and_responses_match_the_schema(fuzz_runtime: tuple[Runtime, str]) -> None:
    runtime, token = fuzz_runtime
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(runtime))
    headers = {"Authorization": f"Bearer {token}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def check(case: schemathesis.Case) -> None:
            case.call_and_validate(
                headers=headers,
                checks=[not_a_server_error, content_type_conformance, response_schema_conformance],
            )

        check()
