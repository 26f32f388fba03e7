"""SBOM intake (``clearinghouse.matching._sbom``): CycloneDX JSON/XML, SPDX JSON and purl lists.

Real documents come from the shared corpus (``corpus`` fixture):

* ``cyclonedx-specification``: the spec's own JSON test BOMs. For 1.4, 1.5 and 1.6
  the library's validator agrees with every file's name: all ``valid-*`` parse and
  all ``invalid-*`` are refused (no file is judged differently). The spec repo has
  no XML test BOMs, so the XML tests serialize the valid JSON test BOMs to XML with
  cyclonedx-python-lib itself and mutate real XML BOMs from ``cyclonedx-bom-examples``.
* ``cyclonedx-bom-examples``: real SBOMs (some gzipped), 1.1 to 1.6.
* ``spdx-examples``: SPDX 2.2/2.3 JSON, 2.2 tag-value and 3.0 JSON-LD.
"""

from __future__ import annotations

import copy
import functools
import gzip
import json
import warnings
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator  # type: ignore[import-untyped]

from clearinghouse.errors import InvalidInput
from clearinghouse.matching._sbom import (
    MAX_SBOM_BYTES,
    MAX_SBOM_COMPONENTS,
    Component,
    InvalidSbom,
    ParsedSbom,
    _freeze,
    _iri_to_uri,
    _unique_items,
    normalize_purl,
    parse_sbom,
)

SUPPORTED = ("1.4", "1.5", "1.6")


def _spec_tests(corpus: Path, version: str) -> Path:
    return corpus / "cyclonedx-specification" / "tools" / "src" / "test" / "resources" / version


def _refused(data: bytes | str, filename: str | None = None, **limits: int) -> InvalidSbom:
    raw = data.encode() if isinstance(data, str) else data
    with pytest.raises(InvalidSbom) as info:
        parse_sbom(raw, filename, **limits)
    return info.value


def _keys(parsed: ParsedSbom) -> set[tuple[str | None, ...]]:
    return {(c.purl, c.name, c.version, c.cpe, c.namespace) for c in parsed.components}


def _read(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix == ".gz" else data


@functools.cache
def _parse_file(path: Path) -> ParsedSbom | InvalidSbom:
    """A corpus file, parsed once for the whole session (the big npm SBOMs take a second each)."""
    try:
        return parse_sbom(_read(path), path.name.removesuffix(".gz"))
    except InvalidSbom as error:
        return error


def _parsed(path: Path) -> ParsedSbom:
    result = _parse_file(path)
    assert isinstance(result, ParsedSbom), f"{path}: {result}"
    return result


def _bom_json(version: str = "1.6", **extra: Any) -> dict[str, Any]:
    return {"bomFormat": "CycloneDX", "specVersion": version, "version": 1, **extra}


def _dump(doc: Any) -> bytes:
    return json.dumps(doc).encode()


# -- purl normalization --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("purl", "canonical"),
    [
        ("pkg:pypi/Django_Rest.Framework@3.0", "pkg:pypi/django-rest-framework@3.0"),
        ("pkg:pypi/zope.interface__x@5", "pkg:pypi/zope-interface-x@5"),
        ("pkg:npm/@Angular/Core@1.0.0", "pkg:npm/%40angular/core@1.0.0"),
        ("pkg:npm/JSONStream@1.3.5", "pkg:npm/jsonstream@1.3.5"),
        (
            "pkg:maven/org.apache/Commons@1.0?type=jar&Classifier=sources",
            "pkg:maven/org.apache/Commons@1.0?classifier=sources&type=jar",
        ),
        ("  pkg:golang/github.com/gorilla/context@v1.1.1#sub/path \n", None),
        ("PKG:NPM/foo@1", "error"),
        ("pkg:npm", "error"),
        ("not a purl", "error"),
    ],
)
def test_normalize_purl(purl: str, canonical: str | None) -> None:
    if canonical == "error":
        with pytest.raises(ValueError):
            normalize_purl(purl)
        return
    result = normalize_purl(purl)
    assert result == (canonical or purl.strip())
    assert normalize_purl(result) == result  # a fixed point


# -- CycloneDX JSON: the specification's test BOMs ----------------------------------------------


@pytest.mark.parametrize("version", SUPPORTED)
def test_every_valid_cyclonedx_json_test_bom_parses(corpus: Path, version: str) -> None:
    files = sorted(_spec_tests(corpus, version).glob("valid-*.json"))
    assert len(files) >= 29
    with_components = 0
    for path in files:
        parsed = parse_sbom(path.read_bytes(), path.name)
        assert parsed.format == "cyclonedx-json"
        assert parsed.spec_version == version
        with_components += bool(parsed.components)
        if not parsed.components:
            assert parsed.warnings == ("the document lists no components",)
        for component in parsed.components:
            assert component.pointer.startswith(("/components/", "/metadata/component"))
            assert component.purl is None or component.ecosystem == component.purl[4:].split("/")[0]
    assert with_components >= 20


