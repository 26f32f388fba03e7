"""SBOM intake: detect, validate and read CycloneDX, SPDX and plain purl lists.

``parse_sbom(data)`` takes the bytes a participant uploaded and returns a
``ParsedSbom``: the components it lists (purl, name, version, CPE, where in the
document each came from), deduplicated in document order, with warnings about
what cannot be matched well. A document that is not one of the accepted formats,
or that its format's validator rejects, raises ``InvalidSbom`` with the
validator's reason and, where known, the place (a JSON pointer, an XPath-like
path for XML, or ``line N`` for purl lists).

Accepted:

* CycloneDX 1.4, 1.5 and 1.6, JSON and XML, validated against the schemas that
  cyclonedx-python-lib bundles (``JsonStrictValidator`` / ``XmlValidator``).
* SPDX 2.3 (and 2.2) JSON, parsed and validated by spdx-tools.
* A list of package URLs: one per line (blank lines and ``#`` comments ignored)
  or a JSON array of strings.

Safety: documents over ``MAX_SBOM_BYTES`` or listing more than
``MAX_SBOM_COMPONENTS`` components are refused; XML is parsed without network
access, DTD loading or entity resolution, and any DOCTYPE is refused.
"""

from __future__ import annotations

import codecs
import itertools
import json
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any, Final, Literal

import attrs
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from cyclonedx.validation.xml import XmlValidator

# jsonschema (needed only to make the library's validator linear, below) and lxml
# ship no type information (no py.typed).
from jsonschema import Draft7Validator, FormatChecker  # type: ignore[import-untyped]
from jsonschema.exceptions import ValidationError, best_match  # type: ignore[import-untyped]
from jsonschema.validators import extend  # type: ignore[import-untyped]
from lxml import etree  # type: ignore[import-untyped]
from packageurl import PackageURL
from spdx_tools.spdx.parser.error import SPDXParsingError
from spdx_tools.spdx.parser.json.json_parser import remove_json_control_chars_hook
from spdx_tools.spdx.parser.jsonlikedict.json_like_dict_parser import JsonLikeDictParser
from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

from clearinghouse.errors import InvalidInput, json_pointer

__all__ = [
    "MAX_SBOM_BYTES",
    "MAX_SBOM_COMPONENTS",
    "SUPPORTED_CYCLONEDX_VERSIONS",
    "SUPPORTED_SPDX_VERSIONS",
    "Component",
    "InvalidSbom",
    "ParsedSbom",
    "SbomFormat",
    "normalize_purl",
    "parse_sbom",
]

_MIB: Final = 1024 * 1024
MAX_SBOM_BYTES: Final = 50 * _MIB
MAX_SBOM_COMPONENTS: Final = 200_000
SUPPORTED_CYCLONEDX_VERSIONS: Final = ("1.4", "1.5", "1.6")
SUPPORTED_SPDX_VERSIONS: Final = ("SPDX-2.2", "SPDX-2.3")

SbomFormat = Literal["cyclonedx-json", "cyclonedx-xml", "spdx-json", "purl-list"]

_EXPECTED = (
    "expected a CycloneDX 1.4, 1.5 or 1.6 BOM (JSON or XML), an SPDX 2.3 (or 2.2) JSON document, "
    "or a list of package URLs (one per line, or a JSON array of strings)"
)
_KNOWN_CYCLONEDX = ("1.0", "1.1", "1.2", "1.3", "1.4", "1.5", "1.6", "1.7")
_CYCLONEDX_XMLNS = re.compile(r"^http://cyclonedx\.org/schema/bom/(\d+\.\d+)$")
_XML_START = re.compile(rb"\s*<")
_NON_SPACE = re.compile(r"\S")
_MAX_DETAIL = 1000  # characters of one validator message kept in a refusal
_MAX_SAMPLES = 5  # pointers named in one warning
_MAX_SCHEMA_ERRORS = 50  # schema errors weighed to choose the one reported


