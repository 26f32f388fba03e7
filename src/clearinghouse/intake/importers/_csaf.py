"""CSAF 2.0 (OASIS): each vulnerability and each affected product becomes a finding.

Affected means listed under ``product_status`` as ``known_affected``,
``first_affected`` or ``last_affected``; fixed, not-affected and
under-investigation products are not findings. The package is the product's
``product_identification_helper.purl``, found by walking ``product_tree``
(branches, full product names and relationships).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from packageurl import PackageURL

from clearinghouse.intake._format import Generator, SourceFormat
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
from clearinghouse.intake.importers._vers import Interval, render

AFFECTED_STATUSES = ("known_affected", "first_affected", "last_affected")
_DESCRIPTION_NOTES = ("description", "summary", "details", "general")


@dataclass(frozen=True)
class _Product:
    product_id: str
    name: str | None
    pointer: str
    purl: str | None
    purl_ptr: str | None
    cpe: str | None
    version: str | None = None  # from an enclosing product_version branch
    version_range: str | None = None  # from an enclosing product_version_range branch
    version_ptr: str | None = None


def _full_product_name(
    obj: dict[str, Any], pointer: str, version: str | None, version_range: str | None, version_ptr: str | None
) -> _Product:
    helper = opt_obj(obj, "product_identification_helper", pointer) or {}
    helper_ptr = child(pointer, "product_identification_helper")
    purl = opt_str(helper, "purl", helper_ptr)
    return _Product(
        product_id=req_str(obj, "product_id", pointer),
        name=opt_str(obj, "name", pointer),
        pointer=pointer,
        purl=purl,
        purl_ptr=child(helper_ptr, "purl") if purl else None,
        cpe=opt_str(helper, "cpe", helper_ptr),
        version=version,
        version_range=version_range,
        version_ptr=version_ptr,
    )


def products(tree: dict[str, Any]) -> dict[str, _Product]:
    """Every product of a ``product_tree``, by product id (the first definition wins)."""
    out: dict[str, _Product] = {}
    # (branch, pointer, version, version range, pointer of the version) — iterative, for deep trees.
    stack: list[tuple[Any, str, str | None, str | None, str | None]] = [
        (branch, f"/product_tree/branches/{i}", None, None, None)
        for i, branch in reversed(list(enumerate(opt_arr(tree, "branches", "/product_tree"))))
    ]
    while stack:
        raw, pointer, version, version_range, version_ptr = stack.pop()
        branch = as_obj(raw, pointer)
        category = opt_str(branch, "category", pointer)
        name = opt_str(branch, "name", pointer)
        if category == "product_version":
            version, version_range, version_ptr = name, None, child(pointer, "name")
        elif category == "product_version_range":
            version, version_range, version_ptr = None, name, child(pointer, "name")
        product = opt_obj(branch, "product", pointer)
        if product is not None:
            found = _full_product_name(
                product, child(pointer, "product"), version, version_range, version_ptr
            )
            out.setdefault(found.product_id, found)
        children = opt_arr(branch, "branches", pointer)
        stack.extend(
            (sub, child(pointer, "branches", k), version, version_range, version_ptr)
            for k, sub in reversed(list(enumerate(children)))
        )
    for i, raw in enumerate(opt_arr(tree, "full_product_names", "/product_tree")):
        pointer = f"/product_tree/full_product_names/{i}"
        found = _full_product_name(as_obj(raw, pointer), pointer, None, None, None)
        out.setdefault(found.product_id, found)
    for i, raw in enumerate(opt_arr(tree, "relationships", "/product_tree")):
        pointer = f"/product_tree/relationships/{i}"
        relationship = as_obj(raw, pointer)
        fpn = opt_obj(relationship, "full_product_name", pointer)
        if fpn is None:
            raise BadField(child(pointer, "full_product_name"), "'full_product_name' is required")
        found = _full_product_name(fpn, child(pointer, "full_product_name"), None, None, None)
        component = out.get(req_str(relationship, "product_reference", pointer))
        if found.purl is None and component is not None:
            # "X as a component of Y": the affected package is X.
            found = _Product(
                product_id=found.product_id,
                name=found.name,
                pointer=found.pointer,
                purl=component.purl,
                purl_ptr=component.purl_ptr,
                cpe=found.cpe or component.cpe,
                version=component.version,
                version_range=component.version_range,
                version_ptr=component.version_ptr,
            )
        out.setdefault(found.product_id, found)
    return out


def _package(product: _Product, status: str, fields: FieldMap) -> dict[str, Any]:
    """The affected package of one product: its purl and the version or range the status implies."""
    if product.purl is None:
        label = f"{product.product_id!r}" + (f" ({product.name})" if product.name else "")
        has = f"; it has only a CPE ({product.cpe})" if product.cpe else ""
        raise BadField(product.pointer, f"product {label} has no purl in product_identification_helper{has}")
    purl_ptr = product.purl_ptr or product.pointer
    fields["package"] = product.pointer
    fields["package.purl"] = purl_ptr
    try:
        parsed = PackageURL.from_string(product.purl)
    except ValueError as exc:
        raise BadField(purl_ptr, f"not a package URL: {exc}") from None
    version = parsed.version or product.version
    if status == "known_affected" or version is None:
        if parsed.version is not None:
            return {"purl": product.purl}
        if product.version is not None:
            fields["package.version"] = product.version_ptr or product.pointer
            return {"purl": product.purl, "version": product.version}
        if product.version_range is not None and product.version_range.startswith("vers:"):
            fields["package.vers"] = product.version_ptr or product.pointer
            return {"purl": product.purl, "vers": product.version_range}
        raise BadField(
            product.pointer,
            f"product {product.product_id!r} has no version: neither its purl nor a product_version branch "
            "(nor a vers product_version_range) gives one",
        )
    # first_affected / last_affected: the versions from (or up to) this one.
    bare = parsed._replace(version=None).to_string()
    interval = (
        Interval(version, True, None, False)
        if status == "first_affected"
        else Interval(None, False, version, True)
    )
    fields["package.vers"] = purl_ptr if parsed.version else (product.version_ptr or product.pointer)
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
    for vi, raw in enumerate(opt_arr(doc, "vulnerabilities", "")):
        vuln_ptr = f"/vulnerabilities/{vi}"
        try:
            vuln = as_obj(raw, vuln_ptr)
            common = _vulnerability(vuln, vuln_ptr, doc_title, doc_refs)
            status_obj = opt_obj(vuln, "product_status", vuln_ptr) or {}
            targets = [
                (status, pid, ptr)
                for status in AFFECTED_STATUSES
                for pid, ptr in str_list(status_obj, status, child(vuln_ptr, "product_status"))
            ]
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
    cwes: list[tuple[str, str]] = []
    cwe_obj = opt_obj(vuln, "cwe", pointer)
    if cwe_obj is not None:
        cwes = checked_cwes([(req_str(cwe_obj, "id", child(pointer, "cwe")), child(pointer, "cwe", "id"))])
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
    for i, raw in enumerate(opt_arr(vuln, "scores", pointer)):
        score_ptr = child(pointer, "scores", i)
        score = as_obj(raw, score_ptr)
        if pid not in [p for p, _ in str_list(score, "products", score_ptr)]:
            continue
        for key in ("cvss_v3", "cvss_v2"):
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
