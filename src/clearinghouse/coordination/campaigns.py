"""Scan deconfliction: registering campaigns and reporting overlaps to both sides."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from clearinghouse.access import TLP, Action, Marking, Resource, Subject, authorize, can, visible
from clearinghouse.access.services import get_readable
from clearinghouse.coordination._targets import normalize_target
from clearinghouse.coordination.models import CampaignConflict, ScanCampaign
from clearinghouse.errors import InvalidInput
from clearinghouse.storage import UnitOfWork, utcnow

MAX_TARGETS = 10_000


def campaign_resource(campaign: ScanCampaign) -> Resource:
    return Resource.marked("scan_campaign", campaign.id, campaign.marking)


def conflict_resource(conflict: CampaignConflict, session: Session) -> Resource:
    # Either side of an overlap may see it (and so learn which of its own
    # targets another campaign also scans, and when), whatever the other's marking.
    sides = [
        session.get(ScanCampaign, conflict.campaign_id),
        session.get(ScanCampaign, conflict.other_campaign_id),
    ]
    return Resource(
        kind="campaign_conflict", id=conflict.id, any_of=tuple(c.marking for c in sides if c is not None)
    )


@dataclass(frozen=True)
class CampaignDraft:
    name: str
    targets: Sequence[str]
    starts_at: dt.datetime
    ends_at: dt.datetime
    tool: str
    model: str | None = None
    description: str = ""


def register_campaign(
    uow: UnitOfWork, subject: Subject, draft: CampaignDraft
) -> tuple[ScanCampaign, list[CampaignConflict]]:
    """Register a campaign and report every active campaign it overlaps."""
    if subject.org_id is None:
        raise InvalidInput("campaigns are registered by a user of a participant organization", "/")
    if not draft.targets or len(draft.targets) > MAX_TARGETS:
        raise InvalidInput(f"a campaign names 1-{MAX_TARGETS} targets", "/targets")
    keys: list[str] = []
    for i, target in enumerate(draft.targets):
        try:
            keys.append(normalize_target(target))
        except ValueError as exc:
            raise InvalidInput(str(exc), f"/targets/{i}") from None
    if draft.ends_at <= draft.starts_at:
        raise InvalidInput("the window must end after it starts", "/ends_at")
    marking = Marking(owner_org_id=subject.org_id, tlp=TLP.AMBER)
    authorize(subject, Action.CREATE, Resource.marked("scan_campaign", None, marking))
    campaign = ScanCampaign(
        name=draft.name,
        targets=list(draft.targets),
        target_keys=sorted(set(keys)),
        starts_at=draft.starts_at,
        ends_at=draft.ends_at,
        tool=draft.tool,
        model=draft.model,
        description=draft.description,
        created_by=subject.user_id,
    )
    campaign.set_marking(marking)
    uow.session.add(campaign)
    uow.flush()
    conflicts = _find_overlaps(uow, campaign)
    return campaign, conflicts


def _find_overlaps(uow: UnitOfWork, campaign: ScanCampaign) -> list[CampaignConflict]:
    mine = set(campaign.target_keys)
    others = uow.session.scalars(
        select(ScanCampaign).where(
            ScanCampaign.id != campaign.id,
            ScanCampaign.starts_at < campaign.ends_at,
            ScanCampaign.ends_at > campaign.starts_at,
            ScanCampaign.ends_at > utcnow(),
        )
    )
    conflicts = []
    for other in others:
        shared = sorted(mine & set(other.target_keys))
        if not shared:
            continue
        conflict = CampaignConflict(
            campaign_id=campaign.id,
            other_campaign_id=other.id,
            overlapping_targets=shared,
            window_start=max(campaign.starts_at, other.starts_at),
            window_end=min(campaign.ends_at, other.ends_at),
        )
        uow.session.add(conflict)
        conflicts.append(conflict)
    uow.flush()
    return conflicts


def get_campaign(session: Session, subject: Subject, campaign_id: str) -> ScanCampaign:
    return get_readable(session, subject, ScanCampaign, campaign_id, "scan_campaign", campaign_resource)


def list_campaigns(session: Session, subject: Subject, *, active_only: bool = False) -> list[ScanCampaign]:
    query = select(ScanCampaign).order_by(ScanCampaign.starts_at.desc())
    if active_only:
        query = query.where(ScanCampaign.ends_at > utcnow())
    return list(visible(subject, session.scalars(query), campaign_resource))


def list_conflicts(
    session: Session, subject: Subject, campaign_id: str | None = None
) -> list[CampaignConflict]:
    query = select(CampaignConflict).order_by(CampaignConflict.detected_at.desc())
    if campaign_id is not None:
        query = query.where(
            or_(
                CampaignConflict.campaign_id == campaign_id, CampaignConflict.other_campaign_id == campaign_id
            )
        )
    return [c for c in session.scalars(query) if can(subject, Action.READ, conflict_resource(c, session))]
