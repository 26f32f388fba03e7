"""Importers: OSV, SARIF, CSAF and CVE JSON 5 documents into findings.

Real documents come from the shared corpus (``corpus`` fixture); SARIF logs are
built here in the shapes CodeQL, Semgrep and Bandit emit and validated against
the official SARIF 2.1.0 schema from the corpus before import.
"""

from __future__ import annotations

import copy
import json
import random
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from clearinghouse.domain import _vers
from clearinghouse.intake import ClaimedImpact, FindingSubmission, Generator, PackageRef, SourceFormat
from clearinghouse.intake.importers import (
    ItemError,
    ParsedItem,
    UnsupportedDocument,
    _csaf,
    _detect,
    detect_format,
    iter_files,
    parse_document,
)
from clearinghouse.intake.importers import _osv as osv_module

Outcome = ParsedItem | ItemError


# -- helpers -------------------------------------------------------------------------------------


def outcomes(doc: dict[str, Any] | bytes, filename: str | None = None, **kwargs: Any) -> list[Outcome]:
    data = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
    return list(parse_document(data, filename, **kwargs))


def items(result: list[Outcome]) -> list[FindingSubmission]:
    return [o.submission for o in result if isinstance(o, ParsedItem)]


def errors(result: list[Outcome]) -> list[ItemError]:
    return [o for o in result if isinstance(o, ItemError)]


def only_items(
    doc: dict[str, Any] | bytes, filename: str | None = None, **kwargs: Any
) -> list[FindingSubmission]:
    result = outcomes(doc, filename, **kwargs)
    assert errors(result) == []
    return items(result)


def resolve(doc: Any, pointer: str) -> Any:
    """RFC 6901: the value ``pointer`` names in ``doc`` (KeyError/IndexError when it names nothing)."""
    if pointer == "":
        return doc
    assert pointer.startswith("/"), pointer
    for raw in pointer[1:].split("/"):
        token = raw.replace("~1", "/").replace("~0", "~")
        doc = doc[int(token)] if isinstance(doc, list) else doc[token]
    return doc


def assert_indexes(result: list[Outcome]) -> None:
    assert [o.index for o in result] == list(range(len(result)))


# -- format detection and unreadable input -------------------------------------------------------


NATIVE: dict[str, Any] = {
    "title": "SQL injection in search",
    "package": {"purl": "pkg:pypi/acme-web@1.2.0"},
    "impact": {"claimed": "data_tampering"},
    "generator": {"tool": "acme-scanner"},
}


@pytest.mark.parametrize(
    ("data", "filename", "expected"),
    [
        (json.dumps(NATIVE).encode(), None, SourceFormat.NATIVE),
        (yaml.safe_dump(NATIVE).encode(), "finding.yaml", SourceFormat.NATIVE),
        (b'{"id": "GHSA-xxxx-xxxx-xxxx", "modified": "2024-01-01T00:00:00Z"}', None, SourceFormat.OSV),
        (b"id: PYSEC-2024-1\nmodified: 2024-01-01T00:00:00Z\n", "x.yaml", SourceFormat.OSV),
        (b"{id: PYSEC-2024-1, modified: 2024-01-01}", "flow.yml", SourceFormat.OSV),  # YAML, not JSON
        (b'{"version": "2.1.0", "runs": []}', "scan.sarif", SourceFormat.SARIF),
        (b'{"document": {"csaf_version": "2.0"}}', None, SourceFormat.CSAF),
        (
            b'{"dataType": "CVE_RECORD", "dataVersion": "5.1", "cveMetadata": {}, "containers": {}}',
            None,
            SourceFormat.CVE5,
        ),
    ],
)
def test_detect_format(data: bytes, filename: str | None, expected: SourceFormat) -> None:
    assert detect_format(data, filename) is expected


@pytest.mark.parametrize(
    ("data", "filename", "reason"),
    [
        (b"", None, "empty"),
        (b"\xff\xfe\x00garbage", None, "not UTF-8"),
        (b'{"id": "GHSA-1", "affected": [', "x.json", "not valid JSON"),
        (b'{"id": 1,}', None, "not valid JSON"),
        (b"id: [unclosed\n", "x.yaml", "neither JSON nor valid YAML"),
        (b"just some words", None, "got string"),
        (b"[1, 2, 3]", None, "got array"),
        (b'{"hello": "world"}', None, "top-level keys: hello"),
        (b'{"version": "2.2", "runs": []}', None, "SARIF version '2.2' is not supported"),
        (b'{"version": "1.0.0", "runs": []}', None, "SARIF version '1.0.0' is not supported"),
        (b'{"document": {"csaf_version": "1.2"}}', None, "CSAF version '1.2' is not supported"),
        (b'{"dataType": "CVE_RECORD", "dataVersion": "4.0", "cveMetadata": {}}', None, "only CVE JSON 5.x"),
        (b'{"data_type": "CVE", "data_version": "4.0"}', None, "CVE JSON 4.0 is not supported"),
        (b'{"format": "NVD_CVE", "version": "2.0", "vulnerabilities": []}', None, "NVD API response"),
        (b'{"id": "OSV-1", "modified": "x", "schema_version": "2.0.0"}', None, "OSV schema_version"),
    ],
)
def test_unsupported_documents_are_refused_with_a_reason(
    data: bytes, filename: str | None, reason: str
) -> None:
    with pytest.raises(UnsupportedDocument) as exc:
        detect_format(data, filename)
    assert reason in exc.value.detail
    assert outcomes(data, filename) == [ItemError(0, "", exc.value.detail)]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b"a: " + b"[" * 100_000 + b"]" * 100_000, "nest"),  # libyaml: "exceeded maximum nesting depth"
        (b"a: &x [1, 2]\nb: [*x, *x]\n", "aliases"),  # no "billion laughs"
    ],
)
def test_hostile_documents_are_refused_not_crashes(data: bytes, reason: str) -> None:
    with pytest.raises(UnsupportedDocument, match=reason):
        detect_format(data)
    (error,) = outcomes(data)
    assert isinstance(error, ItemError) and error.pointer == "" and reason in error.detail


def test_yaml_timestamps_stay_strings(corpus: Path) -> None:
    path = corpus / "pypa-advisory-database/vulns/zstd/PYSEC-2023-121.yaml"  # unquoted timestamps
    doc = _detect.load(path.read_bytes(), path.name)
    assert doc["modified"] == "2023-07-25T16:31:58.309647Z"
    assert doc["published"] == "2023-03-31T20:15:00Z"
    assert not isinstance(yaml.safe_load(path.read_text())["published"], str)  # what safe_load would do


def test_native_finding_passes_through_and_errors_point_at_the_field() -> None:
    (finding,) = only_items(NATIVE)
    assert finding.package.purl == "pkg:pypi/acme-web@1.2.0"
    assert finding.origin.format is SourceFormat.NATIVE

    bad = copy.deepcopy(NATIVE)
    bad["package"]["purl"] = "not-a-purl"
    assert [(e.index, e.pointer) for e in errors(outcomes(bad))] == [(0, "/package/purl")]

    no_generator = {k: v for k, v in NATIVE.items() if k != "generator"}
    assert errors(outcomes(no_generator))[0].pointer == "/generator"
    (filled,) = only_items(no_generator, default_generator=Generator(tool="cli-import", organization="Acme"))
    assert filled.generator.tool == "cli-import"


# -- OSV -----------------------------------------------------------------------------------------


def _osv_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.json") if p.name != "MANIFEST.json")


def _check_osv_record(doc: dict[str, Any], result: list[Outcome]) -> int:
    """The findings keep the record's id, aliases and each affected entry's ranges/versions."""
    assert errors(result) == [], (doc["id"], errors(result))
    assert_indexes(result)
    affected = [a for a in doc["affected"] if a.get("package")]
    findings = items(result)
    assert len(findings) == len(affected)
    for entry, finding in zip(affected, findings, strict=True):
        assert finding.aliases[0] == doc["id"]
        assert set(doc.get("aliases", [])) <= set(finding.aliases)
        assert finding.origin.format is SourceFormat.OSV and finding.origin.document_id == doc["id"]
        assert finding.generator.tool == "osv-import"
        if "purl" in entry["package"]:
            assert finding.package.purl == entry["package"]["purl"]
        vers = finding.package.vers
        assert vers is not None
        ranges = [r for r in entry.get("ranges", []) if r["type"] != "GIT"]
        if ranges:
            for rng in ranges:
                for event in rng["events"]:
                    (kind, version), *_ = event.items()
                    if kind == "fixed":
                        assert f"<{version}" in vers
                    elif kind == "last_affected":
                        assert f"<={version}" in vers
                    elif kind == "introduced" and str(version) != "0":
                        assert f">={version}" in vers
        else:
            assert set(vers.split("/", 1)[1].split("|")) == {str(v) for v in entry["versions"]}
        if doc.get("database_specific", {}).get("cwe_ids"):
            assert finding.cwe == doc["database_specific"]["cwe_ids"][:10]
    return len(findings)


