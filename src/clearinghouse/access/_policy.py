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

Coordination (vendor threads, VEX, advisories): coordinating a case (notifying
vendors, embargo, disclosure deadline, aliases) needs read access to the case,
the ``write`` scope and the admin or coordinator role. A vendor thread is marked
TLP:AMBER+STRICT for the vendor organization, so its vendor and staff read it and
nobody else; answering on it (product statuses, VEX, messages) needs read
access, ``write`` and either membership of the vendor organization (any role but
auditor) or the admin or coordinator role. Publishing an advisory needs the
admin or coordinator role and ``write``, and read access to the case.

Notifications: a webhook subscription or preference belongs to one user (and,
for an organization's subscription, that user's organization); its owner manages
it (``write``), and so may an admin; the owner and admins read it (``read``).
Configuring mail delivery (SMTP) needs the admin role and the ``admin`` scope.

Frontier model review: everything about a model under review (the model, its
inquiries, access grants and trusted-partner grants) is read by the developer
organization that owns it (its model developers; ``markings[0]`` names the
owner) and by cleared government roles (evaluator, determination authority,
admin) whose clearance admits the classification and compartments of every
marking in the chain; TLP is not what admits them, this rule is. Government work (designation
policies, recommendations, determinations) is owned by the government
organization, so a developer reads it only where a separate releasability
decision names its organization (``released_to``); a trusted partner reads its
own partner grant once both sides agreed (``released_to`` too). ``released_to``
narrows, never widens: it admits only a member of a named organization who
holds the model-developer or partner role and, for every marking in the chain
that its organization does not own, the clearance and compartments the marking
names (an UNCLASSIFIED vendor contact of the developer never reads a released
SECRET determination). Registering and
changing a model, opening inquiries, granting and withdrawing access need the
model-developer role in the owning organization and ``write``; accepting a
grant's terms needs a cleared government role and ``write``; using a granted
endpoint needs a cleared government role, ``read`` and the user on the grant's
need-to-know list (``need_to_know``); defining designation policies and applying
them needs the evaluator or determination-authority role and ``write``; recording
a determination and deciding its releasability need the determination-authority
role and ``write``; approving a trusted partner needs the developer's
model-developer role or, for the government, the determination-authority or
admin role (``write``). No action approves, blocks or delays a model's release.

Frontier evaluation (benchmark suites, their tasks, campaigns and results):
read by cleared government roles (evaluator, determination authority, admin)
whose clearance admits the classification and compartments of every marking in
the chain (a task's and its suite's; a result's and its campaign's); TLP does
not admit anyone here. Registering a suite needs the evaluator or admin role,
``write`` and clearance for the marking it declares; running a campaign needs
the evaluator role, ``write`` and clearance for every suite and task it runs
(the endpoint itself is opened under the frontier model review rules). A suite,
campaign or result a subject may not read is reported as missing.

Enforcement (AI-facilitated crime incidents, evidence, referral): an incident
is marked TLP:RED for the reporting organization. Reading it
(``incident.read``) needs ``read``, a clearance and compartments its markings
admit, and membership of the reporting organization, the law-enforcement
liaison role, or membership of a sharing group the marking names (those it was
shared with); staff roles alone do not admit. Its personal data (victim
contact, prompts and transcripts) and its evidence files (access and export)
are for the reporting organization and liaisons only; others who can read the
incident see the personal data redacted. Reporting one needs ``write``, a role
other than auditor and the subject's own organization as reporter (a liaison
may file for another organization). Adding evidence, transferring custody and
sharing the incident with a sharing group need ``write`` and either the
liaison role or membership of the reporting organization (not as auditor).
Moving the referral (review, referral to an office, closing) needs ``write``
and the liaison role.

Defensive-tool programs: a program is TLP:GREEN (every signed-in participant
may read it and apply); one that offers a model also lists, as ``any_of``, its
operator, the model's developer and the participant organizations the
developer consented to (each AMBER+STRICT, so staff read it too), which narrows
who sees it. Consenting to offer a model in an organization's programs
(``frontier.model.offer``) needs the model-developer role in the owning
organization and ``write``; creating and changing programs, deciding applications
and revoking grants need the admin or coordinator role and the ``admin``
scope. Applying needs ``write``, a role other than auditor and an
organization. Applications and grants are TLP:AMBER+STRICT for the applying
organization (it and staff read them); reporting usage on a grant needs
``write`` and membership of the grant's organization (not as auditor).

