"""Stored advisory matches: every imported public advisory against every registered component.

The same :class:`MatchIndex`, rules, confidences and explanations as for validated cases
(``_stored``), kept in ``advisory_matches`` by two sides:

* :func:`match_asset_advisories` (job ``matching.asset``, with the case side): one asset's
  components against the advisories that name their packages (only those are loaded);
* :func:`match_advisories` (job ``matching.advisories``, queued by the advisory import in the
  unit of work that writes each chunk): new or changed advisories against the components
  of the packages they name (``asset_components.package_key``), with
  :meth:`MatchIndex.affected_by`.

Withdrawn advisories and RustSec-style ``informational`` ones (unmaintained, unsound
notices: not vulnerabilities) match nothing, and their rows are deleted. A row whose
component is no longer in its asset's SBOM (an upgrade) is not deleted but closed as
``fixed`` with the evidence (which version the newer SBOM lists), so the operator's record of
remediation stays; a row whose advisory was revised so that the installed version is out of
range is deleted. Running either side again leaves the same rows (natural key).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from clearinghouse.domain import canonical_ecosystem, normalize_name
from clearinghouse.intake.advisories.models import Advisory, AdvisoryAffected
from clearinghouse.matching._index import Match, MatchIndex, Vulnerability, component_keys
from clearinghouse.matching._ranges import UnorderedVersion, scheme_for_ecosystem
from clearinghouse.matching._stored import SyncReport
from clearinghouse.matching.models import AdvisoryMatch, Asset, AssetComponent, MatchStatus
from clearinghouse.storage import new_id, utcnow

ADVISORIES_JOB = "matching.advisories"
UPGRADE_EVIDENCE = "sbom-upgrade"  # ``status_changed_by`` of a match closed by a newer SBOM
_CHUNK = 900

_GHSA_SEVERITY = {
    "CRITICAL": "critical",
    "HIGH": "high",
    "MODERATE": "medium",
    "MEDIUM": "medium",
    "LOW": "low",
}


# -- what an advisory says --------------------------------------------------------------------


def is_informational(record: Mapping[str, Any]) -> bool:
    """A RustSec-style notice (``database_specific.informational``: unmaintained, unsound,
    notice), at the top or on every affected entry: not a vulnerability."""
    top = record.get("database_specific")
    if isinstance(top, Mapping) and top.get("informational"):
        return True
    entries = [e for e in record.get("affected") or [] if isinstance(e, Mapping)]
    return bool(entries) and all(
        isinstance(e.get("database_specific"), Mapping) and bool(e["database_specific"].get("informational"))
        for e in entries
    )


def vulnerability_ids(advisory_id: str, aliases: Iterable[str]) -> list[str]:
    """The advisory's own id and its aliases, CVEs first, each once."""
    ids = [advisory_id, *(str(a) for a in aliases)]
    unique = list(dict.fromkeys(i.strip() for i in ids if i and i.strip()))
    return sorted(unique, key=lambda i: (not i.upper().startswith("CVE-"), not i.startswith("GHSA-"), i))


def severity_of(record: Mapping[str, Any]) -> tuple[str | None, str | None, float | None]:
    """(severity, CVSS vector, base score): the highest-scoring CVSS vector the advisory gives,
    else the database's own rating (GHSA ``database_specific.severity``)."""
    from clearinghouse.priority import InvalidVector, parse_vector

    best: tuple[float, str, str] | None = None
    for entry in record.get("severity") or []:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("score"), str):
            continue
        try:
            score = parse_vector(entry["score"])
        except (InvalidVector, ValueError):
            continue
        if best is None or score.base_score > best[0]:
            best = (score.base_score, score.vector, str(score.severity).lower())
    if best is not None:
        return best[2], best[1][:300], best[0]
    extra = record.get("database_specific")
    rating = extra.get("severity") if isinstance(extra, Mapping) else None
    if isinstance(rating, str) and rating.upper() in _GHSA_SEVERITY:
        return _GHSA_SEVERITY[rating.upper()], None, None
    return None, None, None


def fixed_versions(record: Mapping[str, Any], pointer: str) -> list[str]:
    """The ``fixed`` versions of the affected entry at ``pointer`` (``/affected/N``), in range order."""
    try:
        entry = (record.get("affected") or [])[int(pointer.rsplit("/", 1)[1])]
    except (IndexError, ValueError):
        return []
    out: list[str] = []
    for rng in entry.get("ranges") or [] if isinstance(entry, Mapping) else []:
        if not isinstance(rng, Mapping) or rng.get("type") not in ("ECOSYSTEM", "SEMVER"):
            continue
        for event in rng.get("events") or []:
            if (
                isinstance(event, Mapping)
                and isinstance(event.get("fixed"), str)
                and event["fixed"] not in out
            ):
                out.append(event["fixed"])
    return out


