"""The CSAF checks the clearinghouse implements itself.

Each is fed a minimal violating and a minimal valid document.

No corpus needed: the documents are built here from a minimal CSAF 2.1 (or 2.0) base.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from clearinghouse.intake.importers import _csaf, _csaf_checks


def base(version: str = "2.1", category: str = "csaf_base", **document: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "document": {
            "category": category,
            "csaf_version": version,
            "distribution": {"tlp": {"label": "CLEAR"}} if version == "2.1" else {"tlp": {"label": "WHITE"}},
            "publisher": {"category": "other", "name": "Example", "namespace": "https://example.com"},
            "title": "Minimal document",
            "tracking": {
                "current_release_date": "2024-01-24T10:00:00.000Z",
                "id": "EX-1",
                "initial_release_date": "2024-01-24T10:00:00.000Z",
                "revision_history": [
                    {"date": "2024-01-24T10:00:00.000Z", "number": "1", "summary": "Initial version."}
                ],
                "status": "final",
                "version": "1",
            },
        }
    }
    doc["document"].update(document)
    if version == "2.1":
        doc["$schema"] = "https://docs.oasis-open.org/csaf/csaf/v2.1/schema/csaf.json"
    return doc


PRODUCT_TREE = {"full_product_names": [{"name": "Product A", "product_id": "CSAFPID-1"}]}


def ids(problems: list[tuple[str, str]]) -> list[str]:
    return [message for _, message in problems]


@pytest.mark.parametrize("version", ["2.0", "2.1"])
def test_the_minimal_document_is_valid(version: str) -> None:
    assert _csaf.validate(base(version)) == []


def test_schema_problems_name_a_pointer_and_formats_are_checked() -> None:
    doc = base()
    doc["document"]["tracking"]["current_release_date"] = "yesterday"
    problems = _csaf.validate(doc)
    assert problems[0][0] == "/document/tracking/current_release_date"
    assert problems[0][1].startswith("CSAF 2.1 schema: ")
    assert "date-time" in problems[0][1]


def test_an_unsupported_version_is_refused_at_its_field() -> None:
    assert _csaf.validate(base("1.2")) == [
        ("/document/csaf_version", "CSAF version '1.2' is not supported (2.0 or 2.1)")
    ]


def _cvss4(score: float, severity: str) -> dict[str, Any]:
    doc = base()
    doc["product_tree"] = copy.deepcopy(PRODUCT_TREE)
    vector = "CVSS:4.0/AV:N/AC:L/AT:N/PR:L/UI:N/VC:L/VI:L/VA:N/SC:N/SI:N/SA:N"
    doc["vulnerabilities"] = [
        {
            "metrics": [
                {
                    "content": {
                        "cvss_v4": {
                            "version": "4.0",
                            "vectorString": vector,
                            "baseScore": score,
                            "baseSeverity": severity,
                        }
                    },
                    "products": ["CSAFPID-1"],
                }
            ],
            "product_status": {"known_affected": ["CSAFPID-1"]},
            "notes": [{"category": "description", "text": "x", "title": "x"}],
        }
    ]
    return doc


def test_multiple_of_is_decided_in_decimal_and_cvss_problems_name_6_1_8() -> None:
    # 5.3 is a multiple of 0.1 (a binary-float check says it is not)
    assert _csaf_checks.schema_problems(_cvss4(5.3, "MEDIUM"), "2.1") == []
    problems = _csaf_checks.schema_problems(_cvss4(5.3, "HIGH"), "2.1")
    assert problems and all(p.startswith("/vulnerabilities/0/metrics/0/content/cvss_v4") for p, _ in problems)
    assert "mandatory test 6.1.8, Invalid CVSS" in problems[0][1]


def _vex(**status: list[str]) -> dict[str, Any]:
    doc = base(category="csaf_vex")
    doc["product_tree"] = copy.deepcopy(PRODUCT_TREE)
    doc["vulnerabilities"] = [
        {
            "cve": "CVE-2024-0001",
            "notes": [{"category": "description", "text": "x", "title": "x"}],
            "product_status": status,
        }
    ]
    return doc


def test_6_1_27_7_needs_one_of_the_four_vex_groups_and_allows_others() -> None:
    assert _csaf_checks.test_6_1_27_7(_vex(fixed=["CSAFPID-1"], recommended=["CSAFPID-1"])) == []
    problems = _csaf_checks.test_6_1_27_7(_vex(recommended=["CSAFPID-1"]))
    assert problems == [
        (
            "/vulnerabilities/0/product_status",
            "a VEX vulnerability needs at least one of `fixed`, `known_affected`, `known_not_affected`, "
            "`under_investigation`",
        )
    ]
    assert _csaf_checks.test_6_1_27_7(base()) == []  # other profiles: not applicable


def test_6_1_27_v20_keeps_the_librarys_other_profile_rules() -> None:
    good = _vex(fixed=["CSAFPID-1"], recommended=["CSAFPID-1"])
    good["document"]["csaf_version"] = "2.0"
    assert _csaf_checks.test_6_1_27_v20(good) == []
    bad = _vex(recommended=["CSAFPID-1"])
    bad["document"]["csaf_version"] = "2.0"
    assert any("VEX vulnerability needs" in m for m in ids(_csaf_checks.test_6_1_27_v20(bad)))
    del good["vulnerabilities"][0]["notes"]  # the library's other profile rules still run
    assert "each vulnerability must have at least one note" in ids(_csaf_checks.test_6_1_27_v20(good))


def test_6_1_27_8_applies_to_vex_only() -> None:
    vex = _vex(fixed=["CSAFPID-1"])
    assert _csaf_checks.test_6_1_27_8(vex) == []
    del vex["vulnerabilities"][0]["cve"]
    assert _csaf_checks.test_6_1_27_8(vex) == [
        ("/vulnerabilities/0", "a VEX vulnerability needs at least one of `cve` or `ids`")
    ]
    advisory = copy.deepcopy(vex)
    advisory["document"]["category"] = "csaf_security_advisory"
    assert _csaf_checks.test_6_1_27_8(advisory) == []


def test_6_1_27_14_withdrawn_needs_a_description_note_in_english_documents() -> None:
    summary_only = [{"category": "summary", "text": "Zurückgezogen.", "title": "Zusammenfassung"}]
    doc = base(category="csaf_withdrawn", notes=summary_only)
    assert _csaf_checks.test_6_1_27_14(doc) == [
        ("/document/notes", "a csaf_withdrawn document needs a note with category `description`")
    ]
    assert (
        _csaf_checks.test_6_1_27_14(base(category="csaf_withdrawn", notes=summary_only, lang="de-DE")) == []
    )
    described = [{"category": "description", "text": "Withdrawn.", "title": "Reasoning for Withdrawal"}]
    assert _csaf_checks.test_6_1_27_14(base(category="csaf_superseded", notes=described, lang="en-GB")) == []


def _remediated(status: str, category: str) -> dict[str, Any]:
    doc = base()
    doc["product_tree"] = copy.deepcopy(PRODUCT_TREE)
    doc["vulnerabilities"] = [
        {
            "product_status": {status: ["CSAFPID-1"]},
            "remediations": [{"category": category, "details": "x", "product_ids": ["CSAFPID-1"]}],
        }
    ]
    return doc


def test_6_1_36_contradicts_but_fix_planned_for_not_affected_is_only_discouraged() -> None:
    assert _csaf_checks.test_6_1_36(_remediated("known_not_affected", "fix_planned")) == []
    assert _csaf_checks.test_6_1_36(_remediated("known_not_affected", "vendor_fix")) == [
        (
            "/vulnerabilities/0/remediations/0",
            "product `CSAFPID-1` has status `known_not_affected` but remediation category `vendor_fix`",
        )
    ]
    assert _csaf_checks.test_6_1_36(_remediated("fixed", "no_fix_planned"))


def test_6_1_55_license_text_except_for_scancode_references() -> None:
    other = [{"category": "other", "text": "Public domain.", "title": "License"}]
    own_ref = base(license_expression="LicenseRef-www.example.com-no-work-pd", notes=other)
    assert _csaf_checks.test_6_1_55(own_ref)
    with_text = base(
        license_expression="LicenseRef-www.example.com-no-work-pd",
        notes=[{"category": "legal_disclaimer", "text": "Public domain.", "title": "License"}],
    )
    assert _csaf_checks.test_6_1_55(with_text) == []
    assert _csaf_checks.test_6_1_55(base(license_expression="LicenseRef-scancode-public-domain")) == []
    assert _csaf_checks.test_6_1_55(base(license_expression="MIT")) == []


def test_own_tests_carry_their_id_and_later_draft_tests_do_not_run() -> None:
    doc = _vex(recommended=["CSAFPID-1"])
    problems = _csaf.validate(doc)
    assert any(m.startswith("CSAF 2.1 mandatory test 6.1.27.7 (VEX Product Status): ") for m in ids(problems))
    # 6.1.66 (a later draft's initial release date rule) is not part of the shipped 2.1 version
    later = base()
    later["document"]["tracking"]["revision_history"][0]["date"] = "2024-01-25T10:00:00.000Z"
    later["document"]["tracking"]["current_release_date"] = "2024-01-25T10:00:00.000Z"
    assert not any("6.1.66" in m for m in ids(_csaf.validate(later)))


def _with_purls(*purls: str) -> dict[str, Any]:
    doc = base()
    doc["product_tree"] = {
        "full_product_names": [
            {"name": "A", "product_id": "CSAFPID-1", "product_identification_helper": {"purls": list(purls)}}
        ]
    }
    return doc


def test_6_1_13_purl_type_rules() -> None:
    helper = "/product_tree/full_product_names/0/product_identification_helper/purls/0"
    problems = _csaf_checks.test_6_1_13(_with_purls("pkg:oci/com.example/product-a@sha256%3Add134261219b2"))
    assert [p for p, _ in problems] == [helper]
    assert "Namespace is prohibited" in problems[0][1]
    assert _csaf_checks.test_6_1_13(_with_purls("pkg:oci/product-a@sha256%3Add134261219b2")) == []
    assert (
        _csaf_checks.test_6_1_13(_with_purls("pkg:rpmmod/redhat/python39@3.9")) == []
    )  # a type the spec lacks
    assert _csaf_checks.test_6_1_13(_with_purls("not-a-purl"))[0][1].startswith(
        "`not-a-purl` is not a package URL"
    )
    old = base("2.0")
    old["product_tree"] = {
        "full_product_names": [
            {"name": "A", "product_id": "P", "product_identification_helper": {"purl": "pkg:oci/ns/a@1"}}
        ]
    }
    assert [p for p, _ in _csaf_checks.test_6_1_13(old)] == [
        "/product_tree/full_product_names/0/product_identification_helper/purl"
    ]


def _involved(*items: tuple[str, str, str]) -> dict[str, Any]:
    doc = base()
    doc["vulnerabilities"] = [
        {"involvements": [{"party": party, "date": date, "status": status} for party, date, status in items]}
    ]
    return doc


def test_6_1_24_one_party_once_per_date_whatever_its_status() -> None:
    day = "2023-08-23T10:00:00.000Z"
    assert _csaf_checks.test_6_1_24(
        _involved(("vendor", day, "completed"), ("vendor", day, "in_progress"))
    ) == [
        (
            "/vulnerabilities/0/involvements/1",
            f"party `vendor` is listed again at {day} (first at involvements/0)",
        )
    ]
    same_instant = "2023-08-23T12:00:00+02:00"
    assert _csaf_checks.test_6_1_24(_involved(("vendor", day, "completed"), ("vendor", same_instant, "open")))
    assert (
        _csaf_checks.test_6_1_24(_involved(("vendor", day, "completed"), ("discoverer", day, "open"))) == []
    )
    later = "2023-08-24T10:00:00.000Z"
    assert _csaf_checks.test_6_1_24(_involved(("vendor", day, "completed"), ("vendor", later, "open"))) == []


def _ranged(name: str) -> dict[str, Any]:
    doc = base()
    doc["product_tree"] = {
        "branches": [
            {
                "category": "vendor",
                "name": "Example",
                "branches": [
                    {
                        "category": "product_version_range",
                        "name": name,
                        "product": {"name": "A", "product_id": "CSAFPID-1"},
                    }
                ],
            }
        ]
    }
    return doc


def test_6_1_50_vers_all_has_one_form() -> None:
    assert _csaf_checks.test_6_1_50(_ranged("vers:all/<V3.1.2.2")) == [
        (
            "/product_tree/branches/0/branches/0/name",
            "`vers:all/<V3.1.2.2`: `vers:all/*` is the only valid form of the `all` scheme",
        )
    ]
    assert _csaf_checks.test_6_1_50(_ranged("vers:all/*")) == []
    assert _csaf_checks.test_6_1_50(_ranged("<V3.1.2.2")) == []
    assert _csaf_checks.test_6_1_50(_ranged("all versions < 4.2.0"))  # the library's syntax rules still apply


EXT = "https://raw.githubusercontent.com/oasis-tcs/csaf/refs/heads/master/csaf_2.1/extension/data/valid"


def _extended(*extensions: dict[str, Any]) -> dict[str, Any]:
    doc = base()
    doc["product_tree"] = copy.deepcopy(PRODUCT_TREE)
    doc["vulnerabilities"] = [{"product_status": {"known_affected": ["CSAFPID-1", "CSAFPID-2"]}}]
    doc["x_extensions"] = list(extensions)
    return doc


def _configuration(**configuration: Any) -> dict[str, Any]:
    return {
        "$schema": f"{EXT}/documentation-13/documentation-13-content_1.0.0.json",
        "category": "significant",
        "critical": True,
        "content": {
            "configuration_tree": {
                "configurations": [
                    {"configuration_id": "CSAFCID-1", "details": "Configured.", **configuration}
                ],
                "relationships": [
                    {
                        "configuration_reference": "CSAFCID-1",
                        "full_product_name": {"name": "A configured", "product_id": "CSAFPID-2"},
                        "product_reference": "CSAFPID-1",
                    }
                ],
            }
        },
    }


def test_6_1_1_counts_products_an_extension_defines() -> None:
    assert _csaf_checks.test_6_1_1(_extended(_configuration())) == []
    undefined = _extended()
    assert _csaf_checks.test_6_1_1(undefined) == [
        (
            "/vulnerabilities/0/product_status/known_affected/1",
            "product id `CSAFPID-2` is not defined in product_tree",
        )
    ]


def test_6_1_60_checks_extensions_against_the_shipped_schemas() -> None:
    assert _csaf_checks.test_6_1_60(_extended(_configuration())) == []
    problems = _csaf_checks.test_6_1_60(_extended(_configuration(name="Configuration 1")))
    assert [p for p, _ in problems] == ["/x_extensions/0/content/configuration_tree/configurations/0"]
    assert problems[0][1].startswith("6.1.60.2: ")
    missing = _configuration()
    del missing["critical"]
    assert ("/x_extensions/0", "6.1.60.1: the extension misses `critical`") in _csaf_checks.test_6_1_60(
        _extended(missing)
    )
    other = _configuration()
    other["category"] = "supplementary"
    assert _csaf_checks.test_6_1_60(_extended(_configuration(), other)) == [
        (
            "/x_extensions",
            "6.1.60.3: the extensions of one array use different `category`: "
            "['significant', 'supplementary']",
        )
    ]
    unknown = _configuration()
    unknown["$schema"] = "https://extensions.example.com/unknown.json"  # not shipped, never fetched
    assert _csaf_checks.test_6_1_60(_extended(unknown)) == []


def test_6_1_27_2_external_reference_for_informational_documents_only() -> None:
    own = [{"category": "self", "summary": "This document.", "url": "https://example.com/a.json"}]
    assert _csaf_checks.test_6_1_27_2(base(category="csaf_informational_advisory", references=own)) == [
        (
            "/document/references",
            "a csaf_informational_advisory document needs a reference with category `external`",
        )
    ]
    external = [{"category": "external", "summary": "Elsewhere.", "url": "https://example.org/b"}]
    assert (
        _csaf_checks.test_6_1_27_2(base(category="csaf_security_incident_response", references=external))
        == []
    )
    # a superseded document's reference is 6.1.27.19's question (English documents only)
    assert _csaf_checks.test_6_1_27_2(base(category="csaf_superseded", references=own, lang="de-DE")) == []


def test_a_document_too_deep_for_the_validator_is_refused_not_a_crash(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Deep:
        def iter_errors(self, doc: Any) -> Any:
            raise RecursionError

    monkeypatch.setattr(_csaf_checks, "_validator", lambda version: Deep())
    assert _csaf_checks.schema_problems(base(), "2.1") == [
        ("", "CSAF 2.1 schema: the document is nested too deeply to be validated")
    ]


def test_a_2_1_product_path_names_its_beginning_component_as_the_package() -> None:
    from clearinghouse.intake.importers._items import Draft

    doc = base(category="csaf_security_advisory")
    doc["product_tree"] = {
        "full_product_names": [
            {
                "name": "left-pad 1.0.0",
                "product_id": "CSAFPID-1",
                "product_identification_helper": {"purls": ["pkg:npm/left-pad@1.0.0"]},
            },
            {"name": "Platform 7", "product_id": "CSAFPID-2"},
        ],
        "product_paths": [
            {
                "beginning_product_reference": "CSAFPID-1",
                "full_product_name": {"name": "left-pad 1.0.0 in Platform 7", "product_id": "CSAFPID-3"},
                "subpaths": [{"category": "default_component_of", "next_product_reference": "CSAFPID-2"}],
            }
        ],
    }
    doc["vulnerabilities"] = [{"cve": "CVE-2024-0001", "product_status": {"known_affected": ["CSAFPID-3"]}}]
    drafts = [d for d in _csaf.parse(doc, default_generator=None) if isinstance(d, Draft)]
    assert [d.data["package"] for d in drafts] == [{"purl": "pkg:npm/left-pad@1.0.0"}]


def test_a_library_failure_on_a_document_is_a_refusal_not_a_crash(monkeypatch: pytest.MonkeyPatch) -> None:
    import csaf.csaf.v21._validator as library  # type: ignore[import-untyped]

    def broken(doc: Any, **_: Any) -> Any:
        raise KeyError("product_tree")

    monkeypatch.setattr(library, "validate", broken)
    assert _csaf_checks.mandatory_problems(base(), "2.1") == [
        ("", "CSAF 2.1: the mandatory tests cannot run on this document: KeyError: 'product_tree'")
    ]


@pytest.mark.parametrize("version", ["2.0", "2.1"])
def test_the_librarys_mandatory_tests_report_with_their_id_and_pointer(version: str) -> None:
    doc = base(version)
    doc["product_tree"] = copy.deepcopy(PRODUCT_TREE)
    doc["vulnerabilities"] = [
        {"product_status": {"known_affected": ["CSAFPID-1"], "known_not_affected": ["CSAFPID-1"]}}
    ]
    assert _csaf.validate(doc) == [
        (
            "/vulnerabilities/0/product_status",
            f"CSAF {version} mandatory test 6.1.6 (Contradicting Product Status): product `CSAFPID-1` is in "
            "contradicting groups `affected` and `not_affected`",
        )
    ]