TAXII 2.1 server: a TAXII collection carries a marking and a list of writers
(organizations and sharing groups, ``Resource.writers``). Reading it and its
objects is ordinary read access; an object is read through its own marking
(the TLP of its ``object_marking_refs``, owned by the organization that sent
it) and the collection's, so the more restrictive wins. Adding objects
(``taxii.write``) needs ``write``, a role other than auditor, read access to
the collection and either a writer organization or sharing group, the owning
organization, or the admin or coordinator role; an object id belongs to the
organization that first wrote it, and no other (staff included) adds versions
of it (``sharing/taxii/services.py``). Deleting an object needs that
and ordinary delete rights on the object. Creating and changing collections
(``taxii.manage``) needs admin or coordinator and the ``admin`` scope. A
status resource (``taxii.status.read``) is read by whoever made the request,
or by an admin or coordinator who can read the collection.

Priority, matching and directives: a stored match (a case affecting a
component of an asset) is marked as its asset is, so the asset's owner and
staff read it. Recording a case's scores and SSVC inputs, and the time an agency
was notified of a match under BOD 26-04 (``priority.set``), needs read access to
the case (or match), the ``write`` scope and a staff role (admin, coordinator,
analyst). The priority queue (``queue.read``) is read by staff with ``read``.
The directive tracker (``directives.read``) is read by every signed-in user with
``read``; adding and editing directives (``directives.manage``) needs the admin
role and the ``admin`` scope.

Web console: a case's timeline (the ledger's events about the case and the
findings in it that the viewer may read, ``case.timeline``) is read by staff
(admin, coordinator, analyst) and auditors with ``read`` who can read the case.
The public transparency report is an ordinary read of a TLP:CLEAR resource: it
holds only aggregates (counts, medians, validity rates of pipelines with enough
decisions) and counts of published TLP:CLEAR records.

Exports and feeds (CSAF, OSV, CVE 5, STIX and OpenVEX exports, the OSV query
API, the CSAF provider directories): an advisory imported from a public
database is an ordinary read of a TLP:CLEAR resource (everyone, anonymous
callers included; a token needs ``read``). A case advisory is read only
through coordination, as an ordinary read of its published revision's
markings (the feeds show published revisions only; an export for review also
gives whoever reads the case its draft). One rule for revisions everywhere
(``/revisions``, the feeds, the review export, ``/coordination/advisory``): a
published revision is read only through its own marking, so a TLP:RED revision
that does not name the reader is hidden from it, staff included, and a draft
lists only the revisions its reader may read. The CSAF provider's ``green``,
``amber`` and ``red`` directories answer 401 to anonymous callers; inside them
each caller sees only the documents it may read, and a denied document is the
same 404 as a missing one.

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

from clearinghouse.access._subject import Role, Scope, Subject
from clearinghouse.domain import TLP, Marking

