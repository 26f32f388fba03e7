"""Raising an event: one stored row and a fan-out job, in the caller's transaction.

Services of other parts (coordination) call :func:`emit` inside their own unit of
work, so an event exists exactly when the change that caused it commits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from clearinghouse.access import TLP, Classification, Marking, Resource
from clearinghouse.notifications.models import EventKind, NotificationEvent
from clearinghouse.storage import UnitOfWork

FANOUT_JOB = "notifications.fanout"
SEVERITY_ORDER = ("none", "low", "medium", "high", "critical")


@dataclass(frozen=True)
class Event:
    kind: EventKind
    title: str
    resource: Resource
    case_id: str | None = None
    severity: str | None = None
    ssvc: str | None = None
    payload: dict[str, Any] = field(default_factory=dict)


def marking_to_json(m: Marking) -> dict[str, Any]:
    return {
        "owner_org_id": m.owner_org_id,
        "tlp": m.tlp.value,
        "classification": m.classification.value,
        "compartments": sorted(m.compartments),
        "sharing_group_ids": sorted(m.sharing_group_ids),
    }


def marking_from_json(d: dict[str, Any]) -> Marking:
    return Marking(
        owner_org_id=d["owner_org_id"],
        tlp=TLP(d["tlp"]),
        classification=Classification(d["classification"]),
        compartments=frozenset(d.get("compartments", ())),
        sharing_group_ids=frozenset(d.get("sharing_group_ids", ())),
    )


def event_resource(row: NotificationEvent) -> Resource:
    return Resource(
        kind=row.resource_kind,
        id=row.resource_id,
        markings=tuple(marking_from_json(m) for m in row.markings),
        any_of=tuple(marking_from_json(m) for m in row.any_of),
    )


def emit(uow: UnitOfWork, event: Event) -> NotificationEvent:
    """Store ``event`` and queue its fan-out to subscribers in the same transaction."""
    if event.severity is not None and event.severity not in SEVERITY_ORDER:
        raise ValueError(f"unknown severity {event.severity!r}")
    row = NotificationEvent(
        kind=event.kind.value,
        case_id=event.case_id,
        title=event.title[:500],
        severity=event.severity,
        ssvc=event.ssvc,
        resource_kind=event.resource.kind,
        resource_id=event.resource.id,
        markings=[marking_to_json(m) for m in event.resource.markings],
        any_of=[marking_to_json(m) for m in event.resource.any_of],
        payload=event.payload,
    )
    uow.session.add(row)
    uow.flush()
    uow.enqueue(FANOUT_JOB, {"event_id": row.id}, idempotency_key=f"fanout:{row.id}")
    return row


def passes(severity: str | None, ssvc: str | None, min_severity: str | None, decisions: list[str]) -> bool:
    """Whether an event passes a user's filters: at least ``min_severity`` (an
    event of unknown severity passes only without that filter) and, when
    ``decisions`` is not empty, an SSVC decision among them."""
    if min_severity is not None and (
        severity is None or SEVERITY_ORDER.index(severity) < SEVERITY_ORDER.index(min_severity)
    ):
        return False
    if decisions:
        return ssvc is not None and ssvc.lower() in {d.lower() for d in decisions}
    return True
