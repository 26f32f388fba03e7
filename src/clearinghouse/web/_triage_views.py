"""Analyst and coordinator pages: the intake queue, findings, cases, scan
campaigns and finder-pipeline reputation."""

from __future__ import annotations

import base64
import contextlib
import re
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, File, Form, Query, Response, UploadFile
from pydantic import ValidationError

from clearinghouse.access import TLP, AccessDenied, Action, Marking, NotFound, Resource, can
from clearinghouse.access.services import list_organizations
from clearinghouse.coordination import campaigns as coordination
from clearinghouse.coordination import coordination_of, revisions_of, thread_products
from clearinghouse.domain.finding import ClaimedImpact, FindingSubmission, OracleKind
from clearinghouse.envelope import Sealed
from clearinghouse.errors import ClearinghouseError, first_error
from clearinghouse.intake import services as intake
from clearinghouse.intake.models import Finding, FindingState, RejectionReason
from clearinghouse.matching.services import get_asset, matches_for_case
from clearinghouse.priority import InvalidVector, Score, case_facts, enrich_many, parse_vector
from clearinghouse.priority.services import enrichment_for
from clearinghouse.storage import utcnow
from clearinghouse.triage import services as triage
from clearinghouse.triage.models import RelationStatus
from clearinghouse.web._deps import PageNotFound, Viewer, check_csrf
from clearinghouse.web._render import Page, redirect
from clearinghouse.web._timeline import case_timeline, finding_attachments

router = APIRouter()

PAGE_SIZE = 50
CWE_RE = r"^(?i:CWE-)[0-9]{1,5}$"


# The home page is ``_home.home`` (by role: what to do next).


# -- intake queue ----------------------------------------------------------------


@router.get("/findings")
def findings_queue(
    page: Viewer,
    state: FindingState | None = None,
    queue: Annotated[str | None, Query(pattern="^(main|cold)$")] = None,
    pipeline: Annotated[str | None, Query(max_length=600)] = None,
    ecosystem: Annotated[str | None, Query(max_length=50)] = None,
    cwe: Annotated[str | None, Query(max_length=12)] = None,
    campaign: Annotated[str | None, Query(max_length=36)] = None,
    after: Annotated[str | None, Query(max_length=36)] = None,
) -> Response:
    filters = {
        "state": state.value if state else "",
        "queue": queue or "",
        "pipeline": pipeline or "",
        "ecosystem": ecosystem or "",
        "cwe": cwe or "",
        "campaign": campaign or "",
    }
    cwe_ok = not cwe or re.match(CWE_RE, cwe) is not None
    with page.reading() as uow:
        rows = (
            triage.list_findings(
                uow.session,
                page.subject,
                triage.FindingFilter(
                    state=filters["state"] or None,
                    queue=queue or None,
                    package_type=ecosystem or None,
                    cwe=cwe or None,
                    campaign_id=campaign or None,
                    generator_key=pipeline or None,
                ),
                limit=PAGE_SIZE + 1,
                after=after,
            )
            if cwe_ok
            else []
        )
        campaigns = coordination.list_campaigns(uow.session, page.subject)
        kev = {k: e.in_kev for k, e in enrich_many(uow.session, {f.id: _aliases(f) for f in rows}).items()}
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    severities = {f.id: s.severity.value.lower() if (s := _score(f)) is not None else None for f in rows}
    kept = {k: v for k, v in filters.items() if v}
    next_url = f"/findings?{urlencode({**kept, 'after': rows[-1].id})}" if more and rows else None
    first_url = f"/findings?{urlencode(kept)}" if after else None
    return page.render(
        "findings.html",
        findings=rows,
        filters=filters,
        states=[s.value for s in FindingState],
        campaigns=campaigns,
        next_url=next_url,
        first_url=first_url,
        cwe_error=None if cwe_ok else "A CWE looks like CWE-79.",
        can_submit=_finding_marking_allowed(page),
        severities=severities,
        kev=kev,
    )


def _aliases(finding: Finding) -> list[str]:
    value = finding.document.get("aliases") if isinstance(finding.document, dict) else None
    return [str(a) for a in value] if isinstance(value, list) else []


def _finding_marking_allowed(page: Page) -> bool:
    if page.subject.org_id is None:
        return False
    marking = Marking(owner_org_id=page.subject.org_id, tlp=TLP.AMBER_STRICT)
    return can(page.subject, Action.CREATE, Resource.marked("finding", None, marking))


