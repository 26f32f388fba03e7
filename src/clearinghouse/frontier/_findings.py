"""The findings made with a model (through intake), summarised for its review.

Part of :mod:`clearinghouse.frontier.services`, which callers import.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from clearinghouse.access import (
    Resource,
    Subject,
)
from clearinghouse.frontier._shared import _load_model
from clearinghouse.intake.models import Finding, FindingState

# -- findings made with a model --------------------------------------------------


@dataclass(frozen=True)
class FindingsSummary:
    total: int
    validated: int
    rejected: int
    pending: int
    by_state: dict[str, int]
    version_unspecified: int
    visible_finding_ids: list[str]

    @property
    def validated_share(self) -> float | None:
        decided = self.validated + self.rejected
        return self.validated / decided if decided else None


def model_findings(session: Session, subject: Subject, model_id: str) -> FindingsSummary:
    """What was found with the model: findings whose ``generator.model`` names it
    (case-insensitive) and whose ``generator.model_version`` is its version or
    absent. Counts are given to whoever may read the model; the findings
    themselves only as far as the subject may read them."""
    from clearinghouse.access import visible

    model = _load_model(session, subject, model_id)
    wanted = model.name.lower()
    candidates = session.scalars(
        select(Finding).where(Finding.generator_key.contains(f"|{wanted}|", autoescape=True))
    )
    by_state: dict[str, int] = {}
    unspecified = 0
    matched: list[Finding] = []
    for finding in candidates:
        generator = finding.document.get("generator") or {}
        if str(generator.get("model") or "").lower() != wanted:
            continue
        version = generator.get("model_version")
        if version is None:
            unspecified += 1
        elif str(version).lower() != model.version.lower():
            continue
        matched.append(finding)
        by_state[finding.state] = by_state.get(finding.state, 0) + 1
    validated = by_state.get(FindingState.VALIDATED, 0)
    rejected = by_state.get(FindingState.REJECTED, 0)
    seen = visible(subject, matched, lambda f: Resource.marked("finding", f.id, f.marking))
    return FindingsSummary(
        total=len(matched),
        validated=validated,
        rejected=rejected,
        pending=len(matched) - validated - rejected,
        by_state=dict(sorted(by_state.items())),
        version_unspecified=unspecified,
        visible_finding_ids=[f.id for f in seen],
    )
