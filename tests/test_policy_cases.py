"""Worked examples of the access policy, one rule per row.

Each table documents a rule of :mod:`clearinghouse.access._policy`'s docstring
with the smallest example that shows it; the property tests in
``test_policy_properties.py`` check the same rules on random input.
"""

from __future__ import annotations

import pytest

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
)

U = Classification.UNCLASSIFIED
SECRET = Classification.SECRET
TS = Classification.TOP_SECRET
READ_ONLY = frozenset({Scope.READ})
READ_WRITE = frozenset({Scope.READ, Scope.WRITE})


def user(
    role: Role | None = Role.PARTNER,
    *,
    org: str | None = "acme",
    clearance: Classification = U,
    compartments: tuple[str, ...] = (),
    groups: tuple[str, ...] = (),
    scopes: frozenset[Scope] = ALL_SCOPES,
    user_id: str = "alice",
) -> Subject:
    return Subject(
        user_id=user_id,
        org_id=org,
        roles=frozenset({role}) if role else frozenset(),
        clearance=clearance,
        compartments=frozenset(compartments),
        sharing_group_ids=frozenset(groups),
        scopes=scopes,
    )


def marking(
    tlp: TLP = TLP.AMBER,
    *,
    owner: str = "acme",
    level: Classification = U,
    compartments: tuple[str, ...] = (),
    groups: tuple[str, ...] = (),
) -> Marking:
    return Marking(
        owner_org_id=owner,
        tlp=tlp,
        classification=level,
        compartments=frozenset(compartments),
        sharing_group_ids=frozenset(groups),
    )


def report(*markings: Marking, id: str | None = "rpt-1") -> Resource:
    return Resource.marked("report", id, *markings)


def token(owner: str = "alice", scopes: frozenset[Scope] = frozenset()) -> Resource:
    return Resource(kind="api_token", id="tok-1", owner_user_id=owner, scopes=scopes)


# -- reading ------------------------------------------------------------------

READ_CASES = [
    # classification and compartments
    ("unclassified user, SECRET object", user(), [marking(level=SECRET)], False),
    ("CUI clearance, SECRET object", user(clearance=Classification.CUI), [marking(level=SECRET)], False),
    ("SECRET clearance, TOP SECRET object", user(clearance=SECRET), [marking(level=TS)], False),
    ("SECRET clearance, SECRET object", user(clearance=SECRET), [marking(level=SECRET)], True),
    ("TOP SECRET clearance, SECRET object", user(clearance=TS), [marking(level=SECRET)], True),
    (
        "holds one of two compartments",
        user(clearance=TS, compartments=("HCS",)),
        [marking(level=SECRET, compartments=("HCS", "SI"))],
        False,
    ),
    (
        "holds both compartments",
        user(clearance=TS, compartments=("HCS", "SI")),
        [marking(level=SECRET, compartments=("HCS", "SI"))],
        True,
    ),
    (
        "compartments without the clearance",
        user(compartments=("HCS",)),
        [marking(level=SECRET, compartments=("HCS",))],
        False,
    ),
    # TLP
    ("anonymous, TLP:CLEAR", ANONYMOUS, [marking(TLP.CLEAR, owner="other")], True),
    ("anonymous, TLP:CLEAR but SECRET", ANONYMOUS, [marking(TLP.CLEAR, level=SECRET)], False),
    ("anonymous, TLP:CLEAR but compartmented", ANONYMOUS, [marking(TLP.CLEAR, compartments=("HCS",))], False),
    ("anonymous, TLP:GREEN", ANONYMOUS, [marking(TLP.GREEN)], False),
    ("any signed-in user, TLP:GREEN", user(org="other"), [marking(TLP.GREEN)], True),
    ("own organization, TLP:AMBER", user(), [marking(TLP.AMBER)], True),
    ("partner of another org, TLP:AMBER", user(org="other"), [marking(TLP.AMBER)], False),
    ("analyst of another org, TLP:AMBER", user(Role.ANALYST, org="other"), [marking(TLP.AMBER)], True),
    (
        "partner of another org in the AMBER sharing group",
        user(org="other", groups=("isac",)),
        [marking(TLP.AMBER, groups=("isac",))],
        True,
    ),
    (
        "AMBER+STRICT is not extended by sharing groups",
        user(org="other", groups=("isac",)),
        [marking(TLP.AMBER_STRICT, groups=("isac",))],
        False,
    ),
    (
        "AMBER+STRICT, staff of another org",
        user(Role.ANALYST, org="other"),
        [marking(TLP.AMBER_STRICT)],
        True,
    ),
    ("own organization, TLP:RED", user(), [marking(TLP.RED)], True),
    ("coordinator of another org, TLP:RED", user(Role.COORDINATOR, org="other"), [marking(TLP.RED)], False),
    ("admin of another org, TLP:RED", user(Role.ADMIN, org="other"), [marking(TLP.RED)], False),
    (
        "coordinator named through a sharing group, TLP:RED",
        user(Role.COORDINATOR, org="other", groups=("isac",)),
        [marking(TLP.RED, groups=("isac",))],
        True,
    ),
    # the token
    ("token without the read scope", user(scopes=frozenset({Scope.WRITE})), [marking(TLP.CLEAR)], False),
    # the most restrictive marking wins
    (
        "GREEN object inside another org's RED container",
        user(),
        [marking(TLP.GREEN), marking(TLP.RED, owner="other")],
        False,
    ),
    (
        "CLEAR object inside a SECRET container",
        user(),
        [marking(TLP.CLEAR), marking(TLP.GREEN, level=SECRET)],
        False,
    ),
]


