"""Pure parts of coordination and notifications, and their failure paths:
vers ranges, finder scores, VEX shape errors, webhook and e-mail failures."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any, cast

import pytest
from sqlalchemy import select

from clearinghouse.config import Settings
from clearinghouse.coordination import record_from_json, record_to_json
from clearinghouse.coordination._advisory import finder_severities, vers_to_range
from clearinghouse.coordination._vex import parse
from clearinghouse.domain import (
    AdvisoryRecord,
    AffectedPackage,
    Credit,
    ProductStatement,
    ProductStatus,
    RangeEvent,
    RecordSource,
    Reference,
    Revision,
    Severity,
    VersionRange,
    VexJustification,
)
from clearinghouse.errors import InvalidInput
from clearinghouse.intake.models import Finding
from clearinghouse.notifications import MAX_ATTEMPTS
from clearinghouse.notifications._delivery import (
    prepare_email,
    record_email,
    send_digest,
    send_prepared_email,
)
from clearinghouse.notifications.models import DeliveryAttempt, EmailDelivery, WebhookDelivery
from clearinghouse.outbound import OutboundPolicy
from clearinghouse.runtime import Runtime
from clearinghouse.storage import Actor
from tests.test_coordination_workflow import PURL, coordination_env, run_jobs, validated_case
from tests.test_intake import finding
from tests.test_notifications import force_due


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Webhooks here go to 127.0.0.1: the operator's allow-list admits loopback, explicitly."""
    return dataclasses.replace(settings, outbound_allow=("127.0.0.1/32",))


@pytest.fixture
def env(runtime: Runtime) -> Iterator[dict[str, Any]]:
    yield from coordination_env(runtime)


NOW = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)


def test_vers_ranges_become_osv_events() -> None:
    rng, exact = vers_to_range("vers:pypi/>=1.0|<2.3.1")
    assert rng is not None and [(e.kind, e.value) for e in rng.events] == [
        ("introduced", "1.0"),
        ("fixed", "2.3.1"),
    ]
    rng, exact = vers_to_range("vers:npm/<=4.1.0|=5.0.0|!=4.0.0")
    assert rng is not None and [(e.kind, e.value) for e in rng.events] == [
        ("introduced", "0"),
        ("last_affected", "4.1.0"),
    ]
    assert exact == ("5.0.0",)
    assert vers_to_range("vers:pypi/*") == (None, ())


def test_finder_scores_are_parsed_and_deduplicated() -> None:
    vector = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
    findings = [
        SimpleNamespace(document={"impact": {"cvss_vector": vector}}),
        SimpleNamespace(document={"impact": {"cvss_vector": vector}}),
        SimpleNamespace(document={"impact": {"cvss_vector": "CVSS:9.9/nonsense"}}),
        SimpleNamespace(document={"impact": {}}),
    ]
    [score] = finder_severities(cast(list[Finding], findings))
    assert score.type == "CVSS_V3" and score.base_score == 9.8 and score.source == "finder"


def test_records_survive_json() -> None:
    record = AdvisoryRecord(
        id="CH-1",
        title="t",
        modified=NOW,
        source=RecordSource.CASE,
        aliases=("CVE-2026-1",),
        published=NOW,
        cwes=("CWE-79",),
        severity=(Severity("CVSS_V3", "CVSS:3.1/AV:N", 5.0, "finder"),),
        affected=(
            AffectedPackage(
                "PyPI",
                "x",
                "pkg:pypi/x",
                (VersionRange("ECOSYSTEM", (RangeEvent("introduced", "0"),)),),
                ("1",),
            ),
        ),
        product_statements=(
            ProductStatement(
                "pkg:pypi/x",
                "x",
                "V",
                ProductStatus.NOT_AFFECTED,
                justification=VexJustification.COMPONENT_NOT_PRESENT,
                updated_at=NOW,
            ),
        ),
        references=(Reference("https://example.com"),),
        credits=(Credit("Lab"),),
        revisions=(Revision("1", NOW, "first"),),
        case_id="1",
    )
    assert record_from_json(record_to_json(record)) == record


