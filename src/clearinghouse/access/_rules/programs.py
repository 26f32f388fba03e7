"""Defensive-tool programs.

A program is TLP:GREEN (every signed-in participant may read it and apply); one
that offers a model also lists, as ``any_of``, its operator, the model's
developer and the participant organizations the developer consented to (each
AMBER+STRICT, so staff read it too), which narrows who sees it (consent is the
frontier rule ``frontier.model.offer``). Applications and grants are
TLP:AMBER+STRICT for the applying organization (it and staff read them).
"""

from __future__ import annotations

from clearinghouse.access._actions import Action
from clearinghouse.access._predicates import PROGRAM_MANAGERS, can_read, needs, owns
from clearinghouse.access._rules._rule import Rule
from clearinghouse.access._subject import Role, Scope

RULES = (
    Rule(
        Action.MANAGE_PROGRAMS,
        "Creating and changing programs, deciding applications and revoking grants need the "
        "admin or coordinator role and the `admin` scope.",
        lambda s, r: needs(s, PROGRAM_MANAGERS, Scope.ADMIN),
    ),
    Rule(
        Action.APPLY_TO_PROGRAM,
        "Applying needs `write`, a role other than auditor, an organization, and read access to the program.",
        lambda s, r: (
            s.org_id is not None
            and Scope.WRITE in s.scopes
            and bool(s.roles - {Role.AUDITOR})
            and can_read(s, r)
        ),
    ),
    Rule(
        Action.REPORT_GRANT_USAGE,
        "Reporting usage on a grant needs `write`, read access and membership of the grant's "
        "organization (not as auditor).",
        lambda s, r: Scope.WRITE in s.scopes and can_read(s, r) and owns(s, r),
    ),
)
