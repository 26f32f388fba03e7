"""Issue 14, defect 11: one rule for TLP:RED advisory revisions everywhere — a
revision is read through its own marking, by /revisions, the feeds, the review
export and /coordination/advisory alike."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from clearinghouse.runtime import Runtime
from tests.support.factories import make_token, make_user
from tests.test_coordination_workflow import coordination_env, validated_case

SECRET_SUMMARY = "Embargoed fix plan for the named recipients only"


@pytest.fixture
def env(runtime: Runtime) -> Iterator[dict[str, Any]]:
    for value in coordination_env(runtime):
        make_user(runtime, "ana", value["orgs"]["house"], ["analyst"])
        value["ana"] = {"Authorization": f"Bearer {make_token(runtime, 'ana')}"}
        yield value


def test_a_red_revision_that_does_not_name_staff_is_hidden_everywhere(env: dict[str, Any]) -> None:
    client = env["client"]
    case_id = validated_case(env)
    published = client.post(
        f"/api/v1/cases/{case_id}/coordination/publish",
        json={"summary": SECRET_SUMMARY, "tlp": "RED"},
        headers=env["coord"],
    )
    assert published.status_code == 201, published.text
    for staff in ("coord", "ana"):
        headers = env[staff]
        assert client.get(f"/api/v1/cases/{case_id}/coordination/revisions", headers=headers).json() == []
        advisory = client.get(f"/api/v1/cases/{case_id}/coordination/advisory", headers=headers)
        assert advisory.status_code == 200
        assert SECRET_SUMMARY not in advisory.text
        assert advisory.json()["published"] is None and advisory.json()["revisions"] == []
        for fmt in ("csaf", "osv", "cve5", "stix", "openvex"):
            exported = client.get(f"/api/v1/advisories/{case_id}/export?format={fmt}", headers=headers)
            assert exported.status_code == 200, (fmt, exported.text)
            assert SECRET_SUMMARY not in exported.text, fmt
        feed = client.get("/api/v1/advisories/osv?limit=100", headers=headers)
        assert SECRET_SUMMARY not in feed.text
    # Its named recipients (the case's own organization) read it, in every view.
    scanner = env["scanner"]
    history = client.get(f"/api/v1/cases/{case_id}/coordination/revisions", headers=scanner)
    assert [r["summary"] for r in history.json()] == [SECRET_SUMMARY]
    exported = client.get(f"/api/v1/advisories/{case_id}/export?format=csaf", headers=scanner)
    assert SECRET_SUMMARY in exported.text
