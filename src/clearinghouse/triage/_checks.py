"""Automatic validation checks, each recorded on the finding with its result and reason."""

from __future__ import annotations

import enum
import functools
import json
from dataclasses import dataclass
from importlib import resources

from packageurl import PackageURL
from sqlalchemy.orm import Session

from clearinghouse.domain import ecosystem_of_purl_type
from clearinghouse.domain.finding import FindingSubmission

PACKAGE_CHECKS = ("package_known", "version_known", "not_already_public")


class CheckResult(enum.StrEnum):
    PASS = "pass"
    FAIL = "fail"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class CheckOutcome:
    name: str
    result: CheckResult
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "result": str(self.result), "reason": self.reason}


@functools.cache
def cwe_catalog() -> dict[int, str]:
    """CWE 4.14 (shipped as package data, under MITRE's terms of use): id -> name."""
    text = resources.files("clearinghouse.data").joinpath("cwe/cwe-4.14.json").read_text(encoding="utf-8")
    return {w["id"]: w["name"] for w in json.loads(text)["weaknesses"]}


def osv_package(purl: PackageURL) -> tuple[str, str] | None:
    """(OSV ecosystem, package name as OSV writes it) for a purl, if the ecosystem is one OSV knows."""
    ecosystem = ecosystem_of_purl_type(purl.type)
    if ecosystem is None:
        return None
    if purl.type == "maven":
        return ecosystem, f"{purl.namespace}:{purl.name}" if purl.namespace else purl.name
    if purl.namespace:
        return ecosystem, f"{purl.namespace}/{purl.name}"
    return ecosystem, purl.name


def check_cwe(submission: FindingSubmission) -> CheckOutcome:
    if not submission.cwe:
        return CheckOutcome("cwe_exists", CheckResult.UNKNOWN, "no CWE given")
    catalog = cwe_catalog()
    unknown = [c for c in submission.cwe if int(c.removeprefix("CWE-")) not in catalog]
    if unknown:
        return CheckOutcome("cwe_exists", CheckResult.FAIL, f"not in CWE 4.14: {', '.join(unknown)}")
    names = "; ".join(f"{c} {catalog[int(c.removeprefix('CWE-'))]}" for c in submission.cwe)
    return CheckOutcome("cwe_exists", CheckResult.PASS, names)


def check_reproducer(submission: FindingSubmission) -> CheckOutcome:
    rep = submission.reproducer
    parts = []
    if rep is not None:
        if rep.steps:
            parts.append(f"{len(rep.steps)} steps")
        if rep.poc is not None:
            parts.append(f"proof of concept {rep.poc.filename}")
        if rep.oracle is not None:
            parts.append(f"oracle ({rep.oracle.kind})")
    if not parts:
        return CheckOutcome("reproducer_present", CheckResult.FAIL, "no steps, proof of concept or oracle")
    return CheckOutcome("reproducer_present", CheckResult.PASS, ", ".join(parts))


def check_package(session: Session, submission: FindingSubmission) -> list[CheckOutcome]:
    """Is the package (and version) known to the loaded advisory data, and is
    the version already covered by a public advisory?"""
    from clearinghouse.intake.advisories import advisories_affecting, package_known, version_known

    purl = submission.package.parsed
    target = osv_package(purl)
    if target is None:
        reason = f"no advisory data is kept for purl type {purl.type!r}"
        return [CheckOutcome(name, CheckResult.UNKNOWN, reason) for name in PACKAGE_CHECKS]
    ecosystem, name = target
    if not package_known(session, ecosystem, name):
        # No advisory names it yet: the normal case for a new finding, and no evidence it does not exist.
        reason = f"no loaded advisory names {ecosystem} package {name} yet, so the clearinghouse cannot tell"
        return [
            CheckOutcome("package_known", CheckResult.UNKNOWN, reason),
            CheckOutcome("version_known", CheckResult.UNKNOWN, "the package is not known"),
            CheckOutcome("not_already_public", CheckResult.PASS, "no public advisory names the package"),
        ]
    outcomes = [CheckOutcome("package_known", CheckResult.PASS, f"{ecosystem} package {name} is known")]
    version = purl.version or submission.package.version
    if version is None:
        reason = "a range was given, not a version"
        return [*outcomes, *(CheckOutcome(n, CheckResult.UNKNOWN, reason) for n in PACKAGE_CHECKS[1:])]
    known = version_known(session, ecosystem, name, version)
    if known:
        outcomes.append(
            CheckOutcome("version_known", CheckResult.PASS, f"version {version} is named in the data")
        )
    else:
        # Advisory data names affected and fixed versions, not every release: absence is no evidence.
        reason = f"version {version} is not named in the loaded advisory data"
        outcomes.append(CheckOutcome("version_known", CheckResult.UNKNOWN, reason))
    public = advisories_affecting(session, ecosystem, name, version)
    if public:
        shown = ", ".join(public[:5]) + (" and more" if len(public) > 5 else "")
        reason = f"version {version} is already affected by public advisories: {shown}"
        outcomes.append(CheckOutcome("not_already_public", CheckResult.FAIL, reason))
    else:
        outcomes.append(CheckOutcome("not_already_public", CheckResult.PASS, "no public advisory covers it"))
    return outcomes


PackageCheckCache = dict[tuple[str, str | None, str, str | None], list[CheckOutcome]]


def run_intake_checks(
    session: Session, submission: FindingSubmission, cache: PackageCheckCache | None = None
) -> list[CheckOutcome]:
    """Every check that needs only the submission and the reference data. ``cache`` keeps the
    package checks of each (package, version) across the findings of one transaction: a flood
    names the same packages over and over, and the advisory data does not change meanwhile."""
    if cache is None:
        package = check_package(session, submission)
    else:
        purl = submission.package.parsed
        key = (purl.type, purl.namespace, purl.name, purl.version or submission.package.version)
        package = cache.get(key) or cache.setdefault(key, check_package(session, submission))
    return [
        CheckOutcome("schema_valid", CheckResult.PASS, "valid against the finding schema 1.0"),
        *package,
        check_cwe(submission),
        check_reproducer(submission),
    ]