@pytest.mark.parametrize(
    ("document", "pointer"),
    [
        ([1], ""),
        (
            {
                "bomFormat": "CycloneDX",
                "specVersion": "1.5",
                "vulnerabilities": [{"id": "X", "analysis": []}],
            },
            "/vulnerabilities/0/analysis",
        ),
        (
            {
                "bomFormat": "CycloneDX",
                "specVersion": "1.5",
                "vulnerabilities": [
                    {"id": "X", "analysis": {"state": "exploitable"}, "affects": [{"ref": "nope"}]}
                ],
            },
            "/vulnerabilities/0/affects/0/ref",
        ),
        (
            {
                "bomFormat": "CycloneDX",
                "specVersion": "1.5",
                "vulnerabilities": [
                    {"id": "X", "analysis": {"state": "resolved"}, "affects": [{"ref": "pkg:pypi/x"}]}
                ],
            },
            "/vulnerabilities/0/affects/0/versions",
        ),
        (
            {
                "bomFormat": "CycloneDX",
                "specVersion": "1.5",
                "components": [{"bom-ref": "a", "purl": "pkg:"}],
                "vulnerabilities": [],
            },
            "/components/0/purl",
        ),
        (
            {
                "@context": "https://openvex.dev/ns/v0.2.0",
                "@id": "x",
                "author": "a",
                "timestamp": "t",
                "statements": [{"vulnerability": "CVE-1", "products": ["pkg:pypi/x"], "status": "unknown"}],
            },
            "/statements/0/status",
        ),
        (
            {"@context": "https://openvex.dev/ns/v0.2.0", "author": "a", "timestamp": "t", "statements": []},
            "/@id",
        ),
        ({"document": {"category": "csaf_base", "csaf_version": "2.0"}}, "/document/category"),
        ({"document": {"category": "csaf_vex", "csaf_version": "2.1"}}, "/document/csaf_version"),
        (
            {
                "document": {"category": "csaf_vex", "csaf_version": "2.0"},
                "product_tree": {},
                "vulnerabilities": [{"product_status": {}}],
            },
            "/vulnerabilities/0/cve",
        ),
        (
            {
                "document": {"category": "csaf_vex", "csaf_version": "2.0"},
                "product_tree": {"full_product_names": [{"product_id": "P", "name": "p"}]},
                "vulnerabilities": [{"cve": "CVE-1", "product_status": {"fixed": ["P"]}}],
            },
            "/vulnerabilities/0/product_status/fixed/0",
        ),
        (
            {
                "document": {"category": "csaf_vex", "csaf_version": "2.0"},
                "product_tree": {"full_product_names": [{"product_id": "P", "name": "p"}]},
                "vulnerabilities": [
                    {
                        "cve": "CVE-1",
                        "flags": [{"label": "bogus", "product_ids": ["P"]}],
                        "product_status": {},
                    }
                ],
            },
            "/vulnerabilities/0/flags/0/label",
        ),
    ],
)
def test_vex_shape_errors_name_the_field(document: Any, pointer: str) -> None:
    import json

    with pytest.raises(InvalidInput) as refused:
        parse(json.dumps(document))
    assert refused.value.pointer == pointer


def test_csaf_ids_remediations_and_recommended_are_read() -> None:
    doc = {
        "document": {"category": "csaf_vex", "csaf_version": "2.0"},
        "product_tree": {
            "full_product_names": [
                {
                    "product_id": "P",
                    "name": "p 1.1",
                    "product_identification_helper": {"purl": "pkg:npm/p@1.1.0"},
                }
            ]
        },
        "vulnerabilities": [
            {
                "ids": [{"system_name": "GHSA", "text": "GHSA-aaaa-bbbb-cccc"}],
                "product_status": {"known_affected": ["P"], "recommended": ["P"]},
                "remediations": [
                    {"category": "vendor_fix", "details": "Upgrade to 1.2.0", "product_ids": ["P"]}
                ],
            }
        ],
    }
    [st] = parse(doc)
    assert st.status is ProductStatus.AFFECTED and st.vulnerabilities == ("GHSA-aaaa-bbbb-cccc",)
    assert st.action_statement == "Upgrade to 1.2.0" and st.purl == "pkg:npm/p"
    vex = {
        "@context": "https://openvex.dev/ns/v0.0.1",
        "@id": "x",
        "author": "a",
        "timestamp": "t",
        "statements": [
            {
                "vulnerability": "CVE-1",
                "products": ["Appliance 7"],
                "status": "not_affected",
                "justification": "component_not_present",
            }
        ],
    }
    [st] = parse(vex)
    assert st.purl is None and st.product_name == "Appliance 7" and st.product_id == "Appliance 7"


