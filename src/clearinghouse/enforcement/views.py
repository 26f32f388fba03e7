"""HTTP routes for AI-facilitated crime incidents, evidence and referral
(``/api/v1/enforcement/...``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from clearinghouse.access.schemas import MarkingOut
from clearinghouse.enforcement import services
from clearinghouse.enforcement._bundle import MAX_BUNDLE_BYTES, BundleRefused, BundleReport, verify_bundle
from clearinghouse.enforcement._report import IncidentReport
from clearinghouse.enforcement.models import Evidence, Incident, IncidentState
from clearinghouse.http_deps import SignedIn
from clearinghouse.ledger import trusted_public_keys

router = APIRouter(prefix="/enforcement", tags=["enforcement"])
_strict = ConfigDict(extra="forbid")


class IncidentOut(BaseModel):
    id: str
    title: str
    state: IncidentState
    reporter_kind: str
    reporter_org: str
    reported_by: str
    affected_system: str
    occurred_at: dt.datetime | None
    detected_at: dt.datetime | None
    impacts: list[str]
    impact_description: str
    indicators: list[dict[str, Any]]
    ai_involvement: list[str]
    ai_description: str
    model_identifiers: list[str]
    registered_models: list[str]
    statutes: list[str]
    atlas_techniques: list[str]
    atlas_case_studies: list[str]
    cases: list[str]
    referral_office: str | None
    referral_reference: str | None
    referred_at: dt.datetime | None
    closed_at: dt.datetime | None
    state_note: str
    marking: MarkingOut
    created_at: dt.datetime
    updated_at: dt.datetime
    personal: dict[str, Any] | None = Field(
        None, description="Victim contact and transcripts: for the reporting organization and liaisons"
    )
    redacted: list[str] = Field(
        default_factory=list, description="Personal fields this incident holds that are withheld from you"
    )

    @classmethod
    def of(cls, incident: Incident, personal: dict[str, Any] | None) -> IncidentOut:
        return cls(
            id=incident.id,
            title=incident.title,
            state=IncidentState(incident.state),
            reporter_kind=incident.reporter_kind,
            reporter_org=incident.owner_org_id,
            reported_by=incident.reported_by,
            affected_system=incident.affected_system,
            occurred_at=incident.occurred_at,
            detected_at=incident.detected_at,
            impacts=incident.impacts,
            impact_description=incident.impact_description,
            indicators=incident.indicators,
            ai_involvement=incident.ai_involvement,
            ai_description=incident.ai_description,
            model_identifiers=incident.model_identifiers,
            registered_models=incident.registered_model_ids,
            statutes=incident.statutes,
            atlas_techniques=incident.atlas_techniques,
            atlas_case_studies=incident.atlas_case_studies,
            cases=incident.case_ids,
            referral_office=incident.referral_office,
            referral_reference=incident.referral_reference,
            referred_at=incident.referred_at,
            closed_at=incident.closed_at,
            state_note=incident.state_note,
            marking=MarkingOut.of(incident),
            created_at=incident.created_at,
            updated_at=incident.updated_at,
            personal=personal,
            redacted=[] if personal is not None else list(incident.personal_fields),
        )


class EvidenceOut(BaseModel):
    id: str
    incident_id: str
    filename: str
    media_type: str
    description: str
    size: int
    sha256: str
    received_by: str
    received_at: dt.datetime
    custodian: str

    @classmethod
    def of(cls, e: Evidence) -> EvidenceOut:
        return cls(
            id=e.id,
            incident_id=e.incident_id,
            filename=e.filename,
            media_type=e.media_type,
            description=e.description,
            size=e.size,
            sha256=e.sha256,
            received_by=e.received_by,
            received_at=e.received_at,
            custodian=e.custodian,
        )


class MoveIn(BaseModel):
    model_config = _strict

    state: IncidentState
    office: str | None = Field(None, max_length=300, description="Law-enforcement office (when referring)")
    reference: str | None = Field(None, max_length=200, description="The office's case number, if any")
    referred_at: AwareDatetime | None = Field(None, description="When it was referred (default: now)")
    note: str = Field("", max_length=10_000)


class ShareIn(BaseModel):
    model_config = _strict

    sharing_groups: list[str] = Field(min_length=1, max_length=50)


class TransferIn(BaseModel):
    model_config = _strict

    to: str = Field(min_length=1, max_length=300, description="The new custodian: a person or an office")
    reason: str = Field(min_length=1, max_length=services.MAX_REASON)


class ExportIn(BaseModel):
    model_config = _strict

    reason: str = Field(min_length=1, max_length=services.MAX_REASON)
    evidence_ids: list[str] = Field(default_factory=list, max_length=1000, description="Default: all")


class BundleReportOut(BaseModel):
    ok: bool
    problems: list[str]
    files: int
    events: int
    key_id: str | None
    key_trusted: bool | None
    incident_id: str | None

    @classmethod
    def of(cls, report: BundleReport) -> BundleReportOut:
        return cls.model_validate(report.as_dict())


def _out(context: SignedIn, incident: Incident) -> IncidentOut:
    personal = services.personal_data(context.runtime.envelope, context.subject, incident)
    return IncidentOut.of(incident, personal)


@router.post("/incidents", status_code=201, summary="Report an AI-facilitated crime")
def report_incident(body: IncidentReport, context: SignedIn, response: Response) -> IncidentOut:
    with context.writing() as uow:
        incident, created = services.report_incident(uow, context.runtime.envelope, context.subject, body)
        uow.commit()
    response.status_code = 201 if created else 200
    return _out(context, incident)


@router.get("/incidents", summary="Incidents the caller may see, newest first")
def list_incidents(
    context: SignedIn,
    state: IncidentState | None = None,
    limit: int = Query(50, ge=1, le=1000),
) -> list[IncidentOut]:
    with context.reading() as uow:
        rows = services.list_incidents(
            uow.session, context.subject, state=state.value if state else None, limit=limit
        )
        return [_out(context, i) for i in rows]


@router.get("/incidents/{incident_id}", summary="One incident (personal data only for those who need it)")
def get_incident(incident_id: str, context: SignedIn) -> IncidentOut:
    with context.reading() as uow:
        return _out(context, services.get_incident(uow.session, context.subject, incident_id))


@router.post(
    "/incidents/{incident_id}/state",
    summary="Move the referral: under_review, referred (with the office), closed (liaisons)",
)
def move_incident(incident_id: str, body: MoveIn, context: SignedIn) -> IncidentOut:
    move = services.Move(
        state=body.state.value,
        office=body.office,
        reference=body.reference,
        referred_at=body.referred_at,
        note=body.note,
    )
    with context.writing() as uow:
        incident = services.move_incident(uow, context.subject, incident_id, move)
        uow.commit()
    return _out(context, incident)


@router.post("/incidents/{incident_id}/sharing", summary="Share the incident with sharing groups")
def share_incident(incident_id: str, body: ShareIn, context: SignedIn) -> IncidentOut:
    with context.writing() as uow:
        incident = services.share_incident(uow, context.subject, incident_id, body.sharing_groups)
        uow.commit()
    return _out(context, incident)


@router.post(
    "/incidents/{incident_id}/evidence",
    status_code=201,
    summary="Add an evidence file (the body is the file); hashed, encrypted and recorded on receipt",
    openapi_extra={
        "requestBody": {
            "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
            "required": True,
        }
    },
)
async def add_evidence(
    incident_id: str,
    request: Request,
    context: SignedIn,
    response: Response,
    filename: str = Query(min_length=1, max_length=255),
    media_type: str = Query("application/octet-stream", max_length=200),
    description: str = Query("", max_length=10_000),
) -> EvidenceOut:
    file = services.EvidenceFile(
        filename=filename, content=await request.body(), media_type=media_type, description=description
    )

    def run() -> tuple[Evidence, bool]:
        with context.writing() as uow:
            result = services.add_evidence(uow, context.runtime.envelope, context.subject, incident_id, file)
            uow.commit()
        return result

    evidence, created = await run_in_threadpool(run)
    response.status_code = 201 if created else 200
    return EvidenceOut.of(evidence)


@router.get("/incidents/{incident_id}/evidence", summary="The incident's evidence: names, sizes, hashes")
def list_evidence(incident_id: str, context: SignedIn) -> list[EvidenceOut]:
    with context.reading() as uow:
        return [EvidenceOut.of(e) for e in services.list_evidence(uow.session, context.subject, incident_id)]


@router.get(
    "/incidents/{incident_id}/evidence/{evidence_id}/content",
    summary="Download an evidence file (decrypted); the access and its reason go to the custody log",
    response_class=Response,
)
def read_evidence(
    incident_id: str,
    evidence_id: str,
    context: SignedIn,
    reason: str = Query(min_length=1, max_length=services.MAX_REASON),
) -> Response:
    with context.writing() as uow:
        evidence, content = services.read_evidence(
            uow, context.runtime.envelope, context.subject, incident_id, evidence_id, reason
        )
        uow.commit()
    return Response(
        content,
        media_type=evidence.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{evidence.id}"',
            "Digest": f"sha-256={evidence.sha256}",
        },
    )


@router.post(
    "/incidents/{incident_id}/evidence/{evidence_id}/transfer",
    summary="Transfer custody of an evidence file, with the reason",
)
def transfer_evidence(incident_id: str, evidence_id: str, body: TransferIn, context: SignedIn) -> EvidenceOut:
    with context.writing() as uow:
        evidence = services.transfer_evidence(
            uow, context.subject, incident_id, evidence_id, body.to, body.reason
        )
        uow.commit()
    return EvidenceOut.of(evidence)


@router.post(
    "/incidents/{incident_id}/export",
    summary="Export the evidence as a signed bundle (zip) with its custody log",
    response_class=Response,
    responses={200: {"content": {"application/zip": {}}}},
)
def export_evidence(incident_id: str, body: ExportIn, context: SignedIn) -> Response:
    runtime = context.runtime
    bundle = services.export_evidence(
        runtime.uow,
        runtime.envelope,
        runtime.signing_key,
        context.subject,
        incident_id,
        body.reason,
        body.evidence_ids,
    )
    return Response(
        bundle.data,
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{bundle.filename}"'},
    )


@router.post(
    "/bundles/verify",
    summary="Verify an evidence bundle (the body is the zip)",
    openapi_extra={
        "requestBody": {
            "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
            "required": True,
        }
    },
)
async def verify(request: Request, context: SignedIn) -> BundleReportOut:
    # Read at most one byte more than a bundle may be: a larger upload is refused unread.
    received = bytearray()
    async for chunk in request.stream():
        received += chunk
        if len(received) > MAX_BUNDLE_BYTES:
            raise BundleRefused(f"the archive is larger than {MAX_BUNDLE_BYTES // (1024 * 1024)} MiB")
    data = bytes(received)
    runtime = context.runtime
    trusted = set(trusted_public_keys(runtime.settings.keys_dir, runtime.signing_key))
    report = await run_in_threadpool(verify_bundle, data, trusted)
    return BundleReportOut.of(report)
