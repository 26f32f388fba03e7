"""Models under development: registering a model, changing its dates (grants follow a release moved
earlier), reading models.

Part of :mod:`clearinghouse.frontier.services`, which callers import.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from clearinghouse.access import (
    Action,
    Forbidden,
    Marking,
    Organization,
    OrgKind,
    Resource,
    Subject,
    can,
)
from clearinghouse.errors import Conflict, InvalidInput
from clearinghouse.frontier._shared import (
    MODEL_CLASSIFICATION,
    MODEL_MARKING_TLP,
    _load_model,
    _readable,
    _require,
    model_resource,
)
from clearinghouse.frontier.models import (
    AccessGrant,
    FrontierModel,
)
from clearinghouse.storage import UnitOfWork, utcnow

# -- models ----------------------------------------------------------------------


@dataclass(frozen=True)
class ModelDraft:
    name: str
    version: str
    planned_partner_release_at: dt.datetime
    planned_public_release_at: dt.datetime | None = None
    description: str = ""


PLAUSIBLE_YEARS = range(2000, 2201)


def _check_dates(partner: dt.datetime, public: dt.datetime | None) -> None:
    for value, pointer in ((partner, "/planned_partner_release_at"), (public, "/planned_public_release_at")):
        if value is not None and value.year not in PLAUSIBLE_YEARS:
            raise InvalidInput("a planned release falls between the years 2000 and 2200", pointer)
    if public is not None and public < partner:
        raise InvalidInput(
            "the planned public release comes no earlier than the planned release to trusted partners",
            "/planned_public_release_at",
        )


def register_model(uow: UnitOfWork, subject: Subject, draft: ModelDraft) -> tuple[FrontierModel, bool]:
    """Register a model under development for the subject's (AI developer)
    organization. The same name and version again returns the stored model
    (``created`` False) when nothing differs, else a conflict."""
    if subject.org_id is None:
        raise Forbidden(Action.REGISTER_MODEL, "frontier_model")
    marking = Marking(owner_org_id=subject.org_id, tlp=MODEL_MARKING_TLP, classification=MODEL_CLASSIFICATION)
    if not can(subject, Action.REGISTER_MODEL, Resource.marked("frontier_model", None, marking)):
        raise Forbidden(Action.REGISTER_MODEL, "frontier_model")
    org = uow.session.get(Organization, subject.org_id)
    if org is None or org.kind != OrgKind.AI_DEVELOPER:
        raise Forbidden(Action.REGISTER_MODEL, "frontier_model")
    _check_dates(draft.planned_partner_release_at, draft.planned_public_release_at)
    existing = uow.session.scalar(
        select(FrontierModel).where(
            FrontierModel.owner_org_id == subject.org_id,
            FrontierModel.name == draft.name,
            FrontierModel.version == draft.version,
        )
    )
    if existing is not None:
        same = (
            existing.description == draft.description
            and existing.planned_partner_release_at == draft.planned_partner_release_at
            and existing.planned_public_release_at == draft.planned_public_release_at
        )
        if not same:
            raise Conflict(
                f"model {draft.name} {draft.version} is registered already (id {existing.id}); "
                "change its details with PATCH",
                "/version",
            )
        return existing, False
    model = FrontierModel(
        name=draft.name,
        version=draft.version,
        description=draft.description,
        planned_partner_release_at=draft.planned_partner_release_at,
        planned_public_release_at=draft.planned_public_release_at,
        registered_by=subject.user_id,
    )
    model.set_marking(marking)
    uow.session.add(model)
    uow.flush()
    return model, True


@dataclass(frozen=True)
class ModelChanges:
    description: str | None = None
    planned_partner_release_at: dt.datetime | None = None
    planned_public_release_at: dt.datetime | None = None


def update_model(uow: UnitOfWork, subject: Subject, model_id: str, changes: ModelChanges) -> FrontierModel:
    """The developer changes its model's description or planned dates. Only the
    developer: the government has no action that moves a release."""
    model = _load_model(uow.session, subject, model_id)
    _require(subject, Action.REGISTER_MODEL, model_resource(model), "change")
    partner = changes.planned_partner_release_at or model.planned_partner_release_at
    public = changes.planned_public_release_at or model.planned_public_release_at
    _check_dates(partner, public)
    if changes.description is not None:
        model.description = changes.description
    earlier = partner < model.planned_partner_release_at
    model.planned_partner_release_at = partner
    model.planned_public_release_at = public
    if earlier:
        _fit_grants_to_release(uow, subject, model)
    uow.flush()
    return model


def _fit_grants_to_release(uow: UnitOfWork, subject: Subject, model: FrontierModel) -> None:
    """An access window ends no later than the planned release to trusted partners:
    when that moves earlier, every grant still running past it ends there (a grant
    that would start at or after it is withdrawn), each an audited change."""
    planned = model.planned_partner_release_at
    grants = uow.session.scalars(
        select(AccessGrant).where(
            AccessGrant.model_id == model.id,
            AccessGrant.withdrawn_at.is_(None),
            AccessGrant.ends_at > planned,
        )
    )
    for grant in grants:
        if grant.starts_at >= planned:
            grant.withdrawn_at = utcnow()
            grant.withdrawn_by = subject.user_id
            grant.withdrawal_reason = "the planned release to trusted partners moved before the window"
            uow.audit_as(grant, "frontier_grant.withdrawn", planned_partner_release_at=planned.isoformat())
        else:
            previous = grant.ends_at
            grant.ends_at = planned
            uow.audit_as(
                grant,
                "frontier_grant.shortened",
                previous_ends_at=previous.isoformat(),
                ends_at=planned.isoformat(),
            )


def get_model(session: Session, subject: Subject, model_id: str) -> FrontierModel:
    return _load_model(session, subject, model_id)


def list_models(session: Session, subject: Subject) -> list[FrontierModel]:
    models = session.scalars(select(FrontierModel).order_by(FrontierModel.created_at.desc()))
    return [m for m in models if _readable(subject, model_resource(m))]


def model_exists(session: Session, model_id: str) -> bool:
    """Whether a model with this id is registered (for other parts of the system;
    no subject: it says nothing about the model)."""
    return session.get(FrontierModel, model_id) is not None
