"""Reading vendors' VEX answers: CycloneDX VEX (JSON), OpenVEX and CSAF 2.0 VEX.

Each reader checks the document's shape and turns it into
:class:`VexStatement` items in the one vocabulary of
:class:`~clearinghouse.domain.ProductStatus` and
:class:`~clearinghouse.domain.VexJustification`. A bad document
raises :class:`~clearinghouse.errors.InvalidInput` naming the field by JSON
pointer. Pure: no database.

Rules every format follows: ``not_affected`` needs a justification (CSAF: a flag;
CycloneDX's ``false_positive`` means the code is not there); ``fixed`` needs at least one
fixed version (CycloneDX: an ``unaffected`` version in ``affects``; OpenVEX and
CSAF: the version in the product's purl or its ``product_version`` branch).
"""

from __future__ import annotations

import enum
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from packageurl import PackageURL

from clearinghouse.domain import ProductStatus, VexJustification
from clearinghouse.errors import InvalidInput

MAX_STATEMENTS = 10_000


class VexFormat(enum.StrEnum):
    CYCLONEDX = "cyclonedx"
    OPENVEX = "openvex"
    CSAF = "csaf"


@dataclass(frozen=True)
class VexStatement:
    pointer: str  # where in the document the statement is
    vulnerabilities: tuple[str, ...]
    product_name: str
    status: ProductStatus
    purl: str | None = None  # without version
    version: str | None = None
    justification: VexJustification | None = None
    impact_statement: str | None = None
    action_statement: str | None = None
    fixed_versions: tuple[str, ...] = ()

    @property
    def product_id(self) -> str:
        return self.purl or self.product_name


def split_purl(value: str) -> tuple[str, str | None]:
    """(purl without version, qualifiers or subpath; its version)."""
    purl = PackageURL.from_string(value)
    base = PackageURL(type=purl.type, namespace=purl.namespace, name=purl.name).to_string()
    return base, purl.version


