"""CSAF 2.0 and 2.1 (OASIS): each vulnerability and each affected product becomes a finding.

A document is first validated with the ``csaf`` library against its own version
(the JSON schema and the mandatory tests, :func:`validate`); an invalid document
is refused whole, each problem named by JSON pointer.

Affected means listed under ``product_status`` as ``known_affected``,
``first_affected`` or ``last_affected``; fixed, not-affected and
under-investigation products are not findings, and a vulnerability without an
affected product says so (one reason per vulnerability). A product is
identified by its ``product_identification_helper``: the purl (2.0 ``purl``,
2.1 ``purls``), else the CPE (as ``pkg:generic/<vendor>/<product>``), else the
vendor and product names of the ``product_tree`` branches (or the full product
name), found by walking branches, full product names, relationships (2.0) and product
paths (2.1). The
version comes from the purl, the CPE or the enclosing ``product_version`` /
``product_version_range`` branch.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

from packageurl import PackageURL

from clearinghouse.domain import Interval, render
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
    checked_cwes,
    child,
    clamp,
    impact_from_cwes,
    make_generator,
    mapped_list,
    opt_arr,
    opt_obj,
    opt_str,
    req_str,
    str_list,
)

SUPPORTED_VERSIONS = ("2.0", "2.1")
AFFECTED_STATUSES = ("known_affected", "first_affected", "last_affected")
OTHER_STATUSES = ("fixed", "first_fixed", "recommended", "known_not_affected", "under_investigation")
_DESCRIPTION_NOTES = ("description", "summary", "details", "general")


def validate(doc: dict[str, Any]) -> list[tuple[str, str]]:
    """What the CSAF standard finds wrong with a document, as (JSON pointer, message) pairs.

    The document is checked as the version it names (``document/csaf_version``, 2.0 or
    2.1): the official JSON schema of that version with its formats, then the mandatory
    tests of section 6.1 (see :mod:`._csaf_checks`). Tests that would reach into the
    Internet are not run. An empty list means valid.
    """
    from clearinghouse.intake.importers import _csaf_checks

    version = str(as_obj(doc.get("document"), "/document").get("csaf_version"))
    if version not in SUPPORTED_VERSIONS:
        return [("/document/csaf_version", f"CSAF version {version!r} is not supported (2.0 or 2.1)")]
    return _csaf_checks.validate(doc, version)


@dataclass(frozen=True)
class _Product:
    product_id: str
    name: str | None
    pointer: str
    purl: str | None
    purl_ptr: str | None
    cpe: str | None
    cpe_ptr: str | None = None
    vendor: str | None = None  # from an enclosing vendor branch
    product_name: str | None = None  # from an enclosing product_name (or product_family) branch
    name_ptr: str | None = None
    version: str | None = None  # from an enclosing product_version branch
    version_range: str | None = None  # from an enclosing product_version_range branch
    version_ptr: str | None = None

    def label(self) -> str:
        return f"{self.product_id!r}" + (f" ({self.name})" if self.name else "")


@dataclass(frozen=True)
class _Context:
    """What the branches above a product say about it."""

    vendor: str | None = None
    product_name: str | None = None
    name_ptr: str | None = None
    version: str | None = None
    version_range: str | None = None
    version_ptr: str | None = None


def _full_product_name(obj: dict[str, Any], pointer: str, ctx: _Context) -> _Product:
    helper = opt_obj(obj, "product_identification_helper", pointer) or {}
    helper_ptr = child(pointer, "product_identification_helper")
    purl = opt_str(helper, "purl", helper_ptr)  # CSAF 2.0
    purl_ptr = child(helper_ptr, "purl") if purl else None
    if purl is None:  # CSAF 2.1: a list of purls, the first names the product
        purls = str_list(helper, "purls", helper_ptr)
        if purls:
            purl, purl_ptr = purls[0]
    cpe = opt_str(helper, "cpe", helper_ptr)
    return _Product(
        product_id=req_str(obj, "product_id", pointer),
        name=opt_str(obj, "name", pointer),
        pointer=pointer,
        purl=purl,
        purl_ptr=purl_ptr,
        cpe=cpe,
        cpe_ptr=child(helper_ptr, "cpe") if cpe else None,
        vendor=ctx.vendor,
        product_name=ctx.product_name,
        name_ptr=ctx.name_ptr,
        version=ctx.version,
        version_range=ctx.version_range,
        version_ptr=ctx.version_ptr,
    )


def products(tree: dict[str, Any]) -> dict[str, _Product]:
    """Every product of a ``product_tree``, by product id (the first definition wins)."""
    out: dict[str, _Product] = {}
    # (branch, pointer, context) — iterative, for deep trees.
    stack: list[tuple[Any, str, _Context]] = [
        (branch, f"/product_tree/branches/{i}", _Context())
        for i, branch in reversed(list(enumerate(opt_arr(tree, "branches", "/product_tree"))))
    ]
    while stack:
        raw, pointer, ctx = stack.pop()
        branch = as_obj(raw, pointer)
        category = opt_str(branch, "category", pointer)
        name = opt_str(branch, "name", pointer)
        name_ptr = child(pointer, "name")
        if category == "vendor":
            ctx = replace(ctx, vendor=name)
        elif category in ("product_name", "product_family") and name:
            if category == "product_name" or ctx.product_name is None:
                ctx = replace(ctx, product_name=name, name_ptr=name_ptr)
        elif category == "product_version":
            ctx = replace(ctx, version=name, version_range=None, version_ptr=name_ptr)
        elif category == "product_version_range":
            ctx = replace(ctx, version=None, version_range=name, version_ptr=name_ptr)
        product = opt_obj(branch, "product", pointer)
        if product is not None:
            found = _full_product_name(product, child(pointer, "product"), ctx)
            out.setdefault(found.product_id, found)
        children = opt_arr(branch, "branches", pointer)
        stack.extend(
            (sub, child(pointer, "branches", k), ctx) for k, sub in reversed(list(enumerate(children)))
        )
    for i, raw in enumerate(opt_arr(tree, "full_product_names", "/product_tree")):
        pointer = f"/product_tree/full_product_names/{i}"
        found = _full_product_name(as_obj(raw, pointer), pointer, _Context())
        out.setdefault(found.product_id, found)
    # CSAF 2.0 relationships name the component in ``product_reference``; CSAF 2.1 product paths
    # begin at it (``beginning_product_reference``), the subpaths lead to what contains it.
    for key, reference in (
        ("relationships", "product_reference"),
        ("product_paths", "beginning_product_reference"),
    ):
        for i, raw in enumerate(opt_arr(tree, key, "/product_tree")):
            pointer = f"/product_tree/{key}/{i}"
            relationship = as_obj(raw, pointer)
            fpn = opt_obj(relationship, "full_product_name", pointer)
            if fpn is None:
                raise BadField(child(pointer, "full_product_name"), "'full_product_name' is required")
            found = _full_product_name(fpn, child(pointer, "full_product_name"), _Context())
            component = out.get(req_str(relationship, reference, pointer))
            if found.purl is None and component is not None:
                # "X as a component of Y": the affected package is X.
                found = replace(
                    component,
                    product_id=found.product_id,
                    name=found.name or component.name,
                    pointer=found.pointer,
                    cpe=found.cpe or component.cpe,
                    cpe_ptr=found.cpe_ptr if found.cpe else component.cpe_ptr,
                )
            out.setdefault(found.product_id, found)
    return out


_CONSTRAINT = re.compile(r"^(>=|<=|!=|>|<|=)?\s*([^\s<>=!|,]+)$")
_CPE23 = re.compile(r"^cpe:2\.3:[aho\*\-]:")
_CPE_EMPTY = ("", "*", "-")


def _vers_from_text(scheme: str, text: str) -> str | None:
    """``vers:<scheme>/...`` from a range written as constraints (``>=2.0.0, <2.5.0``), or None."""
    if text.startswith("vers:"):
        return text
    parts = [p.strip() for p in re.split(r"[,|]| and ", text) if p.strip()]
    constraints: list[str] = []
    for part in parts:
        match = _CONSTRAINT.match(part)
        if match is None:
            return None
        constraints.append(f"{match.group(1) or ''}{match.group(2)}")
    return f"vers:{scheme}/" + "|".join(constraints) if constraints else None


def _cpe_parts(cpe: str) -> tuple[str | None, str | None, str | None]:
    """(vendor, product, version) of a CPE 2.2 URI or 2.3 formatted string; None where it names none."""
    if _CPE23.match(cpe):
        fields = re.split(r"(?<!\\):", cpe)[3:6]
    elif cpe.lower().startswith("cpe:/"):
        fields = cpe[5:].split(":")[1:4]
    else:
        return None, None, None
    fields += [""] * (3 - len(fields))
    vendor, product, version = (None if f in _CPE_EMPTY else f.replace("\\", "") for f in fields[:3])
    return vendor, product, version


def _identity(product: _Product) -> tuple[str, str, str | None, str | None]:
    """(purl, pointer, version, pointer of the version) naming the product, from its helper or its names."""
    if product.purl is not None:
        return product.purl, product.purl_ptr or product.pointer, product.version, product.version_ptr
    vendor, name, version = product.vendor, product.product_name, product.version
    name_ptr, version_ptr = product.name_ptr or product.pointer, product.version_ptr
    if product.cpe is not None:
        cpe_vendor, cpe_product, cpe_version = _cpe_parts(product.cpe)
        if cpe_product is not None:
            vendor, name, name_ptr = cpe_vendor or vendor, cpe_product, product.cpe_ptr or product.pointer
            if cpe_version is not None:
                version, version_ptr = cpe_version, name_ptr
    if name is None:
        name, name_ptr = product.name, child(product.pointer, "name")
    if name is None:
        has = f" and its CPE ({product.cpe}) names no product" if product.cpe else ""
        raise BadField(
            product.pointer,
            f"product {product.label()} has neither a purl, a CPE nor a name in product_tree{has}",
        )
    try:
        purl = PackageURL(type="generic", namespace=vendor, name=name).to_string()
    except ValueError as exc:
        raise BadField(name_ptr, f"cannot make a package URL for product {product.label()}: {exc}") from None
    return purl, name_ptr, version, version_ptr


def _package(product: _Product, status: str, fields: FieldMap) -> dict[str, Any]:
    """The affected package of one product: its identity and the version or range the status implies."""
    purl, purl_ptr, version_hint, version_ptr = _identity(product)
    fields["package"] = product.pointer
    fields["package.purl"] = purl_ptr
    try:
        parsed = PackageURL.from_string(purl)
    except ValueError as exc:
        raise BadField(purl_ptr, f"not a package URL: {exc}") from None
    named = product.purl is None  # identified by CPE or names, not by a purl
    version = parsed.version or version_hint
    version_ptr = purl_ptr if parsed.version else (version_ptr or product.pointer)
    if status == "known_affected" or version is None:
        if parsed.version is not None:
            return {"purl": purl}
        if version is not None:
            fields["package.version"] = version_ptr
            return {"purl": purl, "version": version}
        if product.version_range is not None:
            vers = _vers_from_text(parsed.type, product.version_range)
            if vers is not None:
                fields["package.vers"] = product.version_ptr or product.pointer
                return {"purl": purl, "vers": vers}
        if named:
            # A product known by name only: every version of it, as the document does not say which.
            fields["package.vers"] = product.pointer
            return {"purl": purl, "vers": f"vers:{parsed.type}/*"}
        raise BadField(
            product.pointer,
            f"product {product.product_id!r} has no version: neither its purl nor a product_version branch "
            "(nor a product_version_range branch written as vers or as constraints) gives one",
        )
    # first_affected / last_affected: the versions from (or up to) this one.
    bare = parsed._replace(version=None).to_string()
    interval = (
        Interval(version, True, None, False)
        if status == "first_affected"
        else Interval(None, False, version, True)
    )
    fields["package.vers"] = version_ptr
    return {"purl": bare, "vers": render(parsed.type, [interval])}


def parse(doc: dict[str, Any], *, default_generator: Generator | None) -> Iterator[Draft | Failure]:
    document = as_obj(doc.get("document"), "/document")
    doc_title = req_str(document, "title", "/document")
    tracking = opt_obj(document, "tracking", "/document") or {}
    tracking_id = opt_str(tracking, "id", "/document/tracking")
    publisher = opt_obj(document, "publisher", "/document") or {}
    publisher_name = opt_str(publisher, "name", "/document/publisher")
    generator = default_generator or make_generator("csaf-import", organization=publisher_name)
    doc_refs = _references(document, "/document")
    catalog = products(opt_obj(doc, "product_tree", "") or {})
    vulnerabilities = opt_arr(doc, "vulnerabilities", "")
    if not vulnerabilities:
        category = opt_str(document, "category", "/document") or "unknown"
        yield Failure(
            "",
            f"the document (category {category}) lists no vulnerabilities, so it holds no findings",
        )
        return
    for vi, raw in enumerate(vulnerabilities):
        vuln_ptr = f"/vulnerabilities/{vi}"
        try:
            vuln = as_obj(raw, vuln_ptr)
            common = _vulnerability(vuln, vuln_ptr, doc_title, doc_refs)
            status_obj = opt_obj(vuln, "product_status", vuln_ptr)
            status_ptr = child(vuln_ptr, "product_status")
            targets = [
                (status, pid, ptr)
                for status in AFFECTED_STATUSES
                for pid, ptr in str_list(status_obj or {}, status, status_ptr)
            ]
            if not targets:
                yield Failure(
                    status_ptr if status_obj is not None else vuln_ptr, _no_affected(common, status_obj)
                )
                continue
        except BadField as exc:
            yield Failure.of(exc)
            continue
        seen: set[str] = set()
        for status, pid, ptr in targets:
            if pid in seen:
                continue
            seen.add(pid)
            try:
                product = catalog.get(pid)
                if product is None:
                    raise BadField(ptr, f"product {pid!r} is not defined in product_tree")
                fields = FieldMap(ptr)
                data = _draft(common, fields, vuln, vuln_ptr, pid)
                data["package"] = _package(product, status, fields)
                data["generator"] = generator
                data["origin"] = {"format": SourceFormat.CSAF, "document_id": tracking_id}
                yield Draft(data, fields)
            except BadField as exc:
                yield Failure.of(exc)


def _no_affected(common: _Common, status_obj: dict[str, Any] | None) -> str:
    """Why a vulnerability yields no finding: what its product_status says instead."""
    name = common.aliases[0][0] if common.aliases else common.title[0]
    if status_obj is None:
        return f"vulnerability {name!r} has no product_status, so no product is affected by it here"
    counts = [
        f"{key}: {len(value)}" for key, value in status_obj.items() if isinstance(value, list) and value
    ]
    said = f" (it lists {', '.join(counts)})" if counts else ""
    return (
        f"vulnerability {name!r} names no product as known_affected, first_affected or last_affected"
        f"{said}; nothing to import"
    )


def _references(obj: dict[str, Any], pointer: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for i, raw in enumerate(opt_arr(obj, "references", pointer)):
        ref_ptr = child(pointer, "references", i)
        out.append((req_str(as_obj(raw, ref_ptr), "url", ref_ptr), child(ref_ptr, "url")))
    return out


@dataclass(frozen=True)
class _Common:
    title: tuple[str, str]
    description: str
    aliases: list[tuple[str, str]]
    cwes: list[tuple[str, str]]
    references: list[tuple[str, str]]


def _vulnerability(
    vuln: dict[str, Any], pointer: str, doc_title: str, doc_refs: list[tuple[str, str]]
) -> _Common:
    title = opt_str(vuln, "title", pointer)
    aliases: list[tuple[str, str]] = []
    cve = opt_str(vuln, "cve", pointer)
    if cve:
        aliases.append((cve, child(pointer, "cve")))
    for i, raw in enumerate(opt_arr(vuln, "ids", pointer)):
        id_ptr = child(pointer, "ids", i)
        aliases.append((req_str(as_obj(raw, id_ptr), "text", id_ptr), child(id_ptr, "text")))
    raw_cwes: list[tuple[str, str]] = []
    cwe_obj = opt_obj(vuln, "cwe", pointer)  # CSAF 2.0: one CWE
    if cwe_obj is not None:
        raw_cwes.append((req_str(cwe_obj, "id", child(pointer, "cwe")), child(pointer, "cwe", "id")))
    for i, raw in enumerate(opt_arr(vuln, "cwes", pointer)):  # CSAF 2.1: a list
        cwe_ptr = child(pointer, "cwes", i)
        raw_cwes.append((req_str(as_obj(raw, cwe_ptr), "id", cwe_ptr), child(cwe_ptr, "id")))
    cwes = checked_cwes(raw_cwes)
    notes: list[str] = []
    for i, raw in enumerate(opt_arr(vuln, "notes", pointer)):
        note_ptr = child(pointer, "notes", i)
        note = as_obj(raw, note_ptr)
        text = opt_str(note, "text", note_ptr)
        if text and opt_str(note, "category", note_ptr) in _DESCRIPTION_NOTES:
            notes.append(text)
    return _Common(
        title=(title, child(pointer, "title")) if title else (doc_title, "/document/title"),
        description="\n\n".join(notes),
        aliases=aliases,
        cwes=cwes,
        references=_references(vuln, pointer) + doc_refs,
    )


def _draft(common: _Common, fields: FieldMap, vuln: dict[str, Any], pointer: str, pid: str) -> dict[str, Any]:
    fields["title"] = common.title[1]
    fields["description"] = child(pointer, "notes")
    cwes = mapped_list(fields, "cwe", common.cwes, MAX_CWE)
    cvss: str | None = None
    # CSAF 2.0 ``scores[]`` hold the CVSS objects; CSAF 2.1 ``metrics[]`` hold them under ``content``.
    scored: list[tuple[dict[str, Any], str, list[str]]] = []
    for i, raw in enumerate(opt_arr(vuln, "scores", pointer)):
        score_ptr = child(pointer, "scores", i)
        score = as_obj(raw, score_ptr)
        scored.append((score, score_ptr, [p for p, _ in str_list(score, "products", score_ptr)]))
    for i, raw in enumerate(opt_arr(vuln, "metrics", pointer)):
        metric_ptr = child(pointer, "metrics", i)
        metric_obj = as_obj(raw, metric_ptr)
        content = opt_obj(metric_obj, "content", metric_ptr) or {}
        applies = [p for p, _ in str_list(metric_obj, "products", metric_ptr)]
        scored.append((content, child(metric_ptr, "content"), applies))
    for score, score_ptr, applies in scored:
        if pid not in applies:
            continue
        for key in ("cvss_v4", "cvss_v3", "cvss_v2"):
            metric = opt_obj(score, key, score_ptr)
            vector = opt_str(metric, "vectorString", child(score_ptr, key)) if metric else None
            if vector and cvss is None:
                cvss = vector
                fields["impact.cvss_vector"] = child(score_ptr, key, "vectorString")
    impact_notes: list[str] = []
    for i, raw in enumerate(opt_arr(vuln, "threats", pointer)):
        threat_ptr = child(pointer, "threats", i)
        threat = as_obj(raw, threat_ptr)
        applies = [p for p, _ in str_list(threat, "product_ids", threat_ptr)]
        if opt_str(threat, "category", threat_ptr) == "impact" and (not applies or pid in applies):
            impact_notes.append(req_str(threat, "details", threat_ptr))
    return {
        "title": clamp(common.title[0], MAX_TITLE),
        "description": clamp(common.description, MAX_DESCRIPTION),
        "aliases": mapped_list(fields, "aliases", common.aliases, MAX_ALIASES),
        "cwe": cwes,
        "references": mapped_list(fields, "references", common.references, MAX_REFERENCES),
        "impact": {
            "claimed": impact_from_cwes(cwes),
            "description": clamp("\n\n".join(impact_notes), 20_000),
            "cvss_vector": cvss,
        },
    }
