"""Background matching: a validated case against every inventory, a new or changed asset
against every validated case. Both are idempotent (see ``_stored``)."""

from __future__ import annotations

from clearinghouse.intake.models import Finding
from clearinghouse.jobs import JobContext, job
from clearinghouse.matching._stored import ASSET_JOB, CASE_JOB, match_asset, match_case


class CaseNotPlacedYet(RuntimeError):
    """The validated finding has no case yet (deduplication has not placed it): try again later."""


@job(CASE_JOB, retries=5, retry_delay_seconds=5)
def match_case_job(ctx: JobContext, case_id: str | None = None, finding_id: str | None = None) -> None:
    """Store the matches of a validated case (named directly, or through its finding)."""
    if case_id is None and finding_id is not None:
        finding = ctx.uow.session.get(Finding, finding_id)
        if finding is None:
            return
        if finding.case_id is None:
            raise CaseNotPlacedYet(f"finding {finding_id} has no case yet")
        case_id = finding.case_id
    if case_id is None:
        return
    report = match_case(ctx.uow.session, case_id)
    ctx.uow.record(
        "matching.case_matched",
        "case",
        case_id,
        created=report.created,
        updated=report.updated,
        deleted=report.deleted,
    )


@job(ASSET_JOB, retries=5, retry_delay_seconds=5)
def match_asset_job(ctx: JobContext, asset_id: str) -> None:
    """Store the matches of a new or changed asset against every validated case."""
    report = match_asset(ctx.uow.session, asset_id)
    ctx.uow.record(
        "matching.asset_matched",
        "asset",
        asset_id,
        created=report.created,
        updated=report.updated,
        deleted=report.deleted,
    )
