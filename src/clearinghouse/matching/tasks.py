"""Background matching: a validated case against every inventory, a new or changed asset
against every validated case. Both are idempotent (see ``_stored``)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from clearinghouse.access import Resource
from clearinghouse.intake.models import Finding
from clearinghouse.jobs import JobContext, job
from clearinghouse.matching._advisories import (
    ADVISORIES_JOB,
    AdvisorySync,
    match_advisories,
    match_asset_advisories,
)
from clearinghouse.matching._stored import ASSET_JOB, CASE_JOB, match_asset, match_case
from clearinghouse.matching.models import AdvisoryMatch, Asset
from clearinghouse.storage import UnitOfWork

_SEVERITY_RANK = {"none": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}


def notify_new_matches(uow: UnitOfWork, match_ids: Sequence[str]) -> int:
    """One ``new_match`` event per asset with new advisory matches (marked as the asset is, so its
    owner's webhooks and e-mail get it); returns how many events were raised."""
    from clearinghouse.notifications import Event, EventKind, emit

    if not match_ids:
        return 0
    rows = list(uow.session.scalars(select(AdvisoryMatch).where(AdvisoryMatch.id.in_(list(match_ids)))))
    per_asset: dict[str, list[AdvisoryMatch]] = {}
    for row in rows:
        if row.affected is True:
            per_asset.setdefault(row.asset_id, []).append(row)
    for asset_id, found in sorted(per_asset.items()):
        asset = uow.session.get(Asset, asset_id)
        if asset is None:
            continue
        worst = max((m.severity or "none" for m in found), key=lambda s: _SEVERITY_RANK.get(s, 0))
        ids = sorted({m.vulnerability_ids[0] if m.vulnerability_ids else m.advisory_id for m in found})
        emit(
            uow,
            Event(
                kind=EventKind.NEW_MATCH,
                title=f"{len(found)} new match(es) on asset {asset.name!r}: {', '.join(ids[:5])}"
                + (" ..." if len(ids) > 5 else ""),
                resource=Resource.marked("asset", asset.id, asset.marking),
                severity=worst if worst in _SEVERITY_RANK else None,
                payload={
                    "asset_id": asset.id,
                    "asset": asset.name,
                    "matches": [
                        {
                            "id": m.id,
                            "vulnerability_ids": m.vulnerability_ids,
                            "component": m.component_purl or m.component_name,
                            "fixed_version": m.fixed_version,
                            "severity": m.severity,
                        }
                        for m in found[:100]
                    ],
                },
            ),
        )
    return len(per_asset)


def _record_advisory_sync(ctx: JobContext, kind: str, ident: str | None, report: AdvisorySync) -> None:
    ctx.uow.record(
        f"matching.{kind}",
        "asset" if kind == "asset_advisories_matched" else None,
        ident,
        created=report.created,
        updated=report.updated,
        deleted=report.deleted,
        closed=report.closed,
    )
    notify_new_matches(ctx.uow, report.new_ids or [])


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
    """Store the matches of a new or changed asset against every validated case and every
    imported public advisory."""
    report = match_asset(ctx.uow.session, asset_id)
    ctx.uow.record(
        "matching.asset_matched",
        "asset",
        asset_id,
        created=report.created,
        updated=report.updated,
        deleted=report.deleted,
    )
    _record_advisory_sync(
        ctx, "asset_advisories_matched", asset_id, match_asset_advisories(ctx.uow.session, asset_id)
    )


@job(ADVISORIES_JOB, retries=5, retry_delay_seconds=5)
def match_advisories_job(ctx: JobContext, advisory_ids: list[str]) -> None:
    """Store the matches of new, changed or withdrawn advisories against every registered component."""
    _record_advisory_sync(ctx, "advisories_matched", None, match_advisories(ctx.uow.session, advisory_ids))