def first_fixed(record: Mapping[str, Any], pointer: str, version: str) -> str | None:
    """The lowest fixed version above ``version`` in the entry's order (None: no fix known, or the
    order cannot place the versions)."""
    try:
        entry = (record.get("affected") or [])[int(pointer.rsplit("/", 1)[1])]
        ecosystem = str(entry["package"]["ecosystem"]).split(":", 1)[0]
    except (IndexError, ValueError, KeyError, TypeError):
        return None
    candidates: list[tuple[Any, str]] = []
    for rng in entry.get("ranges") or []:
        if not isinstance(rng, Mapping):
            continue
        scheme = scheme_for_ecosystem(canonical_ecosystem(ecosystem), str(rng.get("type", "")))
        if scheme is None:
            continue
        try:
            installed = scheme.key(version)
            for event in rng.get("events") or []:
                fixed = event.get("fixed") if isinstance(event, Mapping) else None
                if isinstance(fixed, str):
                    key = scheme.key(fixed)
                    if installed < key:
                        candidates.append((key, fixed))
        except (UnorderedVersion, TypeError):
            continue
    return min(candidates, key=lambda c: c[0])[1] if candidates else None


@dataclass(frozen=True)
class _Known:
    """One live advisory as the matcher needs it; its fix answers remembered per entry and version
    (an SBOM fleet repeats the same package versions many times)."""

    row: Advisory
    vuln: Vulnerability
    ids: list[str]
    severity: tuple[str | None, str | None, float | None]
    _fixes: dict[tuple[str, str], tuple[str | None, list[str]]] = field(default_factory=dict)

    def fixes(self, pointer: str, version: str) -> tuple[str | None, list[str]]:
        """(first fixed version above ``version``, every fixed version) of the entry at ``pointer``."""
        found = self._fixes.get((pointer, version))
        if found is None:
            record = self.row.raw if isinstance(self.row.raw, Mapping) else {}
            found = (first_fixed(record, pointer, version), fixed_versions(record, pointer))
            if len(self._fixes) < 4096:
                self._fixes[(pointer, version)] = found
        return found[0], list(found[1])


def _known(rows: Iterable[Advisory]) -> dict[str, _Known]:
    out: dict[str, _Known] = {}
    for row in rows:
        record = row.raw if isinstance(row.raw, Mapping) else {}
        if row.withdrawn is not None or is_informational(record):
            continue
        vuln = Vulnerability.from_osv(record)
        if not vuln.affected:
            continue
        vuln = Vulnerability(row.id, vuln.affected)
        related = [
            r for r in record.get("related") or [] if isinstance(r, str) and r.upper().startswith("CVE-")
        ]
        ids = vulnerability_ids(row.id, [*(row.aliases or []), *related])
        out[row.id] = _Known(row, vuln, ids, severity_of(record))
    return out


def advisory_package_keys(vuln: Vulnerability) -> set[str]:
    return {f"{a.package.ecosystem}/{a.package.key}".lower() for a in vuln.affected}


# -- rows -------------------------------------------------------------------------------------


_FIELDS = (
    "advisory_id",
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
    "summary",
    "vulnerability_ids",
    "severity",
    "cvss_vector",
    "cvss_score",
    "fixed_version",
    "fixed_versions",
)


def _row(known: _Known, asset: Asset, match: Match) -> dict[str, Any]:
    """One ``advisory_matches`` row. The component's attributes are read once each (instrumented
    ORM reads are what a row costs most), and the explanation is ``Match.explain``'s text."""
    component = match.component
    assert isinstance(component, AssetComponent)
    purl, name, pointer, bom_ref = component.purl, component.name, component.pointer, component.bom_ref
    version = match.version
    inventory = f"asset {asset.name!r}"
    ident = purl or component.cpe or f"{component.ecosystem}/{name}"
    where = ", ".join(p for p in (inventory, f"bom-ref {bom_ref}" if bom_ref else "", pointer or "") if p)
    verdict = "affected" if match.affected else "may be affected"
    matched = match.matched or match.reason
    explanation = (
        f"{ident} (version {version}{'; ' + where if where else ''}) is {verdict} by "
        f"{match.vulnerability} ({match.package} at {match.pointer or '/'}): {matched}; "
        f"rule {match.rule}, confidence {match.confidence}"
    )
    fixed, listed = known.fixes(match.pointer, version)
    severity, vector, score = known.severity
    advisory_id = known.row.id
    key = hashlib.sha256(  # the natural key: advisory, asset, component
        "\x00".join(
            ("advisory", advisory_id, asset.id, pointer, purl or "", name, component.version or "")
        ).encode()
    ).hexdigest()
    return {
        "key": key,
        "advisory_id": advisory_id,
        "asset_id": asset.id,
        "component_purl": purl,
        "component_name": name,
        "component_version": version,
        "component_pointer": pointer,
        "package": match.package[:600],
        "package_pointer": match.pointer[:100],
        "matched_range": matched[:2000],
        "rule": match.rule,
        "confidence": match.confidence,
        "affected": match.affected,
        "explanation": explanation,
        "summary": (known.row.summary or "")[:2000],
        "vulnerability_ids": known.ids,
        "severity": severity,
        "cvss_vector": vector,
        "cvss_score": score,
        "fixed_version": fixed[:200] if fixed else None,
        "fixed_versions": listed,
    }


