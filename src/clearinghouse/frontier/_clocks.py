"""The frontier review's clocks: what is due when, for whom.

Part of :mod:`clearinghouse.frontier.services`, which callers import.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from clearinghouse.access import (
    Subject,
)
from clearinghouse.frontier._shared import _now, _readable, grant_resource, inquiry_resource
from clearinghouse.frontier.models import (
    AccessGrant,
    FrontierModel,
    GrantStatus,
    Inquiry,
    InquiryStatus,
)

# -- clocks ----------------------------------------------------------------------


@dataclass(frozen=True)
class Clock:
    kind: str  # "access_window" or "inquiry"
    object_id: str
    model_id: str
    model_name: str
    model_version: str
    status: str
    due_at: dt.datetime
    days_left: int  # whole days left; negative once overdue

    @property
    def overdue(self) -> bool:
        return self.days_left < 0


def days_left(due: dt.datetime, now: dt.datetime) -> int:
    return math.floor((due - now).total_seconds() / 86400)


def clocks(
    session: Session, subject: Subject, *, within_days: int | None = None, now: dt.datetime | None = None
) -> list[Clock]:
    """Running clocks the subject may see, soonest due first: each access window
    not yet ended or withdrawn (due: its end) and each open inquiry (due: 30
    days after it was opened)."""
    current = _now(now)
    items: list[Clock] = []
    for grant, model in _rows(session, AccessGrant, AccessGrant.ends_at > current):
        status = grant.status_at(current)
        if status in (GrantStatus.WITHDRAWN, GrantStatus.ENDED):
            continue
        if _readable(subject, grant_resource(grant, model)):
            items.append(_clock("access_window", grant.id, model, status.value, grant.ends_at, current))
    for inquiry, model in _rows(session, Inquiry, Inquiry.status == InquiryStatus.OPEN):
        if _readable(subject, inquiry_resource(inquiry, model)):
            items.append(_clock("inquiry", inquiry.id, model, inquiry.status, inquiry.due_at, current))
    if within_days is not None:
        items = [c for c in items if c.days_left <= within_days]
    return sorted(items, key=lambda c: (c.due_at, c.object_id))


def _rows(session: Session, kind: Any, condition: Any) -> Iterable[tuple[Any, FrontierModel]]:
    query = (
        select(kind, FrontierModel).join(FrontierModel, FrontierModel.id == kind.model_id).where(condition)
    )
    for row in session.execute(query):
        yield row[0], row[1]


def _clock(
    kind: str, object_id: str, model: FrontierModel, status: str, due: dt.datetime, now: dt.datetime
) -> Clock:
    return Clock(kind, object_id, model.id, model.name, model.version, status, due, days_left(due, now))
