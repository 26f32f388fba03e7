"""The writers: one record, five formats, each valid by the tool the format names."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clearinghouse.access import TLP
from clearinghouse.domain import (
    AdvisoryRecord,
    AffectedPackage,
    Credit,
    ProductStatement,
    ProductStatus,
    RangeEvent,
    RecordSource,
    Reference,
    Revision,
    Severity,
    VersionRange,
    VexJustification,
)
from clearinghouse.sharing._records import record_from_osv
from clearinghouse.sharing.exports import (
    MEDIA_TYPES,
    TLP_MARKING_IDS,
    ExportFormat,
    canonical_url,
    dumps,
    export,
    filename,
    osv_id,
    tlp_folder,
    to_csaf,
    to_cve5,
    to_openvex,
    to_osv,
    to_stix,
)
from tests.support.exports import (
    csaf_problems,
    cve5_problems,
    openvex_problems,
    osv_problems,
    stix_problems,
)

T = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


def case_record(tlp: TLP = TLP.AMBER, **changes: Any) -> AdvisoryRecord:
    record = AdvisoryRecord(
        id="CH-2026-0001",
        title="Remote code execution in gridctl",
        modified=T + dt.timedelta(days=30),
        source=RecordSource.CASE,
        tlp=tlp,
        aliases=("CVE-2026-12345", "GHSA-abcd-efgh-ijkl"),
        summary="gridctl evaluates untrusted input",
        details="A crafted request runs code as the service user.",
        published=T + dt.timedelta(days=20),
        cwes=("CWE-94",),
        severity=(
            Severity("CVSS_V3", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8, "coordinator"),
            Severity("CVSS_V4", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"),
        ),
        affected=(
            AffectedPackage(
                "PyPI",
                "gridctl",
                "pkg:pypi/gridctl",
                (VersionRange("ECOSYSTEM", (RangeEvent("introduced", "0"), RangeEvent("fixed", "2.3.1"))),),
                ("2.3.0",),
            ),
        ),
        product_statements=(
            ProductStatement(
                "pkg:pypi/gridctl@2.3.0",
                "gridctl",
                "Grid Co",
                ProductStatus.FIXED,
                "2.3.0",
                "pkg:pypi/gridctl@2.3.0",
                fixed_versions=("2.3.1",),
                updated_at=T,
            ),
            ProductStatement(
                "gridco/gridview/1.0",
                "gridview",
                "Grid Co",
                ProductStatus.NOT_AFFECTED,
                "1.0",
                justification=VexJustification.COMPONENT_NOT_PRESENT,
            ),
            ProductStatement(
                "acme/hmi/4",
                "hmi",
                "Acme",
                ProductStatus.NOT_AFFECTED,
                "4",
                impact_statement="Never reached.",
            ),
            ProductStatement("acme/scada/7", "scada", "Acme", ProductStatus.AFFECTED, "7"),
            ProductStatement("other/x/1", "x", "Other", ProductStatus.UNKNOWN, "1"),
            ProductStatement("other/y", "y", "Other", ProductStatus.UNDER_INVESTIGATION),
        ),
        references=(Reference("https://example.org/advisory", "ADVISORY"),),
        credits=(Credit("Alice Finder"),),
        revisions=(
            Revision("1", T + dt.timedelta(days=20), "Published."),
            Revision("2", T + dt.timedelta(days=30), "Fixed version known."),
        ),
        case_id="8d5c3c43-64a3-4b0f-8e0a-6f0c9f1f3a01",
    )
    return dataclasses.replace(record, **changes)


def imported_record() -> AdvisoryRecord:
    return AdvisoryRecord(
        id="PYSEC-2021-59",
        title="PYSEC-2021-59",
        modified=T,
        source=RecordSource.IMPORTED,
        aliases=("CVE-2021-28957", "GHSA-jq4v-f5q6-mjqq"),
        details="An XSS vulnerability.",
        published=T - dt.timedelta(days=300),
        affected=(
            AffectedPackage(
                "PyPI",
                "lxml",
                None,
                (
                    VersionRange(
                        "ECOSYSTEM",
                        (
                            RangeEvent("introduced", "0"),
                            RangeEvent("fixed", "4.6.3"),
                            RangeEvent("introduced", "5.0"),
                            RangeEvent("fixed", "5.1.2"),
                        ),
                    ),
                    VersionRange(
                        "ECOSYSTEM", (RangeEvent("introduced", "6.0"), RangeEvent("last_affected", "6.1"))
                    ),
                    VersionRange(
                        "GIT",
                        (RangeEvent("introduced", "0"), RangeEvent("fixed", "a" * 40)),
                        "https://github.com/lxml/lxml",
                    ),
                ),
                ("4.6.0", "4.6.1", "4.6.2"),
            ),
        ),
        references=(Reference("https://bugs.launchpad.net/lxml/+bug/1888153", "WEB"),),
    )


ALL_TLPS = list(TLP)


def test_every_format_of_a_case_is_valid(tmp_path: Path) -> None:
    records = [case_record(tlp) for tlp in ALL_TLPS]
    records.append(case_record(product_statements=()))
    records.append(imported_record())
    for record in records:
        assert osv_problems(to_osv(record)) == []
        assert cve5_problems(to_cve5(record)) == []
        assert stix_problems(to_stix(record)) == []
        assert openvex_problems(to_openvex(record)) == []
    assert csaf_problems([to_csaf(r) for r in records], tmp_path / "csaf") == []
    # A case with scores and CWEs passes the recommended checks too (full preset): no
    # warnings, only informative notes. (Without a score, 6.2.3 warns: the data lacks it.)
    assert csaf_problems([to_csaf(r) for r in records[:-1]], tmp_path / "full", preset="full") == []


def test_csaf_2_1_beside_2_0_clean_under_csaf_validate(tmp_path: Path) -> None:
    records = [case_record(tlp) for tlp in ALL_TLPS]
    records.append(case_record(product_statements=()))
    records.append(imported_record())
    documents = [to_csaf(r, spec_version="2.1") for r in records]
    assert csaf_problems(documents, tmp_path / "csaf21", spec_version="v21") == []
    first = documents[0]
    assert first["document"]["csaf_version"] == "2.1"
    assert first["$schema"] == "https://docs.oasis-open.org/csaf/csaf/v2.1/schema/csaf.json"
    labels = {d["document"]["distribution"]["tlp"]["label"] for d in documents}
    assert {"CLEAR", "AMBER+STRICT", "RED"} <= labels  # TLP 2.0, which CSAF 2.1 speaks
    assert any("metrics" in v for d in documents for v in d["vulnerabilities"])
    with pytest.raises(ValueError, match=r"CSAF 3\.0 is not written"):
        to_csaf(records[0], spec_version="3.0")


def test_csaf_publisher_comes_from_the_settings(tmp_path: Path) -> None:
    from clearinghouse.config import PublisherSettings
    from clearinghouse.domain import publisher_of

    publisher = publisher_of(
        PublisherSettings("Example CERT", "https://cert.example.org", "coordinator", "psirt@cert.example.org")
    )
    for version in ("2.0", "2.1"):
        doc = export(case_record(TLP.CLEAR), "csaf", spec_version=version, publisher=publisher)
        assert doc["document"]["publisher"] == {
            "category": "coordinator",
            "contact_details": "psirt@cert.example.org",
            "name": "Example CERT",
            "namespace": "https://cert.example.org",
        }
        assert doc["document"]["references"][0]["url"].startswith(
            "https://cert.example.org/.well-known/csaf/"
        )


def test_csaf_profiles_tlp_and_product_status() -> None:
    vex = to_csaf(case_record(TLP.CLEAR))
    document = vex["document"]
    assert document["category"] == "csaf_vex"
    assert document["distribution"]["tlp"]["label"] == "WHITE"  # CSAF 2.0 knows TLP 1.0
    assert document["tracking"]["id"] == "CH-2026-0001"
    assert document["tracking"]["version"] == "2"
    assert [r["number"] for r in document["tracking"]["revision_history"]] == ["1", "2"]
    assert document["references"][0] == {
        "category": "self",
        "summary": "This advisory",
        "url": "https://clearinghouse.example.gov/.well-known/csaf/white/2026/ch-2026-0001.json",
    }
    names = {}
    for vendor in vex["product_tree"]["branches"]:
        for product in vendor["branches"]:
            for version in product["branches"]:
                names[version["product"]["product_id"]] = version["product"]["name"]
    vuln = vex["vulnerabilities"][0]
    assert vuln["cve"] == "CVE-2026-12345"
    assert {i["text"] for i in vuln["ids"]} == {"CH-2026-0001", "GHSA-abcd-efgh-ijkl"}
    assert vuln["cwe"] == {
        "id": "CWE-94",
        "name": "Improper Control of Generation of Code ('Code Injection')",
    }
    status = {k: sorted(names[i] for i in v) for k, v in vuln["product_status"].items()}
    assert "Acme scada 7" in status["known_affected"]
    assert "Grid Co gridctl 2.3.1" in status["fixed"] and "PyPI gridctl 2.3.1" in status["fixed"]
    assert status["known_not_affected"] == ["Acme hmi 4", "Grid Co gridview 1.0"]
    assert status["under_investigation"] == ["Other y vers:all/*"]
    # Nobody's silence becomes a status: "Other x 1" answered nothing.
    assert "Other x 1" not in names.values()
    assert vuln["flags"] == [
        {
            "label": "component_not_present",
            "product_ids": [k for k, v in names.items() if v == "Grid Co gridview 1.0"],
        }
    ]
    assert vuln["scores"][0]["cvss_v3"]["baseScore"] == 9.8
    plain = to_csaf(case_record(TLP.RED, product_statements=()))
    assert plain["document"]["category"] == "csaf_security_advisory"
    assert plain["document"]["distribution"]["tlp"]["label"] == "RED"
    amber_strict = case_record(TLP.AMBER_STRICT)
    assert to_csaf(amber_strict)["document"]["distribution"]["tlp"]["label"] == "AMBER"
    assert tlp_folder(amber_strict) == "amber"
    assert canonical_url(amber_strict, "http://testserver/").startswith(
        "http://testserver/.well-known/csaf/amber/2026/"
    )
    assert filename("RHSA-2024:4546 (x)") == "rhsa-2024_4546_x_.json"


def test_osv_keeps_ids_ranges_versions_and_severity() -> None:
    record = imported_record()
    doc = to_osv(record)
    assert doc["id"] == "PYSEC-2021-59" and doc["schema_version"] == "1.7.0"
    assert doc["aliases"] == ["CVE-2021-28957", "GHSA-jq4v-f5q6-mjqq"]
    assert "summary" not in doc  # an id is not a summary
    affected = doc["affected"][0]
    assert affected["package"] == {"ecosystem": "PyPI", "name": "lxml"}
    assert affected["ranges"][0]["events"] == [
        {"introduced": "0"},
        {"fixed": "4.6.3"},
        {"introduced": "5.0"},
        {"fixed": "5.1.2"},
    ]
    assert affected["ranges"][1]["events"] == [{"introduced": "6.0"}, {"last_affected": "6.1"}]
    assert affected["ranges"][2] == {
        "type": "GIT",
        "repo": "https://github.com/lxml/lxml",
        "events": [{"introduced": "0"}, {"fixed": "a" * 40}],
    }
    assert affected["versions"] == ["4.6.0", "4.6.1", "4.6.2"]
    case = to_osv(case_record())
    # A case id outside OSV's known prefixes is written x_<id>; the vendor products stay out.
    assert case["id"] == "x_CH-2026-0001" == osv_id("CH-2026-0001")
    assert case["severity"][0] == {"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}
    assert case["database_specific"]["clearinghouse"]["tlp"] == "AMBER"
    assert case["database_specific"]["cwe_ids"] == ["CWE-94"]


def test_cve5_versions_follow_the_osv_events() -> None:
    container = to_cve5(imported_record())
    entry = container["affected"][0]
    assert entry["collectionURL"] == "https://pypi.org" and entry["packageName"] == "lxml"
    assert entry["versions"][:3] == [
        {"version": "0", "status": "affected", "lessThan": "4.6.3", "versionType": "pypi"},
        {"version": "5.0", "status": "affected", "lessThan": "5.1.2", "versionType": "pypi"},
        {"version": "6.0", "status": "affected", "lessThanOrEqual": "6.1", "versionType": "pypi"},
    ]
    assert entry["versions"][3]["versionType"] == "git"
    assert container["references"] == [{"url": "https://bugs.launchpad.net/lxml/+bug/1888153"}]
    case = to_cve5(case_record())
    assert case["metrics"][0]["cvssV3_1"]["baseSeverity"] == "CRITICAL"
    assert case["metrics"][1]["cvssV4_0"]["version"] == "4.0"
    statuses = {(a.get("vendor"), a.get("product")): a for a in case["affected"]}
    assert statuses[("Other", "x")]["versions"] == [{"version": "1", "status": "unknown"}]
    assert statuses[("Acme", "hmi")]["versions"] == [{"version": "4", "status": "unaffected"}]
    assert {"version": "2.3.1", "status": "unaffected"} in statuses[("Grid Co", "gridctl")]["versions"]
    assert case["problemTypes"][0]["descriptions"][0]["cweId"] == "CWE-94"
    # A record with nothing to point at still has its one required reference.
    bare = to_cve5(case_record(references=(), affected=(), product_statements=(), cwes=("NVD-CWE-Other",)))
    assert bare["references"][0]["url"].endswith("/api/v1/advisories/CH-2026-0001/export?format=cve5")
    assert bare["affected"] == [{"vendor": "n/a", "product": "n/a", "defaultStatus": "unknown"}]
    assert cve5_problems(bare) == []


def test_stix_bundle_carries_the_official_tlp_markings() -> None:
    for tlp in ALL_TLPS:
        bundle = to_stix(case_record(tlp))
        markings = [o for o in bundle["objects"] if o["type"] == "marking-definition"]
        assert [m["id"] for m in markings] == [TLP_MARKING_IDS[tlp]]
        ext = markings[0]["extensions"]["extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"]
        assert ext == {"extension_type": "property-extension", "tlp_2_0": tlp.value.lower()}
        for obj in bundle["objects"]:
            if obj["type"] != "marking-definition":
                assert obj["object_marking_refs"] == [TLP_MARKING_IDS[tlp]]
    bundle = to_stix(case_record())
    assert TLP_MARKING_IDS[TLP.CLEAR] == "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"
    vuln = next(o for o in bundle["objects"] if o["type"] == "vulnerability")
    assert vuln["name"] == "CVE-2026-12345"
    assert {"source_name": "cve", "external_id": "CVE-2026-12345"} in vuln["external_references"]
    software = {o["id"]: o for o in bundle["objects"] if o["type"] == "software"}
    rels = [o for o in bundle["objects"] if o["type"] == "relationship"]
    assert {r["source_ref"] for r in rels} == set(software) and {r["target_ref"] for r in rels} == {
        vuln["id"]
    }
    # Only affected products "have" it: the scada 7 statement, not the fixed or not-affected ones.
    assert {(s["name"], s.get("version")) for s in software.values()} == {
        ("gridctl", None),
        ("gridctl", "2.3.0"),
        ("scada", "7"),
    }
    assert to_stix(case_record()) == bundle  # reproducible ids


def test_openvex_statements() -> None:
    doc = to_openvex(case_record())
    assert doc["@context"] == "https://openvex.dev/ns/v0.2.0" and doc["version"] == 2
    by_status = {s["status"]: s for s in doc["statements"]}
    assert set(by_status) == {"fixed", "not_affected", "affected", "under_investigation"}
    assert len(doc["statements"]) == 5  # the unanswered product is left out
    assert by_status["fixed"]["products"] == [
        {"@id": "pkg:pypi/gridctl@2.3.0", "identifiers": {"purl": "pkg:pypi/gridctl@2.3.0"}}
    ]
    assert by_status["affected"]["action_statement"]
    vuln = by_status["fixed"]["vulnerability"]
    assert vuln["name"] == "CVE-2026-12345" and "CH-2026-0001" in vuln["aliases"]
    imported = to_openvex(imported_record())
    affected, fixed = imported["statements"]
    assert [p["@id"] for p in affected["products"]] == [
        "pkg:pypi/lxml@4.6.0",
        "pkg:pypi/lxml@4.6.1",
        "pkg:pypi/lxml@4.6.2",
    ]
    assert affected["action_statement"] == "Update to 4.6.3 or 5.1.2 or later."
    assert fixed == {
        "vulnerability": affected["vulnerability"],
        "products": [
            {"@id": "pkg:pypi/lxml@4.6.3", "identifiers": {"purl": "pkg:pypi/lxml@4.6.3"}},
            {"@id": "pkg:pypi/lxml@5.1.2", "identifiers": {"purl": "pkg:pypi/lxml@5.1.2"}},
        ],
        "status": "fixed",
    }


def test_openvex_and_csaf_vex_read_back_by_the_vex_reader() -> None:
    """Coordination's VEX reader (what vendors' answers go through) reads our VEX back."""
    from clearinghouse.coordination import parse_vex

    # (Its OpenVEX reader wants a justification for not_affected, where the spec also takes an
    # impact statement alone, so the statement that has only one is left out here.)
    record = case_record()
    record = dataclasses.replace(
        record, product_statements=tuple(s for s in record.product_statements if s.product_name != "hmi")
    )
    given_statuses = {
        (s.product_name, s.version): s.status
        for s in record.product_statements
        if s.status is not ProductStatus.UNKNOWN
    }
    for doc in (to_openvex(record), to_csaf(record)):
        read = parse_vex(dumps(doc))
        statuses = {(s.product_name, s.version): s.status for s in read}
        for (name, version), status in given_statuses.items():
            assert any(
                st is status and name in key[0] and key[1] in (version, None) for key, st in statuses.items()
            ), (name, version, status, statuses)


def test_export_dispatch_and_media_types() -> None:
    record = case_record()
    for fmt in ExportFormat:
        assert export(record, fmt) == export(record, fmt.value)
        assert MEDIA_TYPES[fmt].startswith("application/")
    assert export(record, "csaf", base_url="https://ch.example")["document"]["references"][0][
        "url"
    ].startswith("https://ch.example/.well-known/csaf/amber/")
    assert dumps({"a": "é"}) == '{\n  "a": "é"\n}\n'.encode()
    with pytest.raises(ValueError):
        export(record, "pdf")


_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=30)
_version = st.from_regex(r"\A[0-9]{1,2}(\.[0-9]{1,2}){0,2}\Z")


@st.composite
def _records(draw: st.DrawFn) -> AdvisoryRecord:
    packages = []
    for i in range(draw(st.integers(0, 3))):
        events = [RangeEvent("introduced", draw(st.sampled_from(["0", "1.0"])))]
        if draw(st.booleans()):
            events.append(RangeEvent(draw(st.sampled_from(["fixed", "last_affected"])), draw(_version)))
        ecosystem = draw(st.sampled_from(["PyPI", "npm", "Go", "Maven", "Debian:12", "VendorOS"]))
        name = f"pkg{i}" if ecosystem != "Maven" else f"org.example:pkg{i}"
        packages.append(
            AffectedPackage(
                ecosystem,
                name,
                None,
                (VersionRange("ECOSYSTEM", tuple(events)),) if draw(st.booleans()) else (),
                tuple(draw(st.lists(_version, max_size=3, unique=True))),
            )
        )
    statements = []
    for i in range(draw(st.integers(0, 4))):
        status = draw(st.sampled_from(list(ProductStatus)))
        statements.append(
            ProductStatement(
                f"v/p{i}",
                f"p{i}",
                draw(_text),
                status,
                draw(st.one_of(st.none(), _version)),
                justification=draw(st.one_of(st.none(), st.sampled_from(list(VexJustification))))
                if status is ProductStatus.NOT_AFFECTED
                else None,
                fixed_versions=(draw(_version),) if status is ProductStatus.FIXED else (),
            )
        )
    return AdvisoryRecord(
        id=draw(st.sampled_from(["CH-2026-0042", "GHSA-aaaa-bbbb-cccc", "PYSEC-2024-1"])),
        title=draw(_text),
        modified=T,
        source=RecordSource.CASE,
        tlp=draw(st.sampled_from(ALL_TLPS)),
        aliases=tuple(
            draw(st.lists(st.sampled_from(["CVE-2026-0001", "CVE-2026-0002", "GO-2026-1"]), unique=True))
        ),
        summary=draw(st.one_of(st.just(""), _text)),
        details=draw(st.one_of(st.just(""), _text)),
        published=draw(st.one_of(st.none(), st.just(T - dt.timedelta(days=3)))),
        cwes=tuple(draw(st.lists(st.sampled_from(["CWE-79", "CWE-787", "CWE-20"]), unique=True, max_size=2))),
        severity=tuple(
            draw(
                st.lists(
                    st.sampled_from(
                        [
                            Severity("CVSS_V3", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"),
                            Severity("CVSS_V2", "AV:N/AC:L/Au:N/C:P/I:P/A:P"),
                            Severity(
                                "CVSS_V4", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"
                            ),
                        ]
                    ),
                    unique=True,
                )
            )
        ),
        affected=tuple(packages),
        product_statements=tuple(statements),
    )


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(records=st.lists(_records(), min_size=1, max_size=1))
def test_any_record_exports_valid_documents(records: list[AdvisoryRecord]) -> None:
    (record,) = records
    assert osv_problems(to_osv(record)) == []
    assert cve5_problems(to_cve5(record)) == []
    assert stix_problems(to_stix(record)) == []
    assert openvex_problems(to_openvex(record)) == []


def test_generated_records_pass_the_csaf_validator(tmp_path: Path) -> None:
    """CSAF documents of generated records, validated in one run of the CLI (one run
    a document would take minutes). The test makes its own records: it depends on no
    other test having run."""
    batch: list[dict[str, Any]] = []

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(record=_records())
    def collect(record: AdvisoryRecord) -> None:
        batch.append(to_csaf(record))

    collect()
    assert len(batch) >= 10
    assert csaf_problems(batch, tmp_path) == []


def test_record_from_osv_reads_what_the_importer_keeps() -> None:
    raw: dict[str, Any] = {
        "id": "GHSA-aaaa-bbbb-cccc",
        "modified": dt.datetime(2024, 1, 2, 3, 4, 5),  # YAML gives datetimes
        "published": "not a time",
        "withdrawn": "2024-02-01T00:00:00Z",
        "aliases": ["CVE-2024-0001"],
        "database_specific": {"cwe_ids": ["CWE-79"]},
        "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N"}, "junk"],
        "affected": [
            "junk",
            {"ranges": [{"type": "GIT", "repo": "https://g", "events": [{"introduced": "0"}]}]},
            {
                "package": {"ecosystem": "npm", "name": "@scope/pkg", "purl": "pkg:npm/%40scope/pkg"},
                "ranges": [
                    "junk",
                    {"type": "SEMVER", "events": [{"introduced": 0}, {"limit": "2.0.0"}, "x"]},
                ],
                "versions": [1, "1.0.1"],
            },
        ],
        "references": [{"url": "https://x.example"}, {"type": "FIX"}],
        "credits": [{"name": "Bob"}, {"type": "FINDER"}],
    }
    record = record_from_osv(raw)
    assert record.modified == dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    assert record.published is None and record.withdrawn is not None
    assert record.title == record.id and record.cwes == ("CWE-79",) and record.database == "GHSA"
    [package] = record.affected
    assert package.versions == ("1", "1.0.1")
    assert package.ranges == (
        VersionRange("SEMVER", (RangeEvent("introduced", "0"), RangeEvent("limit", "2.0.0"))),
    )
    assert record.references == (Reference("https://x.example", "WEB"),) and record.credits == (
        Credit("Bob", "OTHER"),
    )
    osv = to_osv(record)
    assert osv["withdrawn"] == "2024-02-01T00:00:00Z" and osv_problems(osv) == []
    assert osv["affected"][0]["package"]["purl"] == "pkg:npm/%40scope/pkg"
    # The CSAF product for a scoped npm package carries its purl; the limit closes the range.
    csaf = to_csaf(record)
    products = [
        b["product"] for v in csaf["product_tree"]["branches"] for p in v["branches"] for b in p["branches"]
    ]
    assert products[0]["name"] == "npm @scope/pkg vers:npm/<2.0.0"
    assert products[0]["product_identification_helper"] == {"purl": "pkg:npm/%40scope/pkg"}


def test_identifiers_purls_and_timestamps() -> None:
    from clearinghouse.sharing.exports._common import cpe_of, purl_of, score_of, stix_timestamp, timestamp

    naive = dt.datetime(2024, 5, 6, 7, 8, 9, 123456)
    assert timestamp(naive) == "2024-05-06T07:08:09.123456Z"
    assert stix_timestamp(naive) == "2024-05-06T07:08:09.123Z"
    assert timestamp(dt.datetime(1, 1, 1, tzinfo=dt.UTC)) == "0001-01-01T00:00:00Z"
    assert score_of(Severity("CVSS_V3", "CVSS:3.1/AV:X")) is None
    assert score_of(Severity("Ubuntu", "high")) is None
    assert purl_of(AffectedPackage("Maven", "org.apache:log4j-core"), "2.17.0") == (
        "pkg:maven/org.apache/log4j-core@2.17.0"
    )
    assert purl_of(AffectedPackage("Go", "github.com/gin-gonic/gin")) == "pkg:golang/github.com/gin-gonic/gin"
    assert purl_of(AffectedPackage("PyPI", "x", "not-a-purl")) is None
    assert purl_of(AffectedPackage("VendorOS", "thing")) is None
    assert cpe_of("Grid Co", "Grid View!", None) == "cpe:2.3:a:grid_co:grid_view:*:*:*:*:*:*:*:*"
    # A non-CVSS severity is kept in CVE 5 as "other"; a withdrawn record says so in OSV.
    record = case_record(severity=(Severity("Ubuntu", "high"),), withdrawn=T)
    assert to_cve5(record)["metrics"] == [{"other": {"type": "Ubuntu", "content": {"score": "high"}}}]
    assert cve5_problems(to_cve5(record)) == []


def test_resolving_names() -> None:
    from clearinghouse.access import ANONYMOUS, NotFound
    from clearinghouse.sharing._records import resolve_record

    for bad in ("", " ", "x" * 201):
        with pytest.raises(NotFound):
            resolve_record(None, ANONYMOUS, bad)  # type: ignore[arg-type]
