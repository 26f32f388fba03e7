"""Inventory use cases: registering an asset from its SBOM, reading assets; reading stored matches."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from clearinghouse.access import TLP, Action, Marking, NotFound, Resource, Subject, authorize, can, visible
from clearinghouse.access.services import find_organization, get_readable
from clearinghouse.errors import InvalidInput
from clearinghouse.matching._index import component_keys
from clearinghouse.matching._sbom import parse_sbom
from clearinghouse.matching._stored import ASSET_JOB
from clearinghouse.matching.models import AdvisoryMatch, Asset, AssetComponent, CaseMatch, Criticality
from clearinghouse.storage import UnitOfWork, new_id
from clearinghouse.triage.models import Case

_CHUNK = 5000


def asset_resource(asset: Asset) -> Resource:
    return Resource.marked("asset", asset.id, asset.marking)


@dataclass(frozen=True)
class AssetDraft:
    name: str
    sbom: bytes
    filename: str | None = None
    org: str | None = None  # defaults to the subject's organization
    internet_exposed: bool = False
    criticality: str = Criticality.MEDIUM.value


def register_asset(uow: UnitOfWork, subject: Subject, draft: AssetDraft) -> tuple[Asset, bool]:
    """Register an asset from its SBOM (validated; an invalid one is refused with the
    validator's reason). The same SBOM for the same asset name again is a no-op;
    a new SBOM under the same name replaces the components. A new or changed asset
    queues ``matching.asset`` in the same unit of work."""
    owner_ref = draft.org or subject.org_id
    owner = find_organization(uow.session, owner_ref) if owner_ref else None
    if owner is None:
        raise InvalidInput(f"no organization {owner_ref!r}", "/org")
    try:
        criticality = Criticality(draft.criticality).value
    except ValueError:
        allowed = ", ".join(c.value for c in Criticality)
        raise InvalidInput(f"{draft.criticality!r} is not one of: {allowed}", "/criticality") from None
    name = draft.name.strip()
    if not name or len(name) > 300:
        raise InvalidInput("an asset name is 1-300 characters", "/name")
    marking = Marking(owner_org_id=owner.id, tlp=TLP.AMBER_STRICT)
    authorize(subject, Action.CREATE, Resource.marked("asset", None, marking))
    parsed = parse_sbom(draft.sbom, draft.filename)
    digest = hashlib.sha256(draft.sbom).hexdigest()
    asset = uow.session.scalar(select(Asset).where(Asset.owner_org_id == owner.id, Asset.name == name))
    if asset is not None:
        authorize(subject, Action.UPDATE, asset_resource(asset))
        unchanged = (
            asset.sbom_sha256 == digest
            and asset.internet_exposed == draft.internet_exposed
            and asset.criticality == criticality
        )
        if unchanged:
            return asset, False
        uow.session.execute(delete(AssetComponent).where(AssetComponent.asset_id == asset.id))
    else:
        asset = Asset(id=new_id(), name=name)
        asset.set_marking(marking)
        uow.session.add(asset)
    asset.internet_exposed = draft.internet_exposed
    asset.criticality = criticality
    asset.sbom_format = parsed.format
    asset.sbom_spec_version = parsed.spec_version
    asset.sbom_sha256 = digest
    asset.component_count = len(parsed.components)
    asset.warnings = "\n".join(parsed.warnings)
    uow.audit_as(asset, "asset.registered", sbom_sha256=digest, components=len(parsed.components))
    uow.flush()
    rows = []
    for c in parsed.components:
        package_key, alias_key = component_keys(c)
        rows.append(
            {
                "id": new_id(),
                "asset_id": asset.id,
                "purl": c.purl,
                "ecosystem": c.ecosystem,
                "name": c.name[:500],
                "version": c.version,
                "cpe": c.cpe,
                "bom_ref": c.bom_ref,
                "pointer": c.pointer[:500],
                "package_key": package_key or "",
                "alias_key": alias_key,
            }
        )
    for start in range(0, len(rows), _CHUNK):
        uow.session.execute(insert(AssetComponent), rows[start : start + _CHUNK])
    uow.enqueue(ASSET_JOB, {"asset_id": asset.id})
    return asset, True


def get_asset(session: Session, subject: Subject, asset_id: str) -> Asset:
    return get_readable(session, subject, Asset, asset_id, "asset", asset_resource)


def list_assets(session: Session, subject: Subject) -> list[Asset]:
    rows = session.scalars(select(Asset).order_by(Asset.name, Asset.id))
    return list(visible(subject, rows, asset_resource))


def asset_components(
    session: Session, subject: Subject, asset_id: str, limit: int = 1000
) -> list[AssetComponent]:
    asset = get_asset(session, subject, asset_id)
    query = select(AssetComponent).where(AssetComponent.asset_id == asset.id).order_by(AssetComponent.pointer)
    return list(session.scalars(query.limit(limit)))


# -- stored matches ----------------------------------------------------------


def match_resource(match: CaseMatch) -> Resource:
    """A match is marked as its asset is: the asset's owner and staff read it."""
    return Resource.marked("match", match.id, match.marking)


def advisory_match_resource(match: AdvisoryMatch) -> Resource:
    """A public advisory's match is marked as its asset is, like a case's."""
    return Resource.marked("match", match.id, match.marking)


def _case_resource(case: Case) -> Resource:
    return Resource.marked("case", case.id, case.marking)


def matches_for_case(session: Session, subject: Subject, case_id: str) -> list[CaseMatch]:
    """The stored matches of a case that ``subject`` may read. Staff see every one; an asset
    owner sees those on its own assets (even of a case it cannot read otherwise); anyone
    else gets :class:`NotFound`, as for a missing case."""
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound("case", case_id)
    rows = session.scalars(
        select(CaseMatch)
        .where(CaseMatch.case_id == case_id)
        .order_by(CaseMatch.asset_id, CaseMatch.component_pointer, CaseMatch.id)
    )
    out = list(visible(subject, rows, match_resource))
    if not out and not can(subject, Action.READ, _case_resource(case)):
        raise NotFound("case", case_id)
    return out


def matches_for_asset(session: Session, subject: Subject, asset_id: str) -> list[CaseMatch]:
    """The stored matches on one asset (the asset must be readable: its owner's or staff's)."""
    asset = get_asset(session, subject, asset_id)
    rows = session.scalars(
        select(CaseMatch)
        .where(CaseMatch.asset_id == asset.id)
        .order_by(CaseMatch.case_id, CaseMatch.component_pointer, CaseMatch.id)
    )
    return list(visible(subject, rows, match_resource))
