"""Frontier model review.

Everything about a model under review (the model, its inquiries, access grants
and trusted-partner grants) is read by the developer organization that owns it
(its model developers; ``markings[0]`` names the owner) and by cleared
government roles (evaluator, determination authority, admin) whose clearance
admits the classification and compartments of every marking in the chain; TLP
is not what admits them, this rule is. Government work (designation policies,
recommendations, determinations) is owned by the government organization, so a
developer reads it only where a separate releasability decision names its
organization (``released_to``); a trusted partner reads its own partner grant
once both sides agreed (``released_to`` too). ``released_to`` narrows, never
widens: it admits only a member of a named organization who holds the
model-developer or partner role and, for every marking in the chain that its
organization does not own, the clearance and compartments the marking names (an
UNCLASSIFIED vendor contact of the developer never reads a released SECRET
determination). No action approves, blocks or delays a model's release. A cleared
government role's writes below also need the ``read`` scope.
"""

from __future__ import annotations

from clearinghouse.access._actions import Action, Resource
from clearinghouse.access._predicates import (
    FRONTIER_DECIDERS,
    FRONTIER_GOVERNMENT,
    FRONTIER_PARTNER_APPROVERS,
    FRONTIER_POLICY_MAKERS,
    frontier_cleared,
    frontier_developer,
    released_reader,
)
from clearinghouse.access._rules._rule import Rule
from clearinghouse.access._subject import Role, Scope, Subject


def _read(subject: Subject, resource: Resource) -> bool:
    if not resource.markings or not subject.authenticated or Scope.READ not in subject.scopes:
        return False
    developer = Role.MODEL_DEVELOPER in subject.roles
    if developer and subject.org_id is not None and subject.org_id == resource.markings[0].owner_org_id:
        return True
    if released_reader(subject, resource):
        return True
    return frontier_cleared(subject, resource, FRONTIER_GOVERNMENT, Scope.READ)


def _use_endpoint(subject: Subject, resource: Resource) -> bool:
    on_list = subject.user_id is not None and subject.user_id in resource.need_to_know
    return on_list and frontier_cleared(subject, resource, FRONTIER_GOVERNMENT, Scope.READ)


def _approve_partner(subject: Subject, resource: Resource) -> bool:
    return frontier_developer(subject, resource) or frontier_cleared(
        subject, resource, FRONTIER_PARTNER_APPROVERS, Scope.WRITE
    )


RULES = (
    Rule(
        Action.READ_FRONTIER,
        "Read by the owning developer organization's model developers, by an organization it "
        "was released to (its model developers and partners, cleared for every marking it does "
        "not own), and by cleared government roles (evaluator, determination authority, admin), "
        "all with `read`.",
        _read,
    ),
    Rule(
        Action.REGISTER_MODEL,
        "Registering and changing a model and opening inquiries need the model-developer role "
        "in the owning organization and `write`.",
        frontier_developer,
    ),
    Rule(
        Action.CONSENT_MODEL_OFFER,
        "Consenting to offer a model in an organization's programs needs the model-developer "
        "role in the owning organization and `write`.",
        frontier_developer,
    ),
    Rule(
        Action.GRANT_ACCESS,
        "Granting and withdrawing access to a model need the model-developer role in the "
        "owning organization and `write`.",
        frontier_developer,
    ),
    Rule(
        Action.ACCEPT_GRANT,
        "Accepting a grant's terms needs a cleared government role (evaluator, determination "
        "authority, admin) and `write`.",
        lambda s, r: frontier_cleared(s, r, FRONTIER_GOVERNMENT, Scope.WRITE),
    ),
    Rule(
        Action.USE_ENDPOINT,
        "Using a granted endpoint needs a cleared government role, `read` and the user on the "
        "grant's need-to-know list.",
        _use_endpoint,
    ),
    Rule(
        Action.DEFINE_POLICY,
        "Defining designation policies needs a cleared evaluator or determination-authority "
        "role and `write`.",
        lambda s, r: frontier_cleared(s, r, FRONTIER_POLICY_MAKERS, Scope.WRITE),
    ),
    Rule(
        Action.RECOMMEND,
        "Applying designation policies (a recommendation) needs a cleared evaluator or "
        "determination-authority role and `write`.",
        lambda s, r: frontier_cleared(s, r, FRONTIER_POLICY_MAKERS, Scope.WRITE),
    ),
    Rule(
        Action.DETERMINE,
        "Recording a determination needs a cleared determination-authority role and `write`.",
        lambda s, r: frontier_cleared(s, r, FRONTIER_DECIDERS, Scope.WRITE),
    ),
    Rule(
        Action.RELEASE_DETERMINATION,
        "Deciding a determination's releasability needs a cleared determination-authority role and `write`.",
        lambda s, r: frontier_cleared(s, r, FRONTIER_DECIDERS, Scope.WRITE),
    ),
    Rule(
        Action.APPROVE_PARTNER,
        "Approving a trusted partner needs the developer's model-developer role or, for the "
        "government, a cleared determination-authority or admin role, with `write`.",
        _approve_partner,
    ),
)
