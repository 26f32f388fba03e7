"""The frontier evaluation rules of the one policy (pure): who reads, registers and runs what."""

from __future__ import annotations

import pytest

from clearinghouse.access import TLP, Action, Classification, Marking, Resource, Role, Scope, Subject, can
from clearinghouse.access._policy import Forbidden, NotFound, authorize

GOV, DEV = "gov-org", "dev-org"
SECRET_HCS = Marking(GOV, TLP.GREEN, Classification.SECRET, frozenset({"HCS"}))
UNCLASSIFIED = Marking(GOV, TLP.GREEN)


def who(
    *roles: Role,
    clearance: Classification = Classification.TOP_SECRET,
    compartments: frozenset[str] = frozenset({"HCS"}),
    scopes: frozenset[Scope] = frozenset({Scope.READ, Scope.WRITE}),
    org: str = GOV,
) -> Subject:
    return Subject("u", org, frozenset(roles), clearance, compartments, frozenset(), scopes)


def suite(*markings: Marking) -> Resource:
    return Resource.marked("eval_suite", "s1", *markings)


@pytest.mark.parametrize(
    ("subject", "read", "register", "run"),
    [
        (who(Role.EVALUATOR), True, True, True),
        (who(Role.ADMIN), True, True, False),
        (who(Role.DETERMINATION_AUTHORITY), True, False, False),
        (who(Role.EVALUATOR, clearance=Classification.CUI), False, False, False),
        (who(Role.EVALUATOR, compartments=frozenset()), False, False, False),
        (who(Role.EVALUATOR, scopes=frozenset({Scope.READ})), True, False, False),
        (who(Role.ANALYST), False, False, False),
        (who(Role.MODEL_DEVELOPER, org=DEV), False, False, False),
        (who(Role.AUDITOR), False, False, False),
        (Subject(), False, False, False),
    ],
)
def test_classified_suites_need_a_cleared_government_role(
    subject: Subject, read: bool, register: bool, run: bool
) -> None:
    resource = suite(SECRET_HCS, UNCLASSIFIED)
    assert can(subject, Action.READ_EVALUATION, resource) is read
    assert can(subject, Action.REGISTER_SUITE, resource) is register
    assert can(subject, Action.RUN_EVALUATION, resource) is run


def test_every_marking_in_the_chain_must_admit() -> None:
    low = who(Role.EVALUATOR, clearance=Classification.SECRET, compartments=frozenset())
    assert can(low, Action.READ_EVALUATION, suite(UNCLASSIFIED))
    assert not can(low, Action.READ_EVALUATION, suite(UNCLASSIFIED, SECRET_HCS))
    assert not can(low, Action.READ_EVALUATION, Resource(kind="eval_suite", id="s1"))  # unmarked: nobody


def test_a_hidden_suite_is_not_found_and_a_readable_one_forbidden() -> None:
    with pytest.raises(NotFound):
        authorize(who(Role.EVALUATOR, clearance=Classification.CUI), Action.RUN_EVALUATION, suite(SECRET_HCS))
    with pytest.raises(Forbidden):
        authorize(who(Role.DETERMINATION_AUTHORITY), Action.RUN_EVALUATION, suite(SECRET_HCS))