STAFF_READERS = frozenset({Role.ADMIN, Role.COORDINATOR, Role.ANALYST})
STAFF_UPDATERS = frozenset({Role.ADMIN, Role.COORDINATOR, Role.ANALYST})
STAFF_DELETERS = frozenset({Role.ADMIN, Role.COORDINATOR})
STAFF_CREATORS_FOR_OTHERS = frozenset({Role.ADMIN, Role.COORDINATOR})
GROUP_MANAGERS = frozenset({Role.ADMIN, Role.COORDINATOR})
AUDIT_READERS = frozenset({Role.ADMIN, Role.AUDITOR})
JOB_READERS = frozenset({Role.ADMIN, Role.COORDINATOR, Role.AUDITOR})
TRIAGERS = frozenset({Role.ADMIN, Role.COORDINATOR, Role.ANALYST})
REPUTATION_READERS = frozenset({Role.ADMIN, Role.COORDINATOR, Role.ANALYST, Role.AUDITOR})
# -- web console --
TIMELINE_READERS = frozenset({Role.ADMIN, Role.COORDINATOR, Role.ANALYST, Role.AUDITOR})
# -- end web console --
# -- enforcement and defensive-tool programs --
LIAISONS = frozenset({Role.LAW_ENFORCEMENT_LIAISON})
PROGRAM_MANAGERS = frozenset({Role.ADMIN, Role.COORDINATOR})
# -- end enforcement and programs --
# -- coordination (vendor threads, VEX, advisories) --
COORDINATORS = frozenset({Role.ADMIN, Role.COORDINATOR})
# -- end coordination --
# -- taxii --
TAXII_MANAGERS = frozenset({Role.ADMIN, Role.COORDINATOR})
# -- end taxii --
# -- priority, matching and directives --
PRIORITIZERS = frozenset({Role.ADMIN, Role.COORDINATOR, Role.ANALYST})
DIRECTIVE_MANAGERS = frozenset({Role.ADMIN})
# -- end priority, matching and directives --
# -- frontier model review --
FRONTIER_GOVERNMENT = frozenset({Role.EVALUATOR, Role.DETERMINATION_AUTHORITY, Role.ADMIN})
FRONTIER_POLICY_MAKERS = frozenset({Role.EVALUATOR, Role.DETERMINATION_AUTHORITY})
FRONTIER_DECIDERS = frozenset({Role.DETERMINATION_AUTHORITY})
FRONTIER_PARTNER_APPROVERS = frozenset({Role.DETERMINATION_AUTHORITY, Role.ADMIN})
# Who reads for an organization something was released to: its model developers
# (a determination released to the developer) and partners (an agreed partner grant).
RELEASE_READERS = frozenset({Role.MODEL_DEVELOPER, Role.PARTNER})
# -- end frontier model review --
# -- frontier evaluation --
EVAL_READERS = frozenset({Role.EVALUATOR, Role.DETERMINATION_AUTHORITY, Role.ADMIN})
SUITE_REGISTRARS = frozenset({Role.EVALUATOR, Role.ADMIN})
EVAL_RUNNERS = frozenset({Role.EVALUATOR})
# -- end frontier evaluation --


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
    # -- web console --
    READ_CASE_TIMELINE = "case.timeline"
    # -- end web console --
    # -- enforcement --
    REPORT_INCIDENT = "incident.report"
    READ_INCIDENT = "incident.read"
    READ_INCIDENT_PERSONAL = "incident.personal.read"
    REVIEW_INCIDENT = "incident.review"
    SHARE_INCIDENT = "incident.share"
    ADD_EVIDENCE = "evidence.add"
    ACCESS_EVIDENCE = "evidence.access"
    TRANSFER_EVIDENCE = "evidence.transfer"
    # -- programs --
    MANAGE_PROGRAMS = "program.manage"
    APPLY_TO_PROGRAM = "program.apply"
    REPORT_GRANT_USAGE = "grant.usage.report"
    # -- coordination (vendor threads, VEX, advisories) --
    COORDINATE = "coordination.manage"
    VENDOR_RESPOND = "coordination.respond"
    PUBLISH_ADVISORY = "advisory.publish"
    # -- notifications --
    MANAGE_SUBSCRIPTION = "notifications.subscription"
    READ_SUBSCRIPTION = "notifications.subscription.read"
    CONFIGURE_DELIVERY = "notifications.configure"
    # -- taxii --
    TAXII_WRITE = "taxii.write"
    TAXII_MANAGE = "taxii.manage"
    TAXII_READ_STATUS = "taxii.status.read"
    # -- priority, matching and directives --
    PRIORITIZE = "priority.set"
    READ_QUEUE = "queue.read"
    READ_DIRECTIVES = "directives.read"
    MANAGE_DIRECTIVES = "directives.manage"
    # -- frontier model review --
    READ_FRONTIER = "frontier.read"
    REGISTER_MODEL = "frontier.model.register"
    CONSENT_MODEL_OFFER = "frontier.model.offer"
    GRANT_ACCESS = "frontier.grant"
    ACCEPT_GRANT = "frontier.grant.accept"
    USE_ENDPOINT = "frontier.endpoint.use"
    DEFINE_POLICY = "frontier.policy.define"
    RECOMMEND = "frontier.recommend"
    DETERMINE = "frontier.determine"
    RELEASE_DETERMINATION = "frontier.determination.release"
    APPROVE_PARTNER = "frontier.partner.approve"
    # -- end frontier model review --
    # -- frontier evaluation --
    READ_EVALUATION = "eval.read"
    REGISTER_SUITE = "eval.suite.register"
    RUN_EVALUATION = "eval.campaign.run"
    # -- end frontier evaluation --
    # -- reproduction lab --
    REPRODUCE = "repro.run"
    READ_REPRODUCTIONS = "repro.read"
    # -- end reproduction lab --


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
    # -- frontier model review: organizations a separate releasability decision
    # released the object to; users on an access grant's need-to-know list --
    released_to: frozenset[str] = field(default_factory=frozenset)
    need_to_know: frozenset[str] = field(default_factory=frozenset)
    # -- taxii: organizations and sharing groups that may add to a collection --
    writers: frozenset[str] = field(default_factory=frozenset)

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

    def __init__(self, action: Action, kind: str, doing: str | None = None) -> None:
        # ``doing`` names what the caller tried where the action's name says too little
        # (withdrawing a grant is asked as ``frontier.grant``).
        super().__init__(f"not allowed to {doing or action.value} this {kind}")
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