@pytest.mark.parametrize("version", SUPPORTED)
def test_every_invalid_cyclonedx_json_test_bom_is_refused_with_the_validators_reason(
    corpus: Path, version: str
) -> None:
    files = sorted(_spec_tests(corpus, version).glob("invalid-*.json"))
    assert len(files) >= 22
    for path in files:
        error = _refused(path.read_bytes(), path.name)
        assert error.detail.startswith(f"CycloneDX {version} JSON schema validation failed at "), path.name
        assert error.pointer is not None and error.pointer.startswith("/"), path.name
        assert isinstance(error, ValueError) and isinstance(error, InvalidInput)


@pytest.mark.parametrize(
    ("name", "pointer", "reason"),
    [
        ("invalid-bomformat", "/bomFormat", "'AnotherFormat' is not one of ['CycloneDX']"),
        ("invalid-component-type", "/components/0/type", "'foo' is not one of"),
        ("invalid-empty-component", "/components/0", "'name' is a required property"),
        ("invalid-serialnumber", "/serialNumber", "does not match"),
        ("invalid-metadata-timestamp", "/metadata/timestamp", "is not a 'date-time'"),
        ("invalid-hash-md5", "/components/0/hashes/0/content", "'foo' does not match"),
        ("invalid-license-id", "/components/0/licenses/0/license/id", "'Apache-2' is not one of"),
    ],
)
def test_invalid_test_boms_name_the_place_and_the_reason(
    corpus: Path, name: str, pointer: str, reason: str
) -> None:
    for version in SUPPORTED:
        path = _spec_tests(corpus, version) / f"{name}-{version}.json"
        error = _refused(path.read_bytes())
        assert error.pointer == pointer
        assert reason in error.detail
        assert len(error.detail) <= 1200  # the SPDX licence enumeration is cut short


@pytest.mark.parametrize("version", ["1.2", "1.3", "1.7"])
def test_other_cyclonedx_versions_are_refused_with_a_clear_reason(corpus: Path, version: str) -> None:
    files = sorted(_spec_tests(corpus, version).glob("*.json"))
    assert files
    for path in files:
        error = _refused(path.read_bytes(), path.name)
        assert error.detail.startswith(f"CycloneDX {version} (JSON) is ")
        assert "accepts CycloneDX 1.4, 1.5 and 1.6" in error.detail
        assert error.pointer == "/specVersion"
    if version == "1.7":
        assert "not accepted yet" in error.detail
    else:
        assert "too old" in error.detail


def test_unknown_or_missing_spec_versions_are_refused() -> None:
    assert "unknown CycloneDX specVersion '2.0'" in _refused(_dump(_bom_json("2.0"))).detail
    assert "unknown CycloneDX specVersion None" in _refused(_dump({"bomFormat": "CycloneDX"})).detail
    # No bomFormat, but a specVersion: read as CycloneDX, and the schema says what is missing.
    error = _refused(_dump({"specVersion": "1.5", "version": 1}))
    assert "'bomFormat' is a required property" in error.detail


# -- CycloneDX JSON: reading components ---------------------------------------------------------


def test_components_are_read_recursively_in_document_order() -> None:
    doc = _bom_json(
        serialNumber="urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79",
        metadata={
            "component": {
                "type": "application",
                "name": "acme-app",
                "version": "2.0",
                "bom-ref": "app",
                "components": [{"type": "library", "name": "bundled", "purl": "pkg:npm/Bundled@1.0"}],
            }
        },
        components=[
            {
                "type": "library",
                "group": "org.apache.logging.log4j",
                "name": "log4j-core",
                "version": "2.14.1",
                "purl": "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1?type=jar",
                "cpe": "cpe:2.3:a:apache:log4j:2.14.1:*:*:*:*:*:*:*",
                "bom-ref": "log4j",
                "components": [
                    {"type": "library", "name": "Requests", "purl": "pkg:pypi/Requests@2.31.0"},
                    {"type": "library", "name": "no-version"},
                ],
            },
            {"type": "library", "name": "bad-purl", "version": "1", "purl": "pkg:"},
            {"type": "library", "name": "again", "purl": "pkg:pypi/requests@2.31.0"},
            {"type": "library", "name": "cpe-only", "version": "9", "cpe": "cpe:2.3:a:x:y:9:*:*:*:*:*:*:*"},
        ],
    )
    parsed = parse_sbom(_dump(doc), "bom.cdx.json")
    assert (parsed.format, parsed.spec_version, parsed.name) == ("cyclonedx-json", "1.6", "acme-app")
    assert parsed.serial == "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79"
    assert [c.pointer for c in parsed.components] == [
        "/metadata/component",
        "/metadata/component/components/0",
        "/components/0",
        "/components/0/components/0",
        "/components/0/components/1",
        "/components/1",
        "/components/3",
    ]
    app, bundled, log4j, requests, no_version, bad, cpe_only = parsed.components
    assert app == Component(
        purl=None,
        name="acme-app",
        version="2.0",
        ecosystem=None,
        cpe=None,
        bom_ref="app",
        pointer="/metadata/component",
    )
    assert (bundled.purl, bundled.version, bundled.ecosystem) == ("pkg:npm/bundled@1.0", "1.0", "npm")
    assert log4j.purl == "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1?type=jar"
    assert (log4j.namespace, log4j.cpe, log4j.bom_ref, log4j.ecosystem) == (
        "org.apache.logging.log4j",
        "cpe:2.3:a:apache:log4j:2.14.1:*:*:*:*:*:*:*",
        "log4j",
        "maven",
    )
    assert (requests.purl, requests.version) == ("pkg:pypi/requests@2.31.0", "2.31.0")
    assert no_version.version is None and no_version.purl is None
    assert bad.purl is None and bad.ecosystem is None and bad.version == "1"
    assert cpe_only.purl is None and cpe_only.cpe is not None
    assert parsed.warnings == (
        "3 components without purl or CPE (matchable by name only): "
        "/metadata/component, /components/0/components/1, /components/1",
        "1 component without a version: /components/0/components/1",
        "1 component with a purl that is not a valid package URL "
        "(purl is missing the required type component: 'pkg:'.): /components/1",
        "1 component repeating an earlier one (merged into it): /components/2",
        "1 component without a purl (CPE only): /components/3",
    )