@dataclass(frozen=True)
class Component:
    """One component (CycloneDX) or package (SPDX) or purl-list entry."""

    purl: str | None
    """Normalized package URL (``normalize_purl``), or None when absent or unparseable."""
    name: str
    version: str | None
    ecosystem: str | None
    """The purl type (``npm``, ``pypi``, ``maven`` ...), or None without a purl."""
    cpe: str | None
    bom_ref: str | None
    """CycloneDX ``bom-ref`` or SPDX ``SPDXID``."""
    pointer: str
    """Where it came from: a JSON pointer, an XPath-like path (XML) or ``line N``."""
    namespace: str | None = None
    """CycloneDX ``group``, or the purl namespace when the document has none."""


@dataclass(frozen=True)
class ParsedSbom:
    format: SbomFormat
    spec_version: str | None
    """``1.6`` for CycloneDX, ``2.3`` for SPDX, None for purl lists."""
    name: str | None
    """The described product (CycloneDX ``metadata.component.name``) or the SPDX document name."""
    serial: str | None
    """CycloneDX ``serialNumber`` or SPDX ``documentNamespace``."""
    components: tuple[Component, ...]
    warnings: tuple[str, ...] = ()


class InvalidSbom(InvalidInput, ValueError):
    """A document refused at intake; ``detail`` says why and ``pointer`` where, when known."""

    def __init__(self, detail: str, pointer: str | None = None) -> None:
        super().__init__(detail, pointer)


# --------------------------------------------------------------------------- purls

_PEP503_SEPARATORS = re.compile(r"[-_.]+")


def normalize_purl(purl: str) -> str:
    """The canonical string of a package URL (``ValueError`` if it is not one).

    packageurl-python lowercases the type, sorts and lowercases qualifier keys,
    percent-encodes canonically and applies its per-type rules; on top of that
    PyPI names are PEP 503-normalized and npm names and scopes lowercased.
    """
    return _normalized(purl).to_string()


def _normalized(purl: str) -> PackageURL:
    parsed = PackageURL.from_string(purl.strip())
    namespace, name = parsed.namespace, parsed.name
    if parsed.type == "pypi":
        name = _PEP503_SEPARATORS.sub("-", name).lower()
    elif parsed.type == "npm":
        name = name.lower()
        namespace = namespace.lower() if namespace else namespace
    else:
        return parsed
    return PackageURL(parsed.type, namespace, name, parsed.version, parsed.qualifiers, parsed.subpath)


# ------------------------------------------------------------------ entry point


def parse_sbom(
    data: bytes,
    filename: str | None = None,
    *,
    max_bytes: int = MAX_SBOM_BYTES,
    max_components: int = MAX_SBOM_COMPONENTS,
) -> ParsedSbom:
    """Detect the format of ``data`` (``filename`` is only a hint), validate it and read its components."""
    if len(data) > max_bytes:
        mib = f" ({max_bytes / _MIB:g} MiB)" if max_bytes >= _MIB else ""
        raise InvalidSbom(f"the document is {len(data):,} bytes, over the limit of {max_bytes:,} bytes{mib}")
    if data[:2] == b"\x1f\x8b":
        raise InvalidSbom("the document is gzip-compressed; upload it uncompressed")
    try:
        if _XML_START.match(data):
            return _parse_cyclonedx_xml(data, max_components)
        text = _decode(data, filename)
        first = _NON_SPACE.search(text)
        if first is None:
            raise InvalidSbom(f"the document is empty; {_EXPECTED}")
        if first.group() == "<":  # XML in UTF-16 or UTF-32
            return _parse_cyclonedx_xml(data, max_components)
        if first.group() in "{[":
            return _parse_json(text, filename, max_components)
        return _parse_purl_lines(text, filename, max_components)
    except RecursionError:
        raise InvalidSbom("the document is nested too deeply to be read") from None


_BOMS: Final = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def _decode(data: bytes, filename: str | None) -> str:
    encoding = next((enc for bom, enc in _BOMS if data.startswith(bom)), "utf-8")
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise InvalidSbom(
            f"the document is neither XML nor {encoding.upper()} text ({exc.reason} at byte {exc.start})"
            f"{_hint(filename)}; {_EXPECTED}"
        ) from None


