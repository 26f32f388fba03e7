"""Triage use cases: reading findings as the policy allows, and the analyst's
decisions that move a finding to validated or rejected."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Text, cast, select
from sqlalchemy.orm import Session

from clearinghouse.access import (
    TLP,
    Action,
    Classification,
    Marking,
    NotFound,
    Resource,
    Subject,
    authorize,
    can,
    visible,
)
from clearinghouse.access.services import get_readable
from clearinghouse.domain import CASE_SCORES_JOB, MATCH_CASE_JOB
from clearinghouse.errors import Conflict, InvalidInput
from clearinghouse.intake.models import Attachment, Finding, FindingState, RejectionReason
from clearinghouse.storage import UnitOfWork, UnitOfWorkFactory
from clearinghouse.triage._cases import new_case, place_now
from clearinghouse.triage._reputation import Standing, record_decision, standing
from clearinghouse.triage.models import Case, FindingRelation, PipelineReputation, RelationStatus

# The most rows ``list_findings`` reads at once when the policy or a filter leaves rows out.
_MAX_BATCH = 500

# Which states a decision may leave from.
DECIDABLE = {FindingState.CHECKED, FindingState.TRIAGED}


def finding_resource(finding: Finding) -> Resource:
    return Resource.marked("finding", finding.id, finding.marking)


def get_finding(session: Session, subject: Subject, finding_id: str) -> Finding:
    return get_readable(session, subject, Finding, finding_id, "finding", finding_resource)


@dataclass(frozen=True)
class FindingFilter:
    state: str | None = None
    queue: str | None = None
    package_type: str | None = None
    cwe: str | None = None
    campaign_id: str | None = None
    generator_key: str | None = None


@functools.lru_cache(maxsize=4096)
def _json_list(text: str | None) -> frozenset[str]:
    """A JSON list column read as text (markings and CWE lists repeat: parsed once each)."""
    value = json.loads(text) if text else []
    return frozenset(str(v) for v in value) if isinstance(value, list) else frozenset()


def _row_resource(row: Any) -> Resource:
    """A finding's resource from its marking columns (no ORM object)."""
    marking = Marking(
        owner_org_id=row.owner_org_id,
        tlp=TLP(row.tlp),
        classification=Classification(row.classification),
        compartments=_json_list(row.compartments),
        sharing_group_ids=_json_list(row.sharing_group_ids),
    )
    return Resource.marked("finding", row.id, marking)


def list_findings(
    session: Session, subject: Subject, filters: FindingFilter, *, limit: int = 50, after: str | None = None
) -> list[Finding]:
    """Readable findings, newest first, a page at a time after the id ``after``.

    The policy and the CWE filter are applied to light rows (id, time, marking, CWEs) read in
    batches sized to the page: the page's size first, then doubling up to ``_MAX_BATCH`` while
    rows are left out, each batch after the last row of the one before. Only the page's
    findings are then loaded whole."""
    query = select(
        Finding.id,
        Finding.received_at,
        Finding.owner_org_id,
        Finding.tlp,
        Finding.classification,
        cast(Finding.compartments, Text).label("compartments"),
        cast(Finding.sharing_group_ids, Text).label("sharing_group_ids"),
        cast(Finding.cwe, Text).label("cwe"),
    ).order_by(Finding.received_at.desc(), Finding.id.desc())
    for column, value in (
        (Finding.state, filters.state),
        (Finding.queue, filters.queue),
        (Finding.package_type, filters.package_type),
        (Finding.campaign_id, filters.campaign_id),
        (Finding.generator_key, filters.generator_key),
    ):
        if value is not None:
            query = query.where(column == value)
    cursor: tuple[Any, str] | None = None
    if after is not None:
        anchor = session.get(Finding, after)
        if anchor is not None:
            cursor = (anchor.received_at, anchor.id)
    cwe = filters.cwe.upper() if filters.cwe is not None else None
    ids: list[str] = []
    size = max(limit, 1)
    while len(ids) < limit:
        batch = query
        if cursor is not None:
            batch = batch.where(
                (Finding.received_at < cursor[0])
                | ((Finding.received_at == cursor[0]) & (Finding.id < cursor[1]))
            )
        rows = list(session.execute(batch.limit(size)))
        for row in visible(subject, rows, _row_resource):
            if cwe is not None and cwe not in _json_list(row.cwe):
                continue
            ids.append(row.id)
            if len(ids) >= limit:
                break
        if len(rows) < size:
            break
        cursor = (rows[-1].received_at, rows[-1].id)
        size = max(size, min(size * 2, _MAX_BATCH))
    if not ids:
        return []
    found = {f.id: f for f in session.scalars(select(Finding).where(Finding.id.in_(ids)))}
    return [found[i] for i in ids if i in found]


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
    reversing a decision is refused (it is news, and needs a new finding).
    Validating queues ``matching.case`` and ``priority.case_scores`` in the same
    unit of work."""
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
    if finding.case_id is None:
        place_now(uow, finding)
    finding.state = target
    record_decision(uow.session, finding.generator_key, validated=validate)
    finding.rejection_reason = None if validate else reason
    finding.state_reason = note or None
    uow.audit_as(finding, f"finding.{target.value}", reason=reason, note=note)
    uow.flush()
    if validate:
        # Matching (the validated case against every inventory) and its stored scores, in the background.
        payload = {"case_id": finding.case_id, "finding_id": finding.id}
        uow.enqueue(MATCH_CASE_JOB, payload)
        uow.enqueue(CASE_SCORES_JOB, payload)
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


# -- cases -----------------------------------------------------------------


def case_resource(case: Case) -> Resource:
    return Resource.marked("case", case.id, case.marking)


def get_case(session: Session, subject: Subject, case_id: str) -> Case:
    return get_readable(session, subject, Case, case_id, "case", case_resource)


def list_cases(session: Session, subject: Subject, *, limit: int = 50, min_members: int = 1) -> list[Case]:
    query = (
        select(Case)
        .where(Case.member_count >= min_members)
        .order_by(Case.member_count.desc(), Case.created_at.desc(), Case.id)
    )
    page: list[Case] = []
    for case in visible(subject, session.scalars(query.execution_options(yield_per=500)), case_resource):
        page.append(case)
        if len(page) >= limit:
            break
    return page


def case_members(session: Session, subject: Subject, case: Case) -> list[Finding]:
    """The case's findings the subject may read, first reported first."""
    rows = session.scalars(select(Finding).where(Finding.case_id == case.id).order_by(Finding.received_at))
    return list(visible(subject, rows, finding_resource))


