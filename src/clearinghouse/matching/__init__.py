"""Matching: which participants' assets a vulnerability affects, and why.

Pure functions and in-memory structures (no database, no HTTP):

* :class:`AffectedRange` (``_ranges``): affected versions from OSV ranges and
  versions, vers strings, or a single version, checked in the ecosystem's
  version order (univers).
* :class:`MatchIndex` (``_index``): vulnerabilities and inventories keyed by
  (ecosystem, normalized name), matched both ways, every :class:`Match` with
  its explanation, rule and confidence.
* :func:`parse_sbom` (``_sbom``): CycloneDX and SPDX documents into
  :class:`Component` s, which the index takes as they are.

Stored matches (``models.CaseMatch``, table ``matches``) are kept by the jobs
``matching.case`` and ``matching.asset`` (``tasks``) and read through the policy
with :func:`matches_for_case` and :func:`matches_for_asset`.

See ``docs/matching.md``.
"""

from clearinghouse.matching._index import (
    CONFIDENCE,
    CPE_FALLBACK,
    NAME_VERSION,
    PURL_EXACT,
    AffectedPackage,
    ComponentLike,
    ComponentRef,
    Match,
    MatchIndex,
    PackageEntry,
    PackageTable,
    Vulnerability,
    clear_caches,
)
from clearinghouse.matching._names import PackageName, from_purl, normalize, package_name, parse_cpe
from clearinghouse.matching._ranges import (
    AffectedRange,
    Scheme,
    Span,
    UnorderedVersion,
    Verdict,
    parse_vers,
    scheme_for_ecosystem,
    scheme_for_vers,
)
from clearinghouse.matching._sbom import Component, InvalidSbom, ParsedSbom, parse_sbom
from clearinghouse.matching.models import CaseMatch
from clearinghouse.matching.services import matches_for_asset, matches_for_case

__all__ = [
    "CONFIDENCE",
    "CPE_FALLBACK",
    "NAME_VERSION",
    "PURL_EXACT",
    "AffectedPackage",
    "AffectedRange",
    "CaseMatch",
    "Component",
    "ComponentLike",
    "ComponentRef",
    "InvalidSbom",
    "Match",
    "MatchIndex",
    "PackageEntry",
    "PackageName",
    "PackageTable",
    "ParsedSbom",
    "Scheme",
    "Span",
    "UnorderedVersion",
    "Verdict",
    "Vulnerability",
    "clear_caches",
    "from_purl",
    "matches_for_asset",
    "matches_for_case",
    "normalize",
    "package_name",
    "parse_cpe",
    "parse_sbom",
    "parse_vers",
    "scheme_for_ecosystem",
    "scheme_for_vers",
]
