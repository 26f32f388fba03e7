"""The access policy: the one place that decides who may read and change what.

Every adapter (HTTP API, pages, CLI, exports, feeds) and every service asks
:func:`can` or :func:`authorize`; no other module holds an access rule.

Reading a marked object needs every one of its markings — its own and each
container's — to admit the subject, so the most restrictive marking wins:

* classification: the subject's clearance is at least the marking's level and
  the subject holds every compartment the marking names;
* TLP:CLEAR admits everyone, signed in or not; TLP:GREEN any signed-in user;
  TLP:AMBER the owning organization, members of the marking's sharing groups
  and clearinghouse staff (admin, coordinator, analyst), who receive it on the
  community's behalf; TLP:AMBER+STRICT the owning organization and staff only;
  TLP:RED the owning organization and the named recipients (sharing groups)
  only — staff included only if named;
* the token used carries the ``read`` scope.

A record shared between parties (an overlap between two organizations' scan
campaigns) lists its parties' markings as ``any_of``: one of them must admit.

Changing an object needs read access, the ``write`` scope and either
membership of the owning organization (any role but auditor) or a staff role
(admin or coordinator may update and delete; an analyst may update).
Creating one needs the ``write`` scope, read access to the proposed marking,
a role other than auditor, and the subject's own organization as owner
unless the subject is an admin or coordinator.

Platform actions: managing organizations, users and sharing groups needs the
admin role (sharing groups: admin or coordinator) and the ``admin`` scope;
loading reference data (public advisories, KEV, EPSS) needs admin or
coordinator and the ``admin`` scope;
reading and verifying the audit ledger needs admin or auditor and ``read``;
reading background jobs' records needs admin, coordinator or auditor and ``read``.
Triage decisions (validating or rejecting a finding) need read access to the
finding, a staff role (admin, coordinator, analyst) and ``write``, and a
subject of another organization than the one that submitted it: a submitter
never decides on its own finding. Finder pipelines' reputations are
read by staff and auditors (``read``).
A user may create tokens for themself (``admin`` scope), never with a scope
they do not hold; an admin (``admin`` scope) may create them for anyone, with
any scopes. Anyone may revoke their own token; an admin (``admin`` scope)
anyone's.

A resource that carries no marking at all is readable by nobody (fail closed).

A read of an existing object that is denied is reported exactly as a missing
object would be (:class:`NotFound`), so a denial leaks nothing about
existence. Refusing to create an object (which has no id yet) is
:class:`Forbidden`.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TypeVar

from clearinghouse.access._markings import TLP, Marking
from clearinghouse.access._subject import Role, Scope, Subject

STAFF_READERS = frozenset({Role.ADMIN, Role.COORDINATOR, Role.ANALYST})
STAFF_UPDATERS = frozenset({Role.ADMIN, Role.COORDINATOR, Role.ANALYST})
STAFF_DELETERS = frozenset({Role.ADMIN, Role.COORDINATOR})
STAFF_CREATORS_FOR_OTHERS = frozenset({Role.ADMIN, Role.COORDINATOR})
GROUP_MANAGERS = frozenset({Role.ADMIN, Role.COORDINATOR})
AUDIT_READERS = frozenset({Role.ADMIN, Role.AUDITOR})
JOB_READERS = frozenset({Role.ADMIN, Role.COORDINATOR, Role.AUDITOR})
TRIAGERS = frozenset({Role.ADMIN, Role.COORDINATOR, Role.ANALYST})
REPUTATION_READERS = frozenset({Role.ADMIN, Role.COORDINATOR, Role.ANALYST, Role.AUDITOR})


class Action(enum.StrEnum):
    READ = "read"
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    MANAGE_ORGS = "org.manage"
    MANAGE_USERS = "user.manage"
    MANAGE_GROUPS = "group.manage"
    CREATE_TOKEN = "token.create"
    REVOKE_TOKEN = "token.revoke"
    READ_AUDIT = "audit.read"
    VERIFY_AUDIT = "audit.verify"
    READ_JOBS = "jobs.read"
    TRIAGE = "triage"
    READ_REPUTATION = "reputation.read"
    LOAD_REFERENCE_DATA = "reference.load"


@dataclass(frozen=True)
class Resource:
    """What an action is about.

    ``markings`` holds the object's own marking first, then its containers'.
    ``owner_user_id`` names the user a personal resource (a token) belongs to.
    ``scopes`` are the scopes a token being created would carry.
    ``any_of`` holds markings of which at least one must admit the subject, for
    a record shared between parties (the overlap of two scan campaigns).
    """

    kind: str
    id: str | None = None
    markings: tuple[Marking, ...] = ()
    owner_user_id: str | None = None
    scopes: frozenset[Scope] = field(default_factory=frozenset)
    any_of: tuple[Marking, ...] = ()

    @classmethod
    def marked(cls, kind: str, id: str | None, *markings: Marking) -> Resource:
        return cls(kind=kind, id=id, markings=tuple(markings))


PLATFORM = Resource(kind="platform")


class AccessDenied(Exception):
    """Base of the policy's refusals."""


class NotFound(AccessDenied):
    """No such object — or one the subject may not know exists. The two are
    deliberately indistinguishable."""

    def __init__(self, kind: str, id: str | None = None) -> None:
        super().__init__(f"{kind} not found")
        self.kind = kind
        self.id = id


class Forbidden(AccessDenied):
    """The subject may know the object exists but may not do this to it."""

    def __init__(self, action: Action, kind: str) -> None:
        super().__init__(f"not allowed to {action.value} this {kind}")
        self.action = action
        self.kind = kind


