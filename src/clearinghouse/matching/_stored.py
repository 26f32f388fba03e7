"""Stored matches: validated cases against registered inventories, kept in the ``matches`` table.

Two jobs keep the table in step (``matching/tasks.py``): ``matching.case`` runs a
validated case against every inventory, ``matching.asset`` runs a new or changed
asset against every validated case. Both compute the complete answer for their
side and then make the stored rows equal to it (insert what is new, update what
changed, delete what no longer holds), by the natural key (case, asset,
component); so running a job twice leaves the same rows, with the same ids and
the same ``created_at``.

A case is *validated* once any of its findings is; its affected packages are
those of its validated findings (``package``: purl with version or vers range).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from clearinghouse.domain import MATCH_CASE_JOB
from clearinghouse.intake.models import Finding, FindingState
from clearinghouse.matching._index import AffectedPackage, Match, MatchIndex, Vulnerability
from clearinghouse.matching._names import GENERIC
from clearinghouse.matching.models import Asset, AssetComponent, CaseMatch
from clearinghouse.storage import new_id
from clearinghouse.triage.models import Case

CASE_JOB = MATCH_CASE_JOB
ASSET_JOB = "matching.asset"


def validated_case_ids(session: Session) -> list[str]:
    rows = session.scalars(
        select(Finding.case_id)
        .where(Finding.state == FindingState.VALIDATED, Finding.case_id.is_not(None))
        .distinct()
    )
    return sorted(r for r in rows if r is not None)


def _validated_members(session: Session, case_ids: Iterable[str]) -> dict[str, list[Finding]]:
    ids = list(case_ids)
    out: dict[str, list[Finding]] = defaultdict(list)
    if not ids:
        return out
    rows = session.scalars(
        select(Finding)
        .where(Finding.case_id.in_(ids), Finding.state == FindingState.VALIDATED)
        .order_by(Finding.received_at, Finding.id)
    )
    for finding in rows:
        assert finding.case_id is not None
        out[finding.case_id].append(finding)
    return out


def _vulnerability(case_id: str, findings: list[Finding]) -> Vulnerability | None:
    """The case's affected packages: one per validated finding (a malformed one is left out)."""
    affected: list[AffectedPackage] = []
    seen: set[tuple[str, str | None, str | None]] = set()
    for i, finding in enumerate(findings):
        package = finding.document.get("package") if isinstance(finding.document, Mapping) else None
        if not isinstance(package, Mapping) or not isinstance(package.get("purl"), str):
            continue
        ident = (str(package["purl"]), package.get("vers"), package.get("version"))
        if ident in seen:
            continue
        seen.add(ident)
        try:
            affected.append(
                AffectedPackage.from_purl(
                    ident[0], vers=ident[1], version=ident[2], pointer=f"/findings/{i}/package"
                )
            )
        except ValueError:
            continue
    return Vulnerability(case_id, tuple(affected)) if affected else None


def case_vulnerability(session: Session, case_id: str) -> Vulnerability | None:
    """The vulnerability a validated case stands for; None if no finding of it is validated."""
    return _vulnerability(case_id, _validated_members(session, [case_id]).get(case_id, []))


def match_key(case_id: str, asset_id: str, component: AssetComponent) -> str:
    parts = (
        case_id,
        asset_id,
        component.pointer,
        component.purl or "",
        component.name,
        component.version or "",
    )
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()


@dataclass(frozen=True)
class SyncReport:
    created: int
    updated: int
    deleted: int
    new_ids: tuple[str, ...] = ()  # the rows created


_FIELDS = (
    "component_purl",
    "component_name",
    "component_version",
    "component_pointer",
    "package",
    "package_pointer",
    "matched_range",
    "rule",
    "confidence",
    "affected",
    "explanation",
)


def _row(case_id: str, asset: Asset, match: Match) -> dict[str, Any]:
    component = match.component
    assert isinstance(component, AssetComponent)
    named = match._replace(inventory=f"asset {asset.name!r}")
    return {
        "key": match_key(case_id, asset.id, component),
        "case_id": case_id,
        "asset_id": asset.id,
        "component_purl": component.purl,
        "component_name": component.name,
        "component_version": match.version,
        "component_pointer": component.pointer,
        "package": match.package[:600],
        "package_pointer": match.pointer[:100],
        "matched_range": (match.matched or match.reason)[:2000],
        "rule": match.rule,
        "confidence": match.confidence,
        "affected": match.affected,
        "explanation": named.explain(),
    }


