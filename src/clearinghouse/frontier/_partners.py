"""Trusted partners selected by the developer and the government for a covered model.

Part of :mod:`clearinghouse.frontier.services`, which callers import.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from clearinghouse.access import (
    Action,
    NotFound,
    Organization,
    Subject,
    can,
)
from clearinghouse.errors import Conflict, InvalidInput
from clearinghouse.frontier._determinations import _latest_determination
from clearinghouse.frontier._shared import (
    _load_model,
    _now,
    _readable,
    _require,
    model_resource,
    partner_resource,
)
from clearinghouse.frontier.models import (
    Designation,
    FrontierModel,
    PartnerGrant,
    Releasability,
)
from clearinghouse.storage import UnitOfWork, utcnow

# -- trusted partners ------------------------------------------------------------


@dataclass(frozen=True)
class PartnerDraft:
    model_id: str
    partner_org: str
    purpose: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    obligations: Sequence[str]


def propose_partner(uow: UnitOfWork, subject: Subject, draft: PartnerDraft) -> tuple[PartnerGrant, bool]:
    """One side (developer or government) proposes early access for a partner
    organization, agreeing to it by proposing; the other side agrees with
    :func:`agree_partner`. Only for a model whose covered determination was
    released to its developer. The same partner and start returns the stored one."""
    model = _load_model(uow.session, subject, draft.model_id)
    _require(subject, Action.APPROVE_PARTNER, model_resource(model))
    latest = _latest_determination(uow.session, model.id)
    if (
        latest is None
        or latest.outcome != Designation.COVERED
        or latest.releasability != Releasability.RELEASED
    ):
        raise Conflict(
            "trusted partners are selected for a model whose covered determination was released to "
            "its developer",
            "/model_id",
        )
    org = uow.session.get(Organization, draft.partner_org) or uow.session.scalar(
        select(Organization).where(Organization.name == draft.partner_org)
    )
    if org is None:
        raise InvalidInput(f"no organization {draft.partner_org!r}", "/partner_org")
    if org.id == model.owner_org_id:
        raise InvalidInput("the developer is not its own trusted partner", "/partner_org")
    if not draft.purpose.strip():
        raise InvalidInput("state the purpose of the early access", "/purpose")
    if draft.ends_at <= draft.starts_at:
        raise InvalidInput("the access ends after it starts", "/ends_at")
    if draft.ends_at <= utcnow():
        raise InvalidInput("the access would already have ended", "/ends_at")
    obligations = [o.strip() for o in draft.obligations]
    if not obligations or any(not o for o in obligations):
        raise InvalidInput("list the partner's obligations, none empty", "/obligations")
    existing = uow.session.scalar(
        select(PartnerGrant).where(
            PartnerGrant.model_id == model.id,
            PartnerGrant.partner_org_id == org.id,
            PartnerGrant.starts_at == draft.starts_at,
        )
    )
    if existing is not None:
        return existing, False
    now = utcnow()
    partner = PartnerGrant(
        model_id=model.id,
        partner_org_id=org.id,
        purpose=draft.purpose,
        starts_at=draft.starts_at,
        ends_at=draft.ends_at,
        obligations=obligations,
        proposed_by=subject.user_id,
    )
    _agree_side(partner, subject, model, now)
    uow.session.add(partner)
    uow.flush()
    return partner, True


def _agree_side(partner: PartnerGrant, subject: Subject, model: FrontierModel, now: dt.datetime) -> bool:
    # The developer's side is whoever may act for the owning developer organization.
    if can(subject, Action.REGISTER_MODEL, model_resource(model)):
        if partner.developer_agreed_at is not None:
            return False
        partner.developer_agreed_by, partner.developer_agreed_at = subject.user_id, now
    else:
        if partner.government_agreed_at is not None:
            return False
        partner.government_agreed_by, partner.government_agreed_at = subject.user_id, now
    return True


def _load_partner(session: Session, subject: Subject, partner_id: str) -> tuple[PartnerGrant, FrontierModel]:
    partner = session.get(PartnerGrant, partner_id)
    model = session.get(FrontierModel, partner.model_id) if partner is not None else None
    if partner is None or model is None or not _readable(subject, partner_resource(partner, model)):
        raise NotFound("frontier_partner_grant", partner_id)
    return partner, model


def get_partner(session: Session, subject: Subject, partner_id: str) -> PartnerGrant:
    return _load_partner(session, subject, partner_id)[0]


def list_partners(session: Session, subject: Subject, model_id: str | None = None) -> list[PartnerGrant]:
    query = select(PartnerGrant, FrontierModel).join(FrontierModel, FrontierModel.id == PartnerGrant.model_id)
    if model_id is not None:
        query = query.where(PartnerGrant.model_id == model_id)
    rows = session.execute(query.order_by(PartnerGrant.starts_at.desc()))
    return [p for p, m in rows if _readable(subject, partner_resource(p, m))]


def agree_partner(uow: UnitOfWork, subject: Subject, partner_id: str) -> PartnerGrant:
    """The subject's side agrees; agreeing again changes nothing."""
    partner, model = _load_partner(uow.session, subject, partner_id)
    _require(subject, Action.APPROVE_PARTNER, partner_resource(partner, model), "agree to")
    if partner.withdrawn_at is not None:
        raise Conflict("the partner grant was withdrawn", "/")
    if partner.ends_at <= utcnow():
        raise Conflict("the partner grant has ended; there is nothing to agree to", "/")
    if _agree_side(partner, subject, model, utcnow()):
        uow.audit_as(partner, "frontier_partner_grant.agreed")
        uow.flush()
    return partner


def withdraw_partner(uow: UnitOfWork, subject: Subject, partner_id: str) -> PartnerGrant:
    """Either side withdraws; withdrawing again changes nothing."""
    partner, model = _load_partner(uow.session, subject, partner_id)
    _require(subject, Action.APPROVE_PARTNER, partner_resource(partner, model), "withdraw")
    if partner.withdrawn_at is None:
        partner.withdrawn_at = utcnow()
        partner.withdrawn_by = subject.user_id
        uow.audit_as(partner, "frontier_partner_grant.withdrawn")
        uow.flush()
    return partner


def trusted_partner_agreed(
    session: Session, model_id: str, partner_org_id: str, at: dt.datetime | None = None
) -> bool:
    """Whether both sides agreed early access of ``partner_org_id`` to the model,
    not withdrawn, with ``at`` (default now) inside its dates."""
    when = _now(at)
    grants = session.scalars(
        select(PartnerGrant).where(
            PartnerGrant.model_id == model_id,
            PartnerGrant.partner_org_id == partner_org_id,
            PartnerGrant.withdrawn_at.is_(None),
            PartnerGrant.developer_agreed_at.is_not(None),
            PartnerGrant.government_agreed_at.is_not(None),
        )
    )
    return any(g.starts_at <= when < g.ends_at for g in grants)
