"""The enforcement and programs rules of the access policy, checked against a
model written from the policy docstring's enforcement and programs paragraphs
only (it shares no code with ``access/_policy.py``)."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clearinghouse.access import (
    TLP,
    Action,
    Classification,
    Marking,
    NotFound,
    Resource,
    Role,
    Scope,
    Subject,
    authorize,
    can,
)

ORGS = ["org-a", "org-b", "org-c"]
GROUPS = ["grp-x", "grp-y"]
LADDER = ["UNCLASSIFIED", "CUI", "SECRET", "TOP SECRET"]
LIAISON = Role.LAW_ENFORCEMENT_LIAISON

subjects = st.builds(
    Subject,
    user_id=st.one_of(st.none(), st.just("u1")),
    org_id=st.sampled_from([*ORGS, None]),
    roles=st.frozensets(st.sampled_from(Role), max_size=3),
    clearance=st.sampled_from(Classification),
    compartments=st.frozensets(st.sampled_from(["HCS", "SI"])),
    sharing_group_ids=st.frozensets(st.sampled_from(GROUPS)),
    scopes=st.frozensets(st.sampled_from(Scope)),
)
markings = st.builds(
    Marking,
    owner_org_id=st.sampled_from(ORGS),
    tlp=st.sampled_from(TLP),
    classification=st.sampled_from(Classification),
    compartments=st.one_of(st.just(frozenset()), st.frozensets(st.sampled_from(["HCS", "SI"]))),
    sharing_group_ids=st.one_of(st.just(frozenset()), st.frozensets(st.sampled_from(GROUPS))),
)
incidents = st.builds(
    Resource,
    kind=st.just("incident"),
    id=st.one_of(st.none(), st.just("inc-1")),
    markings=st.lists(markings, min_size=1, max_size=2).map(tuple),
)


def level(c: Classification) -> int:
    return LADDER.index(c.value)


def admits_by_clearance(s: Subject, m: Marking) -> bool:
    return level(s.clearance) >= level(m.classification) and m.compartments.issubset(s.compartments)


def ref_read_incident(s: Subject, r: Resource) -> bool:
    if s.user_id is None or Scope.READ not in s.scopes or not r.markings:
        return False
    for m in r.markings:
        if not admits_by_clearance(s, m):
            return False
        named = len(m.sharing_group_ids & s.sharing_group_ids) > 0
        if not (s.org_id == m.owner_org_id or LIAISON in s.roles or named):
            return False
    return True


def ref_insider(s: Subject, r: Resource) -> bool:
    return ref_read_incident(s, r) and (s.org_id == r.markings[0].owner_org_id or LIAISON in s.roles)


def ref_change(s: Subject, r: Resource) -> bool:
    return ref_insider(s, r) and Scope.WRITE in s.scopes and any(role != Role.AUDITOR for role in s.roles)


def ref_review(s: Subject, r: Resource) -> bool:
    return ref_read_incident(s, r) and Scope.WRITE in s.scopes and LIAISON in s.roles


def ref_report(s: Subject, r: Resource) -> bool:
    if not r.markings:
        return False
    m = r.markings[0]
    if s.user_id is None or Scope.WRITE not in s.scopes or not admits_by_clearance(s, m):
        return False
    if not any(role != Role.AUDITOR for role in s.roles):
        return False
    return s.org_id == m.owner_org_id or LIAISON in s.roles


REFERENCE = {
    Action.READ_INCIDENT: ref_read_incident,
    Action.READ_INCIDENT_PERSONAL: ref_insider,
    Action.ACCESS_EVIDENCE: ref_insider,
    Action.ADD_EVIDENCE: ref_change,
    Action.TRANSFER_EVIDENCE: ref_change,
    Action.SHARE_INCIDENT: ref_change,
    Action.REVIEW_INCIDENT: ref_review,
    Action.REPORT_INCIDENT: ref_report,
}


@settings(max_examples=1500, deadline=None)
@given(subject=subjects, resource=incidents, action=st.sampled_from(sorted(REFERENCE)))
def test_enforcement_actions_match_the_reference(
    subject: Subject, resource: Resource, action: Action
) -> None:
    assert can(subject, action, resource) == REFERENCE[action](subject, resource)


@settings(max_examples=500, deadline=None)
@given(subject=subjects, resource=incidents)
def test_a_hidden_incident_is_not_found_never_forbidden(subject: Subject, resource: Resource) -> None:
    # Services mark every incident TLP:RED, and it has no container.
    red = dataclasses.replace(resource.markings[0], tlp=TLP.RED)
    existing = Resource(kind="incident", id="inc-1", markings=(red,))
    if can(subject, Action.READ_INCIDENT, existing):
        return
    # A denied read of an existing incident must look exactly like a missing one.
    with pytest.raises(NotFound) as denied:
        authorize(subject, Action.READ_INCIDENT, existing)
    assert (denied.value.kind, denied.value.id) == ("incident", "inc-1")


def test_staff_alone_do_not_read_an_incident_and_liaisons_do() -> None:
    incident = Resource.marked("incident", "inc-1", Marking(owner_org_id="org-a", tlp=TLP.RED))
    everything = frozenset(Scope)
    admin = Subject(
        user_id="u", org_id="org-b", roles=frozenset({Role.ADMIN, Role.ANALYST}), scopes=everything
    )
    liaison = Subject(user_id="u", org_id="org-c", roles=frozenset({LIAISON}), scopes=everything)
    assert not can(admin, Action.READ_INCIDENT, incident)
    assert can(liaison, Action.READ_INCIDENT, incident) and can(liaison, Action.REVIEW_INCIDENT, incident)


@settings(max_examples=500, deadline=None)
@given(subject=subjects, marking=markings)
def test_program_actions_match_the_reference(subject: Subject, marking: Marking) -> None:
    managers = {Role.ADMIN, Role.COORDINATOR}
    manage = subject.user_id is not None and Scope.ADMIN in subject.scopes and bool(subject.roles & managers)
    assert can(subject, Action.MANAGE_PROGRAMS) == manage
    program = Resource.marked("program", "p1", Marking(owner_org_id=marking.owner_org_id, tlp=TLP.GREEN))
    readable = can(subject, Action.READ, program)
    applies = (
        subject.org_id is not None
        and Scope.WRITE in subject.scopes
        and any(r != Role.AUDITOR for r in subject.roles)
        and readable
    )
    assert can(subject, Action.APPLY_TO_PROGRAM, program) == applies
    grant = Resource.marked("program_grant", "g1", marking)
    reports = (
        Scope.WRITE in subject.scopes
        and can(subject, Action.READ, grant)
        and subject.org_id == marking.owner_org_id
        and any(r != Role.AUDITOR for r in subject.roles)
    )
    assert can(subject, Action.REPORT_GRANT_USAGE, grant) == reports
