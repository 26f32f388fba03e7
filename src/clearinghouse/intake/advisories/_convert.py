"""Advisory formats that are not OSV, converted to OSV records.

- rubysec (rubysec/ruby-advisory-db): ``gems/<gem>/<id>.yml`` and
  ``rubies/<engine>/<id>.yml``. The affected versions are everything that no
  ``patched_versions`` or ``unaffected_versions`` requirement matches.
- Node.js security WG (nodejs/security-wg ``vuln/npm`` and ``vuln/core``): npm
  modules and Node.js itself, with node-semver ranges; the affected versions are
  ``vulnerable`` minus ``patched``.

The converted record keeps the source's fields that OSV has no place for under
``database_specific``, so nothing is lost.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Any

from packageurl import PackageURL

from clearinghouse.domain import NODEJS, RUBY, UnorderedVersion, gem_key
from clearinghouse.intake.advisories._intervals import (
    EVERYTHING,
    SEMVER_SCHEME,
    Bound,
    Interval,
    Scheme,
    semver_key,
)
from clearinghouse.intake.advisories._osv import RecordError

# -- node-semver ranges -------------------------------------------------------

_PARTIAL = r"v?\s*(?:[0-9]+|[xX*])(?:\.(?:[0-9]+|[xX*])){0,2}(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?"
_COMPARATOR = re.compile(rf"\s*(<=|>=|<|>|=|~>|~|\^)?\s*({_PARTIAL})\s*")
_HYPHEN = re.compile(rf"^\s*({_PARTIAL})\s+-\s+({_PARTIAL})\s*$")


def _partial(text: str) -> tuple[list[int], str | None]:
    """``"1.2.x"`` -> ``([1, 2], None)``; ``"1.2.3-beta"`` -> ``([1, 2, 3], "beta")``."""
    text = text.strip().lstrip("vV").strip()
    text, _, _build = text.partition("+")
    core, _, pre = text.partition("-")
    nums: list[int] = []
    for part in core.split("."):
        if part in ("x", "X", "*"):
            break
        nums.append(int(part))
    return nums, (pre or None) if len(nums) == 3 else None


def _ver(nums: list[int], pre: str | None = None) -> str:
    full = [*nums, 0, 0, 0][:3]
    text = f"{full[0]}.{full[1]}.{full[2]}"
    return f"{text}-{pre}" if pre else text


def _bumped(nums: list[int]) -> list[int]:
    return [*nums[:-1], nums[-1] + 1]


def _next(nums: list[int]) -> str:
    """The first prerelease of the release after a partial: ``[1]`` -> ``2.0.0-0``."""
    return _ver(_bumped(nums), "0")


def _comparator(op: str | None, text: str) -> Interval | None:
    """One node-semver comparator as an interval (None: matches nothing)."""
    nums, pre = _partial(text)
    if not nums:  # "*", "x": any version
        return None if op in (">", "<") else EVERYTHING
    exact = len(nums) == 3
    version = _ver(nums, pre)
    if op in (None, "="):
        return Interval(Bound(version, True), Bound(version, True) if exact else Bound(_next(nums), False))
    if op == ">=":
        return Interval(Bound(version, True), None)
    if op == ">":
        return Interval(Bound(version, False) if exact else Bound(_ver(_bumped(nums)), True), None)
    if op == "<":
        return Interval(None, Bound(version if exact else _ver(nums, "0"), False))
    if op == "<=":
        return Interval(None, Bound(version, True) if exact else Bound(_next(nums), False))
    if op in ("~", "~>"):
        return Interval(Bound(version, True), Bound(_next(nums[:2]), False))
    # "^": changes that keep the leftmost non-zero part (^1.2.3 <2.0.0, ^0.2.3 <0.3.0, ^0.0 <0.1.0).
    keep = next((i for i, n in enumerate(nums) if n != 0), len(nums) - 1)
    return Interval(Bound(version, True), Bound(_next(nums[: keep + 1]), False))


def npm_range(expr: str) -> list[Interval]:
    """A node-semver range (``">=1.0.0 <1.2.3 || ^2.0.0"``) as intervals."""
    result: list[Interval] = []
    for alternative in expr.split("||"):
        alternative = alternative.strip()
        if alternative in ("", "*", "x", "X", "latest"):
            result.append(EVERYTHING)
            continue
        hyphen = _HYPHEN.match(alternative)
        if hyphen:
            lo_nums, lo_pre = _partial(hyphen.group(1))
            hi_nums, hi_pre = _partial(hyphen.group(2))
            hi = Bound(_ver(hi_nums, hi_pre), True) if len(hi_nums) == 3 else Bound(_next(hi_nums), False)
            result.append(Interval(Bound(_ver(lo_nums, lo_pre), True), hi if hi_nums else None))
            continue
        current: Interval | None = EVERYTHING
        pos = 0
        while pos < len(alternative):
            m = _COMPARATOR.match(alternative, pos)
            if m is None or m.end() == pos:
                raise ValueError(f"cannot read the version range {alternative!r}")
            pos = m.end()
            comparator = _comparator(m.group(1), m.group(2))
            current = (
                None
                if comparator is None or current is None
                else SEMVER_SCHEME.intersect(current, comparator)
            )
        if current is not None:
            result.append(current)
    return SEMVER_SCHEME.union(result)


# -- RubyGems requirements ----------------------------------------------------

_GEM_CONSTRAINT = re.compile(r"^\s*(=|!=|>=|<=|>|<|~>)?\s*([0-9][0-9A-Za-z.-]*)\s*$")


def _gem_segments(version: str) -> list[int | str]:
    return [
        int(s) if s.isdigit() else s for s in re.findall(r"[0-9]+|[A-Za-z]+", version.replace("-", ".pre."))
    ]


def gem_bump(version: str) -> str:
    """``Gem::Version#bump``: the exclusive upper bound of ``~> version``."""
    segments = _gem_segments(version)
    while any(isinstance(s, str) for s in segments):
        segments.pop()
    if len(segments) > 1:
        segments.pop()
    last = segments[-1]
    assert isinstance(last, int)
    segments[-1] = last + 1
    return ".".join(str(s) for s in segments)


