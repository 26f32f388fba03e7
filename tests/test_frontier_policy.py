"""The frontier-review rules of the access policy against a reference model
written from the policy's docstring ("Frontier model review: ..."), sharing
no code with it, plus the cases the issue names.

Interpretations the docstring leaves open, and which the model settles:

* "the developer organization that owns it (its model developers)": the
  subject's organization owns the first marking and it holds the
  model_developer role; reading needs the ``read`` scope like any read;
* "released to" narrows, never widens: a signed-in member of a named
  organization, ``read`` scope, holding the model-developer or partner role,
  and cleared (level and compartments) for every marking its organization does
  not own as a model developer;
* every frontier action needs a marked resource (none is a platform action).
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from clearinghouse.access import (
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
)

ORGS = ["dev-org", "other-org", "gov-org"]
USERS = ["u1", "u2", "u3"]
LADDER = ["UNCLASSIFIED", "CUI", "SECRET", "TOP SECRET"]
GOVERNMENT = {Role.EVALUATOR, Role.DETERMINATION_AUTHORITY, Role.ADMIN}
FRONTIER_ACTIONS = [a for a in Action if a.value.startswith("frontier.")]


def _cleared_for(s: Subject, r: Resource) -> bool:
    for m in r.markings:
        if LADDER.index(s.clearance.value) < LADDER.index(m.classification.value):
            return False
        if not set(m.compartments).issubset(s.compartments):
            return False
    return True


def _government(s: Subject, r: Resource, roles: set[Role], scope: Scope) -> bool:
    return (
        s.user_id is not None
        and bool(r.markings)
        and scope in s.scopes
        and Scope.READ in s.scopes
        and bool(set(s.roles) & roles)
        and _cleared_for(s, r)
    )


def ref_read(s: Subject, r: Resource) -> bool:
    if s.user_id is None or not r.markings or Scope.READ not in s.scopes:
        return False
    if Role.MODEL_DEVELOPER in s.roles and s.org_id is not None and s.org_id == r.markings[0].owner_org_id:
        return True
    if s.org_id is not None and s.org_id in r.released_to and _release_reader(s, r):
        return True
    return _government(s, r, GOVERNMENT, Scope.READ)


RELEASE_ROLES = {Role.MODEL_DEVELOPER, Role.PARTNER}


def _release_reader(s: Subject, r: Resource) -> bool:
    if not set(s.roles) & RELEASE_ROLES:
        return False
    for m in r.markings:
        if m.owner_org_id == s.org_id and Role.MODEL_DEVELOPER in s.roles:
            continue  # its own model's marking, read as the owner
        if LADDER.index(s.clearance.value) < LADDER.index(m.classification.value):
            return False
        if not set(m.compartments).issubset(s.compartments):
            return False
    return True


def ref_developer(s: Subject, r: Resource) -> bool:
    return (
        s.user_id is not None
        and bool(r.markings)
        and Scope.WRITE in s.scopes
        and Role.MODEL_DEVELOPER in s.roles
        and s.org_id is not None
        and s.org_id == r.markings[0].owner_org_id
    )


def reference(s: Subject, action: Action, r: Resource) -> bool:
    if action is Action.READ_FRONTIER:
        return ref_read(s, r)
    if action in (Action.REGISTER_MODEL, Action.GRANT_ACCESS, Action.CONSENT_MODEL_OFFER):
        return ref_developer(s, r)
    if action is Action.ACCEPT_GRANT:
        return _government(s, r, GOVERNMENT, Scope.WRITE)
    if action is Action.USE_ENDPOINT:
        return s.user_id in r.need_to_know and _government(s, r, GOVERNMENT, Scope.READ)
    if action in (Action.DEFINE_POLICY, Action.RECOMMEND):
        return _government(s, r, {Role.EVALUATOR, Role.DETERMINATION_AUTHORITY}, Scope.WRITE)
    if action in (Action.DETERMINE, Action.RELEASE_DETERMINATION):
        return _government(s, r, {Role.DETERMINATION_AUTHORITY}, Scope.WRITE)
    if action is Action.APPROVE_PARTNER:
        return ref_developer(s, r) or _government(
            s, r, {Role.DETERMINATION_AUTHORITY, Role.ADMIN}, Scope.WRITE
        )
    raise AssertionError(action)


subjects = st.builds(
    Subject,
    user_id=st.one_of(st.none(), st.sampled_from(USERS)),
    org_id=st.sampled_from([*ORGS, None]),
    roles=st.frozensets(st.sampled_from(Role), max_size=3),
    clearance=st.sampled_from(Classification),
    compartments=st.frozensets(st.sampled_from(["HCS", "SI"])),
    scopes=st.frozensets(st.sampled_from(Scope)),
)
markings = st.builds(
    Marking,
    owner_org_id=st.sampled_from(ORGS),
    tlp=st.sampled_from(TLP),
    classification=st.sampled_from(Classification),
    compartments=st.one_of(st.just(frozenset()), st.frozensets(st.sampled_from(["HCS", "SI"]))),
)
resources = st.builds(
    Resource,
    kind=st.sampled_from(["frontier_model", "frontier_grant", "frontier_determination"]),
    id=st.one_of(st.none(), st.just("obj-1")),
    markings=st.lists(markings, min_size=0, max_size=3).map(tuple),
    released_to=st.frozensets(st.sampled_from(ORGS), max_size=2),
    need_to_know=st.frozensets(st.sampled_from(USERS), max_size=2),
)


def test_there_are_frontier_actions() -> None:
    assert {a.name for a in FRONTIER_ACTIONS} >= {
        "REGISTER_MODEL",
        "GRANT_ACCESS",
        "USE_ENDPOINT",
        "DETERMINE",
        "RELEASE_DETERMINATION",
        "APPROVE_PARTNER",
    }


@settings(max_examples=1500)
@given(subject=subjects, resource=resources)
def test_frontier_rules_match_the_reference(subject: Subject, resource: Resource) -> None:
    for action in FRONTIER_ACTIONS:
        assert can(subject, action, resource) is reference(subject, action, resource), action


@settings(max_examples=300)
@given(subject=subjects, resource=resources)
def test_frontier_fields_change_no_other_rule(subject: Subject, resource: Resource) -> None:
    """``released_to`` and ``need_to_know`` are read by the frontier rules only."""
    plain = Resource(kind=resource.kind, id=resource.id, markings=resource.markings)
    for action in Action:
        if action not in FRONTIER_ACTIONS and action is not Action.CREATE_TOKEN:
            assert can(subject, action, resource) is can(subject, action, plain), action


def _s(
    org: str, *roles: Role, clearance: Classification = Classification.UNCLASSIFIED, user: str = "u1"
) -> Subject:
    return Subject(
        user_id=user,
        org_id=org,
        roles=frozenset(roles),
        clearance=clearance,
        scopes=frozenset({Scope.READ, Scope.WRITE}),
    )


MODEL = Marking("dev-org", TLP.RED, Classification.CUI)
POLICY = Marking("gov-org", TLP.RED, Classification.SECRET)


def test_the_named_cases() -> None:
    model = Resource("frontier_model", "m", (MODEL,))
    dev = _s("dev-org", Role.MODEL_DEVELOPER)
    rival = _s("other-org", Role.MODEL_DEVELOPER)
    auditor_of_dev = _s("dev-org", Role.AUDITOR)
    eva = _s("gov-org", Role.EVALUATOR, clearance=Classification.SECRET)
    uncleared_admin = _s("gov-org", Role.ADMIN)
    analyst = _s("gov-org", Role.ANALYST, clearance=Classification.TOP_SECRET)
    assert can(dev, Action.READ_FRONTIER, model) and can(dev, Action.REGISTER_MODEL, model)
    assert can(eva, Action.READ_FRONTIER, model) and not can(eva, Action.REGISTER_MODEL, model)
    for outsider in (rival, auditor_of_dev, uncleared_admin, analyst):
        assert not can(outsider, Action.READ_FRONTIER, model)
    try:
        authorize(rival, Action.READ_FRONTIER, model)
    except NotFound:
        pass
    else:  # pragma: no cover
        raise AssertionError("a rival learns nothing")
    # A classified policy: the CUI-cleared evaluator, and the same-organization analyst, see nothing.
    policy = Resource("frontier_policy", "p", (POLICY,))
    low = _s("gov-org", Role.EVALUATOR, clearance=Classification.CUI)
    assert can(eva, Action.READ_FRONTIER, policy)
    assert not can(low, Action.READ_FRONTIER, policy) and not can(analyst, Action.READ_FRONTIER, policy)
    # A determination: the developer, cleared for it, reads it once released to its organization.
    det = Resource("frontier_determination", "d", (Marking("gov-org", TLP.RED, Classification.SECRET), MODEL))
    secret_dev = _s("dev-org", Role.MODEL_DEVELOPER, clearance=Classification.SECRET)
    released = Resource(det.kind, det.id, det.markings, released_to=frozenset({"dev-org"}))
    assert not can(secret_dev, Action.READ_FRONTIER, det)
    assert can(secret_dev, Action.READ_FRONTIER, released)
    assert not can(dev, Action.READ_FRONTIER, released)  # uncleared: released does not widen
    authority = _s("gov-org", Role.DETERMINATION_AUTHORITY, clearance=Classification.SECRET)
    assert can(authority, Action.DETERMINE, det) and not can(eva, Action.DETERMINE, det)
    assert can(authority, Action.RELEASE_DETERMINATION, det) and not can(
        dev, Action.RELEASE_DETERMINATION, det
    )
    # The endpoint: need-to-know and cleared.
    grant = Resource("frontier_grant", "g", (MODEL,), need_to_know=frozenset({"u1"}))
    assert can(eva, Action.USE_ENDPOINT, grant)
    assert not can(
        _s("gov-org", Role.EVALUATOR, clearance=Classification.SECRET, user="u2"), Action.USE_ENDPOINT, grant
    )
    assert not can(dev, Action.USE_ENDPOINT, grant)
    # Partners: either side.
    assert can(dev, Action.APPROVE_PARTNER, model) and can(authority, Action.APPROVE_PARTNER, model)
    assert not can(eva, Action.APPROVE_PARTNER, model)
    try:
        authorize(eva, Action.DETERMINE, Resource("frontier_determination", None, (POLICY, MODEL)))
    except Forbidden:
        pass
    else:  # pragma: no cover
        raise AssertionError("an evaluator does not determine")


@settings(max_examples=1000)
@given(subject=subjects, resource=resources)
def test_released_to_narrows_never_widens(subject: Subject, resource: Resource) -> None:
    """Whatever ``released_to`` names, a reader it admits holds a releasee role and
    the clearance and compartments of every marking it does not own; and naming
    more organizations never takes access away from anyone."""
    plain = Resource(kind=resource.kind, id=resource.id, markings=resource.markings)
    if can(subject, Action.READ_FRONTIER, resource) and not can(subject, Action.READ_FRONTIER, plain):
        assert subject.org_id in resource.released_to
        assert set(subject.roles) & {Role.MODEL_DEVELOPER, Role.PARTNER}
        for m in resource.markings:
            if m.owner_org_id == subject.org_id and Role.MODEL_DEVELOPER in subject.roles:
                continue
            assert LADDER.index(subject.clearance.value) >= LADDER.index(m.classification.value)
            assert set(m.compartments) <= set(subject.compartments)
    if can(subject, Action.READ_FRONTIER, plain):
        assert can(subject, Action.READ_FRONTIER, resource)


def test_released_secret_determination_is_not_for_an_unclassified_vendor_contact() -> None:
    det = Resource(
        "frontier_determination",
        "d",
        (Marking("gov-org", TLP.RED, Classification.SECRET), MODEL),
        released_to=frozenset({"dev-org"}),
    )
    contact = _s("dev-org", Role.VENDOR_CONTACT)
    cleared_contact = _s("dev-org", Role.VENDOR_CONTACT, clearance=Classification.TOP_SECRET)
    low_dev = _s("dev-org", Role.MODEL_DEVELOPER, clearance=Classification.CUI)
    dev = _s("dev-org", Role.MODEL_DEVELOPER, clearance=Classification.SECRET)
    for outsider in (contact, cleared_contact, low_dev):
        assert not can(outsider, Action.READ_FRONTIER, det)
        try:
            authorize(outsider, Action.READ_FRONTIER, det)
        except NotFound:
            pass
        else:  # pragma: no cover
            raise AssertionError("a denied read is a missing object")
    assert can(dev, Action.READ_FRONTIER, det)