def marking_admits(subject: Subject, marking: Marking) -> bool:
    """Whether one marking lets ``subject`` read."""
    if subject.clearance.rank < marking.classification.rank:
        return False
    if not marking.compartments <= subject.compartments:
        return False
    if marking.tlp is TLP.CLEAR:
        return True
    if not subject.authenticated:
        return False
    if marking.tlp is TLP.GREEN:
        return True
    own_org = subject.org_id is not None and subject.org_id == marking.owner_org_id
    named = bool(marking.sharing_group_ids & subject.sharing_group_ids)
    staff = bool(subject.roles & STAFF_READERS)
    if marking.tlp is TLP.AMBER:
        return own_org or named or staff
    if marking.tlp is TLP.AMBER_STRICT:
        return own_org or staff
    return own_org or named  # RED: named recipients only


def _can_read(subject: Subject, resource: Resource) -> bool:
    if not resource.markings and not resource.any_of:
        return False  # fail closed: an object nobody marked is nobody's to read
    if subject.authenticated and Scope.READ not in subject.scopes:
        return False
    if resource.any_of and not any(marking_admits(subject, m) for m in resource.any_of):
        return False
    return all(marking_admits(subject, marking) for marking in resource.markings)


def _owns(subject: Subject, resource: Resource) -> bool:
    own = resource.markings[0].owner_org_id if resource.markings else None
    return own is not None and subject.org_id == own and bool(subject.roles - {Role.AUDITOR})


def _can_change(subject: Subject, resource: Resource, staff: frozenset[Role]) -> bool:
    if not subject.authenticated or Scope.WRITE not in subject.scopes or not _can_read(subject, resource):
        return False
    return _owns(subject, resource) or bool(subject.roles & staff)


def _can_create(subject: Subject, resource: Resource) -> bool:
    if not subject.authenticated or Scope.WRITE not in subject.scopes:
        return False
    if not subject.roles - {Role.AUDITOR} or not resource.markings:
        return False
    if not _can_read(subject, resource):
        return False
    owner = resource.markings[0].owner_org_id
    return owner == subject.org_id or bool(subject.roles & STAFF_CREATORS_FOR_OTHERS)


def _needs(subject: Subject, roles: frozenset[Role], scope: Scope) -> bool:
    return subject.authenticated and scope in subject.scopes and bool(subject.roles & roles)


def can(subject: Subject, action: Action, resource: Resource = PLATFORM) -> bool:
    """Whether ``subject`` may do ``action`` to ``resource``."""
    if action is Action.READ:
        return _can_read(subject, resource)
    if action is Action.UPDATE:
        return _can_change(subject, resource, STAFF_UPDATERS)
    if action is Action.DELETE:
        return _can_change(subject, resource, STAFF_DELETERS)
    if action is Action.CREATE:
        return _can_create(subject, resource)
    if action in (Action.MANAGE_ORGS, Action.MANAGE_USERS):
        return _needs(subject, frozenset({Role.ADMIN}), Scope.ADMIN)
    if action is Action.MANAGE_GROUPS:
        return _needs(subject, GROUP_MANAGERS, Scope.ADMIN)
    if action in (Action.READ_AUDIT, Action.VERIFY_AUDIT):
        return _needs(subject, AUDIT_READERS, Scope.READ)
    if action is Action.READ_JOBS:
        return _needs(subject, JOB_READERS, Scope.READ)
    if action is Action.LOAD_REFERENCE_DATA:
        return _needs(subject, GROUP_MANAGERS, Scope.ADMIN)
    if action is Action.READ_REPUTATION:
        return _needs(subject, REPUTATION_READERS, Scope.READ)
    if action is Action.TRIAGE:
        # The submitting organization never judges its own finding, even with a staff role.
        submitter = resource.markings[0].owner_org_id if resource.markings else None
        own = submitter is not None and submitter == subject.org_id
        return not own and _can_read(subject, resource) and _needs(subject, TRIAGERS, Scope.WRITE)
    if action is Action.CREATE_TOKEN:
        if not subject.authenticated or Scope.ADMIN not in subject.scopes:
            return False
        if Role.ADMIN in subject.roles:
            return True
        return resource.owner_user_id == subject.user_id and resource.scopes <= subject.scopes
    if action is Action.REVOKE_TOKEN:
        if not subject.authenticated:
            return False
        if resource.owner_user_id == subject.user_id:
            return True
        return Role.ADMIN in subject.roles and Scope.ADMIN in subject.scopes
    raise ValueError(f"unknown action {action!r}")  # pragma: no cover - enum is closed


def authorize(subject: Subject, action: Action, resource: Resource = PLATFORM) -> None:
    """Raise unless ``subject`` may do ``action``.

    For an existing object (one with an id) the subject may not read, every
    refusal is :class:`NotFound`; otherwise — including an object about to be
    created with a marking its creator could not read — it is :class:`Forbidden`.
    """
    if can(subject, action, resource):
        return
    if (
        resource.id is not None
        and (resource.markings or resource.any_of)
        and not _can_read(subject, resource)
    ):
        raise NotFound(resource.kind, resource.id)
    raise Forbidden(action, resource.kind)


T = TypeVar("T")


def visible(subject: Subject, items: Iterable[T], resource_of: Callable[[T], Resource]) -> Iterator[T]:
    """The items ``subject`` may read, in order."""
    for item in items:
        if _can_read(subject, resource_of(item)):
            yield item
