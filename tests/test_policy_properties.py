"""Property tests of the access policy against an independently written model.

The reference model below is written from the English rules in the docstring
of :mod:`clearinghouse.access._policy` only; it deliberately shares no code
with the policy (no private helpers, no ``rank`` properties) and is written
as explicit tables so that a mistake in one is unlikely to be repeated in the
other.

Interpretations the docstring leaves open, and which the model settles:

* "the token used carries the read scope": an anonymous subject uses no token,
  so the scope condition applies to signed-in subjects only;
* "read access to the proposed marking" when creating: the resource's own
  marking and every container marking it is created under;
* "membership of the owning organization (any role but auditor)": the
  subject's organization owns the object's own (first) marking and the
  subject holds at least one role that is not auditor;
* "an admin may [create tokens] for anyone": an admin still needs the
  ``admin`` scope, but is not limited to the scopes of the token used;
* revoking another user's token is not mentioned; the model grants it to an
  admin using the ``admin`` scope (it is "managing users");
* a shared record (``any_of`` only, no ``markings``) has no owning
  organization, so only staff roles may change it and nobody may create it;
* "a subject of another organization than the one that submitted it"
  (triage): the submitting organization is the owner of the finding's own
  (first) marking; a subject with no organization is of another one.

The model is only applied to resources with at least one marking (in
``markings`` or ``any_of``), or to platform and token actions, whose rules do
not look at markings: the docstring says nothing about reading or changing an
object that carries no marking at all.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clearinghouse.access import (
    ALL_SCOPES,
    ANONYMOUS,
    TLP,
    Action,
    Classification,
    Forbidden,
    Marking,
    NotFound,
    Resource,
    Role,
    Scope,
    Subject,
    authorize,
    can,
    visible,
)
from tests.test_enforcement_policy import REFERENCE as ENFORCEMENT_REFERENCE
from tests.test_frontier_policy import _government as frontier_government
from tests.test_frontier_policy import reference as frontier_reference

# ---------------------------------------------------------------------------
# Small pools, so that organizations, groups and compartments collide often.

ORGS = ["org-a", "org-b", "org-c"]
USERS = ["user-1", "user-2", "user-3"]
COMPARTMENTS = ["HCS", "SI", "TK"]
GROUPS = ["grp-x", "grp-y", "grp-z"]
KINDS = ["report", "finding", "bulletin", "campaign_conflict"]

# ---------------------------------------------------------------------------
# Reference model.

# Lowest to highest, spelled out rather than taken from the enum.
CLASSIFICATION_LADDER = ["UNCLASSIFIED", "CUI", "SECRET", "TOP SECRET"]

# Clearinghouse staff who receive AMBER / AMBER+STRICT on the community's behalf.
STAFF_READER_ROLES = {Role.ADMIN, Role.COORDINATOR, Role.ANALYST}

# (role, action) pairs a staff member holds on objects of any organization.
STAFF_CHANGE_GRANTS = {
    (Role.ADMIN, Action.UPDATE),
    (Role.ADMIN, Action.DELETE),
    (Role.COORDINATOR, Action.UPDATE),
    (Role.COORDINATOR, Action.DELETE),
    (Role.ANALYST, Action.UPDATE),
}

# Roles that may create objects owned by an organization other than their own.
CREATE_FOR_OTHERS_ROLES = {Role.ADMIN, Role.COORDINATOR}

# Platform action -> (roles, any one of which suffices; scope the token must carry).
PLATFORM_RULES: dict[Action, tuple[set[Role], Scope]] = {
    Action.MANAGE_ORGS: ({Role.ADMIN}, Scope.ADMIN),
    Action.MANAGE_USERS: ({Role.ADMIN}, Scope.ADMIN),
    Action.MANAGE_GROUPS: ({Role.ADMIN, Role.COORDINATOR}, Scope.ADMIN),
    Action.READ_AUDIT: ({Role.ADMIN, Role.AUDITOR}, Scope.READ),
    Action.VERIFY_AUDIT: ({Role.ADMIN, Role.AUDITOR}, Scope.READ),
    Action.READ_JOBS: ({Role.ADMIN, Role.COORDINATOR, Role.AUDITOR}, Scope.READ),
    Action.READ_REPUTATION: ({Role.ADMIN, Role.COORDINATOR, Role.ANALYST, Role.AUDITOR}, Scope.READ),
    Action.LOAD_REFERENCE_DATA: ({Role.ADMIN, Role.COORDINATOR}, Scope.ADMIN),
    Action.CONFIGURE_DELIVERY: ({Role.ADMIN}, Scope.ADMIN),
    Action.TAXII_MANAGE: ({Role.ADMIN, Role.COORDINATOR}, Scope.ADMIN),
    Action.READ_QUEUE: ({Role.ADMIN, Role.COORDINATOR, Role.ANALYST}, Scope.READ),
    Action.MANAGE_DIRECTIVES: ({Role.ADMIN}, Scope.ADMIN),
    Action.MANAGE_PROGRAMS: ({Role.ADMIN, Role.COORDINATOR}, Scope.ADMIN),
}

# Who decides on findings (validates or rejects them).
TRIAGE_ROLES = {Role.ADMIN, Role.COORDINATOR, Role.ANALYST}


def _signed_in(s: Subject) -> bool:
    return s.user_id is not None


def _in_owning_org(s: Subject, m: Marking) -> bool:
    return s.org_id is not None and s.org_id == m.owner_org_id


def _named_recipient(s: Subject, m: Marking) -> bool:
    return any(group in s.sharing_group_ids for group in m.sharing_group_ids)


def _is_staff(s: Subject) -> bool:
    return any(role in STAFF_READER_ROLES for role in s.roles)


TLP_ADMITS: dict[TLP, Callable[[Subject, Marking], bool]] = {
    TLP.CLEAR: lambda s, m: True,
    TLP.GREEN: lambda s, m: _signed_in(s),
    TLP.AMBER: lambda s, m: (
        _signed_in(s) and (_in_owning_org(s, m) or _named_recipient(s, m) or _is_staff(s))
    ),
    TLP.AMBER_STRICT: lambda s, m: _signed_in(s) and (_in_owning_org(s, m) or _is_staff(s)),
    TLP.RED: lambda s, m: _signed_in(s) and (_in_owning_org(s, m) or _named_recipient(s, m)),
}


def ref_marking_admits(s: Subject, m: Marking) -> bool:
    cleared = CLASSIFICATION_LADDER.index(s.clearance.value) >= CLASSIFICATION_LADDER.index(
        m.classification.value
    )
    holds_compartments = all(c in s.compartments for c in m.compartments)
    return cleared and holds_compartments and TLP_ADMITS[m.tlp](s, m)


def ref_read(s: Subject, r: Resource) -> bool:
    token_ok = (not _signed_in(s)) or (Scope.READ in s.scopes)
    every_marking = all(ref_marking_admits(s, m) for m in r.markings)
    # A shared record: one of its parties' markings must admit (none listed: no condition).
    some_party = len(r.any_of) == 0 or any(ref_marking_admits(s, m) for m in r.any_of)
    return token_ok and every_marking and some_party


def _owning_org(r: Resource) -> str | None:
    return r.markings[0].owner_org_id if r.markings else None


def _has_non_auditor_role(s: Subject) -> bool:
    return any(role != Role.AUDITOR for role in s.roles)


def ref_change(s: Subject, action: Action, r: Resource) -> bool:
    if not _signed_in(s) or Scope.WRITE not in s.scopes or not ref_read(s, r):
        return False
    member = s.org_id is not None and s.org_id == _owning_org(r) and _has_non_auditor_role(s)
    staff = any((role, action) in STAFF_CHANGE_GRANTS for role in s.roles)
    return member or staff


def ref_create(s: Subject, r: Resource) -> bool:
    if not _signed_in(s) or Scope.WRITE not in s.scopes:
        return False
    if not _has_non_auditor_role(s) or not r.markings or not ref_read(s, r):
        return False
    own_org = _owning_org(r) == s.org_id
    return own_org or any(role in CREATE_FOR_OTHERS_ROLES for role in s.roles)


def ref_platform(s: Subject, action: Action, r: Resource) -> bool:
    roles, scope = PLATFORM_RULES[action]
    return _signed_in(s) and scope in s.scopes and any(role in roles for role in s.roles)


def _is_submitter(s: Subject, r: Resource) -> bool:
    # The submitting organization owns the finding's own marking; a record with no own
    # marking has no submitter, and a subject with no organization is nobody's submitter.
    submitter = _owning_org(r)
    return submitter is not None and s.org_id is not None and s.org_id == submitter


def ref_triage(s: Subject, r: Resource) -> bool:
    return (
        _signed_in(s)
        and not _is_submitter(s, r)
        and ref_read(s, r)
        and Scope.WRITE in s.scopes
        and any(role in TRIAGE_ROLES for role in s.roles)
    )


def ref_create_token(s: Subject, r: Resource) -> bool:
    if not _signed_in(s) or Scope.ADMIN not in s.scopes:
        return False
    if Role.ADMIN in s.roles:
        return True
    return r.owner_user_id == s.user_id and all(scope in s.scopes for scope in r.scopes)


def ref_revoke_token(s: Subject, r: Resource) -> bool:
    if not _signed_in(s):
        return False
    return r.owner_user_id == s.user_id or (Role.ADMIN in s.roles and Scope.ADMIN in s.scopes)


# ---------------------------------------------------------------------------
# The features' rules, each written from its paragraph of the policy docstring.
# Frontier review and enforcement keep their own reference models beside their
# own property tests; they are reused here so that every action is covered.

COORDINATOR_ROLES = {Role.ADMIN, Role.COORDINATOR}
PRIORITIZER_ROLES = {Role.ADMIN, Role.COORDINATOR, Role.ANALYST}
TIMELINE_ROLES = {Role.ADMIN, Role.COORDINATOR, Role.ANALYST, Role.AUDITOR}


def ref_read_marked(s: Subject, r: Resource) -> bool:
    # An object nobody marked is nobody's to read (fail closed).
    return bool(r.markings or r.any_of) and ref_read(s, r)


def _holds(s: Subject, roles: set[Role], scope: Scope) -> bool:
    return _signed_in(s) and scope in s.scopes and any(role in roles for role in s.roles)


def _member(s: Subject, r: Resource) -> bool:
    return s.org_id is not None and s.org_id == _owning_org(r) and _has_non_auditor_role(s)


def ref_coordinate(s: Subject, a: Action, r: Resource) -> bool:
    return ref_read_marked(s, r) and _holds(s, COORDINATOR_ROLES, Scope.WRITE)


def ref_vendor_respond(s: Subject, a: Action, r: Resource) -> bool:
    if not _signed_in(s) or Scope.WRITE not in s.scopes or not ref_read_marked(s, r):
        return False
    return _member(s, r) or any(role in COORDINATOR_ROLES for role in s.roles)


def ref_manage_subscription(s: Subject, a: Action, r: Resource) -> bool:
    if not _signed_in(s) or Scope.WRITE not in s.scopes:
        return False
    return Role.ADMIN in s.roles or (r.owner_user_id is not None and r.owner_user_id == s.user_id)


def ref_read_subscription(s: Subject, a: Action, r: Resource) -> bool:
    if not _signed_in(s) or Scope.READ not in s.scopes:
        return False
    return Role.ADMIN in s.roles or (r.owner_user_id is not None and r.owner_user_id == s.user_id)


def ref_taxii_write(s: Subject, a: Action, r: Resource) -> bool:
    if not _signed_in(s) or Scope.WRITE not in s.scopes or not ref_read_marked(s, r):
        return False
    if not _has_non_auditor_role(s):
        return False
    writer = (s.org_id is not None and s.org_id in r.writers) or any(
        g in r.writers for g in s.sharing_group_ids
    )
    return writer or _member(s, r) or any(role in COORDINATOR_ROLES for role in s.roles)


def ref_taxii_status(s: Subject, a: Action, r: Resource) -> bool:
    if not ref_read_marked(s, r):
        return False
    mine = r.owner_user_id is not None and r.owner_user_id == s.user_id
    return mine or any(role in COORDINATOR_ROLES for role in s.roles)


def ref_prioritize(s: Subject, a: Action, r: Resource) -> bool:
    return ref_read_marked(s, r) and _holds(s, PRIORITIZER_ROLES, Scope.WRITE)


def ref_read_directives(s: Subject, a: Action, r: Resource) -> bool:
    return _signed_in(s) and Scope.READ in s.scopes


def ref_timeline(s: Subject, a: Action, r: Resource) -> bool:
    return ref_read_marked(s, r) and _holds(s, TIMELINE_ROLES, Scope.READ)


def ref_apply_to_program(s: Subject, a: Action, r: Resource) -> bool:
    return (
        s.org_id is not None
        and Scope.WRITE in s.scopes
        and _has_non_auditor_role(s)
        and ref_read_marked(s, r)
    )


def ref_report_grant_usage(s: Subject, a: Action, r: Resource) -> bool:
    return Scope.WRITE in s.scopes and ref_read_marked(s, r) and _member(s, r)


def ref_evaluation(roles: set[Role], scope: Scope) -> Callable[[Subject, Action, Resource], bool]:
    return lambda s, a, r: frontier_government(s, r, roles, scope)


def ref_reproduce(s: Subject, a: Action, r: Resource) -> bool:
    # Running a finding's proof of concept in the sandbox judges nothing: any triager who can read
    # the finding may, its submitter's organization included.
    return ref_read_marked(s, r) and _holds(s, TRIAGE_ROLES, Scope.WRITE)


def ref_read_reproductions(s: Subject, a: Action, r: Resource) -> bool:
    return _signed_in(s) and Scope.READ in s.scopes and ref_read_marked(s, r)


def ref_enforcement(
    check: Callable[[Subject, Resource], bool],
) -> Callable[[Subject, Action, Resource], bool]:
    return lambda s, a, r: check(s, r)


REFERENCE: dict[Action, Callable[[Subject, Action, Resource], bool]] = {
    Action.READ: lambda s, a, r: ref_read(s, r),
    Action.CREATE: lambda s, a, r: ref_create(s, r),
    Action.UPDATE: ref_change,
    Action.DELETE: ref_change,
    Action.MANAGE_ORGS: ref_platform,
    Action.MANAGE_USERS: ref_platform,
    Action.MANAGE_GROUPS: ref_platform,
    Action.READ_AUDIT: ref_platform,
    Action.VERIFY_AUDIT: ref_platform,
    Action.READ_JOBS: ref_platform,
    Action.READ_REPUTATION: ref_platform,
    Action.LOAD_REFERENCE_DATA: ref_platform,
    Action.TRIAGE: lambda s, a, r: ref_triage(s, r),
    Action.CREATE_TOKEN: lambda s, a, r: ref_create_token(s, r),
    Action.REVOKE_TOKEN: lambda s, a, r: ref_revoke_token(s, r),
    Action.COORDINATE: ref_coordinate,
    Action.PUBLISH_ADVISORY: ref_coordinate,
    Action.VENDOR_RESPOND: ref_vendor_respond,
    Action.MANAGE_SUBSCRIPTION: ref_manage_subscription,
    Action.READ_SUBSCRIPTION: ref_read_subscription,
    Action.CONFIGURE_DELIVERY: ref_platform,
    Action.TAXII_WRITE: ref_taxii_write,
    Action.TAXII_MANAGE: ref_platform,
    Action.TAXII_READ_STATUS: ref_taxii_status,
    Action.PRIORITIZE: ref_prioritize,
    Action.READ_QUEUE: ref_platform,
    Action.READ_DIRECTIVES: ref_read_directives,
    Action.MANAGE_DIRECTIVES: ref_platform,
    Action.READ_CASE_TIMELINE: ref_timeline,
    Action.MANAGE_PROGRAMS: ref_platform,
    Action.APPLY_TO_PROGRAM: ref_apply_to_program,
    Action.REPORT_GRANT_USAGE: ref_report_grant_usage,
    Action.READ_EVALUATION: ref_evaluation(
        {Role.EVALUATOR, Role.DETERMINATION_AUTHORITY, Role.ADMIN}, Scope.READ
    ),
    Action.REGISTER_SUITE: ref_evaluation({Role.EVALUATOR, Role.ADMIN}, Scope.WRITE),
    Action.RUN_EVALUATION: ref_evaluation({Role.EVALUATOR}, Scope.WRITE),
    Action.REPRODUCE: ref_reproduce,
    Action.READ_REPRODUCTIONS: ref_read_reproductions,
    **{action: ref_enforcement(check) for action, check in ENFORCEMENT_REFERENCE.items()},
    **{action: frontier_reference for action in Action if action.value.startswith("frontier.")},
}

# Actions on a marked object; the others' rules do not look at markings.
OBJECT_ACTIONS = [
    Action.READ,
    Action.CREATE,
    Action.UPDATE,
    Action.DELETE,
    Action.TRIAGE,
    Action.COORDINATE,
    Action.PUBLISH_ADVISORY,
    Action.VENDOR_RESPOND,
    Action.TAXII_WRITE,
    Action.PRIORITIZE,
    Action.READ_CASE_TIMELINE,
]
MARKING_FREE_ACTIONS = [a for a in Action if a not in OBJECT_ACTIONS]


def test_reference_covers_every_action() -> None:
    assert set(REFERENCE) == set(Action)


# ---------------------------------------------------------------------------
# Strategies.


def _subsets(pool: list[str] | type[Any], max_size: int | None = None) -> st.SearchStrategy[frozenset[Any]]:
    return st.frozensets(st.sampled_from(pool), max_size=max_size)


def _often_empty(pool: list[str]) -> st.SearchStrategy[frozenset[Any]]:
    # Half of all markings name no compartment/group, so that more objects are readable at all.
    return st.one_of(st.just(frozenset()), _subsets(pool))


signed_in_subjects = st.builds(
    Subject,
    user_id=st.sampled_from(USERS),
    org_id=st.sampled_from([*ORGS, None]),
    roles=_subsets(Role, max_size=3),
    clearance=st.sampled_from(Classification),
    compartments=_subsets(COMPARTMENTS),
    sharing_group_ids=_subsets(GROUPS),
    scopes=_subsets(Scope),
)

# Anonymous subjects are only ever ANONYMOUS in the application (services build
# every other Subject from a user), so that is the anonymous case drawn here.
# Drawn one time in four: anonymous subjects can do little, so most draws are spent elsewhere.
subjects = st.one_of(st.just(ANONYMOUS), signed_in_subjects, signed_in_subjects, signed_in_subjects)

markings = st.builds(
    Marking,
    owner_org_id=st.sampled_from(ORGS),
    tlp=st.sampled_from(TLP),
    classification=st.sampled_from(Classification),
    compartments=_often_empty(COMPARTMENTS),
    sharing_group_ids=_often_empty(GROUPS),
)

_object_resources = st.builds(
    Resource,
    kind=st.sampled_from(KINDS),
    id=st.one_of(st.none(), st.sampled_from(["obj-1", "obj-2"])),
    markings=st.lists(markings, min_size=1, max_size=3).map(tuple),
    owner_user_id=st.one_of(st.none(), st.sampled_from(USERS)),
    scopes=_subsets(Scope),
    any_of=st.one_of(st.just(()), st.lists(markings, min_size=1, max_size=2).map(tuple)),
)

# Records shared between parties (an overlap of two scan campaigns): any_of only.
_shared_records = st.builds(
    Resource,
    kind=st.just("campaign_conflict"),
    id=st.one_of(st.none(), st.just("conflict-1")),
    any_of=st.lists(markings, min_size=1, max_size=2).map(tuple),
)

# Everything that carries at least one marking; one draw in four is a shared record.
marked_resources = st.one_of(_object_resources, _object_resources, _object_resources, _shared_records)

# Tokens (and the platform) carry no markings.
token_resources = st.builds(
    Resource,
    kind=st.just("api_token"),
    id=st.one_of(st.none(), st.just("tok-1")),
    owner_user_id=st.one_of(st.none(), st.sampled_from(USERS)),
    scopes=_subsets(Scope),
)

actions = st.sampled_from(Action)


# ---------------------------------------------------------------------------
# (a) the policy agrees with the reference model.


@settings(max_examples=500)
@given(subject=subjects, resource=marked_resources)
def test_can_matches_reference_for_every_action(subject: Subject, resource: Resource) -> None:
    for action in Action:
        expected = REFERENCE[action](subject, action, resource)
        assert can(subject, action, resource) is expected, action


@settings(max_examples=250)
@given(subject=subjects, resource=token_resources, action=st.sampled_from(MARKING_FREE_ACTIONS))
def test_platform_and_token_actions_match_reference(
    subject: Subject, resource: Resource, action: Action
) -> None:
    assert can(subject, action, resource) is REFERENCE[action](subject, action, resource)


# Random draws rarely hit narrow corners (an analyst of another organization
# with read and write scopes deleting an object it can read, say), so the
# role x scope x organization x TLP lattice is also walked in full.

ROLE_SETS = [frozenset(c) for n in range(3) for c in itertools.combinations(Role, n)]
SCOPE_SETS = [frozenset(c) for n in range(4) for c in itertools.combinations(Scope, n)]


def test_can_matches_reference_on_the_whole_role_scope_tlp_lattice() -> None:
    mismatches = []
    for roles, scopes, org, groups, tlp in itertools.product(
        ROLE_SETS, SCOPE_SETS, ["org-a", "org-b", None], [frozenset(), frozenset({"grp-x"})], TLP
    ):
        subject = Subject(user_id="user-1", org_id=org, roles=roles, sharing_group_ids=groups, scopes=scopes)
        marking = Marking(owner_org_id="org-a", tlp=tlp, sharing_group_ids=frozenset({"grp-x"}))
        # Inside a GREEN container of another organization, which admits every signed-in
        # user but must not make its organization the object's owner.
        resource = Resource.marked("report", "r-1", marking, Marking(owner_org_id="org-b", tlp=TLP.GREEN))
        for action in OBJECT_ACTIONS:
            if can(subject, action, resource) is not REFERENCE[action](subject, action, resource):
                mismatches.append((subject, action, marking))
    assert mismatches == []


COMPARTMENT_SETS = [frozenset(c) for n in range(4) for c in itertools.combinations(COMPARTMENTS, n)]


def test_read_matches_reference_on_the_whole_classification_lattice() -> None:
    mismatches = []
    for clearance, held, level, named in itertools.product(
        Classification, COMPARTMENT_SETS, Classification, COMPARTMENT_SETS
    ):
        subject = Subject(
            user_id="user-1", org_id="org-a", clearance=clearance, compartments=held, scopes=ALL_SCOPES
        )
        marking = Marking(owner_org_id="org-a", tlp=TLP.GREEN, classification=level, compartments=named)
        resource = Resource.marked("report", "r-1", marking)
        if can(subject, Action.READ, resource) is not ref_read(subject, resource):
            mismatches.append((subject, marking))
    assert mismatches == []


def test_token_and_platform_actions_match_reference_on_the_whole_lattice() -> None:
    mismatches = []
    for roles, scopes, owner, wanted in itertools.product(
        ROLE_SETS, SCOPE_SETS, ["user-1", "user-2"], SCOPE_SETS
    ):
        subject = Subject(user_id="user-1", org_id="org-a", roles=roles, scopes=scopes)
        resource = Resource(kind="api_token", owner_user_id=owner, scopes=wanted)
        for action in MARKING_FREE_ACTIONS:
            if can(subject, action, resource) is not REFERENCE[action](subject, action, resource):
                mismatches.append((subject, action, resource))
    assert mismatches == []


@settings(max_examples=100)
@given(subject=subjects, resources=st.lists(marked_resources, max_size=6))
def test_visible_keeps_exactly_the_readable_items_in_order(
    subject: Subject, resources: list[Resource]
) -> None:
    items = list(enumerate(resources))
    shown = list(visible(subject, items, lambda item: item[1]))
    assert shown == [item for item in items if ref_read(subject, item[1])]


# ---------------------------------------------------------------------------
# (b) the most restrictive marking wins.


@settings(max_examples=250)
@given(subject=subjects, resource=marked_resources, extra=markings)
def test_adding_a_container_marking_never_grants_more(
    subject: Subject, resource: Resource, extra: Marking
) -> None:
    if not resource.markings:
        return  # a shared record has no own marking to put containers above
    wider = dataclasses.replace(resource, markings=(*resource.markings, extra))
    for action in Action:
        if can(subject, action, wider):
            assert can(subject, action, resource), action


@settings(max_examples=250)
@given(subject=subjects, m1=markings, m2=markings)
def test_two_markings_readable_iff_each_alone_is(subject: Subject, m1: Marking, m2: Marking) -> None:
    both = can(subject, Action.READ, Resource.marked("report", "r", m1, m2))
    alone1 = can(subject, Action.READ, Resource.marked("report", "r", m1))
    alone2 = can(subject, Action.READ, Resource.marked("report", "r", m2))
    assert both == (alone1 and alone2)
    # Order does not matter for reading.
    assert both == can(subject, Action.READ, Resource.marked("report", "r", m2, m1))


@settings(max_examples=250)
@given(subject=subjects, m1=markings, m2=markings)
def test_a_shared_record_is_readable_iff_either_party_alone_admits(
    subject: Subject, m1: Marking, m2: Marking
) -> None:
    either = can(subject, Action.READ, Resource(kind="campaign_conflict", id="c", any_of=(m1, m2)))
    first = can(subject, Action.READ, Resource(kind="campaign_conflict", id="c", any_of=(m1,)))
    second = can(subject, Action.READ, Resource(kind="campaign_conflict", id="c", any_of=(m2,)))
    assert either == (first or second)
    # A lone party's marking behaves as an ordinary marking.
    assert first == can(subject, Action.READ, Resource.marked("campaign_conflict", "c", m1))


# ---------------------------------------------------------------------------
# (c) authorize: NotFound for an existing object that cannot be read, Forbidden
# otherwise. An object "exists" when the resource has an id; a resource without
# one is a proposal (an object about to be created), which hides nothing, so its
# refusal is Forbidden even when its marking is unreadable (authorize's docstring).


def _same_not_found(a: NotFound, b: NotFound) -> None:
    assert type(a) is type(b) is NotFound
    assert str(a) == str(b)
    assert a.args == b.args
    assert vars(a) == vars(b)
    assert (a.kind, a.id) == (b.kind, b.id)


@settings(max_examples=300)
@given(subject=subjects, resource=marked_resources, action=actions)
def test_authorize_outcome(subject: Subject, resource: Resource, action: Action) -> None:
    allowed = REFERENCE[action](subject, action, resource)
    hidden = resource.id is not None and not ref_read(subject, resource)  # all resources here are marked
    if allowed:
        authorize(subject, action, resource)  # does not raise
    elif hidden:
        with pytest.raises(NotFound) as denied:
            authorize(subject, action, resource)
        # Indistinguishable from the NotFound a service raises for a missing object.
        _same_not_found(denied.value, NotFound(resource.kind, resource.id))
        assert denied.value.__cause__ is None
        assert denied.value.__context__ is None
    else:
        with pytest.raises(Forbidden) as refused:
            authorize(subject, action, resource)
        assert type(refused.value) is Forbidden
        assert (refused.value.action, refused.value.kind) == (action, resource.kind)


@settings(max_examples=150)
@given(subject=subjects, resource=marked_resources, action=st.sampled_from(OBJECT_ACTIONS))
def test_an_unreadable_existing_object_is_never_acted_on(
    subject: Subject, resource: Resource, action: Action
) -> None:
    """Whatever the action, an object one cannot read is one one cannot touch."""
    if not can(subject, Action.READ, resource):
        assert not can(subject, action, resource)


@settings(max_examples=150)
@given(subject=subjects, resource=token_resources, action=st.sampled_from(MARKING_FREE_ACTIONS))
def test_authorize_on_unmarked_resources_never_hides_existence(
    subject: Subject, resource: Resource, action: Action
) -> None:
    if REFERENCE[action](subject, action, resource):
        authorize(subject, action, resource)
    else:
        with pytest.raises(Forbidden):
            authorize(subject, action, resource)


@settings(max_examples=150)
@given(subject=subjects, m1=markings, m2=markings, action=st.sampled_from(OBJECT_ACTIONS))
def test_denials_do_not_depend_on_the_marking(
    subject: Subject, m1: Marking, m2: Marking, action: Action
) -> None:
    """Two unreadable objects of the same kind and id are refused identically,
    whatever their markings: the refusal carries nothing about the marking.
    (Platform and token actions ignore markings, so only object actions apply.)"""
    first = Resource.marked("finding", "f-1", m1)
    second = Resource(kind="finding", id="f-1", any_of=(m2,))
    if can(subject, Action.READ, first) or can(subject, Action.READ, second):
        return
    errors = []
    for resource in (first, second):
        with pytest.raises(NotFound) as denied:
            authorize(subject, action, resource)
        errors.append(denied.value)
    _same_not_found(errors[0], errors[1])


# ---------------------------------------------------------------------------
# (d) anonymous subjects may only read CLEAR, unclassified, uncompartmented content.


def _public(m: Marking) -> bool:
    return m.tlp == TLP.CLEAR and m.classification.value == "UNCLASSIFIED" and not m.compartments


def _public_resource(r: Resource) -> bool:
    return all(_public(m) for m in r.markings) and (not r.any_of or any(_public(m) for m in r.any_of))


@settings(max_examples=250)
@given(resource=marked_resources, action=actions)
def test_anonymous_reads_only_public_content_and_does_nothing_else(
    resource: Resource, action: Action
) -> None:
    expected = action is Action.READ and _public_resource(resource)
    assert can(ANONYMOUS, action, resource) is expected


@settings(max_examples=100)
@given(resource=token_resources, action=st.sampled_from(MARKING_FREE_ACTIONS))
def test_anonymous_has_no_platform_or_token_actions(resource: Resource, action: Action) -> None:
    assert not can(ANONYMOUS, action, resource)


# ---------------------------------------------------------------------------
# (e) more clearance, compartments, groups, scopes or roles never take access away.

CLEARANCES_UPWARD = [Classification(level) for level in CLASSIFICATION_LADDER]


@st.composite
def subject_and_stronger(draw: st.DrawFn) -> tuple[Subject, Subject]:
    base = draw(signed_in_subjects)
    floor = CLEARANCES_UPWARD.index(base.clearance)
    stronger = Subject(
        user_id=base.user_id,
        org_id=base.org_id,
        roles=base.roles | draw(_subsets(Role)),
        clearance=draw(st.sampled_from(CLEARANCES_UPWARD[floor:])),
        compartments=base.compartments | draw(_subsets(COMPARTMENTS)),
        sharing_group_ids=base.sharing_group_ids | draw(_subsets(GROUPS)),
        scopes=base.scopes | draw(_subsets(Scope)),
    )
    return base, stronger


@settings(max_examples=250)
@given(pair=subject_and_stronger(), resource=marked_resources)
def test_more_attributes_never_remove_access(pair: tuple[Subject, Subject], resource: Resource) -> None:
    weaker, stronger = pair
    for action in Action:
        if can(weaker, action, resource):
            assert can(stronger, action, resource), action


@settings(max_examples=100)
@given(pair=subject_and_stronger(), resource=token_resources, action=st.sampled_from(MARKING_FREE_ACTIONS))
def test_more_attributes_never_remove_platform_or_token_access(
    pair: tuple[Subject, Subject], resource: Resource, action: Action
) -> None:
    weaker, stronger = pair
    if can(weaker, action, resource):
        assert can(stronger, action, resource)


# ---------------------------------------------------------------------------
# (f) "released to" and "any of" narrow who may read; they never widen it past
# clearance, compartments or role (issue 14, defect 3). Written from the rule
# itself, not from either reference model above.

RELEASEE_ROLES = {Role.MODEL_DEVELOPER, Role.PARTNER}

released_resources = st.builds(
    Resource,
    kind=st.sampled_from(["frontier_determination", "frontier_partner_grant", "report"]),
    id=st.one_of(st.none(), st.just("obj-1")),
    markings=st.lists(markings, min_size=1, max_size=3).map(tuple),
    released_to=_subsets(ORGS, max_size=2),
    need_to_know=_subsets(USERS, max_size=2),
    any_of=st.one_of(st.just(()), st.lists(markings, min_size=1, max_size=2).map(tuple)),
)


def _admitted_without_release(s: Subject, m: Marking) -> bool:
    """Clearance and compartments alone, or the owner's own model marking."""
    if s.org_id is not None and s.org_id == m.owner_org_id and Role.MODEL_DEVELOPER in s.roles:
        return True
    level_ok = CLASSIFICATION_LADDER.index(s.clearance.value) >= CLASSIFICATION_LADDER.index(
        m.classification.value
    )
    return level_ok and all(c in s.compartments for c in m.compartments)