def test_delivery_failures_are_recorded_and_end(env: dict[str, Any]) -> None:
    client, runtime = env["client"], env["runtime"]
    made = client.post(
        "/api/v1/notifications/webhooks",
        json={"url": "http://127.0.0.1:9/nothing-listens"},
        headers=env["vee"],
    ).json()
    case_id = validated_case(env)
    client.post(
        f"/api/v1/cases/{case_id}/coordination/vendors",
        json={"vendor": "Fastparse Inc"},
        headers=env["coord"],
    )
    run_jobs(runtime)
    with runtime.uow(Actor.system("test"), write=False) as uow:
        attempt = uow.session.scalars(select(DeliveryAttempt)).one()
        assert not attempt.ok and attempt.status_code is None and "Connect" in (attempt.error or "")
    for _ in range(MAX_ATTEMPTS - 1):
        force_due(runtime, "notifications.webhook")
        run_jobs(runtime)
    with runtime.uow(Actor.system("test")) as uow:
        delivery = uow.session.scalars(select(WebhookDelivery)).one()
        assert delivery.status == "failed" and delivery.attempts == MAX_ATTEMPTS
        assert delivery.next_attempt_at is None
        # Mail with no SMTP server configured fails the same way, attempt by attempt.
        mail = EmailDelivery(user_id=env["ids"]["vee"], to_address="vee@example.org", subject="s", body="b")
        uow.session.add(mail)
        uow.flush()
        plan = prepare_email(uow.session, mail.id)
        record_email(uow, plan, send_prepared_email(plan, OutboundPolicy()))
        assert mail.attempts == 1 and mail.last_error == "no SMTP server is configured"
        assert send_digest(uow, env["ids"]["vee"]) is None  # nothing waiting
        uow.commit()
    # A deactivated subscription gets nothing more.
    client.delete(f"/api/v1/notifications/webhooks/{made['subscription']['id']}", headers=env["vee"])
    client.post(f"/api/v1/notifications/webhooks/{made['subscription']['id']}/ping", headers=env["vee"])
    run_jobs(runtime)
    with runtime.uow(Actor.system("test"), write=False) as uow:
        newest = uow.session.scalars(
            select(WebhookDelivery).order_by(WebhookDelivery.created_at.desc())
        ).first()
        assert newest is not None and newest.status == "failed" and "deactivated" in (newest.last_error or "")


def test_preference_and_subscription_errors(env: dict[str, Any]) -> None:
    client = env["client"]
    put = client.put
    assert (
        put(
            "/api/v1/notifications/preferences", json={"ssvc_decisions": ["panic"]}, headers=env["vee"]
        ).json()["errors"][0]["pointer"]
        == "/ssvc_decisions/0"
    )
    got = put(
        "/api/v1/notifications/preferences",
        json={"min_severity": "high", "ssvc_decisions": ["Act"], "digest_hour": 6},
        headers=env["vee"],
    ).json()
    assert got["min_severity"] == "high" and got["ssvc_decisions"] == ["act"] and got["digest_hour"] == 6
    cleared = put("/api/v1/notifications/preferences", json={"clear_min_severity": True}, headers=env["vee"])
    assert cleared.json()["min_severity"] is None
    assert client.get("/api/v1/notifications/preferences", headers=env["dub"]).json()["email_mode"] == "off"
    short = client.post(
        "/api/v1/notifications/webhooks",
        json={"url": "https://x.example", "secret": "short"},
        headers=env["vee"],
    )
    assert short.status_code == 422
    unknown = client.post(
        "/api/v1/notifications/webhooks",
        json={"url": "https://x.example", "events": ["bogus"]},
        headers=env["vee"],
    )
    assert unknown.status_code == 422
    case_id = validated_case(env)
    assert (
        client.post(
            f"/api/v1/cases/{case_id}/coordination/vendors",
            json={"vendor": "No Such Org"},
            headers=env["coord"],
        ).status_code
        == 422
    )
    assert (
        client.post(
            f"/api/v1/cases/{case_id}/coordination/aliases",
            json={"alias": "CVE-2026-77777"},
            headers=env["coord"],
        ).status_code
        == 200
    )
    fid = client.post("/api/v1/findings", json=finding(5), headers=env["scanner"]).json()["id"]
    run_jobs(env["runtime"])
    client.post(f"/api/v1/findings/{fid}:validate", json={"note": "ok"}, headers=env["coord"])
    other = client.get(f"/api/v1/findings/{fid}", headers=env["coord"]).json()["case_id"]
    assert other != case_id
    taken = client.post(
        f"/api/v1/cases/{other}/coordination/aliases", json={"alias": "cve-2026-77777"}, headers=env["coord"]
    )
    assert taken.status_code == 409 and taken.json()["errors"][0]["pointer"] == "/alias"
    assert client.get("/api/v1/cases/nope/coordination", headers=env["coord"]).status_code == 404
    assert client.get(f"/api/v1/cases/{case_id}/coordination", headers=env["dub"]).status_code == 404
    fresh = client.get(f"/api/v1/cases/{case_id}/coordination", headers=env["coord"]).json()
    assert fresh["deadline"] is None and fresh["aliases"] == ["CVE-2026-77777", "GHSA-abcd-efgh-jkmp"]


