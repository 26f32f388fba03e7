"""HTTP routes for auditors: the event log and its verification."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from clearinghouse.http_deps import SignedIn
from clearinghouse.jobs.views import JobOut
from clearinghouse.ledger import services
from clearinghouse.ledger.models import AuditEvent

router = APIRouter(prefix="/audit", tags=["audit"])


class AuditEventOut(BaseModel):
    seq: int
    occurred_at: dt.datetime
    actor: str
    action: str
    object_type: str | None
    object_id: str | None
    state_digest: str | None
    detail: dict[str, Any]
    prev_hash: str
    hash: str

    @classmethod
    def of(cls, e: AuditEvent) -> AuditEventOut:
        return cls(
            seq=e.seq,
            occurred_at=e.occurred_at,
            actor=e.actor,
            action=e.action,
            object_type=e.object_type,
            object_id=e.object_id,
            state_digest=e.state_digest,
            detail=e.detail,
            prev_hash=e.prev_hash,
            hash=e.hash,
        )


class VerifyOut(BaseModel):
    ok: bool
    events_checked: int
    checkpoints_checked: int
    head_seq: int
    first_bad_event: int | None
    problems: list[str]


@router.get("/events", summary="Ledger events in order (auditors and admins)")
def list_events(
    context: SignedIn,
    after: int = Query(0, ge=0, le=2**62, description="Return events after this sequence number"),
    limit: int = Query(100, ge=1, le=1000),
    object_id: str | None = None,
    action: str | None = None,
) -> list[AuditEventOut]:
    with context.reading() as uow:
        events = services.list_events(
            uow.session, context.subject, after_seq=after, limit=limit, object_id=object_id, action=action
        )
        return [AuditEventOut.of(e) for e in events]


@router.post("/verify", summary="Check the whole chain, its checkpoints and its signed head")
def verify(context: SignedIn) -> VerifyOut:
    runtime = context.runtime
    with context.reading() as uow:
        report = services.verify(uow.session, context.subject, runtime.settings.keys_dir, runtime.signing_key)
    first = report.first_problem
    return VerifyOut(
        ok=report.ok,
        events_checked=report.events_checked,
        checkpoints_checked=report.checkpoints_checked,
        head_seq=report.head_seq,
        first_bad_event=first.seq if first else None,
        problems=[p.message for p in sorted(report.problems, key=lambda p: p.seq)],
    )


@router.post(
    "/verifications",
    status_code=202,
    summary="Queue a verification as a background job",
    description="The job records its outcome in the ledger as an `audit.verified` event. "
    "Follow it at `/api/v1/jobs/{id}`. Each call queues a new check (not idempotent: every check is news).",
)
def schedule_verification(context: SignedIn) -> JobOut:
    runtime = context.runtime
    with context.writing() as uow:
        job_id = services.schedule_verification(uow, context.subject)
        uow.commit()
    info = runtime.jobs.get(job_id)
    assert info is not None
    return JobOut.of(info)