def test_warnings_name_a_few_places_and_count_the_rest() -> None:
    doc = _bom_json(components=[{"type": "library", "name": f"lib{i}"} for i in range(8)])
    doc["components"].append({"type": "library", "name": "lib0", "bom-ref": "again"})
    parsed = parse_sbom(_dump(doc))
    assert len(parsed.components) == 8
    assert "1 component repeating an earlier one (merged into it): /components/8" in parsed.warnings
    assert (
        "8 components without a version: /components/0, /components/1, /components/2, /components/3, "
        "/components/4 and 3 more" in parsed.warnings
    )


# -- CycloneDX XML ------------------------------------------------------------------------------


def _lib_xml(bom_json: bytes, version: str) -> str:
    """The BOM, written as XML by cyclonedx-python-lib (the spec repo has no XML test BOMs)."""
    from cyclonedx.model.bom import Bom
    from cyclonedx.output import make_outputter
    from cyclonedx.schema import OutputFormat, SchemaVersion

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bom = Bom.from_json(json.loads(bom_json))  # type: ignore[attr-defined]
        return make_outputter(bom, OutputFormat.XML, SchemaVersion.from_version(version)).output_as_string()


# cyclonedx-python-lib cannot write these test BOMs as XML: it raises on the SaaSBOM data
# classifications and the full cryptography BOM, and writes <author><name> of a pedigree commit
# in an order its own XSD refuses for valid-bom-*.
_LIB_CANNOT_WRITE = {"valid-saasbom-1.5.json", "valid-saasbom-1.6.json", "valid-cryptography-full-1.6.json"}
_LIB_WRITES_INVALID = {"valid-bom-1.4.json", "valid-bom-1.5.json", "valid-bom-1.6.json"}


@pytest.mark.parametrize("version", SUPPORTED)
def test_valid_test_boms_written_as_xml_parse_to_the_same_components(corpus: Path, version: str) -> None:
    compared = 0
    for path in sorted(_spec_tests(corpus, version).glob("valid-*.json")):
        if path.name in _LIB_CANNOT_WRITE:
            continue
        raw = path.read_bytes()
        xml = _lib_xml(raw, version)
        if path.name in _LIB_WRITES_INVALID:
            error = _refused(xml)
            assert error.pointer == "/bom/components/component[1]/pedigree/commits/commit/author/name"
            assert "This element is not expected" in error.detail
            continue
        from_xml, from_json = parse_sbom(xml.encode(), "bom.xml"), parse_sbom(raw)
        assert from_xml.format == "cyclonedx-xml" and from_xml.spec_version == version
        assert _keys(from_xml) == _keys(from_json), path.name
        assert (from_xml.name, from_xml.serial) == (from_json.name, from_json.serial)
        assert all(
            c.pointer.startswith(("/bom/components/component", "/bom/metadata/component"))
            for c in from_xml.components
        )
        compared += 1
    assert compared >= 25


def test_real_xml_boms_parse_like_their_json_twins(corpus: Path) -> None:
    sbom = corpus / "cyclonedx-bom-examples" / "SBOM"
    pairs = [
        (sbom / "laravel-7.12.0" / "bom.1.4.xml", sbom / "laravel-7.12.0" / "bom.1.4.json", 63),
        (
            sbom / "juice-shop/via_npm/flat/bom.1.4.xml.gz",
            sbom / "juice-shop/via_npm/flat/bom.1.4.json.gz",
            979,
        ),
        (
            sbom / "juice-shop/via_npm/bare/bom.1.4.xml.gz",
            sbom / "juice-shop/via_npm/bare/bom.1.4.json.gz",
            979,
        ),
    ]
    for xml_path, json_path, count in pairs:
        from_xml, from_json = _parsed(xml_path), _parsed(json_path)
        assert from_xml.format == "cyclonedx-xml" and from_json.format == "cyclonedx-json"
        assert len(from_xml.components) == len(from_json.components) == count
        assert _keys(from_xml) == _keys(from_json)
        assert [c.purl for c in from_xml.components] == [c.purl for c in from_json.components]
        assert all(c.purl and c.version for c in from_xml.components)
    laravel = _parsed(pairs[0][0])
    assert laravel.components[0].pointer == "/bom/metadata/component"
    assert laravel.components[1].pointer == "/bom/components/component[1]"
    assert laravel.components[1].purl == "pkg:composer/asm89/stack-cors@1.3.0"
    assert laravel.components[1].namespace == "asm89"
    nested = _parsed(pairs[2][0])
    assert any(
        "/components/component[" in c.pointer.removeprefix("/bom/components/") for c in nested.components
    )