def _hint(filename: str | None) -> str:
    """A clause naming what the file name suggests, for refusals of unrecognized content."""
    if not filename:
        return ""
    lower = filename.lower()
    if lower.endswith(".xml"):
        kind = "CycloneDX XML"
    elif lower.endswith((".spdx", ".spdx.json", ".spdx3.json")):
        kind = "SPDX"
    elif lower.endswith(".json"):
        kind = "a JSON document"
    elif lower.endswith((".txt", ".purl", ".purls")):
        kind = "a list of package URLs"
    else:
        return ""
    return f" (the file name {filename!r} suggests {kind})"


# -------------------------------------------------------------------------- JSON


def _parse_json(text: str, filename: str | None, max_components: int) -> ParsedSbom:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidSbom(
            f"the document is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
            f"{_hint(filename)}"
        ) from None
    if isinstance(doc, list):
        return _parse_purl_array(doc, max_components)
    if not isinstance(doc, dict):  # pragma: no cover - text starting with { or [ decodes to these
        raise InvalidSbom(f"the JSON document is a {type(doc).__name__}; {_EXPECTED}")
    if "spdxVersion" in doc:
        return _parse_spdx_json(text, doc, max_components)
    if "bomFormat" in doc or "specVersion" in doc:
        return _parse_cyclonedx_json(doc, text, max_components)
    context = doc.get("@context")
    if "@graph" in doc and "spdx" in json.dumps(context).lower():
        raise InvalidSbom(
            "SPDX 3 (JSON-LD) documents are not accepted yet; submit SPDX 2.3 JSON or CycloneDX 1.4-1.6",
            "/@context",
        )
    raise InvalidSbom(
        "the JSON document is neither CycloneDX (no 'bomFormat') nor SPDX (no 'spdxVersion')"
        f"{_hint(filename)}; {_EXPECTED}"
    )


# --------------------------------------------------------------------- CycloneDX


def _unsupported_cyclonedx(version: object, fmt: str, pointer: str) -> InvalidSbom:
    accepted = ", ".join(SUPPORTED_CYCLONEDX_VERSIONS[:-1]) + f" and {SUPPORTED_CYCLONEDX_VERSIONS[-1]}"
    newest = SUPPORTED_CYCLONEDX_VERSIONS[-1]
    if version in _KNOWN_CYCLONEDX:
        newer = str(version) > newest
        why = "is not accepted yet" if newer else "is too old and not accepted"
        return InvalidSbom(
            f"CycloneDX {version} ({fmt}) {why}: the clearinghouse accepts CycloneDX {accepted}. "
            f"Convert the BOM to CycloneDX {newest} "
            f"(e.g. `cyclonedx convert --output-version v{newest.replace('.', '_')}`)",
            pointer,
        )
    return InvalidSbom(
        f"unknown CycloneDX specVersion {version!r} ({fmt}); the clearinghouse accepts CycloneDX {accepted}",
        pointer,
    )


def _iri_to_uri(value: str) -> str:
    """RFC 3987 section 3.1: percent-encode the non-ASCII characters of an IRI as UTF-8.

    C1 controls (U+0080-U+009F) are not IRI characters and are kept, so that the
    URI check rejects them.
    """
    if value.isascii():
        return value
    return "".join(
        ch if ord(ch) < 0xA0 else "".join(f"%{b:02X}" for b in ch.encode("utf-8", "surrogatepass"))
        for ch in value
    )