def gem_successor(version: str) -> str:
    """The release after ``version``, for a range that starts just above it.

    RubyGems has no least greater version, so this is the next patch release
    (``1.13.7`` -> ``1.13.8``), as GitHub's advisories write it; after a
    prerelease, the prerelease with ``.1`` added.
    """
    segments = _gem_segments(version)
    if all(isinstance(s, int) for s in segments):
        last = segments[-1]
        assert isinstance(last, int)
        return ".".join(str(s) for s in [*segments[:-1], last + 1])
    return f"{version}.1"


GEM_SCHEME = Scheme(gem_key, gem_successor)


def gem_requirement(requirement: str) -> Interval:
    """One rubysec requirement (``"~> 4.2.5, >= 4.2.5.1"``: all must hold) as an interval."""
    current = EVERYTHING
    for part in requirement.split(","):
        m = _GEM_CONSTRAINT.match(part)
        if m is None:
            raise ValueError(f"cannot read the requirement {part.strip()!r}")
        op, version = m.group(1) or "=", m.group(2)
        gem_key(version)  # refuse what RubyGems could not order
        if op == "=":
            iv = Interval(Bound(version, True), Bound(version, True))
        elif op == ">=":
            iv = Interval(Bound(version, True), None)
        elif op == ">":
            iv = Interval(Bound(version, False), None)
        elif op == "<":
            iv = Interval(None, Bound(version, False))
        elif op == "<=":
            iv = Interval(None, Bound(version, True))
        elif op == "~>":
            # ``~> 2.4.3`` holds for 2.4.x releases only: 2.5.0.preview1 is already
            # out (``Gem::Requirement`` compares the release part), so the bound
            # is the least prerelease of the bump, 2.5.a.
            iv = Interval(Bound(version, True), Bound(f"{gem_bump(version)}.a", False))
        else:
            raise ValueError(f"'!=' requirements are not supported: {part.strip()!r}")
        current = GEM_SCHEME.intersect(current, iv)
    return current


# -- rubysec ------------------------------------------------------------------

_RUBYSEC_MAPPED = frozenset(
    {"gem", "engine", "cve", "ghsa", "osvdb", "url", "title", "date", "description", "related"}
)


def is_rubysec(doc: dict[str, Any]) -> bool:
    return (
        ("gem" in doc or "engine" in doc)
        and "affected" not in doc
        and ("patched_versions" in doc or "url" in doc or "title" in doc)
    )


