"""The audit ledger: an append-only, hash-chained record of every state change.

Each event (actor, action, object, time, digest of the new state) carries the
SHA-256 of its own canonical form and of the event before it. The chain's head
is signed with Ed25519 at every commit, and a signed checkpoint is kept every
:data:`CHECKPOINT_EVERY` events, so editing, deleting, inserting or reordering
any stored event — or cutting off the tail — is found by :func:`verify_ledger`
(``clearinghouse audit verify``). The signing key is made on first run under
``$CLEARINGHOUSE_HOME/keys`` with mode 0600. A rollback of the tail (or a
restore of an older backup) is found against a witness of the signed head kept
elsewhere (:func:`witness`, :func:`check_witness`).
"""

from clearinghouse.ledger._chain import CHECKPOINT_EVERY, Ledger, event_hash
from clearinghouse.ledger._keys import (
    SigningKey,
    key_id,
    load_or_create_signing_key,
    signature_valid,
    trusted_public_keys,
)
from clearinghouse.ledger._verify import VerifyReport, verify_ledger
from clearinghouse.ledger._witness import WITNESS_FORMAT, check_witness, unrecorded_rows, witness
from clearinghouse.ledger.models import AuditEvent, LedgerCheckpoint, LedgerHead

__all__ = [
    "CHECKPOINT_EVERY",
    "WITNESS_FORMAT",
    "AuditEvent",
    "Ledger",
    "LedgerCheckpoint",
    "LedgerHead",
    "SigningKey",
    "VerifyReport",
    "check_witness",
    "event_hash",
    "key_id",
    "load_or_create_signing_key",
    "signature_valid",
    "trusted_public_keys",
    "unrecorded_rows",
    "verify_ledger",
    "witness",
]
