"""Sharing: the TAXII 2.1 server, exports and feeds.

A TAXII collection carries a marking and a list of writers (organizations and
sharing groups, ``Resource.writers``). Reading it and its objects is ordinary
read access; an object is read through its own marking (the TLP of its
``object_marking_refs``, owned by the organization that sent it) and the
collection's, so the more restrictive wins. An object id belongs to the
organization that first wrote it, and no other (staff included) adds versions of
it (``sharing/taxii/services.py``). Deleting an object needs TAXII write access
and ordinary delete rights on the object.

Exports and feeds (CSAF, OSV, CVE 5, STIX and OpenVEX exports, the OSV query
API, the CSAF provider directories): an advisory imported from a public
database is an ordinary read of a TLP:CLEAR resource (everyone, anonymous
callers included; a token needs ``read``). A case advisory is read only
through coordination, as an ordinary read of its published revision's
markings (the feeds show published revisions only; an export for review also
gives whoever reads the case its draft). One rule for revisions everywhere
(``/revisions``, the feeds, the review export, ``/coordination/advisory``): a
published revision is read only through its own marking, so a TLP:RED revision
that does not name the reader is hidden from it, staff included, and a draft
lists only the revisions its reader may read. The CSAF provider's ``green``,
``amber`` and ``red`` directories answer 401 to anonymous callers; inside them
each caller sees only the documents it may read, and a denied document is the
same 404 as a missing one.
"""

from __future__ import annotations

from clearinghouse.access._actions import Action, Resource
from clearinghouse.access._predicates import TAXII_MANAGERS, can_read, mine, needs, owns
from clearinghouse.access._rules._rule import Rule
from clearinghouse.access._subject import Role, Scope, Subject


def _write(subject: Subject, resource: Resource) -> bool:
    if not subject.authenticated or Scope.WRITE not in subject.scopes or not can_read(subject, resource):
        return False
    if not subject.roles - {Role.AUDITOR}:
        return False
    own_org = subject.org_id is not None and subject.org_id in resource.writers
    writer = own_org or bool(subject.sharing_group_ids & resource.writers)
    return writer or owns(subject, resource) or bool(subject.roles & TAXII_MANAGERS)


def _read_status(subject: Subject, resource: Resource) -> bool:
    if not can_read(subject, resource):
        return False
    return mine(subject, resource) or bool(subject.roles & TAXII_MANAGERS)


RULES = (
    Rule(
        Action.TAXII_WRITE,
        "Adding objects to a collection needs `write`, a role other than auditor, read access "
        "to the collection, and a writer organization or sharing group, the owning "
        "organization, or the admin or coordinator role.",
        _write,
    ),
    Rule(
        Action.TAXII_MANAGE,
        "Creating and changing collections needs the admin or coordinator role and the `admin` scope.",
        lambda s, r: needs(s, TAXII_MANAGERS, Scope.ADMIN),
    ),
    Rule(
        Action.TAXII_READ_STATUS,
        "A status resource is read by whoever made the request, or by an admin or coordinator, "
        "if they can read the collection.",
        _read_status,
    ),
)