@pytest.fixture
def laravel_xml(corpus: Path) -> str:
    return (corpus / "cyclonedx-bom-examples" / "SBOM" / "laravel-7.12.0" / "bom.1.4.xml").read_text()


@pytest.mark.parametrize(
    ("old", "new", "pointer", "reason"),
    [
        (
            'type="library"',
            'type="bogus"',
            "/bom/components/component[1]",
            "The value 'bogus' is not an element",
        ),
        ("<name><![CDATA[stack-cors]]></name>", "", "/bom/components/component[1]/version", "Expected is"),
        ('version="1"', 'version="one"', "/bom", "'one' is not a valid value"),
        ("<components>", "<components><unknown/>", "/bom/components/unknown", "This element is not expected"),
        (
            "<purl><![CDATA[pkg:composer/asm89/stack-cors@1.3.0]]></purl>",
            "<purl>a</purl><purl>b</purl>",
            "/bom/components/component[1]/purl[2]",
            "This element is not expected",
        ),
    ],
)
def test_invalid_xml_is_refused_with_the_validators_reason(
    laravel_xml: str, old: str, new: str, pointer: str, reason: str
) -> None:
    assert old in laravel_xml
    error = _refused(laravel_xml.replace(old, new, 1), "bom.xml")
    assert error.detail.startswith(f"CycloneDX 1.4 XML schema validation failed at {pointer}: ")
    assert reason in error.detail
    assert error.pointer == pointer


def test_xml_in_other_encodings(laravel_xml: str) -> None:
    latin1 = laravel_xml.replace('encoding="UTF-8"', 'encoding="ISO-8859-1"').replace(
        "cyclonedx-php-composer-demo", "démo"
    )
    for data in (
        latin1.encode("latin-1"),
        laravel_xml.replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16"),
        b"\xef\xbb\xbf" + laravel_xml.encode(),
    ):
        parsed = parse_sbom(data)
        assert len(parsed.components) == 63
    assert parse_sbom(latin1.encode("latin-1")).name == "démo"
    bad = latin1.replace('type="library"', 'type="bogus"', 1).encode("latin-1")
    assert _refused(bad).pointer == "/bom/components/component[1]"


def test_minimal_xml_of_each_version_with_nested_components() -> None:
    for version in SUPPORTED:
        xml = (
            f'<bom xmlns="http://cyclonedx.org/schema/bom/{version}" version="1" '
            'serialNumber="urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79">'
            '<metadata><component type="application"><name>app</name></component></metadata>'
            '<components><component type="library" bom-ref="a"><name>a</name>'
            "<purl>pkg:pypi/Foo_Bar@1.0</purl>"
            '<components><component type="library"><name>b</name><version>2</version>'
            "<cpe>cpe:2.3:a:b:b:2:*:*:*:*:*:*:*</cpe></component></components>"
            "</component></components></bom>"
        )
        parsed = parse_sbom(xml.encode())
        assert (parsed.spec_version, parsed.name, parsed.serial) == (
            version,
            "app",
            "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79",
        )
        app, a, b = parsed.components
        assert app.pointer == "/bom/metadata/component"
        assert (a.purl, a.version, a.bom_ref, a.pointer) == (
            "pkg:pypi/foo-bar@1.0",
            "1.0",
            "a",
            "/bom/components/component",
        )
        assert (b.cpe, b.pointer) == (
            "cpe:2.3:a:b:b:2:*:*:*:*:*:*:*",
            "/bom/components/component/components/component",
        )


@pytest.mark.parametrize(
    ("xml", "reason"),
    [
        (
            b'<bom xmlns="http://cyclonedx.org/schema/bom/1.7" version="1"/>',
            "CycloneDX 1.7 (XML) is not accepted yet",
        ),
        (b'<bom xmlns="http://cyclonedx.org/schema/bom/1.2" version="1"/>', "CycloneDX 1.2 (XML) is too old"),
        (
            b'<bom xmlns="http://cyclonedx.org/schema/bom/9.9" version="1"/>',
            "unknown CycloneDX specVersion '9.9'",
        ),
        (b"<html><body/></html>", "the XML root element is 'html', not a CycloneDX <bom>"),
        (b'<bom xmlns="urn:other"/>', "not a CycloneDX <bom>"),
        (
            b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
            b'xmlns:spdx="http://spdx.org/rdf/terms#"/>',
            "SPDX RDF/XML is not accepted",
        ),
        (b"<bom xmlns='http://cyclonedx.org/schema/bom/1.5'><components>", "not well-formed XML"),
    ],
)
def test_other_xml_is_refused(xml: bytes, reason: str) -> None:
    assert reason in _refused(xml).detail


_LAUGHS = "".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">' for i in range(2, 10))
BILLION_LAUGHS = (
    f'<?xml version="1.0"?><!DOCTYPE bom [<!ENTITY lol1 "lol">{_LAUGHS}]>'
    '<bom xmlns="http://cyclonedx.org/schema/bom/1.5" version="1"><components>'
    '<component type="library"><name>&lol9;</name></component></components></bom>'
)


def test_entity_expansion_is_refused_without_expanding() -> None:
    error = _refused(BILLION_LAUGHS)
    assert "lollollol" not in error.detail
    assert "DOCTYPE" in error.detail or "amplification" in error.detail
    # A small, harmless expansion is refused too: no DOCTYPE at all is accepted.
    small = BILLION_LAUGHS.replace("&lol9;", "&lol2;")
    assert "DOCTYPE" in _refused(small).detail


