"""Helpers every writer shares: timestamps, scores, identifiers, vers strings."""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
import uuid
from importlib import resources

from packageurl import PackageURL

from clearinghouse.domain import (
    TLP,
    AdvisoryRecord,
    AffectedPackage,
    Severity,
    VersionRange,
    canonical_ecosystem,
    tlp_v1_label,
)
from clearinghouse.domain import cpe_of as cpe_of
from clearinghouse.domain import sorted_keys as sorted_keys
from clearinghouse.domain import timestamp as timestamp
from clearinghouse.errors import ClearinghouseError
from clearinghouse.priority import Score, parse_vector

# One namespace for every deterministic id the writers make (STIX ids, CVE orgId):
# exporting the same record twice gives the same document.
NAMESPACE = uuid.UUID("6f1f3a0e-2f7b-5b7e-9a55-2c1d0f6c1e01")

_CVE = re.compile(r"^CVE-\d{4}-\d{4,}$")

# OSV ecosystem -> purl type, for packages given without a purl.
_PURL_TYPES = {
    "PyPI": "pypi",
    "npm": "npm",
    "Maven": "maven",
    "Go": "golang",
    "crates.io": "cargo",
    "RubyGems": "gem",
    "NuGet": "nuget",
    "Packagist": "composer",
    "Hex": "hex",
    "Pub": "pub",
    "CRAN": "cran",
    "Hackage": "hackage",
    "SwiftURL": "swift",
    "ConanCenter": "conan",
    "GitHub Actions": "githubactions",
    "Debian": "deb",
    "Alpine": "apk",
}


def stix_timestamp(value: dt.datetime) -> str:
    """STIX wants millisecond precision: ``2024-01-02T03:04:05.000Z``."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    value = value.astimezone(dt.UTC)
    return f"{value.year:04d}-{value:%m-%dT%H:%M:%S}.{value.microsecond // 1000:03d}Z"


def score_of(severity: Severity) -> Score | None:
    """The severity's vector scored (None for a vector that is not CVSS or does not parse)."""
    if not severity.type.startswith("CVSS"):
        return None
    try:
        return parse_vector(severity.vector)
    except ClearinghouseError:
        return None


def cve_ids(record: AdvisoryRecord) -> list[str]:
    """The record's CVE ids (its own id first when it is one), without repeats."""
    seen: list[str] = []
    for name in record.ids:
        upper = name.strip().upper()
        if _CVE.match(upper) and upper not in seen:
            seen.append(upper)
    return seen


def primary_name(record: AdvisoryRecord) -> str:
    """The name most tools know a vulnerability by: its CVE when it has one, else its id."""
    cves = cve_ids(record)
    return cves[0] if cves else record.id


def purl_of(package: AffectedPackage, version: str | None = None) -> str | None:
    """The package's purl (without a version unless one is given), or None if it has no purl type."""
    if package.purl:
        try:
            parsed = PackageURL.from_string(package.purl)
        except ValueError:
            return None
        return PackageURL(
            type=parsed.type, namespace=parsed.namespace, name=parsed.name, version=version
        ).to_string()
    purl_type = _PURL_TYPES.get(canonical_ecosystem(package.ecosystem.partition(":")[0]))
    if purl_type is None:
        return None
    namespace: str | None = None
    name = package.name
    if purl_type == "maven" and ":" in name:
        namespace, name = name.split(":", 1)
    elif purl_type in ("npm", "golang", "composer", "swift", "githubactions") and "/" in name:
        namespace, name = name.rsplit("/", 1)
    return PackageURL(type=purl_type, namespace=namespace, name=name, version=version).to_string()


def vers_scheme(package: AffectedPackage) -> str:
    purl = purl_of(package)
    return purl.split(":", 1)[1].split("/", 1)[0] if purl else "generic"


def range_vers(package: AffectedPackage, rng: VersionRange) -> str | None:
    """One OSV range as a vers string (``vers:pypi/>=1.0|<1.5``); None for GIT ranges.

    Each (introduced, fixed/last_affected) pair becomes one interval, in the
    order the events are listed, as OSV evaluates them.
    """
    if rng.type == "GIT":
        return None
    constraints: list[str] = []
    for event in rng.events:
        if event.kind == "introduced":
            if event.value not in ("0", "*"):
                constraints.append(f">={event.value}")
        elif event.kind == "fixed":
            constraints.append(f"<{event.value}")
        elif event.kind == "last_affected":
            constraints.append(f"<={event.value}")
        elif event.kind == "limit":
            constraints.append(f"<{event.value}")
    if not constraints:
        return f"vers:{vers_scheme(package)}/*"
    return f"vers:{vers_scheme(package)}/" + "|".join(constraints)


def fixed_versions(package: AffectedPackage) -> list[str]:
    out: list[str] = []
    for rng in package.ranges:
        if rng.type == "GIT":
            continue
        for event in rng.events:
            if event.kind == "fixed" and event.value not in out:
                out.append(event.value)
    return out


@functools.cache
def cwe_names() -> dict[str, str]:
    """CWE 4.14 (package data): ``CWE-79`` -> its name."""
    text = resources.files("clearinghouse.data").joinpath("cwe/cwe-4.14.json").read_text(encoding="utf-8")
    return {f"CWE-{w['id']}": w["name"] for w in json.loads(text)["weaknesses"]}


def tlp_v1(tlp: TLP) -> str:
    """TLP 2.0 as the TLP 1.0 label CSAF 2.0 knows: CLEAR is WHITE, AMBER+STRICT is AMBER."""
    return tlp_v1_label(tlp.value)


def deterministic_uuid(*parts: str) -> str:
    """A UUID derived from ``parts`` (SHA-1, as UUIDv5) but shaped as version 4, which
    STIX SDO ids and CVE org ids require: reproducible and still well-formed."""
    return str(uuid.UUID(bytes=uuid.uuid5(NAMESPACE, "\x1f".join(parts)).bytes, version=4))
