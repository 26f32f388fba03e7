"""TAXII 2.1: the clearinghouse's STIX collections, served under ``/taxii2/``.

Owns TAXII collections (marked, with writer organizations and sharing groups),
the STIX objects in them (each version kept with its date added, its TLP from
``object_marking_refs`` and the organization that sent it) and the status of
every request that added objects. Reads and writes go through the one access
policy. Other parts publish with :func:`add_objects`.
"""

from clearinghouse.sharing.taxii._stix import (
    TLP_MARKING_DEFINITIONS,
    TLP_MARKING_IDS,
    StixError,
    check_object,
)
from clearinghouse.sharing.taxii.models import TaxiiCollection, TaxiiObject, TaxiiStatus
from clearinghouse.sharing.taxii.services import (
    CollectionDraft,
    Filters,
    Status,
    StatusDetail,
    add_objects,
    create_collection,
    delete_object,
    get_collection,
    get_status,
    list_collections,
    page,
)

__all__ = [
    "TLP_MARKING_DEFINITIONS",
    "TLP_MARKING_IDS",
    "CollectionDraft",
    "Filters",
    "Status",
    "StatusDetail",
    "StixError",
    "TaxiiCollection",
    "TaxiiObject",
    "TaxiiStatus",
    "add_objects",
    "check_object",
    "create_collection",
    "delete_object",
    "get_collection",
    "get_status",
    "list_collections",
    "page",
]
