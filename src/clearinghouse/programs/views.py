"""HTTP routes for defensive-tool access programs (``/api/v1/programs/...``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from clearinghouse.access import OrgKind
from clearinghouse.access.schemas import MarkingOut
from clearinghouse.domain import VOLUNTARY_NOTICE
from clearinghouse.http_deps import SignedIn
from clearinghouse.programs import services
from clearinghouse.programs.models import (
    Application,
    ApplicationStatus,
    Grant,
    ModelOfferConsent,
    OrgSize,
    Program,
    Sector,
    UsageReport,
)

router = APIRouter(prefix="/programs", tags=["programs"])
_strict = ConfigDict(extra="forbid")


class ProgramIn(BaseModel):
    model_config = _strict

    name: str = Field(min_length=1, max_length=300)
    description: str = Field("", max_length=20_000)
    tool_name: str | None = Field(None, max_length=300, description="The tool offered (or give model_id)")
    model_id: str | None = Field(None, max_length=36, description="A model registered with frontier review")
    operating_org: str | None = Field(None, max_length=200, description="Default: the caller's organization")
    eligible_org_kinds: list[OrgKind] = Field(default_factory=list, max_length=len(OrgKind))
    eligible_sectors: list[Sector] = Field(default_factory=list, max_length=len(Sector))
    eligible_sizes: list[OrgSize] = Field(default_factory=list, max_length=len(OrgSize))
    terms: str = Field(min_length=1, max_length=50_000)
    capacity: int = Field(ge=1, le=1_000_000)
    grant_days: int = Field(365, ge=1, le=services.MAX_GRANT_DAYS)


class ProgramOut(BaseModel):
    id: str
    name: str
    description: str
    tool_name: str | None
    model_id: str | None
    operating_org: str
    eligible_org_kinds: list[str]
    eligible_sectors: list[str]
    eligible_sizes: list[str]
    terms: str
    capacity: int
    grants_in_use: int
    notice: str = Field(
        VOLUNTARY_NOTICE,
        description="EO 14409 §5(c): voluntary; creates no enforceable right",
    )
    grant_days: int
    accepting: bool
    marking: MarkingOut
    created_at: dt.datetime

    @classmethod
    def of(cls, session: Session, p: Program) -> ProgramOut:
        return cls(
            id=p.id,
            name=p.name,
            description=p.description,
            tool_name=p.tool_name,
            model_id=p.model_id,
            operating_org=p.owner_org_id,
            eligible_org_kinds=p.eligible_org_kinds,
            eligible_sectors=p.eligible_sectors,
            eligible_sizes=p.eligible_sizes,
            terms=p.terms,
            capacity=p.capacity,
            grants_in_use=services.active_grant_count(session, p.id),
            grant_days=p.grant_days,
            accepting=p.accepting,
            marking=MarkingOut.of(p),
            created_at=p.created_at,
        )


class AcceptingIn(BaseModel):
    model_config = _strict

    accepting: bool


class ApplicationIn(BaseModel):
    model_config = _strict

    sector: Sector
    size: OrgSize
    justification: str = Field("", max_length=20_000)


class ApplicationOut(BaseModel):
    id: str
    program_id: str
    org: str
    applicant: str
    org_kind: str
    sector: str
    size: str
    justification: str
    status: ApplicationStatus
    decision_reason: str | None
    decided_by: str | None
    decided_at: dt.datetime | None
    created_at: dt.datetime

    @classmethod
    def of(cls, a: Application) -> ApplicationOut:
        return cls(
            id=a.id,
            program_id=a.program_id,
            org=a.owner_org_id,
            applicant=a.applicant_user_id,
            org_kind=a.org_kind,
            sector=a.sector,
            size=a.size,
            justification=a.justification,
            status=ApplicationStatus(a.status),
            decision_reason=a.decision_reason,
            decided_by=a.decided_by,
            decided_at=a.decided_at,
            created_at=a.created_at,
        )


class GrantOut(BaseModel):
    id: str
    program_id: str
    application_id: str
    org: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    revoked_at: dt.datetime | None
    revoke_reason: str | None
    active: bool = Field(description="Gives access now (started, not ended, not revoked)")

    @classmethod
    def of(cls, session: Session, g: Grant) -> GrantOut:
        return cls(
            id=g.id,
            program_id=g.program_id,
            application_id=g.application_id,
            org=g.owner_org_id,
            starts_at=g.starts_at,
            ends_at=g.ends_at,
            revoked_at=g.revoked_at,
            revoke_reason=g.revoke_reason,
            active=services.grant_active(session, g),
        )


class DecisionIn(BaseModel):
    model_config = _strict

    approve: bool
    reason: str = Field(min_length=1, max_length=10_000)
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None


class DecisionOut(BaseModel):
    application: ApplicationOut
    grant: GrantOut | None


class RevokeIn(BaseModel):
    model_config = _strict

    reason: str = Field(min_length=1, max_length=10_000)


class UsageIn(BaseModel):
    model_config = _strict

    period_start: AwareDatetime
    period_end: AwareDatetime
    metrics: dict[str, float] = Field(default_factory=dict, max_length=100)
    note: str = Field("", max_length=10_000)


class UsageOut(BaseModel):
    id: str
    grant_id: str
    period_start: dt.datetime
    period_end: dt.datetime
    metrics: dict[str, Any]
    note: str
    reported_by: str
    reported_at: dt.datetime

    @classmethod
    def of(cls, u: UsageReport) -> UsageOut:
        return cls(
            id=u.id,
            grant_id=u.grant_id,
            period_start=u.period_start,
            period_end=u.period_end,
            metrics=u.metrics,
            note=u.note,
            reported_by=u.reported_by,
            reported_at=u.reported_at,
        )


class AccessOut(BaseModel):
    program_id: str
    org: str
    has_access: bool
    grant: GrantOut | None


# Fixed paths first, so that "/applications" and "/grants" are not taken for a program id.


@router.get("/applications", summary="Applications the caller may see (its own; staff see all)")
def list_applications(
    context: SignedIn, program_id: str | None = None, status: ApplicationStatus | None = None
) -> list[ApplicationOut]:
    with context.reading() as uow:
        rows = services.list_applications(
            uow.session, context.subject, program_id=program_id, status=status.value if status else None
        )
        return [ApplicationOut.of(a) for a in rows]


@router.get("/applications/{application_id}", summary="One application")
def get_application(application_id: str, context: SignedIn) -> ApplicationOut:
    with context.reading() as uow:
        return ApplicationOut.of(services.get_application(uow.session, context.subject, application_id))


@router.post(
    "/applications/{application_id}/decision",
    summary="Approve (making a grant) or decline an application, with a reason (program administrators)",
)
def decide(application_id: str, body: DecisionIn, context: SignedIn) -> DecisionOut:
    decision = services.Decision(
        approve=body.approve, reason=body.reason, starts_at=body.starts_at, ends_at=body.ends_at
    )
    with context.writing() as uow:
        application, grant = services.decide(uow, context.subject, application_id, decision)
        uow.commit()
    with context.reading() as uow:
        return DecisionOut(
            application=ApplicationOut.of(application),
            grant=GrantOut.of(uow.session, grant) if grant is not None else None,
        )


@router.get("/grants", summary="Grants the caller may see (its organization's; staff see all)")
def list_grants(context: SignedIn, program_id: str | None = None) -> list[GrantOut]:
    with context.reading() as uow:
        rows = services.list_grants(uow.session, context.subject, program_id=program_id)
        return [GrantOut.of(uow.session, g) for g in rows]


@router.get("/grants/{grant_id}", summary="One grant, and whether it gives access now")
def get_grant(grant_id: str, context: SignedIn) -> GrantOut:
    with context.reading() as uow:
        return GrantOut.of(uow.session, services.get_grant(uow.session, context.subject, grant_id))


@router.post(
    "/grants/{grant_id}/revoke", summary="Revoke a grant now, with a reason (program administrators)"
)
def revoke(grant_id: str, body: RevokeIn, context: SignedIn) -> GrantOut:
    with context.writing() as uow:
        grant = services.revoke_grant(uow, context.subject, grant_id, body.reason)
        uow.commit()
    with context.reading() as uow:
        return GrantOut.of(uow.session, grant)


@router.post("/grants/{grant_id}/usage", status_code=201, summary="Report how a grant was used over a period")
def report_usage(grant_id: str, body: UsageIn, context: SignedIn, response: Response) -> UsageOut:
    draft = services.UsageDraft(
        period_start=body.period_start, period_end=body.period_end, metrics=body.metrics, note=body.note
    )
    with context.writing() as uow:
        report, created = services.report_usage(uow, context.subject, grant_id, draft)
        uow.commit()
    response.status_code = 201 if created else 200
    return UsageOut.of(report)


@router.get("/grants/{grant_id}/usage", summary="A grant's usage reports")
def list_usage(grant_id: str, context: SignedIn) -> list[UsageOut]:
    with context.reading() as uow:
        return [UsageOut.of(u) for u in services.usage_reports(uow.session, context.subject, grant_id)]


class ConsentIn(BaseModel):
    model_config = _strict

    model_id: str = Field(min_length=1, max_length=36)
    operating_org: str = Field(min_length=1, max_length=200, description="The program operator (id or name)")
    participants: list[str] = Field(
        min_length=1, max_length=1000, description="Organizations (id or name) the model may reach"
    )


class ConsentOut(BaseModel):
    id: str
    model_id: str
    operating_org: str
    participants: list[str]
    created_at: dt.datetime
    withdrawn_at: dt.datetime | None

    @classmethod
    def of(cls, c: ModelOfferConsent) -> ConsentOut:
        return cls(
            id=c.id,
            model_id=c.model_id,
            operating_org=c.operator_org_id,
            participants=list(c.participant_org_ids),
            created_at=c.created_at,
            withdrawn_at=c.withdrawn_at,
        )


@router.post(
    "/model-consents",
    status_code=201,
    summary="The developer consents to offering its model in an organization's programs, to participants",
)
def consent_to_offer(body: ConsentIn, context: SignedIn, response: Response) -> ConsentOut:
    draft = services.ConsentDraft(body.model_id, body.operating_org, body.participants)
    with context.writing() as uow:
        consent, created = services.consent_to_offer(uow, context.subject, draft)
        out = ConsentOut.of(consent)
        uow.commit()
    response.status_code = 201 if created else 200
    return out


@router.post("/model-consents/{consent_id}/withdraw", summary="The developer withdraws its consent")
def withdraw_consent(consent_id: str, context: SignedIn) -> ConsentOut:
    with context.writing() as uow:
        out = ConsentOut.of(services.withdraw_consent(uow, context.subject, consent_id))
        uow.commit()
    return out


@router.post(
    "", status_code=201, summary="Open a program offering a tool or a model (program administrators)"
)
def create_program(body: ProgramIn, context: SignedIn, response: Response) -> ProgramOut:
    draft = services.ProgramDraft(
        name=body.name,
        description=body.description,
        tool_name=body.tool_name,
        model_id=body.model_id,
        operating_org=body.operating_org,
        eligible_org_kinds=[k.value for k in body.eligible_org_kinds],
        eligible_sectors=[s.value for s in body.eligible_sectors],
        eligible_sizes=[s.value for s in body.eligible_sizes],
        terms=body.terms,
        capacity=body.capacity,
        grant_days=body.grant_days,
    )
    with context.writing() as uow:
        program, created = services.create_program(uow, context.subject, draft)
        uow.commit()
    response.status_code = 201 if created else 200
    with context.reading() as uow:
        return ProgramOut.of(uow.session, program)


@router.get("", summary="Programs (every signed-in participant sees them)")
def list_programs(context: SignedIn) -> list[ProgramOut]:
    with context.reading() as uow:
        return [ProgramOut.of(uow.session, p) for p in services.list_programs(uow.session, context.subject)]


@router.get("/{program_id}", summary="One program")
def get_program(program_id: str, context: SignedIn) -> ProgramOut:
    with context.reading() as uow:
        return ProgramOut.of(uow.session, services.get_program(uow.session, context.subject, program_id))


@router.post("/{program_id}/accepting", summary="Open or close a program to new applications")
def set_accepting(program_id: str, body: AcceptingIn, context: SignedIn) -> ProgramOut:
    with context.writing() as uow:
        program = services.set_accepting(uow, context.subject, program_id, body.accepting)
        uow.commit()
    with context.reading() as uow:
        return ProgramOut.of(uow.session, program)


@router.post("/{program_id}/applications", status_code=201, summary="Apply for the caller's organization")
def apply(program_id: str, body: ApplicationIn, context: SignedIn, response: Response) -> ApplicationOut:
    draft = services.ApplicationDraft(
        sector=body.sector.value, size=body.size.value, justification=body.justification
    )
    with context.writing() as uow:
        application, created = services.apply(uow, context.subject, program_id, draft)
        uow.commit()
    response.status_code = 201 if created else 200
    return ApplicationOut.of(application)


@router.get("/{program_id}/access", summary="Whether the caller's organization has access to the program now")
def my_access(program_id: str, context: SignedIn) -> AccessOut:
    with context.reading() as uow:
        status = services.my_access(uow.session, context.subject, program_id)
        return AccessOut(
            program_id=status.program_id,
            org=status.org_id,
            has_access=status.has_access,
            grant=GrantOut.of(uow.session, status.grant) if status.grant is not None else None,
        )
