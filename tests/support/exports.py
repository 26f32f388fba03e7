"""Validators for exported documents, shared by the export tests: each runs the
tool or schema the issue names and returns the problems it found (empty: valid)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator, Draft202012Validator, FormatChecker  # type: ignore[import-untyped]

from tests.support.corpus import corpus_root

CSAF_CLI = Path(sys.executable).parent / "csaf"


def csaf_problems(
    documents: Sequence[dict[str, Any]], workdir: Path, *, preset: str = "basic", spec_version: str = "v20"
) -> list[str]:
    """Run ``csaf validate --spec-version v20 --no-network`` (or ``v21``) once over every document.

    The CLI prints ``Overall: PASS`` or ``Overall: FAIL`` per file and exits 1
    when any file fails; with ``-q`` only failing rules are listed. Every
    failing file's report is returned.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, doc in enumerate(documents):
        path = workdir / f"doc-{i:05d}.json"
        path.write_text(json.dumps(doc), encoding="utf-8")
        paths.append(str(path))
    if not paths:
        return []
    run = subprocess.run(
        [
            str(CSAF_CLI),
            "validate",
            "--spec-version",
            spec_version,
            "--no-network",
            "--preset",
            preset,
            "-q",
            *paths,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    reports = [block for block in run.stdout.split("File: ") if block.strip()]
    failed = [block for block in reports if "Overall: PASS" not in block]
    if run.returncode != 0 and not failed:
        failed.append(run.stdout + run.stderr)
    if run.returncode == 0 and len(reports) != len(paths):
        failed.append(f"expected {len(paths)} reports, got {len(reports)}: {run.stdout[-2000:]}")
    return failed


@cache
def _osv_validator() -> Draft202012Validator:
    schema = json.loads((corpus_root() / "osv-schema/validation/schema.json").read_text())
    return Draft202012Validator(schema, format_checker=FormatChecker())


def osv_problems(document: dict[str, Any]) -> list[str]:
    return [f"{e.json_path}: {e.message[:300]}" for e in _osv_validator().iter_errors(document)]


@cache
def _cve_validator() -> Draft7Validator:
    path = corpus_root() / "cve-schema-5/cvelib/schemas/CVE_JSON_cnaPublishedContainer_5.1.1.json"
    return Draft7Validator(json.loads(path.read_text()), format_checker=FormatChecker())


def cve5_problems(document: dict[str, Any]) -> list[str]:
    return [f"{e.json_path}: {e.message[:300]}" for e in _cve_validator().iter_errors(document)]


def stix_problems(document: dict[str, Any]) -> list[str]:
    """``stix2-validator``'s errors (its warnings are best-practice advice, not errors)."""
    from stix2validator import ValidationOptions, validate_instance  # type: ignore[import-untyped]

    result = validate_instance(document, ValidationOptions(version="2.1"))
    problems = [str(e) for e in result.errors]
    if not result.is_valid and not problems:
        problems.append("stix2-validator: invalid")
    return problems


_VEX_STATUSES = {"not_affected", "affected", "fixed", "under_investigation"}
_VEX_JUSTIFICATIONS = {
    "component_not_present",
    "vulnerable_code_not_present",
    "vulnerable_code_not_in_execute_path",
    "vulnerable_code_cannot_be_controlled_by_adversary",
    "inline_mitigations_already_exist",
}


def openvex_problems(document: dict[str, Any]) -> list[str]:
    """The OpenVEX 0.2.0 specification's requirements (no official JSON schema exists)."""
    problems = []
    for key in ("@context", "@id", "author", "timestamp", "version", "statements"):
        if key not in document:
            problems.append(f"missing {key}")
    if document.get("@context") != "https://openvex.dev/ns/v0.2.0":
        problems.append("the @context is not OpenVEX v0.2.0")
    if not isinstance(document.get("version"), int) or document["version"] < 1:
        problems.append("version must be an integer >= 1")
    for i, st in enumerate(document.get("statements") or []):
        where = f"/statements/{i}"
        if not st.get("vulnerability", {}).get("name"):
            problems.append(f"{where}: a statement names its vulnerability")
        if st.get("status") not in _VEX_STATUSES:
            problems.append(f"{where}: bad status {st.get('status')!r}")
        if st.get("status") == "not_affected" and not (st.get("justification") or st.get("impact_statement")):
            problems.append(f"{where}: not_affected needs a justification or an impact statement")
        if st.get("justification") is not None and st["justification"] not in _VEX_JUSTIFICATIONS:
            problems.append(f"{where}: bad justification")
        if st.get("status") == "affected" and not st.get("action_statement"):
            problems.append(f"{where}: affected needs an action statement")
        for j, product in enumerate(st.get("products") or []):
            if not product.get("@id"):
                problems.append(f"{where}/products/{j}: a product has an @id")
    return problems
