"""What the policy decides about: the actions (:class:`Action`) and what each is about (:class:`Resource`)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from clearinghouse.access._subject import Scope
from clearinghouse.domain import Marking


class Action(enum.StrEnum):
    """Every action the policy decides; each has exactly one rule (``access/_rules``)."""

    # objects and the platform
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
    LOAD_REFERENCE_DATA = "reference.load"
    # triage
    TRIAGE = "triage"
    READ_REPUTATION = "reputation.read"
    # web console
    READ_CASE_TIMELINE = "case.timeline"
    # enforcement
    REPORT_INCIDENT = "incident.report"
    READ_INCIDENT = "incident.read"
    READ_INCIDENT_PERSONAL = "incident.personal.read"
    REVIEW_INCIDENT = "incident.review"
    SHARE_INCIDENT = "incident.share"
    ADD_EVIDENCE = "evidence.add"
    ACCESS_EVIDENCE = "evidence.access"
    TRANSFER_EVIDENCE = "evidence.transfer"
    # defensive-tool programs
    MANAGE_PROGRAMS = "program.manage"
    APPLY_TO_PROGRAM = "program.apply"
    REPORT_GRANT_USAGE = "grant.usage.report"
    # coordination (vendor threads, VEX, advisories)
    COORDINATE = "coordination.manage"
    VENDOR_RESPOND = "coordination.respond"
    PUBLISH_ADVISORY = "advisory.publish"
    # notifications
    MANAGE_SUBSCRIPTION = "notifications.subscription"
    READ_SUBSCRIPTION = "notifications.subscription.read"
    CONFIGURE_DELIVERY = "notifications.configure"
    # TAXII
    TAXII_WRITE = "taxii.write"
    TAXII_MANAGE = "taxii.manage"
    TAXII_READ_STATUS = "taxii.status.read"
    # priority, matching and directives
    PRIORITIZE = "priority.set"
    READ_QUEUE = "queue.read"
    READ_DIRECTIVES = "directives.read"
    MANAGE_DIRECTIVES = "directives.manage"
    # frontier model review
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
    # frontier evaluation
    READ_EVALUATION = "eval.read"
    REGISTER_SUITE = "eval.suite.register"
    RUN_EVALUATION = "eval.campaign.run"
    # reproduction lab
    REPRODUCE = "repro.run"
    READ_REPRODUCTIONS = "repro.read"


@dataclass(frozen=True)
class Resource:
    """What an action is about.

    ``markings`` holds the object's own marking first, then its containers'.
    ``owner_user_id`` names the user a personal resource (a token) belongs to.
    ``scopes`` are the scopes a token being created would carry.
    ``any_of`` holds markings of which at least one must admit the subject, for
    a record shared between parties (the overlap of two scan campaigns).
    ``released_to`` (frontier model review) names organizations a separate
    releasability decision released the object to; ``need_to_know`` the users on
    an access grant's need-to-know list; ``writers`` (TAXII) the organizations and
    sharing groups that may add to a collection.
    """

    kind: str
    id: str | None = None
    markings: tuple[Marking, ...] = ()
    owner_user_id: str | None = None
    scopes: frozenset[Scope] = field(default_factory=frozenset)
    any_of: tuple[Marking, ...] = ()
    released_to: frozenset[str] = field(default_factory=frozenset)
    need_to_know: frozenset[str] = field(default_factory=frozenset)
    writers: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def marked(cls, kind: str, id: str | None, *markings: Marking) -> Resource:
        return cls(kind=kind, id=id, markings=tuple(markings))


PLATFORM = Resource(kind="platform")