# -- enforcement --


def _incident_readable(subject: Subject, resource: Resource) -> bool:
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


def _incident_insider(subject: Subject, resource: Resource) -> bool:
    """The reporting organization or a liaison (not those it was shared with)."""
    if not _incident_readable(subject, resource):
        return False
    reporter = resource.markings[0].owner_org_id
    own = subject.org_id is not None and subject.org_id == reporter
    return own or Role.LAW_ENFORCEMENT_LIAISON in subject.roles


def _can_report_incident(subject: Subject, resource: Resource) -> bool:
    if not subject.authenticated or Scope.WRITE not in subject.scopes or not resource.markings:
        return False
    if not subject.roles - {Role.AUDITOR}:
        return False
    marking = resource.markings[0]
    if subject.clearance.rank < marking.classification.rank:
        return False
    if not marking.compartments <= subject.compartments:
        return False
    own = subject.org_id is not None and subject.org_id == marking.owner_org_id
    return own or Role.LAW_ENFORCEMENT_LIAISON in subject.roles


# -- end enforcement --


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
    # -- reproduction lab --
    if action is Action.REPRODUCE:
        # Triagers of any organization that can read the finding, the submitter's included: running
        # a proof of concept in the sandbox judges nothing by itself.
        return _can_read(subject, resource) and _needs(subject, TRIAGERS, Scope.WRITE)
    if action is Action.READ_REPRODUCTIONS:
        return subject.authenticated and Scope.READ in subject.scopes and _can_read(subject, resource)
    # -- end reproduction lab --
    # -- taxii --
    if action is Action.TAXII_WRITE:
        if not subject.authenticated or Scope.WRITE not in subject.scopes or not _can_read(subject, resource):
            return False
        if not subject.roles - {Role.AUDITOR}:
            return False
        own_org = subject.org_id is not None and subject.org_id in resource.writers
        writer = own_org or bool(subject.sharing_group_ids & resource.writers)
        return writer or _owns(subject, resource) or bool(subject.roles & TAXII_MANAGERS)
    if action is Action.TAXII_MANAGE:
        return _needs(subject, TAXII_MANAGERS, Scope.ADMIN)
    if action is Action.TAXII_READ_STATUS:
        if not _can_read(subject, resource):
            return False
        mine = resource.owner_user_id is not None and resource.owner_user_id == subject.user_id
        return mine or bool(subject.roles & TAXII_MANAGERS)
    # -- end taxii --
    # -- coordination (vendor threads, VEX, advisories) --
    if action in (Action.COORDINATE, Action.PUBLISH_ADVISORY):
        return _can_read(subject, resource) and _needs(subject, COORDINATORS, Scope.WRITE)
    if action is Action.VENDOR_RESPOND:
        if not subject.authenticated or Scope.WRITE not in subject.scopes or not _can_read(subject, resource):
            return False
        return _owns(subject, resource) or bool(subject.roles & COORDINATORS)
    # -- notifications --
    if action is Action.MANAGE_SUBSCRIPTION:
        if not subject.authenticated or Scope.WRITE not in subject.scopes:
            return False
        if Role.ADMIN in subject.roles:
            return True
        return resource.owner_user_id is not None and resource.owner_user_id == subject.user_id
    if action is Action.READ_SUBSCRIPTION:
        if not subject.authenticated or Scope.READ not in subject.scopes:
            return False
        mine = resource.owner_user_id is not None and resource.owner_user_id == subject.user_id
        return mine or Role.ADMIN in subject.roles
    if action is Action.CONFIGURE_DELIVERY:
        return _needs(subject, frozenset({Role.ADMIN}), Scope.ADMIN)
    # -- end notifications --
    # -- frontier model review --
    if action is Action.READ_FRONTIER:
        return _frontier_read(subject, resource)
    if action in (Action.REGISTER_MODEL, Action.GRANT_ACCESS, Action.CONSENT_MODEL_OFFER):
        return _frontier_developer(subject, resource)
    if action is Action.ACCEPT_GRANT:
        return _frontier_cleared(subject, resource, FRONTIER_GOVERNMENT, Scope.WRITE)
    if action is Action.USE_ENDPOINT:
        on_list = subject.user_id is not None and subject.user_id in resource.need_to_know
        return on_list and _frontier_cleared(subject, resource, FRONTIER_GOVERNMENT, Scope.READ)
    if action in (Action.DEFINE_POLICY, Action.RECOMMEND):
        return _frontier_cleared(subject, resource, FRONTIER_POLICY_MAKERS, Scope.WRITE)
    if action in (Action.DETERMINE, Action.RELEASE_DETERMINATION):
        return _frontier_cleared(subject, resource, FRONTIER_DECIDERS, Scope.WRITE)
    if action is Action.APPROVE_PARTNER:
        return _frontier_developer(subject, resource) or _frontier_cleared(
            subject, resource, FRONTIER_PARTNER_APPROVERS, Scope.WRITE
        )
    # -- end frontier model review --
    # -- frontier evaluation --
    if action is Action.READ_EVALUATION:
        return _frontier_cleared(subject, resource, EVAL_READERS, Scope.READ)
    if action is Action.REGISTER_SUITE:
        return _frontier_cleared(subject, resource, SUITE_REGISTRARS, Scope.WRITE)
    if action is Action.RUN_EVALUATION:
        return _frontier_cleared(subject, resource, EVAL_RUNNERS, Scope.WRITE)
    # -- end frontier evaluation --
    # -- enforcement --
    if action is Action.READ_INCIDENT:
        return _incident_readable(subject, resource)
    if action in (Action.READ_INCIDENT_PERSONAL, Action.ACCESS_EVIDENCE):
        return _incident_insider(subject, resource)
    if action in (Action.ADD_EVIDENCE, Action.TRANSFER_EVIDENCE, Action.SHARE_INCIDENT):
        return (
            _incident_insider(subject, resource)
            and Scope.WRITE in subject.scopes
            and bool(subject.roles - {Role.AUDITOR})
        )
    if action is Action.REVIEW_INCIDENT:
        return _incident_readable(subject, resource) and _needs(subject, LIAISONS, Scope.WRITE)
    if action is Action.REPORT_INCIDENT:
        return _can_report_incident(subject, resource)
    # -- programs --
    if action is Action.MANAGE_PROGRAMS:
        return _needs(subject, PROGRAM_MANAGERS, Scope.ADMIN)
    if action is Action.APPLY_TO_PROGRAM:
        return (
            subject.org_id is not None
            and Scope.WRITE in subject.scopes
            and bool(subject.roles - {Role.AUDITOR})
            and _can_read(subject, resource)
        )
    if action is Action.REPORT_GRANT_USAGE:
        return Scope.WRITE in subject.scopes and _can_read(subject, resource) and _owns(subject, resource)
    # -- end enforcement and programs --
    # -- priority, matching and directives --
    if action is Action.PRIORITIZE:
        return _can_read(subject, resource) and _needs(subject, PRIORITIZERS, Scope.WRITE)
    if action is Action.READ_QUEUE:
        return _needs(subject, PRIORITIZERS, Scope.READ)
    if action is Action.READ_DIRECTIVES:
        return subject.authenticated and Scope.READ in subject.scopes
    if action is Action.MANAGE_DIRECTIVES:
        return _needs(subject, DIRECTIVE_MANAGERS, Scope.ADMIN)
    # -- end priority, matching and directives --
    # -- web console --
    if action is Action.READ_CASE_TIMELINE:
        return _can_read(subject, resource) and _needs(subject, TIMELINE_READERS, Scope.READ)
    # -- end web console --
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