@pytest.mark.parametrize(
    ("subject", "markings", "expected"),
    [pytest.param(s, m, e, id=name) for name, s, m, e in READ_CASES],
)
def test_read(subject: Subject, markings: list[Marking], expected: bool) -> None:
    assert can(subject, Action.READ, report(*markings)) is expected


# -- changing and creating ----------------------------------------------------

AMBER_ACME = marking(TLP.AMBER, groups=("isac",))

CHANGE_CASES = [
    ("member of the owning org may update", user(), Action.UPDATE, True),
    ("member of the owning org may delete", user(), Action.DELETE, True),
    ("auditor of the owning org may not update", user(Role.AUDITOR), Action.UPDATE, False),
    ("auditor of the owning org may not delete", user(Role.AUDITOR), Action.DELETE, False),
    ("member with no role at all may not update", user(None), Action.UPDATE, False),
    ("analyst of another org may update", user(Role.ANALYST, org="other"), Action.UPDATE, True),
    ("analyst of another org may not delete", user(Role.ANALYST, org="other"), Action.DELETE, False),
    ("coordinator of another org may delete", user(Role.COORDINATOR, org="other"), Action.DELETE, True),
    (
        "partner of another org who can read (sharing group) may not update",
        user(org="other", groups=("isac",)),
        Action.UPDATE,
        False,
    ),
    ("token without the write scope may not update", user(scopes=READ_ONLY), Action.UPDATE, False),
    (
        "token with write but not read scope may not update",
        user(scopes=frozenset({Scope.WRITE})),
        Action.UPDATE,
        False,
    ),
]


@pytest.mark.parametrize(
    ("subject", "action", "expected"),
    [pytest.param(s, a, e, id=name) for name, s, a, e in CHANGE_CASES],
)
def test_change(subject: Subject, action: Action, expected: bool) -> None:
    resource = report(AMBER_ACME, marking(TLP.GREEN, owner="other"))  # inside another org's GREEN container
    assert can(subject, action, resource) is expected


CREATE_CASES = [
    ("partner creates for their own org", user(), marking(), True),
    ("auditor may not create", user(Role.AUDITOR), marking(), False),
    ("partner may not create for another org", user(), marking(TLP.GREEN, owner="other"), False),
    (
        "coordinator may create for another org",
        user(Role.COORDINATOR),
        marking(TLP.GREEN, owner="other"),
        True,
    ),
    ("analyst may not create for another org", user(Role.ANALYST), marking(TLP.GREEN, owner="other"), False),
    ("no write scope", user(scopes=READ_ONLY), marking(), False),
    ("a marking the creator could not read", user(), marking(level=SECRET), False),
    ("anonymous may not create", ANONYMOUS, marking(TLP.CLEAR), False),
]


