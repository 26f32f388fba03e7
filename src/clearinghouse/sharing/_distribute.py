"""Automatic distribution of a published advisory revision.

``coordination.publish`` queues ``sharing.distribute`` in the unit of work that publishes (or
revises) the advisory. The job, in one transaction:

* adds the revision's STIX 2.1 objects to every TAXII collection configured for the revision's
  TLP (``taxii_collections.advisory_tlps``), as the collection's owner's distribution service;
* notes where the CSAF trusted provider (``/.well-known/csaf/<tlp>/<year>/<file>.json``) and
  the OSV API (``/v1/vulns/<id>``) serve it: both read the published revisions as they are,
  so the document is there from the publishing transaction's commit, with nothing to copy;
* records one ledger event (``advisory.distributed``) naming every feed;
* raises an ``advisory_published`` notification for each organization whose registered assets
  the case matches ("an advisory for my product"), marked so that only that organization (and
  staff) who may read the revision hear of it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from clearinghouse.access import ALL_SCOPES, TLP, Resource, Role, Subject
from clearinghouse.storage import UnitOfWork

DISTRIBUTE_JOB = "sharing.distribute"


def _distributor(collection: Any) -> Subject:
    """The owner organization's distribution service for one collection (a TAXII writer there)."""
    marking = collection.marking
    return Subject(
        user_id="system:advisory-distribution",
        org_id=marking.owner_org_id,
        roles=frozenset({Role.COORDINATOR}),
        clearance=marking.classification,
        compartments=marking.compartments,
        sharing_group_ids=marking.sharing_group_ids,
        scopes=ALL_SCOPES,
    )


def collections_for(session: Session, tlp: str) -> list[Any]:
    from clearinghouse.sharing.taxii.models import TaxiiCollection

    rows = session.scalars(select(TaxiiCollection).order_by(TaxiiCollection.created_at, TaxiiCollection.id))
    return [c for c in rows if tlp in (c.advisory_tlps or [])]


def distribute(uow: UnitOfWork, revision_id: str) -> dict[str, Any]:
    """Put one published revision into every feed configured for its TLP; returns what was done."""
    from clearinghouse.coordination import record_from_json
    from clearinghouse.coordination.models import AdvisoryRevision
    from clearinghouse.sharing.exports import filename, tlp_folder, to_stix
    from clearinghouse.sharing.taxii.services import add_objects

    session = uow.session
    revision = session.get(AdvisoryRevision, revision_id)
    if revision is None:
        return {"revision_id": revision_id, "gone": True}
    record = record_from_json(revision.record)
    objects = to_stix(record)["objects"]
    taxii: list[dict[str, Any]] = []
    for collection in collections_for(session, TLP(revision.tlp).value):
        status = add_objects(uow, _distributor(collection), collection.id, list(objects))
        taxii.append(
            {
                "collection_id": collection.id,
                "added": len(status.successes),
                "failed": [f"{f.id}: {f.message}" for f in status.failures][:20],
            }
        )
    year = (record.published or record.modified).year
    done = {
        "revision_id": revision.id,
        "advisory_id": record.id,
        "revision": revision.number,
        "tlp": revision.tlp,
        "taxii": taxii,
        "csaf": f"/.well-known/csaf/{tlp_folder(record)}/{year}/{filename(record.id)}",
        "osv": f"/v1/vulns/{record.id}",
    }
    uow.record("advisory.distributed", "advisory_revision", revision.id, **done)
    notify_matched_owners(uow, revision, record.id, record.title)
    return done


def notify_matched_owners(uow: UnitOfWork, revision: Any, advisory_id: str, title: str) -> int:
    """One ``advisory_published`` event per organization with assets the case matches."""
    from clearinghouse.matching.models import Asset, CaseMatch
    from clearinghouse.notifications import Event, EventKind, emit

    session = uow.session
    rows = list(session.scalars(select(CaseMatch).where(CaseMatch.case_id == revision.case_id)))
    by_asset: dict[str, list[CaseMatch]] = {}
    for row in rows:
        by_asset.setdefault(row.asset_id, []).append(row)
    raised = 0
    for asset in session.scalars(select(Asset).where(Asset.id.in_(sorted(by_asset))).order_by(Asset.name)):
        components = sorted({m.component_purl or m.component_name for m in by_asset[asset.id]})
        verb = "published" if revision.number == 1 else f"revised (revision {revision.number})"
        emit(
            uow,
            Event(
                kind=EventKind.ADVISORY_PUBLISHED,
                title=(
                    f"Advisory {advisory_id} {verb} for {', '.join(components[:3])} on asset {asset.name!r}"
                ),
                # Only who may read both the revision and the asset hears of it.
                resource=Resource.marked("advisory_revision", revision.id, revision.marking, asset.marking),
                case_id=revision.case_id,
                payload={
                    "advisory_id": advisory_id,
                    "revision": revision.number,
                    "title": title,
                    "asset_id": asset.id,
                    "components": components[:50],
                },
            ),
        )
        raised += 1
    return raised