def test_external_entities_are_neither_fetched_nor_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    for system in (secret.as_uri(), "http://127.0.0.1:9/x"):
        xml = (
            f'<?xml version="1.0"?><!DOCTYPE bom [<!ENTITY xxe SYSTEM "{system}">]>'
            '<bom xmlns="http://cyclonedx.org/schema/bom/1.5" version="1"><components>'
            '<component type="library"><name>&xxe;</name></component></components></bom>'
        )
        error = _refused(xml)
        assert "XML documents with a DOCTYPE (DTD or entity declarations) are not accepted" in error.detail
        assert "TOP-SECRET" not in error.detail


# -- real examples: cyclonedx-bom-examples -------------------------------------------------------


def _example_files(corpus: Path) -> Iterator[Path]:
    for path in sorted((corpus / "cyclonedx-bom-examples").rglob("*")):
        if path.is_file() and path.name.removesuffix(".gz").endswith((".json", ".xml")):
            yield path


def test_every_cyclonedx_example_parses_or_is_refused_for_its_version(corpus: Path) -> None:
    parsed: dict[str, ParsedSbom] = {}
    refused: dict[str, InvalidSbom] = {}
    for path in _example_files(corpus):
        name = str(path.relative_to(corpus / "cyclonedx-bom-examples"))
        result = _parse_file(path)
        if isinstance(result, ParsedSbom):
            parsed[name] = result
        else:
            refused[name] = result
    # 1.1 to 1.3 are refused for their version; the two OBOM bom.json files (1.4) are invalid:
    # a URL holds an unexpanded Maven property, which the 1.4 schema's iri-reference format refuses.
    invalid = {"OBOM/Example-1-Decoupled/bom.json.gz", "OBOM/Example-1-Standalone/bom.json.gz"}
    for name, error in refused.items():
        if name in invalid:
            assert "${project" in error.detail and "is not a 'iri-reference'" in error.detail
            assert error.pointer is not None and error.pointer.endswith("/url")
        else:
            assert " is too old and not accepted" in error.detail, name
    assert invalid <= refused.keys()
    # 82 BOM files: 54 are CycloneDX 1.4 or 1.6 (51 JSON, 4 of them gzipped; 3 XML, 2 gzipped), of
    # which 52 parse; the 28 others (1.1 to 1.3, 11 gzipped) are refused for their version.
    assert len(parsed) == 52 and len(refused) == 30
    assert {p.spec_version for p in parsed.values()} == {"1.4", "1.6"}
    assert sum(len(p.components) for p in parsed.values()) > 2000
    keycloak = parsed["OBOM/Example-1-Decoupled/obom.json"]
    assert keycloak.name == "Keycloak" and keycloak.components[1].cpe


def test_gzip_compressed_uploads_are_refused_plainly(corpus: Path) -> None:
    path = corpus / "cyclonedx-bom-examples" / "SBOM" / "keycloak-10.0.2" / "bom.json.gz"
    assert "gzip-compressed" in _refused(path.read_bytes()).detail


# -- fast iri-reference format check --------------------------------------------------------------


def test_iri_reference_check_agrees_with_jsonschemas(corpus: Path) -> None:
    """The linear-time check agrees with jsonschema's (slow) rfc3987-syntax one on real URLs."""
    slow = Draft7Validator.FORMAT_CHECKER.checkers["iri-reference"][0]
    doc = json.loads(_read(corpus / "cyclonedx-bom-examples/SBOM/laravel-7.12.0/bom.1.4.json"))
    urls = sorted({ref["url"] for c in doc["components"] for ref in c.get("externalReferences", [])})[:15]
    tricky = [
        "",
        "#x",
        "urn:uuid:1",
        "a b",
        "http://x/${y}",
        "http://ex.com/ü/ß?q=é",
        "http://x/\u0085",
        "%zz",
    ]
    for url in [*urls, *tricky]:
        doc = _bom_json(externalReferences=[{"type": "website", "url": url}])
        try:
            parse_sbom(_dump(doc))
            ours = True
        except InvalidSbom:
            ours = False
        assert ours == bool(slow(url)), url
    assert _iri_to_uri("http://ex.com/ü") == "http://ex.com/%C3%BC"
    # rfc3987-syntax refuses IPv6 literals; RFC 3986/3987 allow them.
    parse_sbom(_dump(_bom_json(externalReferences=[{"type": "website", "url": "http://[::1]/x"}])))


# -- linear uniqueItems -------------------------------------------------------------------------


def test_unique_items_is_checked_in_linear_time_with_json_schema_equality() -> None:
    """jsonschema compares arrays of objects pairwise; ``components`` is such an array."""
    many = [
        {"type": "library", "name": f"lib{i}", "version": "1", "purl": f"pkg:npm/lib{i}@1"}
        for i in range(10_000)
    ]
    parsed = parse_sbom(_dump(_bom_json(components=many)))
    assert len(parsed.components) == 10_000 and not parsed.warnings
    twice = [*many[:3], dict(reversed(list(many[1].items())))]  # the same object, keys in another order
    error = _refused(_dump(_bom_json(components=twice)))
    assert error.pointer == "/components/3"
    assert "item 3 repeats an earlier item of an array whose items must be unique" in error.detail
    assert _freeze({"a": [1, {"b": None}]}) == _freeze({"a": [1.0, {"b": None}]})
    assert _freeze([True]) != _freeze([1]) and _freeze({"a": 1}) != _freeze({"a": "1"})
    plain = Draft7Validator({})
    assert list(_unique_items(plain, False, [1, 1], {})) == []
    assert list(_unique_items(plain, True, "not an array", {})) == []
    assert len(list(_unique_items(plain, True, [1, 1.0], {}))) == 1


