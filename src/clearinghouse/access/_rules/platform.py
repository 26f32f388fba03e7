"""Objects and the platform.

Reading a marked object needs every one of its markings (its own and each
container's) to admit the subject, so the most restrictive marking wins:

* classification: the subject's clearance is at least the marking's level and
  the subject holds every compartment the marking names;
* TLP:CLEAR admits everyone, signed in or not; TLP:GREEN any signed-in user;
  TLP:AMBER the owning organization, members of the marking's sharing groups
  and clearinghouse staff (admin, coordinator, analyst), who receive it on the
  community's behalf; TLP:AMBER+STRICT the owning organization and staff only;
  TLP:RED the owning organization and the named recipients (sharing groups)
  only, staff included only if named;
* the token used carries the ``read`` scope.

A record shared between parties (an overlap between two organizations' scan
campaigns) lists its parties' markings as ``any_of``: one of them must admit.
A resource that carries no marking at all is readable by nobody (fail closed).
"""

from __future__ import annotations

from clearinghouse.access._actions import Action, Resource
from clearinghouse.access._predicates import (
    ADMINS,
    AUDIT_READERS,
    GROUP_MANAGERS,
    JOB_READERS,
    STAFF_DELETERS,
    STAFF_UPDATERS,
    can_change,
    can_create,
    can_read,
    needs,
)
from clearinghouse.access._rules._rule import Rule
from clearinghouse.access._subject import Role, Scope, Subject


def _create_token(subject: Subject, resource: Resource) -> bool:
    if not subject.authenticated or Scope.ADMIN not in subject.scopes:
        return False
    if Role.ADMIN in subject.roles:
        return True
    return resource.owner_user_id == subject.user_id and resource.scopes <= subject.scopes


def _revoke_token(subject: Subject, resource: Resource) -> bool:
    if not subject.authenticated:
        return False
    if resource.owner_user_id == subject.user_id:
        return True
    return Role.ADMIN in subject.roles and Scope.ADMIN in subject.scopes


RULES = (
    Rule(
        Action.READ,
        "Every marking of the object and its containers admits the subject (and one of its "
        "`any_of` markings, if it lists them), and a signed-in subject's token carries `read`.",
        can_read,
    ),
    Rule(
        Action.CREATE,
        "`write`, a role other than auditor, read access to the proposed marking, and the "
        "subject's own organization as owner unless the subject is an admin or coordinator.",
        can_create,
    ),
    Rule(
        Action.UPDATE,
        "Read access, `write`, and membership of the owning organization (any role but auditor) "
        "or the admin, coordinator or analyst role.",
        lambda s, r: can_change(s, r, STAFF_UPDATERS),
    ),
    Rule(
        Action.DELETE,
        "Read access, `write`, and membership of the owning organization (any role but auditor) "
        "or the admin or coordinator role.",
        lambda s, r: can_change(s, r, STAFF_DELETERS),
    ),
    Rule(
        Action.MANAGE_ORGS,
        "Managing organizations needs the admin role and the `admin` scope.",
        lambda s, r: needs(s, ADMINS, Scope.ADMIN),
    ),
    Rule(
        Action.MANAGE_USERS,
        "Managing users needs the admin role and the `admin` scope.",
        lambda s, r: needs(s, ADMINS, Scope.ADMIN),
    ),
    Rule(
        Action.MANAGE_GROUPS,
        "Managing sharing groups needs the admin or coordinator role and the `admin` scope.",
        lambda s, r: needs(s, GROUP_MANAGERS, Scope.ADMIN),
    ),
    Rule(
        Action.CREATE_TOKEN,
        "A user creates tokens for themself (`admin` scope) never with a scope they do not hold; "
        "an admin (`admin` scope) creates them for anyone, with any scopes.",
        _create_token,
    ),
    Rule(
        Action.REVOKE_TOKEN,
        "Anyone signed in revokes their own token; an admin (`admin` scope) anyone's.",
        _revoke_token,
    ),
    Rule(
        Action.READ_AUDIT,
        "Reading the audit ledger needs the admin or auditor role and `read`.",
        lambda s, r: needs(s, AUDIT_READERS, Scope.READ),
    ),
    Rule(
        Action.VERIFY_AUDIT,
        "Verifying the audit ledger needs the admin or auditor role and `read`.",
        lambda s, r: needs(s, AUDIT_READERS, Scope.READ),
    ),
    Rule(
        Action.READ_JOBS,
        "Reading background jobs' records needs the admin, coordinator or auditor role and `read`.",
        lambda s, r: needs(s, JOB_READERS, Scope.READ),
    ),
    Rule(
        Action.LOAD_REFERENCE_DATA,
        "Loading reference data (public advisories, KEV, EPSS) needs the admin or coordinator "
        "role and the `admin` scope.",
        lambda s, r: needs(s, GROUP_MANAGERS, Scope.ADMIN),
    ),
)