@dataclass
class NewFindingForm:
    title: str = ""
    description: str = ""
    purl: str = ""
    version: str = ""
    vers: str = ""
    cwe: str = ""
    impact: str = ClaimedImpact.CODE_EXECUTION.value
    cvss_vector: str = ""
    preconditions: str = ""
    steps: str = ""
    oracle_kind: str = ""
    oracle: str = ""
    tool: str = ""
    model: str = ""
    organization: str = ""
    campaign: str = ""
    aliases: str = ""
    references: str = ""

    def document(self, poc: tuple[str, str, bytes] | None) -> dict[str, Any]:
        def lines(text: str) -> list[str]:
            return [line.strip() for line in text.splitlines() if line.strip()]

        def words(text: str) -> list[str]:
            return [w for w in re.split(r"[\s,]+", text) if w]

        package: dict[str, Any] = {"purl": self.purl}
        if self.version:
            package["version"] = self.version
        if self.vers:
            package["vers"] = self.vers
        impact: dict[str, Any] = {"claimed": self.impact}
        if self.cvss_vector:
            impact["cvss_vector"] = self.cvss_vector
        generator: dict[str, Any] = {"tool": self.tool}
        if self.model:
            generator["model"] = self.model
        if self.organization:
            generator["organization"] = self.organization
        doc: dict[str, Any] = {
            "title": self.title,
            "description": self.description,
            "package": package,
            "cwe": words(self.cwe),
            "impact": impact,
            "preconditions": lines(self.preconditions),
            "generator": generator,
            "aliases": words(self.aliases),
            "references": words(self.references),
        }
        reproducer: dict[str, Any] = {}
        if self.steps.strip():
            reproducer["steps"] = lines(self.steps)
        if self.oracle.strip():
            reproducer["oracle"] = {
                "kind": self.oracle_kind or OracleKind.OTHER.value,
                "content": self.oracle,
            }
        if poc is not None:
            filename, media_type, content = poc
            reproducer["poc"] = {
                "filename": filename,
                "media_type": media_type,
                "content_base64": base64.b64encode(content).decode(),
            }
        if reproducer:
            doc["reproducer"] = reproducer
        if self.campaign:
            doc["campaign_id"] = self.campaign
        return doc


def _new_finding_page(page: Page, form: NewFindingForm, error: str = "", status: int = 200) -> Response:
    with page.reading() as uow:
        campaigns = coordination.list_campaigns(uow.session, page.subject, active_only=True)
    return page.render(
        "finding_new.html",
        status,
        form=form,
        error=error,
        impacts=[i.value for i in ClaimedImpact],
        oracle_kinds=[o.value for o in OracleKind],
        campaigns=[c for c in campaigns if c.owner_org_id == page.subject.org_id],
    )


@router.get("/findings/new")
def new_finding(page: Viewer) -> Response:
    if not _finding_marking_allowed(page):
        raise PageNotFound()
    return _new_finding_page(page, NewFindingForm())


@router.post("/findings/new")
def submit_finding(
    page: Viewer,
    csrf: Annotated[str, Form(max_length=200)],
    title: Annotated[str, Form(max_length=500)] = "",
    description: Annotated[str, Form(max_length=100_000)] = "",
    purl: Annotated[str, Form(max_length=1000)] = "",
    version: Annotated[str, Form(max_length=200)] = "",
    vers: Annotated[str, Form(max_length=2000)] = "",
    cwe: Annotated[str, Form(max_length=200)] = "",
    impact: Annotated[str, Form(max_length=50)] = ClaimedImpact.CODE_EXECUTION.value,
    cvss_vector: Annotated[str, Form(max_length=300)] = "",
    preconditions: Annotated[str, Form(max_length=20_000)] = "",
    steps: Annotated[str, Form(max_length=50_000)] = "",
    oracle_kind: Annotated[str, Form(max_length=50)] = "",
    oracle: Annotated[str, Form(max_length=200_000)] = "",
    tool: Annotated[str, Form(max_length=200)] = "",
    model: Annotated[str, Form(max_length=200)] = "",
    organization: Annotated[str, Form(max_length=200)] = "",
    campaign: Annotated[str, Form(max_length=36)] = "",
    aliases: Annotated[str, Form(max_length=5000)] = "",
    references: Annotated[str, Form(max_length=20_000)] = "",
    poc: Annotated[UploadFile | None, File()] = None,
) -> Response:
    check_csrf(page, csrf)
    if not _finding_marking_allowed(page):
        raise PageNotFound()
    form = NewFindingForm(
        title, description, purl, version, vers, cwe, impact, cvss_vector, preconditions, steps,
        oracle_kind, oracle, tool, model, organization, campaign, aliases, references,
    )  # fmt: skip
    attached = None
    if poc is not None and poc.filename:
        attached = (poc.filename[:255], poc.content_type or "application/octet-stream", poc.file.read())
    try:
        submission = FindingSubmission.model_validate(form.document(attached))
    except ValidationError as exc:
        pointer, message = first_error(exc)
        return _new_finding_page(page, form, f"{pointer or '/'}: {message}", 422)
    rt = page.runtime
    report = intake.submit(rt.uow, rt.envelope, page.subject, [(0, submission)])
    if report.problems:
        problem = report.problems[0]
        return _new_finding_page(page, form, f"{problem.pointer or '/'}: {problem.detail}", 422)
    return redirect(f"/findings/{report.items[0].finding_id}")