def test_parsing_from_several_threads() -> None:
    xml = (
        '<bom xmlns="http://cyclonedx.org/schema/bom/{v}" version="1"><components>'
        '<component type="{t}"><name>a</name><purl>pkg:npm/a@1</purl></component></components></bom>'
    )
    jobs = [(v, t) for v in SUPPORTED for t in ("library", "bogus")] * 8

    def run(job: tuple[str, str]) -> str:
        try:
            return parse_sbom(xml.format(v=job[0], t=job[1]).encode()).components[0].purl or ""
        except InvalidSbom as error:
            return error.pointer or ""

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(run, jobs))
    assert results == ["pkg:npm/a@1" if t == "library" else "/bom/components/component" for _, t in jobs]


# -- SPDX ---------------------------------------------------------------------------------------


def _spdx_json_files(corpus: Path) -> list[Path]:
    root = corpus / "spdx-examples"
    files = [p for p in root.rglob("*.json") if "spdx3" not in p.name and "spdx3.0" not in p.parts]
    return sorted(files)


def test_spdx_2_json_examples_parse_with_packages_and_purls(corpus: Path) -> None:
    # spdx-tools finds two official examples invalid (and the spec agrees: FilesAnalyzed false
    # forbids licenseInfoFromFiles and contained files).
    invalid = {
        "ACME-v2.3.spdx.json": "license_info_from_files must be None if files_analyzed is False",
        "appbomination.spdx.json": "package must contain no elements if files_analyzed is False",
    }
    parsed: list[ParsedSbom] = []
    for path in _spdx_json_files(corpus):
        if path.name in invalid:
            error = _refused(path.read_bytes(), path.name)
            assert error.detail.startswith("SPDX validation (spdx-tools) found ")
            assert invalid[path.name] in error.detail
            assert error.pointer == "/packages/0"
            continue
        result = parse_sbom(path.read_bytes(), path.name)
        assert result.format == "spdx-json" and result.spec_version in ("2.2", "2.3")
        assert result.components and result.serial
        for i, component in enumerate(result.components):
            assert component.pointer == f"/packages/{i}"
            assert component.bom_ref and component.bom_ref.startswith("SPDXRef-")
        parsed.append(result)
    assert len(parsed) == 16
    assert sum(1 for p in parsed for c in p.components if c.purl) == 11
    assert {p.spec_version for p in parsed} == {"2.2", "2.3"}


def test_spdx_packages_map_to_components(corpus: Path) -> None:
    root = corpus / "spdx-examples"
    deps = parse_sbom(
        (root / "presentations/OSS-NA-2023/SPDXVersion2.3/03-SBOMwDependency.json").read_bytes()
    )
    assert deps.name == "SPDX Tools v1.1.5 Java SBOM"
    assert deps.serial == "http://spdx.org/spdxdocs/tools-java/v1.1.5-444504E0-4F89-41D3-9A0C-0305E82C3301"
    assert deps.components == (
        Component(
            purl="pkg:github/spdx/tools-java@2235d5d7f7fe46ce1e0d54b7831c5681633b25cc",
            name="tools-java",
            version="1.5.1",
            ecosystem="github",
            cpe=None,
            bom_ref="SPDXRef-Package",
            pointer="/packages/0",
            namespace="spdx",
        ),
        Component(
            purl="pkg:maven/org.webjars.npm/xlsx@0.16.6",
            name="xlsx",
            version="0.16.6",
            ecosystem="maven",
            cpe=None,
            bom_ref="SPDXRef-xlsx",
            pointer="/packages/1",
            namespace="org.webjars.npm",
        ),
    )
    rust = parse_sbom((root / "software/example11/spdx2.3/sbom.spdx.json").read_bytes())
    assert [c.purl for c in rust.components] == [
        "pkg:deb/debian/libselinux1-dev@3.1-3?arch=s390x",
        "pkg:cargo/hyper@0.14",
        "pkg:cargo/tokio@1.19.2",
        "pkg:cargo/pretty_env_logger@0.4.0",
    ]
    assert [c.ecosystem for c in rust.components] == ["deb", "cargo", "cargo", "cargo"]


@pytest.fixture
def spdx_doc(corpus: Path) -> dict[str, Any]:
    path = corpus / "spdx-examples/presentations/OSS-NA-2023/SPDXVersion2.3/03-SBOMwDependency.json"
    doc: dict[str, Any] = json.loads(path.read_text())
    return doc


