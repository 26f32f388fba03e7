"""CVE JSON 5.1 CNA container (``containers.cna`` of a published CVE record).

Affected packages become ``packageName`` entries under their registry's
``collectionURL`` (or vendor/product for anything else) with one
``versions`` item per OSV range interval; vendors' statements become
vendor/product entries (fixed and not affected are ``unaffected``; silence
and investigation are ``unknown``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from clearinghouse.domain import AdvisoryRecord, AffectedPackage, ProductStatus, VersionRange
from clearinghouse.sharing.exports._common import (
    deterministic_uuid,
    score_of,
    timestamp,
    vers_scheme,
)

MEDIA_TYPE = "application/json"

_COLLECTIONS = {
    "PyPI": "https://pypi.org",
    "npm": "https://www.npmjs.com",
    "Maven": "https://repo.maven.apache.org/maven2",
    "Go": "https://pkg.go.dev",
    "crates.io": "https://crates.io",
    "RubyGems": "https://rubygems.org",
    "NuGet": "https://www.nuget.org",
    "Packagist": "https://packagist.org",
    "Hex": "https://hex.pm",
    "Pub": "https://pub.dev",
    "CRAN": "https://cran.r-project.org",
    "Hackage": "https://hackage.haskell.org",
}
_CREDIT_TYPES = {
    "FINDER": "finder",
    "REPORTER": "reporter",
    "ANALYST": "analyst",
    "COORDINATOR": "coordinator",
    "REMEDIATION_DEVELOPER": "remediation developer",
    "REMEDIATION_REVIEWER": "remediation reviewer",
    "REMEDIATION_VERIFIER": "remediation verifier",
    "TOOL": "tool",
    "SPONSOR": "sponsor",
}
_STATUS = {
    ProductStatus.AFFECTED: "affected",
    ProductStatus.FIXED: "unaffected",
    ProductStatus.NOT_AFFECTED: "unaffected",
    ProductStatus.UNDER_INVESTIGATION: "unknown",
    ProductStatus.UNKNOWN: "unknown",
}
_MAX_TEXT = 4096


def _version_type(package: AffectedPackage, rng: VersionRange) -> str:
    if rng.type == "GIT":
        return "git"
    if rng.type == "SEMVER":
        return "semver"
    return vers_scheme(package)


def _range_versions(package: AffectedPackage, rng: VersionRange) -> list[dict[str, Any]]:
    """OSV events as CVE version items: ``introduced`` starts one, the next
    ``fixed`` (``lessThan``) or ``last_affected`` (``lessThanOrEqual``) ends it."""
    kind = _version_type(package, rng)
    out: list[dict[str, Any]] = []
    start: str | None = None
    limit = next((e.value for e in rng.events if e.kind == "limit"), None)
    for event in rng.events:
        if event.kind == "introduced":
            if start is not None:
                out.append(
                    {"version": start, "status": "affected", "lessThan": limit or "*", "versionType": kind}
                )
            start = event.value
        elif event.kind in ("fixed", "last_affected"):
            key = "lessThan" if event.kind == "fixed" else "lessThanOrEqual"
            out.append({"version": start or "0", "status": "affected", key: event.value, "versionType": kind})
            start = None
    if start is not None:
        out.append({"version": start, "status": "affected", "lessThan": limit or "*", "versionType": kind})
    return out


def _package(package: AffectedPackage) -> dict[str, Any]:
    base = package.ecosystem.partition(":")[0]
    entry: dict[str, Any]
    if base in _COLLECTIONS:
        entry = {"collectionURL": _COLLECTIONS[base], "packageName": package.name[:2048]}
    else:
        entry = {"vendor": (package.ecosystem or "n/a")[:512], "product": package.name[:2048]}
    versions: list[dict[str, Any]] = []
    for rng in package.ranges:
        versions.extend(_range_versions(package, rng))
    versions.extend({"version": v, "status": "affected"} for v in package.versions)
    if versions:
        entry["versions"] = _unique(versions)
        entry["defaultStatus"] = "unaffected"
    else:
        entry["defaultStatus"] = "affected"
    return entry


def _metrics(record: AdvisoryRecord) -> list[dict[str, Any]]:
    metrics: list[dict[str, Any]] = []
    for severity in record.severity:
        score = score_of(severity)
        if score is None:
            if severity.type and severity.vector:
                metrics.append(
                    {"other": {"type": severity.type[:128], "content": {"score": severity.vector}}}
                )
            continue
        version = score.version.value
        key = {"2.0": "cvssV2_0", "3.0": "cvssV3_0", "3.1": "cvssV3_1", "4.0": "cvssV4_0"}[version]
        body: dict[str, Any] = {
            "version": version,
            "vectorString": score.vector,
            "baseScore": score.base_score,
        }
        if version != "2.0":
            body["baseSeverity"] = score.severity.value.upper()
        metrics.append({key: body})
    return metrics


def _unique(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The items without repeats (CVE 5 requires unique ``versions`` items)."""
    seen: dict[str, dict[str, Any]] = {}
    for item in items:
        seen.setdefault(repr(sorted(item.items())), item)
    return list(seen.values())


