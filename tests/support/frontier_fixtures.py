"""A small frontier-review world shared by the frontier tests: two AI developers,
a government agency with cleared and uncleared staff, and a partner."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from clearinghouse.access import Subject
from clearinghouse.frontier import services
from clearinghouse.runtime import Runtime
from clearinghouse.storage import Actor
from tests.support.factories import make_org, make_user, subject_of

TERMS = {
    "confidentiality": "Model weights, outputs and results stay within the named evaluators.",
    "cybersecurity": "Access only from the accredited enclave; keys rotated weekly.",
    "insider_risk": "Every evaluator is on the need-to-know list and logged per use.",
    "intellectual_property": "No training on outputs; no reverse engineering of weights.",
    "use": "Capability evaluation for the designation only.",
    "nondisclosure": "Nothing disclosed outside the review without the developer's consent.",
}
PLANNED = dt.datetime(2027, 3, 1, 12, 0, tzinfo=dt.UTC)


@dataclass
class World:
    runtime: Runtime
    dev_org: str
    other_dev_org: str
    gov_org: str
    partner_org: str
    dev: Subject
    other_dev: Subject
    evaluator: Subject
    low_evaluator: Subject
    authority: Subject
    analyst: Subject
    partner: Subject

    def actor(self, subject: Subject) -> Actor:
        assert subject.user_id is not None
        return Actor.user(subject.user_id)


def make_world(runtime: Runtime) -> World:
    dev_org = make_org(runtime, "Frontier Labs", "ai_developer")
    other_dev_org = make_org(runtime, "Rival AI", "ai_developer")
    gov_org = make_org(runtime, "Review Agency", "government_agency")
    partner_org = make_org(runtime, "Grid Defender", "critical_infrastructure_operator")
    ids = {
        "dev": make_user(runtime, "dev", dev_org, ["model_developer"], clearance="CUI"),
        "other_dev": make_user(runtime, "other_dev", other_dev_org, ["model_developer"]),
        "evaluator": make_user(runtime, "eva", gov_org, ["evaluator"], clearance="TOP SECRET"),
        "low_evaluator": make_user(runtime, "low", gov_org, ["evaluator"], clearance="CUI"),
        "authority": make_user(runtime, "nsa", gov_org, ["determination_authority"], clearance="TOP SECRET"),
        "analyst": make_user(runtime, "ana", gov_org, ["analyst"], clearance="TOP SECRET"),
        "partner": make_user(runtime, "partner", partner_org, ["partner"], clearance="CUI"),
    }
    subjects = {name: subject_of(runtime, uid) for name, uid in ids.items()}
    return World(runtime, dev_org, other_dev_org, gov_org, partner_org, **subjects)


def register(world: World, name: str = "Falcon", version: str = "2.0") -> str:
    with world.runtime.uow(world.actor(world.dev)) as uow:
        model, _ = services.register_model(
            uow,
            world.dev,
            services.ModelDraft(
                name=name,
                version=version,
                planned_partner_release_at=PLANNED,
                planned_public_release_at=PLANNED + dt.timedelta(days=60),
                description="A coding model.",
            ),
        )
        uow.commit()
    return model.id


def grant(
    world: World,
    model_id: str,
    *,
    starts_at: dt.datetime = PLANNED - dt.timedelta(days=30),
    ends_at: dt.datetime = PLANNED,
    accept: bool = True,
    now: dt.datetime = PLANNED - dt.timedelta(days=40),
) -> str:
    with world.runtime.uow(world.actor(world.dev)) as uow:
        made, _ = services.grant_access(
            uow,
            world.dev,
            world.runtime.envelope,
            services.GrantDraft(
                model_id=model_id,
                starts_at=starts_at,
                ends_at=ends_at,
                terms=TERMS,
                endpoint=services.EndpointDraft("https://models.example/v1", "sk-secret-123", "falcon-2"),
                need_to_know=["eva"],
            ),
            now=now,
        )
        uow.commit()
    if accept:
        with world.runtime.uow(world.actor(world.evaluator)) as uow:
            services.accept_grant(uow, world.evaluator, made.id, made.terms_sha256, now=now)
            uow.commit()
    return made.id
