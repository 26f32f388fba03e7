"""Notifications.

A webhook subscription or preference belongs to one user (and, for an
organization's subscription, that user's organization).
"""

from __future__ import annotations

from clearinghouse.access._actions import Action, Resource
from clearinghouse.access._predicates import ADMINS, mine, needs
from clearinghouse.access._rules._rule import Rule
from clearinghouse.access._subject import Role, Scope, Subject


def _manage(subject: Subject, resource: Resource) -> bool:
    if not subject.authenticated or Scope.WRITE not in subject.scopes:
        return False
    if Role.ADMIN in subject.roles:
        return True
    return mine(subject, resource)


def _read(subject: Subject, resource: Resource) -> bool:
    if not subject.authenticated or Scope.READ not in subject.scopes:
        return False
    return mine(subject, resource) or Role.ADMIN in subject.roles


RULES = (
    Rule(
        Action.MANAGE_SUBSCRIPTION,
        "A subscription or preference is managed (`write`) by its owner, and by admins.",
        _manage,
    ),
    Rule(
        Action.READ_SUBSCRIPTION,
        "A subscription or preference is read (`read`) by its owner and by admins.",
        _read,
    ),
    Rule(
        Action.CONFIGURE_DELIVERY,
        "Configuring mail delivery (SMTP) needs the admin role and the `admin` scope.",
        lambda s, r: needs(s, ADMINS, Scope.ADMIN),
    ),
)
