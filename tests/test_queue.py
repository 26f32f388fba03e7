"""Stored scores, SSVC inputs and decisions from a case's facts, and the priority queue."""

from __future__ import annotations

import datetime as dt
from typing import Any

from clearinghouse.intake.advisories.models import Advisory, AdvisoryAlias, KevEntry
from clearinghouse.priority import case_facts, case_scores
from clearinghouse.priority.models import EpssScore
from clearinghouse.runtime import Runtime
from clearinghouse.storage import Actor
from tests.support.factories import subject_of
from tests.test_matches import _user_id, env, register, validated_case, vulnerable_finding

__all__ = ["env"]


def load_kev_and_epss(runtime: Runtime) -> None:
    with runtime.uow(Actor.system("test")) as uow:
        uow.session.add(
            KevEntry(
                cve_id="CVE-2024-11111",
                vendor="Example",
                product="fastparse",
                name="fastparse heap overflow",
                date_added=dt.date(2024, 3, 1),
                due_date=dt.date(2024, 3, 22),
                ransomware_use="Known",
                cwes=[],
                content_hash="x",
            )
        )
        uow.session.add_all(
            [
                EpssScore(cve_id="CVE-2024-11111", probability=0.94, percentile=0.991, source="test"),
                EpssScore(cve_id="CVE-2024-22222", probability=0.10, percentile=0.5, source="test"),
            ]
        )
        uow.session.add(
            Advisory(
                id="GHSA-test-0002",
                modified=dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
                published=None,
                withdrawn=None,
                summary="slowparse",
                aliases=["CVE-2024-22222"],
                severity=[
                    {"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N"},
                    {"type": "CVSS_V3", "score": "not a vector"},
                ],
                database="test",
                source_format="osv",
                source="test",
                raw={},
                content_hash="y",
            )
        )
        uow.session.flush()
        uow.session.add_all(
            [
                AdvisoryAlias(alias="CVE-2024-22222", advisory_id="GHSA-test-0002"),
                AdvisoryAlias(alias="GHSA-TEST-0002", advisory_id="GHSA-test-0002"),
            ]
        )
        uow.commit()


def three_cases(env: dict[str, Any]) -> dict[str, str]:
    load_kev_and_epss(env["runtime"])
    register(env, "ops", "scada", "pkg:pypi/fastparse@2.4.1", internet_exposed=True, criticality="critical")
    kev = validated_case(env)
    low = validated_case(
        env,
        vulnerable_finding(
            title="Timing side channel in slowparse token compare",
            description="compare_token returns early on the first differing byte.",
            package={"purl": "pkg:pypi/slowparse@1.0.0"},
            impact={"claimed": "information_disclosure", "cvss_vector": "not a vector"},
            aliases=["CVE-2024-22222"],
            cwe=["CWE-208"],
        ),
    )
    bare = validated_case(
        env,
        vulnerable_finding(
            title="Unbounded recursion in deepparse nested arrays",
            description="parse_array recurses once per nesting level without a limit.",
            package={"purl": "pkg:npm/deepparse@3.1.0"},
            impact={"claimed": "denial_of_service"},
            aliases=[],
            cwe=["CWE-674"],
        ),
    )
    return {"kev": kev, "low": low, "bare": bare}