def test_every_ghsa_sample_record_imports(corpus: Path) -> None:
    files = _osv_files(corpus / "ghsa-sample")
    assert len(files) == 39
    total = 0
    for path in files:
        doc = json.loads(path.read_bytes())
        total += _check_osv_record(doc, outcomes(path.read_bytes(), path.name))
    assert total == 85


def test_a_sample_of_pypa_records_imports(corpus: Path) -> None:
    files = sorted((corpus / "pypa-advisory-database/vulns").rglob("*.yaml"))
    sample = random.Random(14409).sample(files, 300)
    imported = 0
    for path in sample:
        doc = _detect.load(path.read_bytes(), path.name)
        result = outcomes(path.read_bytes(), path.name)
        if doc.get("withdrawn"):
            assert [e.pointer for e in errors(result)] == ["/withdrawn"]
            continue
        _check_osv_record(doc, result)
        imported += 1
    assert imported >= 290


def test_pypa_record_maps_as_expected(corpus: Path) -> None:
    path = corpus / "pypa-advisory-database/vulns/jinja2/PYSEC-2014-8.yaml"
    (finding,) = only_items(path.read_bytes(), path.name)
    assert finding.package.purl == "pkg:pypi/jinja2"
    assert finding.package.vers == "vers:pypi/<2.7.2"  # the range wins over the enumerated versions
    assert finding.aliases == ["PYSEC-2014-8", "CVE-2014-1402", "GHSA-8r7q-cvjq-x353"]
    assert finding.title.startswith("The default configuration for bccache")
    assert finding.generator == Generator(tool="osv-import", organization="PYSEC")
    assert len(finding.references) == 18


def test_ghsa_record_keeps_cwe_cvss_and_derives_impact(corpus: Path) -> None:
    path = (
        corpus
        / "ghsa-sample/golang-vulndb-testdata/internal/genericosv/testdata/osv/GHSA-g5gj-9ggf-9vmq.json"
    )
    (finding,) = only_items(path.read_bytes(), path.name)
    assert finding.package.purl == "pkg:golang/github.com/cloudflare/cfrpki/cmd/octorpki"
    assert finding.package.vers == "vers:golang/<1.4.0"
    assert finding.cwe == ["CWE-400", "CWE-835"]
    assert finding.impact.claimed is ClaimedImpact.DENIAL_OF_SERVICE
    assert finding.impact.cvss_vector == "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:N/A:H"
    assert finding.impact.description == "Severity: MODERATE"


def test_jenkins_ghsa_splits_into_one_finding_per_affected_entry(corpus: Path) -> None:
    path = next((corpus / "ghsa-sample").rglob("GHSA-6f9g-cxwr-q5jr.json"))
    findings = only_items(path.read_bytes(), path.name)
    assert [f.package.vers for f in findings] == [
        "vers:maven/>=1.606|<2.426.3",
        "vers:maven/>=2.427|<2.442",
        "vers:maven/2.441",
    ]
    assert {f.package.purl for f in findings} == {"pkg:maven/org.jenkins-ci.main/jenkins-core"}
    assert findings[0].title.startswith("Arbitrary file read")


def test_oss_fuzz_records_name_the_affected_commit_when_they_list_no_versions(corpus: Path) -> None:
    counts = {"files": 0, "items": 0, "errors": 0}
    with tarfile.open(corpus / "osv-more-ecosystems/oss-fuzz-vulns/vulns.tar.gz") as tar:
        members = [m for m in tar if m.isfile() and m.name.endswith(".yaml")][:400]
        for member in members:
            extracted = tar.extractfile(member)
            assert extracted is not None
            data = extracted.read()
            doc = _detect.load(data, member.name)
            result = outcomes(data, member.name)
            assert_indexes(result)
            counts["files"] += 1
            counts["items"] += len(items(result))
            counts["errors"] += len(errors(result))
            for error in errors(result):
                resolve(doc, error.pointer)
            for finding in items(result):
                assert finding.package.purl.startswith("pkg:generic/")
                assert finding.package.vers or finding.package.version
                if finding.package.version:  # a git-only record: the introducing commit, in its repository
                    assert finding.source is not None and finding.source.commit == finding.package.version
    assert counts["items"] >= 0.95 * counts["files"]


def test_psf_records_without_package_are_item_errors(corpus: Path) -> None:
    path = corpus / "osv-more-ecosystems/psf-advisory-database/advisories/python/PSF-2008-1.json"
    (error,) = outcomes(path.read_bytes(), path.name)
    assert isinstance(error, ItemError)
    assert error.pointer == "/affected/0" and "no 'package'" in error.detail


def _osv(*affected: Any, **extra: Any) -> dict[str, Any]:
    return {
        "id": "TEST-2024-1",
        "modified": "2024-01-01T00:00:00Z",
        "summary": "A bug",
        "affected": list(affected),
        **extra,
    }


def _pkg(ecosystem: str, name: str, **entry: Any) -> dict[str, Any]:
    return {"package": {"ecosystem": ecosystem, "name": name}, "versions": ["1.0"], **entry}


@pytest.mark.parametrize(
    ("ecosystem", "name", "purl"),
    [
        ("PyPI", "Django_Rest", "pkg:pypi/django-rest"),
        ("npm", "@babel/core", "pkg:npm/%40babel/core"),
        ("npm", "lodash", "pkg:npm/lodash"),
        ("Maven", "org.apache.logging.log4j:log4j-core", "pkg:maven/org.apache.logging.log4j/log4j-core"),
        ("Go", "golang.org/x/net", "pkg:golang/golang.org/x/net"),
        ("crates.io", "tokio", "pkg:cargo/tokio"),
        ("RubyGems", "rails", "pkg:gem/rails"),
        ("NuGet", "Newtonsoft.Json", "pkg:nuget/Newtonsoft.Json"),
        ("Packagist", "symfony/http-kernel", "pkg:composer/symfony/http-kernel"),
        ("Hex", "plug", "pkg:hex/plug"),
        ("Pub", "http", "pkg:pub/http"),
        ("Debian:11", "openssl", "pkg:deb/debian/openssl?distro=debian-11"),
        ("Alpine:v3.16", "curl", "pkg:apk/alpine/curl?distro=alpine-3.16"),
        ("OSS-Fuzz", "libxml2", "pkg:generic/libxml2"),
    ],
)
def test_osv_purl_from_ecosystem_and_name(ecosystem: str, name: str, purl: str) -> None:
    (finding,) = only_items(_osv(_pkg(ecosystem, name)))
    assert finding.package.purl == purl