def case_relations(session: Session, subject: Subject, case: Case) -> list[FindingRelation]:
    relations = session.scalars(
        select(FindingRelation).where(FindingRelation.case_id == case.id).order_by(FindingRelation.created_at)
    )
    out = []
    for relation in relations:
        finding = session.get(Finding, relation.finding_id)
        if finding is not None and can(subject, Action.READ, finding_resource(finding)):
            out.append(relation)
    return out


def _relation_for(session: Session, finding: Finding) -> FindingRelation | None:
    return session.scalar(
        select(FindingRelation)
        .where(FindingRelation.finding_id == finding.id)
        .order_by(FindingRelation.created_at.desc())
        .limit(1)
    )


def _rematch(uow: UnitOfWork, finding: Finding, *case_ids: str) -> None:
    """Queue matching again for cases whose members changed (in the same unit of work), and the
    stored scores of the case a validated finding now belongs to. ``matching.case`` of a case
    that is gone or no longer validated removes its matches."""
    for case_id in dict.fromkeys(case_ids):
        uow.enqueue(MATCH_CASE_JOB, {"case_id": case_id})
    if finding.state == FindingState.VALIDATED and finding.case_id is not None:
        uow.enqueue(CASE_SCORES_JOB, {"case_id": finding.case_id, "finding_id": finding.id})


def confirm_relation(uow: UnitOfWork, subject: Subject, finding_id: str) -> Finding:
    """Accept a proposed match: the finding joins the case it was matched to. Matching runs
    again for that case and for the case the finding leaves (``matching.case``, through
    ``jobs`` when given), in the same unit of work."""
    finding = get_finding(uow.session, subject, finding_id)
    authorize(subject, Action.TRIAGE, finding_resource(finding))
    relation = _relation_for(uow.session, finding)
    if relation is None or relation.status not in (RelationStatus.PROPOSED, RelationStatus.CONFIRMED):
        raise Conflict("the finding has no proposed match to confirm", "/finding_id")
    if relation.status == RelationStatus.CONFIRMED:
        return finding
    old_case = uow.session.get(Case, finding.case_id) if finding.case_id else None
    target = uow.session.get(Case, relation.case_id)
    if target is None:
        raise Conflict("the case it was matched to no longer exists", "/case_id")
    if old_case is not None and old_case.id != target.id:
        if old_case.member_count <= 1:
            uow.session.delete(old_case)
        else:
            raise Conflict("the finding leads a case with other members; split those first", "/finding_id")
    finding.case_id = target.id
    target.member_count += 1
    relation.status = RelationStatus.CONFIRMED
    relation.decided_by = subject.user_id
    uow.flush()
    _rematch(uow, finding, *([old_case.id] if old_case is not None else []), target.id)
    return finding


