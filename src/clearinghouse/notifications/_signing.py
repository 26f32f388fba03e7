"""Webhook signatures: HMAC-SHA256 over ``timestamp + "." + body``.

A delivery carries ``X-Clearinghouse-Timestamp`` (Unix seconds) and
``X-Clearinghouse-Signature: sha256=<hex>``. A receiver recomputes the HMAC
with its secret over the timestamp header, a full stop and the raw body bytes,
compares in constant time, and refuses a timestamp more than five minutes
from its clock (a replayed delivery). :func:`verify` does exactly that.
"""

from __future__ import annotations

import hashlib
import hmac
import time

TIMESTAMP_HEADER = "X-Clearinghouse-Timestamp"
SIGNATURE_HEADER = "X-Clearinghouse-Signature"
EVENT_HEADER = "X-Clearinghouse-Event"
DELIVERY_HEADER = "X-Clearinghouse-Delivery"
TOLERANCE_SECONDS = 300


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-Clearinghouse-Signature`` value for ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def signed_headers(
    secret: str, body: bytes, *, event: str, delivery_id: str, now: float | None = None
) -> dict[str, str]:
    timestamp = int(time.time() if now is None else now)
    return {
        "Content-Type": "application/json",
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(secret, timestamp, body),
        EVENT_HEADER: event,
        DELIVERY_HEADER: delivery_id,
    }


def verify(
    secret: str,
    timestamp: str,
    body: bytes,
    signature: str,
    *,
    tolerance: int = TOLERANCE_SECONDS,
    now: float | None = None,
) -> bool:
    """Whether ``signature`` is this body's, signed with ``secret`` within ``tolerance`` seconds of now."""
    try:
        sent = int(timestamp)
    except ValueError:
        return False
    current = time.time() if now is None else now
    if abs(current - sent) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, sent, body), signature)
