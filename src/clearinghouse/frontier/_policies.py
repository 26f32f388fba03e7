"""Designation policies: thresholds as CEL expressions over benchmark metrics.

Part of :mod:`clearinghouse.frontier.services`, which callers import.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from clearinghouse.access import (
    Action,
    Forbidden,
    Marking,
    NotFound,
    Resource,
    Subject,
    can,
)
from clearinghouse.errors import Conflict, InvalidInput
from clearinghouse.frontier import _cel
from clearinghouse.frontier._shared import _readable, policy_resource
from clearinghouse.frontier.models import (
    DesignationPolicy,
)
from clearinghouse.storage import UnitOfWork

# -- designation policies ----------------------------------------------------------


@dataclass(frozen=True)
class PolicyDraft:
    name: str
    thresholds: Sequence[_cel.Threshold]
    marking: Marking
    description: str = ""


def define_policy(uow: UnitOfWork, subject: Subject, draft: PolicyDraft) -> tuple[DesignationPolicy, bool]:
    """Store the next version of a policy. Identical to the latest version of
    the same name: that version is returned (``created`` False)."""
    if not draft.thresholds:
        raise InvalidInput("a policy holds at least one threshold", "/thresholds")
    names: set[str] = set()
    for i, threshold in enumerate(draft.thresholds):
        if not threshold.name.strip() or threshold.name in names:
            raise InvalidInput("each threshold has a distinct, non-empty name", f"/thresholds/{i}/name")
        names.add(threshold.name)
        try:
            _cel.check_expression(threshold.expression)
        except _cel.ExpressionError as exc:
            raise InvalidInput(f"not a valid CEL expression: {exc}", f"/thresholds/{i}/expression") from None
    if not can(subject, Action.DEFINE_POLICY, Resource.marked("frontier_policy", None, draft.marking)):
        raise Forbidden(Action.DEFINE_POLICY, "frontier_policy")
    thresholds = [{"name": t.name, "expression": t.expression} for t in draft.thresholds]
    latest = uow.session.scalar(
        select(DesignationPolicy)
        .where(DesignationPolicy.name == draft.name)
        .order_by(DesignationPolicy.version.desc())
        .limit(1)
    )
    if (
        latest is not None
        and latest.thresholds == thresholds
        and latest.description == draft.description
        and latest.marking == draft.marking
    ):
        return latest, False
    policy = DesignationPolicy(
        name=draft.name,
        version=(latest.version + 1) if latest is not None else 1,
        description=draft.description,
        thresholds=thresholds,
        created_by=subject.user_id,
    )
    policy.set_marking(draft.marking)
    uow.session.add(policy)
    try:
        uow.flush()
    except IntegrityError:
        raise Conflict("another version of this policy was stored meanwhile; try again", "/name") from None
    return policy, True


def get_policy(session: Session, subject: Subject, policy_id: str) -> DesignationPolicy:
    policy = session.get(DesignationPolicy, policy_id)
    if policy is None or not _readable(subject, policy_resource(policy)):
        raise NotFound("frontier_policy", policy_id)
    return policy


def list_policies(session: Session, subject: Subject) -> list[DesignationPolicy]:
    query = select(DesignationPolicy).order_by(DesignationPolicy.name, DesignationPolicy.version.desc())
    return [p for p in session.scalars(query) if _readable(subject, policy_resource(p))]


def policy_thresholds(policy: DesignationPolicy) -> list[_cel.Threshold]:
    return [_cel.Threshold(t["name"], t["expression"]) for t in policy.thresholds]