def test_service_edges(env: dict[str, Any]) -> None:
    from clearinghouse.access import TLP, NotFound
    from clearinghouse.access.services import OPERATOR
    from clearinghouse.coordination import _workflow as wf
    from tests.support.factories import subject_of

    runtime = env["runtime"]
    case_id = validated_case(env)
    vee = subject_of(runtime, env["ids"]["vee"])
    dub = subject_of(runtime, env["ids"]["dub"])
    with runtime.uow(Actor.system("test")) as uow:
        # Before any vendor is contacted, staff see an open case with no clock.
        view = wf.coordination_of(uow.session, OPERATOR, case_id)
        assert view.full and view.deadline is None and view.threads == []
        assert wf.resolve_case_id(uow.session, f"CH-{case_id}") == case_id
        assert wf.resolve_case_id(uow.session, "CH-nothing") is None
        with pytest.raises(NotFound):
            wf.record_for_case(uow.session, OPERATOR, "CVE-1999-0001")
        with pytest.raises(InvalidInput) as bad:
            wf.notify_vendor(uow, OPERATOR, case_id, "Fastparse Inc", [wf.ProductRef(purl="pkg:")])
        assert bad.value.pointer == "/products/0/purl"
        with pytest.raises(InvalidInput) as bad:
            wf.notify_vendor(uow, OPERATOR, case_id, "Fastparse Inc", [wf.ProductRef(name=" ")])
        assert bad.value.pointer == "/products/0/name"
        thread, created = wf.notify_vendor(
            uow, OPERATOR, case_id, "Fastparse Inc", [wf.ProductRef(purl=PURL)]
        )
        same, again = wf.notify_vendor(uow, OPERATOR, case_id, "Fastparse Inc", brief="Shared summary only.")
        assert created and not again and same.id == thread.id and thread.brief == "Shared summary only."
        assert [t.id for t in wf.visible_threads(uow.session, vee, case_id)] == [thread.id]
        assert wf.visible_threads(uow.session, dub, case_id) == []
        with pytest.raises(InvalidInput):
            wf.post_message(uow, vee, thread.id, " ")
        with pytest.raises(InvalidInput) as bad:
            wf.set_statuses(uow, vee, thread.id, [])
        assert bad.value.pointer == "/statuses"
        stray = wf.StatusUpdate(wf.ProductRef(purl=PURL), ProductStatus.AFFECTED, fixed_versions=("1",))
        with pytest.raises(InvalidInput) as bad:
            wf.set_statuses(uow, vee, thread.id, [stray])
        assert bad.value.pointer == "/statuses/0/fixed_versions"
        affected = wf.StatusUpdate(wf.ProductRef(purl=PURL), ProductStatus.AFFECTED)
        wf.set_statuses(uow, vee, thread.id, [affected])
        [row] = wf.set_statuses(uow, vee, thread.id, [affected])  # unchanged: no new event
        assert row.status == "affected"
        with pytest.raises(InvalidInput) as bad:
            naive = dt.datetime(2030, 1, 1)
            wf.set_disclosure(uow, OPERATOR, case_id, wf.DisclosureChange(embargo_end=naive))
        assert bad.value.pointer == "/embargo_end"
        with pytest.raises(InvalidInput):
            wf.set_disclosure(uow, OPERATOR, case_id, wf.DisclosureChange(disclosure_days=1000))
        end = NOW + dt.timedelta(days=400)
        wf.set_disclosure(uow, OPERATOR, case_id, wf.DisclosureChange(embargo_end=end, summary=" Summary. "))
        row_c = wf.set_disclosure(
            uow, OPERATOR, case_id, wf.DisclosureChange(clear_embargo=True, exploited=False)
        )
        assert row_c.embargo_end is None and row_c.summary == "Summary." and row_c.exploited_since is None
        # A reminder for a deadline that moved, or for a published case, says nothing.
        assert not wf.send_reminder(uow, OPERATOR, case_id, end.isoformat(), 7)
        assert not wf.send_reminder(uow, OPERATOR, "no-such-case", end.isoformat(), 7)
        assert wf.assign_alias(uow, OPERATOR, case_id, "PYSEC-2026-1").id == "PYSEC-2026-1"
        assert wf.assign_alias(uow, OPERATOR, case_id, "PYSEC-2026-1").id == "PYSEC-2026-1"
        with pytest.raises(InvalidInput) as bad:
            wf.publish(uow, OPERATOR, case_id, "  ")
        assert bad.value.pointer == "/summary"
        wf.publish(uow, OPERATOR, case_id, "First, public", tlp=TLP.CLEAR)
        wf.publish(uow, OPERATOR, case_id, "Second, for the reporter only", tlp=TLP.AMBER_STRICT)
        assert not wf.send_reminder(uow, OPERATOR, case_id, end.isoformat(), 7)
        # The vendor outside the AMBER+STRICT revision still reads the public one before it.
        [public] = wf.published_records(uow.session, dub)
        assert [r.summary for r in public.revisions] == ["First, public"]
        assert len(wf.record_for_case(uow.session, OPERATOR, case_id).revisions) == 2
        assert wf.record_for_case(uow.session, dub, "PYSEC-2026-1").revisions == public.revisions
        assert wf.deadlines(uow.session, OPERATOR) == []
        assert {i.kind.value for i in wf.deadlines(uow.session, OPERATOR, include_published=True)} == {
            "disclosure_deadline"
        }
        with pytest.raises(NotFound):
            wf.notify_vendor(uow, OPERATOR, "not-a-case", "Fastparse Inc")


