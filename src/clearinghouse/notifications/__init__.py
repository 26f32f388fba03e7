"""Notifications: telling people what happened, the way each asked.

Parts raise events with :func:`emit` in their own unit of work (vendor
notified, status changed, embargo and deadline reminders, case published); a
background fan-out sends each event to every webhook subscription and every
user allowed (by the one access policy) to read what it is about:

* **webhooks** (``_signing``): JSON POSTs signed with HMAC-SHA256 over
  ``timestamp + "." + body``; secrets stored encrypted with the runtime's
  envelope; retried with exponential back-off; every attempt stored and logged;
* **e-mail** over SMTP (``notification_settings``), immediately or bundled into
  a daily digest at the user's local hour, filtered by minimum severity and
  SSVC decision (``notification_preferences``, which also hold the user's time zone).
"""

from clearinghouse.notifications._delivery import MAX_ATTEMPTS, backoff, next_digest_time
from clearinghouse.notifications._events import SEVERITY_ORDER, Event, emit, passes
from clearinghouse.notifications._signing import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    sign,
    verify,
)
from clearinghouse.notifications.models import DeliveryStatus, EmailMode, EventKind

__all__ = [
    "DELIVERY_HEADER",
    "EVENT_HEADER",
    "MAX_ATTEMPTS",
    "SEVERITY_ORDER",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "DeliveryStatus",
    "EmailMode",
    "Event",
    "EventKind",
    "backoff",
    "emit",
    "next_digest_time",
    "passes",
    "sign",
    "verify",
]
