"""The pieces the rules are made of: who holds which role, the marking algebra's
admission test (:func:`marking_admits`), ordinary read, change and create access,
and the tests the enforcement and frontier rules share. No rule lives here; the
rules (``access/_rules``) combine these.
"""

from __future__ import annotations

from clearinghouse.access._actions import Resource
from clearinghouse.access._subject import Role, Scope, Subject
from clearinghouse.domain import TLP, Marking

STAFF_READERS = frozenset({Role.ADMIN, Role.COORDINATOR, Role.ANALYST})
STAFF_UPDATERS = frozenset({Role.ADMIN, Role.COORDINATOR, Role.ANALYST})
STAFF_DELETERS = frozenset({Role.ADMIN, Role.COORDINATOR})
STAFF_CREATORS_FOR_OTHERS = frozenset({Role.ADMIN, Role.COORDINATOR})
ADMINS = frozenset({Role.ADMIN})
GROUP_MANAGERS = frozenset({Role.ADMIN, Role.COORDINATOR})
AUDIT_READERS = frozenset({Role.ADMIN, Role.AUDITOR})
JOB_READERS = frozenset({Role.ADMIN, Role.COORDINATOR, Role.AUDITOR})
TRIAGERS = frozenset({Role.ADMIN, Role.COORDINATOR, Role.ANALYST})
REPUTATION_READERS = frozenset({Role.ADMIN, Role.COORDINATOR, Role.ANALYST, Role.AUDITOR})
TIMELINE_READERS = frozenset({Role.ADMIN, Role.COORDINATOR, Role.ANALYST, Role.AUDITOR})
LIAISONS = frozenset({Role.LAW_ENFORCEMENT_LIAISON})
PROGRAM_MANAGERS = frozenset({Role.ADMIN, Role.COORDINATOR})
COORDINATORS = frozenset({Role.ADMIN, Role.COORDINATOR})
TAXII_MANAGERS = frozenset({Role.ADMIN, Role.COORDINATOR})
PRIORITIZERS = frozenset({Role.ADMIN, Role.COORDINATOR, Role.ANALYST})
DIRECTIVE_MANAGERS = frozenset({Role.ADMIN})
FRONTIER_GOVERNMENT = frozenset({Role.EVALUATOR, Role.DETERMINATION_AUTHORITY, Role.ADMIN})
FRONTIER_POLICY_MAKERS = frozenset({Role.EVALUATOR, Role.DETERMINATION_AUTHORITY})
FRONTIER_DECIDERS = frozenset({Role.DETERMINATION_AUTHORITY})
FRONTIER_PARTNER_APPROVERS = frozenset({Role.DETERMINATION_AUTHORITY, Role.ADMIN})
MODEL_DEVELOPERS = frozenset({Role.MODEL_DEVELOPER})
# Who reads for an organization something was released to: its model developers
# (a determination released to the developer) and partners (an agreed partner grant).
RELEASE_READERS = frozenset({Role.MODEL_DEVELOPER, Role.PARTNER})
EVAL_READERS = frozenset({Role.EVALUATOR, Role.DETERMINATION_AUTHORITY, Role.ADMIN})
SUITE_REGISTRARS = frozenset({Role.EVALUATOR, Role.ADMIN})
EVAL_RUNNERS = frozenset({Role.EVALUATOR})


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


def can_read(subject: Subject, resource: Resource) -> bool:
    """Ordinary read access: every marking admits (and one of ``any_of``), with ``read``."""
    if not resource.markings and not resource.any_of:
        return False  # fail closed: an object nobody marked is nobody's to read
    if subject.authenticated and Scope.READ not in subject.scopes:
        return False
    if resource.any_of and not any(marking_admits(subject, m) for m in resource.any_of):
        return False
    return all(marking_admits(subject, marking) for marking in resource.markings)


def owns(subject: Subject, resource: Resource) -> bool:
    """A member (any role but auditor) of the organization owning the object's own marking."""
    own = resource.markings[0].owner_org_id if resource.markings else None
    return own is not None and subject.org_id == own and bool(subject.roles - {Role.AUDITOR})


