"""Background prioritization: storing the scores a validated case brings with it."""

from __future__ import annotations

from clearinghouse.domain import CASE_SCORES_JOB
from clearinghouse.intake.models import Finding
from clearinghouse.jobs import JobContext, job
from clearinghouse.priority._casework import store_derived_scores

SCORES_JOB = CASE_SCORES_JOB


@job(SCORES_JOB, retries=5, retry_delay_seconds=5)
def store_case_scores(ctx: JobContext, case_id: str | None = None, finding_id: str | None = None) -> None:
    """Store the finder's, imported findings' and public advisories' CVSS scores of a validated case."""
    if case_id is None and finding_id is not None:
        finding = ctx.uow.session.get(Finding, finding_id)
        case_id = finding.case_id if finding is not None else None
        if finding is not None and case_id is None:
            raise RuntimeError(f"finding {finding_id} has no case yet")
    if case_id is not None:
        store_derived_scores(ctx.uow.session, case_id)
