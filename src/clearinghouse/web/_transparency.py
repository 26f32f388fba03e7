"""The public transparency report: aggregates only.

What it shows, and nothing more:

* the funnel: findings received, findings validated, cases disclosed (with a
  published TLP:CLEAR advisory) and cases patched (a published TLP:CLEAR
  advisory that names a fix);
* the median time from a case's first validation to its fix, over patched cases;
* the observed validity rate per finder pipeline, only for pipelines with at
  least :data:`MIN_DECISIONS` decisions, so a rate never points at a handful of
  findings.

The report itself is a TLP:CLEAR resource that the policy lets everyone read;
published advisories count only if the policy shows them to an anonymous
reader, so a non-CLEAR publication can never leak into it.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from clearinghouse.access import ANONYMOUS, TLP, Action, Marking, Resource, Subject, authorize, can
from clearinghouse.coordination.models import AdvisoryRevision
from clearinghouse.intake.models import Finding, FindingState
from clearinghouse.ledger.models import AuditEvent
from clearinghouse.storage import utcnow
from clearinghouse.triage.models import PipelineReputation

MIN_DECISIONS = 5
REPORT = Resource.marked(
    "transparency_report", "public", Marking(owner_org_id="clearinghouse", tlp=TLP.CLEAR)
)


@dataclass(frozen=True)
class FunnelStep:
    label: str
    count: int


@dataclass(frozen=True)
class PipelineRate:
    pipeline: str
    decisions: int
    validated: int
    rate: float


@dataclass(frozen=True)
class TransparencyReport:
    funnel: list[FunnelStep]
    median_days_to_fix: float | None
    fixes_measured: int
    pipelines: list[PipelineRate]
    generated_at: dt.datetime


def _revision_resource(revision: AdvisoryRevision) -> Resource:
    return Resource.marked("advisory_revision", revision.id, revision.marking)


def _parse_time(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _fix_time(revision: AdvisoryRevision) -> dt.datetime | None:
    """When the fix this published revision names became known: the earliest
    'fixed' product statement, else (a fixed version in a range) its publication."""
    record = revision.record or {}
    times = [
        t
        for s in record.get("product_statements", ())
        if s.get("status") == "fixed" and (t := _parse_time(s.get("updated_at"))) is not None
    ]
    if times:
        return min(times)
    for affected in record.get("affected", ()):
        for version_range in affected.get("ranges", ()):
            if any(e.get("kind") == "fixed" for e in version_range.get("events", ())):
                return revision.published_at
    return None


def _public_revisions(session: Session) -> Iterable[AdvisoryRevision]:
    rows = session.scalars(
        select(AdvisoryRevision)
        .where(AdvisoryRevision.tlp == TLP.CLEAR.value)
        .order_by(AdvisoryRevision.case_id, AdvisoryRevision.number)
    )
    # The policy, not the query, has the last word on what is public.
    return (r for r in rows if can(ANONYMOUS, Action.READ, _revision_resource(r)))


def _first_validations(session: Session, case_ids: list[str]) -> dict[str, dt.datetime]:
    if not case_ids:
        return {}
    rows = session.execute(
        select(Finding.case_id, func.min(AuditEvent.occurred_at))
        .join(AuditEvent, AuditEvent.object_id == Finding.id)
        .where(Finding.case_id.in_(case_ids), AuditEvent.action == "finding.validated")
        .group_by(Finding.case_id)
    )
    return {case_id: when for case_id, when in rows if case_id is not None}


def transparency_report(session: Session, subject: Subject) -> TransparencyReport:
    authorize(subject, Action.READ, REPORT)
    received = session.scalar(select(func.count()).select_from(Finding)) or 0
    validated = (
        session.scalar(
            select(func.count()).select_from(Finding).where(Finding.state == FindingState.VALIDATED)
        )
        or 0
    )
    disclosed: set[str] = set()
    fixes: dict[str, dt.datetime] = {}
    for revision in _public_revisions(session):
        disclosed.add(revision.case_id)
        fixed_at = _fix_time(revision)
        if fixed_at is not None and revision.case_id not in fixes:
            fixes[revision.case_id] = fixed_at
    validations = _first_validations(session, sorted(fixes))
    durations = [
        (fixes[case_id] - validations[case_id]).total_seconds() / 86400
        for case_id in fixes
        if case_id in validations and fixes[case_id] >= validations[case_id]
    ]
    pipelines = [
        PipelineRate(
            pipeline=" · ".join(part for part in rep.generator_key.split("|") if part) or rep.generator_key,
            decisions=rep.validated + rep.rejected,
            validated=rep.validated,
            rate=rep.validated / (rep.validated + rep.rejected),
        )
        for rep in session.scalars(select(PipelineReputation))
        if rep.validated + rep.rejected >= MIN_DECISIONS
    ]
    pipelines.sort(key=lambda p: (-p.rate, -p.decisions, p.pipeline))
    return TransparencyReport(
        funnel=[
            FunnelStep("Findings received", received),
            FunnelStep("Findings validated", validated),
            FunnelStep("Cases disclosed", len(disclosed)),
            FunnelStep("Cases patched", len(fixes)),
        ],
        median_days_to_fix=statistics.median(durations) if durations else None,
        fixes_measured=len(durations),
        pipelines=pipelines,
        generated_at=utcnow(),
    )
