"""Triage: deciding on findings, and the finder pipelines' reputations.

A submitter never decides on its own finding: the submitting organization is the
owner of the finding's own (first) marking, and a subject with no organization is
of another one.
"""

from __future__ import annotations

from clearinghouse.access._actions import Action, Resource
from clearinghouse.access._predicates import REPUTATION_READERS, TRIAGERS, can_read, needs
from clearinghouse.access._rules._rule import Rule
from clearinghouse.access._subject import Scope, Subject


def _triage(subject: Subject, resource: Resource) -> bool:
    # The submitting organization never judges its own finding, even with a staff role.
    submitter = resource.markings[0].owner_org_id if resource.markings else None
    own = submitter is not None and submitter == subject.org_id
    return not own and can_read(subject, resource) and needs(subject, TRIAGERS, Scope.WRITE)


RULES = (
    Rule(
        Action.TRIAGE,
        "Validating or rejecting a finding needs read access to it, the admin, coordinator or "
        "analyst role and `write`, and an organization other than the one that submitted it.",
        _triage,
    ),
    Rule(
        Action.READ_REPUTATION,
        "Finder pipelines' reputations are read by staff (admin, coordinator, analyst) and "
        "auditors with `read`.",
        lambda s, r: needs(s, REPUTATION_READERS, Scope.READ),
    ),
)
