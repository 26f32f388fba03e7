"""Web console.

The public transparency report is an ordinary read of a TLP:CLEAR resource: it
holds only aggregates (counts, medians, validity rates of pipelines with enough
decisions) and counts of published TLP:CLEAR records.
"""

from __future__ import annotations

from clearinghouse.access._actions import Action
from clearinghouse.access._predicates import TIMELINE_READERS, can_read, needs
from clearinghouse.access._rules._rule import Rule
from clearinghouse.access._subject import Scope

RULES = (
    Rule(
        Action.READ_CASE_TIMELINE,
        "A case's timeline (the ledger's events about the case and the findings in it the "
        "viewer may read) is read by staff (admin, coordinator, analyst) and auditors with "
        "`read` who can read the case.",
        lambda s, r: can_read(s, r) and needs(s, TIMELINE_READERS, Scope.READ),
    ),
)
