"""Reproduction lab: running a finding's proof of concept in the sandbox, and reading the runs."""

from __future__ import annotations

from clearinghouse.access._actions import Action
from clearinghouse.access._predicates import TRIAGERS, can_read, needs
from clearinghouse.access._rules._rule import Rule
from clearinghouse.access._subject import Scope

RULES = (
    Rule(
        Action.REPRODUCE,
        # Triagers of any organization that can read the finding, the submitter's included:
        # running a proof of concept in the sandbox judges nothing by itself.
        "Reproducing a finding needs read access to it, the admin, coordinator or analyst role "
        "and `write`; the submitter's own staff may, since a run judges nothing by itself.",
        lambda s, r: can_read(s, r) and needs(s, TRIAGERS, Scope.WRITE),
    ),
    Rule(
        Action.READ_REPRODUCTIONS,
        "A finding's reproductions are read by any signed-in subject with `read` who can read the finding.",
        lambda s, r: s.authenticated and Scope.READ in s.scopes and can_read(s, r),
    ),
)
