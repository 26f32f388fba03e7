"""Appending to the hash chain."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from clearinghouse.ledger._keys import SigningKey
from clearinghouse.ledger.models import AuditEvent, LedgerCheckpoint, LedgerHead
from clearinghouse.storage import Actor, PendingEvent, canonical_json, utcnow

GENESIS_HASH = "0" * 64
CHECKPOINT_EVERY = 256
HEAD_ROW_ID = 1


def format_time(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_hash(
    *,
    seq: int,
    occurred_at: dt.datetime,
    actor: str,
    action: str,
    object_type: str | None,
    object_id: str | None,
    state_digest: str | None,
    detail: dict[str, Any],
    prev_hash: str,
) -> str:
    """SHA-256 over the canonical form of everything an event says, chained to ``prev_hash``."""
    body = canonical_json(
        {
            "seq": seq,
            "occurred_at": format_time(occurred_at),
            "actor": actor,
            "action": action,
            "object_type": object_type,
            "object_id": object_id,
            "state_digest": state_digest,
            "detail": detail,
            "prev_hash": prev_hash,
        }
    )
    return hashlib.sha256(body.encode()).hexdigest()


def stored_event_hash(event: AuditEvent) -> str:
    return event_hash(
        seq=event.seq,
        occurred_at=event.occurred_at,
        actor=event.actor,
        action=event.action,
        object_type=event.object_type,
        object_id=event.object_id,
        state_digest=event.state_digest,
        detail=event.detail,
        prev_hash=event.prev_hash,
    )


def head_message(seq: int, head_hash: str) -> bytes:
    return f"clearinghouse-ledger/v1|head|{seq}|{head_hash}".encode()


def checkpoint_message(seq: int, head_hash: str) -> bytes:
    return f"clearinghouse-ledger/v1|checkpoint|{seq}|{head_hash}".encode()


class Ledger:
    """Appends events for a unit of work; implements ``storage.LedgerWriter``."""

    def __init__(self, signing_key: SigningKey) -> None:
        self.signing_key = signing_key

    def append(self, session: Session, actor: Actor, events: list[PendingEvent]) -> None:
        # The head row is locked for the rest of the transaction (FOR UPDATE on
        # PostgreSQL; SQLite's writer lock is already held), so concurrent
        # writers chain one after another instead of forking the chain.
        head = session.execute(
            select(LedgerHead).where(LedgerHead.id == HEAD_ROW_ID).with_for_update()
        ).scalar_one_or_none()
        seq, prev = (head.seq, head.hash) if head is not None else (0, GENESIS_HASH)
        now = utcnow()
        for pending in events:
            seq += 1
            detail = dict(canonical_detail(pending.detail))
            digest = pending.state_digest
            current = event_hash(
                seq=seq,
                occurred_at=now,
                actor=actor.ref,
                action=pending.action,
                object_type=pending.object_type,
                object_id=pending.object_id,
                state_digest=digest,
                detail=detail,
                prev_hash=prev,
            )
            session.add(
                AuditEvent(
                    seq=seq,
                    occurred_at=now,
                    actor=actor.ref,
                    action=pending.action,
                    object_type=pending.object_type,
                    object_id=pending.object_id,
                    state_digest=digest,
                    detail=detail,
                    prev_hash=prev,
                    hash=current,
                )
            )
            prev = current
            if seq % CHECKPOINT_EVERY == 0:
                session.add(self._checkpoint(seq, current, now))
        signature = self.signing_key.sign(head_message(seq, prev))
        if head is None:
            session.add(
                LedgerHead(
                    id=HEAD_ROW_ID,
                    seq=seq,
                    hash=prev,
                    key_id=self.signing_key.key_id,
                    signature=signature,
                )
            )
        else:
            head.seq, head.hash = seq, prev
            head.key_id, head.signature = self.signing_key.key_id, signature

    def _checkpoint(self, seq: int, head_hash: str, now: dt.datetime) -> LedgerCheckpoint:
        return LedgerCheckpoint(
            seq=seq,
            hash=head_hash,
            signed_at=now,
            key_id=self.signing_key.key_id,
            signature=self.signing_key.sign(checkpoint_message(seq, head_hash)),
        )

    def checkpoint(self, session: Session) -> LedgerCheckpoint | None:
        """Sign a checkpoint at the current head (``clearinghouse audit checkpoint``)."""
        head = session.get(LedgerHead, HEAD_ROW_ID)
        if head is None:
            return None
        existing = session.get(LedgerCheckpoint, head.seq)
        if existing is not None:
            return existing
        checkpoint = self._checkpoint(head.seq, head.hash, utcnow())
        session.add(checkpoint)
        return checkpoint


def canonical_detail(detail: dict[str, Any]) -> dict[str, Any]:
    """The detail as it will read back from a JSON column (so its hash still matches)."""
    loaded: dict[str, Any] = json.loads(canonical_json(detail))
    return loaded
