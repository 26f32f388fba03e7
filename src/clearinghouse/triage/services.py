"""Triage use cases: reading findings as the policy allows, and the analyst's
decisions that move a finding to validated or rejected."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from clearinghouse.access import Action, NotFound, Resource, Subject, authorize, visible
from clearinghouse.errors import Conflict, InvalidInput
from clearinghouse.intake.models import Attachment, Finding, FindingState, RejectionReason
from clearinghouse.storage import UnitOfWork
from clearinghouse.triage._reputation import Standing, record_decision, standing
from clearinghouse.triage.models import PipelineReputation

# Which states a decision may leave from.
DECIDABLE = {FindingState.CHECKED, FindingState.TRIAGED}


def finding_resource(finding: Finding) -> Resource:
    return Resource.marked("finding", finding.id, finding.marking)


def get_finding(session: Session, subject: Subject, finding_id: str) -> Finding:
    finding = session.get(Finding, finding_id)
    if finding is None:
        raise NotFound("finding", finding_id)
    authorize(subject, Action.READ, finding_resource(finding))
    return finding


@dataclass(frozen=True)
class FindingFilter:
    state: str | None = None
    queue: str | None = None
    package_type: str | None = None
    cwe: str | None = None
    campaign_id: str | None = None
    generator_key: str | None = None


def list_findings(
    session: Session, subject: Subject, filters: FindingFilter, *, limit: int = 50, after: str | None = None
) -> list[Finding]:
    """Readable findings, newest first, a page at a time after the id ``after``."""
    query = select(Finding).order_by(Finding.received_at.desc(), Finding.id.desc())
    for column, value in (
        (Finding.state, filters.state),
        (Finding.queue, filters.queue),
        (Finding.package_type, filters.package_type),
        (Finding.campaign_id, filters.campaign_id),
        (Finding.generator_key, filters.generator_key),
    ):
        if value is not None:
            query = query.where(column == value)
    if after is not None:
        anchor = session.get(Finding, after)
        if anchor is not None:
            query = query.where(
                (Finding.received_at < anchor.received_at)
                | ((Finding.received_at == anchor.received_at) & (Finding.id < anchor.id))
            )
    page: list[Finding] = []
    rows = session.scalars(query.execution_options(yield_per=500))
    for finding in visible(subject, rows, finding_resource):
        if filters.cwe is not None and filters.cwe.upper() not in finding.cwe:
            continue
        page.append(finding)
        if len(page) >= limit:
            break
    return page


def decide(
    uow: UnitOfWork,
    subject: Subject,
    finding_id: str,
    *,
    validate: bool,
    reason: str | None = None,
    note: str = "",
) -> Finding:
    """Validate or reject a finding. Deciding the same way again is a no-op;
    reversing a decision is refused (it is news, and needs a new finding)."""
    finding = get_finding(uow.session, subject, finding_id)
    authorize(subject, Action.TRIAGE, finding_resource(finding))
    target = FindingState.VALIDATED if validate else FindingState.REJECTED
    if not validate:
        if reason is None:
            raise InvalidInput("a rejection needs a reason", "/reason")
        try:
            reason = RejectionReason(reason).value
        except ValueError:
            allowed = ", ".join(r.value for r in RejectionReason)
            raise InvalidInput(f"{reason!r} is not one of: {allowed}", "/reason") from None
    if finding.state == target and (validate or finding.rejection_reason == reason):
        return finding
    if finding.state not in DECIDABLE:
        raise Conflict(f"the finding is already {finding.state}", "/state")
    finding.state = target
    record_decision(uow.session, finding.generator_key, validated=validate)
    finding.rejection_reason = None if validate else reason
    finding.state_reason = note or None
    uow.audit_as(finding, f"finding.{target.value}", reason=reason, note=note)
    uow.flush()
    return finding


def read_attachment(uow: UnitOfWork, subject: Subject, finding_id: str, attachment_id: str) -> Attachment:
    """An attachment of a readable finding; every read is recorded in the ledger."""
    finding = get_finding(uow.session, subject, finding_id)
    attachment = uow.session.get(Attachment, attachment_id)
    if attachment is None or attachment.finding_id != finding.id:
        raise NotFound("attachment", attachment_id)
    uow.record(
        "attachment.read", "attachment", attachment.id, sha256=attachment.sha256, finding_id=finding.id
    )
    return attachment


def pipeline_standings(session: Session, subject: Subject) -> list[Standing]:
    """Every finder pipeline's validity and budget, best first."""
    authorize(subject, Action.READ_REPUTATION)
    rows = session.scalars(select(PipelineReputation))
    return sorted((standing(r) for r in rows), key=lambda s: (-s.validity, s.generator_key))