def test_scores_are_stored_with_their_source(env: dict[str, Any]) -> None:
    client, runtime = env["client"], env["runtime"]
    cases = three_cases(env)
    kev, low = cases["kev"], cases["low"]
    listed = client.get(f"/api/v1/cases/{kev}/scores", headers=env["ana"]).json()
    assert [(s["source"], s["base_score"], s["version"]) for s in listed] == [("finder", 9.8, "3.1")]
    imported = client.get(f"/api/v1/cases/{low}/scores", headers=env["ana"]).json()
    assert [(s["source"], s["origin"], s["base_score"]) for s in imported] == [
        ("imported", "advisory:GHSA-test-0002", 5.9)
    ]
    v4 = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"
    r = client.post(f"/api/v1/cases/{kev}/scores", json={"vector": v4, "note": "ours"}, headers=env["ana"])
    assert r.status_code == 201 and r.json()["source"] == "coordinator" and r.json()["base_score"] == 9.3
    again = client.post(
        f"/api/v1/cases/{kev}/scores", json={"vector": v4, "note": "ours"}, headers=env["ana"]
    )
    assert again.status_code == 200 and again.json()["id"] == r.json()["id"]
    vendor = client.post(
        f"/api/v1/cases/{kev}/scores",
        json={"vector": "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", "source": "vendor"},
        headers=env["ana"],
    )
    assert vendor.status_code == 201 and vendor.json()["base_score"] == 8.8
    bad = client.post(f"/api/v1/cases/{kev}/scores", json={"vector": "CVSS:3.1/AV:Q"}, headers=env["ana"])
    assert bad.status_code == 422 and bad.json()["errors"][0]["pointer"] == "/vector"
    wrong_source = client.post(
        f"/api/v1/cases/{kev}/scores", json={"vector": v4, "source": "finder"}, headers=env["ana"]
    )
    assert wrong_source.status_code == 422 and wrong_source.json()["errors"][0]["pointer"] == "/source"
    # The finder reads its case but does not score it; others do not see the case at all.
    assert (
        client.post(f"/api/v1/cases/{kev}/scores", json={"vector": v4}, headers=env["alice"]).status_code
        == 403
    )
    assert (
        client.post(f"/api/v1/cases/{kev}/scores", json={"vector": v4}, headers=env["rival"]).status_code
        == 404
    )
    assert client.get(f"/api/v1/cases/{kev}/scores", headers=env["rival"]).status_code == 404
    with runtime.uow(Actor.system("test"), write=False) as uow:
        ana = subject_of(runtime, _user_id(runtime, "ana"))
        scores = case_scores(uow.session, ana, kev)
    assert [(s.source, s.base_score) for s in scores] == [
        ("finder", 9.8),
        ("coordinator", 9.3),
        ("vendor", 8.8),
    ]