def test_spdx_refs_cpes_and_several_purls(spdx_doc: dict[str, Any]) -> None:
    doc = copy.deepcopy(spdx_doc)
    refs = doc["packages"][1]["externalRefs"]
    refs.append(
        {"referenceCategory": "SECURITY", "referenceType": "cpe22Type", "referenceLocator": "cpe:/a:x:y:1"}
    )
    refs.append(
        {
            "referenceCategory": "SECURITY",
            "referenceType": "cpe23Type",
            "referenceLocator": "cpe:2.3:a:sheetjs:xlsx:0.16.6:*:*:*:*:*:*:*",
        }
    )
    refs.append(
        {
            "referenceCategory": "PACKAGE-MANAGER",
            "referenceType": "purl",
            "referenceLocator": "pkg:npm/xlsx@0.16.6",
        }
    )
    parsed = parse_sbom(_dump(doc))
    xlsx = parsed.components[1]
    assert xlsx.cpe == "cpe:2.3:a:sheetjs:xlsx:0.16.6:*:*:*:*:*:*:*"
    assert xlsx.purl == "pkg:maven/org.webjars.npm/xlsx@0.16.6"
    assert "1 component with more than one purl (the first is used): /packages/1" in parsed.warnings
    del refs[-2:]
    assert parse_sbom(_dump(doc)).components[1].cpe == "cpe:/a:x:y:1"


def test_invalid_spdx_is_refused_with_spdx_tools_messages(spdx_doc: dict[str, Any]) -> None:
    bad_id = copy.deepcopy(spdx_doc)
    bad_id["packages"][1]["SPDXID"] = "SPDXRef-xl_sx"
    error = _refused(_dump(bad_id))
    assert error.detail.startswith("SPDX validation (spdx-tools) found 2 problem(s): ")
    assert '[SPDXRef-xl_sx] spdx_id must only contain letters, numbers, "." and "-"' in error.detail
    assert 'did not find the referenced spdx_id "SPDXRef-xlsx"' in error.detail
    assert error.pointer == "/packages/1"

    bad_purl = copy.deepcopy(spdx_doc)
    bad_purl["packages"][1]["externalRefs"][0]["referenceLocator"] = "notapurl"
    error = _refused(_dump(bad_purl))
    assert 'externalPackageRef locator of type "purl" must conform' in error.detail
    assert error.pointer == "/packages/1"

    wrong_type = copy.deepcopy(spdx_doc)
    wrong_type["packages"][1]["name"] = 5
    error = _refused(_dump(wrong_type))
    assert error.detail.startswith("spdx-tools could not parse the SPDX document: ")
    assert "violates type hint" in error.detail

    no_creation = copy.deepcopy(spdx_doc)
    del no_creation["creationInfo"]
    assert "CreationInfo does not exist" in _refused(_dump(no_creation)).detail

    wrong_shape = copy.deepcopy(spdx_doc)
    wrong_shape["packages"] = ["x"]
    assert "arrays of objects" in _refused(_dump(wrong_shape)).detail

    many = copy.deepcopy(spdx_doc)
    for i in range(7):
        many["packages"][0].setdefault("externalRefs", []).append(
            {"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": f"bad{i}"}
        )
    assert "(and 2 more)" in _refused(_dump(many)).detail


def test_other_spdx_versions_and_forms_are_refused(corpus: Path, spdx_doc: dict[str, Any]) -> None:
    old = dict(spdx_doc, spdxVersion="SPDX-2.1")
    error = _refused(_dump(old))
    assert "SPDX version 'SPDX-2.1' is not accepted" in error.detail and error.pointer == "/spdxVersion"
    spdx3 = [
        p
        for p in sorted((corpus / "spdx-examples").rglob("*.json"))
        if "spdx3.0" in p.parts or p.name.endswith(".spdx3.json")
    ]
    tag_value = sorted((corpus / "spdx-examples").rglob("*.spdx"))
    assert len(spdx3) == 26 and len(tag_value) == 12
    for path in spdx3:
        assert "SPDX 3 (JSON-LD) documents are not accepted yet" in _refused(path.read_bytes()).detail
    for path in tag_value:
        error = _refused(path.read_bytes(), path.name)
        assert "SPDX tag-value documents are not accepted" in error.detail and error.pointer == "line 1"


# -- purl lists ---------------------------------------------------------------------------------


def test_purl_list_text() -> None:
    text = (
        "# production dependencies\r\n"
        "pkg:pypi/Django@4.2.1\r\n"
        "\r\n"
        "   pkg:npm/%40babel/core@7.22.0   \r\n"
        "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1?type=jar\n"
        "pkg:generic/openssl\n"
        "pkg:pypi/django@4.2.1\n"
    )
    parsed = parse_sbom(text.encode(), "deps.txt")
    assert (parsed.format, parsed.spec_version, parsed.name, parsed.serial) == ("purl-list", None, None, None)
    assert [(c.purl, c.pointer) for c in parsed.components] == [
        ("pkg:pypi/django@4.2.1", "line 2"),
        ("pkg:npm/%40babel/core@7.22.0", "line 4"),
        ("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1?type=jar", "line 5"),
        ("pkg:generic/openssl", "line 6"),
    ]
    babel = parsed.components[1]
    assert (babel.name, babel.namespace, babel.version, babel.ecosystem) == (
        "core",
        "@babel",
        "7.22.0",
        "npm",
    )
    assert "1 component without a version: line 6" in parsed.warnings
    assert "1 component repeating an earlier one (merged into it): line 7" in parsed.warnings