def _day(value: Any, pointer: str) -> str:
    text = str(value).strip() if isinstance(value, (str, int)) else ""
    if not re.match(r"^\d{4}-\d{2}-\d{2}$", text):
        raise RecordError(pointer, f"expected a date YYYY-MM-DD, not {str(value)[:40]!r}")
    return f"{text}T00:00:00Z"


def _prefixed(prefix: str, value: Any) -> str:
    text = str(value).strip()
    return text if text.upper().startswith(prefix) else prefix + text


def rubysec_to_osv(doc: dict[str, Any], name_hint: str) -> dict[str, Any]:
    """A rubysec advisory as an OSV record (``RUBYSEC-<gem>-<CVE/GHSA/OSVDB id>``)."""
    gem, engine = doc.get("gem"), doc.get("engine")
    key = "gem" if gem is not None else "engine"
    package = gem if gem is not None else engine
    if not isinstance(package, str) or not package.strip():
        raise RecordError(f"/{key}", f"'{key}' must be a non-empty string")
    aliases = []
    if doc.get("cve") is not None:
        aliases.append(_prefixed("CVE-", doc["cve"]))
    if doc.get("ghsa") is not None:
        aliases.append(_prefixed("GHSA-", doc["ghsa"]))
    if doc.get("osvdb") is not None:
        aliases.append(_prefixed("OSVDB-", doc["osvdb"]))
    # The file name (``gems/<gem>/<CVE|GHSA|OSVDB id>.yml``) is unique within the gem.
    stem = PurePosixPath(name_hint).stem
    primary = stem if re.match(r"^(CVE|GHSA|OSVDB)-", stem) else aliases[0] if aliases else stem
    adv_id = f"RUBYSEC-{package}-{primary}" if gem is not None else f"RUBYSEC-RUBY-{package}-{primary}"
    date = _day(doc.get("date"), "/date")

    safe: list[Interval] = []
    for field in ("patched_versions", "unaffected_versions"):
        requirements = doc.get(field) or []
        if not isinstance(requirements, list):
            raise RecordError(f"/{field}", f"'{field}' must be a list of requirements")
        for i, requirement in enumerate(requirements):
            try:
                safe.append(gem_requirement(str(requirement)))
            except (ValueError, UnorderedVersion) as exc:
                raise RecordError(f"/{field}/{i}", str(exc)) from None
    affected_set = GEM_SCHEME.complement(safe) if safe else [EVERYTHING]

    refs: list[dict[str, str]] = []
    urls = [doc.get("url")]
    related = doc.get("related")
    if isinstance(related, dict):
        for value in related.values():
            urls.extend(value if isinstance(value, list) else [value])
    for url in urls:
        if isinstance(url, str) and url and all(r["url"] != url for r in refs):
            refs.append({"type": "ADVISORY" if not refs else "WEB", "url": url})

    pkg: dict[str, str] = {"ecosystem": "RubyGems" if gem is not None else RUBY, "name": package}
    if gem is not None:
        pkg["purl"] = PackageURL(type="gem", name=package).to_string()
    extra = {k: v for k, v in doc.items() if k not in _RUBYSEC_MAPPED}
    record: dict[str, Any] = {
        "schema_version": "1.6.0",
        "id": adv_id,
        "modified": date,
        "published": date,
        "aliases": aliases,
        "summary": str(doc.get("title") or "").strip(),
        "details": str(doc.get("description") or "").strip(),
        "affected": [{"package": pkg, "ranges": GEM_SCHEME.osv_ranges(affected_set, "ECOSYSTEM")}],
        "references": refs,
        "database_specific": {"source_format": "rubysec", "rubysec": extra},
    }
    return record


# -- Node.js security WG ------------------------------------------------------


def nodejs_kind(doc: dict[str, Any]) -> str | None:
    """``"npm"``, ``"core"``, ``"assessment"`` (a not-affected statement) or None."""
    if "module_name" in doc and "vulnerable_versions" in doc:
        return "npm"
    if "vulnerable" in doc and "patched" in doc and ("cve" in doc or "overview" in doc):
        return "core"
    if "reason" in doc and "cve" in doc and "vulnerable" not in doc:
        return "assessment"
    return None