@settings(max_examples=600)
@given(subject=subjects, resource=released_resources)
def test_released_to_never_widens_any_action(subject: Subject, resource: Resource) -> None:
    unreleased = dataclasses.replace(resource, released_to=frozenset())
    for action in Action:
        if can(subject, action, resource) and not can(subject, action, unreleased):
            # What the release alone added: a named organization's releasee, cleared.
            assert action is Action.READ_FRONTIER, action
            assert subject.org_id in resource.released_to
            assert set(subject.roles) & RELEASEE_ROLES
            assert all(_admitted_without_release(subject, m) for m in resource.markings)
        # And the policy still agrees with the reference model on such resources.
        assert can(subject, action, resource) is REFERENCE[action](subject, action, resource), action


@settings(max_examples=400)
@given(subject=subjects, resource=released_resources)
def test_any_of_only_narrows_a_marked_object(subject: Subject, resource: Resource) -> None:
    """Beside its own markings, a list of parties' markings can only take readers away."""
    without = dataclasses.replace(resource, any_of=())
    for action in Action:
        if can(subject, action, resource):
            assert can(subject, action, without), action


def test_an_unclassified_vendor_contact_never_reads_a_released_secret_determination() -> None:
    det = Resource(
        "frontier_determination",
        "d-1",
        (
            Marking(owner_org_id="org-b", tlp=TLP.RED, classification=Classification.SECRET),
            Marking(owner_org_id="org-a", tlp=TLP.RED, classification=Classification.CUI),
        ),
        released_to=frozenset({"org-a"}),
    )
    for roles in ROLE_SETS:
        for clearance in Classification:
            subject = Subject(
                user_id="user-1", org_id="org-a", roles=roles, clearance=clearance, scopes=ALL_SCOPES
            )
            allowed = can(subject, Action.READ_FRONTIER, det)
            government = bool(roles & {Role.EVALUATOR, Role.DETERMINATION_AUTHORITY, Role.ADMIN})
            releasee = bool(roles & RELEASEE_ROLES)
            secret = CLASSIFICATION_LADDER.index(clearance.value) >= CLASSIFICATION_LADDER.index("SECRET")
            assert allowed is ((government or releasee) and secret), (roles, clearance)
            for action in OBJECT_ACTIONS:
                if can(subject, action, det):
                    assert secret, (action, roles, clearance)