def _present(component: AssetComponent) -> tuple[str, str, str | None, str, str | None]:
    return (component.asset_id, component.pointer, component.purl, component.name, component.version)


def _present_row(row: AdvisoryMatch) -> tuple[str, str, str | None, str, str | None]:
    return (
        row.asset_id,
        row.component_pointer,
        row.component_purl,
        row.component_name,
        row.component_version,
    )


@dataclass
class AdvisorySync:
    created: int = 0
    updated: int = 0
    deleted: int = 0
    closed: int = 0
    new_ids: list[str] | None = None

    def report(self) -> SyncReport:
        return SyncReport(self.created, self.updated, self.deleted)


def _sync(
    session: Session,
    existing: Iterable[AdvisoryMatch],
    desired: dict[str, dict[str, Any]],
    assets: Mapping[str, Asset],
    *,
    live: set[str],
    present: set[tuple[str, str, str | None, str, str | None]],
    upgrades: Mapping[str, str] | None = None,
) -> AdvisorySync:
    """Make the stored rows equal to ``desired``; a stale row whose advisory is still ``live`` and
    whose component is no longer ``present`` is closed as fixed (``upgrades``: evidence per
    asset and component name) rather than deleted."""
    out = AdvisorySync(new_ids=[])
    held = {m.key: m for m in existing}
    now = utcnow()
    for key, stale in held.items():
        if key in desired:
            continue
        gone = _present_row(stale) not in present
        if stale.advisory_id in live and gone:
            if stale.status == MatchStatus.OPEN.value and upgrades is not None:
                stale.status = MatchStatus.FIXED.value
                stale.status_changed_at = now
                stale.status_changed_by = UPGRADE_EVIDENCE
                stale.evidence = upgrades.get(
                    f"{stale.asset_id}\x00{stale.component_name.lower()}",
                    f"the asset's SBOM no longer lists {stale.component_name}",
                )[:2000]
                out.closed += 1
            continue
        session.delete(stale)
        out.deleted += 1
    for key, values in desired.items():
        row = held.get(key)
        if row is None:
            row = AdvisoryMatch(id=new_id(), key=key, asset_id=values["asset_id"])
            row.set_marking(assets[values["asset_id"]].marking)
            for name in _FIELDS:
                setattr(row, name, values[name])
            row.status = MatchStatus.OPEN.value
            row.status_reason = row.evidence = ""
            session.add(row)
            out.created += 1
            assert out.new_ids is not None
            out.new_ids.append(row.id)
            continue
        changed = False
        for name in _FIELDS:
            if getattr(row, name) != values[name]:
                setattr(row, name, values[name])
                changed = True
        if row.status_changed_by == UPGRADE_EVIDENCE and row.status == MatchStatus.FIXED.value:
            # The component is back at an affected version (a downgrade): open again.
            row.status, row.evidence, row.status_changed_at = MatchStatus.OPEN.value, "", now
            row.status_changed_by = None
            changed = True
        out.updated += changed
    session.flush()
    return out


# -- component keys ---------------------------------------------------------------------------


def fill_component_keys(session: Session, components: Sequence[AssetComponent]) -> None:
    """Give components registered before keys were kept their ``package_key`` / ``alias_key``."""
    for component in components:
        if component.package_key is None:
            package, alias = component_keys(component)
            component.package_key = package or ""
            component.alias_key = alias


def _advisories_naming(session: Session, components: Sequence[AssetComponent]) -> list[Advisory]:
    """The live advisories naming any of the components' packages (a superset: the index decides)."""
    wanted: dict[str, set[str]] = defaultdict(set)
    for c in components:
        for key in (c.package_key, c.alias_key):
            if key:
                ecosystem, _, name = key.partition("/")
                wanted[ecosystem].add(name)
        if c.ecosystem and c.name:
            try:
                eco = canonical_ecosystem(c.ecosystem)
            except Exception:
                continue
            wanted[eco.lower()].add(normalize_name(eco, c.name).lower())
    ids: set[str] = set()
    for ecosystem, names in wanted.items():
        ordered = sorted(names)
        for start in range(0, len(ordered), _CHUNK):
            chunk = ordered[start : start + _CHUNK]
            ids.update(
                session.scalars(
                    select(AdvisoryAffected.advisory_id).where(
                        func.lower(AdvisoryAffected.ecosystem) == ecosystem,
                        func.lower(AdvisoryAffected.normalized_name).in_(chunk),
                    )
                )
            )
    return _load_advisories(session, ids)


