"""What to do, per match: one view of case and advisory matches with their ids, severity, KEV and
due date, EPSS, first fixed version and upgrade path, the vendor's VEX answer and the operator's
remediation status; changing that status; and the exports (CSV, CycloneDX VEX) per inventory.

Everything time-dependent takes ``now``; an accepted risk past its expiry reads as ``open``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from clearinghouse.access import Action, NotFound, Resource, Subject, authorize, visible
from clearinghouse.config import PublisherSettings
from clearinghouse.domain import TLP_URL, ProductStatusSets, ProductTree, sorted_keys, timestamp, tlp_v1_label
from clearinghouse.errors import InvalidInput
from clearinghouse.matching._ranges import UnorderedVersion, parse_vers
from clearinghouse.matching.models import AdvisoryMatch, Asset, CaseMatch, MatchStatus
from clearinghouse.matching.services import advisory_match_resource
from clearinghouse.storage import UnitOfWork, utcnow

SEVERITY_RANK = {"critical": 4, "high": 3, "medium": 2, "low": 1, "none": 0}
JUSTIFICATIONS = (
    "component_not_present",
    "vulnerable_code_not_present",
    "vulnerable_code_not_in_execute_path",
    "vulnerable_code_cannot_be_controlled_by_adversary",
    "inline_mitigations_already_exist",
)
# CycloneDX's spelling of each justification (the inverse of ``coordination._vex``'s reader).
CDX_JUSTIFICATION = {
    "component_not_present": "requires_dependency",
    "vulnerable_code_not_present": "code_not_present",
    "vulnerable_code_not_in_execute_path": "code_not_reachable",
    "vulnerable_code_cannot_be_controlled_by_adversary": "requires_environment",
    "inline_mitigations_already_exist": "protected_by_mitigating_control",
}
CLOSED = frozenset({MatchStatus.FIXED, MatchStatus.MITIGATED, MatchStatus.NOT_AFFECTED})


def _case_match_resource(match: CaseMatch) -> Resource:
    return Resource.marked("match", match.id, match.marking)


@dataclass
class MatchItem:
    """One match as an operator works it."""

    id: str
    kind: str  # "advisory" or "case"
    advisory_id: str | None
    case_id: str | None
    asset_id: str
    asset_name: str
    asset_owner_org_id: str
    internet_exposed: bool
    component_purl: str | None
    component_name: str
    component_version: str | None
    component_pointer: str
    package: str
    matched_range: str
    rule: str
    confidence: float
    affected: bool | None
    explanation: str
    summary: str
    vulnerability_ids: list[str]
    severity: str | None
    cvss_vector: str | None
    cvss_score: float | None
    kev: bool
    kev_cves: list[str]
    kev_due_date: dt.date | None
    epss: float | None
    epss_percentile: float | None
    fixed_version: str | None
    fixed_versions: list[str]
    upgrade_to: str | None
    vex_status: str | None
    status: str
    status_reason: str
    status_expires_at: dt.datetime | None
    vex_justification: str | None
    evidence: str
    status_changed_at: dt.datetime | None
    created_at: dt.datetime
    why: str = ""
    bod_26_04_due_at: dt.datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def is_open(self) -> bool:
        return self.status == MatchStatus.OPEN.value

    @property
    def title(self) -> str:
        return (
            self.vulnerability_ids[0] if self.vulnerability_ids else (self.advisory_id or self.case_id or "")
        )

    @property
    def severity_rank(self) -> int:
        return SEVERITY_RANK.get(self.severity or "", -1)

    @property
    def due(self) -> dt.datetime | None:
        """The match's deadline: BOD 26-04's on an agency asset, else the KEV catalog's due date."""
        if self.bod_26_04_due_at is not None:
            return self.bod_26_04_due_at
        if self.kev_due_date is not None:
            return dt.datetime.combine(self.kev_due_date, dt.time(23, 59, 59), dt.UTC)
        return None


