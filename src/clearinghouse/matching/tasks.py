"""Background matching: a validated case against every inventory, a new or changed asset
against every validated case. Both are idempotent (see ``_stored``)."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

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
from clearinghouse.matching._stored import ASSET_JOB as ASSET_JOB
from clearinghouse.matching._stored import CASE_JOB as CASE_JOB
from clearinghouse.matching._stored import match_asset, match_case
from clearinghouse.matching.models import AdvisoryMatch, Asset, CaseMatch, MatchStatus
from clearinghouse.storage import UnitOfWork

_SEVERITY_RANK = {"none": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}


def notify_new_case_matches(uow: UnitOfWork, match_ids: Sequence[str]) -> int:
    """One ``new_match`` event per asset with new matches of validated cases (as for advisory
    matches: marked as the asset is, so its owner's subscribers get it by webhook or e-mail)."""
    from clearinghouse.triage.models import Case

    if not match_ids:
        return 0
    rows: list[dict[str, Any]] = []
    titles: dict[str, str] = {}
    for match in uow.session.scalars(select(CaseMatch).where(CaseMatch.id.in_(list(match_ids)))):
        if match.case_id not in titles:
            case = uow.session.get(Case, match.case_id)
            titles[match.case_id] = case.title if case is not None else ""
        rows.append(
            {
                "id": match.id,
                "asset_id": match.asset_id,
                "affected": match.affected,
                "severity": None,
                "advisory_id": match.case_id,
                "case_id": match.case_id,
                "case_title": titles[match.case_id],
                "vulnerability_ids": [match.case_id],
                "component_purl": match.component_purl,
                "component_name": match.component_name,
                "fixed_version": None,
            }
        )
    return notify_new_matches(uow, rows)


def notify_new_matches(uow: UnitOfWork, rows: Sequence[Mapping[str, Any]]) -> int:
    """One ``new_match`` event per asset with new matches (marked as the asset is, so its owner's
    webhooks and e-mail get it); ``rows`` as inserted (advisory matches) or as
    :func:`notify_new_case_matches` shapes them. Returns how many events were raised."""
    from clearinghouse.notifications import Event, EventKind, emit

    per_asset: dict[str, list[Mapping[str, Any]]] = {}
    for row in rows:
        if row["affected"] is True:
            per_asset.setdefault(row["asset_id"], []).append(row)
    for asset_id, found in sorted(per_asset.items()):
        asset = uow.session.get(Asset, asset_id)
        if asset is None:
            continue
        worst = max((m["severity"] or "none" for m in found), key=lambda s: _SEVERITY_RANK.get(s, 0))
        ids = sorted(
            {m["vulnerability_ids"][0] if m["vulnerability_ids"] else m["advisory_id"] for m in found}
        )
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
                            "id": m["id"],
                            "vulnerability_ids": m["vulnerability_ids"],
                            "component": m["component_purl"] or m["component_name"],
                            "fixed_version": m["fixed_version"],
                            "severity": m["severity"],
                            **({"case_id": m["case_id"], "case": m["case_title"]} if "case_id" in m else {}),
                        }
                        for m in found[:100]
                    ],
                },
            ),
        )
    return len(per_asset)


DEADLINE_JOB = "matching.deadline_reminder"
REMINDER_DAYS = (7, 1)


def queue_deadline_reminders(uow: UnitOfWork, rows: Sequence[Mapping[str, Any]]) -> int:
    """For each new KEV-listed match (``rows`` as inserted), a reminder 7 days and 1 day before
    its deadline. The KEV catalog is asked once for all the rows' CVEs."""
    from clearinghouse.directives.services import advisory_match_due
    from clearinghouse.intake.advisories.models import KevEntry
    from clearinghouse.priority import cve_ids
    from clearinghouse.storage import utcnow

    wanted = sorted({c for r in rows if r["affected"] for c in cve_ids(r["vulnerability_ids"])})
    listed: set[str] = set()
    for start in range(0, len(wanted), 900):
        listed.update(
            uow.session.scalars(
                select(KevEntry.cve_id).where(KevEntry.cve_id.in_(wanted[start : start + 900]))
            )
        )
    ids = [r["id"] for r in rows if r["affected"] and listed.intersection(cve_ids(r["vulnerability_ids"]))]
    if not ids:
        return 0
    now, queued = utcnow(), 0
    for row in uow.session.scalars(select(AdvisoryMatch).where(AdvisoryMatch.id.in_(ids))):
        due = advisory_match_due(uow.session, row) if row.affected else None
        if due is None:
            continue
        for days in REMINDER_DAYS:
            at = due - dt.timedelta(days=days)
            if at > now:
                uow.enqueue(
                    DEADLINE_JOB,
                    {"match_id": row.id, "due_at": due.isoformat(), "days": days},
                    idempotency_key=f"match-deadline:{row.id}:{due.isoformat()}:{days}",
                    run_after=at,
                )
                queued += 1
    return queued