def _fast_format_checker() -> Any:
    """Draft 7's format checker with a linear-time ``iri-reference`` check.

    With ``jsonschema[format-nongpl]`` installed, jsonschema checks
    ``iri-reference`` (88 places in the CycloneDX schemas, every URL) with
    rfc3987-syntax's Earley parser: about 60 ms a URL, over a minute for a 2 MB
    npm SBOM. This checks the IRI's URI mapping (RFC 3987 section 3.1) with the
    regex-based RFC 3986 ``uri-reference`` check jsonschema itself uses. On the
    4,400 distinct URL strings of the CycloneDX corpus both agree, except that
    this one accepts IPv6 literals (``http://[::1]/``), which rfc3987-syntax wrongly refuses.
    """
    base = Draft7Validator.FORMAT_CHECKER
    checker = FormatChecker(formats=())
    checker.checkers = dict(base.checkers)
    uri_reference, raises = base.checkers.get("uri-reference", (None, ()))
    if uri_reference is None:  # pragma: no cover - rfc3986-validator missing: keep jsonschema's checks
        return base

    def is_iri_reference(instance: object) -> bool:
        return not isinstance(instance, str) or bool(uri_reference(_iri_to_uri(instance)))

    checker.checks("iri-reference", raises=raises)(is_iri_reference)
    return checker


_FORMAT_CHECKER: Final = _fast_format_checker()


def _freeze(value: Any) -> Any:
    """A hashable form of a JSON value, equal exactly when JSON Schema calls the values equal
    (``1 == 1.0``; ``true != 1``; object key order ignored)."""
    if isinstance(value, dict):
        return ("object", frozenset((key, _freeze(item)) for key, item in value.items()))
    if isinstance(value, list):
        return ("array", tuple(_freeze(item) for item in value))
    if isinstance(value, bool):
        return ("boolean", value)
    return value


def _unique_items(validator: Any, unique: Any, instance: Any, schema: Any) -> Iterator[Any]:
    """``uniqueItems`` in linear time (jsonschema compares arrays of objects pairwise).

    CycloneDX puts ``uniqueItems`` on ``components``: with jsonschema's own check a BOM of
    8,000 components takes 36 s to validate, and one of 200,000 would take hours.
    """
    if not unique or not validator.is_type(instance, "array"):
        return
    seen: set[Any] = set()
    for index, item in enumerate(instance):
        key = _freeze(item)
        if key in seen:
            yield ValidationError(
                f"item {index} repeats an earlier item of an array whose items must be unique", path=[index]
            )
            return
        seen.add(key)


_LinearDraft7Validator: Final = extend(Draft7Validator, validators={"uniqueItems": _unique_items})


class _JsonValidator(JsonStrictValidator):
    """cyclonedx-python-lib's strict JSON validator, made linear in the document's size.

    The library builds a Draft 7 validator over its bundled schemas (with its own
    registry for the spdx, jsf and cryptography-defs references). This takes that
    validator's fields as they are (the way jsonschema's ``evolve`` copies them) into
    a Draft 7 validator whose ``uniqueItems`` and ``iri-reference`` checks are linear.
    """

    _linear: Any = None

    @property
    def _validator(self) -> Any:
        if self._linear is None:
            base = super()._validator
            fields = {f.alias: getattr(base, f.name) for f in attrs.fields(type(base)) if f.init}
            fields["format_checker"] = _FORMAT_CHECKER
            self._linear = _LinearDraft7Validator(**fields)
        return self._linear


@cache
def _json_validator(version: str) -> _JsonValidator:
    return _JsonValidator(SchemaVersion.from_version(version))


@cache
def _xml_validator(version: str) -> XmlValidator:
    return XmlValidator(SchemaVersion.from_version(version))


# lxml's XMLSchema keeps the last validation's error log on the schema object.
_XML_VALIDATION_LOCK = threading.Lock()