@pytest.mark.parametrize(
    ("subject", "proposed", "expected"),
    [pytest.param(s, m, e, id=name) for name, s, m, e in CREATE_CASES],
)
def test_create(subject: Subject, proposed: Marking, expected: bool) -> None:
    assert can(subject, Action.CREATE, report(proposed, id=None)) is expected


# -- shared records (any_of) --------------------------------------------------

CONFLICT = Resource(
    kind="campaign_conflict",
    id="c-1",
    any_of=(marking(TLP.RED, owner="acme"), marking(TLP.RED, owner="globex")),
)

SHARED_CASES = [
    ("one party reads the overlap", user(org="acme"), True),
    ("the other party reads the overlap", user(org="globex"), True),
    ("a third org does not", user(org="initech"), False),
    ("nor does staff of a third org (both sides are RED)", user(Role.COORDINATOR, org="initech"), False),
    ("nor does anonymous", ANONYMOUS, False),
]


@pytest.mark.parametrize(
    ("subject", "expected"),
    [pytest.param(s, e, id=name) for name, s, e in SHARED_CASES],
)
def test_shared_record(subject: Subject, expected: bool) -> None:
    assert can(subject, Action.READ, CONFLICT) is expected


# -- triage ----------------------------------------------------------------------

FINDING = report(marking(TLP.AMBER_STRICT, owner="vendor"), id="f-1")

TRIAGE_CASES = [
    ("analyst of the clearinghouse decides", user(Role.ANALYST, org="ch"), True),
    ("coordinator decides", user(Role.COORDINATOR, org="ch"), True),
    ("analyst without the write scope", user(Role.ANALYST, org="ch", scopes=READ_ONLY), False),
    ("auditor may not decide", user(Role.AUDITOR, org="ch"), False),
    ("the submitting org's partner may not decide", user(org="vendor"), False),
    ("the submitting org's own analyst may not decide", user(Role.ANALYST, org="vendor"), False),
    ("the submitting org's own admin may not decide", user(Role.ADMIN, org="vendor"), False),
    (
        "analyst who cannot read the finding",
        user(Role.ANALYST, org="ch", scopes=frozenset({Scope.WRITE})),
        False,
    ),
]


@pytest.mark.parametrize(
    ("subject", "expected"),
    [pytest.param(s, e, id=name) for name, s, e in TRIAGE_CASES],
)
def test_triage(subject: Subject, expected: bool) -> None:
    assert can(subject, Action.TRIAGE, FINDING) is expected


def test_a_submitter_never_decides_on_its_own_finding() -> None:
    """The refusal is the submitter rule itself: the analyst can read the finding."""
    analyst_of_submitter = user(Role.ANALYST, org="vendor", scopes=READ_WRITE)
    assert can(analyst_of_submitter, Action.READ, FINDING)
    assert not can(analyst_of_submitter, Action.TRIAGE, FINDING)


# -- platform actions ---------------------------------------------------------

ADMIN_SCOPE_ONLY = frozenset({Scope.ADMIN})

