"""SARIF 2.1.0 (OASIS): each ``runs[].results[]`` entry becomes a finding.

SARIF says where a problem is, not which package release it is in: the package
is the caller's ``package`` when given, else the run's ``versionControlProvenance``
(repository + revision).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from packageurl import PackageURL

from clearinghouse.domain.finding import CWE_PATTERN, Generator, PackageRef, SourceFormat
from clearinghouse.intake.importers._items import (
    MAX_CWE,
    MAX_DESCRIPTION,
    MAX_LOCATIONS,
    MAX_ORGANIZATION,
    MAX_REFERENCES,
    MAX_TITLE,
    MAX_TOOL_VERSION,
    BadField,
    Draft,
    Failure,
    FieldMap,
    as_arr,
    as_obj,
    as_str,
    child,
    clamp,
    cwe_from_tag,
    cwe_id,
    first_line,
    impact_from_cwes,
    mapped_list,
    opt_arr,
    opt_int,
    opt_obj,
    opt_str,
    req_str,
    str_list,
)

_HEX_COMMIT = re.compile(r"^[0-9a-fA-F]{7,64}$")
_NOT_PROBLEMS = {"pass", "notApplicable", "informational"}
_PLACEHOLDER = re.compile(r"\{([0-9]+)\}")

PACKAGE_HINT = (
    "the affected package is unknown: the run has no versionControlProvenance with repositoryUri and "
    "revisionId; give it with package=PackageRef(purl=..., version=...) (the CLI's --package option)"
)


@dataclass
class _Rules:
    """A tool component's rules: (rule, pointer) in order, and by id."""

    rules: list[tuple[dict[str, Any], str]] = field(default_factory=list)
    by_id: dict[str, tuple[dict[str, Any], str]] = field(default_factory=dict)

    @classmethod
    def read(cls, component: dict[str, Any], pointer: str) -> _Rules:
        out = cls()
        for i, rule in enumerate(opt_arr(component, "rules", pointer)):
            rule_ptr = child(pointer, "rules", i)
            obj = as_obj(rule, rule_ptr)
            out.rules.append((obj, rule_ptr))
            rule_id = opt_str(obj, "id", rule_ptr)
            if rule_id is not None:
                out.by_id.setdefault(rule_id, (obj, rule_ptr))
        return out


