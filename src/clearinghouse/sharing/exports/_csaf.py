"""CSAF 2.0: the ``csaf_security_advisory`` profile, or ``csaf_vex`` when vendors gave
product statements (https://docs.oasis-open.org/csaf/csaf/v2.0/csaf-v2.0.html).

The product tree is built from the affected packages (vendor or ecosystem →
product name → ``product_version_range`` as a vers string, one per OSV range,
plus one ``product_version`` per listed and per fixed version) and from the
vendors' statements (vendor → product → version). A package version the
record says is fixed is ``fixed``; a range is ``known_affected``. CSAF 2.0
knows TLP 1.0 only: TLP:CLEAR is written WHITE, AMBER+STRICT AMBER.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import clearinghouse
from clearinghouse.access import TLP
from clearinghouse.domain import (
    TLP_URL,
    AdvisoryRecord,
    AffectedPackage,
    ProductStatement,
    ProductStatus,
    ProductStatusSets,
    ProductTree,
    Revision,
)
from clearinghouse.sharing.exports._common import (
    cve_ids,
    cwe_names,
    fixed_versions,
    purl_of,
    range_vers,
    score_of,
    sorted_keys,
    timestamp,
    tlp_v1,
)

MEDIA_TYPE = "application/json"
_UNSAFE = re.compile(r"[^+\-a-z0-9]+")
_CREDIT_SUMMARY = {
    "FINDER": "finding the vulnerability",
    "REPORTER": "reporting the vulnerability",
    "ANALYST": "analysis",
    "COORDINATOR": "coordination",
    "REMEDIATION_DEVELOPER": "developing the fix",
}


def filename(tracking_id: str) -> str:
    """The file name CSAF 2.0 (5.1) gives a document: the tracking id, lower case, with
    every run of characters other than ``+``, ``-``, a-z and 0-9 replaced by ``_``."""
    return _UNSAFE.sub("_", tracking_id.lower()) + ".json"


def tlp_folder(record: AdvisoryRecord) -> str:
    """The provider directory the document belongs in (CSAF 2.0 7.1.13): white, green, amber or red."""
    return tlp_v1(record.tlp).lower()


def canonical_url(record: AdvisoryRecord, base_url: str | None = None) -> str:
    base = (base_url or record.publisher.namespace).rstrip("/")
    year = _initial_date(record).year
    return f"{base}/.well-known/csaf/{tlp_folder(record)}/{year}/{filename(record.id)}"


def _initial_date(record: AdvisoryRecord) -> dt.datetime:
    dates = [r.date for r in record.revisions]
    if record.published is not None:
        dates.append(record.published)
    return min(dates) if dates else record.modified


_Tree = ProductTree
_Status = ProductStatusSets


def _vendor_of(package: AffectedPackage) -> str:
    return package.ecosystem or "unknown"


def _packages(record: AdvisoryRecord, tree: _Tree, status: _Status) -> dict[str, list[str]]:
    """Products for the affected packages; returns fix ("package version") -> the affected ids
    it fixes, and under "" the affected ids no known version fixes."""
    fixes: dict[str, list[str]] = {}
    for package in record.affected:
        vendor = _vendor_of(package)
        affected_ids: list[str] = []
        for rng in package.ranges:
            vers = range_vers(package, rng)
            if vers is None:
                continue  # commits are no product version; the listed versions carry them
            affected_ids.append(
                tree.add(vendor, package.name, "product_version_range", vers, purl_of(package))
            )
        for version in package.versions:
            affected_ids.append(
                tree.add(vendor, package.name, "product_version", version, purl_of(package, version))
            )
        if not affected_ids:
            affected_ids.append(
                tree.add(vendor, package.name, "product_version_range", "vers:all/*", purl_of(package))
            )
        status.known_affected.extend(i for i in affected_ids if i not in status.known_affected)
        if not fixed_versions(package):
            fixes.setdefault("", []).extend(affected_ids)
        for version in fixed_versions(package):
            pid = tree.add(vendor, package.name, "product_version", version, purl_of(package, version))
            if pid not in status.fixed and pid not in status.known_affected:
                status.fixed.append(pid)
            fixes.setdefault(f"{package.name} {version}", []).extend(affected_ids)
    return fixes


def _statement_product(tree: _Tree, st: ProductStatement) -> str:
    version = st.version or "all versions"
    category = "product_version" if st.version else "product_version_range"
    if not st.version:
        version = "vers:all/*"
    return tree.add(st.vendor_name, st.product_name, category, version, st.purl)


def _statements(
    record: AdvisoryRecord, tree: _Tree, status: _Status, vuln: dict[str, Any]
) -> list[dict[str, Any]]:
    remediations: list[dict[str, Any]] = []
    flags: dict[str, list[str]] = {}
    threats: list[dict[str, Any]] = []
    for st in record.product_statements:
        if st.status is ProductStatus.UNKNOWN:
            continue  # no answer is no statement: silence is never "not affected"
        pid = _statement_product(tree, st)
        if st.status is ProductStatus.AFFECTED:
            bucket = status.known_affected
            action = st.action_statement or "No fix is available yet; follow the vendor's guidance."
            remediations.append({"category": "none_available", "details": action, "product_ids": [pid]})
        elif st.status is ProductStatus.FIXED:
            bucket = status.fixed
            for fixed in st.fixed_versions:
                fixed_id = tree.add(
                    st.vendor_name, st.product_name, "product_version", fixed, _with_version(st.purl, fixed)
                )
                if fixed_id not in status.fixed:
                    status.fixed.append(fixed_id)
            if st.fixed_versions:
                detail = "Fixed in " + ", ".join(st.fixed_versions) + "."
                remediations.append({"category": "vendor_fix", "details": detail, "product_ids": [pid]})
        elif st.status is ProductStatus.NOT_AFFECTED:
            bucket = status.known_not_affected
            if st.justification is not None:
                flags.setdefault(st.justification.value, []).append(pid)
            else:
                text = st.impact_statement or "The vendor states that this product is not affected."
                threats.append({"category": "impact", "details": text, "product_ids": [pid]})
        else:
            bucket = status.under_investigation
            detail = st.action_statement or "The vendor is investigating; no fix is available yet."
            remediations.append({"category": "none_available", "details": detail, "product_ids": [pid]})
        if pid not in bucket:
            bucket.append(pid)
    if flags:
        vuln["flags"] = [{"label": label, "product_ids": ids} for label, ids in flags.items()]
    if threats:
        vuln["threats"] = threats
    return remediations


def _with_version(purl: str | None, version: str) -> str | None:
    if not purl:
        return None
    base = purl.split("?", 1)[0].split("#", 1)[0]
    if "@" in base.rsplit("/", 1)[-1]:
        base = base.rsplit("@", 1)[0]
    return f"{base}@{version}"


def _revisions(record: AdvisoryRecord) -> list[Revision]:
    revisions = sorted(record.revisions, key=lambda r: r.date)
    if not revisions:
        return [Revision("1", _initial_date(record), "Initial version.")]
    numbers = [r.number for r in revisions]
    if numbers != [str(i) for i in range(1, len(numbers) + 1)]:
        revisions = [Revision(str(i), r.date, r.summary) for i, r in enumerate(revisions, 1)]
    return revisions


def _scores(record: AdvisoryRecord, products: list[str]) -> list[dict[str, Any]]:
    scores: list[dict[str, Any]] = []
    seen: set[str] = set()
    for severity in record.severity:
        score = score_of(severity)
        if score is None or score.version.value == "4.0" or not products:
            continue  # CSAF 2.0 holds CVSS v2 and v3 only
        key = "cvss_v2" if score.version.value == "2.0" else "cvss_v3"
        if key in seen:
            continue  # one score per CVSS version and product (6.1.7)
        seen.add(key)
        body: dict[str, Any] = {
            "version": score.version.value,
            "vectorString": score.vector,
            "baseScore": score.base_score,
        }
        if key == "cvss_v3":
            body["baseSeverity"] = score.severity.value.upper()
        scores.append({key: body, "products": products})
    return scores


SPEC_VERSIONS = ("2.0", "2.1")
CSAF_21_SCHEMA = "https://docs.oasis-open.org/csaf/csaf/v2.1/schema/csaf.json"
_TLP_V2 = {
    TLP.CLEAR: "CLEAR",
    TLP.GREEN: "GREEN",
    TLP.AMBER: "AMBER",
    TLP.AMBER_STRICT: "AMBER+STRICT",
    TLP.RED: "RED",
}


def to_csaf(
    record: AdvisoryRecord, *, base_url: str | None = None, spec_version: str = "2.0"
) -> dict[str, Any]:
    """The record as a CSAF 2.0 or 2.1 document (``base_url``: where the provider serves it)."""
    if spec_version not in SPEC_VERSIONS:
        raise ValueError(f"CSAF {spec_version} is not written; {' and '.join(SPEC_VERSIONS)} are")
    doc = _to_csaf_20(record, base_url=base_url)
    return _as_21(record, doc) if spec_version == "2.1" else doc


def _as_21(record: AdvisoryRecord, doc: dict[str, Any]) -> dict[str, Any]:
    """A CSAF 2.0 document as CSAF 2.1 writes it: TLP 2.0 labels, ``cwes`` and ``metrics`` lists."""
    document = doc["document"]
    document["csaf_version"] = "2.1"
    document["distribution"] = {"tlp": {"label": _TLP_V2.get(record.tlp, "RED"), "url": TLP_URL}}
    _purls_as_lists(doc.get("product_tree"))
    for vuln in doc.get("vulnerabilities", []):
        released = vuln.pop("release_date", None)
        if released is not None:
            vuln["disclosure_date"] = released
        cwe = vuln.pop("cwe", None)
        if cwe is not None:
            vuln["cwes"] = [{**cwe, "version": "4.14"}]
        scores = vuln.pop("scores", None)
        if scores:
            vuln["metrics"] = [
                {"content": {k: v for k, v in s.items() if k != "products"}, "products": s["products"]}
                for s in scores
            ]
    result: dict[str, Any] = sorted_keys({"$schema": CSAF_21_SCHEMA, **doc})
    return result


def _purls_as_lists(node: Any) -> None:
    """CSAF 2.1 names a product's package URLs in a list: ``purl`` becomes ``purls``."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            helper = item.get("product_identification_helper")
            if isinstance(helper, dict) and "purl" in helper:
                helper["purls"] = [helper.pop("purl")]
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _to_csaf_20(record: AdvisoryRecord, *, base_url: str | None = None) -> dict[str, Any]:
    vex = any(st.status is not ProductStatus.UNKNOWN for st in record.product_statements)
    tree = _Tree()
    status = _Status()
    vuln: dict[str, Any] = {}
    fixes = _packages(record, tree, status)
    remediations = _statements(record, tree, status, vuln)
    for fix, ids in fixes.items():
        if fix:
            remediations.append(
                {"category": "vendor_fix", "details": f"Update to {fix} or later.", "product_ids": ids}
            )
        else:
            detail = "No fixed version is known yet."
            remediations.append({"category": "none_available", "details": detail, "product_ids": ids})
    revisions = _revisions(record)
    current = max(record.modified, revisions[-1].date)
    cves = cve_ids(record)
    title = record.title or record.id
    notes: list[dict[str, Any]] = []
    if record.summary:
        notes.append({"category": "summary", "title": "Summary", "text": record.summary})
    notes.append(
        {"category": "description", "title": "Details", "text": record.details or record.summary or title}
    )
    document: dict[str, Any] = {
        "category": "csaf_vex" if vex else "csaf_security_advisory",
        "csaf_version": "2.0",
        "distribution": {"tlp": {"label": tlp_v1(record.tlp), "url": TLP_URL}},
        "lang": "en",
        "notes": [
            {
                "category": "legal_disclaimer",
                "title": "Terms of use",
                "text": f"TLP:{record.tlp.value}. Share only as the Traffic Light Protocol label allows.",
            }
        ],
        "publisher": {
            "category": record.publisher.category,
            "name": record.publisher.name,
            "namespace": record.publisher.namespace,
            **({"contact_details": record.publisher.contact} if record.publisher.contact else {}),
        },
        "references": [
            {"category": "self", "summary": "This advisory", "url": canonical_url(record, base_url)},
            *({"category": "external", "summary": r.type, "url": r.url} for r in record.references),
        ],
        "title": title,
        "tracking": {
            "current_release_date": timestamp(current),
            "generator": {
                "date": timestamp(current),
                "engine": {"name": "Clearinghouse", "version": clearinghouse.__version__},
            },
            "id": record.id,
            "initial_release_date": timestamp(revisions[0].date),
            "revision_history": [
                {"date": timestamp(r.date), "number": r.number, "summary": r.summary or "Revised."}
                for r in revisions
            ],
            "status": "final",
            "version": revisions[-1].number,
        },
    }
    if record.credits:
        document["acknowledgments"] = [
            {"names": [c.name], "summary": _CREDIT_SUMMARY.get(c.type, "contributing")}
            for c in record.credits
        ]
    if cves:
        vuln["cve"] = cves[0]
    others = [a for a in record.ids if a.upper() not in cves[:1]]
    if others:
        vuln["ids"] = [{"system_name": a.split("-", 1)[0], "text": a} for a in dict.fromkeys(others)]
    names = cwe_names()
    known_cwes = [c for c in record.cwes if c in names]
    if known_cwes:
        vuln["cwe"] = {"id": known_cwes[0], "name": names[known_cwes[0]]}
    vuln["notes"] = notes
    if status.as_dict():
        vuln["product_status"] = status.as_dict()
    if record.references:
        vuln["references"] = [
            {"category": "external", "summary": r.type, "url": r.url} for r in record.references
        ]
    if record.published is not None:
        vuln["release_date"] = timestamp(record.published)
    if remediations:
        vuln["remediations"] = [
            {**r, "product_ids": list(dict.fromkeys(r["product_ids"]))} for r in remediations
        ]
    scores = _scores(record, status.known_affected)
    if scores:
        vuln["scores"] = scores
    vuln["title"] = title
    doc: dict[str, Any] = {"document": document}
    if tree.ids:
        doc["product_tree"] = {"branches": tree.branches()}
    else:
        # The advisory and VEX profiles need products; a record naming none is a base document.
        document["category"] = "csaf_base"
    doc["vulnerabilities"] = [vuln]
    result: dict[str, Any] = sorted_keys(doc)
    return result