def _npm_set(doc: dict[str, Any], key: str) -> list[Interval]:
    value = doc.get(key)
    if value is None:
        return []
    if not isinstance(value, str):
        raise RecordError(f"/{key}", f"'{key}' must be a version range string")
    try:
        return npm_range(value)
    except ValueError as exc:
        raise RecordError(f"/{key}", str(exc)) from None


def _nodejs_severity(vector: Any) -> list[dict[str, str]]:
    if not isinstance(vector, str) or not vector.strip():
        return []
    vector = vector.strip()
    if not vector.startswith("CVSS:"):
        vector = f"CVSS:{vector}"
    kind = {"CVSS:3": "CVSS_V3", "CVSS:4": "CVSS_V4"}.get(vector[:6])
    return [{"type": kind, "score": vector}] if kind else []


def nodejs_to_osv(doc: dict[str, Any], kind: str, name_hint: str) -> dict[str, Any]:
    """A Node.js security WG record (``npm`` or ``core``) as an OSV record."""
    vulnerable_key, patched_key = (
        ("vulnerable_versions", "patched_versions")
        if kind == "npm"
        else (
            "vulnerable",
            "patched",
        )
    )
    vulnerable = _npm_set(doc, vulnerable_key)
    patched = _npm_set(doc, patched_key)
    affected_set = SEMVER_SCHEME.intersection(vulnerable, SEMVER_SCHEME.complement(patched))
    for iv in affected_set:  # a version the ranges name but semver cannot order is refused here
        for bound in (iv.lo, iv.hi):
            if bound is not None:
                semver_key(bound.version)
    number = doc.get("id") if kind == "npm" else None
    number = number if number is not None else PurePosixPath(name_hint).stem
    cves = doc.get("cves" if kind == "npm" else "cve") or []
    if not isinstance(cves, list):
        raise RecordError("/cves" if kind == "npm" else "/cve", "CVE ids must be a list")
    aliases = [str(c).strip() for c in cves if str(c).strip()]
    refs = doc.get("references") if kind == "npm" else [doc.get("ref")]
    references = [{"type": "WEB", "url": u} for u in refs or [] if isinstance(u, str) and u]
    modified = doc.get("updated_at") or doc.get("publish_date") or doc.get("created_at")
    published = doc.get("publish_date") or doc.get("created_at")
    if kind == "npm":
        name = doc.get("module_name")
        if not isinstance(name, str) or not name.strip():
            raise RecordError("/module_name", "'module_name' must be a non-empty string")
        scope, _, bare = name.rpartition("/")
        package = {
            "ecosystem": "npm",
            "name": name,
            "purl": PackageURL(type="npm", namespace=scope or None, name=bare).to_string(),
        }
        adv_id = f"NSWG-ECO-{number}"
        summary = doc.get("title")
        details = doc.get("overview")
        severity = _nodejs_severity(doc.get("cvss_vector"))
        mapped = {"id", "module_name", "cves", "references", "title", "overview", "cvss_vector", "updated_at"}
    else:
        package = {"ecosystem": NODEJS, "name": "node"}
        adv_id = f"NSWG-COR-{number}"
        details = doc.get("overview") or doc.get("description")
        summary = doc.get("description") or (details.strip().splitlines()[0] if details else None)
        severity = _nodejs_severity(doc.get("cvss"))
        mapped = {"cve", "ref", "overview", "description", "cvss"}
    extra = {k: v for k, v in doc.items() if k not in mapped}
    if modified is None:
        extra["modified_unknown"] = True  # the source has no dates; OSV needs one
    record: dict[str, Any] = {
        "schema_version": "1.6.0",
        "id": adv_id,
        "modified": _day(modified, "/updated_at") if modified is not None else "1970-01-01T00:00:00Z",
        "aliases": aliases,
        "summary": str(summary or "").strip(),
        "details": str(details or "").strip(),
        "affected": [{"package": package, "ranges": SEMVER_SCHEME.osv_ranges(affected_set, "SEMVER")}],
        "references": references,
        "database_specific": {"source_format": "nodejs-security-wg", "nodejs_security_wg": extra},
    }
    if published is not None:
        record["published"] = _day(published, "/publish_date")
    if severity:
        record["severity"] = severity
    return record