@dataclass
class _Run:
    pointer: str
    generator: Generator
    driver: _Rules
    extensions: list[_Rules]
    artifacts: list[Any]
    logical_locations: list[Any]
    package: dict[str, Any] | PackageRef | None
    package_ptr: str
    source: dict[str, Any]
    vcp_ptr: str | None
    document_id: str | None

    @classmethod
    def read(
        cls,
        run: dict[str, Any],
        pointer: str,
        default_generator: Generator | None,
        package: PackageRef | None,
    ) -> _Run:
        tool = opt_obj(run, "tool", pointer)
        if tool is None:
            raise BadField(child(pointer, "tool"), "'tool' is required")
        tool_ptr = child(pointer, "tool")
        driver = opt_obj(tool, "driver", tool_ptr)
        if driver is None:
            raise BadField(child(tool_ptr, "driver"), "'driver' is required")
        driver_ptr = child(tool_ptr, "driver")
        name = req_str(driver, "name", driver_ptr)
        version = opt_str(driver, "version", driver_ptr) or opt_str(driver, "semanticVersion", driver_ptr)
        organization = opt_str(driver, "organization", driver_ptr)
        base = default_generator or Generator(tool="sarif")
        generator = Generator(
            tool=clamp(name, 200),
            tool_version=clamp(version, MAX_TOOL_VERSION) if version else None,
            model=base.model,
            model_version=base.model_version,
            configuration=base.configuration,
            # The caller's operator, else the driver's author: Generator.organization is who runs it.
            organization=base.organization
            or (clamp(organization, MAX_ORGANIZATION) if organization else None),
        )
        extensions = [
            _Rules.read(as_obj(ext, child(tool_ptr, "extensions", k)), child(tool_ptr, "extensions", k))
            for k, ext in enumerate(opt_arr(tool, "extensions", tool_ptr))
        ]
        automation = opt_obj(run, "automationDetails", pointer) or {}
        pkg, pkg_ptr, source = cls._package(run, pointer, package)
        vcp_ptr = child(pointer, "versionControlProvenance", 0) if source else None
        return cls(
            pointer=pointer,
            generator=generator,
            driver=_Rules.read(driver, driver_ptr),
            extensions=extensions,
            artifacts=opt_arr(run, "artifacts", pointer),
            logical_locations=opt_arr(run, "logicalLocations", pointer),
            package=pkg,
            package_ptr=pkg_ptr,
            source=source,
            vcp_ptr=vcp_ptr,
            document_id=opt_str(automation, "id", child(pointer, "automationDetails")),
        )

    @staticmethod
    def _package(
        run: dict[str, Any], pointer: str, package: PackageRef | None
    ) -> tuple[dict[str, Any] | PackageRef | None, str, dict[str, Any]]:
        """The package (the caller's when given, else from version control) and the source repository/commit.

        The caller knows which package the scanned code is; the repository is only a guess at it.
        """
        provenance = opt_arr(run, "versionControlProvenance", pointer)
        if not provenance:
            return package, pointer, {}
        vcp_ptr = child(pointer, "versionControlProvenance", 0)
        vcp = as_obj(provenance[0], vcp_ptr)
        repo = req_str(vcp, "repositoryUri", vcp_ptr)
        revision = opt_str(vcp, "revisionId", vcp_ptr)
        source: dict[str, Any] = {"repo": repo}
        if revision and _HEX_COMMIT.match(revision):
            source["commit"] = revision
        if revision is None or package is not None:
            return package, pointer, source
        path = urlsplit(repo).path.rstrip("/")
        name = path.rsplit("/", 1)[-1].removesuffix(".git") or urlsplit(repo).netloc or repo
        try:
            purl = PackageURL(type="generic", name=name, version=revision).to_string()
        except ValueError as exc:
            raise BadField(child(vcp_ptr, "repositoryUri"), f"cannot make a package URL: {exc}") from None
        return {"purl": purl}, vcp_ptr, source

    def rule_for(self, result: dict[str, Any], pointer: str) -> tuple[str | None, dict[str, Any], str | None]:
        """The result's rule id, its rule object ({} when the run does not describe it) and its pointer."""
        rule_ref = opt_obj(result, "rule", pointer) or {}
        ref_ptr = child(pointer, "rule")
        rule_id = opt_str(result, "ruleId", pointer) or opt_str(rule_ref, "id", ref_ptr)
        index = opt_int(result, "ruleIndex", pointer)
        index_ptr = child(pointer, "ruleIndex")
        if index is None:
            index, index_ptr = opt_int(rule_ref, "index", ref_ptr), child(ref_ptr, "index")
        component = opt_obj(rule_ref, "toolComponent", ref_ptr) or {}
        ext = opt_int(component, "index", child(ref_ptr, "toolComponent"))
        if ext is not None and not 0 <= ext < len(self.extensions):
            raise BadField(child(ref_ptr, "toolComponent", "index"), f"the run has no tool extension {ext}")
        rules = self.driver if ext is None else self.extensions[ext]
        if index is not None and index >= 0:
            if index >= len(rules.rules):
                raise BadField(index_ptr, f"the tool component has no rule at index {index}")
            rule, rule_ptr = rules.rules[index]
            return rule_id or opt_str(rule, "id", rule_ptr), rule, rule_ptr
        if rule_id is not None:
            for component_rules in (rules, self.driver, *self.extensions):
                if rule_id in component_rules.by_id:
                    rule, rule_ptr = component_rules.by_id[rule_id]
                    return rule_id, rule, rule_ptr
        return rule_id, {}, None


def parse(
    doc: dict[str, Any], *, default_generator: Generator | None, package: PackageRef | None
) -> Iterator[Draft | Failure]:
    if doc.get("runs") is None:
        raise BadField("/runs", "'runs' is required")
    for r, raw_run in enumerate(as_arr(doc["runs"], "/runs")):
        run_ptr = f"/runs/{r}"
        try:
            run_obj = as_obj(raw_run, run_ptr)
            run = _Run.read(run_obj, run_ptr, default_generator, package)
            results = opt_arr(run_obj, "results", run_ptr)
        except BadField as exc:
            yield Failure.of(exc)
            continue
        for i, raw in enumerate(results):
            pointer = child(run_ptr, "results", i)
            try:
                draft = _result(run, as_obj(raw, pointer), pointer)
            except BadField as exc:
                yield Failure.of(exc)
                continue
            if draft is not None:
                yield draft


def _is_suppressed(result: dict[str, Any], pointer: str) -> bool:
    for k, suppression in enumerate(opt_arr(result, "suppressions", pointer)):
        obj = as_obj(suppression, child(pointer, "suppressions", k))
        if opt_str(obj, "status", child(pointer, "suppressions", k)) in (None, "accepted"):
            return True
    return False


def _text(obj: dict[str, Any] | None, key: str, pointer: str) -> str | None:
    """``obj[key].text`` (or ``.markdown``) of a SARIF message object."""
    if obj is None:
        return None
    message = opt_obj(obj, key, pointer)
    if message is None:
        return None
    return opt_str(message, "text", child(pointer, key)) or opt_str(message, "markdown", child(pointer, key))


