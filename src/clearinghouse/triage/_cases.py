"""Deduplication into cases, on stored findings.

The in-memory :class:`DedupIndex` decides; this module keeps the database in
step with it (cases, relations, finding states) and keeps one index per
process in step with the database. Only one deduplication runs at a time
(a PostgreSQL advisory lock; SQLite's single writer), so two near-duplicates
arriving together are still compared with each other.
"""

from __future__ import annotations

import threading
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from clearinghouse.access import TLP, Marking
from clearinghouse.domain.finding import FindingSubmission
from clearinghouse.intake.models import Finding, FindingState, RejectionReason
from clearinghouse.ledger import AuditEvent
from clearinghouse.storage import UnitOfWork
from clearinghouse.triage._dedup import DedupDecision, DedupIndex, Relation
from clearinghouse.triage._fingerprint import FindingFeatures, extract_features_many
from clearinghouse.triage.models import Case, FindingRelation, RelationStatus

BATCH = 2000
_LOCK_KEY = zlib.crc32(b"clearinghouse.triage.deduplicate")


def submission_of(document: dict[str, Any]) -> FindingSubmission:
    """The stored document as a submission again (the proof of concept's content is
    kept encrypted elsewhere and plays no part in deduplication)."""
    doc = dict(document)
    reproducer = dict(doc.get("reproducer") or {})
    if reproducer.pop("poc", None) is not None:
        doc["reproducer"] = reproducer
    return FindingSubmission.model_validate(doc)


def features_of(findings: Sequence[Finding]) -> list[FindingFeatures]:
    return extract_features_many([submission_of(f.document) for f in findings])


@dataclass
class _Cached:
    index: DedupIndex
    signature: tuple[int, int, str]


_cache: _Cached | None = None
_cache_lock = threading.Lock()


def _signature(session: Session) -> tuple[int, int, str]:
    """Changes whenever any process changed the cases: a stale index is rebuilt."""
    cased = session.scalar(select(func.count()).select_from(Finding).where(Finding.case_id.is_not(None))) or 0
    relations = session.scalar(select(func.count()).select_from(FindingRelation)) or 0
    last = session.scalar(select(func.max(FindingRelation.updated_at)))
    return cased, relations, str(last)


def _rebuild(session: Session) -> DedupIndex:
    index = DedupIndex()
    # Canonical findings first, so every member's case already exists when it is added.
    canonical = Finding.case_id == Finding.id
    query = (
        select(Finding)
        .where(Finding.case_id.is_not(None))
        .order_by(canonical.desc(), Finding.received_at, Finding.id)
        .execution_options(yield_per=BATCH)
    )
    batch: list[Finding] = []

    def add(rows: list[Finding]) -> None:
        for finding, feats in zip(rows, features_of(rows), strict=True):
            index.add(finding.id, feats, case_id=finding.case_id)

    for finding in session.scalars(query):
        batch.append(finding)
        if len(batch) >= BATCH:
            add(batch)
            batch = []
    add(batch)
    return index


def _index_for(session: Session) -> DedupIndex:
    global _cache
    signature = _signature(session)
    if _cache is None or _cache.signature != signature:
        _cache = _Cached(_rebuild(session), signature)
    return _cache.index


def _lock(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})


def _created_seq(session: Session, finding_id: str) -> int | None:
    return session.scalar(
        select(AuditEvent.seq).where(
            AuditEvent.object_id == finding_id, AuditEvent.action == "finding.created"
        )
    )


def _created_seqs(session: Session, finding_ids: Sequence[str]) -> dict[str, int]:
    """The ledger sequence of each finding's ``finding.created`` event, read in bulk."""
    out: dict[str, int] = {}
    for start in range(0, len(finding_ids), 500):
        ids = finding_ids[start : start + 500]
        rows = session.execute(
            select(AuditEvent.object_id, AuditEvent.seq).where(
                AuditEvent.object_id.in_(ids), AuditEvent.action == "finding.created"
            )
        )
        out.update({oid: seq for oid, seq in rows if oid is not None})
    return out


class _Batch:
    """What one deduplication run reads once instead of once per finding: the findings' ledger
    sequences and the cases it touches."""

    def __init__(self, session: Session, findings: Sequence[Finding]) -> None:
        self.session = session
        self.seqs = _created_seqs(session, [f.id for f in findings])
        self.cases: dict[str, Case] = {}

    def seq(self, finding_id: str) -> int | None:
        seq = self.seqs.get(finding_id)
        return seq if seq is not None else _created_seq(self.session, finding_id)

    def case(self, case_id: str) -> Case | None:
        case = self.cases.get(case_id)
        if case is None:
            case = self.session.get(Case, case_id)
            if case is not None:
                self.cases[case_id] = case
        return case


