"""Reads the console needs beside the feature services: a case's timeline from
the audit ledger, and the attachments listed on a finding's page."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from clearinghouse.access import Action, Subject, can
from clearinghouse.access.models import User
from clearinghouse.access.services import user_resource
from clearinghouse.intake.models import Attachment, Finding
from clearinghouse.ledger.models import AuditEvent
from clearinghouse.triage.models import Case, FindingRelation
from clearinghouse.triage.services import case_resource

TIMELINE_LIMIT = 200


@dataclass(frozen=True)
class TimelineEntry:
    seq: int
    at: dt.datetime
    actor: str
    action: str
    object_type: str | None
    object_id: str | None


def case_timeline(
    session: Session, subject: Subject, case: Case, members: Sequence[Finding]
) -> list[TimelineEntry] | None:
    """The ledger's events about the case, the findings of it that ``members``
    holds (the ones the subject may read) and their relations, oldest first;
    None when the policy does not show timelines to this subject."""
    if not can(subject, Action.READ_CASE_TIMELINE, case_resource(case)):
        return None
    finding_ids = [f.id for f in members]
    relation_ids = list(
        session.scalars(select(FindingRelation.id).where(FindingRelation.finding_id.in_(finding_ids)))
    )
    ids = [case.id, *finding_ids, *relation_ids]
    events = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.object_id.in_(ids))
        .order_by(AuditEvent.seq.desc())
        .limit(TIMELINE_LIMIT)
    )
    rows = list(events)
    names = _actor_names(session, subject, {e.actor for e in rows})
    entries = [
        TimelineEntry(e.seq, e.occurred_at, names.get(e.actor, e.actor), e.action, e.object_type, e.object_id)
        for e in rows
    ]
    return entries[::-1]


def _actor_names(session: Session, subject: Subject, actors: set[str]) -> dict[str, str]:
    """``user:<id>`` as the username where the policy lets the subject read that user,
    else as "a user"; system actors stay as they are."""
    ids = sorted(a.removeprefix("user:") for a in actors if a.startswith("user:"))
    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(ids)))} if ids else {}
    names = {}
    for user_id in ids:
        user = users.get(user_id)
        readable = user is not None and can(subject, Action.READ, user_resource(user))
        names[f"user:{user_id}"] = user.username if readable and user is not None else "a user"
    return names


def finding_attachments(session: Session, finding: Finding) -> list[Attachment]:
    """The attachments of a finding the caller has already read through the policy
    (``triage.services.get_finding``); their content is read only through
    ``triage.services.read_attachment``, which records the read."""
    return list(
        session.scalars(
            select(Attachment).where(Attachment.finding_id == finding.id).order_by(Attachment.created_at)
        )
    )
