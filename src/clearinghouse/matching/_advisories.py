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

import functools
import hashlib
import threading
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Table, func, or_, select
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
_INSERT_CHUNK = 500  # rows per multi-row INSERT

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
    """One live advisory as the matcher needs it, computed once per advisory version (ids,
    severity, the compiled vulnerability) and kept across jobs (``_KNOWN``, keyed by the row's
    content hash); its fix answers remembered per entry and version (an SBOM fleet repeats the
    same package versions many times)."""

    id: str
    summary: str
    record: Mapping[str, Any]
    vuln: Vulnerability
    ids: list[str]
    severity: tuple[str | None, str | None, float | None]
    _fixes: dict[tuple[str, str], tuple[str | None, list[str]]] = field(default_factory=dict)

    def fixes(self, pointer: str, version: str) -> tuple[str | None, list[str]]:
        """(first fixed version above ``version``, every fixed version) of the entry at ``pointer``."""
        found = self._fixes.get((pointer, version))
        if found is None:
            found = (first_fixed(self.record, pointer, version), fixed_versions(self.record, pointer))
            if len(self._fixes) < 4096:
                self._fixes[(pointer, version)] = found
        return found[0], list(found[1])


def _prepare(row: Advisory) -> _Known | None:
    """What the matcher needs of one advisory row; None for a withdrawn or informational one, or
    one that names no package."""
    record = row.raw if isinstance(row.raw, Mapping) else {}
    if row.withdrawn is not None or is_informational(record):
        return None
    vuln = Vulnerability.from_osv(record)
    if not vuln.affected:
        return None
    vuln = Vulnerability(row.id, vuln.affected)
    related = [r for r in record.get("related") or [] if isinstance(r, str) and r.upper().startswith("CVE-")]
    ids = vulnerability_ids(row.id, [*(row.aliases or []), *related])
    return _Known(row.id, row.summary or "", record, vuln, ids, severity_of(record))


def _known(rows: Iterable[Advisory]) -> dict[str, _Known]:
    out: dict[str, _Known] = {}
    for row in rows:
        item = _prepare(row)
        if item is not None:
            out[row.id] = item
    return out


# Prepared advisories by (id, content hash): the per-asset jobs of an SBOM fleet ask for the
# same advisories again and again; a revised advisory has a new content hash.
_KNOWN: dict[tuple[str, str], _Known | None] = {}
_KNOWN_LIMIT = 200_000


def forget_prepared() -> None:
    """Drop the prepared advisories (tests, or after a bulk re-import)."""
    _KNOWN.clear()
    with _NAMING_LOCK:
        _NAMING["state"], _NAMING["map"] = None, {}


def _load_known(session: Session, ids: Iterable[str]) -> dict[str, _Known]:
    """The live advisories among ``ids``, prepared; rows are read in full only for advisories
    not prepared before at their current content."""
    ordered = sorted(set(ids))
    out: dict[str, _Known] = {}
    missing: list[str] = []
    for start in range(0, len(ordered), _CHUNK):
        chunk = ordered[start : start + _CHUNK]
        for advisory_id, content_hash in session.execute(
            select(Advisory.id, Advisory.content_hash).where(Advisory.id.in_(chunk))
        ):
            cache_key = (advisory_id, content_hash)
            if cache_key not in _KNOWN:
                missing.append(advisory_id)
                continue
            hit = _KNOWN[cache_key]
            if hit is not None:
                out[advisory_id] = hit
    for row in _load_advisories(session, missing):
        item = _prepare(row)
        if len(_KNOWN) >= _KNOWN_LIMIT:
            _KNOWN.clear()
        _KNOWN[(row.id, row.content_hash)] = item
        if item is not None:
            out[row.id] = item
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
    component: Any = match.component  # an AssetComponent, or a row of its columns
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
    advisory_id = known.id
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
        "summary": known.summary[:2000],
        "vulnerability_ids": known.ids,
        "severity": severity,
        "cvss_vector": vector,
        "cvss_score": score,
        "fixed_version": fixed[:200] if fixed else None,
        "fixed_versions": listed,
    }