def can_change(subject: Subject, resource: Resource, staff: frozenset[Role]) -> bool:
    """Read access and ``write``, and the owning organization or a role of ``staff``."""
    if not subject.authenticated or Scope.WRITE not in subject.scopes or not can_read(subject, resource):
        return False
    return owns(subject, resource) or bool(subject.roles & staff)


def can_create(subject: Subject, resource: Resource) -> bool:
    """``write``, a role but auditor, read access to the proposed marking, and the
    subject's own organization as owner unless an admin or coordinator."""
    if not subject.authenticated or Scope.WRITE not in subject.scopes:
        return False
    if not subject.roles - {Role.AUDITOR} or not resource.markings:
        return False
    if not can_read(subject, resource):
        return False
    owner = resource.markings[0].owner_org_id
    return owner == subject.org_id or bool(subject.roles & STAFF_CREATORS_FOR_OTHERS)


def needs(subject: Subject, roles: frozenset[Role], scope: Scope) -> bool:
    """Signed in, the token carries ``scope``, and one of ``roles``."""
    return subject.authenticated and scope in subject.scopes and bool(subject.roles & roles)


def mine(subject: Subject, resource: Resource) -> bool:
    """A personal resource (a subscription, a TAXII status) of this very user."""
    return resource.owner_user_id is not None and resource.owner_user_id == subject.user_id


# -- enforcement --


def incident_readable(subject: Subject, resource: Resource) -> bool:
    """Every marking admits by clearance and compartments, and names the subject's
    organization or one of its sharing groups, or the subject is a liaison."""
    if not subject.authenticated or Scope.READ not in subject.scopes or not resource.markings:
        return False
    liaison = Role.LAW_ENFORCEMENT_LIAISON in subject.roles
    for marking in resource.markings:
        if subject.clearance.rank < marking.classification.rank:
            return False
        if not marking.compartments <= subject.compartments:
            return False
        own = subject.org_id is not None and subject.org_id == marking.owner_org_id
        if not (own or liaison or marking.sharing_group_ids & subject.sharing_group_ids):
            return False
    return True


def incident_insider(subject: Subject, resource: Resource) -> bool:
    """The reporting organization or a liaison (not those it was shared with)."""
    if not incident_readable(subject, resource):
        return False
    reporter = resource.markings[0].owner_org_id
    own = subject.org_id is not None and subject.org_id == reporter
    return own or Role.LAW_ENFORCEMENT_LIAISON in subject.roles


# -- frontier model review and evaluation --


def frontier_cleared(subject: Subject, resource: Resource, roles: frozenset[Role], scope: Scope) -> bool:
    """A government role of ``roles`` cleared for every marking's level and compartments."""
    if not resource.markings or not needs(subject, roles, scope) or Scope.READ not in subject.scopes:
        return False
    return all(
        subject.clearance.rank >= m.classification.rank and m.compartments <= subject.compartments
        for m in resource.markings
    )


def released_reader(subject: Subject, resource: Resource) -> bool:
    """``released_to`` narrows, never widens: a member of a named organization
    who holds a role that reads for it (``RELEASE_READERS``) and, for every
    marking its organization does not own, the clearance and compartments the
    marking names. A marking its own organization owns admits it as the owner
    rule does (the developer's model developers read their own model)."""
    if subject.org_id is None or subject.org_id not in resource.released_to:
        return False
    if not subject.roles & RELEASE_READERS:
        return False
    return all(
        subject.clearance.rank >= m.classification.rank and m.compartments <= subject.compartments
        for m in resource.markings
        if not (m.owner_org_id == subject.org_id and Role.MODEL_DEVELOPER in subject.roles)
    )


def frontier_developer(subject: Subject, resource: Resource) -> bool:
    """The owning developer organization's model developer, with ``write``."""
    owner = resource.markings[0].owner_org_id if resource.markings else None
    return needs(subject, MODEL_DEVELOPERS, Scope.WRITE) and owner is not None and subject.org_id == owner