def _truncate(text: str, limit: int = _MAX_DETAIL) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _parse_cyclonedx_json(doc: dict[str, Any], text: str, max_components: int) -> ParsedSbom:
    version = doc.get("specVersion")
    if version not in SUPPORTED_CYCLONEDX_VERSIONS:
        raise _unsupported_cyclonedx(version, "JSON", "/specVersion")
    assert isinstance(version, str)
    errors = _json_validator(version).validate_str(text, all_errors=True)
    if errors is not None:
        sample = [error.data for error in itertools.islice(errors, _MAX_SCHEMA_ERRORS)]
        best = best_match(sample)
        pointer = json_pointer(list(best.absolute_path))
        raise InvalidSbom(
            f"CycloneDX {version} JSON schema validation failed at {pointer or '/'}: "
            f"{_truncate(best.message)}",
            pointer,
        )
    reader = _Reader(max_components)
    metadata = doc.get("metadata")
    top = metadata.get("component") if isinstance(metadata, dict) else None
    roots: list[tuple[Any, list[str | int]]] = []
    if isinstance(top, dict):
        roots.append((top, ["metadata", "component"]))
    roots.extend((c, ["components", i]) for i, c in enumerate(doc.get("components") or ()))
    for node, path in _walk_json(roots):
        reader.add(
            pointer=json_pointer(path),
            name=str(node.get("name", "")),
            namespace=_str_or_none(node.get("group")),
            version=_str_or_none(node.get("version")),
            purl=_str_or_none(node.get("purl")),
            cpe=_str_or_none(node.get("cpe")),
            bom_ref=_str_or_none(node.get("bom-ref")),
        )
    return ParsedSbom(
        format="cyclonedx-json",
        spec_version=version,
        name=_str_or_none(top.get("name")) if isinstance(top, dict) else None,
        serial=_str_or_none(doc.get("serialNumber")),
        components=reader.components(),
        warnings=reader.warnings(),
    )


def _walk_json(roots: list[tuple[Any, list[str | int]]]) -> Iterator[tuple[dict[str, Any], list[str | int]]]:
    """Components depth-first in document order (nested ``components`` after their parent)."""
    stack = list(reversed(roots))
    while stack:
        node, path = stack.pop()
        if not isinstance(node, dict):  # pragma: no cover - the schema requires objects
            continue
        yield node, path
        children = node.get("components") or ()
        stack.extend((c, [*path, "components", i]) for i, c in reversed(list(enumerate(children))))