def _obj(value: Any, pointer: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidInput("must be a JSON object", pointer)
    return value


def _list(value: Any, pointer: str, *, required: bool = True) -> list[Any]:
    if value is None and not required:
        return []
    if not isinstance(value, list) or (required and not value):
        raise InvalidInput("must be a non-empty JSON array", pointer)
    if len(value) > MAX_STATEMENTS:
        raise InvalidInput(f"at most {MAX_STATEMENTS} items", pointer)
    return value


def _str(value: Any, pointer: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput("must be a non-empty string", pointer)
    return value.strip()


def _opt_str(value: Any, pointer: str) -> str | None:
    return None if value is None else _str(value, pointer)


def _purl(value: str, pointer: str) -> tuple[str, str | None]:
    try:
        return split_purl(value)
    except ValueError as exc:
        raise InvalidInput(f"not a valid purl: {exc}", pointer) from None


def detect(document: dict[str, Any]) -> VexFormat:
    if document.get("bomFormat") == "CycloneDX":
        return VexFormat.CYCLONEDX
    context = document.get("@context")
    if isinstance(context, str) and "openvex" in context:
        return VexFormat.OPENVEX
    if isinstance(document.get("document"), dict):
        return VexFormat.CSAF
    raise InvalidInput(
        "not a VEX document this reader knows: CycloneDX (bomFormat), OpenVEX (@context) or CSAF (document)",
        "",
    )


def parse(raw: bytes | str | dict[str, Any], fmt: VexFormat | None = None) -> list[VexStatement]:
    """Every statement of a VEX document; ``fmt`` is detected when not given."""
    if isinstance(raw, dict):
        document = raw
    else:
        try:
            loaded = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise InvalidInput(f"not JSON: {exc}", "") from None
        document = _obj(loaded, "")
    fmt = fmt or detect(document)
    readers = {VexFormat.CYCLONEDX: _cyclonedx, VexFormat.OPENVEX: _openvex, VexFormat.CSAF: _csaf}
    statements = list(readers[fmt](document))
    if not statements:
        raise InvalidInput("the document states nothing about any product", "")
    return statements


# -- CycloneDX -------------------------------------------------------------------

_CDX_STATE = {
    "resolved": ProductStatus.FIXED,
    "resolved_with_pedigree": ProductStatus.FIXED,
    "exploitable": ProductStatus.AFFECTED,
    "in_triage": ProductStatus.UNDER_INVESTIGATION,
    "not_affected": ProductStatus.NOT_AFFECTED,
    "false_positive": ProductStatus.NOT_AFFECTED,
}
# CycloneDX's justifications onto the five CSAF / OpenVEX share (as CISA's VEX minimum elements map them).
_CDX_JUSTIFICATION = {
    "code_not_present": VexJustification.VULNERABLE_CODE_NOT_PRESENT,
    "code_not_reachable": VexJustification.VULNERABLE_CODE_NOT_IN_EXECUTE_PATH,
    "requires_configuration": VexJustification.VULNERABLE_CODE_CANNOT_BE_CONTROLLED_BY_ADVERSARY,
    "requires_dependency": VexJustification.COMPONENT_NOT_PRESENT,
    "requires_environment": VexJustification.VULNERABLE_CODE_CANNOT_BE_CONTROLLED_BY_ADVERSARY,
    "protected_by_compiler": VexJustification.INLINE_MITIGATIONS_ALREADY_EXIST,
    "protected_at_runtime": VexJustification.INLINE_MITIGATIONS_ALREADY_EXIST,
    "protected_at_perimeter": VexJustification.INLINE_MITIGATIONS_ALREADY_EXIST,
    "protected_by_mitigating_control": VexJustification.INLINE_MITIGATIONS_ALREADY_EXIST,
}


def _cyclonedx(doc: dict[str, Any]) -> Iterator[VexStatement]:
    spec = doc.get("specVersion")
    if spec not in ("1.4", "1.5", "1.6"):
        raise InvalidInput("CycloneDX VEX needs specVersion 1.4, 1.5 or 1.6", "/specVersion")
    refs: dict[str, tuple[str, str | None, str]] = {}  # bom-ref -> (purl, version, name)
    for i, comp in enumerate(_list(doc.get("components"), "/components", required=False)):
        comp = _obj(comp, f"/components/{i}")
        ref, purl = comp.get("bom-ref"), comp.get("purl")
        if isinstance(ref, str) and isinstance(purl, str):
            base, version = _purl(purl, f"/components/{i}/purl")
            refs[ref] = (base, comp.get("version") or version, str(comp.get("name") or base))
    for i, vuln in enumerate(_list(doc.get("vulnerabilities"), "/vulnerabilities")):
        at = f"/vulnerabilities/{i}"
        vuln = _obj(vuln, at)
        vid = _str(vuln.get("id"), f"{at}/id")
        analysis = _obj(vuln.get("analysis"), f"{at}/analysis")
        state = analysis.get("state")
        if state not in _CDX_STATE:
            raise InvalidInput(f"state must be one of: {', '.join(_CDX_STATE)}", f"{at}/analysis/state")
        status = _CDX_STATE[state]
        justification = None
        if status is ProductStatus.NOT_AFFECTED:
            raw = analysis.get("justification")
            if state == "false_positive" and raw is None:
                justification = VexJustification.VULNERABLE_CODE_NOT_PRESENT
            elif raw not in _CDX_JUSTIFICATION:
                raise InvalidInput(
                    f"not_affected needs a justification, one of: {', '.join(_CDX_JUSTIFICATION)}",
                    f"{at}/analysis/justification",
                )
            else:
                justification = _CDX_JUSTIFICATION[raw]
        detail = _opt_str(analysis.get("detail"), f"{at}/analysis/detail")
        responses = analysis.get("response")
        action = (
            ", ".join(r for r in responses if isinstance(r, str)) if isinstance(responses, list) else None
        )
        for j, affect in enumerate(_list(vuln.get("affects"), f"{at}/affects")):
            ap = f"{at}/affects/{j}"
            affect = _obj(affect, ap)
            ref = _str(affect.get("ref"), f"{ap}/ref")
            if ref in refs:
                base, version, name = refs[ref]
            elif ref.startswith("pkg:"):
                base, version = _purl(ref, f"{ap}/ref")
                name = base
            else:
                raise InvalidInput("names no component of this BOM (bom-ref) and is not a purl", f"{ap}/ref")
            fixed: list[str] = []
            for k, v in enumerate(_list(affect.get("versions"), f"{ap}/versions", required=False)):
                v = _obj(v, f"{ap}/versions/{k}")
                if v.get("status") == "unaffected":
                    fixed.append(_str(v.get("version") or v.get("range"), f"{ap}/versions/{k}/version"))
            if status is ProductStatus.FIXED and not fixed:
                raise InvalidInput(
                    "a resolved vulnerability names the fixed version (an 'unaffected' version)",
                    f"{ap}/versions",
                )
            yield VexStatement(
                pointer=ap,
                vulnerabilities=(vid,),
                product_name=name,
                purl=base,
                version=version,
                status=status,
                justification=justification,
                impact_statement=detail if status is ProductStatus.NOT_AFFECTED else None,
                action_statement=action or (detail if status is not ProductStatus.NOT_AFFECTED else None),
                fixed_versions=tuple(fixed) if status is ProductStatus.FIXED else (),
            )


# -- OpenVEX ---------------------------------------------------------------------


def _openvex(doc: dict[str, Any]) -> Iterator[VexStatement]:
    for key in ("@id", "author", "timestamp"):
        _str(doc.get(key), f"/{key}")
    for i, st in enumerate(_list(doc.get("statements"), "/statements")):
        at = f"/statements/{i}"
        st = _obj(st, at)
        vuln = st.get("vulnerability")
        if isinstance(vuln, dict):
            ids = [_str(vuln.get("name") or vuln.get("@id"), f"{at}/vulnerability/name")]
            ids += [a for a in vuln.get("aliases", []) if isinstance(a, str)]
        else:
            ids = [_str(vuln, f"{at}/vulnerability")]
        try:
            status = ProductStatus(str(st.get("status")))
        except ValueError:
            allowed = "not_affected, affected, fixed, under_investigation"
            raise InvalidInput(f"status must be one of: {allowed}", f"{at}/status") from None
        if status is ProductStatus.UNKNOWN:
            raise InvalidInput("OpenVEX has no 'unknown' status", f"{at}/status")
        justification = None
        if status is ProductStatus.NOT_AFFECTED:
            raw = st.get("justification")
            try:
                justification = VexJustification(str(raw))
            except ValueError:
                allowed = ", ".join(j.value for j in VexJustification)
                raise InvalidInput(
                    f"not_affected needs a justification, one of: {allowed}", f"{at}/justification"
                ) from None
        for j, product in enumerate(_list(st.get("products"), f"{at}/products")):
            pp = f"{at}/products/{j}"
            ident = _str(product.get("@id") if isinstance(product, dict) else product, f"{pp}/@id")
            if ident.startswith("pkg:"):
                base, version = _purl(ident, f"{pp}/@id")
            else:
                base, version = None, None
            if status is ProductStatus.FIXED and version is None:
                raise InvalidInput("a fixed product names its fixed version in its purl", f"{pp}/@id")
            yield VexStatement(
                pointer=pp,
                vulnerabilities=tuple(ids),
                product_name=base or ident,
                purl=base,
                version=version,
                status=status,
                justification=justification,
                impact_statement=_opt_str(st.get("impact_statement"), f"{at}/impact_statement"),
                action_statement=_opt_str(st.get("action_statement"), f"{at}/action_statement"),
                fixed_versions=(version,) if status is ProductStatus.FIXED and version else (),
            )


# -- CSAF VEX --------------------------------------------------------------------

_CSAF_STATUS = {
    "fixed": ProductStatus.FIXED,
    "first_fixed": ProductStatus.FIXED,
    "known_affected": ProductStatus.AFFECTED,
    "first_affected": ProductStatus.AFFECTED,
    "last_affected": ProductStatus.AFFECTED,
    "known_not_affected": ProductStatus.NOT_AFFECTED,
    "under_investigation": ProductStatus.UNDER_INVESTIGATION,
}


@dataclass(frozen=True)
class _CsafProduct:
    name: str
    purl: str | None
    version: str | None


def _csaf_products(
    node: dict[str, Any], pointer: str, out: dict[str, _CsafProduct], version: str | None
) -> None:
    for i, branch in enumerate(_list(node.get("branches"), f"{pointer}/branches", required=False)):
        bp = f"{pointer}/branches/{i}"
        branch = _obj(branch, bp)
        here = version
        if branch.get("category") == "product_version":
            here = _str(branch.get("name"), f"{bp}/name")
        if isinstance(branch.get("product"), dict):
            _csaf_product(branch["product"], f"{bp}/product", out, here)
        _csaf_products(branch, bp, out, here)
    for i, fpn in enumerate(
        _list(node.get("full_product_names"), f"{pointer}/full_product_names", required=False)
    ):
        _csaf_product(
            _obj(fpn, f"{pointer}/full_product_names/{i}"), f"{pointer}/full_product_names/{i}", out, None
        )


def _csaf_product(p: dict[str, Any], pointer: str, out: dict[str, _CsafProduct], version: str | None) -> None:
    pid = _str(p.get("product_id"), f"{pointer}/product_id")
    name = _str(p.get("name"), f"{pointer}/name")
    helper = p.get("product_identification_helper")
    purl = None
    if isinstance(helper, dict) and isinstance(helper.get("purl"), str):
        purl, purl_version = _purl(helper["purl"], f"{pointer}/product_identification_helper/purl")
        version = purl_version or version
    out[pid] = _CsafProduct(name, purl, version)


def _csaf(doc: dict[str, Any]) -> Iterator[VexStatement]:
    meta = _obj(doc.get("document"), "/document")
    if meta.get("category") != "csaf_vex":
        raise InvalidInput("a CSAF VEX document has category 'csaf_vex'", "/document/category")
    if meta.get("csaf_version") != "2.0":
        raise InvalidInput("only CSAF 2.0 is read", "/document/csaf_version")
    products: dict[str, _CsafProduct] = {}
    _csaf_products(_obj(doc.get("product_tree"), "/product_tree"), "/product_tree", products, None)
    for i, vuln in enumerate(_list(doc.get("vulnerabilities"), "/vulnerabilities")):
        at = f"/vulnerabilities/{i}"
        vuln = _obj(vuln, at)
        ids = [v for v in (vuln.get("cve"),) if isinstance(v, str)]
        for k, ident in enumerate(_list(vuln.get("ids"), f"{at}/ids", required=False)):
            ids.append(_str(_obj(ident, f"{at}/ids/{k}").get("text"), f"{at}/ids/{k}/text"))
        if not ids:
            raise InvalidInput("a vulnerability names its cve or ids", f"{at}/cve")
        justification_of: dict[str, VexJustification] = {}
        for k, flag in enumerate(_list(vuln.get("flags"), f"{at}/flags", required=False)):
            flag = _obj(flag, f"{at}/flags/{k}")
            try:
                label = VexJustification(str(flag.get("label")))
            except ValueError:
                raise InvalidInput("unknown flag label", f"{at}/flags/{k}/label") from None
            for pid in _list(flag.get("product_ids"), f"{at}/flags/{k}/product_ids"):
                justification_of[str(pid)] = label
        impact_of: dict[str, str] = {}
        action_of: dict[str, str] = {}
        for k, threat in enumerate(_list(vuln.get("threats"), f"{at}/threats", required=False)):
            threat = _obj(threat, f"{at}/threats/{k}")
            if threat.get("category") == "impact":
                for pid in threat.get("product_ids") or []:
                    impact_of[str(pid)] = _str(threat.get("details"), f"{at}/threats/{k}/details")
        for k, rem in enumerate(_list(vuln.get("remediations"), f"{at}/remediations", required=False)):
            rem = _obj(rem, f"{at}/remediations/{k}")
            for pid in rem.get("product_ids") or []:
                action_of[str(pid)] = _str(rem.get("details"), f"{at}/remediations/{k}/details")
        status_map = _obj(vuln.get("product_status"), f"{at}/product_status")
        for key, ids_for in status_map.items():
            sp = f"{at}/product_status/{key}"
            if key not in _CSAF_STATUS:
                continue  # recommended: not a status
            status = _CSAF_STATUS[key]
            for k, pid in enumerate(_list(ids_for, sp)):
                pid = _str(pid, f"{sp}/{k}")
                if pid not in products:
                    raise InvalidInput(f"{pid!r} is not in the product_tree", f"{sp}/{k}")
                product = products[pid]
                justification = justification_of.get(pid)
                if status is ProductStatus.NOT_AFFECTED and justification is None:
                    raise InvalidInput(
                        "a known_not_affected product needs a flag naming its justification", f"{sp}/{k}"
                    )
                if status is ProductStatus.FIXED and product.version is None:
                    raise InvalidInput(
                        "a fixed product names its version (product_version branch or purl)", f"{sp}/{k}"
                    )
                yield VexStatement(
                    pointer=f"{sp}/{k}",
                    vulnerabilities=tuple(ids),
                    product_name=product.name,
                    purl=product.purl,
                    version=product.version,
                    status=status,
                    justification=justification if status is ProductStatus.NOT_AFFECTED else None,
                    impact_statement=impact_of.get(pid),
                    action_statement=action_of.get(pid),
                    fixed_versions=(product.version,)
                    if status is ProductStatus.FIXED and product.version
                    else (),
                )
