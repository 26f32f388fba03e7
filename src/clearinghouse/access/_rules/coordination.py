"""Coordination (vendor threads, VEX, advisories).

A vendor thread is marked TLP:AMBER+STRICT for the vendor organization, so its
vendor and staff read it and nobody else.
"""

from __future__ import annotations

from clearinghouse.access._actions import Action, Resource
from clearinghouse.access._predicates import COORDINATORS, can_read, needs, owns
from clearinghouse.access._rules._rule import Rule
from clearinghouse.access._subject import Scope, Subject


def _coordinate(subject: Subject, resource: Resource) -> bool:
    return can_read(subject, resource) and needs(subject, COORDINATORS, Scope.WRITE)


def _vendor_respond(subject: Subject, resource: Resource) -> bool:
    if not subject.authenticated or Scope.WRITE not in subject.scopes or not can_read(subject, resource):
        return False
    return owns(subject, resource) or bool(subject.roles & COORDINATORS)


RULES = (
    Rule(
        Action.COORDINATE,
        "Coordinating a case (notifying vendors, embargo, disclosure deadline, aliases) needs "
        "read access to the case, `write` and the admin or coordinator role.",
        _coordinate,
    ),
    Rule(
        Action.VENDOR_RESPOND,
        "Answering on a vendor thread (product statuses, VEX, messages) needs read access, "
        "`write` and membership of the vendor organization (any role but auditor) or the admin "
        "or coordinator role.",
        _vendor_respond,
    ),
    Rule(
        Action.PUBLISH_ADVISORY,
        "Publishing an advisory needs read access to the case, `write` and the admin or coordinator role.",
        _coordinate,
    ),
)
