"""AI-facilitated crime incidents: reporting, who sees what, referral, evidence
under chain of custody and signed evidence bundles."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from clearinghouse.access import services as access
from clearinghouse.api.app import create_app
from clearinghouse.cli import app as cli_app
from clearinghouse.config import Settings
from clearinghouse.enforcement import verify_bundle
from clearinghouse.ledger import AuditEvent
from clearinghouse.runtime import Runtime
from clearinghouse.storage import Actor, new_id
from tests.support.factories import make_org, make_token, make_user

API = "/api/v1/enforcement"
EVIDENCE = b"GET /admin HTTP/1.1\r\nUser-Agent: autonomous-agent/0.3\r\n\r\n" * 20


def report_body(**extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "Autonomous agent exfiltrated patient records",
        "reporter_kind": "victim",
        "affected_system": "EHR portal, ehr.example-hospital.org",
        "occurred_at": "2026-06-20T03:10:00Z",
        "detected_at": "2026-06-20T09:00:00Z",
        "impacts": ["data_accessed", "data_exfiltrated"],
        "impact_description": "12,000 patient records read through a forgotten admin API",
        "indicators": [
            {"type": "ipv4", "value": "203.0.113.7"},
            {"type": "user_agent", "value": "autonomous-agent/0.3"},
        ],
        "ai_involvement": ["autonomous_agent", "ai_generated_exploit"],
        "ai_description": "The requests follow an agent's plan-act loop; the exploit was generated.",
        "model_identifiers": ["agent-x v0.3"],
        "statutes": ["1030", "18 U.S.C. 1028"],
        "atlas_techniques": ["AML.T0000", "AML.T0000.001"],
        "atlas_case_studies": ["AML.CS0000"],
        "personal": {
            "victim_contact": {
                "name": "Dana Ruiz",
                "email": "dana@example-hospital.org",
                "phone": "555-0100",
            },
            "transcripts": [
                {"kind": "prompt", "source": "seized agent log", "content": "find the admin API"}
            ],
        },
    }
    body.update(extra)
    return body


class World:
    """A hospital (victim), another partner, a liaison, a shared-with partner and staff."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.hospital = make_org(runtime, "Rural Hospital", "critical_infrastructure_operator")
        self.other = make_org(runtime, "Other Partner", "critical_infrastructure_operator")
        self.fbi = make_org(runtime, "FBI Cyber Division", "government_agency")
        self.isac = make_org(runtime, "Health ISAC", "critical_infrastructure_operator")
        self.cisa = make_org(runtime, "CISA", "government_agency")
        make_user(runtime, "nurse", self.hospital, ["partner"])
        make_user(runtime, "hospaud", self.hospital, ["auditor"])
        make_user(runtime, "outsider", self.other, ["partner"])
        make_user(runtime, "agent", self.fbi, ["law_enforcement_liaison"])
        make_user(runtime, "isacuser", self.isac, ["partner"])
        make_user(runtime, "ana", self.cisa, ["analyst", "admin", "coordinator"])
        with runtime.uow(Actor.system("test")) as uow:
            group = access.create_sharing_group(uow, access.OPERATOR, "Health sector", "", [self.isac])[0]
            uow.commit()
        self.group = group.id
        self.h = {
            name: self._headers(name) for name in ("nurse", "hospaud", "outsider", "agent", "isacuser", "ana")
        }

    def _headers(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {make_token(self.runtime, user, ['read', 'write', 'admin'])}"}


def _rewrite(bundle: bytes, member: str, change: Any) -> bytes:
    """The bundle with one member's bytes changed by ``change`` (a re-packed, well-formed zip)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(bundle)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            dst.writestr(info.filename, change(data) if info.filename == member else data)
    return out.getvalue()


def _flip(data: bytes, at: int = 10) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]


def test_incident_with_evidence_exports_a_bundle_that_verifies_and_catches_one_byte(runtime: Runtime) -> None:
    w = World(runtime)
    with TestClient(create_app(runtime)) as client:
        made = client.post(
            f"{API}/incidents", json=report_body(idempotency_key="ehr-1"), headers=w.h["nurse"]
        )
        assert made.status_code == 201, made.text
        incident = made.json()
        assert incident["statutes"] == ["18 U.S.C. 1028", "18 U.S.C. 1030"]
        assert incident["marking"]["tlp"] == "RED" and incident["reporter_org"] == w.hospital
        again = client.post(
            f"{API}/incidents", json=report_body(idempotency_key="ehr-1"), headers=w.h["nurse"]
        )
        assert again.status_code == 200 and again.json()["id"] == incident["id"]

        url = f"{API}/incidents/{incident['id']}/evidence?filename=../../agent.log&media_type=text/plain"
        added = client.post(url, content=EVIDENCE, headers=w.h["nurse"])
        assert added.status_code == 201, added.text
        evidence = added.json()
        assert evidence["filename"] == "agent.log" and evidence["size"] == len(EVIDENCE)
        assert evidence["sha256"] == hashlib.sha256(EVIDENCE).hexdigest()
        assert client.post(url, content=EVIDENCE, headers=w.h["nurse"]).json()["id"] == evidence["id"]

        exported = client.post(
            f"{API}/incidents/{incident['id']}/export",
            json={"reason": "referral package for FBI Baltimore"},
            headers=w.h["agent"],
        )
        assert exported.status_code == 200, exported.text
        assert exported.headers["content-type"] == "application/zip"
        bundle = exported.content

        checked = client.post(f"{API}/bundles/verify", content=bundle, headers=w.h["agent"]).json()
        assert checked["ok"] and checked["key_trusted"] is True and checked["files"] == 1, checked

    with zipfile.ZipFile(io.BytesIO(bundle)) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        custody = [json.loads(line) for line in zf.read("custody.jsonl").splitlines()]
        assert zf.read(manifest["files"][0]["path"]) == EVIDENCE
    assert [e["action"] for e in custody] == ["evidence.received", "evidence.exported"]
    assert custody[1]["detail"]["reason"] == "referral package for FBI Baltimore"
    assert custody[1]["detail"]["bundle_id"] == manifest["export"]["bundle_id"]
    assert manifest["export"]["by"].startswith("user:")

    trusted = {runtime.signing_key.key_id}
    assert verify_bundle(bundle, trusted).ok
    # One byte of the evidence file changed: the bundle no longer verifies.
    bad_file = verify_bundle(_rewrite(bundle, manifest["files"][0]["path"], _flip), trusted)
    assert not bad_file.ok and any("SHA-256" in p for p in bad_file.problems)
    # One byte of the custody log changed.
    bad_log = verify_bundle(_rewrite(bundle, "custody.jsonl", lambda d: _flip(d, 40)), trusted)
    assert not bad_log.ok and any("custody.jsonl" in p for p in bad_log.problems)
    # The custody log changed and its hash in the manifest updated to match: the signature fails.
    forged_log = _flip(zipfile.ZipFile(io.BytesIO(bundle)).read("custody.jsonl"), 40)

    def forge(data: bytes) -> bytes:
        doc = json.loads(data)
        doc["custody_log"]["sha256"] = hashlib.sha256(forged_log).hexdigest()
        return json.dumps(doc).encode()

    forged = _rewrite(_rewrite(bundle, "custody.jsonl", lambda _d: forged_log), "manifest.json", forge)
    report = verify_bundle(forged, trusted)
    assert not report.ok and any("signature" in p for p in report.problems)
    # A byte flipped in the raw archive (no re-packing) fails the member's CRC.
    raw = bytearray(bundle)
    raw[raw.index(b"custody.jsonl") + 60] ^= 0x01
    assert not verify_bundle(bytes(raw), trusted).ok
    # Signed by a key this verifier does not trust.
    assert verify_bundle(bundle, {"0" * 16}).key_trusted is False
    assert not verify_bundle(b"not a zip").ok


def test_only_the_reporter_liaisons_and_those_it_is_shared_with_see_an_incident(runtime: Runtime) -> None:
    w = World(runtime)
    with TestClient(create_app(runtime)) as client:
        incident = client.post(f"{API}/incidents", json=report_body(), headers=w.h["nurse"]).json()
        one = f"{API}/incidents/{incident['id']}"
        # A partner that did not report it cannot see it: the same 404 as a missing incident.
        hidden = client.get(one, headers=w.h["outsider"])
        missing = client.get(f"{API}/incidents/no-such-incident", headers=w.h["outsider"])
        assert hidden.status_code == missing.status_code == 404
        assert hidden.json()["detail"] == missing.json()["detail"]
        assert client.get(f"{API}/incidents", headers=w.h["outsider"]).json() == []
        # Staff roles alone do not admit.
        assert client.get(one, headers=w.h["ana"]).status_code == 404
        # The liaison sees it, personal data included.
        seen = client.get(one, headers=w.h["agent"])
        assert seen.status_code == 200
        assert seen.json()["personal"]["victim_contact"]["name"] == "Dana Ruiz"
        assert [i["id"] for i in client.get(f"{API}/incidents", headers=w.h["agent"]).json()] == [
            incident["id"]
        ]
        # The reporter's own organization sees its personal data, even as auditor.
        assert (
            client.get(one, headers=w.h["hospaud"]).json()["personal"]["transcripts"][0]["kind"] == "prompt"
        )
        # Shared with a sharing group: its members read the incident, personal data redacted.
        assert client.get(one, headers=w.h["isacuser"]).status_code == 404
        denied = client.post(f"{one}/sharing", json={"sharing_groups": [w.group]}, headers=w.h["hospaud"])
        assert denied.status_code == 403
        bad = client.post(f"{one}/sharing", json={"sharing_groups": ["nope"]}, headers=w.h["nurse"])
        assert bad.status_code == 422 and bad.json()["errors"][0]["pointer"] == "/sharing_groups/0"
        shared = client.post(f"{one}/sharing", json={"sharing_groups": [w.group]}, headers=w.h["nurse"])
        assert shared.status_code == 200 and shared.json()["marking"]["sharing_groups"] == [w.group]
        assert client.post(
            f"{one}/sharing", json={"sharing_groups": [w.group]}, headers=w.h["nurse"]
        ).is_success
        view = client.get(one, headers=w.h["isacuser"]).json()
        assert view["personal"] is None and view["redacted"] == ["victim_contact", "transcripts"]
        assert view["affected_system"].startswith("EHR portal")
        # ... and may neither read evidence nor move the referral.
        ev = client.post(f"{one}/evidence?filename=a.log", content=b"x", headers=w.h["nurse"]).json()
        content = f"{one}/evidence/{ev['id']}/content?reason=review"
        assert client.get(content, headers=w.h["isacuser"]).status_code == 403
        assert client.get(content, headers=w.h["outsider"]).status_code == 404
        assert client.get(f"{one}/evidence", headers=w.h["isacuser"]).status_code == 200
        assert (
            client.post(f"{one}/state", json={"state": "under_review"}, headers=w.h["isacuser"]).status_code
            == 403
        )


def test_referral_moves_reported_review_referred_closed(runtime: Runtime) -> None:
    w = World(runtime)
    with TestClient(create_app(runtime)) as client:
        incident = client.post(f"{API}/incidents", json=report_body(), headers=w.h["nurse"]).json()
        state = f"{API}/incidents/{incident['id']}/state"

        def move(body: dict[str, Any], who: str = "agent") -> Any:
            return client.post(state, json=body, headers=w.h[who])

        assert move({"state": "under_review"}, "nurse").status_code == 403  # the reporter does not move it
        skipped = move({"state": "referred", "office": "FBI Baltimore"})
        assert skipped.status_code == 409 and skipped.json()["errors"][0]["pointer"] == "/state"
        assert move({"state": "under_review"}).json()["state"] == "under_review"
        assert move({"state": "under_review"}).status_code == 200  # again: no change
        no_office = move({"state": "referred"})
        assert no_office.status_code == 422 and no_office.json()["errors"][0]["pointer"] == "/office"
        future = move({"state": "referred", "office": "FBI", "referred_at": "2999-01-01T00:00:00Z"})
        assert future.status_code == 422 and future.json()["errors"][0]["pointer"] == "/referred_at"
        referred = move(
            {
                "state": "referred",
                "office": "FBI Baltimore Field Office",
                "reference": "288A-BA-123",
                "referred_at": "2026-06-22T15:00:00Z",
            }
        ).json()
        assert referred["state"] == "referred" and referred["referral_office"] == "FBI Baltimore Field Office"
        assert referred["referred_at"].startswith("2026-06-22T15:00:00")
        assert move({"state": "closed"}).json()["errors"][0]["pointer"] == "/note"
        closed = move({"state": "closed", "note": "indicted"}).json()
        assert closed["state"] == "closed" and closed["closed_at"]
        assert move({"state": "under_review"}).status_code == 409
        late = client.post(
            f"{API}/incidents/{incident['id']}/evidence?filename=b", content=b"y", headers=w.h["nurse"]
        )
        assert late.status_code == 409
        listed = client.get(f"{API}/incidents?state=closed", headers=w.h["nurse"]).json()
        assert [i["id"] for i in listed] == [incident["id"]]
    with runtime.uow(Actor.system("test"), write=False) as uow:
        actions = uow.session.scalars(
            select(AuditEvent.action).where(AuditEvent.object_id == incident["id"]).order_by(AuditEvent.seq)
        ).all()
    assert actions == ["incident.reported", "incident.under_review", "incident.referred", "incident.closed"]


def test_tags_and_links_are_checked(runtime: Runtime) -> None:
    w = World(runtime)
    with TestClient(create_app(runtime)) as client:

        def refused(body: dict[str, Any]) -> str:
            answer = client.post(f"{API}/incidents", json=body, headers=w.h["nurse"])
            assert answer.status_code == 422, answer.text
            return str(answer.json()["errors"][0]["pointer"])

        assert refused(report_body(atlas_techniques=["AML.T0000", "AML.T9999"])) == "/atlas_techniques/1"
        assert refused(report_body(atlas_techniques=["T1190"])) == "/atlas_techniques/0"
        assert refused(report_body(atlas_case_studies=["AML.CS9999"])) == "/atlas_case_studies/0"
        assert refused(report_body(cases=["no-such-case"])) == "/cases/0"
        assert refused(report_body(registered_models=["no-such-model"])) == "/registered_models/0"
        assert refused(report_body(statutes=["18 U.S.C. 2511"])) == "/statutes/0"
        assert refused(report_body(ai_involvement=[])) == "/ai_involvement"
        assert refused(report_body(detected_at="2026-06-19T00:00:00Z")) == "/detected_at"
        assert refused(report_body(reporter_org="Nowhere Inc")) == "/reporter_org"
        assert refused(report_body(model_identifiers=[" "])) == "/model_identifiers"
        # Filing for another organization is a liaison's job.
        other = client.post(f"{API}/incidents", json=report_body(reporter_org=w.other), headers=w.h["nurse"])
        assert other.status_code == 403
        filed = client.post(
            f"{API}/incidents", json=report_body(reporter_org=w.hospital), headers=w.h["agent"]
        )
        assert filed.status_code == 201 and filed.json()["reporter_org"] == w.hospital
        assert client.post(f"{API}/incidents", json=report_body(), headers=w.h["hospaud"]).status_code == 403
        assert client.post(f"{API}/incidents", json=report_body()).status_code == 401
        # Links to a case the reporter can read and to a registered model are kept; another's case is refused.
        own_case, other_case, model = _case(runtime, w.hospital), _case(runtime, w.other), _model(runtime)
        linked = client.post(
            f"{API}/incidents",
            json=report_body(cases=[own_case], registered_models=[model]),
            headers=w.h["nurse"],
        )
        assert linked.status_code == 201, linked.text
        assert linked.json()["cases"] == [own_case] and linked.json()["registered_models"] == [model]
        assert refused(report_body(cases=[own_case, other_case])) == "/cases/1"


def _case(runtime: Runtime, org: str) -> str:
    from clearinghouse.access import TLP, Marking
    from clearinghouse.triage.models import Case

    with runtime.uow(Actor.system("test")) as uow:
        case = Case(
            id=new_id(),
            title="SQL injection in the EHR admin API",
            purl="pkg:generic/ehr@4.2",
            first_reporter_finding_id=new_id(),
            first_reporter_org_id=org,
        )
        case.set_marking(Marking(owner_org_id=org, tlp=TLP.AMBER_STRICT))
        uow.session.add(case)
        uow.commit()
    return case.id


def _model(runtime: Runtime) -> str:
    import datetime as dt

    from clearinghouse.access import TLP, Marking
    from clearinghouse.frontier.models import FrontierModel

    lab = make_org(runtime, "Frontier Lab", "ai_developer")
    with runtime.uow(Actor.system("test")) as uow:
        model = FrontierModel(
            name="agent-x", version="0.3", planned_partner_release_at=dt.datetime.now(dt.UTC)
        )
        model.set_marking(Marking(owner_org_id=lab, tlp=TLP.AMBER_STRICT))
        uow.session.add(model)
        uow.commit()
    return model.id


def test_custody_every_access_and_transfer_names_who_and_why(runtime: Runtime) -> None:
    w = World(runtime)
    with TestClient(create_app(runtime)) as client:
        incident = client.post(
            f"{API}/incidents", json=report_body(personal=None), headers=w.h["nurse"]
        ).json()
        assert incident["redacted"] == [] and incident["personal"] == {}
        base = f"{API}/incidents/{incident['id']}/evidence"
        ev = client.post(
            f"{base}?filename=mail.eml&media_type=message/rfc822", content=EVIDENCE, headers=w.h["nurse"]
        )
        evidence_id = ev.json()["id"]
        assert client.post(f"{base}?filename=empty", content=b"", headers=w.h["nurse"]).status_code == 422
        assert client.post(f"{base}?filename=x", content=b"z", headers=w.h["hospaud"]).status_code == 403
        assert client.post(f"{base}?filename=..", content=b"z", headers=w.h["nurse"]).status_code == 422

        no_reason = client.get(f"{base}/{evidence_id}/content", headers=w.h["agent"])
        assert no_reason.status_code == 422
        blank = client.get(f"{base}/{evidence_id}/content?reason=%20", headers=w.h["agent"])
        assert blank.status_code == 422 and blank.json()["errors"][0]["pointer"] == "/reason"
        got = client.get(f"{base}/{evidence_id}/content?reason=prepare%20affidavit", headers=w.h["agent"])
        assert got.status_code == 200 and got.content == EVIDENCE
        assert got.headers["digest"].startswith("sha-256=")
        assert client.get(f"{base}/nope/content?reason=x", headers=w.h["agent"]).status_code == 404

        moved = client.post(
            f"{base}/{evidence_id}/transfer",
            json={"to": "FBI Baltimore evidence room", "reason": "chain of custody for trial"},
            headers=w.h["agent"],
        )
        assert moved.status_code == 200 and moved.json()["custodian"] == "FBI Baltimore evidence room"
        same = client.post(
            f"{base}/{evidence_id}/transfer",
            json={"to": "FBI Baltimore evidence room", "reason": "again"},
            headers=w.h["agent"],
        )
        assert same.status_code == 200
        assert (
            client.post(
                f"{base}/{evidence_id}/transfer", json={"to": " ", "reason": "x"}, headers=w.h["agent"]
            ).status_code
            == 422
        )
        bad_export = client.post(
            f"{API}/incidents/{incident['id']}/export",
            json={"reason": "x", "evidence_ids": ["nope"]},
            headers=w.h["agent"],
        )
        assert (
            bad_export.status_code == 422 and bad_export.json()["errors"][0]["pointer"] == "/evidence_ids/0"
        )
        only = client.post(
            f"{API}/incidents/{incident['id']}/export",
            json={"reason": "court", "evidence_ids": [evidence_id]},
            headers=w.h["nurse"],
        )
        assert only.status_code == 200
        assert (
            client.post(
                f"{API}/incidents/{incident['id']}/export", json={"reason": "x"}, headers=w.h["outsider"]
            ).status_code
            == 404
        )
        empty = client.post(
            f"{API}/incidents", json=report_body(title="no evidence"), headers=w.h["nurse"]
        ).json()
        none = client.post(
            f"{API}/incidents/{empty['id']}/export", json={"reason": "x"}, headers=w.h["nurse"]
        )
        assert none.status_code == 409
    with runtime.uow(Actor.system("test"), write=False) as uow:
        events = uow.session.scalars(
            select(AuditEvent).where(AuditEvent.object_id == evidence_id).order_by(AuditEvent.seq)
        ).all()
        users = {u.username: u.id for u in access.list_users(uow.session, access.OPERATOR)}
    assert [e.action for e in events] == [
        "evidence.received",
        "evidence.accessed",
        "evidence.transferred",
        "evidence.exported",
    ]
    assert events[1].actor == f"user:{users['agent']}" and events[1].detail["reason"] == "prepare affidavit"
    assert events[2].detail["to_custodian"] == "FBI Baltimore evidence room"
    assert events[2].detail["from_custodian"] == users["nurse"]
    assert events[3].actor == f"user:{users['nurse']}" and events[3].detail["reason"] == "court"


def test_cli_reports_adds_exports_and_verifies(runtime: Runtime, settings: Settings, tmp_path: Path) -> None:
    World(runtime)
    env = {"CLEARINGHOUSE_HOME": str(settings.home), "CLEARINGHOUSE_DATABASE_URL": settings.database_url}
    cli = CliRunner()
    report = tmp_path / "incident.json"
    report.write_text(json.dumps(report_body(title="from a file")))
    made = cli.invoke(
        cli_app, ["incident", "report", "--user", "nurse", str(report), "--statute", "1343"], env=env
    )
    assert made.exit_code == 0, made.output
    incident_id = made.output.split("incident ")[1].split(":")[0]
    options = cli.invoke(
        cli_app,
        [
            "incident", "report", "--user", "agent", "--reporter-org", "Other Partner",
            "--title", "Voice-clone wire fraud", "--reporter-kind", "agency", "--system", "treasury wires",
            "--ai", "ai_impersonation", "--statute", "1343", "--technique", "AML.T0000",
        ],
        env=env,
    )  # fmt: skip
    assert options.exit_code == 0, options.output
    bad = cli.invoke(cli_app, ["incident", "report", "--user", "nurse", "--title", "x"], env=env)
    assert bad.exit_code == 2 and "/reporter_kind" in bad.output
    nobody = cli.invoke(cli_app, ["incident", "list", "--user", "ghost"], env=env)
    assert nobody.exit_code == 2
    listed = cli.invoke(cli_app, ["incident", "list", "--user", "agent"], env=env)
    assert listed.exit_code == 0 and "Voice-clone" in listed.output and "from a file" in listed.output
    assert incident_id in listed.output and "…" not in listed.output  # a pipe: ids and dates whole
    as_json = cli.invoke(cli_app, ["incident", "list", "--user", "agent", "--format", "json"], env=env)
    assert as_json.exit_code == 0, as_json.output
    incidents = {i["id"]: i for i in json.loads(as_json.output)}
    reported = dt.datetime.fromisoformat(incidents[incident_id]["reported"])
    assert reported.date().isoformat() in listed.output
    assert isinstance(incidents[incident_id]["statutes"], list)

    log = tmp_path / "agent.log"
    log.write_bytes(EVIDENCE)
    added = cli.invoke(cli_app, ["evidence", "add", "--user", "nurse", incident_id, str(log)], env=env)
    assert added.exit_code == 0 and "received evidence" in added.output, added.output
    moved = cli.invoke(cli_app, ["incident", "move", "--user", "agent", incident_id, "under_review"], env=env)
    assert moved.exit_code == 0 and "under_review" in moved.output
    out = tmp_path / "bundle.zip"
    exported = cli.invoke(
        cli_app,
        ["evidence", "export", "--user", "agent", incident_id, "--reason", "grand jury", "--out", str(out)],
        env=env,
    )
    assert exported.exit_code == 0, exported.output
    good = cli.invoke(cli_app, ["evidence", "verify", str(out)], env=env)
    assert good.exit_code == 0 and "OK" in good.output and "trusted" in good.output, good.output

    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(out) as zf:
        path = json.loads(zf.read("manifest.json"))["files"][0]["path"]
    tampered.write_bytes(_rewrite(out.read_bytes(), path, _flip))
    failed = cli.invoke(cli_app, ["evidence", "verify", str(tampered)], env=env)
    assert failed.exit_code == 1 and "FAIL" in failed.output
    log_tampered = tmp_path / "log.zip"
    log_tampered.write_bytes(_rewrite(out.read_bytes(), "custody.jsonl", lambda d: _flip(d, 5)))
    assert cli.invoke(cli_app, ["evidence", "verify", str(log_tampered)], env=env).exit_code == 1

    # Against a key it was not signed with.
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    stranger = tmp_path / "stranger.pub"
    stranger.write_bytes(
        Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    untrusted = cli.invoke(cli_app, ["evidence", "verify", str(out), "--key", str(stranger)], env=env)
    assert untrusted.exit_code == 1 and "not a trusted" in untrusted.output
    assert cli.invoke(cli_app, ["evidence", "verify", str(tmp_path / "none.zip")], env=env).exit_code == 2


@pytest.mark.parametrize("statute", ["1028", "18 USC 1030", "18 U.S.C. § 1343"])
def test_statute_shorthand(statute: str) -> None:
    from clearinghouse.enforcement import IncidentReport

    body = report_body(statutes=[statute])
    body.pop("personal")
    assert IncidentReport.model_validate(body).statutes[0].value.startswith("18 U.S.C. 1")