def _load_advisories(session: Session, ids: Iterable[str]) -> list[Advisory]:
    ordered = sorted(set(ids))
    out: list[Advisory] = []
    for start in range(0, len(ordered), _CHUNK):
        out.extend(session.scalars(select(Advisory).where(Advisory.id.in_(ordered[start : start + _CHUNK]))))
    return out


def _upgrade_evidence(asset: Asset, components: Sequence[AssetComponent]) -> dict[str, str]:
    versions: dict[str, list[str]] = defaultdict(list)
    for c in components:
        if c.version and c.version not in versions[c.name.lower()]:
            versions[c.name.lower()].append(c.version)
    return {
        f"{asset.id}\x00{name}": (
            f"the SBOM registered {asset.updated_at:%Y-%m-%d %H:%M} UTC (sha256 {asset.sbom_sha256[:16]}...) "
            f"lists {name} at {', '.join(found)}, outside the advisory's affected versions"
        )
        for name, found in versions.items()
    }


# -- the two sides ----------------------------------------------------------------------------


def match_asset_advisories(session: Session, asset_id: str) -> AdvisorySync:
    """Store the matches of one asset against every live advisory naming its packages."""
    existing = list(session.scalars(select(AdvisoryMatch).where(AdvisoryMatch.asset_id == asset_id)))
    asset = session.get(Asset, asset_id)
    if asset is None:
        for row in existing:
            session.delete(row)
        session.flush()
        return AdvisorySync(deleted=len(existing), new_ids=[])
    components = list(
        session.scalars(
            select(AssetComponent).where(AssetComponent.asset_id == asset_id).order_by(AssetComponent.pointer)
        )
    )
    fill_component_keys(session, components)
    known = _known(_advisories_naming(session, components))
    index = MatchIndex()
    for item in known.values():
        index.add_vulnerability(item.vuln)
    desired: dict[str, dict[str, Any]] = {}
    for m in index.match(components, asset_id):
        values = _row(known[m.vulnerability], asset, m)
        desired[values["key"]] = values
    stale_ids = {r.advisory_id for r in existing if r.key not in desired} - set(known)
    live = set(known) | set(_known(_load_advisories(session, stale_ids)))
    return _sync(
        session,
        existing,
        desired,
        {asset_id: asset},
        live=live,
        present={_present(c) for c in components},
        upgrades=_upgrade_evidence(asset, components),
    )


def match_advisories(session: Session, advisory_ids: Sequence[str]) -> AdvisorySync:
    """Store the matches of new or changed advisories against every registered component."""
    ids = sorted(set(advisory_ids))
    existing: list[AdvisoryMatch] = []
    for start in range(0, len(ids), _CHUNK):
        existing.extend(
            session.scalars(
                select(AdvisoryMatch).where(AdvisoryMatch.advisory_id.in_(ids[start : start + _CHUNK]))
            )
        )
    known = _known(_load_advisories(session, ids))
    keys = sorted({k for item in known.values() for k in advisory_package_keys(item.vuln)})
    components: list[AssetComponent] = []
    for start in range(0, len(keys), _CHUNK):
        chunk = keys[start : start + _CHUNK]
        components.extend(
            session.scalars(
                select(AssetComponent)
                .where(or_(AssetComponent.package_key.in_(chunk), AssetComponent.alias_key.in_(chunk)))
                .order_by(AssetComponent.asset_id, AssetComponent.pointer)
            )
        )
    by_asset: dict[str, list[AssetComponent]] = defaultdict(list)
    for c in components:
        by_asset[c.asset_id].append(c)
    index = MatchIndex()
    for asset_id, held in by_asset.items():
        index.add_inventory(asset_id, held)
    matches = [m for item in known.values() for m in index.affected_by(item.vuln)]
    assets = {
        a.id: a
        for a in session.scalars(select(Asset).where(Asset.id.in_(sorted({m.inventory for m in matches}))))
    }
    desired: dict[str, dict[str, Any]] = {}
    for m in matches:
        values = _row(known[m.vulnerability], assets[m.inventory], m)
        desired[values["key"]] = values
    # A stale row of a live advisory whose component is gone is left for its asset's job to close.
    present = {_present(c) for c in components}
    return _sync(session, existing, desired, assets, live=set(known), present=present)