def new_case(uow: UnitOfWork, finding: Finding, batch: _Batch | None = None) -> Case:
    """A case led by ``finding`` (its id is the finding's), marked for its submitter and staff."""
    case = Case(
        id=finding.id,
        title=finding.title,
        purl=finding.purl,
        cwe=list(finding.cwe),
        member_count=1,
        first_reporter_finding_id=finding.id,
        first_reporter_org_id=finding.submitter_org_id,
        first_reported_seq=batch.seq(finding.id) if batch else _created_seq(uow.session, finding.id),
    )
    case.set_marking(Marking(owner_org_id=finding.submitter_org_id, tlp=TLP.AMBER_STRICT))
    uow.session.add(case)
    if batch is not None:
        batch.cases[case.id] = case
    return case


def _join(uow: UnitOfWork, finding: Finding, case_id: str, batch: _Batch | None = None) -> None:
    case = batch.case(case_id) if batch else uow.session.get(Case, case_id)
    assert case is not None, f"case {case_id} is in the index but not stored"
    finding.case_id = case_id
    case.member_count += 1
    seq = batch.seq(finding.id) if batch else _created_seq(uow.session, finding.id)
    if seq is not None and (case.first_reported_seq is None or seq < case.first_reported_seq):
        case.first_reporter_finding_id = finding.id
        case.first_reporter_org_id = finding.submitter_org_id
        case.first_reported_seq = seq


def _duplicate_check(decision: DedupDecision) -> dict[str, str]:
    if decision.merged:
        result, reason = "fail", f"duplicate of {decision.target_id} (confidence {decision.confidence:.2f})"
    elif decision.target_id is not None and decision.relation is not Relation.NEW:
        result = "unknown"
        reason = (
            f"possibly {decision.relation.value} {decision.target_id} "
            f"(confidence {decision.confidence:.2f}); an analyst decides"
        )
    else:
        result, reason = "pass", "no earlier case matches"
    return {"name": "duplicate", "result": result, "reason": reason}


def _apply(uow: UnitOfWork, finding: Finding, decision: DedupDecision, batch: _Batch | None = None) -> None:
    finding.checks = [*(c for c in finding.checks if c["name"] != "duplicate"), _duplicate_check(decision)]
    if decision.merged:
        _join(uow, finding, decision.case_id, batch)
        finding.state = FindingState.REJECTED
        finding.rejection_reason = RejectionReason.DUPLICATE
        finding.state_reason = f"duplicate of {decision.target_id} (case {decision.case_id})"
        uow.audit_as(finding, "finding.deduplicated", case=decision.case_id, confidence=decision.confidence)
    else:
        new_case(uow, finding, batch)
        if batch is None:
            uow.session.flush()
        finding.case_id = finding.id
        finding.state = FindingState.TRIAGED
    if decision.target_id is not None and decision.relation is not Relation.NEW:
        uow.session.add(
            FindingRelation(
                finding_id=finding.id,
                target_finding_id=decision.target_id,
                case_id=decision.target_case or decision.case_id,
                relation=decision.relation.value,
                confidence=round(decision.confidence, 4),
                status=RelationStatus.MERGED if decision.merged else RelationStatus.PROPOSED,
                reasons=list(decision.reasons),
                decided_by="dedup",
            )
        )


def deduplicate_pending(uow: UnitOfWork, limit: int = BATCH) -> int:
    """Place up to ``limit`` checked findings that have no case yet; returns how many."""
    global _cache
    session = uow.session
    _lock(session)
    with _cache_lock:
        try:
            index = _index_for(session)
            pending = list(
                session.scalars(
                    select(Finding)
                    .where(Finding.case_id.is_(None), Finding.state == FindingState.CHECKED)
                    .order_by(Finding.received_at, Finding.id)
                    .limit(limit)
                )
            )
            batch = _Batch(session, pending)
            # One flush for the whole batch (not one before each read), the ledger events built
            # together at commit: one event per finding, in this same transaction.
            with session.no_autoflush:
                for finding, feats in zip(pending, features_of(pending), strict=True):
                    _apply(uow, finding, index.add(finding.id, feats), batch)
            uow.flush()
            assert _cache is not None
            _cache.signature = _signature(session)
        except BaseException:
            _cache = None  # the index ran ahead of a transaction that did not commit
            raise
    return len(pending)


def place_now(uow: UnitOfWork, finding: Finding) -> None:
    """Give a finding an analyst decides on before deduplication reached it its
    case now, through the same index: a validated finding must belong to a case
    for matching, scores and coordination to act on it. A would-be duplicate
    joins the earlier case but keeps the analyst's decision."""
    global _cache
    session = uow.session
    _lock(session)
    with _cache_lock:
        try:
            index = _index_for(session)
            decision = index.add(finding.id, features_of([finding])[0])
            state, reason, why = finding.state, finding.rejection_reason, finding.state_reason
            _apply(uow, finding, decision)
            finding.state, finding.rejection_reason, finding.state_reason = state, reason, why
            uow.flush()
            assert _cache is not None
            _cache.signature = _signature(session)
        except BaseException:
            _cache = None
            raise


def forget_index() -> None:
    """Drop this process's index (tests; after restoring a database)."""
    global _cache
    with _cache_lock:
        _cache = None