def split_finding(uow: UnitOfWork, subject: Subject, finding_id: str) -> Finding:
    """Take a finding out of the case it was merged into: it leads a case of its own. Matching
    runs again for both cases (``matching.case``, through ``jobs`` when given), in the same
    unit of work."""
    finding = get_finding(uow.session, subject, finding_id)
    authorize(subject, Action.TRIAGE, finding_resource(finding))
    if finding.case_id is None or finding.case_id == finding.id:
        raise Conflict("the finding is not part of another finding's case", "/finding_id")
    case = uow.session.get(Case, finding.case_id)
    if case is not None:
        case.member_count -= 1
    relation = _relation_for(uow.session, finding)
    if relation is not None:
        relation.status = RelationStatus.SPLIT
        relation.decided_by = subject.user_id
    new_case(uow, finding)
    uow.flush()
    finding.case_id = finding.id
    if finding.state == FindingState.REJECTED and finding.rejection_reason == RejectionReason.DUPLICATE:
        finding.state, finding.rejection_reason, finding.state_reason = FindingState.TRIAGED, None, None
    uow.audit_as(finding, "finding.split", case=case.id if case else None)
    uow.flush()
    _rematch(uow, finding, *([case.id] if case is not None else []), finding.id)
    return finding


# -- analysts' bulk decisions -------------------------------------------------------

MAX_BULK_DECISIONS = 1000


@dataclass(frozen=True)
class BulkOutcome:
    """One item of a bulk confirm/split: what happened, and why the match was proposed."""

    index: int
    finding_id: str
    decision: str
    ok: bool
    case_id: str | None = None
    relation: str | None = None
    confidence: float | None = None
    reasons: tuple[str, ...] = ()
    pointer: str | None = None
    detail: str | None = None


def list_proposals(session: Session, subject: Subject, *, limit: int = 100) -> list[FindingRelation]:
    """Proposed matches an analyst has not decided, the most confident first, with their reasons;
    only those whose finding the subject may read."""
    query = (
        select(FindingRelation)
        .where(FindingRelation.status == RelationStatus.PROPOSED)
        .order_by(FindingRelation.confidence.desc(), FindingRelation.created_at, FindingRelation.id)
    )
    out: list[FindingRelation] = []
    for relation in session.scalars(query.execution_options(yield_per=500)):
        finding = session.get(Finding, relation.finding_id)
        if finding is not None and can(subject, Action.TRIAGE, finding_resource(finding)):
            out.append(relation)
            if len(out) >= limit:
                break
    return out


def decide_many(
    uow_factory: UnitOfWorkFactory,
    subject: Subject,
    items: list[tuple[str, str]],
) -> list[BulkOutcome]:
    """Confirm or split many findings, each in its own unit of work (so one refused item costs
    no other, and nothing is half-done); every item is answered by its index, with the reasons
    deduplication gave for the match or the problem that refused it."""
    from clearinghouse.access import AccessDenied
    from clearinghouse.storage import Actor
    from clearinghouse.triage._cases import forget_index

    outcomes: list[BulkOutcome] = []
    changed = False
    for index, (finding_id, decision) in enumerate(items):
        try:
            with uow_factory(
                Actor.user(subject.user_id) if subject.user_id else Actor.system("triage")
            ) as uow:
                finding = get_finding(uow.session, subject, finding_id)
                relation_before = _relation_for(uow.session, finding)
                if decision == "confirm":
                    finding = confirm_relation(uow, subject, finding_id)
                else:
                    finding = split_finding(uow, subject, finding_id)
                uow.commit()
            changed = True
            outcomes.append(
                BulkOutcome(
                    index,
                    finding_id,
                    decision,
                    True,
                    case_id=finding.case_id,
                    relation=relation_before.relation if relation_before else None,
                    confidence=relation_before.confidence if relation_before else None,
                    reasons=tuple(relation_before.reasons) if relation_before else (),
                )
            )
        except AccessDenied:
            outcomes.append(
                BulkOutcome(
                    index,
                    finding_id,
                    decision,
                    False,
                    pointer=f"/items/{index}/finding_id",
                    detail=f"no finding {finding_id!r}",
                )
            )
        except (Conflict, InvalidInput) as exc:
            outcomes.append(
                BulkOutcome(index, finding_id, decision, False, pointer=f"/items/{index}", detail=exc.detail)
            )
    if changed:
        forget_index()  # the cases changed under this process's index: rebuild on next use
    return outcomes