def test_ssvc_decisions_from_the_case_facts_and_overrides(env: dict[str, Any]) -> None:
    client, runtime = env["client"], env["runtime"]
    cases = three_cases(env)
    facts = client.get(f"/api/v1/cases/{cases['kev']}/priority", headers=env["ana"]).json()
    assert facts["kev"]["date_added"] == "2024-03-01" and facts["epss_probability"] == 0.94
    assert facts["inputs"]["exploitation"] == "active" and "KEV" in facts["input_sources"]["exploitation"]
    assert facts["inputs"]["automatable"] == "yes" and facts["inputs"]["technical_impact"] == "total"
    assert facts["inputs"]["mission_and_well_being_impact"] == "high"
    assert facts["inputs"]["system_exposure"] == "open" and facts["inputs"]["human_impact"] == "very high"
    assert (
        facts["matched_participants"] == 1 and facts["critical_assets"] == 1 and facts["exposed_assets"] == 1
    )
    decisions = facts["decisions"]
    assert set(decisions) == {
        "coordinator_triage",
        "coordinator_publish",
        "supplier_patch_priority",
        "deployer_patch_priority",
        "cisa_coordinator",
    }
    assert decisions["cisa_coordinator"]["outcome"] == "act"
    assert decisions["deployer_patch_priority"]["outcome"] == "immediate"
    assert decisions["supplier_patch_priority"]["outcome"] == "immediate"

    low = cases["low"]
    before = client.get(f"/api/v1/cases/{low}/priority", headers=env["ana"]).json()
    assert before["inputs"]["automatable"] == "no" and before["inputs"]["technical_impact"] == "partial"
    assert before["decisions"]["cisa_coordinator"]["outcome"] == "track"
    put = client.put(
        f"/api/v1/cases/{low}/ssvc-inputs",
        json={"values": {"automatable": "yes", "technical_impact": "Total", "exploitation": "public poc"}},
        headers=env["ana"],
    )
    assert put.status_code == 200, put.text
    after = put.json()
    assert (
        after["input_sources"]["automatable"] == "analyst" and after["inputs"]["technical_impact"] == "total"
    )
    assert after["decisions"]["cisa_coordinator"]["outcome"] == "track*"  # public poc, yes, total, medium
    assert client.get(f"/api/v1/cases/{low}/ssvc-inputs", headers=env["ana"]).json() == {
        "automatable": "yes",
        "technical_impact": "total",
        "exploitation": "public poc",
    }
    bad_key = client.put(
        f"/api/v1/cases/{low}/ssvc-inputs", json={"values": {"bogus": "x"}}, headers=env["ana"]
    )
    assert bad_key.status_code == 422 and bad_key.json()["errors"][0]["pointer"] == "/values/bogus"
    bad_value = client.put(
        f"/api/v1/cases/{low}/ssvc-inputs", json={"values": {"automatable": "maybe"}}, headers=env["ana"]
    )
    assert bad_value.status_code == 422 and bad_value.json()["errors"][0]["pointer"] == "/values/automatable"
    cleared = client.put(
        f"/api/v1/cases/{low}/ssvc-inputs", json={"values": {"automatable": None}}, headers=env["ana"]
    )
    assert cleared.json()["overrides"] == {}
    denied = client.put(f"/api/v1/cases/{low}/ssvc-inputs", json={"values": {}}, headers=env["alice"])
    assert denied.status_code == 403
    with runtime.uow(Actor.system("test"), write=False) as uow:
        ana = subject_of(runtime, _user_id(runtime, "ana"))
        facts_obj = case_facts(uow.session, ana, cases["kev"])
    assert facts_obj.kev is not None and facts_obj.kev.ransomware_use == "Known"
    assert facts_obj.epss_percentile == 0.991 and facts_obj.best_score is not None
    assert facts_obj.decisions["cisa_coordinator"].inputs["automatable"] == "yes"


def test_the_queue_orders_cases_and_says_why(env: dict[str, Any]) -> None:
    client = env["client"]
    cases = three_cases(env)
    r = client.get("/api/v1/queue", headers=env["ana"])
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"] == 3
    assert [i["case_id"] for i in body["items"]] == [cases["kev"], cases["low"], cases["bare"]]
    top = body["items"][0]
    assert top["rank"] == 1 and top["ssvc"] == "act" and top["in_kev"] and top["cvss"] == 9.8
    assert "In CISA KEV since 2024-03-01; ransomware use known" in top["reasons"]
    assert "KEV due date for federal agencies: 2024-03-22" in top["reasons"]
    assert "EPSS 0.94 (99th percentile)" in top["reasons"]
    assert "CVSS 9.8 Critical (v3.1, from the finder)" in top["reasons"]
    assert (
        "Affects 1 participant through 1 registered asset (1 critical, 1 internet-exposed)" in top["reasons"]
    )
    second = body["items"][1]["reasons"]
    assert "Not in CISA KEV" in second and "EPSS 0.10 (50th percentile)" in second
    third = body["items"][2]["reasons"]
    assert "No EPSS score" in third and "No CVSS score" in third
    assert "No registered asset is known to be affected" in third
    page = client.get("/api/v1/queue?limit=1&offset=1", headers=env["ana"]).json()
    assert page["total"] == 3 and [(i["rank"], i["case_id"]) for i in page["items"]] == [(2, cases["low"])]
    # Coordinators' work: partners do not read the queue.
    assert client.get("/api/v1/queue", headers=env["alice"]).status_code == 403
    assert client.get("/api/v1/queue?limit=0", headers=env["ana"]).status_code == 422
