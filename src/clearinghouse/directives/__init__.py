"""Directives: what the order (EO 14409) and CISA's BOD 26-04 require of whom and by when.

* The directive tracker: a registry of directives (actor, office acting through it, those
  consulted, signing date, due date = signing date + days or an explicit date, standing,
  status, deliverable, source section), pre-loaded from
  ``clearinghouse/data/directives/eo14409.json`` where the schema is prepared
  (``Runtime.migrate``, so ``clearinghouse init``; reads never write) and edited by
  administrators; overdue items
  are flagged against a given day (``Directive.is_overdue``).
* BOD 26-04 compliance: for each KEV-listed case matched on an agency's asset, the table's
  outcome from its four inputs (in KEV, publicly exposed, automatable, technical impact) and
  the deadline from when the agency was notified (``bod_26_04_compliance``).

API under ``/api/v1/directives``; CLI ``clearinghouse directives list``.
"""

from clearinghouse.directives.models import Bod2604Notice, Directive, DirectiveStatus
from clearinghouse.directives.services import (
    AgencyCompliance,
    ComplianceItem,
    DirectiveDraft,
    bod_26_04_compliance,
    create_directive,
    ensure_seeded,
    get_directive,
    list_directives,
    record_notice,
    seed_document,
    seed_registry,
    update_directive,
)

__all__ = [
    "AgencyCompliance",
    "Bod2604Notice",
    "ComplianceItem",
    "Directive",
    "DirectiveDraft",
    "DirectiveStatus",
    "bod_26_04_compliance",
    "create_directive",
    "ensure_seeded",
    "get_directive",
    "list_directives",
    "record_notice",
    "seed_document",
    "seed_registry",
    "update_directive",
]