def _plausible(value: dt.datetime) -> bool:
    """CVE 5 dates lie in 1900-2999 (its pattern); a placeholder such as 0001-01-01 is left out."""
    return 1900 <= value.year <= 2999


def _short_name(name: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "-_" else "_" for c in name)[:32]
    return cleaned if len(cleaned) >= 2 else "clearinghouse"


def to_cve5(record: AdvisoryRecord) -> dict[str, Any]:
    """The record as a CVE 5.1 CNA published container."""
    description = record.details or record.summary or record.title or record.id
    container: dict[str, Any] = {
        "providerMetadata": {
            "orgId": deterministic_uuid("cve-org", record.publisher.namespace),
            "shortName": _short_name(record.publisher.name),
        },
        "title": (record.title or record.id)[:256],
        "descriptions": [{"lang": "en", "value": description[:_MAX_TEXT]}],
    }
    if _plausible(record.modified):
        container["providerMetadata"]["dateUpdated"] = timestamp(record.modified)
    if record.published is not None and _plausible(record.published):
        container["datePublic"] = timestamp(record.published)
    affected = [_package(p) for p in record.affected]
    for st in record.product_statements:
        entry: dict[str, Any] = {
            "vendor": st.vendor_name[:512] or "n/a",
            "product": st.product_name[:2048] or "n/a",
        }
        status = _STATUS[st.status]
        if st.version:
            entry["versions"] = [{"version": st.version, "status": status}]
            entry["defaultStatus"] = "unknown"
        else:
            entry["defaultStatus"] = status
        if st.status is ProductStatus.FIXED and st.fixed_versions:
            entry.setdefault("versions", []).extend(
                {"version": v, "status": "unaffected"} for v in st.fixed_versions
            )
        affected.append(entry)
    for entry in affected:
        if "versions" in entry:
            entry["versions"] = _unique(entry["versions"])
    if not affected:
        affected.append({"vendor": "n/a", "product": "n/a", "defaultStatus": "unknown"})
    container["affected"] = affected
    if record.cwes:
        container["problemTypes"] = [
            {"descriptions": [{"lang": "en", "description": cwe, "cweId": cwe, "type": "CWE"}]}
            for cwe in dict.fromkeys(record.cwes)
            if cwe.upper().startswith("CWE-")
        ] or [{"descriptions": [{"lang": "en", "description": ", ".join(record.cwes)}]}]
    metrics = _metrics(record)
    if metrics:
        container["metrics"] = metrics
    references = [{"url": r.url} for r in record.references]
    if not references:
        base = record.publisher.namespace.rstrip("/")
        references = [{"url": f"{base}/api/v1/advisories/{record.id}/export?format=cve5"}]
    container["references"] = list({r["url"]: r for r in references}.values())
    if record.credits:
        container["credits"] = [
            {"lang": "en", "value": c.name, "type": _CREDIT_TYPES.get(c.type, "other")}
            for c in record.credits
        ]
    return container
