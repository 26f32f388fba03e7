"""Priority, matching and directives.

A stored match (a case affecting a component of an asset) is marked as its
asset is, so the asset's owner and staff read it.
"""

from __future__ import annotations

from clearinghouse.access._actions import Action
from clearinghouse.access._predicates import DIRECTIVE_MANAGERS, PRIORITIZERS, can_read, needs
from clearinghouse.access._rules._rule import Rule
from clearinghouse.access._subject import Scope

RULES = (
    Rule(
        Action.PRIORITIZE,
        "Recording a case's scores and SSVC inputs, or when an agency was notified of a match "
        "under BOD 26-04, needs read access to the case (or match), `write` and a staff role "
        "(admin, coordinator, analyst).",
        lambda s, r: can_read(s, r) and needs(s, PRIORITIZERS, Scope.WRITE),
    ),
    Rule(
        Action.READ_QUEUE,
        "The priority queue is read by staff (admin, coordinator, analyst) with `read`.",
        lambda s, r: needs(s, PRIORITIZERS, Scope.READ),
    ),
    Rule(
        Action.READ_DIRECTIVES,
        "The directive tracker is read by every signed-in user with `read`.",
        lambda s, r: s.authenticated and Scope.READ in s.scopes,
    ),
    Rule(
        Action.MANAGE_DIRECTIVES,
        "Adding and editing directives needs the admin role and the `admin` scope.",
        lambda s, r: needs(s, DIRECTIVE_MANAGERS, Scope.ADMIN),
    ),
)
