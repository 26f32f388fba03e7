"""Worked examples of the policy's rules for priority, matching and directives, one rule per row."""

from __future__ import annotations

import pytest

from clearinghouse.access import (
    ALL_SCOPES,
    ANONYMOUS,
    TLP,
    Action,
    Forbidden,
    Marking,
    NotFound,
    Resource,
    Role,
    Scope,
    Subject,
    authorize,
    can,
)

READ_WRITE = frozenset({Scope.READ, Scope.WRITE})


def user(role: Role, org: str = "acme", scopes: frozenset[Scope] = ALL_SCOPES) -> Subject:
    return Subject(user_id=f"{role}-{org}", org_id=org, roles=frozenset({role}), scopes=scopes)


# A match on acme's asset (TLP:AMBER+STRICT for acme), and a case owned by the finder "lab".
MATCH = Resource.marked("match", "m1", Marking(owner_org_id="acme", tlp=TLP.AMBER_STRICT))
CASE = Resource.marked("case", "c1", Marking(owner_org_id="lab", tlp=TLP.AMBER_STRICT))


@pytest.mark.parametrize(
    ("subject", "resource", "allowed"),
    [
        (user(Role.PARTNER, "acme"), MATCH, True),  # the asset's owner reads its match
        (user(Role.PARTNER, "rival"), MATCH, False),  # another participant does not
        (user(Role.ANALYST, "house"), MATCH, True),  # staff read every match
        (user(Role.AUDITOR, "house"), MATCH, False),  # auditors are not staff readers
        (ANONYMOUS, MATCH, False),
    ],
)
def test_a_match_is_read_as_its_asset(subject: Subject, resource: Resource, allowed: bool) -> None:
    assert can(subject, Action.READ, resource) is allowed


@pytest.mark.parametrize(
    ("subject", "allowed"),
    [
        (user(Role.ANALYST, "house"), True),
        (user(Role.COORDINATOR, "house"), True),
        (user(Role.ADMIN, "house"), True),
        (user(Role.ANALYST, "house", frozenset({Scope.READ})), False),  # needs write
        (user(Role.PARTNER, "lab"), False),  # the finder reads its case but does not score it
        (user(Role.VENDOR_CONTACT, "vendor"), False),
        (ANONYMOUS, False),
    ],
)
def test_prioritizing_a_case_is_for_staff_who_can_read_it(subject: Subject, allowed: bool) -> None:
    assert can(subject, Action.PRIORITIZE, CASE) is allowed


def test_refusals_hide_what_the_subject_cannot_read() -> None:
    with pytest.raises(NotFound):
        authorize(user(Role.PARTNER, "rival"), Action.PRIORITIZE, MATCH)
    with pytest.raises(Forbidden):
        authorize(user(Role.PARTNER, "acme"), Action.PRIORITIZE, MATCH)  # the owner may not move its clock
    authorize(user(Role.COORDINATOR, "house"), Action.PRIORITIZE, MATCH)


@pytest.mark.parametrize(
    ("subject", "queue", "read_directives", "manage_directives"),
    [
        (user(Role.ANALYST, "house", READ_WRITE), True, True, False),
        (user(Role.COORDINATOR, "house"), True, True, False),
        (user(Role.ADMIN, "house"), True, True, True),
        (user(Role.ADMIN, "house", READ_WRITE), True, True, False),  # managing needs the admin scope
        (user(Role.PARTNER, "acme"), False, True, False),
        (user(Role.AUDITOR, "house"), False, True, False),
        (user(Role.PARTNER, "acme", frozenset({Scope.WRITE})), False, False, False),  # no read scope
        (ANONYMOUS, False, False, False),
    ],
)
def test_queue_and_directives(
    subject: Subject, queue: bool, read_directives: bool, manage_directives: bool
) -> None:
    assert can(subject, Action.READ_QUEUE) is queue
    assert can(subject, Action.READ_DIRECTIVES) is read_directives
    assert can(subject, Action.MANAGE_DIRECTIVES) is manage_directives
