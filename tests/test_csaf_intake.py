"""CSAF 2.0 and 2.1 in: every official OASIS test and example document through the API.

The OASIS test index (``testcases.shared.json``) says which documents must fail a
mandatory test. Each document is validated against the official JSON schema of its
version and the mandatory tests before anything is imported: an invalid one is refused with a 422
problem naming JSON pointers; a valid one yields findings or, per vulnerability,
the reason it yields none. Nothing answers 5xx.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from clearinghouse.api.app import create_app
from clearinghouse.intake.importers import InvalidDocument, check_document
from clearinghouse.runtime import Runtime
from tests.support.factories import make_org, make_token, make_user

# Where the clearinghouse and the OASIS test index of the corpus still disagree, each with the reason.
# Validation is the official schema of the declared version plus section 6.1 (see
# ``intake.importers._csaf_checks``). The index's ``valid`` for a document listed under a
# recommended or informative test says that test does not make it invalid; the documents below
# break a mandatory test all the same, as the spec's text for that test reads.
REFUSED_INDEX_VALID = {
    # 6.1.9 lists cvss_v2/baseScore: AV:N/AC:L/Au:N/C:C/I:C/A:C has base score 10.0, the document says 9.0.
    "6-1-10-13": "6.1.9",
    # 6.1.2: product id CSAFPID-9080700 is defined twice, for Product A and for Product B.
    "6-1-50-15": "6.1.2",
    # 6.1.25: "the same hash algorithm is not used multiple times in one item of hashes"
    # (md5 twice, sha1 twice).
    "6-2-08-02": "6.1.25",
    "6-2-09-02": "6.1.25",
    # 6.1.42: the purls of one product_identification_helper "only differ in their qualifiers" (these differ
    # in version, namespace and name).
    "6-2-42-02": "6.1.42",
    # 6.1.60.2: the extension content must be valid against its declared schema; the documentation-13
    # configuration_t of that schema (additionalProperties false) has no `name`, these configurations do.
    "6-2-54-03-01": "6.1.60",
    "6-3-21-01-02": "6.1.60",
    "6-3-21-01-12": "6.1.60",
}
# 6.1.48 "SHALL pass if an unregistered namespace is used": the selection's namespace `invalid` is not a
# registered one, so the spec's text lets it pass; OASIS's own 6-2-34-03 uses the same namespace in a
# document its index calls valid (an unknown base namespace is recommended test 6.2.34).
ACCEPTED_INDEX_INVALID = {"6-1-48-21": "6.1.48"}


def _resolve(doc: Any, pointer: str) -> Any:
    if pointer == "":
        return doc
    for raw in pointer[1:].split("/"):
        token = raw.replace("~1", "/").replace("~0", "~")
        doc = doc[int(token)] if isinstance(doc, list) else doc[token]
    return doc


def _index(corpus: Path, version: str) -> list[tuple[Path, bool]]:
    base = corpus / f"csaf/csaf_{version}/test/validator/data"
    out: list[tuple[Path, bool]] = []
    for test in json.loads((base / "testcases.shared.json").read_text())["tests"]:
        for kind in ("failures", "valid"):
            out.extend((base / entry["name"], entry["valid"]) for entry in test.get(kind, []))
    return out


def _short(path: Path) -> str:
    return path.stem.split("-2024-")[-1].split("-2021-")[-1]


@pytest.fixture
def scanner(runtime: Runtime) -> dict[str, str]:
    make_user(runtime, "scanner", make_org(runtime, "Lab A", "ai_developer"), ["partner"])
    return {"Authorization": f"Bearer {make_token(runtime, 'scanner')}"}


@pytest.mark.parametrize("version", ["2.0", "2.1"])
def test_every_official_csaf_test_document(
    version: str, runtime: Runtime, scanner: dict[str, str], corpus: Path
) -> None:
    documents = _index(corpus, version)
    assert len(documents) == {"2.0": 120, "2.1": 428}[version]
    refused = accepted = with_findings = 0
    disagree: set[str] = set()
    with TestClient(create_app(runtime), raise_server_exceptions=False) as client:
        for path, expected_valid in documents:
            data = path.read_bytes()
            doc = json.loads(data)
            r = client.post(f"/api/v1/findings:import?filename={path.name}", content=data, headers=scanner)
            assert r.status_code in (200, 422), (path.name, r.status_code, r.text[:300])
            body = r.json()
            if r.status_code == 422:
                refused += 1
                assert r.headers["content-type"].startswith("application/problem+json")
                assert body["errors"], path.name
                for error in body["errors"]:
                    assert "pointer" in error and error["detail"].startswith(f"CSAF {version}")
                    # an RFC 6901 pointer to a place in (or missing from) the document
                    assert error["pointer"] == "" or error["pointer"].startswith("/"), path.name
                assert any(e["pointer"] for e in body["errors"]), path.name
            else:
                accepted += 1
                # Findings, or for each vulnerability (or the document) the reason there are none.
                assert body["items"] or body["problems"], path.name
                with_findings += bool(body["items"])
                for problem in body["problems"]:
                    _resolve(doc, problem["pointer"])
            if (r.status_code == 200) != expected_valid:
                disagree.add(_short(path))
                if _short(path) in REFUSED_INDEX_VALID:  # refused for the reason given above
                    test = REFUSED_INDEX_VALID[_short(path)]
                    assert any(f"mandatory test {test} " in e["detail"] for e in body["errors"]), body
    if version == "2.0":
        assert disagree == set()
        assert (refused, accepted) == (44, 76)
    else:
        assert disagree == set(REFUSED_INDEX_VALID) | set(ACCEPTED_INDEX_INVALID)
    assert with_findings > 0


def test_csaf_examples_import_as_findings(runtime: Runtime, scanner: dict[str, str], corpus: Path) -> None:
    with TestClient(create_app(runtime)) as client:
        for version in ("2.0", "2.1"):
            path = corpus / f"csaf/csaf_{version}/examples/csaf/bsi-2022-0001.json"
            r = client.post("/api/v1/findings:import", content=path.read_bytes(), headers=scanner)
            assert r.status_code == 200, r.text
            assert len(r.json()["items"]) == 5 and r.json()["problems"] == []
            finding = client.get(f"/api/v1/findings/{r.json()['items'][0]['id']}", headers=scanner).json()
            assert finding["purl"] == "pkg:generic/csaf-tools/cvrf-csaf-converter"
            assert finding["source_format"] == "csaf"
        # Red Hat's VEX lists fixed products only: the reason is given per vulnerability.
        path = corpus / "csaf/csaf_2.0/examples/csaf/rhsa-2021_5186.json"
        r = client.post("/api/v1/findings:import", content=path.read_bytes(), headers=scanner)
        assert r.status_code == 200 and r.json()["received"] == 2 and r.json()["items"] == []
        assert [p["pointer"] for p in r.json()["problems"]] == [
            "/vulnerabilities/0/product_status",
            "/vulnerabilities/1/product_status",
        ]
        assert "fixed: 1" in r.json()["problems"][0]["detail"]


# An official example that breaks a mandatory test: Red Hat's 2.1 VEX gives a vendor_fix to products it
# lists as known_not_affected, the very combination 6.1.36's own example fails.
EXAMPLES_REFUSED = {("2.1", "rhsa-2021_5186.json"): "6.1.36"}


def test_every_official_csaf_example_imports_or_says_why(
    runtime: Runtime, scanner: dict[str, str], corpus: Path
) -> None:
    seen = 0
    with TestClient(create_app(runtime), raise_server_exceptions=False) as client:
        for version in ("2.0", "2.1"):
            for path in sorted((corpus / f"csaf/csaf_{version}/examples/csaf").rglob("*.json")):
                seen += 1
                r = client.post("/api/v1/findings:import", content=path.read_bytes(), headers=scanner)
                refused = EXAMPLES_REFUSED.get((version, path.name))
                if refused:
                    assert r.status_code == 422, (path.name, r.text[:300])
                    assert any(f"mandatory test {refused} " in e["detail"] for e in r.json()["errors"])
                    continue
                assert r.status_code == 200, (path.name, r.status_code, r.text[:300])
                body = r.json()
                assert body["items"] or body["problems"], path.name
    assert seen >= 40


def test_a_2_0_document_is_checked_as_2_0_not_as_the_librarys_default(corpus: Path) -> None:
    path = corpus / "csaf/csaf_2.0/examples/csaf/cisco-sa-20180328-smi2.json"
    assert check_document(path.read_bytes(), path.name).value == "csaf"
    broken = json.loads(path.read_bytes())
    broken["vulnerabilities"][0]["product_status"]["known_affected"].append("CSAFPID-NOPE")
    with pytest.raises(InvalidDocument) as caught:
        check_document(json.dumps(broken).encode())
    pointer, detail = caught.value.problems[0]
    assert pointer.startswith("/vulnerabilities/0/product_status/known_affected/")
    assert detail.startswith("CSAF 2.0 mandatory test 6.1.1")