def _effective_status(row: AdvisoryMatch | CaseMatch, now: dt.datetime) -> str:
    expires = row.status_expires_at
    if expires is not None and expires.tzinfo is None:
        expires = expires.replace(tzinfo=dt.UTC)
    if row.status == MatchStatus.ACCEPTED_RISK.value and expires is not None and expires < now:
        return MatchStatus.OPEN.value
    return row.status or MatchStatus.OPEN.value


def _vers_fixed(matched: str, version: str | None) -> str | None:
    """The lowest exclusive upper bound above ``version`` in a vers range (a case's package)."""
    if not version or not matched.startswith("vers:"):
        return None
    try:
        rng = parse_vers(matched)
    except (ValueError, UnorderedVersion):
        return None
    out: list[tuple[Any, str]] = []
    for span in rng.spans:
        if span.hi is not None and not span.hi_incl and span.contains_key(span.scheme.try_key(version)):
            out.append((span.hi_key, span.hi))
    return min(out, key=lambda c: c[0])[1] if out else None


def _why(item: MatchItem) -> str:
    ids = ", ".join(item.vulnerability_ids[:3]) or item.title
    version = item.component_version or "?"
    verdict = "is affected by" if item.affected else "may be affected by"
    text = f"{item.component_name} {version} on asset '{item.asset_name}' {verdict} {ids}"
    if item.severity:
        text += f" ({item.severity}"
        text += f", CVSS {item.cvss_score:g})" if item.cvss_score is not None else ")"
    if item.matched_range.startswith("versions:") or item.matched_range.startswith("version "):
        text += f": the advisory names {version} among its affected versions."
    else:
        text += f": {version} is in the affected range {item.matched_range[:160]}."
    if item.kev:
        text += f" It is in CISA's Known Exploited Vulnerabilities catalog ({', '.join(item.kev_cves)})."
    if item.fixed_version:
        text += f" Version {item.fixed_version} fixes it"
        if item.upgrade_to and item.upgrade_to != item.fixed_version:
            text += f"; {item.upgrade_to} fixes every known issue of this component"
        text += "."
    elif item.affected:
        text += " No fixed version is known yet."
    return text


