"""HTTP routes for scan campaigns and their conflicts, and for coordinating
cases with vendors (``/cases/{id}/coordination...``, ``/coordination/...``)."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Query
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from clearinghouse.access.schemas import MarkingOut
from clearinghouse.coordination import campaigns
from clearinghouse.coordination.models import CampaignConflict, ScanCampaign
from clearinghouse.coordination.workflow_views import router as workflow_router
from clearinghouse.http_deps import SignedIn

campaigns_router = APIRouter(prefix="/campaigns", tags=["scan deconfliction"])


class CampaignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=300)
    targets: list[str] = Field(
        min_length=1, max_length=campaigns.MAX_TARGETS, description="purls or repository URLs"
    )
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    tool: str = Field(min_length=1, max_length=200)
    model: str | None = Field(None, max_length=200)
    description: str = Field("", max_length=20_000)


class CampaignOut(BaseModel):
    id: str
    name: str
    targets: list[str]
    starts_at: dt.datetime
    ends_at: dt.datetime
    tool: str
    model: str | None
    marking: MarkingOut

    @classmethod
    def of(cls, c: ScanCampaign) -> CampaignOut:
        return cls(
            id=c.id,
            name=c.name,
            targets=c.targets,
            starts_at=c.starts_at,
            ends_at=c.ends_at,
            tool=c.tool,
            model=c.model,
            marking=MarkingOut.of(c),
        )


class ConflictOut(BaseModel):
    id: str
    campaign_id: str
    other_campaign_id: str
    other_organization: str | None = Field(description="The other side's organization")
    overlapping_targets: list[str]
    window_start: dt.datetime
    window_end: dt.datetime
    detected_at: dt.datetime

    @classmethod
    def of(cls, c: CampaignConflict, session: Session) -> ConflictOut:
        other = session.get(ScanCampaign, c.other_campaign_id)
        return cls(
            id=c.id,
            campaign_id=c.campaign_id,
            other_campaign_id=c.other_campaign_id,
            other_organization=other.owner_org_id if other else None,
            overlapping_targets=c.overlapping_targets,
            window_start=c.window_start,
            window_end=c.window_end,
            detected_at=c.detected_at,
        )


class RegisteredOut(BaseModel):
    campaign: CampaignOut
    conflicts: list[ConflictOut]


@campaigns_router.post("", status_code=201, summary="Register a scan campaign; overlaps are reported at once")
def register(body: CampaignIn, context: SignedIn) -> RegisteredOut:
    draft = campaigns.CampaignDraft(
        name=body.name,
        targets=body.targets,
        starts_at=body.starts_at,
        ends_at=body.ends_at,
        tool=body.tool,
        model=body.model,
        description=body.description,
    )
    with context.writing() as uow:
        campaign, conflicts = campaigns.register_campaign(uow, context.subject, draft)
        out = RegisteredOut(
            campaign=CampaignOut.of(campaign), conflicts=[ConflictOut.of(c, uow.session) for c in conflicts]
        )
        uow.commit()
    return out


@campaigns_router.get("", summary="Campaigns the caller may see")
def list_campaigns(
    context: SignedIn, active: bool = Query(False, description="Only unfinished ones")
) -> list[CampaignOut]:
    with context.reading() as uow:
        return [
            CampaignOut.of(c)
            for c in campaigns.list_campaigns(uow.session, context.subject, active_only=active)
        ]


@campaigns_router.get("/conflicts", summary="Overlaps involving the caller's campaigns (all, for staff)")
def list_conflicts(
    context: SignedIn, campaign_id: str | None = Query(None, max_length=36)
) -> list[ConflictOut]:
    with context.reading() as uow:
        conflicts = campaigns.list_conflicts(uow.session, context.subject, campaign_id)
        return [ConflictOut.of(c, uow.session) for c in conflicts]


@campaigns_router.get("/{campaign_id}", summary="One campaign")
def get_campaign(campaign_id: str, context: SignedIn) -> CampaignOut:
    with context.reading() as uow:
        return CampaignOut.of(campaigns.get_campaign(uow.session, context.subject, campaign_id))


# The package's routes: scan campaigns and the coordination workflow.
router = APIRouter()
router.include_router(campaigns_router)
router.include_router(workflow_router)
