"""CVE JSON 5.x records: each ``containers.cna.affected[]`` entry with affected versions becomes a finding."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote, urlsplit

from packageurl import PackageURL

from clearinghouse.domain import EVERYTHING, Interval, complement, render, sortable, version_key
from clearinghouse.domain.finding import Generator, SourceFormat
from clearinghouse.intake.importers._items import (
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
    cwe_from_tag,
    first_line,
    impact_from_cwes,
    make_generator,
    mapped_list,
    opt_arr,
    opt_obj,
    opt_str,
    req_str,
)

_PLACEHOLDERS = {"", "n/a", "na", "-", "*", "unknown", "[unknown]", "unspecified", "none"}
_COMPARATOR = re.compile(r"^\s*(<=|>=|<|>|=)\s*([^\s,<>=]+)\s*$")
_PREFIX_WILDCARD = re.compile(r"^(.*?)([0-9]+)\.\*$")
_CVSS_KEYS = ("cvssV3_1", "cvssV3_0", "cvssV4_0", "cvssV2_0")

# collectionURL host → purl type, and the URL path prefix before a package name (when packageName is absent).
_COLLECTIONS: dict[str, tuple[str, str | None]] = {
    "pypi.org": ("pypi", "/project/"),
    "pypi.python.org": ("pypi", "/pypi/"),
    "www.npmjs.com": ("npm", "/package/"),
    "npmjs.com": ("npm", "/package/"),
    "registry.npmjs.org": ("npm", "/"),
    "repo.maven.apache.org": ("maven", None),
    "repo1.maven.org": ("maven", None),
    "search.maven.org": ("maven", None),
    "central.sonatype.com": ("maven", None),
    "pkg.go.dev": ("golang", "/"),
    "proxy.golang.org": ("golang", None),
    "crates.io": ("cargo", "/crates/"),
    "rubygems.org": ("gem", "/gems/"),
    "www.nuget.org": ("nuget", "/packages/"),
    "packagist.org": ("composer", "/packages/"),
    "hex.pm": ("hex", "/packages/"),
    "pub.dev": ("pub", "/packages/"),
}


def _placeholder(value: str | None) -> bool:
    return value is None or value.strip().lower() in _PLACEHOLDERS


def purl_for(entry: dict[str, Any], pointer: str) -> tuple[str, str]:
    """The purl of an affected entry (by collectionURL, else generic vendor/product), and its pointer."""
    collection = opt_str(entry, "collectionURL", pointer)
    package_name = opt_str(entry, "packageName", pointer)
    if collection:
        parts = urlsplit(collection if "//" in collection else f"https://{collection}")
        known = _COLLECTIONS.get(parts.netloc.lower())
        if known is not None:
            purl_type, prefix = known
            name = package_name
            name_ptr = child(pointer, "packageName")
            path = unquote(parts.path)
            if name is None and prefix is not None and path.startswith(prefix) and path != prefix:
                name, name_ptr = path[len(prefix) :].strip("/"), child(pointer, "collectionURL")
            if name is not None:
                return _make(purl_type, name, name_ptr), name_ptr
    vendor = opt_str(entry, "vendor", pointer)
    product = opt_str(entry, "product", pointer)
    name, name_ptr = (product, child(pointer, "product"))
    if _placeholder(name):
        name, name_ptr = package_name, child(pointer, "packageName")
    if name is None or _placeholder(name):
        raise BadField(
            child(pointer, "product"), f"the affected product is not named (product {product or 'missing'!r})"
        )
    namespace = None if _placeholder(vendor) else vendor
    try:
        return PackageURL(type="generic", namespace=namespace, name=name).to_string(), name_ptr
    except ValueError as exc:
        raise BadField(name_ptr, f"cannot make a package URL: {exc}") from None


def _make(purl_type: str, name: str, pointer: str) -> str:
    namespace: str | None = None
    if purl_type == "maven":
        if name.count(":") != 1:
            raise BadField(pointer, f"a Maven packageName is group:artifact, not {name!r}")
        namespace, name = name.split(":")
    elif "/" in name and purl_type in ("npm", "golang", "composer"):
        namespace, _, name = name.rpartition("/")
    try:
        return PackageURL(type=purl_type, namespace=namespace, name=name).to_string()
    except ValueError as exc:
        raise BadField(pointer, f"cannot make a package URL: {exc}") from None


def _upper(bound: str, inclusive: bool) -> tuple[str | None, bool]:
    """An upper bound; ``5.15.*`` (every 5.15.x) becomes ``< 5.16``, and ``*`` no bound at all."""
    match = _PREFIX_WILDCARD.match(bound)
    if match:
        return f"{match.group(1)}{int(match.group(2)) + 1}", False
    if "*" in bound:
        return None, False
    return bound, inclusive


def _expression(text: str) -> Interval | None:
    """``>= 1.7.0, < 1.18.4``, ``< 1.10.5`` and the like (GitHub's CNA writes these as the version)."""
    lo: str | None = None
    hi: str | None = None
    lo_incl = hi_incl = True
    for part in text.split(","):
        match = _COMPARATOR.match(part)
        if match is None:
            return None
        op, version = match.groups()
        if op == "=":
            return Interval.point(version)
        if op.startswith(">"):
            lo, lo_incl = version, op == ">="
        else:
            hi, hi_incl = version, op == "<="
    return Interval(lo, lo_incl, hi, hi_incl)


def _segments(version_obj: dict[str, Any], pointer: str) -> list[tuple[str, Interval]] | str:
    """The (status, interval) pairs one ``versions[]`` entry states, or why it states none."""
    version = req_str(version_obj, "version", pointer)
    status = req_str(version_obj, "status", pointer)
    if status not in ("affected", "unaffected", "unknown"):
        raise BadField(child(pointer, "status"), f"status is affected, unaffected or unknown, not {status!r}")
    if opt_str(version_obj, "versionType", pointer) == "git":
        return "git commit ranges (versionType git) cannot be written as a package version range"
    less_than = opt_str(version_obj, "lessThan", pointer)
    less_equal = opt_str(version_obj, "lessThanOrEqual", pointer)
    bound = less_than if less_than is not None else less_equal
    if bound is not None and (bound.strip() == "*" or not _placeholder(bound)):
        hi, hi_incl = _upper(bound, inclusive=less_than is None)
        points: list[tuple[str | None, str]] = [
            (None if _placeholder(version) or version == "0" else version, status)
        ]
        for k, raw in enumerate(opt_arr(version_obj, "changes", pointer)):
            change_ptr = child(pointer, "changes", k)
            change = as_obj(raw, change_ptr)
            points.append((req_str(change, "at", change_ptr), req_str(change, "status", change_ptr)))
        segments: list[tuple[str, Interval]] = []
        for k, (start, state) in enumerate(points):
            end, end_incl = (points[k + 1][0], False) if k + 1 < len(points) else (hi, hi_incl)
            segments.append((state, Interval(start, True, end, end_incl)))
        return segments
    if _placeholder(version):
        return f"the version is a placeholder ({version!r})"
    if version[0] in "<>=":
        interval = _expression(version)
        if interval is None:
            return f"cannot read the range {version!r}"
        return [(status, interval)]
    if any(c.isspace() for c in version):
        return f"{version!r} is not a version"
    return [(status, Interval.point(version))]


def _vers(entry: dict[str, Any], pointer: str, scheme: str) -> str | None:
    """The affected range of one entry as vers; None when the entry says nothing is affected."""
    default_status = opt_str(entry, "defaultStatus", pointer) or "unknown"
    affected: list[Interval] = []
    unaffected: list[Interval] = []
    unusable: list[tuple[str, str]] = []
    versions = opt_arr(entry, "versions", pointer)
    for k, raw in enumerate(versions):
        version_ptr = child(pointer, "versions", k)
        found = _segments(as_obj(raw, version_ptr), version_ptr)
        if isinstance(found, str):
            if as_obj(raw, version_ptr).get("status") == "affected":
                unusable.append((version_ptr, found))
            continue
        for state, interval in found:
            if state == "affected":
                affected.append(interval)
            elif state == "unaffected":
                unaffected.append(interval)
    if default_status == "affected":
        key = version_key(scheme)
        if key is not None and sortable(unaffected + affected, key):
            affected = complement(unaffected, key) + affected
        elif not unaffected:
            affected = [EVERYTHING]
        elif not affected:
            raise BadField(
                child(pointer, "defaultStatus"),
                f"every version is affected except the unaffected ones, which {scheme} ordering cannot sort",
            )
    if affected:
        return render(scheme, affected)
    if unusable:
        where, why = unusable[0]
        raise BadField(where, f"no usable affected version: {why}")
    return None


def _cwes(container: dict[str, Any], pointer: str) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for i, raw in enumerate(opt_arr(container, "problemTypes", pointer)):
        problem_ptr = child(pointer, "problemTypes", i)
        for k, desc_raw in enumerate(opt_arr(as_obj(raw, problem_ptr), "descriptions", problem_ptr)):
            desc_ptr = child(problem_ptr, "descriptions", k)
            desc = as_obj(desc_raw, desc_ptr)
            explicit = opt_str(desc, "cweId", desc_ptr)
            if explicit is not None:
                found.extend(checked_cwes([(explicit, child(desc_ptr, "cweId"))]))
                continue
            text = opt_str(desc, "description", desc_ptr)
            cwe = cwe_from_tag(text) if text else None
            if cwe is not None:
                found.append((cwe, child(desc_ptr, "description")))
    return found


def _cvss(container: dict[str, Any], pointer: str) -> tuple[str, str] | None:
    for i, raw in enumerate(opt_arr(container, "metrics", pointer)):
        metric_ptr = child(pointer, "metrics", i)
        metric = as_obj(raw, metric_ptr)
        for key in _CVSS_KEYS:
            cvss = opt_obj(metric, key, metric_ptr)
            vector = opt_str(cvss, "vectorString", child(metric_ptr, key)) if cvss else None
            if vector:
                return vector, child(metric_ptr, key, "vectorString")
    return None


def _english(container: dict[str, Any], pointer: str) -> tuple[str, str]:
    first: tuple[str, str] = ("", "")
    for i, raw in enumerate(opt_arr(container, "descriptions", pointer)):
        desc_ptr = child(pointer, "descriptions", i)
        desc = as_obj(raw, desc_ptr)
        value = opt_str(desc, "value", desc_ptr) or ""
        lang = (opt_str(desc, "lang", desc_ptr) or "").lower()
        if lang.startswith("en") and value:
            return value, child(desc_ptr, "value")
        if not first[0]:
            first = (value, child(desc_ptr, "value"))
    return first


def parse(doc: dict[str, Any], *, default_generator: Generator | None) -> Iterator[Draft | Failure]:
    metadata = as_obj(doc.get("cveMetadata"), "/cveMetadata")
    cve = req_str(metadata, "cveId", "/cveMetadata")
    if opt_str(metadata, "state", "/cveMetadata") == "REJECTED":
        yield Failure("/cveMetadata/state", f"{cve} was rejected; there is nothing to import")
        return
    containers = as_obj(doc.get("containers"), "/containers")
    cna = as_obj(containers.get("cna"), "/containers/cna")
    cna_ptr = "/containers/cna"
    adps = [
        (as_obj(adp, f"/containers/adp/{i}"), f"/containers/adp/{i}")
        for i, adp in enumerate(opt_arr(containers, "adp", "/containers"))
    ]
    title = opt_str(cna, "title", cna_ptr)
    description, description_ptr = _english(cna, cna_ptr)
    cwes = _cwes(cna, cna_ptr) or [c for adp, ptr in adps for c in _cwes(adp, ptr)]
    cvss = _cvss(cna, cna_ptr) or next((c for adp, ptr in adps if (c := _cvss(adp, ptr))), None)
    references: list[tuple[str, str]] = []
    for i, raw in enumerate(opt_arr(cna, "references", cna_ptr)):
        ref_ptr = child(cna_ptr, "references", i)
        references.append((req_str(as_obj(raw, ref_ptr), "url", ref_ptr), child(ref_ptr, "url")))
    provider = opt_obj(cna, "providerMetadata", cna_ptr) or {}
    organization = opt_str(metadata, "assignerShortName", "/cveMetadata") or opt_str(
        provider, "shortName", child(cna_ptr, "providerMetadata")
    )
    generator = default_generator or make_generator("cve5-import", organization=organization)
    for i, raw in enumerate(opt_arr(cna, "affected", cna_ptr)):
        pointer = child(cna_ptr, "affected", i)
        try:
            entry = as_obj(raw, pointer)
            fields = FieldMap(pointer)
            purl, purl_ptr = purl_for(entry, pointer)
            vers = _vers(entry, pointer, PackageURL.from_string(purl).type)
            if vers is None:
                continue
            fields["package"] = pointer
            fields["package.purl"] = purl_ptr
            fields["package.vers"] = child(pointer, "versions")
            fields["title"] = child(cna_ptr, "title") if title else description_ptr
            fields["description"] = description_ptr
            if cvss:
                fields["impact.cvss_vector"] = cvss[1]
            cwe_list = mapped_list(fields, "cwe", cwes, MAX_CWE)
            data: dict[str, Any] = {
                "title": clamp(title or first_line(description) or cve, MAX_TITLE),
                "description": clamp(description, MAX_DESCRIPTION),
                "package": {"purl": purl, "vers": vers},
                "source": _source(entry, pointer, fields),
                "cwe": cwe_list,
                "impact": {"claimed": impact_from_cwes(cwe_list), "cvss_vector": cvss[0] if cvss else None},
                "generator": generator,
                "aliases": mapped_list(fields, "aliases", [(cve, "/cveMetadata/cveId")], 1),
                "references": mapped_list(fields, "references", references, MAX_REFERENCES),
                "origin": {"format": SourceFormat.CVE5, "document_id": cve},
            }
            yield Draft(data, fields)
        except BadField as exc:
            yield Failure.of(exc)


def _source(entry: dict[str, Any], pointer: str, fields: FieldMap) -> dict[str, Any] | None:
    source: dict[str, Any] = {}
    repo = opt_str(entry, "repo", pointer)
    if repo:
        source["repo"] = repo
        fields["source.repo"] = child(pointer, "repo")
    files = opt_arr(entry, "programFiles", pointer)
    if files:
        source["file"] = as_str(files[0], child(pointer, "programFiles", 0))
        fields["source.file"] = child(pointer, "programFiles", 0)
    routines = opt_arr(entry, "programRoutines", pointer)
    if routines:
        routine_ptr = child(pointer, "programRoutines", 0)
        source["symbol"] = opt_str(as_obj(routines[0], routine_ptr), "name", routine_ptr)
        fields["source.symbol"] = child(routine_ptr, "name")
    return source or None
