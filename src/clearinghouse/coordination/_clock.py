"""The disclosure policy, as pure functions of a case's dates.

* **Deadline.** Public disclosure is due ``disclosure_days`` (90 by default,
  set per case) after the first vendor was contacted.
* **Exploited or in KEV.** When the vulnerability is known to be exploited in the
  wild (a coordinator says so, or it is in CISA's KEV catalog), the deadline
  moves to at most :data:`EXPLOITED_DISCLOSURE_DAYS` (7) days after the later of
  first contact and the day exploitation became known: defenders need the
  advisory more than the vendor needs time. The earlier of the two deadlines wins.
* **Embargo.** An embargo end, when set, is one UTC instant; nothing about the case
  is published before it (publishing earlier is refused unless the coordinator
  lifts it).
* **Reminders** go out :data:`REMINDER_DAYS` (7 and 1) days before the disclosure
  deadline and the embargo end.
* **SLA breaches.** A vendor that has not answered (every product still
  ``unknown``) :data:`VENDOR_RESPONSE_SLA_DAYS` (7) days after it was notified is
  in breach; so is a deadline or embargo end that passed with the case unpublished.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from clearinghouse.domain import zone as zone

DEFAULT_DISCLOSURE_DAYS = 90
EXPLOITED_DISCLOSURE_DAYS = 7
REMINDER_DAYS = (7, 1)
VENDOR_RESPONSE_SLA_DAYS = 7
MAX_DISCLOSURE_DAYS = 365


def disclosure_deadline(
    first_contact: dt.datetime | None,
    disclosure_days: int = DEFAULT_DISCLOSURE_DAYS,
    exploited_since: dt.datetime | None = None,
) -> dt.datetime | None:
    """When the case is due to be public; ``None`` until a vendor is contacted."""
    if first_contact is None:
        return None
    deadline = first_contact + dt.timedelta(days=disclosure_days)
    if exploited_since is not None:
        urgent = max(first_contact, exploited_since) + dt.timedelta(days=EXPLOITED_DISCLOSURE_DAYS)
        deadline = min(deadline, urgent)
    return deadline


def deadline_basis(
    first_contact: dt.datetime | None,
    disclosure_days: int = DEFAULT_DISCLOSURE_DAYS,
    exploited_since: dt.datetime | None = None,
) -> str | None:
    """Which clock set :func:`disclosure_deadline`, in words; ``None`` until a vendor is contacted."""
    if first_contact is None:
        return None
    if exploited_since is not None:
        start = max(first_contact, exploited_since)
        if start + dt.timedelta(days=EXPLOITED_DISCLOSURE_DAYS) < first_contact + dt.timedelta(
            days=disclosure_days
        ):
            after = "first contact" if start == first_contact else "exploitation became known"
            return f"{EXPLOITED_DISCLOSURE_DAYS} days after {after}, as the vulnerability is exploited"
    return f"{disclosure_days} days after first contact"


class DeadlineKind(enum.StrEnum):
    DISCLOSURE = "disclosure_deadline"
    EMBARGO = "embargo_end"
    VENDOR_RESPONSE = "vendor_response"


class DeadlineState(enum.StrEnum):
    UPCOMING = "upcoming"
    REMINDER = "reminder"  # within the first reminder window
    BREACHED = "breached"


@dataclass(frozen=True)
class DeadlineItem:
    case_id: str
    kind: DeadlineKind
    due_at: dt.datetime
    state: DeadlineState
    vendor_org_id: str | None = None
    thread_id: str | None = None


def state_of(due_at: dt.datetime, now: dt.datetime) -> DeadlineState:
    if due_at <= now:
        return DeadlineState.BREACHED
    if due_at - now <= dt.timedelta(days=max(REMINDER_DAYS)):
        return DeadlineState.REMINDER
    return DeadlineState.UPCOMING


def reminder_times(due_at: dt.datetime) -> list[tuple[int, dt.datetime]]:
    """(days before, when) for each reminder of a deadline."""
    return [(days, due_at - dt.timedelta(days=days)) for days in REMINDER_DAYS]


def vendor_response_due(notified_at: dt.datetime) -> dt.datetime:
    return notified_at + dt.timedelta(days=VENDOR_RESPONSE_SLA_DAYS)


def local(instant: dt.datetime | None, tz: ZoneInfo) -> dt.datetime | None:
    return None if instant is None else instant.astimezone(tz)
