"""Defensive-tool access programs: eligibility, applications, decisions, grants
that lapse by the clock or by revocation, usage reports, and the covered-model
rule through frontier review's functions."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from clearinghouse.api.app import create_app
from clearinghouse.cli import app as cli_app
from clearinghouse.config import Settings
from clearinghouse.errors import Conflict, InvalidInput
from clearinghouse.programs import services
from clearinghouse.runtime import Runtime
from clearinghouse.storage import Actor, utcnow
from tests.support.factories import make_org, make_token, make_user, subject_of

API = "/api/v1/programs"


def program_body(**extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "AI triage assistant for small hospitals",
        "tool_name": "CISA AI Defender (EDR triage)",
        "eligible_org_kinds": ["critical_infrastructure_operator", "government_agency"],
        "eligible_sectors": ["healthcare", "water", "financial_services"],
        "eligible_sizes": ["small"],
        "terms": "Use only for defending your own systems; report usage monthly.",
        "capacity": 2,
        "grant_days": 180,
    }
    body.update(extra)
    return body


class World:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.cisa = make_org(runtime, "CISA", "government_agency")
        self.hospital = make_org(runtime, "Valley Rural Hospital", "critical_infrastructure_operator")
        self.bank = make_org(runtime, "First Community Bank", "critical_infrastructure_operator")
        self.vendor = make_org(runtime, "Big Software", "software_vendor")
        make_user(runtime, "cisa_admin", self.cisa, ["admin"])
        make_user(runtime, "nurse", self.hospital, ["partner"])
        make_user(runtime, "teller", self.bank, ["partner"])
        make_user(runtime, "dev", self.vendor, ["partner"])
        self.h = {
            name: {"Authorization": f"Bearer {make_token(runtime, name, ['read', 'write', 'admin'])}"}
            for name in ("cisa_admin", "nurse", "teller", "dev")
        }


def test_rural_hospital_applies_is_approved_sees_its_grant_and_loses_access(runtime: Runtime) -> None:
    w = World(runtime)
    with TestClient(create_app(runtime)) as client:
        assert client.post(API, json=program_body(), headers=w.h["nurse"]).status_code == 403
        made = client.post(API, json=program_body(), headers=w.h["cisa_admin"])
        assert made.status_code == 201, made.text
        program = made.json()
        assert program["operating_org"] == w.cisa and program["marking"]["tlp"] == "GREEN"
        assert client.post(API, json=program_body(), headers=w.h["cisa_admin"]).status_code == 200
        # Every participant finds it.
        assert [p["id"] for p in client.get(API, headers=w.h["nurse"]).json()] == [program["id"]]

        apply_url = f"{API}/{program['id']}/applications"
        hospital_app = {"sector": "healthcare", "size": "small", "justification": "two IT staff, no SOC"}
        applied = client.post(apply_url, json=hospital_app, headers=w.h["nurse"])
        assert applied.status_code == 201, applied.text
        application = applied.json()
        assert (
            application["org_kind"] == "critical_infrastructure_operator"
            and application["status"] == "pending"
        )
        assert (
            client.post(apply_url, json=hospital_app, headers=w.h["nurse"]).json()["id"] == application["id"]
        )
        # Eligibility: sizes, sectors, organization kinds.
        too_big = client.post(
            apply_url, json={"sector": "financial_services", "size": "large"}, headers=w.h["teller"]
        )
        assert too_big.status_code == 422 and too_big.json()["errors"][0]["pointer"] == "/size"
        wrong_sector = client.post(
            apply_url, json={"sector": "energy", "size": "small"}, headers=w.h["teller"]
        )
        assert wrong_sector.status_code == 422 and wrong_sector.json()["errors"][0]["pointer"] == "/sector"
        vendor = client.post(
            apply_url, json={"sector": "information_technology", "size": "small"}, headers=w.h["dev"]
        )
        assert vendor.status_code == 409 and vendor.json()["errors"][0]["pointer"] == "/org_kind"
        # The hospital's application is its own business and CISA's.
        one = f"{API}/applications/{application['id']}"
        assert client.get(one, headers=w.h["teller"]).status_code == 404
        assert client.get(one, headers=w.h["nurse"]).status_code == 200
        assert len(client.get(f"{API}/applications?status=pending", headers=w.h["cisa_admin"]).json()) == 1

        # Only an administrator decides, with a reason.
        decision = f"{one}/decision"
        assert (
            client.post(decision, json={"approve": True, "reason": "mine"}, headers=w.h["nurse"]).status_code
            == 403
        )
        approved = client.post(
            decision, json={"approve": True, "reason": "eligible rural hospital"}, headers=w.h["cisa_admin"]
        )
        assert approved.status_code == 200, approved.text
        grant = approved.json()["grant"]
        assert approved.json()["application"]["status"] == "approved" and grant["active"]
        ends = dt.datetime.fromisoformat(grant["ends_at"])
        assert ends - dt.datetime.fromisoformat(grant["starts_at"]) == dt.timedelta(days=180)
        again = client.post(decision, json={"approve": True, "reason": "again"}, headers=w.h["cisa_admin"])
        assert again.json()["grant"]["id"] == grant["id"]
        reverse = client.post(
            decision, json={"approve": False, "reason": "changed mind"}, headers=w.h["cisa_admin"]
        )
        assert reverse.status_code == 409

        # The hospital sees its grant and has access; the bank does not see it.
        mine = client.get(f"{API}/grants", headers=w.h["nurse"]).json()
        assert [g["id"] for g in mine] == [grant["id"]] and mine[0]["active"]
        assert client.get(f"{API}/grants/{grant['id']}", headers=w.h["teller"]).status_code == 404
        access = client.get(f"{API}/{program['id']}/access", headers=w.h["nurse"]).json()
        assert access["has_access"] and access["grant"]["id"] == grant["id"]
        assert not client.get(f"{API}/{program['id']}/access", headers=w.h["teller"]).json()["has_access"]

        # Usage reports, by the grant's organization only.
        start = dt.datetime.fromisoformat(grant["starts_at"])
        usage = {
            "period_start": start.isoformat(),
            "period_end": (start + dt.timedelta(microseconds=1)).isoformat(),
            "metrics": {"alerts_triaged": 41, "hours_saved": 12.5},
            "note": "first week",
        }
        reported = client.post(f"{API}/grants/{grant['id']}/usage", json=usage, headers=w.h["nurse"])
        assert reported.status_code == 201, reported.text
        assert (
            client.post(f"{API}/grants/{grant['id']}/usage", json=usage, headers=w.h["nurse"]).status_code
            == 200
        )
        assert (
            client.post(f"{API}/grants/{grant['id']}/usage", json=usage, headers=w.h["teller"]).status_code
            == 404
        )
        negative = dict(usage, metrics={"alerts_triaged": -1})
        assert (
            client.post(f"{API}/grants/{grant['id']}/usage", json=negative, headers=w.h["nurse"]).status_code
            == 422
        )
        listed = client.get(f"{API}/grants/{grant['id']}/usage", headers=w.h["cisa_admin"]).json()
        assert listed[0]["metrics"] == {"alerts_triaged": 41.0, "hours_saved": 12.5}

        # Access ends with the grant's end date: the clock decides, no job needed.
        with runtime.uow(Actor.system("test"), write=False) as uow:
            before = services.access_for(
                uow.session, program["id"], w.hospital, ends - dt.timedelta(seconds=1)
            )
            after = services.access_for(uow.session, program["id"], w.hospital, ends)
        assert before.has_access and not after.has_access and after.grant is not None

        # Revoked: access is gone at once.
        assert (
            client.post(
                f"{API}/grants/{grant['id']}/revoke", json={"reason": "x"}, headers=w.h["nurse"]
            ).status_code
            == 403
        )
        revoked = client.post(
            f"{API}/grants/{grant['id']}/revoke", json={"reason": "terms breached"}, headers=w.h["cisa_admin"]
        )
        assert revoked.status_code == 200 and not revoked.json()["active"]
        assert revoked.json()["revoke_reason"] == "terms breached"
        assert client.post(
            f"{API}/grants/{grant['id']}/revoke", json={"reason": "again"}, headers=w.h["cisa_admin"]
        ).is_success
        assert not client.get(f"{API}/{program['id']}/access", headers=w.h["nurse"]).json()["has_access"]
        assert not client.get(f"{API}/grants", headers=w.h["nurse"]).json()[0]["active"]


def test_capacity_declines_dates_and_closing(runtime: Runtime) -> None:
    w = World(runtime)
    with TestClient(create_app(runtime)) as client:
        program = client.post(
            API, json=program_body(capacity=1, eligible_sizes=[]), headers=w.h["cisa_admin"]
        ).json()
        apply_url = f"{API}/{program['id']}/applications"
        first = client.post(
            apply_url, json={"sector": "healthcare", "size": "small"}, headers=w.h["nurse"]
        ).json()
        second = client.post(
            apply_url, json={"sector": "financial_services", "size": "medium"}, headers=w.h["teller"]
        )
        assert second.status_code == 201
        bad_dates = client.post(
            f"{API}/applications/{first['id']}/decision",
            json={
                "approve": True,
                "reason": "ok",
                "starts_at": "2030-01-02T00:00:00Z",
                "ends_at": "2030-01-01T00:00:00Z",
            },
            headers=w.h["cisa_admin"],
        )
        assert bad_dates.status_code == 422 and bad_dates.json()["errors"][0]["pointer"] == "/ends_at"
        past = client.post(
            f"{API}/applications/{first['id']}/decision",
            json={
                "approve": True,
                "reason": "ok",
                "starts_at": "2020-01-01T00:00:00Z",
                "ends_at": "2020-02-01T00:00:00Z",
            },
            headers=w.h["cisa_admin"],
        )
        assert past.status_code == 422
        ok = client.post(
            f"{API}/applications/{first['id']}/decision",
            json={"approve": True, "reason": "ok"},
            headers=w.h["cisa_admin"],
        )
        assert ok.status_code == 200
        full = client.post(
            f"{API}/applications/{second.json()['id']}/decision",
            json={"approve": True, "reason": "ok"},
            headers=w.h["cisa_admin"],
        )
        assert full.status_code == 409
        declined = client.post(
            f"{API}/applications/{second.json()['id']}/decision",
            json={"approve": False, "reason": "no places left"},
            headers=w.h["cisa_admin"],
        ).json()
        assert declined["application"]["status"] == "declined" and declined["grant"] is None
        assert declined["application"]["decision_reason"] == "no places left"
        # After a decline one may apply again; a closed program takes no applications.
        closed = client.post(
            f"{API}/{program['id']}/accepting", json={"accepting": False}, headers=w.h["cisa_admin"]
        )
        assert closed.status_code == 200 and not closed.json()["accepting"]
        assert client.get(f"{API}/{program['id']}", headers=w.h["teller"]).json()["grants_in_use"] == 1
        again = client.post(
            apply_url, json={"sector": "financial_services", "size": "medium"}, headers=w.h["teller"]
        )
        assert again.status_code == 409
        assert client.post(
            f"{API}/{program['id']}/accepting", json={"accepting": True}, headers=w.h["cisa_admin"]
        ).is_success
        assert (
            client.post(
                apply_url, json={"sector": "financial_services", "size": "medium"}, headers=w.h["teller"]
            ).status_code
            == 201
        )
        # Programs offer a tool or a model, and need an operating organization.
        both = client.post(API, json=program_body(name="b", model_id="m"), headers=w.h["cisa_admin"])
        assert both.status_code == 422 and both.json()["errors"][0]["pointer"] == "/tool_name"
        unknown = client.post(
            API, json=program_body(name="c", tool_name=None, model_id="nope"), headers=w.h["cisa_admin"]
        )
        assert unknown.status_code == 422 and unknown.json()["errors"][0]["pointer"] == "/model_id"
        no_org = client.post(
            API, json=program_body(name="d", operating_org="Nowhere"), headers=w.h["cisa_admin"]
        )
        assert no_org.status_code == 422 and no_org.json()["errors"][0]["pointer"] == "/operating_org"
        assert client.get(f"{API}/nope", headers=w.h["nurse"]).status_code == 404
        assert client.get(f"{API}/applications/nope", headers=w.h["nurse"]).status_code == 404
        assert client.get(f"{API}/grants/nope", headers=w.h["nurse"]).status_code == 404


def _register_model(runtime: Runtime, developer_org: str, *, covered: bool) -> str:
    """A model registered with frontier review and its determination, as frontier review stores them."""
    from clearinghouse.access import TLP, Classification, Marking
    from clearinghouse.frontier.models import Designation, Determination, FrontierModel

    with runtime.uow(Actor.system("test")) as uow:
        model = FrontierModel(
            name=f"frontier-{covered}",
            version="1",
            planned_partner_release_at=utcnow() + dt.timedelta(days=30),
        )
        model.set_marking(
            Marking(owner_org_id=developer_org, tlp=TLP.AMBER_STRICT, classification=Classification.CUI)
        )
        uow.session.add(model)
        uow.flush()
        det = Determination(
            model_id=model.id,
            outcome=Designation.COVERED if covered else Designation.NOT_COVERED,
            rationale="benchmarks",
            determined_at=utcnow(),
        )
        det.set_marking(Marking(owner_org_id=developer_org, tlp=TLP.RED))
        uow.session.add(det)
        uow.commit()
    return model.id


def _agree_partner(
    runtime: Runtime, model_id: str, partner_org: str, *, developer: bool, government: bool
) -> str:
    from clearinghouse.frontier.models import PartnerGrant

    now = utcnow()
    with runtime.uow(Actor.system("test")) as uow:
        partner = PartnerGrant(
            model_id=model_id,
            partner_org_id=partner_org,
            purpose="defensive-tool program",
            starts_at=now - dt.timedelta(days=1),
            ends_at=now + dt.timedelta(days=365),
            obligations=["no offensive use"],
            developer_agreed_at=now if developer else None,
            government_agreed_at=now if government else None,
        )
        uow.session.add(partner)
        uow.commit()
    return partner.id


def test_a_covered_model_is_offered_only_once_developer_and_government_agree(runtime: Runtime) -> None:
    from clearinghouse import frontier
    from clearinghouse.frontier.models import PartnerGrant

    w = World(runtime)
    lab = make_org(runtime, "Frontier Lab", "ai_developer")
    covered = _register_model(runtime, lab, covered=True)
    plain = _register_model(runtime, lab, covered=False)
    admin = subject_of(runtime, make_user(runtime, "cisa2", w.cisa, ["coordinator"]))
    draft = services.ProgramDraft(
        name="Covered model for water utilities",
        terms="defensive use only",
        capacity=5,
        model_id=covered,
        eligible_sectors=["water"],
    )

    def open_program(d: services.ProgramDraft) -> str:
        with runtime.uow(Actor.system("test")) as uow:
            program, _ = services.create_program(uow, admin, d)
            uow.commit()
        return program.id

    # Covered, and nobody has agreed: refused.
    try:
        open_program(draft)
    except Conflict as exc:
        assert exc.pointer == "/model_id"
    else:  # pragma: no cover - the assertion below explains
        raise AssertionError("a covered model was offered without the trusted-partner agreement")
    # Only the developer agreed: still refused.
    half = _agree_partner(runtime, covered, w.cisa, developer=True, government=False)
    with runtime.uow(Actor.system("test"), write=False) as uow:
        assert frontier.is_covered(uow.session, covered)
        assert not frontier.trusted_partner_agreed(uow.session, covered, w.cisa)
    try:
        open_program(draft)
    except Conflict:
        pass
    else:  # pragma: no cover
        raise AssertionError("one side's agreement is not enough")
    # Both agreed: it may be offered, and granted.
    with runtime.uow(Actor.system("test")) as uow:
        partner = uow.session.get(PartnerGrant, half)
        assert partner is not None
        partner.government_agreed_at = utcnow()
        uow.commit()
    utility = make_org(runtime, "Town Water", "critical_infrastructure_operator")
    city = make_org(runtime, "City Water", "government_agency")
    # The developer consents to CISA's programs reaching the utility (issue 14, defect 7).
    developer = subject_of(runtime, make_user(runtime, "labdev", lab, ["model_developer"]))
    with runtime.uow(Actor.system("test")) as uow:
        for model_id in (covered, plain):
            services.consent_to_offer(
                uow, developer, services.ConsentDraft(model_id, w.cisa, [utility, city])
            )
        uow.commit()
    program_id = open_program(draft)
    # A model that is not covered needs no agreement (only the developer's consent).
    assert open_program(services.ProgramDraft(name="plain", terms="t", capacity=1, model_id=plain))

    operator = subject_of(runtime, make_user(runtime, "operator1", utility, ["partner"]))
    with runtime.uow(Actor.system("test")) as uow:
        application, _ = services.apply(
            uow, operator, program_id, services.ApplicationDraft("water", "small")
        )
        uow.commit()
    with runtime.uow(Actor.system("test")) as uow:
        _, grant = services.decide(uow, admin, application.id, services.Decision(True, "eligible"))
        uow.commit()
    assert grant is not None
    with runtime.uow(Actor.system("test"), write=False) as uow:
        assert services.access_for(uow.session, program_id, utility).has_access
    # The agreement is withdrawn: the covered model is no longer offered, and access lapses.
    with runtime.uow(Actor.system("test")) as uow:
        partner = uow.session.get(PartnerGrant, half)
        assert partner is not None
        partner.withdrawn_at = utcnow()
        uow.commit()
    with runtime.uow(Actor.system("test"), write=False) as uow:
        assert not services.access_for(uow.session, program_id, utility).has_access
    # ... and no new grant is approved.
    other = subject_of(
        runtime,
        make_user(runtime, "operator2", city, ["partner"]),
    )
    with runtime.uow(Actor.system("test")) as uow:
        second, _ = services.apply(uow, other, program_id, services.ApplicationDraft("water", "medium"))
        uow.commit()
    with runtime.uow(Actor.system("test")) as uow:
        try:
            services.decide(uow, admin, second.id, services.Decision(True, "eligible"))
        except Conflict as exc:
            assert exc.pointer == "/model_id"
        else:  # pragma: no cover
            raise AssertionError("approved a grant of a covered model without the agreement")
    with runtime.uow(Actor.system("test")) as uow:
        try:
            services.decide(uow, admin, second.id, services.Decision(False, " "))
        except InvalidInput as exc:
            assert exc.pointer == "/reason"


def test_programs_cli(runtime: Runtime, settings: Settings, tmp_path: Path) -> None:
    w = World(runtime)
    env = {"CLEARINGHOUSE_HOME": str(settings.home), "CLEARINGHOUSE_DATABASE_URL": settings.database_url}
    cli = CliRunner()
    made = cli.invoke(
        cli_app,
        [
            "programs", "create", "Community bank fraud screening", "--terms", "defensive use",
            "--capacity", "3", "--operating-org", "CISA", "--tool", "FraudShield",
            "--kind", "critical_infrastructure_operator", "--sector", "financial_services", "--size", "small",
        ],
        env=env,
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    program_id = made.output.split("id=")[1].strip()
    listed = cli.invoke(cli_app, ["programs", "list"], env=env)
    assert listed.exit_code == 0 and "FraudShield" in listed.output and "0/3" in listed.output
    assert program_id in listed.output  # a pipe: the id whole
    as_json = cli.invoke(cli_app, ["programs", "list", "--format", "json"], env=env)
    assert as_json.exit_code == 0, as_json.output
    (program,) = [p for p in json.loads(as_json.output) if p["id"] == program_id]
    assert program["tool"] == "FraudShield" and program["places_used"] == 0 and program["capacity"] == 3
    assert program["eligible_sectors"] == ["financial_services"] and program["open"] is True
    applied = cli.invoke(
        cli_app,
        [
            "programs",
            "apply",
            "--user",
            "teller",
            program_id,
            "--sector",
            "financial_services",
            "--size",
            "small",
        ],
        env=env,
    )
    assert applied.exit_code == 0 and "pending" in applied.output, applied.output
    application_id = applied.output.split("application ")[1].split(" ")[0]
    refused = cli.invoke(
        cli_app,
        ["programs", "apply", "--user", "nurse", program_id, "--sector", "healthcare", "--size", "small"],
        env=env,
    )
    assert refused.exit_code == 2 and "/sector" in refused.output
    decided = cli.invoke(cli_app, ["programs", "decide", application_id, "--reason", "eligible"], env=env)
    assert decided.exit_code == 0 and "approved" in decided.output, decided.output
    grant_id = decided.output.split("grant ")[1].split(" ")[0]
    revoked = cli.invoke(cli_app, ["programs", "revoke", grant_id, "--reason", "ended early"], env=env)
    assert revoked.exit_code == 0 and "revoked" in revoked.output
    assert (
        cli.invoke(
            cli_app,
            ["programs", "apply", "--user", "ghost", program_id, "--sector", "water", "--size", "small"],
            env=env,
        ).exit_code
        == 2
    )
    with runtime.uow(Actor.system("test"), write=False) as uow:
        assert not services.access_for(uow.session, program_id, w.bank).has_access
