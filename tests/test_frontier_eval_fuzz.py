"""Schemathesis over the frontier evaluation routes only, as a cleared evaluator
(who may register suites and start campaigns): no input gets a 500, every
response matches the schema. The whole-API fuzz (``test_api_fuzz.py``) signs
in as an admin; this one exercises the evaluator's paths too."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from clearinghouse.api.app import create_app
from clearinghouse.config import Settings
from clearinghouse.frontier.evaluation import services
from clearinghouse.runtime import Runtime
from clearinghouse.storage import Actor
from tests.support.factories import make_org, make_token, make_user, subject_of


@pytest.fixture(scope="module")
def fuzz_runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Runtime, str]]:
    home: Path = tmp_path_factory.mktemp("eval-fuzz")
    runtime = Runtime(Settings.from_env({"CLEARINGHOUSE_HOME": str(home)}))
    runtime.migrate()
    org = make_org(runtime, "Review Agency", "government_agency")
    user = make_user(runtime, "eva", org, ["evaluator"], clearance="SECRET")
    with runtime.uow(Actor.user(user)) as uow:
        services.register_reference_suite(uow, subject_of(runtime, user), home)
        uow.commit()
    yield runtime, make_token(runtime, "eva", ["read", "write"])
    runtime.close()


def test_evaluation_routes_never_fail_with_a_server_error(fuzz_runtime: tuple[Runtime, str]) -> None:
    runtime, token = fuzz_runtime
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(runtime))
    headers = {"Authorization": f"Bearer {token}"}
    operations = [
        result.ok()
        for result in schema.get_all_operations()
        if isinstance(result, Ok)
        and result.ok().path.startswith(("/api/v1/frontier/suites", "/api/v1/frontier/campaigns"))
    ]
    assert len(operations) == 7

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def check(case: schemathesis.Case[Any]) -> None:
            case.call_and_validate(
                headers=headers,
                checks=[not_a_server_error, content_type_conformance, response_schema_conformance],
            )

        check()
