"""Vendors answer with VEX: CycloneDX VEX, OpenVEX and CSAF 2.0 VEX documents
land on the case as product statuses; bad documents are refused naming the field."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from clearinghouse.coordination import VexFormat, parse_vex, record_for_case
from clearinghouse.domain import ProductStatus, VexJustification
from clearinghouse.errors import InvalidInput
from clearinghouse.ledger.models import AuditEvent
from clearinghouse.runtime import Runtime
from clearinghouse.storage import Actor
from tests.support.factories import subject_of
from tests.test_coordination_workflow import PURL, coordination_env, validated_case


@pytest.fixture
def env(runtime: Runtime) -> Iterator[dict[str, Any]]:
    yield from coordination_env(runtime)


CVE = "CVE-2026-12345"


def cyclonedx(state: str = "resolved", **analysis: Any) -> dict[str, Any]:
    return {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "version": 1,
        "components": [{"bom-ref": "fp", "type": "library", "name": "fastparse", "purl": f"{PURL}@2.3.1"}],
        "vulnerabilities": [
            {
                "id": CVE,
                "analysis": {"state": state, "detail": "Bounds check added in 2.3.1.", **analysis},
                "affects": [
                    {
                        "ref": "fp",
                        "versions": [
                            {"range": "vers:pypi/<2.3.1", "status": "affected"},
                            {"version": "2.3.1", "status": "unaffected"},
                        ],
                    }
                ],
            }
        ],
    }


def openvex(status: str = "fixed", product: str = f"{PURL}@2.3.1", **extra: Any) -> dict[str, Any]:
    return {
        "@context": "https://openvex.dev/ns/v0.2.0",
        "@id": "https://fastparse.example/vex/2026-1",
        "author": "Fastparse Inc",
        "timestamp": "2026-11-27T00:00:00Z",
        "version": 1,
        "statements": [
            {"vulnerability": {"name": CVE}, "products": [{"@id": product}], "status": status, **extra}
        ],
    }


def csaf(status_key: str = "fixed") -> dict[str, Any]:
    return {
        "document": {
            "category": "csaf_vex",
            "csaf_version": "2.0",
            "title": "fastparse heap overflow",
            "publisher": {
                "category": "vendor",
                "name": "Fastparse Inc",
                "namespace": "https://fastparse.example",
            },
            "tracking": {
                "id": "FP-2026-1",
                "status": "final",
                "version": "1",
                "initial_release_date": "2026-11-27T00:00:00Z",
                "current_release_date": "2026-11-27T00:00:00Z",
                "revision_history": [{"date": "2026-11-27T00:00:00Z", "number": "1", "summary": "Initial"}],
            },
        },
        "product_tree": {
            "branches": [
                {
                    "category": "vendor",
                    "name": "Fastparse Inc",
                    "branches": [
                        {
                            "category": "product_name",
                            "name": "fastparse",
                            "branches": [
                                {
                                    "category": "product_version",
                                    "name": "2.3.1",
                                    "product": {
                                        "product_id": "FP-2.3.1",
                                        "name": "fastparse 2.3.1",
                                        "product_identification_helper": {"purl": f"{PURL}@2.3.1"},
                                    },
                                }
                            ],
                        }
                    ],
                }
            ]
        },
        "vulnerabilities": [{"cve": CVE, "product_status": {status_key: ["FP-2.3.1"]}}],
    }


def thread_for(env: dict[str, Any]) -> tuple[str, str]:
    client = env["client"]
    case_id = validated_case(env)
    assert (
        client.post(
            f"/api/v1/cases/{case_id}/coordination/aliases", json={"alias": CVE}, headers=env["coord"]
        ).status_code
        == 200
    )
    thread = client.post(
        f"/api/v1/cases/{case_id}/coordination/vendors",
        json={"vendor": "Fastparse Inc", "products": [{"purl": f"{PURL}@2.3.0"}]},
        headers=env["coord"],
    ).json()
    return case_id, thread["id"]


@pytest.mark.parametrize("make", [cyclonedx, openvex, csaf], ids=["cyclonedx", "openvex", "csaf"])
def test_fixed_in_2_3_1_by_vex(env: dict[str, Any], make: Any) -> None:
    client, runtime = env["client"], env["runtime"]
    case_id, thread_id = thread_for(env)
    answered = client.post(f"/api/v1/coordination/threads/{thread_id}/vex", json=make(), headers=env["vee"])
    assert answered.status_code == 200, answered.text
    [product] = answered.json()["products"]
    assert product["product_id"] == PURL
    assert product["status"] == "fixed" and product["fixed_versions"] == ["2.3.1"]
    assert (
        product["source"] == {"cyclonedx": "cyclonedx", "openvex": "openvex", "csaf": "csaf"}[make.__name__]
    )
    published = client.post(
        f"/api/v1/cases/{case_id}/coordination/publish",
        json={"summary": "Fixed in 2.3.1"},
        headers=env["coord"],
    )
    assert published.status_code == 201, published.text
    with runtime.uow(Actor.system("test"), write=False) as uow:
        record = record_for_case(uow.session, subject_of(runtime, env["ids"]["dub"]), CVE)
        events = list(
            uow.session.scalars(
                select(AuditEvent).where(AuditEvent.action == "vendor_thread_product.status_changed")
            )
        )
    [statement] = record.product_statements
    assert statement.status is ProductStatus.FIXED and statement.fixed_versions == ("2.3.1",)
    assert record.affected[0].ranges[0].events[-1].value == "2.3.1"
    assert [e.detail["status"] for e in events] == ["fixed"]
    assert events[0].detail["previous"] == "unknown" and events[0].actor == f"user:{env['ids']['vee']}"


def test_vex_not_affected_and_other_statuses(env: dict[str, Any]) -> None:
    client = env["client"]
    _, thread_id = thread_for(env)
    url = f"/api/v1/coordination/threads/{thread_id}/vex"
    doc = cyclonedx("not_affected", justification="code_not_reachable")
    product = client.post(url, json=doc, headers=env["vee"]).json()["products"][0]
    assert product["status"] == "not_affected"
    assert product["justification"] == "vulnerable_code_not_in_execute_path"
    doc = openvex("under_investigation", product=PURL)
    assert (
        client.post(url, json=doc, headers=env["vee"]).json()["products"][0]["status"]
        == "under_investigation"
    )
    doc = csaf("known_affected")
    assert client.post(url, json=doc, headers=env["vee"]).json()["products"][0]["status"] == "affected"


@pytest.mark.parametrize(
    ("document", "pointer"),
    [
        ({**cyclonedx(), "specVersion": "1.2"}, "/specVersion"),
        (cyclonedx("not_affected"), "/vulnerabilities/0/analysis/justification"),
        (cyclonedx("sideways"), "/vulnerabilities/0/analysis/state"),
        (openvex("not_affected"), "/statements/0/justification"),
        (openvex("fixed", product=PURL), "/statements/0/products/0/@id"),
        (openvex("nonsense"), "/statements/0/status"),
        ({**openvex(), "statements": []}, "/statements"),
        (
            {**csaf(), "vulnerabilities": [{"cve": CVE, "product_status": {"fixed": ["NOPE"]}}]},
            "/vulnerabilities/0/product_status/fixed/0",
        ),
        (csaf("known_not_affected"), "/vulnerabilities/0/product_status/known_not_affected/0"),
        ({"hello": "world"}, ""),
    ],
)
def test_bad_vex_is_refused_naming_the_field(
    env: dict[str, Any], document: dict[str, Any], pointer: str
) -> None:
    client = env["client"]
    _, thread_id = thread_for(env)
    refused = client.post(f"/api/v1/coordination/threads/{thread_id}/vex", json=document, headers=env["vee"])
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["pointer"] == pointer
    thread = client.get(f"/api/v1/coordination/threads/{thread_id}", headers=env["vee"]).json()
    assert thread["products"][0]["status"] == "unknown"  # nothing half-applied


def test_vex_about_another_vulnerability_is_refused(env: dict[str, Any]) -> None:
    client = env["client"]
    _, thread_id = thread_for(env)
    other = openvex()
    other["statements"][0]["vulnerability"] = {"name": "CVE-1999-0001"}
    refused = client.post(f"/api/v1/coordination/threads/{thread_id}/vex", json=other, headers=env["vee"])
    assert refused.status_code == 422 and refused.json()["errors"][0]["pointer"] == "/statements/0/products/0"
    # Another vendor cannot answer on this thread at all.
    assert (
        client.post(
            f"/api/v1/coordination/threads/{thread_id}/vex", json=openvex(), headers=env["dub"]
        ).status_code
        == 404
    )


def test_parser_reads_raw_bytes_and_maps_csaf_flags() -> None:
    doc = csaf("known_not_affected")
    doc["vulnerabilities"][0]["flags"] = [{"label": "component_not_present", "product_ids": ["FP-2.3.1"]}]
    doc["vulnerabilities"][0]["threats"] = [
        {"category": "impact", "details": "Not shipped.", "product_ids": ["FP-2.3.1"]}
    ]
    import json

    [st] = parse_vex(json.dumps(doc).encode())
    assert st.status is ProductStatus.NOT_AFFECTED
    assert st.justification is VexJustification.COMPONENT_NOT_PRESENT
    assert st.impact_statement == "Not shipped." and st.purl == PURL and st.version == "2.3.1"
    with pytest.raises(InvalidInput) as bad:
        parse_vex(b"{not json")
    assert bad.value.pointer == ""
    [fixed] = parse_vex(copy.deepcopy(cyclonedx()), VexFormat.CYCLONEDX)
    assert fixed.fixed_versions == ("2.3.1",) and fixed.action_statement == "Bounds check added in 2.3.1."
