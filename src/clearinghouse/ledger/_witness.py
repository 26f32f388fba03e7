"""A witness of the ledger's signed head, for an outside party to keep, and the
checks that the ledger still extends it (issue 14, defect 8).

The signed head alone cannot show a rollback: whoever deletes the newest events
and restores an older head row — or restores the whole database from an older
backup — leaves a chain that verifies. A witness is a copy of the signed head
(sequence, hash, signature, key id) kept somewhere the database's writer cannot
reach; ``clearinghouse audit verify --witness FILE`` fails unless the ledger still
holds the witnessed event, unchanged, at or before its head.

Rows of audited tables (``__audit_type__``) that no event names were written
around the unit of work; :func:`unrecorded_rows` lists them.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from sqlalchemy import String, cast, exists, select
from sqlalchemy.orm import Session

from clearinghouse.ledger._chain import HEAD_ROW_ID, head_message
from clearinghouse.ledger._keys import SigningKey, signature_valid, trusted_public_keys
from clearinghouse.ledger.models import AuditEvent, LedgerHead

WITNESS_FORMAT = "clearinghouse-ledger-witness/v1"


def witness(session: Session, signing_key: SigningKey | None = None) -> dict[str, Any] | None:
    """The signed head as a witness document, or None for an empty ledger."""
    head = session.get(LedgerHead, HEAD_ROW_ID)
    if head is None:
        return None
    out: dict[str, Any] = {
        "format": WITNESS_FORMAT,
        "seq": head.seq,
        "hash": head.hash,
        "key_id": head.key_id,
        "signature": head.signature,
        "taken_at": dt.datetime.now(dt.UTC).isoformat(),
    }
    if signing_key is not None and signing_key.key_id == head.key_id:
        raw = signing_key.public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        out["public_key"] = base64.b64encode(raw).decode()
    return out


def check_witness(
    session: Session, document: Mapping[str, Any], keys_dir: Path, signing_key: SigningKey | None = None
) -> list[str]:
    """Why the ledger does not extend the witnessed head (empty: it does)."""
    try:
        if document.get("format") != WITNESS_FORMAT:
            raise ValueError(f"not a {WITNESS_FORMAT} document")
        seq = int(document["seq"])
        head_hash = str(document["hash"])
        key = str(document["key_id"])
        signature = str(document["signature"])
    except (KeyError, TypeError, ValueError) as exc:
        return [f"the witness is malformed ({exc})"]
    public = trusted_public_keys(keys_dir, signing_key).get(key)
    if public is None:
        return [f"the witness was signed by key {key}, which is not a trusted ledger key"]
    if not signature_valid(public, signature, head_message(seq, head_hash)):
        return ["the witness's signature does not verify: it is not a head this ledger signed"]
    head = session.get(LedgerHead, HEAD_ROW_ID)
    head_seq = head.seq if head is not None else 0
    if head_seq < seq:
        return [
            f"the ledger was rolled back: the witness saw event {seq}, but the ledger's signed head is "
            f"at event {head_seq} (events deleted, or the database restored from an older backup)"
        ]
    event = session.get(AuditEvent, seq)
    if event is None:
        return [f"event {seq}, which the witness saw, is missing"]
    if event.hash != head_hash:
        return [
            f"the ledger no longer extends the witnessed head: event {seq} is not the event the witness saw"
        ]
    return []


def unrecorded_rows(session: Session, limit: int = 100) -> list[tuple[str, str]]:
    """(audit type, id) of audited rows that no ledger event names, at most ``limit``.

    A class that sets ``__audit_batch__`` (rows inserted in bulk) is also recorded by events of
    that action whose ``detail.ids`` name the row."""
    from clearinghouse.storage import Base

    found: list[tuple[str, str]] = []
    for mapper in sorted(Base.registry.mappers, key=lambda m: m.class_.__name__):
        cls = mapper.class_
        audit_type = getattr(cls, "__audit_type__", None)
        id_column = mapper.columns.get("id")
        if audit_type is None or id_column is None or len(found) >= limit:
            continue
        recorded = exists().where(
            AuditEvent.object_type == audit_type, AuditEvent.object_id == cast(id_column, String)
        )
        query = select(id_column).where(~recorded)
        batch_action = getattr(cls, "__audit_batch__", None)
        if batch_action is None:
            rows = session.scalars(query.limit(limit - len(found)))
            found.extend((audit_type, str(row)) for row in rows)
            continue
        batched: set[str] = set()
        for detail in session.scalars(select(AuditEvent.detail).where(AuditEvent.action == batch_action)):
            ids = detail.get("ids") if isinstance(detail, dict) else None
            batched.update(str(i) for i in ids or [])
        for row in session.scalars(query.execution_options(yield_per=2000)):
            if str(row) not in batched:
                found.append((audit_type, str(row)))
                if len(found) >= limit:
                    break
    return found
