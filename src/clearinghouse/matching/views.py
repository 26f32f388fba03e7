"""HTTP routes for inventories (assets registered with their SBOMs) and stored matches."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from clearinghouse.access.schemas import MarkingOut
from clearinghouse.http_deps import SignedIn
from clearinghouse.matching import services, worklist
from clearinghouse.matching.models import Asset, AssetComponent, CaseMatch, Criticality, MatchStatus
from clearinghouse.storage import utcnow

router = APIRouter(prefix="/inventories", tags=["inventories"])
cases_router = APIRouter(tags=["matching"])


class ComponentOut(BaseModel):
    purl: str | None
    name: str
    version: str | None
    cpe: str | None
    pointer: str

    @classmethod
    def of(cls, c: AssetComponent) -> ComponentOut:
        return cls(purl=c.purl, name=c.name, version=c.version, cpe=c.cpe, pointer=c.pointer)


class AssetOut(BaseModel):
    id: str
    name: str
    internet_exposed: bool
    criticality: Criticality
    sbom_format: str
    sbom_spec_version: str | None
    sbom_sha256: str
    component_count: int
    warnings: list[str]
    marking: MarkingOut
    updated_at: dt.datetime
    components: list[ComponentOut] | None = None

    @classmethod
    def of(cls, a: Asset) -> AssetOut:
        return cls(
            id=a.id,
            name=a.name,
            internet_exposed=a.internet_exposed,
            criticality=Criticality(a.criticality),
            sbom_format=a.sbom_format,
            sbom_spec_version=a.sbom_spec_version,
            sbom_sha256=a.sbom_sha256,
            component_count=a.component_count,
            warnings=[w for w in a.warnings.splitlines() if w],
            marking=MarkingOut.of(a),
            updated_at=a.updated_at,
        )


@router.post(
    "",
    status_code=201,
    summary="Register an asset from its SBOM (CycloneDX 1.4-1.6 JSON/XML, SPDX 2.3 JSON, or a purl list)",
    description="The body is the SBOM itself. An invalid SBOM is refused with the validator's reason. "
    "The same SBOM again for the same asset answers 200 and changes nothing.",
    openapi_extra={
        "requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}, "required": True}
    },
)
async def register(
    request: Request,
    context: SignedIn,
    response: Response,
    name: str = Query(min_length=1, max_length=300),
    org: str | None = Query(
        None, max_length=200, description="Owner organization id or name; yours by default"
    ),
    internet_exposed: bool = Query(False),
    criticality: Criticality = Criticality.MEDIUM,
    filename: str | None = Query(None, max_length=255),
) -> AssetOut:
    draft = services.AssetDraft(
        name=name,
        sbom=await request.body(),
        filename=filename,
        org=org,
        internet_exposed=internet_exposed,
        criticality=criticality.value,
    )

    def run() -> tuple[Asset, bool]:
        with context.writing() as uow:
            asset, created = services.register_asset(uow, context.subject, draft)
            uow.commit()
        return asset, created

    asset, created = await run_in_threadpool(run)
    response.status_code = 201 if created else 200
    return AssetOut.of(asset)


@router.get("", summary="Assets the caller may see")
def list_assets(context: SignedIn) -> list[AssetOut]:
    with context.reading() as uow:
        return [AssetOut.of(a) for a in services.list_assets(uow.session, context.subject)]


@router.get("/{asset_id}", summary="One asset with its components")
def get_asset(asset_id: str, context: SignedIn, limit: int = Query(1000, ge=1, le=200_000)) -> AssetOut:
    with context.reading() as uow:
        out = AssetOut.of(services.get_asset(uow.session, context.subject, asset_id))
        out.components = [
            ComponentOut.of(c)
            for c in services.asset_components(uow.session, context.subject, asset_id, limit)
        ]
        return out


class MatchOut(BaseModel):
    id: str
    case_id: str
    asset_id: str
    asset_owner_org_id: str
    component_purl: str | None
    component_name: str
    component_version: str | None
    component_pointer: str
    package: str
    matched_range: str
    rule: str
    confidence: float
    affected: bool | None
    explanation: str
    marking: MarkingOut
    created_at: dt.datetime

    @classmethod
    def of(cls, m: CaseMatch) -> MatchOut:
        return cls(
            id=m.id,
            case_id=m.case_id,
            asset_id=m.asset_id,
            asset_owner_org_id=m.asset_owner_org_id,
            component_purl=m.component_purl,
            component_name=m.component_name,
            component_version=m.component_version,
            component_pointer=m.component_pointer,
            package=m.package,
            matched_range=m.matched_range,
            rule=m.rule,
            confidence=m.confidence,
            affected=m.affected,
            explanation=m.explanation,
            marking=MarkingOut.of(m),
            created_at=m.created_at,
        )


class MatchItemOut(BaseModel):
    """A match (a validated case's or an imported public advisory's) as an operator works it."""

    id: str
    kind: str
    advisory_id: str | None
    case_id: str | None
    title: str
    asset_id: str
    asset_name: str
    asset_owner_org_id: str
    component_purl: str | None
    component_name: str
    component_version: str | None
    component_pointer: str
    package: str
    matched_range: str
    rule: str
    confidence: float
    affected: bool | None
    explanation: str
    why: str
    summary: str
    vulnerability_ids: list[str]
    severity: str | None
    cvss_vector: str | None
    cvss_score: float | None
    kev: bool
    kev_cves: list[str]
    kev_due_date: dt.date | None
    bod_26_04_due_at: dt.datetime | None
    due: dt.datetime | None
    epss: float | None
    epss_percentile: float | None
    fixed_version: str | None
    fixed_versions: list[str]
    upgrade_to: str | None
    vex_status: str | None
    status: str
    status_reason: str
    status_expires_at: dt.datetime | None
    vex_justification: str | None
    evidence: str
    status_changed_at: dt.datetime | None
    created_at: dt.datetime


def _filtered(
    items: list[worklist.MatchItem],
    status: str | None,
    severity: str | None,
    kev: bool | None,
    sort: str,
) -> list[MatchItemOut]:
    chosen = worklist.select_items(items, status=status, severity=severity, kev=kev, sort=sort)
    return [MatchItemOut.model_validate(worklist.item_json(i)) for i in chosen]


@router.get(
    "/{asset_id}/matches",
    summary="Validated cases and public advisories that affect this asset, with why and what to do",
)
def asset_matches(
    asset_id: str,
    context: SignedIn,
    status: MatchStatus | None = None,
    severity: str | None = Query(None, max_length=20),
    kev: bool | None = None,
    sort: str = Query("due", pattern=worklist.SORT_PATTERN),
) -> list[MatchItemOut]:
    with context.reading() as uow:
        asset = services.get_asset(uow.session, context.subject, asset_id)
        items = worklist.match_items(uow.session, context.subject, utcnow(), asset_ids=[asset.id])
        return _filtered(items, status.value if status else None, severity, kev, sort)


@router.get(
    "/{asset_id}/matches/export",
    summary="This inventory's open matches as CSV, CycloneDX VEX or CSAF 2.0 VEX (all of them with all=true)",
    response_class=Response,
)
def export_matches(
    asset_id: str,
    context: SignedIn,
    format: str = Query("cyclonedx-vex", pattern="^(csv|cyclonedx-vex|csaf-vex)$"),
    all: bool = Query(False, description="every match, not only the open ones"),
) -> Response:
    with context.writing() as uow:
        made = worklist.export_asset_matches(
            uow, context.subject, asset_id, format, all, utcnow(), context.runtime.settings.publisher
        )
        uow.commit()
    return Response(
        made.body,
        media_type=made.media_type,
        headers={"Content-Disposition": f'attachment; filename="{made.filename}"'},
    )


matches_router = APIRouter(prefix="/matches", tags=["matching"])


@matches_router.get("", summary="Every match on the assets the caller may see, open ones first by due date")
def all_matches(
    context: SignedIn,
    response: Response,
    status: MatchStatus | None = None,
    severity: str | None = Query(None, max_length=20),
    kev: bool | None = None,
    sort: str = Query("due", pattern=worklist.SORT_PATTERN),
    limit: int = Query(1000, ge=1, le=100_000),
    offset: int = Query(0, ge=0, description="skip this many (the next page: offset + limit)"),
) -> list[MatchItemOut]:
    """A page of the list; ``X-Total-Count`` says how many match the filters, and a ``Link``
    header (``rel="next"``) names the next page with the same filters and sort."""
    with context.reading() as uow:
        items = worklist.match_items(uow.session, context.subject, utcnow())
        found = _filtered(items, status.value if status else None, severity, kev, sort)
    response.headers["X-Total-Count"] = str(len(found))
    if offset + limit < len(found):
        query = {
            k: v
            for k, v in {
                "status": status.value if status else None,
                "severity": severity,
                "kev": None if kev is None else str(kev).lower(),
                "sort": sort,
                "limit": limit,
                "offset": offset + limit,
            }.items()
            if v is not None
        }
        response.headers["Link"] = f'</api/v1/matches?{urlencode(query)}>; rel="next"'
    return found[offset : offset + limit]


@matches_router.get("/{match_id}", summary="One match with what to do about it")
def one_match(match_id: str, context: SignedIn) -> MatchItemOut:
    with context.reading() as uow:
        item = worklist.get_match(uow.session, context.subject, match_id, utcnow())
        return MatchItemOut.model_validate(worklist.item_json(item))


class StatusIn(BaseModel):
    status: MatchStatus
    reason: str = ""
    expires_at: dt.datetime | None = None
    justification: str | None = None


@matches_router.put(
    "/{match_id}/status", summary="Mark a match fixed, mitigated, accepted risk or not affected"
)
def set_status(match_id: str, body: StatusIn, context: SignedIn) -> MatchItemOut:
    with context.writing() as uow:
        worklist.set_match_status(
            uow,
            context.subject,
            match_id,
            body.status.value,
            reason=body.reason,
            expires_at=body.expires_at,
            justification=body.justification,
        )
        uow.commit()
    return one_match(match_id, context)


@cases_router.get("/cases/{case_id}/matches", summary="Registered components this case affects, with why")
def case_matches(case_id: str, context: SignedIn) -> list[MatchOut]:
    with context.reading() as uow:
        return [MatchOut.of(m) for m in services.matches_for_case(uow.session, context.subject, case_id)]