@pytest.mark.parametrize(
    ("entry", "vers"),
    [
        (
            {"ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.0"}]}]},
            "vers:pypi/<2.0",
        ),
        ({"ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}]}, "vers:pypi/*"),
        ({"ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "1.0"}]}]}, "vers:pypi/>=1.0"),
        (
            {"ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "1.0"}, {"last_affected": "1.4"}]}]},
            "vers:pypi/>=1.0|<=1.4",
        ),
        (  # out of order across ranges, overlapping: sorted and merged with PEP 440 ordering
            {
                "ranges": [
                    {"type": "ECOSYSTEM", "events": [{"introduced": "3.0"}, {"fixed": "3.2"}]},
                    {"type": "ECOSYSTEM", "events": [{"introduced": "1.0"}, {"fixed": "1.10"}]},
                    {"type": "ECOSYSTEM", "events": [{"introduced": "1.5"}, {"fixed": "1.9"}]},
                ]
            },
            "vers:pypi/>=1.0|<1.10|>=3.0|<3.2",
        ),
        (  # two introduced in a row: the first stays open
            {
                "ranges": [
                    {
                        "type": "SEMVER",
                        "events": [{"introduced": "1.0"}, {"introduced": "2.0"}, {"fixed": "2.1"}],
                    }
                ]
            },
            "vers:pypi/>=1.0",
        ),
        ({"versions": ["1.1", "1.0", "1.0rc1"]}, "vers:pypi/1.0rc1|1.0|1.1"),
        (
            {"versions": ["not a version", "1.0"]},
            "vers:pypi/not%20a%20version|1.0",
        ),  # unsortable: source order
    ],
)
def test_osv_ranges_become_vers(entry: dict[str, Any], vers: str) -> None:
    doc = _osv({"package": {"ecosystem": "PyPI", "name": "acme"}, **entry})
    (finding,) = only_items(doc)
    assert finding.package.vers == vers


def test_osv_git_only_entry_names_the_affected_commit() -> None:
    commit = "1df58f77820b5feb747d34cc6aff26276db8b6dd"
    git = {
        "type": "GIT",
        "repo": "https://github.com/acme/lib.git",
        "events": [{"introduced": commit}, {"fixed": "f" * 40}],
    }
    (finding,) = only_items(_osv({"package": {"ecosystem": "OSS-Fuzz", "name": "lib"}, "ranges": [git]}))
    assert finding.package.version == commit and finding.package.vers is None
    assert finding.source is not None
    assert (finding.source.repo, finding.source.commit) == ("https://github.com/acme/lib.git", commit)

    # Too many versions to write as vers (2,000 characters): the commit instead.
    many = [f"release-{i}.0.0" for i in range(300)]
    entry = {"package": {"ecosystem": "OSS-Fuzz", "name": "lib"}, "ranges": [git], "versions": many}
    (finding,) = only_items(_osv(entry))
    assert finding.package.version == commit

    # ... and with no commit either, the error points at the versions.
    entry = {"package": {"ecosystem": "OSS-Fuzz", "name": "lib"}, "versions": many}
    (error,) = errors(outcomes(_osv(entry)))
    assert error.pointer == "/affected/0/versions" and "2000" in error.detail


def test_osv_default_generator_replaces_the_import_generator() -> None:
    mine = Generator(tool="feed-mirror", organization="Acme CERT")
    (finding,) = only_items(_osv(_pkg("PyPI", "acme")), default_generator=mine)
    assert finding.generator == mine


def test_osv_records_with_nothing_to_import() -> None:
    withdrawn = _osv(_pkg("PyPI", "acme"), withdrawn="2024-02-01T00:00:00Z")
    assert [(e.pointer, "withdrawn" in e.detail) for e in errors(outcomes(withdrawn))] == [
        ("/withdrawn", True)
    ]
    assert [e.pointer for e in errors(outcomes(_osv()))] == ["/affected"]
    nothing = _osv({"package": {"ecosystem": "PyPI", "name": "acme"}})
    assert [e.pointer for e in errors(outcomes(nothing))] == ["/affected/0"]


def test_osv_malformed_items_point_at_the_bad_field_and_good_items_still_come_out() -> None:
    doc = _osv(
        _pkg("PyPI", "good-one"),
        {"package": {"ecosystem": "PyPI", "name": 123}, "versions": ["1.0"]},
        _pkg("PyPI", "good-two"),
        {
            "package": {"ecosystem": "PyPI", "name": "x"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, "fixed"]}],
        },
        _pkg("Maven", "no-colon"),
        _pkg("Cobol", "ledger"),
        {
            "package": {"ecosystem": "PyPI", "name": "x"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"broken": "1"}]}],
        },
        {"package": {"purl": "pkg:"}, "versions": ["1"]},
        "not an object",
    )
    result = outcomes(doc)
    assert_indexes(result)
    assert [f.package.purl for f in items(result)] == ["pkg:pypi/good-one", "pkg:pypi/good-two"]
    assert [(e.index, e.pointer) for e in errors(result)] == [
        (1, "/affected/1/package/name"),
        (3, "/affected/3/ranges/0/events/1"),
        (4, "/affected/4/package/name"),
        (5, "/affected/5/package/ecosystem"),
        (6, "/affected/6/ranges/0/events/0/broken"),
        (7, "/affected/7/package/purl"),
        (8, "/affected/8"),
    ]
    for error in errors(result):
        resolve(doc, error.pointer)
    assert "expected a string, got number" in errors(result)[0].detail


def test_osv_validation_failures_point_at_the_source_field() -> None:
    doc = _osv(_pkg("PyPI", "acme"), database_specific={"cwe_ids": ["CWE-79", "NVD-CWE-Other", "CWE-abc"]})
    (error,) = errors(outcomes(doc))
    assert error.pointer == "/database_specific/cwe_ids/2"  # NVD-CWE-* placeholders are dropped, not errors
    assert error.detail == "'CWE-abc' is not a CWE id like CWE-79"

    doc = _osv(_pkg("PyPI", "acme"), aliases="CVE-2024-1")  # a document-level field: one error, no items
    assert [(e.index, e.pointer) for e in outcomes(doc)] == [(0, "/aliases")]

    doc = _osv(_pkg("PyPI", "acme"), summary="   ", details="")
    (finding,) = only_items(doc)
    assert finding.title == "TEST-2024-1"


def test_osv_text_is_clamped_to_the_native_limits() -> None:
    doc = _osv(
        _pkg("PyPI", "acme"),
        summary="x" * 600,
        aliases=[f"CVE-2024-{i}" for i in range(80)],
        references=[{"type": "WEB", "url": f"https://example.org/{i}"} for i in range(150)],
        database_specific={"cwe_ids": [f"CWE-{i}" for i in range(1, 15)]},
    )
    (finding,) = only_items(doc)
    assert len(finding.title) == 500 and finding.title.endswith("…")
    # The document's own id is provenance, not an alias (TEST is no public registry).
    assert len(finding.aliases) == 50 and finding.aliases[0] == "CVE-2024-0"
    assert finding.origin.document_id == "TEST-2024-1"
    assert len(finding.references) == 100
    assert len(finding.cwe) == 10


# -- SARIF ---------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def sarif_schema(request: pytest.FixtureRequest) -> jsonschema.protocols.Validator | None:
    """The official SARIF 2.1.0 schema from the corpus; None without the corpus (the imports still run)."""
    try:
        corpus: Path = request.getfixturevalue("corpus")
    except pytest.skip.Exception:
        return None
    schema = json.loads((corpus / "sarif-schema/sarif-2.1/schema/sarif-schema-2.1.0.json").read_bytes())
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


@pytest.fixture
def valid_sarif(sarif_schema: jsonschema.protocols.Validator | None) -> Any:
    """Checks a log against the SARIF 2.1.0 schema (when the corpus is there) and gives it back."""

    def check(log: dict[str, Any]) -> dict[str, Any]:
        if sarif_schema is not None:
            sarif_schema.validate(log)
        return log

    return check


COMMIT = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"


def codeql_log() -> dict[str, Any]:
    """The shape ``codeql database analyze --format=sarif-latest`` writes (rules in query-pack extensions)."""
    sql_rule = {
        "id": "py/sql-injection",
        "name": "py/sql-injection",
        "shortDescription": {"text": "SQL query built from user-controlled sources"},
        "fullDescription": {
            "text": "Building a SQL query from user-controlled sources is vulnerable to insertion of "
            "malicious SQL code by the user."
        },
        "defaultConfiguration": {"enabled": True, "level": "error"},
        "help": {"text": "# SQL query built from user-controlled sources", "markdown": "# SQL query"},
        "properties": {
            "tags": ["security", "external/cwe/cwe-089"],
            "description": "Building a SQL query from user-controlled sources is vulnerable.",
            "id": "py/sql-injection",
            "kind": "path-problem",
            "precision": "high",
            "problem.severity": "error",
            "security-severity": "8.8",
        },
    }
    path_rule = {
        "id": "py/path-injection",
        "name": "py/path-injection",
        "shortDescription": {"text": "Uncontrolled data used in path expression"},
        "fullDescription": {
            "text": "Accessing paths influenced by users can allow an attacker to access resources."
        },
        "defaultConfiguration": {"enabled": True, "level": "error"},
        "properties": {
            "tags": [
                "correctness",
                "security",
                "external/cwe/cwe-022",
                "external/cwe/cwe-023",
                "external/cwe/cwe-036",
            ],
            "security-severity": "7.5",
        },
    }
    location = {
        "physicalLocation": {
            "artifactLocation": {"uri": "app/db.py", "uriBaseId": "%SRCROOT%", "index": 0},
            "region": {"startLine": 42, "startColumn": 20, "endColumn": 45},
        }
    }
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "CodeQL",
                        "organization": "GitHub",
                        "semanticVersion": "2.16.1",
                        "notifications": [],
                        "rules": [],
                    },
                    "extensions": [
                        {
                            "name": "codeql/python-queries",
                            "semanticVersion": "0.9.8+abc",
                            "rules": [sql_rule, path_rule],
                            "locations": [
                                {"uri": "file:///opt/codeql/python-queries/", "description": {"text": "pack"}}
                            ],
                        }
                    ],
                },
                "invocations": [{"executionSuccessful": True, "toolExecutionNotifications": []}],
                "artifacts": [
                    {"location": {"uri": "app/db.py", "uriBaseId": "%SRCROOT%", "index": 0}},
                    {"location": {"uri": "app/files.py", "uriBaseId": "%SRCROOT%", "index": 1}},
                ],
                "results": [
                    {
                        "ruleId": "py/sql-injection",
                        "ruleIndex": 0,
                        "rule": {"id": "py/sql-injection", "index": 0, "toolComponent": {"index": 0}},
                        "message": {"text": "This SQL query depends on a [user-provided value](1)."},
                        "locations": [location],
                        "partialFingerprints": {
                            "primaryLocationLineHash": "3d5a1c4b7e2f9a10:1",
                            "primaryLocationStartColumnFingerprint": "15",
                        },
                        "codeFlows": [
                            {"threadFlows": [{"locations": [{"location": location}, {"location": location}]}]}
                        ],
                        "relatedLocations": [
                            {
                                "id": 1,
                                "physicalLocation": {
                                    "artifactLocation": {"uri": "app/views.py", "uriBaseId": "%SRCROOT%"},
                                    "region": {"startLine": 10, "startColumn": 5, "endColumn": 20},
                                },
                                "message": {"text": "user-provided value"},
                            }
                        ],
                    },
                    {
                        "ruleId": "py/path-injection",
                        "rule": {"id": "py/path-injection", "index": 1, "toolComponent": {"index": 0}},
                        "message": {"text": "This path depends on a [user-provided value](1)."},
                        "locations": [
                            {
                                "physicalLocation": {
                                    "artifactLocation": {"index": 1},
                                    "region": {"startLine": 7, "endLine": 9},
                                },
                                "logicalLocations": [
                                    {"fullyQualifiedName": "app.files.download", "kind": "function"}
                                ],
                            }
                        ],
                        "partialFingerprints": {"primaryLocationLineHash": "77aa00ff11bb22cc:1"},
                    },
                ],
                "versionControlProvenance": [
                    {
                        "repositoryUri": "https://github.com/acme/webapp.git",
                        "revisionId": COMMIT,
                        "branch": "refs/heads/main",
                    }
                ],
                "automationDetails": {"id": "/language:python/"},
                "columnKind": "unicodeCodePoints",
                "properties": {"semmle.formatSpecifier": "sarif-latest"},
            }
        ],
    }


def semgrep_log() -> dict[str, Any]:
    """The shape ``semgrep --sarif`` writes: CWE names as tags, no version control provenance."""
    rule_id = "python.django.security.injection.sql.sql-injection-using-db-cursor-execute"
    return {
        "$schema": "https://docs.oasis-open.org/sarif/sarif/v2.1.0/os/schemas/sarif-schema-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "invocations": [{"executionSuccessful": True, "toolExecutionNotifications": []}],
                "results": [
                    {
                        "fingerprints": {"matchBasedId/v1": "a1b2c3"},
                        "locations": [
                            {
                                "physicalLocation": {
                                    "artifactLocation": {"uri": "app/views.py", "uriBaseId": "%SRCROOT%"},
                                    "region": {
                                        "startLine": line,
                                        "endLine": line,
                                        "startColumn": 5,
                                        "endColumn": 60,
                                        "snippet": {"text": "cursor.execute(query)"},
                                    },
                                }
                            }
                        ],
                        "message": {"text": "User-controlled data from a request is passed to 'execute()'."},
                        "properties": {},
                        "ruleId": rule_id,
                    }
                    for line in (17, 31)
                ],
                "tool": {
                    "driver": {
                        "name": "Semgrep OSS",
                        "semanticVersion": "1.56.0",
                        "rules": [
                            {
                                "id": rule_id,
                                "name": rule_id,
                                "shortDescription": {"text": f"Semgrep Finding: {rule_id}"},
                                "fullDescription": {"text": "User-controlled data is passed to 'execute()'."},
                                "defaultConfiguration": {"level": "error"},
                                "help": {
                                    "text": "Use parameterized queries.",
                                    "markdown": "Use parameterized queries.",
                                },
                                "helpUri": f"https://semgrep.dev/r/{rule_id}",
                                "properties": {
                                    "precision": "very-high",
                                    "tags": [
                                        "CWE-89: Improper Neutralization of Special Elements used in an "
                                        "SQL Command ('SQL Injection')",
                                        "HIGH CONFIDENCE",
                                        "OWASP-A03:2021 - Injection",
                                        "security",
                                    ],
                                },
                            }
                        ],
                    }
                },
            }
        ],
    }


def bandit_log() -> dict[str, Any]:
    """The shape ``bandit -f sarif`` writes."""
    return {
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "Bandit",
                        "organization": "PyCQA",
                        "semanticVersion": "1.7.7",
                        "version": "1.7.7",
                        "rules": [
                            {
                                "id": "B608",
                                "name": "hardcoded_sql_expressions",
                                "properties": {
                                    "tags": ["security", "external/cwe/cwe-89"],
                                    "precision": "low",
                                },
                                "helpUri": "https://bandit.readthedocs.io/en/1.7.7/plugins/b608_hardcoded_sql_expressions.html",
                            },
                            {
                                "id": "B307",
                                "name": "eval",
                                "properties": {
                                    "tags": ["security", "external/cwe/cwe-78"],
                                    "precision": "high",
                                },
                            },
                        ],
                    }
                },
                "invocations": [{"executionSuccessful": True, "endTimeUtc": "2024-02-01T12:00:00Z"}],
                "properties": {"metrics": {"_totals": {"loc": 120, "SEVERITY.MEDIUM": 2}}},
                "results": [
                    {
                        "message": {
                            "text": "Possible SQL injection vector through string-based query construction."
                        },
                        "level": "warning",
                        "locations": [
                            {
                                "physicalLocation": {
                                    "region": {
                                        "snippet": {"text": "q = 'SELECT ' + x"},
                                        "startLine": 12,
                                        "endLine": 12,
                                    },
                                    "artifactLocation": {"uri": "app/db.py"},
                                    "contextRegion": {"startLine": 11, "endLine": 13},
                                }
                            }
                        ],
                        "properties": {"issue_confidence": "LOW", "issue_severity": "MEDIUM"},
                        "ruleId": "B608",
                        "ruleIndex": 0,
                    },
                    {
                        "message": {
                            "text": "Use of possibly insecure function - consider using ast.literal_eval."
                        },
                        "level": "warning",
                        "locations": [
                            {
                                "physicalLocation": {
                                    "artifactLocation": {"uri": "app/calc.py"},
                                    "region": {"startLine": 3},
                                }
                            }
                        ],
                        "ruleId": "B307",
                        "ruleIndex": 1,
                    },
                ],
            }
        ],
        "version": "2.1.0",
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
    }


APP = PackageRef(purl="pkg:pypi/acme-web", version="3.1.0")


@pytest.mark.parametrize("make", [codeql_log, semgrep_log, bandit_log])
def test_sarif_samples_are_valid_sarif_2_1_0(
    make: Any, sarif_schema: jsonschema.protocols.Validator | None
) -> None:
    if sarif_schema is None:
        pytest.skip("the SARIF 2.1.0 schema comes from the shared corpus")
    sarif_schema.validate(make())


def test_codeql_log(valid_sarif: Any) -> None:
    log = valid_sarif(codeql_log())
    sql, path = only_items(log, "codeql.sarif")
    assert sql.title == "SQL query built from user-controlled sources"
    assert sql.description.startswith("This SQL query depends on a [user-provided value](1).")
    assert sql.package.purl == f"pkg:generic/webapp@{COMMIT}"
    assert sql.source is not None
    assert sql.source.model_dump(exclude_none=True) == {
        "repo": "https://github.com/acme/webapp.git",
        "commit": COMMIT,
        "file": "app/db.py",
        "start_line": 42,
        "end_line": 42,
    }
    assert sql.cwe == ["CWE-89"]
    assert sql.impact.claimed is ClaimedImpact.OTHER
    assert sql.impact.description == "SARIF level: error; security-severity: 8.8"
    assert sql.generator == Generator(tool="CodeQL", tool_version="2.16.1", organization="GitHub")
    assert sql.origin.model_dump() == {
        "format": SourceFormat.SARIF,
        "document_id": "/language:python/",
        "rule_id": "py/sql-injection",
        "partial_fingerprints": {
            "primaryLocationLineHash": "3d5a1c4b7e2f9a10:1",
            "primaryLocationStartColumnFingerprint": "15",
        },
        "locations": [{"uri": "app/db.py", "start_line": 42, "end_line": 42}],
    }
    assert path.cwe == ["CWE-22", "CWE-23", "CWE-36"]
    assert path.source is not None
    assert (path.source.file, path.source.start_line, path.source.end_line) == ("app/files.py", 7, 9)
    assert path.source.symbol == "app.files.download"


def test_semgrep_log_needs_a_package(valid_sarif: Any) -> None:
    log = valid_sarif(semgrep_log())
    result = outcomes(log, "semgrep.sarif")
    assert [(e.index, e.pointer) for e in errors(result)] == [
        (0, "/runs/0/results/0"),
        (1, "/runs/0/results/1"),
    ]
    assert "package" in errors(result)[0].detail and "--package" in errors(result)[0].detail

    first, second = only_items(log, "semgrep.sarif", package=APP)
    assert first.package == APP
    assert first.cwe == ["CWE-89"]
    assert first.references == [
        "https://semgrep.dev/r/python.django.security.injection.sql.sql-injection-using-db-cursor-execute"
    ]
    assert first.title.startswith("Semgrep Finding: python.django")
    assert (first.source and first.source.start_line, second.source and second.source.start_line) == (17, 31)
    assert first.origin.partial_fingerprints == {}  # Semgrep writes fingerprints, not partialFingerprints
    assert first.generator == Generator(tool="Semgrep OSS", tool_version="1.56.0")


def test_bandit_log_with_a_default_generator(valid_sarif: Any) -> None:
    log = valid_sarif(bandit_log())
    pipeline = Generator(tool="acme-ai-triage", model="acme-coder", model_version="7", organization="Acme")
    sql, evaluation = only_items(log, "bandit.sarif", package=APP, default_generator=pipeline)
    assert sql.title == "Possible SQL injection vector through string-based query construction."
    assert sql.generator == Generator(
        tool="Bandit", tool_version="1.7.7", model="acme-coder", model_version="7", organization="Acme"
    )
    assert sql.cwe == ["CWE-89"] and sql.impact.description == "SARIF level: warning"
    assert evaluation.cwe == ["CWE-78"] and evaluation.impact.claimed is ClaimedImpact.CODE_EXECUTION
    assert evaluation.source is not None and evaluation.source.end_line == 3


def test_sarif_versions_other_than_2_1_0_are_refused() -> None:
    for version in ("2.2", "1.0.0", "2.0.0"):
        log = codeql_log() | {"version": version}
        with pytest.raises(UnsupportedDocument, match=f"SARIF version '{version}' is not supported"):
            detect_format(json.dumps(log).encode(), "x.sarif")
        (error,) = outcomes(log)
        assert isinstance(error, ItemError) and error.pointer == "" and "only SARIF 2.1.0" in error.detail


def test_sarif_2_2_sample_valid_under_its_own_schema_is_still_refused(corpus: Path) -> None:
    schema = json.loads((corpus / "sarif-schema/sarif-2.2/schema/sarif.json").read_bytes())
    log = {"version": "2.2", "runs": [{"tool": {"driver": {"name": "CodeQL"}}, "results": []}]}
    jsonschema.validators.validator_for(schema)(schema).validate(log)
    assert errors(outcomes(log))[0].detail.startswith("SARIF version '2.2' is not supported")


def test_sarif_malformed_results_point_at_the_bad_field() -> None:
    log = bandit_log()
    results = log["runs"][0]["results"]
    good = copy.deepcopy(results[0])
    bad_type = copy.deepcopy(results[0])
    bad_type["locations"][0]["physicalLocation"]["region"]["startLine"] = "twelve"
    zero_line = copy.deepcopy(results[0])
    zero_line["locations"][0]["physicalLocation"]["region"] = {"startLine": 1, "endLine": 0}
    bad_rule = copy.deepcopy(results[0]) | {"ruleIndex": 9}
    bad_fingerprint = copy.deepcopy(results[0]) | {"partialFingerprints": {"primaryLocationLineHash": 7}}
    log["runs"][0]["results"] = [good, bad_type, zero_line, bad_rule, bad_fingerprint, results[1], "junk"]
    result = outcomes(log, package=APP)
    assert_indexes(result)
    assert len(items(result)) == 2
    assert [(e.index, e.pointer) for e in errors(result)] == [
        (1, "/runs/0/results/1/locations/0/physicalLocation/region/startLine"),
        (2, "/runs/0/results/2/locations/0/physicalLocation/region/endLine"),
        (3, "/runs/0/results/3/ruleIndex"),
        (4, "/runs/0/results/4/partialFingerprints/primaryLocationLineHash"),
        (6, "/runs/0/results/6"),
    ]
    assert errors(result)[1].detail.startswith("source.end_line:")
    for error in errors(result):
        resolve(log, error.pointer)


def test_sarif_structural_minimum() -> None:
    assert [(e.pointer) for e in outcomes({"version": "2.1.0", "runs": {"a": 1}})] == ["/runs"]
    assert [(e.pointer) for e in outcomes({"version": "2.1.0", "runs": None})] == ["/runs"]
    log = {
        "version": "2.1.0",
        "runs": [
            {"results": []},
            {"tool": {"driver": {"name": "X"}}, "results": "none"},
            {"tool": {}},
            {"tool": {"driver": {"name": 5}}},
            bandit_log()["runs"][0],
            {"tool": {"driver": {"name": "Y"}}},  # no results: the tool did not run
        ],
    }
    result = outcomes(log, package=APP)
    assert [(o.index, o.pointer) for o in result] == [
        (0, "/runs/0/tool"),
        (1, "/runs/1/results"),
        (2, "/runs/2/tool/driver"),
        (3, "/runs/3/tool/driver/name"),
        (4, "/runs/4/results/0"),
        (5, "/runs/4/results/1"),
    ]


def test_sarif_results_that_are_not_problems_are_skipped() -> None:
    log = bandit_log()
    template = log["runs"][0]["results"][0]
    log["runs"][0]["results"] = [
        template | {"kind": "pass"},
        template | {"kind": "informational"},
        template | {"suppressions": [{"kind": "inSource"}]},
        template | {"suppressions": [{"kind": "external", "status": "accepted"}]},
        template | {"baselineState": "absent"},
        template | {"suppressions": [{"kind": "external", "status": "rejected"}], "baselineState": "new"},
    ]
    result = outcomes(log, package=APP)
    assert [o.pointer for o in result] == ["/runs/0/results/5"]


def test_sarif_message_strings_artifacts_logical_locations_and_taxonomies() -> None:
    log = {
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "deep-scan",
                        "version": "0.3",
                        "rules": [
                            {
                                "id": "DS001",
                                "messageStrings": {"default": {"text": "Tainted {0} reaches {1}."}},
                                "relationships": [
                                    {
                                        "target": {"id": "502", "toolComponent": {"name": "CWE"}},
                                        "kinds": ["superset"],
                                    }
                                ],
                            }
                        ],
                    }
                },
                "artifacts": [{"location": {"uri": "src/Loader.java"}}],
                "logicalLocations": [{"fullyQualifiedName": "com.acme.Loader.read", "kind": "function"}],
                "versionControlProvenance": [{"repositoryUri": "https://git.example.org/acme/loader"}],
                "results": [
                    {
                        "ruleId": "DS001",
                        "message": {"id": "default", "arguments": ["input", "readObject", "unused"]},
                        "locations": [
                            {
                                "physicalLocation": {
                                    "artifactLocation": {"index": 0},
                                    "region": {"startLine": 5},
                                },
                                "logicalLocations": [{"index": 0}],
                            }
                        ],
                        "taxa": [{"id": "CWE-20", "toolComponent": {"name": "cwe"}}],
                    },
                    {"ruleId": "DS999", "message": {"text": "Unknown rule.\nSecond line."}},
                    {"message": {"text": "{0} is missing"}},
                    {
                        "ruleId": "DS001",
                        "message": {"text": "Bad."},
                        "locations": [{"physicalLocation": {"artifactLocation": {"index": 4}}}],
                    },
                ],
            }
        ],
    }
    result = outcomes(log, package=APP)
    first, second, third = items(result)
    assert first.title == "Tainted input reaches readObject."
    assert first.cwe == ["CWE-502", "CWE-20"]
    assert first.impact.claimed is ClaimedImpact.CODE_EXECUTION
    assert first.package == APP  # provenance without a revision does not name a release
    assert first.source is not None
    assert (first.source.repo, first.source.commit) == ("https://git.example.org/acme/loader", None)
    assert (first.source.file, first.source.symbol) == ("src/Loader.java", "com.acme.Loader.read")
    assert second.title == "Unknown rule." and second.origin.rule_id == "DS999"
    assert second.description == "Unknown rule.\nSecond line."
    assert third.title == "{0} is missing" and third.origin.rule_id is None
    (error,) = errors(result)
    assert error.pointer == "/runs/0/results/3/locations/0/physicalLocation/artifactLocation/index"


# -- CSAF ----------------------------------------------------------------------------------------


def test_every_csaf_2_0_example_imports_without_an_exception(corpus: Path) -> None:
    files = sorted((corpus / "csaf/csaf_2.0/examples").rglob("*.json"))
    assert len(files) == 27
    advisories = 0
    for path in files:
        doc = json.loads(path.read_bytes())
        result = outcomes(path.read_bytes(), path.name)
        assert_indexes(result)
        if "csaf_version" not in doc.get("document", {}):  # ROLIE feeds, provider metadata, aggregators
            assert len(result) == 1 and errors(result)[0].pointer == ""
            continue
        advisories += 1
        assert result, path  # findings, or the reasons there are none
        for error in errors(result):
            resolve(doc, error.pointer)
        for finding in items(result):
            assert finding.origin.format is SourceFormat.CSAF
    assert advisories == 19


def test_csaf_product_with_only_a_cpe_is_named_by_it(corpus: Path) -> None:
    path = corpus / "csaf/csaf_2.0/examples/csaf/bsi-2022-0001.json"
    result = outcomes(path.read_bytes(), path.name)
    assert errors(result) == []
    assert [f.package.purl for f in items(result)] == ["pkg:generic/csaf-tools/cvrf-csaf-converter"] * 5
    assert [f.package.version for f in items(result)] == [
        "1.0.0-alpha",
        "1.0.0-dev1",
        "1.0.0-dev2",
        "1.0.0-dev3",
        "1.0.0-rc1",
    ]


def test_csaf_bsi_example_with_purls_added(corpus: Path) -> None:
    doc = json.loads((corpus / "csaf/csaf_2.0/examples/csaf/bsi-2022-0001.json").read_bytes())
    for branch in doc["product_tree"]["branches"][0]["branches"][0]["branches"]:
        helper = branch["product"]["product_identification_helper"]
        helper["purl"] = f"pkg:pypi/cvrf2csaf@{branch['name']}"
    findings = only_items(doc)
    assert [f.package.purl for f in findings] == [
        f"pkg:pypi/cvrf2csaf@{v}"
        for v in ("1.0.0-alpha", "1.0.0-dev1", "1.0.0-dev2", "1.0.0-dev3", "1.0.0-rc1")
    ]
    first = findings[0]
    assert first.title == "CVRF-CSAF-Converter: XML External Entities Vulnerability"
    assert first.aliases == ["CVE-2022-27193", "csaf-tools/CVRF-CSAF-Converter#78"]
    assert first.cwe == ["CWE-611"]
    assert first.impact.cvss_vector == "CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:H/I:N/A:L/E:F/RL:O/RC:C"
    assert first.description.startswith(
        "CSAF Tools CVRF-CSAF-Converter 1.0.0-rc1 resolves XML External Entities"
    )
    assert first.generator == Generator(
        tool="csaf-import", organization="Bundesamt für Sicherheit in der Informationstechnik"
    )
    assert first.origin.document_id == "BSI-2022-0001"


def test_csaf_red_hat_relationships_resolve_to_component_purls(corpus: Path) -> None:
    path = corpus / "osv-schema/tools/redhat/testdata/CSAF/rhsa-2024_4546.json"
    doc = json.loads(path.read_bytes())
    assert items(outcomes(doc)) == []  # Red Hat lists fixed products only: nothing is a finding
    catalog = _csaf.products(doc["product_tree"])
    component = catalog["AppStream-8.6.0.Z.AUS:git-lfs-0:2.13.3-3.el8_6.1.x86_64"]
    assert component.purl == "pkg:rpm/redhat/git-lfs@2.13.3-3.el8_6.1?arch=x86_64"
    assert component.pointer.startswith("/product_tree/relationships/")

    # The same advisory, had it listed those products as affected:
    status = doc["vulnerabilities"][0]["product_status"]
    status["known_affected"] = status.pop("fixed")
    result = outcomes(doc)
    assert errors(result) == []
    assert len(items(result)) == 15
    assert all(f.package.purl.startswith("pkg:rpm/redhat/git-lfs") for f in items(result))
    assert items(result)[0].aliases[0] == doc["vulnerabilities"][0]["cve"]


CSAF_DOC: dict[str, Any] = {
    "document": {
        "category": "csaf_security_advisory",
        "csaf_version": "2.0",
        "publisher": {"category": "vendor", "name": "Acme PSIRT", "namespace": "https://acme.example"},
        "title": "Acme Widget: deserialization flaw",
        "tracking": {"id": "ACME-2024-007", "status": "final", "version": "1"},
        "references": [
            {"category": "self", "summary": "this", "url": "https://acme.example/ACME-2024-007.json"}
        ],
    },
    "product_tree": {
        "branches": [
            {
                "category": "vendor",
                "name": "Acme",
                "branches": [
                    {
                        "category": "product_name",
                        "name": "widget",
                        "branches": [
                            {
                                "category": "product_version",
                                "name": "4.2.0",
                                "product": {
                                    "name": "Acme widget 4.2.0",
                                    "product_id": "P-420",
                                    "product_identification_helper": {"purl": "pkg:npm/%40acme/widget"},
                                },
                            },
                            {
                                "category": "product_version_range",
                                "name": "vers:npm/>=3.0.0|<3.9.1",
                                "product": {
                                    "name": "Acme widget 3.x",
                                    "product_id": "P-3X",
                                    "product_identification_helper": {"purl": "pkg:npm/%40acme/widget"},
                                },
                            },
                            {
                                "category": "product_version_range",
                                "name": ">=2.0.0, <2.5.0",
                                "product": {
                                    "name": "Acme widget 2.x",
                                    "product_id": "P-2X",
                                    "product_identification_helper": {"purl": "pkg:npm/%40acme/widget"},
                                },
                            },
                        ],
                    }
                ],
            }
        ],
        "full_product_names": [
            {
                "name": "Acme widget 5.0.1",
                "product_id": "P-501",
                "product_identification_helper": {"purl": "pkg:npm/%40acme/widget@5.0.1"},
            },
            {"name": "Acme widget 1.0", "product_id": "P-100"},
            {
                "name": "Acme widget 0.9",
                "product_id": "P-090",
                "product_identification_helper": {"purl": "pkg:npm/%40acme/widget"},
            },
        ],
    },
    "vulnerabilities": [
        {
            "cve": "CVE-2024-99999",
            "ids": [{"system_name": "Acme tracker", "text": "ACME-BUG-17"}],
            "cwe": {"id": "CWE-502", "name": "Deserialization of Untrusted Data"},
            "notes": [
                {"category": "description", "text": "Widget deserializes untrusted input."},
                {"category": "legal_disclaimer", "text": "No warranty."},
            ],
            "product_status": {
                "known_affected": ["P-420", "P-3X", "P-501", "P-420", "P-100", "P-2X", "P-NOPE", "P-090"],
                "first_affected": ["P-501"],
                "last_affected": ["P-501"],
                "fixed": ["P-999"],
            },
            "scores": [
                {
                    "products": ["P-420"],
                    "cvss_v3": {
                        "version": "3.1",
                        "vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
                        "baseScore": 9.8,
                        "baseSeverity": "CRITICAL",
                    },
                }
            ],
            "threats": [
                {"category": "impact", "details": "Remote code execution.", "product_ids": ["P-420"]}
            ],
            "references": [{"category": "external", "summary": "fix", "url": "https://acme.example/fix"}],
        },
        {
            "title": "Second flaw",
            "product_status": {
                "first_affected": ["P-501"],
                "last_affected": ["P-420"],
                "known_not_affected": ["P-3X"],
            },
        },
        {"title": "Broken", "product_status": {"known_affected": "P-420"}},
    ],
}


def test_csaf_statuses_and_versions() -> None:
    result = outcomes(CSAF_DOC, check=False)
    assert_indexes(result)
    by_pointer = {o.pointer: o for o in result}
    ok = {p: o.submission for p, o in by_pointer.items() if isinstance(o, ParsedItem)}
    status = "/vulnerabilities/0/product_status"
    assert ok[f"{status}/known_affected/0"].package.model_dump(exclude_none=True) == {
        "purl": "pkg:npm/%40acme/widget",
        "version": "4.2.0",
    }
    assert ok[f"{status}/known_affected/1"].package.vers == "vers:npm/>=3.0.0|<3.9.1"
    assert ok[f"{status}/known_affected/2"].package.purl == "pkg:npm/%40acme/widget@5.0.1"
    assert ok["/vulnerabilities/1/product_status/first_affected/0"].package.model_dump(exclude_none=True) == {
        "purl": "pkg:npm/%40acme/widget",
        "vers": "vers:npm/>=5.0.1",
    }
    assert ok["/vulnerabilities/1/product_status/last_affected/0"].package.vers == "vers:npm/<=4.2.0"
    assert ok["/vulnerabilities/1/product_status/last_affected/0"].title == "Second flaw"

    first = ok[f"{status}/known_affected/0"]
    assert first.title == "Acme Widget: deserialization flaw"
    assert first.aliases == ["CVE-2024-99999", "ACME-BUG-17"]
    assert first.cwe == ["CWE-502"] and first.impact.claimed is ClaimedImpact.CODE_EXECUTION
    assert first.impact.cvss_vector == "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
    assert first.impact.description == "Remote code execution."
    assert first.description == "Widget deserializes untrusted input."
    assert first.references == ["https://acme.example/fix", "https://acme.example/ACME-2024-007.json"]
    assert first.generator == Generator(tool="csaf-import", organization="Acme PSIRT")
    assert ok[f"{status}/known_affected/1"].impact.cvss_vector is None

    failed = {(e.pointer, e.detail.split(":")[0]) for e in errors(result)}
    assert failed == {
        (f"{status}/known_affected/6", "product 'P-NOPE' is not defined in product_tree"),
        ("/product_tree/full_product_names/2", "product 'P-090' has no version"),
        ("/vulnerabilities/2/product_status/known_affected", "expected an array, got string"),
    }
    # A product known only by name: every version of it, as the document names none.
    assert ok[f"{status}/known_affected/4"].package.model_dump(exclude_none=True) == {
        "purl": "pkg:generic/Acme%20widget%201.0",
        "vers": "vers:generic/*",
    }
    # A product_version_range written as constraints becomes a vers range.
    assert ok[f"{status}/known_affected/5"].package.vers == "vers:npm/>=2.0.0|<2.5.0"
    assert (
        len(items(result)) == 7
    )  # the duplicate P-420 and the first/last_affected repeats of P-501 count once


def test_csaf_broken_documents() -> None:
    doc = copy.deepcopy(CSAF_DOC)
    doc["product_tree"]["branches"][0]["branches"] = "oops"
    assert [(e.index, e.pointer) for e in outcomes(doc, check=False)] == [
        (0, "/product_tree/branches/0/branches")
    ]

    doc = copy.deepcopy(CSAF_DOC)
    doc["product_tree"]["full_product_names"][0]["product_identification_helper"]["purl"] = "npm:widget"
    pointers = [e.pointer for e in errors(outcomes(doc, check=False))]
    assert "/product_tree/full_product_names/0/product_identification_helper/purl" in pointers

    doc = copy.deepcopy(CSAF_DOC)
    doc["vulnerabilities"][0]["cwe"] = {"id": "CWE-XYZ"}
    assert errors(outcomes(doc, check=False))[0].pointer == "/vulnerabilities/0/cwe/id"

    doc = copy.deepcopy(CSAF_DOC)
    doc["product_tree"]["relationships"] = [
        {
            "category": "default_component_of",
            "product_reference": "P-501",
            "relates_to_product_reference": "P-420",
        }
    ]
    assert [(e.index, e.pointer) for e in outcomes(doc, check=False)] == [
        (0, "/product_tree/relationships/0/full_product_name")
    ]

    doc = copy.deepcopy(CSAF_DOC)
    doc["document"].pop("title")
    assert [(e.index, e.pointer) for e in outcomes(doc, check=False)] == [(0, "/document/title")]


def test_csaf_2_1_example_imports(corpus: Path) -> None:
    path = corpus / "csaf/csaf_2.1/examples/csaf/bsi-2022-0001.json"
    assert detect_format(path.read_bytes(), path.name) is SourceFormat.CSAF
    assert len(only_items(path.read_bytes(), path.name)) == 5


# -- CVE JSON 5 ----------------------------------------------------------------------------------


def _cve_records(corpus: Path) -> list[Path]:
    base = corpus / "cve-nvd-records/vulnfeeds/test_data"
    return sorted((base / "cve5").glob("*.json")) + sorted((base / "cvelistV5").rglob("*.json"))


def test_every_cve5_record_imports(corpus: Path) -> None:
    records = _cve_records(corpus)
    assert len(records) == 24
    total_items = total_errors = 0
    for path in records:
        doc = json.loads(path.read_bytes())
        result = outcomes(path.read_bytes(), path.name)
        assert_indexes(result)
        for error in errors(result):
            assert error.pointer.startswith("/containers/cna/affected/"), error
            resolve(doc, error.pointer)
        for finding in items(result):
            assert finding.aliases == [doc["cveMetadata"]["cveId"]]
            assert finding.origin.format is SourceFormat.CVE5
            assert finding.package.vers is not None
        total_items += len(items(result))
        total_errors += len(errors(result))
    # The errors: 5 records name no product ("n/a"), 2 kernel entries give git commit ranges only,
    # and CVE-2023-1055 gives the version "11 and 12".
    assert (total_items, total_errors) == (19, 8)


def _cve(corpus: Path, name: str) -> list[Outcome]:
    path = next(p for p in _cve_records(corpus) if p.name == name)
    return outcomes(path.read_bytes(), path.name)


def test_cve5_log4shell(corpus: Path) -> None:
    (finding,) = items(_cve(corpus, "CVE-2021-44228.json"))
    assert finding.package.purl == "pkg:generic/Apache%20Software%20Foundation/Apache%20Log4j2"
    assert finding.package.vers == "vers:generic/>=2.0-beta9|<2.3.1|>=2.4|<2.12.2|>=2.13.0|<2.15.0"
    assert finding.cwe == ["CWE-502", "CWE-400", "CWE-20"]
    assert finding.impact.claimed is ClaimedImpact.CODE_EXECUTION
    assert finding.generator == Generator(tool="cve5-import", organization="apache")


def test_cve5_collection_urls_and_skipped_unaffected_entries(corpus: Path) -> None:
    generic, pypi = items(_cve(corpus, "CVE-2025-4565.json"))
    assert pypi.package.purl == "pkg:pypi/protobuf"
    assert pypi.package.vers == "vers:pypi/<6.31.1"
    assert generic.package.purl == "pkg:generic/protocolbuffers/Python-Protobuf"
    assert generic.source is not None and generic.source.file == "python/google/protobuf/internal/decoder.py"

    result = _cve(corpus, "CVE-2024-3094.json")  # six Red Hat entries say "unaffected": not findings
    assert [(o.pointer, o.submission.package.vers) for o in result if isinstance(o, ParsedItem)] == [
        ("/containers/cna/affected/0", "vers:generic/5.6.0|5.6.1")
    ]


def test_cve5_default_status_affected_is_the_complement_of_unaffected(corpus: Path) -> None:
    git, semver = _cve(corpus, "CVE-2025-21631.json")
    assert isinstance(git, ItemError) and "git" in git.detail
    assert git.pointer == "/containers/cna/affected/0/versions/0"
    assert isinstance(semver, ParsedItem)
    assert semver.submission.package.vers == "vers:generic/>=6.12|<6.12.10"


def test_cve5_cwe_from_description_text_and_exact_versions(corpus: Path) -> None:
    (finding,) = items(_cve(corpus, "CVE-2024-7264.json"))
    assert finding.cwe == ["CWE-125"]  # no cweId, only "CWE-125 Out-of-bounds Read"
    assert finding.package.vers is not None and finding.package.vers.startswith("vers:generic/7.32.0|7.33.0|")


def test_cve5_github_style_range_expressions(corpus: Path) -> None:
    (finding,) = items(_cve(corpus, "CVE-2023-22466.json"))
    assert finding.package.vers == "vers:generic/>=1.7.0|<1.18.4|>=1.19.0|<1.20.3|>=1.21.0|<1.23.1"


def test_cve5_schema_examples(corpus: Path) -> None:
    path = corpus / "cve-schema-5/tests/data/CVEv5_advanced-example.json"
    (finding,) = only_items(path.read_bytes(), path.name)
    assert finding.package.vers == "vers:generic/>=1.0.0|<1.0.6|>=2.1.6|<2.1.9"
    assert finding.source is not None and finding.source.symbol == "parseFilename"
    container = corpus / "cve-schema-5/tests/data/container-basic-example.json"
    with pytest.raises(UnsupportedDocument):
        detect_format(container.read_bytes(), container.name)


def test_nvd_api_records_are_refused(corpus: Path) -> None:
    for path in sorted((corpus / "cve-nvd-records/vulnfeeds/test_data/nvdcve-2.0").glob("*.json")):
        with pytest.raises(UnsupportedDocument, match="NVD API"):
            detect_format(path.read_bytes(), path.name)


def _cve_doc(*affected: Any, **cna: Any) -> dict[str, Any]:
    return {
        "dataType": "CVE_RECORD",
        "dataVersion": "5.1",
        "cveMetadata": {"cveId": "CVE-2024-0001", "state": "PUBLISHED", "assignerShortName": "acme"},
        "containers": {
            "cna": {
                "providerMetadata": {"orgId": "00000000-0000-4000-8000-000000000000", "shortName": "acme"},
                "descriptions": [
                    {"lang": "es", "value": "Un fallo."},
                    {"lang": "en", "value": "A flaw.\nMore."},
                ],
                "affected": list(affected),
                "references": [{"url": "https://acme.example/advisory"}],
                **cna,
            },
            "adp": [
                {
                    "providerMetadata": {"orgId": "x"},
                    "problemTypes": [
                        {
                            "descriptions": [
                                {"lang": "en", "type": "CWE", "cweId": "CWE-770", "description": "x"}
                            ]
                        }
                    ],
                    "metrics": [
                        {"cvssV3_1": {"vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"}}
                    ],
                }
            ],
        },
    }


@pytest.mark.parametrize(
    ("entry", "purl", "vers"),
    [
        (
            {
                "collectionURL": "https://repo.maven.apache.org/maven2",
                "packageName": "org.acme:core",
                "versions": [{"version": "1.0", "status": "affected", "lessThanOrEqual": "1.4"}],
            },
            "pkg:maven/org.acme/core",
            "vers:maven/>=1.0|<=1.4",
        ),
        (
            {
                "collectionURL": "https://www.npmjs.com/package/@acme/ui",
                "versions": [
                    {"version": "0", "status": "affected", "lessThan": "2.0.0", "versionType": "semver"}
                ],
            },
            "pkg:npm/%40acme/ui",
            "vers:npm/<2.0.0",
        ),
        (
            {
                "collectionURL": "https://pkg.go.dev",
                "packageName": "github.com/acme/api",
                "versions": [{"version": "1.2.0", "status": "affected"}],
            },
            "pkg:golang/github.com/acme/api",
            "vers:golang/1.2.0",
        ),
        (
            {"collectionURL": "https://crates.io", "packageName": "acme", "defaultStatus": "affected"},
            "pkg:cargo/acme",
            "vers:cargo/*",
        ),
        (
            {
                "vendor": "n/a",
                "product": "acme-tool",
                "versions": [{"version": "= 3.1", "status": "affected"}],
            },
            "pkg:generic/acme-tool",
            "vers:generic/3.1",
        ),
        (
            {
                "vendor": "Acme",
                "product": "n/a",
                "packageName": "acmed",
                "versions": [{"version": "2.0", "status": "affected", "lessThan": "unspecified"}],
            },
            "pkg:generic/Acme/acmed",
            "vers:generic/2.0",
        ),
        (
            {
                "vendor": "Acme",
                "product": "Tool",
                "versions": [
                    {"version": "1.0", "status": "unknown"},
                    {"version": "2.0", "status": "affected", "lessThan": "*"},
                ],
            },
            "pkg:generic/Acme/Tool",
            "vers:generic/>=2.0",
        ),
        (
            {
                "vendor": "Acme",
                "product": "Tool",
                "defaultStatus": "affected",
                "versions": [
                    {"version": "1.0", "status": "unaffected", "lessThan": "1.*"},
                    {"version": "3.0", "status": "unaffected", "lessThanOrEqual": "*"},
                ],
            },
            "pkg:generic/Acme/Tool",
            "vers:generic/<1.0|>=2|<3.0",
        ),
    ],
)
def test_cve5_packages_and_ranges(entry: dict[str, Any], purl: str, vers: str) -> None:
    (finding,) = only_items(_cve_doc(entry))
    assert (finding.package.purl, finding.package.vers) == (purl, vers)
    assert finding.title == "A flaw."
    assert finding.cwe == ["CWE-770"] and finding.impact.claimed is ClaimedImpact.DENIAL_OF_SERVICE
    assert finding.impact.cvss_vector == "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"
    assert finding.references == ["https://acme.example/advisory"]


def test_cve5_malformed_and_unusable_entries() -> None:
    good = {"vendor": "Acme", "product": "Tool", "versions": [{"version": "1.0", "status": "affected"}]}
    doc = _cve_doc(
        good,
        {"vendor": "Acme", "product": "Tool", "versions": [{"version": "1.0", "status": "affected"}, "1.1"]},
        {"vendor": "Acme", "product": "Tool", "versions": [{"version": "1.0", "status": "broken"}]},
        {"vendor": "Acme", "product": "Tool", "versions": [{"version": "11 and 12", "status": "affected"}]},
        {"vendor": "Acme", "product": "Tool", "versions": [{"version": ">= 1, < ", "status": "affected"}]},
        {"vendor": "Acme", "product": "Tool", "versions": [{"version": "n/a", "status": "affected"}]},
        {
            "collectionURL": "https://repo1.maven.org/maven2",
            "packageName": "no-colon",
            "versions": [{"version": "1", "status": "affected"}],
        },
        {"vendor": "n/a", "product": "n/a", "versions": [{"version": "1", "status": "affected"}]},
        {
            "vendor": "Acme",
            "product": "Tool",
            "versions": [{"version": "1", "status": "unaffected"}],
        },  # skipped
        good | {"programFiles": [7]},
    )
    result = outcomes(doc)
    assert_indexes(result)
    assert len(items(result)) == 1
    assert [e.pointer for e in errors(result)] == [
        "/containers/cna/affected/1/versions/1",
        "/containers/cna/affected/2/versions/0/status",
        "/containers/cna/affected/3/versions/0",
        "/containers/cna/affected/4/versions/0",
        "/containers/cna/affected/5/versions/0",
        "/containers/cna/affected/6/packageName",
        "/containers/cna/affected/7/product",
        "/containers/cna/affected/9/programFiles/0",
    ]
    for error in errors(result):
        resolve(doc, error.pointer)


def test_cve5_rejected_and_broken_records() -> None:
    rejected = _cve_doc() | {"cveMetadata": {"cveId": "CVE-2024-0002", "state": "REJECTED"}}
    assert [(e.pointer, "rejected" in e.detail) for e in errors(outcomes(rejected))] == [
        ("/cveMetadata/state", True)
    ]
    no_cna = _cve_doc() | {"containers": {}}
    assert [e.pointer for e in outcomes(no_cna)] == ["/containers/cna"]
    bad_cwe = _cve_doc(
        {"vendor": "Acme", "product": "Tool", "versions": [{"version": "1", "status": "affected"}]},
        problemTypes=[{"descriptions": [{"lang": "en", "cweId": "CWE-0x1", "description": "bad"}]}],
    )
    assert [e.pointer for e in errors(outcomes(bad_cwe))] == [
        "/containers/cna/problemTypes/0/descriptions/0/cweId"
    ]


# -- vers ----------------------------------------------------------------------------------------


def test_vers_merge_and_complement() -> None:
    iv = _vers.Interval
    assert _vers.render("pypi", []) == "vers:pypi/"
    assert (
        _vers.render("pypi", [iv("1.0", True, "2.0", False), iv("2.0", True, "3.0", False)])
        == "vers:pypi/>=1.0|<3.0"
    )
    assert (
        _vers.render("pypi", [iv("1.0", True, None, False), iv("0.5", True, "0.6", True)])
        == "vers:pypi/>=0.5|<=0.6|>=1.0"
    )
    assert (
        _vers.render("pypi", [iv(None, False, "1.0", False), iv("0.5", True, "2.0", False)])
        == "vers:pypi/<2.0"
    )
    assert _vers.render("pypi", [iv("1.0", False, "2.0", True)]) == "vers:pypi/>1.0|<=2.0"
    assert (
        _vers.render("swift", [iv.point("1.0"), iv.point("0.9")]) == "vers:swift/1.0|0.9"
    )  # no ordering known
    key = _vers.version_key("pypi")
    assert key is not None
    assert _vers.complement([], key) == [_vers.EVERYTHING]
    assert _vers.complement([iv(None, False, "1.0", False)], key) == [iv("1.0", True, None, False)]
    assert _vers.complement([iv.point("1.0"), iv("2.0", True, None, False)], key) == [
        iv(None, False, "1.0", False),
        iv("1.0", False, "2.0", False),
    ]


# -- files ---------------------------------------------------------------------------------------


def test_iter_files(tmp_path: Path) -> None:
    for name in (
        "a.json",
        "b.yaml",
        "c.yml",
        "sub/d.sarif",
        "sub/E.JSON",
        "notes.txt",
        ".hidden/x.json",
        "sub/.y.json",
    ):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("{}")
    found = [p.relative_to(tmp_path).as_posix() for p in iter_files([tmp_path])]
    assert found == ["a.json", "b.yaml", "c.yml", "sub/E.JSON", "sub/d.sarif"]
    assert list(iter_files([tmp_path / "notes.txt", str(tmp_path / "a.json")])) == [
        tmp_path / "notes.txt",
        tmp_path / "a.json",
    ]
    with pytest.raises(FileNotFoundError):
        list(iter_files([tmp_path / "missing.json"]))


def test_iter_files_over_the_corpus_feeds_parse_document(corpus: Path) -> None:
    def imported(paths: Iterator[Path]) -> int:
        return sum(len(items(outcomes(p.read_bytes(), p.name))) for p in paths)

    assert imported(iter_files([corpus / "ghsa-sample"])) == 85  # MANIFEST.json is an unsupported document


def test_cve5_default_status_affected_without_an_ordering_is_an_error() -> None:
    entry = {
        "collectionURL": "https://pub.dev",
        "packageName": "acme",
        "defaultStatus": "affected",
        "versions": [{"version": "2.0.0", "status": "unaffected", "lessThan": "*"}],
    }
    (error,) = outcomes(_cve_doc(entry))
    assert isinstance(error, ItemError)
    assert error.pointer == "/containers/cna/affected/0/defaultStatus" and "pub" in error.detail


def test_cve5_title_falls_back_to_any_description() -> None:
    doc = _cve_doc(
        {"vendor": "Acme", "product": "Tool", "versions": [{"version": "1.0", "status": "affected"}]}
    )
    doc["containers"]["cna"]["descriptions"] = [{"lang": "de", "value": "Ein Fehler."}]
    (finding,) = only_items(doc)
    assert finding.title == "Ein Fehler."


def test_an_importer_bug_is_an_item_error_not_an_exception(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(doc: dict[str, Any], **kwargs: Any) -> Iterator[Any]:
        raise RuntimeError("boom")
        yield

    monkeypatch.setattr(osv_module, "parse", broken)
    assert outcomes(_osv(_pkg("PyPI", "acme"))) == [
        ItemError(0, "", "cannot read the document: RuntimeError: boom")
    ]