def _message(result: dict[str, Any], rule: dict[str, Any], pointer: str, rule_ptr: str | None) -> str:
    message = opt_obj(result, "message", pointer) or {}
    msg_ptr = child(pointer, "message")
    text = opt_str(message, "text", msg_ptr) or opt_str(message, "markdown", msg_ptr)
    message_id = opt_str(message, "id", msg_ptr)
    if text is None and message_id is not None and rule_ptr is not None:
        strings = opt_obj(rule, "messageStrings", rule_ptr) or {}
        text = _text(strings, message_id, child(rule_ptr, "messageStrings"))
    if text is None:
        return ""
    arguments = [
        as_str(a, child(msg_ptr, "arguments", k))
        for k, a in enumerate(opt_arr(message, "arguments", msg_ptr))
    ]

    def substitute(match: re.Match[str]) -> str:
        n = int(match.group(1))
        return arguments[n] if n < len(arguments) else match.group(0)

    return _PLACEHOLDER.sub(substitute, text)


def _cwes(
    result: dict[str, Any], pointer: str, rule: dict[str, Any], rule_ptr: str | None
) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    sources: list[tuple[dict[str, Any], str]] = [(result, pointer)]
    if rule_ptr is not None:
        sources.insert(0, (rule, rule_ptr))
    for obj, obj_ptr in sources:
        properties = opt_obj(obj, "properties", obj_ptr) or {}
        for tag, tag_ptr in str_list(properties, "tags", child(obj_ptr, "properties")):
            cwe = cwe_from_tag(tag)
            if cwe is not None:
                found.append((cwe, tag_ptr))
        for key in ("relationships", "taxa"):
            for k, rel in enumerate(opt_arr(obj, key, obj_ptr)):
                rel_ptr = child(obj_ptr, key, k)
                rel_obj = as_obj(rel, rel_ptr)
                target, target_ptr = (
                    (rel_obj, rel_ptr)
                    if key == "taxa"
                    else (
                        opt_obj(rel_obj, "target", rel_ptr) or {},
                        child(rel_ptr, "target"),
                    )
                )
                component = opt_obj(target, "toolComponent", target_ptr) or {}
                name = opt_str(component, "name", child(target_ptr, "toolComponent"))
                taxon = opt_str(target, "id", target_ptr)
                if name is not None and name.upper() == "CWE" and taxon is not None:
                    cwe = cwe_id(taxon)
                    if cwe is not None and CWE_PATTERN.match(cwe):
                        found.append((cwe, child(target_ptr, "id")))
    return found


def _locations(
    run: _Run, result: dict[str, Any], pointer: str
) -> list[tuple[dict[str, Any], dict[str, str]]]:
    """Each location as an origin entry, with the pointers of its fields."""
    out: list[tuple[dict[str, Any], dict[str, str]]] = []
    for k, raw in enumerate(opt_arr(result, "locations", pointer)[:MAX_LOCATIONS]):
        loc_ptr = child(pointer, "locations", k)
        loc = as_obj(raw, loc_ptr)
        entry: dict[str, Any] = {}
        where: dict[str, str] = {}
        physical = opt_obj(loc, "physicalLocation", loc_ptr)
        if physical is not None:
            phys_ptr = child(loc_ptr, "physicalLocation")
            artifact = opt_obj(physical, "artifactLocation", phys_ptr) or {}
            art_ptr = child(phys_ptr, "artifactLocation")
            uri = opt_str(artifact, "uri", art_ptr)
            where["uri"] = child(art_ptr, "uri")
            art_index = opt_int(artifact, "index", art_ptr)
            if uri is None and art_index is not None:
                if not 0 <= art_index < len(run.artifacts):
                    raise BadField(child(art_ptr, "index"), f"the run has no artifact at index {art_index}")
                described_ptr = child(run.pointer, "artifacts", art_index)
                described = as_obj(run.artifacts[art_index], described_ptr)
                location = opt_obj(described, "location", described_ptr) or {}
                uri = opt_str(location, "uri", child(described_ptr, "location"))
                where["uri"] = child(described_ptr, "location", "uri")
            if uri:
                entry["uri"] = uri
            region = opt_obj(physical, "region", phys_ptr) or {}
            region_ptr = child(phys_ptr, "region")
            start = opt_int(region, "startLine", region_ptr)
            end = opt_int(region, "endLine", region_ptr)
            if start is not None:
                entry["start_line"] = start
                where["start_line"] = child(region_ptr, "startLine")
                entry["end_line"] = end if end is not None else start
                where["end_line"] = child(region_ptr, "endLine" if end is not None else "startLine")
        symbol = _symbol(run, loc, loc_ptr)
        if symbol is not None:
            entry["symbol"], where["symbol"] = symbol
        if entry:
            out.append((entry, where))
    return out


