"""Issue 14, defect 7: offering a model in a defensive-tool program needs the
developer's consent for that program's operator and its participants."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from clearinghouse.access import TLP, Marking, NotFound
from clearinghouse.api.app import create_app
from clearinghouse.errors import Conflict, InvalidInput
from clearinghouse.programs import services
from clearinghouse.programs.models import Application
from clearinghouse.runtime import Runtime
from clearinghouse.storage import Actor
from tests.support.factories import make_org, make_token, make_user, subject_of
from tests.test_programs import World, _agree_partner, _register_model


def test_a_model_is_offered_only_with_the_developers_consent(runtime: Runtime) -> None:
    w = World(runtime)
    lab = make_org(runtime, "Frontier Lab", "ai_developer")
    rival = make_org(runtime, "Rival Lab", "ai_developer")
    dev = subject_of(runtime, make_user(runtime, "labdev", lab, ["model_developer"]))
    rival_dev = subject_of(runtime, make_user(runtime, "rivaldev", rival, ["model_developer"]))
    coordinator = subject_of(runtime, make_user(runtime, "coord", w.cisa, ["coordinator"]))
    nurse, teller = subject_of(runtime, "nurse"), subject_of(runtime, "teller")
    model = _register_model(runtime, lab, covered=False)
    draft = services.ProgramDraft(
        name="Model for hospitals", terms="defence only", capacity=5, model_id=model
    )

    # No consent: a coordinator cannot offer the model, whoever operates the program.
    for operator in (None, "Rival Lab"):
        with runtime.uow(Actor.system("test")) as uow, pytest.raises(Conflict) as refused:
            services.create_program(
                uow, coordinator, services.ProgramDraft(**{**draft.__dict__, "operating_org": operator})
            )
        assert refused.value.pointer == "/model_id"

    # Only the developer consents; a rival or a coordinator cannot.
    consent = services.ConsentDraft(model, "CISA", ["Valley Rural Hospital"])
    for outsider in (rival_dev, coordinator, teller):
        with runtime.uow(Actor.system("test")) as uow, pytest.raises(NotFound):
            services.consent_to_offer(uow, outsider, consent)
    with runtime.uow(Actor.system("test")) as uow, pytest.raises(InvalidInput) as bad:
        services.consent_to_offer(
            uow, dev, services.ConsentDraft(model, "CISA", ["Valley Rural Hospital", "?"])
        )
    assert bad.value.pointer == "/participants/1"
    with runtime.uow(Actor.system("test")) as uow:
        given, created = services.consent_to_offer(uow, dev, consent)
        assert created and services.consent_to_offer(uow, dev, consent) == (given, False)
        uow.commit()
    with runtime.uow(Actor.system("test")) as uow:
        program, _ = services.create_program(uow, coordinator, draft)
        uow.commit()

    # Only the operator, the developer, the consented participants and staff see it.
    with runtime.uow(Actor.system("test"), write=False) as uow:
        for reader in (dev, nurse, coordinator):
            assert services.get_program(uow.session, reader, program.id).model_id == model
        for outsider in (rival_dev, teller):
            with pytest.raises(NotFound):
                services.get_program(uow.session, outsider, program.id)
            assert program.id not in {p.id for p in services.list_programs(uow.session, outsider)}
    with runtime.uow(Actor.system("test")) as uow, pytest.raises(NotFound):
        services.apply(uow, teller, program.id, services.ApplicationDraft("financial_services", "small"))
    with runtime.uow(Actor.system("test")) as uow:
        application, _ = services.apply(
            uow, nurse, program.id, services.ApplicationDraft("healthcare", "small")
        )
        uow.commit()
    with runtime.uow(Actor.system("test")) as uow:
        _, grant = services.decide(uow, coordinator, application.id, services.Decision(True, "eligible"))
        uow.commit()
    assert grant is not None
    with runtime.uow(Actor.system("test"), write=False) as uow:
        assert services.access_for(uow.session, program.id, w.hospital).has_access

    # Withdrawing the consent ends the offer at once.
    with runtime.uow(Actor.system("test")) as uow, pytest.raises(NotFound):
        services.withdraw_consent(uow, rival_dev, given.id)
    with runtime.uow(Actor.system("test")) as uow:
        services.withdraw_consent(uow, dev, given.id)
        uow.commit()
    with runtime.uow(Actor.system("test"), write=False) as uow:
        assert not services.access_for(uow.session, program.id, w.hospital).has_access
        with pytest.raises(NotFound):
            services.get_program(uow.session, nurse, program.id)


def test_a_covered_model_reaches_only_the_participants_the_developer_named(runtime: Runtime) -> None:
    w = World(runtime)
    lab = make_org(runtime, "Frontier Lab", "ai_developer")
    make_user(runtime, "labdev", lab, ["model_developer"])
    make_user(runtime, "coord", w.cisa, ["coordinator"])
    model = _register_model(runtime, lab, covered=True)
    _agree_partner(runtime, model, w.cisa, developer=True, government=True)
    headers = {
        u: {"Authorization": f"Bearer {make_token(runtime, u, ['read', 'write', 'admin'])}"}
        for u in ("labdev", "coord", "nurse", "teller")
    }
    with TestClient(create_app(runtime), raise_server_exceptions=False) as client:
        body = {"name": "Covered model", "terms": "defence", "capacity": 3, "model_id": model}
        refused = client.post("/api/v1/programs", json=body, headers=headers["coord"])
        assert refused.status_code == 409 and refused.json()["errors"][0]["pointer"] == "/model_id"
        consent = {"model_id": model, "operating_org": "CISA", "participants": ["Valley Rural Hospital"]}
        assert (
            client.post("/api/v1/programs/model-consents", json=consent, headers=headers["coord"]).status_code
            == 404
        )
        given = client.post("/api/v1/programs/model-consents", json=consent, headers=headers["labdev"])
        assert given.status_code == 201, given.text
        program = client.post("/api/v1/programs", json=body, headers=headers["coord"])
        assert program.status_code == 201, program.text
        pid = program.json()["id"]
        assert client.get(f"/api/v1/programs/{pid}", headers=headers["teller"]).status_code == 404
        # Staff cannot grant it to an organization the developer did not name.
        with runtime.uow(Actor.system("test")) as uow:
            application = Application(
                program_id=pid,
                applicant_user_id="x",
                org_kind="critical_infrastructure_operator",
                sector="financial_services",
                size="small",
            )
            application.set_marking(Marking(owner_org_id=w.bank, tlp=TLP.AMBER_STRICT))
            uow.session.add(application)
            uow.commit()
            app_id = application.id
        decided = client.post(
            f"/api/v1/programs/applications/{app_id}/decision",
            json={"approve": True, "reason": "eligible"},
            headers=headers["coord"],
        )
        assert decided.status_code == 409, decided.text
        withdrawn = client.post(
            f"/api/v1/programs/model-consents/{given.json()['id']}/withdraw", headers=headers["labdev"]
        )
        assert withdrawn.status_code == 200 and withdrawn.json()["withdrawn_at"]