def _present(component: Any) -> tuple[str, str, str | None, str, str | None]:
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
    # The rows inserted (as written, one dict each): bulk rows, recorded by the job in
    # ``advisory_match.batch_created`` events naming their ids and the digest of their states.
    new_rows: list[dict[str, Any]] = field(default_factory=list)

    @property
    def new_ids(self) -> list[str]:
        return [r["id"] for r in self.new_rows]

    def report(self) -> SyncReport:
        return SyncReport(self.created, self.updated, self.deleted)


def _marking_columns(asset: Asset) -> dict[str, Any]:
    marking = asset.marking
    return {
        "owner_org_id": marking.owner_org_id,
        "tlp": str(marking.tlp),
        "classification": str(marking.classification),
        "compartments": sorted(marking.compartments),
        "sharing_group_ids": sorted(marking.sharing_group_ids),
    }


def _insert(
    session: Session, desired: Iterable[dict[str, Any]], assets: Mapping[str, Asset]
) -> list[dict[str, Any]]:
    """Insert new rows in bulk (multi-row INSERTs, no ORM object per row); return them."""
    now = utcnow()
    markings: dict[str, dict[str, Any]] = {}
    rows: list[dict[str, Any]] = []
    for values in desired:
        asset_id = values["asset_id"]
        marking = markings.get(asset_id)
        if marking is None:
            marking = markings[asset_id] = _marking_columns(assets[asset_id])
        rows.append(
            {
                "id": new_id(),
                **values,
                **marking,
                "status": MatchStatus.OPEN.value,
                "status_reason": "",
                "status_expires_at": None,
                "vex_justification": None,
                "evidence": "",
                "status_changed_at": None,
                "status_changed_by": None,
                "created_at": now,
                "updated_at": now,
            }
        )
    table = cast(Table, AdvisoryMatch.__table__)
    for start in range(0, len(rows), _INSERT_CHUNK):
        session.execute(table.insert(), rows[start : start + _INSERT_CHUNK])
    return rows


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
    asset and component name) rather than deleted. New rows are inserted in bulk (the caller
    records them, :attr:`AdvisorySync.new_rows`); changed, closed and deleted ones go through the
    session, one audited event each."""
    out = AdvisorySync()
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
    fresh: list[dict[str, Any]] = []
    for key, values in desired.items():
        row = held.get(key)
        if row is None:
            fresh.append(values)
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
    out.new_rows = _insert(session, fresh, assets)
    out.created = len(out.new_rows)
    return out


# -- component keys ---------------------------------------------------------------------------


def fill_component_keys(session: Session, components: Sequence[AssetComponent]) -> None:
    """Give components registered before keys were kept their ``package_key`` / ``alias_key``."""
    for component in components:
        if component.package_key is None:
            package, alias = component_keys(component)
            component.package_key = package or ""
            component.alias_key = alias


# Which advisories name each package (lower-cased ecosystem, normalized name), read once per
# state of ``advisory_affected`` (its row count and highest id change with every import).
_NAMING: dict[str, Any] = {"state": None, "map": {}}
_NAMING_LOCK = threading.Lock()


def _naming_map(session: Session) -> dict[tuple[str, str], list[str]]:
    count, highest = session.execute(select(func.count(), func.max(AdvisoryAffected.id))).one()
    last = session.scalar(select(AdvisoryAffected.advisory_id).where(AdvisoryAffected.id == highest))
    state = (str(session.get_bind().engine.url), count, highest, last)
    with _NAMING_LOCK:
        if _NAMING["state"] == state:
            return dict(_NAMING["map"])
    found: dict[tuple[str, str], list[str]] = defaultdict(list)
    rows = session.execute(
        select(AdvisoryAffected.ecosystem, AdvisoryAffected.normalized_name, AdvisoryAffected.advisory_id)
    )
    for ecosystem, name, advisory_id in rows:
        found[(str(ecosystem).lower(), str(name).lower())].append(advisory_id)
    with _NAMING_LOCK:
        _NAMING["state"], _NAMING["map"] = state, found
    return found


@functools.lru_cache(maxsize=65536)
def _name_key(ecosystem: str, name: str) -> tuple[str, str] | None:
    try:
        eco = canonical_ecosystem(ecosystem)
    except Exception:
        return None
    return eco.lower(), normalize_name(eco, name).lower()


def _advisories_naming(session: Session, components: Sequence[Any]) -> set[str]:
    """The ids of the advisories naming any of the components' packages (a superset: the index
    decides)."""
    wanted: set[tuple[str, str]] = set()
    for c in components:
        for key in (c.package_key, c.alias_key):
            if key:
                ecosystem, _, name = key.partition("/")
                wanted.add((ecosystem, name))
        if c.ecosystem and c.name:
            named = _name_key(c.ecosystem, c.name)
            if named is not None:
                wanted.add(named)
    naming = _naming_map(session)
    return {advisory_id for key in wanted for advisory_id in naming.get(key, ())}


# Every prepared advisory in one index, shared by the asset jobs of this process (each
# package's ranges compiled once, not once per asset); the ``_Known`` each id is held at. A job
# keeps only the matches of the advisories it loaded as live, so an entry left from a withdrawn
# or deleted advisory matches nothing.
_SHARED = MatchIndex()
_SHARED_HELD: dict[str, _Known] = {}
_SHARED_LOCK = threading.Lock()


def _match_shared(known: Mapping[str, _Known], components: Sequence[Any], asset_id: str) -> list[Match]:
    global _SHARED
    with _SHARED_LOCK:
        if len(_SHARED_HELD) > _KNOWN_LIMIT:
            _SHARED = MatchIndex()
            _SHARED_HELD.clear()
        for advisory_id, item in known.items():
            if _SHARED_HELD.get(advisory_id) is not item:
                _SHARED.add_vulnerability(item.vuln)
                _SHARED_HELD[advisory_id] = item
        return [m for m in _SHARED.match(components, asset_id) if m.vulnerability in known]


def _load_advisories(session: Session, ids: Iterable[str]) -> list[Advisory]:
    ordered = sorted(set(ids))
    out: list[Advisory] = []
    for start in range(0, len(ordered), _CHUNK):
        out.extend(session.scalars(select(Advisory).where(Advisory.id.in_(ordered[start : start + _CHUNK]))))
    return out


def _upgrade_evidence(asset: Asset, components: Sequence[Any]) -> dict[str, str]:
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


_COMPONENT_COLUMNS = (
    AssetComponent.asset_id,
    AssetComponent.purl,
    AssetComponent.ecosystem,
    AssetComponent.name,
    AssetComponent.version,
    AssetComponent.cpe,
    AssetComponent.bom_ref,
    AssetComponent.pointer,
    AssetComponent.package_key,
    AssetComponent.alias_key,
)


def _asset_components(session: Session, asset_id: str) -> Sequence[Any]:
    """The asset's components as plain rows (read-only: no ORM object each); components kept
    before package keys were are loaded as objects and given theirs."""
    query = select(*_COMPONENT_COLUMNS).where(AssetComponent.asset_id == asset_id)
    rows = session.execute(query.order_by(AssetComponent.pointer)).all()
    if any(r.package_key is None for r in rows):
        found = list(
            session.scalars(
                select(AssetComponent)
                .where(AssetComponent.asset_id == asset_id)
                .order_by(AssetComponent.pointer)
            )
        )
        fill_component_keys(session, found)
        return found
    return rows


def match_asset_advisories(session: Session, asset_id: str) -> AdvisorySync:
    """Store the matches of one asset against every live advisory naming its packages."""
    existing = list(session.scalars(select(AdvisoryMatch).where(AdvisoryMatch.asset_id == asset_id)))
    asset = session.get(Asset, asset_id)
    if asset is None:
        for row in existing:
            session.delete(row)
        session.flush()
        return AdvisorySync(deleted=len(existing))
    components = _asset_components(session, asset_id)
    known = _load_known(session, _advisories_naming(session, components))
    desired: dict[str, dict[str, Any]] = {}
    for m in _match_shared(known, components, asset_id):
        values = _row(known[m.vulnerability], asset, m)
        desired[values["key"]] = values
    stale_ids = {r.advisory_id for r in existing if r.key not in desired} - set(known)
    live = set(known) | set(_load_known(session, stale_ids))
    return _sync(
        session,
        existing,
        desired,
        {asset_id: asset},
        live=live,
        present={_present(c) for c in components},
        upgrades=_upgrade_evidence(asset, components) if existing else {},
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
    known = _load_known(session, ids)
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
