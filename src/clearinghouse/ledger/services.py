"""Reading and verifying the ledger, as the policy allows."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from clearinghouse.access import Action, Subject, authorize
from clearinghouse.ledger._keys import SigningKey
from clearinghouse.ledger._verify import VerifyReport, verify_ledger
from clearinghouse.ledger.models import AuditEvent
from clearinghouse.ledger.tasks import VERIFY_JOB
from clearinghouse.storage import UnitOfWork


def list_events(
    session: Session,
    subject: Subject,
    *,
    after_seq: int = 0,
    limit: int = 100,
    object_id: str | None = None,
    action: str | None = None,
) -> list[AuditEvent]:
    """Events in order, ``limit`` at a time after ``after_seq``."""
    authorize(subject, Action.READ_AUDIT)
    query = select(AuditEvent).where(AuditEvent.seq > after_seq).order_by(AuditEvent.seq).limit(limit)
    if object_id is not None:
        query = query.where(AuditEvent.object_id == object_id)
    if action is not None:
        query = query.where(AuditEvent.action == action)
    return list(session.scalars(query))


def verify(
    session: Session,
    subject: Subject,
    keys_dir: Path,
    signing_key: SigningKey | None,
    progress: Callable[[int], None] | None = None,
) -> VerifyReport:
    authorize(subject, Action.VERIFY_AUDIT)
    return verify_ledger(session, keys_dir, signing_key, progress)


def schedule_verification(uow: UnitOfWork, subject: Subject) -> str:
    """Queue a verification as a background job; its outcome lands in the ledger."""
    authorize(subject, Action.VERIFY_AUDIT)
    return uow.enqueue(VERIFY_JOB, {})
