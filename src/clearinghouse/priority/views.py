"""HTTP routes for prioritization: a case's scores, SSVC inputs and facts, and the priority queue."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from clearinghouse.http_deps import SignedIn
from clearinghouse.priority import _casework as casework
from clearinghouse.priority.models import CaseScore

router = APIRouter(tags=["priority"])


class ScoreOut(BaseModel):
    id: str
    case_id: str
    source: str = Field(description="finder, vendor, coordinator or imported")
    origin: str
    version: str
    vector: str
    base_score: float
    severity: str
    temporal_score: float | None
    environmental_score: float | None
    note: str
    created_at: dt.datetime

    @classmethod
    def of(cls, s: CaseScore) -> ScoreOut:
        return cls(
            id=s.id,
            case_id=s.case_id,
            source=s.source,
            origin=s.origin,
            version=s.version,
            vector=s.vector,
            base_score=s.base_score,
            severity=s.severity,
            temporal_score=s.temporal_score,
            environmental_score=s.environmental_score,
            note=s.note,
            created_at=s.created_at,
        )


class ScoreIn(BaseModel):
    vector: str = Field(
        min_length=1, max_length=300, examples=["CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"]
    )
    source: str = Field("coordinator", max_length=20, description="coordinator or vendor")
    note: str = Field("", max_length=2000)


class SsvcInputsIn(BaseModel):
    values: dict[str, str | None] = Field(
        default_factory=dict,
        max_length=30,
        description='SSVC input -> value (None removes the override), e.g. {"automatable": "yes"}',
    )
    note: str = Field("", max_length=2000)


class DecisionOut(BaseModel):
    table: str
    outcome: str
    inputs: dict[str, str]
    sources: dict[str, str]


class KevFactOut(BaseModel):
    cve_id: str
    date_added: str
    due_date: str | None
    ransomware_use: str | None


class FactsOut(BaseModel):
    case_id: str
    title: str
    cves: list[str]
    kev: KevFactOut | None
    epss_probability: float | None
    epss_percentile: float | None
    scores: list[ScoreOut]
    decisions: dict[str, DecisionOut]
    inputs: dict[str, str]
    input_sources: dict[str, str]
    overrides: dict[str, str]
    matched_participants: int
    matched_assets: int
    critical_assets: int
    exposed_assets: int

    @classmethod
    def of(cls, f: casework.CaseFacts) -> FactsOut:
        kev = f.kev
        return cls(
            case_id=f.case_id,
            title=f.title,
            cves=f.cves,
            kev=KevFactOut(
                cve_id=kev.cve_id,
                date_added=kev.date_added,
                due_date=kev.due_date,
                ransomware_use=kev.ransomware_use,
            )
            if kev
            else None,
            epss_probability=f.epss_probability,
            epss_percentile=f.epss_percentile,
            scores=[ScoreOut.of(s) for s in f.scores],
            decisions={k: DecisionOut(**vars(d)) for k, d in f.decisions.items()},
            inputs=f.inputs,
            input_sources=f.input_sources,
            overrides=f.overrides,
            matched_participants=f.matched_participants,
            matched_assets=f.matched_assets,
            critical_assets=f.critical_assets,
            exposed_assets=f.exposed_assets,
        )


class QueueItemOut(BaseModel):
    rank: int
    case_id: str
    title: str
    ssvc: str = Field(description="CISA coordinator decision")
    supplier_priority: str
    in_kev: bool
    epss_probability: float | None
    cvss: float | None
    matched_participants: int
    critical_assets: int
    reasons: list[str]


class QueueOut(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[QueueItemOut]


@router.get("/cases/{case_id}/scores", summary="A case's CVSS scores with their source, highest first")
def list_scores(case_id: str, context: SignedIn) -> list[ScoreOut]:
    with context.reading() as uow:
        return [ScoreOut.of(s) for s in casework.case_scores(uow.session, context.subject, case_id)]


@router.post(
    "/cases/{case_id}/scores",
    status_code=201,
    summary="Record a coordinator's or vendor's CVSS score for a case (staff)",
    description="The same vector from the same person and source again answers 200 and changes nothing.",
)
def add_score(case_id: str, body: ScoreIn, context: SignedIn, response: Response) -> ScoreOut:
    with context.writing() as uow:
        score, created = casework.record_score(
            uow, context.subject, case_id, body.vector, body.source.strip().lower(), body.note
        )
        uow.commit()
    response.status_code = 201 if created else 200
    return ScoreOut.of(score)


@router.get(
    "/cases/{case_id}/priority", summary="A case's KEV, EPSS, scores and SSVC decisions with their inputs"
)
def get_facts(case_id: str, context: SignedIn) -> FactsOut:
    with context.reading() as uow:
        return FactsOut.of(casework.case_facts(uow.session, context.subject, case_id))


@router.get("/cases/{case_id}/ssvc-inputs", summary="An analyst's SSVC inputs for a case")
def get_ssvc_inputs(case_id: str, context: SignedIn) -> dict[str, str]:
    with context.reading() as uow:
        return casework.ssvc_overrides(uow.session, context.subject, case_id)


@router.put(
    "/cases/{case_id}/ssvc-inputs",
    summary="Set an analyst's SSVC inputs for a case (staff); answers the case's facts and decisions",
)
def put_ssvc_inputs(case_id: str, body: SsvcInputsIn, context: SignedIn) -> FactsOut:
    with context.writing() as uow:
        casework.set_ssvc_inputs(uow, context.subject, case_id, body.values, body.note)
        facts = casework.case_facts(uow.session, context.subject, case_id)
        uow.commit()
    return FactsOut.of(facts)


@router.get("/queue", summary="Validated cases in priority order, each with why (staff)")
def queue(
    context: SignedIn,
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=1_000_000),
) -> QueueOut:
    with context.reading() as uow:
        total, items = casework.priority_queue(uow.session, context.subject, limit=limit, offset=offset)
    return QueueOut(
        total=total,
        limit=limit,
        offset=offset,
        items=[
            QueueItemOut(
                rank=i.rank,
                case_id=i.facts.case_id,
                title=i.facts.title,
                ssvc=i.facts.decisions["cisa_coordinator"].outcome,
                supplier_priority=i.facts.decisions["supplier_patch_priority"].outcome,
                in_kev=i.facts.kev is not None,
                epss_probability=i.facts.epss_probability,
                cvss=i.facts.best_score.base_score if i.facts.best_score else None,
                matched_participants=i.facts.matched_participants,
                critical_assets=i.facts.critical_assets,
                reasons=i.reasons,
            )
            for i in items
        ],
    )