# -- one finding -------------------------------------------------------------------


@router.get("/findings/{finding_id}")
def finding_page(finding_id: str, page: Viewer) -> Response:
    with page.reading() as uow:
        finding = triage.get_finding(uow.session, page.subject, finding_id)
        attachments = finding_attachments(uow.session, finding)
        repro = _reproduction(uow.session, page, finding_id)
    resource = triage.finding_resource(finding)
    can_decide = can(page.subject, Action.TRIAGE, resource) and finding.state in triage.DECIDABLE
    return page.render(
        "finding.html",
        repro=repro,
        can_reproduce=can(page.subject, Action.REPRODUCE, resource),
        finding=finding,
        attachments=attachments,
        doc=finding.document,
        can_decide=can_decide,
        reasons=[r.value for r in RejectionReason],
        score=_score(finding),
    )


@router.post("/findings/{finding_id}/decision")
def decide(
    finding_id: str,
    page: Viewer,
    csrf: Annotated[str, Form(max_length=200)],
    decision: Annotated[str, Form(pattern="^(validate|reject)$")],
    reason: Annotated[str, Form(max_length=40)] = "",
    note: Annotated[str, Form(max_length=10_000)] = "",
) -> Response:
    check_csrf(page, csrf)
    with page.writing() as uow:
        triage.decide(
            uow,
            page.subject,
            finding_id,
            validate=decision == "validate",
            reason=reason or None,
            note=note,
        )
        uow.commit()
    return redirect(f"/findings/{finding_id}")


def _reproduction(session: Any, page: Viewer, finding_id: str) -> dict[str, Any] | None:
    """The reproduction lab's panel data, or None where the viewer may not read it."""
    from clearinghouse.repro.services import status_of

    try:
        return status_of(session, page.subject, finding_id)
    except AccessDenied:
        return None


@router.post("/findings/{finding_id}/reproduce")
def reproduce(finding_id: str, page: Viewer, csrf: Annotated[str, Form(max_length=200)]) -> Response:
    from clearinghouse.repro.services import request_reproduction

    check_csrf(page, csrf)
    with page.writing() as uow:
        request_reproduction(uow, page.subject, finding_id)
        uow.commit()
    return redirect(f"/findings/{finding_id}")


@router.get("/findings/{finding_id}/attachments/{attachment_id}")
def attachment(finding_id: str, attachment_id: str, page: Viewer) -> Response:
    with page.writing() as uow:
        found = triage.read_attachment(uow, page.subject, finding_id, attachment_id)
        content = page.runtime.envelope.open(
            Sealed(found.ciphertext, found.wrapped_key), f"finding:{finding_id}".encode()
        )
        uow.commit()
    safe_name = re.sub(r"[^A-Za-z0-9._-]", "_", found.filename)
    return Response(
        content,
        media_type="application/octet-stream",
        headers={
            "Content-Disposition": f'attachment; filename="{safe_name}"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
        },
    )


@router.post("/findings/{finding_id}/relation")
def relation(
    finding_id: str,
    page: Viewer,
    csrf: Annotated[str, Form(max_length=200)],
    action: Annotated[str, Form(pattern="^(confirm|split)$")],
) -> Response:
    check_csrf(page, csrf)
    with page.writing() as uow:
        if action == "confirm":
            finding = triage.confirm_relation(uow, page.subject, finding_id)
        else:
            finding = triage.split_finding(uow, page.subject, finding_id)
        uow.commit()
    # Confirmed: the case it joined; split: the case it now leads.
    return redirect(f"/cases/{finding.case_id or finding.id}")


# -- cases ---------------------------------------------------------------------------