def send_deadline_reminder(uow: UnitOfWork, match_id: str, due_at: str, days: int) -> bool:
    """Emit ``deadline_near`` if the match is still open and its deadline still stands."""
    from clearinghouse.directives.services import advisory_match_due
    from clearinghouse.notifications import Event, EventKind, emit

    row = uow.session.get(AdvisoryMatch, match_id)
    if row is None or row.status != MatchStatus.OPEN.value:
        return False
    due = advisory_match_due(uow.session, row)
    if due is None or due != dt.datetime.fromisoformat(due_at):
        return False
    asset = uow.session.get(Asset, row.asset_id)
    name = asset.name if asset is not None else row.asset_id
    ids = ", ".join(row.vulnerability_ids[:2]) or row.advisory_id
    emit(
        uow,
        Event(
            kind=EventKind.DEADLINE_NEAR,
            title=(
                f"Deadline in {days} day{'s' if days != 1 else ''}: {ids} on "
                f"{row.component_name} {row.component_version or ''} (asset {name!r})"
            ),
            resource=Resource.marked("match", row.id, row.marking),
            severity=row.severity if row.severity in _SEVERITY_RANK else None,
            payload={
                "match_id": row.id,
                "due_at": due.isoformat(),
                "days_left": days,
                "fixed_version": row.fixed_version,
            },
        ),
    )
    return True


@job(DEADLINE_JOB, retries=3, retry_delay_seconds=60)
def deadline_reminder_job(ctx: JobContext, match_id: str, due_at: str, days: int) -> None:
    """A match's deadline is ``days`` away: tell its owner, unless it was dealt with or moved."""
    send_deadline_reminder(ctx.uow, match_id, due_at, days)


BATCH_CREATED = AdvisoryMatch.__audit_batch__
_BATCH_EVENT_ROWS = 1000


_DIGESTED = (
    "id",
    "key",
    "advisory_id",
    "asset_id",
    "component_version",
    "affected",
    "fixed_version",
    "status",
)


def _rows_digest(rows: Sequence[Mapping[str, Any]]) -> str:
    """SHA-256 over what binds the event to its rows: per row its id, natural key (advisory, asset,
    component), version, verdict, fixed version and status, joined by unit and record separators."""
    text = "\x1e".join("\x1f".join(str(row[name]) for name in _DIGESTED) for row in rows)
    return hashlib.sha256(text.encode()).hexdigest()


def record_new_rows(uow: UnitOfWork, rows: Sequence[Mapping[str, Any]]) -> int:
    """The ledger's record of advisory match rows inserted in bulk: one ``advisory_match.batch_created``
    event per 1,000 rows, naming their ids and a SHA-256 binding them to their
    rows (:func:`_rows_digest`, in id order), so ``verify`` finds every row recorded. Returns how
    many events were added."""
    ordered = sorted(rows, key=lambda r: str(r["id"]))
    events = 0
    for start in range(0, len(ordered), _BATCH_EVENT_ROWS):
        chunk = ordered[start : start + _BATCH_EVENT_ROWS]
        uow.record(
            BATCH_CREATED,
            "advisory_match_batch",
            None,
            ids=[r["id"] for r in chunk],
            assets=sorted({r["asset_id"] for r in chunk}),
            rows=len(chunk),
            rows_sha256=_rows_digest(chunk),
        )
        events += 1
    return events


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
    record_new_rows(ctx.uow, report.new_rows)
    notify_new_matches(ctx.uow, report.new_rows)
    queue_deadline_reminders(ctx.uow, report.new_rows)


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
    notify_new_case_matches(ctx.uow, report.new_ids)


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
    notify_new_case_matches(ctx.uow, report.new_ids)
    _record_advisory_sync(
        ctx, "asset_advisories_matched", asset_id, match_asset_advisories(ctx.uow.session, asset_id)
    )


@job(ADVISORIES_JOB, retries=5, retry_delay_seconds=5)
def match_advisories_job(ctx: JobContext, advisory_ids: list[str]) -> None:
    """Store the matches of new, changed or withdrawn advisories against every registered component."""
    _record_advisory_sync(ctx, "advisories_matched", None, match_advisories(ctx.uow.session, advisory_ids))