PLATFORM_CASES = [
    ("admin manages users", user(Role.ADMIN), Action.MANAGE_USERS, True),
    ("admin without the admin scope", user(Role.ADMIN, scopes=READ_WRITE), Action.MANAGE_USERS, False),
    ("coordinator may not manage orgs", user(Role.COORDINATOR), Action.MANAGE_ORGS, False),
    ("coordinator manages sharing groups", user(Role.COORDINATOR), Action.MANAGE_GROUPS, True),
    ("analyst may not manage sharing groups", user(Role.ANALYST), Action.MANAGE_GROUPS, False),
    ("auditor reads the ledger", user(Role.AUDITOR, scopes=READ_ONLY), Action.READ_AUDIT, True),
    ("auditor verifies the ledger", user(Role.AUDITOR, scopes=READ_ONLY), Action.VERIFY_AUDIT, True),
    ("auditor without the read scope", user(Role.AUDITOR, scopes=ADMIN_SCOPE_ONLY), Action.READ_AUDIT, False),
    ("coordinator may not read the ledger", user(Role.COORDINATOR), Action.READ_AUDIT, False),
    ("coordinator reads background jobs", user(Role.COORDINATOR, scopes=READ_ONLY), Action.READ_JOBS, True),
    ("auditor reads background jobs", user(Role.AUDITOR, scopes=READ_ONLY), Action.READ_JOBS, True),
    ("analyst may not read background jobs", user(Role.ANALYST), Action.READ_JOBS, False),
    (
        "analyst reads pipeline reputations",
        user(Role.ANALYST, scopes=READ_ONLY),
        Action.READ_REPUTATION,
        True,
    ),
    (
        "auditor reads pipeline reputations",
        user(Role.AUDITOR, scopes=READ_ONLY),
        Action.READ_REPUTATION,
        True,
    ),
    ("partner may not read pipeline reputations", user(), Action.READ_REPUTATION, False),
    ("coordinator loads reference data", user(Role.COORDINATOR), Action.LOAD_REFERENCE_DATA, True),
    ("analyst may not load reference data", user(Role.ANALYST), Action.LOAD_REFERENCE_DATA, False),
    ("anonymous may not read the ledger", ANONYMOUS, Action.READ_AUDIT, False),
]


@pytest.mark.parametrize(
    ("subject", "action", "expected"),
    [pytest.param(s, a, e, id=name) for name, s, a, e in PLATFORM_CASES],
)
def test_platform(subject: Subject, action: Action, expected: bool) -> None:
    assert can(subject, action) is expected


# -- tokens -------------------------------------------------------------------

READ_ADMIN = frozenset({Scope.READ, Scope.ADMIN})

TOKEN_CASES = [
    (
        "own token with scopes the token used holds",
        user(scopes=READ_ADMIN),
        Action.CREATE_TOKEN,
        token(scopes=READ_ONLY),
        True,
    ),
    (
        "own token escalating to the write scope",
        user(scopes=READ_ADMIN),
        Action.CREATE_TOKEN,
        token(scopes=READ_WRITE),
        False,
    ),
    (
        "own token without the admin scope",
        user(scopes=READ_WRITE),
        Action.CREATE_TOKEN,
        token(scopes=READ_ONLY),
        False,
    ),
    ("a token for someone else", user(), Action.CREATE_TOKEN, token(owner="bob", scopes=READ_ONLY), False),
    (
        "admin, a token for anyone",
        user(Role.ADMIN),
        Action.CREATE_TOKEN,
        token(owner="bob", scopes=ALL_SCOPES),
        True,
    ),
    ("anonymous creates no token", ANONYMOUS, Action.CREATE_TOKEN, token(scopes=frozenset()), False),
    ("revoking own token with a read-only token", user(scopes=READ_ONLY), Action.REVOKE_TOKEN, token(), True),
    (
        "revoking own token with a scopeless token",
        user(scopes=frozenset()),
        Action.REVOKE_TOKEN,
        token(),
        True,
    ),
    ("revoking someone else's token", user(), Action.REVOKE_TOKEN, token(owner="bob"), False),
    # Not stated in the docstring, which only says anyone may revoke their own.
    ("admin revoking someone else's token", user(Role.ADMIN), Action.REVOKE_TOKEN, token(owner="bob"), True),
    ("anonymous revokes nothing", ANONYMOUS, Action.REVOKE_TOKEN, token(owner="alice"), False),
    (
        "anonymous does not 'own' an ownerless token",
        ANONYMOUS,
        Action.REVOKE_TOKEN,
        Resource(kind="api_token", id="tok-1"),
        False,
    ),
]


@pytest.mark.parametrize(
    ("subject", "action", "resource", "expected"),
    [pytest.param(s, a, r, e, id=name) for name, s, a, r, e in TOKEN_CASES],
)
def test_tokens(subject: Subject, action: Action, resource: Resource, expected: bool) -> None:
    assert can(subject, action, resource) is expected


