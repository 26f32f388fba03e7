"""HTTP routes for the directive tracker and BOD 26-04 compliance."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from clearinghouse.directives import services
from clearinghouse.directives.models import Directive, DirectiveStatus
from clearinghouse.http_deps import SignedIn
from clearinghouse.storage import utcnow

router = APIRouter(prefix="/directives", tags=["directives"])


class LeadModel(BaseModel):
    """One office that leads a directive, and the office it acts through (empty where the order
    names none)."""

    office: str = Field(min_length=1, max_length=300)
    acting_through: str = Field("", max_length=300)


class DirectiveOut(BaseModel):
    id: str
    key: str
    instrument: str
    section: str
    title: str
    actor: str
    acting_through: str
    leads: list[LeadModel]
    consulted: list[str]
    signed_on: dt.date | None
    due_days: int | None
    due_on: dt.date | None
    due_date: dt.date | None
    standing: bool
    status: str
    deliverable: str
    note: str
    overdue: bool

    @classmethod
    def of(cls, d: Directive, today: dt.date) -> DirectiveOut:
        return cls(
            id=d.id,
            key=d.key,
            instrument=d.instrument,
            section=d.section,
            title=d.title,
            actor=d.actor,
            acting_through=d.acting_through,
            leads=[LeadModel(**lead) for lead in d.leads],
            consulted=list(d.consulted),
            signed_on=d.signed_on,
            due_days=d.due_days,
            due_on=d.due_on,
            due_date=d.due_date,
            standing=d.standing,
            status=d.status,
            deliverable=d.deliverable,
            note=d.note,
            overdue=d.is_overdue(today),
        )


class DirectiveIn(BaseModel):
    key: str = Field(min_length=1, max_length=120)
    instrument: str = Field(min_length=1, max_length=100)
    title: str = Field(min_length=1, max_length=500)
    actor: str = Field(
        "", max_length=300, description="The first lead; may be left out when `leads` is given"
    )
    section: str = Field("", max_length=100)
    acting_through: str = Field("", max_length=300)
    leads: list[LeadModel] = Field(
        default_factory=list, max_length=20, description="Every lead; the first becomes `actor`"
    )
    consulted: list[str] = Field(default_factory=list, max_length=50)
    signed_on: dt.date | None = None
    due_days: int | None = Field(None, ge=0, le=3650)
    due_on: dt.date | None = None
    standing: bool = False
    status: DirectiveStatus | None = None
    deliverable: str = Field("", max_length=20_000)
    note: str = Field("", max_length=20_000)


class DirectivePatch(BaseModel):
    instrument: str | None = Field(None, min_length=1, max_length=100)
    title: str | None = Field(None, min_length=1, max_length=500)
    actor: str | None = Field(None, min_length=1, max_length=300)
    section: str | None = Field(None, max_length=100)
    acting_through: str | None = Field(None, max_length=300)
    leads: list[LeadModel] | None = Field(None, min_length=1, max_length=20)
    consulted: list[str] | None = Field(None, max_length=50)
    signed_on: dt.date | None = None
    due_days: int | None = Field(None, ge=0, le=3650)
    due_on: dt.date | None = None
    standing: bool | None = None
    status: DirectiveStatus | None = None
    deliverable: str | None = Field(None, max_length=20_000)
    note: str | None = Field(None, max_length=20_000)


class ComplianceItemOut(BaseModel):
    match_id: str
    case_id: str | None
    advisory_id: str | None = None
    case_title: str
    cve_ids: list[str]
    asset_id: str
    asset_name: str
    component: str
    inputs: dict[str, str] = Field(description="in_kev, publicly_exposed, automatable, technical_impact")
    outcome: str = Field(description="The BOD 26-04 table's timeline")
    notified_at: dt.datetime
    notified_explicitly: bool
    due_at: dt.datetime | None
    forensic_triage: bool
    overdue: bool


class AgencyOut(BaseModel):
    org_id: str
    name: str
    due: int
    overdue: int
    at_upgrade: int
    items: list[ComplianceItemOut]


class ComplianceOut(BaseModel):
    as_of: dt.datetime
    agencies: list[AgencyOut]


class NoticeIn(BaseModel):
    notified_at: dt.datetime
    note: str = Field("", max_length=2000)


class NoticeOut(BaseModel):
    match_id: str
    notified_at: dt.datetime
    recorded_by: str | None
    note: str


def _today(as_of: dt.date | None) -> dt.date:
    return as_of or utcnow().date()


@router.get("", summary="The directive tracker: who owes what by when; overdue ones flagged")
def list_directives(
    context: SignedIn,
    as_of: Annotated[dt.date | None, Query(description="Judge overdue on this day (default today)")] = None,
) -> list[DirectiveOut]:
    with context.reading() as uow:
        rows = services.list_directives(uow.session, context.subject)
    return [DirectiveOut.of(d, _today(as_of)) for d in rows]


@router.post(
    "",
    status_code=201,
    summary="Add a directive (admins)",
    description="The same key with the same content again answers 200; with other content, 409.",
)
def create_directive(body: DirectiveIn, context: SignedIn, response: Response) -> DirectiveOut:
    draft = services.DirectiveDraft(**body.model_dump())
    with context.writing() as uow:
        directive, created = services.create_directive(uow, context.subject, draft)
        uow.commit()
    response.status_code = 201 if created else 200
    return DirectiveOut.of(directive, _today(None))


@router.get("/bod-26-04/compliance", summary="BOD 26-04 per agency: what is due and what is overdue")
def compliance(
    context: SignedIn,
    as_of: Annotated[
        dt.datetime | None, Query(description="Judge overdue at this moment (default now)")
    ] = None,
) -> ComplianceOut:
    now = (
        as_of
        if as_of is not None and as_of.tzinfo is not None
        else (as_of.replace(tzinfo=dt.UTC) if as_of is not None else utcnow())
    )
    with context.reading() as uow:
        agencies = services.bod_26_04_compliance(uow.session, context.subject, now)
    return ComplianceOut(
        as_of=now,
        agencies=[
            AgencyOut(
                org_id=a.org_id,
                name=a.name,
                due=len(a.due),
                overdue=len(a.overdue),
                at_upgrade=len(a.at_upgrade),
                items=[
                    ComplianceItemOut(
                        match_id=i.match_id,
                        case_id=i.case_id,
                        advisory_id=i.advisory_id,
                        case_title=i.case_title,
                        cve_ids=i.cve_ids,
                        asset_id=i.asset_id,
                        asset_name=i.asset_name,
                        component=i.component,
                        inputs={
                            "in_kev": i.in_kev,
                            "publicly_exposed": i.publicly_exposed,
                            "automatable": i.automatable,
                            "technical_impact": i.technical_impact,
                        },
                        outcome=i.outcome.value,
                        notified_at=i.notified_at,
                        notified_explicitly=i.notified_explicitly,
                        due_at=i.due_at,
                        forensic_triage=i.forensic_triage,
                        overdue=i.overdue,
                    )
                    for i in a.items
                ],
            )
            for a in agencies
        ],
    )


@router.put(
    "/bod-26-04/notices/{match_id}",
    summary="Record when the agency was notified of a match (staff); its clock starts then",
)
def put_notice(match_id: str, body: NoticeIn, context: SignedIn) -> NoticeOut:
    with context.writing() as uow:
        notice = services.record_notice(uow, context.subject, match_id, body.notified_at, body.note)
        uow.commit()
    return NoticeOut(
        match_id=notice.match_id,
        notified_at=notice.notified_at,
        recorded_by=notice.recorded_by,
        note=notice.note,
    )


@router.get("/{directive_id}", summary="One directive (by id or key)")
def get_directive(
    directive_id: str, context: SignedIn, as_of: Annotated[dt.date | None, Query()] = None
) -> DirectiveOut:
    with context.reading() as uow:
        return DirectiveOut.of(
            services.get_directive(uow.session, context.subject, directive_id), _today(as_of)
        )


@router.patch("/{directive_id}", summary="Change a directive (admins)")
def patch_directive(directive_id: str, body: DirectivePatch, context: SignedIn) -> DirectiveOut:
    changes: dict[str, Any] = body.model_dump(exclude_unset=True)
    if changes.get("status") is not None:
        changes["status"] = DirectiveStatus(changes["status"]).value
    with context.writing() as uow:
        directive = services.update_directive(uow, context.subject, directive_id, changes)
        uow.commit()
    return DirectiveOut.of(directive, _today(None))
