"""HTTP routes for cases: deduplicated findings, their relations, and the
analyst's confirm and split."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from clearinghouse.access.schemas import MarkingOut
from clearinghouse.http_deps import SignedIn
from clearinghouse.intake.views import FindingOut
from clearinghouse.priority.services import enrichment_for
from clearinghouse.triage import services
from clearinghouse.triage.models import Case, FindingRelation

router = APIRouter(tags=["triage"])


class RelationOut(BaseModel):
    finding_id: str
    target_finding_id: str
    relation: str
    confidence: float
    status: str
    reasons: list[str]
    decided_by: str | None

    @classmethod
    def of(cls, r: FindingRelation) -> RelationOut:
        return cls(
            finding_id=r.finding_id,
            target_finding_id=r.target_finding_id,
            relation=r.relation,
            confidence=r.confidence,
            status=r.status,
            reasons=list(r.reasons),
            decided_by=r.decided_by,
        )


class KevOut(BaseModel):
    cve_id: str
    date_added: str
    due_date: str | None
    ransomware_use: str | None
    required_action: str | None


class EpssOut(BaseModel):
    cve_id: str
    probability: float
    percentile: float
    score_date: str | None


class CaseOut(BaseModel):
    id: str
    title: str
    purl: str
    cwe: list[str]
    member_count: int
    first_reporter_finding_id: str
    first_reporter_org_id: str
    marking: MarkingOut
    created_at: dt.datetime
    findings: list[FindingOut] | None = None
    relations: list[RelationOut] | None = None
    cves: list[str] | None = None
    kev: list[KevOut] | None = Field(None, description="CISA KEV entries of the case's CVEs")
    epss: list[EpssOut] | None = Field(None, description="EPSS probability and percentile of the case's CVEs")

    @classmethod
    def of(cls, c: Case) -> CaseOut:
        return cls(
            id=c.id,
            title=c.title,
            purl=c.purl,
            cwe=list(c.cwe),
            member_count=c.member_count,
            first_reporter_finding_id=c.first_reporter_finding_id,
            first_reporter_org_id=c.first_reporter_org_id,
            marking=MarkingOut.of(c),
            created_at=c.created_at,
        )


@router.get("/cases", summary="Cases, the most reported first")
def list_cases(
    context: SignedIn,
    limit: int = Query(50, ge=1, le=500),
    min_members: int = Query(
        1, ge=1, le=1_000_000, description="Only cases with at least this many findings"
    ),
) -> list[CaseOut]:
    with context.reading() as uow:
        return [
            CaseOut.of(c)
            for c in services.list_cases(uow.session, context.subject, limit=limit, min_members=min_members)
        ]


@router.get("/cases/{case_id}", summary="One case with its findings and the relations between them")
def get_case(case_id: str, context: SignedIn) -> CaseOut:
    with context.reading() as uow:
        case = services.get_case(uow.session, context.subject, case_id)
        out = CaseOut.of(case)
        members = services.case_members(uow.session, context.subject, case)
        out.findings = [FindingOut.of(f) for f in members]
        out.relations = [
            RelationOut.of(r) for r in services.case_relations(uow.session, context.subject, case)
        ]
        # Enriched from the CVEs the caller can see among the case's findings.
        enrichment = enrichment_for(uow.session, [a for f in members for a in f.document.get("aliases", [])])
        out.cves = enrichment.cves
        out.kev = [KevOut(**vars(k)) for k in enrichment.kev]
        out.epss = [EpssOut(**vars(e)) for e in enrichment.epss]
        return out


@router.post(
    "/findings/{finding_id}:confirm", summary="Confirm a proposed match: the finding joins that case"
)
def confirm(finding_id: str, context: SignedIn) -> FindingOut:
    with context.writing() as uow:
        finding = services.confirm_relation(uow, context.subject, finding_id)
        uow.commit()
    return FindingOut.of(finding)


@router.post("/findings/{finding_id}:split", summary="Take a finding out of its case into a case of its own")
def split(finding_id: str, context: SignedIn) -> FindingOut:
    with context.writing() as uow:
        finding = services.split_finding(uow, context.subject, finding_id)
        uow.commit()
    return FindingOut.of(finding)


class ProposalOut(RelationOut):
    case_id: str


@router.get(
    "/proposals", summary="Proposed matches waiting for an analyst, most confident first, with reasons"
)
def list_proposals(context: SignedIn, limit: int = Query(100, ge=1, le=1000)) -> list[ProposalOut]:
    with context.reading() as uow:
        return [
            ProposalOut(**RelationOut.of(r).model_dump(), case_id=r.case_id)
            for r in services.list_proposals(uow.session, context.subject, limit=limit)
        ]


class BulkItemIn(BaseModel):
    finding_id: str = Field(max_length=36)
    decision: Literal["confirm", "split"]


class BulkIn(BaseModel):
    items: list[BulkItemIn] = Field(min_length=1, max_length=services.MAX_BULK_DECISIONS)


class BulkItemOut(BaseModel):
    index: int
    finding_id: str
    decision: str
    ok: bool
    case_id: str | None
    relation: str | None
    confidence: float | None
    reasons: list[str]
    pointer: str | None
    detail: str | None


class BulkOut(BaseModel):
    decided: int
    refused: int
    items: list[BulkItemOut]


@router.post(
    "/proposals:decide",
    summary="Confirm or split many findings at once (analysts); each item is answered by its index",
)
def decide_proposals(body: BulkIn, context: SignedIn) -> BulkOut:
    outcomes = services.decide_many(
        context.runtime.uow,
        context.subject,
        [(i.finding_id, i.decision) for i in body.items],
    )
    items = [BulkItemOut(**{**vars(o), "reasons": list(o.reasons)}) for o in outcomes]
    return BulkOut(decided=sum(o.ok for o in outcomes), refused=sum(not o.ok for o in outcomes), items=items)
