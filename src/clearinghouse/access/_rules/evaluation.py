"""Frontier evaluation (benchmark suites, their tasks, campaigns and results).

Read by cleared government roles whose clearance admits the classification and
compartments of every marking in the chain (a task's and its suite's; a result's
and its campaign's); TLP does not admit anyone here. The endpoint a campaign
runs against is opened under the frontier model review rules. A suite, campaign
or result a subject may not read is reported as missing. Registering and running
also need the ``read`` scope.
"""

from __future__ import annotations

from clearinghouse.access._actions import Action
from clearinghouse.access._predicates import EVAL_READERS, EVAL_RUNNERS, SUITE_REGISTRARS, frontier_cleared
from clearinghouse.access._rules._rule import Rule
from clearinghouse.access._subject import Scope

RULES = (
    Rule(
        Action.READ_EVALUATION,
        "Read by the evaluator, determination-authority or admin role with `read`, cleared "
        "for every marking in the chain.",
        lambda s, r: frontier_cleared(s, r, EVAL_READERS, Scope.READ),
    ),
    Rule(
        Action.REGISTER_SUITE,
        "Registering a suite needs the evaluator or admin role, `write` and clearance for the "
        "marking it declares.",
        lambda s, r: frontier_cleared(s, r, SUITE_REGISTRARS, Scope.WRITE),
    ),
    Rule(
        Action.RUN_EVALUATION,
        "Running a campaign needs the evaluator role, `write` and clearance for every suite "
        "and task it runs.",
        lambda s, r: frontier_cleared(s, r, EVAL_RUNNERS, Scope.WRITE),
    ),
)
