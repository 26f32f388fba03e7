"""Checking the whole chain, its checkpoints and its signed head."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from clearinghouse.ledger._chain import (
    GENESIS_HASH,
    HEAD_ROW_ID,
    checkpoint_message,
    head_message,
    stored_event_hash,
)
from clearinghouse.ledger._keys import SigningKey, signature_valid, trusted_public_keys
from clearinghouse.ledger.models import AuditEvent, LedgerCheckpoint, LedgerHead


@dataclass(frozen=True)
class Problem:
    seq: int
    message: str


@dataclass
class VerifyReport:
    events_checked: int = 0
    checkpoints_checked: int = 0
    head_seq: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_problem(self) -> Problem | None:
        return min(self.problems, key=lambda p: p.seq) if self.problems else None


def verify_ledger(
    session: Session,
    keys_dir: Path,
    signing_key: SigningKey | None = None,
    progress: Callable[[int], None] | None = None,
) -> VerifyReport:
    """Recompute every event's hash and link, and check every signature.

    ``progress`` is called with the number of events checked so far.
    """
    keys = trusted_public_keys(keys_dir, signing_key)
    report = VerifyReport()
    expected_seq = 1
    prev_hash = GENESIS_HASH
    hashes_at: dict[int, str] = {}
    # The head is read first and bounds everything after: events and the head
    # commit together and the chain only grows, so every event up to the head
    # read here is already visible, even if writers commit while we read
    # (PostgreSQL's READ COMMITTED gives each statement a newer snapshot).
    head = session.get(LedgerHead, HEAD_ROW_ID)
    bound = head.seq if head is not None else None
    checkpoint_query = select(LedgerCheckpoint).order_by(LedgerCheckpoint.seq)
    event_query = select(AuditEvent).order_by(AuditEvent.seq)
    if bound is not None:
        checkpoint_query = checkpoint_query.where(LedgerCheckpoint.seq <= bound)
        event_query = event_query.where(AuditEvent.seq <= bound)
    checkpoints = list(session.scalars(checkpoint_query))
    checkpoint_seqs = {c.seq for c in checkpoints}

    for event in session.scalars(event_query.execution_options(yield_per=2000)):
        if event.seq != expected_seq:
            if event.seq > expected_seq:
                missing = (
                    f"event {expected_seq} is missing"
                    if event.seq == expected_seq + 1
                    else f"events {expected_seq}-{event.seq - 1} are missing"
                )
                report.problems.append(Problem(expected_seq, f"{missing}: the chain jumps to {event.seq}"))
            expected_seq = event.seq
        if stored_event_hash(event) != event.hash:
            report.problems.append(
                Problem(
                    event.seq,
                    f"event {event.seq} was altered or moved: its content no longer matches its hash",
                )
            )
        elif event.prev_hash != prev_hash:
            report.problems.append(
                Problem(
                    event.seq,
                    f"event {event.seq} does not follow event {event.seq - 1}: "
                    "the chain was broken (an event removed, inserted or moved)",
                )
            )
        prev_hash = event.hash
        if event.seq in checkpoint_seqs:
            hashes_at[event.seq] = event.hash
        expected_seq += 1
        report.events_checked += 1
        if progress is not None and report.events_checked % 1000 == 0:
            progress(report.events_checked)
    last_seq = expected_seq - 1
    if progress is not None:
        progress(report.events_checked)

    for checkpoint in checkpoints:
        report.checkpoints_checked += 1
        public = keys.get(checkpoint.key_id)
        if public is None or not signature_valid(
            public, checkpoint.signature, checkpoint_message(checkpoint.seq, checkpoint.hash)
        ):
            report.problems.append(
                Problem(checkpoint.seq, f"the checkpoint at event {checkpoint.seq} has no valid signature")
            )
        elif hashes_at.get(checkpoint.seq) != checkpoint.hash:
            report.problems.append(
                Problem(
                    checkpoint.seq,
                    f"event {checkpoint.seq} is not the event its signed checkpoint names",
                )
            )

    if head is None:
        if report.events_checked:
            report.problems.append(Problem(1, "the ledger has events but no signed head"))
        return report
    report.head_seq = head.seq
    public = keys.get(head.key_id)
    if public is None or not signature_valid(public, head.signature, head_message(head.seq, head.hash)):
        report.problems.append(
            Problem(head.seq, f"the ledger head (event {head.seq}) has no valid signature")
        )
    elif head.seq > last_seq:
        report.problems.append(
            Problem(last_seq + 1, f"events {last_seq + 1}-{head.seq} were removed from the end of the ledger")
        )
    elif head.hash != prev_hash:
        report.problems.append(Problem(last_seq, f"event {last_seq} is not the event the signed head names"))
    _check_unsigned_tail(session, report, head.seq)
    return report


def _check_unsigned_tail(session: Session, report: VerifyReport, head_seq: int) -> None:
    """Events past the head read at the start are either newer commits (the head
    has moved on to cover them) or were added without the key."""
    newest = session.scalar(select(func.max(AuditEvent.seq)))
    if newest is None or newest <= head_seq:
        return
    moved = session.scalar(select(LedgerHead.seq).where(LedgerHead.id == HEAD_ROW_ID))
    if moved is None or moved < newest:
        report.problems.append(
            Problem(head_seq + 1, f"event {head_seq + 1} and after were added without a signed head")
        )
