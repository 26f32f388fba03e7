"""OSV 1.x (https://ossf.github.io/osv-schema/): one finding per ``affected[]`` entry."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from packageurl import PackageURL

from clearinghouse.domain import EVERYTHING, Interval, registry_kind, render
from clearinghouse.domain.finding import Generator, SourceFormat
from clearinghouse.intake.importers._items import (
    MAX_ALIASES,
    MAX_CWE,
    MAX_DESCRIPTION,
    MAX_REFERENCES,
    MAX_TITLE,
    BadField,
    Draft,
    Failure,
    FieldMap,
    as_obj,
    as_str,
    checked_cwes,
    child,
    clamp,
    first_line,
    impact_from_cwes,
    make_generator,
    mapped_list,
    opt_arr,
    opt_obj,
    opt_str,
    req_str,
    str_list,
)

MAX_VERS = 2000  # PackageRef.vers
_HEX_COMMIT = re.compile(r"^[0-9a-fA-F]{7,64}$")
_CVSS_PREFERENCE = ("CVSS_V3", "CVSS_V4", "CVSS_V2")

# OSV ecosystem (the part before ":") → purl type.
_PURL_TYPE = {
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
    "Hackage": "hackage",
    "Debian": "deb",
    "Ubuntu": "deb",
    "Alpine": "apk",
    "OSS-Fuzz": "generic",
    "GitHub Actions": "github",
}


def purl_for(ecosystem: str, name: str, pointer: str) -> str:
    """The package URL for an OSV ``package`` (``pointer`` is the package object's)."""
    base, _, release = ecosystem.partition(":")
    purl_type = _PURL_TYPE.get(base)
    if purl_type is None:
        raise BadField(
            child(pointer, "ecosystem"),
            f"no package-URL mapping is known for ecosystem {ecosystem!r}; give the package's 'purl'",
        )
    namespace: str | None = None
    qualifiers: dict[str, str] = {}
    if base == "Maven":
        if name.count(":") != 1:
            raise BadField(child(pointer, "name"), f"a Maven package name is group:artifact, not {name!r}")
        namespace, name = name.split(":")
    elif base in ("npm", "Packagist", "GitHub Actions", "Go") and "/" in name:
        namespace, _, name = name.rpartition("/")
    elif base in ("Debian", "Ubuntu", "Alpine"):
        namespace = base.lower()
        version = release.split(":")[0].lstrip("v")
        if version:
            qualifiers["distro"] = f"{namespace}-{version}"
    try:
        return PackageURL(type=purl_type, namespace=namespace, name=name, qualifiers=qualifiers).to_string()
    except ValueError as exc:
        raise BadField(child(pointer, "name"), f"cannot make a package URL: {exc}") from None


def cvss_vector(severities: list[Any], pointer: str) -> tuple[str, str] | None:
    """The preferred CVSS vector of an OSV ``severity`` array, with its pointer."""
    found: dict[str, tuple[str, str]] = {}
    for i, entry in enumerate(severities):
        obj = as_obj(entry, child(pointer, i))
        kind = opt_str(obj, "type", child(pointer, i))
        score = opt_str(obj, "score", child(pointer, i))
        if kind and score and kind not in found:
            found[kind] = (score, child(pointer, i, "score"))
    return next((found[k] for k in _CVSS_PREFERENCE if k in found), None)


def _events(rng: dict[str, Any], pointer: str) -> tuple[list[Interval], list[tuple[str, str]]]:
    """Intervals of an ECOSYSTEM/SEMVER range, and the (commit, pointer) pairs a GIT range marks affected."""
    intervals: list[Interval] = []
    affected_commits: list[tuple[str, str]] = []
    start: str | None = None
    open_ = False
    for j, event in enumerate(opt_arr(rng, "events", pointer)):
        where = child(pointer, "events", j)
        obj = as_obj(event, where)
        if not obj:
            raise BadField(where, "an event needs one of introduced, fixed, last_affected or limit")
        kind, value = next(iter(obj.items()))
        version = as_str(value, child(where, kind), numbers=True)
        if kind == "introduced":
            if open_:
                intervals.append(Interval(start, True, None, False))
            start, open_ = (None if version == "0" else version), True
            if version != "0":
                affected_commits.append((version, child(where, kind)))
        elif kind in ("fixed", "last_affected"):
            intervals.append(Interval(start, True, version, kind == "last_affected"))
            start, open_ = None, False
            if kind == "last_affected":
                affected_commits.append((version, child(where, kind)))
        elif kind != "limit":
            raise BadField(child(where, kind), f"unknown range event {kind!r}")
    if open_:
        intervals.append(Interval(start, True, None, False) if start is not None else EVERYTHING)
    return intervals, affected_commits


def parse(doc: dict[str, Any], *, default_generator: Generator | None) -> Iterator[Draft | Failure]:
    osv_id = req_str(doc, "id", "")
    withdrawn = opt_str(doc, "withdrawn", "")
    if withdrawn:
        yield Failure("/withdrawn", f"{osv_id} was withdrawn on {withdrawn}; there is nothing to import")
        return
    # The document's own id is provenance (origin.document_id); it is an alias only when it is
    # the id of a public registry (a PYSEC or GHSA record re-imported), never a finder's report id.
    own = [(osv_id, "/id")] if registry_kind(osv_id) is not None else []
    aliases = [*own, *str_list(doc, "aliases", "")]
    summary = opt_str(doc, "summary", "")
    details = opt_str(doc, "details", "") or ""
    references: list[tuple[str, str]] = []
    for i, ref in enumerate(opt_arr(doc, "references", "")):
        ref_ptr = f"/references/{i}"
        references.append((req_str(as_obj(ref, ref_ptr), "url", ref_ptr), child(ref_ptr, "url")))
    database = opt_obj(doc, "database_specific", "") or {}
    cwes = checked_cwes(str_list(database, "cwe_ids", "/database_specific"))
    doc_cvss = cvss_vector(opt_arr(doc, "severity", ""), "/severity")
    severity = database.get("severity") if isinstance(database.get("severity"), str) else None
    generator = default_generator or make_generator("osv-import", organization=osv_id.split("-")[0])
    affected = opt_arr(doc, "affected", "")
    if not affected:
        yield Failure("/affected", f"{osv_id} lists no affected packages")
        return
    for i, entry in enumerate(affected):
        pointer = f"/affected/{i}"
        try:
            fields = FieldMap(pointer)
            data: dict[str, Any] = {
                "title": clamp(summary or first_line(details) or osv_id, MAX_TITLE),
                "description": clamp(details, MAX_DESCRIPTION),
                "aliases": mapped_list(fields, "aliases", aliases, MAX_ALIASES),
                "references": mapped_list(fields, "references", references, MAX_REFERENCES),
                "cwe": mapped_list(fields, "cwe", cwes, MAX_CWE),
                "generator": generator,
                "origin": {"format": SourceFormat.OSV, "document_id": osv_id},
            }
            fields["title"] = "/summary" if summary else "/details"
            fields["description"] = "/details"
            data.update(_affected(as_obj(entry, pointer), pointer, fields))
            cvss = cvss_vector(opt_arr(entry, "severity", pointer), child(pointer, "severity")) or doc_cvss
            data["impact"] = {
                "claimed": impact_from_cwes(data["cwe"]),
                "description": f"Severity: {severity}" if severity else "",
                "cvss_vector": cvss[0] if cvss else None,
            }
            if cvss:
                fields["impact.cvss_vector"] = cvss[1]
            yield Draft(data, fields)
        except BadField as exc:
            yield Failure.of(exc)


def _affected(entry: dict[str, Any], pointer: str, fields: FieldMap) -> dict[str, Any]:
    """The package, version range and source repository of one ``affected[]`` entry."""
    package = opt_obj(entry, "package", pointer)
    if package is None:
        raise BadField(
            pointer, "the affected entry has no 'package' (a git-only entry cannot name a package version)"
        )
    package_ptr = child(pointer, "package")
    purl = opt_str(package, "purl", package_ptr)
    fields["package"] = package_ptr
    if purl is not None:
        fields["package.purl"] = child(package_ptr, "purl")
    else:
        ecosystem = req_str(package, "ecosystem", package_ptr)
        name = req_str(package, "name", package_ptr)
        purl = purl_for(ecosystem, name, package_ptr)
        fields["package.purl"] = child(package_ptr, "name")
    try:
        scheme = PackageURL.from_string(purl).type
    except ValueError as exc:
        raise BadField(child(package_ptr, "purl"), f"not a package URL: {exc}") from None

    intervals: list[Interval] = []
    ranges_ptr = child(pointer, "ranges")
    commits: list[tuple[str, str]] = []
    repo: tuple[str, str] | None = None
    for k, rng in enumerate(opt_arr(entry, "ranges", pointer)):
        rng_ptr = child(ranges_ptr, k)
        obj = as_obj(rng, rng_ptr)
        kind = req_str(obj, "type", rng_ptr)
        found, affected_commits = _events(obj, rng_ptr)
        if kind == "GIT":
            repo = repo or ((opt_str(obj, "repo", rng_ptr) or ""), child(rng_ptr, "repo"))
            commits.extend(affected_commits)
        else:
            intervals.extend(found)
    versions = str_list(entry, "versions", pointer, numbers=True)

    out: dict[str, Any] = {"package": {"purl": purl}}
    listed = render(scheme, [Interval.point(v) for v, _ in versions]) if versions and not intervals else None
    if intervals:
        out["package"]["vers"] = render(scheme, intervals)
        fields["package.vers"] = ranges_ptr
    elif listed is not None and (len(listed) <= MAX_VERS or not commits):
        out["package"]["vers"] = listed
        fields["package.vers"] = child(pointer, "versions")
    elif commits:  # no versions, or too many to write as vers: name the affected commit instead
        out["package"]["version"] = commits[0][0]
        fields["package.version"] = commits[0][1]
    elif PackageURL.from_string(purl).version is None:
        raise BadField(
            pointer, "no ECOSYSTEM or SEMVER range, 'versions' or git commit says what is affected"
        )
    if repo and repo[0]:
        source: dict[str, Any] = {"repo": repo[0]}
        fields["source.repo"] = repo[1]
        if commits and "version" in out["package"] and _HEX_COMMIT.match(commits[0][0]):
            source["commit"] = commits[0][0]
            fields["source.commit"] = commits[0][1]
        out["source"] = source
    return out