def _symbol(run: _Run, loc: dict[str, Any], pointer: str) -> tuple[str, str] | None:
    for k, raw in enumerate(opt_arr(loc, "logicalLocations", pointer)):
        logical_ptr = child(pointer, "logicalLocations", k)
        logical = as_obj(raw, logical_ptr)
        name = opt_str(logical, "fullyQualifiedName", logical_ptr) or opt_str(logical, "name", logical_ptr)
        if name is not None:
            return name, logical_ptr
        index = opt_int(logical, "index", logical_ptr)
        if index is not None and 0 <= index < len(run.logical_locations):
            shared_ptr = child(run.pointer, "logicalLocations", index)
            shared = as_obj(run.logical_locations[index], shared_ptr)
            name = opt_str(shared, "fullyQualifiedName", shared_ptr) or opt_str(shared, "name", shared_ptr)
            if name is not None:
                return name, shared_ptr
    return None


def _result(run: _Run, result: dict[str, Any], pointer: str) -> Draft | Failure | None:
    """One result as a draft finding; None for results that are not problems (passes, suppressed)."""
    kind = opt_str(result, "kind", pointer)
    if kind in _NOT_PROBLEMS or _is_suppressed(result, pointer):
        return None
    if opt_str(result, "baselineState", pointer) == "absent":
        return None
    rule_id, rule, rule_ptr = run.rule_for(result, pointer)
    message = _message(result, rule, pointer, rule_ptr)
    fields = FieldMap(pointer)
    short = _text(rule, "shortDescription", rule_ptr) if rule_ptr else None
    full = _text(rule, "fullDescription", rule_ptr) if rule_ptr else None
    name = opt_str(rule, "name", rule_ptr) if rule_ptr else None
    title = short or first_line(message) or name or rule_id or "SARIF result"
    fields["title"] = child(rule_ptr, "shortDescription") if short and rule_ptr else child(pointer, "message")
    description = "\n\n".join(part for part in (message, full) if part and part != title)
    fields["description"] = child(pointer, "message")

    locations = _locations(run, result, pointer)
    source = dict(run.source)
    if locations:
        entry, where = locations[0]
        for key, src_key in (("uri", "file"), ("start_line", "start_line"), ("end_line", "end_line")):
            if key in entry:
                source[src_key] = entry[key]
                fields[f"source.{src_key}"] = where[key]
        if "symbol" in entry:
            source["symbol"] = entry["symbol"]
            fields["source.symbol"] = where["symbol"]
        for k in range(len(locations)):
            fields[f"origin.locations.{k}"] = child(pointer, "locations", k)

    fingerprints: dict[str, str] = {}
    fp_obj = opt_obj(result, "partialFingerprints", pointer) or {}
    for key, value in fp_obj.items():
        fingerprints[key] = as_str(value, child(pointer, "partialFingerprints", key))

    properties = (opt_obj(rule, "properties", rule_ptr) if rule_ptr else None) or {}
    level = opt_str(result, "level", pointer)
    if level is None and rule_ptr is not None:
        configuration = opt_obj(rule, "defaultConfiguration", rule_ptr) or {}
        level = opt_str(configuration, "level", child(rule_ptr, "defaultConfiguration"))
    impact_notes = [f"SARIF level: {level or 'warning'}"]
    security_severity = properties.get("security-severity")
    if isinstance(security_severity, str | int | float) and not isinstance(security_severity, bool):
        impact_notes.append(f"security-severity: {security_severity}")

    cwes = mapped_list(fields, "cwe", _cwes(result, pointer, rule, rule_ptr), MAX_CWE)
    help_uri = opt_str(rule, "helpUri", rule_ptr) if rule_ptr else None
    if run.package is None:
        return Failure(pointer, PACKAGE_HINT)
    fields["package"] = run.package_ptr
    data: dict[str, Any] = {
        "title": clamp(title, MAX_TITLE),
        "description": clamp(description, MAX_DESCRIPTION),
        "package": run.package,
        "source": source or None,
        "cwe": cwes,
        "impact": {"claimed": impact_from_cwes(cwes), "description": "; ".join(impact_notes)},
        "generator": run.generator,
        "references": [help_uri][:MAX_REFERENCES] if help_uri else [],
        "origin": {
            "format": SourceFormat.SARIF,
            "document_id": run.document_id,
            "rule_id": rule_id,
            "partial_fingerprints": fingerprints,
            "locations": [entry for entry, _where in locations],
        },
    }
    if run.vcp_ptr is not None:
        fields["source.repo"] = child(run.vcp_ptr, "repositoryUri")
        fields["source.commit"] = child(run.vcp_ptr, "revisionId")
    return Draft(data, fields)
