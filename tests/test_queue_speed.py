"""The priority queue ranks every case in bulk: the same order, facts and reasons as ranking
each case from its whole facts, a fixed number of queries whatever the number of cases, and
only the cases the policy lets the subject read."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event, insert, select

from clearinghouse.access import Action, Forbidden, Subject, can
from clearinghouse.intake.advisories.models import KevEntry
from clearinghouse.intake.models import Finding
from clearinghouse.matching.models import Asset, CaseMatch
from clearinghouse.priority import CaseFacts, facts_for_cases, priority_queue, reasons
from clearinghouse.priority._casework import case_resource, rank_key
from clearinghouse.priority.models import CaseScore, EpssScore, SsvcInputs
from clearinghouse.runtime import Runtime
from clearinghouse.storage import Actor, new_id
from clearinghouse.triage.models import Case
from tests.support.factories import make_org, make_user, subject_of
from tests.test_matches import _user_id

KEV = ["CVE-2024-10001", "CVE-2024-10002", "CVE-2024-10003"]
EPSS = {"CVE-2024-10001": 0.91, "CVE-2024-10004": 0.42, "CVE-2024-10005": 0.07, "CVE-2024-10002": 0.3}
CVES = [*KEV, "CVE-2024-10004", "CVE-2024-10005", "CVE-2024-10006"]
VECTORS = [
    ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8, "3.1"),
    ("CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N", 5.9, "3.1"),
    ("CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 7.8, "3.1"),
    ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", 9.3, "4.0"),
    ("AV:N/AC:L/Au:N/C:P/I:P/A:P", 7.5, "2.0"),
]
CLAIMS: list[dict[str, Any] | None] = [
    {"claimed": "code_execution"},
    {"claimed": "denial_of_service"},
    {"claimed": "privilege_escalation"},
    {"claimed": None},
    {},
    None,
]
OVERRIDES = [
    {"exploitation": "public poc"},
    {"automatable": "yes", "value_density": "concentrated"},
    {"mission_and_well_being_impact": "high", "technical_impact": "total"},
    {"report_public": "yes", "supplier_engagement": "unresponsive"},
]


def _marking(owner: str, classification: str = "UNCLASSIFIED", compartments: list[str] | None = None) -> Any:
    return {
        "tlp": "AMBER+STRICT",
        "classification": classification,
        "compartments": compartments or [],
        "owner_org_id": owner,
        "sharing_group_ids": [],
    }


def seed(runtime: Runtime, orgs: dict[str, str], n: int, rng: random.Random) -> list[str]:
    """``n`` cases of every shape the ranking reads, written directly (fast); their ids."""
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    findings: list[dict[str, Any]] = []
    cases: list[dict[str, Any]] = []
    scores: list[dict[str, Any]] = []
    matches: list[dict[str, Any]] = []
    overrides: list[dict[str, Any]] = []
    with runtime.uow(Actor.system("test")) as uow:
        assets = list(uow.session.scalars(select(Asset.id)))
    for i in range(n):
        case_id = new_id()
        roll = rng.random()
        marking = (
            _marking(orgs["lab"], "SECRET")
            if roll < 0.1
            else _marking(orgs["lab"], compartments=["NOFORN-X"])
            if roll < 0.15
            else _marking(orgs["lab"])
        )
        for j in range(rng.randint(1, 3)):
            fid = case_id if j == 0 else new_id()
            impact = rng.choice(CLAIMS)
            document: dict[str, Any] = {"title": f"Finding {i}.{j}"}
            if impact is not None:
                document["impact"] = impact
            if rng.random() < 0.5:
                document["aliases"] = [*rng.sample(CVES, rng.randint(0, 2)), "GHSA-xxxx-yyyy-zzzz"]
            findings.append(
                {
                    "id": fid,
                    "submitter_org_id": orgs["lab"],
                    "idempotency_key": fid,
                    "content_hash": fid.replace("-", ""),
                    "state": rng.choice(["validated", "validated", "rejected", "triaged"]),
                    "queue": "main",
                    "title": f"Finding {i}.{j}",
                    "description": "A long enough description of the weakness.",
                    "purl": f"pkg:pypi/p{i}@1.0",
                    "package_type": "pypi",
                    "package_name": f"p{i}",
                    "version": "1.0",
                    "cwe": ["CWE-79"],
                    "generator_key": "scanner|model|lab",
                    "case_id": case_id,
                    "source_format": rng.choice(["native", "native", "osv"]),
                    "document": document,
                    "checks": [],
                    "received_at": now + dt.timedelta(minutes=i * 5 + j),
                    "updated_at": now,
                    **_marking(orgs["lab"]),
                }
            )
        cases.append(
            {
                "id": case_id,
                "title": f"Case {i}",
                "purl": f"pkg:pypi/p{i}@1.0",
                "cwe": ["CWE-79"],
                "member_count": 1,
                "first_reporter_finding_id": case_id,
                "first_reporter_org_id": orgs["lab"],
                "created_at": now,
                "updated_at": now,
                **marking,
            }
        )
        for vector, base, version in rng.sample(VECTORS, rng.randint(0, 2)):
            scores.append(
                {
                    "id": new_id(),
                    "key": new_id(),
                    "case_id": case_id,
                    "source": rng.choice(["finder", "coordinator", "imported"]),
                    "origin": "test",
                    "version": version,
                    "vector": vector,
                    "base_score": base,
                    "severity": "High",
                    "note": "",
                    "created_at": now,
                }
            )
        for asset_id in rng.sample(assets, rng.randint(0, 3)):
            for _ in range(rng.randint(1, 2)):  # two components of one asset: still one asset
                matches.append(
                    {
                        "id": new_id(),
                        "key": new_id(),
                        "case_id": case_id,
                        "asset_id": asset_id,
                        "component_name": "c",
                        "component_pointer": "/components/0",
                        "package": "PyPI/p",
                        "package_pointer": "/package",
                        "matched_range": ">=0",
                        "rule": "purl",
                        "confidence": 1.0,
                        "affected": rng.choice([True, None, False]),
                        "explanation": "test",
                        "created_at": now,
                        "updated_at": now,
                        **_marking(orgs["grid"]),
                    }
                )
        if rng.random() < 0.3:
            overrides.append({"case_id": case_id, "values": rng.choice(OVERRIDES), "note": ""})
    with runtime.uow(Actor.system("test")) as uow:
        for model, rows in (
            (Finding, findings),
            (Case, cases),
            (CaseScore, scores),
            (CaseMatch, matches),
            (SsvcInputs, overrides),
        ):
            if rows:
                uow.session.execute(insert(model), rows)
        uow.commit()
    return [c["id"] for c in cases]


@pytest.fixture
def env(runtime: Runtime) -> Iterator[dict[str, Any]]:
    orgs = {
        "lab": make_org(runtime, "Lab A", "ai_developer"),
        "grid": make_org(runtime, "Grid Co", "critical_infrastructure_operator"),
        "water": make_org(runtime, "Water Co", "critical_infrastructure_operator"),
        "house": make_org(runtime, "Clearinghouse", "government_agency"),
    }
    make_user(runtime, "ana", orgs["house"], ["analyst"])
    make_user(runtime, "sam", orgs["house"], ["coordinator"], clearance="SECRET", compartments=["NOFORN-X"])
    make_user(runtime, "alice", orgs["lab"], ["partner"])
    with runtime.uow(Actor.system("test")) as uow:
        for cve in KEV:
            uow.session.add(
                KevEntry(
                    cve_id=cve,
                    vendor="Example",
                    product="p",
                    name=cve,
                    date_added=dt.date(2024, 3, 1),
                    due_date=dt.date(2024, 3, 22) if cve != KEV[2] else None,
                    ransomware_use="Known" if cve == KEV[0] else "Unknown",
                    cwes=[],
                    content_hash=cve,
                )
            )
        for cve, probability in EPSS.items():
            uow.session.add(EpssScore(cve_id=cve, probability=probability, percentile=0.5, source="test"))
        for k, (owner, criticality, exposed) in enumerate(
            [
                ("grid", "critical", True),
                ("grid", "low", False),
                ("water", "high", False),
                ("water", "medium", True),
                ("grid", "critical", False),
            ]
        ):
            uow.session.add(
                Asset(
                    id=new_id(),
                    name=f"asset {k}",
                    internet_exposed=exposed,
                    criticality=criticality,
                    sbom_format="purl-list",
                    sbom_sha256="0" * 64,
                    **_marking(orgs[owner]),
                )
            )
        uow.commit()
    yield {"runtime": runtime, "orgs": orgs, "rng": random.Random(14409)}


def _subject(runtime: Runtime, username: str) -> Subject:
    return subject_of(runtime, _user_id(runtime, username))


def reference(runtime: Runtime, subject: Subject) -> list[CaseFacts]:
    """The queue as it is defined: every validated case the subject may read, each ranked
    from its whole facts (``facts_for_cases``), sorted by ``rank_key``."""
    with runtime.uow(Actor.system("test"), write=False) as uow:
        validated = {
            c for c in uow.session.scalars(select(Finding.case_id).where(Finding.state == "validated")) if c
        }
        cases = uow.session.scalars(select(Case).where(Case.id.in_(sorted(validated))))
        readable = [c.id for c in cases if can(subject, Action.READ, case_resource(c))]
        return sorted(facts_for_cases(uow.session, readable).values(), key=rank_key)


def test_bulk_ranking_equals_ranking_each_case_from_its_facts(env: dict[str, Any]) -> None:
    runtime = env["runtime"]
    seed(runtime, env["orgs"], 150, env["rng"])
    for who in ("ana", "sam"):
        subject = _subject(runtime, who)
        expected = reference(runtime, subject)
        assert len(expected) > 50
        with runtime.uow(Actor.system("test"), write=False) as uow:
            total, items = priority_queue(uow.session, subject, limit=1000)
            assert total == len(expected)
            assert [i.facts.case_id for i in items] == [f.case_id for f in expected]
            assert [i.rank for i in items] == list(range(1, total + 1))
            full = facts_for_cases(uow.session, [f.case_id for f in expected])
            for item in items:
                assert item.facts == full[item.facts.case_id]
                assert item.reasons == reasons(item.facts)
            # Pages, one after another, are the whole queue.
            paged: list[str] = []
            for offset in range(0, total + 7, 7):
                page_total, page = priority_queue(uow.session, subject, limit=7, offset=offset)
                assert page_total == total
                assert [i.rank for i in page] == list(range(offset + 1, offset + 1 + len(page)))
                paged.extend(i.facts.case_id for i in page)
            assert paged == [f.case_id for f in expected]
    # The shapes the data was built to have are there: KEV first, cases of every decision.
    ranked = reference(runtime, _subject(runtime, "sam"))
    assert ranked[0].kev is not None
    assert len({f.decisions["cisa_coordinator"].outcome for f in ranked}) >= 3
    assert any(f.overrides for f in ranked) and any(f.matched_assets for f in ranked)


def test_the_queue_shows_only_what_the_subject_may_read(env: dict[str, Any]) -> None:
    runtime = env["runtime"]
    ids = seed(runtime, env["orgs"], 80, env["rng"])
    ana, sam = _subject(runtime, "ana"), _subject(runtime, "sam")
    with runtime.uow(Actor.system("test"), write=False) as uow:
        secret = {
            c.id
            for c in uow.session.scalars(select(Case).where(Case.id.in_(ids)))
            if c.classification == "SECRET" or c.compartments
        }
        validated = set(uow.session.scalars(select(Finding.case_id).where(Finding.state == "validated")))
        ana_total, ana_items = priority_queue(uow.session, ana, limit=1000)
        sam_total, sam_items = priority_queue(uow.session, sam, limit=1000)
    assert secret & validated, "the seed has marked cases in the queue"
    assert {i.facts.case_id for i in sam_items} == validated
    assert {i.facts.case_id for i in ana_items} == validated - secret
    assert (ana_total, sam_total) == (len(validated - secret), len(validated))
    # Partners do not read the queue at all.
    with runtime.uow(Actor.system("test"), write=False) as uow, pytest.raises(Forbidden):
        priority_queue(uow.session, _subject(runtime, "alice"))


def _statements(runtime: Runtime, subject: Subject) -> int:
    count = 0

    def counted(*_: Any) -> None:
        nonlocal count
        count += 1

    event.listen(runtime.engine, "before_cursor_execute", counted)
    try:
        with runtime.uow(Actor.system("test"), write=False) as uow:
            priority_queue(uow.session, subject, limit=5)
    finally:
        event.remove(runtime.engine, "before_cursor_execute", counted)
    return count


def test_the_number_of_queries_does_not_grow_with_the_cases(env: dict[str, Any]) -> None:
    runtime = env["runtime"]
    sam = _subject(runtime, "sam")
    seed(runtime, env["orgs"], 20, env["rng"])
    few = _statements(runtime, sam)
    seed(runtime, env["orgs"], 200, env["rng"])
    many = _statements(runtime, sam)
    assert many == few
    assert priority_queue.__doc__ and "bulk" in priority_queue.__doc__


def test_an_empty_queue(env: dict[str, Any]) -> None:
    runtime = env["runtime"]
    with runtime.uow(Actor.system("test"), write=False) as uow:
        assert priority_queue(uow.session, _subject(runtime, "ana")) == (0, [])