# -- frontier model review --
def _frontier_cleared(subject: Subject, resource: Resource, roles: frozenset[Role], scope: Scope) -> bool:
    """A government role of ``roles`` cleared for every marking's level and compartments."""
    if not resource.markings or not _needs(subject, roles, scope) or Scope.READ not in subject.scopes:
        return False
    return all(
        subject.clearance.rank >= m.classification.rank and m.compartments <= subject.compartments
        for m in resource.markings
    )


def _frontier_read(subject: Subject, resource: Resource) -> bool:
    if not resource.markings or not subject.authenticated or Scope.READ not in subject.scopes:
        return False
    developer = Role.MODEL_DEVELOPER in subject.roles
    if developer and subject.org_id is not None and subject.org_id == resource.markings[0].owner_org_id:
        return True
    if _released_reader(subject, resource):
        return True
    return _frontier_cleared(subject, resource, FRONTIER_GOVERNMENT, Scope.READ)


def _released_reader(subject: Subject, resource: Resource) -> bool:
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


def _frontier_developer(subject: Subject, resource: Resource) -> bool:
    """The owning developer organization's model developer, with ``write``."""
    owner = resource.markings[0].owner_org_id if resource.markings else None
    return (
        _needs(subject, frozenset({Role.MODEL_DEVELOPER}), Scope.WRITE)
        and owner is not None
        and subject.org_id == owner
    )


# -- end frontier model review --


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