def test_purl_list_json_array() -> None:
    parsed = parse_sbom(_dump(["pkg:cargo/tokio@1.19.2", "pkg:golang/golang.org/x/text@v0.3.7"]))
    assert parsed.format == "purl-list"
    assert [(c.purl, c.pointer, c.namespace) for c in parsed.components] == [
        ("pkg:cargo/tokio@1.19.2", "/0", None),
        ("pkg:golang/golang.org/x/text@v0.3.7", "/1", "golang.org/x"),
    ]
    error = _refused(_dump(["pkg:cargo/tokio@1", "pkg:"]))
    assert error.pointer == "/1" and error.detail.startswith("item 1: 'pkg:' is not a valid package URL")
    error = _refused(_dump(["pkg:cargo/tokio@1", {"purl": "pkg:cargo/x"}]))
    assert error.pointer == "/1" and "item 1 of the JSON array is a dict" in error.detail
    assert "the JSON array is empty" in _refused(b"[]").detail


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ("pkg:npm/left-pad@1.3.0\n\n# c\nnpm/lodash@4\n", 4, 'purl is missing the required "pkg" scheme'),
        ("pkg:npm/left-pad@1.3.0\npkg:npm\n", 2, "purl is missing the required type component"),
        ("pkg:npm/left-pad@1.3.0\npkg:npm/foo bar@1\n", 2, "contains whitespace"),
        ("pkg:npm/a@1\npkg:1npm/a@1\n", 2, "purl type cannot start with a number"),
    ],
)
def test_a_bad_purl_line_is_named_by_number(text: str, line: int, reason: str) -> None:
    error = _refused(text)
    assert error.pointer == f"line {line}"
    assert error.detail.startswith(f"line {line}: ")
    assert "is not a valid package URL" in error.detail and reason in error.detail


# -- anything else, and the limits --------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "filename", "reason"),
    [
        (b"", None, "the document is empty"),
        (b"  \n\t ", None, "the document is empty"),
        (b"# only a comment\n\n", "deps.txt", "only comments and blank lines"),
        (b"hello world\n", "notes.md", "not a recognized SBOM format"),
        (b"hello world\n", None, "not a recognized SBOM format"),
        (b"name,version\nfoo,1\n", "deps.xml", "the file name 'deps.xml' suggests CycloneDX XML"),
        (b'{"vulnerabilities": []}', "x.spdx.json", "neither CycloneDX (no 'bomFormat') nor SPDX"),
        (b'{"bomFormat": "CycloneDX", ', "bom.json", "not valid JSON: Expecting property name"),
        (b"\xff\xfe\xfd garbage \x80", "x.txt", "neither XML nor UTF-16 text"),
        (b"\x80abc", "deps.purls", "the file name 'deps.purls' suggests a list of package URLs"),
        (b"[" * 100_000 + b"]" * 100_000, None, "nested too deeply"),
    ],
)
def test_anything_else_is_refused_saying_what_was_expected(
    data: bytes, filename: str | None, reason: str
) -> None:
    error = _refused(data, filename)
    assert reason in error.detail
    if "recognized" in reason or "suggests" in reason or "neither CycloneDX" in reason:
        assert "expected a CycloneDX 1.4, 1.5 or 1.6 BOM (JSON or XML), an SPDX 2.3" in error.detail


def test_utf16_json_and_utf8_bom_are_read() -> None:
    doc = json.dumps(_bom_json(components=[{"type": "library", "name": "x", "purl": "pkg:npm/x@1"}]))
    for data in (doc.encode("utf-16"), b"\xef\xbb\xbf" + doc.encode(), doc.encode("utf-32")):
        assert parse_sbom(data).components[0].purl == "pkg:npm/x@1"


def test_size_and_component_limits() -> None:
    assert MAX_SBOM_BYTES == 50 * 1024 * 1024 and MAX_SBOM_COMPONENTS == 200_000
    error = _refused(b"pkg:npm/a@1\n" * 10, max_bytes=100)
    assert error.detail == "the document is 120 bytes, over the limit of 100 bytes"
    error = _refused(b"x" * (MAX_SBOM_BYTES + 1))
    assert "over the limit of 52,428,800 bytes (50 MiB)" in error.detail
    purls = "".join(f"pkg:npm/a{i}@1\n" for i in range(4))
    assert len(parse_sbom(purls.encode(), max_components=4).components) == 4
    too_many = "the document lists more than 3 components, the limit"
    assert too_many in _refused(purls, max_components=3).detail
    nested = _bom_json(
        components=[
            {
                "type": "library",
                "name": "a",
                "components": [{"type": "library", "name": f"b{i}"} for i in range(3)],
            }
        ]
    )
    assert too_many in _refused(_dump(nested), max_components=3).detail


def test_component_limit_applies_to_spdx_and_xml(spdx_doc: dict[str, Any]) -> None:
    assert "lists more than 1 component, the limit" in _refused(_dump(spdx_doc), max_components=1).detail
    xml = (
        '<bom xmlns="http://cyclonedx.org/schema/bom/1.6" version="1"><components>'
        + '<component type="library"><name>a</name></component>' * 3
        + "</components></bom>"
    )
    assert "more than 2 components" in _refused(xml, max_components=2).detail
    assert len(parse_sbom(xml.encode(), max_components=3).components) == 1  # merged duplicates