def test_the_vendors_fixed_version_wins_over_the_finders_range() -> None:
    import dataclasses
    from types import SimpleNamespace

    from clearinghouse.coordination._advisory import _affected
    from clearinghouse.sharing.exports import to_osv

    finding = SimpleNamespace(purl="pkg:npm/widget", vers="vers:npm/>=7.0.0|<7.31.0")
    (package,) = _affected([finding], {"pkg:npm/widget": ["7.30.7"]})  # type: ignore[list-item]
    events = [(e.kind, e.value) for r in package.ranges for e in r.events]
    assert events == [("introduced", "7.0.0"), ("fixed", "7.30.7")]
    # Several fixed versions: the earliest by the ecosystem's order, not as text (7.30.9 < 7.30.10).
    (package,) = _affected([finding], {"pkg:npm/widget": ["7.30.10", "7.30.9"]})  # type: ignore[list-item]
    assert package.ranges[0].events[-1].value == "7.30.9"
    osv = to_osv(dataclasses.replace(_minimal_record(), affected=(package,)))
    assert osv["affected"][0]["ranges"][0]["events"][-1] == {"fixed": "7.30.9"}


def _minimal_record():  # type: ignore[no-untyped-def]
    import datetime as dt

    from clearinghouse.domain import AdvisoryRecord, RecordSource

    return AdvisoryRecord(
        id="CH-2026-0001",
        title="t",
        modified=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        source=RecordSource.CASE,
    )


def test_the_deadline_text_names_the_clock_that_set_it() -> None:
    import datetime as dt

    from clearinghouse.coordination import _clock

    contact = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    assert _clock.deadline_basis(None) is None
    assert _clock.deadline_basis(contact, 90) == "90 days after first contact"
    exploited = contact + dt.timedelta(days=10)
    assert _clock.disclosure_deadline(contact, 90, exploited) == exploited + dt.timedelta(days=7)
    assert _clock.deadline_basis(contact, 90, exploited) == (
        "7 days after exploitation became known, as the vulnerability is exploited"
    )
    before = contact - dt.timedelta(days=3)
    assert _clock.deadline_basis(contact, 90, before).startswith("7 days after first contact")
    # Exploitation known late, after the 90-day clock would end first: the 90 days still say so.
    assert _clock.deadline_basis(contact, 5, exploited) == "5 days after first contact"