@router.get("/cases")
def cases(
    page: Viewer,
    min_members: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    limit: Annotated[int, Query(ge=1, le=500)] = PAGE_SIZE,
    state: Annotated[str, Query(pattern="^(|new|validated|coordinating|published)$")] = "",
    severity: Annotated[str, Query(pattern="^(|critical|high|medium|low|none)$")] = "",
    kev: Annotated[str, Query(pattern="^(|yes|no)$")] = "",
    sort: Annotated[str, Query(pattern="^(reported|severity|due|kev|opened)$")] = "reported",
) -> Response:
    from clearinghouse.web._lists import CASE_SORTS, case_rows, sort_cases

    with page.reading() as uow:
        found = triage.list_cases(uow.session, page.subject, limit=limit, min_members=min_members)
        rows = case_rows(uow.session, page.subject, found, utcnow())
    shown = [
        r
        for r in rows
        if (not state or r.state == state)
        and (not severity or (r.severity or "none") == severity)
        and (not kev or r.kev == (kev == "yes"))
    ]
    filters = {"state": state, "severity": severity, "kev": kev, "sort": sort}
    return page.render(
        "cases.html",
        rows=sort_cases(shown, sort),
        cases=found,
        min_members=min_members,
        limit=limit,
        filters=filters,
        states=["new", "validated", "coordinating", "published"],
        severities=["critical", "high", "medium", "low", "none"],
        sorts=CASE_SORTS,
    )


def _score(finding: Finding) -> Score | None:
    vector = (finding.document.get("impact") or {}).get("cvss_vector")
    if not vector:
        return None
    try:
        return parse_vector(vector)
    except InvalidVector:
        return None


@router.get("/cases/{case_id}")
def case_page(case_id: str, page: Viewer) -> Response:
    with page.reading() as uow:
        case = triage.get_case(uow.session, page.subject, case_id)
        members = triage.case_members(uow.session, page.subject, case)
        relations = triage.case_relations(uow.session, page.subject, case)
        enrichment = enrichment_for(uow.session, [a for f in members for a in f.document.get("aliases", [])])
        timeline = case_timeline(uow.session, page.subject, case, members)
        facts = case_facts(uow.session, page.subject, case.id)
        matches = matches_for_case(uow.session, page.subject, case.id)
        assets = {}
        for asset_id in sorted({m.asset_id for m in matches}):
            with contextlib.suppress(NotFound):
                assets[asset_id] = get_asset(uow.session, page.subject, asset_id)
        orgs = {o.id: o.name for o in list_organizations(uow.session, page.subject)}
        coordination = coordination_of(uow.session, page.subject, case.id)
        reproductions = {
            f.id: rep
            for f in members
            if (rep := _reproduction(uow.session, page, f.id)) and rep["status"] is not None
        }
        products = {t.id: thread_products(uow.session, t) for t in coordination.threads}
        revisions = revisions_of(uow.session, page.subject, case.id)
        summary = _case_summary(uow.session, page, case)
        by_id = {f.id: f for f in members}
        for r in relations:  # a proposed match waits outside the case it was matched to
            for ref in (r.finding_id, r.target_finding_id):
                if ref not in by_id:
                    with contextlib.suppress(NotFound):
                        by_id[ref] = triage.get_finding(uow.session, page.subject, ref)
    scores = [(f, s) for f in members if (s := _score(f)) is not None]
    can_triage = {i: can(page.subject, Action.TRIAGE, triage.finding_resource(f)) for i, f in by_id.items()}
    return page.render(
        "case.html",
        reproductions=reproductions,
        case=case,
        members=members,
        by_id=by_id,
        relations=relations,
        enrichment=enrichment,
        scores=scores,
        timeline=timeline,
        can_triage=can_triage,
        proposed=RelationStatus.PROPOSED.value,
        facts=facts,
        matches=matches,
        assets=assets,
        orgs=orgs,
        coordination=coordination,
        products=products,
        revisions=revisions,
        can_coordinate=can(page.subject, Action.COORDINATE, triage.case_resource(case)),
        can_publish=can(page.subject, Action.PUBLISH_ADVISORY, triage.case_resource(case)),
        tlps=[t.value for t in TLP],
        summary=summary,
    )


def _case_summary(session: Any, page: Page, case: Any) -> Any:
    """The block at the top of the case page: state, severity, KEV, the next deadline, assets."""
    from clearinghouse.web._lists import case_rows

    rows = case_rows(session, page.subject, [case], utcnow())
    return rows[0] if rows else None


# -- campaigns and pipelines ------------------------------------------------------------


@router.get("/campaigns")
def campaigns(page: Viewer) -> Response:
    with page.reading() as uow:
        rows = coordination.list_campaigns(uow.session, page.subject)
        conflicts = coordination.list_conflicts(uow.session, page.subject)
        names = {c.id: c.name for c in rows}
    return page.render("campaigns.html", campaigns=rows, conflicts=conflicts, names=names)


@router.get("/pipelines")
def pipelines(page: Viewer) -> Response:
    if not can(page.subject, Action.READ_REPUTATION):
        raise PageNotFound()
    with page.reading() as uow:
        standings = triage.pipeline_standings(uow.session, page.subject)
    return page.render("pipelines.html", standings=standings)


def form_error(exc: ClearinghouseError) -> str:
    return f"{exc.pointer}: {exc.detail}" if exc.pointer else exc.detail