def _str_or_none(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


# ------------------------------------------------------------------ CycloneDX XML


def _safe_xml_parser() -> Any:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        attribute_defaults=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


def _parse_cyclonedx_xml(data: bytes, max_components: int) -> ParsedSbom:
    try:
        root = etree.fromstring(data, parser=_safe_xml_parser())
    except etree.XMLSyntaxError as exc:
        raise InvalidSbom(f"the document is not well-formed XML: {exc.msg}") from None
    tree = root.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise InvalidSbom(
            "XML documents with a DOCTYPE (DTD or entity declarations) are not accepted; "
            "CycloneDX XML needs none"
        )
    qname = etree.QName(root)
    match = _CYCLONEDX_XMLNS.match(qname.namespace or "")
    if qname.localname != "bom" or match is None:
        if qname.localname == "RDF" and "spdx" in etree.tostring(root)[:4096].decode("utf-8", "replace"):
            raise InvalidSbom("SPDX RDF/XML is not accepted; submit SPDX 2.3 JSON or CycloneDX 1.4-1.6")
        raise InvalidSbom(
            f"the XML root element is {root.tag!r}, not a CycloneDX <bom> in the namespace "
            f"http://cyclonedx.org/schema/bom/<version>; {_EXPECTED}",
            "/" + qname.localname,
        )
    version = match.group(1)
    if version not in SUPPORTED_CYCLONEDX_VERSIONS:
        raise _unsupported_cyclonedx(version, "XML", "/bom/@xmlns")
    # The library validates a str; hand it the document's own text when it is UTF-8 (so
    # that line numbers hold), else lxml's re-serialization of the parsed tree.
    encoding = (tree.docinfo.encoding or "UTF-8").upper().replace("_", "-")
    if encoding in ("UTF-8", "UTF8") and not data.startswith(codecs.BOM_UTF8):
        text = data.decode("utf-8")
    else:
        text = etree.tostring(root, encoding="unicode")
    with _XML_VALIDATION_LOCK:
        errors = _xml_validator(version).validate_str(text, all_errors=True)
        entries = None if errors is None else [e.data for e in itertools.islice(errors, 1)]
    if entries:
        entry = entries[0]
        try:
            found = tree.xpath(entry.path) if entry.path else []
        except etree.XPathError:  # pragma: no cover - libxml2 writes plain element paths
            found = []
        pointer = _xml_path(found[0]) if found and isinstance(found[0], etree._Element) else None
        where = pointer or f"line {entry.line}"
        raise InvalidSbom(
            f"CycloneDX {version} XML schema validation failed at {where}: {_truncate(entry.message)}",
            pointer,
        )
    ns = f"{{{qname.namespace}}}"
    reader = _Reader(max_components)
    top = root.find(f"{ns}metadata/{ns}component")
    roots = [] if top is None else [(top, "/bom/metadata/component")]
    roots.extend(_xml_components(root, "/bom", ns))
    for node, path in _walk_xml(roots, ns):
        reader.add(
            pointer=path,
            name=_xml_text(node, f"{ns}name") or "",
            namespace=_xml_text(node, f"{ns}group"),
            version=_xml_text(node, f"{ns}version"),
            purl=_xml_text(node, f"{ns}purl"),
            cpe=_xml_text(node, f"{ns}cpe"),
            bom_ref=_str_or_none(node.get("bom-ref")),
        )
    return ParsedSbom(
        format="cyclonedx-xml",
        spec_version=version,
        name=None if top is None else _xml_text(top, f"{ns}name"),
        serial=_str_or_none(root.get("serialNumber")),
        components=reader.components(),
        warnings=reader.warnings(),
    )


def _walk_xml(roots: list[tuple[Any, str]], ns: str) -> Iterator[tuple[Any, str]]:
    """Components depth-first in document order, with their paths (built as it goes: linear)."""
    stack = list(reversed(roots))
    while stack:
        node, path = stack.pop()
        yield node, path
        stack.extend(reversed(_xml_components(node, path, ns)))


def _xml_components(parent: Any, parent_path: str, ns: str) -> list[tuple[Any, str]]:
    found: list[tuple[Any, str]] = []
    containers = parent.findall(f"{ns}components")
    for k, container in enumerate(containers, start=1):
        container_path = f"{parent_path}/components{_position(k, len(containers))}"
        children = container.findall(f"{ns}component")
        found.extend(
            (child, f"{container_path}/component{_position(i, len(children))}")
            for i, child in enumerate(children, start=1)
        )
    return found


def _position(index: int, count: int) -> str:
    return f"[{index}]" if count > 1 else ""


def _xml_text(node: Any, tag: str) -> str | None:
    child = node.find(tag)
    return None if child is None else _str_or_none(child.text)


def _xml_path(node: Any) -> str:
    """``/bom/components/component[2]/components/component``: local names, with the
    1-based position among same-named siblings where there are several (as in XPath)."""
    steps: list[str] = []
    while node is not None:
        local = etree.QName(node).localname
        parent = node.getparent()
        if parent is not None:
            same = list(parent.iterchildren(node.tag))
            local += _position(same.index(node) + 1, len(same))
        steps.append(local)
        node = parent
    return "/" + "/".join(reversed(steps))


# -------------------------------------------------------------------------- SPDX


def _parse_spdx_json(text: str, doc: dict[str, Any], max_components: int) -> ParsedSbom:
    version = doc.get("spdxVersion")
    if version not in SUPPORTED_SPDX_VERSIONS:
        raise InvalidSbom(
            f"SPDX version {version!r} is not accepted; the clearinghouse accepts SPDX-2.3 and SPDX-2.2 JSON "
            "(SPDX 3 JSON-LD is not accepted yet)",
            "/spdxVersion",
        )
    packages = doc.get("packages") or []
    if isinstance(packages, list) and len(packages) > max_components:
        raise _too_many(max_components)
    # spdx-tools' own JSON reading: drop the control characters it refuses to keep.
    spdx_dict = json.loads(text, object_pairs_hook=remove_json_control_chars_hook)
    try:
        # spdx-tools types its model but not JsonLikeDictParser.__init__.
        document = JsonLikeDictParser().parse(spdx_dict)  # type: ignore[no-untyped-call]
    except SPDXParsingError as exc:
        raise InvalidSbom(
            "spdx-tools could not parse the SPDX document: " + _truncate("; ".join(exc.messages))
        ) from None
    except (AttributeError, TypeError, KeyError, ValueError) as exc:
        # spdx-tools assumes the JSON has the right shape; a list where it wants an
        # object ends in one of these.
        raise InvalidSbom(
            "spdx-tools could not parse the SPDX document "
            f"({type(exc).__name__}: {_truncate(str(exc), 300)}); "
            "check that 'packages', 'files' and 'relationships' are arrays of objects"
        ) from None
    messages = validate_full_spdx_document(document)
    package_pointers = {
        p.get("SPDXID"): json_pointer(["packages", i]) for i, p in enumerate(packages) if isinstance(p, dict)
    }
    if messages:
        first = messages[0]
        ids = (first.context.spdx_id, first.context.parent_id)
        pointer = next((package_pointers[i] for i in ids if i in package_pointers), None)
        shown = "; ".join(_spdx_message(m) for m in messages[:5])
        more = f" (and {len(messages) - 5} more)" if len(messages) > 5 else ""
        raise InvalidSbom(
            f"SPDX validation (spdx-tools) found {len(messages)} problem(s): {shown}{more}", pointer
        )
    reader = _Reader(max_components)
    for i, package in enumerate(packages):
        purls: list[str] = []
        cpes: list[str] = []
        for ref in package.get("externalRefs") or ():
            kind = str(ref.get("referenceType", "")).lower()
            locator = _str_or_none(ref.get("referenceLocator"))
            if locator is None:  # pragma: no cover - spdx-tools requires a locator
                continue
            if kind == "purl":
                purls.append(locator)
            elif kind in ("cpe23type", "cpe22type"):
                cpes.append(locator)
        pointer = json_pointer(["packages", i])
        if len(set(purls)) > 1:
            reader.note("with more than one purl (the first is used)", pointer)
        reader.add(
            pointer=pointer,
            name=str(package.get("name", "")),
            namespace=None,
            version=_str_or_none(package.get("versionInfo")),
            purl=purls[0] if purls else None,
            cpe=next((c for c in cpes if c.startswith("cpe:2.3:")), cpes[0] if cpes else None),
            bom_ref=_str_or_none(package.get("SPDXID")),
        )
    return ParsedSbom(
        format="spdx-json",
        spec_version=version.removeprefix("SPDX-"),
        name=_str_or_none(doc.get("name")),
        serial=_str_or_none(doc.get("documentNamespace")),
        components=reader.components(),
        warnings=reader.warnings(),
    )


def _spdx_message(message: Any) -> str:
    spdx_id = message.context.spdx_id or message.context.parent_id
    prefix = f"[{spdx_id}] " if spdx_id else ""
    return prefix + _truncate(message.validation_message, 300)


# ---------------------------------------------------------------------- purl lists


def _parse_purl_lines(text: str, filename: str | None, max_components: int) -> ParsedSbom:
    lines = [(n, line.strip()) for n, line in enumerate(text.splitlines(), start=1)]
    entries = [(n, line) for n, line in lines if line and not line.startswith("#")]
    if not entries:
        raise InvalidSbom(f"the document has only comments and blank lines; {_EXPECTED}")
    first_line, first = entries[0]
    if first.startswith("SPDXVersion:"):
        raise InvalidSbom(
            "SPDX tag-value documents are not accepted; convert the document to SPDX 2.3 JSON "
            "(e.g. `pyspdxtools -i doc.spdx -o doc.spdx.json`)",
            f"line {first_line}",
        )
    if not any(line.startswith("pkg:") for _, line in entries):
        raise InvalidSbom(f"the document is not a recognized SBOM format{_hint(filename)}; {_EXPECTED}")
    return _read_purls(entries, lambda n: f"line {n}", "line", max_components)


def _parse_purl_array(items: list[Any], max_components: int) -> ParsedSbom:
    if not items:
        raise InvalidSbom("the JSON array is empty; a purl list needs at least one package URL")
    for i, item in enumerate(items):
        if not isinstance(item, str):
            raise InvalidSbom(
                f"item {i} of the JSON array is a {type(item).__name__}, not a package URL string; "
                f"{_EXPECTED}",
                f"/{i}",
            )
    entries = [(i, item.strip()) for i, item in enumerate(items)]
    return _read_purls(entries, lambda i: f"/{i}", "item", max_components)


def _read_purls(
    entries: Iterable[tuple[int, str]], where: Callable[[int], str], noun: str, max_components: int
) -> ParsedSbom:
    reader = _Reader(max_components)
    for n, raw in entries:
        problem = None
        if any(ch.isspace() for ch in raw):
            problem = "it contains whitespace (percent-encode it as %20)"
        else:
            try:
                purl = _normalized(raw)
            except ValueError as exc:
                problem = str(exc)
        if problem is not None:
            raise InvalidSbom(
                f"{noun} {n}: {_truncate(raw, 200)!r} is not a valid package URL: {problem}", where(n)
            )
        reader.add(
            pointer=where(n),
            name=purl.name,
            namespace=None,
            version=None,
            purl=purl,
            cpe=None,
            bom_ref=None,
        )
    return ParsedSbom(
        format="purl-list",
        spec_version=None,
        name=None,
        serial=None,
        components=reader.components(),
        warnings=reader.warnings(),
    )


# ------------------------------------------------------------------ accumulation


def _too_many(limit: int) -> InvalidSbom:
    noun = "component" if limit == 1 else "components"
    return InvalidSbom(
        f"the document lists more than {limit:,} {noun}, the limit; split it into several SBOMs"
    )


class _Reader:
    """Collects components: normalizes purls, counts against the limit, deduplicates, notes gaps."""

    def __init__(self, max_components: int) -> None:
        self._max = max_components
        self._seen = 0
        self._by_key: dict[tuple[str | None, ...], Component] = {}
        self._notes: dict[str, tuple[int, list[str]]] = {}  # what -> (count, first pointers)

    def note(self, what: str, pointer: str) -> None:
        count, samples = self._notes.get(what, (0, []))
        if count < _MAX_SAMPLES:
            samples.append(pointer)
        self._notes[what] = (count + 1, samples)

    def add(
        self,
        *,
        pointer: str,
        name: str,
        namespace: str | None,
        version: str | None,
        purl: str | PackageURL | None,
        cpe: str | None,
        bom_ref: str | None,
    ) -> None:
        """Add one component; ``purl`` as the document has it, or already ``_normalized``."""
        self._seen += 1
        if self._seen > self._max:
            raise _too_many(self._max)
        ecosystem = None
        parsed = None
        if isinstance(purl, str):
            try:
                parsed = _normalized(purl)
            except ValueError as exc:
                self.note(
                    f"with a purl that is not a valid package URL ({_truncate(str(exc), 120)})", pointer
                )
        elif purl is not None:
            parsed = purl
        purl = None
        if parsed is not None:
            purl = parsed.to_string()
            ecosystem = parsed.type
            version = version or parsed.version
            namespace = namespace or parsed.namespace
        key: tuple[str | None, ...] = ("purl", purl) if purl else ("name", namespace, name, version, cpe)
        if key in self._by_key:
            self.note("repeating an earlier one (merged into it)", pointer)
            return
        if purl is None and cpe is None:
            self.note("without purl or CPE (matchable by name only)", pointer)
        elif purl is None:
            self.note("without a purl (CPE only)", pointer)
        if version is None:
            self.note("without a version", pointer)
        self._by_key[key] = Component(
            purl=purl,
            name=name,
            version=version,
            ecosystem=ecosystem,
            cpe=cpe,
            bom_ref=bom_ref,
            pointer=pointer,
            namespace=namespace,
        )

    def components(self) -> tuple[Component, ...]:
        return tuple(self._by_key.values())

    def warnings(self) -> tuple[str, ...]:
        found = tuple(_summarize(what, count, samples) for what, (count, samples) in self._notes.items())
        return found if self._by_key else ("the document lists no components", *found)


def _summarize(what: str, count: int, samples: list[str]) -> str:
    more = f" and {count - len(samples):,} more" if count > len(samples) else ""
    noun = "component" if count == 1 else "components"
    return f"{count:,} {noun} {what}: {', '.join(samples)}{more}"