# -- authorize: what a refusal says ---------------------------------------------

RED_OTHER = marking(TLP.RED, owner="other")

AUTHORIZE_CASES = [
    ("reading another org's RED report", user(Role.COORDINATOR), Action.READ, report(RED_OTHER), NotFound),
    ("deleting another org's RED report", user(Role.ADMIN), Action.DELETE, report(RED_OTHER), NotFound),
    (
        "reading with a token lacking the read scope",
        user(scopes=ADMIN_SCOPE_ONLY),
        Action.READ,
        report(marking()),
        NotFound,
    ),
    (
        "an analyst deleting a readable report",
        user(Role.ANALYST, org="other"),
        Action.DELETE,
        report(marking()),
        Forbidden,
    ),
    (
        "an auditor updating its own org's report",
        user(Role.AUDITOR),
        Action.UPDATE,
        report(marking()),
        Forbidden,
    ),
    (
        "creating under a marking the creator cannot read",
        user(),
        Action.CREATE,
        report(marking(level=SECRET), id=None),
        Forbidden,
    ),
    (
        "escalating a token's scopes",
        user(scopes=READ_ADMIN),
        Action.CREATE_TOKEN,
        token(scopes=ALL_SCOPES),
        Forbidden,
    ),
    ("a third org reading a shared record", user(org="initech"), Action.READ, CONFLICT, NotFound),
    ("a party deleting a shared record", user(org="acme"), Action.DELETE, CONFLICT, Forbidden),
    ("triage by a partner who can read the finding", user(org="vendor"), Action.TRIAGE, FINDING, Forbidden),
    (
        "triage of its own org's finding by staff",
        user(Role.ANALYST, org="vendor"),
        Action.TRIAGE,
        FINDING,
        Forbidden,
    ),
    (
        "triage by staff who cannot read the finding",
        user(Role.ANALYST, org="x", clearance=U),
        Action.TRIAGE,
        report(marking(level=SECRET), id="f-2"),
        NotFound,
    ),
    ("allowed", user(), Action.UPDATE, report(marking()), None),
]


@pytest.mark.parametrize(
    ("subject", "action", "resource", "raises"),
    [pytest.param(s, a, r, e, id=name) for name, s, a, r, e in AUTHORIZE_CASES],
)
def test_authorize(
    subject: Subject, action: Action, resource: Resource, raises: type[Exception] | None
) -> None:
    if raises is None:
        authorize(subject, action, resource)
    else:
        with pytest.raises(raises):
            authorize(subject, action, resource)


def test_a_hidden_report_looks_exactly_like_a_missing_one() -> None:
    with pytest.raises(NotFound) as denied:
        authorize(user(Role.COORDINATOR), Action.READ, report(RED_OTHER, id="rpt-9"))
    missing = NotFound("report", "rpt-9")
    assert type(denied.value) is NotFound
    assert str(denied.value) == str(missing) == "report not found"
    assert denied.value.args == missing.args
    assert vars(denied.value) == vars(missing)


def test_an_unmarked_resource_is_nobodys_to_read() -> None:
    from clearinghouse.access import ALL_SCOPES, ANONYMOUS, Action, Resource, Role, Subject, can

    admin = Subject(user_id="u", org_id="o", roles=frozenset({Role.ADMIN}), scopes=ALL_SCOPES)
    unmarked = Resource(kind="campaign_conflict", id="c1")
    assert not can(ANONYMOUS, Action.READ, unmarked)
    assert not can(admin, Action.READ, unmarked)
    assert not can(admin, Action.UPDATE, unmarked)


def test_changes_need_a_signed_in_subject() -> None:
    from clearinghouse.access import TLP, Action, Marking, Resource, Role, Scope, Subject, can

    clear = Resource.marked("bulletin", "b1", Marking(owner_org_id="acme", tlp=TLP.CLEAR))
    forged = Subject(
        user_id=None, org_id="acme", roles=frozenset({Role.PARTNER}), scopes=frozenset({Scope.WRITE})
    )
    assert not can(forged, Action.UPDATE, clear)
    assert not can(forged, Action.DELETE, clear)
