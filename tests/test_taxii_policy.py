"""The TAXII actions of the access policy against a model written from the
TAXII paragraph of :mod:`clearinghouse.access._policy`'s docstring, on the
same generated subjects and marked resources as ``test_policy_properties``
(resources here also name writers: organizations and sharing groups).

Readings the paragraph leaves open, settled here: "the owning organization"
is the owner of the collection's (first) marking, and its members count only
with a role other than auditor (as for every other write); "whoever made the
request" is the user the status names (``owner_user_id``).
"""

from __future__ import annotations

import dataclasses

from hypothesis import given, settings
from hypothesis import strategies as st

from clearinghouse.access import Action, Resource, Role, Scope, Subject, can
from tests.test_policy_properties import GROUPS, ORGS, marked_resources, ref_read, subjects

MANAGERS = {Role.ADMIN, Role.COORDINATOR}

writers = st.frozensets(st.sampled_from([*ORGS, *GROUPS]))
collections = st.builds(lambda r, w: dataclasses.replace(r, writers=w), marked_resources, writers)


def ref_write(s: Subject, r: Resource) -> bool:
    if s.user_id is None or Scope.WRITE not in s.scopes or not ref_read(s, r):
        return False
    if all(role == Role.AUDITOR for role in s.roles):
        return False
    named = (s.org_id is not None and s.org_id in r.writers) or any(
        g in r.writers for g in s.sharing_group_ids
    )
    owner = r.markings[0].owner_org_id if r.markings else None
    owns = owner is not None and s.org_id == owner
    return named or owns or any(role in MANAGERS for role in s.roles)


def ref_manage(s: Subject) -> bool:
    return s.user_id is not None and Scope.ADMIN in s.scopes and any(role in MANAGERS for role in s.roles)


def ref_status(s: Subject, r: Resource) -> bool:
    if not ref_read(s, r):
        return False
    mine = r.owner_user_id is not None and r.owner_user_id == s.user_id
    return mine or any(role in MANAGERS for role in s.roles)


@settings(max_examples=600)
@given(subject=subjects, resource=collections)
def test_taxii_actions_match_the_model(subject: Subject, resource: Resource) -> None:
    assert can(subject, Action.TAXII_WRITE, resource) is ref_write(subject, resource)
    assert can(subject, Action.TAXII_MANAGE, resource) is ref_manage(subject)
    assert can(subject, Action.TAXII_READ_STATUS, resource) is ref_status(subject, resource)


@settings(max_examples=300)
@given(subject=subjects, resource=collections)
def test_writing_needs_reading(subject: Subject, resource: Resource) -> None:
    if can(subject, Action.TAXII_WRITE, resource):
        assert can(subject, Action.READ, resource)
