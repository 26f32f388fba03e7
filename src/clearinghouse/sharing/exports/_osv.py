"""OSV 1.7 JSON (https://ossf.github.io/osv-schema/)."""

from __future__ import annotations

import re
from typing import Any

from clearinghouse.domain import OSV_ECOSYSTEMS, AdvisoryRecord, AffectedPackage
from clearinghouse.sharing.exports._common import timestamp

SCHEMA_VERSION = "1.7.0"
MEDIA_TYPE = "application/json"

# The id prefixes OSV's schema admits (home databases); anything else is written as ``x_<id>``.
_PREFIX = re.compile(
    r"^(x_|(ASB-A|PUB-A|ALPINE|ALSA|ALBA|ALEA|AZL|BELL|BIT|CGA|CLEANSTART|CLSA|CURL|CVE|DEBIAN|DHI|DRUPAL|DSA"
    r"|DLA|ELA|DTSA|ECHO|EEF|FreeBSD|GHSA|GO|GSD|HSEC|JLSEC|KUBE|LBSEC|LSN|MAL|MINI|MGASA|OESA|OSEC|OSV"
    r"|openSUSE-SU|PHSA|PSF|PYSEC|RHBA|RHEA|RHSA|RLSA|RXSA|RSEC|ROOT|RUSTSEC|SUSE-[SRFO]U|UBUNTU|USN|V8)-)"
)
_ECOSYSTEMS = frozenset(OSV_ECOSYSTEMS)
_REFERENCE_TYPES = frozenset(
    {"ADVISORY", "ARTICLE", "DETECTION", "DISCUSSION", "REPORT", "FIX", "INTRODUCED", "GIT", "PACKAGE",
     "EVIDENCE", "WEB"}
)  # fmt: skip
_CREDIT_TYPES = frozenset(
    {"FINDER", "REPORTER", "ANALYST", "COORDINATOR", "REMEDIATION_DEVELOPER", "REMEDIATION_REVIEWER",
     "REMEDIATION_VERIFIER", "TOOL", "SPONSOR", "OTHER"}
)  # fmt: skip


def osv_id(record_id: str) -> str:
    """The id as OSV writes it: unchanged under a known prefix, else ``x_<id>``."""
    return record_id if _PREFIX.match(record_id) else f"x_{record_id}"


def _osv_ecosystem(package: AffectedPackage) -> bool:
    return package.ecosystem.partition(":")[0] in _ECOSYSTEMS


def _affected(package: AffectedPackage) -> dict[str, Any]:
    pkg: dict[str, Any] = {"ecosystem": package.ecosystem, "name": package.name}
    if package.purl:
        pkg["purl"] = package.purl
    out: dict[str, Any] = {"package": pkg}
    ranges = []
    for rng in package.ranges:
        item: dict[str, Any] = {"type": rng.type}
        if rng.repo is not None:
            item["repo"] = rng.repo
        item["events"] = [{e.kind: e.value} for e in rng.events]
        ranges.append(item)
    if ranges:
        out["ranges"] = ranges
    if package.versions:
        out["versions"] = list(package.versions)
    return out


def to_osv(record: AdvisoryRecord) -> dict[str, Any]:
    """The record as one OSV document. Packages outside OSV's ecosystems (a vendor's
    product) have no OSV form and are left out; the CSAF and CVE writers carry them."""
    doc: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "id": osv_id(record.id),
        "modified": timestamp(record.modified),
    }
    if record.published is not None:
        doc["published"] = timestamp(record.published)
    if record.withdrawn is not None:
        doc["withdrawn"] = timestamp(record.withdrawn)
    if record.aliases:
        doc["aliases"] = list(record.aliases)
    summary = record.summary or (record.title if record.title != record.id else "")
    if summary:
        doc["summary"] = summary
    if record.details:
        doc["details"] = record.details
    if record.severity:
        doc["severity"] = [{"type": s.type, "score": s.vector} for s in record.severity]
    affected = [_affected(p) for p in record.affected if _osv_ecosystem(p)]
    if affected:
        doc["affected"] = affected
    if record.references:
        doc["references"] = [
            {"type": r.type if r.type in _REFERENCE_TYPES else "WEB", "url": r.url} for r in record.references
        ]
    if record.credits:
        doc["credits"] = [
            {"name": c.name, "type": c.type if c.type in _CREDIT_TYPES else "OTHER"} for c in record.credits
        ]
    specific: dict[str, Any] = {}
    if record.cwes:
        specific["cwe_ids"] = list(record.cwes)
    if record.source.value == "case":
        specific["clearinghouse"] = {"id": record.id, "tlp": record.tlp.value}
        if record.case_id:
            specific["clearinghouse"]["case_id"] = record.case_id
    if specific:
        doc["database_specific"] = specific
    return doc
