"""HTTP routes for submitting and reading findings."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from clearinghouse.access.schemas import MarkingOut
from clearinghouse.domain.finding import FindingSubmission, PackageRef, SourceFormat, finding_json_schema
from clearinghouse.errors import InvalidInput
from clearinghouse.http_deps import Context, CurrentContext, SignedIn
from clearinghouse.intake import services
from clearinghouse.intake.models import Finding, FindingState, RejectionReason
from clearinghouse.triage import services as triage

router = APIRouter(tags=["intake"])

NDJSON = "application/x-ndjson"


class CheckOut(BaseModel):
    name: str
    result: str
    reason: str


class FindingOut(BaseModel):
    id: str
    state: FindingState
    rejection_reason: RejectionReason | None
    state_reason: str | None
    queue: str
    title: str
    purl: str
    version: str | None
    vers: str | None
    cwe: list[str]
    generator_key: str
    campaign_id: str | None
    case_id: str | None
    source_format: str
    checks: list[CheckOut]
    marking: MarkingOut
    received_at: dt.datetime
    document: dict[str, Any] | None = None

    @classmethod
    def of(cls, f: Finding, *, full: bool = False) -> FindingOut:
        return cls(
            id=f.id,
            state=FindingState(f.state),
            rejection_reason=RejectionReason(f.rejection_reason) if f.rejection_reason else None,
            state_reason=f.state_reason,
            queue=f.queue,
            title=f.title,
            purl=f.purl,
            version=f.version,
            vers=f.vers,
            cwe=list(f.cwe),
            generator_key=f.generator_key,
            campaign_id=f.campaign_id,
            case_id=f.case_id,
            source_format=f.source_format,
            checks=[CheckOut(**c) for c in f.checks],
            marking=MarkingOut.of(f),
            received_at=f.received_at,
            document=f.document if full else None,
        )


class ItemProblemOut(BaseModel):
    index: int
    pointer: str
    detail: str


class StoredItemOut(BaseModel):
    index: int
    id: str
    created: bool
    state: str


class IntakeReportOut(BaseModel):
    received: int
    created: int
    existing: int
    rejected: int
    problems: list[ItemProblemOut]
    items: list[StoredItemOut]

    @classmethod
    def of(cls, r: services.IntakeReport) -> IntakeReportOut:
        return cls(
            received=r.received,
            created=r.created,
            existing=r.existing,
            rejected=len(r.problems),
            problems=[ItemProblemOut(index=p.index, pointer=p.pointer, detail=p.detail) for p in r.problems],
            items=[
                StoredItemOut(index=s.index, id=s.finding_id, created=s.created, state=s.state)
                for s in r.items
            ],
        )


class DecisionIn(BaseModel):
    reason: RejectionReason | None = Field(None, description="Required to reject")
    note: str = Field("", max_length=10_000)


@router.get("/schemas/finding", summary="The native finding format, as JSON Schema")
def finding_schema() -> dict[str, Any]:
    return finding_json_schema()


def _submit(
    context: Context, items: list[tuple[int, FindingSubmission | services.ItemProblem]]
) -> services.IntakeReport:
    runtime = context.runtime
    return services.submit(runtime.uow, runtime.envelope, context.subject, items)


@router.post(
    "/findings",
    status_code=201,
    summary="Submit one finding (idempotent by its key or content hash)",
    responses={200: {"description": "Already stored: the first finding is returned"}},
)
def submit_finding(body: FindingSubmission, context: SignedIn, response: Response) -> FindingOut:
    report = _submit(context, [(0, body)])
    if report.problems:
        problem = report.problems[0]
        raise InvalidInput(problem.detail, problem.pointer)
    stored = report.items[0]
    response.status_code = 201 if stored.created else 200
    with context.reading() as uow:
        return FindingOut.of(triage.get_finding(uow.session, context.subject, stored.finding_id))


@router.post(
    "/findings:batch",
    summary="Submit an NDJSON stream of up to 100,000 findings",
    description="One finding per line. Every good line is stored (or found already stored); every bad "
    "one is reported by its index (0-based, blank lines not counted) and the JSON pointer of its first bad "
    "field. Sending the same batch again stores nothing new.",
    openapi_extra={"requestBody": {"content": {NDJSON: {"schema": {"type": "string"}}}, "required": True}},
)
async def submit_batch(request: Request, context: SignedIn) -> IntakeReportOut:
    report = services.IntakeReport()
    lines: list[bytes] = []
    buffer = b""
    next_index = 0

    async def flush() -> None:
        nonlocal lines, next_index
        items = list(services.parse_ndjson(lines, start=next_index))
        next_index += len(items)
        lines = []
        if items:
            report.merge(await run_in_threadpool(_submit, context, items))

    async for data in request.stream():
        buffer += data
        *complete, buffer = buffer.split(b"\n")
        lines.extend(line for line in complete if line.strip())
        if len(lines) >= services.CHUNK_SIZE:
            await flush()
    if buffer.strip():
        lines.append(buffer)
    await flush()
    if report.received == 0:
        raise InvalidInput("the batch holds no findings: send one JSON object per line", "")
    report.items.sort(key=lambda item: item.index)
    report.problems.sort(key=lambda problem: problem.index)
    return IntakeReportOut.of(report)


@router.post(
    "/findings:import",
    summary="Submit a whole OSV, SARIF, CSAF 2.0/2.1 or CVE 5 document; each finding in it is stored",
    description="The format is detected from the content. A CSAF document is validated with the csaf "
    "library (schema and mandatory tests) first and refused whole (422, each problem by JSON pointer) when "
    "invalid. Items the document holds that cannot become findings (and CSAF vulnerabilities with no "
    "affected product) are reported by index with a JSON pointer into the document. A SARIF log that "
    "yields no finding answers 422 with the reasons.",
    openapi_extra={
        "requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}, "required": True}
    },
)
async def import_document(
    request: Request,
    context: SignedIn,
    filename: str | None = Query(None, max_length=255, description="The file's name, a hint for detection"),
    package: str | None = Query(None, max_length=1000, description="Affected package purl (SARIF lacks one)"),
) -> IntakeReportOut:
    from clearinghouse.intake.importers import (
        InvalidDocument,
        ItemError,
        UnsupportedDocument,
        check_document,
        parse_document,
    )

    data = await request.body()
    try:
        affected = PackageRef(purl=package) if package else None
    except ValueError as exc:
        raise InvalidInput(f"not a package: {exc}", "package") from None

    def run() -> services.IntakeReport:
        # Refuses what no importer reads, and what the format's own validator refuses, with the reasons.
        source_format = check_document(data, filename)
        items: list[tuple[int, FindingSubmission | services.ItemProblem]] = []
        for item in parse_document(data, filename, package=affected, check=False):
            if isinstance(item, ItemError):
                items.append((item.index, services.ItemProblem(item.index, item.pointer, item.detail)))
            else:
                items.append((item.index, item.submission))
        if source_format is SourceFormat.SARIF and not any(
            isinstance(submission, FindingSubmission) for _, submission in items
        ):
            # Nothing importable: say why instead of an empty 200.
            reasons = [(p.pointer, p.detail) for _, p in items if isinstance(p, services.ItemProblem)]
            if not reasons:
                reasons = [
                    ("/runs", "the log holds no result that is a problem (all pass, note or suppressed)")
                ]
            raise InvalidInput(
                f"the SARIF log yields no finding: {reasons[0][1]}", reasons[0][0], problems=reasons
            )
        return _submit(context, items)

    try:
        report = await run_in_threadpool(run)
    except InvalidDocument as exc:
        raise InvalidInput(
            f"the document is not valid: {exc.detail}", exc.problems[0][0], problems=exc.problems
        ) from None
    except UnsupportedDocument as exc:
        raise InvalidInput(exc.detail, "") from None
    return IntakeReportOut.of(report)


@router.get("/findings", summary="Findings the caller may read, newest first")
def list_findings(
    context: SignedIn,
    state: FindingState | None = None,
    queue: str | None = Query(None, pattern="^(main|cold)$"),
    ecosystem: str | None = Query(None, max_length=50, description="purl type, e.g. pypi"),
    cwe: str | None = Query(None, pattern=r"^(?i:CWE-)[0-9]{1,5}$"),
    campaign_id: str | None = Query(None, max_length=36),
    pipeline: str | None = Query(None, max_length=600, description="generator key: tool|model|organization"),
    limit: int = Query(50, ge=1, le=500),
    after: str | None = Query(None, max_length=36, description="The last id of the previous page"),
) -> list[FindingOut]:
    filters = triage.FindingFilter(
        state=state.value if state else None,
        queue=queue,
        package_type=ecosystem,
        cwe=cwe,
        campaign_id=campaign_id,
        generator_key=pipeline,
    )
    with context.reading() as uow:
        return [
            FindingOut.of(f)
            for f in triage.list_findings(uow.session, context.subject, filters, limit=limit, after=after)
        ]


@router.get("/findings/{finding_id}", summary="One finding with its checks and submitted document")
def get_finding(finding_id: str, context: CurrentContext) -> FindingOut:
    with context.reading() as uow:
        return FindingOut.of(triage.get_finding(uow.session, context.subject, finding_id), full=True)


@router.get(
    "/findings/{finding_id}/attachments/{attachment_id}",
    summary="Download a proof of concept (decrypted; the read is recorded in the ledger)",
    response_class=Response,
)
def get_attachment(finding_id: str, attachment_id: str, context: SignedIn) -> Response:
    from clearinghouse.envelope import Sealed

    with context.writing() as uow:
        attachment = triage.read_attachment(uow, context.subject, finding_id, attachment_id)
        content = context.runtime.envelope.open(
            Sealed(attachment.ciphertext, attachment.wrapped_key), f"finding:{finding_id}".encode()
        )
        uow.commit()
    return Response(
        content,
        media_type=attachment.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{attachment.filename}"',
            "Digest": f"sha-256={attachment.sha256}",
        },
    )


@router.post("/findings/{finding_id}:validate", summary="Validate a finding (analysts)")
def validate_finding(finding_id: str, body: DecisionIn, context: SignedIn) -> FindingOut:
    with context.writing() as uow:
        finding = triage.decide(uow, context.subject, finding_id, validate=True, note=body.note)
        uow.commit()
    return FindingOut.of(finding)


@router.post("/findings/{finding_id}:reject", summary="Reject a finding with a reason (analysts)")
def reject_finding(finding_id: str, body: DecisionIn, context: SignedIn) -> FindingOut:
    with context.writing() as uow:
        finding = triage.decide(
            uow,
            context.subject,
            finding_id,
            validate=False,
            reason=body.reason.value if body.reason else None,
            note=body.note,
        )
        uow.commit()
    return FindingOut.of(finding)


class PipelineOut(BaseModel):
    generator_key: str
    validated: int
    rejected: int
    received: int
    validity: float = Field(description="Posterior mean validity rate, prior Beta(1, 1)")
    lower_bound: float
    daily_budget: int
    received_today: int
    low_signal: bool


@router.get("/pipelines", summary="Finder-pipeline reputation: validity rates and intake budgets (staff)")
def list_pipelines(context: SignedIn) -> list[PipelineOut]:
    with context.reading() as uow:
        return [PipelineOut(**vars(s)) for s in triage.pipeline_standings(uow.session, context.subject)]