def _sync(
    session: Session,
    existing: Iterable[CaseMatch],
    desired: dict[str, dict[str, Any]],
    assets: dict[str, Asset],
) -> SyncReport:
    created = updated = deleted = 0
    new_ids: list[str] = []
    held = {m.key: m for m in existing}
    for key, stale in held.items():
        if key not in desired:
            session.delete(stale)
            deleted += 1
    for key, values in desired.items():
        row = held.get(key)
        if row is None:
            row = CaseMatch(id=new_id(), key=key, case_id=values["case_id"], asset_id=values["asset_id"])
            row.set_marking(assets[values["asset_id"]].marking)
            for name in _FIELDS:
                setattr(row, name, values[name])
            session.add(row)
            created += 1
            new_ids.append(row.id)
            continue
        changed = False
        for name in _FIELDS:
            if getattr(row, name) != values[name]:
                setattr(row, name, values[name])
                changed = True
        marking = assets[values["asset_id"]].marking
        if row.marking != marking:
            row.set_marking(marking)
            changed = True
        updated += changed
    session.flush()
    return SyncReport(created, updated, deleted, tuple(new_ids))


def _components_by_asset(session: Session, query: Any) -> dict[str, list[AssetComponent]]:
    out: dict[str, list[AssetComponent]] = defaultdict(list)
    for component in session.scalars(query.order_by(AssetComponent.asset_id, AssetComponent.pointer)):
        out[component.asset_id].append(component)
    return out


def match_case(session: Session, case_id: str) -> SyncReport:
    """Store the matches of one case against every inventory (none if it is not validated)."""
    existing = list(session.scalars(select(CaseMatch).where(CaseMatch.case_id == case_id)))
    vuln = case_vulnerability(session, case_id) if session.get(Case, case_id) is not None else None
    desired: dict[str, dict[str, Any]] = {}
    assets: dict[str, Asset] = {}
    if vuln is not None:
        types = sorted({p.package.purl[0] for p in vuln.affected if p.package.purl is not None})
        conditions: list[Any] = [AssetComponent.ecosystem.in_(types)] if types else []
        if any(p.package.ecosystem == GENERIC for p in vuln.affected):
            conditions.append(AssetComponent.cpe.is_not(None))
        index = MatchIndex()
        if conditions:
            for asset_id, components in _components_by_asset(
                session, select(AssetComponent).where(or_(*conditions))
            ).items():
                index.add_inventory(asset_id, components)
        matches = index.affected_by(vuln)
        wanted = {m.inventory for m in matches}
        assets = {a.id: a for a in session.scalars(select(Asset).where(Asset.id.in_(wanted)))}
        for m in matches:
            values = _row(case_id, assets[m.inventory], m)
            desired[values["key"]] = values
    return _sync(session, existing, desired, assets)


def match_asset(session: Session, asset_id: str) -> SyncReport:
    """Store the matches of one asset against every validated case (none if the asset is gone)."""
    existing = list(session.scalars(select(CaseMatch).where(CaseMatch.asset_id == asset_id)))
    asset = session.get(Asset, asset_id)
    desired: dict[str, dict[str, Any]] = {}
    if asset is not None:
        index = MatchIndex()
        live_cases = {c for (c,) in session.execute(select(Case.id))}
        members = _validated_members(session, [c for c in validated_case_ids(session) if c in live_cases])
        for case_id, findings in members.items():
            vuln = _vulnerability(case_id, findings)
            if vuln is not None:
                index.add_vulnerability(vuln)
        components = (
            _components_by_asset(
                session, select(AssetComponent).where(AssetComponent.asset_id == asset_id)
            ).get(asset_id, [])
            if len(index)
            else []  # no validated case: nothing to match, the components need not be read
        )
        for m in index.match(components, asset_id):
            values = _row(m.vulnerability, asset, m)
            desired[values["key"]] = values
    return _sync(session, existing, desired, {asset_id: asset} if asset is not None else {})