def _load_cases(session: Session, case_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Per case: aliases, title, best score and vendor statuses (one query each)."""
    from clearinghouse.coordination.models import CaseAlias, ThreadProduct, VendorThread
    from clearinghouse.priority.models import CaseScore
    from clearinghouse.triage.models import Case

    out: dict[str, dict[str, Any]] = {c: {"aliases": [], "vex": {}, "score": None} for c in case_ids}
    if not case_ids:
        return out
    ids = list(case_ids)
    for case in session.scalars(select(Case).where(Case.id.in_(ids))):
        out[case.id]["title"] = case.title
    for alias in session.scalars(select(CaseAlias).where(CaseAlias.case_id.in_(ids))):
        out[alias.case_id]["aliases"].append(alias.id)
    for score in session.scalars(select(CaseScore).where(CaseScore.case_id.in_(ids))):
        held = out[score.case_id]["score"]
        if held is None or score.base_score > held.base_score:
            out[score.case_id]["score"] = score
    for thread, product in session.execute(
        select(VendorThread, ThreadProduct)
        .join(ThreadProduct, ThreadProduct.thread_id == VendorThread.id)
        .where(VendorThread.case_id.in_(ids))
    ):
        out[thread.case_id]["vex"][(product.purl or product.product_id).split("@")[0].lower()] = (
            product.status
        )
    return out


def match_items(
    session: Session,
    subject: Subject,
    now: dt.datetime,
    *,
    asset_ids: Sequence[str] | None = None,
    include_cases: bool = True,
) -> list[MatchItem]:
    """Every match (advisory and case) on the given assets (all readable ones when None) that
    ``subject`` may read, enriched; sorted: open first, then due date, KEV, severity."""
    from clearinghouse.priority import enrich_many

    adv_query = select(AdvisoryMatch)
    case_query = select(CaseMatch)
    if asset_ids is not None:
        adv_query = adv_query.where(AdvisoryMatch.asset_id.in_(list(asset_ids)))
        case_query = case_query.where(CaseMatch.asset_id.in_(list(asset_ids)))
    adv_rows = list(visible(subject, session.scalars(adv_query), advisory_match_resource))
    case_rows = (
        list(visible(subject, session.scalars(case_query), _case_match_resource)) if include_cases else []
    )
    assets = {
        a.id: a
        for a in session.scalars(
            select(Asset).where(
                Asset.id.in_(sorted({r.asset_id for r in adv_rows} | {r.asset_id for r in case_rows}))
            )
        )
    }
    cases = _load_cases(session, sorted({r.case_id for r in case_rows}))
    items: list[MatchItem] = []
    for row in adv_rows:
        items.append(_item(row, assets[row.asset_id], now, kind="advisory"))
    for c in case_rows:
        info = cases.get(c.case_id, {})
        score = info.get("score")
        item = _item(c, assets[c.asset_id], now, kind="case")
        item.vulnerability_ids = sorted(
            info.get("aliases", []), key=lambda i: (not i.upper().startswith("CVE-"), i)
        ) or [c.case_id]
        item.summary = str(info.get("title", ""))
        if score is not None:
            item.severity = str(score.severity).lower()
            item.cvss_vector, item.cvss_score = score.vector, score.base_score
        item.fixed_version = _vers_fixed(c.matched_range, c.component_version)
        item.fixed_versions = [item.fixed_version] if item.fixed_version else []
        key = (c.component_purl or c.component_name).split("@")[0].lower()
        item.vex_status = info.get("vex", {}).get(key)
        items.append(item)
    enrichment = enrich_many(session, {i.id: i.vulnerability_ids for i in items})
    for item in items:
        found = enrichment[item.id]
        item.kev = found.in_kev
        item.kev_cves = [k.cve_id for k in found.kev]
        dues = [dt.date.fromisoformat(k.due_date) for k in found.kev if k.due_date]
        item.kev_due_date = min(dues) if dues else None
        best = found.max_epss
        item.epss = best.probability if best else None
        item.epss_percentile = best.percentile if best else None
    _upgrade_paths(items)
    _bod_dues(session, subject, items, now)
    for item in items:
        item.why = _why(item)
    items.sort(key=sort_key)
    return items


def sort_key(item: MatchItem) -> tuple[Any, ...]:
    due = item.due
    return (
        not item.is_open,
        due is None,
        due or dt.datetime.max.replace(tzinfo=dt.UTC),
        not item.kev,
        -item.severity_rank,
        -(item.epss or 0.0),
        item.asset_name,
        item.component_name,
        item.title,
    )


def _item(row: AdvisoryMatch | CaseMatch, asset: Asset, now: dt.datetime, *, kind: str) -> MatchItem:
    is_adv = isinstance(row, AdvisoryMatch)
    return MatchItem(
        id=row.id,
        kind=kind,
        advisory_id=row.advisory_id if isinstance(row, AdvisoryMatch) else None,
        case_id=row.case_id if isinstance(row, CaseMatch) else None,
        asset_id=row.asset_id,
        asset_name=asset.name,
        asset_owner_org_id=row.owner_org_id,
        internet_exposed=asset.internet_exposed,
        component_purl=row.component_purl,
        component_name=row.component_name,
        component_version=row.component_version,
        component_pointer=row.component_pointer,
        package=row.package,
        matched_range=row.matched_range,
        rule=row.rule,
        confidence=row.confidence,
        affected=row.affected,
        explanation=row.explanation,
        summary=row.summary if isinstance(row, AdvisoryMatch) else "",
        vulnerability_ids=list(row.vulnerability_ids) if isinstance(row, AdvisoryMatch) else [],
        severity=row.severity if isinstance(row, AdvisoryMatch) else None,
        cvss_vector=row.cvss_vector if isinstance(row, AdvisoryMatch) else None,
        cvss_score=row.cvss_score if isinstance(row, AdvisoryMatch) else None,
        kev=False,
        kev_cves=[],
        kev_due_date=None,
        epss=None,
        epss_percentile=None,
        fixed_version=row.fixed_version if isinstance(row, AdvisoryMatch) else None,
        fixed_versions=list(row.fixed_versions) if isinstance(row, AdvisoryMatch) else [],
        upgrade_to=None,
        vex_status=None,
        status=_effective_status(row, now),
        status_reason=row.status_reason or "",
        status_expires_at=row.status_expires_at,
        vex_justification=row.vex_justification,
        evidence=row.evidence or "",
        status_changed_at=row.status_changed_at,
        created_at=row.created_at,
        extra={"source": "advisory" if is_adv else "case"},
    )


def _upgrade_paths(items: list[MatchItem]) -> None:
    """Per component, the version that fixes every open match with a known fix (the highest first
    fixed version, in the component's ecosystem order)."""
    from clearinghouse.matching._names import from_purl
    from clearinghouse.matching._ranges import scheme_for_ecosystem

    groups: dict[tuple[str, str], list[MatchItem]] = defaultdict(list)
    for item in items:
        if item.fixed_version and item.is_open:
            groups[(item.asset_id, item.component_pointer)].append(item)
    for group in groups.values():
        scheme = None
        purl = group[0].component_purl
        if purl:
            try:
                scheme = scheme_for_ecosystem(from_purl(purl)[0].ecosystem)
            except ValueError:
                scheme = None
        versions = [i.fixed_version for i in group if i.fixed_version]
        best: str | None = None
        if scheme is not None:
            keyed: list[tuple[Any, str]] = [(scheme.try_key(v), v) for v in versions if v]
            if all(k is not None for k, _ in keyed):
                best = max(keyed, key=lambda kv: cast(Any, kv[0]))[1]
        for item in group:
            item.upgrade_to = best or item.fixed_version


def _bod_dues(session: Session, subject: Subject, items: list[MatchItem], now: dt.datetime) -> None:
    """BOD 26-04 deadlines of the items on agency assets (from the compliance computation)."""
    wanted = {i.id for i in items if i.kev}
    if not wanted:
        return
    from clearinghouse.directives.services import bod_26_04_items

    dues = bod_26_04_items(session, subject, now, match_ids=wanted)
    for item in items:
        if item.id in dues:
            item.bod_26_04_due_at = dues[item.id]


# -- remediation --------------------------------------------------------------------------------


def _find_match(session: Session, subject: Subject, match_id: str) -> AdvisoryMatch | CaseMatch:
    row: AdvisoryMatch | CaseMatch | None = session.get(AdvisoryMatch, match_id)
    if row is None:
        row = session.get(CaseMatch, match_id)
    if row is None:
        raise NotFound("match", match_id)
    authorize(subject, Action.READ, Resource.marked("match", row.id, row.marking))
    return row


def get_match(session: Session, subject: Subject, match_id: str, now: dt.datetime) -> MatchItem:
    row = _find_match(session, subject, match_id)
    for item in match_items(session, subject, now, asset_ids=[row.asset_id]):
        if item.id == row.id:
            return item
    raise NotFound("match", match_id)  # pragma: no cover - the row was just read


def set_match_status(
    uow: UnitOfWork,
    subject: Subject,
    match_id: str,
    status: str,
    *,
    reason: str = "",
    expires_at: dt.datetime | None = None,
    justification: str | None = None,
    now: dt.datetime | None = None,
) -> AdvisoryMatch | CaseMatch:
    """An operator (the asset's owner) or staff marks a match fixed, mitigated, accepted risk
    (with a reason and an expiry in the future), not affected (with a VEX justification), or open
    again. Audited as ``match.status_changed`` with the old and new status."""
    now = now or utcnow()
    row = _find_match(uow.session, subject, match_id)
    authorize(subject, Action.UPDATE, Resource.marked("match", row.id, row.marking))
    try:
        new = MatchStatus(status)
    except ValueError:
        allowed = ", ".join(s.value for s in MatchStatus)
        raise InvalidInput(f"{status!r} is not one of: {allowed}", "/status") from None
    reason = (reason or "").strip()
    if len(reason) > 4000:
        raise InvalidInput("a reason is at most 4,000 characters", "/reason")
    if new is MatchStatus.ACCEPTED_RISK:
        if not reason:
            raise InvalidInput("accepting a risk needs a reason", "/reason")
        if expires_at is None:
            raise InvalidInput("accepting a risk needs an expiry (expires_at)", "/expires_at")
        if expires_at.tzinfo is None or expires_at.utcoffset() is None:
            raise InvalidInput("expires_at needs a time zone (e.g. 2027-01-31T00:00:00Z)", "/expires_at")
        if expires_at <= now:
            raise InvalidInput("expires_at must be in the future", "/expires_at")
    elif expires_at is not None:
        raise InvalidInput("only an accepted risk has an expiry", "/expires_at")
    if new is MatchStatus.NOT_AFFECTED:
        if justification not in JUSTIFICATIONS:
            raise InvalidInput(
                f"not_affected needs a VEX justification, one of: {', '.join(JUSTIFICATIONS)}",
                "/justification",
            )
    elif justification is not None:
        raise InvalidInput("only not_affected takes a justification", "/justification")
    old = row.status
    row.status = new.value
    row.status_reason = reason
    row.status_expires_at = expires_at
    row.vex_justification = justification
    row.status_changed_at = now
    row.status_changed_by = subject.user_id
    if new is MatchStatus.OPEN:
        row.evidence = ""
    uow.audit_as(row, "match.status_changed", old=old, new=new.value, reason=reason[:500])
    uow.flush()
    return row


# -- exports ------------------------------------------------------------------------------------

CSV_COLUMNS = (
    "match_id",
    "asset",
    "component",
    "version",
    "vulnerability_ids",
    "severity",
    "cvss_score",
    "kev",
    "kev_due_date",
    "bod_26_04_due_at",
    "epss",
    "fixed_version",
    "upgrade_to",
    "status",
    "vex_justification",
    "source",
    "why",
)


def _created(item: MatchItem) -> float:
    created = item.created_at
    return (created if created.tzinfo else created.replace(tzinfo=dt.UTC)).timestamp()


# The orders a match list offers (the API's and the console's): due first, by default.
SORTS: dict[str, Any] = {
    "due": sort_key,
    "severity": lambda i: (-i.severity_rank, sort_key(i)),
    "epss": lambda i: (-(i.epss or 0.0), sort_key(i)),
    "asset": lambda i: (i.asset_name, i.component_name, sort_key(i)),
    "created": lambda i: (-_created(i),),
}
# The query-parameter pattern that admits exactly those orders.
SORT_PATTERN = "^(" + "|".join(SORTS) + ")$"


def select_items(
    items: Iterable[MatchItem],
    *,
    status: str | None = None,
    severity: str | None = None,
    kev: bool | None = None,
    sort: str = "due",
) -> list[MatchItem]:
    """The items that pass the filters (``status``: one status, None or ``all`` for any;
    ``severity``: one rating, ``none`` for the unrated), in the ``sort`` order (:data:`SORTS`)."""
    out = [
        i
        for i in items
        if (status in (None, "", "all") or i.status == status)
        and (not severity or (i.severity or "none") == severity)
        and (kev is None or i.kev == kev)
    ]
    out.sort(key=SORTS[sort])
    return out


def open_only(items: Iterable[MatchItem], everything: bool) -> list[MatchItem]:
    return [i for i in items if everything or i.is_open]


def to_csv(items: Sequence[MatchItem]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for i in items:
        writer.writerow(
            [
                i.id,
                i.asset_name,
                i.component_purl or i.component_name,
                i.component_version or "",
                " ".join(i.vulnerability_ids),
                i.severity or "",
                "" if i.cvss_score is None else f"{i.cvss_score:g}",
                "yes" if i.kev else "no",
                i.kev_due_date.isoformat() if i.kev_due_date else "",
                i.bod_26_04_due_at.isoformat() if i.bod_26_04_due_at else "",
                "" if i.epss is None else f"{i.epss:.5f}",
                i.fixed_version or "",
                i.upgrade_to or "",
                i.status,
                i.vex_justification or "",
                i.kind,
                _csv_safe(i.why),
            ]
        )
    return out.getvalue()


def _csv_safe(text: str) -> str:
    """No cell a spreadsheet would run as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


_CDX_STATE = {
    MatchStatus.OPEN.value: "exploitable",
    MatchStatus.FIXED.value: "resolved",
    MatchStatus.MITIGATED.value: "exploitable",
    MatchStatus.ACCEPTED_RISK.value: "exploitable",
    MatchStatus.NOT_AFFECTED.value: "not_affected",
}
_CDX_RESPONSE = {
    MatchStatus.OPEN.value: ["update"],
    MatchStatus.MITIGATED.value: ["workaround_available"],
    MatchStatus.ACCEPTED_RISK.value: ["will_not_fix"],
}


def to_cyclonedx_vex(asset: Asset, items: Sequence[MatchItem], now: dt.datetime) -> dict[str, Any]:
    """A CycloneDX 1.6 VEX document for one inventory: one vulnerability per id, affecting the
    components (by ``bom-ref``: the component's purl, as the SBOM names it), with the operator's
    analysis. Dependency-Track imports it against the project made from the same SBOM."""
    import uuid

    vulns: dict[tuple[str, ...], dict[str, Any]] = {}
    refs: set[str] = set()
    for i in items:
        vid = i.title
        ref = i.component_purl or f"{i.component_name}@{i.component_version or ''}"
        detail = "; ".join(t for t in (i.status_reason, i.evidence) if t)
        group = (vid, i.status, i.vex_justification or "", detail)
        entry = vulns.get(group)
        if entry is None:
            bom_ref = vid if vid not in refs else f"{vid}#{len(refs)}"
            refs.add(bom_ref)
            entry = {
                "bom-ref": bom_ref,
                "id": vid,
                "source": {"name": "OSV" if i.kind == "advisory" else "Clearinghouse"},
                "references": [
                    {"id": other, "source": {"name": _source_of(other)}} for other in i.vulnerability_ids[1:]
                ],
                "description": i.summary[:2000],
                "affects": [],
            }
            if i.cvss_vector and i.cvss_score is not None:
                method = (
                    "CVSSv4"
                    if i.cvss_vector.startswith("CVSS:4")
                    else ("CVSSv31" if i.cvss_vector.startswith("CVSS:3.1") else "CVSSv3")
                )
                entry["ratings"] = [
                    {
                        "score": i.cvss_score,
                        "severity": i.severity or "unknown",
                        "method": method,
                        "vector": i.cvss_vector,
                    }
                ]
            elif i.severity:
                entry["ratings"] = [{"severity": i.severity, "method": "other"}]
            if i.fixed_version:
                entry["recommendation"] = (
                    f"Upgrade {i.component_name} to {i.upgrade_to or i.fixed_version} or later."
                )
            analysis: dict[str, Any] = {"state": _CDX_STATE.get(i.status, "in_triage")}
            if i.status == MatchStatus.NOT_AFFECTED.value and i.vex_justification:
                analysis["justification"] = CDX_JUSTIFICATION[i.vex_justification]
            if i.status in _CDX_RESPONSE:
                analysis["response"] = _CDX_RESPONSE[i.status]
            if detail:
                analysis["detail"] = detail[:2000]
            entry["analysis"] = analysis
            vulns[group] = entry
        affect: dict[str, Any] = {"ref": ref}
        if i.component_version:
            affect["versions"] = [
                {"version": i.component_version, "status": "affected" if i.affected else "unknown"}
            ]
        if affect not in entry["affects"]:
            entry["affects"].append(affect)
    return {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": f"urn:uuid:{uuid.uuid4()}",
        "version": 1,
        "metadata": {
            "timestamp": now.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "component": {"type": "application", "name": asset.name, "bom-ref": f"asset:{asset.id}"},
            "tools": {"components": [{"type": "application", "name": "clearinghouse"}]},
        },
        "vulnerabilities": list(vulns.values()),
    }


_CSAF_FLAGS = frozenset(CDX_JUSTIFICATION)  # the VEX justifications are CSAF 2.0's flag labels
_OPENNESS = ("known_affected", "under_investigation", "known_not_affected", "fixed")


def _csaf_status(item: MatchItem) -> str:
    if item.status == MatchStatus.FIXED.value:
        return "fixed"
    if item.status == MatchStatus.NOT_AFFECTED.value:
        return "known_not_affected"
    return (
        "known_affected"
        if item.affected is not False and item.affected is not None
        else "under_investigation"
    )


def to_csaf_vex(
    asset: Asset, items: Sequence[MatchItem], now: dt.datetime, publisher: PublisherSettings
) -> dict[str, Any]:
    """A CSAF 2.0 VEX document (profile ``csaf_vex``) for one inventory: its components as the
    product tree (by purl), one vulnerability per id with each component's status
    (``known_affected``, ``under_investigation``, ``known_not_affected`` with its justification
    flag and impact statement, ``fixed``) and what to do about the affected ones (the first fixed
    version, the operator's mitigation or accepted risk). TLP:AMBER as the asset's owner marked
    it (CSAF 2.0 knows TLP 1.0)."""
    import clearinghouse

    tree = ProductTree()
    per_vuln: dict[str, dict[str, Any]] = {}
    for i in items:
        ecosystem = i.package.split("/", 1)[0] if "/" in i.package else "unknown"
        pid = tree.add(
            ecosystem, i.component_name, "product_version", i.component_version or "unknown", i.component_purl
        )
        vid = i.title
        entry = per_vuln.setdefault(
            vid, {"item": i, "status": {}, "remedies": {}, "flags": {}, "threats": {}}
        )
        status = _csaf_status(i)
        held = entry["status"].get(pid)
        if held is not None and _OPENNESS.index(held) <= _OPENNESS.index(status):
            continue  # one status per product: the most open one wins
        entry["status"][pid] = status
        reason = "; ".join(t for t in (i.status_reason, i.evidence) if t)
        if status == "known_not_affected":
            if i.vex_justification in _CSAF_FLAGS:
                entry["flags"].setdefault(i.vex_justification, []).append(pid)
            text = reason or "The operator determined that this component is not affected."
            entry["threats"].setdefault(text[:2000], []).append(pid)
        elif status in ("known_affected", "under_investigation"):
            if i.status == MatchStatus.MITIGATED.value:
                remedy = ("mitigation", f"Mitigated by the operator: {reason or 'no detail given'}.")
            elif i.status == MatchStatus.ACCEPTED_RISK.value:
                until = f" until {i.status_expires_at:%Y-%m-%d}" if i.status_expires_at else ""
                remedy = (
                    "no_fix_planned",
                    f"Risk accepted by the operator{until}: {reason or 'no reason given'}.",
                )
            elif i.fixed_version:
                remedy = (
                    "vendor_fix",
                    f"Upgrade {i.component_name} to {i.upgrade_to or i.fixed_version} or later.",
                )
            else:
                remedy = ("none_available", "No fixed version is known yet.")
            entry["remedies"].setdefault(remedy, []).append(pid)
    vulnerabilities = []
    for vid, entry in per_vuln.items():
        first: MatchItem = entry["item"]
        statuses = ProductStatusSets()
        for pid, status in entry["status"].items():
            getattr(statuses, status).append(pid)
        vuln: dict[str, Any] = {
            "title": vid,
            "notes": [
                {
                    "category": "description",
                    "title": "Summary",
                    "text": first.summary or f"{vid} affects a component of this inventory.",
                }
            ],
            "product_status": statuses.as_dict(),
        }
        cves = [v for v in first.vulnerability_ids if v.upper().startswith("CVE-")]
        if cves:
            vuln["cve"] = cves[0]
        others = [v for v in dict.fromkeys(first.vulnerability_ids or [vid]) if v not in cves[:1]]
        if others:
            vuln["ids"] = [{"system_name": _source_of(v), "text": v} for v in others]
        if entry["remedies"]:
            vuln["remediations"] = [
                {"category": category, "details": details, "product_ids": pids}
                for (category, details), pids in entry["remedies"].items()
            ]
        if entry["flags"]:
            vuln["flags"] = [{"label": label, "product_ids": pids} for label, pids in entry["flags"].items()]
        if entry["threats"]:
            vuln["threats"] = [
                {"category": "impact", "details": details, "product_ids": pids}
                for details, pids in entry["threats"].items()
            ]
        vulnerabilities.append(vuln)
    stamp = timestamp(now)
    tracking_id = f"CH-VEX-{asset.id}-{now.astimezone(dt.UTC):%Y%m%dT%H%M%S}"
    document: dict[str, Any] = {
        "category": "csaf_vex",
        "csaf_version": "2.0",
        "distribution": {"tlp": {"label": tlp_v1_label(str(asset.tlp)), "url": TLP_URL}},
        "lang": "en",
        "notes": [
            {
                "category": "legal_disclaimer",
                "title": "Terms of use",
                "text": f"TLP:{asset.tlp}. Share only as the Traffic Light Protocol label allows.",
            },
            {
                "category": "summary",
                "title": "Inventory",
                "text": f"Vulnerability status of the components of inventory {asset.name!r} ({asset.id}).",
            },
        ],
        "publisher": {
            "category": publisher.category,
            "name": publisher.name,
            "namespace": publisher.namespace,
            **({"contact_details": publisher.contact} if publisher.contact else {}),
        },
        "title": f"VEX for inventory {asset.name}",
        "tracking": {
            "current_release_date": stamp,
            "generator": {
                "date": stamp,
                "engine": {"name": "Clearinghouse", "version": clearinghouse.__version__},
            },
            "id": tracking_id,
            "initial_release_date": stamp,
            "revision_history": [{"date": stamp, "number": "1", "summary": "Exported."}],
            "status": "final",
            "version": "1",
        },
    }
    doc: dict[str, Any] = {"document": document, "product_tree": {"branches": tree.branches()}}
    doc["vulnerabilities"] = vulnerabilities
    result: dict[str, Any] = sorted_keys(doc)
    return result


def _source_of(vid: str) -> str:
    upper = vid.upper()
    if upper.startswith("CVE-"):
        return "NVD"
    if upper.startswith("GHSA-"):
        return "GitHub"
    return "OSV"


def item_json(item: MatchItem) -> dict[str, Any]:
    data = asdict(item)
    data.pop("extra", None)
    data["due"] = item.due
    data["title"] = item.title
    return data


def dumps(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=False, default=str)


@dataclass(frozen=True)
class MatchExport:
    """An asset's matches as a file to download: its text, media type and file name."""

    body: str
    media_type: str
    filename: str


EXPORT_FORMATS = ("csv", "cyclonedx-vex", "csaf-vex")


def export_asset_matches(
    uow: UnitOfWork,
    subject: Subject,
    asset_id: str,
    fmt: str,
    everything: bool,
    now: dt.datetime,
    publisher: PublisherSettings | None = None,
) -> MatchExport:
    """The asset's open matches (or all of them) as CSV, CycloneDX VEX or CSAF 2.0 VEX
    (``publisher``: who the CSAF document names); the export is a ledger event in ``uow`` (the
    caller commits)."""
    from clearinghouse.matching.services import get_asset

    asset = get_asset(uow.session, subject, asset_id)
    items = open_only(match_items(uow.session, subject, now, asset_ids=[asset.id]), everything)
    uow.record("matches.exported", "asset", asset.id, format=fmt, count=len(items))
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in asset.name)[:80] or "asset"
    if fmt == "csv":
        return MatchExport(to_csv(items), "text/csv; charset=utf-8", f"{safe}-matches.csv")
    if fmt == "csaf-vex":
        document = to_csaf_vex(asset, items, now, publisher or PublisherSettings())
        return MatchExport(dumps(document), "application/csaf+json", f"{safe}-vex.csaf.json")
    return MatchExport(
        dumps(to_cyclonedx_vex(asset, items, now)), "application/vnd.cyclonedx+json", f"{safe}-vex.cdx.json"
    )
